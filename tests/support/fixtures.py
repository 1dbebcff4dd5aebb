"""Fixtures of the support-desk tests: orders, the knowledge base, and the real pipeline models.

Registered for the whole suite by ``tests/conftest.py`` (``pytest_plugins``). The models are built once per
test process, through the production code: reply pairs from the project's seed tickets
(``oscar_llm.demo.support_seed``, via ``support_pairs``), a tiny GPT-2 trained on them
(``train_causal_lm``) and the triage (``IntentClassifier`` over the bundled MiniLM) fitted on
the same tickets, saved beside the model where workers look for it. No public data is read.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.support.helpers import tiny_support_model_dir


@pytest.fixture(scope="session")
def support_model_dir() -> str:
    return tiny_support_model_dir()


@pytest.fixture
def support_models(settings, support_model_dir):
    """Point the plugin at the tiny support model and its triage (production loading path)."""
    from oscar_llm.llm import registry
    from oscar_llm.support import drafting_jobs

    settings.OSCAR_LLM = {**getattr(settings, "OSCAR_LLM", {}), "MODEL": None, "MODEL_DIR": support_model_dir}
    registry.clear()
    drafting_jobs.clear_drafters()
    yield support_model_dir
    registry.clear()
    drafting_jobs.clear_drafters()


@pytest.fixture
def support_on(db):
    from oscar_llm.models import Feature, FeatureSwitch

    return FeatureSwitch.set(Feature.SUPPORT, enabled=True)


@pytest.fixture
def knowledge_base(db):
    """The demo shop's policy articles, as the demo data loads them (vectors by the embed job)."""
    from django.utils.text import slugify

    from oscar_llm.demo.knowledge_base import ARTICLES
    from oscar_llm.models import KnowledgeArticle

    return [
        KnowledgeArticle.objects.create(
            title=a["title"], slug=a.get("slug") or slugify(a["title"]), body=a["body"], tags=", ".join(a["tags"])
        )
        for a in ARTICLES
    ]


@pytest.fixture
def other_customer(db, django_user_model):
    return django_user_model.objects.create_user(username="bob", email="bob@example.com", password="bob-password")


@pytest.fixture
def make_order(db):
    """A real Oscar order (OrderCreator) for ``user`` of the given products, shipped to ``city``."""
    from oscar.apps.partner.strategy import Default
    from oscar.test.factories import (
        CountryFactory,
        ShippingAddressFactory,
        create_order,
        create_product,
        create_stockrecord,
    )

    counter = {"n": 0}

    def make(user: Any, *, title: str = "Northwind Women Navy Blue Cotton Dress", price: str = "45.00",
             city: str = "Leeds", number: str | None = None) -> Any:  # fmt: skip
        from oscar.core.loading import get_model

        Basket = get_model("basket", "Basket")
        counter["n"] += 1
        product = create_product(title=title, upc=f"SUP-{user.pk}-{counter['n']}")
        create_stockrecord(product, num_in_stock=10, price=Decimal(price))
        basket = Basket.objects.create(owner=user)
        basket.strategy = Default()
        basket.add_product(product)
        address = ShippingAddressFactory(country=CountryFactory(), line4=city)
        order = create_order(user=user, basket=basket, shipping_address=address, number=number)
        order.refresh_from_db()  # the number as stored (a string), not the generator's int
        return order

    return make
