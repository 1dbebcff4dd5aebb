"""The recommendation engine: plain arrays in, ranked items with reasons out. No Django here.

The shop (``recommendations`` Django side, in workers) and the evaluation harness
(``oscar_llm_eval recommend``) fit and query the same :class:`RecommenderEngine`.

Score of an item for a user, ``f(item, user)``, is a weighted blend of components, each a full
catalogue vector computed from the user's recent history (recency-weighted events):

- ``seq``: log P(item | history) from a small sequence model (SASRec-style transformer whose item
  embeddings start from the MiniLM title vectors), trained only where it pays (enough histories);
- ``ease``: EASE item-to-item weights (a ridge regression of each item on the others over who saw what),
  learned when there are enough histories to tune the blend;
- ``covis``: co-visitation: how often the item was viewed near (mostly after) the user's items;
- ``copurchase``: how often it was bought together with the user's items;
- ``text``: cosine similarity of its title/facts vector to the user's profile vector;
- ``pop``: log popularity with time decay (the ``trending`` list, also the cold-start answer).

The blend weights are tuned in :meth:`RecommenderEngine.fit` on a validation split made from the
training histories themselves (a sample of users' last items held out), never on evaluation targets.
The statistics they are tuned with lag one event behind, as when serving (see ``fit``).
``P(item | user) = softmax(f)``. Diversity is MMR over item vectors; exploration perturbs scores with
seeded Gumbel noise (sampling from the softmax at that temperature).

Every recommendation carries the reason of the component that contributed most to its score, and the
history item that component refers to, so the storefront's "Because you viewed X" is true.

torch is imported only to train or run the sequence model (``seqmodel``), never by importing this module.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from .index import VectorIndex, top_k, unit_rows

REASONS = ("viewed_with", "bought_with", "similar", "for_you", "trending", "popular")
COMPONENTS = ("seq", "ease", "next", "covis", "copurchase", "text", "pop")
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Recommendation:
    item_id: str
    score: float
    reason: str  # one of REASONS
    source_item: str | None  # the history/basket/viewed item the reason refers to (None for trending/popular)


@dataclass
class EngineConfig:
    """All plain values, so a config round-trips through JSON (settings, saved engines)."""

    seed: int = 0
    # Popularity: events older than this count half (only when ``ages_days`` is given to fit()).
    half_life_days: float = 14.0
    # A user's profile: the last ``profile_length`` events, the k-th most recent weighted recency_decay**k.
    profile_length: int = 30
    recency_decay: float = 0.7
    # Co-visitation: pairs of events at most ``covis_window`` apart in a history; ``covis_backward`` is the
    # weight of "B viewed before A" relative to "B viewed after A" (histories are chronological).
    covis_window: int = 3
    covis_backward: float = 0.5
    # Floor inside log(eps + co-visitation score), so an item never co-visited is not -inf.
    covis_eps: float = 1e-3
    # Directed "next item" transitions: b at most ``next_window`` events after a (weight 1/gap), read from
    # the user's last ``next_last`` items only, the k-th most recent weighted next_decay**k. Unlike the
    # symmetric co-visitation over the whole profile, this answers "what comes right after what they just did".
    next_window: int = 1
    next_last: int = 3
    next_decay: float = 0.4
    # Serving defaults: MMR trade-off (0 = pure relevance) and exploration temperature (0 = deterministic).
    diversity: float = 0.0
    exploration: float = 0.0
    # Blend weights (the starting point of tuning; used as they are when there is too little data to tune).
    w_seq: float = 1.0
    w_next: float = 0.3
    w_covis: float = 0.3
    w_copurchase: float = 0.3
    w_text: float = 1.0
    w_pop: float = 0.3
    # EASE (Steck 2019), only where the blend is tuned: ridge penalty, the most frequent items it covers (a dense
    # inverse, cubic in their number: 48 s for 16,832 items on two cores) and the weights kept per item.
    w_ease: float = 100.0
    ease_lambda: float = 100.0
    ease_max_items: int = 20000
    ease_topk: int = 200
    tune_weights: bool = True
    validation_users: int = 2000  # users whose last item is held out to tune the blend
    min_validation_users: int = 100
    validation_candidates: int = 20  # random items ranked against each held-out item, as in the benchmark
    # The full-catalogue blend is tuned on a row per held-out user over the whole catalogue for every component:
    # its users are capped so that those rows stay within this many cells (float32, 400 MB per component;
    # 2,000 users x 1M items would need 8 GB per component). The candidate blend keeps every held-out user.
    validation_full_cells: int = 100_000_000
    # Sequence model (SASRec-style): trained only when there are at least ``seq_min_histories`` histories.
    seq_model: bool = True
    seq_min_histories: int = 2000
    seq_dim: int = 64
    seq_layers: int = 2
    seq_heads: int = 2
    seq_max_len: int = 50
    seq_dropout: float = 0.3
    # Epochs are capped so that a fit is deterministic for a seed: 10 epochs take ~3.5-4.5 min of one busy core
    # on the Amazon games data (337k training positions); the budget below is only a safety net.
    seq_epochs: int = 10
    seq_batch_size: int = 256
    # Sampled softmax size per batch (a full softmax when the catalogue is smaller). 4,096 over 1,024: validation
    # recall@10 0.1455 vs 0.1395 for the sequence model's default blend, 0.1515 vs 0.1465 tuned, at ~1.3x the time.
    seq_negatives: int = 4096
    seq_lr: float = 2e-3
    seq_weight_decay: float = 0.0
    # Training threads; 0 = each epoch times one against two threads on its first batches and keeps the faster
    # (idle 2-core machine: 26 vs 38 s/epoch on the Amazon games data; a second thread spins and runs ~3x slower
    # once other processes share the cores). Inference always uses one.
    seq_threads: int = 0
    # Wall-clock budget for the fit up to the end of the sequence model's training (the statistics are counted
    # first; the model gets what is left): training stops early, after the epoch that would cross it, on a
    # machine too busy to finish ``seq_epochs`` in time, and the report says so ("stopped").
    time_budget_s: float = 420.0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EngineConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class _Profile:
    rows: np.ndarray  # catalogue rows of the known history items, oldest first
    weights: np.ndarray  # event weight x recency weight, same length


@dataclass
class _Fitted:
    item_ids: list[str]
    vectors: np.ndarray | None
    pop: np.ndarray  # time-decayed popularity (plain counts when no ages were given)
    covis: sparse.csr_matrix  # row-normalised: row a = distribution of items co-visited with a
    copurchase: sparse.csr_matrix
    timed: bool  # popularity had time information ("trending") or not ("popular")
    # Row-normalised directed transitions: row a = distribution of the items that followed a.
    next: sparse.csr_matrix | None = None
    ease: sparse.csr_matrix | None = None  # EASE item-to-item weights (row a: how much a predicts each item)
    ease_report: dict[str, Any] = field(default_factory=dict)
    # Two blends: ``weights`` ranks a given candidate set (score/probabilities; tuned on NDCG among random
    # candidates, where popularity and text separate the long tail), ``weights_full`` ranks the whole
    # catalogue (recommend; tuned on recall@10, where telling popular items apart matters). Their best
    # values differ, so each is tuned on its own objective.
    weights: dict[str, float] = field(default_factory=dict)
    weights_full: dict[str, float] = field(default_factory=dict)


def _as_rows(position: dict[str, int], items: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Catalogue rows of the known items, and which input positions they came from (unknown ids are dropped)."""
    rows, keep = [], []
    for n, item in enumerate(items):
        row = position.get(str(item))
        if row is not None:
            rows.append(row)
            keep.append(n)
    return np.asarray(rows, dtype=np.int64), np.asarray(keep, dtype=np.int64)


