"""A real Celery worker on Redis (db 13): switching recommendations on fits the engine, and a
visitor's new events refresh their list within seconds."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from oscar_llm.interactions import VISITOR_SESSION_KEY
from oscar_llm.models import Feature, FeatureSwitch, Interaction, ItemVector, Job, RecommendationList
from oscar_llm.recommendations import services
from oscar_llm.recommendations.config import TRENDING, VISITOR
from tests import workers
from tests.workers import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

REDIS_URL = os.environ.get("OSCAR_LLM_TEST_RECS_REDIS_URL", "redis://127.0.0.1:6379/13")


@pytest.fixture
def worker(tmp_path, settings):
    settings.OSCAR_LLM = {**settings.OSCAR_LLM, "RECOMMENDATIONS": {"ENGINE_DIR": str(tmp_path / "engine")}}
    # The worker saves its engine under this directory's recommender/ (not the shop's var/).
    env = {"OSCAR_LLM_VAR_DIR": str(tmp_path / "var")}
    with workers.redis_broker(REDIS_URL), workers.worker_starter(tmp_path, REDIS_URL, env) as start:
        yield start()


def _wait(predicate, timeout: float, worker: workers.Worker, what: str):
    return wait_for(predicate, timeout, worker, what, every=0.1, details=lambda: f"Jobs: {_jobs()}")


def _jobs() -> list:
    return list(Job.objects.values("kind", "status", "error"))


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
    _wait(lambda: RecommendationList.objects.filter(kind=TRENDING).exists(), 240, worker, "the first fit")
    assert ItemVector.objects.count() == 6

    client.get(jackets[0].get_absolute_url())
    viewed_at = time.monotonic()
    visitor = client.session[VISITOR_SESSION_KEY]

    def visitor_list():
        row = RecommendationList.objects.filter(kind=VISITOR, key=visitor).first()
        return row if row and row.items else None

    row = _wait(visitor_list, 60, worker, "the visitor's list")
    elapsed = time.monotonic() - viewed_at
    print(f"event -> refreshed list in {elapsed:.2f} s")
    # Customers who viewed that jacket viewed the other one next.
    assert row.items[0]["id"] == jackets[1].pk
    items = services.block_items(services.FOR_YOU, visitor=visitor, product=jackets[0], limit=2)
    assert items[0].product == jackets[1]
    assert jackets[0].title in items[0].reason_text
