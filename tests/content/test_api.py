"""REST API: public published copy, staff drafts and jobs, OpenAPI schema."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from oscar_llm.catalogue import product_facts
from oscar_llm.content import services
from oscar_llm.models import ContentDraft, Feature, FeatureSwitch, Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def product(make_product):
    FeatureSwitch.objects.update_or_create(feature=Feature.PRODUCT_COPY, defaults={"enabled": True})
    cache.clear()
    return make_product(title="Northwind Women Navy Blue Cotton Dress")


def draft_for(product, text="Northwind Navy Blue Cotton Dress for Women", **kw):
    return ContentDraft.objects.create(product=product, kind="title", text=text, facts=product_facts(product), **kw)


def test_public_copy_falls_back_to_the_original_then_shows_published(api, product, staff_user):
    url = f"/api/llm/products/{product.pk}/copy/"
    data = api.get(url).json()
    assert data["title"] == "Northwind Women Navy Blue Cotton Dress"
    assert data["segment"] == "default"
    services.publish(draft_for(product), by=staff_user)
    assert api.get(url).json()["title"] == "Northwind Navy Blue Cotton Dress for Women"
    assert api.get(f"/api/llm/products/{product.pk + 999}/copy/").status_code == 404


def test_drafts_are_for_reviewers_only(api, product, customer):
    draft_for(product)
    assert api.get("/api/llm/drafts/").status_code in (401, 403)
    api.force_authenticate(customer)
    assert api.get("/api/llm/drafts/").status_code == 403
    assert api.post(f"/api/llm/drafts/{ContentDraft.objects.get().pk}/approve/").status_code == 403
    assert api.get(f"/api/llm/products/{product.pk}/copy/").json()["title"] == product.title


def test_staff_approve_edit_and_reject(api, product, staff_user):
    api.force_authenticate(staff_user)
    first, second = draft_for(product), draft_for(product, "Another title")
    listed = api.get("/api/llm/drafts/", {"status": "draft"}).json()
    assert {d["id"] for d in listed["results"]} == {first.pk, second.pk}
    assert listed["count"] == 2
    response = api.post(
        f"/api/llm/drafts/{first.pk}/approve/", {"text": "<b>Northwind</b> Navy Blue Dress"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved" and response.json()["text"] == "Northwind Navy Blue Dress"
    # The other draft of the slot was superseded; rejecting needs a reason.
    assert api.post(f"/api/llm/drafts/{second.pk}/reject/", {}, format="json").status_code == 400
    rejected = api.post(f"/api/llm/drafts/{second.pk}/reject/", {"reason": "Off-brand"}, format="json")
    assert rejected.json()["status"] == "rejected" and rejected.json()["review_note"] == "Off-brand"
    # A rejected draft cannot be approved.
    assert api.post(f"/api/llm/drafts/{second.pk}/approve/", {}, format="json").status_code == 409


def test_generate_queues_jobs_and_reports_status(api, product, staff_user, settings, tmp_path):
    settings.OSCAR_LLM = {**settings.OSCAR_LLM, "MODEL": str(tmp_path / "missing")}
    api.force_authenticate(staff_user)
    bad = api.post("/api/llm/generate/", {"product_ids": ["x"]}, format="json")
    assert bad.status_code == 400
    unknown = api.post("/api/llm/generate/", {"product_ids": [product.pk + 999]}, format="json")
    assert unknown.status_code == 400
    response = api.post("/api/llm/generate/", {"product_ids": [product.pk], "kinds": ["title"]}, format="json")
    assert response.status_code == 202
    jobs = response.json()
    assert len(jobs) == 1 and all(j["kind"] == "content.title" for j in jobs)  # one title, for every segment
    status = api.get(f"/api/llm/jobs/{jobs[0]['id']}/").json()
    assert status["id"] == jobs[0]["id"] and status["status"] in {s.value for s in Job.Status}


def test_openapi_schema_lists_the_endpoints(api):
    response = api.get("/api/llm/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    import json

    schema = json.loads(response.content)
    paths = set(schema["paths"])
    assert "/api/llm/products/{id}/copy/" in paths
    assert "/api/llm/drafts/{id}/approve/" in paths
    assert "/api/llm/generate/" in paths
