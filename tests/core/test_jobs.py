"""The job table: idempotency, leases, retries with backoff, the sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from oscar_llm import jobs
from oscar_llm.jobs import run_claimed
from oscar_llm.models import Job

pytestmark = pytest.mark.django_db


def make_job(kind="content.title", input_hash="h", prompt_version="v", model_id="m", **kw):
    defaults = {"target_model": "catalogue.product", "target_id": 1, "params": {}, "send": False}
    defaults.update(kw)
    return jobs.request(kind, key=jobs.JobKey(input_hash, prompt_version, model_id), **defaults)


def test_same_input_prompt_and_model_is_the_same_job():
    first, created = make_job()
    again, created_again = make_job()
    assert created and not created_again and first.pk == again.pk
    _, other_model = make_job(model_id="m2")
    _, other_prompt = make_job(prompt_version="v2")
    _, other_input = make_job(input_hash="h2")
    assert other_model and other_prompt and other_input
    assert Job.objects.count() == 4


def test_a_job_is_claimed_once_and_batches_fill_up():
    ids = [make_job(input_hash=str(i))[0].pk for i in range(5)]
    _, claimed = jobs.claim([ids[0]], kind="content.title", extra=2)
    assert [j.pk for j in claimed] == ids[:3]
    _, again = jobs.claim(ids[:3], kind="content.title")
    assert again == []  # already running elsewhere
    assert all(j.attempts == 1 and j.lease_expires_at for j in claimed)


def test_failures_back_off_then_give_up(settings):
    settings.OSCAR_LLM = {**settings.OSCAR_LLM, "JOB_MAX_ATTEMPTS": 2}
    job, _ = make_job()
    _, [claimed] = jobs.claim([job.pk])
    assert jobs.fail(claimed, "boom") is True
    job.refresh_from_db()
    assert job.status == Job.Status.PENDING and job.error == "boom"
    assert job.next_attempt_at > timezone.now()
    assert jobs.claim([job.pk])[1] == []  # not before its backoff has passed
    Job.objects.filter(pk=job.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    _, [claimed] = jobs.claim([job.pk])
    assert jobs.fail(claimed, "boom again") is False
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.attempts == 2


def test_sweep_requeues_dead_workers_jobs_and_lost_messages():
    """Celery runs inline here, so a re-sent job runs at once (its product is gone: it is skipped)."""
    running, _ = make_job(input_hash="a")
    lost, _ = make_job(input_hash="b")
    jobs.claim([running.pk])
    Job.objects.filter(pk=lost.pk).update(queued_at=timezone.now() - timedelta(hours=1))
    # The message of `lost` never arrived: the sweep sends it again. `running` is within its lease.
    assert jobs.sweep() == {"reclaimed": 0, "failed": 0, "requeued": 1}
    lost.refresh_from_db()
    assert lost.status == Job.Status.DONE and lost.result == {"skipped": "product deleted"}
    running.refresh_from_db()
    assert running.status == Job.Status.RUNNING
    # Its worker died: once the lease has expired the sweep hands it back and it runs again.
    assert jobs.sweep(now=timezone.now() + timedelta(hours=2)) == {"reclaimed": 1, "failed": 0, "requeued": 1}
    running.refresh_from_db()
    assert running.status == Job.Status.DONE and running.attempts == 2


def test_an_unknown_kind_cannot_be_requested_and_fails_loudly_in_a_worker():
    with pytest.raises(LookupError, match="nothing.known"):
        make_job(kind="nothing.known")
    # A row of a kind no feature registers (a message queued before a rename): failed, with the reason.
    job = Job.objects.create(
        kind="nothing.known", target_model="x", target_id=1, input_hash="h", prompt_version="-", model_id="-"
    )
    assert run_claimed("nothing.known", [job.pk]) == 0
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "Unknown job kind 'nothing.known'" in job.error


def test_unkeyed_requests_are_new_jobs_and_keyed_ones_are_not():
    first, created = jobs.request("recs.fit", target_model="x", target_id=1, send=False)
    second, created_again = jobs.request("recs.fit", target_model="x", target_id=1, send=False)
    assert created and created_again and first.pk != second.pk
    key = jobs.JobKey("periodic:1")
    keyed, _ = jobs.request("recs.fit", target_model="x", target_id=1, key=key, send=False)
    assert jobs.request("recs.fit", target_model="x", target_id=1, key=key, send=False) == (keyed, False)


def test_on_commit_once_runs_once_per_commit_and_a_rollback_blocks_nothing(django_capture_on_commit_callbacks):
    from django.db import transaction

    ran = []
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            jobs.on_commit_once(("plan", 1), lambda: ran.append("first"))
        jobs.on_commit_once(("plan", 2), lambda: ran.append("other"))
    assert ran == ["first", "other"]

    # A rolled-back savepoint drops its callback; the next registration of that key still runs.
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                jobs.on_commit_once(("plan", 1), lambda: ran.append("rolled back"))
                raise RuntimeError
        except RuntimeError:
            pass
        jobs.on_commit_once(("plan", 1), lambda: ran.append("after rollback"))
    assert ran == ["first", "other", "after rollback"]


@pytest.mark.django_db(transaction=True)
def test_a_batch_running_longer_than_its_lease_keeps_its_jobs(settings):
    """The sweep hands a job to another worker only when its worker stopped renewing the lease,
    not because the batch is slow (a fit found re-queued while it ran, bench_reliability)."""
    import time

    from oscar_llm.jobs import registry

    settings.OSCAR_LLM = {**settings.OSCAR_LLM, "JOB_LEASE_SECONDS": 1}
    seen = {}

    def slow(batch):
        time.sleep(2.5)  # two and a half leases
        seen["sweep"] = jobs.sweep()
        for job in batch:
            seen["completed"] = jobs.complete(job, {"ok": True})

    registry.register_kind("tests.slow", slow)
    try:
        job, _ = jobs.request("tests.slow", target_model="x", target_id=1, send=False)
        assert run_claimed("tests.slow", [job.pk]) == 1
    finally:
        registry._kinds.pop("tests.slow", None)
    assert seen == {"sweep": {"reclaimed": 0, "failed": 0, "requeued": 0}, "completed": True}
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.attempts == 1
