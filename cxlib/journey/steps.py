"""The funnel engine of the customer journey: funnel conversion, time between steps, the weakest step, and churn after touches.

Funnel (the ordered funnel of product-analytics tools): a customer enters at their first occurrence of
the first step and *reaches* step k at their first occurrence of it at or after the time counted for step
k-1 (a repeated step needs a row of its own); see :func:`funnel`. Step conversion = reached k / reached k-1
(Wilson 95% interval), drop-off = 1 - conversion (e.g. checkout abandonment), and the median time from
the previous step among those who converted. :func:`step_conversion` lays the same counts out as
conversion and abandonment per step; :func:`weakest_step` tests whether the lowest conversion is
lower than the next-lowest beyond noise.

Time between steps (:func:`step_times`, e.g. time to first value): median and 90th percentile with
distribution-free intervals and the shares reaching the end step within 1 / 7 / 30 days.

Churn after touches (:func:`churn_by_touch`, :func:`last_touch_before_churn`): customers with and
without a touch (a journey step, a support contact, a slow first reply, a detractor answer) in a
landmark window after their start, compared by a Cox hazard ratio, the log-rank test and the difference
in 90-day retention. These are associations, not causal effects.

Only counts, medians and per-customer durations (one number per customer) come back from the engine.

Examples
--------
>>> from cxlib import journey
>>> journey.funnel("data/sample/events.csv",
...                steps=["signup", "onboarding_done", "first_value", "checkout_started", "purchase"])  # doctest: +SKIP
>>> journey.step_times("data/sample/events.csv", cohort="month")  # doctest: +SKIP
"""
from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight, survdiff
from statsmodels.stats.proportion import confint_proportions_2indep

from cxlib import data as cxdata
from cxlib import segments
from cxlib import metrics
from cxlib.stats import wilson

__all__ = ["funnel", "stage_metrics", "step_times", "step_conversion", "weakest_step", "churn_by_touch",
           "last_touch_before_churn", "DEFAULT_STEPS", "TOUCH_STEPS", "DEFAULT_TARGETS", "WITHIN_DAYS"]

DEFAULT_STEPS = ("signup", "onboarding_done", "first_value", "checkout_started", "purchase")
#: At most this many of the table's event names are listed in a ``funnel_step_missing`` note.
NOTE_NAMES = 20


def _blank(col):
    """Not a segment value: missing or, for text, empty / only spaces."""
    return (col.isnull() | (col.strip() == "")) if col.type().is_string() else col.isnull()


def _with_first_segment_times(t, by, customer: str, time: str):
    """``t`` with ``_ft_<b>``: the customer's earliest time with a non-blank ``b`` (a window, no join)."""
    return t.mutate(**{f"_ft_{b}": (~_blank(t[b])).ifelse(t[time], ibis.null()).min().over(group_by=t[customer])
                       for b in by})


def _first_segments(t, by, time: str) -> dict:
    """Aggregates ``_seg_<b>``: the first non-blank value of ``b`` (ties at that time: the smallest value)."""
    return {f"_seg_{b}": t[b].min(where=~_blank(t[b]) & (t[time] == t[f"_ft_{b}"])) for b in by}


def _missing_steps_note(t, missing, column: str, name):
    """A ``funnel_step_missing`` note: the absent steps and (up to :data:`NOTE_NAMES`) the names the table has."""
    from cxlib.notes import note

    names = cxdata.to_pandas(t.select("_ev").distinct().order_by("_ev").limit(NOTE_NAMES), name=name)["_ev"]
    total = int(cxdata.to_pandas(t.aggregate(_k=t["_ev"].nunique()), name=name).iloc[0, 0] or 0)
    return note("funnel_step_missing", table=cxdata.source_name(t, name), column=column, steps=list(missing),
                available=[str(v) for v in names.dropna()], n_available=total)


def _funnel_times(t, steps, customer: str, time: str, by):
    """Per customer (``_c``) who did the first step: ``_t{k}``, the time of the occurrence counted for step k
    (null: not reached), and the segment columns ``_seg_<b>``. One join and aggregate per step, in the engine.

    Step 0 counts at the customer's first occurrence; step k at the first occurrence at or after step
    k-1's counted time. A step named earlier too must be a different row than the one counted there: rows
    of one (customer, step) are numbered in time order (``_n``) and step k takes a number above the last
    one used for that name. Numbers only break ties between rows at the same time, so which of two
    identical rows gets which number does not change any count or time.
    """
    t = t.filter(t["_ev"].isin(steps) & t[customer].notnull())
    rep = list(dict.fromkeys(s for s in steps if steps.count(s) > 1))
    if rep:
        t = t.mutate(_n=ibis.row_number().over(group_by=[t[customer], t["_ev"]], order_by=[t[time]]))
    if by:
        t = _with_first_segment_times(t, by, customer, time)
    is0 = t["_ev"] == steps[0]
    used = [f"_u{i}" for i in range(len(rep))]  # per repeated name: the last row number counted (-1: none)
    base = t.group_by(_c=t[customer]).aggregate(
        _t0=is0.ifelse(t[time], ibis.null()).min(), **_first_segments(t, by, time),
        **{u: t["_n"].min(where=is0) for u, s in zip(used, rep) if s == steps[0]})
    base = base.filter(base["_t0"].notnull())
    base = base.mutate(**{u: ibis.literal(-1, "int64") for u, s in zip(used, rep) if s != steps[0]})
    # state: customers who reached the last step, its counted time (_tp) and the last number used per name
    state = base.select("_c", _tp=base["_t0"], *used)
    ev = t.select(_c=t[customer], _ev=t["_ev"], _tm=t[time], **({"_n": t["_n"]} if rep else {}))
    wide = base
    for k in range(1, len(steps)):
        s = steps[k]
        j = ev.filter(ev["_ev"] == steps[k]).join(state, "_c")
        ok = j["_tm"] >= j["_tp"]
        if s in rep:
            ok &= j["_n"] > j[f"_u{rep.index(s)}"]
        j = j.filter(ok)
        a = j.group_by("_c").aggregate(**{f"_t{k}": j["_tm"].min()},
                                       **({"_nn": j["_n"].min()} if s in rep else {}))
        nxt = a.join(state.drop("_tp"), "_c")
        state = nxt.select("_c", _tp=nxt[f"_t{k}"],
                           **{u: (nxt["_nn"] if rep[i] == s else nxt[u]) for i, u in enumerate(used)})
        wide = wide.left_join(a.select("_c", f"_t{k}"), "_c").drop("_c_right")
    return wide


