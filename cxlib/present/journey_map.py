"""The journey map page in words and tables: reads the columns of :mod:`cxlib.pages.journey_map`, computes
nothing (DESIGN.md, "Layers").

Examples
--------
>>> from cxlib.present import journey_map as words
>>> words.status_mark("missed")
'✗ Missed'
"""
from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from cxlib.present.format import MISSING, count, duration, interval, interval_range, number, points, share
from cxlib.present.tables import table
from cxlib.present.text import NOTE_TEXT, Text, answer, bullets, data_notes, figure, paragraph, text

__all__ = ["status_mark", "journey_answer", "journey_figures", "journey_map_table", "friction_answer",
           "friction_table", "stage_sections", "journey_method", "journey_footer", "journey_inputs",
           "promise_words", "MARKS"]

#: The changes from the previous period a stage's section reads: metric, number kind, words.
CHANGES = (("conversion", "pp", "Conversion"), ("promise", "pp", "Promise share"),
           ("nps", "points", "NPS"), ("csat", "pp", "CSAT"), ("ces", "signed", "CES"))
#: The met/missed mark: a symbol and a word, never colour alone.
MARKS = {"met": "✓ Met", "missed": "✗ Missed", "too_close": "≈ Too close to call"}
_NEEDS = {"touchpoint": "survey answers with a touchpoint column", "events": "an events table", "tickets": "a tickets table", "responses": "survey answers (responses)",
          "subscriptions": "subscriptions"}

NOTE_TEXT["journey_stage_not_found"] = ("Stage {stage}: the events table has none of its event names ({events}), "
                                        "so no customer reached it. Check the spelling in the journey file: the "
                                        "table's event names include {available}.")
NOTE_TEXT["journey_touchpoint_not_found"] = ("Stage {stage}: no answer has touchpoint '{touchpoint}', so it has no "
                                             "scores. Check the spelling in the journey file: the answers' "
                                             "touchpoints are {available}.")
NOTE_TEXT["journey_few_answers"] = ("Stage {stage}: only {answers} answers at touchpoint '{touchpoint}', fewer than "
                                    "{min_n}, so its scores, themes and detractor target are not shown.")
NOTE_TEXT["journey_stage_needs"] = "Stage {stage} needs {tables}: its row is left blank where that table would count."
NOTE_TEXT["journey_no_touchpoint"] = ("{table} has no column '{column}', so its answers cannot be placed on a stage: "
                                     "scores, themes and detractor targets by stage are left out.")
NOTE_TEXT["journey_window_open"] = ("Stage {stage}: no customer's {days}-day window has ended by the end of the data, so "
                                   "its promise cannot be judged yet.")
NOTE_TEXT["journey_churn_failed"] = "Churn after a bad experience at {stage} could not be compared: {reason}"
NOTE_TEXT["journey_table_not_given"] = lambda n: text(  # noqa: E731
    "No {} table given: {}", n["table"], {
        "events": "customers reaching each stage, conversion, time between stages and reach promises are left out.",
        "tickets": "support stages show no customers and no first-reply promise.",
        "responses": "NPS, CSAT, CES, response rates, themes and detractor targets are left out.",
        "subscriptions": "churn after a bad experience is left out."}.get(n["table"], "its columns are left out."))


def _ok(v) -> bool:
    return v is not None and not (isinstance(v, float) and pd.isna(v))


def status_mark(status) -> str:
    """The met / missed mark in words with a symbol ("✓ Met"); "No target" without one."""
    return MARKS.get(status, "— No target") if _ok(status) else "— No target"


def _unit(row) -> str:
    return {"first_response": "tickets", "detractors": "answers"}.get(row.get("target_kind"), "customers")


def promise_words(row) -> str:
    """What the stage's target counts, in words ("reached it within 7 days of Sign-up")."""
    kind = row.get("target_kind")
    if kind == "reach":
        days = duration(row["within_days"], "day", as_given=True)
        return f"reached it within {days} of {row.get('previous_stage') or 'the previous stage'}"
    if kind == "first_response":
        return "got a first reply within the channel's target"
    if kind == "detractors":
        return "were not detractors (NPS 0–6)"
    return "—"


def _target_words(row) -> str:
    if not _ok(row.get("target_kind")):
        return "no target"
    if row.get("target_given") == "max_share":
        return f"at most {share(row['target_value'])} miss it"
    if row.get("target_given") == "max_detractors":
        return f"at most {share(row['target_value'])} detractors"
    return f"at least {share(row['target'])}"


def _headline_cell(row) -> str:
    if row.get("status") not in ("ok", None) and not _ok(row.get("promise_share")):
        return "—"
    if _ok(row.get("promise_share")):
        return (f"{interval(row['promise_share'], row['promise_ci_lower'], row['promise_ci_upper'], kind='share')}"
                f" {promise_words(row)}; target {_target_words(row)}")
    if _ok(row.get("customers")):
        return f"{count(row['customers'])} customers"
    return "—"


