"""Words and cells of the cohort retention page: retention, churn, lifetimes, time to first value, churn
after a touch, restricted mean survival, Cox hazard ratios, net revenue retention and who to save first.
"""
from __future__ import annotations

import pandas as pd
from markupsafe import Markup

from cxlib.present.format import (CI_NOTE, MINUS, MISSING, _num, _p_phrase, count, date, duration, interval, interval_range,
                                  label, money, number, pp, share)
from cxlib.present.text import Figure, Text, _segment, answer, paragraph, text
from cxlib.present.tables import table
from cxlib.present.nps_drivers import nps_period_name

def retention_summary(table_: pd.DataFrame, curve: pd.DataFrame | None = None, *, by: str | None = None,
                      by_curve: pd.DataFrame | None = None, period: int = 1, labels: dict | None = None) -> Text:
    """Period-``period`` retention overall and per segment, and how many cells are still open.

    ``curve`` is :func:`cxlib.cohorts.retention_curve` of ``table_`` (pooled over every cohort) and
    ``by_curve`` the same by segment ``by``; without them only the open cells are said.

    Examples
    --------
    >>> t = cohorts.retention_table("data/sample/events.csv")  # doctest: +SKIP
    >>> retention_summary(t, cohorts.retention_curve(t, min_n=30))  # doctest: +SKIP
    """
    grain = table_.attrs.get("grain", "month")
    items = []
    row = curve[curve["period"] == period] if curve is not None else pd.DataFrame()
    if not row.empty and not row["suppressed"].iloc[0]:
        r = row.iloc[0]
        items.append(text("<strong>{}</strong> of customers are active again in {} {} after joining "
                          "(95% CI {}; n = {} customers in {} cohorts).", share(r["retention"]), grain, period,
                          interval_range(r["retention"], r["ci_lower"], r["ci_upper"], kind="share"),
                          count(r["customers"]), count(r["cohorts"])))
    if by and by_curve is not None:
        for _, r in by_curve[(by_curve["period"] == period) & ~by_curve["suppressed"]].iterrows():
            items.append(text("{}: {} (95% CI {}; n = {}).", _segment(by, r[by], labels), share(r["retention"]),
                              interval_range(r["retention"], r["ci_lower"], r["ci_upper"], kind="share"),
                              count(r["customers"])))
    open_cells = count(int((~table_["mature"]).sum()))
    end = table_.attrs.get("data_end")
    if not table_.attrs.get("open_in_progress", True):  # the analysis decided: the data end before as_of's period
        items.append(text("{} cells are not complete (the data end on {}, before their {} ended): they are shown "
                          "blank and left out of averages; they are not drops.", open_cells,
                          date(pd.Timestamp(end).normalize()), grain))
    else:
        items.append(text("{} cells are still open (their {} has not ended): they are shown blank and left out of "
                          "averages; they are not drops.", open_cells, grain))
    return answer(items)


def churn_summary(recent: pd.DataFrame, *, by: str | None = None, labels: dict | None = None) -> Text:
    """Pooled churn of the last complete periods per segment in words, from :func:`cxlib.churn.recent_churn`
    (lost / customer-periods at risk, Wilson 95% interval).

    Examples
    --------
    >>> churn_summary(churn.recent_churn(metrics.churn_rate("data/sample/subscriptions.csv")))  # doctest: +SKIP
    """
    period = recent.attrs.get("period", "month")
    items = []
    for _, r in recent.iterrows():
        who = _segment(by, r[by], labels) if by else text("All customers")
        items.append(text("{}: <strong>{}</strong> of customers cancel per {} (95% CI {}; {} lost of {} "
                          "customer-{}s over the last {} complete {}s).", who, share(r["churn_rate"], 1), period,
                          interval_range(r["churn_rate"], r["ci_lower"], r["ci_upper"], kind="share", digits=1),
                          count(r["lost"]), count(r["n"]), period, int(r["periods"]), period))
    return answer(items)


def churn_method(result: pd.DataFrame) -> Text:
    """The method paragraph under a :func:`cxlib.metrics.churn_rate` trend: what the rate is, and what its
    hollow point is: the period in progress when it holds the analysis date (``attrs['as_of']``), else
    the last period of data, not complete (the subscriptions end on ``attrs['data_end']``)."""
    period = result.attrs.get("period", "month")
    out = text("Churn rate = subscribers lost in the {p} ÷ subscribers active at its start (a customer who starts "
               "during the {p} is not yet at risk), with a Wilson 95% interval.", p=period)
    open_ = result[~result["complete"].astype(bool)] if "complete" in result else result.iloc[:0]
    if open_.empty:
        return paragraph("{}", out)
    last = pd.Timestamp(open_["period"].max())
    end = result.attrs.get("data_end")
    if end is None or result.attrs.get("open_in_progress", True):  # decided by the analysis (cxlib.periods.holds)
        return paragraph("{} The {} in progress (hollow point) is not over.", out, period)
    return paragraph("{} {}, the last {} of data (hollow point), is not complete: the subscriptions end on {}.", out,
                     nps_period_name(last, period), period, date(pd.Timestamp(end).normalize()))


def lifetime_summary(medians: pd.DataFrame, *, by: str | None = None, test: dict | None = None,
                     unit: str = "month", labels: dict | None = None) -> Text:
    """Median lifetimes in words (and the log-rank test between segments).

    Examples
    --------
    >>> lifetime_summary(km.attrs["medians"], by="plan", test=survival.logrank(...))  # doctest: +SKIP
    """
    items = []
    for _, r in medians.iterrows():
        who = _segment(by, r[by], labels) if by else text("All customers")
        if r.get("suppressed", False) is True:
            items.append(text("{}: too few customers to estimate a median lifetime (n = {}).", who, count(r["n"])))
        elif r["reached"]:
            hi = number(r["ci_upper"], 1)
            items.append(text("{}: half of the customers have cancelled after <strong>{} {}s</strong> (95% CI {} "
                              "to {}; n = {}, {} cancelled).", who, number(r["median"], 1), unit,
                              number(r["ci_lower"], 1), hi if hi != MISSING else "beyond the follow-up",
                              count(r["n"]), count(r["events"])))
        else:
            items.append(text("{}: median lifetime <strong>not reached</strong>: more than half are still "
                              "subscribed at the end of the follow-up (n = {}, {} cancelled).", who,
                              count(r["n"]), count(r["events"])))
    if test is not None:
        differ = _num(test["p_value"]) is not None and test["p_value"] < 0.05
        items.append(text("The lifetime curves {} (log-rank χ² = {}, df = {}, p {}).",
                          "differ" if differ else "are not distinguishable from each other",
                          number(test["statistic"], 1), count(test["df"]), _p_phrase(test["p_value"])))
    return answer(items)


