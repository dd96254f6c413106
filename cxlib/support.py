"""Support responsiveness from the tickets table: response and resolution times, targets, repeats, reopens.

The engine computes each ticket's durations and reduces them to counts per (segment, duration in whole
minutes); quantiles and their intervals are computed on those counts. Quantile intervals are
distribution-free (binomial order statistics): the 95% interval of the median runs between the order
statistics whose ranks bracket n/2 ± 1.96 sqrt(n)/2, and likewise for the 90th percentile. Rates
(target attainment, repeat contact, reopen) are proportions with Wilson 95% intervals.

Examples
--------
>>> from cxlib import support
>>> support.response_times("data/sample/tickets.csv", by="channel")  # doctest: +SKIP
"""
from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
from scipy import stats

from cxlib import data as cxdata
from cxlib import segments
from cxlib import metrics
from cxlib.empty import nothing_before, raise_nothing_before
from cxlib.stats import wilson

__all__ = ["durations", "response_times", "response_time_histogram", "target_attainment", "repeat_contact_rate",
           "reopen_rate", "MEASURES"]

#: measure name -> (start role, end role)
MEASURES = {"first_response": ("created", "first_response"), "resolution": ("created", "resolved")}


def _add_period(t, column: str, period: str, *, tz=None, week_start="monday", name=None, out: str = "period"):
    """``t`` with ``out`` = first day (a date) of the ``period`` holding ``column``, cut in the reporting
    time zone (``tz``, else the source spec's ``tz:``, else UTC) with weeks starting on ``week_start``.

    ``column`` itself stays in UTC (durations are exact elapsed time across a DST change)."""
    ws = metrics._check_week_start(week_start)
    zone = metrics._reporting_tz(t, tz)
    t = t.mutate(_cx_local=t[column])
    if zone:
        t = cxdata.clean_timestamp(t, "_cx_local", tz=zone, required=False, name=name)
    t = t.mutate(**{out: metrics.period_start(t["_cx_local"], period, week_start=ws).cast("date")})
    return t.drop("_cx_local")


def _open(tickets, columns: dict, by, name):
    t = cxdata.as_table(tickets, name=name)
    notes: list = []  # segments named as the export shows them; trimmed, case variants merged (a note each)
    t, by = segments.prepare(t, by, name=name, notes=notes, need=[columns["created"]])
    t = cxdata.clean_timestamp(t, columns["created"], name=name)
    for role in ("first_response", "resolved"):
        col = columns.get(role)
        if col and col in t.columns:
            t = cxdata.clean_timestamp(t, col, required=False, name=name)
            cxdata.check_order(t, columns["created"], col, name=name)
    if "ticket_id" in t.columns:
        cxdata.check_unique(t, "ticket_id", name=name)
    return t, by, notes


