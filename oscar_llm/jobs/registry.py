"""Job kinds -> the handler that runs a batch of them (docs/architecture.md, "Jobs").

Each feature registers its kinds in its ``wiring.ready()``; the core never names a feature's kind.
A kind that is not registered cannot be requested (``jobs.request`` raises), and a job of a kind
this process does not know (an old message after a rename) fails with that message instead of
waiting for ever.

Each kind belongs to a **family** (:data:`FAMILIES`: text generation, embeddings, recommendation
fits, e-mail), and ``OSCAR_LLM["QUEUES"]`` maps a family to the Celery queue its messages go to
(docs/architecture.md, "Queues"), so a shop can run text generation on GPU hosts and the rest on
small ones. A kind registered without a family gets one from its name (:func:`family_for`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from ..models import Job

Handler = Callable[[list[Job]], Any]

TEXT = "text"
EMBEDDINGS = "embeddings"
FITS = "fits"
EMAIL = "email"
#: The job families, each a queue a shop may route to its own workers.
FAMILIES = (TEXT, EMBEDDINGS, FITS, EMAIL)

# Words in a kind's name that say its family, when its registration does not (checked in order).
_NAME_HINTS = (
    (EMAIL, ("send", "notify")),  # "marketing.email_copy" writes text; "marketing.send" sends it
    (EMBEDDINGS, ("embed", "vector")),
    (FITS, ("fit", "train", "recs.", "recommend")),
)


def family_for(name: str) -> str:
    """The family of a kind registered without one, from words in its name; otherwise text
    generation, the family of most of the plugin's work (and the one whose workers load the model)."""
    lowered = name.lower()
    for family, words in _NAME_HINTS:
        if any(word in lowered for word in words):
            return family
    return TEXT


@dataclass(frozen=True)
class JobKind:
    """A kind of job: its name (``"<feature>.<what>"``), the handler of a batch, the batch size and
    its family (which queue its messages go to)."""

    name: str
    handler: Handler
    batch_size: int = 1
    family: str = TEXT

    def __str__(self) -> str:
        return self.name


_kinds: dict[str, JobKind] = {}


def register_kind(name: str, handler: Handler, batch_size: int = 1, family: str | None = None) -> JobKind:
    """Register a kind (idempotent for the same handler); returns it, to pass to ``jobs.request``.

    ``family`` is one of :data:`FAMILIES`; ``None`` takes it from the name (:func:`family_for`).
    """
    if "." not in name:
        raise ImproperlyConfigured(f"Job kind {name!r}: name it '<feature>.<what>'.")
    if batch_size < 1:
        raise ImproperlyConfigured(f"Job kind {name!r}: batch_size must be at least 1.")
    family = family or family_for(name)
    if family not in FAMILIES:
        raise ImproperlyConfigured(f"Job kind {name!r}: family {family!r} is not one of {', '.join(FAMILIES)}.")
    existing = _kinds.get(name)
    if existing and (existing.handler is not handler or existing.batch_size != batch_size or existing.family != family):
        raise ImproperlyConfigured(f"Job kind {name!r} is registered twice with different handlers.")
    kind = JobKind(name, handler, batch_size, family)
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


def kind_family(kind: str | JobKind) -> str:
    """The family of a kind; a kind this process does not know (an old or a newer message) by its name."""
    name = kind.name if isinstance(kind, JobKind) else kind
    spec = _kinds.get(name)
    return spec.family if spec else family_for(name)


def all_kinds() -> list[JobKind]:
    """Every registered kind, by name."""
    return [_kinds[name] for name in sorted(_kinds)]
