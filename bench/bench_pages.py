"""Product and basket page time with every plugin feature on against the plugin switched off.

Measured in one run, paired and alternating: each round measures both sides of each page, the side
that goes first alternating from round to round, so drift and order effects hit both sides alike.
  * off:   every oscar_llm feature switched off (what a shop owner does in admin)
  * on:    every feature on: published generated copy on every measured product, a logged-in
           customer with a segment, a precomputed "Recommended for you" list and a basket of two,
           the recommendation engine fitted on the demo shop's histories (both product-page blocks
           and the basket block shown, counted in the markup), page-view events recorded
  * oscar: plain Oscar templates (the plugin's template overrides removed), for reference

With ``--experiment`` a product copy experiment (original vs generated copy, every text) runs on the
measured products throughout, so "on" includes the assignment and the exposure buffer.

Usage: python bench/bench_pages.py [--products 20] [--rounds 15] [--experiment]
Prints one line per page and mode and a JSON line with the ratios: the ratio of the medians over
all requests, and the median of the per-round ratios (what a drifting machine disturbs least).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from _setup import ROOT, django_setup, ensure_demo_shop


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--experiment", action="store_true", help="Run a product copy experiment on the pages.")
    args = parser.parse_args()
    django_setup()
    ensure_demo_shop()

    import oscar
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.test import Client, override_settings
    from oscar.core.loading import get_model

    from oscar_llm.content import services
    from oscar_llm.models import (
        ContentDraft,
        CustomerSegment,
        Feature,
        FeatureSwitch,
        RecommendationBlock,
        RecommendationList,
    )
    from oscar_llm.recommendations import precompute
    from oscar_llm.recommendations.config import USER
    from oscar_llm.settings import llm_settings

    Product = get_model("catalogue", "Product")
    products = list(Product.objects.filter(is_public=True).order_by("pk")[: args.products])
    staff = get_user_model().objects.filter(is_staff=True).first()
    for product in products:
        for kind in services.KINDS:
            for segment in ("default", "premium"):
                if not services.current_copy_table(product.pk).get(f"{kind}|{segment}|en"):
                    draft = ContentDraft.objects.create(
                        product=product, kind=kind, segment=segment, text=f"{product.title} ({segment} {kind})"
                    )
                    services.publish(draft, by=staff)
    experiment = None
    if args.experiment:
        from oscar_llm.experiments import services as experiments
        from oscar_llm.models import Experiment

        Experiment.objects.filter(name="bench_pages").delete()
        experiment = experiments.create(
            name="bench_pages", kind="product_copy", scope="products", products=products, by=staff
        )
        experiments.start(experiment)
    # Recommendations: the engine fitted on the demo shop's histories, so the customer has a list and
    # the products have neighbours; every block switched on.
    settings.OSCAR_LLM = {
        **getattr(settings, "OSCAR_LLM", {}),
        "RECOMMENDATIONS": {
            **llm_settings.RECOMMENDATIONS,
            "ENGINE_DIR": str(ROOT / "var" / "bench_pages_recommender"),
            "ACTIVE_DAYS": 3650,  # the demo's histories reach back 60 days
        },
    }
    llm_settings.reload()
    FeatureSwitch.set(Feature.RECOMMENDATIONS, enabled=True)
    if not precompute.engine_path().exists() or not RecommendationList.objects.filter(kind=USER).exists():
        print("fitting the recommendation engine on the demo histories ...")
        precompute.fit()
    for row in RecommendationBlock.objects.all():
        if not row.enabled:
            row.enabled = True
            row.save()
    with_list = set(RecommendationList.objects.filter(kind=USER).values_list("key", flat=True))
    customer = next(u for u in get_user_model().objects.filter(is_staff=False).order_by("pk") if str(u.pk) in with_list)
    CustomerSegment.objects.update_or_create(user=customer, defaults={"segment": "premium"})
    client = Client()
    client.force_login(customer)
    for product in products[:2]:
        client.post(f"/basket/add/{product.pk}/", {"quantity": 1})
    urls = {"product": [p.get_absolute_url() for p in products], "basket": ["/basket/"] * len(products)}
    # Oscar's own template folder first: its templates win over the plugin's overrides.
    oscar_templates = Path(oscar.__file__).resolve().parent / "templates"
    plain_templates = [{**settings.TEMPLATES[0], "DIRS": [oscar_templates, *settings.TEMPLATES[0]["DIRS"]]}]

    def switch(on: bool) -> None:
        for feature in Feature:
            FeatureSwitch.set(feature, enabled=on)
        cache.clear()

    def run(page: str) -> list[float]:
        times = []
        for url in urls[page]:
            start = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - start)
            assert response.status_code == 200, (url, response.status_code)
        return times

    def measure(page: str, mode: str) -> list[float]:
        switch(mode != "off")
        if mode == "oscar":
            with override_settings(TEMPLATES=plain_templates):
                run(page)  # refill what the switch cleared
                return run(page)
        run(page)
        return run(page)

    switch(True)
    # The "on" side must really show what it claims: count the blocks and the copy in the markup.
    shown = {}
    for page in urls:
        html = client.get(urls[page][0]).content.decode()
        shown[page] = {"blocks": html.count("data-oscar-llm-rec-block="), "copy": html.count('data-oscar-llm="')}
    samples = {f"{page}/{mode}": [] for page in urls for mode in ("off", "on", "oscar")}
    round_ratios: dict[str, list[float]] = {page: [] for page in urls}
    for n_round in range(args.rounds):
        for page in urls:
            # Alternate which side goes first, so neither always follows the other.
            order = ("off", "on") if n_round % 2 == 0 else ("on", "off")
            medians = {}
            for mode in order:
                times = measure(page, mode)
                samples[f"{page}/{mode}"] += times
                medians[mode] = statistics.median(times)
            round_ratios[page].append(medians["on"] / medians["off"])
            if page == "product":
                samples["product/oscar"] += measure(page, "oscar")
    switch(True)
    result: dict = {"pages": {}, "shown_on": shown, "rounds": args.rounds}
    for page in urls:
        med = {
            mode: statistics.median(samples[f"{page}/{mode}"]) * 1000
            for mode in ("off", "on", "oscar")
            if samples[f"{page}/{mode}"]
        }
        paired = statistics.median(round_ratios[page])
        result["pages"][page] = {
            "median_ms": {k: round(v, 3) for k, v in med.items()},
            "ratio_on_vs_off": round(med["on"] / med["off"], 4),
            "paired_ratio": round(paired, 4),
            "requests_per_mode": len(samples[f"{page}/on"]),
        }
        if "oscar" in med:
            result["pages"][page]["ratio_on_vs_plain_oscar"] = round(med["on"] / med["oscar"], 4)
        print(
            f"{page:>7}: off {med['off']:.2f} ms, on {med['on']:.2f} ms"
            + (f", plain Oscar {med['oscar']:.2f} ms" if "oscar" in med else "")
            + f"; on/off {med['on'] / med['off']:.4f}, median of per-round ratios {paired:.4f}"
            + f" ({len(samples[f'{page}/on'])} requests each; shown on: {shown[page]})"
        )
    result["experiment_running"] = experiment is not None
    if experiment is not None:
        from oscar_llm.experiments import exposures
        from oscar_llm.experiments import services as experiments

        exposures.flush()
        result["experiment_visitors"] = experiments.results(experiment)["visitors"]
        experiments.stop(experiment)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
