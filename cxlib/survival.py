"""Customer lifetimes: Kaplan-Meier survival, median lifetime and the log-rank test.

Lifetimes are right-censored: a customer still active has lived *at least* until the end of observation,
the earlier of ``as_of`` and the table's last record (its latest start or end on or before ``as_of``): a
table that ends in 1998 says nothing about who was still subscribed in 2026.
The engine reduces the rows to counts per (segment, lifetime, churned) -- lifetimes are rounded to whole
days first, so the result size is bounded by the number of distinct days, not customers -- and the
statistics run on those counts with statsmodels:

- Kaplan-Meier product-limit estimate (``SurvfuncRight`` with frequency weights), Greenwood standard
  errors, pointwise 95% intervals on the log(-log) scale (they stay inside 0..1);
- the median lifetime with its Brookmeyer-Crowley interval on the log(-log) scale (times whose
  survival is not significantly different from 50%); "not reached" when survival stays above 50%;
- the log-rank test across segments (``survdiff``).

A repeated call on an unchanged file (read once per session) reuses its checks and compiled counts query:
only that one query runs again. DataFrames and other sources are checked on every call.

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
from cxlib import segments
from cxlib.cohorts import _as_of
from cxlib.notes import note

__all__ = ["lifetimes", "kaplan_meier", "median_survival", "logrank", "UNITS"]

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
    ``end`` timestamps (end blank, or after ``as_of`` = still active; censored at the earlier of ``as_of``
    and the table's last record, ``.attrs['data_end']``: the latest start or end on or before ``as_of``).
    ``.attrs['as_of']`` is the analysis date (None with ``duration=``).
    """
    by = cxdata.as_list(by)
    t = cxdata.as_table(data, name=name)
    if unit not in UNITS:
        raise cxdata.CXDataError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}.")
    if duration is None and start is not None:
        try:  # the analysis date is part of what is memoised (it may be today's date)
            as_of = cxdata.default_as_of(as_of, data)
            memo = True
        except cxdata.CXDataError:
            memo = False  # raised below, after the column checks, as always
    else:
        memo, as_of = True, None  # as_of plays no part with duration=
    key = ("survival.lifetimes", duration, event, start, end, as_of, unit, tuple(by), customer, name)
    build = lambda: _lifetimes_plan(t, data, duration=duration, event=event, start=start, end=end,  # noqa: E731
                                    as_of=as_of, unit=unit, by=by, customer=customer, name=name)
    plan = cxdata.memo_plan(key, t, build) if memo else build()
    counts = cxdata.to_pandas(plan["counts"], name=name)
    if not plan["named"]:
        counts = counts.rename(columns={"_time": "time", "_event": "event"})
    last = None
    if "_last" in counts.columns:  # the table's last record, the same on every row (one query, not two)
        found = counts["_last"].dropna()
        last = pd.Timestamp(found.max()) if len(found) else None
        last = last.tz_localize(None) if last is not None and last.tzinfo is not None else last
        counts = counts.drop(columns="_last")
    if (counts["time"] < 0).any():
        raise cxdata.CXDataError(f"{plan['label']}: some lifetimes are negative (end before start).")
    by = plan["by"]  # the segment columns as the table names them (``attrs['by']``)
    counts = counts.sort_values([*by, "time", "event"]).reset_index(drop=True)
    early = cxdata.ends_early(None, last, as_of, "month", name=plan["label"]) if as_of is not None else None
    counts.attrs["notes"] = [n for n in (plan["late"], early) if n] + list(plan["segment_notes"])
    counts.attrs.update(as_of=as_of, data_end=last, by=by)
    return counts


