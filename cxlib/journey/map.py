"""The journey map: one row per stage of the journey file, every estimate with its interval.

Per stage (:func:`journey_map`):

- **customers** reaching it. Event stages follow the funnel rule of :func:`cxlib.journey.funnel`: a
  customer enters at their first occurrence of the first event stage and reaches stage k at their first
  occurrence of one of its event names at or after the time counted for the previous event stage. A
  ticket stage is reached by customers with a ticket in its channels; a touchpoint-only stage has no
  count of customers (its answers are counted).
- **conversion** from the previous event stage (Wilson 95%, :func:`cxlib.stats.wilson`).
- **time from the previous event stage**: the Kaplan–Meier median in days (:mod:`cxlib.survival`), so
  customers still on their way are censored at the end of the data, not dropped.
- **the promise against its target**: the share of the stage's customers who got the promise (Wilson
  95%) and the status ``met`` / ``missed`` (beyond the funnel-plot control limit of
  :mod:`cxlib.journey.friction`) / ``too_close`` (below target, within noise). Reach targets count the
  customers whose window had ended by the end of the data; first-response targets the tickets whose
  channel target had passed; detractor targets the answers at the touchpoint.
- **NPS, CSAT, CES at the touchpoint** (:mod:`cxlib.metrics`), the **response rate** (customers reaching
  the stage who answered there) and the **NPS gap** to the answers at the journey's other touchpoints.
- **top theme** of the detractors' comments there (:func:`cxlib.themes.theme_counts`).
- **churn after a bad experience there**: the hazard ratio of :func:`cxlib.journey.churn_by_touch` with
  the stage's bad experience as the touch (association, not causation).
- **change from the previous period** of every metric that has one: conversion (within
  :data:`CONVERSION_DAYS` of reaching the previous stage, by the period the customer reached it), the
  promise share, NPS, CSAT and CES at the touchpoint; the latest complete period against the one before,
  each with its 95% interval and p-value (:func:`cxlib.stats.proportion_change`,
  :func:`cxlib.stats.score_change`), flagged beyond noise only after Benjamini–Hochberg over all stages and
  metrics together (one family).

Numbers come back raw; what the data lacked comes back as note codes (``attrs['notes']`` and each row's
``status``).

Examples
--------
>>> from cxlib import journey
>>> m = journey.journey_map("data/sample/events.csv", responses="data/sample/responses.csv")  # doctest: +SKIP
>>> m[["stage", "customers", "conversion", "promise_share", "target", "target_status"]]  # doctest: +SKIP
"""
from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from cxlib import data as cxdata
from cxlib import metrics, survival, themes
from cxlib.journey import friction as fr
from cxlib.journey import steps
from cxlib.journey.spec import load_journey
from cxlib.notes import note
from cxlib.stats import nps_change, proportion_change, score_change, wilson

__all__ = ["journey_map", "PERIODS", "CHANGE_METRICS", "CONVERSION_DAYS"]

PERIODS = {"week": "W", "month": "M", "quarter": "Q"}
DAY = 86400.0
#: Days a customer has to reach a stage in the conversion of a period (its change from the period before).
CONVERSION_DAYS = 30.0
#: The per-stage metrics with a change from the previous period (``<metric>_change``, BH over all of them).
CHANGE_METRICS = ("conversion", "promise", "nps", "csat", "ces")


def _core():
    """The funnel engine (:mod:`cxlib.journey.steps`)."""
    return steps


def _period_end(start: pd.Timestamp, period: str) -> pd.Timestamp:
    return start + {"week": pd.DateOffset(weeks=1), "month": pd.DateOffset(months=1),
                    "quarter": pd.DateOffset(months=3)}[period]


def _last_two(counts: pd.DataFrame, period: str, data_end: pd.Timestamp, lag_days: float):
    """The latest complete period (ended ``lag_days`` before ``data_end``) and the one before, as rows."""
    if counts.empty:
        return None, None
    c = counts.sort_values("_p")
    ok = c[[(_period_end(pd.Timestamp(p), period) + pd.Timedelta(days=lag_days)) <= data_end for p in c["_p"]]]
    if len(ok) < 2:
        return None, None
    cur = ok.iloc[-1]
    prev_start = pd.Timestamp(cur["_p"]) - (_period_end(pd.Timestamp(cur["_p"]), period) - pd.Timestamp(cur["_p"]))
    before = ok[ok["_p"] < cur["_p"]]
    prev = before.iloc[-1] if len(before) else None
    if prev is not None and pd.Timestamp(prev["_p"]) < prev_start - pd.Timedelta(days=3):
        prev = None  # not the period just before (a gap in the data)
    return cur, prev


