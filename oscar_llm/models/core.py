"""Core models: the admins' feature switches and the job table (docs/architecture.md, "Jobs").

A :class:`Job` row exists before its Celery message; the message only nudges it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.cache import cache
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

FEATURE_CACHE_KEY = "oscar_llm:features:v1"

# What one request has already read from the cache, by cache key (set by the middleware around each
# request; None outside one, e.g. in workers): a page asks for the feature switches a few dozen times.
_request_memo: ContextVar[dict[str, Any] | None] = ContextVar("oscar_llm_request_memo", default=None)


@contextmanager
def request_memo() -> Iterator[None]:
    """Within this block, cached rows read through :func:`memo_get` are read from the cache once."""
    token = _request_memo.set({})
    try:
        yield
    finally:
        _request_memo.reset(token)


def memo_get(key: str) -> Any:
    memo = _request_memo.get()
    value = None if memo is None else memo.get(key)
    if value is None:
        value = cache.get(key)
        memo_keep(key, value)
    return value


def memo_keep(key: str, value: Any) -> None:
    memo = _request_memo.get()
    if memo is not None and value is not None:
        memo[key] = value


def memo_forget(key: str) -> None:
    memo = _request_memo.get()
    if memo is not None:
        memo.pop(key, None)


class ClearsCacheOnChange:
    """Drops ``cache_key`` after every save and delete of a row that pages read from the cache, so an
    admin's change shows on the next request in every process (``QuerySet.update`` skips it: the
    cached copy then lives out its short timeout)."""

    cache_key = ""

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        cache.delete(self.cache_key)
        memo_forget(self.cache_key)

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        cache.delete(self.cache_key)
        memo_forget(self.cache_key)
        return result


class Feature(models.TextChoices):
    PRODUCT_COPY = "product_copy", _("Product copy")
    RECOMMENDATIONS = "recommendations", _("Recommendations")
    SUPPORT = "support", _("Support drafting")
    MARKETING = "marketing", _("Marketing copy")
    QA = "qa", _("Product questions")


# The features whose generated text can go live without review when an admin allows it. Support replies
# never do (docs/architecture.md, "Review"); recommendations and marketing publish nothing of a model's.
AUTO_PUBLISH_FEATURES: frozenset[str] = frozenset({Feature.PRODUCT_COPY, Feature.QA})


class FeatureSwitch(ClearsCacheOnChange, models.Model):
    """One row per feature; admins flip these in Django admin."""

    feature = models.CharField(max_length=32, choices=Feature.choices, unique=True)
    enabled = models.BooleanField(default=False)
    auto_publish = models.BooleanField(
        default=False,
        help_text=_("Publish generated copy that passes every check without review."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    cache_key = FEATURE_CACHE_KEY

    class Meta:
        ordering = ["feature"]
        verbose_name = _("feature switch")
        verbose_name_plural = _("feature switches")

    def __str__(self) -> str:
        state = _("on") if self.enabled else _("off")
        return f"{self.get_feature_display()} ({state})"

    @classmethod
    def states(cls) -> dict[str, dict[str, bool]]:
        """All switches as ``{feature: {"enabled": .., "auto_publish": ..}}``, cached briefly (and read
        from the cache once per request, see :func:`request_memo`)."""
        states = memo_get(FEATURE_CACHE_KEY)
        if states is None:
            states = {f.value: {"enabled": False, "auto_publish": False} for f in Feature}
            for row in cls.objects.all():
                states[row.feature] = {"enabled": row.enabled, "auto_publish": row.auto_publish}
            cache.set(FEATURE_CACHE_KEY, states, 5)
            memo_keep(FEATURE_CACHE_KEY, states)
        return states

    @classmethod
    def is_enabled(cls, feature: str) -> bool:
        return cls.states().get(feature, {}).get("enabled", False)

    @property
    def can_auto_publish(self) -> bool:
        return self.feature in AUTO_PUBLISH_FEATURES

    def clean(self) -> None:
        super().clean()
        if self.auto_publish and not self.can_auto_publish:
            from django.core.exceptions import ValidationError

            raise ValidationError({"auto_publish": _("This feature has nothing to publish without review.")})

    @classmethod
    def auto_publishes(cls, feature: str) -> bool:
        if feature not in AUTO_PUBLISH_FEATURES:
            return False
        return cls.states().get(feature, {}).get("auto_publish", False)

    @classmethod
    def set(cls, feature: str, *, enabled: bool, auto_publish: bool | None = None) -> FeatureSwitch:
        row, _created = cls.objects.get_or_create(feature=feature)
        row.enabled = enabled
        if auto_publish is not None:
            row.auto_publish = auto_publish
        row.save()
        return row


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