def funnel(events, *, steps=DEFAULT_STEPS, customer: str = "customer_id", event: str = "event_name",
           time: str = "event_time", by=None, as_of=None, alpha: float = 0.05, min_n: int = 30,
           name: str | None = None) -> pd.DataFrame:
    """Step-by-step conversion through ``steps`` (in order), per segment, with 95% intervals.

    The reach rule is the ordered funnel of product-analytics tools (PostHog, Amplitude, Mixpanel):

    - A customer enters at their **first** occurrence of ``steps[0]``.
    - Step k counts at their first occurrence of it **at or after** the time counted for step k-1 (an
      event at exactly that time counts). An occurrence before it does not count, but a later one does:
      a customer who saw checkout before signing up and again after it reaches checkout.
    - A step named twice (``['view', 'view', 'buy']``) needs an occurrence of its own: a different event
      row, at or after the previous step's time (two rows at the same time can be both steps; one row
      never is).
    - ``median_hours_from_previous`` is measured between the two counted occurrences.
    - A step nobody reached, or whose name the table does not have at all, is reached by 0 (never an
      error); a name the table lacks gets one ``funnel_step_missing`` note in ``attrs['notes']`` listing
      the event names the table has, so a typo still shows.
    - A customer's segment (each ``by`` column) is the first non-blank value (not missing, not empty
      text) on any of their step events, by time (ties at that time: the smallest value). A customer
      with only blank values is in the blank (NaN) segment.
    - Events after ``as_of`` are left out (one note); rows without a customer id are not a customer.

    Parameters
    ----------
    events : DataFrame, path, Ibis table or source
        One row per customer activity.
    steps : sequence of str
        The journey steps in order (at least two; a name may repeat).
    customer, event, time : str
        Column names (event names are compared as text).
    by : str or list of str, optional
        Segment columns.
    as_of : date-like, optional
        The analysis date (default :func:`cxlib.data.default_as_of`): later events are left out.
    alpha, min_n
        1 - confidence level; steps whose previous step was reached by fewer than ``min_n`` are
        ``suppressed`` (conversion and interval NaN; counts stay).

    Returns
    -------
    pandas.DataFrame
        One row per (segment x) step: ``step``, ``position``, ``reached``, ``previous`` (reached the
        step before), ``conversion`` (step conversion), ``ci_lower``, ``ci_upper`` (Wilson),
        ``drop_off``, ``overall`` (reached / reached the first step), ``median_hours_from_previous``,
        ``suppressed``. ``attrs``: ``as_of`` and ``notes``.

    Examples
    --------
    >>> from cxlib import journey
    >>> journey.funnel("data/sample/events.csv", by="plan")  # doctest: +SKIP
    """
    steps = [str(s) for s in steps]
    if len(steps) < 2:
        raise cxdata.CXDataError("a funnel needs at least two steps.")
    t = cxdata.as_table(events, name=name)
    seg_notes: list = []  # segments named as the export shows them; trimmed, case variants merged (a note each)
    t, by = segments.prepare(t, by, name=name, notes=seg_notes, need=[customer, event, time])
    t = cxdata.clean_timestamp(t, time, name=name)
    cut = cxdata.default_as_of(as_of, events)
    notes = [n for n in [cxdata.after_as_of(t, [time], cut, name=name)] if n] + seg_notes
    t = t.filter(t[time] <= cut.to_pydatetime())
    t = t.mutate(_ev=t[event].cast("string"))
    have = cxdata.to_pandas(t.filter(t["_ev"].isin(steps)).select("_ev").distinct(), name=name)["_ev"]
    have = set(have.dropna())
    missing = [s for s in dict.fromkeys(steps) if s not in have]
    if missing:
        notes.append(_missing_steps_note(t, missing, event, name))
    f = _funnel_times(t, steps, customer, time, by)
    keys = [f"_seg_{b}" for b in by]
    aggs = {**{f"r{i}": f[f"_t{i}"].notnull().cast("int64").sum() for i in range(len(steps))},
            **{f"h{i}": ((f[f"_t{i}"].epoch_seconds() - f[f"_t{i - 1}"].epoch_seconds()) / 3600.0).median()
               for i in range(1, len(steps))}}
    wide = cxdata.to_pandas(f.group_by(keys).aggregate(**aggs) if keys else f.aggregate(**aggs), name=name)
    rows = []
    for _, w in wide.iterrows():
        seg = {b: w[f"_seg_{b}"] for b in by}
        reach = [0 if pd.isna(w[f"r{i}"]) else int(w[f"r{i}"]) for i in range(len(steps))]
        for i, s in enumerate(steps):
            h = w[f"h{i}"] if i else np.nan
            rows.append({**seg, "step": s, "position": i + 1, "reached": reach[i],
                         "previous": reach[i - 1] if i else reach[i], "first": reach[0],
                         "median_hours_from_previous": np.nan if h is None or pd.isna(h) else float(h)})
    cols = [*by, "step", "position", "reached", "previous", "conversion", "ci_lower", "ci_upper", "drop_off",
            "overall", "median_hours_from_previous", "suppressed"]
    out = pd.DataFrame(rows, columns=[*by, "step", "position", "reached", "previous", "first",
                                      "median_hours_from_previous"])
    counts = ["position", "reached", "previous", "first"]
    out[counts] = out[counts].astype("int64")
    out["conversion"] = out["reached"] / out["previous"].where(out["previous"] > 0)
    out["ci_lower"], out["ci_upper"] = wilson(out["reached"], out["previous"], alpha)
    out["drop_off"] = 1 - out["conversion"]
    out["overall"] = out["reached"] / out["first"].where(out["first"] > 0)
    out["suppressed"] = out["previous"] < max(min_n, 1)
    out.loc[out["suppressed"], ["conversion", "ci_lower", "ci_upper", "drop_off"]] = np.nan
    out = out[cols].sort_values([*by, "position"], kind="mergesort").reset_index(drop=True)
    out.attrs.update({"as_of": cut, "notes": notes, "by": by})
    return out


def stage_metrics(responses, *, stage: str = "touchpoint", score: str = "nps", min_n: int = 30, as_of=None,
                  name: str | None = None) -> pd.DataFrame:
    """NPS per journey stage (touchpoint) with intervals, flagging the weakest stage (``weakest``).

    Answers after ``as_of`` (default :func:`cxlib.data.default_as_of`) are left out and counted in
    ``attrs['notes']``, as in :func:`cxlib.metrics.nps`.
    """
    out = metrics.nps(responses, score=score, by=stage, min_n=min_n, as_of=as_of, name=name)
    ok = ~out["suppressed"]
    out["weakest"] = False
    if ok.any():
        out.loc[out.loc[ok, "nps"].idxmin(), "weakest"] = True
    return out


# ==================================================================================================
# time between steps (e.g. time to first value)

#: Windows (days) for the "reached ``end`` within d days" shares of :func:`step_times`.
WITHIN_DAYS = (1, 7, 30)


