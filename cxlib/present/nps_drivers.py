"""Words and cells of the NPS drivers page: scores and their change, segments against the rest, key
drivers, comments and themes, weighting, promoter / detractor odds.

Everything here reads columns and values that the analyses (:mod:`cxlib.metrics`, :mod:`cxlib.drivers`,
:mod:`cxlib.themes`) and the page (:mod:`cxlib.pages.nps_drivers`) computed: the quadrant of each driver,
the rating scale, the latest change and the segment gaps arrive as columns and values. The words for the
key-driver note codes (``drivers_overlap``, ``halo_answers_common``) are registered in :data:`NOTE_TEXT`.
"""
from __future__ import annotations

import pandas as pd
from markupsafe import Markup

from cxlib.present.format import CI_NOTE, MISSING, _num, _p_phrase, _text, count, date, format_value, interval, interval_range, label, number, points, share
from cxlib.present.text import (NOTE_TEXT, Figure, Text, _safe, _segment, answer, bullets, change_sentence, data_notes,
                                figure, missing_section, note_text, paragraph, text)
from cxlib.present.tables import _QUADRANTS, _SCORE_NAMES, table

def _scale_words(result) -> str:
    """'1–5' from a key-driver result's rating scale (``attrs['scale']``), else '1–10'."""
    lo, hi = (result.attrs.get("scale") or (1, 10))[:2]
    return f"{number(lo, 0)}–{number(hi, 0)}"


def drivers_summary(result: pd.DataFrame, *, labels: dict | None = None, prefix: str = "drv_") -> Text:
    """A :func:`cxlib.drivers.quadrant` result in words: top three drivers and the fix-first list (a result
    without its ``quadrant`` column gets no fix-first list).

    Examples
    --------
    >>> drivers_summary(drivers.quadrant(drivers.key_drivers("data/sample/responses.csv")))  # doctest: +SKIP
    """
    labels = {**(result.attrs.get("labels") or {}), **(labels or {})}
    name = lambda d: labels.get(d, label(str(d).removeprefix(prefix), labels))  # noqa: E731
    q = result
    r2 = result.attrs.get("r2")
    tops = [text("<strong>{}</strong> {}", name(r.driver), interval(r.importance, r.ci_lower, r.ci_upper,
                                                                     kind="share")) for r in q.head(3).itertuples()]
    items = [text("The strongest drivers of the {} score are {} of the explained variation (95% bootstrap "
                  "intervals).", label(result.attrs.get("outcome", "score"), labels), Markup(", ").join(tops))]
    if _num(r2) is not None:
        items.append(text("Together the {} ratings explain R² = {} of the score's variation, from {} respondents "
                          "who rated every driver ({} straight-liners left out).", count(len(result)),
                          number(r2, 2), count(result.attrs.get("n_model", 0)),
                          count(result.attrs.get("n_straightliners", 0))))
    fix = q[q["quadrant"] == "fix first"] if "quadrant" in q else q.iloc[:0]
    if not fix.empty:
        items.append(text("<strong>Fix first</strong> (important but rated below average): {}.", Markup(", ").join(
            text("{} (average {} on {})", name(r.driver), number(r.mean, 1), _scale_words(result))
            for r in fix.itertuples())))
    return answer(items)


# ---- nps_drivers page (additions for that notebook go below this line)

# Columns of the responses contract whose layout labels are question texts, not names for a page: the
# page says "NPS", "CSAT", "CES" itself.
_NPS_RESPONSE_COLUMNS = {"respondent_id", "customer_id", "response_time", "nps", "csat", "ces", "comment"}


def nps_source_labels(meta: dict | None, *, skip=()) -> dict:
    """Display labels from :func:`cxlib.sources.metadata` for a page: entries that only repeat the name
    (``plan: "plan"``) are dropped so the readable default applies, and the contract's score / id / comment
    columns (and ``skip``) are left out because the page names them itself.

    Examples
    --------
    >>> nps_source_labels({"labels": {"plan": "plan", "Q2_1": "Speed of reply", "nps": "How likely ...?"}})
    {'Q2_1': 'Speed of reply'}
    """
    out = {}
    for k, v in ((meta or {}).get("labels") or {}).items():
        if k in _NPS_RESPONSE_COLUMNS or k in set(skip) or v is None or str(v).strip() in ("", str(k)):
            continue
        out[k] = str(v)
    return out


def nps_driver_labels(result: pd.DataFrame, labels: dict | None = None, prefix: str = "drv_") -> dict:
    """``{driver column: display label}`` of a key-driver result: the source's labels (question texts of
    an export) first, else the column read as words without the prefix (``drv_ease_of_use`` -> "Ease of
    use")."""
    labels = dict(labels or {})
    return {d: labels.get(d, label(str(d).removeprefix(prefix) if prefix else str(d), labels))
            for d in dict.fromkeys(result["driver"])}


def _scale_of(result: pd.DataFrame | None, scale=None) -> tuple[float, float] | None:
    """The rating scale to name: ``scale`` (the page's, :func:`cxlib.drivers.rating_scale`), else the one
    the analysis recorded in ``result.attrs['scale']``, else None (the words then leave the scale out)."""
    if scale is None and result is not None:
        scale = result.attrs.get("scale")
    if scale is None or isinstance(scale, dict):
        return None
    lo, hi = scale
    return float(lo), float(hi)


def driver_scale_text(scale) -> str:
    """A rating scale for people: (1, 5) -> "1–5"; "" when unknown."""
    if scale is None:
        return ""
    lo, hi = scale
    return f"{number(lo, 0 if float(lo).is_integer() else 1)}–{number(hi, 0 if float(hi).is_integer() else 1)}"


def drivers_scale_summary(result: pd.DataFrame, *, labels: dict | None = None, scale=None, prefix: str = "drv_",
                          outcome: str = "likelihood to recommend") -> Text:
    """:func:`drivers_summary` on the ratings' own scale: top three drivers, model fit and the fix-first
    list with each average as "average 2.9 on the 1–5 scale" (never "/10" for 1–5 ratings).

    Examples
    --------
    >>> drivers_scale_summary(kd, labels=meta["labels"], scale=meta["driver_scale"])  # doctest: +SKIP
    """
    names = nps_driver_labels(result, labels, prefix)
    sc = _scale_of(result, scale)
    q = result
    r2 = result.attrs.get("r2")
    tops = [text("<strong>{}</strong> {}", names[r.driver], interval(r.importance, r.ci_lower, r.ci_upper,
                                                                      kind="share")) for r in q.head(3).itertuples()]
    items = [text("The strongest drivers of {} are {} of the explained variation (95% bootstrap intervals).",
                  outcome, Markup(", ").join(tops))]
    if _num(r2) is not None:
        items.append(text("Together the {} ratings explain R² = {} of the score's variation, from {} respondents "
                          "who rated every driver ({} straight-liners, who gave every driver the same rating, "
                          "left out).", count(len(result)), number(r2, 2), count(result.attrs.get("n_model", 0)),
                          count(result.attrs.get("n_straightliners", 0))))
    fix = q[q["quadrant"] == "fix first"]
    on = text(" on the {} scale", driver_scale_text(sc)) if sc else Markup("")
    if not fix.empty:
        items.append(text("<strong>Fix first</strong> (important but rated below the other drivers): {}.",
                          Markup(", ").join(text("{} (average {}{})", names[r.driver], number(r.mean, 1), on)
                                            for r in fix.itertuples())))
    else:
        items.append(text("No important driver is rated below the others: nothing is in the fix-first corner."))
    return answer(items)


