"""What a recommendation block reads, kept in the process's memory (docs/architecture.md, "Blocks from memory").

A block needs the precomputed lists of the products it is about, the global lists, the shop's
rules, whether each candidate may be shown (public, not a variant, available to buy, its
categories for category rules, what the customer bought) and the candidates' product rows with
their stock records. Read from the cache and the database that is a handful of round trips per
block; read from here it is a few dictionary lookups.

Everything here is stamped with two counters kept in the shared cache, read in one round trip
per block (:func:`current`):

* the block **generation** (``block_cache.GENERATION_KEY``), bumped when a product or stock
  record is saved or deleted, an order is placed or a rule changes: availability, purchases,
  product rows and rules are dropped;
* the **lists version**, bumped when a worker writes precomputed lists (a fit, a product's
  neighbours): the lists are dropped.

A process that bumps a counter drops its own memory at once; other processes drop theirs on their
next block. Changes that send no signal (``QuerySet.update`` in an import script) are covered by
the memory's lifetime, ``MEMORY_SECONDS``, as the rendered blocks are by theirs. Each map holds at
most ``MAX_ENTRIES`` entries (the oldest go first), so a 1M-product catalogue does not end up
whole in every web process.
"""

from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from django.core.cache import cache

GENERATION_KEY = "oscar_llm:recblock:generation"
LISTS_VERSION_KEY = "oscar_llm:recs:lists-version"
MEMORY_SECONDS = 60.0
MAX_ENTRIES = 50_000

# The maps kept per stamp. "lists" depend on the lists version only; the others on the generation.
LIST_MAPS = ("lists", "categories", "global")
GENERATION_MAPS = ("facts", "paths", "products", "public", "purchased", "rules")


class _Memory:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.maps: dict[str, OrderedDict[Hashable, Any]] = {name: OrderedDict() for name in LIST_MAPS + GENERATION_MAPS}
        self.stamp: tuple[Any, Any] = (None, None)
        self.born = {name: 0.0 for name in self.maps}

    def clear(self, names: Iterable[str] | None = None) -> None:
        with self.lock:
            for name in names or self.maps:
                self.maps[name] = OrderedDict()
                self.born[name] = time.monotonic()


_memory = _Memory()


def clear() -> None:
    """Forget everything (tests and the bench's cold runs)."""
    _memory.clear()
    _memory.stamp = (None, None)


def current() -> None:
    """Drop what the shared counters say is stale (one cache round trip), and what is too old."""
    try:
        values = cache.get_many([GENERATION_KEY, LISTS_VERSION_KEY])
    except Exception:  # the cache is down: trust nothing kept
        clear()
        return
    # A counter missing from the cache (never set, evicted, the cache flushed) starts again at a
    # random value, so it cannot come back equal to the one this process's memory was kept under.
    stamp = (
        values[GENERATION_KEY] if values.get(GENERATION_KEY) is not None else seed(GENERATION_KEY),
        values[LISTS_VERSION_KEY] if values.get(LISTS_VERSION_KEY) is not None else seed(LISTS_VERSION_KEY),
    )
    old = _memory.stamp
    if stamp[0] != old[0]:
        _memory.clear(GENERATION_MAPS)
    if stamp[1] != old[1]:
        _memory.clear(LIST_MAPS)
    _memory.stamp = stamp
    now = time.monotonic()
    expired = [name for name, born in _memory.born.items() if now - born > MEMORY_SECONDS]
    if expired:
        _memory.clear(expired)


def stamp() -> tuple[Any, Any]:
    """(block generation, lists version) as :func:`current` last read them."""
    return _memory.stamp


def seed(key: str) -> int:
    """Start the counter ``key`` at a random value unless another process just did; its value."""
    try:
        cache.add(key, random.randrange(1, 2**31), timeout=None)
        value = cache.get(key)
    except Exception:
        value = None
    return value if value is not None else random.randrange(1, 2**31)


def get_many(name: str, keys: Iterable[Hashable], load: Callable[[list], dict]) -> dict:
    """``{key: value}`` for ``keys`` from the map ``name``; the missing ones come from ``load(missing)``
    (which returns a value for each key it was given) and are kept."""
    store = _memory.maps[name]
    found: dict = {}
    missing: list = []
    for key in keys:
        try:
            found[key] = store[key]
        except KeyError:
            missing.append(key)
    if missing:
        loaded = load(missing)
        with _memory.lock:
            store = _memory.maps[name]
            for key in missing:
                value = loaded[key]
                found[key] = value
                store[key] = value
            while len(store) > MAX_ENTRIES:
                store.popitem(last=False)
    return found


def get(name: str, key: Hashable, load: Callable[[], Any]) -> Any:
    return get_many(name, [key], lambda missing: {key: load()})[key]


def drop_generation_maps() -> None:
    """This process changed availability, purchases or rules: forget them here at once."""
    _memory.clear(GENERATION_MAPS)


def bump_lists_version() -> None:
    """Precomputed lists were written: every process forgets the lists it kept."""
    _memory.clear(LIST_MAPS)
    try:
        cache.incr(LISTS_VERSION_KEY)
    except ValueError:
        seed(LISTS_VERSION_KEY)
    except Exception:  # the memory's lifetime covers a cache that is down
        pass
