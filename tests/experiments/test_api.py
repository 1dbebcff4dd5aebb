"""REST for experiments: create, start, results, roll out; permissions and bad input give 4xx."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from oscar_llm.experiments import services
from oscar_llm.models import Experiment

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, staff_user):
    client.force_login(staff_user)
    return client


def test_create_start_results_and_roll_out(api, make_product) -> None:
    product = make_product()
    url = reverse("oscar_llm_api:experiment-list")
    response = api.post(
        url,
        {
            "name": "Similar items block",
            "kind": "recommendation_block",
            "block": "product_similar",
            "scope": "products",
            "product_ids": [product.pk],
            "primary_metric": "click",
            "guardrail_metrics": ["basket", "order"],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["products"] == [product.pk] and len(body["arms"]) == 2 and body["status"] == "draft"
    pk = body["id"]
    assert api.post(reverse("oscar_llm_api:experiment-start", kwargs={"pk": pk})).json()["status"] == "running"
    again = api.post(reverse("oscar_llm_api:experiment-start", kwargs={"pk": pk}))
    assert again.status_code == 400
    results = api.get(reverse("oscar_llm_api:experiment-results", kwargs={"pk": pk})).json()
    assert [a["visitors"] for a in results["arms"]] == [0, 0] and results["sample_size_per_arm"] > 0
    assert [g["metric"] for g in results["guardrails"]] == ["basket", "order"]
    assert not any(g["worse"] for g in results["guardrails"])
    assert api.get(reverse("oscar_llm_api:experiment-timeline", kwargs={"pk": pk})).json() == {"days": []}
    arm = body["arms"][1]["id"]
    roll = reverse("oscar_llm_api:experiment-roll-out", kwargs={"pk": pk})
    assert api.post(roll, {"arm": 999999}, content_type="application/json").status_code == 400
    assert api.post(roll, {"arm": "x"}, content_type="application/json").status_code == 400
    done = api.post(roll, {"arm": arm}, content_type="application/json")
    assert done.status_code == 200 and done.json()["winner"] == arm and done.json()["status"] == "stopped"


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "x", "kind": "product_copy", "scope": "products", "product_ids": [2**40]},
        {"name": "x", "kind": "product_copy", "scope": "products", "product_ids": [999999]},
        {"name": "x", "kind": "product_copy", "scope": "products"},
        {"name": "x", "kind": "recommendation_block"},
        {"name": "x", "kind": "nope"},
        {"name": "x", "minimum_lift": -1},
        {"name": "x", "arms": [{"name": "a", "variant": "original", "is_control": True}]},
        {"name": "x\x00y"},
        {"name": "x", "guardrail_metrics": ["nope"]},
    ],
)
def test_bad_input_is_a_clear_400(api, payload) -> None:
    response = api.post(reverse("oscar_llm_api:experiment-list"), payload, content_type="application/json")
    assert response.status_code == 400, response.content
    assert not Experiment.objects.exists()


def test_permissions(client, django_user_model, make_product) -> None:
    clerk = django_user_model.objects.create_user(username="clerk", password="x", is_staff=True)
    client.force_login(clerk)
    url = reverse("oscar_llm_api:experiment-list")
    assert client.get(url).status_code == 403
    clerk.user_permissions.add(Permission.objects.get(codename="view_experiment"))
    assert client.get(url).status_code == 200
    assert client.post(url, {"name": "x"}, content_type="application/json").status_code == 403
    clerk.user_permissions.add(Permission.objects.get(codename="change_experiment"))
    experiment = services.create(
        name="copy", kind="product_copy", scope="products", products=[make_product()], by=clerk
    )
    services.start(experiment)
    roll = reverse("oscar_llm_api:experiment-roll-out", kwargs={"pk": experiment.pk})
    arm = experiment.arms.first().pk
    # Rolling out product copy changes what customers read: the reviewers' permission too.
    assert client.post(roll, {"arm": arm}, content_type="application/json").status_code == 403
    clerk.user_permissions.add(Permission.objects.get(codename="review_contentdraft"))
    assert client.post(roll, {"arm": arm}, content_type="application/json").status_code == 200