def durations(tickets, *, measure: str = "first_response", created: str = "created_at",
              first_response: str = "first_response_at", resolved: str = "resolved_at", by=None,
              time: bool = False, period: str | None = None, tz: str | None = None, week_start: str = "monday",
              name: str | None = None, as_of=None) -> pd.DataFrame:
    """Counts of tickets per (segment[, period], duration in whole seconds) for one measure.

    Tickets still waiting (no first response / not resolved) are left out of the durations. With
    ``period`` ('day', 'week', 'month', ...) a ticket's period is that of its creation in the reporting
    time zone ``tz`` (default: the source spec's ``tz:``, else UTC), weeks starting on ``week_start``
    (default Monday); durations are exact elapsed seconds whatever the zone.

    Tickets opened after ``as_of`` (default :func:`cxlib.data.default_as_of`) are left out; a first
    response (resolution) after it had not happened yet on that date, so its ticket counts as still
    waiting. Both are counted in one note (``attrs['notes']``; ``attrs['as_of']``).

    Examples
    --------
    >>> from cxlib import support
    >>> support.durations("data/sample/tickets.csv", by="channel", period="week",
    ...                   tz="America/New_York", week_start="sunday")  # doctest: +SKIP
    """
    if measure not in MEASURES:
        raise cxdata.CXDataError(f"measure must be one of {', '.join(MEASURES)}, not {measure!r}.")
    cols = {"created": created, "first_response": first_response, "resolved": resolved}
    t, by, seg_notes = _open(tickets, cols, by, name)
    end_col = cols[MEASURES[measure][1]]
    cxdata.require_columns(t, [end_col], name=name)
    as_of = cxdata.default_as_of(as_of, tickets)
    late = cxdata.after_as_of(t, [created, end_col], as_of, name=name)
    read = t  # before the cut: an empty result says whether the table has no rows or only later ones
    t = t.filter(t[end_col].notnull())
    if late:  # opened later: left out; answered later: still waiting on the analysis date
        cut = as_of.to_pydatetime()
        t = t.filter((t[created] <= cut) & (t[end_col] <= cut))
    t = t.mutate(seconds=(t[end_col].epoch_seconds() - t[created].epoch_seconds()).cast("int64"))
    keys = list(by)
    if period:
        t = _add_period(t, created, period, tz=tz, week_start=week_start, name=name)
        keys.append("period")
    else:
        metrics._check_week_start(week_start)
    out = cxdata.to_pandas(t.group_by([*keys, "seconds"]).aggregate(n=t.count()), name=name)
    if (out["seconds"] < 0).any():
        raise cxdata.CXDataError(f"{cxdata.source_name(t, name)}: column '{end_col}' is before '{created}' "
                                 "in some rows (run `cx validate --kind tickets` for examples).")
    if "period" in out:
        out["period"] = pd.to_datetime(out["period"])
    out = out.sort_values([*keys, "seconds"]).reset_index(drop=True)
    notes = ([late] if late else []) + seg_notes
    if out.empty:  # no rows at all (an error), or every ticket after as_of (a note: an empty week is a finding)
        nothing_before(read, created, as_of, name=name, what="tickets", notes=notes)
    out.attrs.update(as_of=as_of, notes=notes, by=by)
    return out


