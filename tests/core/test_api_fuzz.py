"""The OpenAPI schema fuzzed with schemathesis against a running server (issue 11, "Must show").

A real server (gunicorn on ``shop.wsgi``, production settings: DEBUG off, sessions only, see
``tests/fuzz_settings.py``) on the test database, fuzzed three times: as an anonymous visitor, as a
customer with a ticket and as a superuser. Every run must end with no response 500 and no response that
breaks the schema (``not_a_server_error``, ``response_schema_conformance``,
``content_type_conformance``). The number of examples per operation is bounded
(``OSCAR_LLM_FUZZ_EXAMPLES``, default 8) so the suite stays within its time; the seed is fixed, so a
failure repeats.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils.crypto import get_random_string

from oscar_llm.models import ContentDraft, Feature, FeatureSwitch, ReplyDraft
from oscar_llm.support import desk
from tests.conftest import database_url

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("OSCAR_LLM_FUZZ_EXAMPLES", "8"))
SEED = 20261202
CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"
SCHEMA_PATH = "/api/llm/schema/"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _gunicorn() -> str:
    path = Path(sys.executable).with_name("gunicorn")
    return str(path) if path.exists() else shutil.which("gunicorn") or "gunicorn"


@pytest.fixture
def server(tmp_path, transactional_db):
    """gunicorn serving the shop on the test database; yields (base url, access log path)."""
    port = _free_port()
    access = tmp_path / "access.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.fuzz_settings",
        "DATABASE_URL": database_url(),
        # The sessions below are signed and checked with this process's key.
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECURE": "0",
        "CELERY_BROKER_URL": "memory://",
        "OSCAR_LLM_VAR_DIR": str(tmp_path / "var"),
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    process = subprocess.Popen(
        [
            _gunicorn(),
            "shop.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--timeout",
            "120",
            "--access-logfile",
            str(access),
            "--access-logformat",
            "%(s)s %(m)s %(U)s",
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
        stdout=(tmp_path / "server.out").open("w"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(base + SCHEMA_PATH, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the server did not start: " + (tmp_path / "server.out").read_text()[-3000:])
            time.sleep(0.5)
        yield base, access
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _session_headers(user) -> list[str]:
    """Headers of a signed-in browser session: its cookie and a CSRF token (DRF checks it on POST)."""
    client = Client()
    client.force_login(user)
    token = get_random_string(32)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    return ["-H", f"Cookie: {cookie}; {settings.CSRF_COOKIE_NAME}={token}", "-H", f"X-CSRFToken: {token}"]


def _config(path: Path, ids: dict[str, int]) -> Path:
    """A schemathesis config that sends ids of rows that exist, so the runs reach the code behind the 404."""
    blocks = [
        f'[[operations]]\ninclude-path-regex = "{regex}"\nparameters = {{ "path.id" = {pk} }}\n'
        for regex, pk in ids.items()
    ]
    path.write_text("\n".join(blocks))
    return path


def _fuzz(base: str, name: str, report_dir: Path, extra: list[str], config: Path | None) -> dict:
    command = [
        str(Path(sys.executable).with_name("st")),
        *(["--config-file", str(config)] if config else []),
        "run", base + SCHEMA_PATH,
        "--checks", CHECKS,
        "--max-examples", str(EXAMPLES),
        "--seed", str(SEED),
        "--workers", "2",
        "--request-timeout", "60",
        "--report", "json",
        "--report-json-path", str(report_dir / f"{name}.json"),
        *extra,
    ]  # fmt: skip
    started = time.monotonic()
    done = subprocess.run(command, cwd=report_dir, capture_output=True, text=True, timeout=900)
    report_path = report_dir / f"{name}.json"
    assert report_path.is_file(), done.stdout[-4000:] + done.stderr[-2000:]
    report = json.loads(report_path.read_text())
    report["_seconds"] = time.monotonic() - started
    report["_output"] = done.stdout
    return report


@pytest.mark.fuzz
@pytest.mark.django_db(transaction=True)
def test_the_api_schema_holds_under_fuzzing(
    server, tmp_path, make_product, customer, staff_user, make_order, monkeypatch
):
    base, access = server
    # Job rows are written as usual; their Celery nudges are dropped (no worker runs here, and the test
    # process's eager Celery would load the embedding model for nothing).
    monkeypatch.setattr("oscar_llm.jobs.queue.send", lambda *args, **kwargs: None)
    for feature in Feature.values:
        FeatureSwitch.objects.update_or_create(feature=feature, defaults={"enabled": True})
    product = make_product("Northwind Women Navy Blue Cotton Dress")
    make_product("Northwind Women Red Linen Dress")
    order = make_order(customer)
    ticket = desk.open_ticket(customer, "Where is my parcel?", "It has not arrived.", order=order)
    reply = ReplyDraft.objects.create(
        ticket=ticket, message=ticket.messages.get(), text="It ships within 2 working days.", confidence=0.9
    )
    draft = ContentDraft.objects.create(product=product, kind="title", text="Navy Cotton Dress", facts={})
    ids = {
        "^/api/llm/products/": product.pk,
        "^/api/llm/recommendations/products/": product.pk,
        "^/api/llm/support/tickets/\\\\{id\\\\}": ticket.pk,
        "^/api/llm/support/drafts/\\\\{id\\\\}": reply.pk,
        "^/api/llm/drafts/\\\\{id\\\\}": draft.pk,
    }
    config = _config(tmp_path / "schemathesis.toml", ids)
    report_dir = tmp_path / "reports"
    report_dir.mkdir()

    runs = {
        "anonymous": _fuzz(base, "anonymous", report_dir, [], None),
        "customer": _fuzz(base, "customer", report_dir, _session_headers(customer), config),
        "staff": _fuzz(base, "staff", report_dir, _session_headers(staff_user), config),
    }

    statuses = Counter(line.split(" ", 1)[0] for line in access.read_text().splitlines() if line.strip())
    server_errors = sum(n for code, n in statuses.items() if code.startswith("5"))
    lines = []
    for name, report in runs.items():
        cases = report["test_cases"]
        lines.append(
            f"{name}: {cases['generated']} examples, {report['operations']['tested']} operations, "
            f"{cases['with_failures']} with failures, {cases['errored']} errored, {report['_seconds']:.0f} s"
        )
    summary = (
        f"schemathesis {EXAMPLES} examples/operation (seed {SEED}): "
        + "; ".join(lines)
        + f"; server responses {dict(sorted(statuses.items()))}, 5xx: {server_errors}"
    )
    print(summary)
    (ROOT / "var").mkdir(exist_ok=True)
    (ROOT / "var" / "fuzz_summary.txt").write_text(summary + "\n")

    for name, report in runs.items():
        assert report["operations"]["tested"] >= 19, (name, report["operations"])
        assert not report["failures"] and not report["errors"], (name, report["_output"][-6000:])
    assert server_errors == 0, statuses
    # The signed-in runs got past the login: their operations answered something other than 401/403.
    assert statuses["200"] + statuses["201"] > 0
