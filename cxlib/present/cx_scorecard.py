"""Words and cells of the weekly CX scorecard: headline scores, segments, support, funnel and stages,
themes, what changed, and closing the loop.
"""
from __future__ import annotations

import pandas as pd
from markupsafe import Markup

from cxlib.present.format import MISSING, _num, _p_phrase, count, date, duration, format_value, interval_range, label, number, points, pp, share
from cxlib.present.text import (Figure, NOTE_TEXT, Text, answer, change_sentence, data_notes, figure, key_figures,
                               missing_section, note_text, paragraph, text)
from cxlib.present.tables import _HEAD_KINDS, _SCORE_NAMES, table
from cxlib.present.cohort_retention import _cohort_hr, cohort_touch_words

def scorecard_summary(head: pd.DataFrame, *, support_table: pd.DataFrame | None = None,
                      rising: pd.DataFrame | None = None, stages: pd.DataFrame | None = None,
                      labels: dict | None = None) -> Text:
    """The scorecard's answer: each headline metric and what changed beyond noise (support speed,
    rising comment themes, the weakest journey stage).

    Examples
    --------
    >>> scorecard_summary(scorecard.headline("data/sample/responses.csv"))  # doctest: +SKIP
    """
    w = head.attrs.get("week")
    items = list(_unanswered(head))
    for metric, g in head.groupby("metric", sort=False):
        if not (g["n"] > 0).any():
            continue  # said above, with the last week that had answers
        r = g.iloc[0]
        prior = g[g["comparison"] != "previous week"]
        prior = prior.iloc[0] if not prior.empty else r
        kind, opts = _HEAD_KINDS.get(metric, ("number", {}))
        line = text("<strong>{} {}</strong> (95% CI {}, n = {})", _SCORE_NAMES.get(metric, label(metric, labels)),
                    format_value(r["value"], kind, **opts),
                    interval_range(r["value"], r["ci_lower"], r["ci_upper"], kind=kind, **opts) or MISSING,
                    count(r["n"]))
        if _num(prior["change"]) is not None:
            said = change_sentence(prior["change"], prior["change_ci_lower"], prior["change_ci_upper"], kind=kind,
                                   versus="the " + label(prior["comparison"]).lower(),
                                   beyond_noise=prior["beyond_noise"], digits=opts.get("digits"))
            line = text("{}: {} (p {})", line, said.rstrip("."), _p_phrase(prior["p_value"]))
        items.append(text("{}.", line))
    if support_table is not None and not support_table.empty:
        key = support_table.columns[0]
        for _, s in support_table[support_table["beyond_noise"]].iterrows():
            items.append(text("Support: <strong>{}</strong> first responses got {}: median <strong>{}</strong> "
                              "against {} in the prior weeks ({}×; {} of tickets slower than the usual median; "
                              "Mann-Whitney p {}).", label(s[key], labels), "slower" if s["ratio"] > 1 else "faster",
                              duration(s["median_hours"]), duration(s["prior_median_hours"]), number(s["ratio"], 1),
                              share(s["slower_share"]), _p_phrase(s["p_value"])))
        if not support_table["beyond_noise"].any():
            items.append(text("Support response times: no channel changed beyond noise."))
    if rising is not None and not rising.empty:
        up = rising[rising["rising"]]
        for _, r in up.iterrows():
            items.append(text("Rising theme: <strong>{}</strong> in {} of comments (prior weeks {}).", r["label"],
                              share(r["share"]), share(r["prior_share"])))
        if up.empty:
            items.append(text("No comment theme rose beyond noise."))
    if stages is not None and "weakest" in stages and stages["weakest"].any():
        s = stages[stages["weakest"]].iloc[0]
        items.append(text("Weakest journey stage: <strong>{}</strong> (NPS {}, 95% CI {}, n = {}, all weeks).",
                          label(s.iloc[0], labels), points(s["nps"]),
                          interval_range(s["nps"], s["ci_lower"], s["ci_upper"], kind="points") or MISSING,
                          count(s["n"])))
    lead = text("Week of <strong>{}</strong>:", date(w)) if w is not None else None
    return answer(items, lead=lead)


# ---- cx_scorecard page (additions for that notebook go below this line)

_SCORE_HOW = {"csat": "a csat column (satisfaction 1–5)", "ces": "a ces column (ease 1–7)"}


def scorecard_no_answers(n) -> Text:
    """Words for a ``no_answers_in_week`` note (:func:`cxlib.scorecard.headline` and friends): no answers
    that week and, when the note names it, the last week that had some with its figure, e.g. "No NPS
    answers in the week of 30 Nov 2026; the last week with answers was that of 23 Nov 2026: NPS +12.0
    (n = 84)." Every value is escaped; a missing figure is said in words, never NaN."""
    metric = str(n.get("metric") or "nps")
    name = label(metric, {"nps": "NPS", "csat": "CSAT", "ces": "CES"})
    first = text("No {} answers in the week of {}", name, date(n.get("week")))
    if "last_week" not in (getattr(n, "values", None) or {}):
        return text("{}.", first)
    lw = n.get("last_week")
    if lw is None or pd.isna(lw):
        return text("{}, nor in any week before it.", first)
    kind, opts = _HEAD_KINDS.get(metric, ("number", {}))
    v = _num(n.get("value"))
    if v is None:
        fig = text("{} answers, too few to show a score", count(n.get("n", 0)))
    else:
        level = round(100 * (1 - float(n.get("alpha", 0.05))))
        fig = text("{} {} ({}% CI {}, n = {})", name, format_value(v, kind, **opts), level,
                   interval_range(v, n.get("ci_lower"), n.get("ci_upper"), kind=kind, **opts) or MISSING,
                   count(n.get("n", 0)))
    return text("{}; the last week with answers was that of {}: {}.", first, date(lw), fig)


