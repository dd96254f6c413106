"""The cohort retention page's sections in words: each reads a result of :mod:`cxlib.pages.cohort_retention`
(duck-typed: its dataclasses' fields) and returns the escaped Text and tables the notebook displays, with
the "not shown" sentence when an optional input is missing; the words for the page's note codes; the key
figures and short answers at the top; and the who-to-save reasons in words. Computes nothing.
"""
from __future__ import annotations

from markupsafe import Markup

from cxlib.present.format import MISSING, count, date, interval_range, money, number, share
from cxlib.present.text import (NOTE_TEXT, Figure, Text, answer, change_sentence, figure, missing_section, note_text,
                               paragraph, text)
from cxlib.present.tables import churn_table, lifetime_table, table
from cxlib.present.cohort_retention import (
    _span, churn_method, churn_summary, cohort_cox_answer, cohort_cox_table, cohort_first_value_answer,
    cohort_first_value_table, cohort_last_touch_sentence, cohort_nrr_answer, cohort_nrr_table, cohort_rmst_answer,
    cohort_rmst_table, cohort_save_answer, cohort_save_method, cohort_save_table, cohort_touch_answer,
    cohort_touch_table, lifetime_figure, lifetime_summary, ltv_table, retention_comparison_summary,
    retention_comparison_table, retention_comparison_verdict, retention_summary, segment_curve_table,
)



NOTE_TEXT.update({
    "segment_not_in_events": "The events have no column '{column}': retention is not split by segment.",
    "segment_not_in_subscriptions": ("The subscriptions have no column '{column}': churn and lifetimes are not "
                                     "split by segment."),
    "value_not_in_events": ("The events have no column '{column}': revenue retention, repeat business and LTV "
                            "are left out."),
    "mrr_not_in_subscriptions": "The subscriptions have no column '{column}': the monthly revenue kept is left out.",
    "touch_columns_missing": lambda n: text("The {} have no column(s) {}: they are left out of the touches.",
                                            n["table"], ", ".join(n["columns"])),
    "churn_factors_not_in_subscriptions": lambda n: text(
        "churn_factors names columns the subscriptions do not have; the hazard model uses: {}.",
        ", ".join(n["used"]) or "none"),
    # cxlib.survival.cox / churn_effects
    "blank_covariate_left_out": "{n} lifetimes with a blank covariate were left out.",
    "no_cancellations_yet": "No customer has cancelled yet, so lifetimes cannot be compared.",
    "rmst_horizon_shortened": lambda n: text(
        "Not every segment is followed up for {h} {u}s: the average time subscribed is compared over the first "
        "{used} {u}s instead.", h=_whole(n["horizon"]), used=_whole(n["used"]), u=n["unit"]),
    "rmst_not_compared": "{reason}",
    "follow_up_under_one_unit": ("Customers are followed up for less than one {unit}: the average time subscribed "
                                 "is not compared."),
    "covariate_one_value": "{columns}: one value only, left out of the hazard model.",
    # cxlib.at_risk.buyers_to_save
    "clv_not_fitted": lambda n: text("Expected customer lifetime value is not shown: {}", n["error"]),
    "clv_too_few_buyers": lambda n: text("Expected customer lifetime value is not shown: {} buyers, fewer than {}.",
                                         n["buyers"], n["min_buyers"]),
    "clv_not_finite": ("Expected customer lifetime value is not shown: the purchase model gives no finite "
                       "prediction for these data."),
    "clv_at_boundary": ("The purchase model's parameters run to a limit on these data (typically: almost nobody "
                        "seems to drop out), so its chance that a buyer is still active is rough; expected revenue "
                        "remains its best prediction."),
})

def _whole(x) -> str:
    """A horizon as the reader gave it: 24, not 24.0 (``:g``, as the page always said it)."""
    return f"{float(x):g}"


#: The page's sections, for the contents list (their Markdown headings).
COHORT_SECTIONS = ["1. How each cohort comes back", "2. Newer vs earlier cohorts", "3. Which segment holds on better",
                   "4. Time to first value", "5. Churn per month", "6. How long customers stay",
                   "7. Which customers cancel more often", "8. After which touch do customers leave",
                   "9. Revenue retention", "10. Who to save first", "11. Repeat business and lifetime value",
                   "Method and caveats"]

