"""Support desk, the Django side: tickets, threads, drafting jobs, approval, figures.

Views (storefront, dashboard), the REST API, the Celery handler and the management
commands call these functions and nothing else. The drafting pipeline itself
(triage, retrieval, prompts, checks) is pure Python in the sibling modules and
sees only plain values (``support.types``), never the ORM.

Nothing a model writes reaches a customer except through :func:`approve`, which a
staff member triggers.
"""

from __future__ import annotations

import hashlib
import logging
import re
import statistics
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from oscar.core.loading import get_model

from .. import jobs
from ..guardrails.redaction import PLACEHOLDER_RE, Redactor
from ..llm.base import ModelUnavailable
from ..models import (
    SUPPORT_MAX_MESSAGE_CHARS,
    Feature,
    FeatureSwitch,
    Job,
    KnowledgeArticle,
    Message,
    ReplyDraft,
    Ticket,
)
from ..settings import llm_settings

logger = logging.getLogger(__name__)

DRAFT_JOB = "support.draft"
EMBED_JOB = "support.embed_article"
MESSAGE_TARGET = "oscar_llm.message"
ARTICLE_TARGET = "oscar_llm.knowledgearticle"
REPLY_EVENT_CODE = "SUPPORT_REPLY"
MAX_SUBJECT_CHARS = 200
# Past resolved tickets handed to the drafter as retrieval candidates.
SIMILAR_CANDIDATES = 200
# Orders of the customer given to the drafter (linked ones always included).
MAX_ORDERS = 10


class SupportError(ValueError):
    """A request the support desk refuses, with a message fit to show the person who made it."""


# --- text safety ----------------------------------------------------------------------------------


def clean_text(value: str | bytes | None) -> str:
    """Customer text as safe plain text: bytes decoded (bad UTF-8 replaced), NULs dropped.

    PostgreSQL refuses NUL characters in text columns, so they would otherwise turn
    a customer's message into a server error and lose it.
    """
    if value is None:
        return ""
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = bytes(value).decode("utf-8", errors="replace")
    return str(value).replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").strip()


def validate_body(body: str) -> str:
    body = clean_text(body)
    if not body:
        raise SupportError("Please write a message.")
    if len(body) > SUPPORT_MAX_MESSAGE_CHARS:
        raise SupportError(
            f"Your message is {len(body):,} characters long; the limit is {SUPPORT_MAX_MESSAGE_CHARS:,}. "
            "Please shorten it or split it into several messages."
        )
    return body


def validate_subject(subject: str) -> str:
    subject = " ".join(clean_text(subject).split())
    if not subject:
        raise SupportError("Please give your request a subject.")
    if len(subject) > MAX_SUBJECT_CHARS:
        raise SupportError(f"The subject is too long (at most {MAX_SUBJECT_CHARS} characters).")
    return subject


# --- reading --------------------------------------------------------------------------------------


def customer_orders(customer: Any) -> QuerySet:
    """The customer's own orders: the only orders a ticket may link or a draft may mention."""
    Order = get_model("order", "Order")
    if not getattr(customer, "is_authenticated", False):
        return Order.objects.none()
    return Order.objects.filter(user=customer).order_by("-date_placed")


def tickets_for(customer: Any) -> QuerySet[Ticket]:
    return Ticket.objects.filter(customer=customer).order_by("-updated_at", "-pk")


def customer_thread(ticket: Ticket) -> QuerySet[Message]:
    """What the customer sees: their messages and staff replies, never notes or drafts."""
    return (
        ticket.messages.filter(kind__in=Message.CUSTOMER_VISIBLE).select_related("author").order_by("created_at", "pk")
    )


def current_draft(ticket: Ticket) -> ReplyDraft | None:
    return ticket.drafts.filter(status=ReplyDraft.Status.DRAFT).order_by("-created_at", "-pk").first()


