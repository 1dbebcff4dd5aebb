"""Time from a customer's product question to its published answer, with a real Celery worker.

    BENCH_REDIS_URL=redis://127.0.0.1:6379/2 .venv/bin/python bench/bench_qa.py --n 20

The bench's own database (``BENCH_DATABASE_URL``, default ``var/bench.sqlite3``) holds the demo shop;
a ``celery -A shop worker --pool solo`` process on Redis answers the questions through the production
path (the ``qa.answer`` job: evidence, ranking, writing, checks, auto-publish). Questions are asked one
at a time (each answered before the next: a quiet shop) and then all at once (a burst). Latency is
``answered_at - created_at`` of each question (``published_at`` for the published ones); the worker's
one-off model load is excluded by a warm-up question. Prints a few lines and, last, a JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

QUESTIONS = (
    "What material is it made of?",
    "What colour is it?",
    "Which brand makes it?",
    "What size is it?",
    "Can I return it if it doesn't fit?",
    "How long does delivery take?",
    "Is it suitable for summer?",
    "Is it for men or women?",
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    broker = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2")
    # The answers' e-mails are not what is measured (and this machine has no mail server).
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

    import _setup

    # Not the in-memory broker the other benches use: this bench's own worker must get the jobs.
    _setup.django_setup(broker=broker)
    _setup.ensure_demo_shop()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from oscar.core.loading import get_model

    from oscar_llm.models import Feature, FeatureSwitch, ProductQuestion
    from oscar_llm.qa import services
    from shop.celery import app

    assert app.conf.broker_url == broker, app.conf.broker_url
    FeatureSwitch.set(Feature.QA, enabled=True, auto_publish=True)
    customer = get_user_model().objects.filter(is_staff=False).order_by("pk").first()
    products = list(get_model("catalogue", "Product").objects.browsable().order_by("pk")[: args.n])
    env = {**os.environ, "CELERY_BROKER_URL": broker, "PYTHONUNBUFFERED": "1"}
    log = open(ROOT / "var" / "bench_qa_worker.log", "w")  # noqa: SIM115 - closed below
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "shop", "worker", "--pool", "solo", "--loglevel", "INFO"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    connection.close()
    # Stopped from outside (SIGTERM): still stop the worker in ``finally``.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    def wait(ids: list[int]) -> None:
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            if not ProductQuestion.objects.filter(pk__in=ids, status=ProductQuestion.Status.PENDING).exists():
                return
            time.sleep(0.2)
        raise SystemExit(f"questions still pending after {args.timeout}s; see var/bench_qa_worker.log")

    def ask(i: int, product: object) -> int:
        return services.ask(
            product, customer, f"{QUESTIONS[i % len(QUESTIONS)]} (#{time.time_ns()})", rate_key=f"bench:{i}"
        ).pk

    def latencies(ids: list[int]) -> tuple[list[float], int]:
        rows = ProductQuestion.objects.filter(pk__in=ids)
        published = sum(1 for q in rows if q.status == ProductQuestion.Status.PUBLISHED)
        return [((q.published_at or q.answered_at) - q.created_at).total_seconds() for q in rows], published

    try:
        started = time.monotonic()
        warm = ask(0, products[0])
        wait([warm])
        load_seconds = time.monotonic() - started
        one_by_one = []
        for i, product in enumerate(products):
            qid = ask(i, product)
            wait([qid])
            one_by_one.append(qid)
        quiet, quiet_published = latencies(one_by_one)
        burst_ids = [ask(i, p) for i, p in enumerate(products)]
        wait(burst_ids)
        burst, burst_published = latencies(burst_ids)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
        log.close()
    summary = {
        "questions": len(products),
        "worker_first_answer_seconds": round(load_seconds, 2),
        "quiet_median_seconds": round(statistics.median(quiet), 3),
        "quiet_p95_seconds": round(percentile(quiet, 0.95), 3),
        "quiet_published": quiet_published,
        "burst_median_seconds": round(statistics.median(burst), 3),
        "burst_p95_seconds": round(percentile(burst, 0.95), 3),
        "burst_published": burst_published,
        "burst_vs_quiet_median": round(statistics.median(burst) / max(statistics.median(quiet), 1e-9), 2),
    }
    print(
        f"question -> answer, one at a time: median {summary['quiet_median_seconds']}s, "
        f"p95 {summary['quiet_p95_seconds']}s ({quiet_published}/{len(products)} published); burst of "
        f"{len(products)}: median {summary['burst_median_seconds']}s, p95 {summary['burst_p95_seconds']}s; "
        f"worker's first answer (model load) {summary['worker_first_answer_seconds']}s"
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
