"""Experiments' lifecycle and results: what the dashboard, the API and the CSV export call.

- :func:`create` (with its arms and the minimum sample size shown before it starts), :func:`start`,
  :func:`stop` and :func:`roll_out` (stop and name the winner; the features act on it through
  :data:`experiment_rolled_out`: content publishes through its usual review and versions).
- :func:`results`: per arm the visitors, conversions, revenue with intervals, the chance to beat
  control and to be best, the expected loss, the sequential test against control (always valid), the
  sample-ratio check, CUPED on revenue with each visitor's pre-exposure activity, the sample size and
  the days to a decision at current traffic.
- :func:`timeline`: the estimate over time (relative lift and its always-valid interval per day).
- :func:`update_bandits`: Thompson sampling shares per segment for bandit experiments (periodic).
"""

from __future__ import annotations

import datetime
import logging
import math
from collections import defaultdict
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate
from django.dispatch import Signal
from django.utils import timezone

from ..models import Arm, Experiment, ExperimentExposure
from . import exposures, stats

logger = logging.getLogger(__name__)

#: Sent when staff stop an experiment and roll out its winner: ``experiment``, ``arm``, ``by``.
experiment_rolled_out = Signal()

ALPHA = 0.05
TAU = 0.1  # mSPRT mixing sd as a share of the pooled mean: tuned for lifts around 10%
DEFAULT_BASELINE = 0.03  # the conversion rate assumed for the sample size before any visitor


class ExperimentError(ValueError):
    """A lifecycle step that cannot be taken (the message says why)."""


DEFAULT_ARMS = {
    Experiment.Kind.PRODUCT_COPY: [
        ("Original copy", Arm.Variant.ORIGINAL, True),
        ("Generated copy", Arm.Variant.GENERATED, False),
    ],
    Experiment.Kind.RECOMMENDATION_BLOCK: [
        ("No block", Arm.Variant.HIDDEN, True),
        ("Block shown", Arm.Variant.SHOWN, False),
    ],
    Experiment.Kind.CAMPAIGN_COPY: [
        ("Control copy", Arm.Variant.CAMPAIGN, True),
        ("Variant copy", Arm.Variant.CAMPAIGN, False),
    ],
}


@transaction.atomic
def create(*, arms: list[dict[str, Any]] | None = None, by: Any = None, **fields: Any) -> Experiment:
    """A draft experiment with its arms (the kind's control and treatment unless ``arms`` are given)."""
    products = fields.pop("products", None)
    categories = fields.pop("categories", None)
    experiment = Experiment(created_by=by if getattr(by, "pk", None) else None, **fields)
    experiment.full_clean(exclude=["products", "categories", "winner", "created_by"])
    experiment.save()
    if products:
        experiment.products.set(products)
    if categories:
        experiment.categories.set(categories)
    if arms is None:
        arms = [
            {"name": name, "variant": variant, "is_control": control}
            for name, variant, control in DEFAULT_ARMS[experiment.kind]
        ]
    if len(arms) < 2 or sum(bool(a.get("is_control")) for a in arms) != 1:
        raise ExperimentError("An experiment needs exactly one control arm and at least one other arm.")
    for position, spec in enumerate(arms):
        Arm.objects.create(experiment=experiment, position=position, **spec)
    return experiment


def start(experiment: Experiment) -> Experiment:
    if experiment.status != Experiment.Status.DRAFT:
        raise ExperimentError("Only a draft experiment can start.")
    if experiment.arms.count() < 2:
        raise ExperimentError("An experiment needs at least two arms.")
    if experiment.scope == Experiment.Scope.PRODUCTS and not experiment.products.exists():
        raise ExperimentError("Choose the products this experiment runs on.")
    if experiment.scope == Experiment.Scope.CATEGORIES and not experiment.categories.exists():
        raise ExperimentError("Choose the categories this experiment runs on.")
    experiment.status = Experiment.Status.RUNNING
    experiment.started_at = timezone.now()
    experiment.save()
    return experiment


