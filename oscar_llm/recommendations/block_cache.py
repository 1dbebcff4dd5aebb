"""A rendered block is cached under a key made of everything its content depends on.

Working a block out costs the business-rule query, the products, their images and prices
and the template: several milliseconds a block, which would make a product page noticeably
slower. The inputs, though, are cheap to read (two shared counters in one cache round trip, the
customer's own list one indexed lookup), so the key is a digest of those inputs and the
block is worked out again only when one of them changes:

* the block's settings, the product on the page, the customer or visitor, what is in the
  basket and what earlier blocks on the page already show;
* the customer's own list ("Recommended for you"), read from its row;
* the lists version, moved whenever a worker writes precomputed lists (a fit, a product's
  neighbours), see ``memory``;
* a generation counter bumped whenever availability or the rules change: a product or stock
  record saved (Oscar's stock allocation at checkout sends ``post_save`` too), an order
  placed (purchased products drop out), a pin/boost/exclusion rule saved or deleted.

Changes that send no signal (``QuerySet.update`` in an import script) are covered by the
entry's short lifetime, ``BLOCK_CACHE_SECONDS``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from django.core.cache import cache
from django.utils import translation

from ..interactions import visitor_key
from . import memory, serving
from .services import FOR_YOU

logger = logging.getLogger(__name__)

GENERATION_KEY = memory.GENERATION_KEY
BLOCK_CACHE_SECONDS = 60


def generation() -> int:
    value = cache.get(GENERATION_KEY)
    if value is None:
        value = memory.seed(GENERATION_KEY)  # a random start: memory kept under an old value is dropped
    return int(value)


def bump_generation(*args: Any, **kwargs: Any) -> None:
    """Every cached block is stale (availability, purchases or rules changed)."""
    memory.drop_generation_maps()
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        memory.seed(GENERATION_KEY)
    except Exception:
        logger.exception("Could not invalidate the cached recommendation blocks")


def on_rule_changed(sender: Any, **kwargs: Any) -> None:
    # The rule's own save() clears the rules cache; blocks cached with the old rules are stale too.
    bump_generation()


def _ids(items: Any) -> list:
    return [(item.get("id"), item.get("reason"), item.get("source")) for item in items or []]


def basket_product_ids(basket: Any) -> list[int]:
    if basket is None or not getattr(basket, "id", None):
        return []
    return sorted(line.product_id for line in basket.all_lines())


def block_key(
    block: str,
    *,
    config: dict,
    request: Any,
    product: Any,
    basket: Any,
    shown: set[int],
) -> str:
    """The cache key of ``block`` as this visitor would see it now (reads what the service reads)."""
    memory.current()
    user = getattr(request, "user", None) if request is not None else None
    user_id = user.pk if user is not None and getattr(user, "is_authenticated", False) else None
    visitor = "" if user_id else (visitor_key(request) if request is not None else "")
    if basket is None and request is not None:
        basket = getattr(request, "basket", None)
    in_basket = basket_product_ids(basket)
    inputs: dict[str, Any] = {
        "block": block,
        "config": config,
        "product": product.pk if product is not None else None,
        "user": user_id,
        "visitor": visitor,
        "basket": in_basket,
        "shown": sorted(shown),
        "language": translation.get_language(),
        # The block generation and the lists version (memory.current() just read them): a worker that
        # writes any precomputed list moves the version, a product, stock, order or rule change the
        # generation.
        "stamp": memory.stamp(),
    }
    if block == FOR_YOU:
        inputs["personal"] = _ids(serving.personal_list(user_id=user_id, visitor=visitor))
    digest = hashlib.sha1(json.dumps(inputs, sort_keys=True, default=str).encode(), usedforsecurity=False)
    return f"oscar_llm:recblock:{block}:{digest.hexdigest()}"
