"""Real Celery workers on a real Redis broker, against the test database.

These tests start `celery -A shop worker` processes, so they need committed data
(`transactional_db`) and a database file or server the worker can open too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from oscar_llm import jobs
from oscar_llm.content import services
from oscar_llm.models import ContentDraft, Feature, FeatureSwitch, Job
from tests.conftest import database_url

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("OSCAR_LLM_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _drop_connections(app) -> None:
    """Forget pooled broker connections and producers, so the next message uses the new broker_url."""
    app.close()
    app.amqp._producer_pool = None


@pytest.fixture
def redis_broker():
    """Point this process's Celery app at a clean Redis database."""
    import redis

    from shop.celery import app

    client = redis.Redis.from_url(REDIS_URL)
    client.ping()  # a clear failure when Redis is not running
    client.flushdb()
    previous = (app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_transport_options)
    _drop_connections(app)
    app.conf.broker_url = REDIS_URL
    app.conf.broker_transport_options = {"visibility_timeout": 3600}
    app.conf.task_always_eager = False
    yield client
    _drop_connections(app)
    app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_transport_options = previous
    client.flushdb()


class Worker:
    def __init__(self, model_dir: str, log_path: Path):
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": REDIS_URL,
            "OSCAR_LLM_MODEL": model_dir,
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("CELERY_TASK_ALWAYS_EAGER", None)
        self.log_path = log_path
        self.log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "shop", "worker", "--pool", "solo", "--loglevel", "INFO"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL: no clean-up, no acknowledgement, exactly like a crashed machine."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def start_worker(tiny_model, redis_broker, tmp_path):
    workers: list[Worker] = []

    def start() -> Worker:
        worker = Worker(tiny_model, tmp_path / f"worker{len(workers)}.log")
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


def wait_for(predicate, timeout: float, worker: Worker | None = None, what: str = "condition", every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    log = worker.output()[-4000:] if worker else ""
    raise AssertionError(f"Timed out waiting for {what}. Worker log:\n{log}")


def _products(make_product, n: int):
    colours = ["Navy Blue", "Black", "White", "Red", "Olive"]
    return [
        make_product(f"Northwind Women {colours[i % 5]} Cotton Dress", colour=colours[i % 5], brand="Northwind")
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
    expected = len(products) * len(services.KINDS) * 3  # kinds x segments
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
    assert len(all_ids) == 12 * 9

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
    assert Job.objects.filter(status=Job.Status.PENDING).count() == 2 * 3
    jobs.sweep(now=timezone.now() + timedelta(hours=1))
    wait_for(
        lambda: Job.objects.filter(status=Job.Status.DONE).count() == 2 * 3,
        timeout=120,
        worker=worker,
        what="the re-sent jobs to finish",
    )