def _events_part(events, stages, *, customer, event, time, cut, period, name, notes):
    """Per event stage: reach, conversion, KM medians, reach-promise counts and their last two periods, and
    the per-customer table the churn touches are built from."""
    core = _core()
    ev = [s for s in stages if s["events"]]
    # a stage of one event name is that name (a name may repeat: first purchase, second purchase); a stage
    # of several names is one key its names are mapped to
    keys = [s["events"][0] if len(s["events"]) == 1 else f"\x00stage{i}" for i, s in enumerate(ev)]
    t = cxdata.as_table(events, name=name)
    cxdata.require_columns(t, [customer, event, time], name=name)
    t = cxdata.clean_timestamp(t, time, name=name)
    late = cxdata.after_as_of(t, [time], cut, name=name)
    notes += [late] if late else []
    t = t.filter(t[time] <= cut.to_pydatetime())
    t = t.mutate(_ev=t[event].cast("string"))
    every = sorted({n for s in ev for n in s["events"]})
    have = set(cxdata.to_pandas(t.filter(t["_ev"].isin(every)).select("_ev").distinct(), name=name)["_ev"].dropna())
    missing = [n for n in every if n not in have]
    available = []
    if missing:
        miss = core._missing_steps_note(t, missing, event, name)
        notes.append(miss)
        available = list(miss.values.get("available", []))
    head = cxdata.to_pandas(t.aggregate(_last=t[time].max()), name=name)
    data_end = cxdata.observed_end(cut, head["_last"].iloc[0])
    end_sec = float(pd.Timestamp(data_end).timestamp())
    mapping = {n: k for k, s in zip(keys, ev) if len(s["events"]) > 1 for n in s["events"]}
    m = t.filter(t["_ev"].isin(every))
    if mapping:
        m = m.mutate(_ev=m["_ev"].cases(*mapping.items(), else_=m["_ev"]))
    f = core._funnel_times(m, keys, customer, time, [])
    sec = [f[f"_t{i}"].epoch_seconds().cast("float64") for i in range(len(keys))]  # keys may repeat
    aggs = {f"r{i}": f[f"_t{i}"].notnull().cast("int64").sum() for i in range(len(keys))}
    parts, by_period = [], []
    unit = PERIODS[period]
    cw = CONVERSION_DAYS * DAY
    for i, s in enumerate(ev):
        if not i:
            continue
        prev, cur = sec[i - 1], sec[i]
        reached = f[f"_t{i}"].notnull()
        dur = reached.ifelse(cur - prev, ibis.literal(end_sec) - prev) / DAY
        parts.append(f.filter(f[f"_t{i - 1}"].notnull()).select(
            _stage=ibis.literal(s["name"]), _d=dur, _e=reached.cast("int64")))
        # by the period the customer reached the previous stage: conversion within CONVERSION_DAYS (so every
        # period had the same time to convert) and the reach promise, among customers whose window had ended
        c_el = f[f"_t{i - 1}"].notnull() & (prev + cw <= end_sec)
        cols = {"_ce": c_el.cast("int64"), "_cg": (c_el & reached & (cur - prev <= cw)).cast("int64"),
                "_pe": ibis.literal(0, "int64"), "_pg": ibis.literal(0, "int64")}
        tg = s["target"]
        if tg and tg["kind"] == "reach":
            w = tg["within_days"] * DAY
            elig = f[f"_t{i - 1}"].notnull() & (prev + w <= end_sec)
            got = elig & reached & (cur - prev <= w)
            aggs[f"n{i}"] = elig.cast("int64").sum()
            aggs[f"g{i}"] = got.cast("int64").sum()
            cols.update(_pe=elig.cast("int64"), _pg=got.cast("int64"))
        by_period.append(f.filter(f[f"_t{i - 1}"].notnull()).select(
            _stage=ibis.literal(s["name"]), _p=f[f"_t{i - 1}"].truncate(unit), **cols))
    wide = cxdata.to_pandas(f.aggregate(**aggs), name=name).iloc[0]
    periods = []
    if by_period:
        u = by_period[0]
        for p in by_period[1:]:
            u = u.union(p, distinct=False)
        g = cxdata.to_pandas(u.group_by(["_stage", "_p"]).aggregate(
            pn=u["_pe"].sum(), pk=u["_pg"].sum(), cn=u["_ce"].sum(), ck=u["_cg"].sum()), name=name)
        for metric, n, k in (("promise", "pn", "pk"), ("conversion", "cn", "ck")):
            x = g[g[n] > 0]
            periods.append(pd.DataFrame({"_p": x["_p"], "n": x[n].astype(int), "k": x[k].astype(int),
                                         "stage": x["_stage"], "metric": metric}))
    km = pd.DataFrame()
    if parts:
        u = parts[0]
        for p in parts[1:]:
            u = u.union(p, distinct=False)
        km = survival.median_survival(u, duration="_d", event="_e", unit="day", by="_stage", customer=None, min_n=0)
    rows = {}
    for i, s in enumerate(ev):
        r = {"customers": int(wide[f"r{i}"] or 0), "previous": int(wide[f"r{i - 1}"] or 0) if i else np.nan,
             "found": any(n in have for n in s["events"])}
        if i and len(km):
            k = km[km["_stage"] == s["name"]]
            if len(k):
                r.update(median_days=k["median"].iloc[0], median_ci_lower=k["ci_lower"].iloc[0],
                         median_ci_upper=k["ci_upper"].iloc[0])
        if f"n{i}" in wide:
            r.update(promise_n=int(wide[f"n{i}"] or 0), promise_k=int(wide[f"g{i}"] or 0))
        rows[s["name"]] = r
    per = pd.concat(periods, ignore_index=True) if periods else pd.DataFrame(columns=["_p", "n", "k", "stage",
                                                                                     "metric"])
    return rows, per, {"funnel": f, "keys": keys, "stages": ev, "end_sec": end_sec, "events": t,
                       "data_end": data_end, "available": available}


