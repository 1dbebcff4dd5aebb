"""Which arm a visitor sees: deterministic and sticky, one hash on the page's path.

The unit is the visitor: the anonymous visitor key of :mod:`oscar_llm.interactions` (kept in the
session *data*, so it survives the login), and for customers the key their account kept from its first
login (:class:`~oscar_llm.models.ExperimentUnit`), put back into the session at every login, so a
customer sees the same arm on every device. The arm is ``sha256(salt:unit)`` mapped onto the arms'
weights (A/B), or onto the bandit's current shares for the visitor's segment; a bandit's choice is
kept in the session so a visitor's arm does not move when the shares do.

The running experiments are read from the cache (one ``get``; rebuilt from the database at most once a
minute or after an admin's change). Never raises into the page: any failure means "no experiment".
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from .. import interactions
from ..models import EXPERIMENTS_CACHE_KEY, Experiment, ExperimentUnit

logger = logging.getLogger(__name__)

UNIT_SESSION_KEY = "oscar_llm_xp_unit"
ARMS_SESSION_KEY = "oscar_llm_xp_arms"
CONFIG_SECONDS = 60


@dataclass(frozen=True)
class Assignment:
    experiment_id: int
    arm_id: int
    variant: str
    is_control: bool
    segment: str = ""  # the arm's segment (segment variants)
    payload: str = ""
    visitor_segment: str = ""
    unit: str = ""


def running() -> list[dict[str, Any]]:
    """The running experiments as plain data (cached): what ``assign`` needs, nothing more."""
    config = cache.get(EXPERIMENTS_CACHE_KEY)
    if config is None:
        config = _build()
        cache.set(EXPERIMENTS_CACHE_KEY, config, CONFIG_SECONDS)
    return config


def _build() -> list[dict[str, Any]]:
    from oscar.core.loading import get_model

    Product = get_model("catalogue", "Product")
    out = []
    experiments = Experiment.objects.filter(status=Experiment.Status.RUNNING).prefetch_related("arms")
    for exp in experiments.order_by("started_at", "pk"):
        arms = [
            {
                "id": a.pk,
                "variant": a.variant,
                "is_control": a.is_control,
                "segment": a.segment,
                "payload": a.payload,
                "weight": a.weight,
            }
            for a in exp.arms.all()
        ]
        if len(arms) < 2:
            continue
        products: list[int] | None = None
        if exp.scope == Experiment.Scope.PRODUCTS:
            products = list(exp.products.values_list("pk", flat=True))
        elif exp.scope == Experiment.Scope.CATEGORIES:
            categories = []
            for category in exp.categories.all():
                categories += list(category.get_descendants_and_self())
            products = list(Product.objects.filter(categories__in=categories).values_list("pk", flat=True).distinct())
            # Variants inherit their parent's categories.
            products += list(Product.objects.filter(parent_id__in=products).values_list("pk", flat=True))
        out.append(
            {
                "id": exp.pk,
                "kind": exp.kind,
                "copy_kind": exp.copy_kind,
                "block": exp.block,
                "campaign": exp.campaign,
                "products": sorted(set(products)) if products is not None else None,
                "salt": exp.salt,
                "mode": exp.mode,
                "allocation": exp.allocation or {},
                "metric": exp.primary_metric,
                "arms": arms,
            }
        )
    return out


def unit_key(request: Any, *, create: bool = True) -> str:
    """The visitor's assignment key ("" without a session: such requests are in no experiment)."""
    session = getattr(request, "session", None)
    if session is None:
        return ""
    try:
        key = session.get(UNIT_SESSION_KEY)
        if key:
            return key
        user = getattr(request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            key = remember_unit(request, user)
            if key:
                return key
        key = interactions.visitor_key(request, create=create)
        return key
    except Exception:
        logger.warning("Could not read the experiment unit from the session", exc_info=True)
        return ""


def remember_unit(request: Any, user: Any) -> str:
    """At login (or a customer's first page of a session): the account's key, kept across devices."""
    visitor = interactions.visitor_key(request, create=True)
    unit, _created = ExperimentUnit.objects.get_or_create(user=user, defaults={"key": visitor or f"u{user.pk}"})
    request.session[UNIT_SESSION_KEY] = unit.key
    return unit.key


def bucket(salt: str, unit: str) -> float:
    """A number in [0, 1) fixed by the experiment's salt and the unit."""
    digest = hashlib.sha256(f"{salt}:{unit}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def pick(arms: list[dict[str, Any]], shares: list[float], u: float) -> dict[str, Any]:
    total = float(sum(shares))
    if total <= 0:
        shares, total = [1.0] * len(arms), float(len(arms))
    edge = 0.0
    for arm, share in zip(arms, shares, strict=True):
        edge += share / total
        if u < edge:
            return arm
    return arms[-1]


def _matches(exp: dict[str, Any], kind: str, product_id: int | None, copy_kind: str, block: str, campaign: str) -> bool:
    if exp["kind"] != kind:
        return False
    if kind == Experiment.Kind.PRODUCT_COPY and exp["copy_kind"] and exp["copy_kind"] != copy_kind:
        return False
    if kind == Experiment.Kind.RECOMMENDATION_BLOCK and exp["block"] != block:
        return False
    if kind == Experiment.Kind.CAMPAIGN_COPY and exp["campaign"] and exp["campaign"] != campaign:
        return False
    if exp["products"] is not None and kind != Experiment.Kind.CAMPAIGN_COPY:
        return product_id is not None and product_id in exp["products"]
    return True


def assign(
    request: Any,
    kind: str,
    *,
    product: Any = None,
    copy_kind: str = "",
    block: str = "",
    campaign: str = "",
    segment: str = "",
    unit: str | None = None,
) -> Assignment | None:
    """The arm of the first running experiment of ``kind`` this page's ``product``/``block`` is in.

    ``segment`` is the visitor's segment (the bandit learns per segment). ``unit`` replaces the
    request's visitor (a campaign's recipient). None when no experiment applies.
    """
    try:
        # A page has several tags and blocks: the cached list is read once per request.
        experiments = getattr(request, "_oscar_llm_experiments", None)
        if experiments is None:
            experiments = running()
            if request is not None:
                request._oscar_llm_experiments = experiments
        if not experiments:
            return None
        product_id = getattr(product, "pk", None)
        for exp in experiments:
            if _matches(exp, kind, product_id, copy_kind, block, campaign):
                return _assign(request, exp, segment, unit)
        return None
    except Exception:
        logger.exception("Could not assign an experiment arm; the page shows its default")
        return None


def _assign(request: Any, exp: dict[str, Any], segment: str, unit: str | None) -> Assignment | None:
    unit = unit if unit is not None else unit_key(request)
    if not unit:
        return None
    arms = exp["arms"]
    arm = None
    session = getattr(request, "session", None)
    if exp["mode"] == Experiment.Mode.BANDIT:
        kept = (session.get(ARMS_SESSION_KEY) or {}) if session is not None else {}
        arm_id = kept.get(str(exp["id"]))
        arm = next((a for a in arms if a["id"] == arm_id), None)
        if arm is None:
            shares_by_arm = exp["allocation"].get(segment) or exp["allocation"].get("") or {}
            shares = [float(shares_by_arm.get(str(a["id"]), a["weight"])) for a in arms]
            arm = pick(arms, shares if shares_by_arm else [a["weight"] for a in arms], bucket(exp["salt"], unit))
            if session is not None:
                session[ARMS_SESSION_KEY] = {**kept, str(exp["id"]): arm["id"]}
    else:
        arm = pick(arms, [a["weight"] for a in arms], bucket(exp["salt"], unit))
    return Assignment(
        experiment_id=exp["id"],
        arm_id=arm["id"],
        variant=arm["variant"],
        is_control=arm["is_control"],
        segment=arm["segment"],
        payload=arm["payload"],
        visitor_segment=segment,
        unit=unit,
    )
