"""Segments: rules over customer profiles, their size and a sample; consent and its suppression."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core import signing
from django.db.models import Q, QuerySet
from django.utils import timezone

from ..models import MarketingConsent, MarketingSegment

UNSUBSCRIBE_SALT = "oscar_llm.marketing.unsubscribe"


def segment_customers(segment: MarketingSegment) -> QuerySet:
    """The active customers whose profile matches ``segment`` (consent is not asked here: see ``reachable``)."""
    User = get_user_model()
    qs = User.objects.filter(is_active=True, is_staff=False, llm_profile__isnull=False)
    if segment.lifecycles:
        qs = qs.filter(llm_profile__lifecycle__in=segment.lifecycles)
    if segment.price_segments:
        qs = qs.filter(llm_profile__price_segment__in=segment.price_segments)
    if segment.abandoners_only:
        qs = qs.filter(llm_profile__abandoned_basket=True)
    if segment.min_orders:
        qs = qs.filter(llm_profile__frequency__gte=segment.min_orders)
    if segment.categories:
        match = Q()
        for name in segment.categories:
            match |= Q(llm_profile__affinities__has_key=name)
        qs = qs.filter(match)
    return qs.order_by("pk")


def consenting(qs: QuerySet) -> QuerySet:
    """Only the customers who opted in to marketing and have not withdrawn."""
    return qs.filter(llm_consent__opted_in=True).exclude(email="")


def segment_summary(segment: MarketingSegment, sample_size: int = 10) -> dict[str, Any]:
    """Size (all, and with consent) and a sample of customers, for the segment builder."""
    customers = segment_customers(segment)
    sample = list(customers.select_related("llm_profile")[:sample_size])
    return {
        "size": customers.count(),
        "reachable": consenting(customers).count(),
        "sample": [
            {
                "id": user.pk,
                "name": user.get_full_name() or user.get_username(),
                "lifecycle": user.llm_profile.lifecycle,
                "price_segment": user.llm_profile.price_segment,
                "orders": user.llm_profile.frequency,
                "affinities": list(user.llm_profile.affinities)[:3],
            }
            for user in sample
        ],
    }


def set_consent(user: Any, opted_in: bool, *, source: str) -> MarketingConsent:
    """Record a customer's answer with its time (given or withdrawn)."""
    consent, _created = MarketingConsent.objects.get_or_create(user=user)
    now = timezone.now()
    if opted_in and not consent.opted_in:
        consent.consented_at, consent.withdrawn_at = now, None
    elif not opted_in and consent.opted_in:
        consent.withdrawn_at = now
    consent.opted_in = opted_in
    consent.source = source
    consent.save()
    return consent


def has_consent(user: Any) -> bool:
    return MarketingConsent.objects.filter(user=user, opted_in=True).exists()


def unsubscribe_token(user: Any, campaign_id: int | None = None) -> str:
    """A signed token naming the customer (and the campaign): the one-click unsubscribe needs no login."""
    return signing.dumps({"u": user.pk, "c": campaign_id}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe(token: str) -> Any:
    """Withdraw the consent the token names; ``signing.BadSignature`` for a tampered or foreign token."""
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    User = get_user_model()
    user = User.objects.get(pk=int(data["u"]))
    set_consent(user, False, source="unsubscribe")
    return user
