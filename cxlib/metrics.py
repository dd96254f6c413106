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
- Survey weights (``weights=``, :func:`rake`, :func:`weighted_nps`): weighted shares / means with
  intervals on the Kish effective sample size ``(sum w)^2 / sum w^2``.
- Periods (``period=``) are cut in the reporting time zone ``tz`` (default: the source spec's ``tz:``,
  else UTC) with weeks starting on ``week_start`` (default Monday).

Examples
--------
>>> from cxlib import metrics
>>> metrics.nps("data/sample/responses.csv", by="touchpoint")  # doctest: +SKIP
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from cxlib import data as cxdata
from cxlib import segments
# churn and retention rates live with the cohort analysis; re-exported here (DESIGN.md). churn does not
# import metrics, so this is one way.
from cxlib.churn import churn_rate, retention_rate  # noqa: F401
from cxlib.empty import nothing_before, raise_nothing_before
from cxlib.periods import WEEK_STARTS, _check_week_start, _reporting_tz, period_complete, period_start  # noqa: F401
from cxlib.stats import _z, mean_change, nps_change, proportion_change, score_change, wilson  # noqa: F401

MIN_N = 30

__all__ = ["nps", "csat", "ces", "nps_counts", "nps_from_counts", "csat_counts", "csat_from_counts",
           "ces_counts", "ces_from_counts", "nps_change", "score_change", "nps_diff", "compare_periods", "proportion_change",
           "mean_change", "wilson_interval", "churn_rate", "retention_rate", "MIN_N"]


# ------------------------------------------------------------------------------------------ plumbing

def _grouped(data, score, *, by, time, period, lo, hi, integer, name=None, tz=None, week_start="monday",
             as_of=None):
    """Open the source, check the columns, read the segments (:func:`cxlib.segments.prepare`: named by
    header text too, trimmed, case variants merged with a note), leave out answers after ``as_of``, bucket
    by period (in ``tz``, weeks from ``week_start``); returns (table of answers, group keys, facts for
    :func:`_counted`: ``every`` is the table before blank scores are left out, so that a segment value
    whose scores are all blank is still a row, with ``n = 0``)."""
    week_start = _check_week_start(week_start)
    t = cxdata.as_table(data, name=name)
    as_of = cxdata.default_as_of(as_of, data)
    by = cxdata.as_list(by)
    if period and time is None:
        if "response_time" not in t.columns:  # the contract's default name
            raise cxdata.CXDataError(f"{cxdata.source_name(t, name)}: period= needs the time column: pass "
                                     "time='...' (no 'response_time' column).")
        time = "response_time"
    seg_notes: list = []
    t, by = segments.prepare(t, by, name=name, notes=seg_notes, need=[score] + ([time] if time is not None else []))
    if "respondent_id" in t.columns:  # one answer per respondent: a duplicated export would count twice
        cxdata.check_unique(t, "respondent_id", name=name)
    try:
        t = cxdata.clean_numeric(t, score, lo=lo, hi=hi, integer=integer, name=name)
    except cxdata.CXDataError as exc:  # a header without rows (an empty frame's untyped column): say that
        failed = exc
    else:
        failed = None
    if failed is not None:
        nothing_before(t, None, None, name=name)
        raise failed
    keys = list(by)
    # answers after the analysis date are left out: a mistyped 2099 is neither counted nor a period
    time = time if time is not None else ("response_time" if "response_time" in t.columns else None)
    # the analysis date is a day on the reporting clock, with or without periods
    zone = _reporting_tz(t, tz) if time is not None else None
    read = t  # before the cut: an empty result says whether the table has no rows or only later ones
    t, late = cxdata.upto_as_of(t, time, as_of, tz=zone, required=bool(period), name=name)
    if period:
        t = t.mutate(period=period_start(t[time], period, week_start=week_start).cast("date"))
        keys.append("period")
    every = t if by else None
    answers = t  # every answer on or before as_of, blank score or not: it sets the table's last record
    t = t.filter(t[score].notnull())
    return t, keys, {"as_of": as_of, "notes": ([late] if late else []) + seg_notes, "time": time, "zone": zone,
                     "by": by, "every": every, "score": score, "answers": answers, "read": read}


def _dense(t, facts, weights):
    """Unweighted with segments: every row, blank scores too (the aggregates skip them), so an all-blank
    segment value is a group with n = 0 without a join; weighted: the answered rows (and the join)."""
    if weights is not None or facts.get("every") is None:
        return t, facts
    return facts["every"], {**facts, "every": None, "dense": True}


def _counted(t, keys, facts, period, name, **aggs) -> pd.DataFrame:
    """The aggregate per group, ``attrs`` ``as_of`` and ``notes``. A trend also reads the table's last
    answer (``attrs['data_end']``, on the periods' clock): the note on answers that end more than a period
    before ``as_of``, and ``complete`` (the period ended by the earlier of the two)."""
    df = _aggregate(t, keys, every=facts.get("every"), fill=facts.get("dense", False), **aggs)
    notes = list(facts["notes"])
    if df.empty or not keys and not (df["n"] > 0).any():  # no rows, or all after as_of: say which
        nothing_before(facts["read"], facts["time"], facts["as_of"], name=name, what="answers", tz=facts["zone"],
                       notes=notes if keys else None)
    attrs = {}
    if period:
        local = cxdata.local_as_of(facts["as_of"], facts["zone"])
        last = cxdata.last_record(facts["answers"], [facts["time"]], local, name=name)
        notes += [n for n in [cxdata.ends_early(t, last, local, period, name=name)] if n is not None]
        df["complete"] = period_complete(df["period"], period, cxdata.observed_end(local, last))
        attrs = {"data_end": last, "period": period}
    df.attrs.update(as_of=facts["as_of"], notes=notes, by=list(facts.get("by") or []), **attrs)
    return df