def _lifetimes_plan(t, data, *, duration, event, start, end, as_of, unit, by, customer, name) -> dict:
    """The checks of :func:`lifetimes` and its counts query (not executed): ``counts`` (expression),
    ``late`` (the note on rows after ``as_of``, or None), ``label``, ``named`` (the query names its
    columns 'time' and 'event')."""
    late, seg_notes = None, []  # segments: named as the export shows them, trimmed, case variants merged
    if duration is not None:
        if event is None:
            raise cxdata.CXDataError("duration= needs event= (1 = churned, 0 = still active / censored).")
        t, by = segments.prepare(t, by, name=name, notes=seg_notes, need=[duration, event])
        t = cxdata.clean_numeric(t, duration, lo=0, required=True, name=name)
        t = cxdata.clean_binary(t, event, name=name)
        t = t.mutate(_time=t[duration], _event=t[event].cast("int64"))
    else:
        if start is None:
            raise cxdata.CXDataError("give duration= and event=, or start= (and end=) timestamps.")
        cols = [start] + ([end] if end else [])
        t, by = segments.prepare(t, by, name=name, notes=seg_notes, need=cols)
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
        t = t.select(*dict.fromkeys([*by, start, *([end] if end else [])]))  # only what the counts read
        lit = _timestamp_literal(t, cut)
        cut, cut_lit = (lit, lit) if lit is not None else (cut, ibis.literal(cut, type="timestamp"))
        # the table's last record on or before as_of (latest start or end), joined on as one row so that the
        # counts stay one query: customers still active are censored at the earlier of as_of and it
        latest = t[start].max(where=t[start] <= cut)
        if end:
            latest_end = t[end].max(where=t[end] <= cut)
            latest = ibis.greatest(latest, latest_end.fill_null(latest))
        t = t.filter(t[start] <= cut).cross_join(t.aggregate(_last=latest))
        censor = ibis.least(cut_lit, t["_last"])
        if end:
            churned = t[end].notnull() & (t[end] <= cut)
            stop = churned.ifelse(t[end], censor)
        else:
            churned, stop = ibis.literal(False), censor
        seconds = stop.epoch_seconds() - t[start].epoch_seconds()
        t = t.mutate(_time=(seconds / 86400.0).round() / UNITS[unit], _event=churned.cast("int64"))
    cxdata.check_not_empty(t, name=name)
    # the engine names the columns 'time' / 'event', unless a segment column is itself called so (then
    # they are renamed here, as ever)
    named = not {"time", "event", "n", "_last"} & set(by)
    last = {"_last": t["_last"].max()} if "_last" in t.columns else {}
    if named:
        counts = t.group_by([*by, t["_time"].name("time"), t["_event"].name("event")]).aggregate(n=t.count(), **last)
    else:
        counts = t.group_by([*by, "_time", "_event"]).aggregate(n=t.count(), **last)
    return {"counts": counts, "late": late, "label": cxdata.source_name(t, name), "named": named, "by": by,
            "segment_notes": seg_notes}


def _timestamp_literal(t, cut):
    """``cut`` as a plain timestamp literal (``CAST('2026-11-22 00:00:00' AS TIMESTAMP)``) when the query
    runs on DuckDB and ``cut`` is a naive whole second: the same instant as Ibis' ``MAKE_TIMESTAMP(...)``,
    which DuckDB takes longer to plan. None otherwise (the Ibis literal is used, as before)."""
    if cut.tzinfo is not None or cut.microsecond:
        return None
    try:
        if t._find_backend(use_default=True).name != "duckdb":
            return None
    except Exception:  # pragma: no cover - no backend to ask: keep Ibis' own literal
        return None
    return ibis.literal(cut.strftime("%Y-%m-%d %H:%M:%S")).cast("timestamp")


def _groups(counts, by):
    if not by:
        return [((), counts)]
    return [((k,) if not isinstance(k, tuple) else k, g) for k, g in counts.groupby(by, dropna=False)]


def _fit(g):
    return SurvfuncRight(g["time"].to_numpy(float), g["event"].to_numpy(float),
                         freq_weights=g["n"].to_numpy(float))