# ---- cohort_retention page (additions for that notebook go below this line)

def _span(first, last, grain: str = "month") -> str:
    """A range of cohorts in words: "Apr–Sep 2026", "Nov 2025 – Apr 2026", "Mar 2026" (one cohort)."""
    a, b = date(first, grain), date(last, grain)
    if a == b or b == MISSING:
        return a
    ta, tb = pd.Timestamp(first), pd.Timestamp(last)
    if grain == "month" and ta.year == tb.year:
        return f"{ta:%b}–{tb:%b %Y}"
    return f"{a} – {b}"


def _ages(ks, grain: str) -> str:
    """"month 1", "months 1 and 3", "months 1, 3 and 6"."""
    ks = [str(int(k)) for k in ks]
    if len(ks) == 1:
        return f"{grain} {ks[0]}"
    return f"{grain}s {', '.join(ks[:-1])} and {ks[-1]}"


def _noise_words(beyond) -> str:
    return "beyond noise" if bool(beyond) else "within noise (could be chance)"


def _cohort_mode(cmp: pd.DataFrame) -> bool:
    return "cohorts_from" in cmp.columns


def retention_comparison_table(cmp: pd.DataFrame, *, grain: str = "month", labels: dict | None = None,
                               title=None, subtitle=None):
    """Newer vs earlier cohorts (or one segment vs another) at the same age: both retentions with their
    intervals and customers, the difference in percentage points with its 95% interval, and the verdict.

    ``cmp`` has one row per age (and segment pair): ``period``, ``group``, ``reference``, ``customers``,
    ``retention``, ``ci_lower``, ``ci_upper``, the same with a ``reference_`` prefix, ``difference``,
    ``difference_ci_lower``, ``difference_ci_upper``, ``p_value``, ``beyond_noise``; cohort ranges in
    ``cohorts_from`` / ``cohorts_to`` / ``reference_from`` / ``reference_to`` when cohorts are compared.
    """
    cohort = _cohort_mode(cmp)

    def side(r, pre):
        est = interval(r[f"{pre}retention"], r[f"{pre}ci_lower"], r[f"{pre}ci_upper"], kind="share")
        n = f"n = {count(r[f'{pre}customers'])}"
        if cohort:
            first, last = (r[(pre or "cohorts_") + "from"], r[(pre or "cohorts_") + "to"])
            return f"{est}, {n}, {_span(first, last, grain)}"
        return f"{label(r['reference' if pre else 'group'], labels)}: {est}, {n}"

    def verdict(r):
        diff = interval(r["difference"], r["difference_ci_lower"], r["difference_ci_upper"], kind="pp")
        if diff == MISSING:
            return MISSING
        p = _p_phrase(r["p_value"])
        if bool(r["beyond_noise"]):
            return f"{diff}: {'higher' if r['difference'] > 0 else 'lower'}, beyond noise (p {p})"
        return f"{diff}: within noise (p {p})"

    c = cmp.assign(_age=[f"{grain.capitalize()} {int(k)}" for k in cmp["period"]],
                   _a=[side(r, "") for _, r in cmp.iterrows()],
                   _b=[side(r, "reference_") for _, r in cmp.iterrows()],
                   _verdict=[verdict(r) for _, r in cmp.iterrows()])
    heads = ({"_a": "Newer cohorts", "_b": "Earlier cohorts"} if cohort
             else {"_a": "Segment", "_b": "Compared with"})
    return table(c, columns={"_age": "text", "_a": "text", "_b": "text", "_verdict": "text"},
                 labels={"_age": "Age", **heads, "_verdict": "Difference", **(labels or {})},
                 title=title, subtitle=subtitle,
                 notes=[f"Age: {grain}s since joining. Customers pooled over the cohorts that have completed that "
                        f"{grain}; brackets: 95% confidence intervals; difference in percentage points (beyond "
                        "noise when its interval excludes zero)."])


def segment_curve_table(curve: pd.DataFrame, *, by: str, ages=(1, 3, 6, 12), grain: str = "month",
                        labels: dict | None = None, title=None, subtitle=None):
    """A :func:`cxlib.cohorts.retention_curve` by segment as ages x segments (narrow enough for a phone):
    each cell "56% (54–59%)" with the customers pooled at that age underneath in the same cell."""
    c = curve[curve["period"].isin(list(ages))]
    c = c.assign(_cell=[MISSING if s else f"{interval(v, lo, hi, kind='share')}, n = {count(n)}"
                        for v, lo, hi, n, s in zip(c["retention"], c["ci_lower"], c["ci_upper"], c["customers"],
                                                   c["suppressed"].astype(bool))])
    grid = c.pivot_table(index="period", columns=by, values="_cell", aggfunc="first").fillna(MISSING)
    segs = list(grid.columns)
    ids = {s: f"s{i}" for i, s in enumerate(segs)}  # data values never become column names
    wide = grid.rename(columns=ids).reset_index()
    wide.columns.name = None
    wide["_age"] = [f"{grain.capitalize()} {int(k)}" for k in wide["period"]]
    return table(wide, columns={"_age": "text", **{ids[s]: "text" for s in segs}},
                 labels={"_age": "Age", **{ids[s]: label(s, labels) for s in segs}}, title=title, subtitle=subtitle,
                 spanners={label(by, labels): [ids[s] for s in segs]},
                 notes=[f"Share of customers active again that many {grain}s after joining, pooled over the cohorts "
                        f"that have completed that {grain}; n: customers; brackets: 95% confidence intervals."])


def retention_comparison_summary(cmp: pd.DataFrame, *, grain: str = "month", by: str | None = None,
                                 labels: dict | None = None) -> list:
    """One escaped sentence per row of a retention comparison (see :func:`retention_comparison_table`)."""
    items = []
    for _, r in cmp.iterrows():
        a = interval_range(r["retention"], r["ci_lower"], r["ci_upper"], kind="share")
        b = interval_range(r["reference_retention"], r["reference_ci_lower"], r["reference_ci_upper"], kind="share")
        diff = text("{} (95% CI {}), p {}: {}", pp(r["difference"]),
                    interval_range(r["difference"], r["difference_ci_lower"], r["difference_ci_upper"], kind="pp"),
                    _p_phrase(r["p_value"]), _noise_words(r["beyond_noise"]))
        age = f"{grain.capitalize()} {int(r['period'])}"
        if _cohort_mode(cmp):
            items.append(text("{}: the newer cohorts ({}) retain <strong>{}</strong> (95% CI {}; n = {}) against {} "
                              "({}; n = {}) for the earlier cohorts ({}) at the same age: {}.", age,
                              _span(r["cohorts_from"], r["cohorts_to"], grain), share(r["retention"]), a,
                              count(r["customers"]), share(r["reference_retention"]), b,
                              count(r["reference_customers"]),
                              _span(r["reference_from"], r["reference_to"], grain), diff))
        else:
            items.append(text("{}: {} retains <strong>{}</strong> (95% CI {}; n = {}) against {} ({}; n = {}) for "
                              "{}: {}.", age, _segment(by, r["group"], labels), share(r["retention"]), a,
                              count(r["customers"]), share(r["reference_retention"]), b,
                              count(r["reference_customers"]), _segment(by, r["reference"], labels), diff))
    return items


