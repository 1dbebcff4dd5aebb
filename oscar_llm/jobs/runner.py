"""The batch loop: claim jobs of one kind (filling a batch with others waiting) and run the handler."""

from __future__ import annotations

import logging

from ..llm.base import ModelUnavailable
from ..models import Job
from . import queue
from .registry import get_kind

logger = logging.getLogger(__name__)


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
        _token, claimed = queue.claim(chunk, kind=kind, extra=max(spec.batch_size - len(chunk), 0))
        if not claimed:
            continue
        try:
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
