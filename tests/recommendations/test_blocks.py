"""Storefront recommendation blocks, their switches and sizes, and the figures the dashboard shows.

The lists the blocks read are produced by the real pipeline: products and interaction rows,
then ``precompute.fit()`` (the bundled MiniLM vectors, the engine fit, the precomputed lists),
run eagerly in the test process instead of a worker.
"""

from __future__ import annotations

import datetime
import re
import time

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from oscar_llm.models import (
    FEATURE_CACHE_KEY,
    Feature,
    FeatureSwitch,
    Interaction,
    RecommendationBlock,
    RecommendationList,
    RecommendationStat,
)
from oscar_llm.recommendations import tracking

pytestmark = pytest.mark.django_db

BLOCK_RE = re.compile(r'<section class="oscar-llm-recs[^"]*" data-oscar-llm-rec-block="(\w+)"')
ITEM_RE = r'<li class="[^"]*oscar-llm-rec-item" data-product-id="(\d+)"'

CATALOGUE = [
    ("Northwind Women Navy Blue Cotton Dress", "Women > Clothing > Dresses"),
    ("Northwind Women Black Cotton Dress", "Women > Clothing > Dresses"),
    ("Tarn Women Red Linen Dress", "Women > Clothing > Dresses"),
    ("Calder Women White Linen Dress", "Women > Clothing > Dresses"),
    ("Northwind Men Navy Blue Cotton Shirt", "Men > Clothing > Shirts"),
    ("Tarn Men Olive Linen Shirt", "Men > Clothing > Shirts"),
    ("Lumen Men Black Wool Jacket", "Men > Clothing > Jackets"),
    ("Calder Men Olive Wool Jacket", "Men > Clothing > Jackets"),
    ("Lumen Women Red Wool Jacket", "Women > Clothing > Jackets"),
    ("Tarn Women Black Wool Jacket", "Women > Clothing > Jackets"),
]


def build_shop(make_product, settings, tmp_path) -> list:
    """A small catalogue, browsing histories of 12 visitors, and the fitted engine's lists."""
    from oscar_llm.recommendations import precompute

    settings.OSCAR_LLM = {
        **getattr(settings, "OSCAR_LLM", {}),
        "RECOMMENDATIONS": {"ENGINE_DIR": str(tmp_path / "engine")},
    }
    products = [make_product(title, category=category) for title, category in CATALOGUE]
    now = timezone.now()
    # Dress shoppers look at dresses and a women's jacket; shirt shoppers at shirts and men's jackets.
    patterns = [[0, 1, 2, 8], [1, 0, 3, 9], [2, 3, 0, 8], [4, 5, 6], [5, 4, 7], [6, 7, 4]]
    rows = []
    for visitor in range(12):
        for step, index in enumerate(patterns[visitor % len(patterns)]):
            rows.append(
                Interaction(
                    session_key=f"visitor-{visitor}",
                    product=products[index],
                    event="view" if step < 2 else "basket",
                    weight=1.0,
                    created_at=now - datetime.timedelta(minutes=60 - step),
                )
            )
    Interaction.objects.bulk_create(rows)
    # Without post_save: switching on queues a fit job, which eager Celery in a transactional
    # (browser) test would run on commit; the fit below is that same work, run once.
    FeatureSwitch.objects.bulk_create([FeatureSwitch(feature=Feature.RECOMMENDATIONS, enabled=True)])
    cache.delete(FEATURE_CACHE_KEY)
    summary = precompute.fit()
    assert summary["fitted"], summary
    return products


@pytest.fixture
def shop(make_product, settings, tmp_path):
    return build_shop(make_product, settings, tmp_path)


def blocks_on(html: str) -> list[str]:
    return BLOCK_RE.findall(html)


def block_html(html: str, block: str) -> str:
    start = html.index(f'data-oscar-llm-rec-block="{block}"')
    return html[start : html.index("</section>", start)]


def item_ids(html: str, block: str) -> list[int]:
    return [int(pk) for pk in re.findall(ITEM_RE, block_html(html, block))]


