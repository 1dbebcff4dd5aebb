"""The drafting job, the Django side: tickets in, the drafter's replies stored as drafts for staff.

The drafter (:class:`.drafting.SupportDrafter`) is built once per worker process from
the shop's models and its knowledge base (:mod:`.knowledge_base`); each batch of
claimed ``support.draft`` jobs becomes plain :class:`.types.DraftRequest` values
(the customer's own orders, similar resolved tickets) and one model call.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict
from typing import Any

from django.db import transaction
from django.utils import timezone

from .. import jobs
from ..customers import customer_identity
from ..llm.base import ModelUnavailable
from ..models import Job, Message, ReplyDraft, ReplyTemplate, Ticket
from ..settings import llm_settings
from .knowledge_base import knowledge_key, load_knowledge_base
from .learning import resolved_examples, resolved_examples_for
from .library_store import current_library
from .queries import order_facts_for
from .types import DraftRequest


def draft_request(message: Message, similar: tuple | None = None) -> DraftRequest:
    """What the drafter gets for ``message``; ``similar`` saves the read when a batch has it already."""
    ticket = message.ticket
    if similar is None:
        similar = tuple(resolved_examples(exclude_ticket=ticket.pk))
    customer = ticket.customer
    return DraftRequest(
        subject=ticket.subject,
        customer_text=message.body,
        customer_name=(customer.first_name or "").strip(),
        orders=order_facts_for(ticket),
        linked_order_numbers=tuple(ticket.orders.filter(user_id=ticket.customer_id).values_list("number", flat=True)),
        similar=similar,
        customer=customer_identity(customer),
    )


_drafter_lock = threading.Lock()
_drafters: dict[tuple[Any, ...], Any] = {}


def get_drafter() -> Any:
    """The drafter, built once per worker process (rebuilt when the knowledge base changes).

    Raises :class:`ModelUnavailable` with a message staff can act on when the
    triage model or the text model is missing.
    """
    from ..llm.registry import configured_model_id, get_embedder, get_generator
    from .drafting import SupportDrafter
    from .knowledge import ArticleIndex
    from .triage import IntentClassifier, default_triage_dir

    triage_dir = default_triage_dir()
    key = (configured_model_id(), str(triage_dir), repr(llm_settings.SUPPORT), knowledge_key())
    with _drafter_lock:
        if key in _drafters:
            return _drafters[key]
    try:
        # Checked before the embedder loads, so a shop without a triage fails fast.
        triage = IntentClassifier.load(triage_dir)
    except Exception as exc:
        raise ModelUnavailable(
            f"No support triage model in {triage_dir} ({exc}). Train it with `manage.py oscar_llm_train --support CSV`."
        ) from exc
    embedder = get_embedder()
    triage._embedder = embedder  # the one MiniLM of this process, shared by triage and retrieval
    generator = get_generator()
    articles, vectors, _source = load_knowledge_base(embedder)
    index = ArticleIndex(articles, vectors=vectors, embedder=embedder)
    drafter = SupportDrafter.from_settings(generator=generator, triage=triage, index=index, embedder=embedder)
    with _drafter_lock:
        _drafters.clear()  # one drafter per process: an older knowledge base is dropped
        _drafters[(configured_model_id(), str(triage_dir), repr(llm_settings.SUPPORT), knowledge_key())] = drafter
    return drafter


def clear_drafters() -> None:
    with _drafter_lock:
        _drafters.clear()


def run_draft_jobs(job_list: list[Job], drafter: Any = None) -> list[ReplyDraft]:
    """Draft replies for a batch of claimed jobs (one model call per batch)."""
    messages = Message.objects.select_related("ticket__customer").in_bulk([j.target_id for j in job_list])
    live: list[tuple[Job, Message]] = []
    for job in job_list:
        message = messages.get(job.target_id)
        if message is None or message.kind != Message.Kind.CUSTOMER:
            jobs.complete(job, {"skipped": "message deleted"})
            continue
        live.append((job, message))
    if not live:
        return []
    try:
        drafter = drafter or get_drafter()
    except ModelUnavailable:
        # Nothing can be drafted: the tickets go to a human now, and the job keeps its
        # error (shown on the ticket) and retries, in case the model is trained meanwhile.
        Ticket.objects.filter(pk__in={m.ticket_id for _j, m in live}).exclude(
            status__in=[Ticket.Status.ANSWERED, Ticket.Status.CLOSED]
        ).update(status=Ticket.Status.NEEDS_HUMAN, updated_at=timezone.now())
        raise
    similar = resolved_examples_for({message.ticket_id for _job, message in live})
    requests = [draft_request(message, similar[message.ticket_id]) for _job, message in live]
    started = time.monotonic()
    library = current_library(drafter.embedder) if drafter.embedder is not None else None
    results = drafter.draft_many(requests, library=library)
    batch_ms = (time.monotonic() - started) * 1000
    drafts = []
    for (job, message), request, result in zip(live, requests, results, strict=True):
        with transaction.atomic():
            draft = _store_draft(job, message, request, result, batch_ms / len(live))
            if not jobs.complete(job, {"draft_id": draft.pk, "needs_human": draft.needs_human}):
                transaction.set_rollback(True)  # our lease ran out; the other worker's draft wins
                continue
        drafts.append(draft)
    return drafts


def _store_draft(job: Job, message: Message, request: DraftRequest, result: Any, batch_ms: float) -> ReplyDraft:
    ticket = Ticket.objects.select_for_update().get(pk=message.ticket_id)
    newer = ticket.messages.filter(kind=Message.Kind.CUSTOMER, created_at__gt=message.created_at).exists()
    status = ReplyDraft.Status.SUPERSEDED if newer else ReplyDraft.Status.DRAFT
    if not newer:
        ticket.drafts.filter(status=ReplyDraft.Status.DRAFT).update(status=ReplyDraft.Status.SUPERSEDED)
    timings = dict(result.timings or {})
    timings["batch_ms_per_item"] = round(batch_ms, 1)
    timings["queued_to_ready_s"] = round((timezone.now() - message.created_at).total_seconds(), 3)
    draft = ReplyDraft.objects.create(
        ticket=ticket,
        message=message,
        job=job,
        text=result.text or "",
        citations=list(result.citations or []),
        checks=list(result.checks or []),
        reasons=list(result.reasons or []),
        articles=list(result.articles or []),
        facts={
            "orders": [asdict(o) for o in request.orders],
            "linked": list(request.linked_order_numbers),
            # What the model wrote when it failed its checks: shown to staff as evidence, never sent.
            "failed_candidate": (getattr(result, "candidate", "") or "") if result.needs_human else "",
            # Where the draft came from: the library reply and what filled each of its slots.
            "library": result.library,
            "slots": list(result.slots or []),
        },
        template_id=_template_id(result.library),
        confidence=float(result.confidence or 0.0),
        needs_human=bool(result.needs_human),
        status=status,
        model_id=result.model_id or job.model_id,
        prompt_version=result.prompt_version or job.prompt_version,
        timings=timings,
    )
    if not newer:
        ticket.intent = result.intent or ""
        ticket.intent_confidence = float(result.intent_confidence) if result.intent_confidence is not None else None
        if ticket.status not in (Ticket.Status.ANSWERED, Ticket.Status.CLOSED):
            ticket.status = Ticket.Status.NEEDS_HUMAN if draft.needs_human else Ticket.Status.WAITING
        ticket.save(update_fields=["intent", "intent_confidence", "status", "updated_at"])
    return draft


def _template_id(library: dict | None) -> int | None:
    """The ReplyTemplate row a draft came from (library entries of other origins have no row)."""
    if not library or not isinstance(library.get("id"), int):
        return None
    return library["id"] if ReplyTemplate.objects.filter(pk=library["id"]).exists() else None
