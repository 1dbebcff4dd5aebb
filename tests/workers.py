"""Real Celery workers on a real Redis broker, for the worker tests.

Each worker test file uses its own Redis database, so files can run side by side. The
workers are ``celery -A shop worker`` processes against the test database, so their tests
need committed data (``transactional_db``) and a database file or server the worker can open.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import database_url

ROOT = Path(__file__).resolve().parents[1]


def _drop_connections(app: Any) -> None:
    """Forget pooled broker connections and producers, so the next message uses the new broker_url."""
    app.close()
    app.amqp._producer_pool = None


@contextmanager
def redis_broker(url: str) -> Iterator[Any]:
    """Point this process's Celery app at a clean Redis database; restore it afterwards."""
    import redis

    from shop.celery import app

    client = redis.Redis.from_url(url)
    client.ping()  # a clear failure when Redis is not running
    client.flushdb()
    previous = (app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_transport_options)
    _drop_connections(app)
    app.conf.broker_url = url
    app.conf.broker_transport_options = {"visibility_timeout": 3600}
    app.conf.task_always_eager = False
    try:
        yield client
    finally:
        _drop_connections(app)
        app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_transport_options = previous
        client.flushdb()


class Worker:
    """One ``celery -A shop worker --pool solo`` process on ``broker_url``; ``env`` adds settings,
    ``queues`` are the queues it consumes (``-Q``; default: Celery's default queue)."""

    def __init__(
        self,
        log_path: Path,
        broker_url: str,
        env: dict[str, str] | None = None,
        queues: list[str] | None = None,
        name: str = "",
    ) -> None:
        full_env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": broker_url,
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        full_env.pop("CELERY_TASK_ALWAYS_EAGER", None)
        self.log_path = log_path
        self.log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        command = [sys.executable, "-m", "celery", "-A", "shop", "worker", "--pool", "solo", "--loglevel", "INFO"]
        if queues:
            command += ["-Q", ",".join(queues)]
        if name:
            command += ["-n", f"{name}@%h"]
        self.proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=full_env,
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


@contextmanager
def worker_starter(tmp_path: Path, broker_url: str, env: dict[str, str]) -> Iterator[Callable[[], Worker]]:
    """``start()`` launches another worker; every one started is stopped on exit."""
    workers: list[Worker] = []

    def start(queues: list[str] | None = None, extra_env: dict[str, str] | None = None, name: str = "") -> Worker:
        worker = Worker(
            tmp_path / f"worker{len(workers)}.log", broker_url, {**env, **(extra_env or {})}, queues=queues, name=name
        )
        workers.append(worker)
        return worker

    try:
        yield start
    finally:
        for worker in workers:
            worker.stop()


def wait_for(
    predicate: Callable[[], Any],
    timeout: float,
    worker: Worker | None = None,
    what: str = "condition",
    every: float = 0.2,
    details: Callable[[], str] | None = None,
) -> Any:
    """Poll ``predicate`` until it is truthy; on timeout fail with the worker's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    log = worker.output()[-4000:] if worker else ""
    extra = f"{details()}\n" if details else ""
    raise AssertionError(f"Timed out waiting for {what}. {extra}Worker log:\n{log}")


_WEB_PRELUDE = """import os, sys, json
sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
import django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
result = {}
"""
_WEB_EPILOGUE = """
result["heavy"] = sorted(
    m for m in sys.modules if m.split(".")[0] in ("torch", "transformers", "sentence_transformers", "tokenizers")
)
print(json.dumps(result))
"""


def run_in_web_process(body: str, *args: str, env: dict[str, str] | None = None, timeout: int = 120) -> dict:
    """Run ``body`` in a new Python process set up as a web process is (Django and its test ``Client``,
    no worker) against the test database, with ``args`` in ``sys.argv[1:]``.

    ``body`` fills the dict ``result``, which comes back with ``result["heavy"]``: the model libraries
    the process imported, which a page must never do.
    """
    out = subprocess.run(
        [sys.executable, "-c", _WEB_PRELUDE + body + _WEB_EPILOGUE, *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])
