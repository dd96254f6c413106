"""Survey metrics with their margin of error: NPS, CSAT and CES (churn and retention re-exported).

Each metric is computed in two steps (lifelines / gbstats style): the engine reduces rows to sufficient
statistics per segment and period (``*_counts``), then the statistics are computed on those small tables
(``*_from_counts``). Every row carries ``n`` and a 95% interval; segments with fewer than ``min_n``
answers are kept with ``suppressed=True`` and no estimate.

Methods
-------
- NPS = % promoters (9-10) - % detractors (0-6), in points (-100..100). Its variance follows from the
  trinomial distribution of (promoter, passive, detractor): ``Var = (p + d - (p - d)^2) / n``; the
  interval is the normal (Wald) interval on that variance, clipped to -100..100.
- CSAT = share of top-2-box answers (4-5 on a 1-5 scale, or the top two points of a declared scale),
  with the Wilson score interval (statsmodels ``proportion_confint``).
- CES = mean effort score (1-7 by default) with a Student t interval.

Examples
--------
>>> from cxlib import metrics
>>> metrics.nps("data/sample/responses.csv", by="touchpoint")  # doctest: +SKIP
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from cxlib import data as cxdata

MIN_N = 30

__all__ = ["nps", "csat", "ces", "nps_counts", "nps_from_counts", "csat_counts", "csat_from_counts",
           "ces_counts", "ces_from_counts", "nps_change", "proportion_change", "mean_change",
           "churn_rate", "retention_rate", "MIN_N"]


# ------------------------------------------------------------------------------------------ plumbing

def _grouped(data, score, *, by, time, period, lo, hi, integer, name=None):
    """Open the source, check the columns, bucket by period; returns (table, group keys)."""
    t = cxdata.as_table(data, name=name)
    by = cxdata.as_list(by)
    if period and time is None:
        if "response_time" not in t.columns:  # the contract's default name
            raise cxdata.CXDataError(f"{cxdata.source_name(t, name)}: period= needs the time column: pass "
                                     "time='...' (no 'response_time' column).")
        time = "response_time"
    need = [score, *by] + ([time] if period else [])
    cxdata.require_columns(t, need, name=name)
    t = cxdata.clean_numeric(t, score, lo=lo, hi=hi, integer=integer, name=name)
    keys = list(by)
    if period:
        t = cxdata.clean_timestamp(t, time, name=name)
        t = t.mutate(period=cxdata.period_start(t[time], period).cast("date"))
        keys.append("period")
    t = t.filter(t[score].notnull())
    return t, keys


def _aggregate(t, keys, **aggs) -> pd.DataFrame:
    expr = t.group_by(keys).aggregate(**aggs) if keys else t.aggregate(**aggs)
    df = cxdata.to_pandas(expr)
    if "period" in df:
        df["period"] = pd.to_datetime(df["period"])
    return df.sort_values(keys).reset_index(drop=True) if keys else df


def _z(alpha):
    return stats.norm.ppf(1 - alpha / 2)


def _suppress(df, cols, min_n):
    small = df["n"] < min_n
    df["suppressed"] = small
    df.loc[small, cols] = np.nan
    return df


# ------------------------------------------------------------------------------------------ NPS

def nps_counts(data, *, score: str = "nps", by=None, time: str | None = None, period: str | None = None,
               name: str | None = None) -> pd.DataFrame:
    """Sufficient statistics for NPS per segment/period: ``n``, ``promoters``, ``passives``, ``detractors``.

    Blank scores are not answers and are excluded (``n`` counts answers). Scores must be integers 0-10.
    """
    t, keys = _grouped(data, score, by=by, time=time, period=period, lo=0, hi=10, integer=True, name=name)
    s = t[score]
    return _aggregate(t, keys, n=s.count(), promoters=(s >= 9).cast("int64").sum(),
                      detractors=(s <= 6).cast("int64").sum()).assign(
        passives=lambda d: d["n"] - d["promoters"] - d["detractors"])


def nps_from_counts(counts: pd.DataFrame, *, alpha: float = 0.05, min_n: int = MIN_N) -> pd.DataFrame:
    """NPS in points with the trinomial-variance interval from ``n``/``promoters``/``detractors`` columns.

    Returns the input columns plus ``promoter_share``, ``passive_share``, ``detractor_share``, ``nps``
    (= ``estimate``), ``se``, ``ci_lower``, ``ci_upper``, ``suppressed``, ``metric``.
    """
    df = counts.copy()
    n = df["n"].astype(float)
    p = df["promoters"] / n.where(n > 0)
    d = df["detractors"] / n.where(n > 0)
    df["promoter_share"], df["detractor_share"] = p, d
    df["passive_share"] = 1 - p - d
    est = 100 * (p - d)
    se = 100 * np.sqrt(np.maximum(p + d - (p - d) ** 2, 0) / n.where(n > 0))
    z = _z(alpha)
    df["metric"] = "nps"
    df["estimate"] = est
    df["se"] = se
    df["ci_lower"] = np.clip(est - z * se, -100, 100)
    df["ci_upper"] = np.clip(est + z * se, -100, 100)
    df["nps"] = est
    return _suppress(df, ["promoter_share", "passive_share", "detractor_share", "estimate", "se",
                          "ci_lower", "ci_upper", "nps"], min_n)


def nps(data, *, score: str = "nps", by=None, time: str | None = None, period: str | None = None,
        alpha: float = 0.05, min_n: int = MIN_N, name: str | None = None) -> pd.DataFrame:
    """Net Promoter Score with n and a 95% interval, overall or per ``by`` segment and/or ``period``.

    Parameters
    ----------
    data : DataFrame, path or Ibis table
        Survey responses, one row per answer.
    score : str
        The 0-10 'how likely are you to recommend us' column; blanks are not answers.
    by : str or list of str, optional
        Segment columns: one row per segment.
    time, period : str, optional
        Timestamp column (default 'response_time' when ``period`` is given) and 'day' | 'week' (starting
        Monday) | 'month' | 'quarter' | 'year': one row per period (column ``period``, its first day).
    alpha : float
        1 - confidence level of the interval.
    min_n : int
        Segments with fewer answers are kept with ``suppressed=True`` and no estimate.

    Returns
    -------
    pandas.DataFrame
        One row per segment/period: the keys, ``n``, ``promoters``, ``passives``, ``detractors``, their
        shares, ``nps`` (= ``estimate``, points -100..100), ``se``, ``ci_lower``, ``ci_upper``,
        ``suppressed``, ``metric``. The interval uses the trinomial variance
        ``(p + d - (p - d)^2) / n`` (normal approximation).

    Examples
    --------
    >>> nps("data/sample/responses.csv")[["n", "nps", "ci_lower", "ci_upper"]]  # doctest: +SKIP
          n    nps  ci_lower  ci_upper
    0  6011  24.1      21.9      26.3
    """
    counts = nps_counts(data, score=score, by=by, time=time, period=period, name=name)
    return nps_from_counts(counts, alpha=alpha, min_n=min_n)


# ------------------------------------------------------------------------------------------ CSAT

def csat_counts(data, *, score: str = "csat", scale: tuple[int, int] = (1, 5), by=None,
                time: str | None = None, period: str | None = None, name: str | None = None) -> pd.DataFrame:
    """Sufficient statistics for CSAT: ``n`` answers and ``satisfied`` (top-2-box) per segment/period."""
    lo, hi = scale
    t, keys = _grouped(data, score, by=by, time=time, period=period, lo=lo, hi=hi, integer=True, name=name)
    s = t[score]
    return _aggregate(t, keys, n=s.count(), satisfied=(s >= hi - 1).cast("int64").sum())


def csat_from_counts(counts: pd.DataFrame, *, alpha: float = 0.05, min_n: int = MIN_N) -> pd.DataFrame:
    """CSAT share (0-1) with the Wilson interval from ``n`` and ``satisfied`` columns."""
    df = counts.copy()
    n = df["n"].to_numpy(dtype=float)
    k = df["satisfied"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        est = np.where(n > 0, k / np.where(n > 0, n, 1), np.nan)
        lo, hi = proportion_confint(k, np.where(n > 0, n, 1), alpha=alpha, method="wilson")
    df["metric"] = "csat"
    df["estimate"] = est
    df["ci_lower"] = np.where(n > 0, lo, np.nan)
    df["ci_upper"] = np.where(n > 0, hi, np.nan)
    df["csat"] = est
    return _suppress(df, ["estimate", "ci_lower", "ci_upper", "csat"], min_n)


def csat(data, *, score: str = "csat", scale: tuple[int, int] = (1, 5), by=None, time: str | None = None,
         period: str | None = None, alpha: float = 0.05, min_n: int = MIN_N,
         name: str | None = None) -> pd.DataFrame:
    """Customer satisfaction: share of top-2-box answers (4-5 on 1-5) with n and a Wilson 95% interval.

    Parameters as :func:`nps`; ``scale`` declares another rating scale (the top two points count).

    Returns
    -------
    pandas.DataFrame
        Keys, ``n``, ``satisfied``, ``csat`` (= ``estimate``, a share 0-1), ``ci_lower``, ``ci_upper``,
        ``suppressed``, ``metric``.

    Examples
    --------
    >>> csat("data/sample/responses.csv", by="channel")  # doctest: +SKIP
    """
    counts = csat_counts(data, score=score, scale=scale, by=by, time=time, period=period, name=name)
    return csat_from_counts(counts, alpha=alpha, min_n=min_n)


# ------------------------------------------------------------------------------------------ CES

def ces_counts(data, *, score: str = "ces", scale: tuple[int, int] = (1, 7), by=None,
               time: str | None = None, period: str | None = None, name: str | None = None) -> pd.DataFrame:
    """Sufficient statistics for CES: ``n``, ``sum``, ``sum_squares`` per segment/period."""
    lo, hi = scale
    t, keys = _grouped(data, score, by=by, time=time, period=period, lo=lo, hi=hi, integer=False, name=name)
    s = t[score].cast("float64")
    return _aggregate(t, keys, n=s.count(), sum=s.sum(), sum_squares=(s * s).sum())


def ces_from_counts(counts: pd.DataFrame, *, alpha: float = 0.05, min_n: int = MIN_N) -> pd.DataFrame:
    """Mean effort score with a Student t interval from ``n``, ``sum``, ``sum_squares``."""
    df = counts.copy()
    n = df["n"].astype(float)
    mean = df["sum"] / n.where(n > 0)
    var = (df["sum_squares"] - n * mean ** 2) / (n - 1).where(n > 1)
    se = np.sqrt(np.maximum(var, 0) / n)
    tq = stats.t.ppf(1 - alpha / 2, np.maximum(n - 1, 1))
    df["metric"] = "ces"
    df["estimate"] = mean
    df["sd"] = np.sqrt(np.maximum(var, 0))
    df["se"] = se
    df["ci_lower"] = mean - tq * se
    df["ci_upper"] = mean + tq * se
    df["ces"] = mean
    return _suppress(df, ["estimate", "sd", "se", "ci_lower", "ci_upper", "ces"], min_n)


def ces(data, *, score: str = "ces", scale: tuple[int, int] = (1, 7), by=None, time: str | None = None,
        period: str | None = None, alpha: float = 0.05, min_n: int = MIN_N,
        name: str | None = None) -> pd.DataFrame:
    """Customer effort score: the mean rating (1-7, 7 = very easy) with n and a t 95% interval.

    Returns
    -------
    pandas.DataFrame
        Keys, ``n``, ``sum``, ``sum_squares``, ``ces`` (= ``estimate``), ``sd``, ``se``, ``ci_lower``,
        ``ci_upper``, ``suppressed``, ``metric``.

    Examples
    --------
    >>> ces("data/sample/responses.csv", time="response_time", period="month")  # doctest: +SKIP
    """
    counts = ces_counts(data, score=score, scale=scale, by=by, time=time, period=period, name=name)
    return ces_from_counts(counts, alpha=alpha, min_n=min_n)


# ------------------------------------------------------------------------------------------ changes

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


try:  # churn and retention rates live with the cohort analysis; re-exported here (DESIGN.md)
    from cxlib.churn import churn_rate, retention_rate  # noqa: E402,F401
except ImportError:  # pragma: no cover - during development only
    pass
