"""Real Celery workers on a real Redis broker, against the test database.

These tests start `celery -A shop worker` processes, so they need committed data
(`transactional_db`) and a database file or server the worker can open too.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from oscar_llm import jobs
from oscar_llm.content import services
from oscar_llm.models import ContentDraft, Feature, FeatureSwitch, Job
from tests import workers
from tests.workers import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

REDIS_URL = os.environ.get("OSCAR_LLM_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_broker():
    with workers.redis_broker(REDIS_URL) as client:
        yield client


@pytest.fixture
def start_worker(tiny_model, redis_broker, tmp_path):
    with workers.worker_starter(tmp_path, REDIS_URL, {"OSCAR_LLM_MODEL": tiny_model}) as start:
        yield start


# A supplier-feed product (coded title, no description) gets every variant: one title (titles are
# shared by the segments), and a description and a meta description for each of the three segments.
SLOTS_PER_PRODUCT = 1 + 3 + 3


def _products(make_product, n: int):
    colours = ["Navy Blue", "Black", "White", "Red", "Olive"]
    codes = ["NVBL", "BLK", "WHT", "RD", "OLV"]
    return [
        make_product(f"NW DRS CTN {codes[i % 5]} M{i}", colour=colours[i % 5], brand="Northwind", description="")
        for i in range(n)
    ]


def test_switching_product_copy_on_in_admin_produces_drafts(client, staff_user, make_product, start_worker):
    products = _products(make_product, 3)
    switch = FeatureSwitch.objects.create(feature=Feature.PRODUCT_COPY, enabled=False)
    worker = start_worker()
    client.force_login(staff_user)
    response = client.post(
        f"/admin/oscar_llm/featureswitch/{switch.pk}/change/",
        {"feature": Feature.PRODUCT_COPY, "enabled": "on"},
    )
    assert response.status_code == 302, response.content[:2000]
    expected = len(products) * SLOTS_PER_PRODUCT
    wait_for(lambda: ContentDraft.objects.count() >= expected, timeout=180, worker=worker, what=f"{expected} drafts")
    assert set(ContentDraft.objects.values_list("product_id", flat=True)) == {p.pk for p in products}
    # Every job the worker ran is done; nothing left pending or failed.
    assert not Job.objects.exclude(status=Job.Status.DONE).exists(), list(Job.objects.values("kind", "status", "error"))
    assert ContentDraft.objects.filter(status=ContentDraft.Status.DRAFT).exists()


def test_job_of_killed_worker_completes_later(make_product, start_worker):
    FeatureSwitch.objects.create(feature=Feature.PRODUCT_COPY, enabled=False)
    products = _products(make_product, 12)
    for product in products:
        services.request_generation(product)
    all_ids = list(Job.objects.values_list("pk", flat=True))
    assert len(all_ids) == 12 * SLOTS_PER_PRODUCT

    first = start_worker()
    wait_for(
        lambda: Job.objects.filter(status=Job.Status.RUNNING).exists(),
        timeout=120,
        worker=first,
        what="a job to start",
        every=0.01,
    )
    first.kill()
    running = list(Job.objects.filter(status=Job.Status.RUNNING).values_list("pk", flat=True))
    assert running, "the worker was killed after it had finished everything; nothing was interrupted"

    # Later: the lease has expired; the periodic sweep hands the orphaned jobs back.
    summary = jobs.sweep(now=timezone.now() + timedelta(hours=1))
    assert summary["reclaimed"] == len(running)
    second = start_worker()
    wait_for(
        lambda: Job.objects.filter(status=Job.Status.DONE).count() == len(all_ids),
        timeout=240,
        worker=second,
        what="every job to finish",
    )
    for pk in running:
        job = Job.objects.get(pk=pk)
        assert job.attempts >= 2
        assert ContentDraft.objects.filter(job=job).count() == 1
    # Exactly one draft per job: nothing lost, nothing written twice.
    assert ContentDraft.objects.count() == len(all_ids)


def test_jobs_survive_a_flushed_broker(make_product, start_worker, redis_broker):
    FeatureSwitch.objects.create(feature=Feature.PRODUCT_COPY, enabled=False)
    products = _products(make_product, 2)
    for product in products:
        services.request_generation(product, kinds=["title"])
    assert redis_broker.llen("celery") > 0
    redis_broker.flushdb()  # every message is gone, as after a Redis restart without persistence
    worker = start_worker()
    time.sleep(3)
    assert Job.objects.filter(status=Job.Status.PENDING).count() == 2  # one title each
    jobs.sweep(now=timezone.now() + timedelta(hours=1))
    wait_for(
        lambda: Job.objects.filter(status=Job.Status.DONE).count() == 2,
        timeout=120,
        worker=worker,
        what="the re-sent jobs to finish",
    )


def test_jobs_survive_a_broker_flushed_under_a_running_worker(make_product, start_worker, redis_broker):
    """Redis restarted without persistence while the shop runs: the worker's queue bindings and
    every message are gone; new work is still sent (or re-sent by the sweep) and done."""
    FeatureSwitch.objects.create(feature=Feature.PRODUCT_COPY, enabled=False)
    worker = start_worker()
    wait_for(lambda: "ready." in worker.output(), timeout=120, worker=worker, what="the worker to start")
    redis_broker.flushdb()
    for product in _products(make_product, 2):
        services.request_generation(product, kinds=["title"])
    jobs.sweep(now=timezone.now() + timedelta(hours=1))  # what beat does a minute later
    wait_for(
        lambda: Job.objects.filter(status=Job.Status.DONE).count() == 2,
        timeout=120,
        worker=worker,
        what="the jobs sent after the flush to finish",
    )
    assert ContentDraft.objects.count() == 2