def retention_comparison_verdict(cmp: pd.DataFrame, *, grain: str = "month", by: str | None = None,
                                 labels: dict | None = None) -> list:
    """The short answer to "do newer cohorts (or does a segment) retain better at the same age?": one
    escaped sentence per compared pair ("Partly: newer cohorts retain better at month 3, beyond noise; at
    month 1 the difference is within noise.")."""
    out = []
    if cmp is None or cmp.empty:
        return out
    pairs = [((None, None), cmp)] if _cohort_mode(cmp) else list(cmp.groupby(["group", "reference"], sort=False))
    for (g, ref), rows in pairs:
        rows = rows[[(_num(d) is not None) for d in rows["difference"]]]
        if rows.empty:
            continue
        beyond = rows["beyond_noise"].astype(bool)
        better = rows.loc[beyond & (rows["difference"] > 0), "period"].tolist()
        worse = rows.loc[beyond & (rows["difference"] < 0), "period"].tolist()
        noise = rows.loc[~beyond, "period"].tolist()
        if g is None:
            a, b, verb = text("newer cohorts"), text("earlier cohorts"), "retain"
            lead = ("Yes: " if better and not worse and not noise else "Partly: " if better and not worse else
                    "No: " if worse and not better else "Not clearly: " if not better and not worse else "Mixed: ")
        else:
            a, b, verb, lead = _segment(by, g, labels), _segment(by, ref, labels), "retains", ""
        parts = []
        if better:
            parts.append(text("{} {} better than {} at {}, beyond noise", a, verb, b, _ages(better, grain)))
        if worse:
            parts.append(text("{} {} worse than {} at {}, beyond noise", a, verb, b, _ages(worse, grain)))
        if noise:
            parts.append(text("at {} the difference is within noise", _ages(noise, grain)) if parts else
                         text("{} and {} are not distinguishable at {} (within noise)", a, b, _ages(noise, grain)))
        body = Markup("; ").join(parts)
        out.append(text("{}{}.", lead, Markup(str(body)[:1].upper() + str(body)[1:]) if not lead else body))
    return out


def lifetime_figure(medians: pd.DataFrame, *, test: dict | None = None, unit: str = "month", by: str | None = None,
                    labels: dict | None = None, name: str = "Median customer lifetime") -> Figure:
    """A key-figure tile of the overall median lifetime (one row of ``medians``), with the log-rank
    comparison of segments as its "change" line."""
    r = medians.iloc[0]
    if r.get("suppressed", False) is True:
        value, ci = MISSING, f"Too few customers to estimate (n = {count(r['n'])})."
    elif bool(r["reached"]):
        value = f"{number(r['median'], 1)} {unit}s"
        hi = number(r["ci_upper"], 1)
        ci = (f"95% CI {number(r['ci_lower'], 1)}–{hi} {unit}s" if hi != MISSING
              else f"95% CI from {number(r['ci_lower'], 1)} {unit}s (upper end beyond the follow-up)")
    else:
        value, ci = "Not reached", "More than half are still subscribed at the end of the follow-up."
    change = ""
    if test is not None and by:
        differ = _num(test["p_value"]) is not None and test["p_value"] < 0.05
        change = (f"{label(by, labels)} segments {'differ' if differ else 'do not differ'} (log-rank p "
                  f"{_p_phrase(test['p_value'])}): {'beyond noise' if differ else 'within noise'}.")
    return Figure(name, value, ci, change, f"{count(r['n'])} customers, {count(r['events'])} cancelled")


def ltv_table(ltv: pd.DataFrame, *, periods=(0, 3, 6, 12), grain: str = "month", min_n: int = 30,
              currency: str = "$", labels: dict | None = None, title=None, subtitle=None):
    """A :func:`cxlib.cohorts.ltv_to_date` result as cohort rows x a few ages: revenue per acquired customer
    to date (blank: that age not reached yet; "—": cohort smaller than ``min_n``)."""
    keys = [c for c in ltv.columns if c not in {"cohort", "period", "cohort_size", "cumulative_revenue",
                                                "ltv_to_date"}]
    t = ltv[ltv["period"].isin(list(periods))]
    t = t.assign(_cell=[MISSING if n < min_n else money(v, currency) for v, n in zip(t["ltv_to_date"],
                                                                                    t["cohort_size"])])
    grid = t.pivot_table(index=[*keys, "cohort"], columns="period", values="_cell", aggfunc="first")
    grid = grid.reindex(columns=[p for p in periods if p in grid.columns]).fillna("")
    names = {p: str(p) for p in grid.columns}
    sizes = ltv.groupby([*keys, "cohort"])["cohort_size"].first().rename("size")
    wide = grid.rename(columns=names).join(sizes).reset_index()
    wide.columns.name = None
    cols = {**{k: "label" for k in keys}, "cohort": "date", "size": "count", **{n: "text" for n in names.values()}}
    nt = table(wide, columns=cols, labels={"cohort": "Cohort", "size": "n", **(labels or {})},
               title=title, subtitle=subtitle, options={"cohort": {"grain": grain}},
               spanners={f"{grain.capitalize()}s since joining": list(names.values())},
               notes=[f"Cumulative revenue per acquired customer up to the end of that {grain}; n: customers in the "
                      f"cohort; blank: not reached yet; —: cohort of fewer than {count(min_n)} customers."])
    return nt.cols_align("right", columns=[f"c{i}" for i in range(len(keys) + 1, len(cols))])


# time to first value (cxlib.journey.step_times by acquisition cohort)