def kaplan_meier(data, *, duration: str | None = None, event: str | None = None, start: str | None = None,
                 end: str | None = None, as_of=None, unit: str = "month", by=None, alpha: float = 0.05,
                 min_n: int = 30, name: str | None = None) -> pd.DataFrame:
    """Kaplan-Meier survival curve per segment with Greenwood log(-log) 95% intervals.

    Medians (``.attrs['medians']``) of segments with fewer than ``min_n`` customers are suppressed
    (``suppressed=True``, no estimate): a median of six lifetimes is not a number to report.

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
    by = counts.attrs["by"]
    z = stats.norm.ppf(1 - alpha / 2)
    parts, fits = [], []
    for key, g in _groups(counts, by):
        sf = _fit(g)
        fits.append(sf)
        s, se = sf.surv_prob, _greenwood(sf)
        with np.errstate(divide="ignore", invalid="ignore"):
            theta = np.log(-np.log(s))
            se_theta = se / (s * np.abs(np.log(s)))
            lo = np.exp(-np.exp(theta + z * se_theta))
            hi = np.exp(-np.exp(theta - z * se_theta))
        lo = np.where(s >= 1, 1.0, np.where(s <= 0, 0.0, lo))
        hi = np.where(s >= 1, 1.0, np.where(s <= 0, 0.0, hi))
        part = pd.DataFrame({**{col: v for col, v in zip(by, key)}, "time": sf.surv_times,
                             "at_risk": np.round(sf.n_risk).astype("int64"),
                             "events": np.round(sf.n_events).astype("int64"),
                             "survival": s, "se": se, "ci_lower": lo, "ci_upper": hi})
        parts.append(part)
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    out.attrs["medians"] = _medians(counts, by, alpha, min_n, fits=fits)
    out.attrs["unit"] = unit
    out.attrs["notes"] = counts.attrs.get("notes", [])
    out.attrs.update(as_of=counts.attrs.get("as_of"), data_end=counts.attrs.get("data_end"))
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


def _medians(counts, by, alpha, min_n: int = 0, fits=None):
    """Median per segment; ``fits``: the segments' fitted curves when already made (same order)."""
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    for i, (key, g) in enumerate(_groups(counts, by)):
        sf = fits[i] if fits is not None else _fit(g)
        med = sf.quantile(0.5)
        lo, hi = _median_ci(sf.surv_times, sf.surv_prob, _greenwood(sf), z)
        n, ev = g["n"].to_numpy(), g["event"].to_numpy()
        rows.append({**dict(zip(by, key)), "n": int(n.sum()), "events": int((n * ev).sum()),
                     "median": med if np.isfinite(med) else np.nan, "ci_lower": lo if np.isfinite(lo) else np.nan,
                     "ci_upper": hi if np.isfinite(hi) else np.nan,
                     "reached": bool(np.isfinite(med))})
    if not by:  # one row of numbers: the same columns and dtypes, built directly
        rec = {**rows[0], "suppressed": rows[0]["n"] < min_n}
        if rec["suppressed"]:
            rec.update(median=np.nan, ci_lower=np.nan, ci_upper=np.nan)
        return pd.DataFrame({k: [v] for k, v in rec.items()})
    out = pd.DataFrame(rows)
    out["suppressed"] = out["n"] < min_n
    if out["suppressed"].any():
        out.loc[out["suppressed"], ["median", "ci_lower", "ci_upper"]] = np.nan
    return out


def median_survival(data, *, alpha: float = 0.05, min_n: int = 30, **kwargs) -> pd.DataFrame:
    """Median lifetime per segment with its 95% interval (NaN / ``reached=False`` when not reached).

    Same arguments as :func:`kaplan_meier`. Columns: segment keys, ``n``, ``events``, ``median``,
    ``ci_lower``, ``ci_upper`` (``ci_upper`` NaN when the upper bound is beyond the follow-up), ``reached``.
    """
    by = cxdata.as_list(kwargs.pop("by", None))
    counts = lifetimes(data, by=by, **kwargs)
    return _medians(counts, counts.attrs["by"], alpha, min_n)


def logrank(data, *, by, **kwargs) -> dict:
    """Log-rank test that the segments of ``by`` share one survival curve (statsmodels ``survdiff``).

    Returns ``{'statistic': chi2, 'df': groups - 1, 'p_value': p, 'groups': k}``.
    """
    by_list = cxdata.as_list(by)
    counts = lifetimes(data, by=by_list, **kwargs)
    by_list = counts.attrs["by"]
    group = counts[by_list].astype(str).agg(" / ".join, axis=1).to_numpy()
    reps = counts["n"].to_numpy()
    stat, p = survdiff(np.repeat(counts["time"].to_numpy(float), reps),
                       np.repeat(counts["event"].to_numpy(float), reps), np.repeat(group, reps))
    k = len(set(group))
    return {"statistic": float(stat), "df": k - 1, "p_value": float(p), "groups": k}


# ------------------------------------------------------------------------------------------ RMST and Cox