def drivers_scale_table(result: pd.DataFrame, *, labels: dict | None = None, scale=None, prefix: str = "drv_",
                        title=None, subtitle=None):
    """:func:`drivers_table` with the rating scale in the "Average rating" header ("Average rating
    (1–5)") and the fix-first rows first in words.

    Examples
    --------
    >>> drivers_scale_table(kd, scale=(1, 5))  # doctest: +SKIP
    """
    names = nps_driver_labels(result, labels, prefix)
    sc = _scale_of(result, scale)
    q = result.assign(_driver=[names[d] for d in result["driver"]],
                      _quadrant=result["quadrant"].map(_QUADRANTS).fillna(result["quadrant"]))
    n = pd.to_numeric(result["n"], errors="coerce")
    rated = (f"Ratings per driver: {count(n.min())}" + (f" to {count(n.max())}" if n.max() != n.min() else "")
             + f"; {count(result.attrs.get('n_model', 0))} respondents rated every driver and enter the model.")
    return table(q, columns={"_driver": "text", "importance": "share", "mean": "number", "_quadrant": "text"},
                 intervals={"importance": ("ci_lower", "ci_upper")}, title=title, subtitle=subtitle,
                 labels={"_driver": "Driver", "importance": "Importance",
                         "mean": f"Average ({driver_scale_text(sc).replace('–', '–' + chr(0x2060))})" if sc
                         else "Average rating",
                         "_quadrant": "Priority"},
                 options={"mean": {"digits": 1}},
                 notes=["Importance: the driver's share of the explained variation in the score. Average: the "
                        "average rating" + (f" on the {driver_scale_text(sc)} scale." if sc else "."),
                        "Priority: fix first = important and rated below the other drivers' average; keep up = "
                        "important and rated above it; monitor / maintain = less important.", rated]
                 ).cols_width(cases={"c0": "34%"})  # driver names (question texts) wrap between words


# -- scores: the latest period against the one before

_NPS_SCORE_KINDS = {"nps": ("points", {}), "csat": ("share", {}), "ces": ("number", {"digits": 2})}
_NPS_SCORE_WORDS = {"nps": "NPS", "csat": "CSAT", "ces": "CES"}


def nps_period_name(p, grain: str = "month") -> str:
    """A period for people by its first day: "Nov 2026", "week of 16 Nov 2026", "2026 Q4"."""
    g = (grain or "").lower()
    return f"week of {date(p, 'week')}" if g == "week" else date(p, g or None)


def _incomplete_words(grain: str, in_progress: bool) -> str:
    """How an incomplete period is named: in progress (it holds the analysis date), or the last one of
    data that end before it is over."""
    g = (grain or "month").lower()
    return "so far" if in_progress else f"(the last {g} of data, not complete)"


def _nps_latest_name(ch: dict, grain: str) -> str:
    if ch["complete"]:
        return nps_period_name(ch["period"], grain)
    return f"{nps_period_name(ch['period'], grain)} {_incomplete_words(grain, ch.get('in_progress', True))}"


def nps_score_figure(overall: pd.DataFrame, change: dict | None = None, *, metric: str = "nps",
                     grain: str = "month", span: str = "", min_n: int | None = None) -> Figure:
    """A key-figure tile of a score over the whole data (value, 95% interval, answers) whose change line is
    the latest period against the one before it, beyond noise or not (``change``: the page's
    :func:`cxlib.pages.nps_drivers.latest_change`; None: no change line).

    Examples
    --------
    >>> nps_score_figure(overall, page.latest_change(trend, grain="month"))  # doctest: +SKIP
    """
    r = overall.iloc[0]
    kind, opts = _NPS_SCORE_KINDS.get(metric, ("number", {}))
    f = figure(_SCORE_NAMES.get(metric, label(metric)), r[metric], r["ci_lower"], r["ci_upper"], kind=kind,
               note=f"{count(r['n'])} answers{', ' + span if span else ''}", **opts)
    if f.value == MISSING:
        f.interval = "Too few answers to show reliably" + (f" (at least {count(min_n)} needed)." if min_n else ".")
    ch = change
    if ch is not None:
        f.change = (f"{_nps_latest_name(ch, grain)}: {format_value(ch['value'], kind, **opts)}. "
                    + change_sentence(ch["change"], ch["change_ci_lower"], ch["change_ci_upper"], kind=kind,
                                      versus=nps_period_name(ch["previous"], grain), beyond_noise=ch["beyond_noise"],
                                      digits=opts.get("digits")))
    return f


def nps_score_sentence(overall: pd.DataFrame, *, metric: str = "nps", span: str = "", scale=None,
                       min_n: int | None = None) -> Text:
    """One sentence: a score over the whole data with its interval and answers (NPS with its mix)."""
    r = overall.iloc[0]
    kind, opts = _NPS_SCORE_KINDS.get(metric, ("number", {}))
    if bool(r.get("suppressed", False)) or _num(r[metric]) is None:
        return text("{}: too few answers to show reliably ({} answers{}).", _NPS_SCORE_WORDS.get(metric, label(metric)),
                    count(r["n"]), text("; at least {} needed", count(min_n)) if min_n else Markup(""))
    head = text("<strong>{} {}</strong> (95% CI {}; {} answers{})", _NPS_SCORE_WORDS.get(metric, label(metric)),
                format_value(r[metric], kind, **opts),
                interval_range(r[metric], r["ci_lower"], r["ci_upper"], kind=kind, **opts), count(r["n"]),
                text(", {}", span) if span else Markup(""))
    if metric == "nps":
        return text("{}: {} promoters (9–10), {} passives (7–8), {} detractors (0–6).", head,
                    share(r["promoter_share"]), share(r["passive_share"]), share(r["detractor_share"]))
    if metric == "csat":
        lo, hi = scale or (1, 5)
        return text("{}: the share of answers of {} or {} on the {}–{} satisfaction scale.", head, count(hi - 1),
                    count(hi), count(lo), count(hi))
    lo, hi = scale or (1, 7)
    return text("{}: the average effort rating on a {}–{} scale ({} = very easy); {} found it easy ({} or {}).",
                head, count(lo), count(hi), count(hi), share(r.get("easy_share")), count(hi - 1), count(hi))


