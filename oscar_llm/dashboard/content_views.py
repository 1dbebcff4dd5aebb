"""Review of generated product copy in Oscar's dashboard: queue, draft, product history.

Views only validate a form, call a ``content.services`` function and redirect with a
message; what publishing, rejecting or rolling back means lives in the services, shared
with the API, the tasks and the management commands.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Count, Max, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import DetailView, FormView, ListView
from django.views.generic.detail import SingleObjectMixin
from oscar.core.loading import get_model

from .. import jobs
from ..catalogue import product_facts
from ..content import services
from ..content.prompts import segment_styles, stated_lead_facts
from ..models import ContentDraft, ContentVersion, Feature, FeatureSwitch, Job
from ..settings import llm_settings
from . import forms
from .utils import fact_rows, word_diff

logger = logging.getLogger(__name__)

Product = get_model("catalogue", "Product")

# Raised while queueing when the backend setting points nowhere (a bad GENERATOR path...).
QUEUE_ERRORS = (ImportError, ImproperlyConfigured, ValueError)


# --- shared context --------------------------------------------------------------------------------


def _admin_url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def status_banner() -> dict[str, Any]:
    """What staff should know before reviewing: is the feature on, and is the model working?

    Only the product copy feature's jobs count (a failing support or recommendation job is not
    a product copy error). Errors count from the last of them that finished well, so the banner
    clears itself once the model is back (e.g. "Model unavailable" until it is trained).
    ``jobs_waiting`` is the badge of the (core) jobs tab, so it counts every kind.
    """
    state = FeatureSwitch.states().get(Feature.PRODUCT_COPY, {})
    copy_jobs = Job.objects.filter(kind__in=jobs.kinds_of("content"))
    last_success = copy_jobs.filter(status=Job.Status.DONE).aggregate(at=Max("finished_at"))["at"]
    failing = copy_jobs.filter(status__in=[Job.Status.FAILED, Job.Status.PENDING]).exclude(error="")
    if last_success:
        failing = failing.filter(updated_at__gt=last_success)
    errors: OrderedDict[str, dict[str, Any]] = OrderedDict()
    for job in failing.order_by("-updated_at")[:200]:
        entry = errors.setdefault(job.error, {"error": job.error, "count": 0, "latest": job})
        entry["count"] += 1
    return {
        "product_copy_enabled": state.get("enabled", False),
        "auto_publish": state.get("auto_publish", False),
        "feature_admin_url": _admin_url("admin:oscar_llm_featureswitch_changelist"),
        "job_errors": list(errors.values())[:3],
        "jobs_waiting": Job.objects.filter(status__in=[Job.Status.PENDING, Job.Status.RUNNING]).count(),
    }


def segment_label(code: str) -> str:
    return (llm_settings.SEGMENTS.get(code) or {}).get("label") or code


def published_for_slot(draft: ContentDraft) -> tuple[str, str]:
    """(text, where it comes from) that visitors of the draft's segment see today.

    Read straight from the versions (not the storefront's cache or feature switch),
    so reviewers compare against what approval would replace.
    """
    versions = ContentVersion.objects.filter(
        product_id=draft.product_id, kind=draft.kind, language=draft.language, is_current=True
    )
    by_segment = {v.segment: v for v in versions.filter(segment__in=[draft.segment, "default"])}
    for segment in (draft.segment, "default"):
        version = by_segment.get(segment)
        if version is not None:
            label = _("Published version (%(source)s, segment %(segment)s)") % {
                "source": version.get_source_display(),
                "segment": segment_label(segment),
            }
            return version.text or services.original_text(draft.product, draft.kind), label
    return services.original_text(draft.product, draft.kind), _("The product's own text (nothing published yet)")


def draft_context(draft: ContentDraft, **bound_forms: Any) -> dict[str, Any]:
    """Everything the draft page shows; ``bound_forms`` replaces a form with its errors."""
    current_text, current_label = published_for_slot(draft)
    reviewable = draft.status in (ContentDraft.Status.DRAFT, ContentDraft.Status.SUPERSEDED)
    context: dict[str, Any] = {
        "draft": draft,
        "object": draft,
        "product": draft.product,
        "fact_rows": fact_rows(draft.facts or {}),
        "original_text": services.original_text(draft.product, draft.kind),
        "current_text": current_text,
        "current_label": current_label,
        "diff": word_diff(current_text, draft.text),
        "segment_label": segment_label(draft.segment),
        "can_approve": reviewable,
        "can_reject": draft.status != ContentDraft.Status.APPROVED and draft.status != ContentDraft.Status.REJECTED,
        "edit_form": forms.EditApproveForm(initial={"text": draft.text}),
        "reject_form": forms.RejectForm(),
        "other_drafts": ContentDraft.objects.filter(
            product_id=draft.product_id, kind=draft.kind, segment=draft.segment, language=draft.language
        )
        .exclude(pk=draft.pk)
        .order_by("-created_at")[:10],
    }
    context.update(bound_forms)
    context.update(status_banner())
    return context


def safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


# --- draft queue -----------------------------------------------------------------------------------


class DraftListView(ListView):
    """The queue: drafts awaiting review first, filterable, with a bulk approve."""

    template_name = "oscar_llm/dashboard/draft_list.html"
    context_object_name = "drafts"
    paginate_by = 25

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.form = forms.DraftSearchForm(request.GET)
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[ContentDraft]:
        queryset = ContentDraft.objects.select_related("product", "reviewed_by").order_by("-created_at", "-pk")
        if self.form.data.get("status") != ContentDraft.Status.NO_CHANGE:
            # Drafts that repeat the product's text ask nothing of a reviewer: shown only on request.
            queryset = queryset.exclude(status=ContentDraft.Status.NO_CHANGE)
        return self.form.filter(queryset)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        counts = dict(ContentDraft.objects.values_list("status").annotate(n=Count("pk")).order_by())
        context.update(
            form=self.form,
            status_counts=[
                (value, label, counts.get(value, 0))
                for value, label in ContentDraft.Status.choices
                if value != ContentDraft.Status.NO_CHANGE
            ],
            no_change_count=counts.get(ContentDraft.Status.NO_CHANGE, 0),
            failed_count=ContentDraft.objects.exclude(reasons=[]).count(),
            current_status=self.form.data.get("status") if self.form.is_bound else ContentDraft.Status.DRAFT,
            current_failed=bool(self.form.is_bound and self.form.data.get("failed")),
            product_count=Product.objects.filter(is_public=True).count(),
            segment_labels={code: segment_label(code) for code in llm_settings.SEGMENTS},
        )
        context.update(status_banner())
        return context


class BulkApproveView(View):
    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.BulkApproveForm(request.POST)
        back = safe_next(request, reverse("oscar_llm_dashboard:draft-list"))
        if not form.is_valid():
            for error in form.errors.get("drafts", []):
                messages.error(request, error)
            return redirect(back)
        selected = list(form.cleaned_data["drafts"].select_related("product"))
        try:
            approved = services.approve_many(selected, by=request.user)
        except ValueError as exc:
            messages.error(request, str(exc))
            return redirect(back)
        if approved:
            messages.success(
                request,
                ngettext("Approved and published %(n)d draft.", "Approved and published %(n)d drafts.", approved)
                % {"n": approved},
            )
        skipped = len(selected) - approved
        if skipped:
            messages.warning(
                request,
                ngettext(
                    "%(n)d selected draft was not awaiting review and was left alone.",
                    "%(n)d selected drafts were not awaiting review and were left alone.",
                    skipped,
                )
                % {"n": skipped},
            )
        return redirect(back)


class GenerateAllView(View):
    """Queue copy for every public product as one background job (the request stays fast)."""

    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            job = services.request_bulk_job(request.user)
        except QUEUE_ERRORS as exc:
            logger.exception("Could not queue bulk generation")
            messages.error(request, _("Could not queue generation: %(error)s") % {"error": exc})
            return redirect("oscar_llm_dashboard:draft-list")
        messages.info(
            request,
            format_html(
                '{} <a href="{}">{}</a>',
                _("Queued copy for all public products (job #%(job)d). New drafts appear here as they are written.")
                % {"job": job.pk},
                reverse("oscar_llm_dashboard:job-list"),
                _("See the jobs"),
            ),
            extra_tags="safe",
        )
        _warn_if_switched_off(request)
        return redirect("oscar_llm_dashboard:draft-list")


def _warn_if_switched_off(request: HttpRequest) -> None:
    if not FeatureSwitch.is_enabled(Feature.PRODUCT_COPY):
        messages.warning(
            request,
            _("Product copy is switched off: the storefront keeps showing the products' own text until it is on."),
        )


class ProductRegenerateView(View):
    """Write fresh drafts for a product (all slots, or the one a draft page asks for)."""

    def post(self, request: HttpRequest, product_pk: int) -> HttpResponse:
        product = get_object_or_404(Product, pk=product_pk)
        back = safe_next(request, reverse("oscar_llm_dashboard:product-history", kwargs={"product_pk": product.pk}))
        form = forms.RegenerateForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Could not regenerate: %(errors)s") % {"errors": form.errors.as_text()})
            return redirect(back)
        try:
            created = services.request_generation(product, force=True, **form.generation_kwargs())
        except QUEUE_ERRORS as exc:
            logger.exception("Could not queue generation for product %s", product.pk)
            messages.error(request, _("Could not queue generation: %(error)s") % {"error": exc})
            return redirect(back)
        messages.info(
            request,
            ngettext(
                "Queued %(n)d new draft for “%(title)s”; it appears in the queue once written.",
                "Queued %(n)d new drafts for “%(title)s”; they appear in the queue once written.",
                len(created),
            )
            % {"n": len(created), "title": product.get_title()},
        )
        return redirect(back)


# --- one draft -------------------------------------------------------------------------------------


class DraftDetailView(DetailView):
    model = ContentDraft
    template_name = "oscar_llm/dashboard/draft_detail.html"
    context_object_name = "draft"

    def get_queryset(self) -> QuerySet[ContentDraft]:
        return ContentDraft.objects.select_related("product", "job", "reviewed_by")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return draft_context(self.object)


class DraftActionView(SingleObjectMixin, FormView):
    """POST-only action on a draft; an invalid form re-renders the draft page with its errors."""

    model = ContentDraft
    template_name = "oscar_llm/dashboard/draft_detail.html"
    http_method_names = ["post"]
    form_context_name = "form"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = self.get_object()
        return super().post(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[ContentDraft]:
        return ContentDraft.objects.select_related("product")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return draft_context(self.object, **{self.form_context_name: kwargs["form"]})

    def form_valid(self, form: Any) -> HttpResponse:
        try:
            self.perform(self.object, form)
        except ValueError as exc:
            messages.error(self.request, str(exc))
            return redirect("oscar_llm_dashboard:draft-detail", pk=self.object.pk)
        return HttpResponseRedirect(reverse("oscar_llm_dashboard:draft-list"))

    def perform(self, draft: ContentDraft, form: Any) -> None:
        raise NotImplementedError

    def published_message(self, draft: ContentDraft, edited: bool) -> None:
        product = draft.product
        text = _("Published your edited %(kind)s of") if edited else _("Published the %(kind)s of")
        messages.success(
            self.request,
            format_html(
                '{} <a href="{}">{}</a>. <a href="{}">{}</a>',
                text % {"kind": draft.get_kind_display().lower()},
                product.get_absolute_url(),
                product.get_title(),
                reverse("oscar_llm_dashboard:product-history", kwargs={"product_pk": product.pk}),
                _("History"),
            ),
            extra_tags="safe",
        )
        _warn_if_switched_off(self.request)


class DraftApproveView(DraftActionView):
    form_class = forms.ApproveForm

    def perform(self, draft: ContentDraft, form: Any) -> None:
        services.publish(draft, by=self.request.user)
        self.published_message(draft, edited=False)


class DraftEditApproveView(DraftActionView):
    form_class = forms.EditApproveForm
    form_context_name = "edit_form"

    def perform(self, draft: ContentDraft, form: Any) -> None:
        version = services.publish(draft, by=self.request.user, text=form.cleaned_data["text"])
        self.published_message(draft, edited=version.source == ContentVersion.Source.EDITED)


class DraftRejectView(DraftActionView):
    form_class = forms.RejectForm
    form_context_name = "reject_form"

    def perform(self, draft: ContentDraft, form: Any) -> None:
        services.reject(draft, by=self.request.user, reason=form.cleaned_data["reason"])
        messages.success(
            self.request,
            _("Rejected the %(kind)s draft for “%(title)s”; the product page is unchanged.")
            % {"kind": draft.get_kind_display().lower(), "title": draft.product.get_title()},
        )


# --- product history -------------------------------------------------------------------------------


def segment_variants(product: Any) -> dict[str, Any]:
    """A product's variants side by side: per kind and language a row, per segment a column.

    Each cell holds the segment's newest draft that is neither rejected nor superseded and its
    published version, and the facts the segment leads with, each marked when the draft (else
    the published text) states it.
    """
    styles = list(segment_styles().values())
    facts = product_facts(product)
    drafts: dict[tuple[str, str, str], ContentDraft] = {}
    newest_first = (
        ContentDraft.objects.filter(product=product)
        .exclude(status__in=[ContentDraft.Status.REJECTED, ContentDraft.Status.SUPERSEDED])
        .order_by("-created_at", "-pk")
    )
    for draft in newest_first:
        drafts.setdefault((draft.kind, draft.language, draft.segment), draft)
    published = {
        (v.kind, v.language, v.segment): v for v in ContentVersion.objects.filter(product=product, is_current=True)
    }
    kind_labels = dict(ContentVersion._meta.get_field("kind").choices)
    slots = sorted(
        {key[:2] for key in [*drafts, *published]},
        key=lambda slot: (services.KINDS.index(slot[0]) if slot[0] in services.KINDS else 99, slot[1]),
    )
    rows = []
    for kind, language in slots:
        cells = []
        for style in styles:
            draft = drafts.get((kind, language, style.name))
            version = published.get((kind, language, style.name))
            shown = draft.text if draft else (version.text if version else "")
            leads = stated_lead_facts(shown, facts, style.focus) if shown else []
            cells.append(
                {
                    "segment": style.name,
                    "draft": draft,
                    "published": version,
                    "leads": [{"key": k.replace("_", " "), "value": v, "stated": stated} for k, v, stated in leads],
                }
            )
        rows.append({"kind": kind_labels.get(kind, kind), "language": language, "cells": cells})
    columns = [
        {
            "segment": style.name,
            "label": style.label,
            "voice": style.voice,
            "leads": [(k.replace("_", " "), v) for k, v, _stated in stated_lead_facts("", facts, style.focus)],
        }
        for style in styles
    ]
    return {"variant_columns": columns, "variant_rows": rows}


class ProductHistoryView(DetailView):
    """Every published version of a product's copy, per slot, with rollback; its segment variants; its drafts."""

    model = Product
    pk_url_kwarg = "product_pk"
    template_name = "oscar_llm/dashboard/product_history.html"
    context_object_name = "product"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        product = self.object
        kind_order = {kind: i for i, kind in enumerate(services.KINDS)}
        slots: dict[tuple[str, str, str], list[ContentVersion]] = {}
        versions = ContentVersion.objects.filter(product=product).select_related("created_by", "draft")
        for version in versions.order_by("-created_at", "-pk"):
            slots.setdefault((version.kind, version.segment, version.language), []).append(version)
        ordered = sorted(slots.items(), key=lambda item: (kind_order.get(item[0][0], 99), item[0][1], item[0][2]))
        context.update(
            slots=[
                {
                    "kind": versions[0].get_kind_display(),
                    "segment": segment_label(segment),
                    "language": language,
                    "versions": versions,
                }
                for (_kind, segment, language), versions in ordered
            ],
            drafts=ContentDraft.objects.filter(product=product).select_related("reviewed_by")[:100],
            originals=[
                (label, services.original_text(product, kind))
                for kind, label in ContentVersion._meta.get_field("kind").choices
            ],
        )
        context.update(segment_variants(product))
        context.update(status_banner())
        return context


class VersionRollbackView(SingleObjectMixin, View):
    model = ContentVersion

    def get_queryset(self) -> QuerySet[ContentVersion]:
        return ContentVersion.objects.select_related("product")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        version = self.get_object()
        services.rollback(version, by=request.user)
        messages.success(
            request,
            _("“%(title)s” shows the %(kind)s from %(date)s again (%(source)s).")
            % {
                "title": version.product.get_title(),
                "kind": version.get_kind_display().lower(),
                "date": version.created_at.strftime("%Y-%m-%d %H:%M"),
                "source": version.get_source_display(),
            },
        )
        _warn_if_switched_off(request)
        return redirect("oscar_llm_dashboard:product-history", product_pk=version.product_id)
