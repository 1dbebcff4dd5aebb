"""Plain values passed between the Django side and the drafting pipeline.

Frozen dataclasses of strings and numbers only (money as Decimal-compatible
strings), so the same pipeline runs in a worker, in a test and in the
evaluation harness without touching the ORM.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..guardrails.redaction import CustomerIdentity


@dataclass(frozen=True)
class OrderLineFact:
    title: str
    quantity: int
    price: str
    product_id: int | None = None


@dataclass(frozen=True)
class OrderFact:
    number: str
    status: str
    placed: str  # ISO date
    total: str
    currency: str
    lines: tuple[OrderLineFact, ...] = ()
    shipping_city: str = ""
    shipping_country: str = ""
    shipping_method: str = ""
    tracking: str | None = None


@dataclass(frozen=True)
class ArticleFact:
    id: int
    title: str
    body: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResolvedExample:
    """A past ticket with the reply staff approved (the learning loop's retrieval examples)."""

    text: str
    reply: str
    intent: str


@dataclass(frozen=True)
class DraftRequest:
    """One customer message to draft a reply to.

    ``customer_name`` is the name a reply greets (the first name); ``customer`` is every value the
    shop knows about the customer (``oscar_llm.customers.customer_identity``), all of which must be
    redacted before the request goes to a model outside the process.
    """

    subject: str
    customer_text: str
    customer_name: str = ""
    orders: tuple[OrderFact, ...] = ()
    linked_order_numbers: tuple[str, ...] = ()
    similar: tuple[ResolvedExample, ...] = ()
    customer: CustomerIdentity | None = None


@dataclass
class DraftResult:
    """What the pipeline produced for one request.

    ``citations``: ``{"kind": "article", "id", "title", "quote", "start"?, "end"?}`` or
    ``{"kind": "order", "number", "field", "value", "start"?, "end"?}`` (spans index ``text``).
    ``checks``: ``{"name", "passed", "detail"}``. ``articles``: ``{"id", "title", "score"}``.
    When ``needs_human`` is true, ``text`` is empty or a holding template and staff
    see ``reasons``, the articles and the facts instead of a draft.
    """

    text: str
    intent: str
    intent_confidence: float
    citations: list[dict] = field(default_factory=list)
    checks: list[dict] = field(default_factory=list)
    confidence: float = 0.0
    needs_human: bool = True
    reasons: list[str] = field(default_factory=list)
    articles: list[dict] = field(default_factory=list)
    model_id: str = ""
    prompt_version: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    # The best generated text even when it failed its checks (staff may look at it;
    # ``text`` stays empty then), and how many candidates were generated.
    candidate: str = ""
    candidates_tried: int = 0
    # The library reply the draft was adapted from (``{"id", "source", "intent", "question", "text",
    # "similarity", "score"}``; None when the model wrote it) and what became of each of its slots
    # (``{"slot", "value", "source", ...}`` filled from a fact, or ``{"slot", "missing"}``).
    library: dict | None = None
    slots: list[dict] = field(default_factory=list)
