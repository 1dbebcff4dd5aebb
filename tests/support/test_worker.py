"""A drafting job whose worker was killed is drafted later: real Redis (db 14), real
``celery -A shop worker`` processes, the tiny support model, the test database.

The pattern of tests/integration/test_worker.py, on its own Redis database.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from oscar_llm import jobs
from oscar_llm.models import Job, Message, ReplyDraft, Ticket
from oscar_llm.support import desk, kinds
from tests import workers
from tests.workers import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

REDIS_URL = os.environ.get("OSCAR_LLM_SUPPORT_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


@pytest.fixture
def redis_broker():
    with workers.redis_broker(REDIS_URL) as client:
        yield client


@pytest.fixture
def start_worker(support_model_dir, redis_broker, tmp_path):
    # The shop model directory: the tiny support model, its triage beside it.
    with workers.worker_starter(tmp_path, REDIS_URL, {"OSCAR_LLM_MODEL_DIR": support_model_dir}) as start:
        yield start


def test_draft_of_a_killed_worker_is_produced_later(
    customer, make_order, support_on, knowledge_base, start_worker, settings, support_model_dir
):
    settings.OSCAR_LLM = {**getattr(settings, "OSCAR_LLM", {}), "MODEL": None, "MODEL_DIR": support_model_dir}
    order = make_order(customer)
    subjects = ["Where is my parcel", "Cancel my order", "Refund please", "Invoice", "Change address", "Sizes"]
    tickets = [desk.open_ticket(customer, s, f"{s}: order {order.number}", order=order) for s in subjects]
    draft_jobs = Job.objects.filter(kind=kinds.DRAFT_JOB)
    assert draft_jobs.count() == len(tickets)

    first = start_worker()
    wait_for(
        lambda: draft_jobs.filter(status=Job.Status.RUNNING).exists(),
        timeout=240,
        worker=first,
        what="a drafting job to start",
        every=0.05,
    )
    first.kill()
    running = list(draft_jobs.filter(status=Job.Status.RUNNING).values_list("pk", flat=True))
    assert running, "the worker was killed after it had finished everything; nothing was interrupted"
    assert ReplyDraft.objects.filter(job_id__in=running).count() == 0

    # Later: the lease has run out and the periodic sweep hands the orphaned jobs back.
    summary = jobs.sweep(now=timezone.now() + timedelta(hours=1))
    assert summary["reclaimed"] >= len(running)
    second = start_worker()
    wait_for(
        lambda: draft_jobs.filter(status=Job.Status.DONE).count() == len(tickets),
        timeout=400,
        worker=second,
        what="every drafting job to finish",
    )
    for pk in running:
        job = Job.objects.get(pk=pk)
        assert job.attempts >= 2
        assert ReplyDraft.objects.filter(job=job).count() == 1  # drafted once, not twice
    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.drafts.count() == 1
        assert ticket.status in (Ticket.Status.WAITING, Ticket.Status.NEEDS_HUMAN)
        assert ticket.intent  # the worker's triage ran
    # Still nothing reached the customer: drafts wait for staff.
    assert not Message.objects.filter(kind=Message.Kind.STAFF).exists() and not mail.outbox
