"""``manage.py oscar_llm_demo_data``: fill the example shop with a catalogue, customers and a staff login.

It also writes the support desk's seed tickets (:mod:`oscar_llm.demo.support_seed`) as a Bitext-format
CSV, by default ``<VAR_DIR>/support_seed.csv``: ``oscar_llm_train --support`` fits the ticket triage and
teaches the shop model support replies from it on a machine that has no other ticket data.
"""

from __future__ import annotations

import json
import sys
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from oscar_llm.demo.shop import DEFAULT_SEED, create_demo_shop
from oscar_llm.demo.support_seed import write_seed_csv


def default_seed_path() -> Path:
    """``<VAR_DIR>/support_seed.csv`` (``VAR_DIR`` is the example shop's setting; else ``./var``)."""
    return Path(getattr(settings, "VAR_DIR", None) or Path.cwd() / "var") / "support_seed.csv"


class Command(BaseCommand):
    help = (
        "Create the demo shop: about 320 fashion and beauty products, 25 customers with browsing "
        "histories, baskets and orders, a staff user (staff@example.com / staff-password), and every "
        "oscar_llm feature switched on. Running it again adds only what is missing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="Random seed (default %(default)s).")
        parser.add_argument(
            "--support-seed",
            metavar="CSV",
            help="Where to write the support seed tickets (default: <VAR_DIR>/support_seed.csv).",
        )
        parser.add_argument("--json", action="store_true", help="Print a JSON summary as the last line.")

    def handle(self, *args: Any, **options: Any) -> None:
        # tqdm needs the raw stream: Django's OutputWrapper adds a newline to every write.
        # disable=None hides the bar when the stream is not a terminal (logs, tests).
        progress = partial(
            tqdm,
            file=options.get("stderr") or sys.stderr,
            disable=None if options["verbosity"] > 0 else True,
            leave=False,
        )
        summary = create_demo_shop(options["seed"], progress=progress)
        self.stdout.write(summary.line())
        if summary.created.get("staff"):
            self.stdout.write("The staff password is staff-password; change it outside a demo.")
        # Rewritten on every run (it is derived from code alone), so it follows the project's phrasings.
        seed = write_seed_csv(options["support_seed"] or default_seed_path())
        self.stdout.write(
            f"Support seed: {seed['rows']} example tickets of {seed['intents']} intents written to {seed['path']} "
            f"(train with `manage.py oscar_llm_train --support {seed['path']}`)"
        )
        if options["json"]:
            self.stdout.write(json.dumps({**summary.as_dict(), "support_seed": seed}, sort_keys=True))
