"""The job table (DESIGN.md principle 2): rows first, Celery messages only nudge.

* ``enqueue`` creates (or finds) the job for an input and sends a nudge after
  the surrounding transaction commits. Same input hash + prompt version + model
  -> same job, so repeating a request never repeats the work.
* ``claim`` takes pending jobs with a lease; a worker that dies leaves its
  lease to expire, and ``sweep`` hands such jobs back to the queue.
* ``sweep`` also re-sends nudges for jobs that waited too long (a lost
  message, a flushed Redis), and fails jobs that used up their attempts.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import Job
from .settings import llm_settings

logger = logging.getLogger(__name__)


def worker_token() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _send(job_ids: list[int], countdown: int | None = None) -> None:
    from .tasks import run_jobs

    if not job_ids:
        return
    try:
        run_jobs.apply_async((job_ids,), countdown=countdown)
    except Exception:  # a broker that is down must not break the request; the sweep re-sends
        logger.warning("Could not send a nudge for jobs %s; the sweep will retry.", job_ids, exc_info=True)
        return
    Job.objects.filter(pk__in=job_ids).update(queued_at=timezone.now())


def nudge(job_ids: Iterable[int]) -> None:
    """Send the Celery message once the current transaction has committed."""
    ids = list(job_ids)
    if ids:
        transaction.on_commit(lambda: _send(ids))


def enqueue(
    kind: str,
    *,
    target_model: str,
    target_id: int,
    params: dict[str, Any],
    input_hash: str,
    prompt_version: str,
    model_id: str,
    send: bool = True,
) -> tuple[Job, bool]:
    """Get or create the job for this input; returns (job, created). Failed jobs are re-armed."""
    lookup = {
        "kind": kind,
        "target_model": target_model,
        "target_id": target_id,
        "input_hash": input_hash,
        "prompt_version": prompt_version,
        "model_id": model_id,
    }
    with transaction.atomic():
        job, created = Job.objects.get_or_create(**lookup, defaults={"params": params})
    if not created and job.status == Job.Status.FAILED:
        Job.objects.filter(pk=job.pk, status=Job.Status.FAILED).update(
            status=Job.Status.PENDING, attempts=0, error="", next_attempt_at=None
        )
        job.refresh_from_db()
        created = True
    if created and send:
        nudge([job.pk])
    return job, created


def claim(job_ids: Iterable[int], *, kind: str | None = None, extra: int = 0) -> tuple[str, list[Job]]:
    """Lease the given pending jobs, plus up to ``extra`` other pending jobs of ``kind`` (batching).

    A single UPDATE ... WHERE status='pending' decides who gets each job, so two
    workers never run the same job, on SQLite and PostgreSQL alike.
    """
    now = timezone.now()
    token = worker_token()
    ids = list(job_ids)
    ready = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    if extra and kind:
        more = (
            Job.objects.filter(ready, status=Job.Status.PENDING, kind=kind)
            .exclude(pk__in=ids)
            .order_by("created_at")
            .values_list("pk", flat=True)[:extra]
        )
        ids += list(more)
    lease = now + timedelta(seconds=llm_settings.JOB_LEASE_SECONDS)
    Job.objects.filter(ready, pk__in=ids, status=Job.Status.PENDING).update(
        status=Job.Status.RUNNING,
        claimed_by=token,
        lease_expires_at=lease,
        started_at=now,
        attempts=F("attempts") + 1,
    )
    return token, list(Job.objects.filter(claimed_by=token, status=Job.Status.RUNNING).order_by("pk"))


def complete(job: Job, result: dict[str, Any] | None = None) -> bool:
    """Mark a claimed job done. False when it is no longer ours (the lease ran out and the sweep
    handed it to another worker): the caller must then drop its result."""
    return bool(
        Job.objects.filter(pk=job.pk, claimed_by=job.claimed_by, status=Job.Status.RUNNING).update(
            status=Job.Status.DONE, result=result or {}, error="", finished_at=timezone.now(), lease_expires_at=None
        )
    )


def fail(job: Job, error: str) -> bool:
    """Record an error. Returns True when the job will be retried (with backoff), False when it gave up."""
    job.refresh_from_db(fields=["attempts", "status"])
    if job.status != Job.Status.RUNNING:  # finished (or re-queued by the sweep) meanwhile
        return False
    now = timezone.now()
    if job.attempts >= llm_settings.JOB_MAX_ATTEMPTS:
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.FAILED, error=error[:5000], finished_at=now, lease_expires_at=None
        )
        return False
    backoff = min(2 ** (job.attempts - 1) * 10, 3600)
    Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
        status=Job.Status.PENDING,
        error=error[:5000],
        lease_expires_at=None,
        claimed_by="",
        next_attempt_at=now + timedelta(seconds=backoff),
    )
    _send([job.pk], countdown=backoff)
    return True


def sweep(now: Any = None) -> dict[str, int]:
    """Re-queue jobs whose worker died or whose message was lost; give up on exhausted ones."""
    now = now or timezone.now()
    expired = Job.objects.filter(status=Job.Status.RUNNING, lease_expires_at__lt=now)
    exhausted = expired.filter(attempts__gte=llm_settings.JOB_MAX_ATTEMPTS)
    failed = exhausted.update(
        status=Job.Status.FAILED,
        error="The worker stopped before finishing, too many times.",
        finished_at=now,
        lease_expires_at=None,
    )
    reclaimed = expired.update(
        status=Job.Status.PENDING,
        claimed_by="",
        lease_expires_at=None,
        error="The worker stopped before finishing; re-queued.",
    )
    stale_before = now - timedelta(seconds=llm_settings.JOB_REQUEUE_AFTER_SECONDS)
    waiting = list(
        Job.objects.filter(status=Job.Status.PENDING)
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=stale_before))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .values_list("pk", flat=True)[:5000]
    )
    # Retries whose backoff has passed were nudged before; nudge them again.
    for start in range(0, len(waiting), 50):
        _send(waiting[start : start + 50])
    summary = {"reclaimed": reclaimed, "failed": failed, "requeued": len(waiting)}
    if any(summary.values()):
        logger.info("Job sweep: %s", summary)
    return summary
