"""Nearest-neighbour search over normalised item vectors.

Why numpy brute force and not faiss: the shop's catalogue is at most ~100,000 products with 384-d MiniLM
vectors, i.e. 100k x 384 float32 = ~150 MB, and one query is one matrix-vector product (38 M multiply-adds)
plus ``argpartition``: a few milliseconds on one core, exact (no recall loss to tune), no extra native
dependency, and the matrix is a plain array that saves/loads with ``numpy``. An approximate index (faiss IVF,
HNSW) pays off in the millions of items or at thousands of queries per second; neither is the case here,
and the serving path reads precomputed neighbour lists anyway (queries run in workers).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np


class VectorIndex:
    """Exact cosine nearest neighbours over rows of an L2-normalised float32 matrix."""

    def __init__(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(ids):
            raise ValueError(f"vectors must be [len(ids), d]; got {vectors.shape} for {len(ids)} ids")
        self.vectors = unit_rows(vectors)
        self.ids = [str(i) for i in ids]
        self.position = {item_id: n for n, item_id in enumerate(self.ids)}

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def dimension(self) -> int:
        return int(self.vectors.shape[1])

    def similarities(self, query: np.ndarray) -> np.ndarray:
        """Cosine similarity of ``query`` (a vector, normalised here) to every row."""
        q = np.asarray(query, dtype=np.float32).ravel()
        norm = float(np.linalg.norm(q))
        if norm == 0.0:
            return np.zeros(len(self.ids), dtype=np.float32)
        return self.vectors @ (q / norm)

    def search(
        self,
        query: np.ndarray,
        k: int,
        *,
        exclude: Collection[str] = (),
        allowed: Collection[str] | None = None,
    ) -> list[tuple[str, float]]:
        """The ``k`` most similar ids with their cosine similarity, best first."""
        return top_k(self.ids, self.position, self.similarities(query), k, exclude=exclude, allowed=allowed)

    def neighbours(
        self, item_id: str, k: int, *, exclude: Collection[str] = (), allowed: Collection[str] | None = None
    ) -> list[tuple[str, float]]:
        """Nearest neighbours of a known item (itself excluded); [] for an unknown id."""
        row = self.position.get(str(item_id))
        if row is None:
            return []
        return self.search(self.vectors[row], k, exclude={*map(str, exclude), str(item_id)}, allowed=allowed)


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero); the array itself when they already are.

    Normalised once by the engine, the same float32 matrix then serves the engine and its index: at a
    million 384-d items a copy is 1.5 GB more in every worker that loads the engine.
    """
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    if np.all((np.abs(norms - 1.0) <= 1e-5) | (norms == 0.0)):
        return vectors
    return vectors / np.maximum(norms, 1e-12)


def top_k(
    ids: Sequence[str],
    position: dict[str, int],
    scores: np.ndarray,
    k: int,
    *,
    exclude: Collection[str] = (),
    allowed: Collection[str] | None = None,
) -> list[tuple[str, float]]:
    """Best ``k`` (id, score) from a full score vector, honouring ``allowed`` and ``exclude``."""
    if k <= 0 or len(ids) == 0:
        return []
    scores = np.asarray(scores, dtype=np.float64)
    if allowed is not None:
        rows = np.fromiter((position[a] for a in {str(a) for a in allowed} if a in position), dtype=np.int64)
        rows.sort()
    else:
        rows = np.arange(len(ids))
    if exclude:
        banned = np.fromiter((position[e] for e in {str(e) for e in exclude} if e in position), dtype=np.int64)
        # A mask, not np.setdiff1d: that sorts the whole catalogue again (90 ms of a 100k-item list, 9/10 of it).
        keep = np.ones(len(ids), dtype=bool)
        keep[banned] = False
        rows = rows[keep[rows]]
    if rows.size == 0:
        return []
    sub = scores[rows]
    keep = np.isfinite(sub)
    rows, sub = rows[keep], sub[keep]
    if rows.size == 0:
        return []
    if rows.size > k:
        part = np.argpartition(-sub, k - 1)[:k]
        rows, sub = rows[part], sub[part]
    # Stable order: score descending, then catalogue position, so equal scores rank the same way every time.
    order = np.lexsort((rows, -sub))
    return [(ids[r], float(sub[i])) for i, r in ((i, rows[i]) for i in order)]
