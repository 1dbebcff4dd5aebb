"""Business rules, applied in the query when a block is read (never by the model).

The model ranks; these decide what may be shown at all: public, available to buy (stock),
not bought already (configurable), not in the basket, not the product on screen, the shop
owner's product and category rules. They are applied to the candidate ids in one SQL query,
so a rule changed in admin takes effect on the next request, whatever the precomputed lists say.
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


def _in_categories(paths: Iterable[str]) -> Exists:
    """The product is in one of these categories or below them (treebeard paths)."""
    under = Q()
    for path in paths:
        under |= Q(category__path__startswith=path)
    return Exists(ProductCategory.objects.filter(under, product_id=OuterRef("pk")))


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


def allowed_ids(
    candidate_ids: Iterable[int],
    *,
    rules: BlockRules,
    user: Any = None,
    exclude_ids: Iterable[int] = (),
) -> set[int]:
    """The subset of ``candidate_ids`` a block may show: one query."""
    ids = set(candidate_ids) - set(exclude_ids) - rules.excluded
    if not ids:
        return set()
    qs = Product.objects.filter(pk__in=ids, is_public=True).exclude(structure=Product.CHILD)
    qs = qs.filter(available_to_buy())
    if rules.include_paths:
        qs = qs.filter(_in_categories(rules.include_paths))
    if rules.exclude_paths:
        qs = qs.exclude(_in_categories(rules.exclude_paths))
    if setting("EXCLUDE_PURCHASED") and user is not None and getattr(user, "is_authenticated", False):
        lines = Line.objects.filter(order__user_id=user.pk)
        qs = qs.exclude(Exists(lines.filter(product_id=OuterRef("pk"))))
        qs = qs.exclude(Exists(lines.filter(product__parent_id=OuterRef("pk"))))
    return set(qs.order_by().values_list("pk", flat=True))
