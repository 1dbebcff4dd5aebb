"""Dashboard: segments (builder with size and sample), campaigns, review of their copy, sending, results.

Views validate a form and call ``marketing.campaigns`` / ``marketing.segments`` / ``marketing.profiles``.
"""

from __future__ import annotations

import csv
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import CreateView, DetailView, ListView
from oscar.core.loading import get_model

from ..marketing import campaigns, profiles, segments
from ..models import Campaign, CampaignVariant, Feature, FeatureSwitch, Lifecycle, MarketingSegment, PriceSegment

NS = "oscar_llm_dashboard"


class SegmentForm(forms.ModelForm):
    lifecycles = forms.MultipleChoiceField(
        label=gettext_lazy("Lifecycle"), choices=Lifecycle.choices, required=False, widget=forms.SelectMultiple
    )
    price_segments = forms.MultipleChoiceField(
        label=gettext_lazy("Price segment"),
        choices=PriceSegment.choices,
        required=False,
        widget=forms.SelectMultiple,
    )
    categories = forms.CharField(
        label=gettext_lazy("Bought or viewed in any of these categories"),
        required=False,
        help_text=gettext_lazy("Category names, separated by commas."),
    )

    min_orders = forms.IntegerField(label=gettext_lazy("At least this many orders"), min_value=0, required=False)

    class Meta:
        model = MarketingSegment
        fields = ["name", "lifecycles", "price_segments", "categories", "abandoners_only", "min_orders"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance and self.instance.pk:
            self.initial["categories"] = ", ".join(self.instance.categories)

    def clean_min_orders(self) -> int:
        return self.cleaned_data.get("min_orders") or 0

    def clean_categories(self) -> list[str]:
        raw = self.cleaned_data.get("categories") or ""
        return [c.strip() for c in raw.split(",") if c.strip()][:20]


class SegmentListView(ListView):
    template_name = "oscar_llm/dashboard/marketing/segment_list.html"
    context_object_name = "segments"

    def get_queryset(self) -> Any:
        return MarketingSegment.objects.all()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["rows"] = [(s, segments.segment_summary(s, sample_size=0)) for s in context["segments"]]
        return context


class SegmentCreateView(CreateView):
    """The segment builder: "Preview" shows the size and a sample without saving; "Save" keeps it."""

    template_name = "oscar_llm/dashboard/marketing/segment_form.html"
    form_class = SegmentForm

    def form_valid(self, form: SegmentForm) -> HttpResponse:
        if "preview" in self.request.POST:
            summary = segments.segment_summary(form.save(commit=False))
            return self.render_to_response(self.get_context_data(form=form, summary=summary))
        segment = form.save()
        messages.success(self.request, _("Segment saved."))
        return HttpResponseRedirect(reverse(f"{NS}:marketing-segment-list") + f"#segment-{segment.pk}")


class ProfilesRefreshView(View):
    def post(self, request: HttpRequest) -> HttpResponse:
        profiles.request_profiles()
        messages.info(request, _("A worker is computing the customer profiles."))
        return HttpResponseRedirect(reverse(f"{NS}:marketing-segment-list"))


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = [
            "name",
            "goal",
            "channel",
            "segments",
            "products",
            "offer",
            "voucher",
            "scheduled_at",
            "holdout_share",
            "attribution_days",
        ]
        widgets = {"scheduled_at": forms.DateTimeInput(attrs={"type": "datetime-local"})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        Product = get_model("catalogue", "Product")
        self.fields["products"].queryset = Product.objects.browsable().order_by("title")
        self.fields["products"].required = False

    def clean_holdout_share(self) -> Any:
        share = self.cleaned_data["holdout_share"]
        if share < 0 or share > 0.5:
            raise forms.ValidationError(_("Hold out between 0 and 0.5 of the customers."))
        return share

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("products") and not data.get("offer") and not data.get("voucher"):
            raise forms.ValidationError(_("Pick featured products, or an offer or voucher whose range has products."))
        return data


class CampaignListView(ListView):
    template_name = "oscar_llm/dashboard/marketing/campaign_list.html"
    context_object_name = "campaigns"
    paginate_by = 25

    def get_queryset(self) -> Any:
        return Campaign.objects.prefetch_related("segments")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["feature_enabled"] = FeatureSwitch.is_enabled(Feature.MARKETING)
        return context


class CampaignCreateView(CreateView):
    template_name = "oscar_llm/dashboard/marketing/campaign_form.html"
    form_class = CampaignForm

    def form_valid(self, form: CampaignForm) -> HttpResponse:
        form.instance.created_by = self.request.user
        campaign = form.save()
        return HttpResponseRedirect(reverse(f"{NS}:marketing-campaign-detail", kwargs={"pk": campaign.pk}))


class VariantEditForm(forms.Form):
    subject = forms.CharField(max_length=200)
    preheader = forms.CharField(max_length=200, required=False)
    headline = forms.CharField(max_length=200, required=False)
    body_text = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}))
    cta = forms.CharField(max_length=80)