def draft_job(ticket: Ticket) -> Job | None:
    """The latest drafting job of the ticket (to show 'drafting...' or its error)."""
    message_ids = list(ticket.messages.filter(kind=Message.Kind.CUSTOMER).values_list("pk", flat=True))
    return (
        Job.objects.filter(kind=DRAFT_JOB, target_model=MESSAGE_TARGET, target_id__in=message_ids)
        .order_by("-created_at", "-pk")
        .first()
    )


# --- writing: customer side ----------------------------------------------------------------------


def _touch(ticket: Ticket, status: str) -> None:
    ticket.status = status
    ticket.save(update_fields=["status", "updated_at"])


@transaction.atomic
def open_ticket(customer: Any, subject: str, body: str | bytes, order: Any = None) -> Ticket:
    """A customer opens a ticket (optionally about one of their own orders); drafting is queued."""
    subject = validate_subject(subject)
    body = validate_body(body)
    if order is not None and order.user_id != customer.pk:
        # Same answer as for an order that does not exist: nothing is revealed about it.
        raise SupportError("Please choose one of your own orders.")
    ticket = Ticket.objects.create(customer=customer, subject=subject, status=Ticket.Status.WAITING)
    if order is not None:
        ticket.orders.add(order)
        ticket.products.add(*[line.product_id for line in order.lines.all() if line.product_id])
    message = Message.objects.create(ticket=ticket, author=customer, kind=Message.Kind.CUSTOMER, body=body)
    request_draft(message)
    return ticket


@transaction.atomic
def add_customer_message(ticket: Ticket, body: str | bytes, *, author: Any = None) -> Message:
    """The customer writes again: older drafts answer a stale question, so they are superseded."""
    body = validate_body(body)
    if ticket.status == Ticket.Status.CLOSED:
        raise SupportError("This ticket is closed; please open a new one.")
    message = Message.objects.create(
        ticket=ticket, author=author or ticket.customer, kind=Message.Kind.CUSTOMER, body=body
    )
    ticket.drafts.filter(status=ReplyDraft.Status.DRAFT).update(status=ReplyDraft.Status.SUPERSEDED)
    _touch(ticket, Ticket.Status.WAITING)
    request_draft(message)
    return message


# --- writing: staff side -------------------------------------------------------------------------


def add_staff_note(ticket: Ticket, *, by: Any, body: str) -> Message:
    """An internal note: staff only, never shown or sent to the customer."""
    return Message.objects.create(ticket=ticket, author=by, kind=Message.Kind.NOTE, body=validate_body(body))


def set_status(ticket: Ticket, status: str) -> Ticket:
    if status not in Ticket.Status.values:
        raise SupportError(f"Unknown status {status!r}.")
    _touch(ticket, status)
    return ticket


def last_customer_message(ticket: Ticket) -> Message | None:
    return ticket.messages.filter(kind=Message.Kind.CUSTOMER).order_by("-created_at", "-pk").first()


def request_draft(message: Message, *, force: bool = False, send: bool = True) -> Job | None:
    """Queue the drafting job for a customer message (idempotent unless ``force``).

    With the support feature switched off nothing is drafted: the ticket waits for
    staff, who can still answer it by hand.
    """
    if message.kind != Message.Kind.CUSTOMER:
        raise SupportError("Only customer messages are drafted for.")
    if not FeatureSwitch.is_enabled(Feature.SUPPORT):
        return None
    from ..llm.registry import configured_model_id

    nonce = f":{uuid.uuid4().hex}" if force else ""
    input_hash = hashlib.sha256(f"{message.pk}:{message.body}{nonce}".encode()).hexdigest()
    job, _created = jobs.request(
        DRAFT_JOB,
        target_model=MESSAGE_TARGET,
        target_id=message.pk,
        params={"ticket_id": message.ticket_id},
        key=jobs.JobKey(input_hash, support_prompt_version(), configured_model_id()),
        send=send,
    )
    return job


