"""The feature switches are read from the cache once per request (models.core.request_memo)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from oscar_llm.models import Feature, FeatureSwitch
from oscar_llm.models.core import FEATURE_CACHE_KEY, request_memo

pytestmark = pytest.mark.django_db


def test_within_a_request_the_switches_are_read_once_and_a_save_is_seen_at_once():
    FeatureSwitch.set(Feature.QA, enabled=True)
    with request_memo():
        assert FeatureSwitch.is_enabled(Feature.QA)
        # Another process switches it off: this request keeps what it read...
        cache.set(FEATURE_CACHE_KEY, {f.value: {"enabled": False, "auto_publish": False} for f in Feature})
        assert FeatureSwitch.is_enabled(Feature.QA)
        # ...but a save in this request is seen at once.
        FeatureSwitch.set(Feature.SUPPORT, enabled=True)
        assert FeatureSwitch.is_enabled(Feature.SUPPORT)
    # Outside a request every call reads the cache (workers see a change within its timeout).
    cache.set(FEATURE_CACHE_KEY, {f.value: {"enabled": False, "auto_publish": False} for f in Feature})
    assert not FeatureSwitch.is_enabled(Feature.SUPPORT)


def test_a_product_page_reads_the_switches_from_the_cache_once(make_product, client, monkeypatch):
    for feature in Feature:
        FeatureSwitch.set(feature, enabled=True)
    product = make_product()
    assert client.get(product.get_absolute_url()).status_code == 200
    reads = []
    real_get = cache.get

    def counting_get(key, *args, **kwargs):
        if key == FEATURE_CACHE_KEY:
            reads.append(key)
        return real_get(key, *args, **kwargs)

    monkeypatch.setattr(cache, "get", counting_get)
    assert client.get(product.get_absolute_url()).status_code == 200
    assert len(reads) == 1
