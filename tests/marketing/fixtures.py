"""A small shop for the marketing tests: customers with orders of different ages, consent, an offer."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone


@pytest.fixture
def marketing_shop(db, make_product, django_user_model):
    """Twelve customers: consenting or not, recent or lapsed buyers; a dress at £40 under a 20% offer."""
    from oscar.apps.partner.strategy import Default
    from oscar.core.loading import get_model
    from oscar.test.factories import create_offer, create_order

    from oscar_llm.marketing.segments import set_consent
    from oscar_llm.models import Campaign, MarketingSegment

    Basket = get_model("basket", "Basket")
    Range = get_model("offer", "Range")
    Benefit = get_model("offer", "Benefit")
    Condition = get_model("offer", "Condition")
    Order = get_model("order", "Order")

    dress = make_product("Northwind Women Navy Blue Cotton Dress", price="40.00", stock=1000)
    now = timezone.now()
    customers = []
    for i in range(12):
        user = django_user_model.objects.create_user(
            username=f"c{i}", email=f"c{i}@example.com", password="pw", first_name=f"Cust{i}"
        )
        customers.append(user)
        if i % 6 != 5:  # two of the twelve never agreed
            set_consent(user, True, source="registration")
        basket = Basket.objects.create(owner=user)
        basket.strategy = Default()
        basket.add_product(dress)
        order = create_order(user=user, basket=basket)
        # Half bought 3 months ago (lapsing), half a year and more ago (lapsed).
        Order.objects.filter(pk=order.pk).update(date_placed=now - timedelta(days=90 if i % 2 else 250))
    product_range = Range.objects.create(name="Dresses", includes_all_products=True)
    offer = create_offer(
        name="Winter dresses",
        product_range=product_range,
        condition=Condition.objects.create(range=product_range, type=Condition.COUNT, value=1),
        benefit=Benefit.objects.create(range=product_range, type=Benefit.PERCENTAGE, value=Decimal(20)),
        start=now - timedelta(days=1),
        end=now + timedelta(days=14),
    )
    everyone = MarketingSegment.objects.create(name="Past buyers", lifecycles=["lapsing", "lapsed"])
    campaign = Campaign.objects.create(name="Winter dresses", goal="winback", offer=offer, holdout_share=Decimal("0.5"))
    campaign.segments.add(everyone)
    campaign.products.add(dress)
    return {"customers": customers, "dress": dress, "offer": offer, "segment": everyone, "campaign": campaign}
