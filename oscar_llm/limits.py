"""Rate limits per customer (or per client address): how often one of them may do one thing.

Each post of a support ticket or message queues model work, and the click beacon writes rows, so a
script could make a shop's workers busy for nothing. Features call :func:`hit` before the write;
the limits are ``OSCAR_LLM["RATE_LIMITS"]`` (``{"support.ticket": {"hour": 5, "day": 20}, ...}``),
counted in fixed windows in Django's cache. The cache must be shared by every web process (Redis in
production; the system check ``oscar_llm.W011`` says so), or each process counts on its own.

A client's address is the connection's unless ``OSCAR_LLM["NUM_PROXIES"]`` (else DRF's
``NUM_PROXIES``) says how many proxies in front of the shop append to ``X-Forwarded-For``: without
that, a client could pick its own key by sending the header.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from .settings import llm_settings

WINDOWS: dict[str, int] = {"minute": 60, "hour": 3600, "day": 86400}
_WINDOW_WORDS = {"minute": "a minute", "hour": "an hour", "day": "a day"}


class RateLimited(Exception):
    """``key`` did ``action`` more often than its limit for ``window`` allows."""

    def __init__(self, action: str, window: str, limit: int, retry_after: int) -> None:
        self.action, self.window, self.limit, self.retry_after = action, window, limit, retry_after
        minutes = max(1, round(retry_after / 60))
        super().__init__(
            f"That is more than {limit} in {_WINDOW_WORDS.get(window, window)}. "
            f"Please try again in {minutes} minute{'s' if minutes != 1 else ''}."
        )


@dataclass(frozen=True)
class Limit:
    window: str
    seconds: int
    count: int


def limits_for(action: str) -> list[Limit]:
    """The configured limits of ``action`` (none: unlimited). Unknown window names raise at once."""
    configured = (llm_settings.RATE_LIMITS or {}).get(action) or {}
    result = []
    for window, count in configured.items():
        if window not in WINDOWS:
            raise ValueError(f"OSCAR_LLM['RATE_LIMITS'][{action!r}]: unknown window {window!r}; use {list(WINDOWS)}")
        if count is not None:
            result.append(Limit(window, WINDOWS[window], int(count)))
    return result


def hit(action: str, key: str, *, now: float | None = None) -> None:
    """Count one ``action`` by ``key``; raise :class:`RateLimited` when that is over a limit.

    Refused attempts count too, so a client that keeps trying stays refused until the window ends.
    """
    now = time.time() if now is None else now
    for limit in limits_for(action):
        bucket = int(now // limit.seconds)
        cache_key = f"oscar_llm:rate:{action}:{limit.window}:{bucket}:{key}"
        cache.add(cache_key, 0, timeout=limit.seconds + 60)
        try:
            count = cache.incr(cache_key)
        except ValueError:  # evicted between add and incr
            cache.set(cache_key, 1, timeout=limit.seconds + 60)
            count = 1
        if count > limit.count:
            retry_after = int((bucket + 1) * limit.seconds - now) + 1
            raise RateLimited(action, limit.window, limit.count, retry_after)


def num_proxies() -> int:
    """How many trusted proxies append to ``X-Forwarded-For`` (0: trust none)."""
    configured = llm_settings.NUM_PROXIES
    if configured is None:
        from rest_framework.settings import api_settings

        configured = api_settings.NUM_PROXIES
    return max(0, int(configured or 0))


def client_address(request: Any) -> str:
    """The client's address: the connection's, or the one the trusted proxies saw (see module doc)."""
    remote = str(request.META.get("REMOTE_ADDR") or "")
    proxies = num_proxies()
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if not proxies or not forwarded:
        return remote
    addresses = [a.strip() for a in str(forwarded).split(",") if a.strip()]
    if not addresses:
        return remote
    # The last ``proxies`` entries were written by our proxies; the one before them is the client.
    return addresses[-min(proxies, len(addresses))]


def key_for(request: Any = None, user: Any = None) -> str:
    """The key a limit counts under: the signed-in user, else the client's address."""
    if user is None and request is not None:
        user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    return f"ip:{client_address(request) if request is not None else ''}"


def check_limits_deploy(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """``check --deploy``: per-client limits that a client could dodge, or that each process counts alone."""
    from django.conf import settings
    from django.core.checks import Warning

    messages = []
    if llm_settings.NUM_PROXIES is None:
        from rest_framework.settings import api_settings

        if api_settings.NUM_PROXIES is None:
            messages.append(
                Warning(
                    "REST_FRAMEWORK['NUM_PROXIES'] is not set, so API throttles key anonymous clients on the "
                    "X-Forwarded-For header they send.",
                    hint="Set it (and OSCAR_LLM['NUM_PROXIES']) to the number of proxies in front of the shop; "
                    "0 when clients connect directly.",
                    id="oscar_llm.W010",
                )
            )
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend.endswith(("LocMemCache", "DummyCache")):
        messages.append(
            Warning(
                f"The default cache is {backend.rsplit('.', 1)[-1]}: every web process counts the rate limits "
                "(OSCAR_LLM['RATE_LIMITS']) and API throttles on its own.",
                hint="Use a cache all processes share (Redis, Memcached, the database cache).",
                id="oscar_llm.W011",
            )
        )
    return messages