def _duration_parts(est, lo, hi, *, top=None, unit: bool = True) -> tuple[str, str | None]:
    """A duration in hours and its interval in one unit, the unit of the largest of the three (or of
    ``top``), by :func:`cxlib.present.format.duration`: "41.3 h" and "39.6–42.9 h", "1.7 days" and
    "1.3–2.1 days", so an interval never mixes hours and days; ``unit=False`` leaves the unit out."""
    vals = [_num(v) for v in (est, lo, hi)]
    if vals[0] is None:
        return MISSING, None
    like = top if top is not None else max(abs(v) for v in vals if v is not None)
    name = duration(like, like=like).split(" ")[-1]
    tail = f" {name}" if unit else ""
    lo_t, hi_t = (duration(v, like=like, suffix=False) if v is not None else None for v in vals[1:])
    inner = (None if lo_t is None and hi_t is None else f"up to {hi_t}{tail}" if lo_t is None
             else f"from {lo_t}{tail}" if hi_t is None else f"{lo_t}–{hi_t}{tail}")
    return duration(vals[0], like=like, suffix=unit), inner


def cohort_first_value_answer(overall: pd.DataFrame, cmp: dict | None = None, *, latest: pd.Series | None = None,
                              grain: str = "month", days: int = 7) -> Text:
    """One escaped sentence on time to first value: the median (hours, automatic units) with its 95% interval
    among the customers who got there, the share reaching it within ``days`` days with its interval, and
    whether the latest cohorts are faster.

    ``overall`` is a :func:`cxlib.journey.step_times` result without cohorts (one row). ``cmp`` is a
    :func:`cxlib.comparisons.two_shares` result of the latest cohorts' pooled within-``days`` counts
    against the earlier cohorts', with ``share``, ``reference_share``, ``from``, ``to``,
    ``reference_from``, ``reference_to`` and ``cohorts`` added; without it, ``latest`` (one row of the
    cohort result) is stated on its own.
    """
    r = overall.iloc[0]
    w = f"within_{days:g}d"
    if _num(r["median"]) is None:
        return text("Too few customers reached first value to estimate how long it takes ({} of the {} who "
                    "signed up).", count(r["n"]), count(r["n_start"]))
    med, med_ci = _duration_parts(r["median"], r["ci_lower"], r["ci_upper"])
    head = text("Customers who reach first value get there a median <strong>{}</strong> after signing up (95% CI {}; "
                "{} of the {} who signed up)", med, med_ci or MISSING, count(r["n"]), count(r["n_start"]))
    if _num(r[w]) is not None:
        head = text("{}, and <strong>{}</strong> of new customers reach it within {} days (95% CI {})", head,
                    share(r[w]), days, interval_range(r[w], r[f"{w}_ci_lower"], r[f"{w}_ci_upper"], kind="share"))
    if cmp is not None and _num(cmp["difference"]) is not None:
        beyond = bool(cmp["beyond_noise"])
        verdict = ("recent cohorts are faster" if beyond and cmp["difference"] > 0 else
                   "recent cohorts are slower" if beyond else "recent cohorts are not measurably faster")
        tail = text("; {}: the latest {} cohorts ({}) reached it within {} days at {} against {} for the earlier "
                    "ones ({}), {} (95% CI {}), p {}: {}", verdict, count(cmp["cohorts"]),
                    _span(cmp["from"], cmp["to"], grain), days, share(cmp["share"]), share(cmp["reference_share"]),
                    _span(cmp["reference_from"], cmp["reference_to"], grain), pp(cmp["difference"]),
                    interval_range(cmp["difference"], cmp["difference_ci_lower"], cmp["difference_ci_upper"],
                                   kind="pp"), _p_phrase(cmp["p_value"]), _noise_words(beyond))
    elif latest is not None and _num(latest[w]) is not None:
        tail = text("; the latest complete cohort ({}) reached it within {} days at {} (95% CI {}), too few cohorts "
                    "to compare", date(latest["cohort"], grain), days, share(latest[w]),
                    interval_range(latest[w], latest[f"{w}_ci_lower"], latest[f"{w}_ci_upper"], kind="share"))
    else:
        tail = text("; no cohort has had {} days for all its customers yet, so cohorts are not compared", days)
    return text("{}{}.", head, tail)


def cohort_first_value_table(by_cohort: pd.DataFrame, *, grain: str = "month", days: int = 7, title=None,
                             subtitle=None):
    """Cohort rows of a :func:`cxlib.journey.step_times` result: customers who started, the median time to
    first value with its interval, and the share reaching it within ``days`` days with its interval."""
    w = f"within_{days:g}d"
    top = pd.concat([by_cohort["median"], by_cohort["ci_lower"], by_cohort["ci_upper"]]).max()
    name = {"days": "days", "h": "hours", "min": "minutes"}[duration(top, like=top).split(" ")[-1]]
    cells = [_duration_parts(e, lo, hi, top=top, unit=False)
             for e, lo, hi in zip(by_cohort["median"], by_cohort["ci_lower"], by_cohort["ci_upper"])]
    by_cohort = by_cohort.assign(median=[e if i is None else f"{e} ({i})" for e, i in cells])
    g = table(by_cohort, columns={"cohort": "date", "n_start": "count", "median": "text", w: "share"},
              intervals={w: (f"{w}_ci_lower", f"{w}_ci_upper")},
              labels={"cohort": "Cohort", "n_start": "Signed up", "median": f"Median {name} to first value",
                      w: f"Reached within {days} days"},
              options={"cohort": {"grain": grain}}, keep_suppressed=("n_start",), title=title, subtitle=subtitle,
              notes=[f"Cohort: the {grain} of sign-up; only cohorts whose every customer has had {days} days. "
                     "Median among the customers who reached first value (a distribution-free interval); the "
                     f"share within {days} days is of everyone who signed up (Wilson interval)."])
    return g.cols_align("right", columns=["c2"])


# Touches of cxlib.journey.churn_by_touch in words: (table cell, "customers who ...", as a last touch).
COHORT_TOUCH_WORDS = {
    "step:signup": ("Signed up", "customers who signed up", "signing up"),
    "step:onboarding_done": ("Finished onboarding", "customers who finished onboarding", "finishing onboarding"),
    "step:first_value": ("Reached first value", "customers who reached first value", "reaching first value"),
    "step:checkout_started": ("Started a checkout", "customers who started a checkout", "starting a checkout"),
    "step:purchase": ("Made a purchase", "customers who made a purchase", "a purchase"),
    "support_contact": ("Contacted support", "customers who contacted support", "contacting support"),
    "slow_first_response": ("Waited past the target for a support reply",
                            "customers who waited longer than the target for a first support reply",
                            "a support reply later than the target"),
    "detractor_answer": ("Gave a survey score of 0–6", "customers who gave a survey score of 0–6 (detractors)",
                         "a survey score of 0–6"),
    "none": ("No tracked touch", "customers with no tracked touch", "no tracked touch"),
}