def _bad_events(ctx, stage, *, customer, time, event):
    """Events for :func:`churn_by_touch`: a ``missed`` row when the stage's window passed without reaching
    it, beside every event of the table (so the touch's coverage is the events table's)."""
    f, keys = ctx["funnel"], ctx["keys"]
    i = [s["name"] for s in ctx["stages"]].index(stage["name"])
    w = stage["target"]["within_days"] * DAY
    prev = f[f"_t{i - 1}"].epoch_seconds().cast("float64")
    cur = f[f"_t{i}"].epoch_seconds().cast("float64")
    miss = f[f"_t{i - 1}"].notnull() & (prev + w <= ctx["end_sec"]) & (f[f"_t{i}"].isnull() | (cur - prev > w))
    mf = f.filter(miss)
    missed = mf.select(**{customer: mf["_c"].cast("string"),
                          time: mf[f"_t{i - 1}"] + ibis.interval(seconds=int(round(w))),
                          event: ibis.literal("missed")})
    t = ctx["events"]
    rest = t.select(**{customer: t[customer].cast("string"), time: t[time], event: ibis.literal("other")})
    return missed.union(rest, distinct=False)


def _tickets_part(tickets, stages, *, customer, created, first_response, channel, targets, cut, period, name,
                  notes):
    """Per ticket stage: customers with a ticket, first replies within the channel target, by period."""
    t = cxdata.as_table(tickets, name=name)
    cxdata.require_columns(t, [customer, created, first_response, channel], name=name)
    t = cxdata.clean_timestamp(t, created, name=name)
    t = cxdata.clean_timestamp(t, first_response, required=False, name=name)
    late = cxdata.after_as_of(t, [created], cut, name=name)
    notes += [late] if late else []
    t = t.filter(t[created] <= cut.to_pydatetime())
    last = cxdata.to_pandas(t.aggregate(_l=t[created].max()), name=name)["_l"].iloc[0]
    data_end = cxdata.observed_end(cut, last)
    end_sec = float(pd.Timestamp(data_end).timestamp())
    rows, per = {}, []
    for s in stages:
        if not s["ticket_channels"]:
            continue
        x = t.filter(t[channel].cast("string").isin(s["ticket_channels"]))
        r = {"customers": int(cxdata.to_pandas(x.aggregate(_n=x[customer].nunique()), name=name)["_n"].iloc[0] or 0)}
        tg = s["target"]
        if tg and tg["kind"] == "first_response":
            hours = {str(k): float(v) for k, v in targets.items() if str(k) in s["ticket_channels"]}
            x = x.filter(x[channel].cast("string").isin(list(hours)))
            ch = x[channel].cast("string")
            lim = ch.cases(*[(k, ibis.literal(v * 3600.0, "float64")) for k, v in hours.items()], else_=None)
            c0 = x[created].epoch_seconds().cast("float64")
            elig = c0 + lim <= end_sec
            got = elig & x[first_response].notnull() & (x[first_response].epoch_seconds().cast("float64") - c0 <= lim)
            x = x.mutate(_el=elig.cast("int64"), _g=got.cast("int64"), _p=x[created].truncate(PERIODS[period]))
            a = cxdata.to_pandas(x.filter(x["_el"] == 1).group_by("_p").aggregate(n=ibis._.count(), k=ibis._["_g"].sum()),
                                 name=name)
            r.update(promise_n=int(a["n"].sum()), promise_k=int(a["k"].sum()), lag_days=max(hours.values(), default=0) / 24)
            per.append(a.assign(stage=s["name"], metric="promise"))
        rows[s["name"]] = r
    per = pd.concat(per, ignore_index=True) if per else pd.DataFrame(columns=["_p", "n", "k", "stage", "metric"])
    return rows, per, data_end


