"""``oscar_llm_eval support``: Bitext-format tickets through the shop's own drafting pipeline.

The triage is fitted on TRAIN; each ticket's ``instruction`` then goes through
the same triage, retrieval, drafting and checks as a real ticket
(:class:`oscar_llm.support.drafting.SupportDrafter`), against the shop's
knowledge base as the drafter loads it (``support.knowledge_base``: the active
KnowledgeArticle rows; ``oscar_llm_demo_data`` creates the demo shop's). With no
active articles, the drafts cite none and the summary says so. A ticket from the
CSV has no customer account behind it, so it is drafted with no orders on file: a
draft that needs an order's facts cannot be completed and goes to a human, exactly
as it would for a real customer without orders (the draft asks for the order number).

The reply library is TRAIN's replies (``support.library.replies_from_rows``: each
customer's entity value turned into its slot), so a ticket's draft is adapted
from the replies written for the closest training tickets. Each record carries
``reference_similarity``, the MiniLM cosine similarity of its draft to the
ticket's reference reply (the ``response`` column) as this shop would send it:
the reference's placeholders (``{{Customer Support Phone Number}}``...) filled
from the same shop facts the draft's slots were filled from, so the figure
measures the reply chosen, not the shop's phone number. The summary gives the
mean over all tickets (and, for comparison, against the unfilled reference),
and, among the accepted drafts, how many still hold a placeholder or a
fragment the fluency check flags (both must be 0).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..support.checks import fluency_problems
from ..support.compose import as_template
from ..support.drafting import SupportDrafter
from ..support.facts import CONTACT_TAG, PLACEHOLDER_RE, GatheredFacts
from ..support.knowledge import ArticleIndex
from ..support.library import ReplyLibrary, replies_from_rows
from ..support.prompts import PROMPT_VERSION
from ..support.setup import fit_triage
from ..support.training import read_tickets_csv
from ..support.types import DraftRequest
from .content import write_jsonl


def _shop_form(draft: str, slots: Sequence[Mapping[str, Any]]) -> str:
    """The draft with the shop's own values (contact lines, pages, policies; the customer's stay as written)
    put back as their ``{{Slot}}``: the form the Bitext reference replies are written in."""
    return as_template(draft, slots, ("article", "page", "shop"))


def evaluate_support(
    train: str | Path,
    tickets: str | Path,
    generator: Any,
    embedder: Any,
    *,
    out: str | Path | None = None,
    limit: int = 0,
    batch_size: int = 16,
    extra_intents: Mapping[str, Sequence[str]] | None = None,
    drafter_options: Mapping[str, Any] | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Fit on ``train``, draft a reply for every ticket of ``tickets``; write JSONL to ``out``; return a summary."""
    from tqdm.auto import tqdm

    from ..support.knowledge_base import load_knowledge_base

    train_rows = read_tickets_csv(train)
    ticket_rows = [r for r in read_tickets_csv(tickets) if (r.get("instruction") or "").strip()]
    if limit and limit > 0:
        ticket_rows = ticket_rows[:limit]
    if not train_rows:
        raise ValueError(f"{train} has no tickets to fit the triage on.")

    started = time.perf_counter()
    triage, fit_summary = fit_triage(train_rows, embedder, extra_intents)
    articles, vectors, kb_source = load_knowledge_base(embedder)
    index = ArticleIndex(articles, vectors=vectors, embedder=embedder)
    library = ReplyLibrary(replies_from_rows(train_rows), embedder=embedder)
    drafter = SupportDrafter(
        generator=generator,
        triage=triage,
        index=index,
        embedder=embedder,
        library=library,
        **dict(drafter_options or {}),
    )
    setup_seconds = time.perf_counter() - started

    records: list[dict[str, Any]] = []
    reasons: Counter[str] = Counter()
    correct = accepted = from_library = 0
    similarities: list[float] = []
    similarities_raw: list[float] = []
    similarities_template: list[float] = []
    shop_facts = GatheredFacts(
        contact_articles=index.by_tag(CONTACT_TAG), policy_articles=list(articles), shop_name=drafter.shop_name
    )
    accepted_unfilled = accepted_disfluent = 0
    chunk = max(1, batch_size) * 4
    started = time.perf_counter()
    with tqdm(total=len(ticket_rows), disable=not progress, unit="ticket", desc="support", dynamic_ncols=True) as bar:
        for start in range(0, len(ticket_rows), chunk):
            rows = ticket_rows[start : start + chunk]
            results = drafter.draft_many([DraftRequest(subject="", customer_text=r["instruction"]) for r in rows])
            drafts = [result.text if not result.needs_human else result.candidate for result in results]
            raw = [(row.get("response") or "").strip() for row in rows]
            # The reference as this shop would send it: its placeholders filled from the same facts
            # the draft's were filled from (the shop's contact lines, pages, policy values).
            references = [shop_facts.fill(r)[0] if r else "" for r in raw]
            # And the draft in the reference's own form: the shop's values put back as the placeholders.
            templates = [_shop_form(d, result.slots) for d, result in zip(drafts, results, strict=True)]
            texts = [d or " " for d in drafts + references + raw + templates]
            vectors = np.asarray(embedder.embed(texts), dtype=np.float32)
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
            n_rows = len(rows)
            cosines = (vectors[:n_rows] * vectors[n_rows : 2 * n_rows]).sum(axis=1)
            cosines_raw = (vectors[:n_rows] * vectors[2 * n_rows : 3 * n_rows]).sum(axis=1)
            cosines_template = (vectors[3 * n_rows :] * vectors[2 * n_rows : 3 * n_rows]).sum(axis=1)
            for row, result, cosine, cosine_raw, cosine_template, reference in zip(
                rows, results, cosines, cosines_raw, cosines_template, references, strict=True
            ):
                expected = (row.get("intent") or "").strip()
                correct += result.intent == expected
                ok = not result.needs_human
                accepted += ok
                reasons.update(reason.split(":", 1)[0] for reason in result.reasons)
                similarity = round(float(cosine), 4) if reference else None
                if similarity is not None:
                    similarities.append(similarity)
                    similarities_raw.append(float(cosine_raw))
                    similarities_template.append(float(cosine_template))
                from_library += result.library is not None
                if ok:
                    accepted_unfilled += bool(PLACEHOLDER_RE.search(result.text) or "{{" in result.text)
                    accepted_disfluent += bool(fluency_problems(result.text))
                records.append(
                    {
                        "instruction": row["instruction"],
                        "intent": expected,
                        "predicted_intent": result.intent,
                        "intent_confidence": result.intent_confidence,
                        "articles": result.articles,
                        "draft": result.text if ok else result.candidate,
                        "accepted": ok,
                        "reference_similarity": similarity,
                        "reference": reference,
                        "library": result.library,
                        "slots": result.slots,
                        "reasons": result.reasons,
                        "confidence": result.confidence,
                        "citations": result.citations,
                        "timings": result.timings,
                    }
                )
            bar.update(len(rows))
    seconds = time.perf_counter() - started

    if out:
        write_jsonl(out, records)
    n = len(records)
    return {
        "what": "support",
        "train": str(train),
        "tickets": n,
        "intent_accuracy": round(correct / n, 4) if n else 0.0,
        "drafts_accepted": accepted,
        "drafts_accepted_rate": round(accepted / n, 4) if n else 0.0,
        "needs_human": n - accepted,
        "reference_similarity": round(float(np.mean(similarities)), 4) if similarities else None,
        "reference_similarity_unfilled": round(float(np.mean(similarities_raw)), 4) if similarities_raw else None,
        "reference_similarity_as_templates": (
            round(float(np.mean(similarities_template)), 4) if similarities_template else None
        ),
        "from_library": from_library,
        "accepted_with_placeholder": accepted_unfilled,
        "accepted_with_fluency_problem": accepted_disfluent,
        "library_replies": len(library),
        "reject_reasons": dict(reasons.most_common()),
        "triage": fit_summary,
        "knowledge_base": kb_source,
        "articles": len(articles),
        "model": drafter.model_id,
        "prompt_version": PROMPT_VERSION,
        "setup_seconds": round(setup_seconds, 2),
        "seconds": round(seconds, 2),
        "tickets_per_second": round(n / seconds, 2) if seconds else None,
        "out": str(out) if out else None,
    }
