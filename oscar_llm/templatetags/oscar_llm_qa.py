"""``{% product_questions product %}``: the "Questions about this product" block (reads the database only)."""

from __future__ import annotations

import json
import logging
from typing import Any

from django import template
from django.utils.safestring import mark_safe

from ..models import Feature, FeatureSwitch
from ..qa import services

register = template.Library()
logger = logging.getLogger(__name__)


def _json_ld(product: Any, questions: list[Any]) -> str:
    """schema.org QAPage markup; ``<`` is escaped so no text can close the script element."""
    data = {
        "@context": "https://schema.org",
        "@type": "QAPage",
        "name": f"Questions about {product.get_title()}",
        "mainEntity": [
            {
                "@type": "Question",
                "name": q.text,
                "text": q.text,
                "answerCount": 1,
                "dateCreated": q.created_at.isoformat(),
                "acceptedAnswer": {
                    "@type": "Answer",
                    "text": q.answer,
                    "upvoteCount": q.helpful_votes,
                    "dateCreated": (q.published_at or q.created_at).isoformat(),
                },
            }
            for q in questions
        ],
    }
    text = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return mark_safe(f'<script type="application/ld+json">{text}</script>')  # noqa: S308 - escaped above


@register.inclusion_tag("oscar_llm/qa/block.html", takes_context=True)
def product_questions(context: Any, product: Any, limit: int = 20) -> dict[str, Any]:
    """Published Q&A of the product family, the asker's own pending questions, the ask form."""
    request = context.get("request")
    empty = {"show": False}
    try:
        if not FeatureSwitch.is_enabled(Feature.QA):
            return empty
        user = getattr(request, "user", None)
        questions, open_questions = services.page_questions(product, user, limit)
        own = [services.customer_view(q) for q in open_questions]
    except Exception:  # a failing block is left out, never the page
        logger.exception("product questions block failed")
        return empty
    return {
        "show": True,
        "product": product,
        "questions": questions,
        "own": own,
        "user": user,
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "json_ld": _json_ld(product, questions) if questions else "",
    }
