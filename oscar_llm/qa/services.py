"""Product questions: every write and every decision; views, tasks, the API and the eval call these.

Asking (web process, no model): validate, count against the customer's rate limit, screen
(``screening.py``): an abusive question is rejected, an order question opens a support ticket (through
the ``"support.open_ticket"`` hook, so this feature does not import support), anything else is stored
and its answering job queued. Answering (worker, ``run_answer_jobs``): gather the evidence
(``evidence.py``), rank it (``ranker.py``), decide whether the best piece answers the question, write
the answer (``answers.py``), check it, and publish it when the "auto-publish answers" switch is on and
the question is neither private nor steering; otherwise it waits for staff. Staff approve, edit, reject,
answer by hand and unpublish; the asker gets one e-mail when an answer is first published.
"""

from __future__ import annotations

import hashlib
import logging
import statistics
import threading
import time
from pathlib import Path
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from .. import hooks, jobs, limits
from ..guardrails.injection import clean_text
from ..llm.base import ModelUnavailable
from ..models import QA_MAX_QUESTION_CHARS, Feature, FeatureSwitch, Job, ProductQuestion, QuestionVote
from ..settings import llm_settings
from .answers import PROMPT_VERSION, QuoteWriter, check_answer
from .kinds import ANSWER_JOB, QUESTION_TARGET
from .screening import screen

logger = logging.getLogger(__name__)
ANSWER_EVENT_CODE = "QA_ANSWER"
MIN_QUESTION_CHARS = 8
# Without a fitted ranker: what naming a fact's attribute in the question adds to its cosine.
NAME_BONUS = 0.3
UNKNOWN_ANSWER = (
    "We don't know the answer to that yet. Your question has gone to our team, and the answer will appear here."
)
ORDER_ANSWER = (
    "This looks like a question about your order, so we've opened a support request for you: "
    "you'll find it, and our reply, under Support in your account."
)

Status = ProductQuestion.Status


class QAError(ValueError):
    """A question that cannot be taken as it is (the message says why, for the customer)."""


class QARateLimited(QAError):
    def __init__(self, exc: limits.RateLimited) -> None:
        self.retry_after = exc.retry_after
        super().__init__(str(exc))


def validate_question(text: str | bytes | None) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    text = clean_text(text or "", max_chars=QA_MAX_QUESTION_CHARS + 1).strip()
    if len(text) < MIN_QUESTION_CHARS:
        raise QAError("Please write your question (a few words at least).")
    if len(text) > QA_MAX_QUESTION_CHARS:
        raise QAError(f"Please keep your question under {QA_MAX_QUESTION_CHARS} characters.")
    return text


# -- asking ---------------------------------------------------------------------------------------


def ask(product: Any, customer: Any, text: str | bytes | None, *, rate_key: str | None = None) -> ProductQuestion:
    """A signed-in customer asks about ``product``. Raises :class:`QAError` (or ``QARateLimited``)."""
    if customer is None or not getattr(customer, "is_authenticated", False):
        raise QAError("Please sign in to ask a question.")
    text = validate_question(text)
    try:
        limits.hit("qa.question", rate_key or f"user:{customer.pk}")
    except limits.RateLimited as exc:
        raise QARateLimited(exc) from exc
    found = screen(text)
    with transaction.atomic():
        question = ProductQuestion.objects.create(
            product=product, customer=customer, text=text, flags=found.flags, private=bool(found.personal)
        )
        if found.abusive:
            question.status = Status.REJECTED
            question.save(update_fields=["status"])
        elif found.order:
            _route_to_support(question)
        else:
            request_answer(question)
    return question


def _route_to_support(question: ProductQuestion) -> None:
    """An order question becomes a support ticket; the customer is told where to find it."""
    subject = f"Question about {question.product.get_title()}"[:200]
    try:
        ticket = hooks.call("support.open_ticket", question.customer, subject, question.text)
    except hooks.HookMissing:
        ticket = None
    except ValueError as exc:  # the desk refused it (validation): staff answer it here instead
        logger.info("support refused question %s: %s", question.pk, exc)
        ticket = None
    question.ticket_id = getattr(ticket, "pk", None)
    question.private = True  # about the customer's own order: never on the product page
    question.status = Status.ROUTED if ticket is not None else Status.NEEDS_STAFF
    question.answer = ORDER_ANSWER if ticket is not None else UNKNOWN_ANSWER
    question.answered_at = timezone.now()
    question.save(update_fields=["ticket_id", "private", "status", "answer", "answered_at"])