_NEEDS_SUBSCRIPTIONS = ("a subscriptions table with start and end dates",
                        "give it with the subscriptions parameter (a path or a source spec).")


def cohort_source_notes(s) -> Text:
    """What reading the sources noticed and which optional inputs are left out (a page
    :class:`cxlib.pages.cohort_retention.Setup`), as one answer; empty when there is nothing."""
    items = [note_text(n) for n in [*s.read_notes, *s.notes]]
    return answer(items, lead=text("<strong>Reading the sources.</strong>")) if items else Text("")


def cohort_suppressed_note(min_n: int) -> Text:
    return paragraph("Cohorts, segments and months with fewer than {} customers are suppressed (shown as “—”).",
                     count(min_n))


# sections 1-3

def cohort_retention_answer(ret) -> Text:
    """Section 1 in words: :func:`retention_summary`, or why no cohort can be shown yet."""
    if ret.shown:
        return retention_summary(ret.table, ret.overall, period=1)
    return paragraph("No cohort can be shown yet: none has both at least {} customers and a complete {} after joining "
                     "(the largest has {} customers). Smaller cohorts are suppressed because their intervals are too "
                     "wide to read; lower the minimum cohort size parameter to see them anyway.",
                     count(ret.table.attrs.get("min_n", 30)), ret.table.attrs.get("grain", "month"), count(ret.largest))


def cohort_newer_parts(ret, *, newer: int) -> list:
    """Section 2: the comparison in words and as a table (or why there is none), and the method."""
    grain, min_n = ret.table.attrs.get("grain", "month"), ret.table.attrs.get("min_n", 30)
    out = ([answer(retention_comparison_summary(ret.newer, grain=grain)),
            retention_comparison_table(ret.newer, grain=grain)] if len(ret.newer) else
           [paragraph("Too few complete cohorts of at least {} customers to compare newer with earlier ones.",
                      count(min_n))])
    return out + [paragraph(
        "Method: the customers of the newer cohorts (the latest {} cohorts that have completed that age) and of all "
        "earlier cohorts are pooled; the difference of the two shares has a 95% Newcombe (hybrid Wilson) interval "
        "and a two-proportion z-test. Seasonality and a changing customer mix can move whole cohorts: read a "
        "difference together with the heatmap's diagonals.", count(newer))]


def cohort_segment_parts(ret, *, labels: dict | None = None) -> tuple[list, list]:
    """Section 3: what goes above the curves figure (segments compared in words, or what is missing) and
    what goes below it (the comparison and curve tables, the method)."""
    grain = ret.table.attrs.get("grain", "month")
    if not ret.by:
        return [missing_section("This section would compare retention between segments (for example plans).",
                                "a segment column in the events", "set the segment parameter to one of its columns.")], []
    lead, out = [], []
    if len(ret.segments):
        lead = [answer(retention_comparison_summary(ret.segments, grain=grain, by=ret.by, labels=labels))]
        out = [retention_comparison_table(ret.segments, grain=grain, labels=labels)]
    return lead, out + [
        segment_curve_table(ret.curve, by=ret.by, ages=ret.segment_ages, grain=grain, labels=labels,
                            title="Retention by age and segment"),
        paragraph("Every complete cohort {} is pooled by age (each cohort contributes the {}s it has completed); the "
                  "bands and brackets are 95% intervals. Each segment is compared with the largest one with the same "
                  "test as in section 2. A customer's segment is the one of their first event.", grain, grain)]


# section 4

_FIRST_VALUE_WHAT = ("This section would show how long new customers take from sign-up to their first value (median "
                     "time and the share within 7 days, by cohort).")


def cohort_first_value_parts(fv) -> list:
    """Section 4: the answer and the last six complete cohorts, or what is missing."""
    if not fv.has_event_names:
        return [missing_section(_FIRST_VALUE_WHAT, "an event-name column in the events",
                                "map yours to event_name with a source spec's columns, and name the event that means "
                                "first value with the first_value parameter.")]
    if not fv.ready:
        return [missing_section(
            _FIRST_VALUE_WHAT,
            text("an event named “signup” and one that marks first value (now “{}”), which these events do not both "
                 "have", fv.first_value),
            "name the event that means first value with the first_value parameter; if your event names are in another "
            "column, map it to event_name with a source spec's columns.")]
    out = [answer([cohort_first_value_answer(fv.overall, fv.comparison, latest=fv.latest, grain=fv.grain,
                                             days=fv.days)])]
    if len(fv.complete):
        out.append(cohort_first_value_table(fv.complete.tail(6), grain=fv.grain, days=fv.days,
                                            title="Time to first value, last six complete cohorts"))
    return out


