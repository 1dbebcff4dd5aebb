"""Shared set-up for the benchmarks: Django on the configured database with the demo shop."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def django_setup(broker: str = "memory://") -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
    # Benchmarks write their own rows: keep them out of the demo shop's database.
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}")
    os.environ.setdefault("OSCAR_LLM_SEARCH_INDEX", str(ROOT / "var" / "bench_whoosh_index"))
    os.environ.setdefault("DJANGO_DEBUG", "0")
    # Production settings refuse to start without a secret key and redirect plain HTTP to HTTPS:
    # a bench's own key, and its test client speaks plain HTTP.
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("DJANGO_SECURE", "0")
    os.environ["CELERY_BROKER_URL"] = broker  # by default the jobs a bench creates are for no worker
    import django

    django.setup()


def ensure_demo_shop() -> None:
    from django.core.management import call_command
    from oscar.core.loading import get_model

    call_command("migrate", verbosity=0, interactive=False)
    if get_model("catalogue", "Product").objects.count() < 300:
        # The bench's own database (never the demo shop's), so the demo command's guard is lifted.
        call_command("oscar_llm_demo_data", "--not-a-demo-database-i-know", verbosity=0)
