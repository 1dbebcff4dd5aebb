"""``oscar_llm_eval support``: Bitext-format tickets through the shop's own drafting pipeline.

The triage is fitted on TRAIN; each ticket's ``instruction`` then goes through
the same triage, retrieval, drafting and checks as a real ticket
(:class:`oscar_llm.support.drafting.SupportDrafter`), against the shop's
knowledge base: the active KnowledgeArticle rows (``oscar_llm_demo_data``
creates them), or the demo articles in ``support/kb_articles.py`` when the
table is empty (the summary says which). A ticket from the CSV has no
customer account behind it, so it is drafted with no orders on file: a draft
that needs an order's facts cannot be completed and goes to a human, exactly
as it would for a real customer without orders.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..demo.knowledge_base import article_facts
from ..support.drafting import SupportDrafter
from ..support.knowledge import ArticleIndex
from ..support.prompts import PROMPT_VERSION
from ..support.training import read_tickets_csv
from ..support.triage import IntentClassifier, with_extra_intents
from ..support.types import ArticleFact, DraftRequest
from .content import write_jsonl


def knowledge_base(embedder: Any) -> tuple[list[ArticleFact], np.ndarray | None, str]:
    """(articles, their vectors or None, source): the active KnowledgeArticle rows, else the demo articles.

    Stored vectors are used when every row has one from the same embedding model.
    """
    try:
        from django.apps import apps
        from django.db import DatabaseError

        Article = apps.get_model("oscar_llm", "KnowledgeArticle")
        rows = list(Article.objects.filter(active=True).order_by("pk"))
    except (LookupError, DatabaseError):
        rows = []
    if not rows:
        return article_facts(), None, "kb_articles.py (the KnowledgeArticle table is empty)"
    articles = []
    for row in rows:
        tags = row.tags
        if isinstance(tags, str):
            try:
                parsed = json.loads(tags)
                tags = parsed if isinstance(parsed, list) else tags.split(",")
            except ValueError:
                tags = tags.split(",")
        articles.append(
            ArticleFact(id=row.pk, title=row.title, body=row.body, tags=tuple(t.strip() for t in tags if t.strip()))
        )
    model_id = str(getattr(embedder, "model_id", ""))
    vectors = None
    if all(getattr(r, "vector", None) for r in rows) and all(
        getattr(r, "vector_model", model_id) in ("", model_id) for r in rows
    ):
        vectors = np.asarray([r.vector for r in rows], dtype=np.float32)
        if vectors.ndim != 2:
            vectors = None
    return articles, vectors, f"KnowledgeArticle ({len(rows)} active rows)"


def fit_triage(
    rows: Sequence[Mapping[str, str]], embedder: Any, extra_intents: Mapping[str, Sequence[str]] | None = None
) -> tuple[IntentClassifier, dict[str, Any]]:
    texts, labels = with_extra_intents(
        [r["instruction"] for r in rows], [r["intent"].strip() for r in rows], extra_intents
    )
    triage = IntentClassifier(embedder)
    return triage, triage.fit(texts, labels)


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

    train_rows = read_tickets_csv(train)
    ticket_rows = [r for r in read_tickets_csv(tickets) if (r.get("instruction") or "").strip()]
    if limit and limit > 0:
        ticket_rows = ticket_rows[:limit]
    if not train_rows:
        raise ValueError(f"{train} has no tickets to fit the triage on.")

    started = time.perf_counter()
    triage, fit_summary = fit_triage(train_rows, embedder, extra_intents)
    articles, vectors, kb_source = knowledge_base(embedder)
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