def nps_change_text(change: dict | None, *, metric: str = "nps", grain: str = "month") -> Text:
    """The latest period against the one before (``change``: the page's
    :func:`cxlib.pages.nps_drivers.latest_change`), in one sentence with its interval and test; None: fewer
    than two periods to compare."""
    ch = change
    name = _NPS_SCORE_WORDS.get(metric, label(metric))
    if ch is None:
        return text("{}: fewer than two {}s have enough answers to compare.", name, grain)
    kind, opts = _NPS_SCORE_KINDS.get(metric, ("number", {}))
    prev = nps_period_name(ch["previous"], grain)
    said = change_sentence(ch["change"], ch["change_ci_lower"], ch["change_ci_upper"], kind=kind, versus=prev,
                           beyond_noise=ch["beyond_noise"], digits=opts.get("digits"))
    return text("{} in {}: <strong>{}</strong> ({} answers; {}: {}). {}; p {}.", name, _nps_latest_name(ch, grain),
                format_value(ch["value"], kind, **opts), count(ch["n"]), prev,
                format_value(ch["previous_value"], kind, **opts), said.rstrip("."), _p_phrase(ch["p_value"]))


# -- segments: each value against the rest of the answers

def _nps_lowest(gaps: pd.DataFrame, seg) -> pd.Series | None:
    g = gaps[(gaps["segment"] == seg) & ~gaps["suppressed"]]
    return None if g.empty or g["nps"].isna().all() else g.loc[g["nps"].idxmin()]


def nps_weakest_sentence(gaps: pd.DataFrame, *, labels: dict | None = None) -> Text:
    """The page's answer on segments: the value most below the rest beyond noise, else why there is none."""
    r = nps_weakest_segment(gaps)
    if r is not None:
        return nps_gap_sentence(r, labels=labels)
    if gaps["suppressed"].all():
        return text("Segments: no segment value has enough answers to compare.")
    return text("No segment value has an NPS below the other answers beyond noise.")


def nps_weakest_segment(gaps: pd.DataFrame) -> pd.Series | None:
    """The segment value most below the rest beyond noise (None when no value is)."""
    low = gaps[gaps["beyond_noise"] & (gaps["gap"] < 0)]
    return None if low.empty else low.loc[low["gap"].idxmin()]


def _nps_gap_words(r: pd.Series) -> Text:
    nps_ = text("NPS <strong>{}</strong> (95% CI {}; {} answers)", points(r["nps"]),
                interval_range(r["nps"], r["ci_lower"], r["ci_upper"], kind="points"), count(r["n"]))
    if _num(r["gap"]) is None:
        return nps_
    verdict = "beyond noise" if r["beyond_noise"] else "within noise (could be chance)"
    return text("{}, {} points {} the other answers (95% CI {}; p {}): {}", nps_, number(abs(r["gap"]), 1),
                "below" if r["gap"] < 0 else "above",
                interval_range(r["gap"], r["gap_ci_lower"], r["gap_ci_upper"], kind="points"),
                _p_phrase(r["p_value"]), verdict)


def nps_gap_sentence(r: pd.Series, *, labels: dict | None = None) -> Text:
    """One row of :func:`cxlib.metrics.segment_gaps` in a sentence: "Plan <b>basic</b>: NPS +10.2 (95% CI ...), 14.1 points
    below the other answers (95% CI ...; p < 0.001): beyond noise."."""
    return text("{}: {}.", _segment(r["segment"], r["value"], labels), _nps_gap_words(r))


def nps_segments_summary(gaps: pd.DataFrame, *, labels: dict | None = None, skipped=()) -> Text:
    """Per segment column, its lowest value against the other answers (with the test); then the segment
    columns asked for but not usable (``skipped``: ``[(column, reason), ...]``), each with its reason."""
    items = []
    for seg in dict.fromkeys(gaps["segment"]):
        r = _nps_lowest(gaps, seg)
        if r is None:
            g = gaps[gaps["segment"] == seg]
            big = g.loc[g["n"].idxmax()] if len(g) else None
            items.append(text("{}: no value has enough answers to show{}.", label(seg, labels), text(
                " (the largest, {}, has {})", label(big["value"], labels), count(big["n"])) if big is not None
                else Markup("")))
        else:
            items.append(text("{}: lowest is <strong>{}</strong>, {}.", label(seg, labels), label(r["value"], labels),
                              _nps_gap_words(r)))
    for s, why in skipped:
        items.append(text("<em>Skipped:</em> {}: {}", s, _SKIP_WORDS.get(why, why)))
    return answer(items)


#: Why a segment column is not used (the page's codes, :data:`cxlib.pages.nps_drivers.SKIP_CODES`).
_SKIP_WORDS = {"not_a_column": "not a column of this data.",
               "personal_data": "personal data is never used as a segment."}


def nps_gaps_table(gaps: pd.DataFrame, *, labels: dict | None = None, title=None, subtitle=None):
    """A :func:`cxlib.metrics.segment_gaps` result: NPS per segment value with its interval and its difference from the other
    answers, grouped by segment column; the verdict in words."""
    g = gaps.assign(_segment=[label(s, labels) for s in gaps["segment"]],
                    _value=[f"{label(v, labels)} (n = {count(n)})" for v, n in zip(gaps["value"], gaps["n"])],
                    _verdict=[("—" if s or _num(x) is None else
                               ("Lower, beyond noise" if b and x < 0 else "Higher, beyond noise" if b else
                                "Within noise")) for s, x, b in zip(gaps["suppressed"], gaps["gap"],
                                                                     gaps["beyond_noise"])])
    return table(g, columns={"_segment": "text", "_value": "text", "nps": "points", "gap": "points",
                             "_verdict": "text"}, groups="_segment",
                 intervals={"nps": ("ci_lower", "ci_upper"), "gap": ("gap_ci_lower", "gap_ci_upper")},
                 labels={"_value": "Segment (answers)", "nps": "NPS", "gap": "Vs the other answers",
                         "_verdict": "Verdict"},
                 title=title, subtitle=subtitle,
                 notes=["Vs the other answers: this value's NPS minus the NPS of every other answer in the same "
                        "segment, in points; beyond noise when p < 0.05 (two-sided z-test, not adjusted for the "
                        "number of comparisons)."])


def nps_segment_figure(gaps: pd.DataFrame, *, labels: dict | None = None) -> Figure | None:
    """A key-figure tile of :func:`nps_weakest_segment` (None when no value is lower beyond noise)."""
    r = nps_weakest_segment(gaps)
    if r is None:
        return None
    return Figure(f"Lowest: {label(r['segment'], labels)} {label(r['value'], labels)}", f"NPS {points(r['nps'])}",
                  f"95% CI {interval_range(r['nps'], r['ci_lower'], r['ci_upper'], kind='points')}",
                  f"{number(abs(r['gap']), 1)} points below the other answers (95% CI "
                  f"{interval_range(r['gap'], r['gap_ci_lower'], r['gap_ci_upper'], kind='points')}): beyond noise.",
                  f"{count(r['n'])} answers")


