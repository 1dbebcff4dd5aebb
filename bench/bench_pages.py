"""Product page time with every plugin feature on against the plugin switched off.

Measured in one run, interleaved in blocks so drift hits both sides alike:
  * off:  every oscar_llm feature switched off (what a shop owner does in admin)
  * on:   every feature on, published generated copy on every measured product,
          a logged-in customer with a segment (the most expensive visitor)
  * oscar: plain Oscar templates (the plugin's template overrides removed), for reference

With ``--experiment`` a product copy experiment (original vs generated copy, every text) runs on the
measured products throughout, so "on" includes the assignment and the exposure buffer.

Usage: python bench/bench_pages.py [--products 20] [--rounds 15] [--experiment]
Prints one line per mode and a JSON line with the ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from _setup import django_setup, ensure_demo_shop


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
    from oscar_llm.models import ContentDraft, CustomerSegment, Feature, FeatureSwitch

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
    customer = get_user_model().objects.filter(is_staff=False).order_by("pk").first()
    CustomerSegment.objects.update_or_create(user=customer, defaults={"segment": "premium"})
    experiment = None
    if args.experiment:
        from oscar_llm.experiments import services as experiments
        from oscar_llm.models import Experiment

        Experiment.objects.filter(name="bench_pages").delete()
        experiment = experiments.create(
            name="bench_pages", kind="product_copy", scope="products", products=products, by=staff
        )
        experiments.start(experiment)
    client = Client()
    client.force_login(customer)
    urls = [p.get_absolute_url() for p in products]
    # Oscar's own template folder first: its templates win over the plugin's overrides.
    oscar_templates = Path(oscar.__file__).resolve().parent / "templates"
    plain_templates = [{**settings.TEMPLATES[0], "DIRS": [oscar_templates, *settings.TEMPLATES[0]["DIRS"]]}]

    def switch(on: bool) -> None:
        for feature in Feature:
            FeatureSwitch.set(feature, enabled=on)
        cache.clear()

    def block(mode: str) -> list[float]:
        times = []
        for url in urls:
            start = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - start)
            assert response.status_code == 200, (url, response.status_code)
        return times

    samples: dict[str, list[float]] = {"off": [], "on": [], "oscar": []}
    switch(True)
    block("warm")
    for _ in range(args.rounds):
        switch(False)
        samples["off"] += block("off")
        with override_settings(TEMPLATES=plain_templates):
            samples["oscar"] += block("oscar")
        switch(True)
        block("warm")  # refill the published-copy cache the switch cleared
        samples["on"] += block("on")
    switch(True)
    med = {k: statistics.median(v) * 1000 for k, v in samples.items()}
    for mode in ("oscar", "off", "on"):
        print(f"{mode:>5}: median {med[mode]:.2f} ms over {len(samples[mode])} requests")
    result = {
        "median_ms": {k: round(v, 3) for k, v in med.items()},
        "ratio_on_vs_off": round(med["on"] / med["off"], 4),
        "ratio_on_vs_plain_oscar": round(med["on"] / med["oscar"], 4),
        "requests_per_mode": len(samples["on"]),
        "experiment_running": experiment is not None,
    }
    if experiment is not None:
        from oscar_llm.experiments import exposures
        from oscar_llm.experiments import services as experiments

        exposures.flush()
        result["experiment_visitors"] = experiments.results(experiment)["visitors"]
        experiments.stop(experiment)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
