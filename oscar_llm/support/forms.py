"""Forms of the support desk (customer side and dashboard). Validation only; the desk does the work."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ..models import SUPPORT_MAX_MESSAGE_CHARS, KnowledgeArticle, Ticket
from . import desk, queries


class MessageField(forms.CharField):
    """Plain text, capped; a message over the cap gets a clear error and is kept in the form."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 6}))
        # No max_length on the field: the browser would silently cut a pasted text.
        super().__init__(strip=False, **kwargs)

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if not value and not self.required:
            return ""
        try:
            return desk.validate_body(value)
        except desk.SupportError as exc:
            raise forms.ValidationError(str(exc)) from exc


class TicketForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=desk.MAX_SUBJECT_CHARS)
    order = forms.ModelChoiceField(
        label=_("About one of your orders (optional)"), queryset=None, required=False, empty_label=_("No order")
    )
    body = MessageField(
        label=_("Your message"),
        help_text=_("At most %(n)s characters.") % {"n": f"{SUPPORT_MAX_MESSAGE_CHARS:,}"},
    )

    def __init__(self, *args: Any, customer: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the customer's own orders can be chosen; any other id is "not a valid choice".
        self.fields["order"].queryset = queries.customer_orders(customer)
        self.fields["order"].label_from_instance = lambda o: f"{o.number} ({o.date_placed:%d %b %Y})"

    def clean_subject(self) -> str:
        try:
            return desk.validate_subject(self.cleaned_data["subject"])
        except desk.SupportError as exc:
            raise forms.ValidationError(str(exc)) from exc


class ReplyForm(forms.Form):
    body = MessageField(label=_("Your reply"))


class NoteForm(forms.Form):
    body = MessageField(
        label=_("Internal note (never shown to the customer)"), widget=forms.Textarea(attrs={"rows": 3})
    )


class ApproveForm(forms.Form):
    text = MessageField(label=_("Reply"), required=False, widget=forms.Textarea(attrs={"rows": 10}))


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Why is this draft wrong?"), widget=forms.Textarea(attrs={"rows": 2}))


class StaffReplyForm(forms.Form):
    body = MessageField(label=_("Write a reply"), widget=forms.Textarea(attrs={"rows": 8}))


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", _("Open (not closed)"))] + list(Ticket.Status.choices), required=False)
    intent = forms.CharField(required=False)
    max_confidence = forms.FloatField(required=False, min_value=0, max_value=1, label=_("Confidence at most"))
    older_than_hours = forms.FloatField(required=False, min_value=0, label=_("Older than (hours)"))

    def filters(self) -> dict[str, Any]:
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class ArticleForm(forms.ModelForm):
    class Meta:
        model = KnowledgeArticle
        fields = ["title", "slug", "body", "tags", "active"]
        widgets = {"body": forms.Textarea(attrs={"rows": 14})}
