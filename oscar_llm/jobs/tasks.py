"""The Celery tasks of the job table: thin wrappers; the job rows say what to do.

Task names are kept from the first release (``oscar_llm.tasks.*``) so messages a running shop has
queued, and beat schedules that name them, keep working after an upgrade.
"""

from __future__ import annotations

from celery import shared_task

from . import queue, runner


@shared_task(name=queue.RUN_JOBS_TASK, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_jobs(job_ids: list[int]) -> dict[str, int]:
    """Claim the given jobs (plus more of the same kind, to fill a batch) and run them."""
    return {"ran": runner.run_pending(job_ids)}


@shared_task(name="oscar_llm.tasks.sweep_jobs", ignore_result=True)
def sweep_jobs() -> dict[str, int]:
    return queue.sweep()
