"""The recommendation blocks' one read path, shared by the storefront, the REST API and the bench.

``block_items`` turns precomputed lists (written by workers, see ``precompute``) into the products
a block shows, applying every business rule in the query (``rules``). It never imports torch, never
raises into a page, and costs one or two indexed queries plus cache reads.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from oscar.core.loading import get_model

from ..interactions import visitor_key
from ..models import BlockCode
from . import memory, serving
from . import rules as rules_mod
from .config import POPULAR, SIMILAR, TOGETHER, TRENDING

logger = logging.getLogger(__name__)

Product = get_model("catalogue", "Product")

FOR_YOU = BlockCode.FOR_YOU
SIMILAR_BLOCK = BlockCode.SIMILAR
BASKET_COMPLETE = BlockCode.BASKET
BLOCKS: tuple[str, ...] = tuple(BlockCode.values)
# The reason shown for a product the shop owner pinned (not an engine reason).
PINNED = "pinned"

# At most this many products without precomputed neighbours are queued by one block (one request):
# a basket of ids chosen by a script must not turn into a job per id.
MAX_NEIGHBOUR_REQUESTS = 3

_EVENT_VERBS = {"view": "viewed", "basket": "added", "purchase": "bought", "click": "viewed", "search": "viewed"}


@dataclass(frozen=True)
class RecommendedItem:
    product: Any
    reason: str
    reason_text: str
    source_product_id: int | None
    score: float


def reason_text(reason: str, *, source_title: str = "", personal: bool = False, source_event: str = "") -> str:
    """A short sentence that is true of the signal that produced the item."""
    title = (source_title or "").strip()
    if reason == "similar":
        return f"Similar to {title}" if title else "Similar to items you looked at"
    if reason == "bought_with":
        return f"Often bought with {title}" if title else "Often bought together"
    if reason == "viewed_with":
        if title and personal:
            return f"Because you {_EVENT_VERBS.get(source_event, 'viewed')} {title}"
        return f"Customers who viewed {title} also viewed this" if title else "Often viewed together"
    if reason == "for_you":
        if title and source_event:
            return f"Because you {_EVENT_VERBS.get(source_event, 'viewed')} {title}"
        return "Based on your recent visits"
    if reason == "trending":
        return "Trending now"
    if reason == "popular":
        return f"Popular in {title}" if title else "Popular in our shop"
    if reason == PINNED:
        return "Picked by our team"
    return "Recommended for you"


def _user(request: Any, user: Any) -> Any:
    if user is None and request is not None:
        user = getattr(request, "user", None)
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def _basket_product_ids(basket: Any) -> list[int]:
    if basket is None or not getattr(basket, "id", None):
        return []
    ids: list[int] = []
    for line in basket.all_lines():
        ids.append(line.product_id)
        parent_id = getattr(line.product, "parent_id", None)
        if parent_id:
            ids.append(parent_id)
    return ids


def _tag(items: list[dict], *, personal: bool = False) -> list[tuple[dict, bool]]:
    return [(item, personal) for item in items]


def _candidates(
    block: str, *, user: Any, visitor: str, anchor_ids: list[int], product_id: int | None
) -> list[tuple[dict, bool]]:
    """A block's own candidates, from the precomputed lists, before any rule."""
    primary: list[tuple[dict, bool]] = []
    # "Recommended for you" reads the customer's own list only; the others their anchors' neighbours.
    lists = serving.product_lists(anchor_ids) if block != FOR_YOU else {}
    asked = 0

    def ask(pid: int) -> None:
        nonlocal asked
        if asked < MAX_NEIGHBOUR_REQUESTS:
            asked += 1
            _ask_for_neighbours(pid)

    if block == FOR_YOU:
        primary = _tag(serving.personal_list(user_id=user.pk if user else None, visitor=visitor), personal=True)
    elif block == SIMILAR_BLOCK and product_id:
        own = lists.get(product_id, {})
        primary = _tag(own.get(SIMILAR, [])) + _tag(own.get(TOGETHER, []))
        if not own.get("_exists"):
            ask(product_id)
    elif block == BASKET_COMPLETE:
        merged: dict[int, dict] = {}
        for pid in anchor_ids:
            own = lists.get(pid, {})
            if not own.get("_exists"):
                ask(pid)
            for item in own.get(TOGETHER, []) + own.get(SIMILAR, []):
                best = merged.get(item["id"])
                if best is None or item["score"] > best["score"]:
                    merged[item["id"]] = item
        primary = _tag(sorted(merged.values(), key=lambda i: -i["score"]))
    return primary


def _fallbacks(anchor_ids: list[int]) -> list[tuple[dict, bool]]:
    """Cold start and a short list: trending, then popular in the anchors' categories, then popular."""
    global_ = serving.global_lists()
    fallback = _tag(global_.get(TRENDING, []))
    for items in serving.category_lists(anchor_ids).values():
        fallback += _tag(items)
    return fallback + _tag(global_.get(POPULAR, []))


def _ask_for_neighbours(product_id: int) -> None:
    """A product without precomputed neighbours (new, or past PRECOMPUTE_PRODUCTS): queue them."""
    try:
        from .history import schedule_product_neighbours

        schedule_product_neighbours(product_id)
    except Exception:
        logger.warning("Could not queue neighbours for product %s", product_id, exc_info=True)


