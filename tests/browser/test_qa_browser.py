"""In a real browser: a customer asks a question on a product page of the shop and reads the published
answer with its source; a visitor marks it helpful.

Celery runs eagerly in the live server (same code path, no broker): the ``qa.answer`` job ranks the
product's evidence with the bundled MiniLM and publishes the checked answer while the request commits.
"""

from __future__ import annotations

import pytest
from django.core import mail

from oscar_llm.models import Feature, FeatureSwitch, ProductQuestion

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_customer_asks_and_reads_the_published_answer_with_its_source(
    page, login_as, customer, make_product, knowledge_base
):
    from oscar_llm.llm.registry import get_embedder

    FeatureSwitch.set(Feature.QA, enabled=True, auto_publish=True)
    dress = make_product(
        "Northwind Women Navy Blue Viscose Dress",
        material="Viscose",
        description="A navy blue dress in soft viscose. It is fully lined and falls just below the knee.",
    )
    get_embedder()  # load MiniLM before the page's timeouts start

    login_as(customer)
    page.goto(dress.get_absolute_url())
    assert page.locator("#questions h2").inner_text() == "Questions about this product"
    page.fill("#oscar-llm-question", "What material is this dress made of?")
    page.click(".oscar-llm-qa-ask button[type=submit]")
    page.wait_for_selector(".oscar-llm-qa-item", timeout=180_000)
    item = page.locator(".oscar-llm-qa-item").first
    assert "What material is this dress made of?" in item.locator(".oscar-llm-qa-q").inner_text()
    assert "Viscose" in item.locator(".oscar-llm-qa-a").inner_text()
    assert item.locator(".oscar-llm-qa-source").inner_text().startswith("From the product details")
    question = ProductQuestion.objects.get()
    assert question.status == ProductQuestion.Status.PUBLISHED
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [customer.email]
    # Search engines read the same Q&A as schema.org markup.
    assert '"QAPage"' in page.content()

    # A visitor finds it helpful.
    page.context.clear_cookies()
    page.goto(dress.get_absolute_url())
    page.click(".oscar-llm-qa-vote button")
    page.wait_for_url(f"**{dress.get_absolute_url()}*")
    question.refresh_from_db()
    assert question.helpful_votes == 1
    assert page.locator(".oscar-llm-qa-votes").first.inner_text() == "1"