def journey_map_table(page):
    """The map for a phone: stage, its headline number against the target, the mark, NPS there."""
    m = page.map
    rows = []
    for _, r in m.iterrows():
        r = r.to_dict()
        needs = r.get("needs") or ""
        mark = status_mark(r.get("target_status"))
        if r.get("status") == "not_found":
            mark = "— Not found in the events"
        elif _ok(r.get("touchpoint")) and r.get("answers") == 0 and not _ok(r.get("customers")):
            mark = "— No answers at its touchpoint"
        elif r.get("target_kind") == "detractors" and (r.get("answers") or 0) > 0 and not _ok(r.get("promise_share")):
            mark = "— Too few answers to judge"
        elif needs and not _ok(r.get("target_status")):
            mark = "— Needs " + " and ".join(_NEEDS.get(t, t) for t in needs.split(", "))
        rows.append({"stage": f"{int(r['position'])}. {r['stage']}", "headline": _headline_cell(r), "mark": mark,
                     "nps": interval(r.get("nps"), r.get("nps_ci_lower"), r.get("nps_ci_upper"), kind="points")})
    df = pd.DataFrame(rows)
    return table(df, columns={"stage": "text", "headline": "text", "mark": "text", "nps": "text"},
                 labels={"stage": "Stage", "headline": "Got the promise (95% CI)", "mark": "Against target",
                         "nps": "NPS at its touchpoint"},
                 title="The journey, stage by stage", subtitle=f"Data up to {page.as_of:%d %b %Y}")


def journey_answer(page) -> Text:
    """The page's answer: the friction, the lowest score, the weakest step and churn after a bad experience."""
    h = page.headline
    items = []
    fr = h["top_friction"]
    if fr:
        items.append(text("<strong>{}</strong> misses its promise beyond noise: {} of {} {} (95% CI {}) against "
                          "a target of {}, about <strong>{} {}</strong> short.", fr["stage"],
                          share(fr["promise_share"]), _unit(fr), promise_words(fr),
                          interval_range(fr["promise_share"], fr["promise_ci_lower"], fr["promise_ci_upper"],
                                         kind="share"), _target_words(fr), count(round(fr["friction"])), _unit(fr)))
    else:
        items.append(text("No stage misses its target beyond noise ({} of {} stages with a target meet it).",
                          count(h["met"]), count(h["judged"])))
    low = h["lowest_nps"]
    if low:
        gap = ("below" if low["nps_gap"] < 0 else "above") if _ok(low.get("nps_gap")) else None
        beyond = _ok(low.get("nps_gap_ci_upper")) and (low["nps_gap_ci_upper"] < 0 or low["nps_gap_ci_lower"] > 0)
        items.append(text("The lowest NPS is at <strong>{}</strong>: {} (95% CI {}){}.", low["stage"],
                          points(low["nps"]), interval_range(low["nps"], low["nps_ci_lower"], low["nps_ci_upper"],
                                                             kind="points"),
                          f", {number(abs(low['nps_gap']), 1)} points {gap} the rest of the journey"
                          f" ({'beyond' if beyond else 'within'} noise)" if gap else ""))
    weak = h["weakest_conversion"]
    if weak:
        items.append(text("The weakest step is <strong>{}</strong>: {} of the customers who reached {} went on to "
                          "it (95% CI {}).", weak["stage"], share(weak["conversion"]), weak["previous_stage"],
                          interval_range(weak["conversion"], weak["conversion_ci_lower"],
                                         weak["conversion_ci_upper"], kind="share")))
    ch = h["churn"]
    if ch:
        items.append(text("Customers with a bad experience at <strong>{}</strong> cancel {} times as often "
                          "(95% CI {}): an association, not proof that it made them leave.", ch["stage"],
                          number(ch["churn_hr"], 1), interval_range(ch["churn_hr"], ch["churn_hr_ci_lower"],
                                                                    ch["churn_hr_ci_upper"], digits=1)))
    return answer(items)


def journey_figures(page) -> list:
    """Key figures: the top friction, the lowest NPS, the weakest conversion."""
    h, figs = page.headline, []
    if h["top_friction"]:
        r = h["top_friction"]
        figs.append(figure(f"Friction: {r['stage']}", r["promise_share"], r["promise_ci_lower"],
                           r["promise_ci_upper"], kind="share",
                           note=f"{promise_words(r).capitalize()}; target {_target_words(r)}"))
    if h["lowest_nps"]:
        r = h["lowest_nps"]
        figs.append(figure(f"Lowest NPS: {r['stage']}", r["nps"], r["nps_ci_lower"], r["nps_ci_upper"],
                           kind="points", note=f"{count(r['answers'])} answers at this touchpoint"))
    if h["weakest_conversion"]:
        r = h["weakest_conversion"]
        figs.append(figure(f"Weakest step: {r['stage']}", r["conversion"], r["conversion_ci_lower"],
                           r["conversion_ci_upper"], kind="share",
                           note=f"Of {count(r['previous'])} customers who reached {r['previous_stage']}"))
    return figs