def _group_label(by, key) -> str:
    return " / ".join(str(v) for v in key) if by else "all"


def _rmst_one(g, horizon: float):
    """RMST to ``horizon`` and its Greenwood-type variance from one group's (time, event, n) counts.

    RMST = sum over the Kaplan-Meier steps of S(t_j) * (min(t_{j+1}, horizon) - t_j);
    Var = sum over event times t_j <= horizon of A_j^2 * d_j / (n_j (n_j - d_j)),
    A_j = integral of S from t_j to horizon (Klein & Moeschberger 2003, sec. 4.5).
    """
    time = g["time"].to_numpy(float)
    w = g["n"].to_numpy(float)
    ev = g["event"].to_numpy(float) * w
    ut = np.unique(time)
    d = np.bincount(np.searchsorted(ut, time), weights=ev, minlength=len(ut))
    leaving = np.bincount(np.searchsorted(ut, time), weights=w, minlength=len(ut))
    at_risk = w.sum() - np.concatenate([[0.0], np.cumsum(leaving)[:-1]])
    keep = d > 0
    tj, dj, nj = ut[keep], d[keep], at_risk[keep]
    s_after = np.cumprod(1 - dj / nj)
    if time.max() < horizon and (len(s_after) == 0 or s_after[-1] > 0):
        return None  # the curve is not known up to the horizon
    inside = tj <= horizon
    tj, dj, nj, s_after = tj[inside], dj[inside], nj[inside], s_after[inside]
    # step function: S = 1 on [0, t_1), s_after[k] on [t_k+1, t_k+2) ...
    edges = np.concatenate([[0.0], tj, [horizon]])
    levels = np.concatenate([[1.0], s_after])
    areas = levels * np.diff(edges)
    rmst = areas.sum()
    tail = np.cumsum(areas[::-1])[::-1][1:]  # A_j: area from t_j to the horizon
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(nj > dj, tail ** 2 * dj / (nj * (nj - dj)), 0.0)
    return rmst, float(np.sqrt(term.sum()))


