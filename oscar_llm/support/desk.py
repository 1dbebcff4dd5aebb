"""The support desk's writes: tickets, customer messages, staff notes and replies, approval, email.

Views (storefront, dashboard), the REST API, the demo data and the management
commands call the module-level functions here (``desk.open_ticket(...)``), which
hand the work to :func:`get_desk`: an instance of ``OSCAR_LLM["SUPPORT"]["DESK"]``
(default :class:`SupportDesk`). A shop that wants to change what happens on a write
(another notification, an extra field) subclasses :class:`SupportDesk` and names its
class in that setting, as it would replace Oscar's ``OrderCreator``.

Customer text is validated here (:func:`clean_text`, :func:`validate_body`,
:func:`validate_subject`), and nothing a model writes reaches a customer except
through :meth:`SupportDesk.approve`, which a staff member triggers.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .. import jobs, limits
from ..models import SUPPORT_MAX_MESSAGE_CHARS, Feature, FeatureSwitch, Job, Message, ReplyDraft, Ticket
from ..settings import llm_settings
from .kinds import DRAFT_JOB, EMAIL_JOB, MESSAGE_TARGET
from .queries import last_customer_message

logger = logging.getLogger(__name__)

DEFAULT_DESK = "oscar_llm.support.desk.SupportDesk"
REPLY_EVENT_CODE = "SUPPORT_REPLY"
MAX_SUBJECT_CHARS = 200


# Actions counted by ``oscar_llm.limits`` (``OSCAR_LLM["RATE_LIMITS"]``): each one queues a drafting job.
TICKET_LIMIT = "support.ticket"
MESSAGE_LIMIT = "support.message"


class SupportError(ValueError):
    """A request the support desk refuses, with a message fit to show the person who made it."""


class SupportRateLimited(SupportError):
    """A customer wrote more often than ``OSCAR_LLM["RATE_LIMITS"]`` allows; nothing was saved."""

    def __init__(self, exc: limits.RateLimited) -> None:
        super().__init__(f"You have written to us many times in a short while. {exc}")
        self.retry_after = exc.retry_after


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


def support_prompt_version() -> str:
    try:
        from .prompts import PROMPT_VERSION
    except ImportError:  # the pipeline is not installed: jobs still key on something stable
        return "support-v1"
    return str(PROMPT_VERSION)


# --- the desk -------------------------------------------------------------------------------------


class SupportDesk:
    """Every write of the support desk. Replace it with ``OSCAR_LLM["SUPPORT"]["DESK"]``."""

    # -- customer side --

    @transaction.atomic
    def open_ticket(self, customer: Any, subject: str, body: str | bytes, order: Any = None) -> Ticket:
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
        self.request_draft(message)
        return ticket

    @transaction.atomic
    def add_customer_message(self, ticket: Ticket, body: str | bytes, *, author: Any = None) -> Message:
        """The customer writes again: older drafts answer a stale question, so they are superseded."""
        body = validate_body(body)
        if ticket.status == Ticket.Status.CLOSED:
            raise SupportError("This ticket is closed; please open a new one.")
        message = Message.objects.create(
            ticket=ticket, author=author or ticket.customer, kind=Message.Kind.CUSTOMER, body=body
        )
        ticket.drafts.filter(status=ReplyDraft.Status.DRAFT).update(status=ReplyDraft.Status.SUPERSEDED)
        self._touch(ticket, Ticket.Status.WAITING)
        self.request_draft(message)
        return message

    def count_customer_write(self, action: str, customer: Any) -> None:
        """One more ticket (``TICKET_LIMIT``) or message (``MESSAGE_LIMIT``) by ``customer``; raises
        :class:`SupportRateLimited` past ``OSCAR_LLM["RATE_LIMITS"]``.

        The customer's entry points (the account pages and the API) call it before they write; the
        desk's own writes do not, so the demo, the commands and the benchmarks can open many tickets.
        """
        try:
            limits.hit(action, limits.key_for(user=customer))
        except limits.RateLimited as exc:
            logger.info("Support %s refused for customer %s: %s", action, getattr(customer, "pk", None), exc)
            raise SupportRateLimited(exc) from exc

    # -- drafting --

    def request_draft(self, message: Message, *, force: bool = False, send: bool = True) -> Job | None:
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

    def regenerate(self, ticket: Ticket) -> Job | None:
        """Staff ask for a fresh draft of the latest customer message."""
        message = last_customer_message(ticket)
        if message is None:
            raise SupportError("This ticket has no customer message to answer.")
        if not FeatureSwitch.is_enabled(Feature.SUPPORT):
            raise SupportError("Support drafting is switched off (Django admin, feature switches).")
        with transaction.atomic():
            ticket.drafts.filter(status=ReplyDraft.Status.DRAFT).update(status=ReplyDraft.Status.SUPERSEDED)
            self._touch(ticket, Ticket.Status.WAITING)
            return self.request_draft(message, force=True)

    # -- staff side --

    def add_staff_note(self, ticket: Ticket, *, by: Any, body: str) -> Message:
        """An internal note: staff only, never shown or sent to the customer."""
        return Message.objects.create(ticket=ticket, author=by, kind=Message.Kind.NOTE, body=validate_body(body))

    def set_status(self, ticket: Ticket, status: str) -> Ticket:
        if status not in Ticket.Status.values:
            raise SupportError(f"Unknown status {status!r}.")
        self._touch(ticket, status)
        return ticket

    def approve(self, draft: ReplyDraft, *, by: Any, text: str | None = None) -> Message:
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
                raise SupportError(
                    f"This draft can no longer be approved (it is {draft.get_status_display().lower()})."
                )
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
            message = self._send_staff_message(draft.ticket, by=by, body=final, now=now)
            draft.status = status
            draft.final_text = final
            draft.decided_by = by
            draft.decided_at = now
            draft.edit_distance = edit_distance(draft.text, final)
            draft.sent_message = message
            draft.save(
                update_fields=["status", "final_text", "decided_by", "decided_at", "edit_distance", "sent_message"]
            )
            draft.ticket.drafts.filter(status=ReplyDraft.Status.DRAFT).update(status=ReplyDraft.Status.SUPERSEDED)
            self.learn(draft)
        return message

    def save_to_library(self, draft: ReplyDraft, *, by: Any, text: str) -> Any:
        """Staff file a reply (as sent, or edited) in the reply library under its ticket's intent."""
        from .library_store import save_reply

        intent = (draft.ticket.intent or "").strip()
        if not intent:
            raise SupportError("This ticket has no intent yet: the reply cannot be filed under one.")
        return save_reply(draft, validate_body(text), by=by, intent=intent)

    def learn(self, draft: ReplyDraft) -> None:
        """The learning loop: a sent reply that is new text joins the reply library (see ``library_store``)."""
        from .library_store import learn_from_approval

        learn_from_approval(draft)

    def reject(self, draft: ReplyDraft, *, by: Any, reason: str = "") -> ReplyDraft:
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
            self._touch(ticket, Ticket.Status.NEEDS_HUMAN)
        return draft

    def reply(self, ticket: Ticket, *, by: Any, body: str) -> Message:
        """Staff answer by hand (no draft, e.g. with drafting switched off or a ticket needing a human)."""
        with transaction.atomic():
            ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
            message = self._send_staff_message(ticket, by=by, body=validate_body(body), now=timezone.now())
            ticket.drafts.filter(status=ReplyDraft.Status.DRAFT).update(status=ReplyDraft.Status.SUPERSEDED)
        return message

    # -- email --

    def send_reply_email(self, message_id: int) -> None:
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

    # -- helpers --

    def _touch(self, ticket: Ticket, status: str) -> None:
        ticket.status = status
        ticket.save(update_fields=["status", "updated_at"])

    def _send_staff_message(self, ticket: Ticket, *, by: Any, body: str, now: Any) -> Message:
        message = Message.objects.create(ticket=ticket, author=by, kind=Message.Kind.STAFF, body=body, created_at=now)
        ticket.status = Ticket.Status.ANSWERED
        fields = ["status", "updated_at"]
        if ticket.first_response_at is None:
            ticket.first_response_at = now
            fields.append("first_response_at")
        ticket.save(update_fields=fields)
        # Sent by a worker of the e-mail queue (a slow mail server never holds up the desk), once
        # per message however often the job is retried or re-sent.
        jobs.request(
            EMAIL_JOB,
            target_model=MESSAGE_TARGET,
            target_id=message.pk,
            key=jobs.JobKey(input_hash=f"reply-email:{message.pk}"),
        )
        return message