def regenerate(ticket: Ticket) -> Job | None:
    """Staff ask for a fresh draft of the latest customer message."""
    message = last_customer_message(ticket)
    if message is None:
        raise SupportError("This ticket has no customer message to answer.")
    if not FeatureSwitch.is_enabled(Feature.SUPPORT):
        raise SupportError("Support drafting is switched off (Django admin, feature switches).")
    with transaction.atomic():
        ticket.drafts.filter(status=ReplyDraft.Status.DRAFT).update(status=ReplyDraft.Status.SUPERSEDED)
        _touch(ticket, Ticket.Status.WAITING)
        return request_draft(message, force=True)


def edit_distance(a: str, b: str) -> int:
    """Word-level Levenshtein distance: how many words staff changed, added or removed."""
    x, y = a.split(), b.split()
    if len(x) * len(y) > 4_000_000:  # a pathological pair: count changed words by set difference
        return len(set(x) ^ set(y))
    previous = list(range(len(y) + 1))
    for i, wx in enumerate(x, 1):
        current = [i]
        for j, wy in enumerate(y, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (wx != wy)))
        previous = current
    return previous[-1]


def approve(draft: ReplyDraft, *, by: Any, text: str | None = None) -> Message:
    """Send a draft (optionally edited) to the customer: one staff message, one email.

    The status flip is a conditional UPDATE, so a double click (or two staff members
    at once) sends once; the second call returns the message the first one created.
    The email goes out after the transaction commits, so a rollback sends nothing.
    """
    with transaction.atomic():
        draft = ReplyDraft.objects.select_for_update().select_related("ticket").get(pk=draft.pk)
        if draft.status in (ReplyDraft.Status.APPROVED, ReplyDraft.Status.EDITED) and draft.sent_message_id:
            return draft.sent_message
        if draft.status != ReplyDraft.Status.DRAFT:
            raise SupportError(f"This draft can no longer be approved (it is {draft.get_status_display().lower()}).")
        if draft.needs_human and text is None:
            # A draft that failed its checks is never sent as written: staff write or edit the reply.
            raise SupportError("This draft needs a human: write or edit the reply before sending it.")
        final = validate_body(text if text is not None else draft.text)
        edited = clean_text(draft.text) != final
        status = ReplyDraft.Status.EDITED if edited else ReplyDraft.Status.APPROVED
        now = timezone.now()
        won = ReplyDraft.objects.filter(pk=draft.pk, status=ReplyDraft.Status.DRAFT).update(
            status=status, decided_by=by, decided_at=now
        )
        if not won:
            draft.refresh_from_db()
            if draft.sent_message_id:
                return draft.sent_message
            raise SupportError("This draft was decided by someone else a moment ago.")
        message = _send_staff_message(draft.ticket, by=by, body=final, now=now)
        draft.status = status
        draft.final_text = final
        draft.decided_by = by
        draft.decided_at = now
        draft.edit_distance = edit_distance(draft.text, final)
        draft.sent_message = message
        draft.save(update_fields=["status", "final_text", "decided_by", "decided_at", "edit_distance", "sent_message"])
        draft.ticket.drafts.filter(status=ReplyDraft.Status.DRAFT).update(status=ReplyDraft.Status.SUPERSEDED)
    return message


def reply(ticket: Ticket, *, by: Any, body: str) -> Message:
    """Staff answer by hand (no draft, e.g. with drafting switched off or a ticket needing a human)."""
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        message = _send_staff_message(ticket, by=by, body=validate_body(body), now=timezone.now())
        ticket.drafts.filter(status=ReplyDraft.Status.DRAFT).update(status=ReplyDraft.Status.SUPERSEDED)
    return message


def _send_staff_message(ticket: Ticket, *, by: Any, body: str, now: Any) -> Message:
    message = Message.objects.create(ticket=ticket, author=by, kind=Message.Kind.STAFF, body=body, created_at=now)
    ticket.status = Ticket.Status.ANSWERED
    fields = ["status", "updated_at"]
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        fields.append("first_response_at")
    ticket.save(update_fields=fields)
    transaction.on_commit(lambda: send_reply_email(message.pk))
    return message