def friction_answer(page) -> Text:
    """The friction list in one or two sentences, saying plainly when the top two cannot be told apart."""
    f, h = page.friction, page.headline
    if f.empty:
        return paragraph("No stage is short of its target beyond the control limits: nothing to put on the "
                         "friction list. Stages below target but within noise are marked “too close to call” "
                         "in the map.")
    names = ", ".join(f["stage"])
    lead = text("{} stage{} short of {} target beyond noise: {}.", count(len(f)),
                "s are" if len(f) > 1 else " is", "their" if len(f) > 1 else "its", names)
    if h["top_two_apart"] is False:
        return paragraph("{} The first two cannot be told apart: which of them costs more customers is within "
                         "noise, so treat them as tied.", lead)
    if h["top_two_apart"]:
        return paragraph("{} {} clearly comes first.", lead, f["stage"].iloc[0])
    return paragraph("{}", lead)


def friction_table(page):
    """The friction list: rank (95% bootstrap interval), stage, owner, target, got it, short by, what
    customers say there (top theme of detractors' comments and a quote, contact details masked)."""
    f = page.friction
    rows = []
    for _, r in f.iterrows():
        r = r.to_dict()
        rank = f"{int(r['rank'])}"
        if _ok(r.get("rank_ci_lower")) and r["rank_ci_lower"] != r["rank_ci_upper"]:
            rank += f" ({int(r['rank_ci_lower'])}–{int(r['rank_ci_upper'])})"
        say = r.get("top_theme") if _ok(r.get("top_theme")) else MISSING
        if _ok(r.get("quote")):
            say = f"{say}: “{r['quote']}”"
        rows.append({"rank": rank, "stage": f"{r['stage']} ({r['owner'] or 'no owner'})",
                     "got": f"{interval(r['promise_share'], r['promise_ci_lower'], r['promise_ci_upper'], kind='share')}"
                            f", target {_target_words(r)}",
                     "short": f"{count(round(r['friction']))} {_unit(r)}", "say": say})
    return table(pd.DataFrame(rows, columns=["rank", "stage", "got", "short", "say"]),
                 columns={"rank": "text", "stage": "text", "got": "text", "short": "text", "say": "text"},
                 labels={"rank": "Rank (95% CI)", "stage": "Stage (owner)", "got": "Got the promise",
                         "short": "Short of target", "say": "What detractors say there"},
                 title="Friction list: stages short of their promise beyond noise")


def _stage_items(r) -> list:
    items = []
    if r.get("status") == "not_found":
        items.append(text("No customer reached it: the events table has none of its event names ({}). Its event "
                          "names include {}.", r["events"], r.get("events_in_table") or MISSING))
    elif _ok(r.get("customers")):
        if _ok(r.get("conversion")):
            items.append(text("{} customers reached it: {} of those who reached {} (95% CI {}).",
                              count(r["customers"]), share(r["conversion"]), r["previous_stage"],
                              interval_range(r["conversion"], r["conversion_ci_lower"], r["conversion_ci_upper"],
                                             kind="share")))
        else:
            items.append(text("{} customers reached it.", count(r["customers"])))
    if _ok(r.get("median_days")):
        items.append(text("Half of them got there within {} of {} (95% CI {}; customers still on their way "
                          "counted as such).", duration(r["median_days"], "day"), r["previous_stage"],
                          interval_range(r["median_days"], r["median_ci_lower"], r["median_ci_upper"],
                                         kind="duration", unit="day", like=r["median_days"]) or "open-ended"))
    if _ok(r.get("promise_share")):
        items.append(text("Promise: {} of {} {} ({}); target {}. <strong>{}</strong>.", share(r["promise_share"]),
                          _unit(r), promise_words(r), f"{count(r['promise_k'])} of {count(r['promise_n'])}",
                          _target_words(r), status_mark(r.get("target_status"))))
    if _ok(r.get("nps")):
        rate = (f"; {share(r['response_rate'])} of its customers answered there" if _ok(r.get("response_rate"))
                else "")
        items.append(text("NPS {} (95% CI {}) from {} answers{}; CSAT {}, CES {}.", points(r["nps"]),
                          interval_range(r["nps"], r["nps_ci_lower"], r["nps_ci_upper"], kind="points"),
                          count(r["answers"]), rate, share(r.get("csat")) if _ok(r.get("csat")) else MISSING,
                          number(r["ces"], 1) if _ok(r.get("ces")) else MISSING))
    elif _ok(r.get("touchpoint")) and _ok(r.get("answers")):
        if r["answers"] == 0:
            items.append(text("No answers at touchpoint '{}' yet, so no scores.", r["touchpoint"]))
        else:
            items.append(text("Only {} answers at touchpoint '{}': too few to show scores.", count(r["answers"]),
                              r["touchpoint"]))
    if _ok(r.get("top_theme")):
        items.append(text("Detractors there talk most about {} ({} of their comments).", r["top_theme"],
                          share(r["top_theme_share"])))
    if _ok(r.get("churn_hr")):
        items.append(text("Customers with a bad experience here cancel {} times as often (95% CI {}), an "
                          "association.", number(r["churn_hr"], 1),
                          interval_range(r["churn_hr"], r["churn_hr_ci_lower"], r["churn_hr_ci_upper"], digits=1)))
    for metric, kind, what in CHANGES:
        col = f"{metric}_change"
        if _ok(r.get(col)):
            when = r.get(f"{col}_period")
            items.append(text("{} in {}: {} against the period before, {}.", what,
                              f"{when:%b %Y}" if _ok(when) else "the last period",
                              interval(r[col], r[f"{col}_ci_lower"], r[f"{col}_ci_upper"], kind=kind),
                              "beyond noise" if r.get(f"{col}_beyond_noise") else "within noise"))
    if r.get("needs"):
        items.append(text("Needs {} to show the rest.", " and ".join(_NEEDS.get(t, t) for t in r["needs"].split(", "))))
    return items