# sections 5-7

def cohort_churn_parts(ch, *, labels: dict | None = None) -> tuple[list, list]:
    """Section 5, above the trend figure (pooled churn in words, or what is missing) and below it (the
    last three months, the method)."""
    if ch.table is None:
        return [missing_section("This section would show the share of subscribers who cancel each month.",
                                *_NEEDS_SUBSCRIPTIONS)], []
    return [churn_summary(ch.recent, by=ch.by, labels=labels)], [
            churn_table(ch.table, by=ch.by, title="Last three complete months",
                        labels={**(labels or {}), "churn_rate": "Churn", "n": "At start", "revenue_retention": "MRR kept"}),
            churn_method(ch.table)]


def cohort_lifetime_parts(life, *, labels: dict | None = None) -> tuple[list, list]:
    """Section 6, above the survival curves (medians in words, or what is missing) and below them (their
    table, the method, the restricted mean)."""
    if life.medians is None:
        return [missing_section("This section would show how long customers stay subscribed (median lifetime).",
                                *_NEEDS_SUBSCRIPTIONS)], []
    lead = [lifetime_summary(life.medians, by=life.by, test=life.test, labels=labels)]
    out = [lifetime_table(life.medians, by=life.by, labels=labels),
           paragraph("Kaplan–Meier survival of subscriptions: customers still subscribed are <em>censored</em> (we only "
                     "know they stayed at least this long), which a plain average of lifetimes would get wrong. Intervals "
                     "use Greenwood's variance on the log(−log) scale, the median's interval is Brookmeyer–Crowley, and "
                     "segments are compared with the log-rank test.")]
    if life.notes:
        out.append(answer([note_text(n) for n in life.notes], lead=text("<strong>Average time subscribed.</strong>")))
    if life.rmst is not None:
        h = number(life.horizon, 0)
        out.append(answer([cohort_rmst_answer(life.rmst, by=life.by, labels=labels)],
                          lead=text("<strong>Average time subscribed over the first {} months.</strong>", h)))
        if life.by:
            out.append(cohort_rmst_table(life.rmst, by=life.by, labels=labels))
        out.append(paragraph(
            "A median that is “not reached” cannot be compared; the restricted mean can: it is the average number of "
            "months a customer stays subscribed out of the first {}, the area under the survival curve up to then. Its "
            "interval uses the standard variance of that area; a difference between segments shows how many months of "
            "the first {} one keeps its customers longer.", h, h))
    return lead, out


def cohort_cox_parts(life, *, labels: dict | None = None) -> list:
    """Section 7: hazard ratios in words and as a table, or what is missing."""
    what = "This section would compare how often customers of each plan and region cancel."
    if life.medians is None:
        return [missing_section(what, *_NEEDS_SUBSCRIPTIONS)]
    if life.cox is None:
        return [missing_section(what, "segment columns in the subscriptions with at least two values, and some "
                                "cancellations", "name them with the churn_factors parameter (for example plan, "
                                "region).")]
    return [answer([cohort_cox_answer(life.cox, labels=labels)]), cohort_cox_table(life.cox, labels=labels),
            paragraph("Each comparison holds the other factors fixed (one Cox proportional-hazards model), so a plan's "
                      "ratio is not just its customers' region. A hazard ratio compares the rate of cancelling at the "
                      "same age: 0.5× means half as many cancellations per month among those still subscribed. It "
                      "describes who leaves, not why: customers choose their plan, so a plan's ratio is an "
                      "association, not the effect of moving a customer to it.")]


# section 8

