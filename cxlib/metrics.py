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
           "ces_counts", "ces_from_counts", "nps_change", "nps_diff", "compare_periods", "proportion_change",
           "mean_change", "wilson_interval", "churn_rate", "retention_rate", "MIN_N"]


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
    cxdata.check_segments(t, by, name=name)
    if "respondent_id" in t.columns:  # one answer per respondent: a duplicated export would count twice
        cxdata.check_unique(t, "respondent_id", name=name)
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


def wilson_interval(k, n, alpha: float = 0.05):
    """Wilson score interval of ``k`` successes in ``n`` trials (statsmodels ``proportion_confint``).

    Vectorised; rows with ``n == 0`` get NaN. Returns ``(lower, upper)`` arrays of shares 0-1.
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    safe = np.where(n > 0, n, 1)
    lo, hi = proportion_confint(np.minimum(k, safe), safe, alpha=alpha, method="wilson")
    return np.where(n > 0, lo, np.nan), np.where(n > 0, hi, np.nan)


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


NPS_INTERVALS = ("wald", "adjusted_wald")


def nps_from_counts(counts: pd.DataFrame, *, alpha: float = 0.05, min_n: int = MIN_N,
                    interval: str = "wald") -> pd.DataFrame:
    """NPS in points with the trinomial-variance interval from ``n``/``promoters``/``detractors`` columns.

    ``interval='wald'`` is the normal interval on the trinomial variance ``(p + d - (p - d)^2) / n``;
    ``'adjusted_wald'`` (better coverage for small n, Rocks 2016 / Sauro) first adds z²/4 pseudo-answers
    to promoters and to detractors and z²/2 to passives, then centres the interval on the adjusted NPS.
    The point estimate ``nps`` is always the plain one.

    Returns the input columns plus ``promoter_share``, ``passive_share``, ``detractor_share``, ``nps``
    (= ``estimate``), ``se``, ``ci_lower``, ``ci_upper``, ``suppressed``, ``metric``.
    """
    if interval not in NPS_INTERVALS:
        raise cxdata.CXDataError(f"interval must be one of {', '.join(NPS_INTERVALS)}, not {interval!r}.")
    df = counts.copy()
    n = df["n"].astype(float)
    p = df["promoters"] / n.where(n > 0)
    d = df["detractors"] / n.where(n > 0)
    df["promoter_share"], df["detractor_share"] = p, d
    df["passive_share"] = 1 - p - d
    est = 100 * (p - d)
    se = 100 * np.sqrt(np.maximum(p + d - (p - d) ** 2, 0) / n.where(n > 0))
    z = _z(alpha)
    centre, width_se = est, se
    if interval == "adjusted_wald":
        n_adj = n + z ** 2
        pa = (df["promoters"] + z ** 2 / 4) / n_adj
        da = (df["detractors"] + z ** 2 / 4) / n_adj
        centre = 100 * (pa - da)
        width_se = 100 * np.sqrt(np.maximum(pa + da - (pa - da) ** 2, 0) / n_adj)
        centre = centre.where(n > 0)
    df["metric"] = "nps"
    df["estimate"] = est
    df["se"] = se
    df["ci_lower"] = np.clip(centre - z * width_se, -100, 100)
    df["ci_upper"] = np.clip(centre + z * width_se, -100, 100)
    df["nps"] = est
    return _suppress(df, ["promoter_share", "passive_share", "detractor_share", "estimate", "se",
                          "ci_lower", "ci_upper", "nps"], min_n)


def nps(data, *, score: str = "nps", by=None, time: str | None = None, period: str | None = None,
        alpha: float = 0.05, min_n: int = MIN_N, interval: str = "wald", name: str | None = None) -> pd.DataFrame:
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
    interval : {'wald', 'adjusted_wald'}
        Normal interval on the trinomial variance, or the adjusted Wald interval (see
        :func:`nps_from_counts`) for small segments.

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
    return nps_from_counts(counts, alpha=alpha, min_n=min_n, interval=interval)


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
    est = np.where(n > 0, k / np.where(n > 0, n, 1), np.nan)
    lo, hi = wilson_interval(k, n, alpha)
    df["metric"] = "csat"
    df["estimate"] = est
    df["ci_lower"] = lo
    df["ci_upper"] = hi
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

def ces_counts(data, *, score: str = "ces", scale: tuple[int, int] = (1, 7), higher_is_easier: bool = True,
               by=None, time: str | None = None, period: str | None = None, name: str | None = None) -> pd.DataFrame:
    """Sufficient statistics for CES: ``n``, ``sum``, ``sum_squares``, ``easy`` per segment/period.

    ``easy`` counts answers in the two easiest points of the scale (6-7 on 1-7 when 7 = very easy; 1-2
    when ``higher_is_easier=False``).
    """
    lo, hi = scale
    t, keys = _grouped(data, score, by=by, time=time, period=period, lo=lo, hi=hi, integer=False, name=name)
    s = t[score].cast("float64")
    easy = (s >= hi - 1) if higher_is_easier else (s <= lo + 1)
    return _aggregate(t, keys, n=s.count(), sum=s.sum(), sum_squares=(s * s).sum(),
                      easy=easy.cast("int64").sum())


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
    cols = ["estimate", "sd", "se", "ci_lower", "ci_upper", "ces"]
    if "easy" in df:  # share of 'easy' answers with its Wilson interval
        k = df["easy"].to_numpy(dtype=float)
        df["easy_share"] = np.where(n > 0, k / np.where(n > 0, n, 1), np.nan)
        df["easy_ci_lower"], df["easy_ci_upper"] = wilson_interval(k, n.to_numpy(), alpha)
        cols += ["easy_share", "easy_ci_lower", "easy_ci_upper"]
    return _suppress(df, cols, min_n)


def ces(data, *, score: str = "ces", scale: tuple[int, int] = (1, 7), higher_is_easier: bool = True, by=None,
        time: str | None = None, period: str | None = None, alpha: float = 0.05, min_n: int = MIN_N,
        name: str | None = None) -> pd.DataFrame:
    """Customer effort score: the mean rating (1-7, 7 = very easy) with n and a t 95% interval.

    ``scale`` declares the rating scale and ``higher_is_easier`` its direction (only the '% easy' share
    depends on it; the mean is reported on the scale as given).

    Returns
    -------
    pandas.DataFrame
        Keys, ``n``, ``sum``, ``sum_squares``, ``easy``, ``ces`` (= ``estimate``), ``sd``, ``se``,
        ``ci_lower``, ``ci_upper`` (Student t), ``easy_share`` with ``easy_ci_lower``/``easy_ci_upper``
        (Wilson), ``suppressed``, ``metric``.

    Examples
    --------
    >>> ces("data/sample/responses.csv", time="response_time", period="month")  # doctest: +SKIP
    """
    counts = ces_counts(data, score=score, scale=scale, higher_is_easier=higher_is_easier, by=by, time=time,
                        period=period, name=name)
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


def _counts_total(c) -> dict:
    """A counts row (dict / Series) or a counts table (summed over its rows) as one dict."""
    if isinstance(c, pd.DataFrame):
        return {k: float(c[k].sum()) for k in ("n", "promoters", "detractors")}
    return {k: float(c[k]) for k in ("n", "promoters", "detractors")}


def nps_diff(a_counts, b_counts, *, alpha: float = 0.05) -> pd.DataFrame:
    """Is NPS ``a`` different from NPS ``b`` beyond noise? Difference in points with a 95% interval.

    Parameters
    ----------
    a_counts, b_counts : DataFrame, Series or dict
        ``n``, ``promoters``, ``detractors`` of two independent groups of answers (rows of
        :func:`nps_counts`; a table is summed over its rows, e.g. the prior four weeks).

    Returns
    -------
    pandas.DataFrame
        One row: ``n_a``, ``nps_a``, ``n_b``, ``nps_b``, ``diff`` (a - b, points), ``se``, ``ci_lower``,
        ``ci_upper``, ``p_value`` (two-sided z-test), ``beyond_noise`` (p < alpha). The variance of the
        difference is the sum of the two trinomial variances.

    Examples
    --------
    >>> w = nps_counts("data/sample/responses.csv", period="week").set_index("period")  # doctest: +SKIP
    >>> nps_diff(w.loc["2026-11-16"], w.loc["2026-10-19":"2026-11-09"])  # doctest: +SKIP
    """
    a, b = _counts_total(a_counts), _counts_total(b_counts)
    ch = nps_change(a, b, alpha=alpha)
    se = (ch["ci_upper"] - ch["change"]) / _z(alpha)
    return pd.DataFrame([{"n_a": int(a["n"]), "nps_a": ch["current"], "n_b": int(b["n"]), "nps_b": ch["baseline"],
                          "diff": ch["change"], "se": se, "ci_lower": ch["ci_lower"], "ci_upper": ch["ci_upper"],
                          "p_value": ch["p_value"], "beyond_noise": ch["beyond_noise"]}])


def compare_periods(data, *, score: str = "nps", time: str = "response_time", period: str = "week",
                    current=None, prior: int = 4, by=None, alpha: float = 0.05,
                    name: str | None = None) -> pd.DataFrame:
    """NPS of one period against the ``prior`` periods before it: is this week's change beyond noise?

    ``current`` is the period's first day (str or date; default: the last period in the data). The
    baseline pools the ``prior`` periods before it. With ``by=``, one comparison per segment.

    Returns
    -------
    pandas.DataFrame
        One row (per segment): keys, ``period``, ``baseline_start``, and the columns of :func:`nps_diff`
        with ``a`` = the current period and ``b`` = the baseline.

    Examples
    --------
    >>> compare_periods("data/sample/responses.csv", current="2026-11-16")  # doctest: +SKIP
    """
    by = cxdata.as_list(by)
    counts = nps_counts(data, score=score, by=by, time=time, period=period, name=name)
    if counts.empty:
        raise cxdata.CXDataError(f"{name or 'data'}: no answers in {score!r} to compare.")
    periods = sorted(counts["period"].unique())
    cur = pd.Timestamp(current) if current is not None else pd.Timestamp(periods[-1])
    if cur not in set(pd.to_datetime(periods)):
        raise cxdata.CXDataError(f"{name or 'data'}: no answers in the {period} starting {cur.date()} "
                                 f"(periods run {pd.Timestamp(periods[0]).date()} to {pd.Timestamp(periods[-1]).date()}).")
    before = [pd.Timestamp(p) for p in periods if pd.Timestamp(p) < cur][-prior:]
    if not before:
        raise cxdata.CXDataError(f"{name or 'data'}: no {period} before {cur.date()} to compare with.")
    groups = counts.groupby(by) if by else [((), counts)]
    rows = []
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        a, b = g[g["period"] == cur], g[g["period"].isin(before)]
        if a["n"].sum() == 0 or b["n"].sum() == 0:
            continue
        rows.append({**dict(zip(by, key)), "period": cur, "baseline_start": before[0],
                     **nps_diff(a, b, alpha=alpha).iloc[0].to_dict()})
    return pd.DataFrame(rows)


try:  # churn and retention rates live with the cohort analysis; re-exported here (DESIGN.md)
    from cxlib.churn import churn_rate, retention_rate  # noqa: E402,F401
except ImportError:  # pragma: no cover - during development only
    pass
