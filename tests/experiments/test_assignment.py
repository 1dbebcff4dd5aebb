"""Assignment, the exposure buffer, the bandit's shares and block experiments, on the real tables."""

from __future__ import annotations

from collections import Counter

import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.cache import cache
from django.test import RequestFactory

from oscar_llm.experiments import assignment, exposures, services
from oscar_llm.models import Arm, Experiment, ExperimentExposure, Feature, FeatureSwitch
from oscar_llm.recommendations import blocks

pytestmark = pytest.mark.django_db


def visitor_request(segment_user=None):
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/")
    SessionMiddleware(lambda r: None).process_request(request)
    request.user = segment_user or AnonymousUser()
    return request


def test_assignment_follows_the_weights_and_is_deterministic(make_product, staff_user) -> None:
    product = make_product()
    experiment = services.create(
        name="weights",
        kind="product_copy",
        scope="all",
        arms=[
            {"name": "original", "variant": "original", "is_control": True, "weight": 1},
            {"name": "generated", "variant": "generated", "weight": 3},
        ],
        by=staff_user,
    )
    services.start(experiment)
    counts = Counter()
    for _ in range(2000):
        request = visitor_request()
        arm = assignment.assign(request, "product_copy", product=product, copy_kind="title")
        again = assignment.assign(request, "product_copy", product=product, copy_kind="title")
        assert arm == again
        counts[arm.variant] += 1
    assert 0.72 < counts["generated"] / 2000 < 0.78  # 3:1 weights
    # a stopped experiment assigns nobody (the cached list is dropped on save)
    services.stop(experiment)
    assert assignment.assign(visitor_request(), "product_copy", product=product) is None


def test_exposure_buffer_writes_one_row_per_visitor_and_merges_products(make_product, staff_user) -> None:
    a, b = make_product(), make_product(title="Tarn Men Olive Linen Shirt")
    experiment = services.create(name="buffer", kind="product_copy", scope="all", by=staff_user)
    services.start(experiment)
    request = visitor_request()
    for product in (a, b, a, b):
        exposures.expose(request, assignment.assign(request, "product_copy", product=product), product.pk)
    other = visitor_request()
    exposures.expose(other, assignment.assign(other, "product_copy", product=a), a.pk)
    assert cache.get(exposures.SEQ_KEY) == 3  # repeated views of a product in a session cost nothing
    assert exposures.flush() == 3
    rows = ExperimentExposure.objects.filter(experiment=experiment).order_by("pk")
    assert rows.count() == 2
    assert sorted(rows[0].product_ids) == sorted([a.pk, b.pk])
    # an entry still being written (a gap at the newest numbers) waits for the next flush
    cache.incr(exposures.SEQ_KEY)
    assert exposures.flush() == 0 and cache.get(exposures.DONE_KEY) == 3
    # a lost entry far behind the newest is skipped, not waited for forever
    for _ in range(exposures.IN_FLIGHT + 1):
        cache.incr(exposures.SEQ_KEY)
    exposures.flush()
    assert cache.get(exposures.DONE_KEY) > 4


def test_bandit_shares_follow_each_segments_winner_with_a_floor(staff_user) -> None:
    experiment = services.create(
        name="bandit", kind="product_copy", scope="all", mode="bandit", by=staff_user, exploration_floor=0.05
    )
    services.start(experiment)
    control, treatment = experiment.arms.order_by("-is_control", "pk")
    rows = []
    for segment, rates in (("premium", {control: 30, treatment: 5}), ("budget", {control: 5, treatment: 30})):
        for arm, converted in rates.items():
            for i in range(100):
                rows.append(
                    ExperimentExposure(
                        experiment=experiment,
                        arm=arm,
                        unit=f"{segment}-{arm.pk}-{i}",
                        segment=segment,
                        orders=1 if i < converted else 0,
                    )
                )
    ExperimentExposure.objects.bulk_create(rows)
    assert services.update_bandits(seed=1) == 1
    experiment.refresh_from_db()
    premium = experiment.allocation["premium"]
    budget = experiment.allocation["budget"]
    assert premium[str(control.pk)] == pytest.approx(0.95, abs=0.01)
    assert budget[str(treatment.pk)] == pytest.approx(0.95, abs=0.01)
    assert min(premium.values()) >= 0.05 - 1e-9
    # new visitors of a segment mostly get that segment's winner; each keeps their arm in the session
    counts = Counter()
    for _ in range(400):
        request = visitor_request()
        arm = assignment.assign(request, "product_copy", segment="premium")
        counts[arm.arm_id] += 1
        assert assignment.assign(request, "product_copy", segment="premium").arm_id == arm.arm_id
    assert counts[control.pk] / 400 > 0.88


def test_block_experiment_hides_the_block_for_the_control_arm(make_product, staff_user) -> None:
    FeatureSwitch.objects.update_or_create(feature=Feature.RECOMMENDATIONS, defaults={"enabled": True})
    product = make_product()
    experiment = services.create(
        name="block", kind="recommendation_block", block="product_similar", scope="all", by=staff_user
    )
    services.start(experiment)
    shown = Counter()
    for _ in range(60):
        request = visitor_request()
        visible = blocks._experiment_shows(request, "product_similar", product)
        arm = assignment.assign(request, "recommendation_block", block="product_similar", product=product)
        assert visible == (arm.variant == Arm.Variant.SHOWN)
        shown[visible] += 1
        # other blocks are not in the experiment
        assert blocks._experiment_shows(request, "product_for_you", product) is True
    assert shown[True] and shown[False]
    exposures.flush()
    assert ExperimentExposure.objects.filter(experiment=experiment).count() == 60
    assert Experiment.objects.get(pk=experiment.pk).status == Experiment.Status.RUNNING