def stop(experiment: Experiment) -> Experiment:
    if experiment.status != Experiment.Status.RUNNING:
        raise ExperimentError("Only a running experiment can stop.")
    exposures.flush()
    experiment.status = Experiment.Status.STOPPED
    experiment.stopped_at = timezone.now()
    experiment.save()
    return experiment


def roll_out(experiment: Experiment, arm: Arm, *, by: Any = None) -> Experiment:
    """Stop (if running) and make ``arm`` the winner: one click of staff, never automatic.

    The features do what rolling out means for them (:data:`experiment_rolled_out`): product copy keeps
    or restores the published versions through content's own publishing and review.
    """
    if arm.experiment_id != experiment.pk:
        raise ExperimentError("That arm belongs to another experiment.")
    if experiment.winner_id:
        raise ExperimentError("This experiment's winner was already rolled out.")
    if experiment.status == Experiment.Status.DRAFT:
        raise ExperimentError("A draft experiment has no results to roll out.")
    with transaction.atomic():
        if experiment.status == Experiment.Status.RUNNING:
            stop(experiment)
        experiment.winner = arm
        experiment.save()
        for receiver, response in experiment_rolled_out.send_robust(
            sender=Experiment, experiment=experiment, arm=arm, by=by
        ):
            if isinstance(response, Exception):
                logger.error("Rolling out %s: %s failed: %s", experiment, receiver, response)
                raise ExperimentError(f"Could not roll out: {response}") from response
    return experiment


# --- results ---------------------------------------------------------------------------------------


def _metric_filter(metric: str) -> Q:
    return {
        Experiment.Metric.ORDER: Q(orders__gt=0),
        Experiment.Metric.BASKET: Q(basket_additions__gt=0),
        Experiment.Metric.REVENUE: Q(orders__gt=0),
        Experiment.Metric.CLICK: Q(clicks__gt=0),
    }[metric]


def arm_figures(experiment: Experiment) -> list[dict[str, Any]]:
    """Raw per-arm aggregates, one query."""
    metric = _metric_filter(experiment.primary_metric)
    agg = {
        row["arm"]: row
        for row in ExperimentExposure.objects.filter(experiment=experiment)
        .values("arm")
        .annotate(
            visitors=Count("pk"),
            conversions=Count("pk", filter=metric),
            ordered=Count("pk", filter=Q(orders__gt=0)),
            added=Count("pk", filter=Q(basket_additions__gt=0)),
            clicked=Count("pk", filter=Q(clicks__gt=0)),
            orders=Sum("orders"),
            revenue_total=Sum("revenue"),
            revenue_sq=Sum(F("revenue") * F("revenue")),
        )
    }
    out = []
    for arm in experiment.arms.all():
        row = agg.get(arm.pk, {})
        out.append(
            {
                "arm": arm,
                "visitors": row.get("visitors", 0),
                "conversions": row.get("conversions", 0),
                "ordered": row.get("ordered", 0),
                "added": row.get("added", 0),
                "clicked": row.get("clicked", 0),
                "orders": row.get("orders") or 0,
                "revenue": float(row.get("revenue_total") or 0),
                "revenue_sq": float(row.get("revenue_sq") or 0),
            }
        )
    return out


def _visitors_per_day(experiment: Experiment, total: int) -> float:
    start = experiment.started_at or experiment.created_at
    end = experiment.stopped_at or timezone.now()
    days = max((end - start).total_seconds() / 86400, 1.0)
    return total / days


