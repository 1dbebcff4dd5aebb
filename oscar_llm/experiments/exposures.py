"""Exposures: a visitor was shown an arm. Buffered in the cache, written in bulk, never per page view.

On the page, :func:`expose` remembers in the session which (experiment, product) this visitor has
already been counted for, and only a new one costs anything: one ``incr`` and one ``set`` in the
cache (a numbered entry). :func:`flush` moves the entries into :class:`~oscar_llm.models.ExperimentExposure`
rows (one per visitor and experiment, with the products shown) in three queries per batch: by the
periodic task, before the dashboard reads results, and by the web process itself at most once a
minute (a per-process cache such as LocMemCache is only visible to its own process), like the
recommendation blocks' impressions.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ..models import Experiment, ExperimentExposure, Interaction
from .assignment import Assignment

logger = logging.getLogger(__name__)

SEEN_SESSION_KEY = "oscar_llm_xp_seen"
SEQ_KEY = "oscar_llm:xp:seq"
DONE_KEY = "oscar_llm:xp:done"
LOCK_KEY = "oscar_llm:xp:flushing"
ENTRY_SECONDS = 2 * 86400
FLUSH_EVERY_SECONDS = 60.0
FLUSH_AT_COUNT = 200
# Entries numbered this close to the newest may still be being written by another process.
IN_FLIGHT = 20
MAX_PRODUCTS = 50
PRE_ACTIVITY_DAYS = 30

_flush_lock = threading.Lock()
_last_flush = time.monotonic()


def _entry_key(n: int) -> str:
    return f"oscar_llm:xp:e:{n}"


def expose(request: Any, assignment: Assignment | None, product_id: int | None = None) -> None:
    """The visitor was shown ``assignment``'s arm (on ``product_id``'s page). Never raises."""
    global _last_flush
    if assignment is None:
        return
    try:
        session = getattr(request, "session", None)
        seen_key = f"{assignment.experiment_id}:{product_id or 0}"
        if session is not None:
            seen = session.get(SEEN_SESSION_KEY) or []
            if seen_key in seen:
                return
            session[SEEN_SESSION_KEY] = [*seen[-(4 * MAX_PRODUCTS) :], seen_key]
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and getattr(user, "is_authenticated", False) else None
        entry = [
            assignment.experiment_id,
            assignment.arm_id,
            assignment.unit,
            user_id,
            assignment.visitor_segment,
            product_id,
            timezone.now().isoformat(),
        ]
        n = _next_number()
        cache.set(_entry_key(n), entry, ENTRY_SECONDS)
        if n % FLUSH_AT_COUNT == 0 or time.monotonic() - _last_flush >= FLUSH_EVERY_SECONDS:
            flush()
    except Exception:
        logger.exception("Could not record an experiment exposure")


def _next_number() -> int:
    try:
        return cache.incr(SEQ_KEY)
    except ValueError:
        return 1 if cache.add(SEQ_KEY, 1, timeout=None) else cache.incr(SEQ_KEY)


def flush(limit: int = 20000) -> int:
    """Write buffered exposures to their rows; returns how many entries were taken."""
    global _last_flush
    with _flush_lock:
        _last_flush = time.monotonic()
        if not cache.add(LOCK_KEY, 1, 30):
            return 0
        try:
            return _flush(limit)
        finally:
            cache.delete(LOCK_KEY)


def _flush(limit: int) -> int:
    newest = cache.get(SEQ_KEY) or 0
    done = cache.get(DONE_KEY) or 0
    if newest < done:  # the cache was flushed: start again from its counter
        done = 0
    taken = 0
    while done < newest and taken < limit:
        numbers = list(range(done + 1, min(newest, done + 1000) + 1))
        found = cache.get_many([_entry_key(n) for n in numbers])
        batch = []
        last = done
        for n in numbers:
            entry = found.get(_entry_key(n))
            if entry is None and n > newest - IN_FLIGHT:
                break  # perhaps still being written: the next flush takes it
            last = n
            if entry is not None:
                batch.append(entry)
        if last == done:
            break
        save(batch)
        cache.delete_many([_entry_key(n) for n in range(done + 1, last + 1)])
        cache.set(DONE_KEY, last, timeout=None)
        taken += len(batch)
        done = last
    return taken


def save(entries: list[list[Any]]) -> int:
    """Create or extend the exposure rows of ``entries`` ([experiment, arm, unit, user, segment, product, at])."""
    if not entries:
        return 0
    live = set(
        Experiment.objects.filter(pk__in={e[0] for e in entries}, status=Experiment.Status.RUNNING).values_list(
            "pk", flat=True
        )
    )
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    for exp_id, arm_id, unit, user_id, segment, product_id, at in entries:
        if exp_id not in live or not unit:
            continue
        when = parse_datetime(at) or timezone.now()
        row = rows.setdefault(
            (exp_id, unit),
            {"arm": arm_id, "user": user_id, "segment": segment or "", "products": [], "first": when, "last": when},
        )
        if product_id and product_id not in row["products"]:
            row["products"].append(product_id)
        row["first"], row["last"] = min(row["first"], when), max(row["last"], when)
        row["user"] = row["user"] or user_id
    if not rows:
        return 0
    with transaction.atomic():
        existing = {
            (x.experiment_id, x.unit): x
            for x in ExperimentExposure.objects.select_for_update().filter(
                experiment_id__in={k[0] for k in rows}, unit__in={k[1] for k in rows}
            )
        }
        new, changed = [], []
        pre = _pre_activity({k[1] for k in rows if k not in existing}, min(r["first"] for r in rows.values()))
        for key, row in rows.items():
            current = existing.get(key)
            if current is None:
                new.append(
                    ExperimentExposure(
                        experiment_id=key[0],
                        arm_id=row["arm"],
                        unit=key[1],
                        user_id=row["user"],
                        segment=row["segment"],
                        product_ids=row["products"][:MAX_PRODUCTS],
                        first_exposed_at=row["first"],
                        last_exposed_at=row["last"],
                        pre_activity=pre.get(key[1], 0.0),
                    )
                )
            else:
                merged = list(dict.fromkeys([*current.product_ids, *row["products"]]))[:MAX_PRODUCTS]
                current.product_ids = merged
                current.last_exposed_at = max(current.last_exposed_at, row["last"])
                current.user_id = current.user_id or row["user"]
                changed.append(current)
        ExperimentExposure.objects.bulk_create(new, ignore_conflicts=True)
        if changed:
            ExperimentExposure.objects.bulk_update(changed, ["product_ids", "last_exposed_at", "user"])
    return len(rows)


def _pre_activity(units: set[str], before: datetime.datetime) -> dict[str, float]:
    """Events of each visitor in the 30 days before its first exposure: the CUPED covariate."""
    if not units:
        return {}
    since = before - datetime.timedelta(days=PRE_ACTIVITY_DAYS)
    counts = (
        Interaction.objects.filter(session_key__in=units, created_at__gte=since, created_at__lt=before)
        .values("session_key")
        .annotate(n=Count("pk"))
    )
    return {row["session_key"]: float(row["n"]) for row in counts}