def request_answer(question: ProductQuestion, *, send: bool = True) -> Job:
    digest = hashlib.sha256(f"{question.pk}\n{question.product_id}\n{question.text}".encode()).hexdigest()
    job, _ = jobs.request(
        ANSWER_JOB,
        target_model=QUESTION_TARGET,
        target_id=question.pk,
        key=jobs.JobKey(digest, PROMPT_VERSION, writer_id()),
        send=send,
    )
    return job


def writer_id() -> str:
    return "quote" if (llm_settings.QA or {}).get("WRITER", "quote") == "quote" else "model"


# -- answering (worker) ---------------------------------------------------------------------------

_lock = threading.Lock()
_rankers: dict[str, Any] = {}


def ranker_dir() -> Path:
    configured = (llm_settings.QA or {}).get("RANKER_DIR")
    if configured:
        return Path(configured).expanduser()
    return Path(str(llm_settings.MODEL_DIR).rstrip("/") + ".qa")


def get_ranker() -> Any:
    """The fitted ranker (``oscar_llm_train --qa-ranker``), or None: rank by cosine then."""
    from ..llm.embeddings import embedding_model_path
    from .ranker import QARanker

    directory = ranker_dir()
    with _lock:
        if str(directory) not in _rankers:
            try:
                _rankers[str(directory)] = QARanker.load(directory, base_path=embedding_model_path(llm_settings))
            except FileNotFoundError:
                _rankers[str(directory)] = None
        return _rankers[str(directory)]


def get_writer() -> Any:
    if (llm_settings.QA or {}).get("WRITER", "quote") == "quote":
        return QuoteWriter()
    from ..llm.registry import get_generator
    from .answers import ModelWriter

    return ModelWriter(get_generator(), max_new_tokens=int((llm_settings.QA or {}).get("MAX_NEW_TOKENS", 48)))


def rank_evidence(
    text: str, evidence: list[dict[str, str]], embedder: Any, ranker: Any = None
) -> tuple[list[int], list[float], bool]:
    """(evidence positions best first, their scores, whether the best one answers the question)."""
    import numpy as np

    from .ranker import Candidate, EmbeddingCache, Question, content_words

    if not evidence:
        return [], [], False
    vec = EmbeddingCache(lambda texts: np.asarray(embedder.embed(list(texts)), dtype=np.float32))
    question = Question("q", text, [Candidate(e["text"], _ranker_source(e["source"])) for e in evidence])
    if ranker is not None:
        order, scores, answered = ranker.rank(question, vec)
        return order, [float(s) for s in scores], answered
    vec.fill([text] + [c.text for c in question.candidates])
    q = vec(text)
    asked = set(content_words(text))
    scores = []
    for candidate in question.candidates:
        score = float(q @ vec(candidate.text))
        # A fact whose name the question uses ("what material...?" and "Material: Viscose") is what it asks.
        name = candidate.text.partition(":")[0] if candidate.source == "attribute" else ""
        if name and asked & set(content_words(name)):
            score += NAME_BONUS
        scores.append(score)
    array = np.asarray(scores)
    order = [int(i) for i in np.argsort(-array, kind="stable")]
    threshold = float((llm_settings.QA or {}).get("MIN_COSINE", 0.55))
    return order, scores, scores[order[0]] >= threshold


def _ranker_source(source: str) -> str:
    # The shop's evidence kinds in the ranker's (ePQA's) names.
    return {"fact": "attribute", "copy": "description", "answer": "cqa"}.get(source, source)


