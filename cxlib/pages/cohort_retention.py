"""The cohort retention page, computed: which optional inputs are usable, and every result it shows.

The notebook ``notebooks/cohort_retention.ipynb`` reads its parameters, calls :func:`setup` once and then
one function per section; each returns a small dataclass of result tables (raw numbers) and note codes,
never words (the words are :mod:`cxlib.present.cohort_retention`'s). A section's tables are published
(``publish`` given to :func:`setup`) the first time it is computed; a second call returns the same
result, so the overview at the top and the section further down show the same numbers.

Examples
--------
>>> from cxlib.pages import cohort_retention as page
>>> s = page.setup({"events": "data/sample/events.csv", "subscriptions": None})  # doctest: +SKIP
>>> page.retention(s).newer[["period", "retention", "reference_retention"]]  # doctest: +SKIP
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import pandas as pd

from cxlib import at_risk, churn as churn_, cohorts, comparisons, journey, revenue, sources, survival
from cxlib import data as cxdata
from cxlib.notes import Note, note
from cxlib.pages.once import once
from cxlib.pages.inputs import Inputs, resolve

__all__ = ["PARAMETERS", "Setup", "setup", "Retention", "retention", "FirstValue", "first_value", "Churn",
           "churn", "Lifetimes", "lifetimes", "Touches", "touches", "Revenue", "revenue_kept", "Save", "save",
           "Repeat", "repeat", "Overview", "overview", "noted"]

#: The notebook's parameters with their defaults (a notebook passes ``globals()``; missing names default).
PARAMETERS: dict[str, Any] = {
    "events": "data/sample/events.csv", "subscriptions": None, "tickets": None, "responses": None,
    "customer": "customer_id", "time": "event_time", "first_value": "first_value", "value": None,
    "start": "start_time", "end": "end_time", "mrr": None, "mrr_history": None, "horizon": 12,
    "churn_factors": "", "save_top": 10, "grain": "month", "tz": None, "week_start": "monday",
    "definition": "return_on", "segment": None, "periods": 12, "newer": 6, "currency": "$", "as_of": None,
    "min_n": 30,
}

#: Ages (periods since joining) each part of the page shows, of those up to the ``periods`` parameter.
COMPARED_AGES = (1, 3)
SEGMENT_AGES = (1, 2, 3, 6, 12)
REVENUE_AGES = (1, 2, 3, 6, 9, 12)
LTV_AGES = (0, 3, 6, 12)
LTV_HEADLINE_AGES = (12, 6, 3, 1)
TOUCH_WINDOW_DAYS = 30
FIRST_VALUE_DAYS = 7


@dataclass
class Setup:
    """What the page runs with: the resolved parameters, the tables, the usable optional columns and the
    notes on what was left out (codes). ``publish(table, name)`` registers a result table."""

    params: dict
    inputs: Inputs
    as_of: pd.Timestamp
    events: Any
    subscriptions: Any | None
    labels: dict
    segment: str | None            # the events' segment column, when they have it
    sub_segment: str | None        # the subscriptions' segment column, when they have it
    value: str | None              # the events' money column
    mrr: str | None                # the subscriptions' MRR column
    event_name: str | None         # the events' event-name column
    touches: dict                  # tables of touches for churn after a touch: events, tickets, responses
    factors: list                  # hazard-model columns the subscriptions have
    notes: list                    # Note codes: optional inputs the data do not have
    read_notes: list               # what reading the sources noticed
    publish: Callable | None = None
    results: dict = field(default_factory=dict)

    @property
    def grain(self) -> str:
        return self.params["grain"]

    @property
    def min_n(self) -> int:
        return self.params["min_n"]

    @property
    def repeat_grain(self) -> str:
        """Repeat buying is read per week at the finest (an hour of purchases is noise)."""
        return self.grain if self.grain in ("week", "month", "quarter") else "week"

    @property
    def first_value_grain(self) -> str:
        return self.grain if self.grain != "hour" else "day"

    def ages(self, ks) -> list:
        """The ages of ``ks`` the page shows (up to the ``periods`` parameter)."""
        return [k for k in ks if k <= self.params["periods"]]

    def _publish(self, table: pd.DataFrame | None, name: str) -> pd.DataFrame | None:
        if table is not None and self.publish is not None:
            self.publish(table, name)
        return table


def setup(values: Mapping[str, Any], *, publish: Callable | None = None) -> Setup:
    """Resolve the page's inputs (:func:`cxlib.pages.resolve`: only the user's data, only columns it has),
    the analysis date, and which optional inputs are usable, with a note code for each left out.

    Notes (codes): ``segment_not_in_events``, ``segment_not_in_subscriptions``, ``value_not_in_events``,
    ``mrr_not_in_subscriptions``, ``churn_factors_not_in_subscriptions``, ``touch_columns_missing``.
    """
    params = {k: values.get(k, v) for k, v in PARAMETERS.items()}
    inputs = resolve("cohort_retention", values)
    params.update(inputs.values)
    p = params
    as_of = cxdata.default_as_of(p["as_of"], p["events"], p["subscriptions"])  # one date for every table
    ev = cxdata.as_table(p["events"])
    sub = cxdata.as_table(p["subscriptions"]) if p["subscriptions"] is not None else None
    labels = {**sources.metadata(ev)["labels"], **(sources.metadata(sub)["labels"] if sub is not None else {})}
    notes: list[Note] = []
    seg = p["segment"]
    ev_segment = seg if seg and seg in ev.columns else None
    sub_segment = seg if seg and sub is not None and seg in sub.columns else None
    if seg and not ev_segment:
        notes.append(note("segment_not_in_events", column=seg))
    if seg and sub is not None and not sub_segment:
        notes.append(note("segment_not_in_subscriptions", column=seg))
    ev_value = p["value"] if p["value"] and p["value"] in ev.columns else None
    if p["value"] and not ev_value:
        notes.append(note("value_not_in_events", column=p["value"]))
    sub_mrr = p["mrr"] if p["mrr"] and sub is not None and p["mrr"] in sub.columns else None
    if p["mrr"] and sub is not None and not sub_mrr:
        notes.append(note("mrr_not_in_subscriptions", column=p["mrr"]))
    event_col = "event_name" if "event_name" in ev.columns else None  # purchases: event_name == 'purchase'
    touch_sources: dict = {}
    factors: list = []
    if sub is not None:
        if event_col and cxdata.is_sample(p["events"]) == cxdata.is_sample(p["subscriptions"]):
            touch_sources["events"] = ev
        for kind, src, need in (("tickets", p["tickets"], [p["customer"], "created_at"]),
                                ("responses", p["responses"], [p["customer"], "response_time", "nps"])):
            t = cxdata.as_table(src) if src is not None else None
            lacking = [c for c in need if t is not None and c not in t.columns]
            if lacking:
                notes.append(note("touch_columns_missing", table=kind, columns=lacking))
            elif t is not None:
                touch_sources[kind] = t
        asked = [f.strip() for f in (p["churn_factors"] or "").split(",") if f.strip()]
        factors = [f for f in asked if f in sub.columns]
        if len(factors) < len(asked):
            notes.append(note("churn_factors_not_in_subscriptions", used=factors))
    read_notes = [*sources.metadata(ev)["notes"], *(sources.metadata(sub)["notes"] if sub is not None else [])]
    return Setup(params=params, inputs=inputs, as_of=as_of, events=ev, subscriptions=sub, labels=labels,
                 segment=ev_segment, sub_segment=sub_segment, value=ev_value, mrr=sub_mrr, event_name=event_col,
                 touches=touch_sources, factors=factors, notes=notes, read_notes=read_notes, publish=publish)


def _once(fn):
    """Compute a section once per :class:`Setup` (and publish its tables once)."""
    def wrapper(s: Setup):
        return once(s, fn.__name__, fn)
    wrapper.__name__, wrapper.__doc__, wrapper.__wrapped__ = fn.__name__, fn.__doc__, fn
    return wrapper


# ------------------------------------------------------------------------------------------ sections 1-3

@dataclass
class Retention:
    """Sections 1-3: the cohort grid, newer vs earlier cohorts, and segments at the same age."""

    table: pd.DataFrame             # cohorts.retention_table (published: retention_table)
    overall: pd.DataFrame           # cohorts.retention_curve pooled over every cohort
    curve: pd.DataFrame             # by segment when there is one, else overall (published: retention_curve)
    curve_shown: pd.DataFrame       # its ages up to the ``periods`` parameter (the figure)
    newer: pd.DataFrame             # comparisons.compare_newer (published: newer_vs_earlier_cohorts)
    segments: pd.DataFrame          # comparisons.compare_segments, empty without a segment
    by: str | None
    shown: bool                     # some cohort has a complete, unsuppressed period after joining
    largest: int                    # customers in the largest cohort
    segment_ages: list
    periods: int


@_once
def retention(s: Setup) -> Retention:
    """Sections 1-3: :func:`cxlib.cohorts.retention_table`, its pooled curve (by segment when the events
    have one), newer vs earlier cohorts at ages 1 and 3, each segment against the largest."""
    p = s.params
    args = dict(customer=p["customer"], time=p["time"], grain=s.grain, definition=p["definition"], as_of=s.as_of,
                min_n=s.min_n, tz=p["tz"], week_start=p["week_start"])
    table = s._publish(cohorts.retention_table(s.events, value=s.value, **args), "retention_table")
    shown_cells = table[table["mature"].astype(bool) & ~table["suppressed"].astype(bool)]
    # the heatmap's alt text reads each age's plain average over the cohorts it shows (a figure computes nothing)
    table.attrs["average_over_cohorts"] = {c: shown_cells.groupby("period")[c].mean().to_dict()
                                           for c in ("retention", "revenue_retention") if c in table}
    newer = s._publish(comparisons.compare_newer(table, ages=COMPARED_AGES, newer=p["newer"]),
                       "newer_vs_earlier_cohorts")
    if s.segment:
        by_segment = cohorts.retention_table(s.events, by=s.segment, **args)
        curve = s._publish(cohorts.retention_curve(by_segment, by=s.segment, min_n=s.min_n), "retention_curve")
        segments = s._publish(comparisons.compare_segments(curve, s.segment, ages=COMPARED_AGES),
                              "segment_comparison")
    else:
        curve = s._publish(cohorts.retention_curve(table, min_n=s.min_n), "retention_curve")
        segments = pd.DataFrame()
    overall = cohorts.retention_curve(table, min_n=table.attrs.get("min_n", s.min_n))
    shown = bool(((table["period"] >= 1) & table["mature"] & ~table["suppressed"]).any())
    largest = int(table["cohort_size"].max()) if len(table) else 0
    return Retention(table=table, overall=overall, curve=curve, curve_shown=curve[curve["period"] <= p["periods"]],
                     newer=newer, segments=segments, by=s.segment,
                     shown=shown, largest=largest, segment_ages=s.ages(SEGMENT_AGES), periods=p["periods"])


# ------------------------------------------------------------------------------------------ section 4

@dataclass
class FirstValue:
    """Section 4: time from sign-up to first value, overall and by cohort."""

    has_event_names: bool
    ready: bool                     # the events have both a "signup" and a first-value event
    first_value: str
    overall: pd.DataFrame | None = None      # journey.step_times (published: time_to_first_value)
    by_cohort: pd.DataFrame | None = None    # by cohort (published: time_to_first_value_by_cohort)
    complete: pd.DataFrame | None = None     # cohorts whose every customer has had 7 days
    comparison: dict | None = None           # comparisons.compare_latest of the complete cohorts
    latest: pd.Series | None = None          # the latest complete cohort with a share
    grain: str = "month"
    days: int = FIRST_VALUE_DAYS


@_once
def first_value(s: Setup) -> FirstValue:
    """Section 4: :func:`cxlib.journey.step_times` from each customer's first "signup" event to their
    first ``first_value`` event, overall and by cohort, and the latest ``newer`` complete cohorts' share
    reaching it within 7 days against the earlier cohorts' (:func:`cxlib.comparisons.compare_latest`)."""
    p, ev, col = s.params, s.events, s.event_name
    steps = ["signup", p["first_value"]]
    seen = (set(cxdata.to_pandas(ev.filter(ev[col].isin(steps)).select(col).distinct())[col]) if col else set())
    ready = p["first_value"] != "signup" and set(steps) <= seen
    out = FirstValue(has_event_names=bool(col), ready=ready, first_value=p["first_value"], grain=s.first_value_grain)
    if not ready:
        return out
    t = cxdata.clean_timestamp(ev, p["time"])
    t = t.filter(t[p["time"]] <= s.as_of.to_pydatetime())
    args = dict(start="signup", end=p["first_value"], customer=p["customer"], time=p["time"], event=col,
                as_of=s.as_of, min_n=s.min_n, tz=p["tz"], week_start=p["week_start"])
    out.overall = s._publish(journey.step_times(t, **args), "time_to_first_value")
    by = s._publish(journey.step_times(t, steps=None, cohort=s.first_value_grain, **args),
                    "time_to_first_value_by_cohort")
    w = f"within_{FIRST_VALUE_DAYS}d"
    out.by_cohort = by
    out.complete = by[by[f"{w}_n"] == by["n_start"]]  # cohorts whose every customer has had 7 days
    ok = out.complete[out.complete[w].notna()]
    out.latest = ok.iloc[-1] if len(ok) else None
    out.comparison = comparisons.compare_latest(ok, share=w, n=f"{w}_n", newer=p["newer"])
    return out


