"""What the shop knows about a product, as pieces of evidence a question can be answered from.

The product's facts (each attribute as a sentence), its published copy and its own description (a
sentence each), approved Oscar reviews, earlier published answers about it and its parent or
variants, and the shop's knowledge articles (shipping, returns, warranty), a paragraph each.
Each piece: ``{"text", "source", "label"}``; ``label`` is what the customer reads as the source.
"""

from __future__ import annotations

import re
from typing import Any

from ..catalogue import product_facts
from ..guardrails.html import plain_text

SENTENCE_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])")
MAX_SENTENCES = 12
MAX_REVIEWS = 10
MAX_ANSWERS = 10
SKIP_FACTS = {"title", "product_class"}


def sentences(text: str, limit: int = MAX_SENTENCES) -> list[str]:
    text = re.sub(r"\s+", " ", plain_text(text or "")).strip()
    return [s.strip() for s in SENTENCE_RE.split(text) if len(s.strip()) > 3][:limit]


def fact_evidence(facts: dict[str, Any]) -> list[dict[str, str]]:
    result = []
    for code, value in sorted((facts.get("attributes") or {}).items()):
        if value in (None, "") or code in SKIP_FACTS:
            continue
        name = code.replace("_", " ").strip().capitalize()
        result.append({"text": f"{name}: {value}", "source": "fact", "label": f"From the product details: {name}"})
    if facts.get("price"):
        result.append(
            {
                "text": f"Price: {facts['price']} {facts.get('currency') or ''}".strip(),
                "source": "fact",
                "label": "From the product details: Price",
            }
        )
    if facts.get("in_stock") is not None:
        stock = "In stock" if facts["in_stock"] else "Out of stock"
        result.append({"text": f"Availability: {stock}", "source": "fact", "label": "From the product details"})
    return result


def family(product: Any) -> list[Any]:
    """The product, its parent and its siblings (or its children): answers about one fit the others."""
    members = [product]
    parent = product.parent if getattr(product, "parent_id", None) else None
    if parent is not None:
        members.append(parent)
        members += list(parent.children.exclude(pk=product.pk))
    elif getattr(product, "is_parent", False):
        members += list(product.children.all())
    return members


def gather(product: Any) -> list[dict[str, str]]:
    """Every piece of evidence for ``product`` (a few queries; runs in the worker)."""
    from oscar.core.loading import get_model

    from ..models import ContentVersion, KnowledgeArticle, ProductQuestion

    facts = product_facts(product)
    if getattr(product, "parent_id", None) and not facts.get("attributes"):
        facts = product_facts(product.parent)
    evidence = fact_evidence(facts)
    seen: set[str] = set()
    copies = ContentVersion.objects.filter(product=product, is_current=True, kind="description").values_list(
        "text", flat=True
    )
    for text in [*copies, facts.get("description") or ""]:
        for sentence in sentences(text):
            if sentence.lower() not in seen:
                seen.add(sentence.lower())
                evidence.append({"text": sentence, "source": "copy", "label": "From the product description"})
    ProductReview = get_model("reviews", "ProductReview")
    reviews = ProductReview.objects.filter(product=product, status=ProductReview.APPROVED).order_by("-score", "-pk")
    for review in reviews[:MAX_REVIEWS]:
        body = plain_text(f"{review.title}. {review.body}")[:600]
        evidence.append({"text": body, "source": "review", "label": "From a customer review"})
    earlier = ProductQuestion.objects.filter(
        product__in=[p.pk for p in family(product)], status=ProductQuestion.Status.PUBLISHED, private=False
    ).exclude(answer="")
    for question in earlier.order_by("-helpful_votes", "-published_at")[:MAX_ANSWERS]:
        evidence.append(
            {
                "text": f"{question.answer} Question: {question.text}",
                "source": "answer",
                "label": "From an earlier answer",
            }
        )
    for article in KnowledgeArticle.objects.filter(active=True).order_by("title"):
        for paragraph in [p for p in re.split(r"\n\s*\n", article.body or "") if p.strip()][:6]:
            evidence.append(
                {"text": plain_text(paragraph).strip()[:600], "source": "article", "label": f"From our {article.title}"}
            )
    return evidence