def run_answer_jobs(job_list: list[Job], embedder: Any = None, writer: Any = None) -> list[ProductQuestion]:
    """Answer a batch of claimed jobs (one embedding call per question, the writer once per batch)."""
    from ..llm.registry import get_embedder

    questions = ProductQuestion.objects.select_related("product").in_bulk([j.target_id for j in job_list])
    live = []
    for job in job_list:
        question = questions.get(job.target_id)
        if question is None or question.status != Status.PENDING:
            jobs.complete(job, {"skipped": "question gone or already answered"})
            continue
        live.append((job, question))
    if not live:
        return []
    try:
        embedder = embedder or get_embedder()
        writer = writer or get_writer()
    except ModelUnavailable:
        raise
    ranker = get_ranker()
    done = []
    for job, question in live:
        with transaction.atomic():
            answer_question(question, embedder=embedder, writer=writer, ranker=ranker)
            if not jobs.complete(job, {"status": question.status, "confidence": question.confidence}):
                transaction.set_rollback(True)
                continue
        done.append(question)
    return done


def answer_question(question: ProductQuestion, *, embedder: Any, writer: Any, ranker: Any = None) -> ProductQuestion:
    """Rank the product's evidence for the question, write and check the answer, publish or queue it."""
    from .evidence import gather

    evidence = gather(question.product)
    order, scores, answered = rank_evidence(question.text, evidence, embedder, ranker)
    question.evidence = [{**evidence[i], "score": round(scores[i], 4)} for i in order]
    question.confidence = round(scores[order[0]], 4) if order else 0.0
    question.model_id = getattr(writer, "name", "quote")
    question.answered_at = timezone.now()
    if not answered:
        question.chosen = None
        question.answer = ""
        question.source = ""
        question.source_label = ""
        question.checks = []
        question.status = Status.NEEDS_STAFF
    else:
        chosen = question.evidence[0]
        question.chosen = 0
        text = writer.write_many([(question.text, chosen["text"], _ranker_source(chosen["source"]))])[0]
        body = _strip_lead_in(text)
        facts = "\n".join(e["text"] for e in evidence if e["source"] == "fact")
        check = check_answer(body, question=question.text, evidence=chosen["text"], facts_text=facts)
        check.add("facts", _contradictions(body, question.product), "agrees with the product's facts")
        question.answer = body
        question.checks = check.checks
        question.source = chosen["source"]
        question.source_label = chosen.get("label") or ""
        steering = any(f.startswith("steering:") for f in question.flags or [])
        if check.passed and not question.private and not steering and FeatureSwitch.auto_publishes(Feature.QA):
            _publish(question, by=None, auto=True)
            return question
        question.status = Status.REVIEW
    question.save()
    return question


def _contradictions(text: str, product: Any) -> list[str]:
    from ..catalogue import catalogue_vocabulary, product_facts
    from .answers import fact_contradictions

    facts = product_facts(product)
    if getattr(product, "parent_id", None) and not facts.get("attributes"):
        facts = product_facts(product.parent)
    return fact_contradictions(text, facts.get("attributes") or {}, catalogue_vocabulary())


def _strip_lead_in(text: str) -> str:
    from .answers import LEAD_INS

    for phrase in sorted(set(LEAD_INS.values()), key=len, reverse=True):
        if text.startswith(phrase + ": "):
            return text[len(phrase) + 2 :]
    return text


# -- staff ----------------------------------------------------------------------------------------


def _publish(question: ProductQuestion, *, by: Any, auto: bool = False) -> ProductQuestion:
    if question.private:
        raise QAError("This question holds personal data: it is answered privately and never published.")
    if not question.answer.strip():
        raise QAError("There is no answer to publish.")
    now = timezone.now()
    question.status = Status.PUBLISHED
    question.auto_published = auto
    question.answered_by = by
    question.published_at = question.published_at or now
    question.answered_at = question.answered_at or now
    question.save()
    if question.notified_at is None and question.customer_id:
        transaction.on_commit(lambda: send_answer_email(question.pk))
    return question


@transaction.atomic
def approve(question: ProductQuestion, *, by: Any, text: str | None = None) -> ProductQuestion:
    """Publish the draft answer, as it is or as staff edited it (edited text is checked for markup only)."""
    question = ProductQuestion.objects.select_for_update().get(pk=question.pk)
    if text is not None and text.strip() and text.strip() != question.answer:
        question.answer = _staff_text(text)
        question.source = question.source or ProductQuestion.Source.STAFF
    if question.private:
        # Answered for the asker only.
        question.status = Status.REVIEW
        question.answered_by = by
        question.save()
        raise QAError("This question holds personal data: it is answered privately and never published.")
    return _publish(question, by=by)


