"""A product copy experiment end to end: visitors in a real Chromium are split between the shop's own title
and the published generated one, customers order through Oscar's checkout in the browser, a real Celery
worker writes the storefront events and flushes the exposure buffer from the shared (Redis) cache, and the
dashboard shows each arm's exposures and conversions exactly as the database holds them."""

from __future__ import annotations

import os

import pytest
from django.urls import reverse

from oscar_llm.experiments.tasks import flush_exposures
from oscar_llm.models import ExperimentExposure, Feature, FeatureSwitch, Interaction
from tests import workers
from tests.experiments.helpers import GENERATED, start_title_experiment

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

BROKER = os.environ.get("OSCAR_LLM_TEST_XP_REDIS_URL") or os.environ.get(
    "OSCAR_LLM_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"
)
CACHE = os.environ.get("OSCAR_LLM_TEST_XP_CACHE_URL") or os.environ.get(
    "OSCAR_LLM_TEST_RECS_REDIS_URL", "redis://127.0.0.1:6379/13"
)
ANONYMOUS = 8


@pytest.fixture
def shared_cache(settings):
    """The web process (live server) and the worker share one Redis cache, as in production."""
    import redis

    redis.Redis.from_url(CACHE).flushdb()
    # Django's setting_changed handler rebuilds the cache connections for the new setting.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE}}
    yield
    redis.Redis.from_url(CACHE).flushdb()


@pytest.fixture
def worker(tmp_path, shared_cache):
    with workers.redis_broker(BROKER), workers.worker_starter(tmp_path, BROKER, {"CACHE_URL": CACHE}) as start:
        yield start()


@pytest.fixture
def experiment(make_product, staff_user, transactional_db):
    from oscar.core.loading import get_model

    get_model("address", "Country").objects.get_or_create(
        iso_3166_1_a2="GB", defaults={"name": "United Kingdom", "is_shipping_country": True}
    )
    FeatureSwitch.objects.update_or_create(feature=Feature.PRODUCT_COPY, defaults={"enabled": True})
    FeatureSwitch.objects.update_or_create(feature=Feature.RECOMMENDATIONS, defaults={"enabled": True})
    product = make_product(title="Northwind Women Navy Blue Cotton Dress", price="45.00")
    exp = start_title_experiment(product, staff_user)
    return exp, product


def title(page) -> str:
    return page.locator('h1[data-oscar-llm="title"], [data-oscar-llm="title"]').first.inner_text().strip()


def checkout_in_browser(page) -> None:
    page.goto(reverse("checkout:index"))
    page.wait_for_url("**/checkout/shipping-address/")
    form = page.locator("#new_shipping_address")
    form.locator("#id_first_name").fill("Alice")
    form.locator("#id_last_name").fill("Shopper")
    form.locator("#id_line1").fill("1 High Street")
    form.locator("#id_line4").fill("London")
    form.locator("#id_postcode").fill("N1 9GU")
    if form.locator("select#id_country").count():
        form.locator("select#id_country").select_option(label="United Kingdom")
    form.locator("button[type=submit]").click()
    # One shipping method: Oscar goes straight on to the payment details, then the preview.
    page.wait_for_url("**/checkout/payment-details/")
    page.locator("#view_preview").click()
    page.wait_for_url("**/checkout/preview/")
    page.locator("#place-order").click()
    page.wait_for_url("**/checkout/thank-you/")


def test_visitors_split_orders_and_dashboard_match_the_database(
    browser, live_server, experiment, worker, django_user_model, staff_user
):
    exp, product = experiment
    seen: dict[str, int] = {}

    def new_page():
        context = browser.new_context(base_url=live_server.url)
        context.route(workers_external(), lambda route: route.abort())
        page = context.new_page()
        page.set_default_timeout(20_000)
        return context, page

    for _ in range(ANONYMOUS):
        context, page = new_page()
        page.goto(product.get_absolute_url())
        shown = title(page)
        assert shown in (GENERATED, product.title)
        page.reload()
        assert title(page) == shown  # sticky
        seen[shown] = seen.get(shown, 0) + 1
        context.close()

    # Two customers sign in, read the page, add the product and order it through Oscar's checkout.
    ordered_titles = []
    for n in range(2):
        user = django_user_model.objects.create_user(
            username=f"buyer{n}", email=f"buyer{n}@example.com", password="pw-12345"
        )
        context, page = new_page()
        page.goto(reverse("customer:login"))
        page.fill("#id_login-username", user.email)
        page.fill("#id_login-password", "pw-12345")
        page.locator('button[name="login_submit"]').click()
        page.wait_for_load_state()
        page.goto(product.get_absolute_url())
        ordered_titles.append(title(page))
        seen[ordered_titles[-1]] = seen.get(ordered_titles[-1], 0) + 1
        page.locator("#add_to_basket_form button[type=submit]").click()
        page.wait_for_load_state()
        checkout_in_browser(page)
        context.close()
    assert sum(seen.values()) == ANONYMOUS + 2

    # The worker empties the exposure buffer the web process filled in the shared cache.
    flush_exposures.delay()
    workers.wait_for(
        lambda: ExperimentExposure.objects.filter(experiment=exp).count() == ANONYMOUS + 2,
        120,
        worker,
        "the worker to flush the exposures",
    )
    # and wrote the storefront events sent through the broker (views and purchases)
    workers.wait_for(
        lambda: Interaction.objects.filter(event="purchase", product=product).count() == 2,
        120,
        worker,
        "the purchase events",
    )
    rows = ExperimentExposure.objects.filter(experiment=exp)
    assert rows.filter(orders=1).count() == 2
    assert all(float(r.revenue) == 45.0 for r in rows.filter(orders=1))
    arms = {a.variant: a for a in exp.arms.all()}
    assert rows.filter(arm=arms["generated"]).count() == seen.get(GENERATED, 0)
    assert rows.filter(arm=arms["original"]).count() == seen.get(product.title, 0)

    # The dashboard shows what the database holds.
    context, page = new_page()
    page.goto(reverse("customer:login"))
    page.fill("#id_login-username", staff_user.email)
    page.fill("#id_login-password", "staff-password")
    page.locator('button[name="login_submit"]').click()
    page.wait_for_load_state()
    page.goto(reverse("oscar_llm_dashboard:experiment-detail", kwargs={"pk": exp.pk}))
    for arm in exp.arms.all():
        row = page.locator(f'[data-oscar-llm="arms"] tr[data-arm="{arm.pk}"]')
        assert int(row.locator('[data-oscar-llm="arm-visitors"]').inner_text()) == rows.filter(arm=arm).count()
        conversions = rows.filter(arm=arm, orders__gt=0).count()
        assert int(row.locator('[data-oscar-llm="arm-conversions"]').inner_text()) == conversions
    assert page.locator('[data-oscar-llm="srm"]').count() == 1
    assert page.locator('[data-oscar-llm="plot"] polyline').count() == 1
    context.close()


def workers_external():
    from tests.browser.conftest import EXTERNAL

    return EXTERNAL