def nps_driver_figure(result: pd.DataFrame, *, labels: dict | None = None, scale=None, prefix: str = "drv_") -> Figure:
    """A key-figure tile of the strongest driver, with the fix-first list as its note."""
    q = result
    names = nps_driver_labels(q, labels, prefix)
    top = q.iloc[0]
    sc = _scale_of(q, scale)
    fix = [f"{names[r.driver]} ({number(r.mean, 1)}{' on ' + driver_scale_text(sc) if sc else ''})"
           for r in q[q["quadrant"] == "fix first"].itertuples()]
    return Figure(f"Strongest driver: {names[top['driver']]}", share(top["importance"]),
                  f"of the explained variation (95% CI {interval_range(top['importance'], top['ci_lower'], top['ci_upper'], kind='share')})",
                  "Fix first: " + ", ".join(fix) + "." if fix else "Nothing in the fix-first corner.",
                  f"R² = {number(result.attrs.get('r2'), 2)}, {count(result.attrs.get('n_model', 0))} respondents")


# -- comments

_NPS_QUOTES_STYLE = Markup("<style>.cx-quotes li{overflow-wrap:anywhere;margin:4px 0}"
                       ".cx-quotes .cx-who{color:#555;font-size:0.9em}</style>")


def nps_themes_summary(counts: pd.DataFrame, impact: pd.DataFrame | None = None, *, top: int = 3) -> Text:
    """What customers write about: the most mentioned themes and the theme whose commenters score lowest
    (with the test); a sentence instead when no comment matched a theme."""
    return answer(nps_themes_items(counts, impact, top=top))


def nps_themes_items(counts: pd.DataFrame, impact: pd.DataFrame | None = None, *, top: int = 3) -> list[Text]:
    """The sentences of :func:`nps_themes_summary` as a list (the first is the most mentioned themes)."""
    n = int(counts["comments"].max()) if len(counts) else 0
    hit = counts[counts["mentions"] > 0].sort_values("mentions", ascending=False)
    if n == 0:
        return [text("No comments to read: the comment column is blank in every answer.")]
    if hit.empty:
        return [text("No theme matched any of the {} comments. The theme taxonomy is English keyword lists: "
                     "give your own (in the comments' language) with the taxonomy parameter.", count(n))]
    items = [text("Customers most often write about {} (share of {} comments).", Markup(", ").join(
        text("<strong>{}</strong> {}", r["label"], share(r["share"]) if _num(r["share"]) is not None else
             text("{} comments", count(r["mentions"]))) for _, r in hit.head(top).iterrows()), count(n))]
    if impact is not None and not impact.empty:
        low = impact[~impact["suppressed"].astype(bool)].dropna(subset=["impact"])
        if not low.empty:
            r = low.loc[low["impact"].idxmin()]
            verdict = "beyond noise" if _num(r["p_value"]) is not None and r["p_value"] < 0.05 else \
                "within noise (could be chance)"
            items.append(text("Commenters who mention <strong>{}</strong> give an NPS of {}, {} points {} other "
                              "commenters (95% CI {}; p {}): {}.", r["label"], points(r["nps_with"]),
                              number(abs(r["impact"]), 1), "below" if r["impact"] < 0 else "above",
                              interval_range(r["impact"], r["ci_lower"], r["ci_upper"], kind="points"),
                              _p_phrase(r["p_value"]), verdict))
        else:
            items.append(text("No theme has enough comments (at least the minimum per group) to compare its "
                              "commenters' NPS with the others'."))
    return items


def nps_theme_table(impact: pd.DataFrame, *, title=None, subtitle=None):
    """A :func:`cxlib.themes.theme_impact` result in four columns that fit a phone: theme (with its number
    of comments), NPS of those commenters, the difference from other commenters with its interval, p."""
    t = impact.assign(_theme=[f"{_text(lbl)} ({count(n)})" for lbl, n in zip(impact["label"], impact["mentions"])])
    return table(t, columns={"_theme": "text", "nps_with": "points", "impact": "points", "p_value": "p_value"},
                 intervals={"impact": ("ci_lower", "ci_upper")}, title=title, subtitle=subtitle,
                 labels={"_theme": "Theme (comments)", "nps_with": "NPS", "impact": "Vs other commenters",
                         "p_value": "p"},
                 notes=["NPS: of the commenters who mention the theme. Vs other commenters: that NPS minus the NPS "
                        "of commenters who do not mention it, in points (two-sided z-test)."])


def nps_period_span(trend: pd.DataFrame | None, grain: str = "month") -> str:
    """The periods a per-period result covers, for people: "Jan 2026 to Nov 2026" ("" without periods)."""
    if trend is None or "period" not in trend or trend["period"].dropna().empty:
        return ""
    a, b = trend["period"].min(), trend["period"].max()
    return nps_period_name(a, grain) if a == b else f"{nps_period_name(a, grain)} to {nps_period_name(b, grain)}"


def nps_drivers_sentence(result: pd.DataFrame, *, labels: dict | None = None, scale=None, prefix: str = "drv_") -> Text:
    """The key-driver answer in one sentence: the strongest driver and the fix-first list (on the ratings'
    own scale)."""
    q = result
    names = nps_driver_labels(q, labels, prefix)
    top, sc = q.iloc[0], _scale_of(q, scale)
    on = text(" on the {} scale", driver_scale_text(sc)) if sc else Markup("")
    fix = q[q["quadrant"] == "fix first"]
    fixed = (text("fix first: {}.", Markup(", ").join(text("<strong>{}</strong> (average {}{})", names[r.driver],
                                                           number(r.mean, 1), on) for r in fix.itertuples()))
             if not fix.empty else text("no important driver is rated below the others."))
    return text("The strongest driver of the score is <strong>{}</strong> ({} of the explained variation); {}",
                names[top["driver"]], interval(top["importance"], top["ci_lower"], top["ci_upper"], kind="share"),
                fixed)


def nps_comment_quotes(examples: pd.DataFrame, *, comment: str = "comment", score: str = "nps",
                   id: str = "respondent_id", lead=None) -> Text:
    """Example comments as an escaped list: each comment as text (never markup), with its score and the
    respondent id. ``lead`` is an optional sentence (plain text or :class:`Text`) above the list."""
    items = []
    for _, r in examples.iterrows():
        who = text('<span class="cx-who">({} {}, {})</span>', _NPS_SCORE_WORDS.get(score, label(score)),
                   count(r.get(score)), _text(r.get(id)))
        items.append(text("“{}” {}", _text(r.get(comment)), who))
    head = text('<p class="cx-text">{}</p>', _safe(lead)) if lead is not None else Markup("")
    return Text(_NPS_QUOTES_STYLE + head + bullets(items, cls="cx-list cx-quotes"))


def nps_data_notes(meta: dict | None, *results) -> Text:
    """:func:`data_notes` of the results plus what reading the source noticed (``metadata['notes']``:
    preview responses dropped, partial responses kept ...)."""
    class _R:  # data_notes reads .attrs['notes']
        attrs = {"notes": list((meta or {}).get("notes") or [])}

    return data_notes(_R(), *results)