def block_items(
    block: str,
    *,
    request: Any = None,
    user: Any = None,
    visitor: str | None = None,
    product: Any = None,
    basket: Any = None,
    limit: int = 4,
    basket_product_ids: list[int] | None = None,
) -> list[RecommendedItem]:
    """The products ``block`` shows, best first, with every business rule applied. Never raises.

    ``basket_product_ids`` stands for a basket that is not an Oscar basket (the REST API's
    ``?products=``); otherwise the basket is ``basket`` or the request's.
    """
    try:
        return _block_items(
            block,
            request=request,
            user=user,
            visitor=visitor,
            product=product,
            basket=basket,
            limit=limit,
            basket_product_ids=basket_product_ids,
        )
    except Exception:
        logger.exception("Recommendations for block %s failed; showing none", block)
        return []


def _block_items(
    block: str,
    *,
    request: Any,
    user: Any,
    visitor: str | None,
    product: Any,
    basket: Any,
    limit: int,
    basket_product_ids: list[int] | None,
) -> list[RecommendedItem]:
    if block not in BLOCKS:
        raise ValueError(f"Unknown recommendation block {block!r}; choose one of {', '.join(BLOCKS)}")
    limit = max(0, int(limit))
    if limit == 0:
        return []
    memory.current()
    user = _user(request, user)
    if visitor is None:
        visitor = visitor_key(request) if request is not None else ""
    if basket_product_ids is not None:
        # Ids from outside (the API's ?products=): only existing public products are a basket.
        wanted = list(dict.fromkeys(int(p) for p in basket_product_ids))
        public = memory.get_many("public", wanted, _public)
        basket_ids = [pid for pid in wanted if public[pid]]
    else:
        if basket is None and request is not None:
            basket = getattr(request, "basket", None)
        basket_ids = _basket_product_ids(basket)
    product_id = None
    exclude: set[int] = set(basket_ids)
    if product is not None:
        product_id = product.parent_id or product.pk
        exclude |= {product.pk, product_id}

    anchor_ids = list(dict.fromkeys(basket_ids)) if block == BASKET_COMPLETE else ([product_id] if product_id else [])
    primary = _candidates(block, user=user, visitor=visitor, anchor_ids=anchor_ids, product_id=product_id)
    rules = rules_mod.rules_for(block)
    boosted = [
        ({**item, "score": float(item["score"]) * rules.boosts.get(item["id"], 1.0)}, personal)
        for item, personal in primary
    ]
    boosted.sort(key=lambda pair: -pair[0]["score"])
    ordered: dict[int, tuple[dict, bool]] = {}
    for pid in rules.pins:
        ordered.setdefault(pid, ({"id": pid, "score": 0.0, "reason": PINNED}, False))
    for item, personal in boosted:
        ordered.setdefault(int(item["id"]), (item, personal))
    need = limit + 2  # a spare or two for the strategy check below
    # What is ruled out whatever the stock (the page's product, the basket, purchases, exclusions).
    out = rules_mod.ruled_out(rules=rules, user=user, exclude_ids=exclude)
    chosen_ids = _allowed_in_order(list(ordered), need, rules=rules, out=out)
    if len(chosen_ids) < need:
        # The fallbacks come after the block's own candidates, so they are read only when those run short.
        added = []
        for item, personal in _fallbacks(anchor_ids):
            pid = int(item["id"])
            if pid not in ordered:
                ordered[pid] = (item, personal)
                added.append(pid)
        chosen_ids += _allowed_in_order(added, need - len(chosen_ids), rules=rules, out=out)
    chosen = [(pid, ordered[pid]) for pid in chosen_ids]
    if not chosen:
        return []
    # Stock records come with the products: the strategy check below and the block's price
    # partial both read them. Kept in memory until a product or stock record changes.
    by_id = rules_mod.product_rows([pid for pid, _ in chosen])
    strategy = getattr(request, "strategy", None) if request is not None else None
    result: list[RecommendedItem] = []
    for pid, (item, personal) in chosen:
        product_obj = by_id.get(pid)
        if product_obj is None or not _strategy_allows(strategy, product_obj):
            continue
        source = item.get("source")
        result.append(
            RecommendedItem(
                product=product_obj,
                reason=item["reason"],
                reason_text=reason_text(
                    item["reason"],
                    source_title=item.get("source_title", ""),
                    personal=personal,
                    source_event=item.get("source_event", ""),
                ),
                source_product_id=int(source) if source else None,
                score=float(item.get("score") or 0.0),
            )
        )
        if len(result) >= limit:
            break
    return result


def _allowed_in_order(ids: list[int], need: int, *, rules: Any, out: set[int]) -> list[int]:
    """The first ``need`` of ``ids`` (in their order) the rules allow, checking a few at a time: a
    cold process asks the database about the candidates it may show, not about every one."""
    # What is ruled out whatever the stock goes first, so the rows read are those of products that may be shown.
    ids = [pid for pid in ids if pid not in out]
    found: list[int] = []
    start, step = 0, max(4, need)
    while start < len(ids) and len(found) < need:
        chunk = ids[start : start + step]
        allowed = rules_mod.allowed_ids(chunk, rules=rules, out=out)
        found += [pid for pid in chunk if pid in allowed]
        start += step
        step *= 2
    return found[:need]


def _public(ids: list[int]) -> dict[int, bool]:
    found = set(Product.objects.filter(pk__in=ids, is_public=True).values_list("pk", flat=True))
    return {pid: pid in found for pid in ids}


def _strategy_allows(strategy: Any, product: Any) -> bool:
    """The shop's own strategy has the last word on a standalone product (the SQL rule mirrors
    Oscar's default strategy; a shop with a custom one is still obeyed)."""
    if strategy is None or product.is_parent:
        return True
    try:
        return bool(strategy.fetch_for_product(product).availability.is_available_to_buy)
    except Exception:
        logger.warning("Strategy check failed for product %s", product.pk, exc_info=True)
        return False
