"""Marketing: customer profiles, consent, segments, campaigns, their copy, the send log and clicks."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Lifecycle(models.TextChoices):
    NEW = "new", _("New")
    ACTIVE = "active", _("Active")
    LAPSING = "lapsing", _("Lapsing")
    LAPSED = "lapsed", _("Lapsed")
    PROSPECT = "prospect", _("No order yet")


class PriceSegment(models.TextChoices):
    VALUE = "value", _("Value")
    MID = "mid", _("Mid-range")
    PREMIUM = "premium", _("Premium")
    UNKNOWN = "unknown", _("Unknown")


class CustomerProfile(models.Model):
    """What a worker computed about one customer from their orders and storefront events."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="llm_profile")
    recency_days = models.PositiveIntegerField(null=True, blank=True, help_text=_("Days since the last order."))
    frequency = models.PositiveIntegerField(default=0, help_text=_("Orders placed."))
    monetary = models.DecimalField(max_digits=12, decimal_places=2, default=0, help_text=_("Total spent."))
    rfm_score = models.CharField(max_length=3, blank=True, default="", help_text=_("R, F and M quintiles, 1-5."))
    lifecycle = models.CharField(max_length=16, choices=Lifecycle.choices, default=Lifecycle.PROSPECT, db_index=True)
    price_segment = models.CharField(
        max_length=16, choices=PriceSegment.choices, default=PriceSegment.UNKNOWN, db_index=True
    )
    # category name -> share of the customer's orders and events in it (0..1), highest first.
    affinities = models.JSONField(default=dict, blank=True)
    abandoned_basket = models.BooleanField(default=False, db_index=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("customer profile")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.lifecycle}/{self.price_segment}"


class MarketingConsent(models.Model):
    """A customer's answer to marketing email: given (with when and where) or withdrawn."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="llm_consent")
    opted_in = models.BooleanField(default=False)
    consented_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=32, blank=True, default="", help_text=_("registration, account, unsubscribe"))

    class Meta:
        verbose_name = _("marketing consent")

    def __str__(self) -> str:
        return f"{self.user_id}: {'opted in' if self.opted_in else 'no'}"


class MarketingSegment(models.Model):
    """A named rule over customer profiles ("lapsing customers who bought dresses")."""

    name = models.CharField(max_length=120, unique=True)
    lifecycles = models.JSONField(default=list, blank=True)
    price_segments = models.JSONField(default=list, blank=True)
    categories = models.JSONField(default=list, blank=True, help_text=_("Any of these category affinities."))
    abandoners_only = models.BooleanField(default=False)
    min_orders = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def copy_segment(self) -> str:
        """The segment whose patterns its copy uses (its first lifecycle or price segment)."""
        for value in [*self.lifecycles, *self.price_segments]:
            if value in ("new", "active", "lapsing", "lapsed", "value", "premium"):
                return value
        return "abandoners" if self.abandoners_only else "everyone"


class Campaign(models.Model):
    class Goal(models.TextChoices):
        OFFER = "offer", _("Offer: a discount on featured products")
        WINBACK = "winback", _("Win back lapsing and lapsed customers")
        NEW_IN = "new_in", _("New in: show new products")

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        BANNER = "banner", _("On-site banner")
        BOTH = "both", _("Email and on-site banner")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        GENERATING = "generating", _("Writing copy")
        REVIEW = "review", _("Ready for review")
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")

    name = models.CharField(max_length=160)
    goal = models.CharField(max_length=16, choices=Goal.choices, default=Goal.OFFER)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    segments = models.ManyToManyField(MarketingSegment, related_name="campaigns")
    products = models.ManyToManyField("catalogue.Product", blank=True, related_name="llm_campaigns")
    offer = models.ForeignKey(
        "offer.ConditionalOffer", null=True, blank=True, on_delete=models.SET_NULL, related_name="llm_campaigns"
    )
    voucher = models.ForeignKey(
        "voucher.Voucher", null=True, blank=True, on_delete=models.SET_NULL, related_name="llm_campaigns"
    )
    scheduled_at = models.DateTimeField(null=True, blank=True)
    holdout_share = models.DecimalField(max_digits=4, decimal_places=3, default=0.1)
    attribution_days = models.PositiveIntegerField(default=7)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [("manage_campaign", "Can review and send marketing campaigns")]

    def __str__(self) -> str:
        return self.name


class CampaignVariant(models.Model):
    """One written version of a campaign's copy for one segment."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        REJECTED_BY_CHECKS = "failed", _("Failed the checks")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="variants")
    segment = models.ForeignKey(MarketingSegment, on_delete=models.CASCADE, related_name="+")
    label = models.CharField(max_length=8)
    subject = models.CharField(max_length=200)
    preheader = models.CharField(max_length=200, blank=True, default="")
    headline = models.CharField(max_length=200, blank=True, default="")
    body_html = models.TextField()
    body_text = models.TextField()
    cta = models.CharField(max_length=80, blank=True, default="")
    facts = models.JSONField(default=dict)
    reasons = models.JSONField(default=list, blank=True)
    sources = models.JSONField(default=dict, blank=True)
    model_id = models.CharField(max_length=200, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)
    edited = models.BooleanField(default=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["campaign", "segment", "label"]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.segment_id}/{self.label}"


class CampaignSend(models.Model):
    """The send log: one row per customer and campaign, claimed before the email goes (so never two)."""

    class Group(models.TextChoices):
        TREATED = "treated", _("Gets the campaign")
        HOLDOUT = "holdout", _("Holdout")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        CLAIMED = "claimed", _("Being sent")
        SENT = "sent", _("Sent")
        SUPPRESSED = "suppressed", _("Suppressed (no consent)")
        HOLDOUT = "holdout", _("Held out")
        FAILED = "failed", _("Failed")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="sends")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="llm_campaign_sends")
    variant = models.ForeignKey(CampaignVariant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    group = models.CharField(max_length=8, choices=Group.choices, default=Group.TREATED)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=120, blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "user"], name="oscar_llm_one_send_per_customer")]

    def __str__(self) -> str:
        return f"{self.campaign_id}->{self.user_id}: {self.status}"


class CampaignClick(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="clicks")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    variant = models.ForeignKey(CampaignVariant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    clicked_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.campaign_id}: click by {self.user_id}"
