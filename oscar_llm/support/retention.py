"""How long the support desk keeps what customers wrote: ``OSCAR_LLM["SUPPORT"]["RETENTION_DAYS"]``.

The same shape as the interactions' retention (``interactions.purge_old_events``): a ticket nobody
touched for that many days is deleted with its messages and reply drafts (and the drafting jobs that
point at its messages), by a daily beat task. Approved replies of deleted tickets no longer serve as
examples for new drafts.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from ..models import Job, Message, Ticket
from ..settings import llm_settings
from .kinds import DRAFT_JOB, MESSAGE_TARGET

logger = logging.getLogger(__name__)

BATCH = 500


def retention_days() -> float | None:
    days = (llm_settings.SUPPORT or {}).get("RETENTION_DAYS")
    return float(days) if days else None


def purge_old_tickets(now: Any = None) -> int:
    """Delete tickets last updated before the retention window; returns how many (None or 0 keeps all)."""
    days = retention_days()
    if not days:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted = 0
    while True:
        ids = list(Ticket.objects.filter(updated_at__lt=cutoff).order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            break
        with transaction.atomic():
            message_ids = list(Message.objects.filter(ticket_id__in=ids).values_list("pk", flat=True))
            Job.objects.filter(kind=DRAFT_JOB, target_model=MESSAGE_TARGET, target_id__in=message_ids).delete()
            Ticket.objects.filter(pk__in=ids).delete()  # messages and drafts cascade
        deleted += len(ids)
    if deleted:
        logger.info("Deleted %d support tickets untouched for more than %s days", deleted, days)
    return deleted
