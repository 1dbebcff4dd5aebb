"""``oscar_llm_eval qa``: product questions through the shop's own ranker and answer writer.

ePQA format (``--epqa``): ten candidates a question; the ranker (``oscar_llm.qa.ranker.QARanker``)
is fitted on TRAIN (whose labels it reads), then ranks each question's candidates, decides whether
the best one answers the question, and the answer writer (``oscar_llm.qa.answers``; ``--model`` the
shop model, else quoting the evidence) writes the answer. The labels and answers of the evaluated
file are read only to score. semiPQA format (``--semipqa``): rank the attribute lines.

``--folds K`` measures on held-out questions of one file: its questions are split by qid into K
folds, each fold ranked by a ranker fitted on the other folds only (TRAIN is then not read, or it
is the same file).
"""

from __future__ import annotations

import hashlib
import json
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..qa.datasets import read_questions, read_rows
from ..qa.ranker import EmbeddingCache, QARanker, Question, RankerConfig


def write_jsonl(path: str | Path | None, records: Sequence[dict[str, Any]]) -> None:
    if not path:
        return
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def _labels(path: str | Path, fmt: str) -> dict[str, dict[str, int]]:
    """qid -> qa_pair_id -> label, for scoring only."""
    result: dict[str, dict[str, int]] = {}
    for row in read_rows(path):
        try:
            label = int(float(row.get("label") or 0))
        except ValueError:
            label = 0
        result.setdefault(str(row["qid"]), {})[str(row["qa_pair_id"])] = label
    return result


def _cosine_baseline(questions: Sequence[Question], vec: EmbeddingCache) -> list[int]:
    """The best candidate by MiniLM cosine alone (the baseline the issue quotes)."""
    best = []
    for question in questions:
        q = vec(question.text)
        best.append(int(np.argmax([float(q @ vec(c.text)) for c in question.candidates])))
    return best


def _fold_of(qid: str, folds: int) -> int:
    return int(hashlib.sha1(qid.encode()).hexdigest(), 16) % folds


def evaluate_qa(
    train: str | Path | None,
    evaluated: str | Path,
    embedder: Any,
    *,
    fmt: str = "epqa",
    writer: Any = None,
    out: str | Path | None = None,
    folds: int = 0,
    progress: bool = True,
    tuned_encoder: Any = None,
) -> dict[str, Any]:
    """Fit on ``train`` (or, with ``folds``, on the other folds of ``evaluated``), rank ``evaluated``.

    ``tuned_encoder``: a ``Callable[[], TunedEncoder]`` giving an unfitted tuned encoder for each ranker
    (the ranker then adds its scores, see ``qa/tuned_encoder.py``), or None."""
    from tqdm.auto import tqdm

    from ..qa.answers import QuoteWriter

    mode = "evidence" if fmt == "epqa" else "attribute"
    config = RankerConfig(mode=mode, tuned_encoder=tuned_encoder is not None)

    def fit(part: list[Question]) -> QARanker:
        return QARanker(config=config).fit(part, vec, tuned=tuned_encoder() if tuned_encoder else None)

    writer = writer or QuoteWriter()
    vec = EmbeddingCache(lambda texts: np.asarray(embedder.embed(list(texts)), dtype=np.float32))
    questions, pair_ids = read_questions(evaluated, fmt, with_labels=False)
    if not questions:
        raise ValueError(f"{evaluated}: no questions")
    started = time.perf_counter()
    rankers: dict[int, QARanker] = {}
    if folds and folds > 1:
        labelled, _ = read_questions(evaluated, fmt, with_labels=True)
        for fold in range(folds):
            part = [q for q in labelled if _fold_of(q.qid, folds) != fold]
            rankers[fold] = fit(part)
    else:
        if not train:
            raise ValueError("--train is required (or --folds K to measure on held-out folds of one file)")
        labelled, _ = read_questions(train, fmt, with_labels=True)
        rankers[0] = fit(labelled)
    fit_seconds = time.perf_counter() - started

    started = time.perf_counter()
    records: list[dict[str, Any]] = []
    chosen: list[tuple[Question, int | None]] = []
    for question in tqdm(questions, desc="qa", disable=not progress):
        ranker = rankers[_fold_of(question.qid, folds) if folds and folds > 1 else 0]
        order, scores, answered = ranker.rank(question, vec)
        record: dict[str, Any] = {"qid": question.qid, "ranked": [pair_ids[question.qid][i] for i in order]}
        if fmt == "epqa":
            record["answered"] = answered
            record["evidence"] = pair_ids[question.qid][order[0]] if answered else None
            record["confidence"] = round(float(scores[order[0]]), 4)
            chosen.append((question, order[0] if answered else None))
        records.append(record)
    if fmt == "epqa":
        texts = writer.write_many(
            [(q.text, q.candidates[i].text, q.candidates[i].source) for q, i in chosen if i is not None]
        )
        answers = iter(texts)
        for record, (_, i) in zip(records, chosen, strict=True):
            record["answer"] = next(answers) if i is not None else None
    seconds = time.perf_counter() - started
    write_jsonl(out, records)

    # Scoring: the first time labels of the evaluated file are read.
    labels = _labels(evaluated, fmt)
    top = 2 if fmt == "epqa" else 1
    answerable = [r for r in records if max(labels[r["qid"]].values() or [0]) >= top]
    p_at_1 = sum(1 for r in answerable if labels[r["qid"]][r["ranked"][0]] >= top) / (len(answerable) or 1)
    baseline = _cosine_baseline(questions, vec)
    base_hits = sum(
        1
        for q, b in zip(questions, baseline, strict=True)
        if max(labels[q.qid].values() or [0]) >= top and labels[q.qid][pair_ids[q.qid][b]] >= top
    )
    summary: dict[str, Any] = {
        "format": fmt,
        "questions": len(records),
        "answerable": len(answerable),
        "p_at_1": round(p_at_1, 4),
        "cosine_p_at_1": round(base_hits / (len(answerable) or 1), 4),
        "held_out_folds": folds if folds and folds > 1 else 0,
    }
    if fmt == "epqa":
        answered = [r for r in records if r["answered"]]
        summary["answer_precision"] = round(
            sum(1 for r in answered if labels[r["qid"]][r["evidence"]] >= 2) / (len(answered) or 1), 4
        )
        summary["coverage"] = round(sum(1 for r in answerable if r["answered"]) / (len(answerable) or 1), 4)
        summary["answered"] = len(answered)
        summary["writer"] = getattr(writer, "name", type(writer).__name__)
        lengths = [len(r["answer"]) for r in answered if r.get("answer")]
        summary["median_answer_chars"] = statistics.median(lengths) if lengths else 0
    summary["thresholds"] = [round(r.threshold, 4) for r in rankers.values()]
    summary["tuned_encoder"] = tuned_encoder is not None
    summary["fit_seconds"] = round(fit_seconds, 1)
    summary["questions_per_second"] = round(len(records) / max(seconds, 1e-9), 2)
    return summary