def preview(variant: CampaignVariant, request: HttpRequest) -> dict[str, Any]:
    """The email as a customer of the segment sees it (HTML and text) and the banner."""
    from oscar.core.loading import get_class

    rendered = campaigns.render(variant, None, base_url=request.build_absolute_uri("/")[:-1])
    Dispatcher = get_class("communication.utils", "Dispatcher")
    messages_ = Dispatcher().get_messages(
        campaigns.EVENT_CODE, {"email": rendered, "user": None, "campaign": variant.campaign}
    )
    return {"rendered": rendered, "html": messages_["html"], "text": messages_["body"]}


class CampaignDetailView(DetailView):
    template_name = "oscar_llm/dashboard/marketing/campaign_detail.html"
    context_object_name = "campaign"

    def get_queryset(self) -> Any:
        return Campaign.objects.all()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        campaign = self.object
        variants = list(campaign.variants.select_related("segment").order_by("segment__name", "label"))
        context["variants"] = [
            {
                "variant": v,
                "preview": preview(v, self.request),
                "form": VariantEditForm(
                    initial={
                        "subject": v.subject,
                        "preheader": v.preheader,
                        "headline": v.headline,
                        "body_text": v.body_text.rsplit("\n\n", 1)[0],
                        "cta": v.cta,
                    }
                ),
            }
            for v in variants
        ]
        context["terms"] = campaigns.offer_terms(campaign)
        context["sizes"] = [(s, segments.segment_summary(s, sample_size=0)) for s in campaign.segments.all()]
        context["results"] = campaigns.results(campaign) if campaign.sent_at else None
        context["sends"] = campaign.sends.values("status").order_by("status")
        return context


class CampaignActionView(View):
    """generate, send: each a POST that calls a service and comes back to the campaign."""

    action = ""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        campaign = get_object_or_404(Campaign, pk=pk)
        try:
            if self.action == "generate":
                campaigns.request_copy(campaign)
                messages.info(request, _("A worker is writing the copy."))
            elif self.action == "send":
                counts = campaigns.start_sending(campaign, base_url=request.build_absolute_uri("/")[:-1])
                messages.success(
                    request,
                    _("Sending to %(recipients)s customers (%(holdout)s held out, %(suppressed)s without consent).")
                    % counts,
                )
        except campaigns.CampaignError as exc:
            messages.error(request, str(exc))
        return HttpResponseRedirect(reverse(f"{NS}:marketing-campaign-detail", kwargs={"pk": pk}))


class VariantActionView(View):
    """approve, edit (and approve), reject, test: a POST on one variant."""

    action = ""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        variant = get_object_or_404(CampaignVariant, pk=pk)
        try:
            if self.action == "approve":
                campaigns.approve(variant, by=request.user)
                messages.success(request, _("Variant approved."))
            elif self.action == "edit":
                form = VariantEditForm(request.POST)
                if not form.is_valid():
                    raise campaigns.CampaignError(_("Fill in every field."))
                campaigns.approve(variant, by=request.user, edits=form.cleaned_data)
                messages.success(request, _("Variant edited and approved."))
            elif self.action == "reject":
                campaigns.reject(variant, by=request.user)
                messages.info(request, _("Variant rejected."))
            elif self.action == "test":
                campaigns.send_test(variant, request.user, base_url=request.build_absolute_uri("/")[:-1])
                messages.success(request, _("A test email went to %(email)s.") % {"email": request.user.email})
        except campaigns.CampaignError as exc:
            messages.error(request, str(exc))
        url = reverse(f"{NS}:marketing-campaign-detail", kwargs={"pk": variant.campaign_id})
        return HttpResponseRedirect(f"{url}#variant-{variant.pk}")


class CampaignExportView(View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        campaign = get_object_or_404(Campaign, pk=pk)
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}.csv"'
        writer = csv.writer(response)
        for row in campaigns.results_csv_rows(campaign):
            writer.writerow(row)
        return response
