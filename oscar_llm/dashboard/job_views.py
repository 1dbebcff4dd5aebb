"""The jobs page of the dashboard: every feature's background jobs, their errors, and the sweep.

Jobs are core, so this page lists every registered kind; it shares the navigation and the
product copy banner of the review pages (``content_views.status_banner``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import ListView

from .. import jobs
from ..models import Job
from .content_views import status_banner

ANY = [("", gettext_lazy("Any"))]


class JobSearchForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False, choices=ANY + list(Job.Status.choices))
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kinds = Job.objects.order_by("kind").values_list("kind", flat=True).distinct()
        self.fields["kind"].choices = ANY + [(k, k) for k in kinds]

    def filter(self, queryset: QuerySet[Job]) -> QuerySet[Job]:
        if not self.is_bound or not self.is_valid():
            return queryset
        if self.cleaned_data["status"]:
            queryset = queryset.filter(status=self.cleaned_data["status"])
        if self.cleaned_data["kind"]:
            queryset = queryset.filter(kind=self.cleaned_data["kind"])
        return queryset


class JobListView(ListView):
    template_name = "oscar_llm/dashboard/job_list.html"
    context_object_name = "jobs"
    paginate_by = 50

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.form = JobSearchForm(request.GET or None)
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Job]:
        return self.form.filter(Job.objects.order_by("-created_at", "-pk"))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        counts = dict(Job.objects.values_list("status").annotate(n=Count("pk")).order_by())
        context.update(
            form=self.form,
            status_counts=[(value, label, counts.get(value, 0)) for value, label in Job.Status.choices],
            current_status=self.form.data.get("status", "") if self.form.is_bound else "",
            erroring=Job.objects.filter(~Q(error=""), status=Job.Status.PENDING).count(),
        )
        context.update(status_banner())
        return context


class JobSweepView(View):
    def post(self, request: HttpRequest) -> HttpResponse:
        summary = jobs.sweep()
        messages.success(
            request,
            _(
                "Sweep done: %(requeued)d waiting jobs re-sent, %(reclaimed)d jobs of stopped workers re-queued, "
                "%(failed)d given up."
            )
            % summary,
        )
        return redirect("oscar_llm_dashboard:job-list")
