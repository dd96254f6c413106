"""How much recurring revenue do we keep? Gross and net revenue retention from an MRR history.

An MRR history has one row per customer and month with the monthly recurring revenue billed that month
(data/sample/mrr_history.csv: ``customer_id``, ``month``, ``mrr``; a month without a row, or with 0,
means not paying). For each period the customers paying at its start are followed to its end:

- ``start_mrr``: their MRR in the last month before the period (the *start snapshot*);
- ``expansion`` / ``contraction``: their MRR increases / decreases among those still paying at the end
  (the last month of the period, the *end snapshot*);
- ``churned_mrr``: the start MRR of those no longer paying at the end;
- gross revenue retention = (start - contraction - churned) / start (at most 100%: only losses);
- net revenue retention = (start + expansion - contraction - churned) / start = their end MRR / their
  start MRR (over 100% when expansion outweighs losses). New customers (``new_mrr``) are not in either.

The engine reduces the rows to one row per (customer, month), keeps the snapshot months, joins each
snapshot to the next and aggregates per period (and segment): sums, sums of squares and cross-products.
Only those aggregates come back to pandas.

Examples
--------
>>> from cxlib import revenue
>>> revenue.net_revenue_retention("data/sample/mrr_history.csv").tail(3)  # doctest: +SKIP
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from cxlib import data as cxdata
from cxlib import segments

__all__ = ["net_revenue_retention", "PERIOD_MONTHS"]

#: Months per period.
PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def _ratio(y, x, yy, xy, xx, n, z, lo=0.0, hi=np.inf):
    """Ratio Y/X of customer sums with its linearisation (delta-method) interval."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = y / x
        resid = yy - 2 * r * xy + r * r * xx  # sum over customers of (y_i - r x_i)^2
        se = np.sqrt(np.maximum(resid, 0) * n / np.maximum(n - 1, 1)) / x
    return r, se, np.clip(r - z * se, lo, hi), np.clip(r + z * se, lo, hi)