def cohort_touch_words(touch, which: int = 0) -> Text:
    """A touch name of :func:`cxlib.journey.churn_by_touch` in words (0: table cell, 1: "customers who
    ...", 2: as a last touch); an unknown ``step:x`` reads "Reached “x”"."""
    t = str(touch)
    if t in COHORT_TOUCH_WORDS:
        return text("{}", COHORT_TOUCH_WORDS[t][which])
    step = t.removeprefix("step:")
    return text(("Reached “{}”", "customers who reached “{}”", "reaching “{}”")[which], step)


def _cohort_hr(r, digits: int = 2) -> str:
    return f"{number(r['hazard_ratio'], digits)}×"


def cohort_touch_answer(ct: pd.DataFrame, *, min_n: int = 30) -> Text:
    """One sentence on :func:`cxlib.journey.churn_by_touch`: the strongest association beyond noise (95%
    interval of the hazard ratio excludes 1), else the largest hazard ratio and that none is beyond noise."""
    w = int(round(ct.attrs.get("window_days", 30)))
    ok = ct[~ct["suppressed"].astype(bool) & ct["hazard_ratio"].notna()] if len(ct) else ct
    if not len(ok):
        return text("No touch can be compared yet: every touch has fewer than {} customers with it or without it "
                    "among those still subscribed {} days after starting.", count(min_n), w)
    beyond = ok[(ok["ci_lower"] > 1) | (ok["ci_upper"] < 1)]
    if len(beyond):
        hr = beyond["hazard_ratio"]
        r = beyond.loc[hr.where(hr >= 1, 1 / hr).idxmax()]  # farthest from 1x either way: max |log HR|
        return text("In their first {} days, {} left <strong>{} as often</strong> afterwards as those who did not "
                    "(95% CI {}; {} vs {} customers) — an association, not proof of cause.", w,
                    cohort_touch_words(r["touch"], 1), _cohort_hr(r),
                    interval_range(r["hazard_ratio"], r["ci_lower"], r["ci_upper"], digits=2),
                    count(r["n_with"]), count(r["n_without"]))
    r = ok.loc[ok["hazard_ratio"].idxmax()]
    return text("No touch in the first {} days is associated with leaving beyond noise: the largest hazard ratio is "
                "for {}, who left <strong>{} as often</strong> as those who did not (95% CI {}, which includes "
                "1×; {} vs {} customers).", w, cohort_touch_words(r["touch"], 1), _cohort_hr(r),
                interval_range(r["hazard_ratio"], r["ci_lower"], r["ci_upper"], digits=2), count(r["n_with"]),
                count(r["n_without"]))


def cohort_touch_table(ct: pd.DataFrame, *, title=None, subtitle=None):
    """The unsuppressed touches of :func:`cxlib.journey.churn_by_touch` (highest hazard ratio first): touch
    in words with its customers, "left × as often" with its interval, 90-day retention with vs without."""
    w = int(round(ct.attrs.get("window_days", 30)))
    h = int(round(ct.attrs.get("horizon_days", 90)))
    rw, ro = f"retention_{h}d_with", f"retention_{h}d_without"
    ok = ct[~ct["suppressed"].astype(bool)].sort_values("hazard_ratio", ascending=False, na_position="last")
    cells = ok.assign(
        _touch=[text("{} ({} of {})", cohort_touch_words(t), count(a), count(a + b)).plain
                for t, a, b in zip(ok["touch"], ok["n_with"], ok["n_without"])],
        _hr=[MISSING if _num(r["hazard_ratio"]) is None else
             # a word joiner after the dash: the interval wraps as a whole, under the estimate
             f"{_cohort_hr(r)} ({interval_range(r['hazard_ratio'], r['ci_lower'], r['ci_upper'], digits=2)})"
             .replace("–", "–\u2060")
             for _, r in ok.iterrows()])
    g = table(cells, columns={"_touch": "text", "_hr": "text", rw: "share", ro: "share"},
              labels={"_touch": f"Touch in the first {w} days (customers)", "_hr": "Left × as often",
                      rw: "With the touch", ro: "Without"},
              spanners={f"Still subscribed {h} days later": [rw, ro]}, title=title, subtitle=subtitle,
              notes=[f"Customers still subscribed {w} days after starting; “left × as often” is the hazard ratio "
                     "of cancelling from then on, with vs without the touch (Cox model, 95% interval). "
                     f"“Still subscribed” is Kaplan–Meier, {h} days after day {w}. Association, not cause."])
    return g.cols_align("right", columns=["c1"])


def cohort_last_touch_sentence(lt: pd.DataFrame, *, top: int = 2) -> Text:
    """One sentence on :func:`cxlib.journey.last_touch_before_churn`: how many cancellations were counted,
    the share with no touch in the window, and the most common last touches."""
    w = int(round(lt.attrs.get("window_days", 30)))
    total = int(lt.attrs.get("churns", lt["churns"].sum() if len(lt) else 0))
    if not total:
        return text("No cancellation falls in the period the touch data cover, so last touches are not counted.")
    none = lt[lt["touch"] == "none"]
    lead = (text("{} of them ({}) had no tracked touch in their last {} days", count(none["churns"].iloc[0]),
                 share(none["share"].iloc[0]), w) if len(none) else
            text("every one had a tracked touch in their last {} days", w))
    rest = lt[lt["touch"] != "none"].head(top)
    if len(rest):
        said = Markup(", then ").join(text("{} ({}, {})", cohort_touch_words(t, 2), count(n), share(s))
                                      for t, n, s in zip(rest["touch"], rest["churns"], rest["share"]))
        lead = text("{}; the most common last touch was {}", lead, said)
    return text("Of the <strong>{}</strong> cancellations whose last {} days the touch data cover, {} — a touch "
                "that is common among all customers is often the last one simply because it is common.",
                count(total), w, lead)


# restricted mean survival, Cox hazard ratios, net revenue retention, who to save first
# (cxlib.survival.rmst / cox, cxlib.revenue.net_revenue_retention, cxlib.at_risk.who_to_save)

def _cohort_months(x, digits: int = 1) -> str:
    return duration(x, "month", as_given=True, digits=digits)


