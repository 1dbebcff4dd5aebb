"""Storefront events and visitor keys: the shop's history every feature learns from.

Oscar's signals become :class:`~oscar_llm.models.Interaction` rows. A page view only adds its row
to this process's buffer, which a background thread sends to a worker as one broker message per
batch (``record_interactions`` writes them; docs/architecture.md, "No model on the request path");
basket additions and searches are sent at once, orders written at once.
Anonymous events are keyed by a visitor id kept in the session *data* (Django cycles the session
key at login but keeps the data), so at login the visitor's history joins the account.

Features listen to :data:`interactions_saved` and :data:`visitor_merged` instead of this module
calling them (docs/architecture.md, "Layers"). Never raises into the request.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.db import OperationalError, connections
from django.dispatch import Signal
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .models import Feature, FeatureSwitch, Interaction
from .settings import llm_settings

logger = logging.getLogger(__name__)

EVENT_WEIGHTS = {"view": 1.0, "basket": 3.0, "purchase": 5.0, "search": 0.5, "click": 1.0}
VISITOR_SESSION_KEY = "oscar_llm_visitor"

#: Sent after event rows are written: ``owners`` is a set of ``(user_id, visitor)`` that acted on a product.
interactions_saved = Signal()
#: Sent after a visitor's events joined an account at login: ``visitor``, ``user``, ``moved`` (rows).
visitor_merged = Signal()


def visitor_key(request: Any, *, create: bool = False) -> str:
    """The anonymous visitor id events are keyed by, kept in the session *data*.

    Django cycles the session key at login but keeps the data, so this id survives the login and
    lets the visitor's history join the account. ``create`` starts one (events do; pages only read).
    """
    session = getattr(request, "session", None)
    if session is None:
        return ""
    try:
        key = session.get(VISITOR_SESSION_KEY, "")
        if not key and create:
            key = uuid.uuid4().hex
            session[VISITOR_SESSION_KEY] = key
        return key or ""
    except Exception:  # a broken session store must not break the page
        logger.warning("Could not read the visitor id from the session", exc_info=True)
        return ""


def recording() -> bool:
    """Events are kept while a feature that learns from them is on."""
    return FeatureSwitch.is_enabled(Feature.RECOMMENDATIONS) or FeatureSwitch.is_enabled(Feature.PRODUCT_COPY)


def record(request: Any, user: Any, product: Any, event: str, *, weight: float | None = None, query: str = "") -> None:
    try:
        if not recording():
            return
        authenticated = bool(user and getattr(user, "is_authenticated", False))
        visitor = ""
        if request is not None and not authenticated:
            # A visitor id in the session *data* (not the session key, which Django cycles at
            # login): no extra write here, and the history can join the account at login.
            visitor = visitor_key(request, create=True)
        row = {
            "user_id": user.pk if authenticated else None,
            "session_key": visitor,
            "product_id": getattr(product, "pk", None),
            "event": event,
            "weight": EVENT_WEIGHTS.get(event, 1.0) * (weight or 1.0),
            "query": (query or "")[:255],
            "created_at": timezone.now().isoformat(),
        }
        if request is None:
            # Not a page view (an order being placed, a command): write now, in order.
            save([row])
        else:
            dispatch([row])
    except Exception:
        logger.exception("Could not record a %s event", event)


def dispatch(rows: list[dict[str, Any]]) -> None:
    """Hand storefront events to a worker without a database write in the request.

    They wait in this process's :data:`buffer` for at most ``RECOMMENDATIONS["EVENT_BATCH_SECONDS"]``
    and go as one broker message per batch; with that setting 0, or Celery running tasks inline
    (``task_always_eager``), they are sent at once. With ``ASYNC_EVENTS`` off they are written here.
    """
    recs = llm_settings.RECOMMENDATIONS
    if not recs.get("ASYNC_EVENTS", True):
        save(rows)
        return
    seconds = float(recs.get("EVENT_BATCH_SECONDS") or 0)
    views = all(row.get("event") == "view" for row in rows)  # basket additions and searches go at once
    if seconds > 0 and views and not record_interactions.app.conf.task_always_eager:
        buffer.add(rows, seconds=seconds)
    else:
        send(rows)


def send(rows: list[dict[str, Any]]) -> None:
    """One broker message for ``rows``; when the broker is down they are written here instead."""
    try:
        record_interactions.apply_async((rows,))
        return
    except Exception:
        logger.warning("Could not queue %d events; writing them now", len(rows), exc_info=True)
    save(rows)


class EventBuffer:
    """Page-view events of this process, sent by a daemon thread as one message per batch.

    A page pays for a list append instead of a broker round trip. The thread sends what has
    gathered every ``seconds`` (sooner at ``BATCH_MAX`` rows); the process sends the rest when it
    exits normally. A process killed outright loses at most that many seconds of its page views;
    orders are written at once, and basket additions and searches are sent at once.
    """

    BATCH_MAX = 200

    def __init__(self) -> None:
        self._start()

    def _start(self) -> None:
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.rows: list[dict[str, Any]] = []
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None
        self.closed = False

    def add(self, rows: list[dict[str, Any]], *, seconds: float) -> None:
        if self.pid != os.getpid():
            self._start()  # a forked web worker: its own rows and its own thread
        with self.lock:
            self.rows.extend(rows)
            full = len(self.rows) >= self.BATCH_MAX
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, args=(seconds,), name="oscar-llm-events", daemon=True)
                self.thread.start()
        if full:
            self.wake.set()

    def _run(self, seconds: float) -> None:
        while not self.closed:
            self.wake.wait(seconds)
            self.wake.clear()
            try:
                self.flush()
            except Exception:
                logger.exception("Could not send buffered events")
            finally:
                connections.close_all()  # this thread's own connections (a save when the broker was down)

    def flush(self) -> int:
        """Send what is waiting now; the number of rows sent."""
        if self.pid != os.getpid():
            return 0
        with self.lock:
            rows, self.rows = self.rows, []
        for start in range(0, len(rows), self.BATCH_MAX):
            send(rows[start : start + self.BATCH_MAX])
        return len(rows)

    def close(self) -> None:
        """Send what is waiting and stop the thread (tests; the process's exit does the same)."""
        self.closed = True
        self.wake.set()
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(timeout=10)
        self.flush()


#: This process's page-view events on their way to a worker.
buffer = EventBuffer()
atexit.register(buffer.close)


def save(rows: Iterable[dict[str, Any]]) -> int:
    """Write event rows, then tell the features who acted (:data:`interactions_saved`)."""
    objects = []
    for row in rows:
        created = parse_datetime(row["created_at"]) if row.get("created_at") else None
        objects.append(
            Interaction(
                user_id=row.get("user_id"),
                session_key=row.get("session_key") or "",
                product_id=row.get("product_id"),
                event=row["event"],
                weight=float(row.get("weight") or 1.0),
                query=(row.get("query") or "")[:255],
                created_at=created or timezone.now(),
            )
        )
    if not objects:
        return 0
    Interaction.objects.bulk_create(objects)
    owners = {(o.user_id, "" if o.user_id else o.session_key) for o in objects if o.product_id}
    if owners:
        # The events are saved (a retry would duplicate them): a listener that fails is logged only.
        for receiver, response in interactions_saved.send_robust(sender=Interaction, owners=owners):
            if isinstance(response, Exception):
                logger.warning("%s failed after %d events: %s", receiver, len(objects), response)
    return len(objects)


def merge_visitor_into_user(visitor: str, user: Any) -> int:
    """Give an anonymous visitor's events to the account they just logged in to; returns how many."""
    if not visitor or user is None or not getattr(user, "pk", None):
        return 0
    moved = Interaction.objects.filter(user__isnull=True, session_key=visitor).update(user=user)
    if moved:
        visitor_merged.send(sender=Interaction, visitor=visitor, user=user, moved=moved)
    return moved


def purge_old_events(now: Any = None) -> int:
    """Delete interactions older than ``RECOMMENDATIONS["EVENT_RETENTION_DAYS"]`` (None or 0 keeps them)."""
    days = llm_settings.RECOMMENDATIONS.get("EVENT_RETENTION_DAYS")
    if not days:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=float(days))
    deleted, _ = Interaction.objects.filter(created_at__lt=cutoff).delete()
    if deleted:
        logger.info("Deleted %d interactions older than %s days", deleted, days)
    return deleted


