"""Abuse limits (issue 11, item 3 and the click beacon of item 5): per-customer limits on what queues
model work, a client address nobody can choose, and public ids only scheduling work."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from oscar_llm import limits
from oscar_llm.models import Feature, FeatureSwitch, Job, Message, RecommendationStat, Ticket
from oscar_llm.support import desk

pytestmark = pytest.mark.django_db

API = "/api/llm/support/tickets/"


def limits_setting(**actions):
    return override_settings(OSCAR_LLM={"RATE_LIMITS": actions})


# --- the core service ------------------------------------------------------------------------------


def test_hit_counts_per_key_and_window():
    with limits_setting(**{"x": {"hour": 2, "day": 3}}):
        limits.hit("x", "user:1", now=1000.0)
        limits.hit("x", "user:1", now=1001.0)
        with pytest.raises(limits.RateLimited) as refused:
            limits.hit("x", "user:1", now=1002.0)
        assert refused.value.window == "hour" and 0 < refused.value.retry_after <= 3600
        limits.hit("x", "user:2", now=1002.0)  # another customer is not affected
        limits.hit("x", "user:1", now=3600.0 * 2)  # the next hour: the day allows one more
        with pytest.raises(limits.RateLimited) as refused:
            limits.hit("x", "user:1", now=3600.0 * 3)
        assert refused.value.window == "day"
        limits.hit("unlimited", "user:1")  # no entry: no limit


def test_an_unknown_window_is_a_clear_error():
    with limits_setting(x={"week": 1}), pytest.raises(ValueError, match="unknown window 'week'"):
        limits.hit("x", "k")


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "6.6.6.6", "10.0.0.1"),  # no trusted proxy: the header is the client's to choose, so ignored
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # our proxy appended the real address last
        (2, "6.6.6.6, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (1, None, "10.0.0.1"),
    ],
)
def test_the_client_address_follows_the_trusted_proxies(proxies, forwarded, expected):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", **extra)
    with override_settings(OSCAR_LLM={"NUM_PROXIES": proxies}):
        assert limits.client_address(request) == expected


def test_the_api_throttle_ignores_a_forged_forwarded_for(client, make_product, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"oscar_llm_public": "3/min"},
        "NUM_PROXIES": 0,
    }
    product = make_product("Northwind Women Navy Blue Cotton Dress")
    codes = [
        client.get(f"/api/llm/products/{product.pk}/copy/", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
        for n in range(6)
    ]
    assert codes == [200, 200, 200, 429, 429, 429]


# --- support: tickets and messages per customer ----------------------------------------------------


def test_tickets_per_customer_per_hour_on_the_account_pages(client, customer, other_customer):
    client.force_login(customer)
    with limits_setting(**{"support.ticket": {"hour": 2}}):
        codes = [
            client.post(reverse("oscar_llm-support-create"), {"subject": f"Q{n}", "body": "Hello"}).status_code
            for n in range(4)
        ]
        assert codes == [302, 302, 429, 429]
        refused = client.post(reverse("oscar_llm-support-create"), {"subject": "Q", "body": "Hello"})
        assert b"many times in a short while" in refused.content and int(refused["Retry-After"]) > 0
        assert Ticket.objects.filter(customer=customer).count() == 2
        client.force_login(other_customer)
        assert client.post(reverse("oscar_llm-support-create"), {"subject": "Q", "body": "Hi"}).status_code == 302


def test_tickets_and_messages_per_customer_on_the_api(client, customer):
    client.force_login(customer)
    with limits_setting(**{"support.ticket": {"hour": 1}, "support.message": {"day": 2}}):
        created = client.post(API, {"subject": "Sizes", "body": "Is M a 12?"}, content_type="application/json")
        assert created.status_code == 201
        again = client.post(API, {"subject": "Sizes", "body": "Is L a 14?"}, content_type="application/json")
        assert again.status_code == 429 and "Retry-After" in again
        url = f"{API}{created.json()['id']}/messages/"
        codes = [client.post(url, {"body": f"And {n}?"}, content_type="application/json").status_code for n in range(3)]
        assert codes == [201, 201, 429]
    assert Ticket.objects.count() == 1
    assert Message.objects.filter(kind=Message.Kind.CUSTOMER).count() == 3


def test_the_default_limits_stop_a_flood_of_drafting_jobs(client, customer):
    FeatureSwitch.set(Feature.SUPPORT, enabled=True)
    client.force_login(customer)
    codes = [
        client.post(API, {"subject": f"Q{n}", "body": "Hello"}, content_type="application/json").status_code
        for n in range(30)
    ]
    ticket_limit = limits.limits_for(desk.TICKET_LIMIT)[0].count
    assert codes.count(201) == ticket_limit and codes.count(429) == 30 - ticket_limit
    assert Job.objects.filter(kind="support.draft").count() == ticket_limit


# --- recommendations: the click beacon and the basket API -----------------------------------------


@pytest.fixture
def recs_on(db):
    FeatureSwitch.set(Feature.RECOMMENDATIONS, enabled=True)


def post_click(client: Client, product_id) -> int:
    return client.post(
        reverse("oscar_llm-recommendation-click"), {"block": "product_similar", "product": product_id}
    ).status_code


def test_the_click_beacon_answers_alike_for_hidden_and_missing_products(client, make_product, recs_on):
    hidden = make_product("Northwind Women Navy Blue Cotton Dress")
    hidden.is_public = False
    hidden.save()
    shown = make_product("Northwind Women Red Cotton Dress")
    hidden_answer = client.post(
        reverse("oscar_llm-recommendation-click"), {"block": "product_similar", "product": hidden.pk}
    )
    missing_answer = client.post(
        reverse("oscar_llm-recommendation-click"), {"block": "product_similar", "product": 99999999}
    )
    assert hidden_answer.status_code == missing_answer.status_code == 400
    assert hidden_answer.json()["error"].replace(str(hidden.pk), "N") == missing_answer.json()["error"].replace(
        "99999999", "N"
    )
    assert post_click(client, shown.pk) == 204
    assert RecommendationStat.objects.get().clicks == 1


def test_the_click_beacon_is_throttled(client, make_product, recs_on):
    product = make_product("Northwind Women Navy Blue Cotton Dress")
    with limits_setting(**{"recommendations.click": {"minute": 3}}):
        codes = [post_click(client, product.pk) for _ in range(5)]
    assert codes == [204, 204, 204, 429, 429]
    assert RecommendationStat.objects.get().clicks == 3


def test_basket_recommendations_schedule_work_only_for_public_products_and_few_per_request(
    client, make_product, recs_on
):
    from oscar_llm.recommendations import services

    public = [make_product(f"Northwind Women Dress {n}") for n in range(6)]
    hidden = make_product("Northwind Women Hidden Dress")
    hidden.is_public = False
    hidden.save()
    Job.objects.all().delete()
    unknown = ",".join(str(9_000_000 + n) for n in range(100))
    for _ in range(3):
        assert client.get(f"/api/llm/recommendations/basket/?products={unknown}").status_code == 200
    assert not Job.objects.filter(kind="recs.product").exists()

    client.get(f"/api/llm/recommendations/basket/?products={hidden.pk}")
    assert not Job.objects.filter(kind="recs.product").exists()

    ids = ",".join(str(p.pk) for p in public)
    assert client.get(f"/api/llm/recommendations/basket/?products={ids}").status_code == 200
    assert Job.objects.filter(kind="recs.product").count() == services.MAX_NEIGHBOUR_REQUESTS

    assert client.get("/api/llm/recommendations/basket/?products=99999999999").status_code == 400