def cohort_rmst_answer(rm: pd.DataFrame, *, by: str | None = None, labels: dict | None = None) -> Text:
    """One escaped sentence on :func:`cxlib.survival.rmst`: months subscribed out of the first ``horizon``
    per segment with intervals, and each difference against the reference with its interval and verdict."""
    h = rm["horizon"].iloc[0]
    rows = rm[rm["kind"] == "rmst"]
    if not by or len(rows) < 2:
        r = rows.iloc[0]
        return text("Of their first {} months, customers stay subscribed <strong>{}</strong> on average (95% CI {}; "
                    "{} customers).", number(h, 0), _cohort_months(r["rmst"]),
                    interval_range(r["rmst"], r["ci_lower"], r["ci_upper"], digits=1), count(r["n"]))
    each = Markup("; ").join(text("{} <strong>{}</strong> (95% CI {}; n = {})", label(r[by], labels),
                                  _cohort_months(r["rmst"]),
                                  interval_range(r["rmst"], r["ci_lower"], r["ci_upper"], digits=1), count(r["n"]))
                             for _, r in rows.iterrows())
    diffs = []
    for _, d in rm[rm["kind"] == "difference"].iterrows():
        beyond = (d["ci_lower"] > 0) or (d["ci_upper"] < 0)
        diffs.append(text("{} customers stay {} {} than {} customers (95% CI {}), p {}: {}",
                          label(d[by], labels), _cohort_months(abs(d["rmst"])),
                          "longer" if d["rmst"] > 0 else "shorter", label(d["reference"], labels),
                          interval_range(d["rmst"], d["ci_lower"], d["ci_upper"], kind="signed", digits=1),
                          _p_phrase(d["p_value"]), _noise_words(beyond)))
    return text("Of their first {} months, customers stay subscribed on average: {}. {}.", number(h, 0), each,
                Markup("; ").join(diffs))


def cohort_rmst_table(rm: pd.DataFrame, *, by: str, labels: dict | None = None, title=None, subtitle=None):
    """Segment rows of :func:`cxlib.survival.rmst`: months subscribed of the first ``horizon`` with the
    interval, customers, cancellations, and the difference against the reference segment."""
    h = number(rm["horizon"].iloc[0], 0)
    rows = rm[rm["kind"] == "rmst"].reset_index(drop=True)
    diffs = rm[rm["kind"] == "difference"].set_index(by)
    cells = rows.assign(
        _seg=[label(v, labels) for v in rows[by]],
        _rmst=[interval(r["rmst"], r["ci_lower"], r["ci_upper"], digits=1) for _, r in rows.iterrows()],
        _diff=[("reference" if v not in diffs.index else
                interval(diffs.loc[v, "rmst"], diffs.loc[v, "ci_lower"], diffs.loc[v, "ci_upper"], kind="signed",
                         digits=1))
               for v in rows[by]])
    return table(cells, columns={"_seg": "text", "_rmst": "text", "_diff": "text", "n": "count", "events": "count"},
                 labels={"_seg": label(by, labels), "_rmst": f"Months subscribed of the first {h}",
                         "_diff": "Difference (months)", "n": "Customers", "events": "Cancelled"},
                 title=title, subtitle=subtitle,
                 notes=[f"Restricted mean survival time: the area under the Kaplan–Meier curve up to {h} months, "
                        "with its standard (Greenwood-type) variance; the difference's variance is the sum of the two. "
                        + CI_NOTE])


def _cohort_term(term, ref, labels=None) -> str:
    """'plan=pro' against 'plan=basic' -> "Plan: pro vs basic"; a numeric term -> its label."""
    col, _, val = str(term).partition("=")
    if not val:
        return f"{label(col, labels)} (per unit)"
    base = str(ref).partition("=")[2] if ref is not None else ""
    return f"{label(col, labels)}: {label(val, labels)} vs {label(base, labels)}"


def _cohort_ph_words(p) -> str:
    v = _num(p)
    if v is None:
        return MISSING
    return "Holds" if v >= 0.05 else f"Changes over time (p {_p_phrase(v)})"


def cohort_cox_answer(cx: pd.DataFrame, *, labels: dict | None = None) -> Text:
    """One escaped sentence on :func:`cxlib.survival.cox`: the terms whose hazard ratio is beyond noise
    (interval excludes 1), adjusted for the others, and the proportional-hazards caveat when it applies."""
    def who(term, ref):
        col, _, val = str(term).partition("=")
        if not val:
            return text("each extra unit of {}", label(col, labels)), None
        return (text("{} customers", label(val, labels)),
                text("{} customers", label(str(ref).partition("=")[2], labels)))

    beyond = cx[(cx["ci_lower"] > 1) | (cx["ci_upper"] < 1)]
    parts = []
    for _, r in beyond.iterrows():
        a, b = who(r["term"], r["reference"])
        hr = interval_range(r["hazard_ratio"], r["ci_lower"], r["ci_upper"], digits=2)
        parts.append(text("{} cancel <strong>{} as often</strong> as {} (95% CI {}, p {})", a, _cohort_hr(r),
                          b if b is not None else text("one unit less"), hr, _p_phrase(r["p_value"])))
    if parts:
        factors = list(dict.fromkeys(str(t).partition("=")[0] for t in cx["term"]))
        head = text("Comparing customers alike in {} (a Cox model): {}.",
                    Markup(" and ").join(text("{}", label(f, labels).lower()) for f in factors), Markup("; ").join(parts))
    else:
        head = text("Taken together, no factor's rate of cancelling differs from its reference beyond noise.")
    if len(beyond) and len(beyond) < len(cx):
        head = text("{} The other comparisons are within noise (their intervals include 1×).", head)
    bad = cx[cx["ph_p_value"] < 0.05]
    if len(bad):
        head = text("{} Caution: for {} the ratio changes with a customer's age, so the single number is an "
                    "average over the lifetime.", head,
                    Markup(", ").join(text("{}", _cohort_term(t, r, labels))
                                      for t, r in zip(bad["term"], bad["reference"])))
    return head


def cohort_cox_table(cx: pd.DataFrame, *, labels: dict | None = None, title=None, subtitle=None):
    """Terms of :func:`cxlib.survival.cox`: comparison in words, "0.47× (0.41–0.55)", p-value and the
    proportional-hazards check."""
    cells = cx.assign(_term=[_cohort_term(t, r, labels) for t, r in zip(cx["term"], cx["reference"])],
                      _hr=[f"{_cohort_hr(r)} ({interval_range(r['hazard_ratio'], r['ci_lower'], r['ci_upper'], digits=2)})"
                           .replace("–", "–\u2060") for _, r in cx.iterrows()],
                      _ph=[_cohort_ph_words(p) for p in cx["ph_p_value"]])
    n, ev = cx["n"].iloc[0], cx["events"].iloc[0]
    g = table(cells, columns={"_term": "text", "_hr": "text", "p_value": "p_value", "_ph": "text"},
              labels={"_term": "Comparison", "_hr": "Cancels × as often", "p_value": "p",
                      "_ph": "Same ratio at every age?"},
              title=title, subtitle=subtitle,
              notes=[f"Cox proportional-hazards model of {count(n)} customers ({count(ev)} cancelled), all comparisons in "
                     "one model (each adjusted for the others); “× as often” is the hazard ratio with its 95% interval "
                     "(below 1×: cancels less often). The last column tests whether the ratio is the same at every "
                     "age (Schoenfeld residuals against time); where it is not, the number is an average. "
                     "Association, not cause."])
    return g.cols_align("right", columns=["c1"])


