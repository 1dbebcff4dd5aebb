"""The demo shop's marketing: consent, two segments, a 20% offer and one campaign left ready for review.

Profiles are computed here (they read only the database); the campaign's copy is asked of the worker
that ``bin/demo`` starts, so a new user finds its variants on the dashboard's campaign page.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from oscar.core.loading import get_model

from oscar_llm.marketing import campaigns, profiles
from oscar_llm.marketing.segments import set_consent
from oscar_llm.models import Campaign, MarketingConsent, MarketingSegment

CAMPAIGN_NAME = "Winter dresses, 20% off"
OFFER_NAME = "Winter dresses 20% off"


def ensure_marketing_demo(customer_emails: list[str], *, now: Any = None) -> dict[str, int]:
    now = now or timezone.now()
    created = {"consents": 0, "segments": 0, "campaigns": 0}
    User = get_user_model()
    for i, user in enumerate(User.objects.filter(email__in=customer_emails).order_by("pk")):
        # Three customers in four agreed to marketing email when they registered.
        if i % 4 != 3 and not MarketingConsent.objects.filter(user=user).exists():
            set_consent(user, True, source="registration")
            created["consents"] += 1
    profiles.compute_profiles(now)

    Range = get_model("offer", "Range")
    Benefit = get_model("offer", "Benefit")
    Condition = get_model("offer", "Condition")
    ConditionalOffer = get_model("offer", "ConditionalOffer")
    Product = get_model("catalogue", "Product")
    with transaction.atomic():
        past, made = MarketingSegment.objects.get_or_create(
            name="Lapsing and lapsed customers", defaults={"lifecycles": ["lapsing", "lapsed"]}
        )
        created["segments"] += made
        _value, made = MarketingSegment.objects.get_or_create(
            name="Value buyers", defaults={"price_segments": ["value"]}
        )
        created["segments"] += made
        offer = ConditionalOffer.objects.filter(name=OFFER_NAME).first()
        if offer is None:
            product_range = Range.objects.create(name="Winter dresses", includes_all_products=True)
            offer = ConditionalOffer.objects.create(
                name=OFFER_NAME,
                offer_type=ConditionalOffer.SITE,
                status=ConditionalOffer.OPEN,
                condition=Condition.objects.create(range=product_range, type=Condition.COUNT, value=1),
                benefit=Benefit.objects.create(range=product_range, type=Benefit.PERCENTAGE, value=Decimal(20)),
                start_datetime=now - timedelta(days=1),
                end_datetime=now + timedelta(days=21),
            )
        campaign = Campaign.objects.filter(name=CAMPAIGN_NAME).first()
        if campaign is None:
            campaign = Campaign.objects.create(
                name=CAMPAIGN_NAME, goal=Campaign.Goal.WINBACK, channel=Campaign.Channel.BOTH, offer=offer
            )
            campaign.segments.add(past)
            dress = Product.objects.filter(categories__name="Dresses").order_by("pk").first()
            dress = dress or Product.objects.filter(stockrecords__isnull=False).order_by("pk").first()
            if dress is not None:
                campaign.products.add(dress)
            created["campaigns"] += 1
    if not campaign.variants.exists() and campaign.status == Campaign.Status.DRAFT:
        campaigns.request_copy(campaign)  # the worker writes it; bin/demo starts one
    return created