# ------------------------------------------------------------------------------------------ sections 5-7

@dataclass
class Churn:
    """Section 5: churn per month."""

    table: pd.DataFrame | None = None   # churn.churn_rate (published: churn_rate)
    recent: pd.DataFrame | None = None  # churn.recent_churn: the last six complete months pooled per segment
    windows: dict | None = None         # comparisons.compare_windows: last three months vs the three before
    kept: dict | None = None            # churn.mrr_kept: MRR kept over the last three complete months
    by: str | None = None


@_once
def churn(s: Setup) -> Churn:
    """Section 5: :func:`cxlib.churn.churn_rate` per month (by segment), pooled over recent months, and the
    last three complete months against the three before. Empty without subscriptions."""
    if s.subscriptions is None:
        return Churn()
    p = s.params
    table = s._publish(churn_.churn_rate(s.subscriptions, customer=p["customer"], start=p["start"], end=p["end"],
                                         mrr=s.mrr, period="month", by=s.sub_segment, as_of=s.as_of, min_n=s.min_n,
                                         tz=p["tz"]), "churn_rate")
    done = table[table["complete"]]
    # the churn figure's alt text reads each segment's plain average over its complete periods
    kept_rows = done[~done["suppressed"].astype(bool)]
    table.attrs["average_over_periods"] = {"churn_rate": kept_rows.groupby(s.sub_segment)["churn_rate"].mean().to_dict()
                                           if s.sub_segment else {None: kept_rows["churn_rate"].mean()}}
    return Churn(table=table, recent=churn_.recent_churn(table, by=s.sub_segment),
                 windows=comparisons.compare_windows(done, count="lost", n="n", window=3),
                 kept=churn_.mrr_kept(table) if s.mrr else None, by=s.sub_segment)