def net_revenue_retention(mrr_history, *, customer: str = "customer_id", time: str = "month", mrr: str = "mrr",
                          period: str = "month", rolling: bool = False, by=None, as_of=None, alpha: float = 0.05,
                          min_n: int = 30, name: str | None = None) -> pd.DataFrame:
    """Gross and net revenue retention per period (and segment) from an MRR history, with 95% intervals.

    Parameters
    ----------
    mrr_history : DataFrame, path, Ibis table or source spec
        One row per customer and month with the MRR billed that month (several rows of one customer and
        month are added up; a month without a row means not paying).
    customer, time, mrr : str
        Customer id, month (any date or timestamp in the month) and MRR columns.
    period : {'month', 'quarter', 'year'}
        Calendar periods: the start snapshot is the last month before the period, the end snapshot its
        last month (``'year'``: December to December).
    rolling : bool
        Instead of calendar periods, one row per month comparing it with the month ``period`` earlier
        (``period='year', rolling=True``: the trailing-twelve-month NRR quoted by SaaS companies).
    by : str or list of str, optional
        Segment columns, taken from each customer's start snapshot (a customer who changes plan counts
        in the plan they had at the start).
    as_of : date-like, optional
        Analysis date (default :func:`cxlib.data.default_as_of`); months starting after it are left out
        and counted in one ``rows_after_as_of`` note (``.attrs['notes']``).
        A period whose end snapshot month has not ended by then is ``complete=False``. Periods after the
        history's last month are not rows (``.attrs['data_end']``: that month; a ``data_ends_early`` note
        when it is more than a month before ``as_of``).
    alpha : float
        1 - confidence level.
    min_n : int
        Periods (segments) with fewer customers at the start are ``suppressed`` (rates blank).

    Returns
    -------
    pandas.DataFrame
        One row per (segment x) period: ``period`` (first month of the period, or of the rolling
        window), ``start_month`` / ``end_month`` (the snapshots), ``n`` (customers paying at the start),
        ``churned`` (of them, not paying at the end), ``start_mrr``, ``expansion``, ``contraction``,
        ``churned_mrr``, ``end_mrr`` (the start customers' MRR at the end), ``new_mrr`` (customers not
        paying at the start), ``gross_retention``, ``gross_se``, ``gross_ci_lower``, ``gross_ci_upper``,
        ``net_retention``, ``net_se``, ``net_ci_lower``, ``net_ci_upper``, ``complete``, ``suppressed``.

    Notes
    -----
    Method: each retention is a ratio of sums over the start customers, R = sum(y_i) / sum(x_i) (x: start
    MRR; y: end MRR for net, min(end, start) for gross). Its interval is the delta method for a ratio
    estimator with the customer as the unit (linearisation, as in survey statistics):
    Var(R) = n / (n - 1) * sum((y_i - R x_i)^2) / (sum x_i)^2, normal 95% interval (gross clipped to
    0..100%). It treats the period's customers as a sample of the customers the business could have had:
    the booked figure itself is exact, the interval says how much it could move by chance. A period's
    customers overlap with the next period's, so intervals of different periods are not independent.

    Examples
    --------
    >>> nrr = net_revenue_retention("data/sample/mrr_history.csv")  # doctest: +SKIP
    >>> nrr.loc[nrr["complete"], ["period", "start_mrr", "net_retention", "net_ci_lower"]].tail(2)  # doctest: +SKIP
    """
    if period not in PERIOD_MONTHS:
        raise cxdata.CXDataError(f"period must be one of {', '.join(PERIOD_MONTHS)}, not {period!r}.")
    t = cxdata.as_table(mrr_history, name=name)
    cxdata.require_columns(t, [customer, time, mrr], name=name,
                           roles={customer: "customer", time: "time", mrr: "mrr"})
    seg_notes: list = []  # segments named as the export shows them; trimmed, case variants merged (a note each)
    t, by = segments.prepare(t, by, name=name, notes=seg_notes)
    t = cxdata.clean_numeric(t, mrr, lo=0, name=name)
    t = cxdata.clean_timestamp(t, time, name=name)
    cxdata.check_not_empty(t, name=name)
    as_of = cxdata.default_as_of(as_of, mrr_history)
    late = cxdata.after_as_of(t, [time], as_of, name=name)  # left out below, counted in one note
    t = t.filter(t[time] <= as_of.to_pydatetime()).filter(t[customer].notnull())
    L = PERIOD_MONTHS[period]
    m = t[time].year() * 12 + t[time].month() - 1  # months since year 0
    tm = t.mutate(_m=m)
    per = tm.group_by([customer, "_m"]).aggregate(_v=tm[mrr].fill_null(0).sum(),
                                                  **{f"_s{i}": tm[b].min() for i, b in enumerate(by)})
    per = per.filter(per["_v"] > 0)
    seg = {f"_s{i}": b for i, b in enumerate(by)}
    if rolling:
        snap, step = per.mutate(_k=per["_m"]), L
    else:
        snap, step = per.filter(per["_m"] % L == L - 1), 1
        snap = snap.mutate(_k=(snap["_m"] / L).floor().cast("int64"))
    prev = snap.select(_c=snap[customer], _k0=snap["_k"], _x=snap["_v"], **{s: snap[s] for s in seg})
    cur = snap.select(_c2=snap[customer], _k1=snap["_k"], _y0=snap["_v"], **{f"_n{s}": snap[s] for s in seg})
    j = prev.left_join(cur, (prev["_c"] == cur["_c2"]) & (cur["_k1"] == prev["_k0"] + step))
    y = j["_y0"].fill_null(0.0)
    x = j["_x"]
    g = ibis_least(x, y)
    j = j.mutate(_p=j["_k0"] + step, _y=y, _g=g)
    agg = j.group_by(["_p", *seg]).aggregate(
        n=j.count(), churned=(j["_y"] <= 0).cast("int64").sum(), start_mrr=j["_x"].sum(), end_mrr=j["_y"].sum(),
        expansion=(j["_y"] - j["_x"]).clip(lower=0).sum(),
        contraction=((j["_y"] > 0).ifelse(j["_x"] - j["_y"], 0.0)).clip(lower=0).sum(),
        churned_mrr=(j["_y"] <= 0).ifelse(j["_x"], 0.0).sum(), _g=j["_g"].sum(),
        _xx=(j["_x"] * j["_x"]).sum(), _yy=(j["_y"] * j["_y"]).sum(), _xy=(j["_x"] * j["_y"]).sum(),
        _gg=(j["_g"] * j["_g"]).sum(), _xg=(j["_x"] * j["_g"]).sum())
    new = cur.anti_join(prev, (prev["_c"] == cur["_c2"]) & (cur["_k1"] == prev["_k0"] + step))
    new = new.group_by([new["_k1"].name("_p"), *[new[f"_n{s}"].name(s) for s in seg]]).aggregate(
        new_mrr=new["_y0"].sum())
    span = snap.aggregate(_lo=snap["_k"].min(), _hi=snap["_k"].max())
    df = cxdata.to_pandas(agg, name=name)
    new_df = cxdata.to_pandas(new, name=name)
    lo_hi = cxdata.to_pandas(span, name=name)
    hi = None if pd.isna(lo_hi["_hi"].iloc[0]) else int(lo_hi["_hi"].iloc[0])
    df = df[df["_p"] <= (hi if hi is not None else -1)].rename(columns=seg).reset_index(drop=True)
    if df.empty:  # hi: the last snapshot with data; later periods are not known yet
        raise cxdata.CXDataError(f"{cxdata.source_name(t, name)}: no two snapshot months with MRR on or before "
                                 f"{as_of.date()} to compare; give at least two {period}s of MRR history.")
    keys = ["_p", *by]
    new_df = new_df.rename(columns=seg)
    df = df.merge(new_df[new_df["_p"] <= hi], on=keys, how="left") if len(new_df) else df.assign(new_mrr=0.0)
    df["new_mrr"] = df["new_mrr"].fillna(0.0).astype(float)  # segment of a new customer: their end snapshot
    end_m = df["_p"] if rolling else df["_p"] * L + L - 1
    start_m = end_m - L
    first_m = start_m + 1
    to_ts = lambda k: pd.to_datetime(pd.DataFrame({"year": k // 12, "month": k % 12 + 1, "day": 1}))  # noqa: E731
    df["period"], df["start_month"], df["end_month"] = to_ts(first_m), to_ts(start_m), to_ts(end_m)
    df["complete"] = (to_ts(end_m + 1) <= as_of + pd.Timedelta(seconds=1)).to_numpy()
    z = stats.norm.ppf(1 - alpha / 2)
    n = df["n"].to_numpy(float)
    X = df["start_mrr"].to_numpy(float)
    df["gross_retention"], df["gross_se"], df["gross_ci_lower"], df["gross_ci_upper"] = _ratio(
        df["_g"].to_numpy(float), X, df["_gg"].to_numpy(float), df["_xg"].to_numpy(float),
        df["_xx"].to_numpy(float), n, z, 0.0, 1.0)
    df["net_retention"], df["net_se"], df["net_ci_lower"], df["net_ci_upper"] = _ratio(
        df["end_mrr"].to_numpy(float), X, df["_yy"].to_numpy(float), df["_xy"].to_numpy(float),
        df["_xx"].to_numpy(float), n, z)
    df["suppressed"] = df["n"] < min_n
    rates = [f"{a}_{b}" for a in ("gross", "net") for b in ("retention", "se", "ci_lower", "ci_upper")]
    df.loc[df["suppressed"], rates] = np.nan
    for c in ("n", "churned"):
        df[c] = df[c].astype("int64")
    for c in ("start_mrr", "expansion", "contraction", "churned_mrr", "end_mrr"):
        df[c] = df[c].astype(float)
    df = df.sort_values([*by, "period"]).reset_index(drop=True) if by else df.sort_values("period").reset_index(drop=True)
    out = df[[*by, "period", "start_month", "end_month", "n", "churned", "start_mrr", "expansion", "contraction",
              "churned_mrr", "end_mrr", "new_mrr", "gross_retention", "gross_se", "gross_ci_lower", "gross_ci_upper",
              "net_retention", "net_se", "net_ci_lower", "net_ci_upper", "complete", "suppressed"]]
    # the history's last record (its latest month on or before as_of): periods after it are not rows (above);
    # a month's row is that whole month's MRR, so a period is complete by the analysis date alone
    data_end = cxdata.last_record(t, [time], as_of, name=name)
    # the last month's row covers that whole month: the history ends early only when the month after it
    # has also passed before as_of (a history through February read on 3 March is up to date)
    covered = None if data_end is None else data_end.to_period("M").end_time
    early = (cxdata.ends_early(t, data_end, as_of, "month", name=name)
             if covered is not None and covered + pd.DateOffset(months=1) < as_of else None)
    notes = [n for n in (late, early) if n] + seg_notes
    out.attrs.update(period=period, rolling=rolling, as_of=as_of, data_end=data_end, notes=notes,
                     method="ratio of customer sums; delta-method (linearisation) 95% interval, customer as unit")
    return out


def ibis_least(a, b):
    """Element-wise minimum of two Ibis numeric columns."""
    import ibis

    return ibis.least(a, b)
