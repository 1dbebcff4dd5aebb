"""Product copy's jobs: one plan per product change, segments, a worker that lost its lease."""

from __future__ import annotations

import pytest

from oscar_llm import jobs
from oscar_llm.content.segments import compute_segment, refresh_segments, segment_for_request
from oscar_llm.models import CustomerSegment, Interaction, Job

pytestmark = pytest.mark.django_db


def test_segments_follow_what_customers_browse_and_buy(make_product, customer, django_user_model, rf):
    cheap = [make_product(price="10.00") for _ in range(3)]
    dear = [make_product(price="200.00") for _ in range(3)]
    mid = [make_product(price="50.00") for _ in range(3)]
    assert compute_segment(customer) == "default"  # no history yet
    for product in cheap:
        Interaction.objects.create(user=customer, product=product, event="purchase")
    assert compute_segment(customer) == "value"
    big_spender = django_user_model.objects.create_user(username="bob", email="bob@example.com", password="x")
    for product in dear:
        Interaction.objects.create(user=big_spender, product=product, event="view")
    Interaction.objects.create(user=big_spender, product=mid[0], event="view")
    assert compute_segment(big_spender) == "premium"
    assert refresh_segments() == 2
    assert CustomerSegment.objects.get(user=big_spender).segment == "premium"

    request = rf.get("/")
    request.session = {}
    request.user = big_spender
    assert segment_for_request(request) == "premium"
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    assert segment_for_request(request) == "default"


def test_product_changes_queue_one_plan_per_transaction_and_none_after_rollback(
    make_product, django_capture_on_commit_callbacks
):
    from django.core.cache import cache
    from django.db import transaction

    from oscar_llm.models import Feature, FeatureSwitch

    FeatureSwitch.objects.update_or_create(feature=Feature.PRODUCT_COPY, defaults={"enabled": True})
    cache.clear()
    product = make_product()
    Job.objects.all().delete()
    with django_capture_on_commit_callbacks() as callbacks:
        try:
            with transaction.atomic():
                product.title = "Changed"
                product.save()
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        with transaction.atomic():
            product.title = "Changed again"
            product.save()
            product.attr.colour = "Black"
            product.attr.save()
    for callback in callbacks:  # the commit: run what it queued (their own nudges stay unsent)
        callback()
    # One plan for the product, despite several saves, and not blocked by the rolled-back save.
    assert list(Job.objects.filter(kind="content.plan").values_list("target_id", flat=True)) == [product.pk]


def test_a_worker_whose_lease_was_taken_over_drops_its_result(make_product, tiny_model):
    from oscar_llm.content import services
    from oscar_llm.models import ContentDraft, Feature, FeatureSwitch

    FeatureSwitch.objects.update_or_create(feature=Feature.PRODUCT_COPY, defaults={"enabled": False})
    product = make_product()
    [job] = services.request_generation(product, kinds=["title"], segments=["default"], send=False)
    _, [slow] = jobs.claim([job.pk])  # a slow worker
    # Its lease ran out and the sweep handed the job back (what sweep() does, without re-sending it here).
    Job.objects.filter(pk=job.pk).update(status=Job.Status.PENDING, claimed_by="", lease_expires_at=None)
    _, [fast] = jobs.claim([job.pk])  # another worker takes it
    services.run_generation_jobs([fast])
    services.run_generation_jobs([slow])  # the slow worker finishes late
    assert ContentDraft.objects.filter(job=job).count() == 1
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.result["draft_id"]
