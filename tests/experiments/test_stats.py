"""The experiment statistics against SciPy and published worked examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from oscar_llm.experiments import stats as xs


@pytest.mark.parametrize(("k", "n"), [(0, 10), (7, 10), (48, 1000), (999, 1000), (12, 3000)])
def test_wilson_interval_matches_scipy(k: int, n: int) -> None:
    ours = xs.conversion_rate(k, n)
    ref = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert ours.estimate == pytest.approx(k / n)
    assert ours.low == pytest.approx(ref.low, abs=1e-12)
    assert ours.high == pytest.approx(ref.high, abs=1e-12)


def test_rates_reject_impossible_counts() -> None:
    with pytest.raises(ValueError):
        xs.conversion_rate(11, 10)
    with pytest.raises(ValueError):
        xs.chance_to_beat((1, 10), (-1, 10))


def test_revenue_per_visitor_matches_numpy() -> None:
    rng = np.random.default_rng(3)
    values = np.where(rng.random(500) < 0.1, rng.gamma(2.0, 30.0, 500), 0.0)
    ours = xs.revenue_per_visitor(values.sum(), (values**2).sum(), len(values))
    se = values.std(ddof=1) / math.sqrt(len(values))
    assert ours.estimate == pytest.approx(values.mean())
    assert ours.high - ours.estimate == pytest.approx(stats.norm.ppf(0.975) * se)


def _chance_by_integration(a1: float, b1: float, a2: float, b2: float) -> float:
    # P(X2 > X1) = integral of pdf_1(x) * (1 - cdf_2(x)); the mass sits near the means, so split there.
    f = lambda x: stats.beta.pdf(x, a1, b1) * stats.beta.sf(x, a2, b2)  # noqa: E731
    m = a1 / (a1 + b1)
    points = sorted({max(1e-9, m * 0.5), m, min(1 - 1e-9, m * 1.5)})
    return integrate.quad(f, 0, 1, points=points, limit=500, epsabs=1e-12)[0]


@pytest.mark.parametrize(
    ("control", "treatment"),
    [((10, 100), (15, 100)), ((200, 5000), (230, 5000)), ((3, 40), (0, 40)), ((90, 100), (95, 100))],
)
def test_chance_to_beat_matches_numerical_integration(control: tuple, treatment: tuple) -> None:
    (ca, na), (cb, nb) = control, treatment
    ref = _chance_by_integration(1 + ca, 1 + na - ca, 1 + cb, 1 + nb - cb)
    assert xs.chance_to_beat(control, treatment) == pytest.approx(ref, abs=1e-6)
    # and the two arms' chances add up to one
    assert xs.chance_to_beat(control, treatment) + xs.chance_to_beat(treatment, control) == pytest.approx(1.0)


def test_chance_to_beat_evan_miller_symmetry_and_identical_arms() -> None:
    # Identical data: a coin flip.
    assert xs.chance_to_beat((50, 1000), (50, 1000)) == pytest.approx(0.5, abs=1e-9)
    # Beta(1,1) vs Beta(2,1): P(X2 > X1) = integral of 2x * x dx... = 2/3 exactly.
    assert xs.chance_to_beat((0, 0), (1, 1)) == pytest.approx(2 / 3)


def test_expected_loss_matches_monte_carlo() -> None:
    rng = np.random.default_rng(7)
    chosen, other = (40, 1000), (55, 1000)
    xc = rng.beta(41, 961, 2_000_000)
    xo = rng.beta(56, 946, 2_000_000)
    ref = np.maximum(xo - xc, 0).mean()
    assert xs.expected_loss(chosen, other) == pytest.approx(ref, rel=0.01)
    # choosing the better arm loses little, choosing the worse arm loses about the gap
    assert xs.expected_loss(other, chosen) < xs.expected_loss(chosen, other)
    assert xs.expected_loss(chosen, other) > 0.015 * 0.9


def test_chance_to_win_agrees_with_exact_pairwise_for_two_arms() -> None:
    arms = [(100, 2000), (125, 2000)]
    exact = xs.chance_to_win(arms)
    assert exact[1] == pytest.approx(xs.chance_to_beat(*arms))
    three = xs.chance_to_win([*arms, (60, 2000)], draws=200_000)
    assert three.sum() == pytest.approx(1.0)
    assert three[2] < 0.001 and three[1] > three[0]


def test_msprt_lambda_is_the_mixture_integral() -> None:
    diff, var, tau2 = 0.004, 1.5e-6, 2.5e-5
    num = integrate.quad(
        lambda t: stats.norm.pdf(diff, t, math.sqrt(var)) * stats.norm.pdf(t, 0, math.sqrt(tau2)), -0.05, 0.05
    )[0]
    ref = num / stats.norm.pdf(diff, 0, math.sqrt(var))
    assert float(xs.msprt_lambda(diff, var, tau2)) == pytest.approx(ref, rel=1e-6)


def test_confidence_sequence_edge_is_where_the_ratio_reaches_one_over_alpha() -> None:
    diff, var, tau2, alpha = 0.01, 4e-6, 1e-5, 0.05
    cs = xs.confidence_sequence(diff, var, tau2, alpha)
    assert float(xs.msprt_lambda(diff - cs.low, var, tau2)) == pytest.approx(1 / alpha)
    assert float(xs.msprt_lambda(cs.high - diff, var, tau2)) == pytest.approx(1 / alpha)
    # wider than the fixed-horizon interval: the price of looking at any time
    assert cs.high - diff > stats.norm.ppf(0.975) * math.sqrt(var)


def test_sequential_test_keeps_its_error_rate_under_daily_looks() -> None:
    rng = np.random.default_rng(11)
    runs, days, per_day, p = 400, 30, 2000, 0.05
    n = np.cumsum(np.full((runs, days), per_day // 2), axis=1)
    ca = np.cumsum(rng.binomial(per_day // 2, p, (runs, days)), axis=1)
    cb = np.cumsum(rng.binomial(per_day // 2, p, (runs, days)), axis=1)
    rejected = 0
    for r in range(runs):
        for d in range(days):
            res = xs.sequential_test((ca[r, d], ca[r, d], n[r, d]), (cb[r, d], cb[r, d], n[r, d]))
            if res.significant:
                rejected += 1
                break
    assert rejected / runs <= 0.05
    # and it finds a real 30% lift
    found = xs.sequential_test((1000, 1000, 20000), (1300, 1300, 20000))
    assert found.significant and found.difference.low > 0 and found.relative == pytest.approx(0.3)


@pytest.mark.parametrize(
    ("observed", "weights"), [([5050, 4950], [1, 1]), ([821588, 815482], [1, 1]), ([30, 50, 20], [1, 2, 1])]
)
def test_srm_matches_scipy_chisquare(observed: list, weights: list) -> None:
    w = np.asarray(weights, float)
    expected = np.asarray(observed).sum() * w / w.sum()
    ref = stats.chisquare(observed, expected)
    ours = xs.srm_check(observed, weights)
    assert ours.chi2 == pytest.approx(ref.statistic)
    assert ours.p_value == pytest.approx(ref.pvalue)


def test_srm_flags_a_broken_split() -> None:
    assert xs.srm_check([4500, 5500], [1, 1]).mismatch
    assert not xs.srm_check([5010, 4990], [1, 1]).mismatch
    assert xs.srm_check([0, 0], [1, 1]).p_value == 1.0
    with pytest.raises(ValueError):
        xs.srm_check([10, 10], [1])


def test_cuped_theta_is_the_regression_slope_and_reduces_variance() -> None:
    rng = np.random.default_rng(5)
    x = rng.poisson(2.0, 5000).astype(float)
    y = 0.3 * x + rng.normal(0, 1, 5000)
    adjusted, theta = xs.cuped_adjust(y, x)
    assert theta == pytest.approx(stats.linregress(x, y).slope)
    assert adjusted.mean() == pytest.approx(y.mean())
    r = np.corrcoef(x, y)[0, 1]
    assert adjusted.var(ddof=1) == pytest.approx(y.var(ddof=1) * (1 - r * r), rel=1e-9)
    same, zero = xs.cuped_adjust(y, np.zeros_like(y))
    assert zero == 0.0 and np.array_equal(same, y)


def test_min_sample_size_matches_r_power_prop_test() -> None:
    # R: power.prop.test(p1 = .50, p2 = .75, power = .90) -> n = 76.65 per group (R's own example).
    assert xs.min_sample_size(0.5, 0.5, power=0.9) == 77
    # R: power.prop.test(p1 = .20, p2 = .25, power = .80) -> n = 1093.7 per group.
    assert xs.min_sample_size(0.2, 0.25) == 1094
    with pytest.raises(ValueError):
        xs.min_sample_size(0.0, 0.1)


def test_days_to_decision() -> None:
    assert xs.days_to_decision(1000, [400, 600], 100) == pytest.approx(12.0)
    assert xs.days_to_decision(1000, [1000, 1200], 100) == 0.0
    assert xs.days_to_decision(1000, [0, 0], 0) is None


def test_bandit_allocation_keeps_the_floor_and_follows_the_winner() -> None:
    rng = np.random.default_rng(0)
    s = np.array([[50, 100, 52], [300, 200, 10]])
    f = np.array([[950, 900, 948], [700, 800, 990]])
    shares = xs.bandit_allocation(s, f, floor=0.05, draws=4000, rng=rng)
    assert shares.shape == (2, 3)
    assert np.allclose(shares.sum(axis=-1), 1.0)
    assert shares.min() >= 0.05 - 1e-12
    assert shares[0].argmax() == 1 and shares[1].argmax() == 0  # each segment its own winner
    assert shares[0, 1] == pytest.approx(0.9, abs=0.01)
    with pytest.raises(ValueError):
        xs.bandit_allocation(s, f, floor=0.5)