def _row_normalise(m: sparse.csr_matrix) -> sparse.csr_matrix:
    sums = np.asarray(m.sum(axis=1)).ravel()
    inv = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0)
    return sparse.csr_matrix(sparse.diags(inv.astype(np.float32)) @ m, dtype=np.float32)


def covisitation_matrix(
    sequences: Sequence[np.ndarray],
    weights: Sequence[np.ndarray] | None,
    n_items: int,
    *,
    window: int,
    backward: float,
) -> sparse.csr_matrix:
    """Counts of (a, b) with b at most ``window`` events after a (weight 1/distance); b before a counts ``backward``."""
    if not sequences:
        return sparse.csr_matrix((n_items, n_items), dtype=np.float32)
    # 32-bit rows and columns: the pair arrays of 10M events are a few GB at 64 bits.
    index = np.int32 if n_items < 2**31 else np.int64
    flat = np.concatenate([np.asarray(s, dtype=index) for s in sequences])
    owner = np.repeat(np.arange(len(sequences), dtype=index), [len(s) for s in sequences])
    w = (
        np.concatenate([np.asarray(x, dtype=np.float64) for x in weights])
        if weights is not None
        else np.ones(flat.size)
    )
    rows, cols, vals = [], [], []
    for d in range(1, max(1, window) + 1):
        if flat.size <= d:
            break
        same = (owner[:-d] == owner[d:]) & (flat[:-d] != flat[d:])
        a, b = flat[:-d][same], flat[d:][same]
        pair_w = np.sqrt(w[:-d][same] * w[d:][same]) / d
        rows += [a, b]
        cols += [b, a]
        vals += [pair_w, pair_w * backward]
    if not rows:
        return sparse.csr_matrix((n_items, n_items), dtype=np.float32)
    m = sparse.coo_matrix(
        (np.concatenate(vals).astype(np.float32), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_items, n_items),
    ).tocsr()
    m.sum_duplicates()
    return m


def copurchase_matrix(baskets: Sequence[np.ndarray], n_items: int) -> sparse.csr_matrix:
    """Symmetric counts of items bought by the same customer (each customer's pairs count once)."""
    rows, cols = [], []
    for basket in baskets:
        items = np.unique(basket)
        if items.size < 2 or items.size > 200:  # a reseller's 5,000 orders say nothing about pairs
            continue
        a, b = np.meshgrid(items, items, indexing="ij")
        off = a != b
        rows.append(a[off])
        cols.append(b[off])
    if not rows:
        return sparse.csr_matrix((n_items, n_items), dtype=np.float32)
    r, c = np.concatenate(rows), np.concatenate(cols)
    return sparse.coo_matrix((np.ones(r.size, dtype=np.float32), (r, c)), shape=(n_items, n_items)).tocsr()


