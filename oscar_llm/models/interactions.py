"""Storefront events: what a customer or an anonymous visitor did with a product."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
