"""A campaign against its holdout: conversion, revenue per recipient, uplift with its interval (no Django).

Kept apart from Django so the experiments package can take it over: it sees only counts and sums.
The uplift of conversion is the difference of two proportions with a Wald interval (normal
approximation, ``z`` 1.96 for 95%); revenue per recipient has a Welch interval from the per-customer
revenues' means and variances.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Z_95 = 1.959963984540054


@dataclass(frozen=True)
class Arm:
    """One group of customers: how many got (or, for the holdout, would have got) the email, and their orders."""

    name: str
    recipients: int
    converted: int
    revenues: tuple[float, ...] = ()

    @property
    def conversion(self) -> float:
        return self.converted / self.recipients if self.recipients else 0.0

    @property
    def revenue(self) -> float:
        return float(sum(self.revenues))

    @property
    def revenue_per_recipient(self) -> float:
        return self.revenue / self.recipients if self.recipients else 0.0

    def revenue_variance(self) -> float:
        """Variance of revenue per recipient (customers without an order count as 0)."""
        n = self.recipients
        if n < 2:
            return 0.0
        values = list(self.revenues) + [0.0] * max(n - len(self.revenues), 0)
        mean = sum(values) / n
        return sum((v - mean) ** 2 for v in values) / (n - 1)


@dataclass(frozen=True)
class Uplift:
    difference: float
    low: float
    high: float

    @property
    def significant(self) -> bool:
        return self.low > 0 or self.high < 0

    def as_dict(self) -> dict[str, float | bool]:
        return {"difference": self.difference, "low": self.low, "high": self.high, "significant": self.significant}


def conversion_uplift(treated: Arm, holdout: Arm, z: float = Z_95) -> Uplift | None:
    """Difference of conversion rates (treated - holdout) with its interval; None without both groups."""
    if not treated.recipients or not holdout.recipients:
        return None
    p1, p0 = treated.conversion, holdout.conversion
    se = math.sqrt(p1 * (1 - p1) / treated.recipients + p0 * (1 - p0) / holdout.recipients)
    d = p1 - p0
    return Uplift(d, d - z * se, d + z * se)


def revenue_uplift(treated: Arm, holdout: Arm, z: float = Z_95) -> Uplift | None:
    """Difference of revenue per recipient with a Welch interval; None without both groups."""
    if not treated.recipients or not holdout.recipients:
        return None
    se = math.sqrt(treated.revenue_variance() / treated.recipients + holdout.revenue_variance() / holdout.recipients)
    d = treated.revenue_per_recipient - holdout.revenue_per_recipient
    return Uplift(d, d - z * se, d + z * se)


def summary(arms: Sequence[Arm], holdout: Arm) -> dict[str, object]:
    """Figures per arm and the uplift of all treated arms together over the holdout."""
    treated = Arm(
        "all",
        sum(a.recipients for a in arms),
        sum(a.converted for a in arms),
        tuple(r for a in arms for r in a.revenues),
    )
    conv, rev = conversion_uplift(treated, holdout), revenue_uplift(treated, holdout)
    return {
        "arms": [
            {
                "name": a.name,
                "recipients": a.recipients,
                "converted": a.converted,
                "conversion": a.conversion,
                "revenue": a.revenue,
                "revenue_per_recipient": a.revenue_per_recipient,
            }
            for a in [*arms, holdout]
        ],
        "conversion_uplift": conv.as_dict() if conv else None,
        "revenue_uplift": rev.as_dict() if rev else None,
        # Orders the campaign added: the treated group's conversions beyond the holdout's rate.
        "added_orders": treated.converted - holdout.conversion * treated.recipients if holdout.recipients else None,
        "added_revenue": treated.revenue - holdout.revenue_per_recipient * treated.recipients
        if holdout.recipients
        else None,
    }
