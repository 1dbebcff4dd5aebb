"""The job table: rows first, Celery messages only nudge (docs/architecture.md, "Jobs").

* ``request`` creates (or finds) the job for an input and sends a nudge after the surrounding
  transaction commits. A keyed job (``JobKey``: input hash + prompt version + model) is idempotent:
  repeating a request never repeats the work. An unkeyed job is a new request each time.
* ``claim`` takes pending jobs with a lease; a worker that dies leaves its lease to expire, and
  ``sweep`` hands such jobs back to the queue.
* ``sweep`` also re-sends nudges for jobs that waited too long (a lost message, a flushed Redis),
  and fails jobs that used up their attempts.

The Celery message is sent by task *name* (``RUN_JOBS_TASK``), so this module never imports the
task module that imports it back.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from ..models import Job
from ..settings import llm_settings
from .registry import FAMILIES, JobKind, get_kind, kind_family

logger = logging.getLogger(__name__)

# Stable since the first release: messages queued by a running shop keep running after an upgrade.
RUN_JOBS_TASK = "oscar_llm.tasks.run_jobs"


@dataclass(frozen=True)
class JobKey:
    """What makes two requests the same work: same input, same prompt, same model."""

    input_hash: str
    prompt_version: str = "-"
    model_id: str = "-"


def worker_token() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def queue_for(kind: str | JobKind) -> str | None:
    """The Celery queue of ``kind``'s messages: ``OSCAR_LLM["QUEUES"][its family]``; ``None`` (the
    default, for a family the setting leaves out) is Celery's default queue."""
    return (llm_settings.QUEUES or {}).get(kind_family(kind)) or None


def queues() -> dict[str, str | None]:
    """Family -> queue, for every family (``None``: Celery's default queue)."""
    routes = llm_settings.QUEUES or {}
    return {family: routes.get(family) or None for family in FAMILIES}


def send(job_ids: list[int], countdown: int | None = None, *, kind: str | JobKind | None = None) -> None:
    """Send the Celery messages for ``job_ids`` now (most callers want :func:`nudge`): one message per
    queue, each job to the queue of its kind's family. ``kind``, when the caller knows that every
    job is of it, saves looking the kinds up."""
    if not job_ids:
        return
    if kind is not None:
        by_queue: dict[str | None, list[int]] = {queue_for(kind): list(job_ids)}
    else:
        by_queue = {}
        for pk, job_kind in Job.objects.filter(pk__in=job_ids).values_list("pk", "kind").order_by("pk"):
            by_queue.setdefault(queue_for(job_kind), []).append(pk)
    from celery import current_app

    for queue, ids in by_queue.items():
        options: dict[str, Any] = {"countdown": countdown}
        if queue:
            options["queue"] = queue
        try:
            current_app.signature(RUN_JOBS_TASK, args=(ids,)).apply_async(**options)
        except Exception:  # a broker that is down must not break the request; the sweep re-sends
            logger.warning("Could not send a nudge for jobs %s; the sweep will retry.", ids, exc_info=True)
            continue
        Job.objects.filter(pk__in=ids).update(queued_at=timezone.now())


def nudge(job_ids: Iterable[int], *, countdown: int | None = None, kind: str | JobKind | None = None) -> None:
    """Send the Celery message once the current transaction has committed."""
    ids = list(job_ids)
    if ids:
        transaction.on_commit(lambda: send(ids, countdown=countdown, kind=kind))


class _OncePass:
    """The keys already run by the callbacks of one commit."""

    __slots__ = ("ran",)

    def __init__(self) -> None:
        self.ran: set[Hashable] = set()


_once = threading.local()


def on_commit_once(key: Hashable, func: Callable[[], Any]) -> None:
    """Run ``func`` after the current transaction commits, at most once per ``key`` per commit.

    Several saves of one product in one transaction queue one job. The de-duplication happens when
    the callbacks run, not when they are registered, so a rolled-back transaction (whose callbacks
    Django drops) leaves nothing behind that would swallow the next transaction's callback.
    """
    current = getattr(_once, "pass_", None)
    if current is None:
        current = _once.pass_ = _OncePass()

    def run() -> None:
        if getattr(_once, "pass_", None) is current:
            _once.pass_ = None  # callbacks registered from now on belong to the next commit
        if key in current.ran:
            return
        current.ran.add(key)
        func()

    transaction.on_commit(run)


def request(
    kind: str | JobKind,
    *,
    target_model: str,
    target_id: int,
    params: dict[str, Any] | None = None,
    key: JobKey | None = None,
    send: bool = True,
    countdown: int | None = None,
) -> tuple[Job, bool]:
    """Get or create the job for this input; returns ``(job, created)``. Failed jobs are re-armed.

    ``kind`` must be registered (:func:`register_kind`): a renamed or mistyped kind fails here, at
    the request, not silently in a worker. Without ``key`` the job is a new request every time.
    ``send=False`` leaves the nudge to the caller (e.g. one message for a batch of jobs).
    """
    name = get_kind(kind).name
    key = key or JobKey(input_hash=f"once:{uuid.uuid4().hex}")
    lookup = {
        "kind": name,
        "target_model": target_model,
        "target_id": target_id,
        "input_hash": key.input_hash,
        "prompt_version": key.prompt_version,
        "model_id": key.model_id,
    }
    with transaction.atomic():
        job, created = Job.objects.get_or_create(**lookup, defaults={"params": params or {}})
    if not created and job.status == Job.Status.FAILED:
        Job.objects.filter(pk=job.pk, status=Job.Status.FAILED).update(
            status=Job.Status.PENDING, attempts=0, error="", next_attempt_at=None
        )
        job.refresh_from_db()
        created = True
    if created and send:
        nudge([job.pk], countdown=countdown, kind=name)
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


def fail(job: Job, error: str, *, retry: bool = True) -> bool:
    """Record an error. Returns True when the job will be retried (with backoff), False when it gave up.

    ``retry=False`` gives up at once (an error no retry can mend, such as an unknown job kind).
    """
    job.refresh_from_db(fields=["attempts", "status"])
    if job.status != Job.Status.RUNNING:  # finished (or re-queued by the sweep) meanwhile
        return False
    now = timezone.now()
    if not retry or job.attempts >= llm_settings.JOB_MAX_ATTEMPTS:
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
    send([job.pk], countdown=backoff, kind=job.kind)
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
        send(waiting[start : start + 50])
    summary = {"reclaimed": reclaimed, "failed": failed, "requeued": len(waiting)}
    if any(summary.values()):
        logger.info("Job sweep: %s", summary)
    return summary