def run_email_jobs(job_list: list[Job]) -> None:
    """The e-mail job: send each staff reply to its customer (a job at a time, so one failing
    address is retried alone and the others are not sent twice)."""
    desk = get_desk()
    for job in job_list:
        try:
            desk.send_reply_email(job.target_id)
        except Message.DoesNotExist:
            jobs.fail(job, "The reply was deleted before it was e-mailed.", retry=False)
        except Exception as exc:
            logger.warning("Could not e-mail reply %s", job.target_id, exc_info=True)
            jobs.fail(job, f"{type(exc).__name__}: {exc}")
        else:
            jobs.complete(job, {"emailed": True})


def get_desk() -> SupportDesk:
    """The shop's support desk: an instance of ``OSCAR_LLM["SUPPORT"]["DESK"]`` (a dotted path)."""
    path = (llm_settings.SUPPORT or {}).get("DESK") or DEFAULT_DESK
    return import_string(path)() if isinstance(path, str) else path()


# --- the writes, through the shop's desk ----------------------------------------------------------


def open_ticket(customer: Any, subject: str, body: str | bytes, order: Any = None) -> Ticket:
    return get_desk().open_ticket(customer, subject, body, order=order)


def add_customer_message(ticket: Ticket, body: str | bytes, *, author: Any = None) -> Message:
    return get_desk().add_customer_message(ticket, body, author=author)


def count_customer_write(action: str, customer: Any) -> None:
    get_desk().count_customer_write(action, customer)


def request_draft(message: Message, *, force: bool = False, send: bool = True) -> Job | None:
    return get_desk().request_draft(message, force=force, send=send)


def regenerate(ticket: Ticket) -> Job | None:
    return get_desk().regenerate(ticket)


def add_staff_note(ticket: Ticket, *, by: Any, body: str) -> Message:
    return get_desk().add_staff_note(ticket, by=by, body=body)


def set_status(ticket: Ticket, status: str) -> Ticket:
    return get_desk().set_status(ticket, status)


def approve(draft: ReplyDraft, *, by: Any, text: str | None = None) -> Message:
    return get_desk().approve(draft, by=by, text=text)


def save_to_library(draft: ReplyDraft, *, by: Any, text: str) -> Any:
    return get_desk().save_to_library(draft, by=by, text=text)


def reject(draft: ReplyDraft, *, by: Any, reason: str = "") -> ReplyDraft:
    return get_desk().reject(draft, by=by, reason=reason)


def reply(ticket: Ticket, *, by: Any, body: str) -> Message:
    return get_desk().reply(ticket, by=by, body=body)