def results(experiment: Experiment, *, flush: bool = True) -> dict[str, Any]:
    """Everything the dashboard shows about ``experiment``, as plain data (JSON-ready)."""
    if flush:
        exposures.flush()
    figures = arm_figures(experiment)
    control = next((f for f in figures if f["arm"].is_control), figures[0] if figures else None)
    revenue_metric = experiment.primary_metric == Experiment.Metric.REVENUE
    counts = [(f["conversions"], f["visitors"]) for f in figures]
    win = stats.chance_to_win(counts, seed=experiment.pk or 0) if len(figures) >= 2 else np.ones(len(figures))
    arms = []
    for f, p_best in zip(figures, win, strict=True):
        arm: Arm = f["arm"]
        rate = stats.conversion_rate(f["conversions"], f["visitors"])
        rpv = stats.revenue_per_visitor(f["revenue"], f["revenue_sq"], f["visitors"])
        item: dict[str, Any] = {
            "id": arm.pk,
            "name": arm.name,
            "variant": arm.variant,
            "is_control": arm.is_control,
            "weight": arm.weight,
            "visitors": f["visitors"],
            "conversions": f["conversions"],
            "orders": f["orders"],
            "ordering_visitors": f["ordered"],
            "basket_visitors": f["added"],
            "clicking_visitors": f["clicked"],
            "revenue": round(f["revenue"], 2),
            "conversion_rate": _interval(rate),
            "revenue_per_visitor": _interval(rpv),
            "chance_to_be_best": round(float(p_best), 4),
            "chance_to_beat_control": None,
            "expected_loss": None,
            "sequential": None,
        }
        if control is not None and not arm.is_control:
            c = (control["conversions"], control["visitors"])
            t = (f["conversions"], f["visitors"])
            item["chance_to_beat_control"] = round(stats.chance_to_beat(c, t), 4)
            item["expected_loss"] = stats.expected_loss(t, c)
            if revenue_metric:
                seq = stats.sequential_test(
                    (control["revenue"], control["revenue_sq"], control["visitors"]),
                    (f["revenue"], f["revenue_sq"], f["visitors"]),
                    alpha=ALPHA,
                    tau=TAU,
                )
            else:
                seq = stats.sequential_test(
                    (control["conversions"], control["conversions"], control["visitors"]),
                    (f["conversions"], f["conversions"], f["visitors"]),
                    alpha=ALPHA,
                    tau=TAU,
                )
            item["sequential"] = {
                "difference": _interval(seq.difference),
                "relative_lift": round(seq.relative, 4),
                "p_value": round(seq.p_value, 6),
                "significant": seq.significant,
            }
        arms.append(item)
    total = sum(f["visitors"] for f in figures)
    guardrails = guardrail_checks(experiment, figures)
    srm = None
    if experiment.mode == Experiment.Mode.AB and len(figures) >= 2 and total:
        check = stats.srm_check([f["visitors"] for f in figures], [f["arm"].weight for f in figures])
        srm = {"chi2": round(check.chi2, 3), "p_value": check.p_value, "mismatch": check.mismatch}
    baseline = (control["conversions"] / control["visitors"]) if control and control["visitors"] else 0.0
    needed = stats.min_sample_size(
        baseline if 0 < baseline < 1 / (1 + experiment.minimum_lift) else DEFAULT_BASELINE, experiment.minimum_lift
    )
    per_day = _visitors_per_day(experiment, total)
    days = stats.days_to_decision(needed, [f["visitors"] for f in figures], per_day) if total else None
    decided = any(a["sequential"] and a["sequential"]["significant"] for a in arms)
    return {
        "id": experiment.pk,
        "name": experiment.name,
        "kind": experiment.kind,
        "status": experiment.status,
        "mode": experiment.mode,
        "primary_metric": experiment.primary_metric,
        "started_at": experiment.started_at,
        "stopped_at": experiment.stopped_at,
        "winner": experiment.winner_id,
        "visitors": total,
        "arms": arms,
        "srm": srm,
        "guardrails": guardrails,
        "cuped": cuped(experiment, control["arm"].pk if control else None),
        "sample_size_per_arm": needed,
        "baseline_rate": round(baseline, 5),
        "visitors_per_day": round(per_day, 1),
        "days_to_decision": None if days is None else (0.0 if decided else round(days, 1)),
        "decided": decided,
        "allocation": experiment.allocation if experiment.mode == Experiment.Mode.BANDIT else None,
    }