def rmst(data, *, duration: str | None = None, event: str | None = None, start: str | None = None,
         end: str | None = None, as_of=None, horizon: float, by=None, unit: str = "month", alpha: float = 0.05,
         reference=None, name: str | None = None) -> pd.DataFrame:
    """Restricted mean survival time: the average lifetime up to ``horizon``, per segment, with intervals.

    The RMST is the area under the Kaplan-Meier curve from 0 to ``horizon`` ("of the next 12 months, a
    customer stays 9.1 on average"). Unlike the median it always exists when follow-up reaches the
    horizon, so segments whose median is "not reached" still compare.

    Parameters
    ----------
    data : DataFrame, path, Ibis table or source spec
        One row per customer lifetime.
    duration, event, start, end, as_of, unit
        As in :func:`kaplan_meier` (``unit`` is also the unit of ``horizon`` and of the result).
    horizon : float
        Restriction time, in ``unit``. Each segment must be followed up to it (or its curve reach 0).
    by : str or list of str, optional
        Segment columns: one row per segment plus a difference row per segment against the first
        (or ``reference``).
    alpha : float
        1 - confidence level.
    reference : optional
        The segment the differences are taken against (a value, or a tuple of values for several
        ``by`` columns); default the first segment in sorted order.

    Returns
    -------
    pandas.DataFrame
        Segment keys, ``kind`` ('rmst' or 'difference'), ``reference`` (the segment a difference is
        taken against), ``rmst`` (the RMST, or segment minus reference in a difference row), ``se``,
        ``ci_lower``, ``ci_upper`` (normal), ``p_value`` (difference rows: two-sided z-test), ``n``,
        ``events``, ``horizon``.

    Notes
    -----
    Method: the engine reduces the rows to counts per (segment, lifetime, churned) with
    :func:`lifetimes`; RMST = sum_j S(t_j) (min(t_{j+1}, horizon) - t_j) over the Kaplan-Meier steps,
    with the standard Greenwood-type variance sum_{t_j <= horizon} A_j^2 d_j / (n_j (n_j - d_j)) where
    A_j is the area under the curve from t_j to the horizon (Klein & Moeschberger 2003, 4.5). Segments
    are independent, so a difference's variance is the sum of the two variances.

    Examples
    --------
    >>> rmst("data/sample/subscriptions.csv", start="start_time", end="end_time", horizon=12,
    ...      by="plan")  # doctest: +SKIP
    """
    by = cxdata.as_list(by)
    try:
        horizon = float(horizon)
    except (TypeError, ValueError):
        raise cxdata.CXDataError(f"horizon must be a positive number of {unit}s, not {horizon!r}.") from None
    if not np.isfinite(horizon) or horizon <= 0:
        raise cxdata.CXDataError(f"horizon must be a positive number of {unit}s, not {horizon!r}.")
    counts = lifetimes(data, duration=duration, event=event, start=start, end=end, as_of=as_of, unit=unit,
                       by=by, name=name)
    by = counts.attrs["by"]
    z = stats.norm.ppf(1 - alpha / 2)
    rows, short = [], []
    for key, g in _groups(counts, by):
        res = _rmst_one(g, horizon)
        if res is None:
            short.append(f"{_group_label(by, key)} (followed up to {g['time'].max():.4g})")
            continue
        est, se = res
        rows.append({**dict(zip(by, key)), "kind": "rmst", "reference": None, "rmst": est, "se": se,
                     "ci_lower": est - z * se, "ci_upper": est + z * se, "p_value": np.nan,
                     "n": int(g["n"].sum()), "events": int((g["n"] * g["event"]).sum()), "horizon": horizon,
                     "_key": key})
    if short:
        raise cxdata.CXDataError(f"horizon {horizon:g} {unit}s is beyond the follow-up of "
                                 f"{', '.join(short)}: the survival curve is not known that far; choose a "
                                 "shorter horizon.")
    out = rows
    if by and len(rows) > 1:
        if reference is None:
            ref = rows[0]
        else:
            want = tuple(reference) if isinstance(reference, (tuple, list)) else (reference,)
            match = [r for r in rows if tuple(str(v) for v in r["_key"]) == tuple(str(v) for v in want)]
            if not match:
                raise cxdata.CXDataError(f"reference {reference!r} is not a segment of {', '.join(by)}.")
            ref = match[0]
        label = _group_label(by, ref["_key"])
        diffs = []
        for r in rows:
            if r is ref:
                continue
            diff, se = r["rmst"] - ref["rmst"], float(np.hypot(r["se"], ref["se"]))
            p = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else np.nan
            diffs.append({**{b: r[b] for b in by}, "kind": "difference", "reference": label, "rmst": diff,
                          "se": se, "ci_lower": diff - z * se, "ci_upper": diff + z * se, "p_value": p,
                          "n": r["n"] + ref["n"], "events": r["events"] + ref["events"], "horizon": horizon})
        out = rows + diffs
    df = pd.DataFrame(out).drop(columns="_key", errors="ignore")
    df.attrs["unit"] = unit
    df.attrs["notes"] = counts.attrs.get("notes", [])
    df.attrs.update(as_of=counts.attrs.get("as_of"), data_end=counts.attrs.get("data_end"))
    return df


def _cox_design(counts: pd.DataFrame, covariates: dict):
    """Dummy-coded design matrix from the counts table; returns (X, terms, references)."""
    cols, terms, refs = [], [], []
    for col, ref in covariates.items():
        v = counts[col]
        if pd.api.types.is_numeric_dtype(v) and not pd.api.types.is_bool_dtype(v) and ref is None:
            cols.append(v.to_numpy(float))
            terms.append(str(col))
            refs.append(None)
            continue
        s = v.astype(str)
        levels = sorted(s.unique())
        base = str(ref) if ref is not None else levels[0]
        if base not in levels:
            raise cxdata.CXDataError(f"reference {ref!r} of '{col}' is not among its values "
                                     f"({', '.join(levels[:10])}).")
        if len(levels) < 2:
            raise cxdata.CXDataError(f"covariate '{col}' has one value only ({base}); it cannot have an effect.")
        for lev in levels:
            if lev != base:
                cols.append((s == lev).to_numpy(float))
                terms.append(f"{col}={lev}")
                refs.append(f"{col}={base}")
    return np.column_stack(cols), terms, refs


