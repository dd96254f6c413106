"""Customer lifetimes: Kaplan-Meier survival, median lifetime and the log-rank test.

Lifetimes are right-censored: a customer still active at ``as_of`` has lived *at least* that long.
The engine reduces the rows to counts per (segment, lifetime, churned) -- lifetimes are rounded to whole
days first, so the result size is bounded by the number of distinct days, not customers -- and the
statistics run on those counts with statsmodels:

- Kaplan-Meier product-limit estimate (``SurvfuncRight`` with frequency weights), Greenwood standard
  errors, pointwise 95% intervals on the log(-log) scale (they stay inside 0..1);
- the median lifetime with its Brookmeyer-Crowley interval on the log(-log) scale (times whose
  survival is not significantly different from 50%); "not reached" when survival stays above 50%;
- the log-rank test across segments (``survdiff``).

Examples
--------
>>> from cxlib import survival
>>> km = survival.kaplan_meier("data/sample/subscriptions.csv", start="start_time", end="end_time",
...                            by="plan")  # doctest: +SKIP
"""
from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.duration.survfunc import SurvfuncRight, survdiff

from cxlib import data as cxdata
from cxlib.cohorts import _as_of

__all__ = ["lifetimes", "kaplan_meier", "median_survival", "logrank", "summarize", "UNITS"]

#: Lifetime units, in days.
UNITS = {"day": 1.0, "week": 7.0, "month": 30.4375, "year": 365.25}


def lifetimes(data, *, duration: str | None = None, event: str | None = None, start: str | None = None,
              end: str | None = None, as_of=None, unit: str = "month", by=None, customer: str | None = "customer_id",
              name: str | None = None) -> pd.DataFrame:
    """Counts per (segment, ``time``, ``event``): the sufficient statistics of the survival analyses.

    With ``start``/``end``, ``as_of`` defaults to :func:`cxlib.data.default_as_of` (the report date,
    never the latest timestamp in the data); rows after it are left out or censored and described in
    ``.attrs['notes']``. An end before its start, or a ``customer`` id listed twice, is an error.

    Either ``duration`` (in ``unit``) and ``event`` (1 = churned, 0 = censored) columns, or ``start`` and
    ``end`` timestamps (end blank = still active; censored at ``as_of``, default the latest timestamp).
    """
    by = cxdata.as_list(by)
    t = cxdata.as_table(data, name=name)
    late = None
    if unit not in UNITS:
        raise cxdata.CXDataError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}.")
    if duration is not None:
        if event is None:
            raise cxdata.CXDataError("duration= needs event= (1 = churned, 0 = still active / censored).")
        cxdata.require_columns(t, [duration, event, *by], name=name)
        t = cxdata.clean_numeric(t, duration, lo=0, required=True, name=name)
        t = cxdata.clean_binary(t, event, name=name)
        t = t.mutate(_time=t[duration], _event=t[event].cast("int64"))
    else:
        if start is None:
            raise cxdata.CXDataError("give duration= and event=, or start= (and end=) timestamps.")
        cols = [start] + ([end] if end else [])
        cxdata.require_columns(t, [*cols, *by], name=name)
        t = cxdata.clean_timestamp(t, start, name=name)
        if end:
            t = cxdata.clean_timestamp(t, end, required=False, name=name)
        if end:
            cxdata.check_order(t, start, end, name=name)
        if customer and customer in t.columns:
            cxdata.check_unique(t, customer, name=name)
        as_of = cxdata.default_as_of(as_of, data)
        late = cxdata.after_as_of(t, [start, end] if end else [start], as_of, name=name)
        cut = as_of.to_pydatetime()
        t = t.filter(t[start] <= cut)
        cut_lit = ibis.literal(cut, type="timestamp")
        if end:
            churned = t[end].notnull() & (t[end] <= cut)
            stop = churned.ifelse(t[end], cut_lit)
        else:
            churned, stop = ibis.literal(False), cut_lit
        seconds = stop.epoch_seconds() - t[start].epoch_seconds()
        t = t.mutate(_time=(seconds / 86400.0).round() / UNITS[unit], _event=churned.cast("int64"))
    cxdata.check_not_empty(t, name=name)
    counts = cxdata.to_pandas(t.group_by([*by, "_time", "_event"]).aggregate(n=t.count()), name=name)
    counts = counts.rename(columns={"_time": "time", "_event": "event"})
    if (counts["time"] < 0).any():
        raise cxdata.CXDataError(f"{cxdata.source_name(t, name)}: some lifetimes are negative (end before start).")
    counts = counts.sort_values([*by, "time", "event"]).reset_index(drop=True)
    counts.attrs["notes"] = [late] if late else []
    return counts


def _groups(counts, by):
    if not by:
        return [((), counts)]
    return [((k,) if not isinstance(k, tuple) else k, g) for k, g in counts.groupby(by, dropna=False)]


def _fit(g):
    return SurvfuncRight(g["time"].to_numpy(float), g["event"].to_numpy(float),
                         freq_weights=g["n"].to_numpy(float))


