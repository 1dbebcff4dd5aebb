"""Glue for commands and workers: the knowledge base, the triage and support training data from settings.

Django is imported inside the functions only (this package stays importable
without it); the pure pipeline lives in the sibling modules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .triage import IntentClassifier


def extra_intents() -> dict[str, list[str]]:
    from ..settings import llm_settings

    return dict((llm_settings.SUPPORT or {}).get("EXTRA_INTENTS") or {})


def fit_triage(
    rows: Sequence[Mapping[str, str]], embedder: Any, extra_intents: Mapping[str, Sequence[str]] | None = None
) -> tuple[IntentClassifier, dict[str, Any]]:
    """The triage fitted on Bitext-format rows (and the shop's extra intents), with the fit summary."""
    from .triage import IntentClassifier, with_extra_intents

    texts, labels = with_extra_intents(
        [r["instruction"] for r in rows], [r["intent"].strip() for r in rows], extra_intents
    )
    triage = IntentClassifier(embedder)
    return triage, triage.fit(texts, labels)


def support_training(csv_path: str | Path, *, embedder: Any = None, progress: bool = True) -> dict[str, Any]:
    """Support reply pairs from a Bitext-format CSV and the triage fitted on it (plus the shop's intents).

    The pairs are checked against the shop's knowledge base (:mod:`.knowledge_base`, the active
    KnowledgeArticle rows; with none, only replies that need no policy pass).

    Returns ``{"pairs": [...], "classifier": IntentClassifier, "triage": fit summary, ...pair summary}``.
    """
    from ..llm.registry import get_embedder
    from .knowledge_base import load_knowledge_base
    from .training import read_tickets_csv, support_pairs

    embedder = embedder or get_embedder()
    rows = read_tickets_csv(csv_path)
    if not rows:
        raise ValueError(f"{csv_path} has no tickets.")
    articles, vectors, source = load_knowledge_base(embedder)
    data = support_pairs(rows, articles, embedder=embedder, vectors=vectors)
    classifier, fit_summary = fit_triage(rows, embedder, extra_intents())
    return {
        "pairs": data.pairs,
        "classifier": classifier,
        "triage": fit_summary,
        "knowledge_base": source,
        **data.summary(),
    }