def _quantile_ci(sorted_values: np.ndarray, q: float, alpha: float):
    """Sample quantile (the ceil(q n)-th order statistic) and its distribution-free interval.

    The interval runs from the l-th to the u-th order statistic with l = Binom(n, q).ppf(alpha/2) and
    u = Binom(n, q).ppf(1 - alpha/2) + 1, so P(X(l) <= true quantile < X(u)) >= 1 - alpha for any
    continuous distribution. A bound whose rank falls outside 1..n is NaN (too few values).
    """
    n = len(sorted_values)
    if n == 0:
        return np.nan, np.nan, np.nan
    est = float(sorted_values[max(int(np.ceil(q * n)), 1) - 1])
    lo_r = int(stats.binom.ppf(alpha / 2, n, q))
    hi_r = int(stats.binom.ppf(1 - alpha / 2, n, q)) + 1
    lo = float(sorted_values[lo_r - 1]) if lo_r >= 1 else np.nan
    hi = float(sorted_values[hi_r - 1]) if hi_r <= n else np.nan
    return est, lo, hi


def _seconds(col):
    return col.epoch_seconds().cast("float64")


def step_times(events, *, steps=None, start: str | None = None, end: str | None = None, by=None,
               tz: str | None = None, customer: str = "customer_id", time: str = "event_time",
               event: str = "event_name", cohort: str | None = None, within=WITHIN_DAYS, as_of=None,
               week_start: str = "monday", min_n: int = 30, alpha: float = 0.05,
               name: str | None = None) -> pd.DataFrame:
    """Time from one journey step to another (e.g. time to first value), with distribution-free intervals.

    For each customer the engine finds the first occurrence of ``start`` and the first occurrence of
    ``end`` at or after it (the reach rule of :func:`funnel`: an ``end`` before ``start`` does not count,
    a later one does); a customer *completes* when there is one, and the duration runs between those two
    occurrences. The completers' durations (one number per customer) are the only rows that come back
    from the engine; everything else is counts.

    - ``median`` and ``p90`` are order statistics of the completers' durations (the ceil(q n)-th
      smallest), with distribution-free 95% intervals from binomial order statistics (ranks
      Binom(n, q).ppf(alpha/2) and .ppf(1 - alpha/2) + 1; NaN where that rank is outside 1..n).
    - ``within_{d}d`` is the share of customers who reached ``start`` and reached ``end`` no more than
      d days later (Wilson 95% interval), for each d in ``within``. The denominator (``within_{d}d_n``)
      is the customers who reached ``start`` at least d days before the end of the data (the earlier of
      the analysis date and the latest event on or before it, :func:`cxlib.data.observed_end`;
      ``attrs['as_of']``): a customer who
      started less than d days before the data end has not had d days to get there and is **left out of
      that window's denominator** (and numerator).
    - Events after ``as_of`` are left out (counted in ``attrs['notes']``), as in the other analyses; a
      table that ends more than one period (the cohort period, else a month) before ``as_of`` gets a
      ``data_ends_early`` note.

    Parameters
    ----------
    events : DataFrame, path, Ibis table or source
        One row per customer activity.
    steps : sequence of str, optional
        The journey steps in order; used only for the defaults of ``start`` and ``end``.
    start, end : str, optional
        Event names. Default ``start``: the first of ``steps`` (or ``'signup'``); default ``end``:
        ``'first_value'`` when it is in ``steps`` (or no ``steps`` are given), else the last step.
    by : str or list of str, optional
        Segment columns (a customer's segment is the first non-blank value on their start/end events,
        as in :func:`funnel`).
    tz : str, optional
        Reporting time zone for the cohort periods (default: the source spec's ``tz:``, else UTC);
        durations are always exact elapsed time.
    customer, time, event : str
        Column names.
    cohort : {'day', 'week', 'month', 'quarter', 'year'}, optional
        Add one row per acquisition cohort: the period of the customer's first ``start``.
    week_start : str
        First day of a week for ``cohort='week'`` (any weekday name, default Monday).
    within : sequence of number
        Windows in days for the "reached within" shares.
    as_of : date-like, optional
        The analysis date: events after it are left out. Default :func:`cxlib.data.default_as_of` (the
        report date, or the demo data's snapshot). The window denominators end at the earlier of it and
        the latest event on or before it.
    min_n : int
        Rows with fewer than ``min_n`` completers are ``suppressed`` (estimates NaN); a ``within`` share
        whose denominator is below ``min_n`` is NaN.
    alpha : float
        1 - confidence level.

    Returns
    -------
    pandas.DataFrame
        One row per (segment x cohort): segment columns, ``cohort`` (with ``cohort=``), ``start``,
        ``end``, ``n_start`` (reached ``start``), ``n`` (completers), ``median``, ``ci_lower``,
        ``ci_upper``, ``p90``, ``p90_ci_lower``, ``p90_ci_upper`` (all in hours), then per window
        ``within_{d}d``, ``within_{d}d_ci_lower``, ``within_{d}d_ci_upper``, ``within_{d}d_n``, and
        ``suppressed``.

    Examples
    --------
    >>> from cxlib import journey
    >>> tt = journey.step_times("data/sample/events.csv", by="plan")  # signup -> first_value
    >>> tt[["plan", "n", "median", "ci_lower", "ci_upper", "within_7d"]]  # doctest: +SKIP
    """
    steps = list(steps) if steps is not None else None
    start = start or (steps[0] if steps else "signup")
    if end is None:
        end = "first_value" if (steps is None or "first_value" in steps) else steps[-1]
    if start == end:
        raise cxdata.CXDataError(f"start and end are the same step ({start!r}).")
    within = [float(d) for d in cxdata.as_list(within)] if not isinstance(within, (int, float)) else [float(within)]
    t = cxdata.as_table(events, name=name)
    seg_notes: list = []
    t, by = segments.prepare(t, by, name=name, notes=seg_notes, need=[customer, event, time])
    t = cxdata.clean_timestamp(t, time, name=name)
    cut = cxdata.default_as_of(as_of, events)
    late = cxdata.after_as_of(t, [time], cut, name=name)
    t0 = t
    t = t.filter(t[time] <= cut.to_pydatetime())
    # one cheap query: presence of both steps and the data end (the last record on or before as_of)
    head = cxdata.to_pandas(t.aggregate(_ns=(t[event] == start).cast("int64").sum(),
                                        _ne=(t[event] == end).cast("int64").sum(), _last=t[time].max()),
                            name=name).iloc[0]
    for step, k in ((start, head["_ns"]), (end, head["_ne"])):
        if not (pd.notna(k) and int(k) > 0):
            raise cxdata.CXDataError(f"{cxdata.source_name(t, name)}: column '{event}' has no step {step!r}.")
    last = pd.Timestamp(head["_last"]) if pd.notna(head["_last"]) else None
    data_end = cxdata.observed_end(cut, last)
    early = cxdata.ends_early(t0, last, cut, cohort or "month", name=name)
    end_sec = float(data_end.timestamp())  # naive timestamps are UTC

    week_start = metrics._check_week_start(week_start)
    if cohort:
        zone = metrics._reporting_tz(t, tz)
        t = t.mutate(_local=t[time])
        if zone:
            t = cxdata.clean_timestamp(t, "_local", tz=zone, required=False, name=name)
    t = t.filter(t[event].isin([start, end]) & t[customer].notnull())
    is_start = t[event] == start
    # the end counts at its first occurrence at or after the customer's first start (as in funnel)
    t = t.mutate(_fs=is_start.ifelse(t[time], ibis.null()).min().over(group_by=t[customer]))
    if by:
        t = _with_first_segment_times(t, by, customer, time)
    is_start = t[event] == start
    aggs = {"_ts": is_start.ifelse(t[time], ibis.null()).min(),
            "_te": t[time].min(where=~is_start & (t[time] >= t["_fs"])),
            **_first_segments(t, by, time)}
    if cohort:
        aggs["_ls"] = is_start.ifelse(t["_local"], ibis.null()).min()
    f = t.group_by(customer).aggregate(**aggs)
    f = f.filter(f["_ts"].notnull())
    secs = _seconds(f["_te"]) - _seconds(f["_ts"])
    done = f["_te"].notnull() & (f["_te"] >= f["_ts"])
    f = f.mutate(_done=done, _secs=done.ifelse(secs, ibis.null("float64")), _s0=_seconds(f["_ts"]))
    keys = [f"_seg_{b}" for b in by]
    if cohort:
        f = f.mutate(_cohort=metrics.period_start(f["_ls"], cohort, week_start=week_start).cast("date"))
        keys.append("_cohort")
    wagg = {"n_start": f.count(), "n": f["_done"].cast("int64").sum()}
    for i, d in enumerate(within):
        eligible = f["_s0"] <= end_sec - d * 86400.0
        wagg[f"_den{i}"] = eligible.cast("int64").sum()
        wagg[f"_num{i}"] = (eligible & f["_done"] & (f["_secs"] <= d * 86400.0)).cast("int64").sum()
    counts = cxdata.to_pandas(f.group_by(keys).aggregate(**wagg) if keys else f.aggregate(**wagg), name=name)
    durs = cxdata.to_pandas(f.filter(f["_done"]).select(*keys, "_secs"), name=name)

    groups = dict(iter(durs.groupby(keys, dropna=False))) if keys else {(): durs}
    rows = []
    for _, c in counts.iterrows():
        key = tuple(c[k] for k in keys)
        g = groups.get(key)
        if g is None:  # a missing key (no completers) or NaN keys, which do not hash equal: use a mask
            mask = np.ones(len(durs), bool)
            for k, v in zip(keys, key):
                mask &= (durs[k].isna() if pd.isna(v) else (durs[k] == v)).to_numpy()
            g = durs[mask]
        hours = np.sort(g["_secs"].to_numpy(float)) / 3600.0
        med, lo, hi = _quantile_ci(hours, 0.5, alpha)
        p90, p90_lo, p90_hi = _quantile_ci(hours, 0.9, alpha)
        row = {**dict(zip(keys, key)), "start": start, "end": end, "n_start": int(c["n_start"]),
               "n": int(c["n"] or 0), "median": med, "ci_lower": lo, "ci_upper": hi, "p90": p90,
               "p90_ci_lower": p90_lo, "p90_ci_upper": p90_hi}
        for i, d in enumerate(within):
            tag = f"within_{d:g}d"
            num, den = int(c[f"_num{i}"] or 0), int(c[f"_den{i}"] or 0)
            lo_w, hi_w = wilson([num], [den], alpha)
            share_ok = den >= max(min_n, 1)
            row.update({tag: num / den if share_ok else np.nan,
                        f"{tag}_ci_lower": float(lo_w[0]) if share_ok else np.nan,
                        f"{tag}_ci_upper": float(hi_w[0]) if share_ok else np.nan, f"{tag}_n": den})
        rows.append(row)
    out = pd.DataFrame(rows)
    out["suppressed"] = out["n"] < max(min_n, 1)
    est = [c for c in out.columns if c in ("median", "ci_lower", "ci_upper")
           or (c.startswith(("p90", "within_")) and not c.endswith("_n"))]
    out.loc[out["suppressed"], est] = np.nan
    out = out.rename(columns={"_cohort": "cohort", **{f"_seg_{b}": b for b in by}})
    if cohort:
        out["cohort"] = pd.to_datetime(out["cohort"])
    order = [*by, *(["cohort"] if cohort else [])]
    out = out.sort_values(order, kind="mergesort").reset_index(drop=True) if order else out
    out.attrs.update({"unit": "hour", "as_of": data_end, "analysis_date": cut, "within_days": within,
                      "notes": [n for n in (late, early) if n] + seg_notes, "by": by})
    return out


