"""The statistics of an experiment: plain NumPy/SciPy, no Django.

Everything here works on counts and sums an experiment keeps per arm (visitors, converting visitors,
revenue and revenue squared), so the dashboard, the API and the evaluation harness call the same
functions on the same aggregates.

- Rates and revenue per visitor with their intervals (Wilson for rates, normal for means).
- Bayesian: a Beta(1, 1) prior on each arm's rate; the chance that an arm beats control is exact
  (the sum of Evan Miller's closed form, evaluated in logs), and the expected loss of choosing an arm
  is ``E[max(p_best_other - p_arm, 0)]`` from the same closed form.
- Sequential: the mixture sequential probability ratio test of Johari, Pekelis and Walsh ("Always
  valid inference", 2017, the test behind Optimizely's stats engine) on the normal approximation of the
  difference, with a normal mixing distribution of variance ``tau2``. Its likelihood ratio is a
  martingale under the null, so by Ville's inequality ``P(sup_n Lambda_n >= 1/alpha) <= alpha``: staff
  may look after every visitor and the error rate still holds. Inverting it gives the always-valid
  confidence sequence shown as the interval of a difference (the same normal-mixture boundary GrowthBook
  uses with its tuning parameter ``N*``: ``tau2 = sigma^2 * rho^2`` with ``rho`` from ``N*``).
- Sample-ratio mismatch: Pearson's chi-square of the arms' visitors against the configured split.
- CUPED (Deng et al. 2013): ``y - theta (x - mean x)`` with ``theta = cov(x, y) / var(x)``.
- The minimum sample size of a two-sided two-proportion test (as R's ``power.prop.test``).
- Thompson sampling per segment with an exploration floor, for the bandit mode.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

__all__ = [
    "Interval",
    "bandit_allocation",
    "chance_to_beat",
    "chance_to_win",
    "confidence_sequence",
    "conversion_rate",
    "cuped_adjust",
    "days_to_decision",
    "expected_loss",
    "min_sample_size",
    "msprt_lambda",
    "revenue_per_visitor",
    "sequential_test",
    "srm_check",
]


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float


# -- per arm ---------------------------------------------------------------------------------------


def conversion_rate(conversions: int, visitors: int, alpha: float = 0.05) -> Interval:
    """The conversion rate with its Wilson score interval (as ``scipy.stats.binomtest(...).proportion_ci``)."""
    _check_counts(conversions, visitors)
    if visitors == 0:
        return Interval(0.0, 0.0, 1.0)
    p = conversions / visitors
    z = stats.norm.ppf(1 - alpha / 2)
    denom = 1 + z * z / visitors
    centre = (p + z * z / (2 * visitors)) / denom
    half = z * math.sqrt(p * (1 - p) / visitors + z * z / (4 * visitors * visitors)) / denom
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half))


def revenue_per_visitor(revenue: float, revenue_sq: float, visitors: int, alpha: float = 0.05) -> Interval:
    """Mean revenue per visitor (visitors who bought nothing count as 0) and its normal interval."""
    if visitors < 0 or revenue_sq < 0:
        raise ValueError("visitors and the sum of squares cannot be negative")
    if visitors == 0:
        return Interval(0.0, 0.0, 0.0)
    mean = revenue / visitors
    var = _sample_variance(revenue, revenue_sq, visitors)
    half = stats.norm.ppf(1 - alpha / 2) * math.sqrt(var / visitors)
    return Interval(mean, mean - half, mean + half)


def _sample_variance(total: float, total_sq: float, n: int) -> float:
    if n < 2:
        return 0.0
    return max(0.0, (total_sq - total * total / n) / (n - 1))


def _check_counts(conversions: int, visitors: int) -> None:
    if visitors < 0 or conversions < 0:
        raise ValueError("counts cannot be negative")
    if conversions > visitors:
        raise ValueError(f"{conversions} conversions out of {visitors} visitors")


# -- Bayesian (beta-binomial) ----------------------------------------------------------------------


def _prob_b_beats_a(a1: float, b1: float, a2: float, b2: float) -> float:
    """P(X2 > X1) for X1 ~ Beta(a1, b1), X2 ~ Beta(a2, b2), exact for integer ``a2``.

    Evan Miller, "Formulas for Bayesian A/B testing": the sum over ``i < a2`` of
    ``B(a1 + i, b1 + b2) / ((b2 + i) B(1 + i, b2) B(a1, b1))``, in logs. With more successes in arm 2
    than failures the symmetric form (1 - P(X1 > X2) summed over arm 1's failures) is shorter, so the
    sum has at most min(a2, b1)-ish terms; both are exact.
    """
    if a2 > b1 + 1 and float(b1).is_integer():
        # P(X2 > X1) = P(1 - X1 > 1 - X2) with 1 - X ~ Beta(b, a): sum over b1 terms instead of a2.
        return _prob_b_beats_a(b2, a2, b1, a1)
    if not float(a2).is_integer():
        raise ValueError("the exact formula needs an integer alpha for the second arm")
    i = np.arange(int(a2), dtype=float)
    logs = special.betaln(a1 + i, b1 + b2) - np.log(b2 + i) - special.betaln(1 + i, b2) - special.betaln(a1, b1)
    return float(np.clip(np.exp(special.logsumexp(logs)), 0.0, 1.0))


def chance_to_beat(
    control: tuple[int, int], treatment: tuple[int, int], prior: tuple[float, float] = (1.0, 1.0)
) -> float:
    """Posterior probability that the treatment's rate exceeds control's; arms are ``(conversions, visitors)``."""
    (ca, na), (cb, nb) = control, treatment
    _check_counts(ca, na)
    _check_counts(cb, nb)
    a0, b0 = prior
    return _prob_b_beats_a(a0 + ca, b0 + na - ca, a0 + cb, b0 + nb - cb)


def expected_loss(chosen: tuple[int, int], other: tuple[int, int], prior: tuple[float, float] = (1.0, 1.0)) -> float:
    """``E[max(p_other - p_chosen, 0)]``: the rate given up, on average, by choosing ``chosen``.

    ``E[X_o 1{X_o > X_c}] = mean_o * P(X_o' > X_c)`` with ``X_o' ~ Beta(a_o + 1, b_o)`` and likewise for
    the chosen arm, so the loss is two calls of the exact chance formula.
    """
    (cc, nc), (co, no) = chosen, other
    _check_counts(cc, nc)
    _check_counts(co, no)
    a0, b0 = prior
    ac, bc = a0 + cc, b0 + nc - cc
    ao, bo = a0 + co, b0 + no - co
    mean_c, mean_o = ac / (ac + bc), ao / (ao + bo)
    loss = mean_o * _prob_b_beats_a(ac, bc, ao + 1, bo) - mean_c * _prob_b_beats_a(ac + 1, bc, ao, bo)
    return max(0.0, float(loss))


def chance_to_win(
    arms: Sequence[tuple[int, int]], *, draws: int = 20000, seed: int = 0, prior: tuple[float, float] = (1.0, 1.0)
) -> np.ndarray:
    """Each arm's posterior probability of having the highest rate (Monte Carlo for three or more arms)."""
    for c, n in arms:
        _check_counts(c, n)
    if len(arms) == 2:
        p = chance_to_beat(arms[0], arms[1], prior)
        return np.array([1 - p, p])
    rng = np.random.default_rng(seed)
    a0, b0 = prior
    samples = np.stack([rng.beta(a0 + c, b0 + n - c, size=draws) for c, n in arms])
    best = np.argmax(samples, axis=0)
    return np.bincount(best, minlength=len(arms)) / draws


# -- sequential (mSPRT, always valid) --------------------------------------------------------------


def msprt_lambda(diff: np.ndarray | float, var: np.ndarray | float, tau2: np.ndarray | float) -> np.ndarray:
    """The mixture likelihood ratio of Johari et al. (2017) for a difference ``diff`` with variance ``var``.

    ``Lambda = sqrt(V / (V + tau2)) * exp(tau2 * diff^2 / (2 V (V + tau2)))``. Works on arrays.
    """
    diff, var, tau2 = np.asarray(diff, float), np.asarray(var, float), np.asarray(tau2, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_lam = 0.5 * np.log(var / (var + tau2)) + tau2 * diff**2 / (2 * var * (var + tau2))
    return np.exp(np.where(var > 0, log_lam, 0.0))


def confidence_sequence(diff: float, var: float, tau2: float, alpha: float = 0.05) -> Interval:
    """The always-valid interval: every ``theta`` whose mixture ratio stays below ``1/alpha``.

    ``|diff - theta| < sqrt(V (V + tau2) / tau2 * (2 log(1/alpha) + log((V + tau2) / V)))``.
    """
    if var <= 0:
        return Interval(diff, -math.inf, math.inf)
    half = math.sqrt(var * (var + tau2) / tau2 * (2 * math.log(1 / alpha) + math.log((var + tau2) / var)))
    return Interval(diff, diff - half, diff + half)


@dataclass(frozen=True)
class SequentialResult:
    difference: Interval  # treatment minus control, always-valid interval
    relative: float  # difference / control mean
    likelihood_ratio: float
    p_value: float  # always valid: min(1, 1/Lambda); callers keep the running minimum over looks
    significant: bool


def sequential_test(
    control: tuple[float, float, int],
    treatment: tuple[float, float, int],
    *,
    alpha: float = 0.05,
    tau: float = 0.1,
    relative_tau: bool = True,
) -> SequentialResult:
    """mSPRT of the difference of two means; each arm is ``(sum, sum of squares, visitors)``.

    For a rate the sum of squares equals the sum (0/1 values). ``tau`` is the mixing standard
    deviation: with ``relative_tau`` it is a share of the pooled mean (``0.1`` = effects around 10%).
    """
    (sa, qa, na), (sb, qb, nb) = control, treatment
    if na < 2 or nb < 2:
        return SequentialResult(Interval(0.0, -math.inf, math.inf), 0.0, 1.0, 1.0, False)
    ma, mb = sa / na, sb / nb
    var = _sample_variance(sa, qa, na) / na + _sample_variance(sb, qb, nb) / nb
    scale = abs((sa + sb) / (na + nb)) if relative_tau else 1.0
    tau2 = (tau * scale) ** 2
    if var <= 0 or tau2 <= 0:
        return SequentialResult(Interval(mb - ma, -math.inf, math.inf), 0.0, 1.0, 1.0, False)
    lam = float(msprt_lambda(mb - ma, var, tau2))
    interval = confidence_sequence(mb - ma, var, tau2, alpha)
    p = min(1.0, 1.0 / lam) if lam > 0 else 1.0
    return SequentialResult(interval, (mb - ma) / ma if ma else 0.0, lam, p, lam >= 1 / alpha)


# -- sample ratio mismatch -------------------------------------------------------------------------


@dataclass(frozen=True)
class SRMResult:
    chi2: float
    p_value: float
    mismatch: bool
    expected: list[float]


def srm_check(visitors: Sequence[int], weights: Sequence[float], threshold: float = 0.001) -> SRMResult:
    """Pearson's chi-square of the arms' visitors against the configured weights.

    A p-value below ``threshold`` (0.001, the usual choice: an SRM check runs at every look) flags
    broken assignment: the arms' figures cannot be trusted until it is explained.
    """
    observed = np.asarray(visitors, dtype=float)
    w = np.asarray(weights, dtype=float)
    if observed.shape != w.shape or len(observed) < 2:
        raise ValueError("one weight per arm, at least two arms")
    if np.any(observed < 0) or np.any(w <= 0):
        raise ValueError("visitors cannot be negative and weights must be positive")
    total = observed.sum()
    if total == 0:
        return SRMResult(0.0, 1.0, False, [0.0] * len(observed))
    expected = total * w / w.sum()
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    p = float(stats.chi2.sf(chi2, len(observed) - 1))
    return SRMResult(chi2, p, p < threshold, expected.tolist())


# -- CUPED -----------------------------------------------------------------------------------------


def cuped_adjust(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, float]:
    """CUPED: ``y - theta (x - mean(x))`` with ``theta = cov(x, y) / var(x)`` over all arms pooled.

    ``x`` is each visitor's pre-exposure activity (0 where there is none). Returns the adjusted values
    and ``theta``; with no variation in ``x`` nothing changes (``theta = 0``).
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    if y.shape != x.shape:
        raise ValueError("one covariate value per visitor")
    if len(x) < 2:
        return y.copy(), 0.0
    vx = float(np.var(x, ddof=1))
    if vx == 0:
        return y.copy(), 0.0
    theta = float(np.cov(x, y, ddof=1)[0, 1] / vx)
    return y - theta * (x - x.mean()), theta


# -- planning --------------------------------------------------------------------------------------


def min_sample_size(baseline: float, relative_lift: float, *, alpha: float = 0.05, power: float = 0.8) -> int:
    """Visitors per arm a two-sided two-proportion z-test needs (R's ``power.prop.test`` formula)."""
    if not 0 < baseline < 1:
        raise ValueError("the baseline rate must be between 0 and 1")
    p2 = baseline * (1 + relative_lift)
    if not 0 < p2 < 1 or relative_lift == 0:
        raise ValueError("the lift must be non-zero and keep the rate between 0 and 1")
    za, zb = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    pbar = (baseline + p2) / 2
    n = (za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(baseline * (1 - baseline) + p2 * (1 - p2))) ** 2
    return math.ceil(n / (p2 - baseline) ** 2)


def days_to_decision(needed_per_arm: int, visitors_per_arm: Sequence[int], visitors_per_day: float) -> float | None:
    """Days until the smallest arm reaches ``needed_per_arm`` at the current daily traffic (None: no traffic)."""
    if not visitors_per_arm:
        return None
    missing = max(0, needed_per_arm - min(visitors_per_arm)) * len(visitors_per_arm)
    if missing == 0:
        return 0.0
    if visitors_per_day <= 0:
        return None
    return missing / visitors_per_day


# -- bandit ----------------------------------------------------------------------------------------


def bandit_allocation(
    successes: np.ndarray,
    failures: np.ndarray,
    *,
    floor: float = 0.05,
    draws: int = 1000,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Thompson sampling shares of traffic per segment, each arm kept at ``floor`` at least.

    ``successes``/``failures`` have shape ``(..., arms)`` (e.g. segments x arms, or runs x segments x
    arms): the share of an arm is the probability that its Beta(1 + s, 1 + f) draw is the highest,
    estimated with ``draws`` samples, then mixed with the uniform floor:
    ``floor + (1 - arms * floor) * share``.
    """
    s = np.asarray(successes, dtype=float)
    f = np.asarray(failures, dtype=float)
    if s.shape != f.shape:
        raise ValueError("successes and failures must have the same shape")
    k = s.shape[-1]
    if not 0 <= floor * k <= 1:
        raise ValueError(f"an exploration floor of {floor} cannot hold for {k} arms")
    rng = rng or np.random.default_rng()
    samples = rng.beta(1 + s[..., None], 1 + f[..., None], size=(*s.shape, draws))
    best = np.argmax(samples, axis=-2)  # (..., draws)
    share = np.stack([(best == arm).mean(axis=-1) for arm in range(k)], axis=-1)
    return floor + (1 - k * floor) * share
