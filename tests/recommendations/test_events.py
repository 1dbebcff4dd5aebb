"""Events -> histories -> the real engine -> lists; the anonymous-to-account merge; retention; vectors."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from oscar_llm.interactions import VISITOR_SESSION_KEY, purge_old_events
from oscar_llm.models import Feature, FeatureSwitch, Interaction, ItemVector, Job, RecommendationList
from oscar_llm.recommendations import precompute, services
from oscar_llm.recommendations.config import USER, VISITOR

pytestmark = pytest.mark.django_db


@pytest.fixture
def recs(settings, tmp_path):
    settings.OSCAR_LLM = {
        **settings.OSCAR_LLM,
        "RECOMMENDATIONS": {"ENGINE_DIR": str(tmp_path / "engine"), "REFRESH_DEBOUNCE_SECONDS": 1},
    }
    FeatureSwitch.set(Feature.RECOMMENDATIONS, enabled=True)
    precompute._loaded.update(key=None, engine=None)
    yield
    precompute._loaded.update(key=None, engine=None)


@pytest.fixture
def catalogue(make_product):
    dresses = [
        make_product(f"Northwind Women {c} Cotton Dress", colour=c) for c in ("Navy Blue", "Red", "Black", "White")
    ]
    jackets = [
        make_product(f"Tarn Men {c} Wool Jacket", category="Men > Clothing > Jackets", colour=c, gender="Men")
        for c in ("Black", "Olive", "Navy Blue", "Red")
    ]
    return dresses, jackets


def add_history(user, products, *, days_ago: float = 1.0, event: str = "view"):
    when = timezone.now() - timedelta(days=days_ago)
    for n, product in enumerate(products):
        Interaction.objects.create(user=user, product=product, event=event, created_at=when + timedelta(minutes=n))


def test_anonymous_views_are_keyed_by_a_visitor_id_and_join_the_account_at_login(
    recs, catalogue, client, customer, django_user_model, django_capture_on_commit_callbacks
):
    dresses, jackets = catalogue
    # Other customers: whoever looked at the navy dress went on to the red one.
    for n in range(6):
        other = django_user_model.objects.create_user(username=f"c{n}", email=f"c{n}@example.com", password="x")
        add_history(other, [dresses[0], dresses[1], jackets[n % 4]])
    summary = precompute.fit()
    assert summary["fitted"] and summary["items"] == 8
    assert ItemVector.objects.count() == 8  # MiniLM vectors of the product facts, computed by the fit

    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(dresses[0].get_absolute_url())
    assert response.status_code == 200
    visitor = client.session[VISITOR_SESSION_KEY]
    event = Interaction.objects.get(event="view", user__isnull=True)
    assert event.session_key == visitor and event.product == dresses[0]
    # The view queued the visitor's list refresh; it ran (eagerly here) through the real engine.
    assert Job.objects.filter(kind="recs.profile", status=Job.Status.DONE).exists()
    visitor_list = RecommendationList.objects.get(kind=VISITOR, key=visitor)
    assert visitor_list.items[0]["id"] == dresses[1].pk
    shown = services.block_items(services.FOR_YOU, visitor=visitor, product=dresses[0], limit=3)
    assert shown[0].product == dresses[1]
    assert shown[0].reason_text in (
        f"Because you viewed {dresses[0].title}",
        f"Similar to {dresses[0].title}",
    )

    old_session_key = client.session.session_key
    with django_capture_on_commit_callbacks(execute=True):
        client.login(username="alice", password="alice-password")
    assert client.session.session_key != old_session_key  # Django cycled the key...
    event.refresh_from_db()
    assert event.user == customer  # ...and the history followed the visitor to the account
    assert not RecommendationList.objects.filter(kind=VISITOR, key=visitor).exists()
    user_list = RecommendationList.objects.get(kind=USER, key=str(customer.pk))
    assert user_list.items[0]["id"] == dresses[1].pk
    shown = services.block_items(services.FOR_YOU, user=customer, product=dresses[0], limit=3)
    assert shown and shown[0].product == dresses[1]


def test_a_burst_of_events_refreshes_once(recs, catalogue, client, settings, django_capture_on_commit_callbacks):
    # A window longer than four page views take on a busy machine (the job is never sent here).
    settings.OSCAR_LLM = {
        **settings.OSCAR_LLM,
        "RECOMMENDATIONS": {**settings.OSCAR_LLM["RECOMMENDATIONS"], "REFRESH_DEBOUNCE_SECONDS": 60},
    }
    dresses, _jackets = catalogue
    with django_capture_on_commit_callbacks(execute=False):
        for product in dresses:
            client.get(product.get_absolute_url())
    assert Interaction.objects.filter(event="view").count() == 4
    assert Job.objects.filter(kind="recs.profile").count() == 1


def test_without_an_engine_the_first_refresh_fits_one(recs, catalogue, client, django_capture_on_commit_callbacks):
    dresses, _ = catalogue
    with django_capture_on_commit_callbacks(execute=True):
        client.get(dresses[0].get_absolute_url())
    assert Job.objects.get(kind="recs.fit").status == Job.Status.DONE
    assert precompute.engine_path().exists()
    visitor = client.session[VISITOR_SESSION_KEY]
    assert RecommendationList.objects.filter(kind=VISITOR, key=visitor).exists()


def test_retention_deletes_only_old_events(recs, catalogue, customer, settings):
    dresses, _ = catalogue
    add_history(customer, dresses[:2], days_ago=400)
    add_history(customer, dresses[2:], days_ago=3)
    assert purge_old_events() == 2
    assert set(Interaction.objects.values_list("product_id", flat=True)) == {dresses[2].pk, dresses[3].pk}
    settings.OSCAR_LLM = {**settings.OSCAR_LLM, "RECOMMENDATIONS": {"EVENT_RETENTION_DAYS": 1}}
    assert purge_old_events() == 2


def test_events_are_not_recorded_when_the_features_are_off(catalogue, client):
    dresses, _ = catalogue
    client.get(dresses[0].get_absolute_url())
    assert not Interaction.objects.exists()
    assert VISITOR_SESSION_KEY not in client.session


@pytest.mark.django_db(transaction=True)
def test_product_change_recomputes_its_vector_only_when_its_facts_change(recs, make_product):
    # Autocommit: every save commits, and its job runs (eagerly here) right after.
    product = make_product("Northwind Women Navy Blue Cotton Dress")
    vector = ItemVector.objects.get(product=product)
    assert vector.dimension == 384 and "MiniLM" in vector.model_id
    first = np.frombuffer(bytes(vector.vector), dtype=np.float32)
    assert abs(float(np.linalg.norm(first)) - 1.0) < 1e-3
    product.save()
    job = Job.objects.filter(kind="recs.vectors").order_by("-pk").first()
    assert job.result == {"written": 0, "unchanged": 1}
    product.title = "Tarn Men Black Wool Jacket"
    product.save()
    job = Job.objects.filter(kind="recs.vectors").order_by("-pk").first()
    assert job.result == {"written": 1, "unchanged": 0}
    changed = np.frombuffer(bytes(ItemVector.objects.get(product=product).vector), dtype=np.float32)
    assert float(first @ changed) < 0.95


@pytest.fixture
def broker_down(monkeypatch):
    from oscar_llm import interactions

    def down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(interactions.record_interactions, "apply_async", down)


def test_a_broker_that_is_down_loses_no_event(recs, catalogue, client, broker_down):
    dresses, _ = catalogue
    assert client.get(dresses[0].get_absolute_url()).status_code == 200
    event = Interaction.objects.get(event="view")
    assert event.product == dresses[0] and event.session_key == client.session[VISITOR_SESSION_KEY]


@pytest.fixture
def batched(recs, settings, monkeypatch):
    """Page views go through a buffer of their own, with Celery not running tasks inline."""
    from oscar_llm import interactions
    from shop.celery import app

    settings.OSCAR_LLM = {
        **settings.OSCAR_LLM,
        "RECOMMENDATIONS": {**settings.OSCAR_LLM["RECOMMENDATIONS"], "EVENT_BATCH_SECONDS": 0.05},
    }
    app.conf.task_always_eager = False
    own = interactions.EventBuffer()
    monkeypatch.setattr(interactions, "buffer", own)
    yield own
    own.close()


def wait_for(condition, *, seconds: float = 10.0) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_page_views_wait_in_the_process_and_go_to_the_worker_as_one_message(
    batched, catalogue, client, monkeypatch, settings
):
    from oscar_llm import interactions

    recs = settings.OSCAR_LLM["RECOMMENDATIONS"]
    # The thread waits longer than the test: what is sent, the flush below sends.
    settings.OSCAR_LLM = {**settings.OSCAR_LLM, "RECOMMENDATIONS": {**recs, "EVENT_BATCH_SECONDS": 3600}}

    sent: list[list[dict]] = []
    monkeypatch.setattr(interactions.record_interactions, "apply_async", lambda args, **kw: sent.append(args[0]))
    dresses, jackets = catalogue
    for product in (dresses[0], dresses[1], jackets[0]):
        assert client.get(product.get_absolute_url()).status_code == 200
    assert not sent and not Interaction.objects.exists()  # the requests neither published nor wrote
    assert batched.flush() == 3
    assert [[row["product_id"] for row in rows] for rows in sent] == [[dresses[0].pk, dresses[1].pk, jackets[0].pk]]


def test_a_basket_addition_is_sent_at_once(batched, monkeypatch):
    from oscar_llm import interactions

    sent: list[list[dict]] = []
    monkeypatch.setattr(interactions.record_interactions, "apply_async", lambda args, **kw: sent.append(args[0]))
    interactions.dispatch([{"event": "basket", "product_id": 7}])
    assert sent == [[{"event": "basket", "product_id": 7}]] and batched.rows == []


def test_a_full_buffer_is_sent_in_batches_of_at_most_batch_max(batched, monkeypatch):
    from oscar_llm import interactions

    sent: list[list[dict]] = []
    monkeypatch.setattr(interactions.record_interactions, "apply_async", lambda args, **kw: sent.append(args[0]))
    rows = [{"event": "view", "product_id": n} for n in range(interactions.EventBuffer.BATCH_MAX * 2 + 5)]
    with batched.lock:
        batched.rows.extend(rows)
    assert batched.flush() == len(rows)
    assert [len(batch) for batch in sent] == [200, 200, 5]


@pytest.mark.django_db(transaction=True)
def test_buffered_events_are_written_by_the_thread_when_the_broker_is_down(batched, catalogue, client, broker_down):
    dresses, _ = catalogue
    assert client.get(dresses[2].get_absolute_url()).status_code == 200
    assert wait_for(lambda: Interaction.objects.filter(event="view", product=dresses[2]).exists())
    assert batched.rows == []