def scorecard_no_answers_before(n) -> Text:
    """Words for a ``no_answers_before_week`` note (:func:`cxlib.scorecard.what_changed`)."""
    name = label(str(n.get("metric") or "nps"), {"nps": "NPS", "csat": "CSAT", "ces": "CES"})
    return text("No {} answers in the {} weeks before the week of {}: nothing to compare that week with.",
                name, count(n.get("prior_weeks", 0)), date(n.get("week")))


NOTE_TEXT["no_answers_in_week"] = scorecard_no_answers
NOTE_TEXT["no_answers_before_week"] = scorecard_no_answers_before
NOTE_TEXT["no_tickets_in_week"] = ("No tickets from the week of {week} to compare: none was created that week, or none "
                                   "was answered by the analysis date.")


def _empty_week_notes(result, metric: str | None = None, code: str = "no_answers_in_week") -> list:
    """The ``code`` notes of ``result`` (for ``metric`` when given)."""
    return [n for n in (getattr(result, "attrs", None) or {}).get("notes", []) or []
            if getattr(n, "code", None) == code and (metric is None or n.get("metric") == metric)]


def _unanswered(head: pd.DataFrame) -> list:
    """Words for each headline metric without answers this week (its ``no_answers_in_week`` note), also
    when its rows were filtered out of ``head`` before the call (the notes travel in ``attrs``)."""
    out, said = [], set()
    for n in _empty_week_notes(head):
        m = n.get("metric")
        g = head[head["metric"] == m] if len(head) else head
        if m in said or (len(g) and (g["n"] > 0).any()):
            continue
        said.add(m)
        out.append(scorecard_no_answers(n))
    return out


def scorecard_figures(head: pd.DataFrame, *, scores=("nps", "csat", "ces"), min_n: int | None = None,
                      labels: dict | None = None) -> Text:
    """Key-figure tiles of a :func:`cxlib.scorecard.headline` result: this week's value with its interval,
    the change against the prior weeks and against the previous week (each beyond noise or not, in words)
    and the number of answers. A score in ``scores`` that ``head`` lacks gets a tile saying it is not measured.

    Examples
    --------
    >>> scorecard_figures(scorecard.headline("data/sample/responses.csv"))  # doctest: +SKIP
    """
    return key_figures(scorecard_key_figures(head, scores=scores, min_n=min_n, labels=labels))


def scorecard_key_figures(head: pd.DataFrame, *, scores=("nps", "csat", "ces"), min_n: int | None = None,
                          labels: dict | None = None) -> list:
    """The :class:`Figure` of each score that :func:`scorecard_figures` shows as tiles (and the page
    publishes with :func:`headline_frame`).

    Examples
    --------
    >>> [f.label for f in scorecard_key_figures(page.scores(setup).head)]  # doctest: +SKIP
    ['NPS', 'CSAT', 'CES']
    """
    figs = []
    for metric in scores:
        g = head[head["metric"] == metric]
        name = _SCORE_NAMES.get(metric, label(metric, labels))
        empty = _empty_week_notes(head, metric)
        measured = head.attrs.get("scores")  # the scores headline() was given columns for
        if metric not in (measured if measured is not None else set(head["metric"]) if len(head) else ()):
            # no column for this score in the survey (not a week without answers): say how to add it
            figs.append(Figure(name, "Not measured", note=text("The responses have no {} column; add {} to see it.",
                                                               label(metric), _SCORE_HOW.get(metric, "the column"))))
            continue
        if empty and (g.empty or not (g["n"] > 0).any()):  # a week without answers: news, with the last week
            figs.append(Figure(name, "No answers", note=scorecard_no_answers(empty[0])))
            continue
        if g.empty:  # measured, but its rows were left out of the table given
            figs.append(Figure(name, MISSING, note=text("No {} figure in this table.", label(metric))))
            continue
        prior, prev = g[g["comparison"] != "previous week"], g[g["comparison"] == "previous week"]
        r = (prior if len(prior) else g).iloc[0]
        kind, opts = _HEAD_KINDS.get(metric, ("number", {}))
        f = figure(metric, r["value"], r["ci_lower"], r["ci_upper"], kind=kind, change=r["change"],
                   change_lo=r["change_ci_lower"], change_hi=r["change_ci_upper"],
                   versus=f"the {label(r['comparison']).lower()}", beyond_noise=r["beyond_noise"],
                   labels={**_SCORE_NAMES, **(labels or {})}, **opts)
        note = []
        if len(prev):
            p = prev.iloc[0]
            note.append(change_sentence(p["change"], p["change_ci_lower"], p["change_ci_upper"], kind=kind,
                                        versus="the previous week", beyond_noise=p["beyond_noise"],
                                        digits=opts.get("digits")))
        few = f" (too few to show; at least {count(min_n)} needed)" if f.value == MISSING and min_n else ""
        f.interval = "; ".join(x for x in (f.interval, f"{count(r['n'])} answers this week{few}") if x)
        f.note = " ".join(note)
        figs.append(f)
    return figs


