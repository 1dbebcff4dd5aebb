"""Periodic tasks of the support desk (Celery beat)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="oscar_llm.tasks.purge_old_tickets", ignore_result=True)
def purge_old_tickets() -> int:
    """Daily: the support retention setting (``OSCAR_LLM["SUPPORT"]["RETENTION_DAYS"]``)."""
    from .retention import purge_old_tickets as purge

    return purge()
