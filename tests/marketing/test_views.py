"""The customer's and staff's pages: consent, the signed unsubscribe link, click links, the dashboard."""

from __future__ import annotations

import pytest
from django.urls import reverse

from oscar_llm.marketing import campaigns, profiles, segments
from oscar_llm.models import CampaignClick, CampaignVariant, MarketingConsent, MarketingSegment

pytestmark = pytest.mark.django_db


def test_unsubscribe_link_works_logged_out_and_a_tampered_one_is_refused(client, marketing_shop):
    customer = marketing_shop["customers"][0]
    token = segments.unsubscribe_token(customer, marketing_shop["campaign"].pk)
    url = reverse("oscar_llm-marketing-unsubscribe", kwargs={"token": token})

    tampered = url.replace(token, token[:-3] + ("abc" if not token.endswith("abc") else "xyz"))
    assert client.post(tampered).status_code == 400
    other = segments.unsubscribe_token(marketing_shop["customers"][1]).split(":")
    forged = ":".join([token.split(":")[0], *other[1:]])
    assert client.post(reverse("oscar_llm-marketing-unsubscribe", kwargs={"token": forged})).status_code == 400
    assert MarketingConsent.objects.get(user=customer).opted_in

    page = client.get(url)  # a GET (a link scanner, a preview) changes nothing
    assert page.status_code == 200 and b"unsubscribe-confirm" in page.content
    assert MarketingConsent.objects.get(user=customer).opted_in
    response = client.post(url)  # the button, or the mail client's List-Unsubscribe-Post
    assert response.status_code == 200 and b"unsubscribed" in response.content
    consent = MarketingConsent.objects.get(user=customer)
    assert not consent.opted_in and consent.withdrawn_at and consent.source == "unsubscribe"


def test_registration_and_account_page_record_consent_with_its_time(client, django_user_model):
    assert b'name="marketing_opt_in"' in client.get(reverse("customer:register")).content
    response = client.post(
        reverse("customer:register"),
        {
            "email": "new@example.com",
            "password1": "a-long-Passw0rd!",
            "password2": "a-long-Passw0rd!",
            "marketing_opt_in": "on",
            "registration_submit": "Register",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    user = django_user_model.objects.get(email="new@example.com")
    consent = MarketingConsent.objects.get(user=user)
    assert consent.opted_in and consent.consented_at and consent.source == "registration"
    page = client.get(reverse("oscar_llm-marketing-consent"))
    assert b'id="id_marketing_opt_in" checked' in page.content
    client.post(reverse("oscar_llm-marketing-consent"), {})
    consent.refresh_from_db()
    assert not consent.opted_in and consent.withdrawn_at


def test_registration_without_the_box_gives_no_consent(client, django_user_model):
    client.post(
        reverse("customer:register"),
        {"email": "no@example.com", "password1": "a-long-Passw0rd!", "password2": "a-long-Passw0rd!"},
    )
    user = django_user_model.objects.get(email="no@example.com")
    assert not segments.has_consent(user)


def test_click_link_is_counted_and_redirects_to_the_product(client, marketing_shop):
    campaign = marketing_shop["campaign"]
    token = campaigns.click_token(campaign.pk, marketing_shop["customers"][0].pk, None)
    response = client.get(reverse("oscar_llm-marketing-click", kwargs={"token": token}))
    assert response.status_code == 302 and response["Location"] == marketing_shop["dress"].get_absolute_url()
    assert CampaignClick.objects.filter(campaign=campaign).count() == 1
    assert client.get(reverse("oscar_llm-marketing-click", kwargs={"token": token + "x"})).status_code == 400


def test_dashboard_builds_a_segment_reviews_and_sends(
    client, staff_user, marketing_shop, mailoutbox, django_capture_on_commit_callbacks
):
    profiles.compute_profiles()
    client.force_login(staff_user)
    ns = "oscar_llm_dashboard"
    preview = client.post(
        reverse(f"{ns}:marketing-segment-create"), {"name": "Lapsing", "lifecycles": ["lapsing"], "preview": "1"}
    )
    assert preview.status_code == 200 and preview.context["summary"]["size"] == 6
    assert not MarketingSegment.objects.filter(name="Lapsing").exists()
    client.post(reverse(f"{ns}:marketing-segment-create"), {"name": "Lapsing", "lifecycles": ["lapsing"], "save": "1"})
    assert MarketingSegment.objects.filter(name="Lapsing").exists()
    assert client.get(reverse(f"{ns}:marketing-segment-list")).status_code == 200

    campaign = marketing_shop["campaign"]
    with django_capture_on_commit_callbacks(execute=True):  # the job's nudge runs the (eager) worker task
        client.post(reverse(f"{ns}:marketing-campaign-generate", kwargs={"pk": campaign.pk}))
    detail = client.get(reverse(f"{ns}:marketing-campaign-detail", kwargs={"pk": campaign.pk}))
    assert detail.status_code == 200 and len(detail.context["variants"]) == 2
    variant = campaign.variants.first()
    assert variant.subject.encode() in detail.content
    client.post(reverse(f"{ns}:marketing-variant-test", kwargs={"pk": variant.pk}))
    assert mailoutbox[-1].to == [staff_user.email]
    client.post(reverse(f"{ns}:marketing-variant-approve", kwargs={"pk": variant.pk}))
    variant.refresh_from_db()
    assert variant.status == CampaignVariant.Status.APPROVED
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse(f"{ns}:marketing-campaign-send", kwargs={"pk": campaign.pk}))
    assert campaign.sends.filter(status="sent").count() == len(mailoutbox) - 1 > 0
    export = client.get(reverse(f"{ns}:marketing-campaign-export", kwargs={"pk": campaign.pk}))
    assert export["Content-Type"] == "text/csv" and b"holdout" in export.content


def test_dashboard_needs_the_campaign_permission(client, django_user_model, marketing_shop):
    clerk = django_user_model.objects.create_user(username="clerk", email="k@example.com", password="x", is_staff=True)
    client.force_login(clerk)
    url = reverse("oscar_llm_dashboard:marketing-campaign-list")
    assert client.get(url).status_code in (302, 403)


def test_banner_shows_to_signed_in_customers_of_the_segment_and_not_to_the_holdout(client, marketing_shop, staff_user):
    from oscar_llm.marketing.campaigns import _bucket
    from oscar_llm.models import Campaign, FeatureSwitch

    FeatureSwitch.objects.create(feature="marketing", enabled=True)
    profiles.compute_profiles()
    campaign = marketing_shop["campaign"]
    for variant in campaigns.write_copy(campaign, generator=None):
        campaigns.approve(variant, by=staff_user)
    Campaign.objects.filter(pk=campaign.pk).update(channel="both", status="sent")
    home = reverse("catalogue:index")
    assert b"campaign-banner" not in client.get(home).content  # signed out
    customers = marketing_shop["customers"]
    shown = next(c for c in customers if _bucket(campaign.pk, c.pk) >= float(campaign.holdout_share))
    held = next(c for c in customers if _bucket(campaign.pk, c.pk) < float(campaign.holdout_share))
    client.force_login(shown)
    page = client.get(home)
    assert b"campaign-banner" in page.content and b"20% off" in page.content
    client.force_login(held)
    assert b"campaign-banner" not in client.get(home).content