# ==================================================================================================
# conversion at the journey's key points

def step_conversion(events, *, steps=DEFAULT_STEPS, by=None, customer: str = "customer_id",
                    event: str = "event_name", time: str = "event_time", as_of=None, alpha: float = 0.05,
                    min_n: int = 30, name: str | None = None) -> pd.DataFrame:
    """Each step's conversion from the previous step and its abandonment, with Wilson 95% intervals.

    Built on :func:`funnel` (same reach rule: step k counts at its first occurrence at or after the
    time counted for step k-1; a repeated step needs a row of its own; a step the table lacks is 0 with
    a note), one row per step after the first.

    Parameters
    ----------
    events : DataFrame, path, Ibis table or source
        One row per customer activity.
    steps : sequence of str
        The journey steps in order (at least two).
    by : str or list of str, optional
        Segment columns (a customer's segment: the first non-blank value on their step events).
    as_of : date-like, optional
        The analysis date: later events are left out (one note in ``attrs['notes']``).
    alpha, min_n
        1 - confidence level; steps entered by fewer than ``min_n`` customers are ``suppressed``.

    Returns
    -------
    pandas.DataFrame
        Segment columns, ``step``, ``previous_step``, ``position`` (2 = the second step), ``entered``
        (reached the previous step), ``converted``, ``conversion``, ``ci_lower``, ``ci_upper``,
        ``abandonment`` (1 - conversion), ``abandonment_ci_lower``, ``abandonment_ci_upper``,
        ``suppressed``.

    Examples
    --------
    >>> from cxlib import journey
    >>> journey.step_conversion("data/sample/events.csv", by="plan")  # doctest: +SKIP
    """
    steps = list(steps)
    by = cxdata.as_list(by)
    f = funnel(events, steps=steps, by=by, customer=customer, event=event, time=time, as_of=as_of, alpha=alpha,
               min_n=min_n, name=name)
    attrs = dict(f.attrs)
    by = attrs.get("by", by)  # the segment columns as the table names them
    f["previous_step"] = f["position"].map(lambda p: steps[p - 2] if p > 1 else None)
    f = f[f["position"] > 1].rename(columns={"previous": "entered", "reached": "converted"})
    f["abandonment"] = 1 - f["conversion"]
    f["abandonment_ci_lower"] = 1 - f["ci_upper"]
    f["abandonment_ci_upper"] = 1 - f["ci_lower"]
    cols = [*by, "step", "previous_step", "position", "entered", "converted", "conversion", "ci_lower",
            "ci_upper", "abandonment", "abandonment_ci_lower", "abandonment_ci_upper", "suppressed"]
    out = f[cols].reset_index(drop=True)
    out.attrs.update(attrs)
    return out