def stage_sections(page) -> Text:
    """One short section per stage, in the journey's order: its promise, owner and numbers."""
    parts = []
    for _, r in page.map.iterrows():
        r = r.to_dict()
        parts.append(text('<section class="cx-stage"><h3>{}. {}</h3><p class="cx-text"><em>{}</em> Owner: {}.</p>'
                          '{}</section>', int(r["position"]), r["stage"], r["promise"], r["owner"] or "none",
                          bullets(_stage_items(r))))
    return Text(text("{}", Text("".join(str(p) for p in parts))))


def journey_inputs(page) -> Text:
    """One sentence per optional input left out (and what the data lacked)."""
    return data_notes(page.map, SimpleNamespace(attrs={"notes": page.notes}))


def journey_method(page) -> Text:
    """Definitions and caveats of the page."""
    m = page.map.attrs
    return bullets([
        "A stage is reached at the first occurrence of one of its events at or after the time counted for "
        "the previous event stage (the funnel rule); conversion is reached / reached the previous stage, with "
        "a Wilson 95% interval.",
        "Time from the previous stage is the Kaplan–Meier median: customers still on their way are counted "
        "until the end of the data, not dropped.",
        text("A stage misses its target beyond noise when its share is below a control limit that narrows "
             "with the number of customers (a funnel plot, Spiegelhalter 2005), allowing {} points of "
             "overdispersion and {} stages judged at once, so that a journey on target shows a false "
             "friction in at most 5% of reports.", number(100 * m.get("allowance", 0), 1), count(m.get("judged", 0))),
        "Friction is customers × (target share − observed share). Ranks carry a 95% bootstrap interval.",
        "Reach promises count customers whose window had ended by the end of the data; first-reply promises "
        "tickets whose target had passed; detractor targets the answers at the touchpoint.",
        "NPS, CSAT and CES come from answers given at the stage's touchpoint; who answers at a late stage is "
        "not everyone, so the response rate is shown. The gap compares with the answers at the other "
        "touchpoints.",
        "Churn after a bad experience compares customers with and without it in their first 30 days "
        "(a landmark Cox model): an association, not a cause.",
        text("Changes compare the latest complete period with the one before, for conversion (customers "
             "reaching the stage within {} days of the previous one, by the period they reached that one), the "
             "promise share, NPS, CSAT and CES; a period counts once its window has passed. They are called "
             "beyond noise only after a Benjamini–Hochberg correction over every stage and metric together "
             "({} changes tested).", number(m.get("conversion_days", 30), 0), count(m.get("changes_tested", 0))),
    ])


def journey_footer(page) -> Text:
    """The journey file (its name, never a path) and its sha256: a changed journey never silently breaks a
    trend."""
    m = page.map.attrs
    name = str(m.get("journey_path") or "the journey given").replace("\\", "/").rsplit("/", 1)[-1]
    return paragraph("Journey file: {} (sha256 {}). Data up to {}.", name, m["journey_sha256"],
                     f"{page.as_of:%d %b %Y}")
