"""Recommendation blocks in a real browser: they render with reasons, survive Oscar's AJAX
basket update, and a click on a recommended product is recorded (and leads to an attributed
basket addition). The lists come from the real pipeline (see ``build_shop``)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from oscar_llm.models import Interaction, RecommendationStat
from tests.recommendations.test_blocks import build_shop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(make_product, settings, tmp_path, transactional_db):
    return build_shop(make_product, settings, tmp_path)


def block(page, code: str):
    return page.locator(f'section[data-oscar-llm-rec-block="{code}"]')


def wait_for(page, predicate, *, attempts: int = 50) -> bool:
    """Poll the database while the browser's beacon is on its way (no timed assert)."""
    for _ in range(attempts):
        if predicate():
            return True
        page.wait_for_timeout(200)
    return predicate()


def stat(code: str) -> RecommendationStat | None:
    return RecommendationStat.objects.filter(block=code, day=timezone.localdate()).first()


def test_product_page_blocks_render_with_reasons(page, shop):
    product = shop[0]
    page.goto(product.get_absolute_url())
    similar = block(page, "product_similar")
    for_you = block(page, "product_for_you")
    assert similar.locator("h2").inner_text().strip() == "Similar items"
    assert for_you.locator("h2").inner_text().strip() == "Recommended for you"
    assert similar.is_visible() and for_you.is_visible()
    items = similar.locator(".oscar-llm-rec-item")
    assert items.count() == 4
    reasons = [r.strip() for r in similar.locator(".oscar-llm-rec-reason").all_inner_texts()]
    assert len(reasons) == 4 and all(reasons)
    assert any(product.title in r for r in reasons), reasons
    titles = similar.locator("h3 a").all_inner_texts()
    assert product.title not in titles
    assert all(p.strip().startswith("£") for p in similar.locator(".price_color").all_inner_texts())


def test_basket_block_survives_the_ajax_quantity_update(page, shop):
    product = shop[0]
    page.goto(product.get_absolute_url())
    page.locator("#add_to_basket_form button[type=submit]").click()
    page.wait_for_load_state()
    page.goto(reverse("basket:summary"))
    recs = block(page, "basket_complete")
    assert recs.is_visible()
    before = recs.locator("h3 a").all_inner_texts()
    assert before and product.title not in before

    # A marker on the window proves the update below is Oscar's AJAX call, not a page load.
    page.evaluate("window.__oscarLlmMarker = 'still here'")
    page.fill("#id_form-0-quantity", "3")
    with page.expect_response(lambda r: r.request.method == "POST" and "/basket/" in r.url) as answer:
        page.locator("#basket_formset button[type=submit]").first.click()
    assert answer.value.ok
    page.wait_for_function("document.querySelector('#id_form-0-quantity').value === '3'")
    assert page.evaluate("window.__oscarLlmMarker") == "still here"
    assert page.locator("#content_inner #basket_formset").count() == 1
    # The basket content was replaced; the block outside it is still there, unchanged.
    assert recs.is_visible()
    assert recs.locator("h3 a").all_inner_texts() == before


def test_a_click_on_a_recommended_item_is_recorded(page, shop, login_as, staff_user):
    product = shop[0]
    page.goto(product.get_absolute_url())
    first = block(page, "product_similar").locator("h3 a").first
    clicked_title = first.inner_text().strip()
    target_id = int(first.get_attribute("data-product-id"))
    with page.expect_navigation():
        first.click()
    assert page.locator("h1").first.inner_text().strip() == clicked_title

    # The beacon outlives the page it left: the click is counted and logged.
    assert wait_for(page, lambda: (stat("product_similar") or RecommendationStat()).clicks == 1)
    assert Interaction.objects.filter(event="click", product_id=target_id).count() == 1

    # Adding the clicked product to the basket counts for the block it was clicked in.
    page.locator("#add_to_basket_form button[type=submit]").click()
    page.wait_for_load_state()
    assert wait_for(page, lambda: stat("product_similar").basket_additions == 1)

    # Staff see the figures in the dashboard (impressions are flushed from the cache first).
    login_as(staff_user)
    page.goto(reverse("oscar_llm_dashboard:recommendation-stats"))
    row = page.locator('[data-oscar-llm="rec-totals"] tr[data-block="product_similar"]')
    assert row.locator('[data-field="clicks"]').inner_text().strip() == "1"
    assert row.locator('[data-field="basket_additions"]').inner_text().strip() == "1"
    assert int(row.locator('[data-field="impressions"]').inner_text()) >= 1
