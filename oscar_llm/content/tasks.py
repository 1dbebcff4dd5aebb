"""Periodic tasks of product copy (Celery beat); the names are kept from the first release."""

from __future__ import annotations

from celery import shared_task

from ..models import Feature, FeatureSwitch


@shared_task(name="oscar_llm.tasks.refresh_stale_content", ignore_result=True)
def refresh_stale_content() -> int:
    """Re-queue copy whose facts, prompt or model changed since it was written (idempotent)."""
    from .services import request_bulk

    if not FeatureSwitch.is_enabled(Feature.PRODUCT_COPY):
        return 0
    return request_bulk()


@shared_task(name="oscar_llm.tasks.refresh_segments", ignore_result=True)
def refresh_segments() -> int:
    from .segments import refresh_segments as refresh

    return refresh()