def ease_matrix(
    sequences: Sequence[np.ndarray], n_items: int, *, lam: float, max_items: int, topk: int
) -> tuple[sparse.csr_matrix | None, dict[str, Any]]:
    """EASE item-to-item weights (Steck 2019): B = I - P / diag(P), P = (X^T X + lam I)^-1, diag(B) = 0.

    X is the binary user x item matrix of the histories. The closed form needs a dense inverse, cubic in the
    number of items, so it covers the ``max_items`` most frequent items seen by at least two users (a Cholesky
    inverse: ~3x faster than ``np.linalg.inv``); each row keeps its ``topk`` largest weights.
    Returns (an n_items x n_items CSR matrix, or None when too few items qualify; a report).
    """
    from scipy.linalg import lapack

    if not sequences:
        return None, {"items": 0}
    per_user = [np.unique(np.asarray(s, dtype=np.int64)) for s in sequences]
    flat = np.concatenate(per_user)
    counts = np.bincount(flat, minlength=n_items)
    order = np.argsort(-counts, kind="stable")[: max(0, int(max_items))]
    items = np.sort(order[counts[order] >= 2])
    m = items.size
    if m < 2:
        return None, {"items": int(m)}
    col = np.full(n_items, -1, dtype=np.int64)
    col[items] = np.arange(m)
    owner = np.repeat(np.arange(len(per_user)), [u.size for u in per_user])
    c = col[flat]
    keep = c >= 0
    ones = np.ones(int(keep.sum()), dtype=np.float32)
    x = sparse.csr_matrix((ones, (owner[keep], c[keep])), shape=(len(per_user), m))
    # float32 as x is, and in Fortran order, which LAPACK factorises and inverts in place: one m x m matrix
    # (a cast or a C-ordered array would be a second copy at the peak).
    gram = (x.T @ x).toarray(order="F")
    gram[np.diag_indices(m)] += np.float32(lam)
    chol, info = lapack.spotrf(gram, lower=1, overwrite_a=1)
    if info == 0:
        inv, info = lapack.spotri(chol, lower=1, overwrite_c=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"EASE: the regularised Gram matrix could not be inverted (LAPACK info {info})")
    del gram, chol
    # C order again: spotri filled the lower triangle in Fortran order, which is the upper triangle here.
    inv = inv.T
    # In place and in row blocks, so the peak stays near one m x m float32 matrix (1.6 GB at 20,000 items):
    # mirror the upper triangle, B = P / -diag(P) with a zero diagonal, top k per row.
    block = 1024
    for i0 in range(0, m, block):
        i1 = min(m, i0 + block)
        inv[i1:, i0:i1] = inv[i0:i1, i1:].T
        inv[i0:i1, i0:i1] = np.triu(inv[i0:i1, i0:i1]) + np.triu(inv[i0:i1, i0:i1], 1).T
    neg_diag = -np.diag(inv).copy()
    inv /= neg_diag[None, :]
    inv[np.diag_indices(m)] = 0.0
    k = min(int(topk), m - 1)
    top = np.empty((m, k), dtype=np.int64)
    vals = np.empty((m, k), dtype=np.float32)
    for i0 in range(0, m, block):
        rows = inv[i0 : i0 + block]
        top[i0 : i0 + block] = np.argpartition(-rows, k - 1, axis=1)[:, :k]
        vals[i0 : i0 + block] = np.take_along_axis(rows, top[i0 : i0 + block], axis=1)
    del inv
    out = sparse.csr_matrix(
        (vals.ravel(), (np.repeat(items, k), items[top.ravel()])), shape=(n_items, n_items), dtype=np.float32
    )
    out.eliminate_zeros()
    return out, {"items": int(m), "lambda": float(lam), "topk": int(k)}


