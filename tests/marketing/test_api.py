"""REST for campaigns, segments (size), variants (approve, reject) and results."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from oscar_llm.marketing import campaigns, profiles

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(staff_user):
    client = APIClient()
    client.force_authenticate(staff_user)
    return client


def test_segments_with_size_and_campaign_create(api, marketing_shop):
    profiles.compute_profiles()
    created = api.post("/api/llm/marketing/segments/", {"name": "Lapsing", "lifecycles": ["lapsing"]}, format="json")
    assert created.status_code == 201 and created.json()["size"] == 6 and created.json()["reachable"] == 4
    bad = api.post("/api/llm/marketing/segments/", {"name": "X", "lifecycles": ["sleepy"]}, format="json")
    assert bad.status_code == 400
    payload = {
        "name": "Spring",
        "goal": "offer",
        "segments": [created.json()["id"]],
        "offer": marketing_shop["offer"].pk,
    }
    campaign = api.post("/api/llm/marketing/campaigns/", payload, format="json")
    assert campaign.status_code == 201, campaign.json()
    assert float(campaign.json()["holdout_share"]) == 0.1
    assert (
        api.post("/api/llm/marketing/campaigns/", {"name": "No target", "segments": []}, format="json").status_code
        == 400
    )


def test_variants_approve_reject_and_results(api, marketing_shop):
    profiles.compute_profiles()
    campaign = marketing_shop["campaign"]
    first, second = campaigns.write_copy(campaign, generator=None)
    listed = api.get(f"/api/llm/marketing/variants/?campaign={campaign.pk}").json()
    assert listed["count"] == 2
    assert api.get("/api/llm/marketing/variants/?campaign=abc").status_code == 400
    refused = api.post(f"/api/llm/marketing/variants/{first.pk}/approve/", {"subject": "60% off today"}, format="json")
    assert refused.status_code == 400 and "offer gives 20%" in refused.json()["detail"]
    assert (
        api.post(f"/api/llm/marketing/variants/{first.pk}/approve/", {}, format="json").json()["status"] == "approved"
    )
    assert api.post(f"/api/llm/marketing/variants/{second.pk}/reject/").json()["status"] == "rejected"
    results = api.get(f"/api/llm/marketing/campaigns/{campaign.pk}/results/").json()
    assert results["arms"][-1]["name"] == "holdout" and results["conversion_uplift"] is None


def test_customers_cannot_reach_the_marketing_api(marketing_shop):
    client = APIClient()
    client.force_authenticate(marketing_shop["customers"][0])
    assert client.get("/api/llm/marketing/campaigns/").status_code == 403