def headline_answer(head: pd.DataFrame, *, labels: dict | None = None) -> Text:
    """One sentence on a :func:`cxlib.scorecard.headline` result: which scores moved beyond noise, and
    against which comparison (previous week or the prior weeks)."""
    moved, compared = [], False
    empty = _unanswered(head)
    for _, r in head.iterrows():
        if _num(r["change"]) is None:
            continue
        compared = True
        if bool(r["beyond_noise"]):
            kind = _HEAD_KINDS.get(r["metric"], ("number", {}))[0]
            moved.append(text("{} {} vs the {} (p {})", label(r["metric"], {**_SCORE_NAMES, **(labels or {})}),
                              change_sentence(r["change"], kind=kind, versus="x").split(" vs ")[0]
                              .removeprefix("▲ ").removeprefix("▼ ").lower(),
                              label(r["comparison"]).lower(), _p_phrase(r["p_value"])))
    if not compared and empty:
        return answer(empty)
    if not compared:
        return paragraph("Too few answers this week or before it to test any change.")
    if not moved:
        return paragraph("No score changed beyond noise, against the previous week or the prior weeks: the "
                         "movements are week-to-week wobble.")
    return paragraph("Beyond noise: {}. Every other change is within noise.", Markup("; ").join(moved))


def segment_answer(seg: pd.DataFrame, *, labels: dict | None = None) -> Text:
    """The lowest NPS this week within each segment column of :func:`cxlib.scorecard.segment_table`; a
    week without answers is said in one sentence."""
    if seg.empty:  # the week and no more: the headline above already gives the last week with answers
        found = _empty_week_notes(seg)
        return answer([text("No {} answers in the week of {}.", label(str(found[0].get("metric") or "nps"),
                                                                      {"nps": "NPS"}), date(found[0].get("week")))
                       if found else text("No answers this week.")])
    items = []
    for col, g in seg.groupby("segment", sort=False):
        ok = g[~g["suppressed"].astype(bool)]
        if ok.empty:
            items.append(text("{}: every value has too few answers this week to show.", label(col, labels)))
            continue
        lo, hi = ok.loc[ok["nps"].idxmin()], ok.loc[ok["nps"].idxmax()]
        if len(ok) < 2:
            items.append(text("{}: only <strong>{}</strong> has enough answers, NPS {} (95% CI {}, n = {}).",
                              label(col, labels), label(lo["value"], labels), points(lo["nps"]),
                              interval_range(lo["nps"], lo["ci_lower"], lo["ci_upper"], kind="points"),
                              count(lo["n"])))
            continue
        items.append(text("{}: lowest <strong>{}</strong> NPS {} (95% CI {}, n = {}), highest {} {} (n = {}).",
                          label(col, labels), label(lo["value"], labels), points(lo["nps"]),
                          interval_range(lo["nps"], lo["ci_lower"], lo["ci_upper"], kind="points"),
                          count(lo["n"]), label(hi["value"], labels), points(hi["nps"]), count(hi["n"])))
    return answer(items)


def support_answer(changes: pd.DataFrame, *, attainment: pd.DataFrame | None = None,
                   labels: dict | None = None) -> Text:
    """Per channel: this week's median first response against the prior weeks (Mann-Whitney test, from
    :func:`cxlib.scorecard.support_changes`) and the share answered within the channel's target this week
    (:func:`cxlib.support.target_attainment`)."""
    if changes.empty or not (changes["n"] > 0).any():
        found = _empty_week_notes(changes, code="no_tickets_in_week")
        if found:
            return answer([note_text(found[0])])
        if changes.empty:
            return answer([text("No tickets to compare this week.")])
    key = changes.columns[0]
    att = attainment.set_index(attainment.columns[0]) if attainment is not None and len(attainment) else None
    items = []
    for _, s in changes.iterrows():
        ch = label(s[key], labels)
        if _num(s["median_hours"]) is None:
            line = text("<strong>{}</strong>: too few tickets to compare ({} this week, {} in the prior weeks)",
                        ch, count(s["n"]), count(s["prior_n"]))
        else:
            verdict = ((text("<strong>slower beyond noise</strong>") if s["ratio"] > 1
                        else text("<strong>faster beyond noise</strong>")) if s["beyond_noise"]
                       else text("within noise"))
            line = text("<strong>{}</strong>: median first response <strong>{}</strong> this week against {} "
                        "usually, {} (Mann–Whitney p {}; {} tickets)", ch, duration(s["median_hours"]),
                        duration(s["prior_median_hours"]), verdict, _p_phrase(s["p_value"]), count(s["n"]))
        if att is not None and s[key] in att.index:
            a = att.loc[s[key]]
            line = text("{}; {} answered within the {} target (95% CI {})", line, share(a["attainment"]),
                        duration(a["target"], unit=str(a.get("unit", "hour"))),
                        interval_range(a["attainment"], a["ci_lower"], a["ci_upper"], kind="share"))
        items.append(text("{}.", line))
    return answer(items)


