"""Product questions in Oscar's dashboard: the queue, one question with its evidence, the figures.

Views validate the form and call one function of ``qa.services``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.generic import ListView, TemplateView

from ..models import Feature, FeatureSwitch, ProductQuestion
from ..qa import services

AGES = {"day": 1, "week": 7, "month": 30}


class QuestionQueueView(ListView):
    template_name = "oscar_llm/dashboard/qa/queue.html"
    context_object_name = "questions"
    paginate_by = 30

    def get_queryset(self) -> Any:
        qs = ProductQuestion.objects.select_related("product", "customer")
        params = self.request.GET
        status = params.get("status", "waiting")
        if status == "waiting":
            qs = qs.filter(status__in=[ProductQuestion.Status.REVIEW, ProductQuestion.Status.NEEDS_STAFF])
        elif status in ProductQuestion.Status.values:
            qs = qs.filter(status=status)
        product = params.get("product", "").strip()
        if product.isdigit():
            qs = qs.filter(product_id=int(product))
        elif product:
            qs = qs.filter(product__title__icontains=product[:100])
        confidence = params.get("confidence", "")
        if confidence == "high":
            qs = qs.filter(confidence__gte=0.5)
        elif confidence == "low":
            qs = qs.filter(confidence__lt=0.5)
        age = params.get("age", "")
        if age in AGES:
            qs = qs.filter(created_at__gte=timezone.now() - timedelta(days=AGES[age]))
        elif age == "older":
            qs = qs.filter(created_at__lt=timezone.now() - timedelta(days=7))
        return qs.order_by("created_at", "pk") if status == "waiting" else qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            tab="queue",
            statuses=ProductQuestion.Status.choices,
            filters=self.request.GET,
            qa_enabled=FeatureSwitch.is_enabled(Feature.QA),
            auto_publish=FeatureSwitch.auto_publishes(Feature.QA),
        )
        return ctx


class QuestionView(TemplateView):
    template_name = "oscar_llm/dashboard/qa/question.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        question = get_object_or_404(ProductQuestion.objects.select_related("product", "customer"), pk=kwargs["pk"])
        ctx.update(tab="queue", question=question, evidence=list(enumerate(question.evidence or [])))
        return ctx

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        question = get_object_or_404(ProductQuestion, pk=pk)
        action = request.POST.get("action", "")
        text = request.POST.get("answer", "")
        try:
            if action == "approve":
                services.approve(question, by=request.user)
            elif action == "edit":
                services.approve(question, by=request.user, text=text)
            elif action == "answer":
                services.answer_by_hand(question, by=request.user, text=text)
            elif action == "reject":
                services.reject(question, by=request.user, reason=request.POST.get("reason", ""))
            elif action == "unpublish":
                services.unpublish(question, by=request.user)
            else:
                messages.error(request, "Unknown action.")
                return redirect("oscar_llm_dashboard:qa-question", pk=pk)
        except services.QAError as exc:
            messages.error(request, str(exc))
            return redirect("oscar_llm_dashboard:qa-question", pk=pk)
        messages.success(request, f"Question #{pk}: done.")
        return redirect("oscar_llm_dashboard:qa-question", pk=pk)


class QuestionFiguresView(TemplateView):
    template_name = "oscar_llm/dashboard/qa/figures.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx.update(tab="figures", figures=services.figures())
        return ctx
