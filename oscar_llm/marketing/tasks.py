"""Periodic tasks of marketing (beat entries in ``oscar_llm/config.py``)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="oscar_llm.tasks.marketing_profiles", ignore_result=True)
def refresh_profiles() -> int:
    """Queue the profile job (the worker that claims it computes every customer's profile)."""
    from .profiles import request_profiles

    return request_profiles().pk
