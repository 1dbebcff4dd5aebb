"""Interaction rows from storefront signals. Never raises into the request."""

from __future__ import annotations

import logging
from typing import Any

from .models import Interaction

logger = logging.getLogger(__name__)

EVENT_WEIGHTS = {"view": 1.0, "basket": 3.0, "purchase": 5.0, "search": 0.5, "click": 1.0}


def record(request: Any, user: Any, product: Any, event: str, *, weight: float | None = None, query: str = "") -> None:
    try:
        from .models import Feature, FeatureSwitch

        if not (FeatureSwitch.is_enabled(Feature.RECOMMENDATIONS) or FeatureSwitch.is_enabled(Feature.PRODUCT_COPY)):
            return
        authenticated = bool(user and getattr(user, "is_authenticated", False))
        session_key = ""
        if request is not None and getattr(request, "session", None) is not None and not authenticated:
            if not request.session.session_key:
                request.session.save()
            session_key = request.session.session_key or ""
        Interaction.objects.create(
            user=user if authenticated else None,
            session_key=session_key,
            product=product,
            event=event,
            weight=EVENT_WEIGHTS.get(event, 1.0) * (weight or 1.0),
            query=(query or "")[:255],
        )
    except Exception:
        logger.exception("Could not record a %s event", event)
