"""The reply library in the database: loading it for the drafter, adding to it, learning from decisions.

:class:`~oscar_llm.models.ReplyTemplate` rows are the library (docs/architecture.md, "Support
drafts"): the shop's reply patterns, replies staff saved from the dashboard, replies staff approved
(added when a draft is sent after an edit, or when the model wrote it) and an imported Bitext-format
file (``oscar_llm_train --support FILE``). Web processes only write rows; the worker embeds the new
ones when it loads the library (:func:`current_library`), so no model runs in a request.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from django.db.models import Avg, Count, F, Max, Q
from django.db.models.functions import Length

from ..models import ReplyDraft, ReplyTemplate
from .library import SOURCES, LibraryReply, ReplyLibrary, question_vectors, replies_from_rows

EMBED_BATCH = 64


def library_key() -> tuple[Any, ...]:
    """Changes when a library reply is added, edited, switched off or a draft from one is decided."""
    rows = ReplyTemplate.objects.aggregate(n=Count("pk"), changed=Max("updated_at"))
    decided = ReplyDraft.objects.filter(template__isnull=False).aggregate(at=Max("decided_at"), n=Count("pk"))
    return (rows["n"], rows["changed"], decided["at"], decided["n"])


def embed_stale(embedder: Any) -> int:
    """Store the question and reply vectors of every active row whose vectors are missing or outdated."""
    model_id = getattr(embedder, "model_id", "")
    stale = [
        row
        for row in ReplyTemplate.objects.filter(active=True).order_by("pk")
        if not row.vectors_are_fresh or (model_id and row.vector_model != model_id)
    ]
    for start in range(0, len(stale), EMBED_BATCH):
        chunk = stale[start : start + EMBED_BATCH]
        questions = question_vectors([r.question or r.text for r in chunk], embedder)
        replies = embedder.embed([r.text for r in chunk])
        for row, q, r in zip(chunk, questions, replies, strict=True):
            ReplyTemplate.objects.filter(pk=row.pk).update(
                question_vector=[round(float(v), 6) for v in q],
                reply_vector=[round(float(v), 6) for v in r],
                vector_model=model_id,
                text_hash=row.content_hash(),
            )
    return len(stale)


def load_library(embedder: Any) -> ReplyLibrary:
    """The active library replies with their vectors and what they achieved (worker side: may embed)."""
    embed_stale(embedder)
    rows = list(
        ReplyTemplate.objects.filter(active=True)
        .annotate(
            approvals=Count("drafts", filter=Q(drafts__status=ReplyDraft.Status.APPROVED)),
            edits=Count("drafts", filter=Q(drafts__status=ReplyDraft.Status.EDITED)),
            rejections=Count("drafts", filter=Q(drafts__status=ReplyDraft.Status.REJECTED)),
            edited_chars=Avg("drafts__edit_distance", filter=Q(drafts__status=ReplyDraft.Status.EDITED)),
            length=Length("text"),
        )
        .order_by("pk")
    )
    replies = [
        LibraryReply(
            id=row.pk,
            intent=row.intent,
            text=row.text,
            question=row.question,
            source=row.source,
            approvals=row.approvals,
            edits=row.edits,
            rejections=row.rejections,
            mean_edit=min(1.0, float(row.edited_chars or 0.0) / max(row.length or 1, 1)),
        )
        for row in rows
    ]
    if not replies:
        return ReplyLibrary([])
    return ReplyLibrary(
        replies,
        question_vectors=np.asarray([r.question_vector for r in rows], dtype=np.float32),
        reply_vectors=np.asarray([r.reply_vector for r in rows], dtype=np.float32),
    )


_lock = threading.Lock()
_cached: dict[Any, ReplyLibrary] = {}


def current_library(embedder: Any) -> ReplyLibrary:
    """The library for this batch, reloaded only when it changed (one per worker process)."""
    key = library_key()
    with _lock:
        if key in _cached:
            return _cached[key]
    library = load_library(embedder)
    with _lock:
        _cached.clear()
        _cached[library_key()] = library
    return library


def clear_library_cache() -> None:
    with _lock:
        _cached.clear()


# --- adding replies -------------------------------------------------------------------------------


def add_replies(
    entries: Iterable[Mapping[str, str]], *, source: str, created_by: Any = None, from_draft: Any = None
) -> int:
    """Store ``{"intent", "text", "question"}`` entries whose reply the library does not hold yet for that
    intent (under any source: an imported file does not duplicate the shop's own patterns); returns how
    many were new."""
    have = {
        (intent, _normal(text)): (pk, held)
        for pk, intent, text, held in ReplyTemplate.objects.values_list("pk", "intent", "text", "source")
    }
    new = []
    for entry in entries:
        row = ReplyTemplate(
            intent=entry["intent"].strip(),
            text=entry["text"].strip(),
            question=(entry.get("question") or "").strip(),
            source=source,
            created_by=created_by,
            from_draft=from_draft,
        )
        key = (row.intent, _normal(row.text))
        if not row.intent or not row.text:
            continue
        if key in have:
            pk, held = have[key]
            if pk is not None and SOURCES.index(source) < SOURCES.index(held):
                # The same reply from a more trusted source (the shop's own pattern for a reply an
                # imported file also has): it is the shop's now, with the shop's questions.
                ReplyTemplate.objects.filter(pk=pk).update(source=source, question=row.question or F("question"))
                have[key] = (pk, source)
            continue
        have[key] = (None, source)
        new.append(row)  # its vectors come with the next load (``embed_stale``)
    ReplyTemplate.objects.bulk_create(new, batch_size=500)
    return len(new)


GREETING_RE = re.compile(r"^\s*(?:hello|hi|dear|good (?:morning|afternoon|evening))\b[^\n]{0,40}\n+", re.I)


def _normal(text: str) -> str:
    """The reply for telling duplicates apart: a greeting line ("Hello {{Customer Name}},") makes no new reply."""
    return " ".join(GREETING_RE.sub("", text).split()).lower()


def import_ticket_rows(rows: Sequence[Mapping[str, str]], *, source: str = ReplyTemplate.Source.BITEXT) -> int:
    """The replies of Bitext-format rows, each customer's entity value turned into its slot."""
    return add_replies(
        ({"intent": r.intent, "text": r.text, "question": r.question} for r in replies_from_rows(rows, source=source)),
        source=source,
    )


def _generalised(draft: ReplyDraft, text: str) -> tuple[str, str]:
    """(reply, question) of a draft's ticket with that customer's order facts and names as placeholders."""
    from ..customers import customer_identity
    from .learning import generalise_example
    from .queries import order_facts_for

    ticket = draft.ticket
    orders = order_facts_for(ticket)
    user = ticket.customer
    names = [user.get_full_name(), user.first_name, user.last_name, user.email, user.get_username()]
    identity = customer_identity(user)  # addresses and phones are dropped, never kept for another customer
    question = draft.message.body if draft.message_id and draft.message else ""
    numbers = [o.number for o in orders]
    reply = generalise_example(text, numbers, names, identity, orders=orders)
    return reply, generalise_example(question, numbers, names, identity, orders=orders)


def save_reply(draft: ReplyDraft, text: str, *, by: Any, intent: str) -> ReplyTemplate:
    """File a reply staff saved (text already validated by the desk, :meth:`.desk.SupportDesk.save_to_library`)
    under ``intent``; the same reply held under another source becomes a saved one, and is switched on."""
    reply, question = _generalised(draft, text)
    add_replies(
        [{"intent": intent, "text": reply, "question": question}],
        source=ReplyTemplate.Source.SAVED,
        created_by=by,
        from_draft=draft,
    )
    key = _normal(reply)
    row = next(r for r in ReplyTemplate.objects.filter(intent=intent).order_by("-pk") if _normal(r.text) == key)
    if not row.active:
        ReplyTemplate.objects.filter(pk=row.pk).update(active=True)
        row.active = True
    return row


def learn_from_approval(draft: ReplyDraft) -> ReplyTemplate | None:
    """An approved reply joins the library when it is new text: edited by staff, or written by the model.

    A library reply sent unchanged adds nothing new: its approval counts for it instead
    (:func:`load_library` reads the decisions of the drafts made from it).
    """
    intent = (draft.ticket.intent or "").strip()
    if not intent or not draft.final_text:
        return None
    if draft.template_id and draft.status == ReplyDraft.Status.APPROVED:
        return None
    reply, question = _generalised(draft, draft.final_text)
    if "[removed]" in reply:
        return None  # it held personal data that is not a fact of the order: not a reply for others
    added = add_replies(
        [{"intent": intent, "text": reply, "question": question}],
        source=ReplyTemplate.Source.APPROVED,
        from_draft=draft,
    )
    return ReplyTemplate.objects.filter(from_draft=draft).first() if added else None
