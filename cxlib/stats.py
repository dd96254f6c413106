"""The arithmetic of the measures' changes: differences of two independent scores with a 95% interval.

Foundation (DESIGN.md, "Layers"): numbers in, numbers out; no tables, files or pages. The analyses
(:mod:`cxlib.metrics`, :mod:`cxlib.scorecard`) call these on their sufficient statistics.

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

__all__ = ["nps_change", "proportion_change", "mean_change", "score_change"]


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
