"""Signals -> recommendation work: vectors after a product change, a fit when switched on, list
refreshes after events, and the block cache's generation counter. Thin: each calls ``history`` or
``block_cache``; connected in ``wiring.ready()``."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from oscar.core.loading import get_model

from ..models import Feature, FeatureSwitch
from . import history

Product = get_model("catalogue", "Product")


def product_text_changed(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    """The facts a product's vector is made from may have changed: recompute it in a worker."""
    if raw or not history.recommendations_on():
        return
    history.schedule_vector_refresh(instance.pk if sender is Product else getattr(instance, "product_id", None))


def recommendations_switched(sender: Any, instance: FeatureSwitch, **kwargs: Any) -> None:
    if instance.feature == Feature.RECOMMENDATIONS and instance.enabled:
        # Vectors for every product, the fit and every list, in a worker.
        transaction.on_commit(lambda: history.schedule_fit("switched-on", bucket_seconds=60))
