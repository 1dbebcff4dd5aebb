"""Dashboard: experiments, their results and the decisions (start, stop, roll out the winner).

Thin: forms validate, ``oscar_llm.experiments.services`` does the work and the statistics. Rolling out
a product copy experiment changes what customers read, so it also needs the copy reviewers' permission.
"""

from __future__ import annotations

import csv
import math
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import ListView, TemplateView
from oscar.core.loading import get_model

from .. import permissions
from ..experiments import services
from ..models import Arm, BlockCode, Experiment


class ExperimentForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    kind = forms.ChoiceField(label=gettext_lazy("What is tested"), choices=Experiment.Kind.choices)
    copy_kind = forms.ChoiceField(
        label=gettext_lazy("Text (product copy)"),
        required=False,
        choices=[("", gettext_lazy("Every text")), ("title", "title"), ("description", "description")]
        + [("meta_description", "meta_description")],
    )
    block = forms.ChoiceField(
        label=gettext_lazy("Block (recommendations)"), required=False, choices=[("", "-"), *BlockCode.choices]
    )
    scope = forms.ChoiceField(label=gettext_lazy("Scope"), choices=Experiment.Scope.choices)
    product_ids = forms.CharField(label=gettext_lazy("Product ids (comma-separated)"), required=False, max_length=2000)
    category_ids = forms.CharField(
        label=gettext_lazy("Category ids (comma-separated)"), required=False, max_length=2000
    )
    mode = forms.ChoiceField(label=gettext_lazy("Mode"), choices=Experiment.Mode.choices)
    primary_metric = forms.ChoiceField(label=gettext_lazy("Primary metric"), choices=Experiment.Metric.choices)
    guardrail_metrics = forms.MultipleChoiceField(
        label=gettext_lazy("Guardrail metrics"),
        required=False,
        choices=Experiment.Metric.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    minimum_lift = forms.FloatField(
        label=gettext_lazy("Smallest lift worth detecting"), initial=0.1, min_value=0.01, max_value=5
    )

    def _ids(self, field: str, model: str) -> list[Any]:
        raw = self.cleaned_data.get(field) or ""
        try:
            ids = sorted({int(x) for x in raw.replace(" ", "").split(",") if x})
        except ValueError as exc:
            raise forms.ValidationError({field: _("Give whole numbers separated by commas.")}) from exc
        app, name = model.split(".")
        found = list(get_model(app, name).objects.filter(pk__in=ids))
        if len(found) != len(ids):
            raise forms.ValidationError({field: _("Some of these ids do not exist.")})
        return found

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        data["products"] = self._ids("product_ids", "catalogue.Product")
        data["categories"] = self._ids("category_ids", "catalogue.Category")
        if data["scope"] == Experiment.Scope.PRODUCTS and not data["products"]:
            self.add_error("product_ids", _("Choose the products this experiment runs on."))
        if data["scope"] == Experiment.Scope.CATEGORIES and not data["categories"]:
            self.add_error("category_ids", _("Choose the categories this experiment runs on."))
        if data["kind"] == Experiment.Kind.RECOMMENDATION_BLOCK and not data.get("block"):
            self.add_error("block", _("Choose the recommendation block this experiment tests."))
        return data

    def fields_for_create(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "name": d["name"],
            "kind": d["kind"],
            "copy_kind": d.get("copy_kind") or "",
            "block": d.get("block") or "",
            "scope": d["scope"],
            "products": d["products"],
            "categories": d["categories"],
            "mode": d["mode"],
            "primary_metric": d["primary_metric"],
            "guardrail_metrics": list(d.get("guardrail_metrics") or []),
            "minimum_lift": d["minimum_lift"],
        }


class ExperimentListView(ListView):
    template_name = "oscar_llm/dashboard/experiment_list.html"
    context_object_name = "experiments"
    paginate_by = 50

    def get_queryset(self):
        return Experiment.objects.order_by("-created_at", "-pk").prefetch_related("arms")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["form"] = kwargs.get("form") or ExperimentForm(initial={"minimum_lift": 0.1})
        return context


class ExperimentCreateView(View):
    def post(self, request: HttpRequest) -> HttpResponse:
        form = ExperimentForm(request.POST)
        if not form.is_valid():
            view = ExperimentListView()
            view.setup(request)
            view.object_list = view.get_queryset()
            context = view.get_context_data(form=form)
            return view.render_to_response(context, status=400)
        try:
            experiment = services.create(by=request.user, **form.fields_for_create())
        except (services.ExperimentError, ValueError) as exc:
            messages.error(request, str(exc))
            return redirect("oscar_llm_dashboard:experiment-list")
        messages.success(request, _("Experiment created. Check its arms and sample size, then start it."))
        return redirect("oscar_llm_dashboard:experiment-detail", pk=experiment.pk)


def lift_plot(points: list[dict[str, Any]], width: int = 640, height: int = 220) -> dict[str, Any] | None:
    """Coordinates of the estimate-over-time plot (an inline SVG): each treatment's lift and interval."""
    series: dict[int, dict[str, Any]] = {}
    for i, point in enumerate(points):
        for arm in point["arms"]:
            s = series.setdefault(arm["arm"], {"name": arm["name"], "points": []})
            if arm["lift"] is not None:
                s["points"].append((i, arm["lift"], arm["low"], arm["high"]))
    values = [v for s in series.values() for p in s["points"] for v in p[1:] if v is not None and math.isfinite(v)]
    if not values or len(points) < 1:
        return None
    top, bottom = max(max(values), 0.05), min(min(values), -0.05)
    top, bottom = min(top, 2.0), max(bottom, -1.0)
    pad = 30
    n = max(len(points) - 1, 1)

    def x(i: int) -> float:
        return round(pad + (width - 2 * pad) * i / n, 1)

    def y(v: float) -> float:
        v = min(max(v, bottom), top)
        return round(pad + (height - 2 * pad) * (top - v) / (top - bottom), 1)

    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    lines = []
    for k, s in enumerate(series.values()):
        pts = s["points"]
        band = [(x(i), y(hi)) for i, _l, _lo, hi in pts if hi is not None]
        band += [(x(i), y(lo)) for i, _l, lo, _hi in reversed(pts) if lo is not None]
        lines.append(
            {
                "name": s["name"],
                "colour": colours[k % len(colours)],
                "line": " ".join(f"{x(i)},{y(v)}" for i, v, _lo, _hi in pts),
                "band": " ".join(f"{a},{b}" for a, b in band),
                "last": pts[-1][1] if pts else None,
            }
        )
    return {
        "width": width,
        "height": height,
        "zero": y(0.0),
        "top_label": f"{top:+.0%}",
        "bottom_label": f"{bottom:+.0%}",
        "top": y(top),
        "bottom": y(bottom),
        "first_day": points[0]["day"],
        "last_day": points[-1]["day"],
        "series": lines,
        "left": pad,
        "right": width - pad,
    }


class ExperimentDetailView(TemplateView):
    template_name = "oscar_llm/dashboard/experiment_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        experiment = get_object_or_404(Experiment.objects.prefetch_related("arms"), pk=kwargs["pk"])
        data = services.results(experiment)
        timeline = services.timeline(experiment)
        context.update(
            experiment=experiment,
            results=data,
            timeline=timeline,
            plot=lift_plot(timeline),
            can_roll_out=_may_roll_out(self.request.user, experiment),
        )
        return context


def _may_roll_out(user: Any, experiment: Experiment) -> bool:
    if experiment.kind == Experiment.Kind.PRODUCT_COPY:
        return permissions.allowed(user, permissions.REVIEW_COPY)
    return True


class _ExperimentAction(View):
    def experiment(self, pk: int) -> Experiment:
        return get_object_or_404(Experiment, pk=pk)

    def done(self, experiment: Experiment) -> HttpResponse:
        return redirect("oscar_llm_dashboard:experiment-detail", pk=experiment.pk)


class ExperimentStartView(_ExperimentAction):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        experiment = self.experiment(pk)
        try:
            services.start(experiment)
            messages.success(request, _("The experiment is running."))
        except services.ExperimentError as exc:
            messages.error(request, str(exc))
        return self.done(experiment)


class ExperimentStopView(_ExperimentAction):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        experiment = self.experiment(pk)
        try:
            services.stop(experiment)
            messages.success(request, _("The experiment is stopped; visitors see what they saw before it."))
        except services.ExperimentError as exc:
            messages.error(request, str(exc))
        return self.done(experiment)


class ExperimentRollOutView(_ExperimentAction):
    """Stop and roll out one arm (one click; nothing is rolled out without it)."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        experiment = self.experiment(pk)
        if not _may_roll_out(request.user, experiment):
            return HttpResponseForbidden(_("Rolling out product copy needs the copy reviewers' permission."))
        try:
            arm = experiment.arms.get(pk=int(request.POST.get("arm", "")))
        except (ValueError, Arm.DoesNotExist):
            messages.error(request, _("Choose one of this experiment's arms."))
            return self.done(experiment)
        try:
            services.roll_out(experiment, arm, by=request.user)
            messages.success(request, _("%(arm)s is rolled out.") % {"arm": arm.name})
        except services.ExperimentError as exc:
            messages.error(request, str(exc))
        return self.done(experiment)


class ExperimentCSVView(_ExperimentAction):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        experiment = self.experiment(pk)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="experiment-{experiment.pk}.csv"'
        writer = csv.writer(response)
        writer.writerow(services.CSV_HEADER)
        for row in services.csv_rows(experiment):
            writer.writerow([_csv_safe(v) for v in row])
        return response


def _csv_safe(value: Any) -> Any:
    """Cells a spreadsheet would run as a formula start with a quote instead."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