_CONVERSION_COLUMNS = {"step", "entered", "converted", "conversion", "suppressed"}


def weakest_step(events, *, steps=DEFAULT_STEPS, by=None, as_of=None, alpha: float = 0.05, min_n: int = 30,
                 **columns) -> pd.DataFrame:
    """The step with the lowest conversion, tested against the next-weakest (is "weakest" beyond noise?).

    Among the unsuppressed steps (per segment) the one with the lowest conversion is compared with the
    one with the second-lowest: the difference in conversion (weakest - next) with a Newcombe hybrid-score
    95% interval, and a two-sided two-proportion z test (pooled) whose p-value gives ``beyond_noise``
    (p < ``alpha``). The two conversions share customers (one step's converters enter the next), but
    conditional step rates are uncorrelated given that sequential structure, so the test for
    independent proportions applies. The two steps are picked as the lowest; when they are truly equal,
    the gap between the two lowest is, if anything, smaller than between two steps chosen in advance
    (by simulation: about ``alpha`` false "beyond noise" with two tied steps, far less with more), so
    the flag errs towards "not beyond noise".

    Parameters
    ----------
    events : DataFrame, path, Ibis table or source
        Events (passed to :func:`step_conversion`), or a table :func:`step_conversion` returned.
    steps, by, as_of, alpha, min_n, **columns
        As in :func:`step_conversion` (``customer=``, ``event=``, ``time=``, ``name=``); the same reach
        rule as :func:`funnel`.

    Returns
    -------
    pandas.DataFrame
        One row per segment: segment columns, ``step``, ``conversion``, ``ci_lower``, ``ci_upper``,
        ``entered``, ``next_step``, ``next_conversion``, ``next_entered``, ``difference``,
        ``diff_ci_lower``, ``diff_ci_upper``, ``z``, ``p_value``, ``beyond_noise``, ``steps_compared``.
        With fewer than two unsuppressed steps the test columns are NaN and ``beyond_noise`` is False.

    Examples
    --------
    >>> from cxlib import journey
    >>> w = journey.weakest_step("data/sample/events.csv")
    >>> w[["step", "next_step", "difference", "p_value", "beyond_noise"]]  # doctest: +SKIP
    """
    by = cxdata.as_list(by)
    if isinstance(events, pd.DataFrame) and _CONVERSION_COLUMNS <= set(events.columns):
        conv = events
    else:
        conv = step_conversion(events, steps=steps, by=by, as_of=as_of, alpha=alpha, min_n=min_n, **columns)
        by = conv.attrs.get("by", by)
    groups = conv.groupby(by, dropna=False, sort=True) if by else [((), conv)]
    rows = []
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        ok = g[~g["suppressed"].astype(bool)].sort_values(["conversion", "position"], kind="mergesort")
        row = {**dict(zip(by, key)), "steps_compared": len(ok)}
        if ok.empty:
            rows.append({**row, "step": None, "beyond_noise": False})
            continue
        w = ok.iloc[0]
        row.update({"step": w["step"], "conversion": w["conversion"], "ci_lower": w["ci_lower"],
                    "ci_upper": w["ci_upper"], "entered": int(w["entered"])})
        if len(ok) < 2:
            rows.append({**row, "beyond_noise": False})
            continue
        r = ok.iloc[1]
        k1, n1, k2, n2 = int(w["converted"]), int(w["entered"]), int(r["converted"]), int(r["entered"])
        p1, p2 = k1 / n1, k2 / n2
        pooled = (k1 + k2) / (n1 + n2)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        z = (p1 - p2) / se if se > 0 else 0.0
        p = float(2 * stats.norm.sf(abs(z)))
        lo, hi = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff", alpha=alpha)
        row.update({"next_step": r["step"], "next_conversion": r["conversion"], "next_entered": n2,
                    "difference": p1 - p2, "diff_ci_lower": float(lo), "diff_ci_upper": float(hi),
                    "z": float(z), "p_value": p, "beyond_noise": bool(p < alpha)})
        rows.append(row)
    cols = [*by, "step", "conversion", "ci_lower", "ci_upper", "entered", "next_step", "next_conversion",
            "next_entered", "difference", "diff_ci_lower", "diff_ci_upper", "z", "p_value", "beyond_noise",
            "steps_compared"]
    out = pd.DataFrame(rows).reindex(columns=cols)
    out["beyond_noise"] = out["beyond_noise"].fillna(False).astype(bool)
    out.attrs.update({k: v for k, v in conv.attrs.items() if k in ("as_of", "notes")})
    return out


# ==================================================================================================
# touches and churn

#: Default first-response targets in hours per channel (as in the scorecard notebook).
DEFAULT_TARGETS = {"email": 12.0, "chat": 0.1, "phone": 0.05}
#: Journey steps tested as touches by default (every subscriber has signed up, so signup is left out).
TOUCH_STEPS = DEFAULT_STEPS[1:]


def _window_seconds(window) -> float:
    """'30D' / '36h' / 30 (days) / timedelta -> seconds (> 0)."""
    try:
        if isinstance(window, bool):
            raise ValueError
        if isinstance(window, (int, float, np.integer, np.floating)):
            secs = float(window) * 86400.0
        elif isinstance(window, str) and window.strip().replace(".", "", 1).isdigit():
            secs = float(window) * 86400.0
        else:
            secs = pd.Timedelta(window).total_seconds()
    except (ValueError, TypeError):
        raise cxdata.CXDataError(f"window must be a number of days or a duration like '30D', not {window!r}.") from None
    if not secs > 0:
        raise cxdata.CXDataError(f"window must be positive, not {window!r}.")
    return secs


def _subscriptions(subscriptions, customer, start, end, as_of, name):
    """Per-customer (id as text, start / end in epoch seconds), the analysis date, the censoring time in
    seconds and the notes.

    Subscriptions starting after ``as_of`` are left out (an end after it counts as still active); churn
    is censored at :func:`cxlib.data.observed_end`, the earlier of ``as_of`` and the table's last record
    (latest start or end on or before ``as_of``), so a table that stops early is not read as retention.
    """
    s = cxdata.as_table(subscriptions, name=name)
    cxdata.require_columns(s, [customer, start, end], name=name,
                           roles={customer: "customer", start: "start", end: "end"})
    s = cxdata.clean_timestamp(s, start, name=name)
    s = cxdata.clean_timestamp(s, end, required=False, name=name)
    as_of = cxdata.default_as_of(as_of, subscriptions)
    last = cxdata.last_record(s, [start, end], as_of, name=name)
    notes = [n for n in (cxdata.after_as_of(s, [start, end], as_of, name=name),
                         cxdata.ends_early(s, last, as_of, "month", name=name)) if n]
    s = s.filter(s[start] <= as_of.to_pydatetime())
    s = s.select(_cid=s[customer].cast("string"), _s=_seconds(s[start]), _e=_seconds(s[end]))
    return s, as_of, float(cxdata.observed_end(as_of, last).timestamp()), notes


