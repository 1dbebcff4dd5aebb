"""Business rules are enforced when a block is read, whatever the precomputed lists say."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from oscar.core.loading import get_model
from oscar.test.factories import BasketFactory, create_order

from oscar_llm.models import Feature, FeatureSwitch, RecommendationList, RecommendationRule
from oscar_llm.recommendations import services
from oscar_llm.recommendations.config import CATEGORY, GLOBAL_KEY, POPULAR, SIMILAR, TOGETHER, TRENDING, USER
from tests.recommendations.helpers import write_list

pytestmark = pytest.mark.django_db

Category = get_model("catalogue", "Category")


@pytest.fixture(autouse=True)
def recs_on(db):
    FeatureSwitch.set(Feature.RECOMMENDATIONS, enabled=True)


@pytest.fixture
def shop(make_product):
    viewed = make_product("Northwind Women Navy Blue Cotton Dress")
    others = [make_product(f"Northwind Women Dress {n}", colour="Red") for n in range(6)]
    write_list(SIMILAR, viewed.pk, others, source=viewed.pk, source_title=viewed.title)
    return viewed, others


def ids(items):
    return [i.product.pk for i in items]


def test_similar_block_reads_the_precomputed_list_with_reasons(shop):
    viewed, others = shop
    items = services.block_items(services.SIMILAR_BLOCK, product=viewed, limit=4)
    assert ids(items) == [p.pk for p in others[:4]]
    assert items[0].reason == "similar"
    assert items[0].reason_text == f"Similar to {viewed.title}"
    assert items[0].source_product_id == viewed.pk


def test_out_of_stock_product_is_never_shown(shop):
    viewed, others = shop
    record = others[0].stockrecords.get()
    record.num_in_stock = 0
    record.save()
    allocated = others[1].stockrecords.get()
    allocated.num_in_stock, allocated.num_allocated = 3, 3  # all of it promised to other orders
    allocated.save()
    for block in (services.SIMILAR_BLOCK, services.FOR_YOU):
        shown = ids(services.block_items(block, product=viewed, limit=10))
        assert others[0].pk not in shown and others[1].pk not in shown
    assert others[2].pk in ids(services.block_items(services.SIMILAR_BLOCK, product=viewed, limit=10))


def test_product_without_stock_record_is_unavailable(shop):
    viewed, others = shop
    others[0].stockrecords.all().delete()
    assert others[0].pk not in ids(services.block_items(services.SIMILAR_BLOCK, product=viewed, limit=10))


def test_not_public_product_is_never_shown(shop):
    viewed, others = shop
    others[0].is_public = False
    others[0].save()
    assert others[0].pk not in ids(services.block_items(services.SIMILAR_BLOCK, product=viewed, limit=10))


def test_the_viewed_product_is_never_recommended_on_its_own_page(shop):
    viewed, others = shop
    write_list(SIMILAR, viewed.pk, [viewed, *others])
    write_list(TRENDING, GLOBAL_KEY, [viewed, *others], reason="trending")
    for block in (services.SIMILAR_BLOCK, services.FOR_YOU):
        assert viewed.pk not in ids(services.block_items(block, product=viewed, limit=10))


def test_products_in_the_basket_are_excluded(shop):
    viewed, others = shop
    basket = BasketFactory()
    basket.add_product(others[0])
    write_list(
        TOGETHER,
        others[0].pk,
        [others[0], *others[1:4]],
        reason="bought_with",
        source=others[0].pk,
        source_title=others[0].title,
    )
    shown = ids(services.block_items(services.SIMILAR_BLOCK, product=viewed, basket=basket, limit=10))
    assert others[0].pk not in shown and others[1].pk in shown
    complete = services.block_items(services.BASKET_COMPLETE, basket=basket, limit=10)
    assert ids(complete)[:3] == [p.pk for p in others[1:4]]
    assert complete[0].reason_text == f"Often bought with {others[0].title}"


def test_purchased_products_are_excluded_and_the_setting_turns_it_off(shop, customer, settings):
    viewed, others = shop
    basket = BasketFactory()
    basket.add_product(others[0])
    create_order(basket=basket, user=customer)
    shown = ids(services.block_items(services.SIMILAR_BLOCK, product=viewed, user=customer, limit=10))
    assert others[0].pk not in shown
    # Anonymous visitors and other customers still see it.
    assert others[0].pk in ids(services.block_items(services.SIMILAR_BLOCK, product=viewed, limit=10))
    settings.OSCAR_LLM = {**settings.OSCAR_LLM, "RECOMMENDATIONS": {"EXCLUDE_PURCHASED": False}}
    assert others[0].pk in ids(services.block_items(services.SIMILAR_BLOCK, product=viewed, user=customer, limit=10))


def test_excluded_product_and_block_scoped_rules(shop):
    viewed, others = shop
    RecommendationRule.objects.create(action="exclude", product=others[0])
    RecommendationRule.objects.create(action="exclude", product=others[1], block=services.BASKET_COMPLETE)
    shown = ids(services.block_items(services.SIMILAR_BLOCK, product=viewed, limit=10))
    assert others[0].pk not in shown
    assert others[1].pk in shown  # that rule is for the basket block only


def test_pinned_product_comes_first_but_obeys_stock(shop, make_product):
    viewed, others = shop
    pinned = make_product("Tarn Men Black Wool Jacket")
    RecommendationRule.objects.create(action="pin", product=pinned, block=services.SIMILAR_BLOCK)
    items = services.block_items(services.SIMILAR_BLOCK, product=viewed, limit=3)
    assert ids(items) == [pinned.pk, others[0].pk, others[1].pk]
    assert items[0].reason == services.PINNED and items[0].reason_text == "Picked by our team"
    record = pinned.stockrecords.get()
    record.num_in_stock = 0
    record.save()
    assert pinned.pk not in ids(services.block_items(services.SIMILAR_BLOCK, product=viewed, limit=3))


def test_boost_reorders(shop):
    viewed, others = shop
    RecommendationRule.objects.create(action="boost", product=others[3], boost=1.5)
    assert ids(services.block_items(services.SIMILAR_BLOCK, product=viewed, limit=2))[0] == others[3].pk


def test_include_and_exclude_categories(shop, make_product):
    viewed, others = shop
    jacket = make_product("Tarn Men Black Wool Jacket", category="Men > Clothing > Jackets")
    shirt = make_product("Tarn Men White Linen Shirt", category="Men > Clothing > Shirts")
    write_list(SIMILAR, viewed.pk, [jacket, shirt, *others])
    men = Category.objects.get(name="Men", depth=1)
    RecommendationRule.objects.create(action="include_category", category=men, block=services.SIMILAR_BLOCK)
    assert ids(services.block_items(services.SIMILAR_BLOCK, product=viewed, limit=10)) == [jacket.pk, shirt.pk]
    RecommendationRule.objects.create(
        action="exclude_category", category=Category.objects.get(name="Shirts"), block=services.SIMILAR_BLOCK
    )
    assert ids(services.block_items(services.SIMILAR_BLOCK, product=viewed, limit=10)) == [jacket.pk]
    # Other blocks are not restricted.
    write_list(TRENDING, GLOBAL_KEY, [shirt, others[0]], reason="trending")
    assert shirt.pk in ids(services.block_items(services.FOR_YOU, product=viewed, limit=10))


def test_rule_needs_its_target():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        RecommendationRule(action="pin").full_clean()
    with pytest.raises(ValidationError):
        RecommendationRule(action="include_category").full_clean()


def test_cold_start_falls_back_to_trending_then_popular_in_the_category(make_product):
    viewed = make_product("Northwind Women Navy Blue Cotton Dress")
    hot = make_product("Lumen Women Red Linen Dress")
    in_category = [make_product(f"Calder Women Dress {n}") for n in range(3)]
    category = viewed.get_categories().first()
    # No neighbours and no customer history at all: nothing to show yet, and no error.
    assert services.block_items(services.FOR_YOU, product=viewed, limit=4) == []
    write_list(CATEGORY, category.pk, in_category, reason=POPULAR, source_title=category.name)
    items = services.block_items(services.FOR_YOU, product=viewed, limit=4)
    assert ids(items) == [p.pk for p in in_category]
    assert items[0].reason_text == f"Popular in {category.name}"
    write_list(TRENDING, GLOBAL_KEY, [hot], reason="trending")
    items = services.block_items(services.FOR_YOU, product=viewed, limit=4)
    assert ids(items) == [hot.pk, *[p.pk for p in in_category]]
    assert items[0].reason_text == "Trending now"


def test_fallbacks_are_read_only_when_the_blocks_own_candidates_run_short(shop, make_product):
    from django.core.cache import cache

    from oscar_llm.recommendations import memory

    viewed, others = shop
    hot = make_product("Lumen Women Red Linen Dress")
    write_list(TRENDING, GLOBAL_KEY, [hot], reason="trending")
    # Six neighbours, all showable: a cold process asks nothing about categories or global lists.
    with CaptureQueriesContext(connection) as queries:
        items = services.block_items(services.SIMILAR_BLOCK, product=viewed, limit=4)
    assert ids(items) == [p.pk for p in others[:4]]
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "catalogue_productcategory" not in sql and "'trending'" not in sql.lower().replace('"', "'")
    # Four of the six sold out: the two left come first, then the fallback fills the block.
    for product in others[:4]:
        product.stockrecords.update(num_in_stock=0)
        product.save()  # the signal drops what this process kept about them
    cache.clear()
    memory.clear()
    items = services.block_items(services.SIMILAR_BLOCK, product=viewed, limit=4)
    assert ids(items) == [others[4].pk, others[5].pk, hot.pk]
    assert items[-1].reason_text == "Trending now"


def test_personal_list_with_true_reasons(shop, customer):
    viewed, others = shop
    items = [
        {
            "id": others[0].pk,
            "score": 2.0,
            "reason": "viewed_with",
            "source": viewed.pk,
            "source_title": viewed.title,
            "source_event": "purchase",
        },
        {
            "id": others[1].pk,
            "score": 1.0,
            "reason": "for_you",
            "source": viewed.pk,
            "source_title": viewed.title,
            "source_event": "view",
        },
    ]
    RecommendationList.objects.create(kind=USER, key=str(customer.pk), items=items)
    got = services.block_items(services.FOR_YOU, user=customer, limit=2)
    assert [i.reason_text for i in got] == [f"Because you bought {viewed.title}", f"Because you viewed {viewed.title}"]


def test_a_warm_block_reads_from_memory(shop, customer):
    viewed, others = shop
    RecommendationList.objects.create(
        kind=USER, key=str(customer.pk), items=[{"id": others[0].pk, "score": 1, "reason": "for_you", "source": None}]
    )
    for block in (services.SIMILAR_BLOCK, services.FOR_YOU):  # fills the cache and the process's memory
        services.block_items(block, product=viewed, user=customer, limit=4)
    with CaptureQueriesContext(connection) as similar:
        services.block_items(services.SIMILAR_BLOCK, product=viewed, user=customer, limit=4)
    with CaptureQueriesContext(connection) as personal:
        services.block_items(services.FOR_YOU, product=viewed, user=customer, limit=4)
    # Lists, rules, availability, purchases, products and stock records: all from memory.
    assert len(similar) == 0, [q["sql"] for q in similar]
    # Only the customer's own list, read from its row so a refresh a worker writes shows at once.
    assert len(personal) == 1 and "oscar_llm_recommendationlist" in personal[0]["sql"], personal.captured_queries


def test_errors_never_reach_the_page(shop, monkeypatch):
    viewed, _others = shop

    def broken(*args, **kwargs):
        raise RuntimeError("cache server down")

    monkeypatch.setattr(services.serving, "product_lists", broken)
    assert services.block_items(services.SIMILAR_BLOCK, product=viewed) == []
    assert services.block_items("no_such_block", product=viewed) == []


def test_availability_judged_from_rows_agrees_with_the_sql_rule(make_product):
    """Standalone products are judged from their rows and stock records, parents by SQL through their
    children: both must say what Oscar's default strategy (``available_to_buy`` in SQL) says."""
    from oscar.test.factories import ProductClassFactory, StockRecordFactory, create_product

    from oscar_llm.recommendations import memory, rules

    Product = get_model("catalogue", "Product")
    untracked = ProductClassFactory(name="Gift cards", track_stock=False)
    in_stock = make_product("Northwind Women Navy Blue Cotton Dress", stock=3)
    sold_out = make_product("Northwind Women Red Cotton Dress", stock=2)
    sold_out.stockrecords.update(num_allocated=2)
    unlimited = make_product("Northwind Women Black Cotton Dress", stock=1)
    unlimited.stockrecords.update(num_in_stock=None)
    no_record = create_product(title="No record")
    hidden = make_product("Northwind Women White Cotton Dress")
    hidden.is_public = False
    hidden.save()
    card = create_product(title="Gift card", product_class=untracked)
    StockRecordFactory(product=card, num_in_stock=0)
    card_without_record = create_product(title="Gift card, no record", product_class=untracked)
    parent = create_product(title="Shirt", structure=Product.PARENT)
    child = create_product(title="Shirt S", structure=Product.CHILD, parent=parent)
    StockRecordFactory(product=child, num_in_stock=4)
    empty_parent = create_product(title="Socks", structure=Product.PARENT)
    StockRecordFactory(
        product=create_product(title="Socks S", structure=Product.CHILD, parent=empty_parent), num_in_stock=0
    )
    products = [
        in_stock,
        sold_out,
        unlimited,
        no_record,
        hidden,
        card,
        card_without_record,
        parent,
        child,
        empty_parent,
    ]
    ids = [p.pk for p in products]
    memory.clear()
    judged = rules._showable(ids)
    by_sql = set(
        Product.objects.filter(pk__in=ids, is_public=True)
        .exclude(structure=Product.CHILD)
        .filter(rules.available_to_buy())
        .values_list("pk", flat=True)
    )
    assert judged == {pid: pid in by_sql for pid in ids}
    assert {p.pk for p in (in_stock, unlimited, card, parent)} == by_sql
