"""Customer histories on the web side: cheap scheduling after events, the login merge.

Everything here runs in web processes, so it only writes rows and queues jobs; the model work
(``precompute``) runs in workers. The events themselves are the core's (``oscar_llm.interactions``);
this module listens to its signals.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache import cache

from .. import jobs
from ..models import Feature, FeatureSwitch, RecommendationList
from .config import USER, VISITOR, setting

logger = logging.getLogger(__name__)

PROFILE_JOB = "recs.profile"
PRODUCT_JOB = "recs.product"
VECTOR_JOB = "recs.vectors"
FIT_JOB = "recs.fit"


def recommendations_on() -> bool:
    try:
        return FeatureSwitch.is_enabled(Feature.RECOMMENDATIONS)
    except Exception:  # tables not migrated yet
        return False


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
    _job, created = jobs.request(
        PROFILE_JOB,
        target_model=f"oscar_llm.{kind}",
        target_id=int(user_id or 0),
        params={"kind": kind, "key": key},
        countdown=debounce,
    )
    return created


def schedule_product_neighbours(product_id: int) -> None:
    """Queue the neighbour lists of a product that has none yet (at most once a minute)."""
    if not cache.add(f"oscar_llm:recs:pending:product:{product_id}", 1, 60):
        return
    jobs.request(PRODUCT_JOB, target_model="catalogue.product", target_id=int(product_id))


def schedule_vector_refresh(product_id: int | None) -> None:
    """A product changed: recompute its vector in a worker (skipped there when its facts did not change).

    One job per product per transaction, however many of its rows were saved.
    """
    if not product_id:
        return
    jobs.on_commit_once(
        (VECTOR_JOB, product_id),
        lambda: jobs.request(VECTOR_JOB, target_model="catalogue.product", target_id=int(product_id)),
    )


def schedule_fit(reason: str = "periodic", *, bucket_seconds: int = 3600) -> Any:
    """Queue a fit of the whole engine; one per ``bucket_seconds`` per reason (idempotent)."""
    bucket = int(time.time() // max(1, bucket_seconds))
    job, _created = jobs.request(
        FIT_JOB,
        target_model="oscar_llm.recommender",
        target_id=0,
        params={"reason": reason},
        key=jobs.JobKey(input_hash=f"{reason}:{bucket}"),
    )
    return job


def on_interactions_saved(sender: Any, owners: set[tuple[int | None, str]], **kwargs: Any) -> None:
    """New events: refresh the lists of who made them (debounced)."""
    if not recommendations_on():
        return
    for user_id, visitor in owners:
        try:
            schedule_profile_refresh(user_id=user_id, visitor=visitor)
        except Exception:
            # The events are saved (a retry would duplicate them); the hourly fit catches up.
            logger.warning("Could not queue a list refresh for %s", user_id or visitor, exc_info=True)


def on_visitor_merged(sender: Any, visitor: str, user: Any, **kwargs: Any) -> None:
    """The visitor's list is now the customer's; the customer's list is refreshed from both histories."""
    RecommendationList.objects.filter(kind=VISITOR, key=visitor).delete()
    cache.delete(f"oscar_llm:recs:pending:{USER}:{user.pk}")
    schedule_profile_refresh(user_id=user.pk)
