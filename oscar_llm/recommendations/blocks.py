"""Storefront recommendation blocks: which products a block shows, ready for its template.

The template tag in ``templatetags/oscar_llm_recs.py`` calls :func:`render_block`; all
decisions (feature switch, the admin's per-block switch and size, caching, prefetching,
counting the impression, swallowing errors) live here so the tag stays a one-liner.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import prefetch_related_objects

from ..models import Feature, FeatureSwitch, RecommendationBlock
from . import tracking

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BlockItem:
    product: Any
    reason: str
    reason_text: str
    position: int


def render_block(block: str, *, request: Any = None, product: Any = None, basket: Any = None) -> str:
    """The block's HTML ("" when it is off, empty or failing), from the cache when its inputs
    have not changed (see ``block_cache``). Each render counts one impression. Never raises."""
    from django.template.loader import render_to_string

    from . import block_cache

    try:
        config = _config(block)
        if config is None:
            return ""
        shown = _shown(request)
        key = block_cache.block_key(block, config=config, request=request, product=product, basket=basket, shown=shown)
        cached = cache.get(key)
        if cached is None:
            data = _work_out(block, config, request=request, product=product, basket=basket, shown=shown)
            html, ids = "", []
            if data is not None:
                html = render_to_string("oscar_llm/recommendations/block.html", data, request)
                ids = [item.product.pk for item in data["items"]]
            cached = (html, ids)
            cache.set(key, cached, block_cache.BLOCK_CACHE_SECONDS)
        html, ids = cached
        if not html:
            return ""
        if not _experiment_shows(request, block, product):
            return ""
        if request is not None:
            request._oscar_llm_rec_shown = shown | set(ids)
        tracking.count_impression(block)
        return html
    except Exception:
        logger.exception("Recommendation block %s failed; the page is shown without it", block)
        return ""


def _experiment_shows(request: Any, block: str, product: Any) -> bool:
    """A running block experiment: count the exposure (the block would show), and show it unless this
    visitor's arm is the control, which sees the page without the block."""
    from ..experiments import assignment, exposures
    from ..models import Arm, Experiment

    arm = assignment.assign(request, Experiment.Kind.RECOMMENDATION_BLOCK, block=block, product=product)
    if arm is None:
        return True
    exposures.expose(request, arm, getattr(product, "pk", None))
    return arm.variant != Arm.Variant.HIDDEN


def _config(block: str) -> dict | None:
    if not FeatureSwitch.is_enabled(Feature.RECOMMENDATIONS):
        return None
    config = RecommendationBlock.configs().get(block)
    if not config or not config["enabled"]:
        return None
    return config


def _shown(request: Any) -> set[int]:
    """Products earlier blocks on this page show: a product is not repeated on one page."""
    return set(getattr(request, "_oscar_llm_rec_shown", set())) if request is not None else set()


def _work_out(block: str, config: dict, *, request: Any, product: Any, basket: Any, shown: set[int]) -> dict | None:
    from .services import block_items

    size = int(config["size"])
    # Ask for as many more as earlier blocks show, then drop those.
    user = getattr(request, "user", None) if request is not None else None
    items = block_items(block, request=request, user=user, product=product, basket=basket, limit=size + len(shown))
    items = [item for item in items if item.product.pk not in shown][:size]
    if not items:
        return None
    products = [item.product for item in items]
    # One query per relation for the whole block instead of one per item (image and price partials
    # read these). Products kept in memory (recommendations/memory.py) keep what an earlier block
    # fetched; only the others are fetched now (Django looks at the first product alone to decide
    # whether a relation is fetched, so a mixed list would cost one query per item).
    for relation in ("images", "stockrecords"):
        missing = [p for p in products if relation not in getattr(p, "_prefetched_objects_cache", {})]
        if missing:
            prefetch_related_objects(missing, relation)
    from .block_cache import generation

    return {
        "block": block,
        "title": config["title"],
        "generation": generation(),
        "items": [
            BlockItem(product=i.product, reason=i.reason, reason_text=i.reason_text, position=n)
            for n, i in enumerate(items, start=1)
        ],
    }
