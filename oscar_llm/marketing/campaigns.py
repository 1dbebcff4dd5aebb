"""Campaigns: the offer's real terms, copy generation (a job kind), review, sending, clicks and results.

Copy: per segment, ``MARKETING["VARIANTS"]`` variants written by ``copy.write_emails`` from the
featured product's facts and the Oscar offer's (or voucher's) terms; no customer data goes into a
prompt. Sending: every recipient gets one ``CampaignSend`` row (unique per campaign and customer)
before anything is sent; the holdout and customers without consent get a row that is never sent;
a worker claims a row (one UPDATE) before it sends the email and marks it sent after, so a batch run
twice (a message delivered twice, a worker that died and whose job the sweep re-queued) sends each
email once. A claim whose worker died is taken over after ``CLAIM_TIMEOUT_SECONDS``.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from oscar.core.loading import get_class, get_model

from .. import jobs
from ..catalogue import Vocabulary, catalogue_vocabulary, product_facts
from ..models import Campaign, CampaignClick, CampaignSend, CampaignVariant, Job, MarketingSegment
from ..settings import llm_settings
from . import copy as copy_
from . import measurement
from .segments import consenting, has_consent, segment_customers, unsubscribe_token

logger = logging.getLogger(__name__)

COPY_JOB = "marketing.copy"
SEND_JOB = "marketing.send"
CAMPAIGN_TARGET = "oscar_llm.campaign"
EVENT_CODE = "OSCAR_LLM_CAMPAIGN"
CLICK_SALT = "oscar_llm.marketing.click"


class CampaignError(ValueError):
    """A campaign cannot do what was asked (no approved variant, nothing to feature ...)."""


def config() -> dict[str, Any]:
    return llm_settings.MARKETING


# -- the offer's terms --------------------------------------------------------------------------


def offer_terms(campaign: Campaign) -> dict[str, Any]:
    """Percentage, dates and conditions of the campaign's Oscar offer or voucher (empty without one)."""
    offer = campaign.offer
    voucher = campaign.voucher
    terms: dict[str, Any] = {"percent": None, "start": None, "end": None, "conditions": {}}
    if voucher is not None:
        terms["conditions"]["code"] = voucher.code
        terms["start"], terms["end"] = voucher.start_datetime, voucher.end_datetime
        offer = offer or voucher.offers.first()
    if offer is not None:
        benefit = offer.benefit
        if benefit.type == benefit.PERCENTAGE or "Percentage" in str(benefit.proxy_class or ""):
            # 20.00 -> 20 (not 2E+1): the figure as a customer reads it.
            terms["percent"] = Decimal(f"{Decimal(str(benefit.value)).normalize():f}")
        terms["start"] = terms["start"] or offer.start_datetime
        terms["end"] = terms["end"] or offer.end_datetime
        condition = offer.condition
        if condition.value and condition.type == "Value":
            terms["conditions"]["minimum_spend"] = str(condition.value)
    return terms


def campaign_facts(campaign: Campaign, segment: MarketingSegment, product: Any) -> dict[str, Any]:
    terms = offer_terms(campaign)
    return copy_.campaign_facts(
        product_facts(product),
        goal=campaign.goal,
        segment=segment.copy_segment(),
        percent=terms["percent"],
        start=terms["start"].date() if terms["start"] else None,
        end=terms["end"].date() if terms["end"] else None,
        conditions=terms["conditions"],
    )


def featured_product(campaign: Campaign) -> Any:
    product = campaign.products.order_by("pk").first()
    offer = campaign.offer or (campaign.voucher.offers.first() if campaign.voucher else None)
    if product is None and offer is not None and offer.condition.range is not None:
        product = offer.condition.range.all_products().order_by("pk").first()
    if product is None:
        raise CampaignError("Pick a featured product (or an offer whose range has products).")
    return product


# -- copy ---------------------------------------------------------------------------------------


def request_copy(campaign: Campaign, *, send: bool = True) -> Job:
    """Ask a worker to write every segment's variants (a new job each time: regenerating is asked for)."""
    featured_product(campaign)
    if not campaign.segments.exists():
        raise CampaignError("Choose at least one segment.")
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.GENERATING)
    job, _created = jobs.request(COPY_JOB, target_model=CAMPAIGN_TARGET, target_id=campaign.pk, send=send)
    return job