def support_quality_table(resolution: pd.DataFrame, *, repeats: pd.DataFrame | None = None,
                          reopens: pd.DataFrame | None = None, within_days=7, labels: dict | None = None,
                          title=None, subtitle=None):
    """Per channel: median time to resolve (:func:`cxlib.support.response_times` with
    ``measure='resolution'``), repeat contacts (:func:`cxlib.support.repeat_contact_rate`) and reopened
    tickets (:func:`cxlib.support.reopen_rate`), each with its 95% interval."""
    key = resolution.columns[0]
    unit = str(resolution["unit"].iloc[0]) if len(resolution) and "unit" in resolution else "hour"
    m = resolution[[key, "n", "p50", "p50_ci_lower", "p50_ci_upper"]]
    cols, iv = {key: "label", "n": "count", "p50": "duration"}, {"p50": ("p50_ci_lower", "p50_ci_upper")}
    for extra, rate in ((repeats, "repeat_rate"), (reopens, "reopen_rate")):
        if extra is not None and len(extra):
            m = m.merge(extra[[key, rate, "ci_lower", "ci_upper"]].rename(
                columns={"ci_lower": f"{rate}_lo", "ci_upper": f"{rate}_hi"}), on=key, how="left")
            cols[rate], iv[rate] = "share", (f"{rate}_lo", f"{rate}_hi")
    return table(m, columns=cols, intervals=iv, options={"p50": {"unit": unit}}, title=title, subtitle=subtitle,
                 labels={"n": "Resolved tickets", "p50": "Median time to resolve",
                         "repeat_rate": f"Repeat within {duration(within_days, unit='day', as_given=True)}",
                         "reopen_rate": "Reopened", **(labels or {})})


def stage_answer(stages: pd.DataFrame, *, labels: dict | None = None) -> Text:
    """The lowest and highest NPS by journey stage (:func:`cxlib.journey.stage_metrics`, all weeks)."""
    key = stages.columns[0]
    ok = stages[~stages["suppressed"].astype(bool)]
    if ok.empty:
        return paragraph("Every stage has too few answers to show an NPS.")
    lo, hi = ok.loc[ok["nps"].idxmin()], ok.loc[ok["nps"].idxmax()]
    return paragraph("Lowest NPS: <strong>{}</strong> at {} (95% CI {}, n = {}); highest: {} at {} (95% CI {}, "
                     "n = {}). All weeks pooled; no test between stages, so read the intervals.",
                     label(lo[key], labels), points(lo["nps"]),
                     interval_range(lo["nps"], lo["ci_lower"], lo["ci_upper"], kind="points"), count(lo["n"]),
                     label(hi[key], labels), points(hi["nps"]),
                     interval_range(hi["nps"], hi["ci_lower"], hi["ci_upper"], kind="points"), count(hi["n"]))


def weakest_step_answer(weak: pd.DataFrame, *, steps, labels: dict | None = None) -> Text:
    """A :func:`cxlib.journey.weakest_step` result in words: the step with the lowest conversion, and
    whether it is lower than the next-weakest step beyond noise (two-proportion test)."""
    steps = list(steps)
    r = weak.iloc[0]
    if not isinstance(r["step"], str):
        return paragraph("Too few customers reached each step to name a weakest step.")

    def hop(step):
        i = steps.index(step) if step in steps else 0
        return (text("{} → {}", label(steps[i - 1], labels), label(step, labels)) if i
                else text("{}", label(step, labels)))

    i = steps.index(r["step"]) if r["step"] in steps else 0
    first = text("The weakest step is <strong>{}</strong>: {} of the {} customers who got to {} went on "
                 "(95% CI {})", hop(r["step"]), share(r["conversion"]), count(r["entered"]),
                 label(steps[i - 1] if i else r["step"], labels).lower(),
                 interval_range(r["conversion"], r["ci_lower"], r["ci_upper"], kind="share"))
    if not isinstance(r["next_step"], str):
        return paragraph("{}; it is the only step with enough customers to compare.", first)
    verdict = ("beyond noise: fix this step first" if r["beyond_noise"]
               else "within noise: it cannot be told apart from the next-weakest step")
    return paragraph("{}, against {} at the next-weakest step, {}. The gap is {} (95% CI {}; two-proportion "
                     "test p {}): {}.", first, share(r["next_conversion"]), hop(r["next_step"]),
                     pp(r["difference"]), interval_range(r["difference"], r["diff_ci_lower"], r["diff_ci_upper"],
                                                         kind="pp"), _p_phrase(r["p_value"]), verdict)


