"""Storefront pages that ride out a database restart (docs/architecture.md, "Faults").

A PostgreSQL restart (a fail-over, a minor upgrade, ``pg_ctl restart``) refuses connections for a second
or two. Without help every page asked for in that window answers 500. ``DatabaseRestartMiddleware``
retries a safe request's view (GET or HEAD: reading twice changes nothing) while the database refuses
connections, with a short back-off, for at most ``OSCAR_LLM["DATABASE_RETRY_SECONDS"]``; after that the
customer gets a plain 503 page with ``Retry-After`` instead of an error page. Unsafe methods (a checkout
POST) are never retried: they fail as before, so nothing is done twice.

The view is retried, not the rendering of its template: a view's first query is where a restarting database
shows (the product, the basket, the session), and by the time it has answered the rendering's queries find it
back. Rendering a ``TemplateResponse`` early, inside the retry, left Oscar's basket page without its content
(tests/browser/test_recommendations_browser.py caught it). Inside a transaction (``ATOMIC_REQUESTS``) a retry
cannot help, so the error goes on as it would without this middleware.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse

from oscar_llm.models.core import request_memo
from oscar_llm.settings import llm_settings

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD"})


def _in_transaction() -> bool:
    return any(conn.in_atomic_block for conn in connections.all(initialized_only=True))


def _close_broken_connections() -> None:
    for conn in connections.all(initialized_only=True):
        try:
            conn.close()
        except DatabaseError:  # a connection to a stopped server may fail to close: it is gone anyway
            conn.connection = None


def unavailable_response(retry_after: int = 5) -> HttpResponse:
    """The page a customer sees when the database stays away longer than the retry allows."""
    response = HttpResponse(
        "<!doctype html><title>Back in a moment</title>"
        "<h1>Back in a moment</h1><p>The shop is restarting. Please reload the page in a few seconds.</p>",
        status=503,
        content_type="text/html; charset=utf-8",
    )
    response["Retry-After"] = str(retry_after)
    return response


class DatabaseRestartMiddleware:
    """Retry safe requests while the database restarts; 503 with ``Retry-After`` if it stays down.

    Put it last in ``MIDDLEWARE``, so every other middleware's ``process_view`` has run first (README,
    "Adding oscar_llm to an existing Oscar shop").
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The feature switches are read from the cache once per request, not once per template tag.
        with request_memo():
            return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: tuple, kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        if request.method not in SAFE_METHODS or _in_transaction():
            return None
        budget = float(llm_settings.DATABASE_RETRY_SECONDS)
        if budget <= 0:
            return None
        deadline = time.monotonic() + budget
        delay = 0.1
        attempt = 0
        while True:
            attempt += 1
            try:
                return view(request, *args, **kwargs)
            except (OperationalError, InterfaceError) as exc:
                if _in_transaction():
                    raise
                _close_broken_connections()
                if time.monotonic() + delay > deadline:
                    logger.warning("database unavailable for %s after %d attempts: %s", request.path, attempt, exc)
                    return unavailable_response()
                logger.info("database unavailable for %s (attempt %d), retrying: %s", request.path, attempt, exc)
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
