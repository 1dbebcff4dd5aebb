"""What a new user's demo shop shows, read from its database: does every feature do real work?

    # after `bin/demo` (its SQLite database, var/db.sqlite3), while or after the worker runs
    .venv/bin/python bench/bench_demo.py
    .venv/bin/python bench/bench_demo.py --wait 600   # poll until the figures hold or 10 minutes pass

Prints, then a JSON line:
- the demo support tickets whose current draft passed every check (not "needs a human");
- the supplier-feed products (no written copy) with an accepted title and an accepted description
  draft that differ from the coded title;
- the share of all product-copy drafts that repeat the text their product already shows
  ("no change proposed");
- the segment figures of the descriptions (``oscar_llm.content.figures``): products whose variants
  are all different texts, variants stating a fact their segment leads with.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def figures() -> dict[str, Any]:
    from oscar.core.loading import get_model

    from oscar_llm.catalogue import has_written_copy
    from oscar_llm.content.figures import segment_figures
    from oscar_llm.guardrails.text import normalise
    from oscar_llm.models import ContentDraft, ReplyDraft, Ticket

    accepted = (ContentDraft.Status.DRAFT, ContentDraft.Status.APPROVED)
    tickets = list(Ticket.objects.all())
    drafted = 0
    for ticket in tickets:
        draft = ticket.drafts.exclude(status=ReplyDraft.Status.SUPERSEDED).order_by("-created_at", "-pk").first()
        drafted += bool(draft and draft.text and not draft.needs_human and not draft.reasons)

    Product = get_model("catalogue", "Product")
    supplier = [
        p for p in Product.objects.filter(is_public=True) if not has_written_copy({"description": p.description})
    ]
    covered = 0
    for product in supplier:
        kinds = set()
        for draft in ContentDraft.objects.filter(product=product, status__in=accepted):
            if normalise(draft.text) != normalise(product.title):
                kinds.add(draft.kind)
        covered += {"title", "description"} <= kinds
    all_drafts = ContentDraft.objects.count()
    echoes = ContentDraft.objects.filter(status=ContentDraft.Status.NO_CHANGE).count()
    segments = segment_figures("description")
    return {
        "tickets": len(tickets),
        "tickets_with_passing_draft": drafted,
        "supplier_products": len(supplier),
        "supplier_products_with_title_and_description": covered,
        "drafts": all_drafts,
        "drafts_by_status": {
            status: ContentDraft.objects.filter(status=status).count() for status in ContentDraft.Status.values
        },
        "no_change_drafts": echoes,
        "no_change_share": round(echoes / all_drafts, 4) if all_drafts else None,
        "description_variants": {k: v for k, v in segments.items() if k != "by_source"},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wait", type=float, default=0, help="Poll every 20 s for up to this many seconds.")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
    os.environ.setdefault("DJANGO_DEBUG", "1")  # it reads the demo shop, which runs in debug (bin/demo)
    if os.environ.get("BENCH_DATABASE_URL"):
        os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    import django

    django.setup()
    started = time.monotonic()
    while True:
        result = figures()
        variants = result["description_variants"]
        done = (
            result["tickets_with_passing_draft"] >= 3
            and result["supplier_products_with_title_and_description"] == result["supplier_products"]
        )
        elapsed = time.monotonic() - started
        print(
            f"[{elapsed:5.0f}s] tickets drafted {result['tickets_with_passing_draft']}/{result['tickets']}; "
            f"supplier products with title+description {result['supplier_products_with_title_and_description']}/"
            f"{result['supplier_products']}; no change {result['no_change_drafts']}/{result['drafts']} drafts; "
            f"distinct description variants {variants['products_distinct']}/{variants['products_with_variants']}; "
            f"variants stating a lead fact {variants['stating_lead_fact']}/{variants['segment_variants']}",
            flush=True,
        )
        if done or elapsed >= args.wait:
            break
        time.sleep(20)
    print(json.dumps({**result, "seconds": round(elapsed, 1)}, default=str))


if __name__ == "__main__":
    main()
