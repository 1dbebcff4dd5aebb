"""Profiles, segments, consent, copy generation, review, sending and results, in one process."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail, signing
from django.utils import timezone

from oscar_llm.marketing import campaigns, profiles, segments
from oscar_llm.models import CampaignVariant, CustomerProfile, MarketingSegment

pytestmark = pytest.mark.django_db


def test_profiles_give_lifecycle_rfm_and_affinities(marketing_shop):
    assert profiles.compute_profiles() == 12
    lifecycles = dict(CustomerProfile.objects.values_list("user__username", "lifecycle"))
    assert lifecycles["c1"] == "lapsing" and lifecycles["c0"] == "lapsed"
    profile = CustomerProfile.objects.get(user__username="c1")
    assert profile.frequency == 1 and profile.monetary > 0 and len(profile.rfm_score) == 3
    assert "Dresses" in profile.affinities


def test_segment_size_sample_and_consent(marketing_shop):
    profiles.compute_profiles()
    lapsing = MarketingSegment(name="Lapsing dress buyers", lifecycles=["lapsing"], categories=["Dresses"])
    summary = segments.segment_summary(lapsing, sample_size=3)
    assert summary["size"] == 6 and summary["reachable"] == 4  # c5 and c11 never agreed
    assert len(summary["sample"]) == 3 and summary["sample"][0]["lifecycle"] == "lapsing"
    assert segments.segment_summary(MarketingSegment(name="x", categories=["Bags"]))["size"] == 0


def _written(campaign):
    profiles.compute_profiles()
    variants = campaigns.write_copy(campaign, generator=None)
    return variants


def test_copy_per_segment_in_two_variants_with_the_offer_terms(marketing_shop):
    variants = _written(marketing_shop["campaign"])
    assert len(variants) == 2 and {v.label for v in variants} == {"a", "b"}
    for variant in variants:
        assert variant.status == CampaignVariant.Status.DRAFT, variant.reasons
        assert variant.facts["offer"]["percent"] == "20"
        assert "20%" in variant.subject + variant.body_text
        assert "£32.00 instead of £40.00" in variant.body_text
        assert "alice" not in str(variant.facts) and "c1@example.com" not in str(variant.facts)


def test_an_edit_stating_a_discount_the_offer_does_not_give_is_refused(marketing_shop, staff_user):
    variant = _written(marketing_shop["campaign"])[0]
    with pytest.raises(campaigns.CampaignError, match="states 50% off but the offer gives 20%"):
        campaigns.approve(variant, by=staff_user, edits={"subject": "50% off every dress"})
    variant.refresh_from_db()
    assert variant.status == CampaignVariant.Status.DRAFT
    campaigns.approve(variant, by=staff_user, edits={"subject": "20% off the navy blue dress"})
    variant.refresh_from_db()
    assert variant.status == CampaignVariant.Status.APPROVED and variant.edited


def test_send_once_per_consenting_customer_none_to_holdout_or_unsubscribed(marketing_shop, staff_user):
    campaign = marketing_shop["campaign"]
    for variant in _written(campaign):
        campaigns.approve(variant, by=staff_user)
    # One customer unsubscribes through the link before the send.
    segments.unsubscribe(segments.unsubscribe_token(marketing_shop["customers"][2]))
    mail.outbox.clear()
    counts = campaigns.start_sending(campaign, base_url="http://testserver", send=False)
    pending = list(campaign.sends.filter(status="pending").values_list("pk", flat=True))
    assert counts["recipients"] == len(pending) > 0
    campaigns.send_batch(pending, base_url="http://testserver")
    # The same batch delivered twice (a duplicate message, a re-queued job) sends nothing more.
    assert campaigns.send_batch(pending, base_url="http://testserver")["sent"] == 0
    campaigns.start_sending(campaign, base_url="http://testserver", send=False)  # asking twice adds no row

    recipients = [m.to[0] for m in mail.outbox]
    assert len(recipients) == len(set(recipients)) == len(pending)
    holdout = set(campaign.sends.filter(group="holdout").values_list("user__email", flat=True))
    assert holdout, "a 50% holdout of 12 customers is empty once in 4,096 runs (the split hashes the ids)"
    no_consent = {"c5@example.com", "c11@example.com", "c2@example.com"}
    assert not (set(recipients) & (holdout | no_consent))
    consenting = {c.email for c in marketing_shop["customers"]} - holdout - no_consent
    assert set(recipients) == consenting
    message = mail.outbox[0]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.extra_headers["List-Unsubscribe"].startswith("<http://testserver/marketing/unsubscribe/")
    name = next(c.first_name for c in marketing_shop["customers"] if c.email == message.to[0])
    assert f"Hello {name}," in message.body and "/marketing/click/" in message.body


def test_product_names_with_markup_are_escaped_in_the_sent_email(marketing_shop, staff_user):
    dress = marketing_shop["dress"]
    dress.title = "<b>Northwind</b> Women Navy Blue Dress"
    dress.save()
    campaign = marketing_shop["campaign"]
    variant = _written(campaign)[0]
    assert variant.sources["name"] == "title", "the product's own name is in the email"
    rendered = campaigns.render(variant, marketing_shop["customers"][1], base_url="http://testserver")
    assert "<b>Northwind" not in rendered["body_html"] and "&lt;b&gt;Northwind" in rendered["body_html"]
    campaigns.send_test(variant, staff_user, base_url="http://testserver")
    html_body = mail.outbox[-1].alternatives[0][0]
    assert "<b>Northwind" not in html_body and "&lt;b&gt;Northwind" in html_body


def test_clicks_and_orders_in_the_window_count_per_variant_and_holdout(marketing_shop, staff_user):
    from oscar.apps.partner.strategy import Default
    from oscar.core.loading import get_model
    from oscar.test.factories import create_order

    campaign = marketing_shop["campaign"]
    for variant in _written(campaign):
        campaigns.approve(variant, by=staff_user)
    campaigns.start_sending(campaign, base_url="http://testserver", send=False)
    campaigns.send_batch(campaign.sends.filter(status="pending").values_list("pk", flat=True), base_url="")
    sent = campaign.sends.filter(status="sent").select_related("user").first()
    token = campaigns.click_token(campaign.pk, sent.user_id, sent.variant_id)
    campaigns.record_click(token)
    with pytest.raises(signing.BadSignature):
        campaigns.record_click(token[:-2] + "xx")
    Basket = get_model("basket", "Basket")
    basket = Basket.objects.create(owner=sent.user)
    basket.strategy = Default()
    basket.add_product(marketing_shop["dress"])
    create_order(user=sent.user, basket=basket)
    campaign.refresh_from_db()
    figures = campaigns.results(campaign)
    treated = [a for a in figures["arms"] if a["name"] != "holdout"]
    assert sum(a["converted"] for a in treated) == 1 and figures["clicks"] == 1
    assert figures["conversion_uplift"]["low"] <= figures["conversion_uplift"]["difference"]
    rows = campaigns.results_csv_rows(campaign)
    assert rows[0][0] == "arm" and any(r[0] == "holdout" for r in rows)
    # An order after the attribution window does not count.
    campaign.sent_at = timezone.now() - timedelta(days=30)
    campaign.save()
    assert sum(a["converted"] for a in campaigns.results(campaign)["arms"]) == 0