def _occurrences(*, events, tickets, responses, steps, targets, customer, event_time, event_name, created,
                 first_response, channel, response_time, score, as_of=None, notes=None):
    """Union of touch occurrences (``_cid``, ``_touch``, ``_t`` epoch seconds, ``_src``), the coverage
    table of each source (its own time column's min / max) and the touches as (name, source) pairs.

    With ``as_of``, rows of each touch table dated after it (events: their time, tickets: created,
    responses: the answer) are left out and counted in a note appended to ``notes``."""
    parts, cover, touches = [], [], []

    def upto(tbl, col, label):
        if as_of is None:
            return tbl
        late = cxdata.after_as_of(tbl, [col], as_of, name=label)
        if late and notes is not None:
            notes.append(late)
        return tbl.filter(tbl[col] <= as_of.to_pydatetime())

    def occ(tbl, touch, t_sec, src):
        return tbl.select(_cid=tbl[customer].cast("string"), _touch=touch.cast("string"),
                          _t=t_sec.cast("float64"), _src=ibis.literal(src))

    if events is not None:
        ev = cxdata.as_table(events, name="events")
        cxdata.require_columns(ev, [customer, event_time, event_name], name="events")
        ev = upto(cxdata.clean_timestamp(ev, event_time, name="events"), event_time, "events")
        cover.append(ev.select(_src=ibis.literal("events"), _t=_seconds(ev[event_time])))
        e = ev.filter(ev[event_name].cast("string").isin(list(steps)))
        parts.append(occ(e, ibis.literal("step:").concat(e[event_name].cast("string")),
                         _seconds(e[event_time]), "events"))
        touches += [(f"step:{s}", "events") for s in steps]
    if tickets is not None:
        tk = cxdata.as_table(tickets, name="tickets")
        cxdata.require_columns(tk, [customer, created], name="tickets")
        tk = upto(cxdata.clean_timestamp(tk, created, name="tickets"), created, "tickets")
        cover.append(tk.select(_src=ibis.literal("tickets"), _t=_seconds(tk[created])))
        parts.append(occ(tk, ibis.literal("support_contact"), _seconds(tk[created]), "tickets"))
        touches.append(("support_contact", "tickets"))
        if first_response in tk.columns:
            tk = cxdata.clean_timestamp(tk, first_response, required=False, name="tickets")
            if isinstance(targets, dict):
                cxdata.require_columns(tk, [channel], name="tickets", roles={channel: "channel"})
                target = tk[channel].cast("string").cases(*[(str(k), float(v)) for k, v in targets.items()],
                                                          else_=ibis.null("float64"))
            else:
                target = ibis.literal(float(targets))
            # late = no first reply, or a reply later than the target; it becomes a touch the moment the
            # target passed (created + target), which is known at that moment (no look-ahead)
            waited = _seconds(tk[first_response]) - _seconds(tk[created])
            late = target.notnull() & (tk[first_response].isnull() | (waited > target * 3600.0))
            lt = tk.mutate(_late=late, _when=_seconds(tk[created]) + target * 3600.0)
            lt = lt.filter(lt["_late"])
            parts.append(occ(lt, ibis.literal("slow_first_response"), lt["_when"], "tickets"))
            touches.append(("slow_first_response", "tickets"))
    if responses is not None:
        rs = cxdata.as_table(responses, name="responses")
        cxdata.require_columns(rs, [customer, response_time, score], name="responses")
        rs = upto(cxdata.clean_timestamp(rs, response_time, name="responses"), response_time, "responses")
        rs = cxdata.clean_numeric(rs, score, lo=0, hi=10, name="responses")
        rs = rs.filter(rs[customer].notnull())
        cover.append(rs.select(_src=ibis.literal("responses"), _t=_seconds(rs[response_time])))
        d = rs.filter(rs[score] <= 6)
        parts.append(occ(d, ibis.literal("detractor_answer"), _seconds(d[response_time]), "responses"))
        touches.append(("detractor_answer", "responses"))
    if not parts:
        raise cxdata.CXDataError("give at least one of events=, tickets=, responses= (the touches).")
    occ_t = parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)
    cov_t = cover[0] if len(cover) == 1 else ibis.union(*cover, distinct=False)
    coverage = cxdata.to_pandas(cov_t.group_by("_src").aggregate(lo=cov_t["_t"].min(), hi=cov_t["_t"].max()))
    return occ_t, coverage.set_index("_src"), touches


def _km_at(g: pd.DataFrame, horizon: float):
    """Kaplan-Meier survival at ``horizon`` and its Greenwood SE from counts (time, event, n);
    NaN when nobody was followed that long."""
    g = g[g["n"] > 0]
    if g.empty or g["time"].max() < horizon:
        return np.nan, np.nan
    sf = SurvfuncRight(g["time"].to_numpy(float), g["event"].to_numpy(float), freq_weights=g["n"].to_numpy(float))
    k = np.searchsorted(sf.surv_times, horizon, side="right")
    if k == 0:
        return 1.0, 0.0
    n, d = sf.n_risk[:k], sf.n_events[:k]
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(n > d, d / (n * (n - d)), 0.0)
    s = float(sf.surv_prob[k - 1])
    return s, float(s * np.sqrt(term.sum()))


def _compare(counts: pd.DataFrame, horizon: float, alpha: float) -> dict:
    """Touched (flag 1) vs not: Cox hazard ratio, log-rank p, retention at ``horizon`` and its difference.

    ``counts`` has columns flag, time, event, n (the sufficient statistics); they are expanded to one
    row per customer for statsmodels' PHReg / survdiff, which take no frequency weights."""
    z = stats.norm.ppf(1 - alpha / 2)
    c = counts[counts["n"] > 0]
    reps = c["n"].to_numpy(int)
    time = np.repeat(c["time"].to_numpy(float), reps)
    status = np.repeat(c["event"].to_numpy(float), reps)
    flag = np.repeat(c["flag"].to_numpy(float), reps)
    out = {"hazard_ratio": np.nan, "ci_lower": np.nan, "ci_upper": np.nan, "p_value": np.nan}
    ev1, ev0 = status[flag == 1].sum(), status[flag == 0].sum()
    if ev1 + ev0 > 0 and (flag == 1).any() and (flag == 0).any():
        out["p_value"] = float(survdiff(time, status, flag)[1])
        if ev1 > 0 and ev0 > 0:  # otherwise the hazard ratio is 0 or infinite
            fit = PHReg(time, flag[:, None], status=status, ties="breslow").fit()
            b, se = float(fit.params[0]), float(fit.bse[0])
            out.update(hazard_ratio=np.exp(b), ci_lower=np.exp(b - z * se), ci_upper=np.exp(b + z * se))
    s1, se1 = _km_at(c[c["flag"] == 1], horizon)
    s0, se0 = _km_at(c[c["flag"] == 0], horizon)
    diff, se_d = s1 - s0, np.sqrt(se1 ** 2 + se0 ** 2)
    out.update(retention_with=s1, retention_without=s0, diff=diff, diff_lo=diff - z * se_d,
               diff_hi=diff + z * se_d)
    return out