def _generator() -> Any:
    from ..llm.base import ModelUnavailable
    from ..llm.registry import get_generator

    try:
        return get_generator()
    except ModelUnavailable as exc:
        logger.warning("Campaign copy without a model (patterns and titles only): %s", exc)
        return None


def write_copy(
    campaign: Campaign, generator: Any = None, vocabulary: Vocabulary | None = None
) -> list[CampaignVariant]:
    """Replace the campaign's unreviewed variants with freshly written ones, for every segment."""
    product = featured_product(campaign)
    vocabulary = vocabulary or catalogue_vocabulary()
    segments = list(campaign.segments.all())
    items = [(campaign_facts(campaign, s, product), [s.copy_segment()]) for s in segments]
    written = copy_.write_emails(
        generator, items, vocabulary, variants=config()["VARIANTS"], banned_words=config()["BANNED_WORDS"]
    )
    model_id = getattr(generator, "model_id", "") if generator is not None else "pattern"
    created = []
    with transaction.atomic():
        campaign.variants.exclude(status=CampaignVariant.Status.APPROVED).delete()
        for segment, (facts, _), emails in zip(segments, items, written, strict=True):
            for email in emails:
                created.append(
                    CampaignVariant.objects.create(
                        campaign=campaign,
                        segment=segment,
                        label=email.variant,
                        subject=email.subject,
                        preheader=email.preheader,
                        headline=email.headline,
                        body_html=email.body_html,
                        body_text=email.body_text,
                        cta=email.cta,
                        facts=facts,
                        reasons=email.reasons,
                        sources=email.sources,
                        model_id=model_id if email.sources.get("name") == "model" else "pattern",
                        status=CampaignVariant.Status.DRAFT
                        if email.accepted
                        else CampaignVariant.Status.REJECTED_BY_CHECKS,
                    )
                )
        Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.REVIEW)
    return created


def run_copy_jobs(job_list: list[Job]) -> None:
    generator = _generator()
    vocabulary = catalogue_vocabulary()
    for job in job_list:
        campaign = Campaign.objects.filter(pk=job.target_id).first()
        if campaign is None:
            jobs.complete(job, {"skipped": "campaign deleted"})
            continue
        variants = write_copy(campaign, generator, vocabulary)
        jobs.complete(job, {"variants": len(variants), "accepted": sum(v.status == "draft" for v in variants)})


# -- review -------------------------------------------------------------------------------------


def recheck(variant: CampaignVariant) -> list[dict[str, str]]:
    rendered = {
        "subject": variant.subject,
        "preheader": variant.preheader,
        "headline": variant.headline,
        "cta": variant.cta,
        "body_html": copy_.fill_slots(variant.body_html, {"first_name": ""}, as_html=True),
    }
    from .checks import check_email

    return check_email(rendered, variant.facts, catalogue_vocabulary(), banned_words=config()["BANNED_WORDS"])


def approve(variant: CampaignVariant, *, by: Any, edits: dict[str, str] | None = None) -> CampaignVariant:
    """Approve (after staff's edits, which pass the same checks: a failing edit raises CampaignError)."""
    if edits:
        for field in ("subject", "preheader", "headline", "cta"):
            if field in edits:
                setattr(variant, field, edits[field].strip())
        if "body_text" in edits:
            paragraphs = [p.strip() for p in edits["body_text"].replace("\r", "").split("\n\n") if p.strip()]
            paragraphs = [p for p in paragraphs if "{link}" not in p]
            from html import escape

            variant.body_html = "".join(f"<p>{escape(p, quote=False)}</p>" for p in paragraphs)
            variant.body_text = "\n\n".join([*paragraphs, f"{variant.cta}: {{link}}"])
        variant.edited = True
    reasons = recheck(variant)
    if reasons:
        variant.reasons = reasons
        if edits:
            raise CampaignError("; ".join(r["message"] for r in reasons))
        raise CampaignError("This variant fails the checks: " + "; ".join(r["message"] for r in reasons))
    variant.reasons = []
    variant.status = CampaignVariant.Status.APPROVED
    variant.reviewed_by, variant.reviewed_at = by, timezone.now()
    variant.save()
    return variant


def reject(variant: CampaignVariant, *, by: Any) -> CampaignVariant:
    variant.status = CampaignVariant.Status.REJECTED
    variant.reviewed_by, variant.reviewed_at = by, timezone.now()
    variant.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    return variant


# -- rendering ----------------------------------------------------------------------------------


