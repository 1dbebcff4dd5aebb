"""Celery tasks: thin wrappers over services. The job rows say what to do."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from . import jobs
from .models import Job

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_jobs(job_ids: list[int]) -> dict[str, int]:
    """Claim the given jobs (plus more of the same kind, to fill a batch) and run them."""
    from .handlers import run_claimed

    kinds = set(Job.objects.filter(pk__in=job_ids, status=Job.Status.PENDING).values_list("kind", flat=True))
    done = 0
    for kind in sorted(kinds):
        done += run_claimed(kind, job_ids)
    return {"ran": done}


@shared_task(ignore_result=True)
def sweep_jobs() -> dict[str, int]:
    return jobs.sweep()


@shared_task(ignore_result=True)
def refresh_stale_content() -> int:
    """Re-queue copy whose facts, prompt or model changed since it was written (idempotent)."""
    from .content.services import request_bulk
    from .models import Feature, FeatureSwitch

    if not FeatureSwitch.is_enabled(Feature.PRODUCT_COPY):
        return 0
    return request_bulk()


@shared_task(ignore_result=True)
def refresh_segments() -> int:
    from .content.segments import refresh_segments as refresh

    return refresh()


@shared_task(ignore_result=True)
def refit_recommendations() -> int:
    """Periodic (beat, hourly): queue a fit of the recommendation engine and every list."""
    from .models import Feature, FeatureSwitch
    from .recommendations.history import schedule_fit

    if not FeatureSwitch.is_enabled(Feature.RECOMMENDATIONS):
        return 0
    return schedule_fit("periodic").pk


@shared_task(ignore_result=True)
def purge_old_interactions() -> int:
    """Periodic (beat, daily): the event retention setting."""
    from .recommendations.history import purge_old_events

    return purge_old_events()


@shared_task(
    acks_late=True,
    ignore_result=True,
    # A busy database (SQLite's write lock, a failover) must not lose events: try again shortly.
    autoretry_for=(OperationalError,),
    retry_backoff=1,
    max_retries=8,
)
def record_interactions(rows: list[dict]) -> int:
    """Storefront events, written by a worker so page views never wait for the database."""
    from .events import save

    return save(rows)


@shared_task(acks_late=True, ignore_result=True)
def merge_visitor_events(visitor: str, user_id: int) -> int:
    """After a login: catch the visitor's events that were still queued when the account took over."""
    from django.contrib.auth import get_user_model

    from .recommendations.history import merge_visitor_into_user

    user = get_user_model().objects.filter(pk=user_id).first()
    return merge_visitor_into_user(visitor, user) if user else 0
