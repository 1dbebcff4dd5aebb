"""``oscar_llm_eval content``: product copy for catalogue rows, through the shop's own pipeline.

Rows of a fashion-format CSV become facts (``facts_from_fashion_row``), prompts
(``prompts.build_request``), generated text and checks
(``content.generation.generate_checked``), exactly as for the shop's products.
Titles by default; ``kind`` asks for descriptions or meta descriptions instead
(the fashion CSV has none, so those are written from the facts alone).
An independent audit then counts accepted texts that contradict the row's
gender, colour or article type, with its own deliberately simple matching,
so a bug in the guardrails cannot hide itself.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..catalogue import Vocabulary, facts_from_fashion_row
from ..content.checks import Limits
from ..content.generation import generate_checked
from ..content.prompts import PromptContext
from ..content.training_data import DEFAULT_MAX_LENGTH, KINDS, read_fashion_csv
from ..llm.base import GenerationOptions, TextGenerator

TITLE_MAX_LENGTH = DEFAULT_MAX_LENGTH["title"]

# Audited attribute -> CSV column.
AUDIT_COLUMNS = {"gender": "gender", "colour": "baseColour", "article_type": "articleType"}


# -- independent audit -------------------------------------------------------------------------


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _words(text: str) -> list[str]:
    text = text.lower().replace("’", "'")
    text = re.sub(r"'s\b", "", text)
    text = re.sub(r"\bt[\s-]?shirt", "tshirt", text)
    return [_stem(w) for w in re.findall(r"[a-z0-9&]+", text)]


def _blank(words: list[str], phrase: list[str]) -> list[str]:
    """``words`` with each occurrence of ``phrase`` replaced by a separator."""
    n, i, kept = len(phrase), 0, []
    while i < len(words):
        if n and words[i : i + n] == phrase:
            kept.append("|")
            i += n
        else:
            kept.append(words[i])
            i += 1
    return kept


class ContradictionAudit:
    """Counts mentions of a gender, colour or article type of the catalogue other than the row's own."""

    def __init__(self, rows: Iterable[Mapping[str, str]]) -> None:
        self.phrases: dict[str, dict[tuple[str, ...], str]] = {a: {} for a in AUDIT_COLUMNS}
        for row in rows:
            for attribute, column in AUDIT_COLUMNS.items():
                value = (row.get(column) or "").strip()
                if value and value != "NA":
                    self.phrases[attribute].setdefault(tuple(_words(value)), value)
        self.longest = max((len(p) for table in self.phrases.values() for p in table), default=1)

    def _mentions(self, attribute: str, words: list[str]) -> list[tuple[str, ...]]:
        table = self.phrases[attribute]
        found, i = [], 0
        while i < len(words):
            for n in range(min(self.longest, len(words) - i), 0, -1):
                phrase = tuple(words[i : i + n])
                if phrase in table:
                    found.append(phrase)
                    i += n
                    break
            else:
                i += 1
        return found

    def contradictions(self, text: str, row: Mapping[str, str], brand: str = "") -> list[str]:
        """What ``text`` states against ``row`` (the row's brand is ignored: "Red Tape" is no colour)."""
        words = _blank(_words(text), _words(brand))
        problems = []
        for attribute, column in AUDIT_COLUMNS.items():
            own = tuple(_words(row.get(column) or ""))
            # The row's own value of another attribute is no claim about this one ("Eye Cream" is no colour).
            blanked = words
            for other, other_column in AUDIT_COLUMNS.items():
                if other != attribute:
                    blanked = _blank(blanked, _words(row.get(other_column) or ""))
            for phrase in self._mentions(attribute, blanked):
                if phrase == own:
                    continue
                # Vague, not false: "Blue" for "Navy Blue", "Jacket" for "Rain Jacket".
                if attribute in ("colour", "article_type") and own and set(phrase) <= set(own):
                    continue
                problems.append(f"{attribute}: states '{self.phrases[attribute][phrase]}', row has '{row.get(column)}'")
        return problems


# -- evaluation --------------------------------------------------------------------------------