def test_product_page_shows_both_blocks_with_reasons(client, shop):
    product = shop[0]
    html = client.get(product.get_absolute_url()).content.decode()
    assert blocks_on(html) == ["product_similar", "product_for_you"]
    # A product is shown once per page, even when both blocks would pick it.
    shown = item_ids(html, "product_similar") + item_ids(html, "product_for_you")
    assert len(shown) == len(set(shown)) == 8
    similar = block_html(html, "product_similar")
    ids = item_ids(html, "product_similar")
    assert ids and product.pk not in ids
    assert len(ids) <= 4
    reasons = re.findall(r'<p class="oscar-llm-rec-reason[^"]*">([^<]+)</p>', similar)
    assert len(reasons) == len(ids)
    assert all(reason.strip() for reason in reasons)
    # Items of the similar block name the product they relate to.
    assert any(product.title in reason for reason in reasons), reasons
    # Each item has a price from the shop's strategy and a link the click beacon reports.
    assert similar.count('class="price_color"') == len(ids)
    assert similar.count('data-oscar-llm-rec="product_similar"') == 2 * len(ids)
    assert "oscar_llm/recommendations.js" in html


def test_each_block_has_its_own_switch(client, shop):
    RecommendationBlock.configs()
    RecommendationBlock.objects.filter(code="product_similar").update(enabled=False)
    # .update() bypasses save(): the cached configuration must be dropped explicitly...
    from oscar_llm.models import RECOMMENDATION_BLOCKS_CACHE_KEY

    cache.delete(RECOMMENDATION_BLOCKS_CACHE_KEY)
    html = client.get(shop[0].get_absolute_url()).content.decode()
    assert blocks_on(html) == ["product_for_you"]

    # ...while saving through the model (as Django admin does) takes effect at once.
    row = RecommendationBlock.objects.get(code="product_for_you")
    row.enabled = False
    row.save()
    html = client.get(shop[0].get_absolute_url()).content.decode()
    assert blocks_on(html) == []
    assert shop[0].title in html  # the page itself is fine


def test_block_size_is_honoured(client, shop):
    RecommendationBlock.configs()
    for size in (2, 6):
        row = RecommendationBlock.objects.get(code="product_similar")
        row.size = size
        row.save()
        html = client.get(shop[0].get_absolute_url()).content.decode()
        assert len(item_ids(html, "product_similar")) == size


def test_feature_switch_off_hides_every_block(client, shop):
    basket_url = reverse("basket:add", kwargs={"pk": shop[0].pk})
    client.post(basket_url, {"quantity": 1})
    assert "basket_complete" in blocks_on(client.get(reverse("basket:summary")).content.decode())

    FeatureSwitch.set(Feature.RECOMMENDATIONS, enabled=False)
    product_html = client.get(shop[0].get_absolute_url()).content.decode()
    basket_html = client.get(reverse("basket:summary")).content.decode()
    assert blocks_on(product_html) == [] and blocks_on(basket_html) == []
    assert "oscar-llm-recs" not in product_html + basket_html
    assert shop[0].title in product_html and shop[0].title in basket_html