def _responses_part(responses, stages, *, customer, touchpoint, response_time, score, csat, ces, comment, cut,
                    period, name, notes, reached, min_n):
    """Per touchpoint stage: NPS/CSAT/CES counts, the response rate, the gap to the other touchpoints, the
    top theme, detractor-target counts and the NPS of the last two complete periods."""
    r = cxdata.as_table(responses, name=name)
    cxdata.require_columns(r, [touchpoint, score], name=name)
    tps = sorted({s["touchpoint"] for s in stages if s["touchpoint"]})
    r = r.mutate(**{touchpoint: r[touchpoint].cast("string")})
    kw = dict(by=touchpoint, as_of=cut, name=name)
    n = metrics.nps_counts(r, score=score, **kw)
    notes += list(n.attrs.get("notes", []))
    have = sorted(str(v) for v in n.loc[n["n"] > 0, touchpoint].dropna())  # for a touchpoint nobody answered
    n = n[n[touchpoint].isin(tps)].set_index(touchpoint)
    cs = metrics.csat_counts(r, score=csat, **kw).set_index(touchpoint) if csat in r.columns else None
    ce = metrics.ces_counts(r, score=ces, **kw).set_index(touchpoint) if ces in r.columns else None
    cs = metrics.csat_from_counts(cs.reset_index()).set_index(touchpoint) if cs is not None else None
    ce = metrics.ces_from_counts(ce.reset_index()).set_index(touchpoint) if ce is not None else None
    byp = {}  # each score's counts by period, for its change from the previous period
    if response_time in r.columns:
        byp["nps"] = metrics.nps_counts(r, score=score, time=response_time, period=period, **kw)
        if csat in r.columns:
            byp["csat"] = metrics.csat_counts(r, score=csat, time=response_time, period=period, **kw)
        if ces in r.columns:
            byp["ces"] = metrics.ces_counts(r, score=ces, time=response_time, period=period, **kw)
    top = pd.DataFrame()
    if comment in r.columns:
        # what unhappy customers say there: themes of the detractors' comments (praise would top every stage)
        tc = themes.theme_counts(r.filter(r[score] <= 6), comment=comment, by=touchpoint, as_of=cut, name=name,
                                 min_n=0)
        top = tc[tc["mentions"] > 0].sort_values(["mentions", "theme"], ascending=[False, True])
        top = top.drop_duplicates(touchpoint).set_index(touchpoint)
    answered = {}
    if customer in r.columns and reached:
        rr = r
        if response_time in r.columns:  # text times (a DataFrame read without parsing) as the metrics read them
            rr = cxdata.clean_timestamp(r, response_time, required=False, name=name)
        rr = rr.filter(rr[score].notnull() & (rr[response_time] <= cut.to_pydatetime()) if response_time in rr.columns
                       else rr[score].notnull())
        for stage, ids in reached.items():
            tp = next(s["touchpoint"] for s in stages if s["name"] == stage)
            who = rr.filter(rr[touchpoint] == tp).select(_c=rr[customer].cast("string")).distinct()
            j = who.join(ids, "_c")
            answered[stage] = int(cxdata.to_pandas(j.aggregate(_n=j.count()), name=name)["_n"].iloc[0] or 0)
    rows = {}
    for s in stages:
        tp = s["touchpoint"]
        if not tp:
            continue
        row = {"answers": 0}
        if s["name"] in answered:
            row["respondents"] = answered[s["name"]]
        if tp not in n.index or not n.loc[tp, "n"] > 0:
            notes.append(note("journey_touchpoint_not_found", stage=s["name"], touchpoint=tp, available=have))
            rows[s["name"]] = row
            continue
        if n.loc[tp, "n"] < min_n:
            # too few answers for a score a reader would act on: the count only (as every page suppresses)
            row["answers"] = int(n.loc[tp, "n"])
            notes.append(note("journey_few_answers", stage=s["name"], touchpoint=tp, answers=row["answers"],
                              min_n=min_n))
            rows[s["name"]] = row
            continue
        if tp in n.index and n.loc[tp, "n"] > 0:
            c = n.loc[tp]
            est = metrics.nps_from_counts(c.to_frame().T.reset_index(drop=True), min_n=0).iloc[0]
            rest = n.drop(index=tp)[["n", "promoters", "detractors"]].sum()
            row.update(answers=int(c["n"]), detractors=int(c["detractors"]), nps=est["nps"],
                       nps_ci_lower=est["ci_lower"], nps_ci_upper=est["ci_upper"])
            if rest["n"] > 0:
                g = nps_change(c, rest)
                row.update(nps_gap=g["change"], nps_gap_ci_lower=g["ci_lower"], nps_gap_ci_upper=g["ci_upper"])
        for df, col in ((cs, "csat"), (ce, "ces")):
            if df is not None and tp in df.index and df.loc[tp, "n"] > 0:
                row.update({col: df.loc[tp, col], f"{col}_ci_lower": df.loc[tp, "ci_lower"],
                            f"{col}_ci_upper": df.loc[tp, "ci_upper"]})
        if tp in top.index:
            row.update(top_theme=top.loc[tp, "theme"], top_theme_share=top.loc[tp, "share"],
                       top_theme_ci_lower=top.loc[tp, "ci_lower"], top_theme_ci_upper=top.loc[tp, "ci_upper"])
        for metric, c in byp.items():
            # a mean's variance needs two answers in each period; a share or NPS one
            b = c[(c[touchpoint] == tp) & c["complete"] & (c["n"] >= (2 if metric == "ces" else 1))]
            cur, prev = _last_two(b.rename(columns={"period": "_p"}), period,
                                  pd.Timestamp(c.attrs.get("data_end") or cut), 0)
            if cur is not None and prev is not None:
                ch = score_change(metric, cur, prev)
                row.update({f"{metric}_change": ch["change"], f"{metric}_change_ci_lower": ch["ci_lower"],
                            f"{metric}_change_ci_upper": ch["ci_upper"], f"{metric}_change_p": ch["p_value"],
                            f"{metric}_change_period": pd.Timestamp(cur["_p"])})
                if metric == "nps" and s["target"] and s["target"]["kind"] == "detractors":
                    # the promise of a detractor target: the share of answers that are not detractors
                    ch = proportion_change(cur["n"] - cur["detractors"], cur["n"], prev["n"] - prev["detractors"],
                                           prev["n"])
                    row.update(promise_change=ch["change"], promise_change_ci_lower=ch["ci_lower"],
                               promise_change_ci_upper=ch["ci_upper"], promise_change_p=ch["p_value"],
                               promise_change_period=pd.Timestamp(cur["_p"]))
        rows[s["name"]] = row
    return rows


