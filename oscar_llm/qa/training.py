"""Training material for product questions: answer-writing pairs and the evidence ranker.

``oscar_llm_train --qa FILE.tsv`` adds (question + evidence -> written answer) pairs from a
hetPQA-format TSV (ASIN, question, candidate, answer, source) to the shop model's training pairs; an
answer stating a number that is neither in its question nor its evidence is dropped, so the model
never learns to invent one. ``oscar_llm_train --qa-ranker FILE.csv`` fits the evidence ranker on an
ePQA-format file and saves it next to the shop model (``QA["RANKER_DIR"]``).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..guardrails.text import unknown_numbers
from .answers import qa_prompt


def read_answers_tsv(path: str | Path) -> list[dict[str, str]]:
    path = Path(path)
    if not path.is_file():
        raise OSError(f"{path}: no such file")
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    if rows and not {"question", "candidate", "answer"} <= set(rows[0]):
        raise ValueError(f"{path}: needs the columns question, candidate, answer (hetPQA format)")
    return rows


def qa_pairs(path: str | Path) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """(prompt, completion) pairs and a summary (rows, kept, dropped for an unknown number)."""
    rows = read_answers_tsv(path)
    pairs, dropped = [], 0
    for row in rows:
        question, evidence, answer = (row.get(k) or "" for k in ("question", "candidate", "answer"))
        if not (question.strip() and evidence.strip() and answer.strip()):
            dropped += 1
            continue
        if unknown_numbers(answer, f"{question}\n{evidence}"):
            dropped += 1
            continue
        pairs.append((qa_prompt(question, evidence), " " + " ".join(answer.split())))
    return pairs, {"qa_rows": len(rows), "qa_pairs": len(pairs), "qa_dropped": dropped}


def tuned_encoder_factory(**config: Any) -> Callable[[], Any]:
    """A new unfitted tuned encoder per call, all over one copy of the embedding model's frozen layers
    (and its cache of their outputs). Imports torch: worker, training and evaluation only."""
    from ..llm.embeddings import embedding_model_path
    from ..settings import llm_settings
    from .tuned_encoder import FrozenLayers, TunedEncoder, TunedEncoderConfig

    frozen = FrozenLayers(embedding_model_path(llm_settings), TunedEncoderConfig(**config))
    return lambda: TunedEncoder(frozen)


def fit_ranker(path: str | Path, embedder: Any, out_dir: str | Path, *, tuned_encoder: bool = True) -> dict[str, Any]:
    """Fit the evidence ranker (with its tuned encoder unless ``tuned_encoder`` is False) on an
    ePQA-format file and save it to ``out_dir``."""
    import numpy as np

    from .datasets import read_questions
    from .ranker import EmbeddingCache, QARanker, RankerConfig

    questions, _ = read_questions(path, "epqa", with_labels=True)
    vec = EmbeddingCache(lambda texts: np.asarray(embedder.embed(list(texts)), dtype=np.float32))
    config = RankerConfig(mode="evidence", tuned_encoder=tuned_encoder)
    ranker = QARanker(config=config, embedder_id=getattr(embedder, "model_id", ""))
    ranker.fit(questions, vec, tuned=tuned_encoder_factory()() if tuned_encoder else None)
    saved = ranker.save(out_dir)
    return {"ranker_dir": str(Path(saved).parent), "questions": len(questions), **ranker.report}
