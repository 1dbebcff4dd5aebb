"""``{% recommendation_block "product_similar" product=product %}`` for storefront templates.

Reads precomputed lists through the recommendations service; never a model, never raises.
"""

from __future__ import annotations

import logging
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from ..recommendations.blocks import render_block

register = template.Library()
logger = logging.getLogger(__name__)


@register.simple_tag(takes_context=True)
def recommendation_block(context: Any, block: str, product: Any = None, basket: Any = None) -> SafeString:
    """The rendered block, or an empty string when it is off, empty or failing."""
    html = render_block(block, request=context.get("request"), product=product, basket=basket)
    return mark_safe(html)  # noqa: S308 - rendered by Django's auto-escaping template engine


@register.inclusion_tag("oscar_llm/recommendations/script.html", takes_context=True)
def recommendation_script(context: Any) -> dict[str, Any]:
    """The click beacon (once per page; harmless when no block is on it)."""
    return {"click_url": click_url(), "csrf_token": context.get("csrf_token")}


def click_url() -> str:
    """The beacon's URL, whether the plugin's URLs are included with a namespace or not."""
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("oscar_llm:oscar_llm-recommendation-click")
    except NoReverseMatch:
        return reverse("oscar_llm-recommendation-click")
