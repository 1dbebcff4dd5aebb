"""The demo's experiment: does "Complete your basket" sell more? (README, "Experiments").

A running A/B test of the basket page's block, so a new user who browses the demo shop, adds to the basket
and checks out sees visitors, exposures and orders counted per arm on Dashboard -> Language models ->
Experiments. The basket block is chosen because no README screenshot shows the basket page: a product page
screenshot never depends on the arm its visitor drew.
"""

from __future__ import annotations

from oscar_llm.experiments import services
from oscar_llm.models import BlockCode, Experiment

NAME = 'Does "Complete your basket" sell more?'


def ensure_experiment() -> int:
    """Create and start the demo experiment once; returns how many were created now."""
    if Experiment.objects.filter(name=NAME).exists():
        return 0
    experiment = services.create(
        name=NAME,
        kind=Experiment.Kind.RECOMMENDATION_BLOCK,
        block=BlockCode.BASKET,
        scope=Experiment.Scope.ALL,
        primary_metric=Experiment.Metric.ORDER,
    )
    services.start(experiment)
    return 1
