"""REST recommendations (public, throttled, with reasons) and no model on the request path."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from oscar.test.factories import BasketFactory

from oscar_llm.models import Feature, FeatureSwitch, RecommendationList, RecommendationRule
from oscar_llm.recommendations.config import GLOBAL_KEY, SIMILAR, TOGETHER, TRENDING, USER
from tests.recommendations.helpers import write_list
from tests.workers import run_in_web_process


@pytest.fixture
def shop(db, make_product):
    FeatureSwitch.set(Feature.RECOMMENDATIONS, enabled=True)
    viewed = make_product("Northwind Women Navy Blue Cotton Dress")
    others = [make_product(f"Northwind Women Dress {n}", colour="Red") for n in range(5)]
    write_list(SIMILAR, viewed.pk, others, source=viewed.pk, source_title=viewed.title)
    write_list(
        TOGETHER, others[0].pk, others[1:], reason="bought_with", source=others[0].pk, source_title=others[0].title
    )
    write_list(TRENDING, GLOBAL_KEY, others[::-1], reason="trending")
    return viewed, others


def test_product_recommendations_with_reasons(client, shop):
    viewed, others = shop
    response = client.get(f"/api/llm/recommendations/products/{viewed.pk}/?limit=2")
    assert response.status_code == 200
    data = response.json()
    assert data["block"] == "product_similar"
    assert [r["product_id"] for r in data["results"]] == [others[0].pk, others[1].pk]
    first = data["results"][0]
    assert first["reason"] == "similar" and first["reason_text"] == f"Similar to {viewed.title}"
    assert first["source_product_id"] == viewed.pk
    assert first["url"].endswith(others[0].get_absolute_url())


def test_rules_apply_to_the_api_too(client, shop):
    viewed, others = shop
    RecommendationRule.objects.create(action="exclude", product=others[0])
    stock = others[1].stockrecords.get()
    stock.num_in_stock = 0
    stock.save()
    data = client.get(f"/api/llm/recommendations/products/{viewed.pk}/?limit=10").json()
    assert [r["product_id"] for r in data["results"]] == [p.pk for p in others[2:]]


def test_customer_recommendations(client, shop, customer):
    viewed, others = shop
    # Anonymous, no history: the cold-start list.
    data = client.get("/api/llm/recommendations/me/?limit=2").json()
    assert [r["reason_text"] for r in data["results"]] == ["Trending now", "Trending now"]
    item = {"id": others[2].pk, "score": 1.0, "reason": "viewed_with", "source": viewed.pk,
            "source_title": viewed.title, "source_event": "view"}  # fmt: skip
    RecommendationList.objects.create(kind=USER, key=str(customer.pk), items=[item])
    client.force_login(customer)
    data = client.get("/api/llm/recommendations/me/?limit=1").json()
    assert data["results"][0]["product_id"] == others[2].pk
    assert data["results"][0]["reason_text"] == f"Because you viewed {viewed.title}"


def test_basket_recommendations(client, shop):
    _viewed, others = shop
    data = client.get(f"/api/llm/recommendations/basket/?products={others[0].pk}&limit=2").json()
    assert [r["product_id"] for r in data["results"]] == [others[1].pk, others[2].pk]
    assert data["results"][0]["reason_text"] == f"Often bought with {others[0].title}"
    basket = BasketFactory()
    basket.add_product(others[0])
    from oscar_llm.recommendations import services

    assert [i.product.pk for i in services.block_items("basket_complete", basket=basket, limit=2)] == [
        others[1].pk,
        others[2].pk,
    ]


def test_bad_input_gets_a_clear_error(client, shop):
    viewed, _ = shop
    assert "limit" in client.get(f"/api/llm/recommendations/products/{viewed.pk}/?limit=x").json()
    assert client.get(f"/api/llm/recommendations/products/{viewed.pk}/?limit=500").status_code == 400
    assert "block" in client.get(f"/api/llm/recommendations/products/{viewed.pk}/?block=nope").json()
    assert "products" in client.get("/api/llm/recommendations/basket/?products=1,a").json()
    assert client.get("/api/llm/recommendations/products/999999/").status_code == 404


def test_switched_off(client, shop):
    viewed, _ = shop
    FeatureSwitch.set(Feature.RECOMMENDATIONS, enabled=False)
    cache.clear()
    response = client.get(f"/api/llm/recommendations/products/{viewed.pk}/")
    assert response.status_code == 404 and "switched off" in response.json()["detail"]


def test_throttled(client, shop, settings):
    viewed, _ = shop
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "oscar_llm_recommendations": "3/min",
        },
    }
    codes = [client.get(f"/api/llm/recommendations/products/{viewed.pk}/").status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]


@pytest.mark.django_db(transaction=True)
def test_recommendation_pages_and_api_never_import_torch(make_product, customer):
    FeatureSwitch.set(Feature.RECOMMENDATIONS, enabled=True)
    viewed = make_product("Northwind Women Navy Blue Cotton Dress")
    others = [make_product(f"Northwind Women Dress {n}", colour="Red") for n in range(3)]
    write_list(SIMILAR, viewed.pk, others, source=viewed.pk, source_title=viewed.title)
    write_list(
        TOGETHER, others[0].pk, others[1:], reason="bought_with", source=others[0].pk, source_title=others[0].title
    )
    body = """
c = Client()
pages = [c.get(sys.argv[1]), c.get("/basket/")]
api = [c.get(f"/api/llm/recommendations/products/{sys.argv[2]}/"), c.get("/api/llm/recommendations/me/"),
       c.get(f"/api/llm/recommendations/basket/?products={sys.argv[3]}")]
from oscar_llm.recommendations import services
n = len(services.block_items("product_similar", product=__import__("oscar.core.loading", fromlist=["x"]).get_model(
    "catalogue", "Product").objects.get(pk=sys.argv[2])))
result.update({"status": [r.status_code for r in pages + api], "items": n,
               "api_items": [len(r.json()["results"]) for r in api]})
"""
    result = run_in_web_process(body, viewed.get_absolute_url(), str(viewed.pk), str(others[0].pk))
    assert result["status"] == [200, 200, 200, 200, 200]
    assert result["items"] == 3 and result["api_items"][0] == 3 and result["api_items"][2] == 2
    assert result["heavy"] == []
