"""Interaction rows from storefront signals. Never raises into the request."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .models import Interaction

logger = logging.getLogger(__name__)

EVENT_WEIGHTS = {"view": 1.0, "basket": 3.0, "purchase": 5.0, "search": 0.5, "click": 1.0}


def record(request: Any, user: Any, product: Any, event: str, *, weight: float | None = None, query: str = "") -> None:
    try:
        from .models import Feature, FeatureSwitch

        if not (FeatureSwitch.is_enabled(Feature.RECOMMENDATIONS) or FeatureSwitch.is_enabled(Feature.PRODUCT_COPY)):
            return
        authenticated = bool(user and getattr(user, "is_authenticated", False))
        visitor = ""
        if request is not None and not authenticated:
            from .recommendations.services import visitor_key

            # A visitor id in the session *data* (not the session key, which Django cycles at
            # login): no extra write here, and the history can join the account at login.
            visitor = visitor_key(request, create=True)
        row = {
            "user_id": user.pk if authenticated else None,
            "session_key": visitor,
            "product_id": getattr(product, "pk", None),
            "event": event,
            "weight": EVENT_WEIGHTS.get(event, 1.0) * (weight or 1.0),
            "query": (query or "")[:255],
            "created_at": timezone.now().isoformat(),
        }
        if request is None:
            # Not a page view (an order being placed, a command): write now, in order.
            save([row])
        else:
            dispatch([row])
    except Exception:
        logger.exception("Could not record a %s event", event)


def dispatch(rows: list[dict[str, Any]]) -> None:
    """Hand events to a worker (one broker message, no database write in the request).

    With ``RECOMMENDATIONS["ASYNC_EVENTS"]`` off, or when the broker is down, they are written here.
    """
    from .settings import llm_settings

    if llm_settings.RECOMMENDATIONS.get("ASYNC_EVENTS", True):
        try:
            from .tasks import record_interactions

            record_interactions.apply_async((rows,))
            return
        except Exception:
            logger.warning("Could not queue %d events; writing them now", len(rows), exc_info=True)
    save(rows)


def save(rows: Iterable[dict[str, Any]]) -> int:
    """Write event rows, then queue a (debounced) list refresh for each customer or visitor in them."""
    from .models import Feature, FeatureSwitch

    objects = []
    for row in rows:
        created = parse_datetime(row["created_at"]) if row.get("created_at") else None
        objects.append(
            Interaction(
                user_id=row.get("user_id"),
                session_key=row.get("session_key") or "",
                product_id=row.get("product_id"),
                event=row["event"],
                weight=float(row.get("weight") or 1.0),
                query=(row.get("query") or "")[:255],
                created_at=created or timezone.now(),
            )
        )
    if not objects:
        return 0
    Interaction.objects.bulk_create(objects)
    if FeatureSwitch.is_enabled(Feature.RECOMMENDATIONS):
        from .recommendations.history import schedule_profile_refresh

        owners = {(o.user_id, "" if o.user_id else o.session_key) for o in objects if o.product_id}
        for user_id, visitor in owners:
            try:
                schedule_profile_refresh(user_id=user_id, visitor=visitor)
            except Exception:
                # The events are saved (a retry would duplicate them); the hourly fit catches up.
                logger.warning("Could not queue a list refresh for %s", user_id or visitor, exc_info=True)
    return len(objects)
