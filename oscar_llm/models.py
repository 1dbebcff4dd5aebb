"""Database models: runtime switches, jobs, generated content and its history.

The database is the source of truth for model work (DESIGN.md principle 2):
a :class:`Job` row exists before its Celery message, and generated text is a
:class:`ContentDraft` until a person (or auto-publish) makes it a
:class:`ContentVersion`. Product rows are never overwritten.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

FEATURE_CACHE_KEY = "oscar_llm:features:v1"
VOICE_CACHE_KEY = "oscar_llm:voice:v1"


class Feature(models.TextChoices):
    PRODUCT_COPY = "product_copy", _("Product copy")
    RECOMMENDATIONS = "recommendations", _("Recommendations")
    SUPPORT = "support", _("Support drafting")
    MARKETING = "marketing", _("Marketing copy")


class FeatureSwitch(models.Model):
    """One row per feature; admins flip these in Django admin."""

    feature = models.CharField(max_length=32, choices=Feature.choices, unique=True)
    enabled = models.BooleanField(default=False)
    auto_publish = models.BooleanField(
        default=False,
        help_text=_("Publish generated copy that passes every check without review."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["feature"]
        verbose_name = _("feature switch")
        verbose_name_plural = _("feature switches")

    def __str__(self) -> str:
        state = _("on") if self.enabled else _("off")
        return f"{self.get_feature_display()} ({state})"

    @classmethod
    def states(cls) -> dict[str, dict[str, bool]]:
        """All switches as ``{feature: {"enabled": .., "auto_publish": ..}}``, cached briefly."""
        states = cache.get(FEATURE_CACHE_KEY)
        if states is None:
            states = {f.value: {"enabled": False, "auto_publish": False} for f in Feature}
            for row in cls.objects.all():
                states[row.feature] = {"enabled": row.enabled, "auto_publish": row.auto_publish}
            cache.set(FEATURE_CACHE_KEY, states, 5)
        return states

    @classmethod
    def is_enabled(cls, feature: str) -> bool:
        return cls.states().get(feature, {}).get("enabled", False)

    @classmethod
    def auto_publishes(cls, feature: str) -> bool:
        return cls.states().get(feature, {}).get("auto_publish", False)

    @classmethod
    def set(cls, feature: str, *, enabled: bool, auto_publish: bool | None = None) -> FeatureSwitch:
        row, _created = cls.objects.get_or_create(feature=feature)
        row.enabled = enabled
        if auto_publish is not None:
            row.auto_publish = auto_publish
        row.save()
        return row


class ShopVoice(models.Model):
    """The shop's voice and limits for generated copy (a single row)."""

    brand_voice = models.TextField(
        blank=True,
        default="Clear, friendly and factual. Never exaggerate.",
        help_text=_("How the shop speaks, given to instruction-following models."),
    )
    tone = models.CharField(max_length=100, blank=True, default="warm")
    languages = models.CharField(
        max_length=100,
        default="en",
        help_text=_("Comma-separated language codes; the first is the shop's main language."),
    )
    banned_words = models.TextField(
        blank=True,
        default="",
        help_text=_("Words or phrases that must never appear, one per line or comma-separated."),
    )
    title_max_length = models.PositiveIntegerField(default=90)
    description_max_length = models.PositiveIntegerField(default=1200)
    meta_description_max_length = models.PositiveIntegerField(default=160)
    min_length = models.PositiveIntegerField(default=3, help_text=_("Minimum characters for any text."))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("shop voice and limits")
        verbose_name_plural = _("shop voice and limits")

    def __str__(self) -> str:
        return str(_("Shop voice and limits"))

    @classmethod
    def current(cls) -> ShopVoice:
        voice = cache.get(VOICE_CACHE_KEY)
        if voice is None:
            voice = cls.objects.order_by("pk").first() or cls()
            cache.set(VOICE_CACHE_KEY, voice, 5)
        return voice

    @property
    def language_list(self) -> list[str]:
        return [code.strip() for code in self.languages.split(",") if code.strip()] or ["en"]

    @property
    def banned_word_list(self) -> list[str]:
        raw = self.banned_words.replace("\n", ",")
        return [w.strip() for w in raw.split(",") if w.strip()]

    def max_length_for(self, kind: str) -> int:
        return {
            "title": self.title_max_length,
            "description": self.description_max_length,
            "meta_description": self.meta_description_max_length,
        }.get(kind, self.description_max_length)