@dataclass
class Lifetimes:
    """Sections 6-7: how long customers stay, and which cancel more often."""

    overall: pd.DataFrame | None = None     # survival.kaplan_meier of everyone
    km: pd.DataFrame | None = None          # by segment when there is one
    test: dict | None = None                # survival.logrank between segments
    medians: pd.DataFrame | None = None     # published: median_lifetime
    rmst: pd.DataFrame | None = None        # published: restricted_mean_lifetime
    cox: pd.DataFrame | None = None         # published: hazard_ratios
    notes: list = field(default_factory=list)
    horizon: float | None = None
    by: str | None = None


@_once
def lifetimes(s: Setup) -> Lifetimes:
    """Sections 6-7: Kaplan-Meier lifetimes (by segment, with the log-rank test), the restricted mean
    over ``horizon`` months and the Cox hazard ratios of ``churn_factors``
    (:func:`cxlib.survival.churn_effects`). Empty without subscriptions."""
    if s.subscriptions is None:
        return Lifetimes()
    p, sub, by = s.params, s.subscriptions, s.sub_segment
    args = dict(start=p["start"], end=p["end"], as_of=s.as_of)
    overall = survival.kaplan_meier(sub, **args)
    km = survival.kaplan_meier(sub, **args, by=by) if by else overall
    test = survival.logrank(sub, **args, by=by) if by else None
    medians = s._publish(km.attrs["medians"], "median_lifetime")
    effects = survival.churn_effects(sub, **args, by=by, horizon=p["horizon"], covariates=s.factors)
    rmst = s._publish(effects["rmst"], "restricted_mean_lifetime")
    cox = s._publish(effects["cox"], "hazard_ratios")
    return Lifetimes(overall=overall, km=km, test=test, medians=medians, rmst=rmst, cox=cox,
                     notes=list(effects["notes"] or []), horizon=effects["horizon"], by=by)


