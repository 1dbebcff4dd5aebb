"""The example shop's settings are production settings unless debug is asked for (issue 11, item 1).

Each case runs ``shop/settings.py`` in a fresh process with a chosen environment, as a deployment
would; the test process's own variables (tests set a key and plain HTTP) are left out.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The test run's own variables, a deployment has none of them (the browser tests allow async-unsafe ORM calls).
OWN = (
    "DJANGO_DEBUG", "DJANGO_SECRET_KEY", "DJANGO_SECURE", "EMAIL_BACKEND", "DJANGO_NUM_PROXIES", "CACHE_URL",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)  # fmt: skip
PRODUCTION = {
    "DJANGO_SECRET_KEY": "tests-only-" + "".join(chr(ord("a") + i % 26) for i in range(60)),
    "DJANGO_ALLOWED_HOSTS": "shop.example.com",
    "CACHE_URL": "redis://127.0.0.1:6379/0",  # only named: nothing connects to it during the checks
}

SHOW = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "DEBUG": s.DEBUG, "EMAIL_BACKEND": s.EMAIL_BACKEND, "SESSION_COOKIE_SECURE": s.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": s.CSRF_COOKIE_SECURE, "SECURE_HSTS_SECONDS": s.SECURE_HSTS_SECONDS,
    "SECURE_SSL_REDIRECT": s.SECURE_SSL_REDIRECT,
    "AUTH": s.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"], "NUM_PROXIES": s.REST_FRAMEWORK["NUM_PROXIES"],
}))
"""


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in OWN and not k.startswith("PYTEST")}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "shop.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def settings_with(env: dict[str, str]) -> dict:
    done = run(["-c", SHOW], env)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_production_is_the_default_and_refuses_to_start_without_a_secret_key():
    done = run(["-c", SHOW], {"DJANGO_ALLOWED_HOSTS": "shop.example.com"})
    assert done.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in done.stderr

    values = settings_with(PRODUCTION)
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"] and values["SECURE_SSL_REDIRECT"]
    assert values["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert "console" not in values["EMAIL_BACKEND"]
    assert values["AUTH"] == ["rest_framework.authentication.SessionAuthentication"]
    assert values["NUM_PROXIES"] == 0


def test_debug_only_when_asked_for():
    values = settings_with({"DJANGO_DEBUG": "1"})  # the demo: no key needed, mail to the console, plain HTTP
    assert values["DEBUG"] is True
    assert values["EMAIL_BACKEND"].endswith("console.EmailBackend")
    assert not values["SESSION_COOKIE_SECURE"] and values["SECURE_HSTS_SECONDS"] == 0
    assert settings_with({**PRODUCTION, "DJANGO_DEBUG": "0"})["DEBUG"] is False


def test_check_deploy_with_production_variables_has_no_warnings():
    done = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_check_deploy_warns_about_limits_counted_per_process():
    env = {k: v for k, v in PRODUCTION.items() if k != "CACHE_URL"}
    done = run(["manage.py", "check", "--deploy"], env)
    assert "oscar_llm.W011" in done.stdout + done.stderr