def _aggregate(t, keys, every=None, fill=False, **aggs) -> pd.DataFrame:
    """``aggs`` per group of ``keys``; with ``every`` (the rows before blank scores were left out), every
    group of ``every`` is a row, its sums 0 where it has no answer (in the same query: a left join on the
    keys, missing segment values matched as equal). ``fill``: ``t`` holds the blank scores (see :func:`_dense`)."""
    expr = t.group_by(keys).aggregate(**aggs) if keys else t.aggregate(**aggs)
    if keys and every is not None:
        seen = every.select(*keys).distinct()
        found = expr.rename({f"_cx_k{i}": k for i, k in enumerate(keys)})
        expr = seen.left_join(found, [seen[k].identical_to(found[f"_cx_k{i}"]) for i, k in enumerate(keys)])
        expr = expr.select(*keys, *aggs)
    df = cxdata.to_pandas(expr)
    if not keys or every is not None or fill:  # a group (or table) without answers: counts and sums 0
        sums = [c for c in aggs if c != "_cx_last"]
        df[sums] = df[sums].astype("float64").fillna(0)
        df = df.astype({c: "int64" for c in sums if str(aggs[c].type()).startswith("int")})
    if "period" in df:
        df["period"] = pd.to_datetime(df["period"])
    return df.sort_values(keys).reset_index(drop=True) if keys else df