# -- key-driver cautions, promoter / detractor odds, top two drivers

_NPS_CAUTION_STYLE = Markup("<style>.cx-caution{border-left:4px solid #b35806;background:#fff7ec;padding:4px 10px;"
                            "margin:8px 0;overflow-wrap:anywhere}.cx-caution ul{padding-left:1.2em;margin:4px 0}"
                            "</style>")


def nps_driver_cautions(warnings) -> Text | None:
    """The key-driver warnings (``key_drivers(...).attrs['warnings']``: note codes ``drivers_overlap`` and
    ``halo_answers_common``) as a visible "Caution" list, each in words (:func:`note_text`, escaped); None
    when there are none (then nothing is shown).

    Examples
    --------
    >>> nps_driver_cautions(drivers.key_drivers(df, bootstrap=0).attrs["warnings"])  # doctest: +SKIP
    """
    said = [note_text(w) for w in (warnings or [])]
    said = [w for w in said if str(w).strip()]
    if not said:
        return None
    return Text(_NPS_CAUTION_STYLE + text('<div class="cx-caution"><p class="cx-lead"><strong>{}</strong> {}</p>{}'
                                          '</div>', "Caution:", "read the driver ranking with these in mind.",
                                          bullets(said)))


def _where_words(where) -> Text:
    """" (in segment x)" for a note about one segment; nothing for the whole table."""
    if not where:
        return Markup("")
    return text(" (in {})", ", ".join(f"{k} {v}" for k, v in dict(where).items()))


def drivers_overlap_words(n) -> Text:
    """Words for a ``drivers_overlap`` note (:func:`cxlib.drivers.key_drivers`): the drivers whose VIF is
    above the threshold, each named by the one label rule (:func:`label`, the source's label first)."""
    labels = dict(n.get("labels") or {})
    what = ", ".join(f"{labels.get(d) or label(str(d).removeprefix('drv_'))} (VIF {v:.0f})"
                     for d, v in zip(n["drivers"], n["vifs"]))
    return text("Drivers overlap strongly{}: {}; importances are shared between them, so their ranking among "
                "themselves is not reliable (a VIF above {} means a driver is largely predictable from the others).",
                _where_words(n.get("where")), what, f"{float(n['threshold']):g}")


def halo_answers_words(n) -> Text:
    """Words for a ``halo_answers_common`` note (:func:`cxlib.drivers.key_drivers`)."""
    return text("Halo answers are common{}: {} of {} respondents who rated every driver ({}) gave (nearly) the same "
                "score to every driver ({} exactly the same); their ratings say how they feel overall, not which "
                "driver matters, so the importances rest on the others.", _where_words(n.get("where")),
                int(n["halo"]), int(n["n"]), f"{float(n['share']):.0%}", int(n["straightliners"]))


NOTE_TEXT["drivers_overlap"] = drivers_overlap_words
NOTE_TEXT["halo_answers_common"] = halo_answers_words


def _nps_odds(r) -> str:
    """An odds ratio with its interval: "×1.57 (1.48–1.66)"."""
    return "×" + interval(r["odds_ratio"], r["ci_lower"], r["ci_upper"], kind="number", digits=2)


def nps_odds_sentence(models: pd.DataFrame, *, labels: dict | None = None, prefix: str = "drv_") -> Text:
    """One sentence from :func:`cxlib.drivers.promoter_detractor_models`: the driver whose +1 rating point
    raises the odds of being a promoter most, and the one that lowers the odds of being a detractor most,
    each with its 95% interval (or that none does beyond noise)."""
    names = nps_driver_labels(models, labels, prefix)
    pro = models[models["model"] == "promoter"].sort_values("odds_ratio", ascending=False, kind="mergesort")
    det = models[models["model"] == "detractor"].sort_values("odds_ratio", kind="mergesort")
    n = models["n"].max() if "n" in models and len(models) else None
    up = not pro.empty and bool(pro.iloc[0]["beyond_noise"]) and pro.iloc[0]["odds_ratio"] > 1
    down = not det.empty and bool(det.iloc[0]["beyond_noise"]) and det.iloc[0]["odds_ratio"] < 1
    if up and down and pro.iloc[0]["driver"] == det.iloc[0]["driver"]:
        return text("Holding the other ratings fixed, one more point on <strong>{}</strong> both raises the odds of "
                    "being a promoter the most, {}, and lowers the odds of being a detractor the most, {} (95% "
                    "intervals; {} respondents who rated every driver, straight-liners included).",
                    names[pro.iloc[0]["driver"]], _nps_odds(pro.iloc[0]), _nps_odds(det.iloc[0]), count(n))
    parts = []
    if up:
        r = pro.iloc[0]
        parts.append(text("one more point on <strong>{}</strong> raises the odds of being a promoter the most, {}",
                          names[r["driver"]], _nps_odds(r)))
    else:
        parts.append(text("no driver's rating raises the odds of being a promoter beyond noise"))
    if down:
        r = det.iloc[0]
        parts.append(text("one more point on <strong>{}</strong> lowers the odds of being a detractor the most, {}",
                          names[r["driver"]], _nps_odds(r)))
    else:
        parts.append(text("no driver's rating lowers the odds of being a detractor beyond noise"))
    return text("Holding the other ratings fixed, {}; {} (95% intervals; {} respondents who rated every driver, "
                "straight-liners included).",
                parts[0], parts[1], count(n))


def nps_odds_table(models: pd.DataFrame, *, labels: dict | None = None, prefix: str = "drv_", title=None,
                   subtitle=None):
    """Driver x (promoter odds ×, detractor odds ×), each with its 95% interval, strongest promoter
    driver first: three columns for a phone."""
    names = nps_driver_labels(models, labels, prefix)
    wide = None
    for m in ("promoter", "detractor"):
        part = (models[models["model"] == m].set_index("driver")[["odds_ratio", "ci_lower", "ci_upper"]]
                .rename(columns=lambda c: f"{m}_{c}"))
        wide = part if wide is None else wide.join(part, how="outer")
    wide = wide.sort_values("promoter_odds_ratio", ascending=False, kind="mergesort").reset_index()
    wide["_driver"] = [names[d] for d in wide["driver"]]
    for m in ("promoter", "detractor"):
        wide[f"_{m}"] = ["×" + interval(e, lo, hi, kind="number", digits=2) if _num(e) is not None else MISSING
                         for e, lo, hi in zip(wide[f"{m}_odds_ratio"], wide[f"{m}_ci_lower"], wide[f"{m}_ci_upper"])]
    n = models["n"].max() if len(models) else 0
    return table(wide, columns={"_driver": "text", "_promoter": "text", "_detractor": "text"},
                 labels={"_driver": "Driver", "_promoter": "Promoter odds ×", "_detractor": "Detractor odds ×"},
                 title=title, subtitle=subtitle,
                 notes=["Odds ×: how the odds of being a promoter (9–10), or a detractor (0–6), multiply with each "
                        "extra rating point on the driver, the other drivers held fixed. Above 1 raises the odds, "
                        "below 1 lowers them; an interval that includes 1 is within noise.",
                        f"Two logistic regressions on {count(n)} respondents who rated every driver (straight-liners "
                        "included).", CI_NOTE]
                 ).cols_width(cases={"c0": "34%"}).cols_align("right", columns=["c1", "c2"])


