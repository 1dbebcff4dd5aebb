"""A real Celery worker on Redis (db 13): switching recommendations on fits the engine, and a
visitor's new events refresh their list within seconds."""

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

from oscar_llm.models import Feature, FeatureSwitch, Interaction, ItemVector, Job, RecommendationList
from oscar_llm.recommendations import services
from oscar_llm.recommendations.config import TRENDING, VISITOR
from tests.conftest import database_url

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("OSCAR_LLM_TEST_RECS_REDIS_URL", "redis://127.0.0.1:6379/13")


def _drop_connections(app) -> None:
    app.close()
    app.amqp._producer_pool = None


@pytest.fixture
def redis_broker():
    import redis

    from shop.celery import app

    client = redis.Redis.from_url(REDIS_URL)
    client.ping()
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


@pytest.fixture
def worker(redis_broker, tmp_path, settings):
    settings.OSCAR_LLM = {**settings.OSCAR_LLM, "RECOMMENDATIONS": {"ENGINE_DIR": str(tmp_path / "engine")}}
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": REDIS_URL,
        # The worker saves its engine under this directory's recommender/ (not the shop's var/).
        "OSCAR_LLM_VAR_DIR": str(tmp_path / "var"),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    log_path = tmp_path / "worker.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "shop", "worker", "--pool", "solo", "--loglevel", "INFO"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield log_path
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    log.close()


def wait_for(predicate, timeout: float, log_path: Path, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    jobs = list(Job.objects.values("kind", "status", "error"))
    raise AssertionError(f"Timed out waiting for {what}. Jobs: {jobs}\nWorker log:\n{log_path.read_text()[-4000:]}")


def test_switch_on_fits_and_events_refresh_the_visitor_list(make_product, django_user_model, client, worker):
    dresses = [
        make_product(f"Northwind Women {c} Cotton Dress", colour=c) for c in ("Navy Blue", "Red", "Black", "White")
    ]
    jackets = [
        make_product(f"Tarn Men {c} Wool Jacket", category="Men > Clothing > Jackets", colour=c, gender="Men")
        for c in ("Black", "Olive")
    ]
    when = timezone.now() - timedelta(days=1)
    for n in range(6):
        other = django_user_model.objects.create_user(username=f"c{n}", email=f"c{n}@example.com", password="x")
        for m, product in enumerate([jackets[0], jackets[1], dresses[n % 4]]):
            Interaction.objects.create(
                user=other, product=product, event="view", created_at=when + timedelta(minutes=m)
            )

    FeatureSwitch.set(Feature.RECOMMENDATIONS, enabled=True)  # as in admin: queues the first fit
    wait_for(lambda: RecommendationList.objects.filter(kind=TRENDING).exists(), 240, worker, "the first fit")
    assert ItemVector.objects.count() == 6

    client.get(jackets[0].get_absolute_url())
    viewed_at = time.monotonic()
    visitor = client.session[services.VISITOR_SESSION_KEY]

    def visitor_list():
        row = RecommendationList.objects.filter(kind=VISITOR, key=visitor).first()
        return row if row and row.items else None

    row = wait_for(visitor_list, 60, worker, "the visitor's list")
    elapsed = time.monotonic() - viewed_at
    print(f"event -> refreshed list in {elapsed:.2f} s")
    # Customers who viewed that jacket viewed the other one next.
    assert row.items[0]["id"] == jackets[1].pk
    items = services.block_items(services.FOR_YOU, visitor=visitor, product=jackets[0], limit=2)
    assert items[0].product == jackets[1]
    assert jackets[0].title in items[0].reason_text