def kaplan_meier(data, *, duration: str | None = None, event: str | None = None, start: str | None = None,
                 end: str | None = None, as_of=None, unit: str = "month", by=None, alpha: float = 0.05,
                 name: str | None = None) -> pd.DataFrame:
    """Kaplan-Meier survival curve per segment with Greenwood log(-log) 95% intervals.

    Parameters
    ----------
    data : DataFrame, path or Ibis table
        One row per customer lifetime.
    duration, event : str, optional
        Lifetime (in ``unit``) and churn flag (1 churned, 0 censored) columns; or
    start, end, as_of : optional
        Start / end timestamps (end blank while active) and the censoring date.
    unit : {'day', 'week', 'month', 'year'}
        Unit of ``time`` in the result (months are 30.4375 days).
    by : str or list of str, optional
        Segment columns: one curve each.

    Returns
    -------
    pandas.DataFrame
        One row per segment x event time: ``time``, ``at_risk``, ``events``, ``survival``, ``se``
        (Greenwood), ``ci_lower``, ``ci_upper``. ``result.attrs['medians']`` holds
        :func:`median_survival`'s table.

    Examples
    --------
    >>> km = kaplan_meier("data/sample/subscriptions.csv", start="start_time", end="end_time",
    ...                   by="plan")  # doctest: +SKIP
    >>> km.attrs["medians"]  # doctest: +SKIP
    """
    by = cxdata.as_list(by)
    counts = lifetimes(data, duration=duration, event=event, start=start, end=end, as_of=as_of, unit=unit,
                       by=by, name=name)
    z = stats.norm.ppf(1 - alpha / 2)
    parts = []
    for key, g in _groups(counts, by):
        sf = _fit(g)
        s, se = sf.surv_prob, _greenwood(sf)
        with np.errstate(divide="ignore", invalid="ignore"):
            theta = np.log(-np.log(s))
            se_theta = se / (s * np.abs(np.log(s)))
            lo = np.exp(-np.exp(theta + z * se_theta))
            hi = np.exp(-np.exp(theta - z * se_theta))
        lo = np.where(s >= 1, 1.0, np.where(s <= 0, 0.0, lo))
        hi = np.where(s >= 1, 1.0, np.where(s <= 0, 0.0, hi))
        part = pd.DataFrame({"time": sf.surv_times, "at_risk": sf.n_risk, "events": sf.n_events,
                             "survival": s, "se": se, "ci_lower": lo, "ci_upper": hi})
        for col, v in zip(by, key):
            part.insert(by.index(col), col, v)
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out["at_risk"] = out["at_risk"].round().astype("int64")
    out["events"] = out["events"].round().astype("int64")
    out.attrs["medians"] = _medians(counts, by, alpha)
    out.attrs["unit"] = unit
    out.attrs["notes"] = counts.attrs.get("notes", [])
    return out


def _greenwood(sf) -> np.ndarray:
    """Greenwood standard error S(t) * sqrt(sum d / (n (n - d))) from the fitted risk sets.

    Computed here because statsmodels' ``surv_prob_se`` with ``freq_weights`` is not Greenwood's."""
    n, d = sf.n_risk, sf.n_events
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(n > d, d / (n * (n - d)), 0.0)
    return sf.surv_prob * np.sqrt(np.cumsum(term))


def _median_ci(times, s, se, z):
    """Brookmeyer-Crowley interval for the median on the log(-log) scale: the times whose survival is
    not significantly different from 0.5."""
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = (np.log(-np.log(s)) - np.log(-np.log(0.5))) / (se / (s * np.abs(np.log(s))))
    inside = np.isfinite(stat) & (np.abs(stat) <= z)
    if not inside.any():
        return np.nan, np.nan
    idx = np.nonzero(inside)[0]
    lo = times[idx[0]]
    hi = times[idx[-1] + 1] if idx[-1] + 1 < len(times) else np.nan  # band open at the end of follow-up
    return lo, hi


def _medians(counts, by, alpha):
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    for key, g in _groups(counts, by):
        sf = _fit(g)
        med = sf.quantile(0.5)
        lo, hi = _median_ci(sf.surv_times, sf.surv_prob, _greenwood(sf), z)
        rows.append({**dict(zip(by, key)), "n": int(g["n"].sum()), "events": int((g["n"] * g["event"]).sum()),
                     "median": med if np.isfinite(med) else np.nan, "ci_lower": lo if np.isfinite(lo) else np.nan,
                     "ci_upper": hi if np.isfinite(hi) else np.nan,
                     "reached": bool(np.isfinite(med))})
    return pd.DataFrame(rows)


def median_survival(data, *, alpha: float = 0.05, **kwargs) -> pd.DataFrame:
    """Median lifetime per segment with its 95% interval (NaN / ``reached=False`` when not reached).

    Same arguments as :func:`kaplan_meier`. Columns: segment keys, ``n``, ``events``, ``median``,
    ``ci_lower``, ``ci_upper`` (``ci_upper`` NaN when the upper bound is beyond the follow-up), ``reached``.
    """
    by = cxdata.as_list(kwargs.pop("by", None))
    counts = lifetimes(data, by=by, **kwargs)
    return _medians(counts, by, alpha)


def logrank(data, *, by, **kwargs) -> dict:
    """Log-rank test that the segments of ``by`` share one survival curve (statsmodels ``survdiff``).

    Returns ``{'statistic': chi2, 'df': groups - 1, 'p_value': p, 'groups': k}``.
    """
    by_list = cxdata.as_list(by)
    counts = lifetimes(data, by=by_list, **kwargs)
    group = counts[by_list].astype(str).agg(" / ".join, axis=1).to_numpy()
    reps = counts["n"].to_numpy()
    stat, p = survdiff(np.repeat(counts["time"].to_numpy(float), reps),
                       np.repeat(counts["event"].to_numpy(float), reps), np.repeat(group, reps))
    k = len(set(group))
    return {"statistic": float(stat), "df": k - 1, "p_value": float(p), "groups": k}


def summarize(medians: pd.DataFrame, *, by: str | None = None, test: dict | None = None,
              unit: str = "month") -> str:
    """Plain-language summary of median lifetimes (and a log-rank test result).

    Returns :class:`cxlib.present.Text`: safe HTML in which every data value is escaped (wording in
    :func:`cxlib.present.lifetime_summary`).
    """
    from cxlib import present  # present sits above the analyses; imported here to keep imports one-way

    return present.lifetime_summary(medians, by=by, test=test, unit=unit)