def test_a_failing_service_leaves_the_page_intact(client, shop, monkeypatch):
    from oscar_llm.recommendations import services

    def broken(*args, **kwargs):
        raise RuntimeError("recommendation store unreachable")

    monkeypatch.setattr(services, "block_items", broken)
    response = client.get(shop[0].get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert blocks_on(html) == []
    assert shop[0].title in html and "add_to_basket_form" in html


def test_a_failing_list_store_leaves_the_page_intact(client, shop, monkeypatch):
    """A failure deeper down (the precomputed lists) is contained the same way."""
    from oscar_llm.recommendations import serving

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(serving, "product_lists", broken)
    monkeypatch.setattr(serving, "global_lists", broken)
    response = client.get(shop[0].get_absolute_url())
    assert response.status_code == 200
    assert "product_similar" not in blocks_on(response.content.decode())


def test_basket_block_sits_outside_the_ajax_region(client, shop):
    client.post(reverse("basket:add", kwargs={"pk": shop[0].pk}), {"quantity": 1})
    html = client.get(reverse("basket:summary")).content.decode()
    assert blocks_on(html) == ["basket_complete"]
    ids = item_ids(html, "basket_complete")
    assert ids and shop[0].pk not in ids  # never what is already in the basket
    # Oscar's basket JS swaps #content_inner for the AJAX response: the block must come after it.
    assert html.index('id="content_inner"') < html.index('id="oscar-llm-basket-recs"')
    inner_start = html.index('id="content_inner"')
    assert html.index("oscar-llm-recs", inner_start) > html.index('id="basket_formset"', inner_start)

    # The AJAX quantity update (what Oscar's JS posts) answers with HTML that replaces only
    # #content_inner; the block is not in it, so it stays on the page.
    basket = client.get(reverse("basket:summary")).context["basket"]
    line = basket.all_lines()[0]
    response = client.post(
        reverse("basket:summary"),
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "1000",
            "form-0-id": str(line.pk),
            "form-0-quantity": "3",
        },
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    data = response.json()
    assert "basket_formset" in data["content_html"]
    assert "oscar-llm-recs" not in data["content_html"]
    line.refresh_from_db()
    assert line.quantity == 3


def stat(block: str) -> RecommendationStat | None:
    return RecommendationStat.objects.filter(block=block, day=timezone.localdate()).first()


def test_impressions_are_counted_per_block(client, shop, monkeypatch):
    # Only the explicit flush below moves counters (no time-based flush in the middle).
    monkeypatch.setattr(tracking, "FLUSH_EVERY_SECONDS", 3600.0)
    for _ in range(3):
        client.get(shop[0].get_absolute_url())
    client.post(reverse("basket:add", kwargs={"pk": shop[0].pk}), {"quantity": 1})
    client.get(reverse("basket:summary"))
    # Counted in the cache on the page, written to the daily rows in bulk.
    assert stat("product_similar") is None
    assert tracking.flush_impressions() == 7
    assert stat("product_similar").impressions == 3
    assert stat("product_for_you").impressions == 3
    assert stat("basket_complete").impressions == 1
    assert tracking.flush_impressions() == 0
    client.get(shop[0].get_absolute_url())
    tracking.flush_impressions()
    assert stat("product_similar").impressions == 4


def test_a_process_flushes_its_own_counters_when_they_are_old(client, shop, monkeypatch):
    """With a per-process cache no other process sees the counters: the process writes them."""
    monkeypatch.setattr(tracking, "FLUSH_EVERY_SECONDS", 0.0)
    client.get(shop[0].get_absolute_url())
    assert stat("product_similar").impressions == 1
    assert stat("product_for_you").impressions == 1


def test_a_switched_off_block_counts_no_impressions(client, shop):
    row = RecommendationBlock.configs() and RecommendationBlock.objects.get(code="product_similar")
    row.enabled = False
    row.save()
    client.get(shop[0].get_absolute_url())
    tracking.flush_impressions()
    assert stat("product_similar") is None
    assert stat("product_for_you").impressions == 1


def click(client, block: str, product_id) -> object:
    from django.test import Client

    assert isinstance(client, Client)
    token = client.cookies["csrftoken"].value
    return client.post(
        reverse("oscar_llm-recommendation-click"),
        {"block": block, "product": product_id, "csrfmiddlewaretoken": token},
    )


@pytest.fixture
def csrf_client(db):
    from django.test import Client

    return Client(enforce_csrf_checks=True)


def test_clicks_are_recorded_and_csrf_protected(csrf_client, shop):
    html = csrf_client.get(shop[0].get_absolute_url()).content.decode()
    target = item_ids(html, "product_similar")[0]
    url = reverse("oscar_llm-recommendation-click")
    # A cross-site post without the token is refused and writes nothing.
    assert csrf_client.post(url, {"block": "product_similar", "product": target}).status_code == 403
    assert stat("product_similar") is None or stat("product_similar").clicks == 0

    assert click(csrf_client, "product_similar", target).status_code == 204
    assert stat("product_similar").clicks == 1
    event = Interaction.objects.filter(event="click").get()
    assert event.product_id == target and event.session_key  # the visitor's history gets it

    # Bad input: a clear error, nothing counted.
    for block, product in (("sidebar", target), ("product_similar", "abc"), ("product_similar", 999999)):
        response = click(csrf_client, block, product)
        assert response.status_code == 400 and response.json()["error"]
    assert stat("product_similar").clicks == 1
    assert csrf_client.get(url).status_code == 405


def test_basket_additions_are_attributed_to_the_clicked_block(csrf_client, shop):
    html = csrf_client.get(shop[0].get_absolute_url()).content.decode()
    clicked, *others = item_ids(html, "product_similar")
    token = csrf_client.cookies["csrftoken"].value

    def add(pk: int) -> None:
        response = csrf_client.post(
            reverse("basket:add", kwargs={"pk": pk}), {"quantity": 1, "csrfmiddlewaretoken": token}
        )
        assert response.status_code == 302

    # Added without a click: not from a recommendation.
    add(others[0])
    assert stat("product_similar") is None or stat("product_similar").basket_additions == 0

    click(csrf_client, "product_similar", clicked)
    add(clicked)
    assert stat("product_similar").basket_additions == 1
    # Adding the same product again is not a second addition from the same click.
    add(clicked)
    assert stat("product_similar").basket_additions == 1

    # A click older than the attribution window does not count.
    click(csrf_client, "product_for_you", others[1])
    session = csrf_client.session
    clicks = session[tracking.SESSION_KEY]
    clicks[str(others[1])][1] = time.time() - (tracking.ATTRIBUTION_MINUTES + 1) * 60
    session[tracking.SESSION_KEY] = clicks
    session.save()
    add(others[1])
    assert stat("product_for_you").basket_additions == 0
    assert stat("product_for_you").clicks == 1


def test_dashboard_shows_figures_per_block_and_day(client, staff_user, shop):
    today = timezone.localdate()
    old = today - datetime.timedelta(days=40)
    RecommendationStat.objects.create(block="basket_complete", day=old, impressions=50, clicks=5, basket_additions=2)
    RecommendationStat.objects.create(
        block="product_similar", day=today - datetime.timedelta(days=1), impressions=200, clicks=10, basket_additions=3
    )
    client.get(shop[0].get_absolute_url())  # 1 impression each for the two product blocks, still in the cache
    client.force_login(staff_user)
    url = reverse("oscar_llm_dashboard:recommendation-stats")
    response = client.get(url)
    assert response.status_code == 200
    totals = {t["block"]: t for t in response.context["totals"]}
    assert totals["product_similar"]["impressions"] == 201
    assert totals["product_similar"]["clicks"] == 10
    assert totals["product_similar"]["basket_additions"] == 3
    assert totals["product_similar"]["ctr"] == pytest.approx(10 / 201)
    assert totals["product_for_you"]["impressions"] == 1
    assert totals["basket_complete"]["impressions"] == 0  # the 40-day-old row is outside the default range
    html = response.content.decode()
    yesterday = (today - datetime.timedelta(days=1)).isoformat()
    assert f'data-day="{yesterday}" data-block="product_similar"' in html
    assert reverse("admin:oscar_llm_recommendationblock_changelist") in html

    # A chosen range brings the old row in.
    response = client.get(
        url, {"date_from": (old - datetime.timedelta(days=1)).isoformat(), "date_to": today.isoformat()}
    )
    totals = {t["block"]: t for t in response.context["totals"]}
    assert totals["basket_complete"]["impressions"] == 50
    assert totals["basket_complete"]["ctr"] == pytest.approx(0.1)

    # A reversed range is refused with a message; the page falls back to the default range.
    response = client.get(url, {"date_from": today.isoformat(), "date_to": old.isoformat()})
    assert response.status_code == 200
    assert "must not be after" in response.content.decode()
    assert {t["block"]: t for t in response.context["totals"]}["basket_complete"]["impressions"] == 0


def test_dashboard_stats_need_staff(client, customer, db):
    url = reverse("oscar_llm_dashboard:recommendation-stats")
    response = client.get(url)
    assert response.status_code == 302 and "login" in response["Location"]
    client.force_login(customer)
    response = client.get(url)
    assert response.status_code in (302, 403)
    assert response.status_code == 403 or "login" in response["Location"]


def test_blocks_are_listed_in_admin_with_defaults(client, staff_user, db):
    client.force_login(staff_user)
    response = client.get(reverse("admin:oscar_llm_recommendationblock_changelist"))
    assert response.status_code == 200
    assert sorted(RecommendationBlock.objects.values_list("code", flat=True)) == [
        "basket_complete",
        "product_for_you",
        "product_similar",
    ]
    assert set(RecommendationBlock.objects.values_list("size", flat=True)) == {4}
    assert "Complete your basket" in response.content.decode()


def test_block_queries_do_not_grow_with_its_size(client, shop):
    """Images, prices and titles come with the block's products, not one query per item."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    RecommendationBlock.configs()
    counts = {}
    for size in (2, 6):
        RecommendationBlock.objects.filter(code="product_for_you").update(enabled=False)
        row = RecommendationBlock.objects.get(code="product_similar")
        row.size = size
        row.save()
        client.get(shop[0].get_absolute_url())  # warm the per-product caches (thumbnails, copy)
        with CaptureQueriesContext(connection) as queries:
            html = client.get(shop[0].get_absolute_url()).content.decode()
        assert len(item_ids(html, "product_similar")) == size
        counts[size] = len(queries)
    assert counts[2] == counts[6], counts


def test_a_repeated_page_reads_its_blocks_from_the_cache(client, shop):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = shop[0].get_absolute_url()
    client.get(url)
    first = client.get(url).content.decode()
    with CaptureQueriesContext(connection) as queries:
        again = client.get(url).content.decode()
    assert block_html(again, "product_similar") == block_html(first, "product_similar")
    # No business-rule query (stock records joined into a product filter) on a cached block.
    assert not [q for q in queries.captured_queries if "oscar_llm_recommendationrule" in q["sql"]]
    assert not [q for q in queries.captured_queries if 'EXISTS(SELECT 1 AS "a" FROM "partner_stockrecord"' in q["sql"]]


def test_a_product_out_of_stock_leaves_a_cached_block_at_once(client, shop):
    url = shop[0].get_absolute_url()
    shown = item_ids(client.get(url).content.decode(), "product_similar")
    gone = shop[[p.pk for p in shop].index(shown[0])]
    record = gone.stockrecords.get()
    record.num_in_stock = 0
    record.save()
    html = client.get(url).content.decode()
    assert gone.pk not in item_ids(html, "product_similar")
    assert gone.pk not in item_ids(html, "product_for_you")


def test_an_exclusion_rule_applies_to_a_cached_block_at_once(client, shop):
    from oscar_llm.models import RecommendationRule

    url = shop[0].get_absolute_url()
    shown = item_ids(client.get(url).content.decode(), "product_similar")
    RecommendationRule.objects.create(action="exclude", product_id=shown[1])
    html = client.get(url).content.decode()
    assert shown[1] not in item_ids(html, "product_similar") + item_ids(html, "product_for_you")
    assert len(item_ids(html, "product_similar")) == 4


def test_a_new_price_shows_in_a_cached_block_at_once(client, shop):
    from decimal import Decimal

    url = shop[0].get_absolute_url()
    html = client.get(url).content.decode()
    target = item_ids(html, "product_similar")[0]
    assert "£45.00" in block_html(html, "product_similar")
    record = shop[[p.pk for p in shop].index(target)].stockrecords.get()
    record.price = Decimal("39.50")
    record.save()
    similar = block_html(client.get(url).content.decode(), "product_similar")
    assert "£39.50" in similar


def test_personal_lists_saved_in_chunks_are_the_lists_saved_at_once(make_product, settings, tmp_path, monkeypatch):
    from oscar_llm.recommendations import precompute
    from oscar_llm.recommendations.config import USER, VISITOR

    build_shop(make_product, settings, tmp_path)
    personal = RecommendationList.objects.filter(kind__in=[USER, VISITOR])
    # The same engine and the same histories (their ages read once), so only the chunking differs.
    engine = precompute.current_engine()
    product_ids, titles = precompute._catalogue()
    histories = precompute.load_histories()

    def lists(chunk: int) -> dict:
        personal.delete()
        monkeypatch.setattr(precompute, "PROFILE_CHUNK", chunk)
        summary = precompute.precompute_all(engine, product_ids, titles, histories, version="1")
        assert summary["profiles"] == 12
        return {(row.kind, row.key): row.items for row in personal}

    at_once = lists(1000)
    assert len(at_once) == 12
    assert lists(5) == at_once  # 12 visitors: chunks of 5, 5 and 2
