"""Reading the public product-question data sets (ePQA, semiPQA) into the ranker's questions."""

from __future__ import annotations

import csv
from pathlib import Path

from .ranker import Candidate, Question


def read_rows(path: str | Path) -> list[dict[str, str]]:
    path = Path(path)
    if not path.is_file():
        raise OSError(f"{path}: no such file")
    delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=delimiter))
    return rows


REQUIRED = {
    "epqa": ("qid", "question", "candidate", "source", "qa_pair_id"),
    "semipqa": ("qid", "qa_pair_id", "question", "candidate"),
}


def read_questions(path: str | Path, fmt: str, *, with_labels: bool) -> tuple[list[Question], dict[str, list[str]]]:
    """Questions of an ePQA/semiPQA file in file order, and each question's candidate qa_pair_ids.

    Labels are read only when ``with_labels`` (TRAIN, or scoring)."""
    rows = read_rows(path)
    if rows:
        missing = [c for c in REQUIRED[fmt] if c not in rows[0]]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)} for the {fmt} format")
    questions: dict[str, Question] = {}
    pair_ids: dict[str, list[str]] = {}
    for row in rows:
        qid = str(row["qid"])
        question = questions.get(qid)
        if question is None:
            question = questions[qid] = Question(qid, row["question"] or "", [], [] if with_labels else None)
            pair_ids[qid] = []
        source = row.get("source") or ("attribute" if fmt == "semipqa" else "")
        question.candidates.append(Candidate(row["candidate"] or "", source))
        pair_ids[qid].append(str(row["qa_pair_id"]))
        if with_labels and question.labels is not None:
            try:
                question.labels.append(int(float(row.get("label") or 0)))
            except ValueError:
                question.labels.append(0)
    return list(questions.values()), pair_ids
