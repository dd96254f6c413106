"""The arithmetic of the measures: one Wilson interval, one two-share test, the changes of two
independent scores with a 95% interval, and one power calculation.

Foundation (DESIGN.md, "Layers"): numbers in, numbers out; no tables, files or pages. Every analysis
calls these on its sufficient statistics; none keeps its own copy.

Examples
--------
>>> from cxlib.stats import proportion_change
>>> round(proportion_change(60, 100, 50, 100)["change"], 2)
0.1
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint, proportion_effectsize

__all__ = ["wilson", "two_shares", "nps_change", "proportion_change", "mean_change", "score_change",
           "sample_size", "nps_sd", "minimum_detectable_effect"]


def wilson(k, n, alpha: float = 0.05):
    """Wilson score interval of ``k`` successes in ``n`` trials (statsmodels ``proportion_confint``).

    Vectorised; rows with ``n == 0`` get NaN. Returns ``(lower, upper)`` arrays of shares 0-1.

    Examples
    --------
    >>> lo, hi = wilson([45], [100])
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.3561, 0.5475)
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    safe = np.where(n > 0, n, 1)
    lo, hi = proportion_confint(np.minimum(k, safe), safe, alpha=alpha, method="wilson")
    return np.where(n > 0, lo, np.nan), np.where(n > 0, hi, np.nan)


def two_shares(k1, n1, k0, n0, *, alpha: float = 0.05) -> dict:
    """Difference of two shares k1/n1 - k0/n0: Newcombe interval, pooled z-test, beyond noise or not.

    Returns a dict with ``difference``, ``difference_ci_lower``, ``difference_ci_upper``, ``p_value``,
    ``beyond_noise`` (NaN / False when a side is empty).

    Examples
    --------
    >>> round(two_shares(60, 100, 45, 100)["difference"], 2)
    0.15
    """
    if not (n1 and n0):
        return {"difference": np.nan, "difference_ci_lower": np.nan, "difference_ci_upper": np.nan,
                "p_value": np.nan, "beyond_noise": False}
    lo, hi = confint_proportions_2indep(k1, n1, k0, n0, compare="diff", method="newcomb", alpha=alpha)
    pooled = (k1 + k0) / (n1 + n0)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    p = 2 * stats.norm.sf(abs(k1 / n1 - k0 / n0) / se) if se > 0 else 1.0
    return {"difference": k1 / n1 - k0 / n0, "difference_ci_lower": lo, "difference_ci_upper": hi,
            "p_value": p, "beyond_noise": bool(lo > 0 or hi < 0)}


def _z(alpha):
    return stats.norm.ppf(1 - alpha / 2)


def _change_row(diff, se, alpha):
    z = _z(alpha)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = 2 * stats.norm.sf(np.abs(diff / se))
    return {"change": diff, "ci_lower": diff - z * se, "ci_upper": diff + z * se, "p_value": p,
            "beyond_noise": bool(p < alpha) if np.isfinite(p) else False}


def nps_change(current: pd.Series | dict, baseline: pd.Series | dict, *, alpha: float = 0.05) -> dict:
    """Difference of two independent NPS (points) with a 95% interval and a two-sided z-test p-value.

    ``current`` and ``baseline`` carry ``n``, ``promoters``, ``detractors`` (rows of :func:`nps_counts`).
    The variance of the difference is the sum of the two trinomial variances.
    """
    def est(c):
        n = float(c["n"])
        p, d = c["promoters"] / n, c["detractors"] / n
        return 100 * (p - d), 100 ** 2 * (p + d - (p - d) ** 2) / n
    (a, va), (b, vb) = est(current), est(baseline)
    return {"current": a, "baseline": b, **_change_row(a - b, np.sqrt(va + vb), alpha)}


def proportion_change(k1, n1, k0, n0, *, alpha: float = 0.05) -> dict:
    """Difference of two independent proportions (unpooled normal interval and z-test)."""
    p1, p0 = k1 / n1, k0 / n0
    se = np.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    return {"current": p1, "baseline": p0, **_change_row(p1 - p0, se, alpha)}


def mean_change(current, baseline, *, alpha: float = 0.05) -> dict:
    """Difference of two independent means from ``n``/``sum``/``sum_squares`` (Welch normal interval)."""
    def est(c):
        n = float(c["n"])
        m = c["sum"] / n
        v = (c["sum_squares"] - n * m * m) / (n - 1)
        return m, v / n
    (a, va), (b, vb) = est(current), est(baseline)
    return {"current": a, "baseline": b, **_change_row(a - b, np.sqrt(va + vb), alpha)}


def score_change(metric: str, current, baseline, *, alpha: float = 0.05) -> dict:
    """The change of a score between two independent groups of answers, by the score's own test:
    :func:`nps_change` for ``'nps'``, :func:`proportion_change` on ``satisfied`` / ``n`` for ``'csat'``,
    :func:`mean_change` otherwise (CES). ``current`` / ``baseline`` are rows of the score's counts."""
    if metric == "nps":
        return nps_change(current, baseline, alpha=alpha)
    if metric == "csat":
        return proportion_change(current["satisfied"], current["n"], baseline["satisfied"], baseline["n"],
                                 alpha=alpha)
    return mean_change(current, baseline, alpha=alpha)


def sample_size(baseline: float, mde: float, *, kind: str = "proportion", sd: float | None = None,
                relative: bool = True, alpha: float = 0.05, power: float = 0.8) -> int:
    """Units per arm to detect ``mde`` (relative to ``baseline`` unless ``relative=False``), two-sided.

    Proportions use Cohen's h (arcsine) effect size; means and NPS need ``sd`` (for NPS in points, e.g.
    :func:`nps_sd` of the baseline promoter and detractor shares; NPS effects are usually given with
    ``relative=False``, in points). statsmodels ``NormalIndPower``.

    Examples
    --------
    >>> sample_size(0.10, 0.15)                                  # conversion 10% -> 11.5%
    6687
    >>> sample_size(20, 5, kind="nps", sd=nps_sd(0.45, 0.25), relative=False)  # NPS 20 -> 25 points
    4145
    """
    target = baseline * (1 + mde) if relative else baseline + mde
    if kind == "proportion":
        es = abs(proportion_effectsize(target, baseline))
    else:
        if not sd:
            raise ValueError("means need sd= (the metric's standard deviation per unit)")
        es = abs(target - baseline) / sd
    return int(np.ceil(NormalIndPower().solve_power(effect_size=es, alpha=alpha, power=power, ratio=1.0)))


def nps_sd(promoters: float, detractors: float) -> float:
    """Standard deviation of one answer's NPS contribution, in points: 100 sqrt(p + d - (p - d)^2)."""
    return float(100 * np.sqrt(promoters + detractors - (promoters - detractors) ** 2))


def minimum_detectable_effect(n_per_arm: float, baseline: float, *, kind: str = "proportion",
                              sd: float | None = None, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest relative effect detectable with ``n_per_arm`` units per arm (two-sided, ``power``)."""
    es = NormalIndPower().solve_power(nobs1=n_per_arm, alpha=alpha, power=power, ratio=1.0)
    if kind == "proportion":
        target = np.sin(np.arcsin(np.sqrt(baseline)) + es / 2) ** 2
        return float(target / baseline - 1)
    if not sd:
        raise ValueError("means need sd= (the metric's standard deviation per unit)")
    return float(es * sd / baseline)
