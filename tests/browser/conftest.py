"""A real Chromium (Debian's, through Playwright) against pytest-django's live server."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest

# Playwright's sync API runs an event loop in this thread; Django would otherwise refuse
# ORM calls made by the test itself (creating products, checking rows) next to it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("OSCAR_LLM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Only the live server is reachable; Oscar's pages also ask a CDN for jQuery (and fall back
# to their own copy), so other hosts are refused at once instead of waiting for a timeout.
EXTERNAL = re.compile(r"^https?://(?!localhost[:/]|127\.0\.0\.1[:/]|\[::1\][:/])")


@pytest.fixture(scope="session")
def browser() -> Iterator:
    from playwright import sync_api  # pinned in requirements.txt: missing means a broken setup

    if not os.path.exists(CHROMIUM):
        # bin/test installs Debian's chromium where it can; in CI a missing browser is a failure,
        # on a developer's machine without it the browser tests say so and step aside.
        message = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, transactional_db) -> Iterator:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 1000})
    context.route(EXTERNAL, lambda route: route.abort())
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def login_as(page, live_server, client):
    """Put the session of ``client.force_login(user)`` into the browser (skips the login form)."""
    from django.conf import settings

    def login(user):
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
        return page

    return login