def send_reply_email(message_id: int) -> None:
    """Email the customer a staff reply through Oscar's communication framework."""
    from oscar.core.loading import get_class

    Dispatcher = get_class("communication.utils", "Dispatcher")
    message = Message.objects.select_related("ticket__customer").get(pk=message_id)
    customer = message.ticket.customer
    try:
        from django.urls import reverse

        path = reverse("oscar_llm-support-detail", kwargs={"pk": message.ticket_id})
    except Exception:
        path = ""
    dispatcher = Dispatcher(logger=logger)
    messages = dispatcher.get_messages(
        REPLY_EVENT_CODE, {"ticket": message.ticket, "message": message, "user": customer, "ticket_path": path}
    )
    dispatcher.dispatch_user_messages(customer, messages)


def reject(draft: ReplyDraft, *, by: Any, reason: str = "") -> ReplyDraft:
    reason = clean_text(reason)
    if not reason:
        raise SupportError("Please say why the draft is rejected (it helps improve the next ones).")
    updated = ReplyDraft.objects.filter(pk=draft.pk, status=ReplyDraft.Status.DRAFT).update(
        status=ReplyDraft.Status.REJECTED, reject_reason=reason, decided_by=by, decided_at=timezone.now()
    )
    draft.refresh_from_db()
    if not updated:
        raise SupportError(f"This draft can no longer be rejected (it is {draft.get_status_display().lower()}).")
    ticket = draft.ticket
    if ticket.status not in (Ticket.Status.ANSWERED, Ticket.Status.CLOSED):
        _touch(ticket, Ticket.Status.NEEDS_HUMAN)
    return draft


# --- knowledge base -------------------------------------------------------------------------------


def save_article(article: KnowledgeArticle) -> KnowledgeArticle:
    """Save an article and, when its text changed, queue the job that refreshes its embedding."""
    article.save()
    request_article_embedding(article)
    return article


def request_article_embedding(article: KnowledgeArticle, *, send: bool = True) -> Job | None:
    if article.vector_is_fresh:
        return None
    # The save time is part of the key: text edited back to an earlier version needs a new job.
    input_hash = hashlib.sha256(f"{article.content_hash()}:{article.updated_at}".encode()).hexdigest()
    job, _created = jobs.request(
        EMBED_JOB,
        target_model=ARTICLE_TARGET,
        target_id=article.pk,
        key=jobs.JobKey(input_hash, "embed-v1", str(llm_settings.EMBEDDING_MODEL or "all-MiniLM-L6-v2")),
        send=send,
    )
    return job


def article_fact(article: KnowledgeArticle) -> Any:
    from .types import ArticleFact

    return ArticleFact(id=article.pk, title=article.title, body=article.body, tags=tuple(article.tag_list))


def embed_articles(articles: Iterable[KnowledgeArticle], embedder: Any = None) -> int:
    """Store fresh vectors for the given articles (worker side: loads the embedding model)."""
    from ..llm.registry import get_embedder
    from .knowledge import embed_article

    embedder = embedder or get_embedder()
    count = 0
    for article in articles:
        digest = article.content_hash()
        vector = embed_article(article_fact(article), embedder)
        KnowledgeArticle.objects.filter(pk=article.pk).update(
            vector=[float(v) for v in vector], vector_model=getattr(embedder, "model_id", ""), text_hash=digest
        )
        count += 1
    return count


def run_embedding_jobs(job_list: list[Job]) -> None:
    articles = KnowledgeArticle.objects.in_bulk([j.target_id for j in job_list])
    for job in job_list:
        article = articles.get(job.target_id)
        if article is None:
            jobs.complete(job, {"skipped": "article deleted"})
            continue
        embed_articles([article])
        jobs.complete(job, {"article_id": article.pk})


# --- drafting (worker side) -----------------------------------------------------------------------