def _staff_text(text: str) -> str:
    from ..guardrails.html import plain_text

    text = plain_text(clean_text(text, max_chars=4000)).strip()
    if not text:
        raise QAError("Please write an answer.")
    return text


@transaction.atomic
def answer_by_hand(question: ProductQuestion, *, by: Any, text: str) -> ProductQuestion:
    question = ProductQuestion.objects.select_for_update().get(pk=question.pk)
    question.answer = _staff_text(text)
    question.source = ProductQuestion.Source.STAFF
    question.source_label = "Answered by our team"
    question.chosen = None
    if question.private:
        question.status = Status.REVIEW
        question.answered_by = by
        question.answered_at = timezone.now()
        question.save()
        return question
    return _publish(question, by=by)


@transaction.atomic
def reject(question: ProductQuestion, *, by: Any, reason: str = "") -> ProductQuestion:
    question = ProductQuestion.objects.select_for_update().get(pk=question.pk)
    question.status = Status.REJECTED
    question.answered_by = by
    if reason:
        question.flags = [*question.flags, f"rejected:{reason[:100]}"]
    question.save()
    return question


@transaction.atomic
def unpublish(question: ProductQuestion, *, by: Any) -> ProductQuestion:
    question = ProductQuestion.objects.select_for_update().get(pk=question.pk)
    if question.status == Status.PUBLISHED:
        question.status = Status.REVIEW
        question.answered_by = by
        question.save(update_fields=["status", "answered_by"])
    return question


def send_answer_email(question_id: int) -> bool:
    """One e-mail to the asker when the answer is first published (Oscar's communication framework)."""
    from django.urls import NoReverseMatch
    from oscar.core.loading import get_class

    with transaction.atomic():
        updated = ProductQuestion.objects.filter(
            pk=question_id, notified_at__isnull=True, status=Status.PUBLISHED
        ).update(notified_at=timezone.now())
        if not updated:
            return False
        question = ProductQuestion.objects.select_related("customer", "product").get(pk=question_id)
    if question.customer is None or not question.customer.email:
        return False
    try:
        url = question.product.get_absolute_url() + "#questions"
    except NoReverseMatch:
        url = ""
    Dispatcher = get_class("communication.utils", "Dispatcher")
    dispatcher = Dispatcher(logger=logger)
    messages = dispatcher.get_messages(
        ANSWER_EVENT_CODE,
        {"question": question, "product": question.product, "user": question.customer, "product_path": url},
    )
    try:
        dispatcher.dispatch_user_messages(question.customer, messages)
    except Exception:  # a mail server that is down must not undo the published answer; a later publish retries
        logger.exception("Could not e-mail the answer to question %s", question_id)
        ProductQuestion.objects.filter(pk=question_id).update(notified_at=None)
        return False
    return True


# -- customers' reads and votes -------------------------------------------------------------------


def public_questions(product: Any) -> Any:
    """Published answers of the product and its parent or variants, most helpful and newest first."""
    from .evidence import family

    return ProductQuestion.objects.filter(
        product__in=[p.pk for p in family(product)], status=Status.PUBLISHED, private=False
    ).order_by("-helpful_votes", "-published_at", "-pk")


def _open_questions(customer: Any) -> Any:
    if customer is None or not getattr(customer, "is_authenticated", False):
        return ProductQuestion.objects.none()
    return ProductQuestion.objects.filter(customer=customer).exclude(status__in=[Status.PUBLISHED, Status.REJECTED])


def own_questions(product: Any, customer: Any) -> Any:
    """The asker's own questions about this product that are not published (yet): theirs to see."""
    return _open_questions(customer).filter(product=product)


# The product page reads its Q&A from Django's cache, under a version every saved or deleted question (and
# every helpful vote) moves, so a page shows a change at once and reads no question row otherwise
# (docs/architecture.md, "Product questions").
PAGE_CACHE_SECONDS = 600
_VERSION_KEY = "oscar_llm:qa:version"