GUARDRAIL_FIELDS = {
    Experiment.Metric.ORDER: "ordered",
    Experiment.Metric.REVENUE: "ordered",
    Experiment.Metric.BASKET: "added",
    Experiment.Metric.CLICK: "clicked",
}


def guardrail_checks(experiment: Experiment, figures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each guardrail metric per treatment: its rate against control and whether it is surely worse
    (the always-valid interval of the difference lies below zero)."""
    control = next((f for f in figures if f["arm"].is_control), None)
    out = []
    for metric in experiment.guardrail_metrics or []:
        field = GUARDRAIL_FIELDS.get(metric)
        if field is None or control is None:
            continue
        for f in figures:
            if f["arm"].is_control:
                continue
            c, t = control[field], f[field]
            seq = stats.sequential_test((c, c, control["visitors"]), (t, t, f["visitors"]), alpha=ALPHA, tau=TAU)
            out.append(
                {
                    "metric": metric,
                    "arm": f["arm"].pk,
                    "control_rate": round(c / control["visitors"], 6) if control["visitors"] else None,
                    "rate": round(t / f["visitors"], 6) if f["visitors"] else None,
                    "difference": _interval(seq.difference),
                    "worse": bool(seq.significant and seq.difference.high < 0),
                }
            )
    return out


def _interval(interval: stats.Interval) -> dict[str, float | None]:
    def clean(x: float) -> float | None:
        return None if math.isinf(x) or math.isnan(x) else round(x, 6)

    return {"estimate": clean(interval.estimate), "low": clean(interval.low), "high": clean(interval.high)}


def cuped(experiment: Experiment, control_arm: int | None, limit: int = 200_000) -> dict[str, Any] | None:
    """Revenue per visitor adjusted with each visitor's pre-exposure activity (CUPED), per arm."""
    rows = list(
        ExperimentExposure.objects.filter(experiment=experiment).values_list("arm_id", "revenue", "pre_activity")[
            :limit
        ]
    )
    if len(rows) < 10:
        return None
    arm = np.array([r[0] for r in rows])
    y = np.array([float(r[1]) for r in rows])
    x = np.array([r[2] for r in rows])
    adjusted, theta = stats.cuped_adjust(y, x)
    raw_var, adj_var = float(np.var(y, ddof=1)), float(np.var(adjusted, ddof=1))
    means = {int(a): round(float(adjusted[arm == a].mean()), 4) for a in np.unique(arm)}
    return {
        "theta": round(theta, 6),
        "variance_reduction": round(1 - adj_var / raw_var, 4) if raw_var > 0 else 0.0,
        "adjusted_revenue_per_visitor": means,
        "visitors_with_history": int((x > 0).sum()),
    }


def timeline(experiment: Experiment) -> list[dict[str, Any]]:
    """Per day: each treatment's cumulative relative lift over control and its always-valid interval."""
    metric = _metric_filter(experiment.primary_metric)
    arms = list(experiment.arms.all())
    control = next((a for a in arms if a.is_control), None)
    if control is None:
        return []
    qs = ExperimentExposure.objects.filter(experiment=experiment)
    visitors: dict[int, dict[datetime.date, int]] = defaultdict(dict)
    for row in qs.annotate(day=TruncDate("first_exposed_at")).values("arm", "day").annotate(n=Count("pk")):
        visitors[row["arm"]][row["day"]] = row["n"]
    conversions: dict[int, dict[datetime.date, int]] = defaultdict(dict)
    converted = qs.filter(metric).exclude(converted_at=None)
    for row in converted.annotate(day=TruncDate("converted_at")).values("arm", "day").annotate(n=Count("pk")):
        conversions[row["arm"]][row["day"]] = row["n"]
    days = sorted({d for m in (*visitors.values(), *conversions.values()) for d in m})
    out = []
    cum_v: dict[int, int] = defaultdict(int)
    cum_c: dict[int, int] = defaultdict(int)
    for day in days:
        for a in arms:
            cum_v[a.pk] += visitors[a.pk].get(day, 0)
            cum_c[a.pk] += conversions[a.pk].get(day, 0)
        point: dict[str, Any] = {"day": day.isoformat(), "arms": []}
        for a in arms:
            if a.is_control:
                continue
            cv, cc, tv, tc = cum_v[control.pk], min(cum_c[control.pk], cum_v[control.pk]), cum_v[a.pk], cum_c[a.pk]
            tc = min(tc, tv)
            seq = stats.sequential_test((cc, cc, cv), (tc, tc, tv), alpha=ALPHA, tau=TAU)
            base = cc / cv if cv else 0.0
            low = seq.difference.low / base if base and not math.isinf(seq.difference.low) else None
            high = seq.difference.high / base if base and not math.isinf(seq.difference.high) else None
            point["arms"].append(
                {
                    "arm": a.pk,
                    "name": a.name,
                    "visitors": tv,
                    "control_visitors": cv,
                    "lift": round(seq.relative, 4) if cv and tv else None,
                    "low": None if low is None else round(low, 4),
                    "high": None if high is None else round(high, 4),
                }
            )
        out.append(point)
    return out


# --- bandit ------------------------------------------------------------------------------------------


def update_bandits(*, seed: int | None = None) -> int:
    """Recompute each running bandit's traffic shares per segment from the outcomes so far."""
    exposures.flush()
    rng = np.random.default_rng(seed)
    updated = 0
    for experiment in Experiment.objects.filter(status=Experiment.Status.RUNNING, mode=Experiment.Mode.BANDIT):
        arms = list(experiment.arms.all())
        if len(arms) < 2:
            continue
        metric = _metric_filter(experiment.primary_metric)
        counts = (
            ExperimentExposure.objects.filter(experiment=experiment)
            .values("segment", "arm")
            .annotate(n=Count("pk"), c=Count("pk", filter=metric))
        )
        table: dict[str, dict[int, tuple[int, int]]] = defaultdict(dict)
        for row in counts:
            table[row["segment"]][row["arm"]] = (row["c"], row["n"])
        table.setdefault("", {})
        allocation = {}
        for segment, by_arm in table.items():
            s = np.array([by_arm.get(a.pk, (0, 0))[0] for a in arms], dtype=float)
            n = np.array([by_arm.get(a.pk, (0, 0))[1] for a in arms], dtype=float)
            shares = stats.bandit_allocation(s, n - s, floor=experiment.exploration_floor, draws=4000, rng=rng)
            allocation[segment] = {str(a.pk): round(float(x), 4) for a, x in zip(arms, shares, strict=True)}
        experiment.allocation = allocation
        experiment.save(update_fields=["allocation"])
        updated += 1
    return updated


# --- export ------------------------------------------------------------------------------------------

CSV_HEADER = [
    "experiment",
    "arm",
    "control",
    "visitors",
    "conversions",
    "conversion_rate",
    "rate_low",
    "rate_high",
    "revenue",
    "revenue_per_visitor",
    "chance_to_beat_control",
    "chance_to_be_best",
    "expected_loss",
    "relative_lift",
    "lift_p_value_always_valid",
]


def csv_rows(experiment: Experiment) -> list[list[Any]]:
    data = results(experiment)
    rows = []
    for a in data["arms"]:
        seq = a["sequential"] or {}
        rows.append(
            [
                experiment.name,
                a["name"],
                "yes" if a["is_control"] else "no",
                a["visitors"],
                a["conversions"],
                a["conversion_rate"]["estimate"],
                a["conversion_rate"]["low"],
                a["conversion_rate"]["high"],
                a["revenue"],
                a["revenue_per_visitor"]["estimate"],
                a["chance_to_beat_control"],
                a["chance_to_be_best"],
                a["expected_loss"],
                seq.get("relative_lift"),
                seq.get("p_value"),
            ]
        )
    return rows