def support_prompt_version() -> str:
    try:
        from .prompts import PROMPT_VERSION
    except ImportError:  # the pipeline is not installed: jobs still key on something stable
        return "support-v1"
    return str(PROMPT_VERSION)


def order_fact(order: Any) -> Any:
    """Plain facts of one Oscar order (only ever called for the ticket's own customer)."""
    from .types import OrderFact, OrderLineFact

    address = getattr(order, "shipping_address", None)
    country = ""
    if address is not None and address.country_id:
        country = address.country.printable_name or address.country.name
    event = order.shipping_events.exclude(notes="").order_by("-date_created").first()
    return OrderFact(
        number=str(order.number),
        status=str(order.status or ""),
        placed=order.date_placed.date().isoformat() if order.date_placed else "",
        total=str(order.total_incl_tax),
        currency=str(order.currency),
        lines=tuple(
            OrderLineFact(
                title=line.title,
                quantity=line.quantity,
                price=str(line.line_price_incl_tax),
                product_id=line.product_id,
            )
            for line in order.lines.all()
        ),
        shipping_city=(address.line4 if address is not None else "") or "",
        shipping_country=country or "",
        shipping_method=order.shipping_method or "",
        tracking=event.notes if event is not None else None,
    )


def order_facts_for(ticket: Ticket) -> tuple[Any, ...]:
    """The customer's own orders, linked ones first; never anybody else's."""
    linked = list(ticket.orders.filter(user_id=ticket.customer_id))
    linked_ids = {o.pk for o in linked}
    others = [o for o in customer_orders(ticket.customer)[:MAX_ORDERS] if o.pk not in linked_ids]
    return tuple(order_fact(o) for o in (linked + others)[: max(MAX_ORDERS, len(linked))])


def resolved_examples(*, exclude_ticket: int | None = None, limit: int = SIMILAR_CANDIDATES) -> list[Any]:
    """Approved and edited replies with the question they answered (the learning loop)."""
    return list(resolved_examples_for([exclude_ticket], limit=limit)[exclude_ticket])


def resolved_examples_for(ticket_ids: Iterable[int | None], *, limit: int = SIMILAR_CANDIDATES) -> dict[Any, tuple]:
    """Each ticket's similar-ticket examples, its own replies left out, read once for a whole batch:
    for every ``t`` the same as ``resolved_examples(exclude_ticket=t)``, without reading and
    generalising the same few hundred replies again per ticket."""
    from .types import ResolvedExample

    ids = set(ticket_ids)
    own = _resolved_drafts().filter(ticket_id__in=ids - {None}).count()
    drafts = list(_resolved_drafts(limit=limit + own))
    owners = _example_owners({d.ticket_id for d in drafts})
    examples = {}
    for draft in drafts:
        question = _question(draft)
        if question:
            numbers, names = owners.get(draft.ticket_id, ((), ()))
            examples[draft.pk] = ResolvedExample(
                text=generalise_example(question, numbers, names),
                reply=generalise_example(draft.final_text, numbers, names),
                intent=draft.ticket.intent,
            )
    by_ticket = {}
    for ticket_id in ids:
        others = [d for d in drafts if d.ticket_id != ticket_id][:limit]
        by_ticket[ticket_id] = tuple(examples[d.pk] for d in others if d.pk in examples)
    return by_ticket


def _example_owners(ticket_ids: set[int]) -> dict[int, tuple[tuple[str, ...], tuple[str, ...]]]:
    """ticket id -> (that customer's order numbers, their names), in two queries."""
    Order = get_model("order", "Order")
    tickets = list(Ticket.objects.filter(pk__in=ticket_ids).select_related("customer"))
    numbers: dict[int, list[str]] = {}
    for user_id, number in Order.objects.filter(user_id__in={t.customer_id for t in tickets}).values_list(
        "user_id", "number"
    ):
        numbers.setdefault(user_id, []).append(number)
    owners = {}
    for ticket in tickets:
        user = ticket.customer
        names = [user.get_full_name(), user.first_name, user.last_name, user.email, user.get_username()]
        owners[ticket.pk] = (tuple(numbers.get(ticket.customer_id, ())), tuple(n for n in names if n))
    return owners


