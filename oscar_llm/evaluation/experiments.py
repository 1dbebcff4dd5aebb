"""``oscar_llm_eval experiments --simulate N``: the experiment statistics on simulated shop traffic.

Each of the ``N`` runs simulates one experiment the way a shop lives it: a few thousand visitors a day
(``visitors_per_day``), Bernoulli conversions at a base rate of a few percent, a horizon of
``days`` days, and staff looking at the results after every day. All runs are simulated at once
(arrays of runs x days), through the same functions of :mod:`oscar_llm.experiments.stats` the
dashboard calls.

Per run:

- **A/A** (both arms at the base rate): is the mSPRT (:func:`~oscar_llm.experiments.stats.msprt_lambda`,
  the dashboard's sequential test) significant at any daily look? And the naive fixed-horizon z-test
  peeked at daily, for comparison.
- **A/B** (treatment +10% relative): does the sequential test detect the lift within the horizon?
- **SRM**: the same traffic split 45/55 instead of 50/50: does the chi-square check (p < 0.001) flag it
  at any look? The A/A runs' split is 50/50, so their flags are false alarms.
- **Bandit**: three arms, three visitor segments, each segment with its own base rate and arm effects
  (so the best arm differs by segment). Thompson sampling per segment with a 5% floor, updated daily,
  against an equal fixed split; regret is the expected conversions lost against an oracle that shows
  each segment its best arm, as a share of the oracle's conversions.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from ..experiments.stats import bandit_allocation, msprt_lambda, srm_check


@dataclass
class SimulationConfig:
    runs: int = 2000
    days: int = 28
    visitors_per_day: int = 3000
    base_rate: float = 0.05
    lift: float = 0.10
    alpha: float = 0.05
    tau: float = 0.1  # mixing sd of the mSPRT, as a share of the pooled rate
    srm_split: float = 0.45
    srm_threshold: float = 0.001
    bandit_arms: int = 3
    bandit_segments: int = 3
    bandit_floor: float = 0.05
    bandit_draws: int = 200
    seed: int = 0


def _two_arm_traffic(
    rng: np.random.Generator, cfg: SimulationConfig, rate_b: float, split: float = 0.5
) -> tuple[np.ndarray, ...]:
    """Cumulative visitors and conversions per arm after each day: arrays of shape (runs, days)."""
    shape = (cfg.runs, cfg.days)
    daily = rng.poisson(cfg.visitors_per_day, shape)
    na = rng.binomial(daily, split)
    nb = daily - na
    ca = rng.binomial(na, cfg.base_rate)
    cb = rng.binomial(nb, rate_b)
    return tuple(np.cumsum(x, axis=1) for x in (na, nb, ca, cb))


def _sequential_significant(na: np.ndarray, nb: np.ndarray, ca: np.ndarray, cb: np.ndarray, cfg: SimulationConfig):
    """mSPRT at every look: (significant at any look, first day significant or -1)."""
    pa, pb = ca / np.maximum(na, 1), cb / np.maximum(nb, 1)
    var = pa * (1 - pa) / np.maximum(na - 1, 1) + pb * (1 - pb) / np.maximum(nb - 1, 1)
    pooled = (ca + cb) / np.maximum(na + nb, 1)
    tau2 = (cfg.tau * pooled) ** 2
    lam = np.where((var > 0) & (tau2 > 0), msprt_lambda(pb - pa, np.where(var > 0, var, 1.0), tau2), 1.0)
    hit = lam >= 1 / cfg.alpha
    return hit.any(axis=1), np.where(hit.any(axis=1), hit.argmax(axis=1) + 1, -1)


def _naive_significant(na: np.ndarray, nb: np.ndarray, ca: np.ndarray, cb: np.ndarray, cfg: SimulationConfig):
    pooled = (ca + cb) / np.maximum(na + nb, 1)
    se = np.sqrt(pooled * (1 - pooled) * (1 / np.maximum(na, 1) + 1 / np.maximum(nb, 1)))
    diff = cb / np.maximum(nb, 1) - ca / np.maximum(na, 1)
    z = np.divide(diff, se, out=np.zeros_like(diff, dtype=float), where=se > 0)
    hit = np.abs(z) >= stats.norm.ppf(1 - cfg.alpha / 2)
    return hit.any(axis=1), hit[:, -1]


def _srm_flags(na: np.ndarray, nb: np.ndarray, cfg: SimulationConfig) -> np.ndarray:
    """Chi-square (two arms, equal weights) at every look, vectorised; spot-checked against ``srm_check``."""
    total = na + nb
    expected = total / 2
    chi2 = np.divide((na - expected) ** 2 * 2, expected, out=np.zeros_like(expected, dtype=float), where=expected > 0)
    p = stats.chi2.sf(chi2, 1)
    flags = p < cfg.srm_threshold
    ref = srm_check([int(na[0, -1]), int(nb[0, -1])], [1, 1], cfg.srm_threshold)
    assert abs(ref.p_value - p[0, -1]) < 1e-9, "vectorised SRM check disagrees with srm_check"
    return flags.any(axis=1)


def _bandit(rng: np.random.Generator, cfg: SimulationConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected regret of Thompson sampling per segment and of a fixed equal split, and the oracle's conversions."""
    r, s, k = cfg.runs, cfg.bandit_segments, cfg.bandit_arms
    base = rng.uniform(0.02, 0.08, (r, s, 1))
    effects = np.concatenate([np.zeros((r, s, 1)), rng.normal(0.0, 0.15, (r, s, k - 1))], axis=2)
    rates = np.clip(base * (1 + effects), 0.001, 0.999)  # (runs, segments, arms)
    best = rates.max(axis=2, keepdims=True)
    gap = best - rates
    per_segment = cfg.visitors_per_day // s
    succ = np.zeros((r, s, k))
    fail = np.zeros((r, s, k))
    bandit_regret = np.zeros(r)
    fixed_regret = np.zeros(r)
    uniform = np.full((r, s, k), 1.0 / k)
    for day in range(cfg.days):
        shares = (
            uniform
            if day == 0
            else bandit_allocation(succ, fail, floor=cfg.bandit_floor, draws=cfg.bandit_draws, rng=rng)
        )
        shown = rng.multinomial(per_segment, shares)
        conv = rng.binomial(shown, rates)
        succ += conv
        fail += shown - conv
        bandit_regret += (shown * gap).sum(axis=(1, 2))
        fixed = rng.multinomial(per_segment, uniform)
        fixed_regret += (fixed * gap).sum(axis=(1, 2))
    oracle = (best[..., 0] * per_segment * cfg.days).sum(axis=1)
    return bandit_regret, fixed_regret, oracle