def _tokens(text: str) -> list[str]:
    import re

    return re.findall(r"[a-z0-9]+", (text or "").lower())


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 over lower-cased word tokens (longest common subsequence)."""
    a, b = _tokens(candidate), _tokens(reference)
    if not a or not b:
        return 0.0
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    lcs = previous[-1]
    if not lcs:
        return 0.0
    precision, recall = lcs / len(a), lcs / len(b)
    return 2 * precision * recall / (precision + recall)


def evaluate_answers(
    path: str | Path, writers: Sequence[Any], *, out: str | Path | None = None, limit: int = 0
) -> dict[str, Any]:
    """Each writer answers every (question, evidence) row of a hetPQA-format TSV; ROUGE-L of its answers
    against the written ones, and how many answers state a number that is in neither the question nor the
    evidence (the check every answer passes: it must be 0 for what is published)."""
    from ..guardrails.text import unknown_numbers
    from ..qa.answers import check_answer
    from ..qa.training import read_answers_tsv

    rows = [r for r in read_answers_tsv(path) if (r.get("question") or "").strip() and (r.get("candidate") or "")]
    if limit and limit > 0:
        rows = rows[:limit]
    summary: dict[str, Any] = {"rows": len(rows), "writers": {}}
    records: list[dict[str, Any]] = [{"question": r["question"], "reference": r.get("answer", "")} for r in rows]
    for writer in writers:
        started = time.perf_counter()
        items = [(r["question"], r["candidate"], (r.get("source") or "").lower()) for r in rows]
        if hasattr(writer, "raw"):
            raw = writer.raw(items)  # the model's own text, before any fallback
            scores_raw = [rouge_l(t, r.get("answer", "")) for t, r in zip(raw, rows, strict=True)]
            passing = [
                check_answer(t, question=r["question"], evidence=r["candidate"]).passed
                for t, r in zip(raw, rows, strict=True)
            ]
        texts = writer.write_many(items)
        seconds = time.perf_counter() - started
        name = getattr(writer, "name", type(writer).__name__)
        scores = [rouge_l(t, r.get("answer", "")) for t, r in zip(texts, rows, strict=True)]
        invented = sum(
            1 for t, r in zip(texts, rows, strict=True) if unknown_numbers(t, f"{r['question']}\n{r['candidate']}")
        )
        entry: dict[str, Any] = {
            "rouge_l": round(sum(scores) / (len(scores) or 1), 4),
            "answers_with_unknown_numbers": invented,
            "answers_per_second": round(len(rows) / max(seconds, 1e-9), 2),
        }
        if hasattr(writer, "raw"):
            entry["model_only_rouge_l"] = round(sum(scores_raw) / (len(scores_raw) or 1), 4)
            entry["model_answers_passing_checks"] = sum(passing)
            entry["fell_back_to_quote"] = getattr(writer, "fallbacks", 0)
        summary["writers"][name] = entry
        for record, text, score in zip(records, texts, scores, strict=True):
            record[name] = text
            record[f"{name}_rouge_l"] = round(score, 4)
    write_jsonl(out, records)
    best = max(summary["writers"].items(), key=lambda kv: kv[1]["rouge_l"])[0] if summary["writers"] else None
    summary["reads_best"] = best
    return summary
