"""The batch loop: claim jobs of one kind (filling a batch with others waiting) and run the handler.

While a handler runs, a :class:`LeaseKeeper` thread renews the lease of its jobs every third of
``JOB_LEASE_SECONDS``: a batch may run longer than one lease (a fit of a large catalogue on a busy
machine) without the sweep handing its jobs to a second worker, while a worker that dies stops
renewing, so its jobs come back after one lease.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from ..llm.base import ModelUnavailable
from ..models import Job
from ..settings import llm_settings
from . import queue
from .registry import get_kind

logger = logging.getLogger(__name__)


class LeaseKeeper:
    """Renews the lease of ``jobs`` (claimed with ``token``) until :meth:`stop`; a context manager."""

    def __init__(self, token: str, jobs: list[Job]) -> None:
        self.token = token
        self.ids = [job.pk for job in jobs]
        self.lease = float(llm_settings.JOB_LEASE_SECONDS)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="oscar-llm-lease", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()

    def renew(self) -> int:
        """Push the lease of the jobs still running under our token one lease further."""
        return Job.objects.filter(pk__in=self.ids, claimed_by=self.token, status=Job.Status.RUNNING).update(
            lease_expires_at=timezone.now() + timedelta(seconds=self.lease)
        )

    def _run(self) -> None:
        try:
            while not self._stopped.wait(max(self.lease / 3, 0.05)):
                try:
                    self.renew()
                except Exception:  # the database may be restarting; the next renewal tries again
                    logger.warning("Could not renew the lease of jobs %s", self.ids, exc_info=True)
                    connection.close()
        finally:
            connection.close()  # this thread's own connection


def run_claimed(kind: str, job_ids: list[int]) -> int:
    """Claim ``job_ids`` of ``kind`` (and others waiting, up to a batch) and run them together."""
    ids = list(Job.objects.filter(pk__in=job_ids, kind=kind).values_list("pk", flat=True))
    try:
        spec = get_kind(kind)
    except LookupError as exc:
        logger.error("%s", exc)
        _token, claimed = queue.claim(ids)
        for job in claimed:
            queue.fail(job, str(exc), retry=False)
        return 0
    ran = 0
    for start in range(0, max(len(ids), 1), spec.batch_size):
        chunk = ids[start : start + spec.batch_size]
        token, claimed = queue.claim(chunk, kind=kind, extra=max(spec.batch_size - len(chunk), 0))
        if not claimed:
            continue
        try:
            with LeaseKeeper(token, claimed):
                spec.handler(claimed)
        except ModelUnavailable as exc:
            logger.error("Model unavailable for %d %s jobs: %s", len(claimed), kind, exc)
            for job in claimed:
                queue.fail(job, f"Model unavailable: {exc}")
        except Exception as exc:
            logger.exception("Job batch of %s failed", kind)
            for job in claimed:
                queue.fail(job, f"{type(exc).__name__}: {exc}")
        ran += len(claimed)
    return ran


def run_pending(job_ids: list[int]) -> int:
    """Run the pending jobs among ``job_ids``, a kind at a time (what the Celery task does)."""
    kinds = set(Job.objects.filter(pk__in=job_ids, status=Job.Status.PENDING).values_list("kind", flat=True))
    return sum(run_claimed(kind, job_ids) for kind in sorted(kinds))
