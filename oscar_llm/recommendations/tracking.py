"""How recommendation blocks perform: impressions, clicks and basket additions per block and day.

Impressions happen on every page view, so they are counted in the cache (one ``incr``)
and moved into :class:`~oscar_llm.models.RecommendationStat` rows in bulk: by the
periodic task, before the dashboard reads them, and by the process itself at most once
a minute (with a per-process cache such as LocMemCache no other process can see its
counters). Clicks arrive through a beacon and are rare, so they go straight to the row
with an ``F()`` update. A basket addition counts for a block when the customer clicked
that product in that block, in this session, within ``ATTRIBUTION_MINUTES``.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .. import limits
from ..models import BlockCode, Feature, FeatureSwitch, RecommendationBlock, RecommendationStat

logger = logging.getLogger(__name__)

BLOCK_CODES: tuple[str, ...] = tuple(BlockCode.values)
# A click leads to a basket addition "from a recommendation" if it happens within this time.
ATTRIBUTION_MINUTES = 30
SESSION_KEY = "oscar_llm_rec_clicks"
# Counters left in the cache for days the flush has not seen yet are still collected.
FLUSH_DAYS_BACK = 2
FLUSH_EVERY_SECONDS = 60.0
FLUSH_AT_COUNT = 500

_flush_lock = threading.Lock()
_last_flush = time.monotonic()


def _counter_key(block: str, day: datetime.date) -> str:
    return f"oscar_llm:recstat:{day.isoformat()}:{block}:impressions"


def _bump(block: str, day: datetime.date, **counts: int) -> None:
    """Add ``counts`` to the (block, day) row, creating it on the first event of the day."""
    updates = {field: F(field) + n for field, n in counts.items() if n}
    if not updates:
        return
    if RecommendationStat.objects.filter(block=block, day=day).update(**updates):
        return
    try:
        with transaction.atomic():
            RecommendationStat.objects.create(block=block, day=day, **counts)
    except IntegrityError:
        # Another process created the row between our update and insert.
        RecommendationStat.objects.filter(block=block, day=day).update(**updates)


def count_impression(block: str) -> None:
    """One render of ``block`` with at least one product. Cheap: one cache operation."""
    global _last_flush
    key = _counter_key(block, timezone.localdate())
    try:
        count = cache.incr(key)
    except ValueError:
        # First impression of the day; another process may have added it meanwhile.
        count = 1 if cache.add(key, 1, timeout=None) else cache.incr(key)
    if count >= FLUSH_AT_COUNT or time.monotonic() - _last_flush >= FLUSH_EVERY_SECONDS:
        flush_impressions()


def flush_impressions() -> int:
    """Move the impression counters from the cache into the daily rows; returns how many moved."""
    global _last_flush
    moved = 0
    with _flush_lock:
        _last_flush = time.monotonic()
        today = timezone.localdate()
        for back in range(FLUSH_DAYS_BACK + 1):
            day = today - datetime.timedelta(days=back)
            for block in BLOCK_CODES:
                key = _counter_key(block, day)
                pending = cache.get(key) or 0
                if not pending:
                    continue
                # Subtract what we take (not set to 0) so increments made meanwhile survive.
                cache.decr(key, pending)
                _bump(block, day, impressions=pending)
                moved += pending
    return moved


# The action the click beacon counts in ``oscar_llm.limits`` (per customer, else per client address).
CLICK_LIMIT = "recommendations.click"


class InvalidClick(ValueError):
    """The beacon named a block or product that does not exist."""


def record_click(request: Any, block: str, product_id: Any) -> None:
    """A customer clicked ``product_id`` in ``block``: count it, log the event, remember it.

    Raises :class:`InvalidClick` for an unknown block or product (or one that is not public), so the
    endpoint can say so; nothing is written in that case. The caller counts the click against
    ``OSCAR_LLM["RATE_LIMITS"]["recommendations.click"]`` first (:data:`CLICK_LIMIT`).
    """
    from oscar.core.loading import get_model

    from .. import interactions
    from ..experiments import outcomes as experiment_outcomes

    if block not in BLOCK_CODES:
        raise InvalidClick(f"unknown block {block!r}")
    limits.hit(CLICK_LIMIT, limits.key_for(request))
    try:
        pk = int(product_id)
    except (TypeError, ValueError) as exc:
        raise InvalidClick(f"bad product id {product_id!r}") from exc
    # Only a product a customer can see counts: any other id gets the same answer as one that does not
    # exist, so the beacon tells nobody which hidden products there are.
    product = get_model("catalogue", "Product").objects.filter(pk=pk, is_public=True).first()
    if product is None:
        raise InvalidClick(f"no product {pk}")
    if not FeatureSwitch.is_enabled(Feature.RECOMMENDATIONS):
        return
    _bump(block, timezone.localdate(), clicks=1)
    interactions.record(request, request.user, product, "click")
    experiment_outcomes.record_click(request, block)
    clicks = dict(request.session.get(SESSION_KEY) or {})
    clicks[str(pk)] = [block, time.time()]
    # Keep the session small: only clicks that can still be attributed.
    horizon = time.time() - ATTRIBUTION_MINUTES * 60
    request.session[SESSION_KEY] = {k: v for k, v in clicks.items() if v[1] >= horizon}


def attribute_basket_addition(request: Any, product: Any) -> str | None:
    """Count a basket addition for the block whose click led here; returns that block."""
    if request is None or getattr(request, "session", None) is None or product is None:
        return None
    clicks = request.session.get(SESSION_KEY) or {}
    entry = clicks.get(str(product.pk))
    if not entry:
        return None
    block, clicked_at = entry
    remaining = {k: v for k, v in clicks.items() if k != str(product.pk)}
    request.session[SESSION_KEY] = remaining
    if time.time() - clicked_at > ATTRIBUTION_MINUTES * 60 or block not in BLOCK_CODES:
        return None
    _bump(block, timezone.localdate(), basket_additions=1)
    return block


def on_basket_addition(sender: Any, product: Any, user: Any, request: Any = None, **kwargs: Any) -> None:
    try:
        attribute_basket_addition(request, product)
    except Exception:
        logger.exception("Could not attribute a basket addition to a recommendation block")


def stats_table(start: datetime.date, end: datetime.date) -> dict[str, Any]:
    """Rows per day and block plus totals per block, for the dashboard (impressions flushed first)."""
    flush_impressions()
    configs = RecommendationBlock.configs()
    rows = list(RecommendationStat.objects.filter(day__gte=start, day__lte=end).order_by("-day", "block"))
    totals: dict[str, dict[str, Any]] = {}
    for code in BLOCK_CODES:
        totals[code] = {
            "block": code,
            "title": configs.get(code, {}).get("title", code),
            "enabled": configs.get(code, {}).get("enabled", False),
            "size": configs.get(code, {}).get("size", 0),
            "impressions": 0,
            "clicks": 0,
            "basket_additions": 0,
        }
    for row in rows:
        total = totals.setdefault(
            row.block,
            {
                "block": row.block,
                "title": row.block,
                "enabled": False,
                "size": 0,
                "impressions": 0,
                "clicks": 0,
                "basket_additions": 0,
            },
        )
        total["impressions"] += row.impressions
        total["clicks"] += row.clicks
        total["basket_additions"] += row.basket_additions
        row.title = total["title"]
    for total in totals.values():
        total["ctr"] = total["clicks"] / total["impressions"] if total["impressions"] else None
    return {"rows": rows, "totals": list(totals.values())}
