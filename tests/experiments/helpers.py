"""What the experiment tests share: a product whose generated title is published, in a running title test."""

from __future__ import annotations

from typing import Any

from oscar_llm.catalogue import product_facts
from oscar_llm.content import services as content
from oscar_llm.experiments import services
from oscar_llm.models import ContentDraft, Experiment

GENERATED = "Northwind Navy Blue Cotton Dress for Women"


def start_title_experiment(product: Any, staff_user: Any) -> Experiment:
    """Publish ``GENERATED`` as ``product``'s title and start an experiment: its own title against that one."""
    draft = ContentDraft.objects.create(
        product=product, kind="title", segment="default", text=GENERATED, facts=product_facts(product)
    )
    content.publish(draft, by=staff_user)
    experiment = services.create(
        name="Generated titles",
        kind=Experiment.Kind.PRODUCT_COPY,
        copy_kind="title",
        scope=Experiment.Scope.PRODUCTS,
        products=[product],
        by=staff_user,
    )
    return services.start(experiment)