def nps_top_two_sentence(top_two: pd.DataFrame, *, labels: dict | None = None, prefix: str = "drv_") -> Text:
    """One sentence from :func:`cxlib.drivers.top_two_difference`: the lead of the top driver over the
    second in share of the explained variation, its bootstrap interval and whether it excludes zero."""
    r = top_two.iloc[0]
    labels = dict(labels or {})
    first, second = (labels.get(d, label(str(d).removeprefix(prefix) if prefix else str(d), labels))
                     for d in (r["first"], r["second"]))
    lead = text("<strong>{}</strong> ({}) is ahead of <strong>{}</strong> ({}) by {} percentage points of the "
                "explained variation", first, share(r["importance_first"]), second, share(r["importance_second"]),
                number(100 * r["difference"], 1))
    if _num(r["ci_lower"]) is None or _num(r["ci_upper"]) is None:
        return text("{}; without bootstrap resamples (bootstrap = 0) there is no interval to say whether the lead "
                    "is beyond noise.", lead)
    rng = text("95% bootstrap interval {} pp, {} resamples",
               interval_range(r["difference"], r["ci_lower"], r["ci_upper"], kind="pp"), count(r["bootstrap"]))
    if bool(r["excludes_zero"]):
        return text("{} ({}): the interval excludes zero, so the top driver is ahead beyond noise.", lead, rng)
    return text("{} ({}): the interval includes zero, so the two could be tied; treat them as equally important.",
                lead, rng)


# -- weighting: NPS of respondents vs NPS weighted to the customer base

def nps_weighting_items(weighted: pd.DataFrame, *, labels: dict | None = None, population_size=None) -> list[Text]:
    """Sentences from :func:`cxlib.metrics.weighted_nps`: the NPS weighted to the customer base with its
    interval and effective number of answers, the respondents' NPS beside it, whether weighting moved it
    beyond the width of the intervals, and the caveat of weighting."""
    rows = weighted.set_index("weighting")
    raw, wtd = rows.loc["respondents"], rows.loc["customers"]
    cols = list(weighted.attrs.get("columns") or [])
    names = [(labels or {}).get(c) or str(c).replace("_", " ") for c in cols]
    what = Markup(" and ").join(text("{}", c) for c in names) if names else text("{}", "the survey weights")
    if bool(wtd["suppressed"]) or _num(wtd["nps"]) is None:
        return [text("NPS weighted to the customer base ({}): too few answers to show reliably.", what)]
    base = text(" of {} customers", count(population_size)) if _num(population_size) else Markup("")
    how = (text("Weighted with the survey weights in {}", weighted.attrs["weights"]) if weighted.attrs.get("weights")
           else text("Weighted to the customer base's mix{} of {}", base, what))
    items = [text("{}, <strong>NPS is {}</strong> (95% CI {}), against {} (95% CI {}) for the respondents as they "
                  "are.", how, points(wtd["nps"]),
                  interval_range(wtd["nps"], wtd["ci_lower"], wtd["ci_upper"], kind="points"), points(raw["nps"]),
                  interval_range(raw["nps"], raw["ci_lower"], raw["ci_upper"], kind="points"))]
    gap = float(wtd["nps"]) - float(raw["nps"])
    deff = _num(wtd["design_effect"]) or 1.0
    items.append(text("Unequal weights make the {} answers worth about {} equally weighted ones (effective sample "
                      "size; design effect {}), so the weighted interval is {}.", count(wtd["n"]),
                      count(round(float(wtd["n_effective"]))), number(deff, 2),
                      "wider" if deff > 1.005 else "about as wide"))
    half = (float(raw["ci_upper"]) - float(raw["ci_lower"])) / 2
    if abs(gap) < half:
        items.append(text("Weighting moves NPS by {} points, less than the margin of error: the respondents already "
                          "look like the customer base on these columns.", number(abs(gap), 1)))
    else:
        items.append(text("Weighting moves NPS by {} points, more than the margin of error: some customers answer "
                          "more often than others, so quote the weighted figure for customers.", number(gap, 1, sign=True)))
    left = int(weighted.attrs.get("left_out") or 0)
    items.append(text("Caveat: weighting corrects only for the columns it uses; customers who differ from "
                      "respondents in other ways (say, the unhappiest not answering at all) still bias both figures."
                      "{}", text(" {} answers with a blank in a weighting column are left out of the weighted "
                                 "figure.", count(left)) if left else Markup("")))
    return items


def nps_weighting_table(weighted: pd.DataFrame, *, title=None, subtitle=None):
    """The two rows of :func:`cxlib.metrics.weighted_nps` for a phone: who the figure describes, NPS with
    its interval, answers and effective answers."""
    t = weighted.assign(_who=weighted["weighting"].map({"respondents": "Respondents as they are",
                                                        "customers": "Weighted to the customer base"}))
    return table(t, columns={"_who": "text", "nps": "points", "n": "count", "n_effective": "count"},
                 intervals={"nps": ("ci_lower", "ci_upper")}, title=title, subtitle=subtitle,
                 labels={"_who": "Describes", "nps": "NPS", "n": "Answers", "n_effective": "Effective answers"},
                 notes=["Effective answers: the number of equally weighted answers with the same precision "
                        "(Kish: (Σw)² / Σw²); the weighted interval uses it."])


# -- themes the taxonomy does not know yet

def nps_proposed_items(proposed: pd.DataFrame, *, top: int = 3) -> list[Text]:
    """Sentences from :func:`cxlib.themes.propose_themes`: how many comments no theme matched, the proposed
    themes (top words, size with interval, NPS against the other commenters with interval and test), and
    the caveat that they are proposals to read, not findings."""
    a = proposed.attrs
    n, untagged = int(a.get("comments") or 0), int(a.get("untagged") or 0)
    if n == 0:
        return [text("No comments to read.")]
    if untagged == 0:
        return [text("Every one of the {} comments matched a theme of the taxonomy: there is nothing new to "
                     "propose.", count(n))]
    if proposed.empty:
        return [text("{} of the {} comments match no theme of the taxonomy, but they do not form groups of a useful "
                     "size (too few, or too varied) to propose a new theme.", count(untagged), count(n))]
    items = [text("{} of the {} comments ({}) match no theme of the taxonomy. Grouping them by the words they share "
                  "proposes {} new theme{}:", count(untagged), count(n), share(untagged / n), count(len(proposed)),
                  "" if len(proposed) == 1 else "s")]
    for _, r in proposed.head(top).iterrows():
        size = text("{} comments, {} of the unmatched", count(r["size"]),
                    interval(r["share"], r["share_ci_lower"], r["share_ci_upper"], kind="share"))
        if bool(r["suppressed"]) or _num(r["impact"]) is None:
            items.append(text("<strong>{}</strong> ({}; too few scored answers to compare its NPS).", r["label"], size))
            continue
        verdict = "beyond noise" if bool(r["beyond_noise"]) else "within noise"
        items.append(text("<strong>{}</strong> ({}): NPS {}, {} points {} the other commenters (95% CI {}; p {}): {}.",
                          r["label"], size, interval(r["nps"], r["ci_lower"], r["ci_upper"], kind="points"),
                          number(abs(r["impact"]), 1), "below" if r["impact"] < 0 else "above",
                          interval_range(r["impact"], r["impact_ci_lower"], r["impact_ci_upper"], kind="points"),
                          _p_phrase(r["p_value"]), verdict))
    items.append(text("These are proposals, named by their most typical words: read the example comments, then "
                      "add the themes worth tracking (with their keywords) to the taxonomy file."))
    return items


