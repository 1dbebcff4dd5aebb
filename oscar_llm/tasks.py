"""Celery tasks: thin wrappers over services. The job rows say what to do."""

from __future__ import annotations

import logging

from celery import shared_task

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
