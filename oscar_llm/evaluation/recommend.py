"""``oscar_llm_eval recommend``: next-item ranking on LLMRank-format TSVs, through the shop's own engine.

Protocol (LLMRank, Hou et al. 2024): each evaluation user's held-out next item is ranked among itself
and 20 random candidates (NDCG@10, Hit@1), and against the whole catalogue minus the user's history
(Recall@10, NDCG@10). The item titles are embedded with the shop's configured embedder (the bundled
MiniLM), and :class:`~oscar_llm.recommendations.engine.RecommenderEngine` is fitted on titles and
histories exactly as the shop fits it on product facts and events. The blend is tuned inside ``fit`` on
the training histories' own last items; the evaluation targets are only read to score the results.
A popularity ranking over the same histories is reported alongside as the baseline.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..recommendations.engine import EngineConfig, RecommenderEngine

csv.field_size_limit(10_000_000)


@dataclass(frozen=True)
class EvalCase:
    user_id: str
    target: str
    candidates: list[str]


def _rows(path: str | Path) -> list[list[str]]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows:
        raise ValueError(f"{path}: empty file")
    return rows[1:]  # header ("item_id:token ...": RecBole's atomic-file style)


def read_items(path: str | Path) -> tuple[list[str], list[str]]:
    """(item ids, titles) from an ``item_id<TAB>title`` file."""
    ids, titles = [], []
    for n, row in enumerate(_rows(path), start=2):
        if not row:
            continue
        if len(row) < 2:
            raise ValueError(f"{path}:{n}: expected item_id<TAB>title, got {row!r}")
        ids.append(row[0].strip())
        titles.append(row[1].strip() or row[0].strip())
    if len(set(ids)) != len(ids):
        dupes = [i for i, c in Counter(ids).items() if c > 1][:5]
        raise ValueError(f"{path}: duplicate item ids, e.g. {dupes}")
    return ids, titles


def read_histories(path: str | Path) -> dict[str, list[str]]:
    """user id -> chronological item ids, from ``user_id<TAB>space-separated item ids``."""
    histories: dict[str, list[str]] = {}
    for n, row in enumerate(_rows(path), start=2):
        if not row:
            continue
        if len(row) < 2:
            raise ValueError(f"{path}:{n}: expected user_id<TAB>item ids, got {row!r}")
        histories[row[0].strip()] = row[1].split()
    return histories


def read_eval(path: str | Path) -> list[EvalCase]:
    """Cases from ``user_id<TAB>target_item_id<TAB>space-separated candidate ids``."""
    cases = []
    for n, row in enumerate(_rows(path), start=2):
        if not row:
            continue
        if len(row) < 3:
            raise ValueError(f"{path}:{n}: expected user_id<TAB>target<TAB>candidates, got {row!r}")
        cases.append(EvalCase(row[0].strip(), row[1].strip(), row[2].split()))
    return cases


def ndcg_at(rank: int | None, k: int = 10) -> float:
    """NDCG@k of a single relevant item at 0-based ``rank`` (None: not ranked)."""
    return 1.0 / math.log2(rank + 2) if rank is not None and rank < k else 0.0


def _metrics(ranked: list[str], target: str, top_full: list[str]) -> dict[str, float]:
    rank = ranked.index(target) if target in ranked else None
    full_rank = top_full.index(target) if target in top_full else None
    return {
        "ndcg@10": ndcg_at(rank),
        "hit@1": float(rank == 0),
        "full_recall@10": float(full_rank is not None and full_rank < 10),
        "full_ndcg@10": ndcg_at(full_rank),
    }


def _rank_candidates(case: EvalCase, scores: np.ndarray, seed: int) -> list[str]:
    """Candidates best first; ties broken by a seeded shuffle, never in the target's favour."""
    items = [case.target, *case.candidates]
    order = np.random.default_rng(seed).permutation(len(items))
    shuffled = [items[i] for i in order]
    s = np.asarray(scores, dtype=np.float64)[order]
    s = np.where(np.isfinite(s), s, -1e300)
    return [shuffled[i] for i in np.argsort(-s, kind="stable")]


def embed_titles(
    titles: Sequence[str], *, batch_size: int = 1024, progress: bool = False, threads: int | None = None
) -> np.ndarray:
    """Titles -> normalised float32 vectors with the shop's configured embedder (bundled MiniLM).

    ``threads`` caps torch's intra-op threads while embedding: on a 2-core machine shared with other
    processes, two spinning threads ran ~3x slower than one (measured on the training loop).
    """
    import torch
    from tqdm.auto import tqdm

    from ..llm.registry import get_embedder

    embedder = get_embedder()
    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    chunks = []
    try:
        with tqdm(total=len(titles), disable=not progress, unit="title", desc="embedding", dynamic_ncols=True) as bar:
            # Large chunks: the embedder sorts each call's texts by length, so padding stays small.
            for start in range(0, len(titles), batch_size):
                batch = list(titles[start : start + batch_size])
                chunks.append(np.asarray(embedder.embed(batch), dtype=np.float32))
                bar.update(len(batch))
    finally:
        torch.set_num_threads(previous)
    return np.concatenate(chunks) if chunks else np.zeros((0, 384), dtype=np.float32)