# --- receivers (connected in OscarLLMConfig.ready) ------------------------------------------------


def on_product_viewed(sender: Any, product: Any, user: Any, request: Any = None, **kwargs: Any) -> None:
    record(request, user, product, "view")


def on_basket_addition(sender: Any, product: Any, user: Any, request: Any = None, **kwargs: Any) -> None:
    record(request, user, product, "basket")


def on_order_placed(sender: Any, order: Any, user: Any = None, **kwargs: Any) -> None:
    for line in order.lines.all():
        record(None, user or order.user, line.product, "purchase", weight=float(line.quantity))


def on_user_search(sender: Any, query: str, user: Any, request: Any = None, **kwargs: Any) -> None:
    record(request, user, None, "search", query=query)


def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Django cycled the session key but kept its data: the visitor id there is the anonymous history."""
    try:
        visitor = visitor_key(request)
        if visitor:
            merge_visitor_into_user(visitor, user)
            # Events of this visitor still in the broker land after this merge; merge them again then.
            merge_visitor_events.apply_async((visitor, user.pk), countdown=10)
    except Exception:
        logger.exception("Could not merge the visitor's history into user %s", getattr(user, "pk", None))


def connect_receivers() -> None:
    from django.contrib.auth.signals import user_logged_in
    from oscar.core.loading import get_class

    get_class("catalogue.signals", "product_viewed").connect(on_product_viewed, dispatch_uid="oscar_llm_product_viewed")
    get_class("basket.signals", "basket_addition").connect(on_basket_addition, dispatch_uid="oscar_llm_basket_addition")
    get_class("order.signals", "order_placed").connect(on_order_placed, dispatch_uid="oscar_llm_order_placed")
    get_class("search.signals", "user_search").connect(on_user_search, dispatch_uid="oscar_llm_user_search")
    user_logged_in.connect(on_login, dispatch_uid="oscar_llm_rec_login")


# --- Celery tasks (names kept from the first release, so queued messages still run) ------------------


@shared_task(
    name="oscar_llm.tasks.record_interactions",
    acks_late=True,
    ignore_result=True,
    # A busy database (SQLite's write lock, a failover) must not lose events: try again shortly.
    autoretry_for=(OperationalError,),
    retry_backoff=1,
    max_retries=8,
)
def record_interactions(rows: list[dict]) -> int:
    """Storefront events, written by a worker so page views never wait for the database."""
    return save(rows)


@shared_task(name="oscar_llm.tasks.merge_visitor_events", acks_late=True, ignore_result=True)
def merge_visitor_events(visitor: str, user_id: int) -> int:
    """After a login: catch the visitor's events that were still queued when the account took over."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(pk=user_id).first()
    return merge_visitor_into_user(visitor, user) if user else 0


@shared_task(name="oscar_llm.tasks.purge_old_interactions", ignore_result=True)
def purge_old_interactions() -> int:
    """Periodic (beat, daily): the event retention setting."""
    return purge_old_events()