def generalise_example(text: str, order_numbers: Sequence[str], names: Sequence[str]) -> str:
    """Another customer's resolved ticket as a template: their order numbers, names and contact
    details become Bitext-style placeholders, so an example never carries one customer's data into
    a prompt about another (and the drafter fills the placeholders from *this* customer's facts)."""
    for number in sorted(order_numbers, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(number)}(?!\w)", "{{Order Number}}", text)
    for name in sorted({n.strip() for n in names if len(n.strip()) >= 2}, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", "{{Customer Name}}", text, flags=re.I)
    # Anything else personal (e-mails, phones, cards, addresses) is dropped, not kept for restoring.
    redactor = Redactor()
    return PLACEHOLDER_RE.sub("[removed]", redactor.redact(text))


def _resolved_drafts(*, limit: int | None = None) -> QuerySet:
    """Approved or edited drafts with their text sent, newest first."""
    drafts = (
        ReplyDraft.objects.filter(status__in=[ReplyDraft.Status.APPROVED, ReplyDraft.Status.EDITED])
        .exclude(final_text="")
        .select_related("message", "ticket")
        .order_by("-decided_at", "-pk")
    )
    return drafts[:limit] if limit is not None else drafts


def _question(draft: ReplyDraft) -> str:
    return draft.message.body if draft.message_id and draft.message else ""


def resolved_rows() -> Iterator[tuple[str, str, str, int]]:
    """(customer text, final reply, intent, ticket id) for every approved or edited draft, newest first."""
    for draft in _resolved_drafts():
        question = _question(draft)
        if question:
            yield question, draft.final_text, draft.ticket.intent, draft.ticket_id


def training_rows() -> Iterator[tuple[str, str, str]]:
    """(ticket text, intent, final reply) rows for ``oscar_llm_train --support-from-shop``."""
    for text, reply_text, intent, _ticket in resolved_rows():
        if intent:
            yield text, intent, reply_text


def training_rows_bitext() -> Iterator[dict[str, str]]:
    """The same rows in the Bitext CSV shape, so ``support_pairs`` templates and checks them.

    The order number a customer wrote becomes the ``order_id`` entity, so the model
    learns ``{{Order Number}}`` rather than one customer's number.
    """
    for text, reply_text, intent, ticket_id in resolved_rows():
        if not intent:
            continue
        numbers = Ticket.objects.get(pk=ticket_id).orders.values_list("number", flat=True)
        number = next((n for n in numbers if n in text), "")
        yield {
            "instruction": text,
            "intent": intent,
            "response": reply_text,
            "entity_type": "order_id" if number else "",
            "entity_value": number,
        }


def shop_support_pairs(embedder: Any = None) -> Any:
    """Training pairs from the shop's own approved replies (``oscar_llm_train --support-from-shop``)."""
    from ..evaluation.support import knowledge_base
    from ..llm.registry import get_embedder
    from .training import support_pairs

    embedder = embedder or get_embedder()
    articles, vectors, _source = knowledge_base(embedder)
    return support_pairs(list(training_rows_bitext()), articles, embedder=embedder, vectors=vectors)


def draft_request(message: Message, similar: tuple | None = None) -> Any:
    """What the drafter gets for ``message``; ``similar`` saves the read when a batch has it already."""
    from .types import DraftRequest

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
    )


_drafter_lock = threading.Lock()
_drafters: dict[tuple[Any, ...], Any] = {}


