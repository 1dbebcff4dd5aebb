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


class ItemVector(models.Model):
    """A product's text embedding (float32 bytes), computed by a worker from the product facts."""

    product = models.OneToOneField("catalogue.Product", on_delete=models.CASCADE, related_name="llm_vector")
    vector = models.BinaryField()
    dimension = models.PositiveIntegerField()
    # Hash of the facts text the vector was computed from: unchanged facts are not re-embedded.
    input_hash = models.CharField(max_length=64)
    model_id = models.CharField(max_length=255)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"vector of product #{self.product_id}"


class RecommendationList(models.Model):
    """A precomputed ranked list, written by workers and read by pages with one indexed query.

    ``kind`` says what ``key`` is: a product id ("similar", "together"), a user id ("user"), an
    anonymous visitor id ("visitor"), a category id ("category") or "all" ("trending", "popular").
    ``items`` holds ``[{"id": product_id, "score": .., "reason": .., "source": id|None,
    "source_title": ..}, ...]``, best first, before any business rule (rules apply at read time).
    """

    kind = models.CharField(max_length=16)
    key = models.CharField(max_length=64)
    items = models.JSONField(default=list, blank=True)
    engine_version = models.CharField(max_length=64, blank=True, default="")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="oscar_llm_reclist_kind_key")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.key} ({len(self.items)} items)"


RECOMMENDATION_RULES_CACHE_KEY = "oscar_llm:rec_rules:v1"


