"""Customer segments, derived from what a customer browses and buys.

A customer whose viewed, basketed and bought products are priced well below
the catalogue's median is a "value" shopper; well above it, "premium";
anything else (and every anonymous visitor) gets the default copy.
"""

from __future__ import annotations

import statistics
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Avg
from oscar.core.loading import get_model

from ..models import CustomerSegment, Interaction
from ..settings import llm_settings

DEFAULT_SEGMENT = "default"
EVENT_WEIGHTS = {"view": 1.0, "basket": 3.0, "purchase": 5.0, "click": 1.0}
SESSION_KEY = "oscar_llm_segment"


def segment_names() -> list[str]:
    return list(llm_settings.SEGMENTS)


def _catalogue_median_price() -> float | None:
    StockRecord = get_model("partner", "StockRecord")
    prices = list(StockRecord.objects.values_list("price", flat=True)[:20000])
    prices = [float(p) for p in prices if p is not None]
    return statistics.median(prices) if prices else None


def compute_segment(user: Any, median: float | None = None) -> str:
    """The segment a customer's history puts them in."""
    median = median if median is not None else _catalogue_median_price()
    names = segment_names()
    if not median:
        return DEFAULT_SEGMENT
    total = weight = 0.0
    rows = (
        Interaction.objects.filter(user=user, product__isnull=False)
        .exclude(event="search")
        .values("product_id", "event")
        .annotate(price=Avg("product__stockrecords__price"))
        .order_by()
    )
    for row in rows:
        if row["price"] is None:
            continue
        w = EVENT_WEIGHTS.get(row["event"], 1.0)
        total += float(row["price"]) * w
        weight += w
    if weight < 3:  # too little history to say
        return DEFAULT_SEGMENT
    ratio = (total / weight) / median
    if ratio <= 0.8 and "value" in names:
        return "value"
    if ratio >= 1.25 and "premium" in names:
        return "premium"
    return DEFAULT_SEGMENT


def refresh_segments(users: Any = None) -> int:
    """Recompute and store segments; returns how many customers were updated."""
    median = _catalogue_median_price()
    if users is None:
        user_ids = Interaction.objects.filter(user__isnull=False).values_list("user_id", flat=True).distinct()
        users = get_user_model().objects.filter(pk__in=user_ids)
    count = 0
    for user in users:
        segment = compute_segment(user, median)
        CustomerSegment.objects.update_or_create(user=user, defaults={"segment": segment})
        count += 1
    return count


def segment_for_request(request: Any) -> str:
    """The segment whose copy this visitor sees. Cheap: at most one query per session."""
    from ..adapter import get_adapter

    chosen = get_adapter().segment_for_request(request)
    if chosen:
        return chosen
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return DEFAULT_SEGMENT
    session = getattr(request, "session", None)
    if session is not None and SESSION_KEY in session:
        return session[SESSION_KEY]
    segment = CustomerSegment.objects.filter(user=user).values_list("segment", flat=True).first() or DEFAULT_SEGMENT
    if session is not None:
        session[SESSION_KEY] = segment
    return segment
