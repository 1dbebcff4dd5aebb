"""Staff review generated product copy in Oscar's dashboard, in a real browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.cache import cache
from django.urls import reverse

from oscar_llm.catalogue import product_facts
from oscar_llm.models import ContentDraft, ContentVersion, FeatureSwitch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def switch_product_copy_on() -> None:
    # bulk_create sends no post_save, so no "write copy for every product" job starts
    # (with eager Celery it would try to load a model inside the test).
    FeatureSwitch.objects.bulk_create([FeatureSwitch(feature="product_copy", enabled=True)])
    cache.clear()


def make_draft(product, text: str, kind: str = "title") -> ContentDraft:
    return ContentDraft.objects.create(product=product, kind=kind, text=text, facts=product_facts(product))


def storefront_title(page, product) -> str:
    cache.clear()  # the live server shares this process's cache; don't wait for its timeout
    page.goto(product.get_absolute_url())
    return page.locator('h1[data-oscar-llm="title"]').inner_text().strip()


def messages_text(page) -> str:
    return page.locator("#messages").inner_text()


def test_staff_review_approve_reject_and_roll_back(page, staff_user, make_product):
    dress = make_product(title="Plain Dress")
    shirt = make_product(title="Plain Shirt", colour="White")
    switch_product_copy_on()
    make_draft(dress, "Northwind Navy Blue Cotton Dress")
    make_draft(shirt, "The Best Shirt In The World")

    # Oscar's dashboard login form.
    page.goto(reverse("dashboard:index"))
    page.fill("#id_username", staff_user.email)
    page.fill("#id_password", "staff-password")
    page.click("#dashboard_login_form [type=submit]")
    page.wait_for_url("**/dashboard/")

    # The "Language models" menu leads to the queue.
    page.locator("#bottom_nav_bar a.dropdown-toggle", has_text="Language models").click()
    page.get_by_role("link", name="Product copy review").click()
    page.wait_for_url("**/dashboard/llm/")
    queue = page.locator('[data-oscar-llm="draft-table"]')
    assert "Northwind Navy Blue Cotton Dress" in queue.inner_text()
    assert "The Best Shirt In The World" in queue.inner_text()

    # Open the dress's draft: facts, current text and the diff are there.
    page.get_by_role("link", name="Northwind Navy Blue Cotton Dress").click()
    page.wait_for_url("**/dashboard/llm/*/")
    assert "Navy Blue" in page.locator('[data-oscar-llm="facts"]').inner_text()
    assert page.locator('[data-oscar-llm="diff"] del').first.inner_text() == "Plain"
    assert "Northwind Navy Blue Cotton" in page.locator('[data-oscar-llm="diff"] ins').first.inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "draft_detail.png"), full_page=True)

    page.click('[data-oscar-llm="approve"]')
    page.wait_for_url("**/dashboard/llm/")
    assert "Published the title of" in messages_text(page)
    assert storefront_title(page, dress) == "Northwind Navy Blue Cotton Dress"

    # Rejecting the shirt's draft keeps it off the product page.
    page.goto(reverse("oscar_llm_dashboard:draft-list"))
    page.get_by_role("link", name="The Best Shirt In The World").click()
    page.click('[data-oscar-llm="reject"]')  # a reason is required: the browser does not submit
    assert page.locator("#reject_form textarea:invalid").count() == 1
    assert ContentDraft.objects.get(product=shirt).status == ContentDraft.Status.DRAFT
    page.fill("#reject_form textarea[name=reason]", "Exaggerates; we never claim to be the best.")
    page.click('[data-oscar-llm="reject"]')
    page.wait_for_url("**/dashboard/llm/")
    assert "Rejected the title draft" in messages_text(page)
    assert storefront_title(page, shirt) == "Plain Shirt"
    assert ContentDraft.objects.get(product=shirt).status == ContentDraft.Status.REJECTED

    # The dress's history offers the original title back.
    page.goto(reverse("oscar_llm_dashboard:product-history", kwargs={"product_pk": dress.pk}))
    original = page.locator('tr[data-source="original"]')
    assert "Plain Dress" in original.inner_text()
    original.locator('[data-oscar-llm="rollback"]').click()
    assert "shows the title from" in messages_text(page)
    assert page.locator('tr[data-current="true"]').get_attribute("data-source") == "original"
    assert storefront_title(page, dress) == "Plain Dress"


def test_bulk_approve_from_the_queue(page, login_as, staff_user, make_product):
    products = [make_product(title=f"Plain Dress {n}") for n in range(2)]
    switch_product_copy_on()
    for n, product in enumerate(products):
        make_draft(product, f"Northwind Navy Dress {n}")

    login_as(staff_user)
    page.goto(reverse("oscar_llm_dashboard:draft-list"))
    page.locator('[data-oscar-llm="draft-table"] thead input[type=checkbox]').check()  # select all
    page.click('[data-oscar-llm="approve-selected"]')
    assert "Approved and published 2 drafts." in messages_text(page)
    assert ContentVersion.objects.filter(is_current=True, source="generated").count() == 2
    for n, product in enumerate(products):
        assert storefront_title(page, product) == f"Northwind Navy Dress {n}"


def test_customers_are_kept_out(page, login_as, customer):
    login_as(customer)
    response = page.goto(reverse("oscar_llm_dashboard:draft-list"))
    assert response.status == 403
