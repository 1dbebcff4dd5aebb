"""How the reply library ranks: the weights of ``support.library.RankWeights``, measured.

On the public Bitext file: the stratified 80/20 split (seed 0) of ``oscar_llm_eval support`` is
the test split and is not looked at; its training part is split again 80/20 (seed 1) into a
library and a validation set. For every validation ticket the library ranks its entries (the
ticket's labelled intent) and the chosen reply, as written for the neighbour's customer, is
compared with the ticket's reference reply by MiniLM cosine similarity. Prints the mean for a
sweep of the agreement weight, and the similarity of the ticket to its closest library question
against how good the chosen reply was (what the fallback threshold to the text model is chosen
from).

    .venv/bin/python bench/bench_support_library.py
"""

from __future__ import annotations

import csv
import hashlib
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path(os.environ.get("OSCAR_LLM_DATA", ROOT.parent / "shared" / "data"))


def main() -> None:
    from oscar_llm.llm.embeddings import SentenceTransformerEmbedder
    from oscar_llm.support.library import LibraryReply, RankWeights, ReplyLibrary
    from oscar_llm.support.training import stratified_split as split

    path = DATA / "support" / "bitext_tickets_public.csv"
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    train, _test = split(rows, 0.2, 0)
    library_rows, valid = split(train, 0.2, 1)
    embedder = SentenceTransformerEmbedder()

    cache_path = ROOT / "var" / "bench_support_library.npz"
    cache = dict(np.load(cache_path, allow_pickle=False)) if cache_path.exists() else {}

    def embed(texts: list[str]) -> np.ndarray:
        # MiniLM vectors of the same texts are the same every run: kept in var/ between runs.
        key = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:16]
        if key not in cache:
            cache[key] = np.asarray(embedder.embed(texts), dtype=np.float32)
            cache_path.parent.mkdir(exist_ok=True)
            np.savez(cache_path, **cache)
        return cache[key]

    replies = [
        LibraryReply(id=i, intent=r["intent"], text=r["response"], question=r["instruction"], source="bitext")
        for i, r in enumerate(library_rows)
    ]
    questions = embed([r.question for r in replies])
    reply_vectors = embed([r.text for r in replies])
    valid_questions = embed([r["instruction"] for r in valid])
    references = embed([r["response"] for r in valid])
    print(f"library {len(replies)} replies, validation {len(valid)} tickets (from {path.name})")

    def score(weights: RankWeights) -> tuple[float, list[tuple[float, float]]]:
        library = ReplyLibrary(replies, question_vectors=questions, reply_vectors=reply_vectors, weights=weights)
        sims, pairs = [], []
        for row, vector, reference in zip(valid, valid_questions, references, strict=True):
            best = library.rank(vector, row["intent"], k=1)[0]
            cos = float(reply_vectors[best.reply.id] @ reference)
            sims.append(cos)
            pairs.append((best.similarity, cos))
        return float(np.mean(sims)), pairs

    for agreement in (0.0, 0.5, 1.0, 2.0, 4.0, 8.0):
        for neighbours in (12, 24, 48):
            mean, _ = score(RankWeights(agreement=agreement, neighbours=neighbours))
            print(f"agreement {agreement:4.2f} neighbours {neighbours:2d}: mean cosine to reference {mean:.4f}")
    mean, pairs = score(RankWeights())
    print(f"default weights: {mean:.4f}")
    pairs_array = np.asarray(pairs)
    for low, high in ((0.0, 0.5), (0.5, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.01)):
        mask = (pairs_array[:, 0] >= low) & (pairs_array[:, 0] < high)
        if mask.any():
            print(
                f"closest question similarity {low:.1f}-{high:.1f}: {int(mask.sum()):4d} tickets, "
                f"chosen reply vs reference {pairs_array[mask, 1].mean():.3f}"
            )


if __name__ == "__main__":
    main()