def cohort_touch_parts(tc, *, min_n: int = 30) -> list:
    """Section 8: churn after a touch in words and as a table, the last touches, the method."""
    what = "This section would show after which touches customers cancel more often."
    if not tc.has_subscriptions:
        return [missing_section(what, *_NEEDS_SUBSCRIPTIONS)]
    if tc.compared is None:
        return [missing_section(what, "journey events, support tickets or survey answers of the same customers as "
                                "the subscriptions", "give them with the events, tickets and responses parameters.")]
    out = [answer([cohort_touch_answer(tc.compared, min_n=min_n)])]
    if tc.any_shown:
        out.append(cohort_touch_table(tc.compared))
    return out + [paragraph("{}", cohort_last_touch_sentence(tc.last)), paragraph(
        "A landmark analysis: a touch counts only when it happened by day 30, and only customers still subscribed "
        "then are compared, so nobody is credited with a touch for having stayed long enough to get it. A customer "
        "is compared for a touch only when its table covers their first 30 days. Customers who have a touch differ "
        "from those who do not in many ways: this shows association, not cause, and with {} touches tested one may "
        "cross the line by chance.", count(len(tc.compared)))]


# section 9

def _cohorts_word(n) -> str:
    return "cohort" if n == 1 else "cohorts"


def cohort_revenue_parts(rv, *, grain: str = "month", min_n: int = 30, currency: str = "$") -> list:
    """Section 9: revenue retention of cohorts, MRR kept, net revenue retention, or what is missing."""
    out = []
    if not rv.has_value:
        out.append(missing_section("This section would show how much of each cohort's first-period revenue comes back "
                                   "later.", "a money column in the events",
                                   "set the value parameter to it (for example revenue)."))
    else:
        if len(rv.lead):
            first, last = rv.lead.iloc[0], rv.lead.iloc[-1]
            said = text("One {} after joining, cohorts bring in <strong>{}</strong> of their first {}'s revenue", grain,
                        share(first["revenue_retention"]), grain)
            if len(rv.lead) > 1:
                said = text("{}; {} {}s after joining, {}", said, count(last["period"]), grain,
                            share(last["revenue_retention"]))
            out.append(answer([text("{} (pooled over the {} {} that have completed that {}).", said,
                                    count(last["cohorts"]), _cohorts_word(last["cohorts"]), grain)]))
        if rv.ages.empty:
            out.append(paragraph("No cohort of at least {} customers has completed a {} after joining yet.",
                                 count(min_n), grain))
        else:
            shown = rv.ages.assign(_age=[f"{grain.capitalize()} {k}" for k in rv.ages["period"]])
            out.append(table(shown, columns={"_age": "text", "revenue_retention": "share", "cohorts": "count",
                                             "customers": "count"},
                             labels={"_age": "Since joining", "revenue_retention": f"Revenue vs first {grain}",
                                     "cohorts": "Cohorts", "customers": "Customers"},
                             notes=[f"Revenue of the cohorts in that {grain} ÷ their revenue in their first {grain}, "
                                    "pooled over the cohorts that have completed it; refunds and expansion are "
                                    "whatever the money column holds."]))
    if rv.has_subscriptions and rv.has_mrr:
        out.append(paragraph(
            "Of the monthly recurring revenue at the start of each of the last {} complete months, <strong>{}</strong> "
            "was still subscribed at the month's end (gross revenue retention: cancellations only, no expansion; per "
            "month and segment in the churn table above).", rv.kept["periods"] if rv.kept else 0,
            share(rv.kept["kept"] if rv.kept else None, 1)))
    elif rv.has_subscriptions:
        out.append(missing_section("The monthly recurring revenue kept is not shown.", "an MRR column in the "
                                   "subscriptions", "set the mrr parameter to it."))
    if rv.nrr is not None:
        out += [answer([cohort_nrr_answer(rv.nrr, trailing=rv.trailing, currency=currency)],
                       lead=text("<strong>Net revenue retention.</strong>")),
                cohort_nrr_table(rv.nrr, currency=currency, title="Recurring revenue kept, last six complete months"),
                paragraph("From the MRR history: each month, the customers who paid the month before are followed; "
                          "expansion (upgrades, more seats) and contraction are their changes in MRR, cancelled is the "
                          "MRR of those who stopped paying. The interval treats each customer as one unit (delta "
                          "method for a ratio). New customers' revenue is in neither rate.")]
    elif rv.has_subscriptions:
        out.append(missing_section("Net revenue retention (expansion, contraction and cancellations) is not shown.",
                                   "an MRR history with one row per customer and month (customer_id, month, mrr)",
                                   "give it with the mrr_history parameter."))
    return out


