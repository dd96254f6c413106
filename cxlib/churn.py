"""Churn and retention rates per period from subscription lifetimes (re-exported by cxlib.metrics).

churn rate of a period = customers lost in the period / customers active at its start. The engine reduces
the subscriptions to counts per (start period, end period, segment); rates and Wilson 95% intervals are
computed on those counts in pandas. A customer who starts during a period is not at risk in it.

The table observes up to the earlier of ``as_of`` and its last record (the latest start or end on or
before ``as_of``): periods starting after that are not rows (blank, never a 0% churn rate), and a period
is ``complete`` only when it ended by then.

Examples
--------
>>> from cxlib import metrics
>>> metrics.churn_rate("data/sample/subscriptions.csv", by="plan")  # doctest: +SKIP
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from cxlib import data as cxdata
from cxlib import periods, segments
from cxlib.cohorts import _index, _offset
from cxlib.stats import wilson

__all__ = ["churn_rate", "retention_rate", "recent_churn", "mrr_kept"]


def _periods_started(first_start: pd.Timestamp, period: str, as_of) -> int:
    """How many periods after the one starting at ``first_start`` have started by ``as_of`` (vectorised:
    the count of k >= 1 with ``_offset(first_start, k) <= as_of``; starts only grow with k)."""
    if period in ("day", "week"):
        days = 7 if period == "week" else 1
        bound = int((pd.Timestamp(as_of) - first_start) // pd.Timedelta(days=days)) + 1
    else:
        months = {"month": 1, "quarter": 3, "year": 12}[period]
        bound = ((as_of.year - first_start.year) * 12 + as_of.month - first_start.month) // months + 1
    if bound < 1:
        return 0
    k = np.arange(1, bound + 1)
    starts = _offset(pd.Series([first_start] * len(k)), k, period)
    return int((starts <= as_of).sum())


def churn_rate(subscriptions, *, customer: str = "customer_id", start: str = "start_time",
               end: str = "end_time", period: str = "month", by=None, as_of=None, tz: str | None = None,
               mrr: str | None = None, alpha: float = 0.05, min_n: int = 30, name: str | None = None) -> pd.DataFrame:
    """Churn rate per period (and segment) with n and a Wilson 95% interval.

    Parameters
    ----------
    subscriptions : DataFrame, path or Ibis table
        One row per customer lifetime: ``start`` and ``end`` (blank while active).
    period : {'week', 'month', 'quarter', 'year'}
    by : str or list of str, optional
        Segment columns.
    as_of : date-like, optional
        The analysis date (default :func:`cxlib.data.default_as_of`). Cancellations after it are ignored
        (the customer counts as active). Observation ends at the earlier of ``as_of`` and the table's
        last record (``.attrs['data_end']``, the latest start or end on or before ``as_of``): later
        periods are not rows, and the period containing that end is ``complete=False``.
    mrr : str, optional
        Monthly recurring revenue column: adds ``mrr_start``, ``mrr_lost`` and ``revenue_retention``
        (MRR of the customers at the start still subscribed at the end / their MRR at the start; with one
        MRR per subscription there is no expansion, so this is gross revenue retention).

    Returns
    -------
    pandas.DataFrame
        One row per (segment x) period: ``period`` (start), ``n`` (customers at the period start),
        ``lost``, ``churn_rate`` (= ``estimate``), ``ci_lower``, ``ci_upper``, ``complete``,
        ``suppressed``, ``metric``.

    Examples
    --------
    >>> churn_rate("data/sample/subscriptions.csv", by="plan").tail(2)  # doctest: +SKIP
    """
    t = cxdata.as_table(subscriptions, name=name)
    seg_notes: list = []  # segments named as the export shows them; trimmed, case variants merged (a note each)
    t, by = segments.prepare(t, by, name=name, notes=seg_notes, need=[customer, start, end, *([mrr] if mrr else [])])
    if mrr:
        t = cxdata.clean_numeric(t, mrr, lo=0, name=name)
    t = cxdata.clean_timestamp(t, start, tz=tz, name=name)
    t = cxdata.clean_timestamp(t, end, tz=tz, required=False, name=name)
    cxdata.check_not_empty(t, name=name)
    cxdata.check_order(t, start, end, name=name)
    if customer in t.columns:  # one row per customer lifetime: a duplicate would be counted twice
        cxdata.check_unique(t, customer, name=name)
    as_of = cxdata.default_as_of(as_of, subscriptions)
    late = cxdata.after_as_of(t, [start, end], as_of, name=name)
    last = cxdata.last_record(t, [start, end], as_of, name=name)
    obs_end = cxdata.observed_end(as_of, last)
    cut = as_of.to_pydatetime()
    t = t.filter(t[start] <= cut)
    t = t.mutate(_end=(t[end].notnull() & (t[end] <= cut)).ifelse(t[end], None))
    t = t.mutate(_s=_index(cxdata.period_start(t[start], period), period),
                 _e=_index(cxdata.period_start(t["_end"], period), period),
                 _sb=cxdata.period_start(t[start], period))
    aggs = {"n": t.count(), "_first": t["_sb"].min(), **({"_mrr": t[mrr].fill_null(0).sum()} if mrr else {})}
    counts = cxdata.to_pandas(t.group_by(["_s", "_e", *by]).aggregate(**aggs), name=name)
    first_index = int(counts["_s"].min())
    first_start = pd.Timestamp(counts.loc[counts["_s"].idxmin(), "_first"])
    last_index = first_index + _periods_started(first_start, period, obs_end)
    rows = []
    groups = counts.groupby(by, dropna=False) if by else [((), counts)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        s, e, n = g["_s"].to_numpy(), g["_e"].to_numpy(dtype=float), g["n"].to_numpy()
        for p in range(first_index + 1, last_index + 1):
            at_risk = (s < p) & (np.isnan(e) | (e >= p))
            row = {**dict(zip(by, key)), "_p": p, "n": int(n[at_risk].sum()), "lost": int(n[at_risk & (e == p)].sum())}
            if mrr:
                money = g["_mrr"].to_numpy(dtype=float)
                row.update(mrr_start=float(money[at_risk].sum()), mrr_lost=float(money[at_risk & (e == p)].sum()))
            rows.append(row)
    out = pd.DataFrame(rows)
    out["period"] = _offset(pd.Series([first_start] * len(out)), out["_p"] - first_index, period).to_numpy()
    end_of = _offset(out["period"], 1, period)
    out["complete"] = (end_of <= obs_end).to_numpy()
    out = out.drop(columns="_p")
    est = out["lost"] / out["n"].where(out["n"] > 0)
    out["metric"] = "churn_rate"
    out["estimate"] = est
    out["churn_rate"] = est
    out["ci_lower"], out["ci_upper"] = wilson(out["lost"], out["n"], alpha)
    out["suppressed"] = out["n"] < min_n
    out.loc[out["suppressed"], ["estimate", "churn_rate", "ci_lower", "ci_upper"]] = np.nan
    extra = []
    if mrr:
        out["revenue_retention"] = 1 - out["mrr_lost"] / out["mrr_start"].where(out["mrr_start"] > 0)
        out.loc[out["suppressed"], "revenue_retention"] = np.nan
        extra = ["mrr_start", "mrr_lost", "revenue_retention"]
    early = cxdata.ends_early(t, last, as_of, period, name=name)
    # the last incomplete period is "in progress" when it holds the analysis date, else the data end in it
    open_ = out.loc[~out["complete"].astype(bool), "period"]
    in_progress = last is None or open_.empty or periods.holds(open_.max(), period, as_of)
    out.attrs.update(period=period, as_of=as_of, data_end=last, open_in_progress=in_progress,
                     notes=[n for n in (late, early) if n] + seg_notes)
    return out[[*by, "period", "n", "lost", "churn_rate", "estimate", "ci_lower", "ci_upper", "complete",
                "suppressed", "metric", *extra]]


def retention_rate(subscriptions, **kwargs) -> pd.DataFrame:
    """Share of customers at a period's start still active at its end (1 - churn rate), Wilson 95% CI.

    Same arguments as :func:`churn_rate`; columns ``retained``, ``retention_rate`` (= ``estimate``).
    """
    out = churn_rate(subscriptions, **kwargs)
    lo, hi = out["ci_lower"], out["ci_upper"]
    out = out.rename(columns={"churn_rate": "retention_rate"})
    out.insert(out.columns.get_loc("lost"), "retained", out["n"] - out["lost"])
    out = out.drop(columns="lost")
    out["retention_rate"] = 1 - out["retention_rate"]
    out["estimate"] = out["retention_rate"]
    out["ci_lower"], out["ci_upper"] = 1 - hi, 1 - lo
    out["metric"] = "retention_rate"
    return out


def recent_churn(result: pd.DataFrame, *, by: str | None = None, last: int = 6,
                 alpha: float = 0.05) -> pd.DataFrame:
    """Churn pooled over the last ``last`` complete periods of a :func:`churn_rate` result, per segment:
    customers lost over customer-periods at risk, with a Wilson interval.

    One row per segment (``by``; one row for everyone without it) with ``lost``, ``n`` (customer-periods
    at risk), ``churn_rate``, ``ci_lower``, ``ci_upper`` and ``periods`` (how many periods were pooled);
    segments with no customer at risk are left out. ``.attrs['period']`` is the result's period length.

    Examples
    --------
    >>> t = pd.DataFrame({"period": pd.to_datetime(["2026-01-01", "2026-02-01"]), "lost": [5, 7],
    ...                   "n": [100, 100], "complete": [True, True]})
    >>> recent_churn(t)[["lost", "n", "churn_rate"]].to_dict("records")
    [{'lost': 12, 'n': 200, 'churn_rate': 0.06}]
    """
    done = result[result["complete"].astype(bool)]
    recent = sorted(done["period"].unique())[-last:]
    done = done[done["period"].isin(recent)]
    keys = [by] if by else []
    if keys:
        g = done.groupby(by, sort=True)[["lost", "n"]].sum().reset_index()
    else:
        g = pd.DataFrame({"lost": [done["lost"].sum()], "n": [done["n"].sum()]})
    g["lost"], g["n"] = g["lost"].astype(int), g["n"].astype(int)
    g = g[g["n"] > 0].reset_index(drop=True)
    g["churn_rate"] = g["lost"] / g["n"]
    lo, hi = wilson(g["lost"].to_numpy(), g["n"].to_numpy(), alpha) if len(g) else ([], [])
    g["ci_lower"], g["ci_upper"] = lo, hi
    g["periods"] = len(recent)
    g.attrs["period"] = result.attrs.get("period", "month")
    return g


def mrr_kept(result: pd.DataFrame, *, last: int = 3) -> dict | None:
    """Gross revenue retention of the last ``last`` complete periods of a :func:`churn_rate` result made
    with ``mrr=``: 1 - MRR lost / MRR at the start, summed over the periods (and segments).

    Returns ``{"periods", "mrr_start", "mrr_lost", "kept"}``, or None without MRR columns or complete
    periods.

    Examples
    --------
    >>> t = pd.DataFrame({"period": [1, 2], "mrr_start": [1000.0, 1000.0], "mrr_lost": [50.0, 150.0],
    ...                   "complete": [True, True]})
    >>> mrr_kept(t)["kept"]
    0.9
    """
    if "mrr_start" not in result or "mrr_lost" not in result:
        return None
    done = result[result["complete"].astype(bool)].groupby("period")[["mrr_start", "mrr_lost"]].sum().tail(last)
    if done.empty:
        return None
    start, lost = done["mrr_start"].sum(), done["mrr_lost"].sum()
    return {"periods": len(done), "mrr_start": float(start), "mrr_lost": float(lost), "kept": 1 - lost / start}
