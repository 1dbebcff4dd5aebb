"""Versioned prompts for support replies.

Like product copy, each request has a compact plain form that the shop's own
model is trained on (``training_pair`` renders training data with this very
code) and chat messages for instruction-following models.

Both forms frame the customer's words as quoted data
(:func:`oscar_llm.guardrails.injection.frame`): delimiters that cannot be
forged, markup and control characters removed, length capped, and an
instruction to treat the quote as data. Replies are written with
``{{Placeholder}}`` slots for facts (``{{Order Number}}``, ``{{Customer Support
Phone Number}}``...): the Bitext replies the shop model learns from use them,
and the pipeline fills them from the gathered facts only, so a model never has
to (and never gets to) invent an order number or a phone number.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..guardrails.injection import DATA_INSTRUCTION, frame, neutralise
from ..llm.base import GenerationRequest
from .types import ArticleFact, OrderFact, ResolvedExample

PROMPT_VERSION = "support-v1"
# The plain prompt carries the start of the message only: the shop model is
# small, and the intent plus the facts decide most of a reply.
PLAIN_MESSAGE_CHARS = 240
CHAT_MESSAGE_CHARS = 4000
MAX_ARTICLE_CHARS = 1500


def order_summary(order: OrderFact, *, with_address: bool = True) -> str:
    """One line of an order's facts. ``with_address=False`` for prompts: a reply names the delivery
    town through ``{{Delivery City}}``, filled here, so the address never has to leave the process."""
    items = ", ".join(f"{line.title} x{line.quantity}" for line in order.lines)
    parts = [
        f"order {order.number}",
        f"status {order.status}",
        f"placed {order.placed}",
        f"total {order.total} {order.currency}",
    ]
    if items:
        parts.append(f"items {items}")
    if with_address and (order.shipping_city or order.shipping_country):
        parts.append(f"ships to {', '.join(p for p in (order.shipping_city, order.shipping_country) if p)}")
    if order.shipping_method:
        parts.append(f"method {order.shipping_method}")
    if order.tracking:
        parts.append(f"tracking {order.tracking}")
    return "; ".join(parts)


def _plain_message(text: str) -> str:
    body = " ".join(neutralise(text).split())
    if len(body) > PLAIN_MESSAGE_CHARS:
        body = body[:PLAIN_MESSAGE_CHARS].rsplit(" ", 1)[0] + " ..."
    return body


def plain_prompt(
    intent: str,
    customer_text: str,
    *,
    has_order: bool = False,
    has_name: bool = False,
    articles: Sequence[ArticleFact] = (),
) -> str:
    """The shop model's prompt: intent, which facts exist (not their values), article titles, the quoted message.

    Values never enter this prompt: the model writes placeholders and the
    pipeline fills them, so there is nothing to copy wrongly.
    """
    known = [k for k, present in (("order", has_order), ("name", has_name)) if present]
    titles = "; ".join(a.title for a in articles[:2])
    return (
        f"[support|{intent}] known= {' '.join(known) or 'none'}; policy= {titles or 'none'}; "
        f"message= <<{_plain_message(customer_text)}>> =>"
    )


def chat_messages(
    intent: str,
    customer_text: str,
    subject: str,
    *,
    shop_name: str,
    orders: Sequence[OrderFact],
    articles: Sequence[ArticleFact],
    placeholders: Sequence[str],
    similar: Sequence[ResolvedExample] = (),
) -> list[dict[str, str]]:
    system = (
        f"You draft replies for the customer support team of {shop_name}, an online shop. A member of staff "
        "reviews every draft before it is sent. Answer only from the shop policies and order facts you are "
        "given; never promise a refund, compensation, discount or anything else the policies do not state; "
        "never mention orders other than the ones listed. Where a reply needs a fact, write its placeholder "
        "exactly as listed (for example {{Order Number}}); the shop fills it in. "
        + DATA_INSTRUCTION
        + " Reply with the message to the customer only, in plain text, in English."
    )
    policy = "\n\n".join(f"## {a.title}\n{a.body[:MAX_ARTICLE_CHARS]}" for a in articles) or "(none found)"
    facts = "\n".join(f"- {order_summary(o, with_address=False)}" for o in orders)
    facts = facts or "- (no orders on file for this customer)"
    lines = [
        f"Ticket intent: {intent}",
        f"Subject: {neutralise(subject)[:200]}",
        "",
        "Shop policies:",
        policy,
        "",
        "The customer's orders:",
        facts,
        "",
        "Placeholders you may use: " + ", ".join("{{" + p + "}}" for p in placeholders),
    ]
    for example in similar[:2]:
        lines += ["", "A similar ticket and the reply staff approved:", frame(example.text, 600), example.reply[:800]]
    lines += ["", frame(customer_text, CHAT_MESSAGE_CHARS)]
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n".join(lines)}]


def build_request(
    intent: str,
    customer_text: str,
    subject: str,
    *,
    shop_name: str,
    orders: Sequence[OrderFact],
    has_order: bool,
    has_name: bool,
    articles: Sequence[ArticleFact],
    placeholders: Sequence[str],
    similar: Sequence[ResolvedExample] = (),
    max_new_tokens: int = 200,
) -> GenerationRequest:
    return GenerationRequest(
        prompt=plain_prompt(intent, customer_text, has_order=has_order, has_name=has_name, articles=articles),
        messages=chat_messages(
            intent,
            customer_text,
            subject,
            shop_name=shop_name,
            orders=orders,
            articles=articles,
            placeholders=placeholders,
            similar=similar,
        ),
        max_new_tokens=max_new_tokens,
    )


def training_pair(
    intent: str,
    customer_text: str,
    reply: str,
    *,
    has_order: bool = False,
    has_name: bool = False,
    articles: Sequence[ArticleFact] = (),
) -> tuple[str, str]:
    """(prompt, completion) for the shop model, the prompt exactly as generation renders it."""
    prompt = plain_prompt(intent, customer_text, has_order=has_order, has_name=has_name, articles=articles)
    return prompt, " " + reply.strip()
