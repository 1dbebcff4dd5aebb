"""Helpers shared by the recommendation tests."""

from __future__ import annotations

from django.core.cache import cache

from oscar_llm.models import RecommendationList


def write_list(kind: str, key, products, *, reason: str = "similar", source=None, source_title: str = "") -> None:
    """Store a precomputed list as a worker would (scores descending), then drop cached blocks."""
    items = [
        {"id": p.pk, "score": 1.0 - n * 0.01, "reason": reason, "source": source, "source_title": source_title}
        for n, p in enumerate(products)
    ]
    RecommendationList.objects.update_or_create(kind=kind, key=str(key), defaults={"items": items})
    # What a worker does after writing lists: pages read them on their next request.
    cache.clear()
