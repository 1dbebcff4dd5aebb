"""Many workers, one shop: job families routed to their own Celery queues (``OSCAR_LLM["QUEUES"]``).

The routing is checked on the real Redis broker (the messages in each queue's list), and then with
two real ``celery -A shop worker`` processes on different queues: a text worker (``-Q llm-text``,
the shop's GPU host) and a small worker (``-Q celery,llm-small``) that fits the recommendations.
"""

from __future__ import annotations

import base64
import json
import os

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Max
from oscar.core.loading import get_model

from oscar_llm import jobs
from oscar_llm.content import services
from oscar_llm.jobs import registry
from oscar_llm.models import Feature, FeatureSwitch, Job
from oscar_llm.recommendations import history
from tests import workers
from tests.workers import wait_for

REDIS_URL = os.environ.get("OSCAR_LLM_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROUTES = {"text": "llm-text", "embeddings": "llm-small", "fits": "llm-small", "email": "llm-mail"}
ROUTES_ENV = ",".join(f"{family}={queue}" for family, queue in ROUTES.items())


def _queued(client, queue: str) -> list[list[int]]:
    """The job ids of every ``run_jobs`` message waiting in ``queue`` (kombu's Redis list)."""
    found = []
    for raw in client.lrange(queue, 0, -1):
        message = json.loads(raw)
        assert message["headers"]["task"] == "oscar_llm.tasks.run_jobs"
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        found.append(list(args[0]))
    return found


def test_every_registered_kind_has_a_family():
    kinds = jobs.all_kinds()
    assert {kind.family for kind in kinds} == set(jobs.FAMILIES)
    by_name = {kind.name: kind.family for kind in kinds}
    assert by_name["content.title"] == by_name["support.draft"] == jobs.TEXT
    assert by_name["recs.fit"] == by_name["recs.profile"] == jobs.FITS
    assert by_name["recs.vectors"] == by_name["support.embed_article"] == jobs.EMBEDDINGS
    assert by_name["support.reply_email"] == jobs.EMAIL


def test_kinds_without_a_family_take_one_from_their_name():
    # Kinds a later feature registers (or a message of a kind this process does not know) still route.
    assert jobs.family_for("qa.answer") == jobs.TEXT
    assert jobs.family_for("marketing.email_copy") == jobs.TEXT
    assert jobs.family_for("marketing.send_campaign") == jobs.EMAIL
    assert jobs.family_for("qa.embed_question") == jobs.EMBEDDINGS
    assert jobs.family_for("experiments.fit_bandit") == jobs.FITS
    assert jobs.kind_family("recs.fit") == jobs.FITS
    try:
        kind = jobs.register_kind("testfeature.summarise", lambda batch: None)
        assert kind.family == jobs.TEXT
        with pytest.raises(ImproperlyConfigured, match="family"):
            jobs.register_kind("testfeature.other", lambda batch: None, family="gpu")
    finally:
        registry._kinds.pop("testfeature.summarise", None)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_each_kind_is_sent_to_its_familys_queue(settings):
    settings.OSCAR_LLM = {**settings.OSCAR_LLM, "QUEUES": ROUTES}
    with workers.redis_broker(REDIS_URL) as client:
        rows = {}
        for kind in [*jobs.all_kinds(), "marketing.send_campaign"]:  # the last: known to no feature yet
            name = getattr(kind, "name", kind)
            rows[name] = Job.objects.create(kind=name, target_model="test.target", target_id=1)
        jobs.send([job.pk for job in rows.values()])  # one message per queue, as the sweep sends
        for name, job in rows.items():
            family = jobs.kind_family(name)
            queued = [pk for message in _queued(client, ROUTES[family]) for pk in message]
            assert job.pk in queued, (name, family)
        # Nothing is left on Celery's default queue, and a queue holds only its families' jobs.
        assert not client.llen("celery")
        text_ids = {pk for message in _queued(client, "llm-text") for pk in message}
        assert {Job.objects.get(pk=pk).kind for pk in text_ids} <= {
            name for name in rows if jobs.kind_family(name) == jobs.TEXT
        }
        assert Job.objects.filter(queued_at__isnull=False).count() == len(rows)

        # Without the setting, every family goes to Celery's default queue (one plain worker runs all).
        client.flushdb()
        settings.OSCAR_LLM = {k: v for k, v in settings.OSCAR_LLM.items() if k != "QUEUES"}
        jobs.send([job.pk for job in rows.values()])
        assert sorted(pk for message in _queued(client, "celery") for pk in message) == sorted(
            job.pk for job in rows.values()
        )


def _bulk_products(n: int) -> None:
    """``n`` public products without vectors: the fit embeds them first (MiniLM), which takes a while."""
    Product = get_model("catalogue", "Product")
    ProductClass = get_model("catalogue", "ProductClass")
    product_class = ProductClass.objects.order_by("pk").first()
    Product.objects.bulk_create(
        [
            Product(
                structure=Product.STANDALONE,
                upc=f"QUEUE-{i}",
                title=f"Tarn Men Olive Wool Jacket {i}",
                slug=f"queue-product-{i}",
                product_class=product_class,
                is_public=True,
            )
            for i in range(n)
        ]
    )


def _pid(job: Job) -> int:
    return int(job.claimed_by.split(":")[1])


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_long_fit_on_the_small_worker_never_blocks_drafting_on_the_text_worker(
    settings, tiny_model, make_product, tmp_path
):
    settings.OSCAR_LLM = {**settings.OSCAR_LLM, "QUEUES": ROUTES}
    FeatureSwitch.objects.create(feature=Feature.PRODUCT_COPY, enabled=False)
    drafted = [make_product(f"NW DRS CTN NVBL M{i}", description="") for i in range(3)]
    _bulk_products(1500)
    env = {"OSCAR_LLM_QUEUES": ROUTES_ENV, "OSCAR_LLM_VAR_DIR": str(tmp_path / "var")}
    with workers.redis_broker(REDIS_URL), workers.worker_starter(tmp_path, REDIS_URL, env) as start:
        text = start(queues=["llm-text"], extra_env={"OSCAR_LLM_MODEL": tiny_model}, name="text")
        small = start(queues=["celery", "llm-small", "llm-mail"], name="small")
        for worker in (text, small):
            wait_for(lambda w=worker: "ready." in w.output(), timeout=120, worker=worker, what="the worker to start")

        fit = history.schedule_fit("test")
        wait_for(
            lambda: Job.objects.filter(pk=fit.pk, status=Job.Status.RUNNING).exists(),
            timeout=120,
            worker=small,
            what="the fit to start",
            every=0.05,
        )
        for product in drafted:
            services.request_generation(product, kinds=["title"])
        titles = Job.objects.filter(kind="content.title")
        assert titles.count() == len(drafted)
        wait_for(
            lambda: titles.filter(status=Job.Status.DONE).count() == len(drafted),
            timeout=240,
            worker=text,
            what="the titles to be drafted",
            details=lambda: str(list(Job.objects.values("kind", "status", "error"))),
        )
        drafts_done = titles.aggregate(last=Max("finished_at"))["last"]
        fit.refresh_from_db()
        # The titles were finished while the fit was still running (or before it finished).
        assert fit.finished_at is None or fit.finished_at > drafts_done, (fit.finished_at, drafts_done)
        wait_for(
            lambda: Job.objects.filter(pk=fit.pk, status=Job.Status.DONE).exists(),
            timeout=600,
            worker=small,
            what="the fit to finish",
            every=0.5,
            details=lambda: str(Job.objects.filter(pk=fit.pk).values("status", "error").first()),
        )
        fit.refresh_from_db()
        assert fit.result["items"] >= 1500
        # Each job ran on the worker of its queue.
        assert _pid(fit) == small.proc.pid
        assert {_pid(job) for job in titles} == {text.proc.pid}
