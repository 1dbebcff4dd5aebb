"""Glue for commands and workers: the knowledge base, the triage and support training data from settings.

Django is imported inside the functions only (this package stays importable
without it); the pure pipeline lives in the sibling modules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def extra_intents() -> dict[str, list[str]]:
    from ..settings import llm_settings

    return dict((llm_settings.SUPPORT or {}).get("EXTRA_INTENTS") or {})


def support_training(csv_path: str | Path, *, embedder: Any = None, progress: bool = True) -> dict[str, Any]:
    """Support reply pairs from a Bitext-format CSV and the triage fitted on it (plus the shop's intents).

    Returns ``{"pairs": [...], "classifier": IntentClassifier, "triage": fit summary, ...pair summary}``.
    """
    from ..evaluation.support import fit_triage, knowledge_base
    from ..llm.registry import get_embedder
    from .training import read_tickets_csv, support_pairs

    embedder = embedder or get_embedder()
    rows = read_tickets_csv(csv_path)
    if not rows:
        raise ValueError(f"{csv_path} has no tickets.")
    articles, vectors, source = knowledge_base(embedder)
    data = support_pairs(rows, articles, embedder=embedder, vectors=vectors)
    classifier, fit_summary = fit_triage(rows, embedder, extra_intents())
    return {
        "pairs": data.pairs,
        "classifier": classifier,
        "triage": fit_summary,
        "knowledge_base": source,
        **data.summary(),
    }