def _knowledge_key() -> tuple[Any, ...]:
    rows = KnowledgeArticle.objects.filter(active=True).order_by("pk").values_list("pk", "text_hash")
    return tuple(rows)


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
    key = (configured_model_id(), str(triage_dir), repr(llm_settings.SUPPORT), _knowledge_key())
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
    articles = list(KnowledgeArticle.objects.filter(active=True).order_by("pk"))
    model_id = getattr(embedder, "model_id", "")
    stale = [a for a in articles if not a.vector_is_fresh or (model_id and a.vector_model != model_id)]
    if stale:  # a lost embedding job (or a new embedding model) must not leave an article out of retrieval
        embed_articles(stale, embedder)
        articles = list(KnowledgeArticle.objects.filter(active=True).order_by("pk"))
    import numpy as np

    vectors = np.array([a.vector for a in articles], dtype="float32") if articles else None
    index = ArticleIndex([article_fact(a) for a in articles], vectors=vectors, embedder=embedder)
    drafter = SupportDrafter.from_settings(generator=generator, triage=triage, index=index, embedder=embedder)
    with _drafter_lock:
        _drafters.clear()  # one drafter per process: an older knowledge base is dropped
        _drafters[(configured_model_id(), str(triage_dir), repr(llm_settings.SUPPORT), _knowledge_key())] = drafter
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
    results = drafter.draft_many(requests)
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


def _store_draft(job: Job, message: Message, request: Any, result: Any, batch_ms: float) -> ReplyDraft:
    from dataclasses import asdict

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
        },
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


# --- figures --------------------------------------------------------------------------------------


def figures(since: Any = None) -> dict[str, Any]:
    """Drafts accepted unedited, mean edit distance, median time to first response."""
    decided = ReplyDraft.objects.filter(
        status__in=[ReplyDraft.Status.APPROVED, ReplyDraft.Status.EDITED, ReplyDraft.Status.REJECTED]
    )
    tickets = Ticket.objects.exclude(first_response_at=None)
    if since is not None:
        decided = decided.filter(decided_at__gte=since)
        tickets = tickets.filter(first_response_at__gte=since)
    counts = {s: 0 for s in ("approved", "edited", "rejected")}
    for status in decided.values_list("status", flat=True):
        counts[status] += 1
    total = sum(counts.values())
    distances = list(
        decided.filter(status__in=[ReplyDraft.Status.APPROVED, ReplyDraft.Status.EDITED])
        .exclude(edit_distance=None)
        .values_list("edit_distance", flat=True)
    )
    waits = [(r - c).total_seconds() for c, r in tickets.values_list("created_at", "first_response_at")]
    return {
        "decided": total,
        "approved_unedited": counts["approved"],
        "edited": counts["edited"],
        "rejected": counts["rejected"],
        "accepted_unedited_rate": (counts["approved"] / total) if total else None,
        "mean_edit_distance": statistics.fmean(distances) if distances else None,
        "median_first_response_seconds": statistics.median(waits) if waits else None,
        "needs_human_open": Ticket.objects.filter(status=Ticket.Status.NEEDS_HUMAN).count(),
        "waiting": Ticket.objects.filter(status=Ticket.Status.WAITING).count(),
    }


def queue(
    *,
    status: str | None = None,
    intent: str | None = None,
    max_confidence: float | None = None,
    min_confidence: float | None = None,
    older_than_hours: float | None = None,
) -> QuerySet[Ticket]:
    """The staff queue, filtered; open work first, oldest first."""
    qs = Ticket.objects.select_related("customer", "assignee").prefetch_related("drafts")
    qs = qs.filter(status=status) if status else qs.exclude(status=Ticket.Status.CLOSED)
    if intent:
        qs = qs.filter(intent=intent)
    if max_confidence is not None:
        qs = qs.filter(
            Q(drafts__status=ReplyDraft.Status.DRAFT, drafts__confidence__lte=max_confidence)
            | Q(intent_confidence__lte=max_confidence)
        ).distinct()
    if min_confidence is not None:
        qs = qs.filter(drafts__status=ReplyDraft.Status.DRAFT, drafts__confidence__gte=min_confidence).distinct()
    if older_than_hours is not None:
        qs = qs.filter(created_at__lte=timezone.now() - timedelta(hours=older_than_hours))
    return qs.order_by("created_at", "pk")