# ------------------------------------------------------------------------------------------ section 8

@dataclass
class Touches:
    """Section 8: churn after a touch in the first 30 days."""

    has_subscriptions: bool
    compared: pd.DataFrame | None = None    # journey.churn_by_touch (published: churn_by_touch)
    last: pd.DataFrame | None = None        # journey.last_touch_before_churn (published)
    any_shown: bool = False                 # some touch has enough customers with and without it


@_once
def touches(s: Setup) -> Touches:
    """Section 8: :func:`cxlib.journey.churn_by_touch` (a landmark at day 30) and the last touch before
    each cancellation. Empty without subscriptions or touch tables."""
    out = Touches(has_subscriptions=s.subscriptions is not None)
    if s.subscriptions is None or not s.touches:
        return out
    p = s.params
    args = dict(window=TOUCH_WINDOW_DAYS, customer=p["customer"], start=p["start"], end=p["end"], as_of=s.as_of,
                event_time=p["time"], event_name=s.event_name or "event_name", **s.touches)
    out.compared = s._publish(journey.churn_by_touch(s.subscriptions, min_n=s.min_n, **args), "churn_by_touch")
    out.last = s._publish(journey.last_touch_before_churn(s.subscriptions, **args), "last_touch_before_churn")
    out.any_shown = bool((~out.compared["suppressed"].astype(bool)).any())
    return out


