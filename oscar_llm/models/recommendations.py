"""Recommendations: item vectors, precomputed lists, the shop owner's rules and blocks, daily figures."""

from __future__ import annotations

from django.core.cache import cache
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .core import ClearsCacheOnChange


class BlockCode(models.TextChoices):
    """The storefront's recommendation blocks: the one list of their codes."""

    FOR_YOU = "product_for_you", _("Recommended for you (product page)")
    SIMILAR = "product_similar", _("Similar items (product page)")
    BASKET = "basket_complete", _("Complete your basket (basket page)")


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
RECOMMENDATION_BLOCKS_CACHE_KEY = "oscar_llm:rec_blocks:v1"


class RecommendationRule(ClearsCacheOnChange, models.Model):
    """Shop-owner rules applied when a block is read: pin, boost or exclude a product, or restrict
    a block to (or keep it away from) a category. An empty block means every block."""

    class Action(models.TextChoices):
        PIN = "pin", _("Pin product (shown first)")
        BOOST = "boost", _("Boost product")
        EXCLUDE = "exclude", _("Exclude product")
        INCLUDE_CATEGORY = "include_category", _("Only show products in category")
        EXCLUDE_CATEGORY = "exclude_category", _("Never show products in category")

    Block = BlockCode

    block = models.CharField(
        max_length=32, choices=[("", _("Every block")), *BlockCode.choices], blank=True, default=""
    )
    action = models.CharField(max_length=32, choices=Action.choices)
    product = models.ForeignKey("catalogue.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(
        "catalogue.Category", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    boost = models.FloatField(default=2.0, help_text=_("Score multiplier for boosted products."))
    position = models.PositiveIntegerField(default=0, help_text=_("Order among pinned products."))
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    cache_key = RECOMMENDATION_RULES_CACHE_KEY

    class Meta:
        ordering = ["block", "action", "position", "pk"]

    def __str__(self) -> str:
        target = f"product #{self.product_id}" if self.product_id else f"category #{self.category_id}"
        return f"{self.get_action_display()}: {target} ({self.block or 'every block'})"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        needs_category = self.action in (self.Action.INCLUDE_CATEGORY, self.Action.EXCLUDE_CATEGORY)
        if needs_category and not self.category_id:
            raise ValidationError({"category": _("Choose the category this rule is about.")})
        if not needs_category and not self.product_id:
            raise ValidationError({"product": _("Choose the product this rule is about.")})
        if self.action == self.Action.BOOST and self.boost <= 0:
            raise ValidationError({"boost": _("A boost must be a positive multiplier.")})


class RecommendationBlock(ClearsCacheOnChange, models.Model):
    """The admin's switch and size for one storefront block (rows are created on first use)."""

    Code = BlockCode

    DEFAULT_TITLES = {
        BlockCode.FOR_YOU: "Recommended for you",
        BlockCode.SIMILAR: "Similar items",
        BlockCode.BASKET: "Complete your basket",
    }

    code = models.CharField(max_length=32, choices=Code.choices, unique=True)
    title = models.CharField(max_length=100)
    enabled = models.BooleanField(default=True)
    size = models.PositiveSmallIntegerField(default=4, help_text=_("How many products the block shows (1-24)."))
    updated_at = models.DateTimeField(auto_now=True)

    cache_key = RECOMMENDATION_BLOCKS_CACHE_KEY

    class Meta:
        ordering = ["code"]
        verbose_name = _("recommendation block")
        verbose_name_plural = _("recommendation blocks")

    def __str__(self) -> str:
        return f"{self.title} ({self.code})"

    def save(self, *args, **kwargs) -> None:
        self.size = max(1, min(int(self.size or 1), 24))
        super().save(*args, **kwargs)

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

    block = models.CharField(max_length=32, choices=BlockCode.choices)
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