def churn_by_touch(subscriptions, *, events=None, tickets=None, responses=None, window=30,
                   customer: str = "customer_id", start: str = "start_time", end: str = "end_time",
                   as_of=None, targets=None, steps=None, horizon: float = 90, min_n: int = 30,
                   alpha: float = 0.05, event_time: str = "event_time", event_name: str = "event_name",
                   created: str = "created_at", first_response: str = "first_response_at",
                   channel: str = "channel", response_time: str = "response_time", score: str = "nps",
                   name: str | None = None) -> pd.DataFrame:
    """Churn of customers with vs without each touch: hazard ratio, log-rank p and retention difference.

    **This is association, not causation**: customers who, say, contact support differ from those who do
    not in many ways; a hazard ratio above 1 says they leave more often, not that the touch made them.

    Design (a landmark analysis, to avoid immortal-time bias). Each customer's *landmark* is ``window``
    after their subscription start. A customer has a touch when it happened **at or before the
    landmark** (the first ``window`` of the subscription; for journey steps and contacts an occurrence
    before the start counts too). Only customers still subscribed at the landmark (no end at or before
    it) and whose landmark is on or before the observed end are compared, and churn is followed **from the
    landmark on**: duration = days from the landmark to ``end`` (churned) or to the observed end
    (censored; the earlier of ``as_of`` and the subscriptions' last start or end on or before it),
    rounded to whole days. So nobody is counted as "touched" on the strength of having survived long
    enough to be touched, and churn during the window never counts against either group. Touches after the
    landmark are ignored.

    Touches: for each step in ``steps`` (events), ``step:<name>``: reached that step; ``support_contact``
    (tickets): opened a ticket; ``slow_first_response`` (tickets): a ticket whose first reply came later
    than its channel's target (``targets``, hours) or never came, counted at the moment the target
    passed; ``detractor_answer`` (responses): a survey answer with ``score`` 0-6. A customer is compared
    for a touch only when the touch's table covers their whole window (start on or after the table's
    first timestamp, landmark on or before its last), so a table that starts later than the
    subscriptions does not turn untracked customers into "without".

    Statistics: hazard ratio (touched / not) from a Cox model on the one binary covariate (statsmodels
    ``PHReg``, Breslow ties) with a Wald 95% interval; ``p_value`` from the log-rank test; Kaplan-Meier
    retention ``horizon`` days after the landmark per group, and their difference (with - without) with
    a Wald interval from Greenwood standard errors. The engine returns only counts per (touch flags,
    coverage, whole day, churned); they are expanded to one row per customer for PHReg / survdiff.

    Parameters
    ----------
    subscriptions : DataFrame, path, Ibis table or source
        One row per customer lifetime with ``start`` and ``end`` (blank while active).
    events, tickets, responses : optional
        The touch sources (at least one); ids in ``customer`` (compared as text).
    window : int, float, str or timedelta
        Landmark window: days (``30``) or a duration (``'30D'``, ``'2W'``).
    as_of : timestamp, optional
        The analysis date (default :func:`cxlib.data.default_as_of`). Rows of every table dated after it
        are left out (one note each; a later ``end`` counts as still active); churn is censored at the
        earlier of it and the subscriptions' last record (``attrs['observed_end']``), with a
        ``data_ends_early`` note when that is more than a month before it.
    targets : dict or number, optional
        First-response targets in hours per channel (default :data:`DEFAULT_TARGETS`), or one number
        for all tickets. Channels without a target never count as slow.
    steps : sequence of str, optional
        Journey steps tested as touches (default :data:`TOUCH_STEPS`).
    horizon : float
        Days after the landmark for the retention comparison (columns are named after it).
    min_n : int
        A touch with fewer than ``min_n`` customers on either side is ``suppressed`` (estimates NaN).
    event_time, event_name, created, first_response, channel, response_time, score : str
        Column names in events, tickets and responses.

    Returns
    -------
    pandas.DataFrame
        One row per touch: ``touch``, ``source``, ``n_with``, ``n_without``, ``churned_with``,
        ``churned_without``, ``hazard_ratio``, ``ci_lower``, ``ci_upper``, ``p_value``,
        ``retention_90d_with``, ``retention_90d_without``, ``retention_90d_diff``, ``diff_ci_lower``,
        ``diff_ci_upper``, ``suppressed``. ``attrs`` hold ``window_days``, ``as_of``, ``observed_end``,
        ``horizon_days`` and ``notes``.

    Examples
    --------
    >>> from cxlib import journey
    >>> ct = journey.churn_by_touch("data/sample/subscriptions.csv", events="data/sample/events.csv",
    ...                             tickets="data/sample/tickets.csv", window=30)
    >>> ct[["touch", "hazard_ratio", "ci_lower", "ci_upper", "n_with", "n_without"]]  # doctest: +SKIP
    """
    w_sec = _window_seconds(window)
    steps = list(TOUCH_STEPS if steps is None else steps)
    targets = DEFAULT_TARGETS if targets is None else targets
    s, as_of, as_sec, notes = _subscriptions(subscriptions, customer, start, end, as_of, name)
    occ, coverage, touches = _occurrences(
        events=events, tickets=tickets, responses=responses, steps=steps, targets=targets, customer=customer,
        event_time=event_time, event_name=event_name, created=created, first_response=first_response,
        channel=channel, response_time=response_time, score=score, as_of=as_of, notes=notes)

    s = s.mutate(_L=s["_s"] + w_sec)
    s = s.filter((s["_L"] <= as_sec) & (s["_e"].isnull() | (s["_e"] > s["_L"])))  # subscribed at landmark
    churned = s["_e"].notnull() & (s["_e"] <= as_sec)
    stop = churned.ifelse(s["_e"], ibis.literal(as_sec))
    srcs = list(coverage.index)
    s = s.mutate(_time=((stop - s["_L"]) / 86400.0).round(), _event=churned.cast("int64"),
                 **{f"_el_{src}": ((s["_s"] >= float(coverage.loc[src, "lo"]))
                                   & (s["_L"] <= float(coverage.loc[src, "hi"]))).cast("int64") for src in srcs})
    # touch flags: any occurrence at or before the landmark
    lm = s.select(_cid2=s["_cid"], _L2=s["_L"])
    o = occ.join(lm, occ["_cid"] == lm["_cid2"])
    o = o.filter(o["_t"] <= o["_L2"])
    flags = o.group_by(_cid2="_cid").aggregate(**{f"_f{i}": (o["_touch"] == tname).cast("int64").max()
                                                  for i, (tname, _) in enumerate(touches)})
    j = s.left_join(flags, s["_cid"] == flags["_cid2"])
    j = j.mutate(**{f"_f{i}": j[f"_f{i}"].fill_null(0) for i in range(len(touches))})
    keys = [*[f"_f{i}" for i in range(len(touches))], *[f"_el_{src}" for src in srcs], "_time", "_event"]
    agg = cxdata.to_pandas(j.group_by(keys).aggregate(n=j.count()), name=name)

    h = f"retention_{horizon:g}d"
    rows = []
    for i, (tname, src) in enumerate(touches):
        sub = agg[agg[f"_el_{src}"] == 1] if src in srcs else agg.iloc[0:0]
        c = (sub.groupby([f"_f{i}", "_time", "_event"], as_index=False)["n"].sum()
             .rename(columns={f"_f{i}": "flag", "_time": "time", "_event": "event"}))
        n_with, n_without = int(c.loc[c.flag == 1, "n"].sum()), int(c.loc[c.flag == 0, "n"].sum())
        row = {"touch": tname, "source": src, "n_with": n_with, "n_without": n_without,
               "churned_with": int((c.n * c.event)[c.flag == 1].sum()),
               "churned_without": int((c.n * c.event)[c.flag == 0].sum())}
        suppressed = min(n_with, n_without) < max(min_n, 1)
        r = {} if suppressed else _compare(c, float(horizon), alpha)
        row.update({"hazard_ratio": r.get("hazard_ratio", np.nan), "ci_lower": r.get("ci_lower", np.nan),
                    "ci_upper": r.get("ci_upper", np.nan), "p_value": r.get("p_value", np.nan),
                    f"{h}_with": r.get("retention_with", np.nan), f"{h}_without": r.get("retention_without", np.nan),
                    f"{h}_diff": r.get("diff", np.nan), "diff_ci_lower": r.get("diff_lo", np.nan),
                    "diff_ci_upper": r.get("diff_hi", np.nan), "suppressed": suppressed})
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs.update({"window_days": w_sec / 86400.0, "as_of": as_of, "horizon_days": float(horizon),
                      "observed_end": pd.Timestamp(as_sec, unit="s"), "notes": notes,
                      "design": "landmark"})
    return out


