"""What the recommendations feature plugs into the core: its job kinds, receivers and tasks.

Called from ``OscarLLMConfig.ready()``; see docs/architecture.md, "Adding a feature".
"""

from __future__ import annotations


def ready() -> None:
    from django.db.models.signals import post_delete, post_save
    from oscar.core.loading import get_class, get_model

    from .. import interactions, jobs
    from ..models import FeatureSwitch, RecommendationRule
    from . import block_cache, history, receivers, tasks, tracking, workers  # noqa: F401  (tasks: registers them)

    jobs.register_kind(history.VECTOR_JOB, workers.run_vectors, batch_size=256, family=jobs.EMBEDDINGS)
    jobs.register_kind(history.FIT_JOB, workers.run_fit, batch_size=1, family=jobs.FITS)
    jobs.register_kind(history.PROFILE_JOB, workers.run_profiles, batch_size=100, family=jobs.FITS)
    jobs.register_kind(history.PRODUCT_JOB, workers.run_products, batch_size=50, family=jobs.FITS)

    Product = get_model("catalogue", "Product")
    ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
    ProductCategory = get_model("catalogue", "ProductCategory")
    StockRecord = get_model("partner", "StockRecord")

    for sender in (Product, ProductAttributeValue, ProductCategory):
        post_save.connect(
            receivers.product_text_changed, sender=sender, dispatch_uid=f"oscar_llm_rec_{sender.__name__}"
        )
    post_save.connect(receivers.recommendations_switched, sender=FeatureSwitch, dispatch_uid="oscar_llm_rec_switched")
    interactions.interactions_saved.connect(history.on_interactions_saved, dispatch_uid="oscar_llm_rec_events")
    interactions.visitor_merged.connect(history.on_visitor_merged, dispatch_uid="oscar_llm_rec_merged")

    # Cached blocks (and what blocks keep in memory) are stale when availability, purchases, a
    # product's categories or the rules change.
    for sender in (Product, StockRecord, ProductCategory, get_model("order", "Line")):
        post_save.connect(
            block_cache.bump_generation, sender=sender, dispatch_uid=f"oscar_llm_recblock_{sender.__name__}"
        )
        post_delete.connect(
            block_cache.bump_generation, sender=sender, dispatch_uid=f"oscar_llm_recblock_{sender.__name__}_del"
        )
    post_save.connect(block_cache.on_rule_changed, sender=RecommendationRule, dispatch_uid="oscar_llm_recblock_rule")
    post_delete.connect(
        block_cache.on_rule_changed, sender=RecommendationRule, dispatch_uid="oscar_llm_recblock_rule_del"
    )
    get_class("order.signals", "order_placed").connect(
        block_cache.bump_generation, dispatch_uid="oscar_llm_recblock_order"
    )
    get_class("basket.signals", "basket_addition").connect(
        tracking.on_basket_addition, dispatch_uid="oscar_llm_rec_basket_attribution"
    )


def storefront_urls() -> list:
    from django.urls import path

    from .storefront_views import recommendation_click

    return [path("recommendations/click/", recommendation_click, name="oscar_llm-recommendation-click")]