def step_time_answer(times: pd.DataFrame, *, labels: dict | None = None) -> Text:
    """A :func:`cxlib.journey.step_times` result (one row) in words: median and 90th percentile time from
    the start step to the end step with intervals, and the share who got there within 7 days."""
    r = times.iloc[0]
    start, end = label(r["start"], labels), label(r["end"], labels)
    if bool(r["suppressed"]):
        return paragraph("Too few customers went from {} to {} ({}) to say how long it takes.", start.lower(),
                         end.lower(), count(r["n"]))
    unit = times.attrs.get("unit", "hour")
    week = ""
    if "within_7d" in times and _num(r["within_7d"]) is not None:
        week = text(" Of the customers who reached {} at least 7 days before the data end, {} (95% CI {}) got to "
                    "{} within 7 days.", start.lower(), share(r["within_7d"]),
                    interval_range(r["within_7d"], r["within_7d_ci_lower"], r["within_7d_ci_upper"], kind="share"),
                    end.lower())
    return paragraph("Time to {}: half of the {} customers who got from {} to {} took at most <strong>{}</strong> "
                     "(95% CI {}); 90% took at most {}.{}", end.lower(), count(r["n"]), start.lower(), end.lower(),
                     duration(r["median"], unit=unit),
                     interval_range(r["median"], r["ci_lower"], r["ci_upper"], kind="duration", unit=unit),
                     duration(r["p90"], unit=unit), week)


def themes_answer(top: pd.DataFrame, *, comments: int, rising: pd.DataFrame | None = None,
                  labels: dict | None = None) -> Text:
    """This week's comment themes in words: ``top``, the most mentioned themes of the week (``label``,
    ``mentions``, ``mention_share`` of the week's ``comments``, most first; :func:`cxlib.pages.cx_scorecard.voice`)
    and the themes rising beyond noise (:func:`cxlib.themes.rising_themes`).

    Examples
    --------
    >>> v = page.voice(setup)  # doctest: +SKIP
    >>> themes_answer(v.top, comments=v.comments, rising=v.rising)  # doctest: +SKIP
    """
    if not comments:
        return answer([text("No comments this week.")])
    if top is None or top.empty:
        return answer([text("No theme matched this week's {} comments. The theme taxonomy is English: give your "
                            "own with the taxonomy parameter (a YAML file of themes and their words).",
                            count(comments))])
    tops = Markup(", ").join(
        text("<strong>{}</strong> {} ({} of {})", label(h["label"], labels), share(h["mention_share"]),
             count(h["mentions"]), count(comments)) for _, h in top.iterrows())
    items = [text("Most mentioned in this week's {} comments: {}.", count(comments), tops)]
    if rising is not None and len(rising):
        up = rising[rising["rising"].astype(bool)]
        if up.empty:
            items.append(text("No theme rose beyond noise against the prior weeks."))
        for _, r in up.iterrows():
            items.append(text("Rising beyond noise: <strong>{}</strong>, {} of comments against {} in the prior "
                              "weeks (change {}, 95% CI {}; p {}).", label(r["label"], labels), share(r["share"]),
                              share(r["prior_share"]), pp(r["change"]),
                              interval_range(r["change"], r["ci_lower"], r["ci_upper"], kind="pp"),
                              _p_phrase(r["p_value"])))
    return answer(items)


def stage_nps_table(stages: pd.DataFrame, *, labels: dict | None = None, title=None, subtitle=None):
    """A compact :func:`cxlib.journey.stage_metrics` table for a phone: stage (the weakest marked in
    words), answers and NPS with its interval; promoter and detractor shares stay in the CSV."""
    key = stages.columns[0]
    weakest = stages["weakest"] if "weakest" in stages else pd.Series(False, index=stages.index)
    s = stages.assign(_stage=[label(v, labels) + (" (lowest)" if w else "") for v, w in zip(stages[key], weakest)])
    return table(s, columns={"_stage": "text", "n": "count", "nps": "points"},
                 intervals={"nps": ("ci_lower", "ci_upper")}, title=title, subtitle=subtitle,
                 labels={"_stage": "Stage", "n": "Answers", "nps": "NPS", **(labels or {})})


def funnel_steps_table(steps: pd.DataFrame, *, labels: dict | None = None, title=None, subtitle=None):
    """A compact :func:`cxlib.journey.funnel` table for a phone: customers reaching each step, conversion
    from the previous step with its interval, and the median time from the previous step."""
    steps = steps.assign(conversion=steps["conversion"].where(steps["position"] > 1))  # the first step has none
    return table(steps, columns={"step": "label", "reached": "count", "conversion": "share",
                                 "median_hours_from_previous": "duration"},
                 intervals={"conversion": ("ci_lower", "ci_upper")}, title=title, subtitle=subtitle,
                 keep_suppressed=("reached",),
                 labels={"step": "Step", "reached": "Customers", "conversion": "From previous step",
                         "median_hours_from_previous": "Median time taken", **(labels or {})})


def rising_table(rising: pd.DataFrame, *, labels: dict | None = None, title=None, subtitle=None):
    """A compact :func:`cxlib.themes.rising_themes` table for a phone: theme (rising ones marked in
    words), this week's share, the prior weeks' share and the change with its interval."""
    r = rising.assign(_theme=[label(t, labels) + (" (rising beyond noise)" if up else "")
                              for t, up in zip(rising["label"], rising["rising"])])
    return table(r, columns={"_theme": "text", "share": "share", "prior_share": "share", "change": "pp"},
                 intervals={"change": ("ci_lower", "ci_upper")}, title=title, subtitle=subtitle,
                 labels={"_theme": "Theme", "share": "This week", "prior_share": "Prior weeks", "change": "Change",
                         **(labels or {})})


