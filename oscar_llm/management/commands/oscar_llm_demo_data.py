"""``manage.py oscar_llm_demo_data``: fill the example shop with a catalogue, customers and a staff login."""

from __future__ import annotations

import json
import sys
from functools import partial
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from oscar_llm.demo.shop import DEFAULT_SEED, create_demo_shop


class Command(BaseCommand):
    help = (
        "Create the demo shop: about 320 fashion and beauty products, 25 customers with browsing "
        "histories, baskets and orders, a staff user (staff@example.com / staff-password), and every "
        "oscar_llm feature switched on. Running it again adds only what is missing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="Random seed (default %(default)s).")
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
        if options["json"]:
            self.stdout.write(json.dumps(summary.as_dict(), sort_keys=True))
