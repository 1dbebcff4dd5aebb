"""The customer's side of marketing: consent on the account page, one-click unsubscribe, click links.

The unsubscribe link is signed (``django.core.signing``) and needs no login: a GET shows a
confirmation page with a button, a POST (the button, or a mail client's one-click
``List-Unsubscribe-Post``) withdraws the consent. A tampered token is a 400 and changes nothing.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import TemplateView
from oscar.core.loading import get_class

from ..models import Campaign, MarketingConsent
from . import campaigns, segments

PageTitleMixin = get_class("customer.mixins", "PageTitleMixin")


class ConsentView(LoginRequiredMixin, PageTitleMixin, TemplateView):
    template_name = "oscar_llm/marketing/consent.html"
    page_title = _("Marketing emails")
    active_tab = "marketing"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["consent"] = MarketingConsent.objects.filter(user=self.request.user).first()
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        opted_in = bool(request.POST.get("marketing_opt_in"))
        segments.set_consent(request.user, opted_in, source="account")
        messages.success(request, _("You will get our offers by email.") if opted_in else _("You will get no offers."))
        return HttpResponseRedirect(request.path)


@csrf_exempt  # a mail client's one-click POST carries no CSRF token; the signed token is the proof
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        signing.loads(token, salt=segments.UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return HttpResponseBadRequest(_("This unsubscribe link is not valid."))
    if request.method == "POST":
        segments.unsubscribe(token)
        return render(request, "oscar_llm/marketing/unsubscribe.html", {"done": True})
    return render(request, "oscar_llm/marketing/unsubscribe.html", {"done": False, "token": token})


def click(request: HttpRequest, token: str) -> HttpResponse:
    try:
        recorded = campaigns.record_click(token)
    except (signing.BadSignature, ValueError, KeyError, TypeError):
        return HttpResponseBadRequest(_("This link is not valid."))
    campaign = Campaign.objects.get(pk=recorded.campaign_id)
    target = campaigns.landing_url(campaign)
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return HttpResponseRedirect(target)
