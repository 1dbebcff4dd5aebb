"""Reading precomputed lists: the process's memory, then the cache, then indexed queries.

Lists shared by everybody (a product's neighbours, its categories' best sellers, trending) are
cached; a miss costs one indexed query for any number of products (two for the category lists,
which a block reads only when its own candidates run short). A customer's own list is
read from its row each time (one indexed lookup), so a refresh written by a worker shows on the
very next page even when each process has its own cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.cache import cache
from oscar.core.loading import get_model

from ..models import RecommendationList
from . import memory
from .config import CATEGORY, GLOBAL_KEY, POPULAR, SIMILAR, TOGETHER, TRENDING, USER, VISITOR, setting

ProductCategory = get_model("catalogue", "ProductCategory")

Items = list[dict[str, Any]]


def product_cache_key(product_id: int) -> str:
    return f"oscar_llm:recs:product:{product_id}"


def category_cache_key(product_id: int) -> str:
    return f"oscar_llm:recs:product-categories:{product_id}"


GLOBAL_CACHE_KEY = "oscar_llm:recs:global"


def _empty_product_lists() -> dict[str, Any]:
    return {SIMILAR: [], TOGETHER: [], "_exists": False}


def product_lists(product_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """``{pid: {"similar": items, "together": items, "_exists": bool}}``: each product's own neighbours."""
    ids = [int(p) for p in dict.fromkeys(product_ids) if p]
    if not ids:
        return {}
    return memory.get_many("lists", ids, _shared_product_lists)


def _through_cache(ids: list[int], cache_key: Callable[[int], str], fetch: Callable[[list[int]], dict]) -> dict:
    """``{pid: value}`` from the shared cache; the ids it lacks from ``fetch(missing)``, then cached."""
    keys = {cache_key(pid): pid for pid in ids}
    result = {keys[k]: v for k, v in cache.get_many(list(keys)).items()}
    missing = [pid for pid in ids if pid not in result]
    if missing:
        fetched = fetch(missing)
        cache.set_many({cache_key(pid): v for pid, v in fetched.items()}, setting("CACHE_TIMEOUT"))
        result.update(fetched)
    return result


def _shared_product_lists(ids: list[int]) -> dict[int, dict[str, Any]]:
    return _through_cache(ids, product_cache_key, _fetch_product_lists)


def _fetch_product_lists(missing: list[int]) -> dict[int, dict[str, Any]]:
    fetched = {pid: _empty_product_lists() for pid in missing}
    rows = RecommendationList.objects.filter(
        kind__in=(SIMILAR, TOGETHER), key__in=[str(pid) for pid in missing]
    ).values_list("kind", "key", "items")
    for kind, key, items in rows:
        fetched[int(key)][kind] = list(items)
        fetched[int(key)]["_exists"] = True
    return fetched


def category_lists(product_ids: Iterable[int]) -> dict[int, Items]:
    """``{pid: items}``: the best sellers of each product's categories, a block's fallback (read
    only when a block's own candidates run short)."""
    ids = [int(p) for p in dict.fromkeys(product_ids) if p]
    if not ids:
        return {}
    return memory.get_many("categories", ids, _shared_category_lists)


def _shared_category_lists(ids: list[int]) -> dict[int, Items]:
    return _through_cache(ids, category_cache_key, _fetch_category_lists)


def _fetch_category_lists(missing: list[int]) -> dict[int, Items]:
    fetched: dict[int, Items] = {pid: [] for pid in missing}
    category_of: dict[str, list[int]] = {}
    for pid, cid in ProductCategory.objects.filter(product_id__in=missing).values_list("product_id", "category_id"):
        category_of.setdefault(str(cid), []).append(pid)
    if category_of:
        rows = RecommendationList.objects.filter(kind=CATEGORY, key__in=list(category_of))
        for key, items in rows.values_list("key", "items"):
            for pid in category_of.get(key, []):
                fetched[pid] = fetched[pid] + list(items)
    return fetched


def global_lists() -> dict[str, Items]:
    return memory.get("global", GLOBAL_KEY, _shared_global_lists)


def _shared_global_lists() -> dict[str, Items]:
    lists = cache.get(GLOBAL_CACHE_KEY)
    if lists is None:
        lists = {TRENDING: [], POPULAR: []}
        rows = RecommendationList.objects.filter(kind__in=(TRENDING, POPULAR), key=GLOBAL_KEY)
        for kind, items in rows.values_list("kind", "items"):
            lists[kind] = list(items)
        cache.set(GLOBAL_CACHE_KEY, lists, setting("CACHE_TIMEOUT"))
    return lists


def personal_list(*, user_id: int | None, visitor: str) -> Items:
    """The customer's own list (or the anonymous visitor's): one indexed query, not cached."""
    if user_id:
        kind, key = USER, str(user_id)
    elif visitor:
        kind, key = VISITOR, visitor
    else:
        return []
    row = RecommendationList.objects.filter(kind=kind, key=key).values_list("items", flat=True).first()
    return list(row or [])


def forget_product_lists(product_ids: Iterable[int]) -> None:
    ids = [int(p) for p in product_ids]
    cache.delete_many([product_cache_key(p) for p in ids] + [category_cache_key(p) for p in ids])
    memory.bump_lists_version()


def forget_global_lists() -> None:
    cache.delete(GLOBAL_CACHE_KEY)
    memory.bump_lists_version()
