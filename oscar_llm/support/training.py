"""Support reply training pairs for the shop model, built with the very prompt code drafting uses.

Bitext replies become targets with ``{{Placeholder}}`` slots: the order number
or customer name a reply repeats from the message is turned back into
``{{Order Number}}``/``{{Customer Name}}``, so the model learns to leave facts
to the pipeline. Each target is then filled from the same kind of facts a real
ticket has and goes through the same checks as a generated draft; targets that
fail (a refund promise no policy grants, "within 7 days" where the policy says
30, a placeholder the shop cannot fill) are dropped, so the model is never
taught to state what the shop's policies do not.

Pure Python; the embedder (for the same retrieval as drafting) is passed in.
"""

from __future__ import annotations

import csv
import random
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .checks import check_draft
from .facts import CONTACT_TAG, UI_LABELS, GatheredFacts, canonical
from .knowledge import ArticleIndex
from .prompts import training_pair
from .types import ArticleFact, OrderFact

# Checks that judge a generated text against the customer's message or the
# language detector: not meaningful for curated targets.
SKIPPED_CHECKS = {"injection", "language"}
QUOTED_LABEL_RE = re.compile(r'"([A-Z][A-Za-z ]{1,30})"')
# Longest reply the shop model learns (characters, cut at a sentence end).
MAX_TARGET_CHARS = 480
TRAINING_ORDER = dict(status="Shipped", placed="2026-01-15", total="0", currency="GBP")


def stratified_split(
    rows: Sequence[Mapping[str, str]], test_share: float = 0.2, seed: int = 0
) -> tuple[list[Mapping[str, str]], list[Mapping[str, str]]]:
    """(train, test): ``test_share`` of each intent's tickets held out, the same on every run for a seed
    (the split the README's support figures and the evaluation tests use)."""
    by_intent: dict[str, list[Mapping[str, str]]] = {}
    for row in rows:
        by_intent.setdefault(row["intent"], []).append(row)
    rng = random.Random(seed)
    train: list[Mapping[str, str]] = []
    test: list[Mapping[str, str]] = []
    for _intent, group in sorted(by_intent.items()):
        group = list(group)
        rng.shuffle(group)
        cut = max(1, round(len(group) * test_share))
        test += group[:cut]
        train += group[cut:]
    return train, test


def read_tickets_csv(path: str | Path) -> list[dict[str, str]]:
    """Rows of a Bitext-format CSV (instruction, intent, category, response, ...)."""
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        rows = list(csv.DictReader(handle))
    if rows and not {"instruction", "intent"} <= set(rows[0]):
        raise ValueError(f"{path} is not in the Bitext format: it needs 'instruction' and 'intent' columns.")
    return rows


@dataclass
class SupportPairs:
    pairs: list[tuple[str, str]] = field(default_factory=list)
    dropped: int = 0
    drop_reasons: Counter[str] = field(default_factory=Counter)
    drop_details: Counter[str] = field(default_factory=Counter)
    by_intent: Counter[str] = field(default_factory=Counter)

    def __len__(self) -> int:
        return len(self.pairs)

    def summary(self) -> dict[str, Any]:
        return {
            "support_pairs": len(self.pairs),
            "support_dropped": self.dropped,
            "support_drop_reasons": dict(self.drop_reasons),
            "support_intents": len(self.by_intent),
        }


