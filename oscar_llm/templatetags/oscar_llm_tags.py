"""Template tags for the storefront. They read the database (cached), never a model."""

from __future__ import annotations

import logging
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from ..content.segments import DEFAULT_SEGMENT, segment_for_request
from ..content.services import copy_for_visitor
from ..guardrails.html import plain_text, sanitize_for_kind

register = template.Library()
logger = logging.getLogger(__name__)


@register.filter(name="llm_plain")
def llm_plain(value: Any) -> str:
    """Stored copy (sanitised HTML) as the words a reader sees: tags dropped, "&amp;" read as "&".

    The result is escaped again by the template, so staff read "Pebble & Pine", not "Pebble &amp; Pine".
    """
    return plain_text(str(value or ""))


def _visitor_language() -> str | None:
    """The active language when the shop writes copy in it, else its main language."""
    from django.utils import translation

    from ..models import ShopVoice

    languages = ShopVoice.current().language_list
    active = (translation.get_language() or "").split("-")[0]
    return active if active in languages else languages[0]


def _visitor(context: Any) -> tuple[str, str | None]:
    """(segment, language) of this visitor, worked out once per request (a page has many tags)."""
    request = context.get("request")
    cached = getattr(request, "_oscar_llm_visitor", None) if request is not None else None
    if cached is None:
        segment, language = DEFAULT_SEGMENT, None
        try:
            if request is not None:
                segment = segment_for_request(request)
        except Exception:
            logger.exception("Could not read the visitor's segment")
        try:
            language = _visitor_language()
        except Exception:
            logger.exception("Could not read the shop's languages")
        cached = (segment, language)
        if request is not None:
            request._oscar_llm_visitor = cached
    return cached


@register.simple_tag(takes_context=True)
def llm_copy(context: Any, product: Any, kind: str) -> str | SafeString:
    """The published copy of ``kind`` for the visitor's segment, or the product's own text; in a running
    product copy experiment, the visitor's arm (``content.services.copy_for_visitor``).

    Descriptions are HTML: generated ones were sanitised when checked, the
    original is the shop's own (Oscar renders it with ``|safe`` too), so both
    are passed through the allow-list once more before being marked safe.
    """
    segment, language = _visitor(context)
    text = copy_for_visitor(context.get("request"), product, kind, segment, language)
    if kind == "description":
        return mark_safe(sanitize_for_kind(text, "description"))  # noqa: S308 - allow-listed by nh3
    return text
