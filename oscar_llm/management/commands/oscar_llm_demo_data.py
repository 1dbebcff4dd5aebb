"""``manage.py oscar_llm_demo_data``: fill the example shop with a catalogue, customers and a staff login.

It also writes the support desk's seed tickets (:mod:`oscar_llm.demo.support_seed`) as a Bitext-format
CSV, by default ``<VAR_DIR>/support_seed.csv``: ``oscar_llm_train --support`` fits the ticket triage and
teaches the shop model support replies from it on a machine that has no other ticket data.
"""

from __future__ import annotations

import json
import secrets
import sys
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from oscar_llm.demo.shop import CUSTOMER_PASSWORD, DEFAULT_SEED, STAFF_PASSWORD, create_demo_shop
from oscar_llm.demo.support_seed import write_seed_csv


def default_seed_path() -> Path:
    """``<VAR_DIR>/support_seed.csv`` (``VAR_DIR`` is the example shop's setting; else ``./var``)."""
    return Path(getattr(settings, "VAR_DIR", None) or Path.cwd() / "var") / "support_seed.csv"


class Command(BaseCommand):
    help = (
        "Create the demo shop: about 320 fashion and beauty products, 25 customers with browsing "
        "histories, baskets and orders, a staff user (staff@example.com / staff-password), and every "
        "oscar_llm feature switched on. Running it again adds only what is missing. It runs only with "
        "DEBUG on (bin/demo) unless given --not-a-demo-database-i-know; then the staff password is random "
        "(printed once) and the demo customers have none."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="Random seed (default %(default)s).")
        parser.add_argument(
            "--support-seed",
            metavar="CSV",
            help="Where to write the support seed tickets (default: <VAR_DIR>/support_seed.csv).",
        )
        parser.add_argument("--json", action="store_true", help="Print a JSON summary as the last line.")
        parser.add_argument(
            "--not-a-demo-database-i-know",
            dest="allow_without_debug",
            action="store_true",
            help="Run with DEBUG off (a staging copy): adds demo customers, orders and a superuser to this database.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # tqdm needs the raw stream: Django's OutputWrapper adds a newline to every write.
        # disable=None hides the bar when the stream is not a terminal (logs, tests).
        progress = partial(
            tqdm,
            file=options.get("stderr") or sys.stderr,
            disable=None if options["verbosity"] > 0 else True,
            leave=False,
        )
        if not settings.DEBUG and not options["allow_without_debug"]:
            raise CommandError(
                "oscar_llm_demo_data fills a database with demo customers, orders and a superuser, so it runs "
                "only with DEBUG on (DJANGO_DEBUG=1, as bin/demo sets it). To load it into another database "
                "anyway, pass --not-a-demo-database-i-know."
            )
        # The published passwords belong to the local demo only.
        staff_password = STAFF_PASSWORD if settings.DEBUG else secrets.token_urlsafe(18)
        summary = create_demo_shop(
            options["seed"],
            progress=progress,
            staff_password=staff_password,
            customer_password=CUSTOMER_PASSWORD if settings.DEBUG else None,
        )
        self.stdout.write(summary.line())
        if summary.created.get("staff"):
            if settings.DEBUG:
                self.stdout.write(f"The staff password is {STAFF_PASSWORD} (the demo's, published).")
            else:
                self.stdout.write(f"The staff password is {staff_password} (shown once; the customers have none).")
        if summary.staff_left_alone:
            self.stdout.write(
                f"An account {summary.staff_email} (or username 'staff') already exists and was left as it was: "
                "it is not made a superuser."
            )
        # Rewritten on every run (it is derived from code alone), so it follows the project's phrasings.
        seed = write_seed_csv(options["support_seed"] or default_seed_path())
        self.stdout.write(
            f"Support seed: {seed['rows']} example tickets of {seed['intents']} intents written to {seed['path']} "
            f"(train with `manage.py oscar_llm_train --support {seed['path']}`)"
        )
        if options["json"]:
            self.stdout.write(json.dumps({**summary.as_dict(), "support_seed": seed}, sort_keys=True))
