"""Worker side: item vectors, fitting the engine, and the precomputed lists pages read.

Runs in Celery workers only (through the job handlers), never in a web process: it loads the
embedding model and the engine (numpy; torch only while a sequence model trains).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from django.db.models import Q
from django.utils import timezone
from oscar.core.loading import get_model

from ..models import Interaction, ItemVector, RecommendationList
from . import serving
from .config import CATEGORY, GLOBAL_KEY, POPULAR, SIMILAR, TOGETHER, TRENDING, USER, VISITOR, engine_dir, setting

logger = logging.getLogger(__name__)

Product = get_model("catalogue", "Product")
ProductCategory = get_model("catalogue", "ProductCategory")
Line = get_model("order", "Line")

ENGINE_FILE = "engine.npz"
# Personal lists are computed and saved this many at a time: a million visitors' lists held at once
# (40 items each, as dicts) would be ~20 GB of a worker.
PROFILE_CHUNK = 1000
_loaded: dict[str, Any] = {"key": None, "engine": None}


# --- vectors -------------------------------------------------------------------------------------


def compute_vectors(product_ids: Iterable[int], *, batch_size: int = 256, progress: bool = False) -> dict[str, int]:
    """Embed the facts of these products with the configured embedder; unchanged facts are skipped."""
    from ..catalogue import facts_text, product_facts
    from ..llm.registry import get_embedder

    ids = list(dict.fromkeys(int(p) for p in product_ids))
    existing = dict(ItemVector.objects.filter(product_id__in=ids).values_list("product_id", "input_hash"))
    embedder = None
    written = skipped = 0
    iterator: Iterable[int] = range(0, len(ids), batch_size)
    if progress:
        from tqdm import tqdm

        iterator = tqdm(iterator, desc="item vectors", unit="batch")
    for start in iterator:
        chunk = list(Product.objects.filter(pk__in=ids[start : start + batch_size]))
        texts, todo = [], []
        for product in chunk:
            text = facts_text(product_facts(product))
            digest = hashlib.sha256(text.encode()).hexdigest()
            if existing.get(product.pk) == digest:
                skipped += 1
                continue
            texts.append(text)
            todo.append((product.pk, digest))
        if not texts:
            continue
        embedder = embedder or get_embedder()
        vectors = np.asarray(embedder.embed(texts), dtype=np.float32)
        model_id = getattr(embedder, "model_id", type(embedder).__name__)
        rows = [
            ItemVector(product_id=pk, vector=vec.tobytes(), dimension=vec.size, input_hash=digest, model_id=model_id)
            for (pk, digest), vec in zip(todo, vectors, strict=True)
        ]
        ItemVector.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["product"],
            update_fields=["vector", "dimension", "input_hash", "model_id", "updated_at"],
        )
        written += len(rows)
    return {"written": written, "unchanged": skipped}


def _catalogue() -> tuple[list[int], dict[int, str]]:
    """The recommendable products (public, not variants) and their titles, by primary key."""
    rows = Product.objects.filter(is_public=True).exclude(structure=Product.CHILD).order_by("pk")
    titles = dict(rows.values_list("pk", "title"))
    return list(titles), titles


def _vector_matrix(product_ids: Sequence[int]) -> np.ndarray | None:
    position = {pk: n for n, pk in enumerate(product_ids)}
    matrix: np.ndarray | None = None
    found = 0
    for pk, blob, dim in (
        ItemVector.objects.filter(product_id__in=position)
        .values_list("product_id", "vector", "dimension")
        .iterator(chunk_size=5000)
    ):
        if matrix is None:
            matrix = np.zeros((len(product_ids), dim), dtype=np.float32)
        vec = np.frombuffer(bytes(blob), dtype=np.float32)
        if vec.size == matrix.shape[1]:
            matrix[position[pk]] = vec
            found += 1
    # Products still without a vector keep a zero row: no text signal, co-visitation still counts.
    return matrix if found else None


# --- histories -----------------------------------------------------------------------------------


def _owner(user_id: int | None, session_key: str) -> tuple[str, str] | None:
    if user_id:
        return USER, str(user_id)
    if session_key:
        return VISITOR, session_key
    return None


def load_histories(since: Any = None) -> dict[tuple[str, str], list[tuple[str, float, float, str]]]:
    """``{(kind, key): [(item_id, weight, age_days, event), ...]}`` oldest first, variants as parents."""
    now = timezone.now()
    qs = Interaction.objects.filter(product__isnull=False)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    histories: dict[tuple[str, str], list[tuple[str, float, float, str]]] = defaultdict(list)
    rows = qs.order_by("created_at", "pk").values_list(
        "user_id", "session_key", "product_id", "product__parent_id", "event", "weight", "created_at"
    )
    for user_id, session_key, pid, parent_id, event, weight, created in rows.iterator(chunk_size=10000):
        owner = _owner(user_id, session_key)
        if owner is None:
            continue
        age = max((now - created).total_seconds() / 86400.0, 0.0)
        histories[owner].append((str(parent_id or pid), float(weight), age, event))
    return histories


def owner_history(kind: str, key: str) -> list[tuple[str, float, float, str]]:
    now = timezone.now()
    filt = Q(user_id=int(key)) if kind == USER else Q(user__isnull=True, session_key=key)
    rows = (
        Interaction.objects.filter(filt, product__isnull=False)
        .order_by("-created_at", "-pk")
        .values_list("product_id", "product__parent_id", "event", "weight", "created_at")[
            : int(setting("HISTORY_LENGTH"))
        ]
    )
    out = [
        (str(parent or pid), float(weight), max((now - created).total_seconds() / 86400.0, 0.0), event)
        for pid, parent, event, weight, created in rows
    ]
    return out[::-1]


def _orders() -> list[list[str]]:
    baskets: dict[int, list[str]] = defaultdict(list)
    for order_id, pid, parent_id in (
        Line.objects.filter(product__isnull=False)
        .values_list("order_id", "product_id", "product__parent_id")
        .iterator(chunk_size=10000)
    ):
        baskets[order_id].append(str(parent_id or pid))
    return [b for b in baskets.values() if b]


# --- the engine ----------------------------------------------------------------------------------


def engine_path() -> Path:
    return engine_dir() / ENGINE_FILE


def current_engine() -> Any:
    """The saved engine, loaded once per worker process and again when a newer fit is saved."""
    from .engine import RecommenderEngine

    path = engine_path()
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if _loaded["key"] != key:
        _loaded["engine"] = RecommenderEngine.load(path)
        _loaded["key"] = key
    return _loaded["engine"]


def fit(*, progress: bool = False) -> dict[str, Any]:
    """Fit the engine on every recommendable product and every history, save it, precompute lists."""
    from .engine import EngineConfig, RecommenderEngine

    started = time.perf_counter()
    product_ids, titles = _catalogue()
    if not product_ids:
        return {"items": 0, "fitted": False}
    missing = set(product_ids) - set(ItemVector.objects.values_list("product_id", flat=True))
    vector_summary = compute_vectors(sorted(missing), progress=progress) if missing else {"written": 0}
    vectors = _vector_matrix(product_ids)
    histories = load_histories()
    owners = list(histories)
    engine = RecommenderEngine(EngineConfig.from_dict(setting("ENGINE_CONFIG") or {}))
    report = engine.fit(
        [str(p) for p in product_ids],
        vectors,
        [[e[0] for e in histories[o]] for o in owners],
        weights=[[e[1] for e in histories[o]] for o in owners],
        ages_days=[[e[2] for e in histories[o]] for o in owners],
        purchases=_orders(),
        progress=progress,
    )
    path = engine_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    engine.save(path)
    _loaded.update(key=None, engine=None)
    version = f"{int(time.time())}"
    summary = precompute_all(engine, product_ids, titles, histories, version=version, progress=progress)
    summary.update(
        items=len(product_ids),
        histories=len(owners),
        vectors_written=vector_summary.get("written", 0),
        fit_seconds=report.get("fit_seconds"),
        model=report.get("model"),
        total_seconds=round(time.perf_counter() - started, 2),
        fitted=True,
    )
    return summary


def _item(rec: Any, titles: dict[int, str], events: dict[str, str] | None = None) -> dict[str, Any]:
    source = int(rec.source_item) if rec.source_item else None
    item = {"id": int(rec.item_id), "score": round(float(rec.score), 6), "reason": rec.reason, "source": source}
    if source:
        item["source_title"] = titles.get(source, "")
        if events is not None and rec.source_item in events:
            item["source_event"] = events[rec.source_item]
    return item


_EVENT_RANK = {"purchase": 4, "basket": 3, "view": 2, "click": 1, "search": 0}


def _strongest_events(history: Sequence[tuple[str, float, float, str]]) -> dict[str, str]:
    """Per item, the strongest thing this customer did with it (so "Because you bought X" is true)."""
    best: dict[str, str] = {}
    for item_id, _w, _age, event in history:
        if _EVENT_RANK.get(event, 0) >= _EVENT_RANK.get(best.get(item_id, ""), -1):
            best[item_id] = event
    return best


def _save_lists(rows: list[RecommendationList]) -> None:
    now = timezone.now()
    for row in rows:
        row.updated_at = now
    for start in range(0, len(rows), 1000):
        RecommendationList.objects.bulk_create(
            rows[start : start + 1000],
            update_conflicts=True,
            unique_fields=["kind", "key"],
            update_fields=["items", "engine_version", "updated_at"],
        )


def _product_rows(engine: Any, product_ids: Iterable[int], titles: dict[int, str], version: str) -> list:
    size = int(setting("LIST_SIZE"))
    rows = []
    for pid in product_ids:
        similar = engine.similar_items(str(pid), size)
        if not similar:
            similar = _similar_by_vector(engine, pid, size)
        together = engine.complete_basket([str(pid)], size) if str(pid) in engine._position else []
        rows.append(
            RecommendationList(
                kind=SIMILAR, key=str(pid), items=[_item(r, titles) for r in similar], engine_version=version
            )
        )
        rows.append(
            RecommendationList(
                kind=TOGETHER,
                key=str(pid),
                # Trending items are the fallback lists' job, not "goes with this product".
                items=[_item(r, titles) for r in together if r.reason not in (TRENDING, POPULAR)],
                engine_version=version,
            )
        )
    return rows


def _similar_by_vector(engine: Any, product_id: int, k: int) -> list:
    """A product added after the last fit: its nearest neighbours by its own vector, if it has one."""
    from .engine import Recommendation

    index = engine.index
    row = ItemVector.objects.filter(product_id=product_id).values_list("vector", flat=True).first()
    if index is None or row is None:
        return []
    vec = np.frombuffer(bytes(row), dtype=np.float32)
    if vec.size != index.dimension:
        return []
    hits = index.search(vec, k, exclude={str(product_id)})
    return [Recommendation(item_id, score, "similar", str(product_id)) for item_id, score in hits]


def precompute_all(
    engine: Any,
    product_ids: list[int],
    titles: dict[int, str],
    histories: dict[tuple[str, str], list],
    *,
    version: str,
    progress: bool = False,
) -> dict[str, int]:
    size = int(setting("LIST_SIZE"))
    # Global lists: time-decayed (trending) and all-time-ish (popular, the same counts without decay
    # are not kept by the engine, so "popular" is trending without a reason change when untimed).
    trending = engine.trending(size)
    rows = [
        RecommendationList(
            kind=TRENDING, key=GLOBAL_KEY, items=[_item(r, titles) for r in trending], engine_version=version
        ),
        RecommendationList(
            kind=POPULAR,
            key=GLOBAL_KEY,
            items=[{**_item(r, titles), "reason": POPULAR} for r in trending],
            engine_version=version,
        ),
    ]
    # Popular in each category: the engine's popularity restricted to the category's products.
    by_category: dict[int, set[str]] = defaultdict(set)
    names: dict[int, str] = {}
    for cid, pid, name in ProductCategory.objects.filter(product_id__in=product_ids).values_list(
        "category_id", "product_id", "category__name"
    ):
        by_category[cid].add(str(pid))
        names[cid] = name
    for cid, members in by_category.items():
        top = engine.trending(size, allowed=members)
        items = [{**_item(r, titles), "reason": POPULAR, "source": None, "source_title": names[cid]} for r in top]
        rows.append(RecommendationList(kind=CATEGORY, key=str(cid), items=items, engine_version=version))
    _save_lists(rows)
    written = len(rows)

    # Product neighbours: every product up to PRECOMPUTE_PRODUCTS, most interacted first.
    limit = int(setting("PRECOMPUTE_PRODUCTS"))
    chosen = product_ids
    if len(product_ids) > limit:
        counts: dict[str, int] = defaultdict(int)
        for history in histories.values():
            for item_id, *_ in history:
                counts[item_id] += 1
        chosen = sorted(product_ids, key=lambda p: -counts.get(str(p), 0))[:limit]
    iterator: Iterable[int] = range(0, len(chosen), 500)
    if progress:
        from tqdm import tqdm

        iterator = tqdm(iterator, desc="product lists", unit="x500")
    for start in iterator:
        batch = _product_rows(engine, chosen[start : start + 500], titles, version)
        _save_lists(batch)
        written += len(batch)
    serving.forget_product_lists(chosen)
    serving.forget_global_lists()

    # Customers and visitors active recently, computed and saved PROFILE_CHUNK at a time.
    cutoff = float(setting("ACTIVE_DAYS"))
    length = int(setting("HISTORY_LENGTH"))
    active = [o for o, h in histories.items() if h and h[-1][2] <= cutoff]
    profiles: Iterable[int] = range(0, len(active), PROFILE_CHUNK)
    if progress:
        from tqdm import tqdm

        profiles = tqdm(profiles, desc="personal lists", unit=f"x{PROFILE_CHUNK}")
    for start in profiles:
        rows = [
            _profile_row(engine, kind, key, histories[(kind, key)][-length:], titles, version)
            for kind, key in active[start : start + PROFILE_CHUNK]
        ]
        _save_lists(rows)
        written += len(rows)
    return {"lists": written, "products": len(chosen), "profiles": len(active)}


def _profile_row(engine: Any, kind: str, key: str, history: list, titles: dict[int, str], version: str) -> Any:
    recs = engine.recommend(
        [e[0] for e in history],
        int(setting("LIST_SIZE")),
        weights=[e[1] for e in history],
        diversity=setting("DIVERSITY"),
        exploration=setting("EXPLORATION"),
    )
    events = _strongest_events(history)
    return RecommendationList(
        kind=kind, key=key, items=[_item(r, titles, events) for r in recs], engine_version=version
    )


def refresh_profiles(owners: Iterable[tuple[str, str]]) -> int:
    """Recompute the lists of these customers/visitors from their latest events (seconds after them)."""
    engine = current_engine()
    if engine is None:
        from .history import schedule_fit

        schedule_fit("first")  # the fit computes every active list
        return 0
    owners = list(dict.fromkeys(owners))
    histories = {o: owner_history(*o) for o in owners}
    source_ids = {int(e[0]) for h in histories.values() for e in h}
    titles = dict(Product.objects.filter(pk__in=source_ids).values_list("pk", "title"))
    version = str(int(time.time()))
    rows = []
    for kind, key in owners:
        rows.append(_profile_row(engine, kind, key, histories[(kind, key)], _TitleLookup(titles), version))
    _save_lists(rows)
    return len(rows)


class _TitleLookup(dict):
    """Titles of history items, fetched lazily for sources outside the history (rare)."""

    def get(self, key: Any, default: Any = "") -> Any:  # type: ignore[override]
        if key not in self:
            self[key] = Product.objects.filter(pk=key).values_list("title", flat=True).first() or default
        return super().get(key, default)


def refresh_products(product_ids: Iterable[int]) -> int:
    """Neighbour lists for products a page asked about (new since the fit, or beyond the precompute limit)."""
    engine = current_engine()
    if engine is None:
        from .history import schedule_fit

        schedule_fit("first")
        return 0
    ids = [int(p) for p in product_ids]
    # A product list's sources are the product itself: its title is all the reasons need.
    titles = _TitleLookup(Product.objects.filter(pk__in=ids).values_list("pk", "title"))
    rows = _product_rows(engine, ids, titles, str(int(time.time())))
    _save_lists(rows)
    serving.forget_product_lists(ids)
    return len(rows)
