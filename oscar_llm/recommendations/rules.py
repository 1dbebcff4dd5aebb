"""Business rules, applied when a block is read (never by the model).

The model ranks; these decide what may be shown at all: public, available to buy (stock),
not bought already (configurable), not in the basket, not the product on screen, the shop
owner's product and category rules. What each product is (public, a variant, available to buy,
its categories) and what each customer bought is worked out from the candidates' rows (or SQL)
for the candidates the process has not seen yet and then kept in memory (:mod:`.memory`) until a product, stock record,
order or rule changes, so a rule changed in admin takes effect on the next request, whatever the
precomputed lists say.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce
from oscar.core.loading import get_model

from ..models import RECOMMENDATION_RULES_CACHE_KEY as RULES_CACHE_KEY
from ..models import RecommendationRule
from . import memory
from .config import setting

Product = get_model("catalogue", "Product")
ProductCategory = get_model("catalogue", "ProductCategory")
StockRecord = get_model("partner", "StockRecord")
Line = get_model("order", "Line")


@dataclass
class BlockRules:
    """The active shop-owner rules for one block (rules for every block included)."""

    pins: list[int] = field(default_factory=list)
    boosts: dict[int, float] = field(default_factory=dict)
    excluded: set[int] = field(default_factory=set)
    include_paths: list[str] = field(default_factory=list)
    exclude_paths: list[str] = field(default_factory=list)


def _load_rules() -> list[dict[str, Any]]:
    return memory.get("rules", "rows", _shared_rules)


def _shared_rules() -> list[dict[str, Any]]:
    rows = cache.get(RULES_CACHE_KEY)
    if rows is None:
        rows = list(
            RecommendationRule.objects.filter(active=True)
            .order_by("position", "pk")
            .values("block", "action", "product_id", "category__path", "boost")
        )
        cache.set(RULES_CACHE_KEY, rows, 60)
    return rows


def rules_for(block: str) -> BlockRules:
    rules = BlockRules()
    for row in _load_rules():
        if row["block"] not in ("", block):
            continue
        action, pid = row["action"], row["product_id"]
        if action == RecommendationRule.Action.PIN and pid and pid not in rules.pins:
            rules.pins.append(pid)
        elif action == RecommendationRule.Action.BOOST and pid:
            rules.boosts[pid] = rules.boosts.get(pid, 1.0) * float(row["boost"])
        elif action == RecommendationRule.Action.EXCLUDE and pid:
            rules.excluded.add(pid)
        elif action == RecommendationRule.Action.INCLUDE_CATEGORY and row["category__path"]:
            rules.include_paths.append(row["category__path"])
        elif action == RecommendationRule.Action.EXCLUDE_CATEGORY and row["category__path"]:
            rules.exclude_paths.append(row["category__path"])
    return rules


def available_to_buy() -> Q:
    """Oscar's default strategy in SQL (StockRequired): a stock record with net stock > 0, or any
    stock record when the product class does not track stock. A parent counts through its children.

    Each branch is its own EXISTS on an indexed column (an OR inside one EXISTS makes the database
    scan every stock record).
    """
    net_positive = Q(num_in_stock__isnull=True) | Q(num_in_stock__gt=Coalesce(F("num_allocated"), 0))
    own = StockRecord.objects.filter(product_id=OuterRef("pk"))
    child = StockRecord.objects.filter(product__parent_id=OuterRef("pk"))
    in_stock = Exists(own.filter(net_positive)) | (Q(structure=Product.PARENT) & Exists(child.filter(net_positive)))
    untracked = Q(product_class__track_stock=False) & (Exists(own) | Q(structure=Product.PARENT) & Exists(child))
    return in_stock | untracked


def product_rows(ids: list[int]) -> dict[int, Any]:
    """``{pid: product or None}`` with their class and stock records, from memory; the ones it
    lacks in two queries for any number (the block's price partial and the strategy read them too)."""
    return memory.get_many("products", ids, _product_rows)


def _product_rows(ids: list[int]) -> dict[int, Any]:
    # No join for "parent": a block never shows a variant, and a product without one reads None for free.
    products = Product.objects.filter(pk__in=ids).select_related("product_class").prefetch_related("stockrecords")
    found = {p.pk: p for p in products}
    return {pid: found.get(pid) for pid in ids}


def _in_stock(product: Any) -> bool:
    """:func:`available_to_buy` for a standalone product whose stock records are at hand."""
    records = list(product.stockrecords.all())
    if any(r.num_in_stock is None or r.num_in_stock > (r.num_allocated or 0) for r in records):
        return True
    return bool(records) and product.product_class is not None and not product.product_class.track_stock


def _showable(ids: list[int]) -> dict[int, bool]:
    """Public, not a variant, available to buy. A standalone product is judged from its row and stock
    records (which the block shows anyway, so they are read once); a parent, through its children,
    by one query."""
    rows = product_rows(ids)
    showable: dict[int, bool] = {}
    parents = []
    for pid in ids:
        product = rows[pid]
        if product is None or not product.is_public or product.structure == Product.CHILD:
            showable[pid] = False
        elif product.structure == Product.PARENT:
            parents.append(pid)
        else:
            showable[pid] = _in_stock(product)
    if parents:
        found = set(Product.objects.filter(pk__in=parents).filter(available_to_buy()).values_list("pk", flat=True))
        showable.update({pid: pid in found for pid in parents})
    return showable


def _category_paths(ids: list[int]) -> dict[int, tuple[str, ...]]:
    paths: dict[int, list[str]] = {pid: [] for pid in ids}
    for pid, path in ProductCategory.objects.filter(product_id__in=ids).values_list("product_id", "category__path"):
        paths[pid].append(path)
    return {pid: tuple(found) for pid, found in paths.items()}


def _purchased(user_ids: list[int]) -> dict[int, frozenset[int]]:
    """The products (and their parents) each customer has ordered."""
    bought: dict[int, set[int]] = {uid: set() for uid in user_ids}
    rows = Line.objects.filter(order__user_id__in=user_ids).values_list(
        "order__user_id", "product_id", "product__parent_id"
    )
    for uid, pid, parent_id in rows:
        bought[uid].update(p for p in (pid, parent_id) if p)
    return {uid: frozenset(found) for uid, found in bought.items()}


def _under(paths: tuple[str, ...], prefixes: list[str]) -> bool:
    return any(path.startswith(prefix) for path in paths for prefix in prefixes)


def allowed_ids(candidate_ids: Iterable[int], *, rules: BlockRules, out: set[int]) -> set[int]:
    """The subset of ``candidate_ids`` a block may show (from memory; SQL for what it lacks); ``out`` is
    what :func:`ruled_out` says for this customer and page, worked out once per block."""
    ids = set(candidate_ids) - out
    if not ids:
        return set()
    showable = memory.get_many("facts", sorted(ids), _showable)
    ids = {pid for pid in ids if showable[pid]}
    if ids and (rules.include_paths or rules.exclude_paths):
        paths = memory.get_many("paths", sorted(ids), _category_paths)
        if rules.include_paths:
            ids = {pid for pid in ids if _under(paths[pid], rules.include_paths)}
        if rules.exclude_paths:
            ids = {pid for pid in ids if not _under(paths[pid], rules.exclude_paths)}
    return ids


def ruled_out(*, rules: BlockRules, user: Any = None, exclude_ids: Iterable[int] = ()) -> set[int]:
    """Products no block may show to this customer whatever their stock: excluded by a rule, on the
    page or in the basket (``exclude_ids``), or already bought (``EXCLUDE_PURCHASED``)."""
    out = set(exclude_ids) | rules.excluded
    if setting("EXCLUDE_PURCHASED") and user is not None and getattr(user, "is_authenticated", False):
        out |= memory.get_many("purchased", [user.pk], _purchased)[user.pk]
    return out
