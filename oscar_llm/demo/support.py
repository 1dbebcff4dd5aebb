"""Support demo data: the shop's policy articles and a few tickets from demo customers about their orders.

Idempotent like the rest of the demo data: articles are keyed by slug (an article staff
edited is left alone), tickets by customer and subject.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify

from ..models import KnowledgeArticle, ReplyTemplate, Ticket

# (customer index in the demo's customer list, subject, message); "{number}" is one of their orders.
DEMO_TICKETS = (
    (0, "Where is my parcel?", "Hi, my order {number} still has not arrived. Can you tell me where it is?"),
    (1, "Returning a jacket", "Hello, I would like to return an item from order {number}. How do I do that?"),
    (2, "Invoice for my order", "Could you send me an invoice for order {number}, please? I need it for work."),
    (3, "Change delivery address", "I made a mistake in the address of order {number}. Can I still change it?"),
)


def ensure_articles() -> int:
    """Create the demo policy articles that are missing; their embeddings are refreshed by a job."""
    from .knowledge_base import ARTICLES

    created = 0
    for spec in ARTICLES:
        slug = str(spec.get("slug") or slugify(str(spec["title"])))
        _article, was_created = KnowledgeArticle.objects.get_or_create(
            slug=slug,
            defaults={"title": spec["title"], "body": spec["body"], "tags": ", ".join(spec.get("tags", ()))},
        )
        created += int(was_created)
    return created


def ensure_tickets(customer_emails: list[str]) -> int:
    """A few tickets from demo customers about their own real orders (drafting is queued for each)."""
    from ..support import desk, queries

    User = get_user_model()
    created = 0
    for index, subject, body in DEMO_TICKETS:
        if index >= len(customer_emails):
            continue
        user = User.objects.filter(email=customer_emails[index]).first()
        if user is None or Ticket.objects.filter(customer=user, subject=subject).exists():
            continue
        order = queries.customer_orders(user).first()
        if order is None:
            continue
        with transaction.atomic():
            desk.open_ticket(user, subject, body.format(number=order.number), order=order)
        created += 1
    return created


def ensure_library() -> int:
    """The shop's reply patterns (written by the project for the demo policies) in the reply library."""
    from ..support.library_store import add_replies
    from .support_seed import pattern_entries

    return add_replies(pattern_entries(), source=ReplyTemplate.Source.PATTERN)


def ensure_support_demo(customer_emails: list[str]) -> dict[str, Any]:
    # The library before the tickets: their drafts start from it.
    library = ensure_library()
    return {"articles": ensure_articles(), "library_replies": library, "tickets": ensure_tickets(customer_emails)}
