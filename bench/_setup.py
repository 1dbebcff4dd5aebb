"""Shared set-up for the benchmarks: Django on the configured database with the demo shop."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
    # Benchmarks write their own rows: keep them out of the demo shop's database.
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}")
    os.environ.setdefault("OSCAR_LLM_SEARCH_INDEX", str(ROOT / "var" / "bench_whoosh_index"))
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ["CELERY_BROKER_URL"] = "memory://"  # jobs the bench creates are not for the demo worker
    import django

    django.setup()


def ensure_demo_shop() -> None:
    from django.core.management import call_command
    from oscar.core.loading import get_model

    call_command("migrate", verbosity=0, interactive=False)
    if get_model("catalogue", "Product").objects.count() < 300:
        call_command("oscar_llm_demo_data", verbosity=0)