def callback_table(loop: pd.DataFrame, *, score: str = "nps", labels: dict | None = None, title=None,
                   subtitle=None):
    """A :func:`cxlib.scorecard.close_the_loop` list grouped by comment theme, four columns for a phone:
    the id (customer id, else respondent id), score, comment and latest ticket status."""
    who = "customer_id" if "customer_id" in loop.columns else "respondent_id"
    theme = loop["themes"] if "themes" in loop.columns else pd.Series("", index=loop.index)
    d = loop.assign(_theme=theme.replace({"(no theme)": "No theme matched"}))
    d = d.sort_values(["_theme", score], kind="mergesort")
    cols = {"_theme": "text", who: "text", score: "count", "comment": "text"}
    if "latest_ticket" in d.columns:
        d = d.assign(_ticket=d["latest_ticket"].map({"none": "No ticket", "open": "Open", "resolved": "Resolved"})
                     .fillna(d["latest_ticket"]))
        cols["_ticket"] = "text"
    return table(d, columns=cols, groups="_theme", title=title, subtitle=subtitle,
                 labels={"customer_id": "Customer", "respondent_id": "Respondent", score: "Score",
                         "comment": "Comment", "_ticket": "Latest ticket", **(labels or {})})


def source_notes(*tables) -> Text:
    """The notes a source's reader or layout recorded (:func:`cxlib.sources.metadata` ``notes``: dropped
    previews, partial answers, computed columns), as one escaped "About the data" list; empty without notes."""
    from cxlib import sources

    holders = []
    for t in tables:
        if t is None:
            continue
        h = pd.DataFrame()
        h.attrs["notes"] = list(sources.metadata(t).get("notes") or [])
        holders.append(h)
    return data_notes(*holders)


def _scorecard_noise(beyond) -> str:
    return "beyond noise" if bool(beyond) else "within noise"


def scorecard_what_changed_answer(wc: pd.DataFrame, *, top: int = 3, labels: dict | None = None) -> Text:
    """One sentence on a :func:`cxlib.scorecard.what_changed` result: the total change against the prior
    weeks = segment mix (who answered) + change within segments, each with its 95% interval and whether it
    is beyond noise, and the segments with the largest absolute contributions. With nothing to split (no
    answers this week or before it) the sentence says so."""
    if wc.empty:
        found = (_empty_week_notes(wc) or _empty_week_notes(wc, code="no_answers_before_week"))
        return paragraph("{}", note_text(found[0]) if found else text("Nothing to split this week."))
    parts = wc.set_index("part")
    tot, mix, within = (parts.loc[p] for p in ("total", "mix", "within"))
    by = wc.attrs.get("by") or ["segment"]
    col = " / ".join(label(b, labels) for b in by).lower()
    segs = wc[wc["part"] == "segment"].head(top)
    movers = Markup(", ").join(text("{} {}", label(r["segment"], labels), points(r["estimate"]))
                               for _, r in segs.iterrows())
    if _num(tot["ci_lower"]) is None:
        return paragraph("NPS changed by <strong>{}</strong> points against the prior {} weeks ({} to {}): {} from "
                         "who answered (mix by {}) and {} from changes within each {}; the largest contributions: "
                         "{}. No intervals were computed (bootstrap=0).", points(tot["estimate"]),
                         count(wc.attrs.get("prior_weeks")), points(tot["value_before"]), points(tot["value_now"]),
                         points(mix["estimate"]), col, points(within["estimate"]), col, movers)
    lead = {(False, True): "A change within each {}, not in who answered",
            (True, False): "A change in who answered (the mix of {} values), not within them",
            (True, True): "Both who answered and changes within each {}",
            (False, False): "Neither part stands out from noise"}[(bool(mix["beyond_noise"]),
                                                                 bool(within["beyond_noise"]))]
    return paragraph("<strong>{}</strong>: NPS changed by <strong>{}</strong> points (95% CI {}, {}; {} in the prior "
                     "{} weeks, {} this week), of which who answered (the mix of {} values) accounts for {} (95% CI "
                     "{}, {}) and changes within each {} for {} (95% CI {}, {}); the {} values that moved it most: "
                     "{}.", text(lead, col),
                     points(tot["estimate"]), interval_range(tot["estimate"], tot["ci_lower"], tot["ci_upper"],
                                                             kind="points"),
                     _scorecard_noise(tot["beyond_noise"]), points(tot["value_before"]),
                     count(wc.attrs.get("prior_weeks")), points(tot["value_now"]), col, points(mix["estimate"]),
                     interval_range(mix["estimate"], mix["ci_lower"], mix["ci_upper"], kind="points"),
                     _scorecard_noise(mix["beyond_noise"]), col, points(within["estimate"]),
                     interval_range(within["estimate"], within["ci_lower"], within["ci_upper"], kind="points"),
                     _scorecard_noise(within["beyond_noise"]), col, movers)


