"""Signals -> product copy jobs. Thin: they queue work with ``transaction.on_commit`` (so a rolled-back
save queues nothing, and attributes saved after the product row are part of the facts).
Connected in ``wiring.ready()``."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from ..models import Feature, FeatureSwitch
from . import services


def schedule_product_refresh(product_id: int | None) -> None:
    """Queue one plan job per product per transaction, after it commits."""
    if not product_id:
        return
    try:
        if not FeatureSwitch.is_enabled(Feature.PRODUCT_COPY):
            return
    except Exception:  # tables not migrated yet (e.g. during migrate)
        return
    services.request_plan_after_commit(product_id)


def product_saved(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        schedule_product_refresh(instance.pk)


def product_facts_changed(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        schedule_product_refresh(getattr(instance, "product_id", None))


def feature_switched(sender: Any, instance: FeatureSwitch, **kwargs: Any) -> None:
    if instance.feature == Feature.PRODUCT_COPY and instance.enabled:
        # Switching product copy on writes drafts for every product (idempotent per input).
        transaction.on_commit(lambda: services.request_bulk_job(instance))


def experiment_rolled_out(sender: Any, experiment: Any, arm: Any, by: Any = None, **kwargs: Any) -> None:
    services.roll_out_experiment(experiment, arm, by=by)