def _quote(responses, *, theme, touchpoint, tp, comment, score, cut, name):
    """One comment of ``theme`` at ``tp``, contact details masked (:func:`cxlib.sources.personal.mask_contacts`)."""
    from cxlib.sources.personal import mask_contacts

    # an export without respondent ids (most survey tools') still has a quote: the touchpoint stands in as
    # the id, which is all example_comments needs (the pick is by comment text then)
    ident = "respondent_id" if "respondent_id" in cxdata.as_table(responses, name=name).columns else touchpoint
    try:
        ex = themes.example_comments(responses, theme=theme, comment=comment, id=ident, keep=(touchpoint, score),
                                     n=10 ** 6, as_of=cut, name=name)
    except cxdata.CXDataError:
        return None
    ex = ex[(ex[touchpoint].astype(str) == tp) & (ex[score] <= 6)]  # a detractor's words, as the theme
    if ex.empty:
        return None
    text = ex.sort_values([ex.columns[0], comment], kind="mergesort").iloc[0][comment]
    return mask_contacts(text)


def journey_map(events=None, *, responses=None, tickets=None, subscriptions=None, journey=None, as_of=None,
                period: str = "month", targets=None, window=30, customer: str = "customer_id",
                event: str = "event_name", time: str = "event_time", touchpoint: str = "touchpoint",
                response_time: str = "response_time", score: str = "nps", csat: str = "csat", ces: str = "ces",
                comment: str = "comment", created: str = "created_at", first_response: str = "first_response_at",
                channel: str = "channel", start: str = "start_time", end: str = "end_time",
                allowance: float = fr.ALLOWANCE, alpha: float = 0.05, n_boot: int = 999, seed: int = 0,
                min_n: int = metrics.MIN_N, name: str | None = None) -> pd.DataFrame:
    """One row per stage of the journey, in its order, with every estimate's 95% interval.

    Parameters
    ----------
    events, responses, tickets, subscriptions : DataFrame, path, Ibis table or source, optional
        The tables; a stage whose table is not given says what it needs (``status``), never an error.
    journey : str, Path or dict, optional
        The journey file (default: the package's, the sample's journey; :func:`cxlib.journey.spec.load_journey`).
    as_of : date-like, optional
        The analysis date (default :func:`cxlib.data.default_as_of` of the given tables).
    period : {'week', 'month', 'quarter'}
        The period of the change columns: the latest complete one against the one before.
    targets : dict, optional
        First-response targets in hours per channel (default :data:`cxlib.journey.DEFAULT_TARGETS`, the
        scorecard's).
    window : number or duration
        Landmark window of the churn comparison (:func:`cxlib.journey.churn_by_touch`).
    allowance, alpha, n_boot, seed
        Friction: the overdispersion allowance (share points) of the control limits, the family-wise
        error of a false friction, and the bootstrap of the ranks (:mod:`cxlib.journey.friction`).
    min_n : int
        A touchpoint with fewer answers shows their count only: no score, gap, theme, change or detractor
        target (default :data:`cxlib.metrics.MIN_N`, as on every page; a ``journey_few_answers`` note).

    Returns
    -------
    pandas.DataFrame
        One row per stage: ``stage``, ``position``, ``promise``, ``owner``, ``status`` (``ok``,
        ``not_found``: no event name of the stage is in the table, ``events_in_table`` then listing the names
        it has, ``needs_<table>``), ``customers``,
        ``previous``, ``conversion`` (+ ``conversion_ci_lower/upper``), ``median_days`` (+ ``median_ci_*``),
        ``target_kind``, ``target``, ``within_days``, ``promise_n``, ``promise_k``, ``promise_share``
        (+ ``promise_ci_*``), ``control_limit``, ``target_status``, ``friction``, ``rank``
        (+ ``rank_ci_*``), ``answers``, ``respondents``, ``response_rate`` (+ ci), ``nps``, ``csat``, ``ces``
        (+ ci), ``nps_gap`` (+ ci), ``top_theme``, ``top_theme_share`` (+ ci), ``quote``, ``bad``,
        ``churn_touch``, ``churn_hr`` (+ ci), for each metric of :data:`CHANGE_METRICS`
        (conversion, promise, nps, csat, ces) ``<metric>_change`` (+ ``_ci_lower/upper``, ``_p``, ``_q``:
        BH-adjusted over every stage and metric, ``_beyond_noise``, ``_period``: the latest complete
        period), ``change_period`` (the NPS's, else the first metric's with one). ``attrs``: ``journey_sha256``,
        ``journey_path``, ``as_of``, ``period``, ``notes``, ``top_two_apart``, ``overdispersion``, ``changes_tested``
        (the number of changes in the BH family), ``conversion_days``.

    Raises
    ------
    cxlib.data.CXDataError
        A mistake in the journey file, or no table given at all.

    Examples
    --------
    >>> from cxlib import journey
    >>> journey.journey_map("data/sample/events.csv")[["stage", "customers", "conversion"]]  # doctest: +SKIP
    """
    core = _core()
    spec = load_journey(journey)
    stages = spec["stages"]
    if period not in PERIODS:
        raise cxdata.CXDataError(f"period must be one of {', '.join(PERIODS)}, not {period!r}.")
    given = {"events": events, "responses": responses, "tickets": tickets, "subscriptions": subscriptions}
    if all(v is None for v in given.values()):
        raise cxdata.CXDataError("journey_map needs at least one of events, responses, tickets or subscriptions.")
    cut = cxdata.default_as_of(as_of, *[v for v in given.values() if v is not None])
    targets = core.DEFAULT_TARGETS if targets is None else targets
    notes: list = []
    ev_rows, tk_rows, rs_rows, ctx = {}, {}, {}, None
    periods = []
    if events is not None and any(s["events"] for s in stages):
        ev_rows, per, ctx = _events_part(events, stages, customer=customer, event=event, time=time, cut=cut,
                                         period=period, name=name, notes=notes)
        lags = {(s["name"], "promise"): s["target"]["within_days"] for s in stages
                if s["target"] and s["target"]["kind"] == "reach"}
        lags.update({(s["name"], "conversion"): CONVERSION_DAYS for s in ctx["stages"][1:]})
        periods.append((per, ctx["data_end"], lags))
    tk_data_end = None
    if tickets is not None and any(s["ticket_channels"] for s in stages):
        tk_rows, per, tk_data_end = _tickets_part(tickets, stages, customer=customer, created=created,
                                                  first_response=first_response, channel=channel, targets=targets,
                                                  cut=cut, period=period, name=name, notes=notes)
        periods.append((per, tk_data_end, {(k, "promise"): v["lag_days"] for k, v in tk_rows.items()
                                           if "lag_days" in v}))
    no_touchpoint = False
    if responses is not None and any(s["touchpoint"] for s in stages):
        no_touchpoint = touchpoint not in cxdata.as_table(responses, name=name).columns
        if no_touchpoint:
            notes.append(note("journey_no_touchpoint", table=cxdata.source_name(cxdata.as_table(responses)),
                              column=touchpoint))
    if responses is not None and any(s["touchpoint"] for s in stages) and not no_touchpoint:
        reached = {}
        if ctx is not None:
            f = ctx["funnel"]
            for i, s in enumerate(ctx["stages"]):
                if s["touchpoint"]:
                    reached[s["name"]] = f.filter(f[f"_t{i}"].notnull()).select(_c=f["_c"].cast("string"))
        rs_rows = _responses_part(responses, stages, customer=customer, touchpoint=touchpoint,
                                  response_time=response_time, score=score, csat=csat, ces=ces, comment=comment,
                                  cut=cut, period=period, name=name, notes=notes, reached=reached, min_n=min_n)
    rows = []
    prev_event = None
    for pos, s in enumerate(stages, start=1):
        row = {"stage": s["name"], "position": pos, "promise": s["promise"], "owner": s["owner"],
               "events": ", ".join(s["events"]), "touchpoint": s["touchpoint"],
               "ticket_channels": ", ".join(s["ticket_channels"]), "bad": s["bad"]}
        needs = [tbl for tbl, has in (("events", s["events"]), ("tickets", s["ticket_channels"]),
                                      ("responses", s["touchpoint"])) if has and given[tbl] is None]
        if s["touchpoint"] and no_touchpoint:
            needs.append("touchpoint")
        tg = s["target"]
        row.update(target_kind=tg["kind"] if tg else None, target=tg["share"] if tg else np.nan,
                   target_given=tg["given"] if tg else None, target_value=tg["value"] if tg else np.nan,
                   within_days=tg["within_days"] if tg else np.nan)
        if s["events"] and s["name"] in ev_rows:
            e = ev_rows[s["name"]]
            row.update({k: v for k, v in e.items() if k != "found"})
            row["previous_stage"] = prev_event
            if not e["found"]:
                row["status"] = "not_found"
                row["events_in_table"] = ", ".join(ctx["available"])
        elif s["ticket_channels"] and s["name"] in tk_rows:
            row.update({k: v for k, v in tk_rows[s["name"]].items() if k != "lag_days"})
        row.update(rs_rows.get(s["name"], {}))
        if tg and tg["kind"] == "detractors" and row.get("answers") and "detractors" in row:  # not below min_n
            row.update(promise_n=row["answers"], promise_k=row["answers"] - row["detractors"])
        row.setdefault("status", ("needs_" + needs[0]) if needs else "ok")
        row["needs"] = ", ".join(needs)
        if s["events"]:
            prev_event = s["name"]
        rows.append(row)
    out = pd.DataFrame(rows)
    for c in ("customers", "previous", "promise_n", "promise_k", "answers", "respondents", "median_days",
              "median_ci_lower", "median_ci_upper", "nps", "nps_ci_lower", "nps_ci_upper", "nps_gap",
              "nps_gap_ci_lower", "nps_gap_ci_upper", "csat", "csat_ci_lower", "csat_ci_upper", "ces",
              "ces_ci_lower", "ces_ci_upper", "top_theme_share", "top_theme_ci_lower", "top_theme_ci_upper",
              "detractors", *[f"{m}_change{x}" for m in ("nps", "csat", "ces")
                              for x in ("", "_ci_lower", "_ci_upper", "_p")]):
        if c not in out:
            out[c] = np.nan
    for c in ("top_theme", "previous_stage", "events_in_table",
              *[f"{m}_change_period" for m in ("nps", "csat", "ces")]):
        if c not in out:
            out[c] = None
    prev = out["previous"].astype(float)
    out["conversion"] = out["customers"] / prev.where(prev > 0)
    out["conversion_ci_lower"], out["conversion_ci_upper"] = wilson(out["customers"].fillna(0), prev.fillna(0))
    out["promise_share"] = out["promise_k"] / out["promise_n"].where(out["promise_n"] > 0)
    out["promise_ci_lower"], out["promise_ci_upper"] = wilson(out["promise_k"].fillna(0), out["promise_n"].fillna(0))
    resp = out["respondents"].astype(float)
    base = out["customers"].where(resp.notna()).astype(float)
    out["response_rate"] = resp / base.where(base > 0)
    out["response_rate_ci_lower"], out["response_rate_ci_upper"] = wilson(resp.fillna(0), base.fillna(0))
    out = fr.friction(out, allowance=allowance, alpha=alpha, n_boot=n_boot, seed=seed)
    _share_changes(out, periods, period)
    gone = out["status"] == "not_found"  # 0 of n against 0 of n: no change worth a line
    out.loc[gone, [f"conversion_change{x}" for x in ("", "_ci_lower", "_ci_upper", "_p")]] = np.nan
    out.loc[gone, "conversion_change_period"] = None
    # one period per row for a reader: the NPS's, else the first metric's that has one
    out["change_period"] = None
    for m in ("nps", *CHANGE_METRICS):
        out["change_period"] = out["change_period"].where(out["change_period"].notna(), out[f"{m}_change_period"])
    _bh(out, alpha)
    _churn(out, stages, ctx, subscriptions=subscriptions, events=events, responses=responses, tickets=tickets,
           targets=targets, window=window, cut=cut, customer=customer, start=start, end=end, time=time,
           event=event, touchpoint=touchpoint, response_time=response_time, created=created,
           first_response=first_response, channel=channel, score=score, name=name, notes=notes)
    out["quote"] = None
    if responses is not None and comment in cxdata.as_table(responses, name=name).columns:
        for i in out.index[out["top_theme"].notna()]:
            out.loc[i, "quote"] = _quote(responses, theme=out.loc[i, "top_theme"], touchpoint=touchpoint,
                                         tp=out.loc[i, "touchpoint"], comment=comment, score=score, cut=cut,
                                         name=name)
    for s in out.itertuples():
        if s.target_kind == "reach" and s.promise_n == 0 and (s.previous or 0) > 0:
            notes.append(note("journey_window_open", stage=s.stage, days=s.within_days))
        if s.status == "not_found":
            notes.append(note("journey_stage_not_found", stage=s.stage, events=s.events.split(", "),
                              available=s.events_in_table.split(", ") if s.events_in_table else []))
        elif s.status.startswith("needs_"):
            notes.append(note("journey_stage_needs", stage=s.stage, tables=s.needs.split(", ")))
    out.attrs.update(journey_sha256=spec["sha256"], journey_path=spec["path"], as_of=cut, period=period,
                     notes=notes, conversion_days=CONVERSION_DAYS, **out.attrs)
    return out


