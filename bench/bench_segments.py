"""Do the shop model's segment variants differ, and does each lead with its segment's facts?

    # the figures of the drafts in a database that has them
    BENCH_DATABASE_URL=sqlite:////path/to/db.sqlite3 .venv/bin/python bench/bench_segments.py

    # the whole run on a fresh database: migrate, demo shop, train, generate inline, figures
    BENCH_DATABASE_URL=sqlite:///$PWD/var/h4.sqlite3 .venv/bin/python bench/bench_segments.py \\
        --pipeline --model var/h4_model --minutes 2

Prints, per kind (descriptions and meta descriptions), the share of products with variants whose
segment variants are all different texts, and the share of segment variants that state at least
one (and whose first sentence states the first) of the facts their segment leads with
(``oscar_llm.content.figures``), for all products and split into products with written copy and
supplier-feed products; last, a JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _line(kind: str, source: str, figures: dict) -> str:
    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.1%}"

    return (
        f"{kind:<17} {source:<14} products {figures['products']:>4}; "
        f"distinct variants {figures['products_distinct']}/{figures['products_with_variants']} "
        f"({pct(figures['distinct_share'])}); "
        f"state a lead fact {figures['stating_lead_fact']}/{figures['segment_variants']} "
        f"({pct(figures['stating_share'])}); "
        f"lead with it {figures['leading_with_first_fact']}/{figures['segment_variants']} "
        f"({pct(figures['leading_share'])})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--pipeline", action="store_true", help="Migrate, load the demo shop, train and generate first."
    )
    parser.add_argument(
        "--model", default=str(ROOT / "var" / "shop_model"), help="Shop model dir (written with --pipeline)."
    )
    parser.add_argument("--minutes", type=float, default=2.0, help="Training budget with --pipeline.")
    parser.add_argument("--kind", action="append", help="Kinds to measure (default: description, meta_description).")
    args = parser.parse_args()

    os.environ["OSCAR_LLM_MODEL_DIR"] = str(Path(args.model).resolve())
    sys.path.insert(0, str(ROOT / "bench"))
    from _setup import django_setup

    django_setup()
    from django.core.management import call_command

    from oscar_llm.content.figures import segment_figures

    timings: dict[str, float] = {}
    if args.pipeline:
        for name, command, options in (
            ("migrate", "migrate", {"interactive": False}),
            ("demo_data", "oscar_llm_demo_data", {"allow_without_debug": True}),
            ("train", "oscar_llm_train", {"out": args.model, "minutes": args.minutes}),
            ("generate", "oscar_llm_generate", {"inline": True, "json": True}),
        ):
            started = time.monotonic()
            call_command(command, verbosity=0, **options)
            timings[name] = round(time.monotonic() - started, 1)
    results = {}
    for kind in args.kind or ["description", "meta_description"]:
        figures = segment_figures(kind)
        results[kind] = figures
        print(_line(kind, "all", figures))
        for source, part in figures["by_source"].items():
            print(_line(kind, source, part))
        for segment, row in figures["by_segment"].items():
            print(
                f"{'':<17} {segment:<14} {row['variants']} variants: state a lead fact {row['stating_share']}, "
                f"lead with it {row['leading_share']}"
            )
    print(json.dumps({"timings": timings, "figures": results}, default=str))


if __name__ == "__main__":
    main()