class RecommendationRule(models.Model):
    """Shop-owner rules applied when a block is read: pin, boost or exclude a product, or restrict
    a block to (or keep it away from) a category. An empty block means every block."""

    class Action(models.TextChoices):
        PIN = "pin", _("Pin product (shown first)")
        BOOST = "boost", _("Boost product")
        EXCLUDE = "exclude", _("Exclude product")
        INCLUDE_CATEGORY = "include_category", _("Only show products in category")
        EXCLUDE_CATEGORY = "exclude_category", _("Never show products in category")

    class Block(models.TextChoices):
        ALL = "", _("Every block")
        FOR_YOU = "product_for_you", _("Recommended for you (product page)")
        SIMILAR = "product_similar", _("Similar items (product page)")
        BASKET = "basket_complete", _("Complete your basket (basket page)")

    block = models.CharField(max_length=32, choices=Block.choices, blank=True, default="")
    action = models.CharField(max_length=32, choices=Action.choices)
    product = models.ForeignKey("catalogue.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(
        "catalogue.Category", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    boost = models.FloatField(default=2.0, help_text=_("Score multiplier for boosted products."))
    position = models.PositiveIntegerField(default=0, help_text=_("Order among pinned products."))
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["block", "action", "position", "pk"]

    def __str__(self) -> str:
        target = f"product #{self.product_id}" if self.product_id else f"category #{self.category_id}"
        return f"{self.get_action_display()}: {target} ({self.block or 'every block'})"

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        # Blocks read the rules from the cache; an admin's change shows on the next request.
        cache.delete(RECOMMENDATION_RULES_CACHE_KEY)

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        cache.delete(RECOMMENDATION_RULES_CACHE_KEY)
        return result

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        needs_category = self.action in (self.Action.INCLUDE_CATEGORY, self.Action.EXCLUDE_CATEGORY)
        if needs_category and not self.category_id:
            raise ValidationError({"category": _("Choose the category this rule is about.")})
        if not needs_category and not self.product_id:
            raise ValidationError({"product": _("Choose the product this rule is about.")})
        if self.action == self.Action.BOOST and self.boost <= 0:
            raise ValidationError({"boost": _("A boost must be a positive multiplier.")})


# --- support desk (issue 4) ------------------------------------------------------------------------

# Customer text is stored as plain text and escaped on output; this caps what one message may hold.
SUPPORT_MAX_MESSAGE_CHARS = 20_000


class Ticket(models.Model):
    """A customer's support request; the thread is its :class:`Message` rows."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        WAITING = "waiting", _("Waiting for staff")
        NEEDS_HUMAN = "needs_human", _("Needs a human")
        ANSWERED = "answered", _("Answered")
        CLOSED = "closed", _("Closed")

    class Priority(models.IntegerChoices):
        LOW = 0, _("Low")
        NORMAL = 1, _("Normal")
        HIGH = 2, _("High")
        URGENT = 3, _("Urgent")

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="support_tickets")
    subject = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    intent = models.CharField(max_length=64, blank=True, default="", db_index=True)
    intent_confidence = models.FloatField(null=True, blank=True)
    orders = models.ManyToManyField("order.Order", blank=True, related_name="support_tickets")
    products = models.ManyToManyField("catalogue.Product", blank=True, related_name="support_tickets")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_tickets"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    first_response_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [("answer_ticket", "Can approve support replies")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"


class Message(models.Model):
    """One entry of a ticket's thread. Customers only ever see CUSTOMER and STAFF messages."""

    class Kind(models.TextChoices):
        CUSTOMER = "customer", _("From the customer")
        STAFF = "staff", _("From staff")
        NOTE = "note", _("Internal note")

    CUSTOMER_VISIBLE = (Kind.CUSTOMER, Kind.STAFF)

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("support message")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on ticket #{self.ticket_id}"


class ReplyDraft(models.Model):
    """A drafted reply to a customer message. Nothing here reaches the customer until approved."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Awaiting review")
        APPROVED = "approved", _("Approved")
        EDITED = "edited", _("Edited and approved")
        REJECTED = "rejected", _("Rejected")
        SUPERSEDED = "superseded", _("Superseded")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="drafts")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="drafts")
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="reply_drafts")
    text = models.TextField(blank=True, default="")
    citations = models.JSONField(default=list, blank=True)
    checks = models.JSONField(default=list, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    articles = models.JSONField(default=list, blank=True)
    facts = models.JSONField(default=dict, blank=True)
    confidence = models.FloatField(default=0.0)
    needs_human = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)
    model_id = models.CharField(max_length=255, blank=True, default="")
    prompt_version = models.CharField(max_length=64, blank=True, default="")
    timings = models.JSONField(default=dict, blank=True)
    final_text = models.TextField(blank=True, default="")
    sent_message = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="from_draft"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reject_reason = models.TextField(blank=True, default="")
    edit_distance = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("reply draft")

    def __str__(self) -> str:
        return f"Draft for ticket #{self.ticket_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.DRAFT


class KnowledgeArticle(models.Model):
    """A policy or FAQ the drafter retrieves by embedding; the vector refreshes through a job."""

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    body = models.TextField()
    tags = models.CharField(max_length=255, blank=True, default="", help_text=_("Comma-separated."))
    active = models.BooleanField(default=True, db_index=True)
    vector = models.JSONField(null=True, blank=True, editable=False)
    vector_model = models.CharField(max_length=255, blank=True, default="", editable=False)
    text_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("knowledge article")

    def __str__(self) -> str:
        return self.title

    @property
    def tag_list(self) -> list[str]:
        return [t.strip() for t in self.tags.split(",") if t.strip()]

    def content_hash(self) -> str:
        import hashlib

        return hashlib.sha256(f"{self.title}\n{self.body}\n{self.tags}".encode()).hexdigest()

    @property
    def vector_is_fresh(self) -> bool:
        return bool(self.vector) and self.text_hash == self.content_hash()


# --- recommendation blocks (storefront) and their daily figures ---------------------------------

RECOMMENDATION_BLOCKS_CACHE_KEY = "oscar_llm:rec_blocks:v1"


class RecommendationBlock(models.Model):
    """The admin's switch and size for one storefront block (rows are created on first use)."""

    class Code(models.TextChoices):
        FOR_YOU = "product_for_you", _("Recommended for you (product page)")
        SIMILAR = "product_similar", _("Similar items (product page)")
        BASKET = "basket_complete", _("Complete your basket (basket page)")

    DEFAULT_TITLES = {
        "product_for_you": "Recommended for you",
        "product_similar": "Similar items",
        "basket_complete": "Complete your basket",
    }

    code = models.CharField(max_length=32, choices=Code.choices, unique=True)
    title = models.CharField(max_length=100)
    enabled = models.BooleanField(default=True)
    size = models.PositiveSmallIntegerField(default=4, help_text=_("How many products the block shows (1-24)."))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("recommendation block")
        verbose_name_plural = _("recommendation blocks")

    def __str__(self) -> str:
        return f"{self.title} ({self.code})"

    def save(self, *args, **kwargs) -> None:
        self.size = max(1, min(int(self.size or 1), 24))
        super().save(*args, **kwargs)
        # Pages read the blocks from the cache; an admin's change shows on the next request.
        cache.delete(RECOMMENDATION_BLOCKS_CACHE_KEY)

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        cache.delete(RECOMMENDATION_BLOCKS_CACHE_KEY)
        return result

    @classmethod
    def configs(cls) -> dict[str, dict]:
        """``{code: {"title", "enabled", "size"}}`` for every block, creating missing rows."""
        configs = cache.get(RECOMMENDATION_BLOCKS_CACHE_KEY)
        if configs is None:
            rows = cls.ensure_rows()
            configs = {code: {"title": r.title, "enabled": r.enabled, "size": r.size} for code, r in rows.items()}
            cache.set(RECOMMENDATION_BLOCKS_CACHE_KEY, configs, 60)
        return configs

    @classmethod
    def ensure_rows(cls) -> dict[str, RecommendationBlock]:
        """Every block's row, created with its defaults (on, 4 items) when missing."""
        rows = {row.code: row for row in cls.objects.all()}
        for code in cls.Code.values:
            if code not in rows:
                defaults = {"title": cls.DEFAULT_TITLES[code]}
                rows[code], _created = cls.objects.get_or_create(code=code, defaults=defaults)
        return rows


class RecommendationStat(models.Model):
    """Per block and per day: how often it was shown, clicked and led to a basket addition."""

    block = models.CharField(max_length=32, choices=RecommendationBlock.Code.choices)
    day = models.DateField()
    impressions = models.PositiveBigIntegerField(default=0)
    clicks = models.PositiveBigIntegerField(default=0)
    basket_additions = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-day", "block"]
        constraints = [models.UniqueConstraint(fields=["block", "day"], name="oscar_llm_recstat_block_day")]

    def __str__(self) -> str:
        return f"{self.block} {self.day}: {self.impressions}/{self.clicks}/{self.basket_additions}"

    @property
    def click_through_rate(self) -> float | None:
        return self.clicks / self.impressions if self.impressions else None
