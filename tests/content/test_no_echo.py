"""No echo: a generated text that repeats what the product already shows is not offered as a change.

Such a draft is kept with the status "no change proposed": out of the review queue and the API's
draft list, never auto-published, counted once on the review page, and no error.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from oscar_llm import jobs
from oscar_llm.catalogue import product_facts
from oscar_llm.content import services
from oscar_llm.models import ContentDraft, ContentVersion, Feature, FeatureSwitch, Job

pytestmark = pytest.mark.django_db

TITLE = "Northwind Women Navy Blue Cotton Dress"
NEW_TITLE = "Northwind Navy Blue Cotton Dress for Women"
NO_CHANGE = ContentDraft.Status.NO_CHANGE


class FixedText:
    """A text generator that writes ``text`` for every request (the checks still judge it)."""

    model_id = "fixed-text"

    def __init__(self, text: str) -> None:
        self.text = text

    def generate(self, requests, options):
        return [[self.text] * options.num_candidates for _ in requests]


def generate(product, text: str, *, kind: str = "title", segment: str = "default") -> ContentDraft:
    """Run one real generation job for a slot of ``product`` with a generator that writes ``text``."""
    created = services.request_generation(
        product, kinds=[kind], segments=[segment], languages=["en"], force=True, send=False
    )
    assert len(created) == 1
    _token, claimed = jobs.claim([created[0].pk])
    (draft,) = services.run_generation_jobs(claimed, generator=FixedText(text))
    return draft


@pytest.fixture
def product(make_product):
    FeatureSwitch.objects.update_or_create(feature=Feature.PRODUCT_COPY, defaults={"enabled": True})
    cache.clear()
    return make_product(title=TITLE, description="A navy blue cotton dress for women, made for casual wear.")


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def test_echo_ignores_case_spaces_and_markup():
    assert services.is_echo("northwind  women NAVY blue\ncotton dress ", TITLE)
    assert services.is_echo("<p>A navy blue <b>cotton</b> dress.</p>", "A navy blue cotton dress.")
    assert not services.is_echo(NEW_TITLE, TITLE)
    assert not services.is_echo("", "")  # an empty text is a failure for the checks, not an echo


def test_a_draft_repeating_the_products_title_proposes_no_change(product, staff_client, staff_user):
    draft = generate(product, "Northwind women  navy blue cotton DRESS")
    assert draft.status == NO_CHANGE
    assert draft.reasons == []  # not an error: the text passed its checks
    assert Job.objects.get(pk=draft.job_id).status == Job.Status.DONE
    assert Job.objects.get(pk=draft.job_id).result["status"] == "no_change"

    # Not in the queue (its default view, "All", a search for the product), but counted once.
    queue = reverse("oscar_llm_dashboard:draft-list")
    for params in ({}, {"status": ""}, {"status": "", "q": product.upc}):
        response = staff_client.get(queue, params)
        assert draft not in response.context["drafts"]
        assert f'data-draft-id="{draft.pk}"' not in response.content.decode()
    response = staff_client.get(queue)
    assert "1 draft proposed no change" in response.content.decode()
    assert response.context["no_change_count"] == 1
    assert "no_change" not in {value for value, _label, _n in response.context["status_counts"]}
    # Staff who want to see them can.
    assert draft in staff_client.get(queue, {"status": "no_change"}).context["drafts"]

    api = APIClient()
    api.force_authenticate(staff_user)
    assert api.get("/api/llm/drafts/").json()["count"] == 0
    listed = api.get("/api/llm/drafts/", {"status": "no_change"}).json()
    assert [d["id"] for d in listed["results"]] == [draft.pk]
    assert listed["results"][0]["status"] == "no_change"

    # Nothing to approve: neither alone nor in bulk.
    with pytest.raises(ValueError):
        services.publish(draft, by=staff_user)
    assert services.approve_many([draft], by=staff_user) == 0
    assert api.post(f"/api/llm/drafts/{draft.pk}/approve/").status_code == 409
    assert not ContentVersion.objects.filter(product=product).exists()


def test_a_description_repeating_the_products_own_in_markup_proposes_no_change(product):
    draft = generate(product, "<p>A navy blue cotton dress for women, made for casual wear.</p>", kind="description")
    assert draft.status == NO_CHANGE


def test_a_draft_that_differs_is_queued_as_before(product, staff_client, staff_user):
    waiting = generate(product, NEW_TITLE)
    assert waiting.status == ContentDraft.Status.DRAFT
    response = staff_client.get(reverse("oscar_llm_dashboard:draft-list"))
    assert waiting in response.context["drafts"]
    assert response.context["no_change_count"] == 0
    api = APIClient()
    api.force_authenticate(staff_user)
    assert [d["id"] for d in api.get("/api/llm/drafts/").json()["results"]] == [waiting.pk]

    # An echo written later leaves the waiting draft in the queue (it proposes nothing instead of it).
    echo = generate(product, TITLE)
    assert echo.status == NO_CHANGE
    waiting.refresh_from_db()
    assert waiting.status == ContentDraft.Status.DRAFT


def test_the_published_version_is_what_the_product_shows(product, staff_user):
    services.publish(
        ContentDraft.objects.create(product=product, kind="title", text=NEW_TITLE, facts=product_facts(product)),
        by=staff_user,
    )
    # Repeating the published title is no change; going back to the product's own title is one.
    assert generate(product, NEW_TITLE).status == NO_CHANGE
    assert generate(product, TITLE).status == ContentDraft.Status.DRAFT
    # A segment without its own version shows the default one, so repeating that is no change either.
    assert generate(product, NEW_TITLE, segment="value").status == NO_CHANGE
    assert generate(product, TITLE, segment="value").status == ContentDraft.Status.DRAFT


def test_auto_publish_never_publishes_an_echo(product):
    FeatureSwitch.objects.update_or_create(
        feature=Feature.PRODUCT_COPY, defaults={"enabled": True, "auto_publish": True}
    )
    cache.clear()
    echo = generate(product, TITLE)
    assert echo.status == NO_CHANGE
    assert not ContentVersion.objects.filter(product=product).exists()

    published = generate(product, NEW_TITLE)
    published.refresh_from_db()
    assert published.status == ContentDraft.Status.APPROVED
    version = ContentVersion.objects.get(product=product, is_current=True)
    assert version.text == NEW_TITLE and version.source == ContentVersion.Source.AUTO
