"""Product copy: facts -> prompt -> generate -> check -> draft -> publish.

One code path for the storefront, the dashboard, the API, the Celery tasks and
the management commands. Views and tasks call these functions and nothing else.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from oscar.core.loading import get_model

from .. import jobs
from ..catalogue import catalogue_vocabulary, facts_hash, has_written_copy, product_facts, prompt_facts
from ..guardrails.html import plain_text, sanitize_for_kind
from ..llm.registry import configured_model_id
from ..models import ContentDraft, ContentKind, ContentVersion, Feature, FeatureSwitch, Job, ShopVoice
from ..settings import llm_settings
from .checks import Limits
from .generation import PATTERN_SOURCE
from .prompts import PROMPT_VERSION, PromptContext, lead_facts, leads_with, segment_styles
from .segments import DEFAULT_SEGMENT

logger = logging.getLogger(__name__)

KINDS = [k.value for k in ContentKind]
JOB_PREFIX = "content."
PLAN_JOB = "content.plan"
BULK_JOB = "content.bulk"
PRODUCT_TARGET = "catalogue.product"
BULK_MESSAGE_SIZE = 64
# Jobs of one kind a worker generates in one batch (titles are short, so more fit).
GENERATION_BATCH_SIZES = {
    ContentKind.TITLE.value: 128,
    ContentKind.DESCRIPTION.value: 64,
    ContentKind.META_DESCRIPTION.value: 64,
}


# --- context -------------------------------------------------------------------------------------


def prompt_context(kind: str, segment: str, language: str, voice: ShopVoice | None = None) -> PromptContext:
    voice = voice or ShopVoice.current()
    focus = tuple((llm_settings.SEGMENTS.get(segment) or {}).get("focus", ()))
    return PromptContext(
        kind=kind,
        segment=segment,
        language=language,
        voice=voice.brand_voice,
        tone=voice.tone,
        max_length=voice.max_length_for(kind),
        focus=focus,
    )


def limits_for(ctx: PromptContext, voice: ShopVoice | None = None) -> Limits:
    voice = voice or ShopVoice.current()
    return Limits(
        max_length=voice.max_length_for(ctx.kind),
        min_length=voice.min_length,
        banned_words=voice.banned_word_list,
        language=ctx.language,
    )


# --- queueing ------------------------------------------------------------------------------------


def planned_segments(kind: str, facts: dict[str, Any], *, automatic: bool = True, own_text: str = "") -> list[str]:
    """The segments copy of ``kind`` is written for when nobody named them.

    A title is one per product: every segment reads the default one. When the work is
    ``automatic`` (a product change, the feature switched on, the hourly refresh), only slots
    where a draft can add something: where the shop wrote the product's copy itself, that copy
    (``own_text``) is the default variant, so the model (which learned from it) writes only the
    variants of segments that lead with facts this product has and that the shop's text does not
    already lead with; supplier-feed products, with no written copy, get every variant. Staff who
    name a kind (the API, the dashboard's regenerate) get it for every segment.
    """
    written = automatic and has_written_copy(facts)
    if kind == ContentKind.TITLE:
        return [] if written else [DEFAULT_SEGMENT]
    segments = list(llm_settings.SEGMENTS)
    if not written:
        return segments
    styles = segment_styles()
    return [
        s
        for s in segments
        if s != DEFAULT_SEGMENT
        and lead_facts(facts, styles[s].focus)
        and not (own_text and leads_with(own_text, facts, styles[s].focus))
    ]


def request_generation(
    product: Any,
    *,
    kinds: Iterable[str] | None = None,
    segments: Iterable[str] | None = None,
    languages: Iterable[str] | None = None,
    force: bool = False,
    send: bool = True,
) -> list[Job]:
    """Create (or find) the jobs that write copy for ``product``; returns the new ones.

    Without ``segments``, the segments :func:`planned_segments` chooses. Idempotent: the job
    key is the hash of the prompt's inputs, the prompt version and the model, so asking twice
    for unchanged facts creates nothing. ``force`` (the dashboard's "regenerate") adds a nonce
    so a fresh draft is written. The new jobs share one Celery message (``send=False`` leaves
    sending to the caller).
    """
    voice = ShopVoice.current()
    facts = product_facts(product)
    model_id = configured_model_id()
    created_jobs = []
    nonce = uuid.uuid4().hex if force else None
    automatic = kinds is None and segments is None
    for kind in kinds or KINDS:
        own_text = original_text(product, kind)
        for segment in segments or planned_segments(kind, facts, automatic=automatic, own_text=own_text):
            for language in languages or voice.language_list:
                ctx = prompt_context(kind, segment, language, voice)
                input_hash = facts_hash(prompt_facts(facts, kind), ctx, limits_for(ctx, voice), nonce)
                job, created = jobs.request(
                    JOB_PREFIX + kind,
                    target_model=PRODUCT_TARGET,
                    target_id=product.pk,
                    params={"kind": kind, "segment": segment, "language": language},
                    key=jobs.JobKey(input_hash, PROMPT_VERSION, model_id),
                    send=False,
                )
                if created:
                    created_jobs.append(job)
    if send:
        jobs.nudge(j.pk for j in created_jobs)
    return created_jobs


def request_bulk(products: Iterable[Any] | None = None, **kwargs: Any) -> int:
    """Queue copy for many products (feature switched on, dashboard bulk action, schedule)."""
    Product = get_model("catalogue", "Product")
    products = products if products is not None else Product.objects.filter(is_public=True).order_by("pk")
    created: list[Job] = []
    for product in products.iterator() if hasattr(products, "iterator") else products:
        created += request_generation(product, send=False, **kwargs)
    # One message per batch of one kind, not one per job: a worker claims a whole batch anyway.
    for kind in sorted({j.kind for j in created}):
        ids = [j.pk for j in created if j.kind == kind]
        for start in range(0, len(ids), BULK_MESSAGE_SIZE):
            jobs.nudge(ids[start : start + BULK_MESSAGE_SIZE])
    return len(created)


def request_plan_after_commit(product_id: int) -> None:
    """A product's facts changed: once this transaction commits, queue one "plan" job for it.

    The worker reads the facts and writes the per-kind generation jobs, which are idempotent by
    input hash; several saves of one product in one transaction make one plan job.
    """
    jobs.on_commit_once(
        (PLAN_JOB, product_id),
        lambda: jobs.request(PLAN_JOB, target_model=PRODUCT_TARGET, target_id=product_id),
    )


def request_bulk_job(requested_by: Any) -> Job:
    """Queue copy for every public product as one background job (a request stays fast).

    ``requested_by`` is the feature switch that was turned on (one job per flip) or the staff
    user who asked (a new job each time).
    """
    if isinstance(requested_by, FeatureSwitch):
        key = jobs.JobKey(input_hash=requested_by.updated_at.isoformat())
        target_model = "oscar_llm.featureswitch"
    else:
        key = None
        target_model = settings.AUTH_USER_MODEL.lower()
    job, _created = jobs.request(BULK_JOB, target_model=target_model, target_id=requested_by.pk, key=key)
    return job


# --- running -------------------------------------------------------------------------------------


def run_plan_jobs(job_list: list[Job]) -> None:
    """A product changed: write the generation jobs for its current facts."""
    Product = get_model("catalogue", "Product")
    products = Product.objects.in_bulk([job.target_id for job in job_list])
    for job in job_list:
        product = products.get(job.target_id)
        created = request_generation(product) if product else []
        jobs.complete(job, {"queued": len(created)})


def run_bulk_jobs(job_list: list[Job]) -> None:
    for job in job_list:
        count = request_bulk(**job.params.get("kwargs", {}))
        jobs.complete(job, {"queued": count})


def run_generation_jobs(job_list: list[Job], generator: Any = None) -> list[ContentDraft]:
    """Generate, check and store drafts for a batch of claimed jobs (one model call per batch)."""
    from ..llm.registry import get_generator
    from .generation import generate_checked

    Product = get_model("catalogue", "Product")
    voice = ShopVoice.current()
    vocabulary = catalogue_vocabulary()
    products = Product.objects.in_bulk([j.target_id for j in job_list])
    items, live_jobs = [], []
    for job in job_list:
        product = products.get(job.target_id)
        if product is None:
            jobs.complete(job, {"skipped": "product deleted"})
            continue
        ctx = prompt_context(job.params["kind"], job.params["segment"], job.params["language"], voice)
        items.append((product_facts(product), ctx))
        live_jobs.append(job)
    if not items:
        return []
    generator = generator or get_generator()
    started = time.monotonic()
    outcomes = generate_checked(
        generator,
        items,
        vocabulary=vocabulary,
        limits_for=lambda c: limits_for(c, voice),
    )
    elapsed_ms = int((time.monotonic() - started) * 1000 / max(len(items), 1))
    drafts = []
    auto = FeatureSwitch.auto_publishes(Feature.PRODUCT_COPY)
    for job, (facts, ctx), outcome in zip(live_jobs, items, outcomes, strict=True):
        with transaction.atomic():
            draft = _store_draft(job, products[job.target_id], facts, ctx, outcome, generator, elapsed_ms)
            result = {"draft_id": draft.pk, "accepted": outcome.accepted, "status": str(draft.status)}
            if not jobs.complete(job, result):
                # Our lease ran out and another worker owns the job now: its draft wins.
                transaction.set_rollback(True)
                continue
            if auto and draft.status == ContentDraft.Status.DRAFT:
                publish(draft, by=None, source=ContentVersion.Source.AUTO)
        drafts.append(draft)
    return drafts


def _store_draft(job, product, facts, ctx, outcome, generator, elapsed_ms) -> ContentDraft:
    slot = {"product": product, "kind": ctx.kind, "segment": ctx.segment, "language": ctx.language}
    status = ContentDraft.Status.DRAFT if outcome.accepted else ContentDraft.Status.REJECTED
    if outcome.accepted and is_echo(outcome.text, shown_text(product, ctx.kind, ctx.segment, ctx.language)):
        # Offering the text the product already shows would only fill the queue; a pending
        # draft of the slot stays where it is, since this one proposes nothing instead of it.
        status = ContentDraft.Status.NO_CHANGE
    elif outcome.accepted:
        ContentDraft.objects.filter(**slot, status=ContentDraft.Status.DRAFT).update(
            status=ContentDraft.Status.SUPERSEDED
        )
    return ContentDraft.objects.create(
        **slot,
        text=outcome.text,
        status=status,
        reasons=outcome.reasons,
        facts=facts,
        prompt_version=job.prompt_version,
        # Who wrote it: the model, or the facts' pattern when no candidate of the model passed.
        model_id=(
            f"{PATTERN_SOURCE} (after {getattr(generator, 'model_id', job.model_id)})"
            if outcome.source == PATTERN_SOURCE
            else getattr(generator, "model_id", job.model_id)
        ),
        input_hash=job.input_hash,
        job=job,
        generation_ms=elapsed_ms,
    )


# --- review --------------------------------------------------------------------------------------


def original_text(product: Any, kind: str) -> str:
    """The product's own (human-written) text for ``kind``."""
    return {
        "title": product.title or "",
        "description": product.description or "",
        "meta_description": getattr(product, "meta_description", "") or "",
    }.get(kind, "")


def shown_text(product: Any, kind: str, segment: str = "default", language: str = "en") -> str:
    """The text visitors of ``segment`` see for ``kind`` today, whether or not copy is switched on.

    The slot's current version, else the default segment's, else the product's own text: the
    order the storefront falls back in. Read from the database, not the storefront's cache, since
    a worker must compare with what is published now.
    """
    segments = [segment] if segment == "default" else [segment, "default"]
    current = dict(
        ContentVersion.objects.filter(
            product_id=product.pk, kind=kind, language=language, segment__in=segments, is_current=True
        ).values_list("segment", "text")
    )
    for seg in segments:
        if seg in current:
            # An empty published version means "show the product's own text", as on the storefront.
            return current[seg] or original_text(product, kind)
    return original_text(product, kind)


def normalised(text: str) -> str:
    """A text as a reader compares it: markup, case and runs of whitespace do not count."""
    return plain_text(text or "").casefold()


def is_echo(text: str, shown: str) -> bool:
    """Whether ``text`` only repeats ``shown`` (after normalising case, spaces and markup)."""
    return bool(normalised(text)) and normalised(text) == normalised(shown)


@transaction.atomic
def publish(
    draft: ContentDraft,
    *,
    by: Any = None,
    text: str | None = None,
    source: str | None = None,
) -> ContentVersion:
    """Approve a draft (optionally edited) and make it the current copy of its slot.

    The product's own human-written text is kept as an "original" version the
    first time its slot is published, so rollback can always return to it.
    """
    draft = ContentDraft.objects.select_for_update().get(pk=draft.pk)
    if draft.status not in (ContentDraft.Status.DRAFT, ContentDraft.Status.SUPERSEDED):
        raise ValueError(f"Only drafts awaiting review can be approved (this one is {draft.get_status_display()}).")
    slot = {"product": draft.product, "kind": draft.kind, "segment": draft.segment, "language": draft.language}
    edited = text is not None and text.strip() != draft.text.strip()
    final = sanitize_for_kind(text, draft.kind) if edited else draft.text
    if not ContentVersion.objects.filter(**slot).exists():
        ContentVersion.objects.create(
            **slot, text=original_text(draft.product, draft.kind), source=ContentVersion.Source.ORIGINAL
        )
    ContentVersion.objects.filter(**slot, is_current=True).update(is_current=False)
    if source is None:
        source = ContentVersion.Source.EDITED if edited else ContentVersion.Source.GENERATED
    version = ContentVersion.objects.create(
        **slot, text=final, source=source, draft=draft, is_current=True, created_by=by
    )
    draft.status = ContentDraft.Status.APPROVED
    draft.edited = edited
    if edited:
        draft.review_note = f"Edited before approval. Generated text: {draft.text}"
        draft.text = final
    draft.reviewed_by = by
    draft.reviewed_at = timezone.now()
    draft.save()
    ContentDraft.objects.filter(**slot, status=ContentDraft.Status.DRAFT).exclude(pk=draft.pk).update(
        status=ContentDraft.Status.SUPERSEDED
    )
    invalidate_now_and_on_commit(draft.product_id)
    return version


def reject(draft: ContentDraft, *, by: Any = None, reason: str = "") -> ContentDraft:
    if draft.status == ContentDraft.Status.APPROVED:
        raise ValueError("An approved draft cannot be rejected; roll back to an earlier version instead.")
    draft.status = ContentDraft.Status.REJECTED
    draft.review_note = reason.strip() or "Rejected by staff."
    draft.reviewed_by = by
    draft.reviewed_at = timezone.now()
    draft.save(update_fields=["status", "review_note", "reviewed_by", "reviewed_at"])
    return draft


@transaction.atomic
def rollback(version: ContentVersion, *, by: Any = None) -> ContentVersion:
    """Make an earlier version (the original included) the current copy of its slot again."""
    slot = {"product": version.product, "kind": version.kind, "segment": version.segment, "language": version.language}
    ContentVersion.objects.select_for_update().filter(**slot).exists()
    ContentVersion.objects.filter(**slot, is_current=True).update(is_current=False)
    ContentVersion.objects.filter(pk=version.pk).update(is_current=True)
    version.refresh_from_db()
    invalidate_now_and_on_commit(version.product_id)
    logger.info("Product %s %s rolled back to version %s by %s", version.product_id, version.kind, version.pk, by)
    return version


# --- reading (request path: no model, one query per product, cached) ------------------------------


def _cache_key(product_id: int) -> str:
    return f"oscar_llm:copy:{product_id}"


def invalidate(product_id: int) -> None:
    cache.delete(_cache_key(product_id))


def invalidate_now_and_on_commit(product_id: int) -> None:
    """Drop the cached copy now and again after commit (a reader may re-cache in between)."""
    invalidate(product_id)
    transaction.on_commit(lambda: invalidate(product_id))


def current_copy_table(product_id: int) -> dict[str, str]:
    """``{"kind|segment|language": text}`` of every current version of a product."""
    key = _cache_key(product_id)
    table = cache.get(key)
    if table is None:
        rows = ContentVersion.objects.filter(product_id=product_id, is_current=True).values_list(
            "kind", "segment", "language", "text"
        )
        table = {f"{k}|{s}|{lang}": text for k, s, lang, text in rows}
        cache.set(key, table, llm_settings.CACHE_TIMEOUT)
    return table


def published_copy(product: Any, kind: str, segment: str = "default", language: str | None = None) -> str:
    """The text a visitor in ``segment`` sees: their variant, else the default, else the original."""
    original = original_text(product, kind)
    try:
        if not FeatureSwitch.is_enabled(Feature.PRODUCT_COPY):
            return original
        language = language or ShopVoice.current().language_list[0]
        table = current_copy_table(product.pk)
    except Exception:  # the storefront never fails because of the plugin
        logger.exception("Could not read generated copy for product %s", getattr(product, "pk", None))
        return original
    for seg in (segment, "default"):
        text = table.get(f"{kind}|{seg}|{language}")
        if text is not None:
            return text or original
    return original


def approve_many(drafts: Iterable[ContentDraft], *, by: Any = None) -> int:
    """Approve drafts awaiting review; of several for one slot, the first listed wins."""
    count = 0
    for draft in drafts:
        draft.refresh_from_db(fields=["status"])  # an earlier approval may have superseded it
        if draft.status == ContentDraft.Status.DRAFT:
            publish(draft, by=by)
            count += 1
    return count


# --- experiments (docs/architecture.md, "Experiments") ---------------------------------------------


def copy_for_visitor(request: Any, product: Any, kind: str, segment: str, language: str | None = None) -> str:
    """The text this visitor sees: the arm of a running product copy experiment, else the published copy.

    The control arm shows the product's own text, the generated arm the published copy of the visitor's
    segment, a segment arm that segment's copy for everyone. The exposure is buffered, not written here.
    """
    from ..experiments import assignment, exposures
    from ..models import Arm, Experiment

    try:
        copy_on = FeatureSwitch.is_enabled(Feature.PRODUCT_COPY)
    except Exception:
        copy_on = False
    if not copy_on:  # no copy to test: every visitor reads the product's own text, nobody is exposed
        return original_text(product, kind)
    arm = assignment.assign(request, Experiment.Kind.PRODUCT_COPY, product=product, copy_kind=kind, segment=segment)
    if arm is None:
        return published_copy(product, kind, segment, language)
    exposures.expose(request, arm, getattr(product, "pk", None))
    if arm.variant == Arm.Variant.ORIGINAL:
        return original_text(product, kind)
    if arm.variant == Arm.Variant.SEGMENT and arm.segment:
        return published_copy(product, kind, arm.segment, language)
    return published_copy(product, kind, segment, language)


def roll_out_experiment(experiment: Any, arm: Any, *, by: Any = None) -> int:
    """What rolling out a product copy experiment's winner means for the copy; returns slots changed.

    The generated arm: nothing to do, its copy is published (it went through review to be shown).
    The control arm: each slot in scope goes back to the product's own text with :func:`rollback`,
    kept in the versions like any rollback. A segment arm: its text becomes a draft for every visitor
    (the default segment), awaiting review like any other draft; nothing is published without it.
    """
    from ..models import Arm

    if experiment.kind != "product_copy":
        return 0
    versions = ContentVersion.objects.filter(is_current=True).exclude(source=ContentVersion.Source.ORIGINAL)
    if experiment.copy_kind:
        versions = versions.filter(kind=experiment.copy_kind)
    if experiment.scope == "products":
        versions = versions.filter(product__in=experiment.products.all())
    elif experiment.scope == "categories":
        categories = [c for cat in experiment.categories.all() for c in cat.get_descendants_and_self()]
        versions = versions.filter(product__categories__in=categories).distinct()
    changed = 0
    if arm.variant == Arm.Variant.ORIGINAL:
        for version in versions.select_related("product"):
            original = ContentVersion.objects.filter(
                product_id=version.product_id,
                kind=version.kind,
                segment=version.segment,
                language=version.language,
                source=ContentVersion.Source.ORIGINAL,
            ).first()
            if original is not None:
                rollback(original, by=by)
                changed += 1
    elif arm.variant == Arm.Variant.SEGMENT and arm.segment:
        for version in versions.filter(segment=arm.segment).select_related("product"):
            if shown_text(version.product, version.kind, "default", version.language) == version.text:
                continue
            ContentDraft.objects.create(
                product=version.product,
                kind=version.kind,
                segment="default",
                language=version.language,
                text=version.text,
                model_id=f"experiment:{experiment.pk}",
                review_note=f"Winner of experiment '{experiment.name}' (the {arm.segment} copy for everyone).",
            )
            changed += 1
    return changed
