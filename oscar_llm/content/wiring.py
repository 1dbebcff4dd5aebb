"""What the product copy feature plugs into the core: its job kinds, receivers and tasks.

Called from ``OscarLLMConfig.ready()``; see docs/architecture.md, "Adding a feature".
"""

from __future__ import annotations


def ready() -> None:
    from django.db.models.signals import post_save
    from oscar.core.loading import get_model

    from .. import jobs
    from ..experiments.services import experiment_rolled_out
    from ..models import FeatureSwitch
    from . import receivers, services, tasks  # noqa: F401  (tasks: registers them)

    for kind, batch_size in services.GENERATION_BATCH_SIZES.items():
        jobs.register_kind(
            services.JOB_PREFIX + kind, services.run_generation_jobs, batch_size=batch_size, family=jobs.TEXT
        )
    # Planning and bulk requests only write job rows, but they belong to the text pipeline.
    jobs.register_kind(services.PLAN_JOB, services.run_plan_jobs, batch_size=50, family=jobs.TEXT)
    jobs.register_kind(services.BULK_JOB, services.run_bulk_jobs, batch_size=1, family=jobs.TEXT)

    post_save.connect(
        receivers.product_saved, sender=get_model("catalogue", "Product"), dispatch_uid="oscar_llm_product_saved"
    )
    for model, uid in (
        ("ProductAttributeValue", "oscar_llm_attribute_saved"),
        ("ProductCategory", "oscar_llm_category_saved"),
    ):
        post_save.connect(receivers.product_facts_changed, sender=get_model("catalogue", model), dispatch_uid=uid)
    post_save.connect(
        receivers.product_facts_changed,
        sender=get_model("partner", "StockRecord"),
        dispatch_uid="oscar_llm_stock_saved",
    )
    experiment_rolled_out.connect(receivers.experiment_rolled_out, dispatch_uid="oscar_llm_copy_rolled_out")
    post_save.connect(receivers.feature_switched, sender=FeatureSwitch, dispatch_uid="oscar_llm_feature_switched")