def cohort_nrr_answer(nrr: pd.DataFrame, *, last: int = 3, trailing: pd.DataFrame | None = None,
                      currency: str = "$") -> Text:
    """One escaped sentence on :func:`cxlib.revenue.net_revenue_retention`: the latest complete month's net
    and gross revenue retention with intervals and the MRR bridge, plus the trailing-12-month NRR when
    given (a ``rolling`` result with ``period='year'``)."""
    done = nrr[nrr["complete"] & ~nrr["suppressed"].astype(bool)]
    if done.empty:
        return text("No complete month with at least the minimum number of paying customers yet.")
    r = done.iloc[-1]
    said = text("From {} to {}, the customers paying in {} kept <strong>{}</strong> of their monthly recurring revenue "
                "counting expansion (net revenue retention, 95% CI {}) and {} without it (gross, 95% CI {}): "
                "{} at the start, {} expansion, {} contraction, {} lost to cancellations ({} of {} customers)",
                date(r["start_month"], "month"), date(r["end_month"], "month"), date(r["start_month"], "month"),
                share(r["net_retention"], 1),
                interval_range(r["net_retention"], r["net_ci_lower"], r["net_ci_upper"], kind="share", digits=1),
                share(r["gross_retention"], 1),
                interval_range(r["gross_retention"], r["gross_ci_lower"], r["gross_ci_upper"], kind="share", digits=1),
                money(r["start_mrr"], currency, 0), "+" + money(r["expansion"], currency, 0),
                MINUS + money(r["contraction"], currency, 0), MINUS + money(r["churned_mrr"], currency, 0),
                count(r["churned"]), count(r["n"]))
    if trailing is not None:
        t = trailing[trailing["complete"] & ~trailing["suppressed"].astype(bool)]
        if len(t):
            y = t.iloc[-1]
            said = text("{}. Over twelve months, the customers paying in {} now pay <strong>{}</strong> of what they paid "
                        "then (95% CI {}; {} customers)", said, date(y["start_month"], "month"),
                        share(y["net_retention"], 1),
                        interval_range(y["net_retention"], y["net_ci_lower"], y["net_ci_upper"], kind="share", digits=1),
                        count(y["n"]))
    return text("{}.", said)


def cohort_nrr_table(nrr: pd.DataFrame, *, last: int = 6, currency: str = "$", title=None, subtitle=None):
    """The last ``last`` complete months of :func:`cxlib.revenue.net_revenue_retention` (five columns, for a
    phone): month, paying customers and MRR at the start, gross and net revenue retention with intervals
    (the moves -- expansion, contraction, cancelled -- are in the result table's CSV)."""
    done = nrr[nrr["complete"]].tail(last).reset_index(drop=True)
    g = table(done, columns={"period": "date", "n": "count", "start_mrr": "money", "gross_retention": "share",
                             "net_retention": "share"},
              intervals={"gross_retention": ("gross_ci_lower", "gross_ci_upper"),
                         "net_retention": ("net_ci_lower", "net_ci_upper")},
              labels={"period": "Month", "n": "Paying at start", "start_mrr": "MRR at start",
                      "gross_retention": "Gross retention", "net_retention": "Net retention"},
              options={"period": {"grain": "month"}, "start_mrr": {"currency": currency, "digits": 0},
                       "gross_retention": {"digits": 1}, "net_retention": {"digits": 1}},
              keep_suppressed=("n", "start_mrr"), title=title, subtitle=subtitle,
              notes=["Customers paying in the month before, followed to the month: net retention = their MRR now ÷ "
                     "their MRR then (expansion counts), gross = the same without expansion (at most 100%). New "
                     "customers are in neither. Intervals: delta method for a ratio, the customer as the unit."])
    return g


def cohort_save_answer(w: pd.DataFrame, *, currency: str = "$") -> Text:
    """One escaped sentence on :func:`cxlib.at_risk.who_to_save`: how many customers show a warning sign,
    how many per sign, and the value at risk of the listed top (expected revenue for a list from
    :func:`cxlib.at_risk.buyers_to_save`)."""
    a = w.attrs
    by_clv = a.get("value") == "expected_clv"
    words = {"cancel_pending": "have already cancelled", "detractor": "scored 0–6 in a recent survey",
             "support": "had repeated or long-open support tickets", "inactive": "have been inactive for a while",
             "contraction": "pay less than a few months ago", "lapsing": "have probably stopped buying"}
    per = Markup(", ").join(text("{} {}", count(a["counts"][k]), words[k]) for k in words if a["counts"].get(k))
    who = "buyers" if by_clv else "subscribed customers"
    if not a.get("listed"):
        return text("None of the {} {} shows a warning sign.", count(a.get("subscribed", 0)), who)
    if by_clv:
        weeks = number(a.get("horizon_weeks", 52), 0)
        tail = text("The {} below are expected to bring the most revenue in the next {} weeks: {} between them "
                    "(purchase model).", count(len(w)), weeks, money(w["value_at_risk"].sum(), currency, 0))
    else:
        tail = text("The {} below carry the most revenue: {} a year between them.", count(len(w)),
                    money(w["value_at_risk"].sum(), currency, 0))
    return text("<strong>{}</strong> of the {} {} show at least one warning sign ({}). {}", count(a["listed"]),
                count(a["subscribed"]), who, per, tail)


