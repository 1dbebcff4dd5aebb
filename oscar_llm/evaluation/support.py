"""``oscar_llm_eval support``: Bitext-format tickets through the shop's own drafting pipeline.

The triage is fitted on TRAIN; each ticket's ``instruction`` then goes through
the same triage, retrieval, drafting and checks as a real ticket
(:class:`oscar_llm.support.drafting.SupportDrafter`), against the shop's
knowledge base as the drafter loads it (``support.knowledge_base``: the active
KnowledgeArticle rows; ``oscar_llm_demo_data`` creates the demo shop's). With no
active articles, the drafts cite none and the summary says so. A ticket from the
CSV has no customer account behind it, so it is drafted with no orders on file: a
draft that needs an order's facts cannot be completed and goes to a human, exactly
as it would for a real customer without orders.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..support.drafting import SupportDrafter
from ..support.knowledge import ArticleIndex
from ..support.prompts import PROMPT_VERSION
from ..support.setup import fit_triage
from ..support.training import read_tickets_csv
from ..support.types import DraftRequest
from .content import write_jsonl


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
    drafter = SupportDrafter(
        generator=generator, triage=triage, index=index, embedder=embedder, **dict(drafter_options or {})
    )
    setup_seconds = time.perf_counter() - started

    records: list[dict[str, Any]] = []
    reasons: Counter[str] = Counter()
    correct = accepted = 0
    chunk = max(1, batch_size) * 4
    started = time.perf_counter()
    with tqdm(total=len(ticket_rows), disable=not progress, unit="ticket", desc="support", dynamic_ncols=True) as bar:
        for start in range(0, len(ticket_rows), chunk):
            rows = ticket_rows[start : start + chunk]
            results = drafter.draft_many([DraftRequest(subject="", customer_text=r["instruction"]) for r in rows])
            for row, result in zip(rows, results, strict=True):
                expected = (row.get("intent") or "").strip()
                correct += result.intent == expected
                ok = not result.needs_human
                accepted += ok
                reasons.update(reason.split(":", 1)[0] for reason in result.reasons)
                records.append(
                    {
                        "instruction": row["instruction"],
                        "intent": expected,
                        "predicted_intent": result.intent,
                        "intent_confidence": result.intent_confidence,
                        "articles": result.articles,
                        "draft": result.text if ok else result.candidate,
                        "accepted": ok,
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