def _page_version() -> int:
    version = cache.get(_VERSION_KEY)
    if version is None:
        # Started from the clock, so a version lost with the cache never names entries cached before.
        cache.add(_VERSION_KEY, time.time_ns() // 1000, None)
        version = cache.get(_VERSION_KEY) or 0
    return int(version)


def questions_changed(**_kwargs: Any) -> None:
    """Receiver of ProductQuestion's post_save and post_delete: the pages read their Q&A again."""
    try:
        cache.incr(_VERSION_KEY)
    except ValueError:  # not there (evicted or never read): the next read starts a new one
        cache.delete(_VERSION_KEY)


def page_questions(product: Any, customer: Any, limit: int = 20) -> tuple[list[ProductQuestion], list[Any]]:
    """(the published Q&A of the product family, the customer's own open questions about this product) for
    the product page, from the cache while no question changed."""
    version = _page_version()
    key = f"oscar_llm:qa:page:{product.pk}:{limit}:{version}"
    public = cache.get(key)
    if public is None:
        public = list(public_questions(product)[:limit])
        cache.set(key, public, PAGE_CACHE_SECONDS)
    if customer is None or not getattr(customer, "is_authenticated", False):
        return public, []
    open_key = f"oscar_llm:qa:open:{customer.pk}:{version}"
    open_products = cache.get(open_key)
    if open_products is None:
        open_products = set(_open_questions(customer).values_list("product_id", flat=True))
        cache.set(open_key, open_products, PAGE_CACHE_SECONDS)
    own = list(own_questions(product, customer)[:10]) if product.pk in open_products else []
    return public, own


def customer_view(question: ProductQuestion) -> dict[str, Any]:
    """What the asker reads about their own question while it is not on the page."""
    status = question.status
    if status == Status.PENDING:
        message = "We're looking for the answer..."
    elif status == Status.ROUTED:
        message = question.answer or ORDER_ANSWER
    elif status == Status.PUBLISHED or (question.private and question.answer and question.answered_by_id):
        message = question.answer
    elif status == Status.REJECTED:
        message = "We can't answer this question."
    else:
        message = UNKNOWN_ANSWER
    return {
        "id": question.pk,
        "question": question.text,
        "status": status,
        "answer": message,
        "source": question.source_label if status == Status.PUBLISHED else "",
        "ready": status != Status.PENDING,
    }


def vote(question: ProductQuestion, voter: str) -> bool:
    """Count a "helpful" vote once per voter; False when they had voted already."""
    if not question.is_public:
        raise QAError("You can only vote on published answers.")
    with transaction.atomic():
        _, created = QuestionVote.objects.get_or_create(question=question, voter=voter[:64])
        if created:
            ProductQuestion.objects.filter(pk=question.pk).update(helpful_votes=F("helpful_votes") + 1)
            questions_changed()
    return created


# -- figures ---------------------------------------------------------------------------------------


def figures() -> dict[str, Any]:
    rows = ProductQuestion.objects.aggregate(
        asked=Count("pk"),
        auto=Count("pk", filter=Q(status=Status.PUBLISHED, auto_published=True)),
        staff=Count("pk", filter=Q(status=Status.PUBLISHED, auto_published=False)),
        declined=Count("pk", filter=Q(status=Status.REJECTED)),
        routed=Count("pk", filter=Q(status=Status.ROUTED)),
        waiting=Count("pk", filter=Q(status__in=[Status.REVIEW, Status.NEEDS_STAFF, Status.PENDING])),
        votes=Sum("helpful_votes"),
    )
    times = [
        (published - created).total_seconds()
        for created, published in ProductQuestion.objects.filter(published_at__isnull=False).values_list(
            "created_at", "published_at"
        )
    ]
    return {
        "asked": rows["asked"],
        "answered_automatically": rows["auto"],
        "answered_by_staff": rows["staff"],
        "declined": rows["declined"],
        "sent_to_support": rows["routed"],
        "waiting": rows["waiting"],
        "median_seconds_to_answer": round(statistics.median(times), 1) if times else None,
        "helpful_votes": rows["votes"] or 0,
    }