def cohort_save_method(w: pd.DataFrame) -> Text:
    """The method paragraph under the who-to-save list: the signs and their thresholds, what value at risk
    is (or, for buyers, the BG/NBD + Gamma-Gamma fit it comes from), which inputs were missing (so their
    signs were not checked), and the caveat."""
    t = w.attrs["thresholds"]
    names = {"responses": "survey answers", "tickets": "support tickets", "events": "activity events",
             "mrr_history": "an MRR history"}
    if w.attrs.get("value") == "expected_clv":
        bg, gg = w.attrs.get("bgnbd", {}), w.attrs.get("gamma_gamma", {})
        out = text("Warning signs: a survey score of 0–6 in the last {} days, {} or more support tickets in the last {} "
                   "days or one open for {} days, no activity for {} days, or a chance below {} that the buyer is "
                   "still active. Expected revenue comes from two models fitted to every buyer's purchases: BG/NBD "
                   "for how often they buy and whether they have stopped (r {}, α {}, a {}, b {}), Gamma-Gamma for "
                   "how much they spend per purchase (p {}, q {}, v {}; {} repeat buyers).", t["survey_days"],
                   t["min_tickets"], t["ticket_days"], t["open_days"], t["inactive_days"],
                   share(t.get("lapsing_below", 0.5)), number(bg.get("r")), number(bg.get("alpha")),
                   number(bg.get("a")), number(bg.get("b")), number(gg.get("p")), number(gg.get("q")),
                   number(gg.get("v")), count(gg.get("n")))
        names.pop("mrr_history")
    else:
        out = text("Warning signs: a cancellation already booked, a survey score of 0–6 in the last {} days, {} or more "
                   "support tickets in the last {} days or one open for {} days, no activity for {} days, or paying "
                   "less than {} months ago. Value at risk is {} months of the customer's current MRR.",
                   t["survey_days"], t["min_tickets"], t["ticket_days"], t["open_days"], t["inactive_days"],
                   t["contraction_months"], number(w.attrs.get("months", 12), 0))
    missing = [names[k] for k in names if k not in w.attrs.get("inputs", [])]
    if missing:
        out = text("{} Without {}, the signs they would show are not checked.", out, ", ".join(missing))
    at, ends = w.attrs.get("as_of"), w.attrs.get("ends") or {}
    early = [text("{} to {}", names[k], date(pd.Timestamp(e).normalize())) for k, e in ends.items()
             if k in names and at is not None and pd.Timestamp(e).normalize() < pd.Timestamp(at).normalize()]
    if early:  # who_to_save measured these signs to their table's own end, not to the analysis date
        out = text("{} Days and windows are counted to the end of each table's data, not to {}: {}.", out,
                   date(pd.Timestamp(at).normalize()), Markup("; ").join(early))
    return paragraph("{} The signs go with leaving; they do not say how likely each customer is to go, and a "
                     "customer's value is their revenue, not their margin.", out)


def cohort_save_table(w: pd.DataFrame, *, currency: str = "$", labels: dict | None = None, title=None, subtitle=None):
    """The :func:`cxlib.at_risk.who_to_save` list, narrow enough for a phone: pseudonymous id (with the kept
    segment columns), value at risk with the MRR it comes from, revenue to date and the reasons in words
    (:func:`at_risk_reason` of the ``reason`` codes)."""
    known = {"rank", "customer", "mrr", "value_at_risk", "ltv_to_date", "signals", "ends_on", "last_nps",
             "last_nps_on", "tickets_recent", "open_ticket_days", "days_inactive", "mrr_before", "reason",
             "cancel_pending", "detractor", "support", "inactive", "contraction", "lapsing", "expected_clv",
             "p_alive"}
    extra = [c for c in w.columns if c not in known]
    months = number(w.attrs.get("months", 12), 0)
    cells = w.assign(
        reason=at_risk_reasons(w, currency=currency) if len(w) else [],
        _who=[f"{r['customer']}" + (f" ({', '.join(label(r[c], labels) for c in extra)})" if extra else "")
              for _, r in w.iterrows()],
        _value=[money(v, currency, 0) + (f" ({money(m, currency, 0)} a month)" if _num(m) else "")
                for v, m in zip(w["value_at_risk"], w["mrr"])])
    by_clv = w.attrs.get("value") == "expected_clv"
    cols = {"_who": "text", "_value": "text"}
    if w["ltv_to_date"].notna().any():
        cols["ltv_to_date"] = "money"
    cols["reason"] = "text"
    g = table(cells, columns=cols,
              labels={"_who": "Customer",
                      "_value": "Expected revenue (CLV)" if by_clv else f"Value at risk ({months} months)",
                      "ltv_to_date": "Paid to date", "reason": "Why", **(labels or {})},
              options={"ltv_to_date": {"currency": currency, "digits": 0}}, title=title, subtitle=subtitle,
              notes=[("Buyers with at least one warning sign, largest expected revenue first (purchase model). "
                      if by_clv else f"Subscribed customers with at least one warning sign, largest value at risk first "
                      f"({months} months of their current MRR). ")
                     + "Ids are pseudonyms (salted hashes): look them up with the same salt (CX_PSEUDONYM_SALT) in "
                     "your own system. A sign is associated with leaving, not proof."])
    return g.cols_width({f"c{len(cols) - 1}": "42%"}).cols_align("right", columns=["c1"])


# who to save first: the reason codes of cxlib.at_risk.who_to_save in words

def _day(ts) -> str:
    ts = pd.Timestamp(ts)
    return f"{ts.day} {ts:%b %Y}"


def at_risk_reason(r, *, thresholds: dict, currency: str = "") -> str:
    """One row of :func:`cxlib.at_risk.who_to_save` in words, from its ``reason`` codes and evidence
    columns: "Scored 3/10 in the survey on 2 Nov 2026; 3 support tickets in the last 30 days"."""
    said = {
        "cancel_pending": lambda: f"has cancelled, leaves on {_day(r['ends_on'])}",
        "detractor": lambda: f"scored {int(r['last_nps'])}/10 in the survey on {_day(r['last_nps_on'])}",
        "support_tickets": lambda: f"{int(r['tickets_recent'])} support tickets in the last "
                                   f"{thresholds['ticket_days']} days",
        "support_open": lambda: f"a support ticket open for {int(r['open_ticket_days'])} days",
        "inactive": lambda: f"no activity for {int(r['days_inactive'])} days",
        "contraction": lambda: f"monthly revenue down from {currency}{r['mrr_before']:,.0f} to "
                               f"{currency}{r['mrr']:,.0f} in {thresholds['contraction_months']} months",
        "lapsing": lambda: f"probably stopped buying ({r['p_alive']:.0%} chance still active, by their purchase "
                           "rhythm)",
    }
    codes = [c for c in str(r["reason"] or "").split(";") if c]
    parts, support = [], [said[c]() for c in codes if c.startswith("support_")]
    for c in codes:
        if c.startswith("support_"):
            if support:  # both support triggers in one clause, where the support sign stands
                parts.append(" and ".join(support))
                support = []
        else:
            parts.append(said[c]())
    out = "; ".join(parts)
    return out[:1].upper() + out[1:]


def at_risk_reasons(w: pd.DataFrame, *, currency: str | None = None) -> list[str]:
    """:func:`at_risk_reason` of every row of a who-to-save list (currency: the list's own by default)."""
    cur = w.attrs.get("currency", "") if currency is None else currency
    return [at_risk_reason(r, thresholds=w.attrs["thresholds"], currency=cur) for _, r in w.iterrows()]
