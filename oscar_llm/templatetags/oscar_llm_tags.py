"""Template tags for the storefront. They read the database (cached), never a model."""

from __future__ import annotations

import logging
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from ..content.segments import DEFAULT_SEGMENT, segment_for_request
from ..content.services import published_copy
from ..guardrails.html import sanitize_for_kind

register = template.Library()
logger = logging.getLogger(__name__)


def _segment(context: Any) -> str:
    request = context.get("request")
    if request is None:
        return DEFAULT_SEGMENT
    cached = getattr(request, "_oscar_llm_segment", None)
    if cached is None:
        try:
            cached = segment_for_request(request)
        except Exception:
            logger.exception("Could not read the visitor's segment")
            cached = DEFAULT_SEGMENT
        request._oscar_llm_segment = cached
    return cached


def _language() -> str | None:
    """The active language when the shop writes copy in it, else None (the shop's main language)."""
    from django.utils import translation

    from ..models import ShopVoice

    active = (translation.get_language() or "").split("-")[0]
    try:
        return active if active in ShopVoice.current().language_list else None
    except Exception:
        return None


@register.simple_tag(takes_context=True)
def llm_copy(context: Any, product: Any, kind: str) -> str | SafeString:
    """The published copy of ``kind`` for the visitor's segment, or the product's own text.

    Descriptions are HTML: generated ones were sanitised when checked, the
    original is the shop's own (Oscar renders it with ``|safe`` too), so both
    are passed through the allow-list once more before being marked safe.
    """
    text = published_copy(product, kind, _segment(context), _language())
    if kind == "description":
        return mark_safe(sanitize_for_kind(text, "description"))  # noqa: S308 - allow-listed by nh3
    return text