def last_touch_before_churn(subscriptions, *, events=None, tickets=None, responses=None, window=30,
                            customer: str = "customer_id", start: str = "start_time", end: str = "end_time",
                            as_of=None, targets=None, steps=None, alpha: float = 0.05,
                            event_time: str = "event_time", event_name: str = "event_name",
                            created: str = "created_at", first_response: str = "first_response_at",
                            channel: str = "channel", response_time: str = "response_time", score: str = "nps",
                            name: str | None = None) -> pd.DataFrame:
    """For each churn, the last touch in the ``window`` before it, counted.

    A descriptive count, **association, not causation**: a touch that is common among all customers will
    often be the last one before a churn too; compare with :func:`churn_by_touch` before reading a touch
    as a reason to leave.

    Touches are the occurrences used by :func:`churn_by_touch` (``step:<name>`` events,
    ``support_contact`` at ticket creation, ``slow_first_response`` at the moment the target passed,
    ``detractor_answer`` at the answer), taken strictly before the customer's ``end`` and no earlier than
    ``window`` before it; a churn with none is counted as ``'none'``. Only churns (``end`` on or before
    ``as_of``; later rows of every table are left out, with a note) whose whole window is covered by
    every given touch table (from the latest first timestamp to the earliest last timestamp of the
    tables) are counted.

    Parameters
    ----------
    subscriptions, events, tickets, responses, window, as_of, targets, steps, ...
        As in :func:`churn_by_touch`.

    Returns
    -------
    pandas.DataFrame
        One row per touch (most frequent first): ``touch``, ``churns``, ``share`` (of the churns counted),
        ``ci_lower``, ``ci_upper`` (Wilson), ``median_days_before`` (from the last touch to the churn).
        ``attrs['churns']`` is the number of churns counted.

    Examples
    --------
    >>> from cxlib import journey
    >>> journey.last_touch_before_churn("data/sample/subscriptions.csv", tickets="data/sample/tickets.csv",
    ...                                 responses="data/sample/responses.csv")  # doctest: +SKIP
    """
    w_sec = _window_seconds(window)
    steps = list(TOUCH_STEPS if steps is None else steps)
    targets = DEFAULT_TARGETS if targets is None else targets
    s, as_of, as_sec, notes = _subscriptions(subscriptions, customer, start, end, as_of, name)
    occ, coverage, touches = _occurrences(
        events=events, tickets=tickets, responses=responses, steps=steps, targets=targets, customer=customer,
        event_time=event_time, event_name=event_name, created=created, first_response=first_response,
        channel=channel, response_time=response_time, score=score, as_of=as_of, notes=notes)
    lo, hi = float(coverage["lo"].max()), float(coverage["hi"].min())
    s = s.filter(s["_e"].notnull() & (s["_e"] <= as_sec) & (s["_e"] - w_sec >= lo) & (s["_e"] <= hi))
    ch = s.select(_cid2=s["_cid"], _e2=s["_e"])
    o = occ.join(ch, occ["_cid"] == ch["_cid2"])
    o = o.filter((o["_t"] < o["_e2"]) & (o["_t"] >= o["_e2"] - w_sec))
    last = o.group_by(_cid2="_cid").aggregate(_touch=o["_touch"].argmax(o["_t"]), _tl=o["_t"].max())
    j = s.left_join(last, s["_cid"] == last["_cid2"])
    j = j.mutate(_touch=j["_touch"].fill_null("none"), _days=(j["_e"] - j["_tl"]) / 86400.0)
    out = cxdata.to_pandas(j.group_by("_touch").aggregate(churns=j.count(), median_days_before=j["_days"].median()),
                           name=name).rename(columns={"_touch": "touch"})
    total = int(out["churns"].sum())
    out["share"] = out["churns"] / total if total else np.nan
    out["ci_lower"], out["ci_upper"] = wilson(out["churns"], np.full(len(out), total), alpha)
    out = out.sort_values(["churns", "touch"], ascending=[False, True], kind="mergesort").reset_index(drop=True)
    out = out[["touch", "churns", "share", "ci_lower", "ci_upper", "median_days_before"]]
    out.attrs.update({"churns": total, "window_days": w_sec / 86400.0, "as_of": as_of,
                      "observed_end": pd.Timestamp(as_sec, unit="s"), "notes": notes})
    return out


# ==================================================================================================
# the journey map (one row per stage of a journey file) and its friction list
