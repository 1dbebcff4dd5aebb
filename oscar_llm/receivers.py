"""Oscar and Django signals -> interaction rows and generation jobs.

Receivers stay thin: they record what happened and queue work with
``transaction.on_commit`` (so a rolled-back save queues nothing, and product
attributes saved after the product row are part of the facts).
"""

from __future__ import annotations

import logging
import time
from functools import partial
from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from oscar.core.loading import get_class, get_model

from . import events
from .models import Feature, FeatureSwitch

logger = logging.getLogger(__name__)

Product = get_model("catalogue", "Product")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
ProductCategory = get_model("catalogue", "ProductCategory")
StockRecord = get_model("partner", "StockRecord")

product_viewed = get_class("catalogue.signals", "product_viewed")
basket_addition = get_class("basket.signals", "basket_addition")
order_placed = get_class("order.signals", "order_placed")
user_search = get_class("search.signals", "user_search")


def _queue_product_plan(product_id: int) -> None:
    from .jobs import enqueue

    # One "plan" job per product change; the worker reads the facts and writes the
    # per-kind generation jobs, which are idempotent by input hash.
    enqueue(
        "content.plan",
        target_model="catalogue.product",
        target_id=product_id,
        params={},
        input_hash=str(time.time_ns()),
        prompt_version="-",
        model_id="-",
    )


def schedule_product_refresh(product_id: int | None) -> None:
    """Queue one plan job per product per transaction, after it commits."""
    if not product_id:
        return
    try:
        if not FeatureSwitch.is_enabled(Feature.PRODUCT_COPY):
            return
    except Exception:  # tables not migrated yet (e.g. during migrate)
        return
    # Read the connection's own callback list, so a rolled-back transaction (whose
    # callbacks Django discards) leaves nothing behind that would block later saves.
    connection = transaction.get_connection()
    if any(getattr(func, "oscar_llm_product_id", None) == product_id for _, func, _ in connection.run_on_commit):
        return
    callback = partial(_queue_product_plan, product_id)
    callback.oscar_llm_product_id = product_id
    transaction.on_commit(callback)


@receiver(post_save, sender=Product, dispatch_uid="oscar_llm_product_saved")
def product_saved(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        schedule_product_refresh(instance.pk)


@receiver(post_save, sender=ProductAttributeValue, dispatch_uid="oscar_llm_attribute_saved")
@receiver(post_save, sender=ProductCategory, dispatch_uid="oscar_llm_category_saved")
@receiver(post_save, sender=StockRecord, dispatch_uid="oscar_llm_stock_saved")
def product_facts_changed(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        schedule_product_refresh(getattr(instance, "product_id", None))


@receiver(post_save, sender=FeatureSwitch, dispatch_uid="oscar_llm_feature_switched")
def feature_switched(sender: Any, instance: FeatureSwitch, **kwargs: Any) -> None:
    from django.core.cache import cache

    from .models import FEATURE_CACHE_KEY

    cache.delete(FEATURE_CACHE_KEY)
    if instance.feature == Feature.PRODUCT_COPY and instance.enabled:
        from .jobs import enqueue

        # Switching product copy on writes drafts for every product (idempotent per input).
        transaction.on_commit(
            lambda: enqueue(
                "content.bulk",
                target_model="oscar_llm.featureswitch",
                target_id=instance.pk,
                params={},
                input_hash=instance.updated_at.isoformat(),
                prompt_version="-",
                model_id="-",
            )
        )


@receiver(post_save, sender=get_model("oscar_llm", "ShopVoice"), dispatch_uid="oscar_llm_voice_saved")
def voice_saved(sender: Any, **kwargs: Any) -> None:
    from django.core.cache import cache

    from .models import VOICE_CACHE_KEY

    cache.delete(VOICE_CACHE_KEY)


@receiver(product_viewed, dispatch_uid="oscar_llm_product_viewed")
def on_product_viewed(sender: Any, product: Any, user: Any, request: Any = None, **kwargs: Any) -> None:
    events.record(request, user, product, "view")


@receiver(basket_addition, dispatch_uid="oscar_llm_basket_addition")
def on_basket_addition(sender: Any, product: Any, user: Any, request: Any = None, **kwargs: Any) -> None:
    events.record(request, user, product, "basket")


@receiver(order_placed, dispatch_uid="oscar_llm_order_placed")
def on_order_placed(sender: Any, order: Any, user: Any = None, **kwargs: Any) -> None:
    for line in order.lines.all():
        events.record(None, user or order.user, line.product, "purchase", weight=float(line.quantity))


@receiver(user_search, dispatch_uid="oscar_llm_user_search")
def on_user_search(sender: Any, query: str, user: Any, request: Any = None, **kwargs: Any) -> None:
    events.record(request, user, None, "search", query=query)


@receiver(post_save, sender="oscar_llm.KnowledgeArticle", dispatch_uid="oscar_llm_article_saved")
def knowledge_article_saved(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    """An article changed (admin, dashboard, demo data): refresh its embedding through a job."""
    if raw or instance.vector_is_fresh:
        return
    from .support.services import request_article_embedding

    transaction.on_commit(partial(request_article_embedding, instance))


# --- recommendations ------------------------------------------------------------------------------


def _recommendations_on() -> bool:
    try:
        return FeatureSwitch.is_enabled(Feature.RECOMMENDATIONS)
    except Exception:  # tables not migrated yet
        return False


@receiver(post_save, sender=Product, dispatch_uid="oscar_llm_rec_product_saved")
@receiver(post_save, sender=ProductAttributeValue, dispatch_uid="oscar_llm_rec_attribute_saved")
@receiver(post_save, sender=ProductCategory, dispatch_uid="oscar_llm_rec_category_saved")
def product_text_changed(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    """The facts a product's vector is made from may have changed: recompute it in a worker."""
    if raw or not _recommendations_on():
        return
    from .recommendations.history import schedule_vector_refresh

    schedule_vector_refresh(instance.pk if sender is Product else getattr(instance, "product_id", None))


@receiver(post_save, sender=FeatureSwitch, dispatch_uid="oscar_llm_rec_switched")
def recommendations_switched(sender: Any, instance: FeatureSwitch, **kwargs: Any) -> None:
    if instance.feature == Feature.RECOMMENDATIONS and instance.enabled:
        from .recommendations.history import schedule_fit

        # Vectors for every product, the fit and every list, in a worker.
        transaction.on_commit(lambda: schedule_fit("switched-on", bucket_seconds=60))


@receiver(user_logged_in, dispatch_uid="oscar_llm_rec_login")
def merge_visitor_history(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Django cycled the session key but kept its data: the visitor id there is the anonymous history."""
    try:
        from .recommendations.history import merge_visitor_into_user
        from .recommendations.services import visitor_key

        visitor = visitor_key(request)
        if visitor:
            merge_visitor_into_user(visitor, user)
            from .tasks import merge_visitor_events

            # Events of this visitor still in the broker land after this merge; merge them again then.
            merge_visitor_events.apply_async((visitor, user.pk), countdown=10)
    except Exception:
        logger.exception("Could not merge the visitor's history into user %s", getattr(user, "pk", None))
