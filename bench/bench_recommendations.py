"""Recommendation serving with a 100,000-product catalogue, and the page cost of the blocks.

Measured in one run, on its own SQLite database (var/bench_recommendations.sqlite3):
  * the demo shop (MiniLM vectors of its products' facts) plus bulk-created products up to
    --products (random unit vectors: embedding 100k texts with MiniLM would take ~an hour on
    two cores and does not change serving time), with synthetic visitor histories over them;
  * the engine fitted by the production code path (``precompute.fit``), neighbour lists
    precomputed for --precompute products (the most interacted first) and every active customer;
  * p95/median time of ``block_items`` (the block's data: lists, rules, products and stock) for each
    block: warm (the same sampled calls run once before, so the process's memory and the cache hold
    what they read) and cold (the cache and the process's memory emptied before every call);
  * the block template's rendering of those items, measured apart;
  * the product page and the basket page (logged-in customer with a list and a basket of two),
    median time with the recommendation blocks on against the feature switched off, interleaved.

Usage: python bench/bench_recommendations.py [--products 100000] [--samples 400] [--rounds 10]
Prints one line per figure and a JSON line with everything at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("BENCH_DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench_recommendations.sqlite3'}")

from _setup import django_setup, ensure_demo_shop  # noqa: E402

BULK_PREFIX = "BENCH-REC-"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def grow_catalogue(target: int, *, dim: int = 384, seed: int = 0) -> int:
    """Bulk-create products (with stock, a category and a random unit vector) up to ``target``."""
    import numpy as np
    from django.db import transaction
    from oscar.core.loading import get_model
    from tqdm import tqdm

    from oscar_llm.models import ItemVector

    Product = get_model("catalogue", "Product")
    ProductClass = get_model("catalogue", "ProductClass")
    ProductCategory = get_model("catalogue", "ProductCategory")
    Category = get_model("catalogue", "Category")
    StockRecord = get_model("partner", "StockRecord")
    Partner = get_model("partner", "Partner")

    have = Product.objects.count()
    if have >= target:
        return 0
    rng = np.random.default_rng(seed)
    product_class = ProductClass.objects.order_by("pk").first()
    categories = list(Category.objects.filter(numchild=0).values_list("pk", flat=True)) or list(
        Category.objects.values_list("pk", flat=True)
    )
    partner = Partner.objects.order_by("pk").first()
    start = Product.objects.filter(upc__startswith=BULK_PREFIX).count()
    todo = target - have
    created = 0
    for offset in tqdm(range(0, todo, 5000), desc="bulk products", unit="x5000"):
        n = min(5000, todo - offset)
        with transaction.atomic():
            products = Product.objects.bulk_create(
                [
                    Product(
                        structure=Product.STANDALONE,
                        upc=f"{BULK_PREFIX}{start + offset + i}",
                        title=f"Bench product {start + offset + i}",
                        slug=f"bench-product-{start + offset + i}",
                        product_class=product_class,
                        is_public=True,
                    )
                    for i in range(n)
                ]
            )
            if products[0].pk is None:  # backends that do not return keys
                products = list(Product.objects.filter(upc__startswith=BULK_PREFIX).order_by("-pk")[:n])
            StockRecord.objects.bulk_create(
                [
                    StockRecord(
                        product=p, partner=partner, partner_sku=p.upc, price=10 + p.pk % 90, num_in_stock=5 + p.pk % 7
                    )
                    for p in products
                ]
            )
            ProductCategory.objects.bulk_create(
                [ProductCategory(product=p, category_id=categories[p.pk % len(categories)]) for p in products]
            )
            vectors = rng.standard_normal((n, dim)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            ItemVector.objects.bulk_create(
                [
                    ItemVector(
                        product=p, vector=v.tobytes(), dimension=dim, input_hash="bench-random", model_id="random"
                    )
                    for p, v in zip(products, vectors, strict=True)
                ]
            )
        created += n
    return created


def synthetic_histories(visitors: int, events: int, seed: int = 0, *, chunk: int = 50_000) -> int:
    """Anonymous visitors browsing the bulk products (co-visitation over the big catalogue).

    Rows are written ``chunk`` at a time, so 10M events never sit in memory as model instances at once.
    """
    from datetime import timedelta

    from django.utils import timezone
    from oscar.core.loading import get_model

    from oscar_llm.models import Interaction

    if Interaction.objects.filter(session_key__startswith="bench").exists():
        return 0
    Product = get_model("catalogue", "Product")
    ids = list(Product.objects.filter(upc__startswith=BULK_PREFIX).values_list("pk", flat=True))
    rng = random.Random(seed)
    now = timezone.now()
    rows = []
    written = 0
    for v in range(visitors):
        base = rng.randrange(len(ids))
        day = rng.uniform(0, 25)
        for e in range(events):
            # Browsing stays near a "topic" (neighbouring ids), so co-visitation has structure.
            pid = ids[(base + (rng.randint(-20, 20) if e else 0)) % len(ids)]
            rows.append(
                Interaction(
                    session_key=f"bench{v}",
                    product_id=pid,
                    event="view",
                    weight=1.0,
                    created_at=now - timedelta(days=day, minutes=events - e),
                )
            )
        if len(rows) >= chunk:
            Interaction.objects.bulk_create(rows, batch_size=5000)
            written += len(rows)
            rows = []
    if rows:
        Interaction.objects.bulk_create(rows, batch_size=5000)
        written += len(rows)
    return written


def configure(*, precompute: int, active_days: float = 3650, engine_config: dict | None = None) -> None:
    """The recommendation settings of a bench run: its own engine directory (per bench database)."""
    from django.conf import settings

    from oscar_llm.settings import llm_settings

    settings.OSCAR_LLM = {
        **getattr(settings, "OSCAR_LLM", {}),
        "RECOMMENDATIONS": {
            **llm_settings.RECOMMENDATIONS,
            # One engine per bench database (the name of its file).
            "ENGINE_DIR": str(ROOT / "var" / f"bench_recommender_{Path(settings.DATABASES['default']['NAME']).stem}"),
            "PRECOMPUTE_PRODUCTS": precompute,
            # Synthetic histories are old-ish; by default every customer of the demo gets a list.
            "ACTIVE_DAYS": active_days,
            **({"ENGINE_CONFIG": engine_config} if engine_config is not None else {}),
        },
    }
    llm_settings.reload()


class BlockCalls:
    """Sampled ``block_items`` calls over the products and customers that have precomputed lists."""

    def __init__(self, seed: int = 1) -> None:
        from django.contrib.auth import get_user_model
        from oscar.core.loading import get_model

        from oscar_llm.models import RecommendationList
        from oscar_llm.recommendations.config import SIMILAR, USER

        Product = get_model("catalogue", "Product")
        similar_keys = list(RecommendationList.objects.filter(kind=SIMILAR).values_list("key", flat=True))
        user_keys = list(RecommendationList.objects.filter(kind=USER).values_list("key", flat=True))
        self.users = {u.pk: u for u in get_user_model().objects.filter(pk__in=[int(k) for k in user_keys])}
        self.products = {p.pk: p for p in Product.objects.filter(pk__in=[int(k) for k in similar_keys])}
        self.pids = sorted(self.products)
        self.rng = random.Random(seed)

    def sample(self, block: str) -> tuple[int, int, int]:
        return (self.rng.choice(self.pids), self.rng.choice(list(self.users)), self.rng.choice(self.pids))

    def call(self, block: str, args: tuple[int, int, int]) -> list:
        from oscar_llm.recommendations import services

        pid, uid, other = args
        if block == services.SIMILAR_BLOCK:
            return services.block_items(block, product=self.products[pid], limit=4)
        if block == services.FOR_YOU:
            return services.block_items(block, user=self.users[uid], product=self.products[pid], limit=4)
        return services.block_items(block, basket_product_ids=[pid, other], limit=4)


def measure_blocks(
    calls: BlockCalls,
    blocks: list[str],
    samples: int,
    modes: tuple[str, ...] = ("warm", "warm, no memory", "new process", "cold"),
) -> dict[str, dict[str, float]]:
    """p95/median of ``block_items`` (the block's data, no template) per block and mode.

    "warm": the same sampled calls ran once before, so the process's memory and the cache hold what they
    read; "warm, no memory": the warm cache alone (the process keeps nothing), the path before the memory;
    "new process": the shared cache warm, this process's memory empty before every call; "cold": the cache
    and the memory emptied before each call.
    """
    from django.core.cache import cache

    from oscar_llm.recommendations import memory

    serve: dict[str, dict[str, float]] = {}
    for block in blocks:
        sampled = [calls.sample(block) for _ in range(samples)]
        for mode in modes:
            times, cpu, empty = [], [], 0
            kept = memory.MAX_ENTRIES
            if mode == "warm, no memory":
                memory.MAX_ENTRIES = 0
                memory.clear()
            if mode != "cold":
                for one in sampled:  # what these calls read is now in the cache (and in memory)
                    calls.call(block, one)
            for one in sampled:
                if mode == "cold":
                    cache.clear()
                if mode in ("cold", "new process"):
                    memory.clear()
                start, start_cpu = time.perf_counter(), time.thread_time()
                items = calls.call(block, one)
                times.append(time.perf_counter() - start)
                cpu.append(time.thread_time() - start_cpu)
                empty += not items
            memory.MAX_ENTRIES = kept
            # CPU time is the call's own work; the wall time adds waiting for a core on a busy machine.
            serve[f"{block}/{mode}"] = {
                "p95_ms": round(percentile(times, 0.95) * 1000, 3),
                "median_ms": round(statistics.median(times) * 1000, 3),
                "cpu_p95_ms": round(percentile(cpu, 0.95) * 1000, 3),
                "cpu_median_ms": round(statistics.median(cpu) * 1000, 3),
                "empty": empty,
            }
            got = serve[f"{block}/{mode}"]
            print(
                f"block {block:>16} {mode:>15}: p95 {got['p95_ms']:.2f} ms, median {got['median_ms']:.2f} ms "
                f"(CPU p95 {got['cpu_p95_ms']:.2f}, median {got['cpu_median_ms']:.2f} ms), "
                f"{empty} empty of {samples}"
            )
    return serve


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--precompute", type=int, default=1000, help="products whose neighbours the fit precomputes")
    parser.add_argument("--visitors", type=int, default=1500)
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--page-products", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--blocks", default="", help="comma-separated block codes to measure (default: all)")
    parser.add_argument("--refit", action="store_true", help="fit again even if a fitted engine exists")
    args = parser.parse_args()
    django_setup()
    ensure_demo_shop()

    from django.core.cache import cache
    from django.test import Client
    from oscar.core.loading import get_model

    from oscar_llm.models import Feature, FeatureSwitch, RecommendationBlock, RecommendationList
    from oscar_llm.recommendations import blocks, precompute, services

    configure(precompute=args.precompute)
    Product = get_model("catalogue", "Product")

    t0 = time.perf_counter()
    created = grow_catalogue(args.products)
    events = synthetic_histories(args.visitors, 10)
    build_s = time.perf_counter() - t0
    n_products = Product.objects.count()
    print(f"catalogue: {n_products} products ({created} created now, {events} synthetic events) in {build_s:.1f} s")

    fit_summary = None
    if args.refit or not precompute.engine_path().exists() or not RecommendationList.objects.exists():
        t0 = time.perf_counter()
        fit_summary = precompute.fit(progress=True)
        print(f"fit + precompute: {time.perf_counter() - t0:.1f} s  {json.dumps(fit_summary)}")

    # --- block_items p95 ------------------------------------------------------------------------
    calls = BlockCalls()
    users, products, pids = calls.users, calls.products, calls.pids
    FeatureSwitch.set(Feature.RECOMMENDATIONS, enabled=True)
    measured = [b for b in services.BLOCKS if not args.blocks or b in args.blocks.split(",")]
    serve = measure_blocks(calls, measured, args.samples)

    # --- the block template alone, on the items of a warm call ------------------------------------
    from django.contrib.auth.models import AnonymousUser
    from django.template.loader import render_to_string
    from django.test import RequestFactory
    from oscar.core.loading import get_class

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    request.strategy = get_class("partner.strategy", "Selector")().strategy(request=request, user=request.user)
    config = {"size": 4, "title": "Bench"}
    for block in measured:
        sampled = [calls.sample(block) for _ in range(50)]
        times = []
        for n, one in enumerate(sampled * 3):
            pid, uid, other = one
            kwargs = {"product": products[pid]}
            if block == services.FOR_YOU:
                request.user = users[uid]
            data = blocks._work_out(block, config, request=request, basket=None, shown=set(), **kwargs)
            if data is None:
                continue
            start = time.perf_counter()
            render_to_string("oscar_llm/recommendations/block.html", data, request)
            if n >= len(sampled):  # the first pass warms the template loader and image caches
                times.append(time.perf_counter() - start)
        request.user = AnonymousUser()
        if times:
            serve[f"{block}/render"] = {
                "p95_ms": round(percentile(times, 0.95) * 1000, 3),
                "median_ms": round(statistics.median(times) * 1000, 3),
                "renders": len(times),
            }
            print(
                f"block {block:>16} template: p95 {serve[f'{block}/render']['p95_ms']:.2f} ms, "
                f"median {serve[f'{block}/render']['median_ms']:.2f} ms ({len(times)} renders)"
            )

    # --- pages: blocks on vs off ----------------------------------------------------------------
    page_products = [products[p] for p in pids[: args.page_products]]
    urls = {"product": [p.get_absolute_url() for p in page_products], "basket": ["/basket/"]}
    for block in RecommendationBlock.Code.values:
        row = RecommendationBlock.objects.filter(code=block).first()
        if row and not row.enabled:
            row.enabled = True
            row.save()
    FeatureSwitch.set(Feature.RECOMMENDATIONS, enabled=True)
    # A customer who sees every block: the demo shop runs a block experiment whose control arm sees
    # the page without it, which would measure nothing on the "on" side.
    for uid in sorted(users)[:50]:
        client = Client()
        client.force_login(users[uid])
        for product in page_products[:2]:
            client.post(f"/basket/add/{product.pk}/", {"quantity": 1})
        if all(
            client.get(urls[page][0]).content.decode().count("data-oscar-llm-rec-block=") == want
            for page, want in (("product", 2), ("basket", 1))
        ):
            break

    def switch(on: bool) -> None:
        for feature in Feature:
            FeatureSwitch.set(feature, enabled=on and feature == Feature.RECOMMENDATIONS)
        cache.clear()

    def run(page: str) -> list[float]:
        times = []
        for url in urls[page] * (1 if page == "product" else args.page_products):
            start = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - start)
            assert response.status_code == 200, (url, response.status_code)
        return times

    switch(True)
    # The "on" side must really show blocks: count them in the markup.
    shown = {page: client.get(urls[page][0]).content.decode().count("data-oscar-llm-rec-block=") for page in urls}
    samples = {f"{page}/{mode}": [] for page in urls for mode in ("off", "on")}
    round_ratios: dict[str, list[float]] = {page: [] for page in urls}
    for n_round in range(args.rounds):
        for page in urls:
            # Alternate which side goes first, so neither always follows the other (order effects cancel).
            order = (False, True) if n_round % 2 == 0 else (True, False)
            medians = {}
            for on in order:
                switch(on)
                run(page)  # refill the caches the switch cleared
                times = run(page)
                samples[f"{page}/{'on' if on else 'off'}"] += times
                medians[on] = statistics.median(times)
            round_ratios[page].append(medians[True] / medians[False])
    switch(True)
    pages = {}
    for page in urls:
        off = statistics.median(samples[f"{page}/off"]) * 1000
        on = statistics.median(samples[f"{page}/on"]) * 1000
        # The median of the per-round ratios is robust to the machine's speed drifting between rounds.
        paired = statistics.median(round_ratios[page])
        pages[page] = {
            "median_off_ms": round(off, 3),
            "median_on_ms": round(on, 3),
            "ratio": round(on / off, 4),
            "paired_ratio": round(paired, 4),
        }
        print(
            f"{page:>7} page: off {off:.2f} ms, on {on:.2f} ms, ratio {on / off:.4f}, "
            f"median of per-round ratios {paired:.4f} ({len(samples[f'{page}/on'])} requests each)"
        )
    result = {
        "products": n_products,
        "vectors": "random unit vectors for bulk products, MiniLM for the demo products",
        "serve": serve,
        "pages": pages,
        "blocks_rendered_per_page_on": shown,
        "fit": fit_summary,
        "python": sys.version.split()[0],
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