class RecommenderEngine:
    """Fit from plain arrays, then score, rank and explain. See the module docstring."""

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self._fitted: _Fitted | None = None
        self._seq: Any = None  # seqmodel.SequenceModel when trained
        # A loaded engine keeps the sequence model's arrays until something scores with it, so that loading
        # (e.g. to read trending or neighbours) never imports torch.
        self._seq_pending: tuple[dict[str, Any], dict[str, np.ndarray]] | None = None
        self._position: dict[str, int] = {}
        self._index: VectorIndex | None = None
        self._memo: tuple[Any, dict[str, np.ndarray]] | None = None
        self._pop_median: float | None = None
        self.report: dict[str, Any] = {}

    # -- fitting ----------------------------------------------------------------------------------

    @property
    def fitted(self) -> bool:
        return self._fitted is not None

    def __contains__(self, item_id: object) -> bool:
        """Whether the fitted catalogue knows ``item_id`` (unknown ids are ignored by every method)."""
        return str(item_id) in self._position

    @property
    def item_ids(self) -> list[str]:
        return list(self._state.item_ids)

    @property
    def weights(self) -> dict[str, float]:
        """Blend used by :meth:`score` / :meth:`probabilities` (ranking a given candidate set)."""
        return dict(self._state.weights)

    @property
    def weights_full(self) -> dict[str, float]:
        """Blend used by :meth:`recommend` (ranking the whole catalogue)."""
        return dict(self._state.weights_full or self._state.weights)

    @property
    def _state(self) -> _Fitted:
        if self._fitted is None:
            raise RuntimeError("The engine is not fitted: call fit() or load() first.")
        return self._fitted

    def fit(
        self,
        item_ids: Sequence[str],
        item_vectors: np.ndarray | None,
        histories: Sequence[Sequence[str]],
        *,
        weights: Sequence[Sequence[float]] | None = None,
        ages_days: Sequence[Sequence[float]] | None = None,
        purchases: Sequence[Sequence[str]] | None = None,
        progress: bool = False,
    ) -> dict:
        """Learn statistics (and the sequence model where it pays) and tune the blend; returns a report.

        ``item_vectors`` is kept as it is (not copied) when it already holds float32 unit rows.
        """
        started = time.perf_counter()
        cfg = self.config
        ids = [str(i) for i in item_ids]
        if len(set(ids)) != len(ids):
            raise ValueError("item_ids contains duplicates")
        n = len(ids)
        position = {item_id: row for row, item_id in enumerate(ids)}
        vectors = None
        if item_vectors is not None:
            vectors = np.ascontiguousarray(item_vectors, dtype=np.float32)
            if vectors.shape[0] != n:
                raise ValueError(f"item_vectors has {vectors.shape[0]} rows for {n} item ids")
            vectors = unit_rows(vectors)  # the same array when already normalised: the index shares it
        if weights is not None and len(weights) != len(histories):
            raise ValueError("weights must have one list per history")
        if ages_days is not None and len(ages_days) != len(histories):
            raise ValueError("ages_days must have one list per history")

        # Histories as catalogue rows; unknown ids are dropped (with their weights/ages).
        seqs, seq_w, seq_age = [], [], []
        for u, history in enumerate(histories):
            rows, keep = _as_rows(position, history)
            if weights is not None:
                if len(weights[u]) != len(history):
                    raise ValueError(f"history {u}: {len(weights[u])} weights for {len(history)} events")
                w = np.asarray(weights[u], dtype=np.float64)[keep]
            else:
                w = np.ones(rows.size)
            if ages_days is not None:
                if len(ages_days[u]) != len(history):
                    raise ValueError(f"history {u}: {len(ages_days[u])} ages for {len(history)} events")
                a = np.asarray(ages_days[u], dtype=np.float64)[keep]
            else:
                a = np.zeros(rows.size)
            seqs.append(rows)
            seq_w.append(w)
            seq_age.append(a)
        baskets = [_as_rows(position, p)[0] for p in (purchases or [])]

        self._position = position
        self._index = VectorIndex(ids, vectors) if vectors is not None else None
        report: dict[str, Any] = {"items": n, "histories": len(seqs), "events": int(sum(s.size for s in seqs))}

        # Validation split from the training histories: some users' last item is held out.
        rng = np.random.default_rng(cfg.seed)
        eligible = np.array([u for u, s in enumerate(seqs) if s.size >= 2], dtype=np.int64)
        n_val = min(cfg.validation_users, eligible.size // 5)
        tune = cfg.tune_weights and n_val >= cfg.min_validation_users
        val_users = np.sort(rng.choice(eligible, size=n_val, replace=False)) if tune else np.array([], np.int64)
        val_set = set(val_users.tolist())
        use_ease = tune and cfg.w_ease > 0
        use_seq = cfg.seq_model and len(seqs) >= cfg.seq_min_histories

        # Statistics first. Those the blend is tuned with are counted as they stood one event earlier: without
        # *every* user's last event, not only the validation users'. When serving, the next event always lies
        # beyond everything counted; counting the other users' last events, which happened alongside the
        # held-out ones, made co-visitation look better on validation than it is, and hid what EASE adds (on the
        # Amazon games data its tuned weight went from next to nothing to a +0.01 validation recall@10).
        tune_stats = None
        if tune:

            def lag(arrays: list[np.ndarray]) -> list[np.ndarray]:
                return [x[:-1] if s.size >= 2 else x for s, x in zip(seqs, arrays, strict=True)]

            tune_stats = self._statistics(
                ids, vectors, lag(seqs), lag(seq_w), lag(seq_age), baskets, ages_days, with_ease=use_ease
            )
        final_stats = self._statistics(ids, vectors, seqs, seq_w, seq_age, baskets, ages_days, with_ease=use_ease)
        if use_ease:
            report["ease"] = final_stats.ease_report
        report["statistics_seconds"] = round(time.perf_counter() - started, 2)

        # The sequence model learns from every event but the validation users' held-out items.
        self._seq, self._seq_pending = None, None
        if use_seq:
            from .seqmodel import SequenceModel

            seq_train = [s[:-1] if u in val_set else s for u, s in enumerate(seqs)]
            budget = max(0.0, cfg.time_budget_s - (time.perf_counter() - started))
            self._seq = SequenceModel.train(seq_train, n, vectors, cfg, progress=progress, budget_s=budget)
            report["seq"] = self._seq.report
        report["model"] = "sasrec+blend" if use_seq else "blend"

        base_weights = {
            "seq": cfg.w_seq if use_seq else 0.0,
            "next": cfg.w_next,
            "covis": cfg.w_covis,
            "copurchase": cfg.w_copurchase if baskets else 0.0,
            "text": cfg.w_text if vectors is not None else 0.0,
            "pop": cfg.w_pop,
            "ease": cfg.w_ease if final_stats.ease is not None else 0.0,
        }
        if tune_stats is not None:
            self._fitted = tune_stats
            self._memo, self._pop_median = None, None
            self._fitted.weights = dict(base_weights)
            targets = np.array([seqs[u][-1] for u in val_users], dtype=np.int64)
            val_hist = [(seqs[u][:-1], seq_w[u][:-1]) for u in val_users]
            tuned, tuned_full, val_report = self._tune(val_hist, targets, base_weights, rng, progress=progress)
            report["validation"] = val_report
        else:
            tuned, tuned_full = base_weights, dict(base_weights)
        # Final statistics from every event (the held-out items included); the tuned weights carry over.
        self._fitted = final_stats
        self._memo, self._pop_median = None, None
        self._fitted.weights = tuned
        self._fitted.weights_full = tuned_full
        report["weights"] = tuned
        report["weights_full"] = tuned_full
        report["fit_seconds"] = round(time.perf_counter() - started, 2)
        self.report = report
        return report

    def _statistics(
        self,
        ids: list[str],
        vectors: np.ndarray | None,
        seqs: list[np.ndarray],
        seq_w: list[np.ndarray],
        seq_age: list[np.ndarray],
        baskets: list[np.ndarray],
        ages_days: Any,
        *,
        with_ease: bool = False,
    ) -> _Fitted:
        cfg = self.config
        n = len(ids)
        pop = np.zeros(n, dtype=np.float64)
        if seqs:
            flat = np.concatenate(seqs)
            w = np.concatenate(seq_w)
            if ages_days is not None and cfg.half_life_days > 0:
                w = w * np.power(0.5, np.concatenate(seq_age) / cfg.half_life_days)
            np.add.at(pop, flat, w)
        covis = covisitation_matrix(seqs, seq_w, n, window=cfg.covis_window, backward=cfg.covis_backward)
        transitions = covisitation_matrix(seqs, seq_w, n, window=cfg.next_window, backward=0.0)
        transitions.eliminate_zeros()
        ease, ease_report = None, {}
        if with_ease:
            t0 = time.perf_counter()
            ease, ease_report = ease_matrix(
                seqs, n, lam=cfg.ease_lambda, max_items=cfg.ease_max_items, topk=cfg.ease_topk
            )
            ease_report["seconds"] = round(time.perf_counter() - t0, 2)
        return _Fitted(
            ease=ease,
            ease_report=ease_report,
            next=_row_normalise(transitions),
            item_ids=ids,
            vectors=vectors,
            pop=pop.astype(np.float32),
            covis=_row_normalise(covis),
            copurchase=_row_normalise(copurchase_matrix(baskets, n)),
            timed=ages_days is not None,
        )

    # -- tuning ----------------------------------------------------------------------------------

    def _tune(
        self,
        val_hist: list[tuple[np.ndarray, np.ndarray]],
        targets: np.ndarray,
        weights: dict[str, float],
        rng: np.random.Generator,
        *,
        progress: bool,
    ) -> tuple[dict[str, float], dict[str, float], dict[str, Any]]:
        """Coordinate search of both blends on held-out last items.

        Returns (candidate-ranking weights tuned on NDCG@10 among random candidates, full-catalogue weights
        tuned on recall@10 over the catalogue minus the history, validation report).
        """
        st = self._state
        n = len(st.item_ids)
        n_cand = self.config.validation_candidates
        # Candidate sets as in the benchmark: the target plus random items not in the history.
        cand = np.empty((len(targets), n_cand + 1), dtype=np.int64)
        for u, (rows, _) in enumerate(val_hist):
            seen = set(rows.tolist()) | {int(targets[u])}
            picks: list[int] = []
            while len(picks) < n_cand:
                c = int(rng.integers(n))
                if c not in seen:
                    seen.add(c)
                    picks.append(c)
            cand[u] = [targets[u], *picks]
        active = [c for c in COMPONENTS if weights.get(c, 0.0) > 0.0]
        # The validation users are a random sample in user order: the first n_full are a random sample too.
        n_full = min(len(targets), max(1, int(self.config.validation_full_cells) // max(n, 1)))
        comp_cand = {c: np.empty(cand.shape, dtype=np.float32) for c in active}
        comp_full = {c: np.empty((n_full, n), dtype=np.float32) for c in active}
        hist_mask = np.zeros((n_full, n), dtype=bool)
        profiles = [self._profile_rows(rows, w) for rows, w in val_hist]
        # Sequence-model rows in batches (<= 200 MB), never all users x catalogue at once.
        seq_lp, seq_chunk = None, max(1, min(256, 50_000_000 // max(n, 1)))
        iterator = range(len(targets))
        if progress:
            from tqdm import tqdm

            iterator = tqdm(iterator, desc="validation", unit="user")
        for u in iterator:
            rows, _ = val_hist[u]
            comps = self._components(profiles[u], [c for c in active if c != "seq"])
            if "seq" in active:
                if u % seq_chunk == 0:
                    seq_lp = self._seq.log_probs_batch([p.rows for p in profiles[u : u + seq_chunk]])
                comps["seq"] = seq_lp[u % seq_chunk]
            for c in active:
                comp_cand[c][u] = comps[c][cand[u]]
                if u < n_full:
                    comp_full[c][u] = comps[c]
            if u < n_full:
                hist_mask[u, rows] = True

        def ndcg(w: dict[str, float]) -> float:
            s = sum(w[c] * comp_cand[c] for c in active)
            rank = (s[:, 1:] > s[:, :1]).sum(axis=1) + 0.5 * (s[:, 1:] == s[:, :1]).sum(axis=1)
            return float(np.where(rank < 10, 1.0 / np.log2(rank + 2.0), 0.0).mean())

        def recall(w: dict[str, float]) -> float:
            full = sum(w[c] * comp_full[c] for c in active)
            full[hist_mask] = -np.inf
            target_score = full[np.arange(n_full), targets[:n_full]]
            # Ties count against the target (as a deterministic top-k could put the tied items first).
            above = (full >= target_score[:, None]).sum(axis=1) - 1
            return float((above < 10).mean())

        anchor = "seq" if "seq" in active else ("covis" if "covis" in active else (active[0] if active else None))

        def search(
            objective: Callable[[dict[str, float]], float], starts: Sequence[dict[str, float]]
        ) -> tuple[dict[str, float], float, float]:
            start = objective(starts[0])
            best, best_score = dict(starts[0]), start
            for other in starts[1:]:
                score = objective(other)
                if score > best_score + 1e-5:
                    best, best_score = dict(other), score
            factors = (0.0, 0.25, 0.5, 0.7, 1.4, 2.0, 4.0)
            for _round in range(3):
                improved = False
                for c in active:
                    if c == anchor:
                        continue
                    current = best[c] if best[c] > 0 else 0.1
                    for f in factors:
                        trial = dict(best)
                        trial[c] = current * f
                        score = objective(trial)
                        if score > best_score + 1e-5:
                            best, best_score, improved = trial, score, True
                if not improved:
                    break
            return best, start, best_score

        cand_w, ndcg_start, ndcg_best = search(ndcg, [weights])
        # The full-catalogue search also starts from the candidate blend when that is better on recall.
        full_w, recall_start, recall_best = search(recall, [weights, cand_w])
        return (
            cand_w,
            full_w,
            {
                "users": len(targets),
                "full_users": n_full,
                "ndcg@10_start": round(ndcg_start, 4),
                "ndcg@10": round(ndcg_best, 4),
                "full_recall@10_start": round(recall_start, 4),
                "full_recall@10": round(recall_best, 4),
                # Each blend on the other's objective, to show what the split buys.
                "ndcg@10_of_full_weights": round(ndcg(full_w), 4),
                "full_recall@10_of_candidate_weights": round(recall(cand_w), 4),
            },
        )

    # -- scoring ---------------------------------------------------------------------------------

    def _profile(self, history: Sequence[str], weights: Sequence[float] | None) -> _Profile:
        rows, keep = _as_rows(self._position, history)
        if weights is not None:
            if len(weights) != len(history):
                raise ValueError(f"{len(weights)} weights for {len(history)} history items")
            w = np.asarray(weights, dtype=np.float64)[keep]
        else:
            w = np.ones(rows.size)
        return self._profile_rows(rows, w)

    def _profile_rows(self, rows: np.ndarray, w: np.ndarray) -> _Profile:
        cfg = self.config
        rows, w = rows[-cfg.profile_length :], np.asarray(w, dtype=np.float64)[-cfg.profile_length :]
        recency = np.power(cfg.recency_decay, np.arange(rows.size)[::-1])
        return _Profile(rows=rows, weights=w * recency)

    def _components(self, profile: _Profile, active: Collection[str] | None = None) -> dict[str, np.ndarray]:
        """Each active component's full-catalogue vector for this profile (float32, higher = better)."""
        st = self._state
        cfg = self.config
        if active is None:
            full = st.weights_full or st.weights
            active = [c for c in COMPONENTS if max(st.weights.get(c, 0.0), full.get(c, 0.0)) > 0.0]
        # score() then recommend() for the same visitor (the evaluation, a worker's refresh) reuse the work.
        key = (profile.rows.tobytes(), profile.weights.tobytes(), tuple(active))
        if self._memo is not None and self._memo[0] == key:
            return dict(self._memo[1])
        out: dict[str, np.ndarray] = {}
        rows, w = profile.rows, profile.weights
        wn = w / w.sum() if rows.size and w.sum() > 0 else w
        if "pop" in active:
            out["pop"] = np.log1p(st.pop)
        if "ease" in active and st.ease is not None:
            s = np.asarray(st.ease[rows].T @ wn).ravel() if rows.size else np.zeros(len(st.item_ids))
            out["ease"] = s.astype(np.float32)
        if "covis" in active:
            s = np.asarray(st.covis[rows].T @ wn).ravel() if rows.size else np.zeros(len(st.item_ids))
            out["covis"] = np.log(cfg.covis_eps + s).astype(np.float32)
        if "next" in active and st.next is not None:
            last = rows[-cfg.next_last :] if cfg.next_last > 0 else rows[:0]
            if last.size:
                wl = np.power(cfg.next_decay, np.arange(last.size)[::-1])
                s = np.asarray(st.next[last].T @ (wl / wl.sum())).ravel()
            else:
                s = np.zeros(len(st.item_ids))
            out["next"] = np.log(cfg.covis_eps + s).astype(np.float32)
        if "copurchase" in active:
            s = np.asarray(st.copurchase[rows].T @ wn).ravel() if rows.size else np.zeros(len(st.item_ids))
            out["copurchase"] = np.log(cfg.covis_eps + s).astype(np.float32)
        if "text" in active and st.vectors is not None:
            if rows.size:
                p = (st.vectors[rows] * wn[:, None].astype(np.float32)).sum(axis=0)
                norm = float(np.linalg.norm(p))
                out["text"] = st.vectors @ (p / norm) if norm > 0 else np.zeros(len(st.item_ids), np.float32)
            else:
                out["text"] = np.zeros(len(st.item_ids), np.float32)
        if "seq" in active and self._sequence() is not None:
            out["seq"] = self._seq.log_probs(profile.rows)
        self._memo = (key, out)
        return dict(out)

    def _sequence(self) -> Any:
        """The sequence model, built (torch imported) on first use after load(); None when there is none."""
        if self._seq is None and self._seq_pending is not None:
            from .seqmodel import SequenceModel

            meta, arrays = self._seq_pending
            self._seq = SequenceModel.from_arrays(meta, arrays)
            self._seq_pending = None
        return self._seq

    def _blend(self, comps: dict[str, np.ndarray], weights: dict[str, float] | None = None) -> np.ndarray:
        weights = self._state.weights if weights is None else weights
        total = np.zeros(len(self._state.item_ids), dtype=np.float64)
        for c, v in comps.items():
            total += weights.get(c, 0.0) * v
        return total

    def _candidate_rows(self, candidates: Sequence[str] | None) -> np.ndarray | None:
        if candidates is None:
            return None
        return np.asarray([self._position.get(str(c), -1) for c in candidates], dtype=np.int64)

    def score(
        self, history: Sequence[str], candidates: Sequence[str] | None = None, *, weights: Sequence[float] | None = None
    ) -> np.ndarray:
        """f(item, user) for ``candidates`` (all items, in ``item_ids`` order, if None). Unknown candidates: -inf."""
        profile = self._profile(history, weights)
        if profile.rows.size == 0:
            full = np.log1p(self._state.pop.astype(np.float64))
        else:
            full = self._blend(self._components(profile))
        rows = self._candidate_rows(candidates)
        if rows is None:
            return full
        out = np.full(rows.size, -np.inf)
        known = rows >= 0
        out[known] = full[rows[known]]
        return out

    def probabilities(
        self, history: Sequence[str], candidates: Sequence[str] | None = None, *, weights: Sequence[float] | None = None
    ) -> np.ndarray:
        """P(item | user) = softmax(f) over ``candidates`` (or the catalogue)."""
        s = self.score(history, candidates, weights=weights)
        finite = np.isfinite(s)
        out = np.zeros_like(s)
        if finite.any():
            z = s[finite] - s[finite].max()
            e = np.exp(z)
            out[finite] = e / e.sum()
        return out

    # -- ranking ---------------------------------------------------------------------------------

    def recommend(
        self,
        history: Sequence[str],
        k: int,
        *,
        weights: Sequence[float] | None = None,
        exclude: Collection[str] = (),
        allowed: Collection[str] | None = None,
        diversity: float | None = None,
        exploration: float | None = None,
        seed: int | None = None,
    ) -> list[Recommendation]:
        """Top ``k`` for a user. History items are not excluded unless listed in ``exclude`` (the caller's rule).

        An empty history (or only unknown ids) gives :meth:`trending`.
        """
        profile = self._profile(history, weights)
        if profile.rows.size == 0:
            return self.trending(k, exclude=exclude, allowed=allowed)
        comps = self._components(profile)
        weights_full = self.weights_full  # the whole catalogue: the blend tuned on full-catalogue recall
        scores = self._blend(comps, weights_full)
        picked = self._select(scores, k, exclude, allowed, diversity, exploration, seed)
        return self._explain_all(picked, scores, comps, profile, weights_full)

    def similar_items(
        self, item_id: str, k: int, *, exclude: Collection[str] = (), allowed: Collection[str] | None = None
    ) -> list[Recommendation]:
        """Items like ``item_id``: text similarity and co-visitation (never the item itself); [] if unknown."""
        row = self._position.get(str(item_id))
        if row is None:
            return []
        st = self._state
        profile = _Profile(rows=np.array([row]), weights=np.ones(1))
        active = [c for c in ("text", "covis", "copurchase") if c != "text" or st.vectors is not None]
        comps = self._components(profile, active)
        # Product pages favour look-alikes: text leads, co-visitation refines (as a relative weight).
        scores = np.zeros(len(st.item_ids))
        for c, v in comps.items():
            scores += {"text": 1.0, "covis": 0.1, "copurchase": 0.1}[c] * v
        scores += 0.02 * np.log1p(st.pop)
        excl = {*map(str, exclude), str(item_id)}
        picked = [self._position[i] for i, _ in self._top(scores, k, excl, allowed)]
        weights = {"text": 1.0, "covis": 0.1, "copurchase": 0.1}
        return self._explain_all(picked, scores, comps, profile, weights)

    def complete_basket(
        self, basket: Sequence[str], k: int, *, exclude: Collection[str] = (), allowed: Collection[str] | None = None
    ) -> list[Recommendation]:
        """Items to add to ``basket`` (never one already in it); trending for an empty/unknown basket."""
        rows, _ = _as_rows(self._position, basket)
        excl = {*map(str, exclude), *map(str, basket)}
        if rows.size == 0:
            return self.trending(k, exclude=excl, allowed=allowed)
        profile = _Profile(rows=rows, weights=np.ones(rows.size))
        comps = self._components(profile)
        weights = self.weights_full
        # What goes with a basket is first of all what was bought with it.
        weights["copurchase"] = max(weights.get("copurchase", 0.0), 1.0) if "copurchase" in comps else 0.0
        scores = np.zeros(len(self._state.item_ids))
        for c, v in comps.items():
            scores += weights.get(c, 0.0) * v
        picked = [self._position[i] for i, _ in self._top(scores, k, excl, allowed)]
        return self._explain_all(picked, scores, comps, profile, weights)

    def trending(
        self, k: int, *, exclude: Collection[str] = (), allowed: Collection[str] | None = None
    ) -> list[Recommendation]:
        """Most popular items, time-decayed when the fit had event ages ("trending"), else "popular"."""
        st = self._state
        reason = "trending" if st.timed else "popular"
        scores = np.log1p(st.pop.astype(np.float64))
        return [Recommendation(i, s, reason, None) for i, s in self._top(scores, k, exclude, allowed)]

    def _top(
        self, scores: np.ndarray, k: int, exclude: Collection[str], allowed: Collection[str] | None
    ) -> list[tuple[str, float]]:
        return top_k(self._state.item_ids, self._position, scores, k, exclude=exclude, allowed=allowed)

    def _select(
        self,
        scores: np.ndarray,
        k: int,
        exclude: Collection[str],
        allowed: Collection[str] | None,
        diversity: float | None,
        exploration: float | None,
        seed: int | None,
    ) -> list[int]:
        cfg = self.config
        diversity = cfg.diversity if diversity is None else float(diversity)
        exploration = cfg.exploration if exploration is None else float(exploration)
        if not 0.0 <= diversity <= 1.0:
            raise ValueError("diversity must be between 0 and 1")
        if exploration < 0:
            raise ValueError("exploration must be >= 0")
        ranked = scores
        if exploration > 0:
            # Gumbel-max: ranking by f/T + Gumbel samples from softmax(f/T) without replacement.
            rng = np.random.default_rng(cfg.seed if seed is None else seed)
            ranked = scores / exploration + rng.gumbel(size=scores.size)
        vectors = self._state.vectors
        if diversity <= 0 or vectors is None or k <= 1:
            return [self._position[i] for i, _ in self._top(ranked, k, exclude, allowed)]
        # MMR over a pool of the best candidates: relevance scaled to [0, 1] against max similarity so far.
        pool = np.array([self._position[i] for i, _ in self._top(ranked, max(5 * k, 50), exclude, allowed)])
        if pool.size == 0:
            return []
        rel = ranked[pool].astype(np.float64)
        span = rel.max() - rel.min()
        rel = (rel - rel.min()) / span if span > 0 else np.ones_like(rel)
        sim = vectors[pool] @ vectors[pool].T
        chosen: list[int] = []
        max_sim = np.full(pool.size, -1.0)
        available = np.ones(pool.size, dtype=bool)
        for _ in range(min(k, pool.size)):
            mmr = (1 - diversity) * rel - diversity * (max_sim if chosen else 0.0)
            mmr[~available] = -np.inf
            j = int(np.argmax(mmr))
            chosen.append(j)
            available[j] = False
            max_sim = np.maximum(max_sim, sim[j])
        return [int(pool[j]) for j in chosen]

    def _baselines(self, comps: dict[str, np.ndarray], weights: dict[str, float]) -> dict[str, float]:
        """Co-occurrence counts from "never seen together"; other components from the catalogue median.

        Computed once per query (a median is a pass over the whole catalogue), only for the components
        that can win (positive weight); popularity's median is the same for every query, so it is cached.
        """
        floor = math.log(self.config.covis_eps)
        out: dict[str, float] = {}
        for c, v in comps.items():
            if weights.get(c, 0.0) <= 0:
                continue
            if c in ("covis", "copurchase", "next"):
                out[c] = floor
            elif c == "ease":
                out[c] = 0.0  # no history item predicts it
            elif c == "pop":
                if self._pop_median is None:
                    self._pop_median = float(np.median(v))
                out[c] = self._pop_median
            else:
                out[c] = float(np.median(v))
        return out

    def _explain_all(
        self,
        rows: Sequence[int],
        scores: np.ndarray,
        comps: dict[str, np.ndarray],
        profile: _Profile,
        weights: dict[str, float] | None = None,
    ) -> list[Recommendation]:
        weights = weights or self._state.weights
        baselines = self._baselines(comps, weights)
        return [self._explain(r, float(scores[r]), comps, profile, weights=weights, baselines=baselines) for r in rows]

    def _explain(
        self,
        row: int,
        score: float,
        comps: dict[str, np.ndarray],
        profile: _Profile,
        *,
        weights: dict[str, float] | None = None,
        baselines: dict[str, float] | None = None,
    ) -> Recommendation:
        """The reason is the component contributing most above its catalogue median, with its source item."""
        st = self._state
        weights = weights or st.weights
        item_id = st.item_ids[row]
        baselines = baselines if baselines is not None else self._baselines(comps, weights)
        best, best_gain = None, 0.0
        for c, v in comps.items():
            w = weights.get(c, 0.0)
            if w <= 0:
                continue
            gain = w * (float(v[row]) - baselines[c])
            if gain > best_gain + 1e-12:
                best, best_gain = c, gain
        rows, w = profile.rows, profile.weights
        if best == "next" and st.next is not None:
            # The transition is read from the last few items only: the source is the one that led here.
            last = rows[-self.config.next_last :]
            contrib = np.asarray(st.next[last, row].todense()).ravel()
            if contrib.max(initial=0.0) > 0:
                src = st.item_ids[int(last[len(last) - 1 - int(np.argmax(contrib[::-1]))])]
                return Recommendation(item_id, score, "viewed_with", src)
            best = None
        if best in ("covis", "copurchase", "ease"):
            # EASE's weights are learned from who viewed what together: its reason is "viewed with" too.
            m = {"covis": st.covis, "copurchase": st.copurchase, "ease": st.ease}[best]
            contrib = np.asarray(m[rows, row].todense()).ravel() * w
            if contrib.max(initial=0.0) > 0:
                src = st.item_ids[int(rows[int(np.argmax(contrib))])]
                return Recommendation(item_id, score, "bought_with" if best == "copurchase" else "viewed_with", src)
            best = None
        if best == "text" and st.vectors is not None and (rows != row).any():
            # An item is not "similar" to itself: the source is the closest *other* history item.
            sims = np.where(rows != row, st.vectors[rows] @ st.vectors[row], -np.inf)
            return Recommendation(item_id, score, "similar", st.item_ids[int(rows[int(np.argmax(sims))])])
        if best == "seq" and rows.size:
            return Recommendation(item_id, score, "for_you", st.item_ids[int(rows[-1])])
        return Recommendation(item_id, score, "trending" if st.timed else "popular", None)

    # -- persistence -----------------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """One ``.npz`` file (no pickle): config, statistics, vectors and the sequence model's weights."""
        st = self._state
        arrays: dict[str, np.ndarray] = {
            "item_ids": np.asarray(st.item_ids, dtype=np.str_),
            "pop": st.pop,
            "meta": np.asarray(
                json.dumps(
                    {
                        "format": FORMAT_VERSION,
                        "config": asdict(self.config),
                        "weights": st.weights,
                        "weights_full": st.weights_full,
                        "timed": st.timed,
                        "report": self.report,
                        "seq": self._seq.meta() if self._seq is not None else (self._seq_pending or (None,))[0],
                    },
                    default=str,
                )
            ),
        }
        if st.vectors is not None:
            arrays["vectors"] = st.vectors
        for name in ("covis", "copurchase", "next", "ease"):
            m: sparse.csr_matrix | None = getattr(st, name)
            if m is None:
                continue
            arrays[f"{name}_data"], arrays[f"{name}_indices"], arrays[f"{name}_indptr"] = m.data, m.indices, m.indptr
        seq_arrays = self._seq.arrays() if self._seq is not None else (self._seq_pending or ({}, {}))[1]
        for key, value in seq_arrays.items():
            arrays[f"seq/{key}"] = value
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, **arrays)
        tmp.replace(path)  # readers never see half a file

    @classmethod
    def load(cls, path: str | Path) -> RecommenderEngine:
        with np.load(Path(path), allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta.get("format") != FORMAT_VERSION:
                raise ValueError(f"{path}: unsupported engine format {meta.get('format')!r}")
            engine = cls(EngineConfig.from_dict(meta["config"]))
            ids = [str(i) for i in data["item_ids"]]
            n = len(ids)
            mats = {
                name: sparse.csr_matrix(
                    (data[f"{name}_data"], data[f"{name}_indices"], data[f"{name}_indptr"]), shape=(n, n)
                )
                for name in ("covis", "copurchase", "next", "ease")
                if f"{name}_data" in data.files
            }
            vectors = data["vectors"] if "vectors" in data.files else None
            engine._fitted = _Fitted(
                item_ids=ids,
                vectors=vectors,
                pop=data["pop"],
                covis=mats["covis"],
                copurchase=mats["copurchase"],
                timed=bool(meta["timed"]),
                weights={k: float(v) for k, v in meta["weights"].items()},
                weights_full={k: float(v) for k, v in (meta.get("weights_full") or meta["weights"]).items()},
                next=mats.get("next"),
                ease=mats.get("ease"),
            )
            if meta.get("seq"):
                engine._seq_pending = (meta["seq"], {k[4:]: data[k] for k in data.files if k.startswith("seq/")})
        engine._position = {item_id: row for row, item_id in enumerate(ids)}
        engine._index = VectorIndex(ids, vectors) if vectors is not None else None
        engine.report = meta.get("report") or {}
        return engine

    @property
    def index(self) -> VectorIndex | None:
        """The nearest-neighbour index over item vectors (None when fitted without vectors)."""
        return self._index
