"""The campaign banner on the home and category pages (signed-in customers in a campaign's segment)."""

from __future__ import annotations

import logging
from typing import Any

from django import template

from ..marketing.campaigns import banner_for
from ..models import Feature, FeatureSwitch

register = template.Library()
logger = logging.getLogger(__name__)


@register.inclusion_tag("oscar_llm/marketing/banner.html", takes_context=True)
def campaign_banner(context: Any) -> dict[str, Any]:
    """Nothing when marketing is off, the visitor is signed out, or anything fails: never a broken page."""
    request = context.get("request")
    try:
        if request is None or not FeatureSwitch.is_enabled(Feature.MARKETING):
            return {"banner": None}
        return {"banner": banner_for(request.user)}
    except Exception:  # a banner is never worth a storefront error
        logger.exception("campaign banner failed")
        return {"banner": None}
