"""Cohort retention: how each acquisition cohort comes back, period after period (and its revenue).

A customer's cohort is the period (week, month, quarter) of their first event. The engine reduces the
events to one count per cohort x period (and segment): the number of distinct customers active in that
period (``definition='return_on'``) or active in it or any later period (``'on_or_after'``, derived
from each customer's last active period). Only those counts come back to pandas, so the same code runs
on a CSV, a DuckDB file or a Spark table. On DuckDB, large tables spanning up to 256 periods take a
quicker route to the same counts: one aggregation per customer to a bitmask of its active periods, then
a sum of each bit per cohort (see ``_fast_cells``).

Methods: retention = active / cohort size, a binomial proportion with the Wilson 95% interval
(statsmodels ``proportion_confint``). A cell is *mature* when its period has ended by ``as_of`` and by
the table's last record (its latest event on or before ``as_of``); an immature cell is still filling up
and must not be read as a drop. Periods starting after the last record are not observed: they are not
rows (blank in a pivot, never 0%). Cohorts smaller than ``min_n`` are
kept with ``suppressed=True`` and no rates.

Examples
--------
>>> from cxlib import cohorts
>>> rt = cohorts.retention_table("data/sample/events.csv", grain="month", by="plan")  # doctest: +SKIP
"""
from __future__ import annotations

import contextlib
import datetime as dt

import ibis
import numpy as np
import pandas as pd

from cxlib import data as cxdata
from cxlib import segments
from cxlib.periods import holds as period_holds
from cxlib.periods import start_of as period_start_of
from cxlib.stats import wilson

__all__ = ["retention_table", "retention_curve", "repeat_business", "ltv_to_date", "ltv_at_age", "revenue_curve"]

GRAINS = ("hour", "day", "week", "month", "quarter", "year")
#: ``grain='hour'`` without ``periods=`` keeps this many periods (one week): a full hourly grid over
#: months of data would have cohorts x thousands of mostly empty cells.
HOUR_PERIODS = 168
DEFINITIONS = ("return_on", "on_or_after")


def _index(col, grain):
    """An integer period number of a truncated timestamp (differences give 'periods since cohort')."""
    if grain == "month":
        return col.year() * 12 + col.month()
    if grain == "quarter":
        return col.year() * 4 + col.quarter()
    if grain == "year":
        return col.year()
    seconds = {"hour": 3600, "week": 7 * 86400}.get(grain, 86400)
    return (col.epoch_seconds() / seconds).round().cast("int64")


def _offset(start: pd.Series, k, grain: str) -> pd.Series:
    """Start of period ``k`` after ``start`` (vectorised, in pandas)."""
    k = np.asarray(k)
    if grain == "hour":
        return start + pd.to_timedelta(k, unit="h")
    if grain == "day":
        return start + pd.to_timedelta(k, unit="D")
    if grain == "week":
        return start + pd.to_timedelta(7 * k, unit="D")
    months = {"month": 1, "quarter": 3, "year": 12}[grain]
    # calendar months in numpy: the first of the month ``months * k`` after the month of ``start``
    first = start.to_numpy().astype("datetime64[M]") + (months * k).astype("timedelta64[M]")
    return pd.Series(first.astype(start.dtype if start.dtype.kind == "M" else "datetime64[us]"))


