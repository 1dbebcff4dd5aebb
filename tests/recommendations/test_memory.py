"""Blocks from memory: a warm block reads no database row, and what it keeps is dropped when another
process moves the shared counters (a stock change, lists written by a worker)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from oscar.core.loading import get_model

from oscar_llm.models import RecommendationList
from oscar_llm.recommendations import memory, rules, services, serving
from oscar_llm.recommendations.config import SIMILAR
from tests.recommendations.helpers import write_list

pytestmark = pytest.mark.django_db

StockRecord = get_model("partner", "StockRecord")


def _ids(anchor) -> list[int]:
    return [item.product.pk for item in services.block_items(services.SIMILAR_BLOCK, product=anchor, limit=4)]


def test_a_warm_block_reads_no_row_and_follows_the_shared_counters(make_product, django_assert_num_queries):
    anchor, first, second = (make_product(f"Northwind Women Navy Blue Cotton Dress {n}") for n in range(3))
    write_list(SIMILAR, anchor.pk, [first, second])
    assert _ids(anchor) == [first.pk, second.pk]
    with django_assert_num_queries(0):  # lists, rules, availability, products and stock from memory
        assert _ids(anchor) == [first.pk, second.pk]

    # Another process sells the last one: the row changes here without a signal in this process...
    StockRecord.objects.filter(product=first).update(num_in_stock=0)
    assert _ids(anchor) == [first.pk, second.pk]
    # ...and its bump of the shared generation (block_cache.bump_generation there) drops our memory.
    cache.incr(memory.GENERATION_KEY)
    assert _ids(anchor) == [second.pk]

    # A worker writes new neighbours (and forgets the shared copy): the lists version moves.
    third = make_product("Tarn Women Red Linen Dress")
    items = [{"id": third.pk, "score": 1.0, "reason": "similar", "source": None}]
    RecommendationList.objects.filter(kind=SIMILAR, key=str(anchor.pk)).update(items=items)
    cache.delete(serving.product_cache_key(anchor.pk))
    assert _ids(anchor) == [second.pk]  # the memory still holds the old list
    cache.incr(memory.LISTS_VERSION_KEY)
    assert _ids(anchor) == [third.pk]


def test_a_flushed_cache_drops_the_memory(make_product):
    anchor, first, second = (make_product(f"Northwind Women Black Cotton Dress {n}") for n in range(3))
    write_list(SIMILAR, anchor.pk, [first])
    assert _ids(anchor) == [first.pk]
    RecommendationList.objects.filter(kind=SIMILAR, key=str(anchor.pk)).update(
        items=[{"id": second.pk, "score": 1.0, "reason": "similar", "source": None}]
    )
    cache.clear()  # a Redis restart: the counters start again at new random values
    assert _ids(anchor) == [second.pk]


def test_memory_keeps_at_most_max_entries(make_product, monkeypatch):
    monkeypatch.setattr(memory, "MAX_ENTRIES", 2)
    products = [make_product(f"Calder Women White Linen Dress {n}") for n in range(4)]
    memory.current()
    found = rules.product_rows([p.pk for p in products])
    assert set(found) == {p.pk for p in products}
    assert list(memory._memory.maps["products"]) == [products[2].pk, products[3].pk]  # the oldest went first
