"""Job kinds -> the service that runs them, and the batch loop around it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from . import jobs
from .llm.base import ModelUnavailable
from .models import Job
from .recommendations import workers as rec_workers

logger = logging.getLogger(__name__)


def _content(job_list: list[Job]) -> None:
    from .content.services import run_generation_jobs

    run_generation_jobs(job_list)


def _content_plan(job_list: list[Job]) -> None:
    """A product changed: write the generation jobs for its current facts."""
    from oscar.core.loading import get_model

    from .content.services import request_generation

    Product = get_model("catalogue", "Product")
    for job in job_list:
        product = Product.objects.filter(pk=job.target_id).first()
        created = request_generation(product) if product else []
        jobs.complete(job, {"queued": len(created)})


def _content_bulk(job_list: list[Job]) -> None:
    from .content.services import request_bulk

    for job in job_list:
        count = request_bulk(**job.params.get("kwargs", {}))
        jobs.complete(job, {"queued": count})


def _support_draft(job_list: list[Job]) -> None:
    from .support.services import run_draft_jobs

    run_draft_jobs(job_list)


def _support_embed(job_list: list[Job]) -> None:
    from .support.services import run_embedding_jobs

    run_embedding_jobs(job_list)


# kind prefix -> (handler, batch size)
HANDLERS: dict[str, tuple[Callable[[list[Job]], Any], int]] = {
    "content.title": (_content, 128),
    "content.description": (_content, 64),
    "content.meta_description": (_content, 64),
    "content.plan": (_content_plan, 50),
    "content.bulk": (_content_bulk, 1),
    "support.draft": (_support_draft, 16),
    "support.embed_article": (_support_embed, 32),
    "recs.vectors": (rec_workers.run_vectors, 256),
    "recs.fit": (rec_workers.run_fit, 1),
    "recs.profile": (rec_workers.run_profiles, 100),
    "recs.product": (rec_workers.run_products, 50),
}


def run_claimed(kind: str, job_ids: list[int]) -> int:
    """Claim ``job_ids`` of ``kind`` (and others waiting, up to a batch) and run them together."""
    handler, batch_size = HANDLERS.get(kind, (None, 1))
    if handler is None:
        logger.error("No handler for job kind %r", kind)
        return 0
    ids = list(Job.objects.filter(pk__in=job_ids, kind=kind).values_list("pk", flat=True))
    ran = 0
    for start in range(0, max(len(ids), 1), batch_size):
        chunk = ids[start : start + batch_size]
        _token, claimed = jobs.claim(chunk, kind=kind, extra=max(batch_size - len(chunk), 0))
        if not claimed:
            continue
        try:
            handler(claimed)
        except ModelUnavailable as exc:
            logger.error("Model unavailable for %d %s jobs: %s", len(claimed), kind, exc)
            for job in claimed:
                jobs.fail(job, f"Model unavailable: {exc}")
        except Exception as exc:
            logger.exception("Job batch of %s failed", kind)
            for job in claimed:
                jobs.fail(job, f"{type(exc).__name__}: {exc}")
        ran += len(claimed)
    return ran