def click_token(campaign_id: int, user_id: int | None, variant_id: int | None) -> str:
    return signing.dumps({"c": campaign_id, "u": user_id, "v": variant_id}, salt=CLICK_SALT, compress=True)


def render(variant: CampaignVariant, user: Any | None, *, base_url: str = "") -> dict[str, Any]:
    """The email as this customer gets it: slots filled from their data, signed click and unsubscribe links."""
    first_name = (getattr(user, "first_name", "") or "") if user is not None else ""
    token = click_token(variant.campaign_id, getattr(user, "pk", None), variant.pk)
    link = base_url + reverse("oscar_llm-marketing-click", kwargs={"token": token})
    unsubscribe = ""
    if user is not None and getattr(user, "pk", None):
        unsubscribe = base_url + reverse(
            "oscar_llm-marketing-unsubscribe", kwargs={"token": unsubscribe_token(user, variant.campaign_id)}
        )
    slots = {"first_name": first_name, "link": link}
    return {
        "subject": variant.subject,
        "preheader": variant.preheader,
        "headline": variant.headline,
        "body_html": copy_.fill_slots(variant.body_html, slots, as_html=True),
        "body_text": copy_.fill_slots(variant.body_text, slots),
        "cta": variant.cta,
        "link": link,
        "unsubscribe_url": unsubscribe,
    }


def _dispatcher_class() -> type:
    Dispatcher = get_class("communication.utils", "Dispatcher")

    class CampaignDispatcher(Dispatcher):
        """Oscar's dispatcher, with the List-Unsubscribe headers a campaign email must carry."""

        headers: dict[str, str] = {}

        def send_email_messages(self, recipient_email, messages, from_email=None, attachments=None):
            from django.conf import settings
            from django.core.mail import EmailMultiAlternatives

            email = EmailMultiAlternatives(
                messages["subject"],
                messages["body"],
                from_email=from_email or config()["FROM_EMAIL"] or settings.OSCAR_FROM_EMAIL,
                to=[recipient_email],
                headers=self.headers,
            )
            if messages["html"]:
                email.attach_alternative(messages["html"], "text/html")
            email.send()
            return email

    return CampaignDispatcher


def send_email(variant: CampaignVariant, user: Any, *, base_url: str, message_id: str = "") -> None:
    rendered = render(variant, user, base_url=base_url)
    Dispatcher = _dispatcher_class()
    dispatcher = Dispatcher(logger=logger)
    headers = {}
    if rendered["unsubscribe_url"]:
        headers["List-Unsubscribe"] = f"<{rendered['unsubscribe_url']}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if message_id:
        headers["Message-ID"] = message_id
    dispatcher.headers = headers
    messages = dispatcher.get_messages(EVENT_CODE, {"email": rendered, "user": user, "campaign": variant.campaign})
    dispatcher.dispatch_user_messages(user, messages)


def send_test(variant: CampaignVariant, user: Any, *, base_url: str) -> None:
    """A test email to staff themselves (no send log, no consent asked: it is their own)."""
    send_email(variant, user, base_url=base_url)


# -- sending ------------------------------------------------------------------------------------


def _bucket(campaign_id: int, user_id: int) -> float:
    digest = hashlib.sha256(f"{campaign_id}:{user_id}".encode()).hexdigest()
    return int(digest[:8], 16) / 0xFFFFFFFF


def start_sending(campaign: Campaign, *, base_url: str, send: bool = True) -> dict[str, int]:
    """Write the send log (one row per customer) and queue the batches; safe to call twice."""
    approved = {}
    for variant in campaign.variants.filter(status=CampaignVariant.Status.APPROVED).order_by("label"):
        approved.setdefault(variant.segment_id, []).append(variant)
    segments = list(campaign.segments.all())
    if not any(s.pk in approved for s in segments):
        raise CampaignError("Approve at least one variant before sending.")
    holdout = float(campaign.holdout_share)
    rows = []
    seen = set()
    for segment in segments:
        variants = approved.get(segment.pk)
        if not variants:
            continue
        members = segment_customers(segment)
        allowed = set(consenting(members).values_list("pk", flat=True))
        for user_id in members.values_list("pk", flat=True):
            if user_id in seen:
                continue
            seen.add(user_id)
            bucket = _bucket(campaign.pk, user_id)
            variant = variants[int(bucket * 10_000) % len(variants)]
            if bucket < holdout:
                rows.append(
                    CampaignSend(campaign=campaign, user_id=user_id, variant=variant, group="holdout", status="holdout")
                )
            elif user_id not in allowed:
                rows.append(CampaignSend(campaign=campaign, user_id=user_id, variant=variant, status="suppressed"))
            else:
                rows.append(CampaignSend(campaign=campaign, user_id=user_id, variant=variant))
    CampaignSend.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING, sent_at=timezone.now())
    pending = list(
        campaign.sends.filter(status=CampaignSend.Status.PENDING).order_by("pk").values_list("pk", flat=True)
    )
    size = config()["SEND_BATCH"]
    for start in range(0, len(pending), size):
        ids = pending[start : start + size]
        jobs.request(
            SEND_JOB,
            target_model=CAMPAIGN_TARGET,
            target_id=campaign.pk,
            params={"ids": ids, "base_url": base_url},
            key=jobs.JobKey(input_hash=f"send:{campaign.pk}:{ids[0]}-{ids[-1]}"),
            send=send,
        )
    return {
        "recipients": len(pending),
        "holdout": campaign.sends.filter(group="holdout").count(),
        "suppressed": campaign.sends.filter(status="suppressed").count(),
    }