def evaluate_recommendations(
    items_path: str | Path,
    histories_path: str | Path,
    eval_path: str | Path,
    *,
    out: str | Path | None = None,
    config: EngineConfig | None = None,
    limit: int | None = None,
    progress: bool = True,
    embed: Callable[[Sequence[str]], np.ndarray] | None = None,
    save_engine: str | Path | None = None,
) -> dict[str, Any]:
    """Fit on items + histories, rank every evaluation case, write JSONL, return the summary."""
    from tqdm.auto import tqdm

    item_ids, titles = read_items(items_path)
    histories = read_histories(histories_path)
    cases = read_eval(eval_path)
    if limit:
        cases = cases[:limit]
    config = config or EngineConfig()

    started = time.perf_counter()
    if embed is not None:
        vectors = embed(titles)
    else:
        vectors = embed_titles(titles, progress=progress, threads=config.seq_threads)
    embed_seconds = time.perf_counter() - started
    # The fit's wall-clock budget counts the embedding too: "fit within N minutes" starts with reading the titles.
    engine = RecommenderEngine(replace(config, time_budget_s=max(0.0, config.time_budget_s - embed_seconds)))
    users = list(histories)
    report = engine.fit(item_ids, vectors, [histories[u] for u in users], progress=progress)
    fit_seconds = time.perf_counter() - started
    if save_engine:
        engine.save(save_engine)

    # Popularity baseline over the same training histories.
    counts = Counter(i for u in users for i in histories[u])
    popularity = {i: counts.get(i, 0) for i in item_ids}
    popular_order = sorted(item_ids, key=lambda i: (-popularity[i], i))

    totals: Counter[str] = Counter()
    baseline: Counter[str] = Counter()
    scoring_started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        handle = stack.enter_context(Path(out).open("w", encoding="utf-8")) if out else None
        for n, case in enumerate(tqdm(cases, disable=not progress, unit="user", desc="ranking", dynamic_ncols=True)):
            history = histories.get(case.user_id, [])
            seen = set(history)
            candidates = [case.target, *case.candidates]
            ranked = _rank_candidates(case, engine.score(history, candidates), seed=config.seed * 1_000_003 + n)
            top10 = [r.item_id for r in engine.recommend(history, 10, exclude=seen)]
            for key, value in _metrics(ranked, case.target, top10).items():
                totals[key] += value
            pop_scores = np.array([popularity.get(c, -1) for c in candidates], dtype=np.float64)
            pop_ranked = _rank_candidates(case, pop_scores, seed=config.seed * 1_000_003 + n)
            pop_top = [i for i in popular_order[: 10 + len(seen)] if i not in seen][:10]
            for key, value in _metrics(pop_ranked, case.target, pop_top).items():
                baseline[key] += value
            if handle:
                handle.write(
                    json.dumps({"user_id": case.user_id, "ranked_candidates": ranked, "top10_full": top10}) + "\n"
                )
    n_users = len(cases)
    summary: dict[str, Any] = {"users": n_users}
    for key in ("ndcg@10", "hit@1", "full_recall@10", "full_ndcg@10"):
        summary[key] = round(totals[key] / n_users, 4) if n_users else 0.0
    for key in ("ndcg@10", "hit@1", "full_recall@10", "full_ndcg@10"):
        summary[f"popularity_{key}"] = round(baseline[key] / n_users, 4) if n_users else 0.0
    summary.update(
        {
            "fit_seconds": round(fit_seconds, 1),
            "embed_seconds": round(embed_seconds, 1),
            "scoring_seconds": round(time.perf_counter() - scoring_started, 1),
            "model": report.get("model"),
            "weights": {k: round(v, 4) for k, v in report.get("weights", {}).items()},
            "weights_full": {k: round(v, 4) for k, v in report.get("weights_full", {}).items()},
            "statistics_seconds": report.get("statistics_seconds"),
            "ease": report.get("ease"),
            "validation": report.get("validation"),
            "seq": {k: v for k, v in (report.get("seq") or {}).items() if k != "loss"} or None,
            "items": len(item_ids),
            "histories": len(users),
        }
    )
    return summary