def write_jsonl(path: str | Path, records: Iterable[Mapping[str, Any]]) -> None:
    """One JSON object per line (UTF-8, not ASCII-escaped), creating the parent folder."""
    out_path = Path(path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with out_path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def evaluate_content(
    catalogue: str | Path,
    generator: TextGenerator,
    *,
    kind: str = "title",
    limit: int = 300,
    batch_size: int = 16,
    out: str | Path | None = None,
    retry_candidates: int = 3,
    max_length: int | None = None,
    progress: bool = True,
    chunk_size: int | None = None,
) -> dict[str, Any]:
    """Generate texts of ``kind`` for the first ``limit`` rows of ``catalogue``; write JSONL to ``out``; summarise."""
    from tqdm.auto import tqdm

    if kind not in KINDS:
        raise ValueError(f"Unknown kind {kind!r}: choose one of {', '.join(KINDS)}.")
    rows = read_fashion_csv(catalogue)
    all_facts = [facts_from_fashion_row(row) for row in rows]
    vocabulary = Vocabulary.from_facts(all_facts)
    audit = ContradictionAudit(rows)
    selected = list(range(min(limit, len(rows)))) if limit and limit > 0 else list(range(len(rows)))
    ctx = PromptContext(kind=kind, max_length=max_length or DEFAULT_MAX_LENGTH[kind])
    options = GenerationOptions(do_sample=False, num_candidates=1, batch_size=batch_size)

    def limits_for(c: PromptContext) -> Limits:
        return Limits(max_length=c.max_length, language=c.language)

    chunk_size = chunk_size or batch_size * 4
    outcomes = []
    started = time.perf_counter()
    with tqdm(total=len(selected), disable=not progress, unit="item", desc=kind, dynamic_ncols=True) as bar:
        for start in range(0, len(selected), chunk_size):
            chunk = selected[start : start + chunk_size]
            outcomes += generate_checked(
                generator,
                [(all_facts[i], ctx) for i in chunk],
                vocabulary,
                limits_for,
                options,
                retry_candidates=retry_candidates,
            )
            bar.update(len(chunk))
    seconds = time.perf_counter() - started

    reasons: Counter[str] = Counter()
    accepted = contradictions = contradictions_all = retried = exact = from_pattern = 0
    records = []
    for i, outcome in zip(selected, outcomes, strict=True):
        row, facts = rows[i], all_facts[i]
        problems = audit.contradictions(outcome.text, row, facts["attributes"].get("brand", ""))
        contradictions_all += bool(problems)
        if outcome.accepted:
            accepted += 1
            contradictions += bool(problems)
            from_pattern += outcome.source == "pattern"
        reasons.update({r["check"] for r in outcome.reasons})
        retried += outcome.candidates_tried > 1
        current = str(facts.get(kind) or "")
        exact += bool(current) and outcome.text.strip().lower() == current.strip().lower()
        records.append(
            {
                "id": row.get("id"),
                "facts": dict(row),
                "text": outcome.text,
                "accepted": outcome.accepted,
                "source": outcome.source,
                "reasons": outcome.reasons,
            }
        )
    if out:
        write_jsonl(out, records)

    generated = len(records)
    return {
        "what": "content",
        "kind": kind,
        "catalogue": str(catalogue),
        "model": getattr(generator, "model_id", type(generator).__name__),
        "generated": generated,
        "accepted": accepted,
        "rejected": generated - accepted,
        "accepted_rate": round(accepted / generated, 4) if generated else 0.0,
        "accepted_contradictions": contradictions,
        # Of the accepted, how many the model wrote and how many came from the facts' pattern.
        "accepted_from_model": accepted - from_pattern,
        "accepted_from_model_rate": round((accepted - from_pattern) / generated, 4) if generated else 0.0,
        "accepted_from_pattern": from_pattern,
        "contradictions_all_drafts": contradictions_all,
        "retried": retried,
        "exact_match_rate": round(exact / generated, 4) if generated else 0.0,
        "reject_reasons": dict(reasons),
        "seconds": round(seconds, 2),
        "items_per_second": round(generated / seconds, 2) if seconds else None,
        "batch_size": batch_size,
        "out": str(out) if out else None,
    }


def evaluate_titles(catalogue: str | Path, generator: TextGenerator, **kwargs: Any) -> dict[str, Any]:
    """Titles only: :func:`evaluate_content` with ``kind="title"``."""
    return evaluate_content(catalogue, generator, kind="title", **kwargs)


def audit_records(records: Sequence[Mapping[str, Any]], rows: Iterable[Mapping[str, str]]) -> int:
    """Accepted records (as written to the JSONL) whose text contradicts their row: for re-auditing a file."""
    audit = ContradictionAudit(rows)
    count = 0
    for record in records:
        if record.get("accepted"):
            facts = facts_from_fashion_row(record["facts"])
            count += bool(audit.contradictions(record["text"], record["facts"], facts["attributes"].get("brand", "")))
    return count
