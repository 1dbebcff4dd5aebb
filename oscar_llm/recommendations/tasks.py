"""Periodic tasks of the recommendations feature (Celery beat); the names are kept from the first release."""

from __future__ import annotations

from celery import shared_task

from ..models import Feature, FeatureSwitch


@shared_task(name="oscar_llm.tasks.refit_recommendations", ignore_result=True)
def refit_recommendations() -> int:
    """Hourly: queue a fit of the recommendation engine and every list."""
    from .history import schedule_fit

    if not FeatureSwitch.is_enabled(Feature.RECOMMENDATIONS):
        return 0
    return schedule_fit("periodic").pk


@shared_task(name="oscar_llm.recommendations.tracking.flush_recommendation_stats", ignore_result=True)
def flush_recommendation_stats() -> int:
    """Collect impression counters from a shared cache into the daily rows."""
    from .tracking import flush_impressions

    return flush_impressions()
