"""Customer histories on the web side: cheap scheduling after events, the login merge, retention.

Everything here runs in web processes, so it only writes rows and queues jobs; the model work
(``precompute``) runs in workers.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from .. import jobs
from ..models import Interaction
from .config import USER, VISITOR, setting

logger = logging.getLogger(__name__)

PROFILE_JOB = "recs.profile"
PRODUCT_JOB = "recs.product"
VECTOR_JOB = "recs.vectors"
FIT_JOB = "recs.fit"


def _send_later(job_id: int, countdown: int) -> None:
    transaction.on_commit(lambda: jobs._send([job_id], countdown=countdown))


def schedule_profile_refresh(*, user_id: int | None = None, visitor: str = "") -> bool:
    """Queue a refresh of one customer's (or visitor's) list, at most once per debounce window.

    The first event of a burst queues a job that runs ``REFRESH_DEBOUNCE_SECONDS`` later and reads
    every event of the burst; the rest of the burst costs one cache ``add`` each. Returns True when
    a job was queued.
    """
    kind, key = (USER, str(user_id)) if user_id else (VISITOR, visitor)
    if not key:
        return False
    debounce = max(1, int(setting("REFRESH_DEBOUNCE_SECONDS")))
    if not cache.add(f"oscar_llm:recs:pending:{kind}:{key}", 1, debounce):
        return False
    job, created = jobs.enqueue(
        PROFILE_JOB,
        target_model=f"oscar_llm.{kind}",
        target_id=int(user_id or 0),
        params={"kind": kind, "key": key},
        input_hash=str(time.time_ns()),
        prompt_version="-",
        model_id="-",
        send=False,
    )
    if created:
        _send_later(job.pk, debounce)
    return created


def _enqueue_product_job(name: str, product_id: int) -> None:
    """A job about one product that is never deduplicated by content (each call is a new request)."""
    jobs.enqueue(
        name,
        target_model="catalogue.product",
        target_id=int(product_id),
        params={},
        input_hash=str(time.time_ns()),
        prompt_version="-",
        model_id="-",
    )


def schedule_product_neighbours(product_id: int) -> None:
    """Queue the neighbour lists of a product that has none yet (at most once a minute)."""
    if not cache.add(f"oscar_llm:recs:pending:product:{product_id}", 1, 60):
        return
    _enqueue_product_job(PRODUCT_JOB, product_id)


def schedule_vector_refresh(product_id: int | None) -> None:
    """A product changed: recompute its vector in a worker (skipped there when its facts did not change)."""
    if not product_id:
        return
    connection = transaction.get_connection()
    if any(getattr(func, "oscar_llm_vector_id", None) == product_id for _, func, _ in connection.run_on_commit):
        return

    def queue() -> None:
        _enqueue_product_job(VECTOR_JOB, product_id)

    queue.oscar_llm_vector_id = product_id
    transaction.on_commit(queue)


def schedule_fit(reason: str = "periodic", *, bucket_seconds: int = 3600) -> Any:
    """Queue a fit of the whole engine; one per ``bucket_seconds`` per reason (idempotent)."""
    bucket = int(time.time() // max(1, bucket_seconds))
    job, _created = jobs.enqueue(
        FIT_JOB,
        target_model="oscar_llm.recommender",
        target_id=0,
        params={"reason": reason},
        input_hash=f"{reason}:{bucket}",
        prompt_version="-",
        model_id="-",
    )
    return job


def merge_visitor_into_user(visitor: str, user: Any) -> int:
    """Give an anonymous visitor's events to the account they just logged in to; returns how many."""
    if not visitor or user is None or not getattr(user, "pk", None):
        return 0
    moved = Interaction.objects.filter(user__isnull=True, session_key=visitor).update(user=user)
    if moved:
        from ..models import RecommendationList

        # The visitor's list is now the customer's; the customer's list is refreshed from both histories.
        RecommendationList.objects.filter(kind=VISITOR, key=visitor).delete()
        cache.delete(f"oscar_llm:recs:pending:{USER}:{user.pk}")
        schedule_profile_refresh(user_id=user.pk)
    return moved


def purge_old_events(now: Any = None) -> int:
    """Delete interactions older than ``EVENT_RETENTION_DAYS`` (None or 0 keeps them forever)."""
    days = setting("EVENT_RETENTION_DAYS")
    if not days:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=float(days))
    deleted, _ = Interaction.objects.filter(created_at__lt=cutoff).delete()
    if deleted:
        logger.info("Deleted %d interactions older than %s days", deleted, days)
    return deleted
