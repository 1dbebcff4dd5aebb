"""The learning loop: replies staff approved become examples for new drafts and training data.

Approved and edited drafts are read back as resolved examples (generalised, so one
customer's data never reaches a prompt about another) and as training rows for
``oscar_llm_train --support-from-shop``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db.models import QuerySet
from oscar.core.loading import get_model

from ..customers import customer_identities
from ..guardrails.redaction import PLACEHOLDER_RE, CustomerIdentity, Redactor
from ..models import ReplyDraft, Ticket
from .knowledge_base import load_knowledge_base
from .library import generalise_references
from .types import OrderFact, ResolvedExample

# Past resolved tickets handed to the drafter as retrieval candidates.
SIMILAR_CANDIDATES = 200


def resolved_examples(*, exclude_ticket: int | None = None, limit: int = SIMILAR_CANDIDATES) -> list[Any]:
    """Approved and edited replies with the question they answered (the learning loop)."""
    return list(resolved_examples_for([exclude_ticket], limit=limit)[exclude_ticket])


def resolved_examples_for(ticket_ids: Iterable[int | None], *, limit: int = SIMILAR_CANDIDATES) -> dict[Any, tuple]:
    """Each ticket's similar-ticket examples, its own replies left out, read once for a whole batch:
    for every ``t`` the same as ``resolved_examples(exclude_ticket=t)``, without reading and
    generalising the same few hundred replies again per ticket."""
    ids = set(ticket_ids)
    own = _resolved_drafts().filter(ticket_id__in=ids - {None}).count()
    drafts = list(_resolved_drafts(limit=limit + own))
    owners = _example_owners({d.ticket_id for d in drafts})
    examples = {}
    for draft in drafts:
        question = _question(draft)
        if question:
            numbers, names, identity = owners.get(draft.ticket_id, ((), (), None))
            examples[draft.pk] = ResolvedExample(
                text=generalise_example(question, numbers, names, identity),
                reply=generalise_example(draft.final_text, numbers, names, identity),
                intent=draft.ticket.intent,
            )
    by_ticket = {}
    for ticket_id in ids:
        others = [d for d in drafts if d.ticket_id != ticket_id][:limit]
        by_ticket[ticket_id] = tuple(examples[d.pk] for d in others if d.pk in examples)
    return by_ticket


def _example_owners(
    ticket_ids: set[int],
) -> dict[int, tuple[tuple[str, ...], tuple[str, ...], CustomerIdentity | None]]:
    """ticket id -> (that customer's order numbers, their names, all they gave the shop), in a few queries."""
    Order = get_model("order", "Order")
    tickets = list(Ticket.objects.filter(pk__in=ticket_ids).select_related("customer"))
    numbers: dict[int, list[str]] = {}
    for user_id, number in Order.objects.filter(user_id__in={t.customer_id for t in tickets}).values_list(
        "user_id", "number"
    ):
        numbers.setdefault(user_id, []).append(number)
    identities = customer_identities(t.customer for t in tickets)
    owners = {}
    for ticket in tickets:
        user = ticket.customer
        names = [user.get_full_name(), user.first_name, user.last_name, user.email, user.get_username()]
        owners[ticket.pk] = (
            tuple(numbers.get(ticket.customer_id, ())),
            tuple(n for n in names if n),
            identities.get(ticket.customer_id),
        )
    return owners


def generalise_example(
    text: str,
    order_numbers: Sequence[str],
    names: Sequence[str],
    identity: CustomerIdentity | None = None,
    *,
    orders: Sequence[OrderFact] = (),
) -> str:
    """Another customer's resolved ticket as a template: their order numbers, order dates, totals and
    tracking numbers, names and contact details become Bitext-style placeholders, so an example never
    carries one customer's data into a prompt or a reply about another (and the drafter fills the
    placeholders from *this* customer's facts). ``identity``: everything else the shop knows about that
    customer (addresses, phones), dropped."""
    for order in orders:
        amount = re.escape(str(order.total))
        text = re.sub(
            rf"(?<![\w.])(?:[£$€]\s?)?{amount}(?:\s?{re.escape(order.currency)})?(?![\w.])", "{{Order Total}}", text
        )
        if order.placed:
            text = re.sub(rf"(?<![\w-]){re.escape(order.placed[:10])}(?![\w-])", "{{Order Date}}", text)
        if order.tracking:
            text = re.sub(rf"(?<!\w){re.escape(order.tracking)}(?!\w)", "{{Tracking Number}}", text)
    for number in sorted(order_numbers, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(number)}(?!\w)", "{{Order Number}}", text)
    # A number the customer wrote that is no order of theirs on file (said back in the reply) goes too.
    text = generalise_references(text)
    for name in sorted({n.strip() for n in names if len(n.strip()) >= 2}, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", "{{Customer Name}}", text, flags=re.I)
    # Anything else personal (e-mails, phones, cards, addresses) is dropped, not kept for restoring.
    redactor = Redactor(keep=set(order_numbers), known=identity)
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
    from ..llm.registry import get_embedder
    from .training import support_pairs

    embedder = embedder or get_embedder()
    articles, vectors, _source = load_knowledge_base(embedder)
    return support_pairs(list(training_rows_bitext()), articles, embedder=embedder, vectors=vectors)
