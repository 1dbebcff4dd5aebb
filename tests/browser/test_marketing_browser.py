"""A campaign from end to end in a real browser: staff build a segment, write, approve and send a
campaign; a customer follows the email's link and places an order; the campaign page counts it.

The shop is the marketing tests' small shop (``tests/marketing/conftest.py``: twelve customers with
orders of different ages, a dress, a 20% offer); the copy is written by the worker task (run in the
server's process here) with the patterns and the product's title, as when no model is configured.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from oscar_llm.models import Campaign, CampaignSend

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_send_a_campaign_and_a_customer_order_from_its_email_counts(
    page, login_as, live_server, marketing_shop, staff_user
):
    from oscar.core.loading import get_model

    from oscar_llm.marketing import profiles

    Country = get_model("address", "Country")
    Country.objects.get_or_create(
        iso_3166_1_a2="GB",
        defaults={"name": "United Kingdom", "printable_name": "United Kingdom", "is_shipping_country": True},
    )
    profiles.compute_profiles()
    ns = "oscar_llm_dashboard"
    login_as(staff_user)

    # Build a segment: size and sample first, then save.
    page.goto(reverse(f"{ns}:marketing-segment-create"))
    page.fill("#id_name", "Lapsing customers")
    page.select_option("#id_lifecycles", "lapsing")
    page.click("#segment-preview")
    assert page.locator("#segment-summary .segment-size").inner_text() == "6"
    page.click("#segment-save")
    assert page.locator("#segments").inner_text().count("Lapsing customers") == 1

    # A campaign for it, from the 20% offer, featuring the dress.
    page.goto(reverse(f"{ns}:marketing-campaign-create"))
    page.fill("#id_name", "Dresses for lapsing customers")
    page.select_option("#id_goal", "winback")
    page.select_option("#id_segments", label="Lapsing customers")
    page.select_option("#id_products", label=marketing_shop["dress"].get_title())
    page.select_option("#id_offer", label="Winter dresses")
    page.click("#campaign-save")
    page.click("#campaign-generate")
    variants = page.locator(".variant")
    assert variants.count() == 2
    assert "20%" in variants.first.locator(".variant-subject").inner_text()
    variants.first.locator(".variant-approve").click()
    assert page.locator(".variant[data-status=approved]").count() == 1
    mail.outbox.clear()
    page.click("#campaign-send")
    campaign = Campaign.objects.get(name="Dresses for lapsing customers")
    sent = CampaignSend.objects.filter(campaign=campaign, status="sent").select_related("user")
    assert sent.count() == len(mail.outbox) > 0

    # A customer opens the email, follows its link and orders.
    row = sent.first()
    message = next(m for m in mail.outbox if m.to == [row.user.email])
    link = re.search(r"http://\S+/marketing/click/\S+/", message.body).group(0)
    assert link.startswith(live_server.url)
    login_as(row.user)
    page.goto(link)
    assert page.url.endswith(marketing_shop["dress"].get_absolute_url())
    page.locator("#add_to_basket_form button[type=submit]").click()
    page.goto(reverse("checkout:index"))
    form = page.locator("#new_shipping_address")
    form.locator("#id_first_name").fill("Ann")
    form.locator("#id_last_name").fill("Buyer")
    form.locator("#id_line1").fill("1 High Street")
    form.locator("#id_line4").fill("London")
    form.locator("#id_postcode").fill("SW1A 1AA")
    form.locator("button[type=submit]").click()
    page.locator("#view_preview").click()
    page.locator("#place-order").click()
    page.wait_for_url(re.compile(r".*/checkout/thank-you/"))

    # The campaign page counts the order for the variant.
    login_as(staff_user)
    page.goto(reverse(f"{ns}:marketing-campaign-detail", kwargs={"pk": campaign.pk}))
    converted = [
        int(t)
        for t in page.locator("#campaign-results tr.arm:not([data-arm=holdout]) .arm-converted").all_inner_texts()
    ]
    assert sum(converted) == 1
