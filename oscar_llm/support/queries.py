"""Support desk reads: a customer's orders and tickets, a ticket's thread and draft, the staff queue and figures.

Nothing here writes; the writes are in :mod:`.desk`.
"""

from __future__ import annotations

import statistics
from datetime import timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from oscar.core.loading import get_model

from ..models import Job, Message, ReplyDraft, Ticket
from .kinds import DRAFT_JOB, MESSAGE_TARGET
from .types import OrderFact, OrderLineFact


def customer_orders(customer: Any) -> QuerySet:
    """The customer's own orders: the only orders a ticket may link or a draft may mention."""
    Order = get_model("order", "Order")
    if not getattr(customer, "is_authenticated", False):
        return Order.objects.none()
    return Order.objects.filter(user=customer).order_by("-date_placed")


# Orders of the customer given to the drafter (linked ones always included).
MAX_ORDERS = 10


def order_fact(order: Any) -> OrderFact:
    """Plain facts of one Oscar order (only ever called for the ticket's own customer)."""
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


def order_facts_for(ticket: Ticket) -> tuple[OrderFact, ...]:
    """The customer's own orders, linked ones first; never anybody else's."""
    linked = list(ticket.orders.filter(user_id=ticket.customer_id))
    linked_ids = {o.pk for o in linked}
    others = [o for o in customer_orders(ticket.customer)[:MAX_ORDERS] if o.pk not in linked_ids]
    return tuple(order_fact(o) for o in (linked + others)[: max(MAX_ORDERS, len(linked))])


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


def last_customer_message(ticket: Ticket) -> Message | None:
    return ticket.messages.filter(kind=Message.Kind.CUSTOMER).order_by("-created_at", "-pk").first()


# --- figures --------------------------------------------------------------------------------------


def figures(since: Any = None) -> dict[str, Any]:
    """Drafts accepted unedited, mean edit distance, median time to first response."""
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
