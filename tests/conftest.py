"""Shared fixtures. Tests run against the database in DATABASE_URL (PostgreSQL in CI)."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

# Processes the tests start (Celery workers, a fresh web process, the server schemathesis fuzzes) read
# shop/settings.py without pytest: they need a key, and plain HTTP, as the test process has them.
os.environ.setdefault("DJANGO_SECRET_KEY", "demo-only-not-secret-change-me")  # the key the test process has
os.environ.setdefault("DJANGO_SECURE", "0")

# Fixtures of one feature that tests elsewhere use too (the support browser test): registered here,
# so no test module imports fixtures by name.
pytest_plugins = ["tests.support.fixtures", "tests.marketing.fixtures"]

DATA_DIR = Path(os.environ.get("OSCAR_LLM_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
NO_DATA_REASON = f"needs the public data sets, which are not at {DATA_DIR} (set OSCAR_LLM_DATA)"


def pytest_collection_modifyitems(config: Any, items: list) -> None:
    """Tests marked ``data`` measure accuracy on ``../shared/data``: they run wherever it is (CI)."""
    if DATA_DIR.is_dir():
        return
    skip = pytest.mark.skip(reason=NO_DATA_REASON)
    for item in items:
        if "data" in item.keywords:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if NO_DATA_REASON in str(r.longrepr)]
    if skipped:
        count = f"{len(skipped)} test" + ("s" if len(skipped) != 1 else "")
        terminalreporter.write_line(f"{count} skipped: each measures on the public data sets, not at {DATA_DIR}.")


def database_url() -> str:
    """A URL for the database the tests are using, for processes the tests start."""
    from django.db import connection

    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture(autouse=True)
def _eager_celery(settings):
    """Outside the worker tests, Celery messages run inline (same code, no broker)."""
    from shop.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _clear_caches():
    from django.core.cache import cache

    from oscar_llm.recommendations import memory

    cache.clear()
    memory.clear()  # what a block reads, kept in this process (docs/architecture.md, "Blocks from memory")
    yield
    cache.clear()
    memory.clear()


@pytest.fixture
def make_product(db):
    """Create a public product with attributes, a category, a price and stock."""
    from oscar.apps.catalogue.categories import create_from_breadcrumbs
    from oscar.test.factories import create_product

    counter = {"n": 0}

    def make(
        title: str = "Northwind Women Navy Blue Cotton Dress",
        *,
        category: str = "Women > Clothing > Dresses",
        price: str = "45.00",
        stock: int = 10,
        description: str = "A navy blue cotton dress for women.",
        **attributes: Any,
    ):
        counter["n"] += 1
        attrs = {
            "brand": "Northwind",
            "gender": "Women",
            "colour": "Navy Blue",
            "material": "Cotton",
            "size": "M",
            "season": "Summer",
            "usage": "Casual",
        }
        attrs.update(attributes)
        product = create_product(
            upc=f"TEST-{os.getpid()}-{counter['n']}",
            title=title,
            product_class="Clothing",
            price=Decimal(price),
            num_in_stock=stock,
            attributes=attrs,
            description=description,
        )
        from oscar.core.loading import get_model

        get_model("catalogue", "ProductCategory").objects.create(
            product=product, category=create_from_breadcrumbs(category)
        )
        return product

    return make


@pytest.fixture
def staff_user(db, django_user_model):
    return django_user_model.objects.create_user(
        username="staff", email="staff@example.com", password="staff-password", is_staff=True, is_superuser=True
    )


@pytest.fixture
def customer(db, django_user_model):
    return django_user_model.objects.create_user(username="alice", email="alice@example.com", password="alice-password")


# --- a tiny model, trained in seconds through the production training code ---------------------

TINY_BRANDS = ["Northwind", "Tarn", "Calder", "Lumen"]
TINY_GENDERS = ["Women", "Men"]
TINY_COLOURS = ["Navy Blue", "Black", "White", "Red", "Olive"]
TINY_MATERIALS = ["Cotton", "Linen", "Wool"]
TINY_ARTICLES = ["Dresses", "Shirts", "Jackets"]


def tiny_facts() -> list[dict[str, Any]]:
    facts = []
    for brand in TINY_BRANDS:
        for gender in TINY_GENDERS:
            for colour in TINY_COLOURS:
                for material in TINY_MATERIALS:
                    for article in TINY_ARTICLES:
                        singular = article[:-2] if article.endswith("sses") else article[:-1]
                        facts.append(
                            {
                                "title": f"{brand} {gender} {colour} {material} {singular}",
                                "category": f"{gender} > Clothing > {article}",
                                "product_class": "Clothing",
                                "attributes": {
                                    "brand": brand,
                                    "gender": gender,
                                    "colour": colour,
                                    "material": material,
                                    "article_type": article,
                                    "size": "M",
                                    "season": "Summer",
                                    "usage": "Casual",
                                },
                                "description": f"A {colour.lower()} {material.lower()} {singular.lower()} by {brand}.",
                                "meta_description": f"{brand} {colour} {material.lower()} {singular.lower()}.",
                                "price": "45.00",
                                "currency": "GBP",
                            }
                        )
    return facts


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> str:
    """A tiny GPT-2 trained on attribute -> title/description pairs (a few seconds on 2 cores)."""
    from oscar_llm.content.prompts import PromptContext, training_pair
    from oscar_llm.llm.training import train_causal_lm

    pairs = []
    for facts in tiny_facts():
        for segment in ("default", "value", "premium"):
            for kind in ("title", "description", "meta_description"):
                target = facts[kind]
                pairs.append(training_pair(facts, PromptContext(kind=kind, segment=segment), target))
    out = tmp_path_factory.mktemp("tiny_model")
    # Bounded by steps, not by the clock: a busy machine trains the same model, only later.
    train_causal_lm(pairs, out, minutes=10, size="tiny", max_steps=400, progress=False, seed=0)
    return str(out)


@pytest.fixture
def tiny_model(settings, tiny_model_dir):
    """Point the plugin at the tiny model (the same loading path as production)."""
    from oscar_llm.llm import registry

    settings.OSCAR_LLM = {**getattr(settings, "OSCAR_LLM", {}), "MODEL": tiny_model_dir}
    registry.clear()
    yield tiny_model_dir
    registry.clear()
