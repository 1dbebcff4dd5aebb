"""Forms of the product copy review pages: the queue's filters, one small form per action.

The jobs page has its form in ``job_views``; support's forms are in ``support.forms``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from ..models import ContentDraft, ContentKind
from ..settings import llm_settings

ANY = [("", _("Any"))]


def segment_choices() -> list[tuple[str, str]]:
    return [(code, (cfg or {}).get("label") or code) for code, cfg in llm_settings.SEGMENTS.items()]


class DraftSearchForm(forms.Form):
    """Filters of the draft queue. Unbound (first visit) it shows drafts awaiting review."""

    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *ContentDraft.Status.choices]
    )
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=ANY + list(ContentKind.choices))
    segment = forms.ChoiceField(label=_("Segment"), required=False)
    q = forms.CharField(
        label=_("Product"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Title or UPC")}),
    )
    failed = forms.BooleanField(label=_("Failed checks only"), required=False)

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        # The queue opens on what needs a person: drafts awaiting review.
        if not data or not any(name in data for name in self.base_fields):
            data = None
            kwargs.setdefault("initial", {"status": ContentDraft.Status.DRAFT})
        super().__init__(data, *args, **kwargs)
        self.fields["segment"].choices = ANY + segment_choices()

    def filter(self, queryset: QuerySet[ContentDraft]) -> QuerySet[ContentDraft]:
        if not self.is_bound:
            return queryset.filter(status=ContentDraft.Status.DRAFT)
        if not self.is_valid():
            return queryset.none()
        data = self.cleaned_data
        if data["status"]:
            queryset = queryset.filter(status=data["status"])
        if data["kind"]:
            queryset = queryset.filter(kind=data["kind"])
        if data["segment"]:
            queryset = queryset.filter(segment=data["segment"])
        if data["q"]:
            term = data["q"].strip()
            queryset = queryset.filter(Q(product__title__icontains=term) | Q(product__upc__iexact=term))
        if data["failed"]:
            queryset = queryset.exclude(reasons=[])
        return queryset


class BulkApproveForm(forms.Form):
    drafts = forms.ModelMultipleChoiceField(
        queryset=ContentDraft.objects.all(),
        error_messages={"required": _("Select at least one draft to approve.")},
    )


class ApproveForm(forms.Form):
    """Approve as written (no fields: the button is the decision)."""


class EditApproveForm(forms.Form):
    text = forms.CharField(
        label=_("Text to publish"),
        widget=forms.Textarea(attrs={"rows": 5}),
        strip=True,
        error_messages={"required": _("Enter the text to publish.")},
    )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("Why is this draft not fit to publish?")}),
        error_messages={"required": _("Give a reason for rejecting this draft.")},
    )


class RegenerateForm(forms.Form):
    """Which slots to regenerate; empty fields mean every kind / segment / language."""

    kind = forms.ChoiceField(required=False, choices=ANY + list(ContentKind.choices))
    segment = forms.CharField(required=False, max_length=32)
    language = forms.CharField(required=False, max_length=12)
    next = forms.CharField(required=False)

    def clean_segment(self) -> str:
        segment = self.cleaned_data["segment"]
        if segment and segment not in llm_settings.SEGMENTS:
            raise forms.ValidationError(_("Unknown segment %(segment)s."), params={"segment": segment})
        return segment

    def generation_kwargs(self) -> dict[str, list[str]]:
        keys = {"kind": "kinds", "segment": "segments", "language": "languages"}
        return {plural: [self.cleaned_data[key]] for key, plural in keys.items() if self.cleaned_data.get(key)}
