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


def read_support_csvs(csv_paths: str | Path | Sequence[str | Path]) -> tuple[list[dict[str, str]], dict[str, int]]:
    """The rows of one or more Bitext-format CSVs, in order, and how many each file gave.

    Several files train together: the shop's own seed tickets next to a public set, say.
    """
    from .training import read_tickets_csv

    paths = [csv_paths] if isinstance(csv_paths, str | Path) else list(csv_paths)
    if not paths:
        raise ValueError("No ticket CSV given.")
    rows: list[dict[str, str]] = []
    counts: dict[str, int] = {}
    for path in paths:
        found = read_tickets_csv(path)
        if not found:
            raise ValueError(f"{path} has no tickets.")
        rows += found
        counts[str(path)] = counts.get(str(path), 0) + len(found)
    return rows, counts


def support_training(
    csv_paths: str | Path | Sequence[str | Path],
    *,
    embedder: Any = None,
    progress: bool = True,
    with_pairs: bool = True,
) -> dict[str, Any]:
    """Support reply pairs from Bitext-format CSVs and the triage fitted on them (plus the shop's intents).

    ``csv_paths`` is one file or several, read as one set. The pairs are checked against the
    shop's knowledge base (:mod:`.knowledge_base`, the active KnowledgeArticle rows; with none,
    only replies that need no policy pass). ``with_pairs=False`` fits the triage only (a shop
    whose text model is pretrained or served elsewhere needs no reply pairs).

    The files' replies also join the reply library (:mod:`.library_store`).

    Returns ``{"pairs": [...], "classifier": IntentClassifier, "triage": fit summary,
    "support_files": {path: rows}, "library_added": n, ...pair summary}``.
    """
    from ..llm.registry import get_embedder
    from .knowledge_base import load_knowledge_base
    from .library_store import import_ticket_rows
    from .training import support_pairs

    embedder = embedder or get_embedder()
    rows, counts = read_support_csvs(csv_paths)
    # Their replies join the reply library drafts start from (replies it already holds are skipped).
    result: dict[str, Any] = {"support_files": counts, "library_added": import_ticket_rows(rows)}
    if with_pairs:
        articles, vectors, source = load_knowledge_base(embedder)
        data = support_pairs(rows, articles, embedder=embedder, vectors=vectors)
        result.update(pairs=data.pairs, knowledge_base=source, **data.summary())
    classifier, fit_summary = fit_triage(rows, embedder, extra_intents())
    result.update(classifier=classifier, triage=fit_summary)
    return result