# section 10

def cohort_save_parts(sv, *, currency: str = "$", labels: dict | None = None) -> list:
    """Section 10: who to save first in words, the list and its method, or what is missing."""
    notes = [note_text(n) for n in sv.notes]
    if sv.listed is None:
        what = "This section would list the customers with warning signs, largest revenue first."
        return [missing_section(Markup(" ").join([text("{}", what), *notes]) if notes else what,
                                "a subscriptions table with start and end dates, or purchase events with a money column",
                                "give them with the subscriptions and value parameters.")]
    w, who = sv.listed, "buyers" if sv.buyers else "customers"
    out = [answer([cohort_save_answer(w, currency=currency), *notes])]
    if len(w):
        out.append(cohort_save_table(w, currency=currency, labels=labels, title=f"Top {len(w)} {who} to contact"))
    return out + [cohort_save_method(w)]


# section 11

def cohort_repeat_parts(rp, *, grain: str = "month", min_n: int = 30, currency: str = "$",
                        labels: dict | None = None) -> list:
    """Section 11: repeat buyers and LTV to date in words and tables, or what is missing."""
    if not rp.has_value:
        return [missing_section("This section would show repeat buyers and revenue per customer to date (LTV).",
                                "a money column in the events", "set the value parameter to it.")]
    said, w = [], rp.windows
    if w is not None:
        said.append(text("<strong>{}</strong> of buyers in the last {} complete {}s had bought before (95% CI {}; {} "
                         "buyers). {}", share(w["retention"]), w["periods"], rp.grain,
                         interval_range(w["retention"], w["ci_lower"], w["ci_upper"], kind="share"),
                         count(w["customers"]), _change_words(w, versus=f"the {w['periods']} {rp.grain}s before")))
    if rp.ltv_at is not None:
        a = rp.ltv_at
        said.append(text("After {} {}s, a customer has brought in <strong>{}</strong> on average (revenue to date, "
                         "pooled over the {} {} that have completed that {}).", count(a["period"]), grain,
                         money(a["ltv"], currency), count(a["cohorts"]), _cohorts_word(a["cohorts"]), grain))
    out = [answer(said)] if said else []
    return out + [
        table(rp.table.tail(6), columns={"period": "date", "buyers": "count", "repeat_rate": "share",
                                         "repeat_revenue_share": "share"},
              intervals={"repeat_rate": ("ci_lower", "ci_upper")},
              labels={"period": grain.capitalize(), "buyers": "Buyers", "repeat_rate": "Had bought before",
                      "repeat_revenue_share": "Revenue from repeat buys"},
              options={"period": {"grain": grain}}, keep_suppressed=("buyers",),
              title=f"Repeat buyers, last six complete {rp.grain}s"),
        ltv_table(rp.ltv, periods=rp.ltv_ages, grain=grain, min_n=min_n, currency=currency, labels=labels,
                  title="Revenue per customer to date (LTV to date)")]


# the top of the page

def _change_words(w: dict, *, versus: str) -> str:
    """The change of a window comparison in words, without its arrow."""
    return change_sentence(w["difference"], w["difference_ci_lower"], w["difference_ci_upper"], kind="share",
                           versus=versus, beyond_noise=w["beyond_noise"]).removeprefix("▲ ").removeprefix("▼ ")