def cox(data, *, duration: str | None = None, event: str | None = None, start: str | None = None,
        end: str | None = None, as_of=None, covariates, unit: str = "month", alpha: float = 0.05,
        ties: str = "efron", name: str | None = None) -> pd.DataFrame:
    """Cox proportional-hazards model: hazard ratios of churn for plan, region or any segment, adjusted
    for each other, with intervals and a proportional-hazards check.

    Parameters
    ----------
    data : DataFrame, path, Ibis table or source spec
        One row per customer lifetime.
    duration, event, start, end, as_of, unit
        As in :func:`kaplan_meier`.
    covariates : str, list of str, or mapping
        Columns of the model. Text (or boolean) columns become dummies against a reference level:
        the first value in sorted order, or the one named in a mapping ``{'plan': 'basic',
        'region': None}`` (None: the default). Numeric columns enter as they are (hazard ratio per unit);
        name a reference in the mapping to treat a numeric column as categorical.
    alpha : float
        1 - confidence level.
    ties : {'efron', 'breslow'}
        Handling of tied lifetimes (lifetimes from timestamps are whole days, so ties are common).

    Returns
    -------
    pandas.DataFrame
        One row per term: ``term`` ('plan=pro' or a numeric column), ``reference`` ('plan=basic'; None
        for numeric), ``hazard_ratio``, ``ci_lower``, ``ci_upper`` (Wald, exp of coef +/- z se),
        ``p_value`` (Wald), ``coef``, ``se``, ``ph_p_value`` (proportional-hazards check), ``n``
        (lifetimes used), ``events``.

    Notes
    -----
    Method: the engine reduces the rows to counts per (covariates, lifetime, churned) with
    :func:`lifetimes`; statsmodels ``PHReg`` is fitted on those counts expanded back to one row per
    lifetime (PHReg has no frequency weights), which gives exactly the raw-row fit. Rows with a blank
    covariate are left out (counted in ``.attrs['notes']``). The proportional-hazards check is the
    correlation of each term's Schoenfeld residuals with the rank of the event time (a Grambsch-Therneau
    style test on unscaled residuals); a small ``ph_p_value`` says the hazard ratio changes over time
    and the single number averages it.

    Examples
    --------
    >>> cox("data/sample/subscriptions.csv", start="start_time", end="end_time",
    ...     covariates=["plan", "region"])  # doctest: +SKIP
    """
    from collections.abc import Mapping

    from statsmodels.duration.hazard_regression import PHReg

    if isinstance(covariates, Mapping):
        cov = {str(k): v for k, v in covariates.items()}
    else:
        cov = {c: None for c in cxdata.as_list(covariates)}
    if not cov:
        raise cxdata.CXDataError("covariates= names at least one column.")
    if ties not in ("efron", "breslow"):
        raise cxdata.CXDataError(f"ties must be 'efron' or 'breslow', not {ties!r}.")
    counts = lifetimes(data, duration=duration, event=event, start=start, end=end, as_of=as_of, unit=unit,
                       by=list(cov), name=name)
    cov = dict(zip(counts.attrs["by"], cov.values()))  # covariates as the table names them
    notes = list(counts.attrs.get("notes", []))
    blank = counts[list(cov)].isna().any(axis=1)
    if blank.any():
        notes.append(note("blank_covariate_left_out", n=int(counts.loc[blank, "n"].sum())))
        counts = counts[~blank].reset_index(drop=True)
    X, terms, refs = _cox_design(counts, cov)
    reps = counts["n"].to_numpy(int)
    time = np.repeat(counts["time"].to_numpy(float), reps)
    status = np.repeat(counts["event"].to_numpy(float), reps)
    X = np.repeat(X, reps, axis=0)
    n_events = int(status.sum())
    if n_events == 0:
        raise cxdata.CXDataError("no churn events: a Cox model needs some lifetimes that ended.")
    model = PHReg(time, X, status=status, ties=ties)
    res = model.fit()
    coef, se = np.asarray(res.params), np.asarray(res.bse)
    z = stats.norm.ppf(1 - alpha / 2)
    ph = _ph_check(res, time, status)
    out = pd.DataFrame({"term": terms, "reference": refs, "hazard_ratio": np.exp(coef),
                        "ci_lower": np.exp(coef - z * se), "ci_upper": np.exp(coef + z * se),
                        "p_value": np.asarray(res.pvalues), "coef": coef, "se": se, "ph_p_value": ph,
                        "n": len(time), "events": n_events})
    out.attrs["unit"] = unit
    out.attrs["notes"] = notes
    out.attrs["log_likelihood"] = float(res.llf)
    out.attrs.update(as_of=counts.attrs.get("as_of"), data_end=counts.attrs.get("data_end"))
    return out


