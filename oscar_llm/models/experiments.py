"""Experiments: what is tested (product copy, a recommendation block, a campaign's copy), its arms, and
one row per visitor exposed with what that visitor did afterwards (the per-visitor aggregates the
statistics need: a visitor, not a page view, is the unit)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .core import ClearsCacheOnChange
from .recommendations import BlockCode

EXPERIMENTS_CACHE_KEY = "oscar_llm:experiments:v1"


def _new_salt() -> str:
    return secrets.token_hex(8)


class Experiment(ClearsCacheOnChange, models.Model):
    class Kind(models.TextChoices):
        PRODUCT_COPY = "product_copy", _("Product copy")
        RECOMMENDATION_BLOCK = "recommendation_block", _("Recommendation block")
        CAMPAIGN_COPY = "campaign_copy", _("Marketing campaign copy")

    class Scope(models.TextChoices):
        ALL = "all", _("All products")
        PRODUCTS = "products", _("Chosen products")
        CATEGORIES = "categories", _("Products in chosen categories")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        RUNNING = "running", _("Running")
        STOPPED = "stopped", _("Stopped")

    class Mode(models.TextChoices):
        AB = "ab", _("A/B test (fixed split)")
        BANDIT = "bandit", _("Bandit (Thompson sampling per segment)")

    class Metric(models.TextChoices):
        ORDER = "order", _("Visitors who ordered an exposed product")
        BASKET = "basket", _("Visitors who added an exposed product to the basket")
        REVENUE = "revenue", _("Revenue per visitor from exposed products")
        CLICK = "click", _("Visitors who clicked the recommendation block")

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=32, choices=Kind.choices, default=Kind.PRODUCT_COPY)
    copy_kind = models.CharField(
        max_length=32,
        blank=True,
        default="",
        help_text=_("Product copy: the text tested (title, description, meta_description); empty tests every kind."),
    )
    block = models.CharField(
        max_length=32, choices=BlockCode.choices, blank=True, default="", help_text=_("Recommendation block tested.")
    )
    campaign = models.CharField(max_length=64, blank=True, default="", help_text=_("Campaign code (marketing)."))
    scope = models.CharField(max_length=16, choices=Scope.choices, default=Scope.ALL)
    products = models.ManyToManyField("catalogue.Product", blank=True, related_name="+")
    categories = models.ManyToManyField("catalogue.Category", blank=True, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.AB)
    primary_metric = models.CharField(max_length=16, choices=Metric.choices, default=Metric.ORDER)
    guardrail_metrics = models.JSONField(default=list, blank=True)
    salt = models.CharField(max_length=32, default=_new_salt)
    minimum_lift = models.FloatField(
        default=0.1, help_text=_("Smallest relative lift worth detecting (0.1 = 10%); sets the sample size.")
    )
    exploration_floor = models.FloatField(default=0.05, help_text=_("Bandit: least share of traffic per arm."))
    # Bandit mode: {segment: {arm_id: share}}, written by the periodic task from the outcomes so far.
    allocation = models.JSONField(default=dict, blank=True)
    winner = models.ForeignKey("Arm", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    cache_key = EXPERIMENTS_CACHE_KEY

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_status_display()})"

    def clean(self) -> None:
        if self.kind == self.Kind.RECOMMENDATION_BLOCK and not self.block:
            raise ValidationError({"block": _("Choose the recommendation block this experiment tests.")})
        if self.copy_kind and self.copy_kind not in ("title", "description", "meta_description"):
            raise ValidationError({"copy_kind": _("Choose title, description or meta_description.")})
        if not 0 < self.minimum_lift < 10:
            raise ValidationError({"minimum_lift": _("A lift between 0 and 10 (0.1 = 10%).")})
        if not 0 <= self.exploration_floor <= 0.3:
            raise ValidationError({"exploration_floor": _("A floor between 0 and 0.3.")})


class Arm(ClearsCacheOnChange, models.Model):
    """One version visitors may see. Control is what the shop shows without the plugin."""

    class Variant(models.TextChoices):
        ORIGINAL = "original", _("The shop's own text (control)")
        GENERATED = "generated", _("Published generated copy for the visitor's segment")
        SEGMENT = "segment", _("Published generated copy of one segment, for everyone")
        HIDDEN = "hidden", _("No recommendation block (control)")
        SHOWN = "shown", _("The recommendation block")
        CAMPAIGN = "campaign", _("A campaign copy variant")

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="arms")
    name = models.CharField(max_length=80)
    is_control = models.BooleanField(default=False)
    variant = models.CharField(max_length=16, choices=Variant.choices)
    segment = models.CharField(max_length=32, blank=True, default="", help_text=_("Segment variant: its code."))
    payload = models.CharField(max_length=64, blank=True, default="", help_text=_("Campaign: the variant's code."))
    weight = models.PositiveIntegerField(default=1, help_text=_("Share of traffic, relative to the other arms."))
    position = models.PositiveSmallIntegerField(default=0)

    cache_key = EXPERIMENTS_CACHE_KEY

    class Meta:
        ordering = ["experiment", "-is_control", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.name}{' (control)' if self.is_control else ''}"


class ExperimentExposure(models.Model):
    """One visitor (the assignment unit) in one experiment: the arm, when first exposed, and outcomes.

    Written in bulk from a buffer (``experiments.exposures``), never one row per page view in the
    request; outcome counters are bumped with ``F()`` updates by the signal receivers.
    """

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="exposures")
    arm = models.ForeignKey(Arm, on_delete=models.CASCADE, related_name="exposures")
    unit = models.CharField(max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    segment = models.CharField(max_length=32, blank=True, default="")
    product_ids = models.JSONField(default=list, blank=True)
    first_exposed_at = models.DateTimeField(default=timezone.now)
    last_exposed_at = models.DateTimeField(default=timezone.now)
    # Pre-exposure activity (events in the 30 days before the first exposure), the CUPED covariate.
    pre_activity = models.FloatField(default=0.0)
    basket_additions = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    orders = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    converted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["experiment", "unit"], name="oscar_llm_exposure_unit")]
        indexes = [
            models.Index(fields=["experiment", "arm"]),
            models.Index(fields=["unit"]),
            models.Index(fields=["user"]),
        ]

    def __str__(self) -> str:
        return f"{self.unit} in {self.experiment_id}: arm {self.arm_id}"


class ExperimentUnit(models.Model):
    """The assignment key of a customer, kept from their first login so they see the same arms on every
    device and after every login (the anonymous visitor key the session had then)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="llm_experiment_unit")
    key = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.key}"
