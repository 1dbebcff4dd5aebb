"""The click beacon: a recommended product was clicked in a block (thin; tracking does the work)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_POST

from .. import limits
from .tracking import InvalidClick, record_click


@require_POST
def recommendation_click(request: HttpRequest) -> HttpResponse:
    """POST ``block`` and ``product`` (CSRF-protected like any form post); 204 when recorded, 400 for an
    unknown block or a product that is not public, 429 past the click limit."""
    try:
        record_click(request, request.POST.get("block", ""), request.POST.get("product"))
    except InvalidClick as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    except limits.RateLimited as exc:
        response = JsonResponse({"error": str(exc)}, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    return HttpResponse(status=204)