def _grid(sizes: pd.DataFrame, keys: list, grain: str, as_of, periods) -> pd.DataFrame:
    """The full grid: every cohort (row of ``sizes``) x its periods 0, 1, ... whose start is on or before
    ``as_of`` (and ``<= periods``), with ``period_start`` and ``cohort_size``; vectorised (no per-cohort loop).

    ``as_of`` is the end of what the table observes (:func:`cxlib.data.observed_end`): a period starting
    after the table's last record is not a row, so a pivot or CSV shows it blank, never 0%."""
    if sizes.empty:
        return pd.DataFrame()
    cohort = sizes["_cohort"]
    # an upper bound on the last period of each cohort; the exact cut is the start <= as_of filter below
    if grain in ("hour", "day", "week"):
        step = {"hour": np.timedelta64(1, "h"), "week": np.timedelta64(7, "D")}.get(grain, np.timedelta64(1, "D"))
        bound = ((pd.Timestamp(as_of) - cohort).to_numpy() // step)
    else:
        months = {"month": 1, "quarter": 3, "year": 12}[grain]
        diff = (as_of.year * 12 + as_of.month) - (cohort.dt.year.to_numpy() * 12 + cohort.dt.month.to_numpy())
        bound = diff // months
    bound = np.nan_to_num(np.asarray(bound, dtype=float), nan=-2.0) + 1
    if periods is not None:
        bound = np.minimum(bound, periods)
    count = np.maximum(bound + 1, 0).astype("int64")
    rows = np.repeat(np.arange(len(sizes)), count)
    k = np.arange(len(rows)) - np.repeat(np.cumsum(count) - count, count)
    out = sizes.iloc[rows][keys].reset_index(drop=True)
    start = _offset(out["_cohort"], k, grain) if len(rows) else out["_cohort"]
    keep = (start <= as_of).to_numpy()
    out["period"] = k
    out["period_start"] = start.to_numpy()
    out["cohort_size"] = sizes["cohort_size"].to_numpy()[rows].astype("int64")
    return out[keep].reset_index(drop=True)


#: The one-pass path (:func:`_fast_cells`) handles data spanning up to this many periods (64 per word of
#: the per-customer activity bitmask); longer spans (daily or hourly grains over long ranges) take the
#: general path. Tests set it to 0 to run the general path.
_FAST_MAX_SPAN = 256
#: ... and tables of at least this many rows: on small tables the general path is quicker (building and
#: compiling the wider query costs more than the second grouping saves; about equal at 100k rows).
_FAST_MIN_ROWS = 200_000


def _period_starts(index, grain: str) -> np.ndarray:
    """Start (``datetime64[us]``) of each period number made by :func:`_index` (its inverse); Sunday
    weeks are numbered like Monday weeks shifted by a day (see ``bucket`` in :func:`retention_table`)."""
    i = np.asarray(index, dtype="int64")
    if grain in ("month", "quarter"):
        per_year = 12 if grain == "month" else 4
        months = ((i - 1) // per_year - 1970) * 12 + ((i - 1) % per_year) * (12 // per_year)
        out = months.astype("datetime64[M]")
    elif grain == "year":
        out = (i - 1970).astype("datetime64[Y]")
    elif grain == "hour":
        out = i.astype("datetime64[h]")
    elif grain == "day":
        out = i.astype("datetime64[D]")
    elif grain == "week":  # epoch day 4 (1970-01-05) is a Monday, numbered round(4/7) = 1
        out = (7 * i - 3).astype("datetime64[D]")
    else:  # 'week_sunday': epoch day 3 (1970-01-04) is a Sunday, numbered round(3/7) = 0
        out = (7 * i + 3).astype("datetime64[D]")
    return out.astype("datetime64[us]")


#: DuckDB's perfect hash aggregation (an array indexed by the key, no hashing) is used for integer keys
#: whose range (from the column statistics) fits in this many bits: 2**22 = 4M customer ids (DuckDB's
#: default is 12 bits). Grouping 10M events by 1M integer customer ids then takes half the CPU time.
_PERFECT_HASH_BITS = 22


@contextlib.contextmanager
def _perfect_hash(t):
    """Raise DuckDB's perfect-hash threshold for one query (restored afterwards; results do not change)."""
    con = getattr(t._find_backend(use_default=True), "con", None)
    try:
        before = int(con.sql("SELECT current_setting('perfect_ht_threshold')").fetchall()[0][0])
        con.execute(f"SET perfect_ht_threshold = {max(before, _PERFECT_HASH_BITS)}")
    except Exception:  # pragma: no cover - an engine without the setting: run as is
        before = None
    try:
        yield
    finally:
        if before is not None:
            con.execute(f"SET perfect_ht_threshold = {before}")


def _fast_cells(t, *, customer: str, time: str, by: list, keys: list, grain: str, week_start: str, bucket,
                name: str | None):
    """Counts of active customers per cohort x period in one aggregation per customer (DuckDB only).

    The general path groups the events by (customer, period), joins each customer's first period back and
    groups again. Here each customer is reduced once, to its segments (from its first event) and a bitmask
    of the periods it was active in: bit ``(i - lo) % 64`` of word ``(i - lo) // 64`` for period number
    ``i``, ``lo`` the earliest period in the data (one cheap min/max query first). Its cohort is its lowest
    set bit. A second grouping by cohort (and segments) counts the customers and sums each bit.

    Returns the frame the general path builds (cohort keys, ``period``, ``active``, non-empty cells
    only), or None when the engine is not DuckDB or the data spans more than ``_FAST_MAX_SPAN`` periods.
    """
    try:
        engine = getattr(t._find_backend(use_default=True), "name", "")
    except Exception:  # pragma: no cover - an unbound expression: the general path
        engine = ""
    if engine != "duckdb" or _FAST_MAX_SPAN <= 0:
        return None
    kind = "week_sunday" if grain == "week" and week_start == "sunday" else grain
    first, last = t[time].min(), t[time].max()
    bounds = cxdata.to_pandas(t.aggregate(_lo=_index(bucket(first), grain), _hi=_index(bucket(last), grain),
                                          _lo_b=bucket(first), _hi_b=bucket(last)), name=name)
    lo, hi = bounds["_lo"].iloc[0], bounds["_hi"].iloc[0]
    if pd.isna(lo) or pd.isna(hi) or int(hi) - int(lo) + 1 > _FAST_MAX_SPAN:
        return None  # no rows (the general path says so) or too long a span
    lo, span = int(lo), int(hi) - int(lo) + 1
    # the period starts are computed here from the period numbers: check them on the two ends
    if not (_period_starts([lo, int(hi)], kind) == pd.to_datetime(bounds[["_lo_b", "_hi_b"]].iloc[0])
            .to_numpy().astype("datetime64[us]")).all():  # pragma: no cover - a mapping the engine disagrees with
        return None
    # month, quarter and year numbers come straight from the timestamp (the same as from its period start)
    i = _index(t[time], grain) if grain in ("month", "quarter", "year") else t["_i"]
    d = i - lo
    words = -(-span // 64)
    one, zero = ibis.literal(1).cast("uint64"), ibis.literal(0).cast("uint64")
    if words == 1:
        masks = {"_m0": (one << d.cast("uint64")).bit_or()}
    else:
        bit = one << (d % 64).cast("uint64")
        masks = {f"_m{w}": ibis.ifelse((d >= 64 * w) & (d < 64 * (w + 1)), bit, zero).bit_or()
                 for w in range(words)}
    per = t.group_by(customer).aggregate(**masks, **{f"_seg_{s}": t[s].argmin(t[time]) for s in by})

    def lowest(m):  # the lowest set bit of m (0 when m == 0)
        return m - (m & (m - (m != 0).cast("uint64")))

    m = [per[f"_m{w}"] for w in range(words)]
    if words == 1:
        first_bit = {"_word": ibis.literal(0, "int16"), "_bit": lowest(m[0])}
    else:
        first_bit = {"_word": ibis.cases(*[(m[w] != 0, ibis.literal(w, "int16")) for w in range(words)]),
                     "_bit": ibis.cases(*[(m[w] != 0, lowest(m[w])) for w in range(words)])}
    per = per.mutate(**first_bit)
    sums = {f"_a{j}": ((m[j // 64] >> (j % 64)) & 1).cast("int32").sum() for j in range(span)}
    seg_cols = keys[1:]
    with _perfect_hash(t):
        res = cxdata.to_pandas(per.group_by([*seg_cols, "_word", "_bit"]).aggregate(**sums), name=name)
    # the cohort: period number lo + 64 * word + (position of the lowest set bit)
    _, exp = np.frexp(res["_bit"].to_numpy(dtype="float64"))  # 2**k = 0.5 * 2**(k + 1), exact
    c0 = lo + 64 * res["_word"].to_numpy(dtype="int64") + exp.astype("int64") - 1
    counts = res[[f"_a{j}" for j in range(span)]].to_numpy(dtype="int64")
    period = lo + np.arange(span)[None, :] - c0[:, None]
    row, col = np.nonzero((counts > 0) & (period >= 0))
    cells = pd.DataFrame({"_cohort": _period_starts(c0[row], kind)})
    for c in seg_cols:
        cells[c] = res[c].iloc[row].reset_index(drop=True)
    cells["period"] = period[row, col].astype("int64")
    cells["active"] = counts[row, col]
    return cells[[*keys, "period", "active"]]


def _as_of(value):
    if value is None or isinstance(value, pd.Timestamp):
        return value
    return pd.Timestamp(value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else str(value))


def retention_table(events, *, customer: str = "customer_id", time: str = "event_time", grain: str = "month",
                    definition: str = "return_on", periods: int | None = None, value: str | None = None,
                    by=None, as_of=None, tz: str | None = None, signup: str | None = None,
                    week_start: str = "monday", min_n: int = 30, alpha: float = 0.05,
                    name: str | None = None) -> pd.DataFrame:
    """Cohort x period retention table with n and 95% intervals.

    Parameters
    ----------
    events : DataFrame, path or Ibis table
        One row per customer activity (orders, logins...).
    customer, time : str
        Customer id and event timestamp columns.
    grain : {'hour', 'day', 'week', 'month', 'quarter', 'year'}
        Cohort and period length (weeks start on Monday). Hours are clock hours in the reporting time
        zone (``tz``): on a daylight-saving change the repeated hour holds both of its instants and the
        skipped hour does not exist. With ``'hour'``, ``periods`` defaults to 168 (one week).
    definition : {'return_on', 'on_or_after'}
        Active in period k = has an event in period k (``return_on``), or in period k or later
        (``on_or_after``, "not yet gone"; never increases with k).
    periods : int, optional
        Keep periods 0..periods.
    value : str, optional
        Money column: adds ``revenue`` (sum in the cell) and ``revenue_retention`` (revenue / the
        cohort's period-0 revenue).
    by : str or list of str, optional
        Segment columns, taken from each customer's first event.
    as_of : date-like, optional
        The analysis date (default :func:`cxlib.data.default_as_of`: the report date, never the latest
        event). Events after it are ignored. The table observes up to the earlier of ``as_of`` and its
        last event on or before it (``.attrs['data_end']``): periods starting after that are not rows,
        and cells whose period has not ended by then are ``mature=False``.
    tz : str, optional
        Reporting time zone for period boundaries (default UTC): timestamps are converted before
        bucketing, so an event at 23:30 UTC on 31 January is in February in Berlin.
    signup : str, optional
        Column with each customer's acquisition time (e.g. joined from a signup table): cohorts by
        signup instead of first event; events before signup are ignored.
    week_start : {'monday', 'sunday'}
        First day of a week for ``grain='week'``.
    min_n : int
        Cohorts smaller than this are ``suppressed`` (kept, without rates).

    Returns
    -------
    pandas.DataFrame
        One row per (segment x) cohort x period: ``cohort`` (period start), ``period`` (0, 1, 2...),
        ``period_start``, ``cohort_size``, ``active``, ``retention``, ``ci_lower``, ``ci_upper``
        (Wilson), ``mature``, ``suppressed``, plus ``revenue`` and ``revenue_retention`` with ``value=``.

    Examples
    --------
    >>> rt = retention_table("data/sample/events.csv", grain="month")  # doctest: +SKIP
    >>> rt.query("period == 1 and mature")["retention"].mean()  # doctest: +SKIP
    0.56
    """
    if grain not in GRAINS:
        raise cxdata.CXDataError(f"grain must be one of {', '.join(GRAINS)}, not {grain!r}.")
    if definition not in DEFINITIONS:
        raise cxdata.CXDataError(f"definition must be one of {', '.join(DEFINITIONS)}, not {definition!r}.")
    t = cxdata.as_table(events, name=name)
    seg_notes: list = []  # segments named as the export shows them; trimmed, case variants merged (a note each)
    t, by = segments.prepare(t, by, name=name, notes=seg_notes, need=[customer, time] + ([value] if value else []))
    t = cxdata.clean_timestamp(t, time, tz=tz, name=name)
    if value:
        t = cxdata.clean_numeric(t, value, lo=0, name=name)
    n_rows = cxdata.check_not_empty(t, name=name)
    as_of = cxdata.default_as_of(as_of, events)
    late = cxdata.after_as_of(t, [time], as_of, name=name)
    t = t.filter(t[time] <= as_of.to_pydatetime())
    # the table observes up to its last event (rows after as_of left out), not up to as_of
    data_end = cxdata.last_record(t, [time], as_of, name=name)
    obs_end = cxdata.observed_end(as_of, data_end)
    t = t.filter(t[customer].notnull())
    if week_start not in ("monday", "sunday"):
        raise cxdata.CXDataError(f"week_start must be 'monday' or 'sunday', not {week_start!r}.")
    if grain == "hour" and periods is None:
        periods = HOUR_PERIODS

    def bucket(col):
        if grain == "hour":
            return col.truncate("h")
        if grain == "week" and week_start == "sunday":  # shift so Sunday truncates like a Monday
            return (col + ibis.interval(days=1)).truncate("W") - ibis.interval(days=1)
        return cxdata.period_start(col, grain)

    t = t.mutate(_b=bucket(t[time]))
    t = t.mutate(_i=_index(t["_b"], grain))
    seg_cols = [f"_seg_{s}" for s in by]
    keys = ["_cohort", *seg_cols]
    cells = None  # counts per cohort x period: from one pass per customer where it applies
    if not signup and not value and definition == "return_on" and n_rows >= _FAST_MIN_ROWS:
        cells = _fast_cells(t, customer=customer, time=time, by=by, keys=keys, grain=grain,
                            week_start=week_start, bucket=bucket, name=name)
    if cells is None:  # the general path: (customer, period) pairs joined to each customer's cohort
        if signup:
            cxdata.require_columns(t, [signup], name=name)
            t = cxdata.clean_timestamp(t, signup, tz=tz, name=name)
            t = t.mutate(_sb=bucket(t[signup]))
            t = t.mutate(_si=_index(t["_sb"], grain))
            first = t.group_by(customer).aggregate(
                _cohort=t["_sb"].min(), _c0=t["_si"].min(), **{f"_seg_{s}": t[s].argmin(t[time]) for s in by})
        else:
            first = t.group_by(customer).aggregate(
                _cohort=t["_b"].min(), _c0=t["_i"].min(), **{f"_seg_{s}": t[s].argmin(t[time]) for s in by})
        per = t.group_by([customer, "_i"]).aggregate(**({"_rev": t[value].sum()} if value else {}))
        j = per.join(first, customer)
        j = j.mutate(period=(j["_i"] - j["_c0"]).cast("int64"))
        j = j.filter(j["period"] >= 0)  # activity before a signup date does not count
        if definition == "return_on":
            aggs = {"active": j.count()}  # one row per customer and period already
            if value:
                aggs["revenue"] = j["_rev"].sum()
            cells = cxdata.to_pandas(j.group_by([*keys, "period"]).aggregate(**aggs), name=name)
        else:
            last = j.group_by([customer, *keys]).aggregate(_last=j["period"].max())
            lasts = cxdata.to_pandas(last.group_by([*keys, "_last"]).aggregate(n=last.count()), name=name)
            cells = None
            if value:
                rev = cxdata.to_pandas(j.group_by([*keys, "period"]).aggregate(revenue=j["_rev"].sum()),
                                       name=name)

    # without signup=, every customer is active in period 0 (their first event defines the cohort), so
    # the sizes come from the counts; with signup= they need their own count
    if signup:
        sizes = cxdata.to_pandas(first.group_by(keys).aggregate(cohort_size=first.count()), name=name)
    elif definition == "return_on":
        sizes = cells[cells["period"] == 0][keys + ["active"]].rename(columns={"active": "cohort_size"})
    else:
        sizes = lasts.groupby(keys, dropna=False, as_index=False)["n"].sum().rename(columns={"n": "cohort_size"})
    sizes = sizes.reset_index(drop=True)
    sizes["_cohort"] = pd.to_datetime(sizes["_cohort"])
    # the full grid: every cohort, periods 0.. up to the one containing the observed end
    out = _grid(sizes, keys, grain, obs_end, periods)
    if out.empty:
        raise cxdata.CXDataError(f"{cxdata.source_name(t, name)}: no events on or before {as_of:%Y-%m-%d}.")
    if definition == "return_on":
        cells["_cohort"] = pd.to_datetime(cells["_cohort"])
        out = out.merge(cells, on=[*keys, "period"], how="left")
    else:
        lasts["_cohort"] = pd.to_datetime(lasts["_cohort"])
        # a customer whose last active period is L counts as active in periods 0..L
        reps = lasts["_last"].to_numpy().astype(int) + 1
        expanded = lasts.loc[lasts.index.repeat(reps), keys].reset_index(drop=True)
        expanded["period"] = np.concatenate([np.arange(r) for r in reps]) if len(reps) else []
        expanded["active"] = np.repeat(lasts["n"].to_numpy(), reps)
        act = expanded.groupby([*keys, "period"], dropna=False, as_index=False)["active"].sum()
        out = out.merge(act, on=[*keys, "period"], how="left")
        if value:
            rev["_cohort"] = pd.to_datetime(rev["_cohort"])
            out = out.merge(rev, on=[*keys, "period"], how="left")
    out["active"] = out["active"].fillna(0).astype("int64")
    out["retention"] = out["active"] / out["cohort_size"]
    out["ci_lower"], out["ci_upper"] = wilson(out["active"], out["cohort_size"], alpha)
    period_end = _offset(out["period_start"], 1, grain)
    out["mature"] = (period_end <= obs_end).to_numpy()
    if value:
        out["revenue"] = out["revenue"].fillna(0.0)
        base = out.loc[out["period"] == 0].set_index(keys)["revenue"]
        b = out.set_index(keys).index.map(base)
        out["revenue_retention"] = np.where(np.asarray(b, dtype=float) > 0,
                                            out["revenue"] / np.asarray(b, dtype=float), np.nan)
    out["suppressed"] = out["cohort_size"] < min_n
    rates = ["retention", "ci_lower", "ci_upper"] + (["revenue_retention"] if value else [])
    out.loc[out["suppressed"], rates] = np.nan
    out = out.rename(columns={"_cohort": "cohort", **{f"_seg_{s}": s for s in by}})
    cols = [*by, "cohort", "period", "period_start", "cohort_size", "active", "retention", "ci_lower",
            "ci_upper", "mature", "suppressed"] + (["revenue", "revenue_retention"] if value else [])
    out = out[cols].sort_values([*by, "cohort", "period"], kind="mergesort").reset_index(drop=True)
    early = cxdata.ends_early(t, data_end, as_of, grain, name=name)
    # open cells are "in progress" when the data reach the analysis date's period, else the data end early
    in_progress = data_end is None or as_of is None or period_holds(period_start_of(data_end, grain), grain, as_of)
    out.attrs.update(grain=grain, definition=definition, as_of=as_of, data_end=data_end, min_n=min_n,
                     open_in_progress=in_progress, notes=[n for n in (late, early) if n] + seg_notes)
    return out


def retention_curve(table: pd.DataFrame, *, by=None, alpha: float = 0.05, mature_only: bool = True,
                    min_n: int = 30) -> pd.DataFrame:
    """Pool a :func:`retention_table` over cohorts: retention by period since acquisition.

    Only mature cells are pooled (by default), so every cohort contributes the periods it has completed.
    Returns one row per (segment x) period: ``period``, ``cohorts``, ``customers`` (n), ``active``,
    ``retention``, ``ci_lower``, ``ci_upper`` (Wilson on the pooled counts), ``suppressed``.
    """
    by = cxdata.as_list(by)
    cells = table[table["mature"]] if mature_only else table
    g = cells.groupby([*by, "period"], dropna=False)
    out = g.agg(cohorts=("cohort", "nunique"), customers=("cohort_size", "sum"), active=("active", "sum"))
    out = out.reset_index()
    out["retention"] = out["active"] / out["customers"]
    out["ci_lower"], out["ci_upper"] = wilson(out["active"], out["customers"], alpha)
    out["suppressed"] = out["customers"] < min_n
    out.loc[out["suppressed"], ["retention", "ci_lower", "ci_upper"]] = np.nan
    return out


def repeat_business(events, *, customer: str = "customer_id", time: str = "event_time", value: str = "revenue",
                    event: str | None = "event_name", purchase: str = "purchase", period: str = "month", by=None,
                    as_of=None, alpha: float = 0.05, min_n: int = 30, name: str | None = None) -> pd.DataFrame:
    """Repeat business per period: how many buyers had bought before, and the revenue from repeat purchases.

    A purchase is a row whose ``event`` equals ``purchase`` (or, with ``event=None``, any row with
    ``value`` > 0). A purchase is a *repeat* when the customer bought before it. Per (segment x) period:
    ``buyers``, ``repeat_buyers`` (buyers with at least one repeat purchase in the period),
    ``repeat_rate`` with a Wilson 95% interval, ``revenue``, ``repeat_revenue``, ``repeat_revenue_share``,
    ``complete`` (the period ended by ``as_of`` and by the table's last event), ``suppressed``.

    ``as_of`` (default :func:`cxlib.data.default_as_of`): events after it are left out (one note). Only
    periods with purchases are rows, so none starts after the last record; ``.attrs['data_end']`` is the
    table's last event (of any kind) on or before ``as_of``.
    """
    t = cxdata.as_table(events, name=name)
    seg_notes: list = []
    t, by = segments.prepare(t, by, name=name, notes=seg_notes, need=[customer, time, value] + ([event] if event else []))
    t = cxdata.clean_timestamp(t, time, name=name)
    t = cxdata.clean_numeric(t, value, lo=0, name=name)
    as_of = cxdata.default_as_of(as_of, events)
    late = cxdata.after_as_of(t, [time], as_of, name=name)
    t = t.filter(t[time] <= as_of.to_pydatetime())
    last = cxdata.last_record(t, [time], as_of, name=name)  # any event: the table observes up to it
    obs_end = cxdata.observed_end(as_of, last)
    t = t.filter(t[event] == purchase) if event else t.filter(t[value] > 0)
    w = ibis.window(group_by=t[customer], order_by=[t[time]])
    t = t.mutate(_rank=ibis.row_number().over(w), period=cxdata.period_start(t[time], period).cast("date"))
    t = t.mutate(_repeat=t["_rank"] > 0)  # row_number is 0-based in Ibis: > 0 means a purchase before
    keys = [*by, "period"]
    agg = t.group_by(keys).aggregate(
        buyers=t[customer].nunique(),
        repeat_buyers=t["_repeat"].ifelse(t[customer], ibis.null()).nunique(),
        revenue=t[value].sum(),
        repeat_revenue=t["_repeat"].ifelse(t[value], 0.0).sum())
    out = cxdata.to_pandas(agg, name=name)
    out["period"] = pd.to_datetime(out["period"])
    out["repeat_rate"] = out["repeat_buyers"] / out["buyers"]
    out["ci_lower"], out["ci_upper"] = wilson(out["repeat_buyers"], out["buyers"], alpha)
    out["repeat_revenue_share"] = out["repeat_revenue"] / out["revenue"].where(out["revenue"] > 0)
    out["suppressed"] = out["buyers"] < min_n
    out.loc[out["suppressed"], ["repeat_rate", "ci_lower", "ci_upper", "repeat_revenue_share"]] = np.nan
    out["complete"] = (_offset(out["period"], 1, period) <= obs_end).to_numpy() if len(out) else []
    out = out.sort_values(keys).reset_index(drop=True)
    early = cxdata.ends_early(t, last, as_of, period, name=name)
    out.attrs.update(period=period, as_of=as_of, data_end=last, notes=[n for n in (late, early) if n] + seg_notes)
    return out


def ltv_to_date(table: pd.DataFrame) -> pd.DataFrame:
    """Cumulative revenue per customer of each cohort by period (LTV to date), from a
    :func:`retention_table` made with ``value=``. Only mature periods are summed."""
    if "revenue" not in table:
        raise cxdata.CXDataError("ltv_to_date needs a retention_table made with value= (e.g. value='revenue').")
    keys = [c for c in table.columns if c not in {"cohort", "period", "period_start", "cohort_size", "active",
                                                 "retention", "ci_lower", "ci_upper", "mature", "suppressed",
                                                 "revenue", "revenue_retention"}]
    t = table[table["mature"]].sort_values([*keys, "cohort", "period"]).copy()
    t["cumulative_revenue"] = t.groupby([*keys, "cohort"])["revenue"].cumsum()
    t["ltv_to_date"] = t["cumulative_revenue"] / t["cohort_size"]
    out = t[[*keys, "cohort", "period", "cohort_size", "cumulative_revenue", "ltv_to_date"]].reset_index(drop=True)
    # the table's analysis date, last record and notes travel with it (mature already used the earlier)
    out.attrs.update({k: table.attrs[k] for k in ("grain", "as_of", "data_end", "notes") if k in table.attrs})
    return out


def revenue_curve(table: pd.DataFrame) -> pd.DataFrame:
    """Revenue of the cohorts in period k over their first-period revenue, pooled over mature cohorts
    (a ratio of sums, not a mean of per-cohort ratios), from a :func:`retention_table` with ``value=``.

    Columns: ``period``, ``cohorts``, ``customers``, ``revenue``, ``first_revenue``, ``revenue_retention``.
    """
    t = table[table["mature"] & ~table["suppressed"]]
    base = t[t["period"] == 0].set_index("cohort")["revenue"]
    t = t.assign(first_revenue=t["cohort"].map(base))
    t = t[t["first_revenue"] > 0]
    out = t.groupby("period").agg(cohorts=("cohort", "nunique"), customers=("cohort_size", "sum"),
                                  revenue=("revenue", "sum"), first_revenue=("first_revenue", "sum")).reset_index()
    out["revenue_retention"] = out["revenue"] / out["first_revenue"]
    return out


def ltv_at_age(ltv: pd.DataFrame, *, min_n: int = 30, ages=(12, 6, 3, 1)) -> dict | None:
    """Revenue per customer at the oldest of ``ages`` that at least one cohort of ``min_n`` or more
    customers has completed, pooled over those cohorts (total revenue to date / their customers), from
    :func:`ltv_to_date`.

    Returns ``{"period", "cohorts", "ltv"}``, or None when no such cohort has reached any of ``ages``.

    Examples
    --------
    >>> t = pd.DataFrame({"cohort": ["a", "b", "a"], "period": [1, 1, 3], "cohort_size": [40, 60, 40],
    ...                   "cumulative_revenue": [400.0, 300.0, 800.0]})
    >>> ltv_at_age(t)
    {'period': 3, 'cohorts': 1, 'ltv': 20.0}
    """
    big = ltv[(ltv["cohort_size"] >= min_n) & ltv["period"].isin(list(ages))]
    if big.empty:
        return None
    k = big["period"].max()
    at = big[big["period"] == k]
    return {"period": int(k), "cohorts": len(at), "ltv": float(at["cumulative_revenue"].sum() / at["cohort_size"].sum())}
