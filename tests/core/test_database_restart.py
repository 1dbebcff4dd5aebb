"""Storefront pages while the database refuses connections (issue 11, "PostgreSQL restart").

The database is made unreachable for real: the connection settings point at a closed port (PostgreSQL)
or an unopenable file (SQLite) and are put back by a timer, so the page's first connections fail the way
they fail while PostgreSQL restarts.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection

from oscar_llm.middleware import DatabaseRestartMiddleware

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def database_away(seconds: float | None) -> Iterator[threading.Event]:
    """Make new connections fail until ``seconds`` have passed (``None``: until the block ends)."""
    settings = connection.settings_dict
    saved = {key: settings[key] for key in ("NAME", "PORT", "HOST")}
    connection.close()
    if connection.vendor == "sqlite":
        settings["NAME"] = "/nonexistent-directory/for-this-test/db.sqlite3"
    else:
        settings.update(HOST="127.0.0.1", PORT="1")  # nothing listens on port 1: connection refused
    back = threading.Event()

    def restore() -> None:
        settings.update(saved)
        back.set()

    timer = threading.Timer(seconds, restore) if seconds is not None else None
    if timer:
        timer.start()
    try:
        yield back
    finally:
        if timer:
            timer.cancel()
        restore()
        connection.close()


def test_a_product_page_asked_for_while_the_database_restarts_is_served_once_it_is_back(client, make_product):
    product = make_product()
    url = product.get_absolute_url()
    assert client.get(url).status_code == 200

    with database_away(1.0) as back:
        response = client.get(url)
        assert back.is_set(), "the page was answered before the database came back"

    assert response.status_code == 200
    assert product.title in response.content.decode()


def test_a_database_that_stays_away_gives_a_503_page_with_retry_after(client, make_product, settings):
    product = make_product()
    url = product.get_absolute_url()
    settings.OSCAR_LLM = {**getattr(settings, "OSCAR_LLM", {}), "DATABASE_RETRY_SECONDS": 0.5}

    with database_away(None):
        response = client.get(url)

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "Please reload the page" in response.content.decode()


def test_a_post_is_never_retried_and_other_errors_are_not_caught(rf):
    calls = []

    def view(request):
        calls.append(request.method)
        raise ValueError("not a database error")

    middleware = DatabaseRestartMiddleware(lambda request: None)
    # For a POST the middleware steps aside (returns None): Django calls the view once, as without it.
    assert middleware.process_view(rf.post("/basket/add/1/"), view, (), {}) is None
    assert calls == []

    with pytest.raises(ValueError):
        middleware.process_view(rf.get("/catalogue/"), view, (), {})
    assert calls == ["GET"]