def _ph_check(res, time, status) -> np.ndarray:
    """p-value per term: correlation of Schoenfeld residuals with the rank of the event time."""
    try:
        sch = np.asarray(res.schoenfeld_residuals)
    except Exception:  # pragma: no cover - statsmodels internals
        return np.full(len(res.params), np.nan)
    ev = status > 0
    ranks = stats.rankdata(time[ev])
    out = []
    for j in range(sch.shape[1]):
        r = sch[ev, j]
        ok = np.isfinite(r)
        if ok.sum() < 3 or np.std(r[ok]) == 0:
            out.append(np.nan)
            continue
        out.append(float(stats.pearsonr(ranks[ok], r[ok])[1]))
    return np.array(out)


__all__ += ["rmst", "cox"]


def churn_effects(data, *, start: str | None = None, end: str | None = None, duration: str | None = None,
                  event: str | None = None, as_of=None, by=None, horizon: float = 12, covariates=None,
                  unit: str = "month", alpha: float = 0.05, name: str | None = None) -> dict:
    """RMST by segment and Cox hazard ratios for a page, never failing on data that cannot support them.

    Calls :func:`rmst` and :func:`cox` with the same arguments, but: when a segment is not followed up to
    ``horizon``, the horizon is shortened to the longest whole ``unit`` every segment reaches (said in
    ``notes``); covariates with a single value are left out (said); with no cancellation at all, or
    nothing left to compare, the part is None with a note saying why.

    Returns
    -------
    dict
        ``rmst`` (DataFrame or None), ``cox`` (DataFrame or None), ``horizon`` (the one used), ``notes``
        (note codes with values, :mod:`cxlib.notes`; words in :mod:`cxlib.present`).

    Examples
    --------
    >>> churn_effects("data/sample/subscriptions.csv", start="start_time", end="end_time", by="plan",
    ...               covariates=["plan", "region"])  # doctest: +SKIP
    """
    by = cxdata.as_list(by)
    covs = cxdata.as_list(covariates)
    counts = lifetimes(data, duration=duration, event=event, start=start, end=end, as_of=as_of, unit=unit,
                       by=list(dict.fromkeys([*by, *covs])), name=name)
    found = dict(zip(dict.fromkeys([*by, *covs]), counts.attrs["by"]))  # as the table names them
    by, covs = [found[b] for b in by], [found[c] for c in covs]
    notes, out = [], {"rmst": None, "cox": None, "horizon": float(horizon), "notes": None}
    if int((counts["n"] * counts["event"]).sum()) == 0:
        notes.append(note("no_cancellations_yet"))
        out["notes"] = notes
        return out
    # the longest horizon every segment's curve is known to: its follow-up, or beyond once it reaches 0
    reach = [float(g["time"].max()) for _, g in _groups(counts, by)]
    h = float(horizon)
    if reach and min(reach) < h:
        h = float(np.floor(min(reach)))
        if h >= 1:
            notes.append(note("rmst_horizon_shortened", horizon=float(horizon), used=h, unit=unit))
    kw = dict(duration=duration, event=event, start=start, end=end, as_of=as_of, unit=unit, alpha=alpha, name=name)
    if h >= 1:
        try:
            out["rmst"] = rmst(data, horizon=h, by=by or None, **kw)
        except cxdata.CXDataError as exc:  # e.g. a segment whose curve is not known that far
            notes.append(note("rmst_not_compared", reason=str(exc)))
    else:
        notes.append(note("follow_up_under_one_unit", unit=unit))
    out["horizon"] = h
    usable = [c for c in covs if counts[c].dropna().nunique() > 1]
    dropped = [c for c in covs if c not in usable]
    if dropped:
        notes.append(note("covariate_one_value", columns=list(dropped)))
    if usable:
        out["cox"] = cox(data, covariates=usable, **kw)
    out["notes"] = notes
    return out


__all__ += ["churn_effects"]