def scorecard_what_changed_table(wc: pd.DataFrame, *, top: int = 5, labels: dict | None = None, title=None,
                                 subtitle=None):
    """A compact :func:`cxlib.scorecard.what_changed` table for a phone: the ``top`` segments by absolute
    contribution, each with its mix part, within part and total (NPS points, 95% intervals), then a row
    for all segments (the whole change); no table when there is nothing to split."""
    if wc is None or wc.empty:
        return Text("")
    by = wc.attrs.get("by") or ["segment"]
    segs = wc[wc["part"] == "segment"]
    rows = segs.head(top)[["segment", "mix_contribution", "mix_ci_lower", "mix_ci_upper", "within_contribution",
                           "within_ci_lower", "within_ci_upper", "estimate", "ci_lower", "ci_upper"]]
    rows = rows.assign(segment=[label(v, labels) for v in rows["segment"]])
    parts = wc.set_index("part")
    every = {"segment": "All values", "estimate": parts.loc["total", "estimate"],
             "ci_lower": parts.loc["total", "ci_lower"], "ci_upper": parts.loc["total", "ci_upper"]}
    for p, c in (("mix", "mix_contribution"), ("within", "within_contribution")):
        every.update({c: parts.loc[p, "estimate"], c.replace("contribution", "ci_lower"): parts.loc[p, "ci_lower"],
                      c.replace("contribution", "ci_upper"): parts.loc[p, "ci_upper"]})
    rows = pd.concat([rows, pd.DataFrame([every])], ignore_index=True)
    rest = len(segs) - len(rows) + 1
    notes = ([f"{count(rest)} other value{'s' if rest != 1 else ''} contributed less."] if rest > 0 else [])
    notes.append("Mix: the shift in who answered; within: the change of NPS inside each value. "
                 "Mix + within = total, in NPS points.")
    return table(rows, columns={"segment": "text", "mix_contribution": "points", "within_contribution": "points",
                                "estimate": "points"},
                 intervals={"mix_contribution": ("mix_ci_lower", "mix_ci_upper"),
                            "within_contribution": ("within_ci_lower", "within_ci_upper"),
                            "estimate": ("ci_lower", "ci_upper")},
                 notes=notes, title=title, subtitle=subtitle,
                 labels={"segment": " / ".join(label(b, labels) for b in by), "mix_contribution": "Who answered (mix)",
                         "within_contribution": "Within", "estimate": "Total"})


def _scorecard_touch_clause(r) -> Text:
    return text("{} left <strong>{} as often</strong> as those who did not (95% CI {}; {} vs {} customers)",
                cohort_touch_words(r["touch"], 1), _cohort_hr(r),
                interval_range(r["hazard_ratio"], r["ci_lower"], r["ci_upper"], digits=2),
                count(r["n_with"]), count(r["n_without"]))


def scorecard_touch_answer(ct: pd.DataFrame, *, min_n: int = 30) -> Text:
    """"After which touch do customers leave?" in one sentence, from :func:`cxlib.journey.churn_by_touch`:
    the touch with the highest hazard ratio whose 95% interval lies above 1 (else the highest one, said to
    be within noise), and the touch that goes most with staying (interval below 1) when there is one;
    always called an association.

    Examples
    --------
    >>> ct = journey.churn_by_touch("data/sample/subscriptions.csv", tickets="data/sample/tickets.csv")
    >>> scorecard_touch_answer(ct)  # doctest: +SKIP
    """
    w = int(round(ct.attrs.get("window_days", 30)))
    ok = ct[~ct["suppressed"].astype(bool) & ct["hazard_ratio"].notna()] if len(ct) else ct
    if not len(ok):
        return text("No touch can be compared yet: every touch has fewer than {} customers with it or without it "
                    "among those still subscribed {} days after starting.", count(min_n), w)
    risk, stay = ok[ok["ci_lower"] > 1], ok[ok["ci_upper"] < 1]
    tail = (text("; {}", _scorecard_touch_clause(stay.loc[stay["hazard_ratio"].idxmin()])) if len(stay)
            else text(""))
    if len(risk):
        r = risk.loc[risk["hazard_ratio"].idxmax()]
        return text("Customers leave most after {} in their first {} days: {}{} — associations, not proof of "
                    "cause.", cohort_touch_words(r["touch"], 2), w, _scorecard_touch_clause(r), tail)
    r = ok.loc[ok["hazard_ratio"].idxmax()]
    return text("No touch in customers' first {} days is followed by more leaving beyond noise: the closest, {}, "
                "is within noise{} — associations, not proof of cause.", w, _scorecard_touch_clause(r), tail)


# ---- the page's sections (:mod:`cxlib.pages.cx_scorecard` results in, words out; each picks the words for
# what the page decided: an input absent, too little data, or the answer)

def scorecard_week(scores) -> Text:
    """The reported week in words (a :class:`cxlib.pages.cx_scorecard.Scores`): its first and last day and
    what each score is compared with.

    Examples
    --------
    >>> scorecard_week(page.scores(setup))  # doctest: +SKIP
    """
    return paragraph("Scores of the week from Monday <strong>{}</strong> to Sunday {}, each compared with the "
                     "previous week and with the {} weeks before it.", date(scores.week), date(scores.week_end),
                     scores.prior_weeks)


