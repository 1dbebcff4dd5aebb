"""Product copy: the shop's voice, drafts, published versions, customer segments.

Generated text is a :class:`ContentDraft` until a person (or auto-publish) makes it a
:class:`ContentVersion`. Product rows are never overwritten.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .core import ClearsCacheOnChange, Job

VOICE_CACHE_KEY = "oscar_llm:voice:v1"


class ShopVoice(ClearsCacheOnChange, models.Model):
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

    cache_key = VOICE_CACHE_KEY

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
        # The model wrote the text the product already shows: kept for the record, never queued.
        NO_CHANGE = "no_change", _("No change proposed")

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