def nps_proposed_table(proposed: pd.DataFrame, *, title=None, subtitle=None):
    """:func:`cxlib.themes.propose_themes` for a phone: top words, comments (share of the unmatched), NPS
    and the difference from the other commenters, each with its 95% interval."""
    t = proposed.assign(_words=proposed["top_terms"].astype(str))
    return table(t, columns={"_words": "text", "size": "count", "nps": "points", "impact": "points"},
                 intervals={"nps": ("ci_lower", "ci_upper"), "impact": ("impact_ci_lower", "impact_ci_upper")},
                 title=title, subtitle=subtitle, keep_suppressed=("_words", "size"),
                 labels={"_words": "Most typical words", "size": "Comments", "nps": "NPS", "impact": "Vs others"},
                 notes=["Comments that no taxonomy theme matches, grouped by the words they share (TF-IDF and "
                        "non-negative matrix factorisation, seeded). NPS: of the group's commenters; vs others: "
                        "that NPS minus the NPS of every other commenter, in points."]
                 ).cols_width(cases={"c0": "34%"})


def nps_proposed_quotes(proposed: pd.DataFrame, *, comment: str = "comment", score: str = "nps",
                        id: str = "respondent_id", theme: str | None = None) -> Text | None:
    """Example comments of one proposed theme (default: the one with the lowest NPS, else the largest),
    escaped and with contact details already masked by :func:`cxlib.themes.propose_themes`."""
    ex = proposed.attrs.get("examples")
    if proposed.empty or ex is None or ex.empty:
        return None
    if theme is None:
        shown = proposed.dropna(subset=["impact"])
        theme = (shown.loc[shown["impact"].idxmin(), "theme"] if not shown.empty else proposed.iloc[0]["theme"])
    r = proposed.set_index("theme").loc[theme]
    pick = ex[ex["theme"] == theme]
    if id not in pick:
        pick = pick.assign(**{id: MISSING})
    if score not in pick:
        pick = pick.assign(**{score: None})
    return nps_comment_quotes(pick, comment=comment, score=score, id=id,
                              lead=text("Comments of the proposed theme <strong>{}</strong>:", r["label"]))


# -- the page's sections: each reads one section's result of cxlib.pages.nps_drivers (scores, trend,
#    segments, drivers, odds, top_two, comments, proposed_themes, summary) and gives words, cells and
#    None for what is not shown, so the notebook's sections are calls, not branches

def _lacks(problem) -> Text:
    return paragraph("What the data lacks: {}", str(problem))


def nps_page_figures(summary, *, labels: dict | None = None) -> list[Figure]:
    """The key figures of the page (``summary``: :func:`cxlib.pages.nps_drivers.summary`): NPS (and CSAT /
    CES) with the latest change, the lowest segment beyond noise and the strongest driver, each when the
    page has it."""
    sc, mv, gaps, drv = summary.scores, summary.trend, summary.segments.gaps, summary.drivers
    span = nps_period_span(mv.trend, mv.grain)
    out = [nps_score_figure(sc.overall, mv.changes.get("nps"), metric="nps", grain=mv.grain, span=span,
                            min_n=sc.min_n)]
    out += [nps_score_figure(o, mv.changes.get(m), metric=m, grain=mv.grain, min_n=sc.min_n)
            for m, o in sc.others.items()]
    seg = nps_segment_figure(gaps, labels=labels) if gaps is not None else None
    out += [seg] if seg is not None else []
    if drv.quad is not None:
        out.append(nps_driver_figure(drv.quad, labels=labels, scale=drv.scale, prefix=drv.prefix))
    return out


def nps_page_answer(summary, *, labels: dict | None = None) -> list[Text]:
    """The page's answer (``summary``: :func:`cxlib.pages.nps_drivers.summary`), one sentence per part it
    has: the score, weighted score, latest change, weakest segment, strongest driver and most mentioned
    themes."""
    sc, mv, gaps, drv, voice = summary.scores, summary.trend, summary.segments.gaps, summary.drivers, summary.comments
    items = [nps_score_sentence(sc.overall, span=nps_period_span(mv.trend, mv.grain), min_n=sc.min_n)]
    items += [nps_weighting_items(sc.weighted, labels=labels)[0]] if sc.weighted is not None else []
    items += [nps_change_text(mv.changes.get("nps"), grain=mv.grain)] if mv.trend is not None else []
    items += [nps_weakest_sentence(gaps, labels=labels)] if gaps is not None else []
    if drv.quad is not None:
        items.append(nps_drivers_sentence(drv.quad, labels=labels, scale=drv.scale, prefix=drv.prefix))
    items += [nps_themes_items(voice.counts, voice.impact)[0]] if voice.comment else []
    return items


def nps_scores_section(score, *, labels: dict | None = None) -> list:
    """Section "the score and its margin of error" (``score``: :func:`cxlib.pages.nps_drivers.scores`): the
    scores in sentences, NPS weighted to the customer base (sentences and table) and a "Not shown" line for
    each part whose input is absent."""
    out = [answer([nps_score_sentence(score.overall, span=nps_period_span(score.trend, score.grain),
                                      min_n=score.min_n)]
                  + [nps_score_sentence(o, metric=m, min_n=score.min_n) for m, o in score.others.items()])]
    if "csat" not in score.others:
        out.append(missing_section("the share of satisfied customers (CSAT: 4 or 5 on a 1–5 scale) with its 95% "
                                   "interval.", "a CSAT rating column", "name it with the csat parameter, or map it "
                                   "in the source spec (columns: {csat: <your column>})."))
    if score.weighted is not None:
        out += [answer(nps_weighting_items(score.weighted, labels=labels)), nps_weighting_table(score.weighted)]
    elif score.problem is not None:
        out += [missing_section("NPS weighted to the customer base's mix with its 95% interval and effective number "
                                "of answers.", "categories that both tables share", "check the weight_by columns."),
                _lacks(score.problem)]
    else:
        out.append(missing_section("NPS weighted to the customer base's mix (plan, region ...) with its 95% interval "
                                   "and effective number of answers.", "a table of customers or a survey-weight column",
                                   "give the subscriptions parameter, or name a weight column with the weights "
                                   "parameter."))
    if "ces" not in score.others:
        out.append(missing_section("how easy customers found it (CES: the average on a 1–7 scale) with its 95% "
                                   "interval.", "a CES rating column", "name it with the ces parameter, or map it in "
                                   "the source spec (columns: {ces: <your column>})."))
    return out


