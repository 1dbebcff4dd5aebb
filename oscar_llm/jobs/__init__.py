"""Jobs: the table, the registry of kinds, the batch runner (docs/architecture.md, "Jobs").

Features use only what is exported here::

    from oscar_llm import jobs

    DRAFT = jobs.register_kind("support.draft", run_draft_jobs, batch_size=16, family=jobs.TEXT)  # wiring.ready()
    jobs.request(DRAFT, target_model="oscar_llm.message", target_id=message.pk, key=jobs.JobKey(...))
"""

from .queue import (
    JobKey,
    claim,
    complete,
    fail,
    nudge,
    on_commit_once,
    queue_for,
    queues,
    request,
    send,
    sweep,
    worker_token,
)
from .registry import (
    EMAIL,
    EMBEDDINGS,
    FAMILIES,
    FITS,
    TEXT,
    JobKind,
    all_kinds,
    family_for,
    get_kind,
    kind_family,
    kinds_of,
    register_kind,
)
from .runner import run_claimed, run_pending

__all__ = [
    "EMAIL",
    "EMBEDDINGS",
    "FAMILIES",
    "FITS",
    "TEXT",
    "all_kinds",
    "family_for",
    "kind_family",
    "queue_for",
    "queues",
    "JobKey",
    "JobKind",
    "claim",
    "complete",
    "fail",
    "get_kind",
    "kinds_of",
    "nudge",
    "on_commit_once",
    "register_kind",
    "request",
    "run_claimed",
    "run_pending",
    "send",
    "sweep",
    "worker_token",
]
