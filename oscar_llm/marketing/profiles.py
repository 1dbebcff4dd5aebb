"""Customer profiles from the shop's orders and storefront events, computed by a worker job.

Recency, frequency and monetary value (with quintile scores), lifecycle (new, active, lapsing,
lapsed, or no order yet), price segment (the average price paid against the catalogue's median
price), category affinities (share of a customer's bought and viewed products in each category)
and basket abandoners (an open basket with lines, untouched for ``ABANDON_HOURS``, no order since).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Max, Min, Sum
from django.utils import timezone
from oscar.core.loading import get_model

from .. import jobs
from ..models import CustomerProfile, Interaction, Job, Lifecycle, PriceSegment
from ..settings import llm_settings

PROFILE_JOB = "marketing.profiles"
PROFILE_TARGET = "oscar_llm.customerprofile"


def config() -> dict[str, Any]:
    return llm_settings.MARKETING


def lifecycle(first_order: datetime | None, last_order: datetime | None, now: datetime) -> str:
    cfg = config()
    if last_order is None:
        return Lifecycle.PROSPECT
    if first_order and now - first_order <= timedelta(days=cfg["NEW_DAYS"]):
        return Lifecycle.NEW
    days = (now - last_order).days
    if days <= cfg["ACTIVE_DAYS"]:
        return Lifecycle.ACTIVE
    if days <= cfg["LAPSING_DAYS"]:
        return Lifecycle.LAPSING
    return Lifecycle.LAPSED


def _quintile(value: float, ordered: list[float]) -> int:
    """1..5: where ``value`` stands among ``ordered`` (ascending)."""
    if not ordered:
        return 0
    below = sum(1 for v in ordered if v < value)
    return min(5, 1 + (5 * below) // len(ordered))


def catalogue_median_price() -> Decimal | None:
    StockRecord = get_model("partner", "StockRecord")
    prices = [p for p in StockRecord.objects.values_list("price", flat=True) if p is not None]
    return Decimal(str(statistics.median(prices))) if prices else None


def compute_profiles(now: datetime | None = None) -> int:
    """Recompute every customer's profile; returns how many customers were profiled."""
    now = now or timezone.now()
    cfg = config()
    Order = get_model("order", "Order")
    Line = get_model("order", "Line")
    Basket = get_model("basket", "Basket")
    User = get_user_model()

    orders = {
        row["user"]: row
        for row in Order.objects.filter(user__isnull=False)
        .values("user")
        .annotate(n=Count("id"), total=Sum("total_incl_tax"), first=Min("date_placed"), last=Max("date_placed"))
    }
    paid: dict[int, list[Decimal]] = defaultdict(list)
    categories: dict[int, Counter[str]] = defaultdict(Counter)
    for user_id, price, category in Line.objects.filter(order__user__isnull=False).values_list(
        "order__user", "unit_price_incl_tax", "product__categories__name"
    ):
        if price is not None:
            paid[user_id].append(price)
        if category:
            categories[user_id][category] += 3  # a purchase says more than a view
    for user_id, category in Interaction.objects.filter(
        user__isnull=False, event__in=[Interaction.Event.VIEW, Interaction.Event.BASKET]
    ).values_list("user", "product__categories__name"):
        if category:
            categories[user_id][category] += 1

    abandon_before = now - timedelta(hours=cfg["ABANDON_HOURS"])
    abandon_after = now - timedelta(days=cfg["ABANDON_DAYS"])
    abandoners = set()
    for owner, created in (
        Basket.objects.filter(status=Basket.OPEN, owner__isnull=False, lines__isnull=False)
        .annotate(touched=Max("lines__date_updated"))
        .filter(touched__lte=abandon_before, touched__gte=abandon_after)
        .values_list("owner", "touched")
        .distinct()
    ):
        last = orders.get(owner, {}).get("last")
        if last is None or last < created:
            abandoners.add(owner)

    median = catalogue_median_price()
    recencies = sorted(-(now - o["last"]).days for o in orders.values())
    frequencies = sorted(float(o["n"]) for o in orders.values())
    monetaries = sorted(float(o["total"] or 0) for o in orders.values())

    profiled = 0
    with transaction.atomic():
        for user_id in User.objects.filter(is_active=True, is_staff=False).values_list("pk", flat=True):
            order = orders.get(user_id)
            price_segment = PriceSegment.UNKNOWN
            if median and paid.get(user_id):
                ratio = float(sum(paid[user_id]) / len(paid[user_id]) / median)
                if ratio < cfg["VALUE_RATIO"]:
                    price_segment = PriceSegment.VALUE
                elif ratio > cfg["PREMIUM_RATIO"]:
                    price_segment = PriceSegment.PREMIUM
                else:
                    price_segment = PriceSegment.MID
            counts = categories.get(user_id) or Counter()
            total = sum(counts.values())
            affinities = {name: round(n / total, 3) for name, n in counts.most_common(5)} if total else {}
            values: dict[str, Any] = {
                "recency_days": (now - order["last"]).days if order else None,
                "frequency": order["n"] if order else 0,
                "monetary": order["total"] or 0 if order else 0,
                "lifecycle": lifecycle(order and order["first"], order and order["last"], now),
                "price_segment": price_segment,
                "affinities": affinities,
                "abandoned_basket": user_id in abandoners,
                "computed_at": now,
                "rfm_score": "",
            }
            if order:
                values["rfm_score"] = "".join(
                    str(_quintile(v, ordered))
                    for v, ordered in (
                        (-(now - order["last"]).days, recencies),
                        (float(order["n"]), frequencies),
                        (float(order["total"] or 0), monetaries),
                    )
                )
            CustomerProfile.objects.update_or_create(user_id=user_id, defaults=values)
            profiled += 1
    return profiled


def request_profiles(*, send: bool = True) -> Job:
    """Ask a worker to recompute every profile (a new job each time: the data changed, not the input)."""
    job, _created = jobs.request(PROFILE_JOB, target_model=PROFILE_TARGET, target_id=0, send=send)
    return job


def run_profile_jobs(job_list: list[Job]) -> None:
    count = compute_profiles()
    for job in job_list:
        jobs.complete(job, {"profiles": count})