# ------------------------------------------------------------------------------------------ section 9

@dataclass
class Revenue:
    """Section 9: revenue retention of cohorts, MRR kept, net revenue retention."""

    curve: pd.DataFrame | None = None       # cohorts.revenue_curve (published: revenue_retention)
    lead: pd.DataFrame | None = None        # its rows at age 1 and at the oldest age shown (12 at most)
    ages: pd.DataFrame | None = None        # its rows at the ages the table shows
    nrr: pd.DataFrame | None = None         # revenue.net_revenue_retention (published)
    trailing: pd.DataFrame | None = None    # the same over twelve months, rolling
    kept: dict | None = None                # churn.mrr_kept
    has_value: bool = False
    has_subscriptions: bool = False
    has_mrr: bool = False


@_once
def revenue_kept(s: Setup) -> Revenue:
    """Section 9: :func:`cxlib.cohorts.revenue_curve` of the cohorts (with a money column), the MRR kept
    of the churn table (with an MRR column) and :func:`cxlib.revenue.net_revenue_retention` (with an MRR
    history), month by month and over a rolling year."""
    p = s.params
    out = Revenue(has_value=bool(s.value), has_subscriptions=s.subscriptions is not None, has_mrr=bool(s.mrr))
    if p["mrr_history"] is not None:
        args = dict(customer=p["customer"], as_of=s.as_of, min_n=s.min_n)
        out.nrr = s._publish(revenue.net_revenue_retention(p["mrr_history"], **args), "net_revenue_retention")
        out.trailing = revenue.net_revenue_retention(p["mrr_history"], period="year", rolling=True, **args)
    if s.value:
        curve = s._publish(cohorts.revenue_curve(retention(s).table), "revenue_retention")
        out.curve = curve
        out.lead = curve[curve["period"].isin([1, 12 if p["periods"] >= 12 else p["periods"]])]
        out.ages = curve[curve["period"].isin(s.ages(REVENUE_AGES))]
    if s.subscriptions is not None and s.mrr:
        out.kept = churn(s).kept
    return out


# ------------------------------------------------------------------------------------------ section 10

@dataclass
class Save:
    """Section 10: who to save first (subscribers by MRR at risk, or buyers by expected CLV)."""

    listed: pd.DataFrame | None = None      # at_risk.who_to_save / buyers_to_save (published: who_to_save)
    notes: list = field(default_factory=list)
    buyers: bool = False                    # a transactional business: buyers valued by expected CLV