def _with_attrs(out: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    """``out`` with the analysis date, data notes (and a trend's ``data_end`` / ``period``) of its counts."""
    out.attrs.update(as_of=counts.attrs.get("as_of"), notes=list(counts.attrs.get("notes", [])),
                     **{k: counts.attrs[k] for k in ("data_end", "period") if k in counts.attrs})
    return out


wilson_interval = wilson  # the one Wilson interval (cxlib.stats); public here for existing callers


def _suppress(df, cols, min_n):
    small = (df["n"] < min_n) | (df["n"] == 0)  # no answers (a segment of blank scores): no estimate
    df["suppressed"] = small
    df.loc[small, cols] = np.nan
    return df


# ------------------------------------------------------------------------------------------ NPS

def nps_counts(data, *, score: str = "nps", by=None, time: str | None = None, period: str | None = None,
               weights: str | None = None, tz: str | None = None, week_start: str = "monday",
               name: str | None = None, as_of=None) -> pd.DataFrame:
    """Sufficient statistics for NPS per segment/period: ``n``, ``promoters``, ``passives``, ``detractors``.

    Blank scores are not answers and are excluded (``n`` counts answers); a segment value whose scores are
    all blank is still a row, with ``n`` = 0 (suppressed by the ``*_from_counts`` step), never dropped in
    silence. Scores must be integers 0-10.
    With ``weights`` (a column of survey weights >= 0, required on every answered row) the engine also
    sums ``weight_sum`` (sum w), ``weight_sq_sum`` (sum w^2), ``promoters_weighted`` and
    ``detractors_weighted`` (sum of w over promoters / detractors); see :func:`nps_from_counts`.
    """
    t, keys, facts = _grouped(data, score, by=by, time=time, period=period, lo=0, hi=10, integer=True,
                              name=name, tz=tz, week_start=week_start, as_of=as_of)
    wsums = {}
    if weights is not None:
        t = _clean_weights(t, weights, name=name)
        wsums = _weighted_sums(t, weights, promoters=t[score] >= 9, detractors=t[score] <= 6)
    t, facts = _dense(t, facts, weights)
    s = t[score]
    out = _counted(t, keys, facts, period, name, n=s.count(), promoters=(s >= 9).cast("int64").sum(),
                   detractors=(s <= 6).cast("int64").sum(), **wsums)
    return out.assign(passives=out["n"] - out["promoters"] - out["detractors"])


NPS_INTERVALS = ("auto", "wald", "adjusted_wald")
#: Below this many answers (effective answers when weighted) ``interval='auto'`` uses the adjusted Wald.
ADJUSTED_WALD_BELOW = 100


def nps_from_counts(counts: pd.DataFrame, *, alpha: float = 0.05, min_n: int = MIN_N,
                    interval: str = "auto") -> pd.DataFrame:
    """NPS in points with the trinomial-variance interval from ``n``/``promoters``/``detractors`` columns.

    Parameters
    ----------
    counts : pandas.DataFrame
        Rows of :func:`nps_counts`: ``n``, ``promoters``, ``detractors`` (and, when weighted,
        ``weight_sum``, ``weight_sq_sum``, ``promoters_weighted``, ``detractors_weighted``).
    alpha : float
        1 - confidence level.
    min_n : int
        Rows with fewer raw answers ``n`` are kept with ``suppressed=True`` and no estimate.
    interval : {'auto', 'wald', 'adjusted_wald'}
        ``'wald'`` is the normal interval on the trinomial variance ``(p + d - (p - d)^2) / n``;
        ``'adjusted_wald'`` (Rocks 2016) first adds z²/4 (about 3/4) pseudo-answers to promoters and to
        detractors and z²/2 to passives (about 3 answers in all), then centres the interval on the
        adjusted NPS. ``'auto'`` (default) uses the adjusted Wald below ``ADJUSTED_WALD_BELOW`` = 100
        answers and the Wald interval from 100 on: in the exact trinomial coverage computation of
        ``tests/test_weights.py`` (n = 10..500, a grid of true shares) the Wald interval's coverage of a
        95% interval falls to about 84% on average (51% worst case) at n = 10, while the adjusted Wald
        stays near 95%; from n = 100 on both are within about 1 point of 95%. The method used is
        recorded per row in ``interval_method``. The point estimate ``nps`` is always the plain one.

    Returns
    -------
    pandas.DataFrame
        The input columns plus ``promoter_share``, ``passive_share``, ``detractor_share``, ``nps``
        (= ``estimate``), ``se``, ``ci_lower``, ``ci_upper``, ``interval_method``, ``suppressed``,
        ``metric``; when weighted also ``n_effective``.

    Notes
    -----
    Weighted counts (survey weights): the shares are the weighted shares ``sum w*promoter / sum w``
    (a ratio estimator), and every interval uses the Kish effective sample size
    ``n_effective = (sum w)^2 / sum w^2`` in place of ``n`` (design effect of unequal weighting,
    ``n / n_effective``); ``auto`` then switches on ``n_effective``. ``n`` stays the raw answer count.
    """
    if interval not in NPS_INTERVALS:
        raise cxdata.CXDataError(f"interval must be one of {', '.join(NPS_INTERVALS)}, not {interval!r}.")
    df = counts.copy()
    n = df["n"].astype(float)
    weighted = "weight_sum" in df.columns
    if weighted:
        wsum = df["weight_sum"].astype(float)
        pos = wsum.where(wsum > 0)
        p = df["promoters_weighted"] / pos
        d = df["detractors_weighted"] / pos
        n_var = (wsum ** 2 / df["weight_sq_sum"].astype(float).where(df["weight_sq_sum"] > 0)).where(n > 0)
        df["n_effective"] = n_var
    else:
        p = df["promoters"] / n.where(n > 0)
        d = df["detractors"] / n.where(n > 0)
        n_var = n.where(n > 0)
    df["promoter_share"], df["detractor_share"] = p, d
    df["passive_share"] = 1 - p - d
    est = 100 * (p - d)
    se = 100 * np.sqrt(np.maximum(p + d - (p - d) ** 2, 0) / n_var)
    z = _z(alpha)
    if interval == "auto":
        adjusted = n_var < ADJUSTED_WALD_BELOW
    else:
        adjusted = pd.Series(interval == "adjusted_wald", index=df.index)
    n_adj = n_var + z ** 2
    pa = (p * n_var + z ** 2 / 4) / n_adj
    da = (d * n_var + z ** 2 / 4) / n_adj
    centre = est.where(~adjusted, 100 * (pa - da))
    width_se = se.where(~adjusted, 100 * np.sqrt(np.maximum(pa + da - (pa - da) ** 2, 0) / n_adj))
    df["interval_method"] = np.where(adjusted, "adjusted_wald", "wald")
    df["metric"] = "nps"
    df["estimate"] = est
    df["se"] = se
    df["ci_lower"] = np.clip(centre - z * width_se, -100, 100)
    df["ci_upper"] = np.clip(centre + z * width_se, -100, 100)
    df["nps"] = est
    return _suppress(df, ["promoter_share", "passive_share", "detractor_share", "estimate", "se",
                          "ci_lower", "ci_upper", "nps"], min_n)


def nps(data, *, score: str = "nps", by=None, time: str | None = None, period: str | None = None,
        alpha: float = 0.05, min_n: int = MIN_N, interval: str = "auto", weights: str | None = None,
        tz: str | None = None, week_start: str = "monday", name: str | None = None, as_of=None) -> pd.DataFrame:
    """Net Promoter Score with n and a 95% interval, overall or per ``by`` segment and/or ``period``.

    Parameters
    ----------
    data : DataFrame, path or Ibis table
        Survey responses, one row per answer.
    score : str
        The 0-10 'how likely are you to recommend us' column; blanks are not answers.
    by : str or list of str, optional
        Segment columns: one row per segment (:func:`cxlib.segments.prepare`: a column may be named by the
        export's header text; values trimmed, case variants merged with a ``segment_case_merged`` note; a
        value whose scores are all blank is a row with ``n`` = 0, suppressed).
    time, period : str, optional
        Timestamp column (default 'response_time' when ``period`` is given) and 'day' | 'week' (starting
        ``week_start``) | 'month' | 'quarter' | 'year': one row per period (column ``period``, its first
        day in the reporting time zone).
    tz : str, optional
        Reporting time zone the periods are cut in (an IANA name, e.g. 'Europe/Berlin'); default the
        source spec's ``tz:``, else UTC. Timestamps with an offset are instants and naive ones are UTC
        (a source spec has already read naive times in its ``tz:``); each is converted to local time
        (daylight saving included) before bucketing, so an answer at 2026-11-22 23:30 UTC falls in the
        week of 23 Nov in Berlin. Only matters with ``period``.
    week_start : str
        First day of a week for ``period='week'``: 'monday' (default, ISO weeks) or any other weekday
        name, e.g. 'sunday'.
    as_of : date-like, optional
        Analysis date (default :func:`cxlib.data.default_as_of`): answers after it in ``time`` (default
        'response_time' if present) are left out, counted in ``attrs['notes']``; a trend ending more than
        a period before it gets a ``data_ends_early`` note. ``attrs['as_of']`` holds it.
    alpha : float
        1 - confidence level of the interval.
    min_n : int
        Segments with fewer answers are kept with ``suppressed=True`` and no estimate.
    interval : {'auto', 'wald', 'adjusted_wald'}
        Normal (Wald) interval on the trinomial variance, or the adjusted Wald interval (Rocks 2016);
        ``'auto'`` (default) uses the adjusted Wald below 100 answers and Wald from 100 on (see
        :func:`nps_from_counts`, which records the choice per row in ``interval_method``).
    weights : str, optional
        Column of survey weights (e.g. from :func:`rake`), >= 0 on every answered row. The estimate is
        the weighted NPS ``100 * (sum w*promoter - sum w*detractor) / sum w``; its interval uses the
        Kish effective sample size ``n_effective = (sum w)^2 / sum w^2`` in place of ``n`` (``n`` stays
        the raw number of answers; suppression uses ``n``).

    Returns
    -------
    pandas.DataFrame
        One row per segment/period: the keys, ``n``, ``promoters``, ``passives``, ``detractors``, their
        shares, ``nps`` (= ``estimate``, points -100..100), ``se``, ``ci_lower``, ``ci_upper``,
        ``interval_method``, ``suppressed``, ``metric`` (+ the weighted sums and ``n_effective`` with
        ``weights``; with ``period``, ``complete``: the period ended by the earlier of ``as_of`` and the
        last answer, ``attrs['data_end']``). The interval uses the trinomial variance
        ``(p + d - (p - d)^2) / n`` (normal approximation; adjusted Wald below 100 answers by default).

    Examples
    --------
    >>> nps("data/sample/responses.csv")[["n", "nps", "ci_lower", "ci_upper"]]  # doctest: +SKIP
          n    nps  ci_lower  ci_upper
    0  6011  24.1      21.9      26.3
    """
    counts = nps_counts(data, score=score, by=by, time=time, period=period, weights=weights, tz=tz,
                        week_start=week_start, name=name, as_of=as_of)
    return _with_attrs(nps_from_counts(counts, alpha=alpha, min_n=min_n, interval=interval), counts)


# ------------------------------------------------------------------------------------------ CSAT

def csat_counts(data, *, score: str = "csat", scale: tuple[int, int] = (1, 5), by=None,
                time: str | None = None, period: str | None = None, weights: str | None = None,
                tz: str | None = None, week_start: str = "monday", name: str | None = None,
                as_of=None) -> pd.DataFrame:
    """Sufficient statistics for CSAT: ``n`` answers and ``satisfied`` (top-2-box) per segment/period.

    With ``weights`` also ``weight_sum``, ``weight_sq_sum`` and ``satisfied_weighted`` (sum of w over
    satisfied answers), summed in the engine.
    """
    lo, hi = scale
    t, keys, facts = _grouped(data, score, by=by, time=time, period=period, lo=lo, hi=hi, integer=True,
                              name=name, tz=tz, week_start=week_start, as_of=as_of)
    wsums = {}
    if weights is not None:
        t = _clean_weights(t, weights, name=name)
        wsums = _weighted_sums(t, weights, satisfied=t[score] >= hi - 1)
    t, facts = _dense(t, facts, weights)
    s = t[score]
    return _counted(t, keys, facts, period, name, n=s.count(), satisfied=(s >= hi - 1).cast("int64").sum(),
                    **wsums)


def csat_from_counts(counts: pd.DataFrame, *, alpha: float = 0.05, min_n: int = MIN_N) -> pd.DataFrame:
    """CSAT share (0-1) with the Wilson interval from ``n`` and ``satisfied`` columns.

    Weighted counts (``weight_sum``, ``weight_sq_sum``, ``satisfied_weighted``; see :func:`csat_counts`):
    the estimate is the weighted share ``sum w*satisfied / sum w`` and the Wilson interval is computed
    with the Kish effective sample size ``n_effective = (sum w)^2 / sum w^2`` (added as a column) in
    place of ``n``. Suppression uses the raw ``n``.
    """
    df = counts.copy()
    n = df["n"].to_numpy(dtype=float)
    k = df["satisfied"].to_numpy(dtype=float)
    est = np.where(n > 0, k / np.where(n > 0, n, 1), np.nan)
    if "weight_sum" in df.columns:
        est, n_eff = _weighted_share(df, "satisfied_weighted", n)
        df["n_effective"] = n_eff
        lo, hi = wilson_interval(np.nan_to_num(est * n_eff), np.nan_to_num(n_eff), alpha)
    else:
        lo, hi = wilson_interval(k, n, alpha)
    df["metric"] = "csat"
    df["estimate"] = est
    df["ci_lower"] = lo
    df["ci_upper"] = hi
    df["csat"] = est
    return _suppress(df, ["estimate", "ci_lower", "ci_upper", "csat"], min_n)


def csat(data, *, score: str = "csat", scale: tuple[int, int] = (1, 5), by=None, time: str | None = None,
         period: str | None = None, alpha: float = 0.05, min_n: int = MIN_N, weights: str | None = None,
         tz: str | None = None, week_start: str = "monday", name: str | None = None, as_of=None) -> pd.DataFrame:
    """Customer satisfaction: share of top-2-box answers (4-5 on 1-5) with n and a Wilson 95% interval.

    Parameters as :func:`nps` (``tz``, ``week_start`` cut the periods; ``as_of`` leaves later answers out);
    ``scale`` declares another rating scale (the top two points count).
    ``weights`` (a column of survey weights) gives the weighted share with a Wilson interval on the
    Kish effective sample size (column ``n_effective``; ``n`` stays the raw answer count).

    Returns
    -------
    pandas.DataFrame
        Keys, ``n``, ``satisfied``, ``csat`` (= ``estimate``, a share 0-1), ``ci_lower``, ``ci_upper``,
        ``suppressed``, ``metric``.

    Examples
    --------
    >>> csat("data/sample/responses.csv", by="channel")  # doctest: +SKIP
    """
    counts = csat_counts(data, score=score, scale=scale, by=by, time=time, period=period, weights=weights,
                         tz=tz, week_start=week_start, name=name, as_of=as_of)
    return _with_attrs(csat_from_counts(counts, alpha=alpha, min_n=min_n), counts)


# ------------------------------------------------------------------------------------------ CES

def ces_counts(data, *, score: str = "ces", scale: tuple[int, int] = (1, 7), higher_is_easier: bool = True,
               by=None, time: str | None = None, period: str | None = None, weights: str | None = None,
               tz: str | None = None, week_start: str = "monday", name: str | None = None,
               as_of=None) -> pd.DataFrame:
    """Sufficient statistics for CES: ``n``, ``sum``, ``sum_squares``, ``easy`` per segment/period.

    ``easy`` counts answers in the two easiest points of the scale (6-7 on 1-7 when 7 = very easy; 1-2
    when ``higher_is_easier=False``). With ``weights`` also ``weight_sum``, ``weight_sq_sum``,
    ``sum_weighted`` (sum w*x), ``sum_squares_weighted`` (sum w*x^2) and ``easy_weighted``.
    """
    lo, hi = scale
    t, keys, facts = _grouped(data, score, by=by, time=time, period=period, lo=lo, hi=hi, integer=False,
                              name=name, tz=tz, week_start=week_start, as_of=as_of)
    wsums = {}
    if weights is not None:
        t = _clean_weights(t, weights, name=name)
        x = t[score].cast("float64")
        wsums = _weighted_sums(t, weights, sum=x, sum_squares=x * x,
                               easy=(x >= hi - 1) if higher_is_easier else (x <= lo + 1))
    t, facts = _dense(t, facts, weights)
    s = t[score].cast("float64")
    easy = (s >= hi - 1) if higher_is_easier else (s <= lo + 1)
    return _counted(t, keys, facts, period, name, n=s.count(), sum=s.sum(), sum_squares=(s * s).sum(),
                    easy=easy.cast("int64").sum(), **wsums)


def ces_from_counts(counts: pd.DataFrame, *, alpha: float = 0.05, min_n: int = MIN_N) -> pd.DataFrame:
    """Mean effort score with a Student t interval from ``n``, ``sum``, ``sum_squares``.

    Weighted counts (see :func:`ces_counts`): the mean is ``sum w*x / sum w``; its standard error is
    ``sd_w / sqrt(n_effective)`` with the weighted standard deviation
    ``sd_w^2 = (sum w*x^2 / sum w - mean^2) * n_effective / (n_effective - 1)`` and the Kish effective
    sample size ``n_effective = (sum w)^2 / sum w^2`` (added as a column), and the t quantile has
    ``n_effective - 1`` degrees of freedom; the easy share is weighted with a Wilson interval on
    ``n_effective``.
    """
    df = counts.copy()
    n = df["n"].astype(float)
    weighted = "weight_sum" in df.columns
    if weighted:
        wsum = df["weight_sum"].astype(float).where(df["weight_sum"] > 0)
        n_eff = (wsum ** 2 / df["weight_sq_sum"].astype(float).where(df["weight_sq_sum"] > 0)).where(n > 0)
        df["n_effective"] = n_eff
        mean = df["sum_weighted"] / wsum
        var = (df["sum_squares_weighted"] / wsum - mean ** 2) * n_eff / (n_eff - 1).where(n_eff > 1)
        se = np.sqrt(np.maximum(var, 0) / n_eff)
        tq = stats.t.ppf(1 - alpha / 2, np.maximum(n_eff.fillna(2) - 1, 1))
    else:
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
    if weighted and "easy_weighted" in df:  # weighted share of 'easy' answers, Wilson on n_effective
        share, n_eff = _weighted_share(df, "easy_weighted", n.to_numpy())
        df["easy_share"] = share
        df["easy_ci_lower"], df["easy_ci_upper"] = wilson_interval(np.nan_to_num(share * n_eff),
                                                                   np.nan_to_num(n_eff), alpha)
        cols += ["easy_share", "easy_ci_lower", "easy_ci_upper"]
    elif "easy" in df:  # share of 'easy' answers with its Wilson interval
        k = df["easy"].to_numpy(dtype=float)
        df["easy_share"] = np.where(n > 0, k / np.where(n > 0, n, 1), np.nan)
        df["easy_ci_lower"], df["easy_ci_upper"] = wilson_interval(k, n.to_numpy(), alpha)
        cols += ["easy_share", "easy_ci_lower", "easy_ci_upper"]
    return _suppress(df, cols, min_n)


def ces(data, *, score: str = "ces", scale: tuple[int, int] = (1, 7), higher_is_easier: bool = True, by=None,
        time: str | None = None, period: str | None = None, alpha: float = 0.05, min_n: int = MIN_N,
        weights: str | None = None, tz: str | None = None, week_start: str = "monday",
        name: str | None = None, as_of=None) -> pd.DataFrame:
    """Customer effort score: the mean rating (1-7, 7 = very easy) with n and a t 95% interval.

    ``scale`` declares the rating scale and ``higher_is_easier`` its direction (only the '% easy' share
    depends on it; the mean is reported on the scale as given). ``weights`` (a column of survey
    weights) gives the weighted mean with an interval on the Kish effective sample size (see
    :func:`ces_from_counts`; column ``n_effective``, ``n`` stays the raw answer count). ``tz`` and
    ``week_start`` cut the periods and ``as_of`` leaves later answers out, as in :func:`nps`.

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
                        period=period, weights=weights, tz=tz, week_start=week_start, name=name, as_of=as_of)
    return _with_attrs(ces_from_counts(counts, alpha=alpha, min_n=min_n), counts)


# ------------------------------------------------------------------------------------------ changes

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


def segment_gaps(by_segment: dict, *, alpha: float = 0.05) -> pd.DataFrame:
    """Each segment value's NPS against all other answers of the same segment column: the difference in
    points with a 95% interval and a two-sided z-test (:func:`cxlib.stats.nps_change`).

    ``by_segment`` maps a segment column to its :func:`nps` ``by=`` result. Returns one row per segment and
    value: ``segment``, ``value``, ``n``, ``nps``, ``ci_lower``, ``ci_upper``, ``suppressed``, ``gap``,
    ``gap_ci_lower``, ``gap_ci_upper``, ``p_value``, ``beyond_noise`` (no test for a suppressed value).

    Examples
    --------
    >>> segment_gaps({"plan": nps("data/sample/responses.csv", by="plan")})  # doctest: +SKIP
    """
    cols = ["segment", "value", "n", "nps", "ci_lower", "ci_upper", "suppressed", "gap", "gap_ci_lower",
            "gap_ci_upper", "p_value", "beyond_noise"]
    rows = []
    for seg, t in by_segment.items():
        total = t[["n", "promoters", "detractors"]].sum()
        for _, r in t.iterrows():
            row = {"segment": seg, "value": r[seg], "n": int(r["n"]), "nps": r["nps"], "ci_lower": r["ci_lower"],
                   "ci_upper": r["ci_upper"], "suppressed": bool(r["suppressed"]), "gap": np.nan,
                   "gap_ci_lower": np.nan, "gap_ci_upper": np.nan, "p_value": np.nan, "beyond_noise": False}
            rest = total - r[["n", "promoters", "detractors"]]
            if not row["suppressed"] and rest["n"] > 0:
                ch = nps_change(r, rest, alpha=alpha)
                row.update(gap=ch["change"], gap_ci_lower=ch["ci_lower"], gap_ci_upper=ch["ci_upper"],
                           p_value=ch["p_value"], beyond_noise=ch["beyond_noise"])
            rows.append(row)
    return pd.DataFrame(rows, columns=cols)


def compare_periods(data, *, score: str = "nps", time: str = "response_time", period: str = "week",
                    current=None, prior: int = 4, by=None, alpha: float = 0.05, tz: str | None = None,
                    week_start: str = "monday", name: str | None = None, as_of=None) -> pd.DataFrame:
    """NPS of one period against the ``prior`` periods before it: is this week's change beyond noise?

    ``current`` is the period's first day (str or date; default: the last period in the data). The
    baseline pools the ``prior`` periods before it. With ``by=``, one comparison per segment. Periods
    are cut in the reporting time zone ``tz`` with weeks starting on ``week_start``; answers after ``as_of``
    are left out (see :func:`nps`).

    Returns
    -------
    pandas.DataFrame
        One row (per segment): keys, ``period``, ``baseline_start``, and the columns of :func:`nps_diff`
        with ``a`` = the current period and ``b`` = the baseline.

    Examples
    --------
    >>> compare_periods("data/sample/responses.csv", current="2026-11-16")  # doctest: +SKIP
    """
    counts = nps_counts(data, score=score, by=by, time=time, period=period, tz=tz, week_start=week_start,
                        name=name, as_of=as_of)
    by = counts.attrs["by"]  # the segment columns, as the table names them
    if not (counts["n"] > 0).any():
        raise_nothing_before(counts.attrs["notes"])
        raise cxdata.CXDataError(f"{name or 'data'}: no answers in {score!r} to compare.")
    periods = sorted(counts.loc[counts["n"] > 0, "period"].unique())  # a period of blank scores only is none
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
    return _with_attrs(pd.DataFrame(rows), counts)


# ------------------------------------------------------------------------------------------ weights

def _clean_weights(t, weights: str, *, name: str | None = None):
    """``t`` with the survey-weight column as float64, checked: a number >= 0 on every answered row."""
    if not isinstance(weights, str):
        raise cxdata.CXDataError("weights= names a column of survey weights (e.g. one made by metrics.rake).")
    return cxdata.clean_numeric(t, weights, lo=0, required=True, name=name)


def _weighted_sums(t, weights: str, **values) -> dict:
    """Engine expressions: ``weight_sum`` (sum w), ``weight_sq_sum`` (sum w^2) and ``<name>_weighted``
    (sum w * value) for each boolean or numeric value expression."""
    w = t[weights].cast("float64")
    out = {"weight_sum": w.sum(), "weight_sq_sum": (w * w).sum()}
    for key, v in values.items():
        v = v.cast("float64") if not v.type().is_boolean() else v.ifelse(1.0, 0.0)
        out[f"{key}_weighted"] = (w * v).sum()
    return out


def _weighted_share(df: pd.DataFrame, column: str, n) -> tuple[np.ndarray, np.ndarray]:
    """Weighted share ``column / weight_sum`` and the Kish effective n ``(sum w)^2 / sum w^2``."""
    wsum = df["weight_sum"].to_numpy(dtype=float)
    wsq = df["weight_sq_sum"].to_numpy(dtype=float)
    ok = (wsum > 0) & (wsq > 0) & (np.asarray(n, dtype=float) > 0)
    share = np.where(ok, df[column].to_numpy(dtype=float) / np.where(ok, wsum, 1), np.nan)
    n_eff = np.where(ok, wsum ** 2 / np.where(ok, wsq, 1), np.nan)
    return share, n_eff


#: Shares of a raking target must sum to 1 within this tolerance (then they are rescaled exactly).
RAKE_SHARE_TOLERANCE = 1e-3


def rake(data, *, targets, weight_column: str | None = None, max_iter: int = 100, tol: float = 1e-6,
         by=None, name: str | None = None) -> pd.Series:
    """Survey weights that make the respondents match known population margins (raking).

    Iterative proportional fitting (Deming-Stephan raking): starting from the base weights (1, or
    ``weight_column``), the weights are multiplied in turn, variable by variable, by
    ``target share / current weighted share`` of each row's category until every weighted margin is
    within ``tol`` of its target share. The engine reduces the rows to the cross-classification of the
    target variables (one row per combination present, with its summed base weight); the fitting runs
    on that small table and each row gets its cell's factor.

    Parameters
    ----------
    data : DataFrame, path, Ibis table or source spec
        Survey responses, one row per respondent.
    targets : mapping
        ``{column: {category: population share}}``, e.g. ``{'plan': {'basic': 0.65, 'pro': 0.35},
        'channel': {'email': 0.5, 'chat': 0.3, 'phone': 0.2}}`` (from the events or subscriptions
        table, or a YAML file). Categories are compared as text. Each variable's shares must be >= 0
        and sum to 1 (within 0.001; they are then rescaled to sum exactly to 1).
    weight_column : str, optional
        Base (design) weights to start from; the result keeps their total.
    max_iter : int
        Maximum number of passes over the variables.
    tol : float
        Convergence: largest absolute difference between a weighted margin share and its target.
    by : str or list of str, optional
        Rake separately within each group (e.g. each survey wave) to the same targets; each group's
        weights keep that group's total.

    Returns
    -------
    pandas.Series
        Float weights named ``'weight'``, one per row in the order of ``data`` (the DataFrame's index when
        ``data`` is a DataFrame), summing to the number of rows (or to the total base weight). Pass them
        as a column to ``nps(..., weights=...)``, :func:`csat` or :func:`ces`. ``.attrs`` holds
        ``iterations``, ``max_margin_error`` and ``design_effect`` (Kish: n * sum w^2 / (sum w)^2).

    Raises
    ------
    CXDataError
        A target category absent from the data, a data category (or blank) without a target, shares
        that do not sum to 1 or are negative, a missing column, or no convergence in ``max_iter`` passes
        (e.g. margins that no weighting of the observed combinations can reach).

    Examples
    --------
    >>> w = rake(responses, targets={"plan": {"basic": 0.65, "pro": 0.35}})  # doctest: +SKIP
    >>> nps(responses.assign(w=w), weights="w")  # doctest: +SKIP
    """
    from collections.abc import Mapping

    if not isinstance(targets, Mapping) or not targets:
        raise cxdata.CXDataError("targets= must map each column to {category: population share}.")
    t = cxdata.as_table(data, name=name)
    label = cxdata.source_name(t, name)
    cols = [str(c) for c in targets]
    cxdata.require_columns(t, cols + ([weight_column] if weight_column else []), name=name)
    shares = {}
    for col, spec in targets.items():
        if not isinstance(spec, Mapping) or not spec:
            raise cxdata.CXDataError(f"targets[{col!r}] must map categories to population shares.")
        s = {str(k): float(v) for k, v in spec.items()}
        if any(not np.isfinite(v) or v < 0 for v in s.values()):
            raise cxdata.CXDataError(f"targets[{col!r}]: shares must be numbers >= 0.")
        total = sum(s.values())
        if abs(total - 1) > RAKE_SHARE_TOLERANCE:
            raise cxdata.CXDataError(f"targets[{col!r}]: shares must sum to 1, but they sum to {total:.4g}.")
        shares[str(col)] = {k: v / total for k, v in s.items()}
    if weight_column:
        t = cxdata.clean_numeric(t, weight_column, lo=0, required=True, name=name)
    by = cxdata.as_list(by)
    cxdata.require_columns(t, by, name=name)
    keys = {f"_k{i}": t[c].cast("string") for i, c in enumerate(cols)}
    gkeys = {f"_g{i}": t[c] for i, c in enumerate(by)}
    base = t[weight_column].cast("float64") if weight_column else _literal(1.0)
    t = t.mutate(_base=base, **keys, **gkeys)
    kcols, gcols = list(keys), list(gkeys)
    cells = cxdata.to_pandas(t.group_by(gcols + kcols).aggregate(rows=t.count(), w0=t["_base"].sum()), name=name)
    if cells.empty:
        raise cxdata.CXDataError(f"{label}: no rows to weight.")
    group = (cells.groupby(gcols, dropna=False, sort=False).ngroup().to_numpy() if gcols
             else np.zeros(len(cells), dtype=int))
    n_groups = int(group.max()) + 1
    w0 = cells["w0"].to_numpy(float)
    total = np.bincount(group, weights=w0, minlength=n_groups)
    if (total <= 0).any():
        raise cxdata.CXDataError(f"{label}: the base weights sum to 0{' in a group' if gcols else ''}.")
    codes, tshare = [], []
    for k, col in zip(kcols, cols):
        blank = cells[k].isna()
        if blank.any():
            raise cxdata.CXDataError(f"{label}: column '{col}' is blank in {int(cells.loc[blank, 'rows'].sum())} "
                                     "rows; raking needs a category on every row (fill or drop them first).")
        extra = sorted(set(cells[k].astype(str)) - set(shares[col]))
        if extra:
            raise cxdata.CXDataError(f"{label}: column '{col}' has values without a target share: "
                                     f"{', '.join(repr(e) for e in extra)} (give them a share, 0 to drop them).")
        cats = list(shares[col])
        c = pd.Categorical(cells[k].astype(str), categories=cats).codes.astype(int)
        ts = np.array([shares[col][x] for x in cats])
        seen = np.bincount(group * len(cats) + c, weights=w0, minlength=n_groups * len(cats)).reshape(n_groups, -1)
        absent = (seen <= 0) & (ts > 0)
        if absent.any():
            gi, ci = np.argwhere(absent)[0]
            where = ""
            if gcols:
                first = cells.loc[group == gi, gcols].iloc[0]
                where = " in group " + ", ".join(f"{b}={first[g]!r}" for b, g in zip(by, gcols))
            missing = [cats[j] for j in np.nonzero(absent[gi])[0]]
            raise cxdata.CXDataError(f"{label}: target categor{'ies' if len(missing) > 1 else 'y'} "
                                     f"{', '.join(repr(m) for m in missing)} of '{col}' "
                                     f"{'are' if len(missing) > 1 else 'is'} absent from the data{where}: no "
                                     "respondent can stand for them (merge categories or drop the target).")
        codes.append(group * len(cats) + c)
        tshare.append(ts)

    def margins(w, cc, ts):
        return np.bincount(cc, weights=w, minlength=n_groups * len(ts)).reshape(n_groups, -1)

    w = w0.copy()
    err, it = np.inf, 0
    for it in range(1, max_iter + 1):
        for cc, ts in zip(codes, tshare):
            m = margins(w, cc, ts)
            want = ts[None, :] * total[:, None]
            factor = np.divide(want, m, out=np.zeros_like(m), where=m > 0).ravel()
            w = w * factor[cc]
        err = max(np.abs(margins(w, cc, ts) / total[:, None] - ts[None, :]).max() for cc, ts in zip(codes, tshare))
        if err < tol:
            break
    else:
        raise cxdata.CXDataError(f"{label}: raking did not converge in {max_iter} passes (largest margin "
                                 f"error {err:.2g}); the observed combinations of {', '.join(cols)} may not "
                                 "be able to reach the targets (merge small categories).")
    cells["_factor"] = np.divide(w, w0, out=np.ones_like(w), where=w0 > 0)
    rows = cxdata.to_pandas(t.select(*gcols, *kcols, "_base"), name=name)
    merged = rows.merge(cells[[*gcols, *kcols, "_factor"]], on=gcols + kcols, how="left", sort=False,
                        validate="many_to_one")
    weights = merged["_base"].to_numpy(float) * merged["_factor"].to_numpy(float)
    index = data.index if isinstance(data, pd.DataFrame) and len(data.index) == len(weights) else None
    out = pd.Series(weights, index=index, name="weight")
    out.attrs.update(iterations=it, max_margin_error=float(err),
                     design_effect=float(len(weights) * (weights ** 2).sum() / weights.sum() ** 2))
    return out


def _literal(value):
    import ibis

    return ibis.literal(value)


__all__ += ["rake", "ADJUSTED_WALD_BELOW"]
__all__ += ["period_start", "WEEK_STARTS"]


# ------------------------------------------------------------------------------------------ weighted NPS

def population_shares(data, *, columns, customer: str | None = "customer_id", active=None,
                      start: str = "start_time", end: str = "end_time", name: str | None = None) -> dict:
    """Population margins for :func:`rake`: the share of customers in each category of each column.

    Counted in the engine: distinct ``customer`` values per category (rows when ``customer`` is None or
    not a column), blanks left out; a customer listed under two categories (a plan change) counts in
    both, and the shares are then rescaled to sum to 1.

    ``active`` limits the count to customers subscribed then: a time (subscribed at that moment) or a
    ``(from, to)`` pair (subscribed at some point in between: ``start <= to`` and ``end`` blank or after
    ``from``), read from the ``start`` / ``end`` columns. Without it every customer the table lists,
    including those who left long ago, counts.

    Returns
    -------
    dict
        ``{column: {category (text): share}}``, ready for ``rake(..., targets=)``.

    Examples
    --------
    >>> population_shares("data/sample/subscriptions.csv", columns=["plan"])  # doctest: +SKIP
    {'plan': {'basic': 0.649, 'pro': 0.351}}
    """
    t = cxdata.as_table(data, name=name)
    cols = cxdata.as_list(columns)
    cxdata.require_columns(t, cols, name=name)
    if active is not None:
        lo, hi = active if isinstance(active, (tuple, list)) else (active, active)
        lo, hi = (pd.Timestamp(x).tz_localize(None) if pd.Timestamp(x).tzinfo is None
                  else pd.Timestamp(x).tz_convert("UTC").tz_localize(None) for x in (lo, hi))
        cxdata.require_columns(t, [start, end], name=name)
        t = cxdata.clean_timestamp(cxdata.clean_timestamp(t, start, name=name), end, required=False, name=name)
        t = t.filter((t[start] <= hi.to_pydatetime()) & (t[end].isnull() | (t[end] > lo.to_pydatetime())))
    by_customer = customer is not None and customer in t.columns
    out = {}
    for c in cols:
        v = t[c].cast("string")
        f = t.filter(v.notnull() & (v.strip() != ""))
        key = f[c].cast("string").name("_cat")
        agg = f.group_by(key).aggregate(k=f[customer].nunique() if by_customer else f.count())
        df = cxdata.to_pandas(agg, name=name)
        total = float(df["k"].sum())
        if total <= 0:
            raise cxdata.CXDataError(f"{cxdata.source_name(t, name)}: column '{c}' is blank in every row; it "
                                     "cannot give population shares.")
        out[str(c)] = {str(k): float(n) / total for k, n in zip(df["_cat"], df["k"])}
    return out


def weighted_nps(responses, *, score: str = "nps", weights: str | None = None, targets=None, population=None,
                 columns=None, customer: str | None = "customer_id", active="responses",
                 time: str = "response_time", alpha: float = 0.05, min_n: int = MIN_N,
                 interval: str = "auto", name: str | None = None, as_of=None) -> pd.DataFrame:
    """NPS of the respondents as they are and weighted to the customer base, side by side.

    Survey answers come from those who chose to answer: when, say, one plan answers more often, the raw
    NPS describes respondents, not customers. The weights are either a column (``weights``) or made by
    :func:`rake` to population margins: ``targets`` (``{column: {category: share}}``) or, from a
    ``population`` table (e.g. subscriptions), the customer mix of ``columns`` (:func:`population_shares`).
    The weighted NPS is the ratio estimate ``100 * sum w (promoter - detractor) / sum w`` with the
    trinomial interval on the Kish effective sample size ``(sum w)^2 / sum w^2`` (see :func:`nps`).
    Answers with a blank in a weighting column cannot be weighted and are left out of the weighted row
    (their number is ``attrs['left_out']``). With ``population``, ``columns`` missing from either table are
    skipped (``attrs['skipped']``). The population is the customers subscribed while the survey ran
    (``active='responses'``: the first to the last answer's ``time``; see :func:`population_shares` for
    a time or a ``(from, to)`` pair; None counts every customer the table lists). Answers after ``as_of``
    (in ``time``) are left out of both rows, as in :func:`nps`.

    Returns
    -------
    pandas.DataFrame
        Two rows, ``weighting`` = 'respondents' (unweighted) and 'customers' (weighted): ``n`` (answers),
        ``n_effective`` (= n unweighted), ``design_effect`` (n / n_effective), ``nps``, ``se``,
        ``ci_lower``, ``ci_upper``, ``interval_method``, ``suppressed``, promoter / passive / detractor
        shares. ``attrs``: ``columns`` (weighting columns), ``targets``, ``left_out``,
        ``max_margin_error``, ``weights`` (the column, when given).

    Examples
    --------
    >>> weighted_nps("data/sample/responses.csv", population="data/sample/subscriptions.csv",
    ...              columns=["plan", "region"])  # doctest: +SKIP
    """
    t = cxdata.as_table(responses, name=name)
    label = cxdata.source_name(t, name)
    t, late = cxdata.upto_as_of(t, time, as_of := cxdata.default_as_of(as_of, responses), name=name)
    if weights is None and targets is None and population is None:
        raise cxdata.CXDataError("weighted_nps needs weights= (a column), targets= (population shares) or "
                                 "population= (a table of customers) with columns=.")
    skipped, attrs_active = [], None
    if weights is None and targets is None:
        cols = cxdata.as_list(columns)
        pop = cxdata.as_table(population)
        skipped = [c for c in cols if c not in t.columns or c not in pop.columns]
        cols = [c for c in cols if c not in skipped]
        if not cols:
            raise cxdata.CXDataError("population= needs columns= naming columns that both the responses and the "
                                     f"population table have (given: {', '.join(map(repr, skipped)) or 'none'}).")
        if isinstance(active, str) and active == "responses":
            active = None
            if time in t.columns and {"start_time", "end_time"} <= set(pop.columns):
                tt = cxdata.clean_timestamp(t, time, name=name)
                span = cxdata.to_pandas(tt.aggregate(lo=tt[time].min(), hi=tt[time].max()), name=name)
                if span["lo"].notna().all() and span["hi"].notna().all():
                    active = (span["lo"].iloc[0], span["hi"].iloc[0])
        attrs_active = active
        targets = population_shares(pop, columns=cols, customer=customer, active=active)
    cols = [str(c) for c in (targets or {})]
    need = [score, *cols] + ([weights] if weights else [])
    cxdata.require_columns(t, need, name=name)
    df = cxdata.to_pandas(t.select(*dict.fromkeys(need)), name=name)
    left_out = 0
    attrs = {"columns": cols, "targets": targets, "weights": weights, "max_margin_error": None, "skipped": skipped,
             "active": attrs_active}
    answered = df[score].notna() & (df[score].astype("string").str.strip() != "")
    df = df[answered.fillna(False).astype(bool)].reset_index(drop=True)  # weights match the answers' mix
    if df.empty:  # no rows, or none on or before as_of: say which (else: blank scores, n = 0 below)
        nothing_before(cxdata.as_table(responses, name=name), time, as_of, name=name, what="answers")
    if weights is None:
        blank = df[cols].isna().any(axis=1) | df[cols].astype("string").apply(lambda s: s.str.strip() == "").any(axis=1)
        left_out = int(blank.sum())
        df = df[~blank.fillna(False).astype(bool)].reset_index(drop=True)
        if df.empty:
            raise cxdata.CXDataError(f"{label}: every answer is blank in a weighting column ({', '.join(cols)}).")
        w = rake(df, targets=targets, name=name)
        df["_w"] = w.to_numpy()
        attrs["max_margin_error"] = w.attrs["max_margin_error"]
        wcol = "_w"
    else:
        wcol = weights
    plain = nps(t, score=score, alpha=alpha, min_n=min_n, interval=interval, name=name, as_of=as_of)
    wtd = nps(df, score=score, weights=wcol, alpha=alpha, min_n=min_n, interval=interval, name=label, as_of=as_of)
    keep = ["n", "n_effective", "nps", "se", "ci_lower", "ci_upper", "interval_method", "suppressed",
            "promoter_share", "passive_share", "detractor_share"]
    plain = plain.assign(n_effective=plain["n"].astype(float))
    out = pd.concat([plain[keep].assign(weighting="respondents"), wtd[keep].assign(weighting="customers")],
                    ignore_index=True)
    out["design_effect"] = out["n"] / out["n_effective"].where(out["n_effective"] > 0)
    out = out[["weighting", *keep[:2], "design_effect", *keep[2:]]]
    out.attrs.update(attrs, left_out=left_out, as_of=as_of, notes=[late] if late else [])
    return out


__all__ += ["population_shares", "weighted_nps", "segment_gaps"]