def _dated(out: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    """``out`` with the analysis date and notes of the :func:`durations` it was computed from."""
    out.attrs.update(as_of=counts.attrs.get("as_of"), notes=list(counts.attrs.get("notes", [])))
    return out


def _quantile_ci(values: np.ndarray, weights: np.ndarray, q: float, alpha: float):
    """Quantile of weighted integer data and its distribution-free (order-statistic) interval."""
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cum = np.cumsum(w)
    n = int(cum[-1]) if len(cum) else 0
    if n == 0:  # no answered ticket: no quantile
        return np.nan, np.nan, np.nan

    def at_rank(r):  # r-th smallest (1-based)
        r = min(max(int(r), 1), n)
        return float(v[np.searchsorted(cum, r)])
    est = at_rank(np.ceil(q * n))
    lo_r = stats.binom.ppf(alpha / 2, n, q)
    hi_r = stats.binom.ppf(1 - alpha / 2, n, q) + 1
    return est, at_rank(lo_r) if lo_r >= 1 else np.nan, at_rank(hi_r) if hi_r <= n else np.nan


def response_times(tickets, *, measure: str = "first_response", by="channel", period: str | None = None,
                   quantiles=(0.5, 0.9), unit: str = "hour", alpha: float = 0.05, min_n: int = 30,
                   tz: str | None = None, week_start: str = "monday", as_of=None, **columns) -> pd.DataFrame:
    """Median and 90th percentile of first-response (or resolution) time, with 95% intervals.

    Returns one row per (segment[, period]): ``measure``, ``n``, and per quantile ``p50``,
    ``p50_ci_lower``, ``p50_ci_upper``, ``p90``, ... in ``unit`` ('minute' | 'hour' | 'day');
    ``suppressed`` when n < ``min_n``. Periods are cut in ``tz`` with weeks from ``week_start``; tickets
    after ``as_of`` are left out (see :func:`durations`).
    """
    scale = {"minute": 60.0, "hour": 3600.0, "day": 86400.0}[unit]
    counts = durations(tickets, measure=measure, by=by, period=period, tz=tz, week_start=week_start, as_of=as_of,
                       **columns)
    keys = [*counts.attrs.get("by", cxdata.as_list(by)), *(["period"] if period else [])]
    if not keys:  # one summary of the whole table: nothing on or before as_of is an error, not a row
        raise_nothing_before(counts.attrs.get("notes"))
    tags = [f"p{int(round(q * 100))}" for q in quantiles]
    rows = []
    groups = counts.groupby(keys, dropna=False) if keys else [((), counts)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        row = {**dict(zip(keys, key)), "measure": measure, "unit": unit, "n": int(g["n"].sum())}
        for q in quantiles:
            est, lo, hi = _quantile_ci(g["seconds"].to_numpy(float), g["n"].to_numpy(), q, alpha)
            tag = f"p{int(round(q * 100))}"
            row.update({tag: est / scale, f"{tag}_ci_lower": lo / scale, f"{tag}_ci_upper": hi / scale})
        rows.append(row)
    # no tickets (every one after as_of: a note): no rows, the usual columns
    out = pd.DataFrame(rows, columns=[*keys, "measure", "unit", "n",
                                      *[f"{t}{s}" for t in tags for s in ("", "_ci_lower", "_ci_upper")]])
    out["suppressed"] = out["n"] < min_n
    value_cols = [c for c in out.columns if c.startswith("p") and c[1:2].isdigit()]
    out.loc[out["suppressed"], value_cols] = np.nan
    return _dated(out, counts)


def response_time_histogram(counts: pd.DataFrame, *, by=None, bins: int = 40) -> pd.DataFrame:
    """Share of each group's tickets per log-spaced duration bin, and the group's median, in hours.

    ``counts`` is a :func:`durations` table (tickets per segment and duration in whole seconds). Durations
    under one second count as one second (a log scale has no zero). The ``bins`` bins are spaced evenly
    on a log scale from the shortest to just past the longest duration of the whole table, the same bins
    for every group so their shapes compare. The median is the weighted lower median (the shortest
    duration that half the group's tickets do not exceed).

    Parameters
    ----------
    counts : pandas.DataFrame
        ``seconds`` and ``n`` per segment, from :func:`durations`.
    by : str or list of str, optional
        The segment columns; default ``counts.attrs['by']`` (the segments :func:`durations` was cut by).
    bins : int
        Number of bins.

    Returns
    -------
    pandas.DataFrame
        One row per (segment, bin): the segment columns, ``lower`` and ``upper`` (bin edges), ``n``
        (tickets in the bin), ``share`` (of the group's tickets), ``median`` and ``tickets`` (the group's
        median and number of tickets, repeated on its rows) and ``unit`` ('hour'). No rows for an empty
        ``counts``.

    Examples
    --------
    >>> import pandas as pd
    >>> from cxlib import support
    >>> counts = pd.DataFrame({"channel": ["chat", "chat", "email"], "seconds": [60, 600, 7200], "n": [3, 1, 2]})
    >>> h = support.response_time_histogram(counts, by="channel", bins=4)
    >>> h.groupby("channel")["median"].first().round(4).tolist()
    [0.0167, 2.0]
    """
    keys = cxdata.as_list(by) if by is not None else list(counts.attrs.get("by") or [])
    columns = [*keys, "lower", "upper", "n", "share", "median", "tickets", "unit"]
    hours = np.maximum(counts["seconds"].to_numpy(float), 1) / 3600
    if not len(hours):
        return _dated(pd.DataFrame(columns=columns), counts)
    edges = np.logspace(np.log10(hours.min()), np.log10(hours.max() * 1.001), bins + 1)
    d = counts.assign(_hours=hours)
    frames = []
    groups = d.groupby(keys, sort=True, dropna=False) if keys else [((), d)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        n, _ = np.histogram(g["_hours"], bins=edges, weights=g["n"])
        total = int(g["n"].sum())
        ordered = g.sort_values("_hours")
        cum = ordered["n"].cumsum().to_numpy() / max(total, 1)
        median = float(ordered["_hours"].to_numpy()[np.searchsorted(cum, 0.5)]) if total else np.nan
        frames.append(pd.DataFrame({**dict(zip(keys, key)), "lower": edges[:-1], "upper": edges[1:], "n": n,
                                    "share": n / max(n.sum(), 1), "median": median, "tickets": total,
                                    "unit": "hour"}))
    return _dated(pd.concat(frames, ignore_index=True)[columns], counts)


def target_attainment(tickets, *, targets: dict, measure: str = "first_response", by: str = "channel",
                      period: str | None = None, unit: str = "hour", alpha: float = 0.05,
                      tz: str | None = None, week_start: str = "monday", as_of=None, **columns) -> pd.DataFrame:
    """Share of answered tickets that met the target of their channel (e.g. ``{'email': 24, 'chat': 0.1}``
    hours), Wilson 95% interval. Channels without a target are left out. Periods are cut in ``tz`` with
    weeks from ``week_start``; tickets after ``as_of`` are left out (see :func:`durations`)."""
    scale = {"minute": 60.0, "hour": 3600.0, "day": 86400.0}[unit]
    counts = durations(tickets, measure=measure, by=by, period=period, tz=tz, week_start=week_start, as_of=as_of,
                       **columns)
    counts = counts[counts[by].astype(str).isin([str(k) for k in targets])]
    counts = counts.assign(target=counts[by].astype(str).map({str(k): float(v) for k, v in targets.items()}))
    counts["met"] = np.where(counts["seconds"] <= counts["target"].astype(float) * scale, counts["n"], 0)
    keys = [by, *(["period"] if period else [])]
    out = counts.groupby(keys).agg(target=("target", "first"), n=("n", "sum"), met=("met", "sum")).reset_index()
    out["attainment"] = out["met"] / out["n"].where(out["n"] > 0)
    out["ci_lower"], out["ci_upper"] = wilson(out["met"], out["n"], alpha)
    out.insert(len(keys), "measure", measure)
    out["unit"] = unit
    return _dated(out, counts)


def repeat_contact_rate(tickets, *, within_days: float = 7, customer: str = "customer_id",
                        created: str = "created_at", by="channel", period: str | None = None,
                        as_of=None, tz: str | None = None, week_start: str = "monday", alpha: float = 0.05,
                        name: str | None = None) -> pd.DataFrame:
    """Share of tickets followed by another ticket from the same customer within ``within_days``.

    Tickets opened after ``as_of`` are left out (counted in ``attrs['notes']``) and never count as the
    repeat of an earlier one. Tickets opened less than ``within_days`` before the end of the data (the
    earlier of ``as_of`` and the last ticket on or before it) cannot be judged yet and are left out.
    Wilson 95% intervals.

    Parameters
    ----------
    as_of : date-like, optional
        The analysis date; default :func:`cxlib.data.default_as_of` (the report date, or the demo data's
        snapshot).
    period, tz, week_start
        Optional periods of ticket creation, cut in the reporting time zone ``tz`` with weeks starting
        on ``week_start`` (as in :func:`durations`).

    Examples
    --------
    >>> from cxlib import support
    >>> support.repeat_contact_rate("data/sample/tickets.csv", as_of="2026-10-31")  # doctest: +SKIP
    """
    t = cxdata.as_table(tickets, name=name)
    seg_notes: list = []
    t, by = segments.prepare(t, by, name=name, notes=seg_notes, need=[customer, created])
    t = cxdata.clean_timestamp(t, created, name=name)
    cut = cxdata.default_as_of(as_of, tickets)
    late = cxdata.after_as_of(t, [created], cut, name=name)
    read = t  # before the cut: an empty result says whether the table has no rows or only later ones
    t = t.filter(t[created] <= cut.to_pydatetime())
    w = ibis.window(group_by=t[customer], order_by=t[created])
    t = t.mutate(_next=t[created].lead().over(w))
    gap = t["_next"].epoch_seconds() - t[created].epoch_seconds()
    newest = cxdata.to_pandas(t[created].max(), name=name)
    last = min(pd.Timestamp(newest), cut) if pd.notna(newest) else cut
    horizon = last - pd.Timedelta(days=within_days)
    t = t.filter(t[created] <= horizon.to_pydatetime())
    t = t.mutate(_repeat=(t["_next"].notnull() & (gap <= within_days * 86400)).cast("int64"))
    keys = list(by)
    if period:
        t = _add_period(t, created, period, tz=tz, week_start=week_start, name=name)
        keys.append("period")
    else:
        metrics._check_week_start(week_start)
    aggs = {"n": t.count(), "repeats": t["_repeat"].sum()}
    out = cxdata.to_pandas(t.group_by(keys).aggregate(**aggs) if keys else t.aggregate(**aggs), name=name)
    notes = ([late] if late else []) + seg_notes
    if out.empty or not (out["n"] > 0).any():  # no rows (an error), or all after as_of (a whole table: an error)
        nothing_before(read, created, cut, name=name, what="tickets", notes=notes if keys else None)
    out["repeats"] = out["repeats"].astype("float64").fillna(0)  # the sum over no tickets is 0
    out["repeat_rate"] = out["repeats"] / out["n"].where(out["n"] > 0)
    out["ci_lower"], out["ci_upper"] = wilson(out["repeats"], out["n"], alpha)
    if "period" in out:
        out["period"] = pd.to_datetime(out["period"])
    out.attrs.update(within_days=within_days, as_of=cut, notes=notes)
    return out.sort_values(keys).reset_index(drop=True) if keys else out


def reopen_rate(tickets, *, reopened: str = "reopened", resolved: str = "resolved_at", by="channel",
                alpha: float = 0.05, name: str | None = None, as_of=None,
                created: str = "created_at") -> pd.DataFrame:
    """Share of resolved tickets that were reopened, Wilson 95% interval.

    Tickets opened (``created``, when the table has it) or resolved after ``as_of`` (default
    :func:`cxlib.data.default_as_of`) are left out, a later resolution being none yet on that date;
    counted in one note (``attrs['notes']``; ``attrs['as_of']``)."""
    t = cxdata.as_table(tickets, name=name)
    seg_notes: list = []
    t, by = segments.prepare(t, by, name=name, notes=seg_notes, need=[reopened, resolved])
    t = cxdata.clean_binary(t, reopened, name=name)
    dated = [c for c in dict.fromkeys((created, resolved)) if c in t.columns]
    for c in dated:
        t = cxdata.clean_timestamp(t, c, required=False, name=name)
    as_of = cxdata.default_as_of(as_of, tickets)
    late = cxdata.after_as_of(t, dated, as_of, name=name)
    read = t  # before the cut: an empty result says whether the table has no rows or only later ones
    t = t.filter(t[resolved].notnull())
    if late:
        cut = as_of.to_pydatetime()
        t = t.filter([t[c].isnull() | (t[c] <= cut) for c in dated])
    aggs = {"n": t.count(), "reopened": t[reopened].cast("int64").sum()}
    out = cxdata.to_pandas(t.group_by(by).aggregate(**aggs) if by else t.aggregate(**aggs), name=name)
    notes = ([late] if late else []) + seg_notes
    if out.empty or not (out["n"] > 0).any():  # no rows (an error), or all after as_of (a whole table: an error)
        nothing_before(read, dated[0] if dated else None, as_of, name=name, what="tickets",
                               notes=notes if by else None)
    out["reopened"] = out["reopened"].astype("float64").fillna(0)  # the sum over no tickets is 0
    out["reopen_rate"] = out["reopened"] / out["n"].where(out["n"] > 0)
    out["ci_lower"], out["ci_upper"] = wilson(out["reopened"], out["n"], alpha)
    out = out.sort_values(by).reset_index(drop=True) if by else out
    out.attrs.update(as_of=as_of, notes=notes)
    return out