class Job(models.Model):
    """A unit of model work. Exists before its Celery message, which only nudges it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(max_length=64, db_index=True)
    target_model = models.CharField(max_length=64)
    target_id = models.PositiveBigIntegerField()
    params = models.JSONField(default=dict, blank=True)
    input_hash = models.CharField(max_length=64)
    prompt_version = models.CharField(max_length=64)
    model_id = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    result = models.JSONField(default=dict, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "target_model", "target_id", "input_hash", "prompt_version", "model_id"],
                name="oscar_llm_job_idempotency",
            )
        ]
        indexes = [models.Index(fields=["status", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.target_model}#{self.target_id} ({self.status})"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class ContentKind(models.TextChoices):
    TITLE = "title", _("Title")
    DESCRIPTION = "description", _("Description")
    META_DESCRIPTION = "meta_description", _("Meta description")


class ContentDraft(models.Model):
    """Generated product copy awaiting review; rejected drafts keep their reasons."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Awaiting review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SUPERSEDED = "superseded", _("Superseded")

    product = models.ForeignKey("catalogue.Product", on_delete=models.CASCADE, related_name="llm_drafts")
    kind = models.CharField(max_length=32, choices=ContentKind.choices)
    segment = models.CharField(max_length=32, default="default")
    language = models.CharField(max_length=12, default="en")
    text = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)
    # Why the checks failed (automatic) - a list of {"check": .., "message": ..}.
    reasons = models.JSONField(default=list, blank=True)
    facts = models.JSONField(default=dict, blank=True)
    prompt_version = models.CharField(max_length=64, blank=True, default="")
    model_id = models.CharField(max_length=255, blank=True, default="")
    input_hash = models.CharField(max_length=64, blank=True, default="")
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="drafts")
    generation_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True, default="")
    edited = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("review_contentdraft", "Can review and publish generated product copy")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for product #{self.product_id} ({self.status})"

    @property
    def check_failed(self) -> bool:
        return bool(self.reasons)


class ContentVersion(models.Model):
    """An immutable published text; exactly one per (product, kind, segment, language) is current."""

    class Source(models.TextChoices):
        ORIGINAL = "original", _("Original (human-written)")
        GENERATED = "generated", _("Generated, approved")
        EDITED = "edited", _("Generated, edited by staff")
        AUTO = "auto", _("Generated, auto-published")

    product = models.ForeignKey("catalogue.Product", on_delete=models.CASCADE, related_name="llm_versions")
    kind = models.CharField(max_length=32, choices=ContentKind.choices)
    segment = models.CharField(max_length=32, default="default")
    language = models.CharField(max_length=12, default="en")
    text = models.TextField(blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    draft = models.ForeignKey(ContentDraft, null=True, blank=True, on_delete=models.SET_NULL, related_name="versions")
    is_current = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "kind", "segment", "language"],
                condition=Q(is_current=True),
                name="oscar_llm_one_current_version",
            )
        ]
        indexes = [models.Index(fields=["product", "is_current"])]

    def __str__(self) -> str:
        return f"{self.kind} v{self.pk} for product #{self.product_id}"


class CustomerSegment(models.Model):
    """The segment a customer's browsing and buying puts them in (recomputed by a task)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="llm_segment")
    segment = models.CharField(max_length=32, default="default")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.segment}"


class Interaction(models.Model):
    """What a customer (or an anonymous session) did with a product."""

    class Event(models.TextChoices):
        VIEW = "view", _("Viewed")
        BASKET = "basket", _("Added to basket")
        PURCHASE = "purchase", _("Bought")
        SEARCH = "search", _("Searched")
        CLICK = "click", _("Clicked a recommendation")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    session_key = models.CharField(max_length=64, blank=True, default="", db_index=True)
    product = models.ForeignKey("catalogue.Product", null=True, blank=True, on_delete=models.CASCADE)
    event = models.CharField(max_length=16, choices=Event.choices)
    weight = models.FloatField(default=1.0)
    query = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "created_at"])]

    def __str__(self) -> str:
        return f"{self.event} {self.product_id} by {self.user_id or self.session_key}"