def nps_trend_section(moving) -> Text:
    """Section "is it moving?" (``moving``: :func:`cxlib.pages.nps_drivers.trend`): the latest change of
    each score in sentences, or why there is no trend."""
    if moving.trend is None:
        return missing_section("NPS per period with its 95% interval.", "a response time column",
                               "name it with the time parameter or map it as response_time in the source spec.")
    return answer([nps_change_text(moving.changes.get("nps"), grain=moving.grain)]
                  + [nps_change_text(moving.changes.get(m), metric=m, grain=moving.grain)
                     for m, t in moving.others.items() if t is not None])


def nps_segments_section(seg, *, labels: dict | None = None) -> Text:
    """Section "where it is lower" (``seg``: :func:`cxlib.pages.nps_drivers.segments`): each segment
    column's lowest value against the rest (and the skipped columns), or why there are no segments."""
    if seg.gaps is not None:
        return nps_segments_summary(seg.gaps, labels=labels, skipped=seg.skipped)
    out = missing_section("NPS by channel, plan, region or journey stage, each against the rest.",
                          "segment columns in the data",
                          "list yours with the segments parameter (e.g. -p 'segments=[Region]').")
    if seg.skipped:
        out = Text(out + answer([text("<em>Skipped:</em> {}: {}", s, _SKIP_WORDS.get(why, why))
                                 for s, why in seg.skipped]))
    return out


def nps_segments_table(seg, *, labels: dict | None = None) -> list:
    """:func:`nps_gaps_table` of the page's segments in a list (empty when no value has enough answers)."""
    if seg.gaps is None or bool(seg.gaps["suppressed"].all()):
        return []
    return [nps_gaps_table(seg.gaps, labels=labels)]


_NO_DRIVERS = "which rated parts of the experience go with a higher score, and which to fix first."


def nps_drivers_section(drv, *, labels: dict | None = None) -> list:
    """Section "what drives the score" (``drv``: :func:`cxlib.pages.nps_drivers.drivers`): the key drivers
    in words and the cautions (note codes), or what the data lacks."""
    if drv.problem is not None:
        return [missing_section(_NO_DRIVERS, "enough respondents who rated every driver", "collect more answers, or "
                                "lower min_n (the intervals get wider)."), _lacks(drv.problem)]
    if drv.quad is None:
        return [missing_section(_NO_DRIVERS, text("at least two driver rating columns (this data has {})",
                                                  len(drv.driver_cols)),
                                "name them by prefix with the drivers parameter, or list them under drivers: in the "
                                "source spec.")]
    cautions = nps_driver_cautions(drv.warnings)
    return [drivers_scale_summary(drv.quad, labels=labels, scale=drv.scale, prefix=drv.prefix),
            *([cautions] if cautions is not None else [])]


def nps_drivers_table(drv, *, labels: dict | None = None) -> list:
    """:func:`drivers_scale_table` of the page's key drivers in a list (empty without them)."""
    if drv.quad is None:
        return []
    return [drivers_scale_table(drv.quad, labels=labels, scale=drv.scale, prefix=drv.prefix)]


def nps_driver_names(drv, *, labels: dict | None = None) -> dict:
    """The drivers' display names for a figure (:func:`nps_driver_labels`; empty without drivers)."""
    return {} if drv.quad is None else nps_driver_labels(drv.quad, labels, drv.prefix)


_NO_ODDS = "which driver ratings raise the odds of being a promoter or lower those of being a detractor."


def nps_odds_section(odds, *, labels: dict | None = None) -> list:
    """Section "which drivers separate promoters from detractors" (``odds``:
    :func:`cxlib.pages.nps_drivers.odds`): the odds in a sentence and a table, or what the data lacks."""
    if not odds.drivers_ran:
        return [missing_section(_NO_ODDS, "the key-driver analysis above", "see what it lacks.")]
    if odds.problem is not None:
        return [missing_section(_NO_ODDS, "enough promoters and detractors among the respondents who rated every "
                                "driver", "collect more answers."), _lacks(odds.problem)]
    return [answer([nps_odds_sentence(odds.table, labels=labels, prefix=odds.prefix)]),
            nps_odds_table(odds.table, labels=labels, prefix=odds.prefix)]


_NO_TOP_TWO = "whether the strongest driver is ahead of the second beyond noise."


def nps_top_two_section(lead, *, labels: dict | None = None) -> list:
    """Section "is the top driver really ahead" (``lead``: :func:`cxlib.pages.nps_drivers.top_two`): the
    lead in a sentence, or what the data lacks."""
    if not lead.drivers_ran:
        return [missing_section(_NO_TOP_TWO, "the key-driver analysis above", "see what it lacks.")]
    if lead.problem is not None:
        return [missing_section(_NO_TOP_TWO, "enough respondents who rated every driver", "collect more answers."),
                _lacks(lead.problem)]
    return [answer([nps_top_two_sentence(lead.table, labels=labels, prefix=lead.prefix)])]


def nps_themes_section(voice) -> list:
    """Section "what customers say" (``voice``: :func:`cxlib.pages.nps_drivers.comments`): themes in words,
    or why there are no comments."""
    if not voice.comment:
        return [missing_section("the themes customers write about and how each goes with the score.",
                                "a free-text comment column",
                                "name it with the comment parameter or map it as comment in the source spec.")]
    return [nps_themes_summary(voice.counts, voice.impact)]


def nps_theme_examples(voice) -> list:
    """The theme table of the themes with enough comments and the example comments of the lowest one."""
    shown = voice.impact_shown
    if shown is None:
        return []
    return [nps_theme_table(shown), nps_comment_quotes(
        voice.examples, comment=voice.comment, score=voice.score,
        lead=text("Comments on <strong>{}</strong>, the theme with the lowest NPS:", voice.worst_theme["label"]))]


def nps_proposed_section(new) -> list:
    """Section "comments no theme matches" (``new``: :func:`cxlib.pages.nps_drivers.proposed_themes`): the
    proposed themes in words, their table and example comments (nothing without comments)."""
    if not new.comment:
        return []
    out = [answer(nps_proposed_items(new.table))]
    if not new.table.empty:
        quotes = nps_proposed_quotes(new.table, comment=new.comment, score=new.score)
        out += [nps_proposed_table(new.table), *([quotes] if quotes is not None else [])]
    return out


def nps_page_notes(meta: dict | None, results) -> Text:
    """:func:`nps_data_notes` of the results the page shows (``results``:
    :func:`cxlib.pages.nps_drivers.noted`: inputs left out, rows after the analysis date ...)."""
    return nps_data_notes(meta, *results)