def scorecard_moved_answer(moved, *, labels: dict | None = None) -> Text:
    """Section "What moved NPS" in words (a :class:`cxlib.pages.cx_scorecard.Moved`): the split of the
    change (:func:`scorecard_what_changed_answer`), or why there is none."""
    if moved.status == "no_segment":
        return missing_section("The split of this week's NPS change into who answered and change within "
                               "segments would appear here.", "a journey stage or segment column in the "
                               "responses", "name it with the stage or segments parameter.")
    if moved.status == "too_few_weeks":
        return paragraph("Too few weeks of NPS answers to split this week's change: it needs answers this "
                         "week and in the prior {} weeks.", count(moved.prior_weeks))
    return scorecard_what_changed_answer(moved.result, labels=labels)


def scorecard_segments_answer(seg, *, labels: dict | None = None) -> Text:
    """Section "Segments this week" in words (a :class:`cxlib.pages.cx_scorecard.Segments`): the lowest
    NPS per segment column (:func:`segment_answer`), or that the responses have no segment column."""
    if seg.table is None:
        return missing_section("NPS per segment this week would appear here.", "segment columns in the responses",
                               "name yours with the segments parameter.")
    return segment_answer(seg.table, labels=labels)


def scorecard_skipped(seg, *, labels: dict | None = None) -> Text:
    """The segment columns left out (not in the responses, or personal data); empty when none was."""
    if not seg.skipped:
        return Text("")
    return paragraph("Not in these responses (or personal data), so skipped: {}.",
                     ", ".join(label(s, labels) for s in seg.skipped))


def scorecard_support_answer(care, *, labels: dict | None = None) -> Text:
    """Section "Support responsiveness" in words (a :class:`cxlib.pages.cx_scorecard.Support`): this
    week's first response per channel and its target (:func:`support_answer`), or how to add tickets."""
    if not care.given:
        return missing_section(
            "First-response and resolution times per channel, target attainment and repeat contacts would appear "
            "here.", "a tickets table", "give yours with the tickets parameter (a path, or a spec such as "
            "{path: tickets.csv, layout: zendesk}); the bundled demo tickets are never shown beside your own "
            "responses.")
    return support_answer(care.changes, attainment=care.attainment_week, labels=labels)


def scorecard_support_trend_missing(care) -> Text:
    """Why the weekly support trend is not drawn (tickets given, too few per channel and week); empty
    otherwise."""
    if care.given and not care.trend_drawable:
        return paragraph("Too few answered tickets per channel and week to draw a weekly trend.")
    return Text("")


def scorecard_stages_answer(trip, *, labels: dict | None = None) -> Text:
    """NPS by journey stage in words (a :class:`cxlib.pages.cx_scorecard.Journey`: :func:`stage_answer`),
    or that the responses have no stage column."""
    if trip.stages is None:
        return missing_section("NPS per journey stage would appear here.", "a journey stage column in the "
                               "responses", "name it with the stage parameter.")
    return stage_answer(trip.stages, labels=labels)


def scorecard_funnel_answer(trip, *, labels: dict | None = None) -> Text:
    """The funnel's weakest step in words (:func:`weakest_step_answer`), or how to add events."""
    if trip.funnel is None:
        return missing_section(
            "The conversion funnel, its weakest step and the time to first value would appear here.", "an events "
            "table with a journey step column", "give yours with the events parameter (a path or a source spec); "
            "the bundled demo events are never shown beside your own responses.")
    return weakest_step_answer(trip.weakest, steps=trip.steps, labels=labels)


def scorecard_touches_answer(trip) -> Text:
    """"After which touch do customers leave?" (:func:`scorecard_touch_answer`), or how to add
    subscriptions."""
    if trip.touches is None:
        return missing_section(
            "Which touches (journey steps, support contacts, late support replies, detractor answers) customers "
            "leave after would appear here.", "a subscriptions table with start and end dates, of the same "
            "customers as the events, tickets or responses", "give it with the subscriptions parameter (a path or "
            "a source spec).")
    return answer([scorecard_touch_answer(trip.touches, min_n=trip.min_n)])


def scorecard_themes_answer(voice, *, labels: dict | None = None) -> Text:
    """Section "Voice of the customer" in words (a :class:`cxlib.pages.cx_scorecard.Voice`:
    :func:`themes_answer`), or that the responses have no comment column."""
    if not voice.given:
        return missing_section("This week's comment themes and the rising ones would appear here.",
                               "a comment column in the responses", "map yours in the source spec "
                               "(columns: {comment: <your column>}).")
    return themes_answer(voice.top, comments=voice.comments, rising=voice.rising, labels=labels)


def scorecard_loop_answer(voice) -> Text:
    """Section "Close the loop" in words: how many detractors to call back, none, or that the responses
    have no comment column."""
    if not voice.given:
        return missing_section("Detractors who commented this week would be listed here.",
                               "a comment column in the responses", "map yours in the source spec.")
    if voice.loop.empty:
        return paragraph("No detractor left a comment this week.")
    return paragraph("<strong>{}</strong> detractors left a comment this week, grouped by theme, lowest scores first.",
                     count(len(voice.loop)))