_last_send = [0.0]


def _wait_for_rate() -> None:
    """Space this worker's emails 60/SEND_RATE_PER_MINUTE seconds apart, and keep every worker together
    under SEND_RATE_PER_MINUTE in each clock minute (a counter per minute in the shared cache)."""
    limit = config()["SEND_RATE_PER_MINUTE"]
    if not limit:
        return
    gap = 60.0 / limit - (time.monotonic() - _last_send[0])
    if gap > 0:
        time.sleep(gap)
    while True:
        key = f"oscar_llm:marketing:rate:{int(time.time() // 60)}"
        cache.add(key, 0, 120)
        try:
            count = cache.incr(key)
        except ValueError:
            count = 1
        if count <= limit:
            break
        time.sleep(max(0.05, 60 - time.time() % 60))
    _last_send[0] = time.monotonic()


def claim(send_id: int, token: str) -> bool:
    """Take one row of the send log for sending (an UPDATE on its status): True for the one worker that wins."""
    now = timezone.now()
    stale = now - timedelta(seconds=config()["CLAIM_TIMEOUT_SECONDS"])
    return bool(
        CampaignSend.objects.filter(pk=send_id)
        .filter(Q(status=CampaignSend.Status.PENDING) | Q(status=CampaignSend.Status.CLAIMED, claimed_at__lt=stale))
        .update(status=CampaignSend.Status.CLAIMED, claimed_at=now, claimed_by=token)
    )


def send_batch(ids: Iterable[int], *, base_url: str, token: str = "") -> dict[str, int]:
    token = token or jobs.worker_token()
    sent = skipped = suppressed = 0
    for send_id in ids:
        if not claim(send_id, token):
            skipped += 1
            continue
        row = CampaignSend.objects.select_related("user", "variant", "campaign").get(pk=send_id)
        # Consent is asked again at the moment of sending: an unsubscribe after the log was written counts.
        if not has_consent(row.user) or row.variant is None:
            CampaignSend.objects.filter(pk=send_id).update(status=CampaignSend.Status.SUPPRESSED)
            suppressed += 1
            continue
        _wait_for_rate()
        try:
            send_email(
                row.variant,
                row.user,
                base_url=base_url,
                message_id=f"<campaign-{row.campaign_id}-{row.user_id}@oscar-llm>",
            )
        except Exception as exc:  # the row says why; the customer is not retried by this batch
            CampaignSend.objects.filter(pk=send_id, claimed_by=token).update(
                status=CampaignSend.Status.FAILED, error=str(exc)[:500]
            )
            continue
        CampaignSend.objects.filter(pk=send_id, claimed_by=token).update(
            status=CampaignSend.Status.SENT, sent_at=timezone.now()
        )
        sent += 1
    return {"sent": sent, "skipped": skipped, "suppressed": suppressed}


def run_send_jobs(job_list: list[Job]) -> None:
    for job in job_list:
        result = send_batch(job.params.get("ids") or [], base_url=job.params.get("base_url") or "")
        jobs.complete(job, result)
        campaign_id = job.target_id
        if not CampaignSend.objects.filter(campaign_id=campaign_id, status__in=["pending", "claimed"]).exists():
            Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.SENDING).update(status=Campaign.Status.SENT)


# -- the on-site banner ------------------------------------------------------------------------