def simulate(cfg: SimulationConfig, out: str | Path | None = None) -> dict[str, Any]:
    if cfg.runs < 1:
        raise ValueError("--simulate needs at least one run")
    started = time.monotonic()
    rng = np.random.default_rng(cfg.seed)
    aa = _two_arm_traffic(rng, cfg, cfg.base_rate)
    aa_seq, _ = _sequential_significant(*aa, cfg)
    aa_naive_any, aa_naive_end = _naive_significant(*aa, cfg)
    ab = _two_arm_traffic(rng, cfg, cfg.base_rate * (1 + cfg.lift))
    ab_seq, ab_day = _sequential_significant(*ab, cfg)
    _, ab_fixed_end = _naive_significant(*ab, cfg)
    srm_false = _srm_flags(aa[0], aa[1], cfg)
    broken = _two_arm_traffic(rng, cfg, cfg.base_rate, split=cfg.srm_split)
    srm_flagged = _srm_flags(broken[0], broken[1], cfg)
    bandit_regret, fixed_regret, oracle = _bandit(rng, cfg)

    if out:
        with Path(out).open("w", encoding="utf-8") as handle:
            for i in range(cfg.runs):
                row = {
                    "run": i,
                    "aa_sequential_significant": bool(aa_seq[i]),
                    "aa_naive_significant_any_look": bool(aa_naive_any[i]),
                    "aa_fixed_horizon_significant": bool(aa_naive_end[i]),
                    "ab_sequential_detected": bool(ab_seq[i]),
                    "ab_detection_day": int(ab_day[i]),
                    "ab_fixed_horizon_detected": bool(ab_fixed_end[i]),
                    "srm_flagged_45_55": bool(srm_flagged[i]),
                    "srm_false_alarm_50_50": bool(srm_false[i]),
                    "bandit_regret": round(float(bandit_regret[i]), 3),
                    "fixed_split_regret": round(float(fixed_regret[i]), 3),
                    "oracle_conversions": round(float(oracle[i]), 3),
                }
                handle.write(json.dumps(row) + "\n")
    detected_days = ab_day[ab_seq]
    return {
        "runs": cfg.runs,
        "aa_false_positive_rate": round(float(aa_seq.mean()), 4),
        "naive_false_positive_rate": round(float(aa_naive_any.mean()), 4),
        "fixed_horizon_false_positive_rate": round(float(aa_naive_end.mean()), 4),
        "power_10pct_lift": round(float(ab_seq.mean()), 4),
        "fixed_horizon_power_10pct_lift": round(float(ab_fixed_end.mean()), 4),
        "median_detection_day": float(np.median(detected_days)) if detected_days.size else None,
        "srm_detection_rate": round(float(srm_flagged.mean()), 4),
        "srm_false_alarm_rate": round(float(srm_false.mean()), 4),
        "bandit_regret_vs_oracle": round(float(bandit_regret.sum() / oracle.sum()), 4),
        "fixed_split_regret_vs_oracle": round(float(fixed_regret.sum() / oracle.sum()), 4),
        "bandit_conversions_lost_per_run": round(float(bandit_regret.mean()), 2),
        "fixed_split_conversions_lost_per_run": round(float(fixed_regret.mean()), 2),
        "config": asdict(cfg),
        "seconds": round(time.monotonic() - started, 1),
    }
