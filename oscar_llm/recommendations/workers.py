"""Job handlers for recommendations (registered in ``wiring.ready()``); workers only."""

from __future__ import annotations

from .. import jobs
from ..models import Job


def run_vectors(job_list: list[Job]) -> None:
    from . import precompute
    from .history import schedule_product_neighbours

    summary = precompute.compute_vectors([job.target_id for job in job_list])
    if summary["written"] and precompute.current_engine() is not None:
        for job in job_list:
            schedule_product_neighbours(job.target_id)
    for job in job_list:
        jobs.complete(job, summary)


def run_fit(job_list: list[Job]) -> None:
    from . import precompute

    summary = precompute.fit()
    for job in job_list:
        jobs.complete(job, summary)


def run_profiles(job_list: list[Job]) -> None:
    from . import precompute

    owners = [(job.params["kind"], job.params["key"]) for job in job_list]
    count = precompute.refresh_profiles(owners)
    for job in job_list:
        jobs.complete(job, {"profiles": count})


def run_products(job_list: list[Job]) -> None:
    from . import precompute

    count = precompute.refresh_products([job.target_id for job in job_list])
    for job in job_list:
        jobs.complete(job, {"lists": count})