@_once
def save(s: Setup) -> Save:
    """Section 10: :func:`cxlib.at_risk.who_to_save` of the subscriptions (with every touch table), or,
    without subscriptions but with a money column, :func:`cxlib.at_risk.buyers_to_save` of the events."""
    p = s.params
    if s.subscriptions is not None:
        listed = at_risk.who_to_save(
            s.subscriptions, customer=p["customer"], start=p["start"], end=p["end"], mrr=s.mrr,
            keep=[s.sub_segment] if s.sub_segment else None, as_of=s.as_of, mrr_history=p["mrr_history"],
            top=p["save_top"], currency=p["currency"], event_time=p["time"],
            salt="cx-demo" if cxdata.is_sample(p["subscriptions"]) else None,  # demo ids are made up
            **s.touches)
        return Save(listed=s._publish(listed, "who_to_save"))
    if not s.value:
        return Save(buyers=True)
    listed, notes = at_risk.buyers_to_save(
        s.events, customer=p["customer"], time=p["time"], value=s.value,
        event_name="purchase" if s.event_name else None, as_of=s.as_of, min_buyers=s.min_n, top=p["save_top"],
        currency=p["currency"], salt="cx-demo" if cxdata.is_sample(p["events"]) else None)
    return Save(listed=s._publish(listed, "who_to_save"), notes=list(notes), buyers=True)


# ------------------------------------------------------------------------------------------ section 11

@dataclass
class Repeat:
    """Section 11: repeat business and revenue per customer to date."""

    has_value: bool = False
    table: pd.DataFrame | None = None       # cohorts.repeat_business, complete periods (published)
    windows: dict | None = None             # comparisons.compare_windows: last three periods vs before
    ltv: pd.DataFrame | None = None         # cohorts.ltv_to_date (published: ltv_to_date)
    ltv_at: dict | None = None              # cohorts.ltv_at_age at the oldest age of 12, 6, 3, 1 reached
    ltv_ages: list = field(default_factory=list)
    grain: str = "month"


@_once
def repeat(s: Setup) -> Repeat:
    """Section 11: :func:`cxlib.cohorts.repeat_business` per period (complete ones), the last three against
    the three before, :func:`cxlib.cohorts.ltv_to_date` and its pooled value at the oldest age reached."""
    if not s.value:
        return Repeat(grain=s.repeat_grain)
    p = s.params
    rep = cohorts.repeat_business(s.events, customer=p["customer"], time=p["time"], value=s.value,
                                  event=s.event_name, period=s.repeat_grain, min_n=s.min_n, as_of=s.as_of)
    rep = s._publish(rep[rep["complete"]].reset_index(drop=True), "repeat_business")
    ltv = s._publish(cohorts.ltv_to_date(retention(s).table), "ltv_to_date")
    return Repeat(has_value=True, table=rep, windows=comparisons.compare_windows(rep, count="repeat_buyers",
                                                                                  n="buyers", window=3),
                  ltv=ltv, ltv_at=cohorts.ltv_at_age(ltv, min_n=s.min_n, ages=s.ages(LTV_HEADLINE_AGES)),
                  ltv_ages=s.ages(LTV_AGES), grain=s.repeat_grain)


# ------------------------------------------------------------------------------------------ the answers

@dataclass
class Overview:
    """What the top of the page says: every section's result, computed in the page's order."""

    grain: str
    min_n: int
    newer: int
    has_subscriptions: bool
    has_value: bool
    labels: dict
    retention: Retention
    churn: Churn
    lifetimes: Lifetimes
    revenue: Revenue
    save: Save
    repeat: Repeat


def overview(s: Setup) -> Overview:
    """Every section's result (each computed and published once), for the key figures and short answers."""
    ret = retention(s)
    ch, life, sv = churn(s), lifetimes(s), save(s)
    rev, rep = revenue_kept(s), repeat(s)
    return Overview(grain=s.grain, min_n=s.min_n, newer=s.params["newer"], has_subscriptions=s.subscriptions is not None,
                    has_value=bool(s.value), labels=s.labels, retention=ret, churn=ch, lifetimes=life, revenue=rev,
                    save=sv, repeat=rep)


def noted(s: Setup) -> tuple:
    """The results whose ``attrs['notes']`` the page's "About the data" lists, in order."""
    out = [s.inputs, retention(s).table]
    if s.subscriptions is not None:
        out += [lifetimes(s).overall, churn(s).table, save(s).listed]
    out += [r for r in (revenue_kept(s).nrr, save(s).listed if s.subscriptions is None else None) if r is not None]
    return tuple(out)
