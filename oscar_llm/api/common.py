"""What every API module shares: pagination, throttling and reading id filters.

Permissions live in :mod:`oscar_llm.permissions`, shared with the dashboard.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle

# Throttle scopes of the plugin and the rate each has when the shop sets none in
# ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``. A scope missing from the settings falls back
# to its ``FALLBACK_SCOPES`` entry first (the recommendations use the public rate unless the
# shop sets ``oscar_llm_recommendations``), then to its default here.
PUBLIC_SCOPE = "oscar_llm_public"
RECOMMENDATIONS_SCOPE = "oscar_llm_recommendations"
SUPPORT_SCOPE = "oscar_llm_support"

DEFAULT_RATES = {
    PUBLIC_SCOPE: "120/min",
    RECOMMENDATIONS_SCOPE: "120/min",
    SUPPORT_SCOPE: "30/min",
}
FALLBACK_SCOPES = {RECOMMENDATIONS_SCOPE: PUBLIC_SCOPE}


def throttle_rate(scope: str) -> str | None:
    """The rate of ``scope``, read from the settings now (not when DRF was imported)."""
    rates = api_settings.DEFAULT_THROTTLE_RATES or {}
    fallback = FALLBACK_SCOPES.get(scope)
    return rates.get(scope) or (rates.get(fallback) if fallback else None) or DEFAULT_RATES.get(scope)


class ScopedThrottle(ScopedRateThrottle):
    """Throttles by the view's ``throttle_scope``, per signed-in user (else per client address).

    DRF's own class copies the rates when it is imported; this one reads them on every request,
    so a changed setting applies at once, and falls back to the plugin's defaults.
    """

    def get_rate(self) -> str | None:
        return throttle_rate(self.scope)


class Pages(PageNumberPagination):
    """Staff lists of drafts and jobs: 50 a page, up to 500 with ``?page_size=``."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class ShortPages(Pages):
    """Lists whose rows are heavy (support tickets and reply drafts): 20 a page, up to 100."""

    page_size = 20
    max_page_size = 100


# Row ids are 32-bit in every table the filters read; a bigger number can match nothing.
MAX_ID = 2**31 - 1


def id_param(request: Any, name: str) -> int | None:
    """The query parameter ``name`` as a row id, or None when absent; anything else is a 400, not a 500."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError({name: f"A whole number, not {raw!r}."}) from None
    if not 1 <= value <= MAX_ID:
        raise ValidationError({name: f"A whole number from 1 to {MAX_ID}."})
    return value