def template_target(row: Mapping[str, str]) -> tuple[str, bool, bool]:
    """(reply with entity values turned into placeholders, has_order, has_name)."""
    reply = (row.get("response") or "").strip()
    entity_type, value = row.get("entity_type") or "", (row.get("entity_value") or "").strip()
    has_order = has_name = False
    if entity_type == "order_id" and value and value in (row.get("instruction") or ""):
        # Spreadsheet exports lost leading zeros: "00004587345" in the text is "4587345" in the entity.
        reply = re.sub(rf"(?<!\d)0*{re.escape(value)}(?!\d)", "{{Order Number}}", reply)
        has_order = True
    elif entity_type == "person_name" and value and value in (row.get("instruction") or ""):
        reply = reply.replace(value, "{{Customer Name}}")
        has_name = True
    # A quoted page or button name ("Contact Us", "Sign Up") becomes a placeholder the
    # shop fills with its own label, or leaves unfilled when it has no such page.
    reply = QUOTED_LABEL_RE.sub(
        lambda m: f'"{{{{{m.group(1)}}}}}"' if canonical(m.group(1)) in UI_LABELS else m.group(0), reply
    )
    return shorten(reply), has_order, has_name


def shorten(reply: str, max_chars: int = MAX_TARGET_CHARS) -> str:
    """The reply cut after its last complete paragraph or sentence within ``max_chars``.

    A small model on two CPU cores learns a short reply well in minutes and a
    long one badly; staff extend a short, correct draft more easily than they
    repair a long, rambling one.
    """
    if len(reply) <= max_chars:
        return reply
    head = reply[:max_chars]
    # The last sentence end, then drop a trailing sentence that announces what was cut ("follow these steps:").
    # (A list item's number, "\n5. ", is no sentence end.)
    ends = [m.end() for m in re.finditer(r"(?<!\n\d)(?<!\n\d\d)(?<!^\d)[.!?](?=\s)", head)]
    ends = [e for e in ends if e >= max_chars // 4]
    if not ends:
        return reply  # no sentence end to cut at: keep it whole (the length check decides)
    text = head[: ends[-1]].strip()
    return text


def support_pairs(
    rows: Iterable[Mapping[str, str]],
    articles: Sequence[ArticleFact],
    *,
    embedder: Any = None,
    vectors: Any = None,
    articles_k: int = 3,
) -> SupportPairs:
    """Training pairs for each row whose reply passes the draft checks against ``articles``.

    With an ``embedder`` (or article ``vectors``), the articles in each prompt are
    retrieved as drafting retrieves them; otherwise by the intent's tag.
    """
    rows = [r for r in rows if (r.get("instruction") or "").strip() and (r.get("response") or "").strip()]
    index = ArticleIndex(articles, vectors=vectors, embedder=embedder) if (embedder is not None and articles) else None
    contact = [a for a in articles if CONTACT_TAG in a.tags]
    query_vectors = None
    if index is not None and rows:
        import numpy as np

        query_vectors = np.asarray(index.embedder.embed([r["instruction"] for r in rows]), dtype=np.float32)
    result = SupportPairs()
    for i, row in enumerate(rows):
        intent = row["intent"].strip()
        if index is not None and query_vectors is not None:
            retrieved = [
                a for a, _ in index.search(row["instruction"], articles_k, intent=intent, vector=query_vectors[i])
            ]
        else:
            retrieved = [a for a in articles if intent in a.tags][:articles_k]
        target, has_order, has_name = template_target(row)
        order = OrderFact(number=(row.get("entity_value") or "").strip(), **TRAINING_ORDER) if has_order else None
        facts = GatheredFacts(
            customer_name=(row.get("entity_value") or "").strip() if has_name else "",
            orders=(order,) if order else (),
            linked_order_numbers=(order.number,) if order else (),
            articles=retrieved,
            contact_articles=contact,
            policy_articles=list(articles),
        )
        filled, citations, _ = facts.fill(target)
        checked = check_draft(filled, facts, "", filled_spans=[(c["start"], c["end"]) for c in citations])
        failed = [c["name"] for c in checked.checks if not c["passed"] and c["name"] not in SKIPPED_CHECKS]
        if failed:
            result.dropped += 1
            result.drop_reasons.update(failed)
            result.drop_details.update(checked.failures)
            continue
        result.pairs.append(
            training_pair(
                intent, row["instruction"], target, has_order=has_order, has_name=has_name, articles=retrieved
            )
        )
        result.by_intent[intent] += 1
    return result