def _share_changes(out, periods, period):
    """``promise_change`` (reach and first-reply targets; detractor targets' come with the scores) and
    ``conversion_change``: the share of the latest complete period against the one before (a period is
    complete once its window has passed), with interval, p-value and period."""
    for m in ("promise", "conversion"):
        for x in ("", "_ci_lower", "_ci_upper", "_p"):
            if f"{m}_change{x}" not in out:
                out[f"{m}_change{x}"] = np.nan
        if f"{m}_change_period" not in out:
            out[f"{m}_change_period"] = None
    for per, data_end, lags in periods:
        for (stage, metric), lag in lags.items():
            b = per[(per["stage"] == stage) & (per["metric"] == metric)]
            cur, prev = _last_two(b, period, pd.Timestamp(data_end), float(lag or 0))
            if cur is None or prev is None or not (cur["n"] and prev["n"]):
                continue
            ch = proportion_change(cur["k"], cur["n"], prev["k"], prev["n"])
            i = out.index[out["stage"] == stage][0]
            out.loc[i, [f"{metric}_change", f"{metric}_change_ci_lower", f"{metric}_change_ci_upper",
                        f"{metric}_change_p"]] = [ch["change"], ch["ci_lower"], ch["ci_upper"], ch["p_value"]]
            out.loc[i, f"{metric}_change_period"] = pd.Timestamp(cur["_p"])


