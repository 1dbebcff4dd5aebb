"""Outcomes: what exposed visitors did next, from Oscar's own signals and the recommendation clicks.

- ``basket_addition`` (Oscar): counts for a product copy experiment when the product's copy was shown
  to this visitor, for a block experiment whenever the visitor was exposed.
- ``post_checkout`` (Oscar's checkout, with the request): an order; its revenue is the sum of the order
  lines of the exposed products (block experiments: the whole order).
- a recommendation block click (the recommendations feature calls :func:`record_click`).
- a login: the account keeps the visitor's key (:func:`on_login`), so later orders count too.

Only running experiments and visitors already exposed count; anything else is ignored. The exposure
buffer is flushed first so a visitor who buys right after their first page is found. Never raises.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from django.db.models import F, Q
from django.utils import timezone

from ..models import Experiment, ExperimentExposure
from . import assignment, exposures

logger = logging.getLogger(__name__)


def _rows(request: Any, user: Any = None) -> list[ExperimentExposure]:
    unit = assignment.unit_key(request, create=False) if request is not None else ""
    user_id = getattr(user, "pk", None) if user is not None and getattr(user, "is_authenticated", False) else None
    if not unit and not user_id:
        return []
    exposures.flush()
    match = Q(unit=unit) if unit else Q()
    if user_id:
        match = match | Q(user_id=user_id) if unit else Q(user_id=user_id)
    return list(
        ExperimentExposure.objects.filter(match, experiment__status=Experiment.Status.RUNNING).select_related(
            "experiment"
        )
    )


def _relevant(row: ExperimentExposure, product_id: int | None) -> bool:
    if row.experiment.kind == Experiment.Kind.PRODUCT_COPY:
        return product_id is not None and product_id in (row.product_ids or [])
    return True


def _converted(row: ExperimentExposure, metric: str) -> dict[str, Any]:
    """Set ``converted_at`` the first time the experiment's primary metric happens."""
    if row.converted_at is None and row.experiment.primary_metric == metric:
        return {"converted_at": timezone.now()}
    return {}


def on_basket_addition(sender: Any, product: Any, user: Any, request: Any = None, **kwargs: Any) -> None:
    try:
        for row in _rows(request, user):
            if _relevant(row, getattr(product, "pk", None)):
                ExperimentExposure.objects.filter(pk=row.pk).update(
                    basket_additions=F("basket_additions") + 1, **_converted(row, Experiment.Metric.BASKET)
                )
    except Exception:
        logger.exception("Could not count a basket addition for the experiments")


def on_order(sender: Any, order: Any, user: Any = None, request: Any = None, **kwargs: Any) -> None:
    try:
        rows = _rows(request, user or getattr(order, "user", None))
        if not rows:
            return
        lines = [(line.product_id, line.line_price_incl_tax or Decimal(0)) for line in order.lines.all()]
        for row in rows:
            if row.experiment.kind == Experiment.Kind.PRODUCT_COPY:
                revenue = sum((p for pid, p in lines if pid in (row.product_ids or [])), Decimal(0))
                if not any(pid in (row.product_ids or []) for pid, _p in lines):
                    continue
            else:
                revenue = sum((p for _pid, p in lines), Decimal(0))
            changes = {**_converted(row, Experiment.Metric.ORDER), **_converted(row, Experiment.Metric.REVENUE)}
            ExperimentExposure.objects.filter(pk=row.pk).update(
                orders=F("orders") + 1, revenue=F("revenue") + revenue, **changes
            )
    except Exception:
        logger.exception("Could not count an order for the experiments")


def record_click(request: Any, block: str) -> None:
    """A click in recommendation ``block`` by this visitor (called by the recommendations feature)."""
    try:
        for row in _rows(request, getattr(request, "user", None)):
            if row.experiment.kind == Experiment.Kind.RECOMMENDATION_BLOCK and row.experiment.block == block:
                ExperimentExposure.objects.filter(pk=row.pk).update(
                    clicks=F("clicks") + 1, **_converted(row, Experiment.Metric.CLICK)
                )
    except Exception:
        logger.exception("Could not count a block click for the experiments")


def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """The account keeps its first key; the visitor's exposures so far are the customer's."""
    try:
        if request is None or getattr(request, "session", None) is None:
            return
        request.session.pop(assignment.UNIT_SESSION_KEY, None)
        visitor = assignment.unit_key(request, create=False)  # the account's key now (created from the visitor's)
        from .. import interactions

        anonymous = interactions.visitor_key(request)
        units = {u for u in (visitor, anonymous) if u}
        if units:
            ExperimentExposure.objects.filter(unit__in=units, user__isnull=True).update(user=user)
    except Exception:
        logger.exception("Could not keep the experiment key of user %s", getattr(user, "pk", None))


def connect_receivers() -> None:
    from django.contrib.auth.signals import user_logged_in
    from oscar.core.loading import get_class

    get_class("basket.signals", "basket_addition").connect(on_basket_addition, dispatch_uid="oscar_llm_xp_basket")
    get_class("checkout.signals", "post_checkout").connect(on_order, dispatch_uid="oscar_llm_xp_order")
    user_logged_in.connect(on_login, dispatch_uid="oscar_llm_xp_login")