def banner_for(user: Any) -> dict[str, Any] | None:
    """The banner a signed-in customer sees: the newest banner campaign with an approved variant for
    a segment they are in, unless they are in its holdout (who see nothing, as with the email)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    live = Campaign.objects.filter(
        channel__in=[Campaign.Channel.BANNER, Campaign.Channel.BOTH],
        status__in=[Campaign.Status.SENDING, Campaign.Status.SENT, Campaign.Status.SCHEDULED],
    ).order_by("-created_at")[:5]
    for campaign in live:
        if _bucket(campaign.pk, user.pk) < float(campaign.holdout_share):
            continue
        approved = list(campaign.variants.filter(status=CampaignVariant.Status.APPROVED).order_by("label"))
        for segment in campaign.segments.all():
            variants = [v for v in approved if v.segment_id == segment.pk]
            if variants and segment_customers(segment).filter(pk=user.pk).exists():
                variant = variants[int(_bucket(campaign.pk, user.pk) * 10_000) % len(variants)]
                token = click_token(campaign.pk, user.pk, variant.pk)
                return {
                    "headline": variant.headline,
                    "text": variant.preheader,
                    "cta": variant.cta,
                    "link": reverse("oscar_llm-marketing-click", kwargs={"token": token}),
                }
    return None


# -- clicks and results -------------------------------------------------------------------------


def record_click(token: str) -> CampaignClick:
    """A signed click link followed: ``signing.BadSignature`` when tampered with."""
    data = signing.loads(token, salt=CLICK_SALT)
    return CampaignClick.objects.create(campaign_id=int(data["c"]), user_id=data.get("u"), variant_id=data.get("v"))


def landing_url(campaign: Campaign) -> str:
    try:
        return featured_product(campaign).get_absolute_url()
    except CampaignError:
        return "/"


def results(campaign: Campaign) -> dict[str, Any]:
    """Orders by each group's customers within the attribution window after the send, per variant and holdout."""
    Order = get_model("order", "Order")
    start = campaign.sent_at
    arms: dict[str, dict[str, Any]] = {}
    holdout = {"recipients": 0, "revenues": []}
    sends = list(campaign.sends.filter(status__in=["sent", "holdout"]).select_related("variant"))
    revenue_by_user: dict[int, list[float]] = {}
    if start is not None:
        end = start + timedelta(days=campaign.attribution_days)
        for user_id, total in Order.objects.filter(
            user_id__in=[s.user_id for s in sends], date_placed__gte=start, date_placed__lte=end
        ).values_list("user_id", "total_incl_tax"):
            revenue_by_user.setdefault(user_id, []).append(float(total))
    for row in sends:
        if row.group == "holdout":
            arm = holdout
        else:
            label = f"{row.variant.segment_id}/{row.variant.label}" if row.variant else "?"
            arm = arms.setdefault(
                label, {"recipients": 0, "revenues": [], "subject": row.variant.subject if row.variant else ""}
            )
        arm["recipients"] += 1
        if row.user_id in revenue_by_user:
            arm["revenues"].append(sum(revenue_by_user[row.user_id]))
    treated = [
        measurement.Arm(name, a["recipients"], len(a["revenues"]), tuple(a["revenues"])) for name, a in arms.items()
    ]
    figures = measurement.summary(
        treated, measurement.Arm("holdout", holdout["recipients"], len(holdout["revenues"]), tuple(holdout["revenues"]))
    )
    figures["subjects"] = {name: a["subject"] for name, a in arms.items()}
    figures["clicks"] = campaign.clicks.count()
    figures["attribution_days"] = campaign.attribution_days
    return figures


def results_csv_rows(campaign: Campaign) -> list[list[Any]]:
    figures = results(campaign)
    rows: list[list[Any]] = [
        ["arm", "subject", "recipients", "converted", "conversion", "revenue", "revenue_per_recipient"]
    ]
    for arm in figures["arms"]:
        rows.append(
            [
                arm["name"],
                figures["subjects"].get(arm["name"], ""),
                arm["recipients"],
                arm["converted"],
                round(arm["conversion"], 4),
                round(arm["revenue"], 2),
                round(arm["revenue_per_recipient"], 2),
            ]
        )
    for key in ("conversion_uplift", "revenue_uplift"):
        uplift = figures[key]
        if uplift:
            rows.append(
                [key, "", "", "", round(uplift["difference"], 4), round(uplift["low"], 4), round(uplift["high"], 4)]
            )
    return rows