def _bh(out, alpha):
    """Benjamini–Hochberg over every stage's and metric's change p-value together (one family);
    ``<metric>_change_q`` and ``<metric>_change_beyond_noise`` (q < alpha) after it."""
    from cxlib.experiments import adjust_p

    cols = [f"{m}_change_p" for m in CHANGE_METRICS]
    p = out[cols].to_numpy(float).ravel()
    ok = np.isfinite(p)
    q = np.full(p.shape, np.nan)
    if ok.any():
        q[ok] = adjust_p(p[ok], "fdr_bh")
    q = q.reshape(len(out), len(cols))
    for j, c in enumerate(cols):
        m = c.removesuffix("_p")
        out[f"{m}_q"] = q[:, j]
        out[f"{m}_beyond_noise"] = np.nan_to_num(q[:, j], nan=1.0) < alpha
    out.attrs["changes_tested"] = int(ok.sum())


def _churn(out, stages, ctx, *, subscriptions, events, responses, tickets, targets, window, cut, customer,
           start, end, time, event, touchpoint, response_time, created, first_response, channel, score, name,
           notes):
    """``churn_hr``: the hazard ratio of :func:`cxlib.journey.churn_by_touch` with the stage's bad
    experience as the touch (association, not causation)."""
    core = _core()
    for c in ("churn_hr", "churn_hr_ci_lower", "churn_hr_ci_upper", "churn_p", "churn_with", "churn_without"):
        out[c] = np.nan
    out["churn_touch"] = None
    if subscriptions is None:
        return
    common = dict(window=window, as_of=cut, customer=customer, start=start, end=end, event_time=time,
                  event_name=event, created=created, first_response=first_response, channel=channel,
                  response_time=response_time, score=score, name=name)
    for i, s in enumerate(stages):
        kind = s["target"]["kind"] if s["target"] else None
        try:
            if s["bad"] is None:
                continue
            if s["bad"] == "detractor" or kind == "detractors":
                if responses is None or not s["touchpoint"]:
                    continue
                r = cxdata.as_table(responses, name=name)
                r = r.filter(r[touchpoint].cast("string") == s["touchpoint"])
                res, touch = core.churn_by_touch(subscriptions, responses=r, steps=[], **common), "detractor_answer"
            elif kind == "first_response":
                if tickets is None:
                    continue
                tk = cxdata.as_table(tickets, name=name)
                tk = tk.filter(tk[channel].cast("string").isin(s["ticket_channels"]))
                res, touch = core.churn_by_touch(subscriptions, tickets=tk, steps=[], targets=targets,
                                                 **common), "slow_first_response"
            elif kind == "reach" and ctx is not None and s["name"] in [x["name"] for x in ctx["stages"]]:
                bad = _bad_events(ctx, s, customer=customer, time=time, event=event)
                res, touch = core.churn_by_touch(subscriptions, events=bad, steps=["missed"], **common), "step:missed"
            else:
                continue
        except cxdata.CXDataError as exc:
            notes.append(note("journey_churn_failed", stage=s["name"], reason=str(exc)))
            continue
        row = res[res["touch"] == touch]
        if row.empty:
            continue
        r0 = row.iloc[0]
        out.loc[i, ["churn_hr", "churn_hr_ci_lower", "churn_hr_ci_upper", "churn_p", "churn_with",
                    "churn_without"]] = [r0["hazard_ratio"], r0["ci_lower"], r0["ci_upper"], r0["p_value"],
                                         r0["n_with"], r0["n_without"]]
        out.loc[i, "churn_touch"] = touch
