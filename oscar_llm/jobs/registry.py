"""Job kinds -> the handler that runs a batch of them (docs/architecture.md, "Jobs").

Each feature registers its kinds in its ``wiring.ready()``; the core never names a feature's kind.
A kind that is not registered cannot be requested (``jobs.request`` raises), and a job of a kind
this process does not know (an old message after a rename) fails with that message instead of
waiting for ever.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from ..models import Job

Handler = Callable[[list[Job]], Any]


@dataclass(frozen=True)
class JobKind:
    """A kind of job: its name (``"<feature>.<what>"``), the handler of a batch, the batch size."""

    name: str
    handler: Handler
    batch_size: int = 1

    def __str__(self) -> str:
        return self.name


_kinds: dict[str, JobKind] = {}


def register_kind(name: str, handler: Handler, batch_size: int = 1) -> JobKind:
    """Register a kind (idempotent for the same handler); returns it, to pass to ``jobs.request``."""
    if "." not in name:
        raise ImproperlyConfigured(f"Job kind {name!r}: name it '<feature>.<what>'.")
    if batch_size < 1:
        raise ImproperlyConfigured(f"Job kind {name!r}: batch_size must be at least 1.")
    existing = _kinds.get(name)
    if existing and (existing.handler is not handler or existing.batch_size != batch_size):
        raise ImproperlyConfigured(f"Job kind {name!r} is registered twice with different handlers.")
    kind = JobKind(name, handler, batch_size)
    _kinds[name] = kind
    return kind


def get_kind(kind: str | JobKind) -> JobKind:
    name = kind.name if isinstance(kind, JobKind) else kind
    try:
        return _kinds[name]
    except KeyError:
        raise LookupError(f"Unknown job kind {name!r}: no feature registered it.") from None


def kinds_of(prefix: str) -> list[str]:
    """The registered kinds of one feature (``"content"`` -> ``["content.title", ...]``)."""
    return sorted(name for name in _kinds if name.startswith(prefix + "."))
