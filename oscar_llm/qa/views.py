"""The storefront side of product questions: ask, poll for the answer, vote "helpful".

Views validate and call ``qa.services``; no model runs here (the answer is written by a worker and
the page polls ``QuestionStatusView`` for it). Responses are JSON for scripts (``Accept:
application/json`` or ``X-Requested-With``), else a redirect back to the product's questions.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from oscar.core.loading import get_model

from .. import limits
from ..models import ProductQuestion
from . import services

Product = get_model("catalogue", "Product")


def wants_json(request: HttpRequest) -> bool:
    return (
        "application/json" in request.headers.get("Accept", "")
        or request.headers.get("X-Requested-With") == "XMLHttpRequest"
    )


def _back(product: Any) -> HttpResponse:
    return redirect(product.get_absolute_url() + "#questions")


class AskView(View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        product = get_object_or_404(Product.objects.browsable(), pk=pk)
        if not request.user.is_authenticated:
            if wants_json(request):
                return JsonResponse({"error": "Please sign in to ask a question."}, status=403)
            return redirect(f"/accounts/login/?next={product.get_absolute_url()}")
        try:
            question = services.ask(
                product, request.user, request.POST.get("question", ""), rate_key=limits.key_for(request)
            )
        except services.QAError as exc:
            status = 429 if isinstance(exc, services.QARateLimited) else 400
            if wants_json(request):
                response = JsonResponse({"error": str(exc)}, status=status)
            else:
                messages.error(request, str(exc))
                response = _back(product)
                response.status_code = 302
            if isinstance(exc, services.QARateLimited):
                response["Retry-After"] = str(exc.retry_after)
            return response
        if wants_json(request):
            return JsonResponse(services.customer_view(question), status=201)
        messages.success(request, "Thank you: your question is with us.")
        return _back(product)


class QuestionStatusView(View):
    """The asker polls here for their answer (their own questions only: anything else is a 404)."""

    http_method_names = ["get"]

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        question = ProductQuestion.objects.filter(pk=pk).first()
        if question is None:
            raise Http404
        mine = request.user.is_authenticated and question.customer_id == request.user.pk
        if not mine and not question.is_public:
            raise Http404
        return JsonResponse(services.customer_view(question))


class HelpfulView(View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        question = get_object_or_404(ProductQuestion, pk=pk, status=ProductQuestion.Status.PUBLISHED, private=False)
        if not request.session.session_key:
            request.session.save()
        voter = limits.key_for(request) if request.user.is_authenticated else f"s:{request.session.session_key}"
        created = services.vote(question, voter)
        question.refresh_from_db(fields=["helpful_votes"])
        if wants_json(request):
            return JsonResponse({"helpful_votes": question.helpful_votes, "counted": created})
        return _back(question.product)