def cohort_key_figures(ov) -> list:
    """The key-figure tiles of the page (a :class:`cxlib.pages.cohort_retention.Overview`): newer cohorts'
    retention at ages 1 and 3, cancellations per month, the median lifetime, or buyers who bought before."""
    grain, newer, tiles = ov.grain, ov.retention.newer, []
    for k in (1, 3):
        row = newer[newer["period"] == k] if len(newer) else newer
        name = f"{grain.capitalize()}-{k} retention, newer cohorts"
        if len(row):
            r = row.iloc[0]
            tiles.append(figure(name, r["retention"], r["ci_lower"], r["ci_upper"], kind="share", change=r["difference"],
                                change_lo=r["difference_ci_lower"], change_hi=r["difference_ci_upper"],
                                versus="earlier cohorts at the same age", beyond_noise=r["beyond_noise"],
                                note=f"{r['cohorts']} newer cohorts ({_span(r['cohorts_from'], r['cohorts_to'], grain)}), "
                                     f"{count(r['customers'])} customers"))
        else:
            tiles.append(Figure(name, MISSING,
                                note=f"Too few complete cohorts of at least {ov.min_n} customers to compare."))
    c = ov.churn.windows
    if ov.has_subscriptions and c is not None:
        tiles.append(figure("Cancelled per month", c["retention"], c["ci_lower"], c["ci_upper"], kind="share", digits=1,
                            change=c["difference"], change_lo=c["difference_ci_lower"], change_hi=c["difference_ci_upper"],
                            versus=f"the {c['periods']} months before", beyond_noise=c["beyond_noise"],
                            note=f"Last {c['periods']} complete months ({_span(c['from'], c['to'])}), "
                                 f"{count(c['customers'])} customer-months"))
    if ov.has_subscriptions:
        tiles.append(lifetime_figure(ov.lifetimes.overall.attrs["medians"], test=ov.lifetimes.test, by=ov.lifetimes.by,
                                     labels=ov.labels))
    w, g = ov.repeat.windows, ov.repeat.grain
    if not ov.has_subscriptions and ov.has_value and w is not None:
        tiles.append(figure("Buyers who bought before", w["retention"], w["ci_lower"], w["ci_upper"], kind="share",
                            change=w["difference"], change_lo=w["difference_ci_lower"], change_hi=w["difference_ci_upper"],
                            versus=f"the {w['periods']} {g}s before", beyond_noise=w["beyond_noise"],
                            note=f"Last {w['periods']} complete {g}s, {count(w['customers'])} buyers"))
    return tiles


def cohort_answers(ov) -> list:
    """The short answers at the top of the page, one escaped sentence each."""
    grain, out = ov.grain, []
    out += retention_comparison_verdict(ov.retention.newer, grain=grain) or [text(
        "Newer vs earlier cohorts: too few complete cohorts of at least {} customers to compare.", count(ov.min_n))]
    out += retention_comparison_verdict(ov.retention.segments, grain=grain, by=ov.retention.by, labels=ov.labels)
    c = ov.churn.windows
    if ov.has_subscriptions and c is not None:
        out.append(text("<strong>{}</strong> of subscribers cancel per month (last {} complete months, 95% CI {}). {}",
                        share(c["retention"], 1), c["periods"],
                        interval_range(c["retention"], c["ci_lower"], c["ci_upper"], kind="share", digits=1),
                        _change_words(c, versus=f"the {c['periods']} months before")))
    if ov.has_subscriptions:
        m = ov.lifetimes.overall.attrs["medians"].iloc[0]
        out.append(text("Half of the customers have cancelled after <strong>{} months</strong> (95% CI {}).",
                        number(m["median"], 1), interval_range(m["median"], m["ci_lower"], m["ci_upper"], digits=1))
                   if m["reached"] else
                   text("More than half of the customers are still subscribed at the end of the follow-up."))
    rev = ov.revenue.curve
    if ov.has_value and len(rev[rev["period"] >= 1]):
        r = rev[rev["period"] >= 1].iloc[0]
        out.append(text("In their second {}, cohorts bring in <strong>{}</strong> of their first {}'s revenue (pooled "
                        "over {} {}).", grain, share(r["revenue_retention"]), grain, count(r["cohorts"]),
                        _cohorts_word(r["cohorts"])))
    nrr = ov.revenue.nrr
    if nrr is not None and len(nrr[nrr["complete"] & ~nrr["suppressed"]]):
        r = nrr[nrr["complete"] & ~nrr["suppressed"]].iloc[-1]
        out.append(text("Customers paying in {} kept <strong>{}</strong> of that monthly revenue a month later, counting "
                        "upgrades, downgrades and cancellations (net revenue retention, 95% CI {}).",
                        date(r["start_month"], "month"), share(r["net_retention"], 1),
                        interval_range(r["net_retention"], r["net_ci_lower"], r["net_ci_upper"], kind="share",
                                       digits=1)))
    to_save = ov.save.listed
    if to_save is not None and to_save.attrs.get("listed"):
        out.append(text("{} customers show a warning sign; section 10 lists the {} with the most revenue at stake.",
                        count(to_save.attrs["listed"]), count(len(to_save))))
    return out
