"""Words and cells of the experiment comparison page: the decision per metric, key figures, CUPED,
heavy tails, segments, sequential monitoring, power and the allocation (SRM) check.

It reads the columns :mod:`cxlib.experiments` and :mod:`cxlib.pages.experiment_comparison` computed and
computes nothing: decisions (codes of :mod:`cxlib.decisions`) become words here, never re-decided.
"""
from __future__ import annotations

import pandas as pd
from markupsafe import Markup

from cxlib.decisions import (BLOCKED_BY_GUARDRAIL, GUARDRAIL_BREACHED, INCONCLUSIVE, LOSS, NOT_INTERPRETABLE,
                             NOT_MEASURED, WIN)

from cxlib.present.format import CI_NOTE, MISSING, _est_options, _num, _p_phrase, count, date, format_value, interval, interval_range, label, lift, number, p_value, share
from cxlib.present.text import Figure, NOTE_TEXT, Text, _ordinal, answer, key_figures, missing_section, note_text, paragraph, text
from cxlib.present.tables import _EXP_KINDS, _exp_unmeasured, _exp_unmeasured_words, table

def experiment_summary(result: pd.DataFrame, *, srm_result=None, labels: dict | None = None) -> Text:
    """A :func:`cxlib.experiments.compare` result in words: allocation check first, then guardrail
    breaches, wins, losses and inconclusive results. A failed SRM check suppresses win / loss language.

    Examples
    --------
    >>> experiment_summary(result, srm_result=experiments.srm(df))  # doctest: +SKIP
    """
    items = []
    broken = srm_result is not None and srm_result.mismatch
    if srm_result is not None:
        if broken:
            items.append(text("<strong>Warning: sample ratio mismatch</strong> (p {}): the arms did not receive the "
                              "planned shares of units. Assignment or logging is broken; no result below can be "
                              "called a win or a loss until the cause is found.", _p_phrase(srm_result.p_value)))
        else:
            items.append(text("Allocation check passed: unit counts match the plan (SRM p {}).",
                              _p_phrase(srm_result.p_value)))
    order = {GUARDRAIL_BREACHED: 0, BLOCKED_BY_GUARDRAIL: 1, WIN: 1, LOSS: 2, INCONCLUSIVE: 3,
             NOT_MEASURED: 5}
    control = label(result.attrs.get("control", "control"), labels)
    ranked = result.assign(_o=result["decision"].map(order).fillna(4)).sort_values("_o", kind="mergesort")
    for _, r in ranked.iterrows():
        vk, dk = _EXP_KINDS.get(r["kind"], ("number", "signed"))
        what = text("<strong>{}</strong> vs {} on <strong>{}</strong>", label(r["variant"], labels), control,
                    label(r["metric"], labels))
        opts = {"digits": 2} if dk == "pp" else {}
        if _exp_unmeasured(r):  # no estimate to call anything, SRM or not
            items.append(text("Not measured: {}: {} (n = {} vs {}).", what, _exp_unmeasured_words(r, control, labels),
                              count(r["n_variant"]), count(r["n_control"])))
            continue
        ci = text("{} (95% CI {}), relative {} (adjusted p {}; n = {} vs {})",
                  format_value(r["abs_diff"], dk, **_est_options(r["abs_diff"], dk, opts)),
                  interval_range(r["abs_diff"], r["abs_ci_lower"], r["abs_ci_upper"], kind=dk, **opts),
                  lift(r["rel_lift"]), _p_phrase(r["p_adjusted"]), count(r["n_variant"]), count(r["n_control"]))
        if broken:
            items.append(text("{}: {} (not interpretable: SRM).", what, ci))
        elif r["decision"] == GUARDRAIL_BREACHED:
            items.append(text("<strong>Guardrail breached</strong>: {} got worse: {}.", what, ci))
        elif r["decision"] == BLOCKED_BY_GUARDRAIL:
            items.append(text("<strong>Better, but blocked</strong> (a guardrail of this variant broke): {}, {}.",
                              what, ci))
        elif r["decision"] == WIN:
            items.append(text("<strong>Win</strong>: {}, {}.", what, ci))
        elif r["decision"] == LOSS:
            items.append(text("<strong>Loss</strong>: {}, {}.", what, ci))
        else:
            items.append(text("Inconclusive (within noise): {}, {}.", what, ci))
    return answer(items)
_EXP_VERDICTS = {WIN: "Win: better beyond noise", LOSS: "Loss: worse beyond noise",
             INCONCLUSIVE: "Inconclusive: within noise",
             GUARDRAIL_BREACHED: "Guardrail broken: worse beyond noise",
             BLOCKED_BY_GUARDRAIL: "Better, but blocked: a guardrail broke",
             NOT_INTERPRETABLE: "Not interpretable: sample ratio mismatch",
             NOT_MEASURED: "Not measured: no estimate"}


def metric_not_measured_words(n) -> Text:
    """Words for a ``metric_not_measured_in_arm`` note (:func:`cxlib.experiments.compare_summary`): the
    metric, the arm without a measured unit and, with segments, the segment."""
    seg = n.get("segment") or {}
    where = (text(" in the segment {}", ", ".join(f"{label(k)}: {label(v)}" for k, v in seg.items())) if seg
             else text(""))
    arm, control = n.get("variant"), n.get("control")
    against = (text("no variant is compared with it") if arm == control
               else text("it is not compared with {}", label(control)))
    return text("{} has no units measured in {}{} (every unit there has it blank), so {}: its row shows no "
                "estimate.", label(n.get("metric")), label(arm), where, against)


NOTE_TEXT["metric_not_measured_in_arm"] = metric_not_measured_words


def units_without_variant_words(n) -> Text:
    """Words for a ``units_without_variant`` note (:func:`cxlib.experiments.summary_statistics`)."""
    k = int(n.get("count") or 0)
    return text("{} unit{} no variant and {} left out of every comparison.", count(k), "s have" if k > 1 else " has",
                "are" if k > 1 else "is")


def metric_capped_words(n) -> Text:
    """Words for a ``metric_capped`` note (:func:`cxlib.experiments.compare` with ``cap=``)."""
    v = float(n.get("cap_value"))
    return text("{} is capped at its {} percentile ({}): larger values count as {}.", n.get("metric"),
                _ordinal(n.get("percentile")), f"{v:,.4g}", f"{v:,.4g}")


def sample_ratio_mismatch_words(n) -> Text:
    """Words for a ``sample_ratio_mismatch`` note (:func:`cxlib.experiments.gate`)."""
    return text("Sample ratio mismatch (chi-square p = {}): the arms did not get their planned shares of units, so "
                "no result is interpretable.", f"{float(n.get('p_value')):.2g}")


NOTE_TEXT["units_without_variant"] = units_without_variant_words
NOTE_TEXT["metric_capped"] = metric_capped_words
NOTE_TEXT["sample_ratio_mismatch"] = sample_ratio_mismatch_words


def experiment_labels(result: pd.DataFrame, *, primary=None, labels=None) -> dict:
    """Display names for :func:`experiment_table`: ``labels`` plus each metric's name with the primary
    metric and the guardrails marked in words ("Converted (primary)", "CSAT (guardrail)")."""
    names = dict(labels or {})
    guard = result.groupby("metric", sort=False)["guardrail"].first() if "guardrail" in result else {}
    for m in result["metric"].unique():
        base = label(m, labels)
        if m == primary:
            base += " (primary)"
        elif bool(guard.get(m, False)):
            base += " (guardrail)"
        names[m] = base
    return names


def _exp_primary(result: pd.DataFrame, primary=None) -> str:
    return primary if primary is not None and primary in set(result["metric"]) else str(result["metric"].iloc[0])


def _exp_cells(r) -> dict:
    """One comparison row's numbers as text: relative lift, difference, arm values, p."""
    vk, dk = _EXP_KINDS.get(r["kind"], ("number", "signed"))
    opts = {"digits": 2} if dk == "pp" else {}
    return {"lift": lift(r["rel_lift"]),
            "lift_ci": interval_range(r["rel_lift"], r["rel_ci_lower"], r["rel_ci_upper"], kind="lift") or MISSING,
            "diff": format_value(r["abs_diff"], dk, **_est_options(r["abs_diff"], dk, opts)),
            "diff_ci": interval_range(r["abs_diff"], r["abs_ci_lower"], r["abs_ci_upper"], kind=dk, **opts) or MISSING,
            "variant_value": format_value(r["variant_value"], vk, **({"digits": 1} if vk == "share" else {})),
            "control_value": format_value(r["control_value"], vk, **({"digits": 1} if vk == "share" else {})),
            "p": _p_phrase(r["p_adjusted"]), "p_raw": _p_phrase(r["p_value"]),
            # the number to lead with: NPS moves in points (a relative change of a score near zero misleads)
            "head": (format_value(r["abs_diff"], dk) + " points") if r["kind"] == "nps" else lift(r["rel_lift"]),
            "head_ci": (interval_range(r["abs_diff"], r["abs_ci_lower"], r["abs_ci_upper"], kind=dk) or MISSING)
            if r["kind"] == "nps" else
            (interval_range(r["rel_lift"], r["rel_ci_lower"], r["rel_ci_upper"], kind="lift") or MISSING)}


def experiment_figures(result: pd.DataFrame, *, srm_result=None, primary: str | None = None,
                       labels: dict | None = None, max_variants: int = 3) -> Text:
    """Key-figure tiles of an experiment: each variant's lift on the primary metric (with its 95%
    interval, the difference and the verdict in words), the guardrails and the randomization check.

    Examples
    --------
    >>> experiment_figures(result, srm_result=check, primary="converted")  # doctest: +SKIP
    """
    return key_figures(experiment_key_figures(result, srm_result=srm_result, primary=primary, labels=labels,
                                              max_variants=max_variants))


def experiment_key_figures(result: pd.DataFrame, *, srm_result=None, primary: str | None = None,
                           labels: dict | None = None, max_variants: int = 3) -> list:
    """The :class:`Figure` of each tile :func:`experiment_figures` shows (the page publishes them with
    :func:`headline_frame`): a primary-metric figure carries its estimate and interval as numbers
    (the relative lift; NPS: the difference in points).

    Examples
    --------
    >>> [f.label for f in experiment_key_figures(result, srm_result=check)]  # doctest: +SKIP
    """
    r_all = result  # compare() already gated every decision on the allocation check
    primary = _exp_primary(r_all, primary)
    control = label(result.attrs.get("control", "control"), labels)
    figs = []
    rows = r_all[r_all["metric"] == primary]
    for _, r in rows.head(max_variants).iterrows():
        if _exp_unmeasured(r):
            figs.append(Figure(f"{label(r['variant'], labels)} vs {control}: {label(primary, labels)}",
                               "Not measured", "", _exp_unmeasured_words(r, control, labels, first=True),
                               f"No estimate (n = {count(r['n_variant'])} vs {count(r['n_control'])})"))
            continue
        c = _exp_cells(r)
        nps_kind = r["kind"] == "nps"
        value = c["diff"] if nps_kind else c["lift"]
        ci = c["diff_ci"] if nps_kind else c["lift_ci"]
        change = (f"NPS {c['variant_value']} vs {c['control_value']} in {control} (relative {c['lift']})" if nps_kind
                  else f"{c['diff']}: {c['variant_value']} vs {c['control_value']} in {control}")
        verdict = _EXP_VERDICTS.get(r["decision"], label(r["decision"]))
        est = ("abs_diff", "abs_ci_lower", "abs_ci_upper") if nps_kind else ("rel_lift", "rel_ci_lower", "rel_ci_upper")
        figs.append(Figure(f"{label(r['variant'], labels)} vs {control}: {label(primary, labels)}", value,
                           f"95% CI {ci}", change,
                           verdict + ("" if r["decision"] == NOT_INTERPRETABLE else f" (adjusted p {c['p']})"),
                           *(_num(r[k]) for k in est)))
    guard = r_all[r_all["guardrail"].astype(bool)] if "guardrail" in r_all else r_all.iloc[:0]
    if not guard.empty:
        names = ", ".join(label(m, labels) for m in guard["metric"].unique())
        if srm_result is not None and srm_result.mismatch:
            figs.append(Figure(f"Guardrails ({names})", "Unknown", "",
                               "The allocation check failed, so no breach can be ruled in or out."))
        else:
            broken = guard[guard["guardrail_breach"].astype(bool)]
            said = []
            for _, b in broken.iterrows():
                c = _exp_cells(b)
                said.append(f"{label(b['variant'], labels)}: {label(b['metric'], labels)} {c['diff']} "
                            f"(95% CI {c['diff_ci']})")
            gaps = [x for _, x in guard.iterrows() if _exp_unmeasured(x)]
            said += [f"{label(x['variant'], labels)}: {label(x['metric'], labels)} not measured "
                     f"({_exp_unmeasured_words(x, control, labels)})" for x in gaps]
            figs.append(Figure(f"Guardrails ({names})",
                               ("All held" if not gaps else "Not all measured") if broken.empty
                               else f"{count(len(broken))} broken",
                               f"of {count(len(guard))} checks", "; ".join(said),
                               ("No guardrail got worse beyond noise." if not gaps else
                                "No measured guardrail got worse beyond noise.") if broken.empty
                               else "Worse beyond noise (95% interval entirely on the bad side)."))
    if srm_result is not None:
        t = srm_result.table
        n_total = int(t["n"].sum())
        left_out = int(result.attrs.get("units_without_variant", 0) or 0)
        note = f"{count(n_total)} units in {count(len(t))} arms"
        if left_out:
            note += f"; {count(left_out)} without a variant left out"
        figs.append(Figure("Randomization (allocation check)",
                           "Mismatch" if srm_result.mismatch else "Healthy",
                           f"Chi-square test p {_p_phrase(srm_result.p_value)}",
                           "Arms did not get their planned shares: results are not interpretable."
                           if srm_result.mismatch else "Arms got their planned shares of units.", note))
    return figs


def experiment_answer(result: pd.DataFrame, *, srm_result=None, primary: str | None = None,
                      labels: dict | None = None) -> Text:
    """The experiment page's short answer: a lead sentence (the verdict on the primary metric and the
    guardrails), then one line per variant with lift, difference and 95% intervals, broken guardrails
    and the other results beyond noise. A failed SRM check says the results are not interpretable and
    calls nothing a win.

    Examples
    --------
    >>> experiment_answer(result, srm_result=check, primary="converted")  # doctest: +SKIP
    """
    r_all = result  # compare() already gated every decision on the allocation check
    primary = _exp_primary(r_all, primary)
    control = label(result.attrs.get("control", "control"), labels)
    metric = label(primary, labels)
    rows = r_all[r_all["metric"] == primary]
    broken_srm = srm_result is not None and srm_result.mismatch
    items = []
    for _, r in rows.iterrows():
        if _exp_unmeasured(r):
            items.append(text("<strong>{}</strong> on {}: not measured, {} (n = {} vs {}), so there is no estimate.",
                              label(r["variant"], labels), metric, _exp_unmeasured_words(r, control, labels),
                              count(r["n_variant"]), count(r["n_control"])))
            continue
        c = _exp_cells(r)
        nums = text("{} relative (95% CI {}), {} (95% CI {}); {} vs {} in {}; adjusted p {}, n = {} vs {}",
                    c["lift"], c["lift_ci"], c["diff"], c["diff_ci"], c["variant_value"], c["control_value"],
                    control, c["p"], count(r["n_variant"]), count(r["n_control"]))
        word = {WIN: "won", LOSS: "lost", GUARDRAIL_BREACHED: "got worse beyond noise",
                BLOCKED_BY_GUARDRAIL: "improved but is blocked by its broken guardrail"}.get(r["decision"])
        if broken_srm:
            items.append(text("<strong>{}</strong> on {}: not interpretable. Measured: {}.",
                              label(r["variant"], labels), metric, nums))
        elif word:
            items.append(text("<strong>{}</strong> {} on {}: {}.", label(r["variant"], labels), word, metric, nums))
        else:
            items.append(text("<strong>{}</strong> on {}: inconclusive, within noise: {}.",
                              label(r["variant"], labels), metric, nums))
    guard = r_all[r_all["guardrail"].astype(bool)] if "guardrail" in r_all else r_all.iloc[:0]
    breaches = guard[guard["guardrail_breach"].astype(bool)] if not broken_srm else guard.iloc[:0]
    for _, b in breaches.iterrows():
        c = _exp_cells(b)
        items.append(text("<strong>Guardrail broken</strong>: {} made {} worse: {} (95% CI {}), {} relative "
                          "(95% CI {}); p {} before adjustment.", label(b["variant"], labels),
                          label(b["metric"], labels), c["diff"], c["diff_ci"], c["lift"], c["lift_ci"], c["p_raw"]))
    # a guardrail with an arm without units cannot have held: it is said as not measured, not as held
    unmeasured = pd.Series([_exp_unmeasured(x) for _, x in r_all.iterrows()], index=r_all.index, dtype=bool)
    held = guard[~unmeasured.reindex(guard.index, fill_value=False)]
    if not held.empty and breaches.empty and not broken_srm:
        items.append(text("No guardrail ({}) got worse beyond noise.",
                          ", ".join(label(m, labels) for m in held["metric"].unique())))
    gaps = r_all[unmeasured & (r_all["metric"] != primary)]
    if not gaps.empty:
        items.append(text("Not measured, so no estimate: {}.", "; ".join(
            f"{label(g['metric'], labels)} for {label(g['variant'], labels)} "
            f"({_exp_unmeasured_words(g, control, labels)})" for _, g in gaps.iterrows())))
    others = r_all[(r_all["metric"] != primary) & r_all["decision"].isin([WIN, LOSS, BLOCKED_BY_GUARDRAIL])]
    if not others.empty:
        said = Markup("; ").join(
            text("{} {} on {} ({}, 95% CI {})", label(o["variant"], labels),
                 {WIN: "better", BLOCKED_BY_GUARDRAIL: "better (blocked by its broken guardrail)"}.get(
                     o["decision"], "worse"), label(o["metric"], labels),
                 _exp_cells(o)["head"], _exp_cells(o)["head_ci"]) for _, o in others.iterrows())
        items.append(text("Other metrics beyond noise: {}.", said))
    # the lead: one sentence the index shows as the page's headline
    if broken_srm:
        lead = text("<strong>Results are not interpretable</strong>: the arms did not receive their planned "
                    "shares of units (sample ratio mismatch, p {}). No variant can be called a win or a loss "
                    "until assignment or logging is fixed.", _p_phrase(srm_result.p_value))
    else:
        verdicts = Markup(", ").join(
            text("{} {}", label(r["variant"], labels),
                 "was not measured (" + _exp_unmeasured_words(r, control, labels) + ")" if _exp_unmeasured(r) else
                 {WIN: "won", LOSS: "lost", GUARDRAIL_BREACHED: "got worse",
                  BLOCKED_BY_GUARDRAIL: "improved but broke a guardrail"}.get(r["decision"],
                                                                                 "was inconclusive"))
            for _, r in rows.iterrows())
        if guard.empty:
            tail = text("")
        elif breaches.empty and held.empty:
            tail = text(" No guardrail was measured in every arm.")
        elif breaches.empty:
            tail = text(" No guardrail broke." if len(held) == len(guard) else " No measured guardrail broke.")
        else:
            tail = text(" Guardrail broken: {}.", Markup(", ").join(
                text("{} on {}", label(b["variant"], labels), label(b["metric"], labels))
                for _, b in breaches.iterrows()))
        lead = text("On the primary metric, {}: {}.{}", metric, verdicts, tail)
    return answer(items, lead=lead)


def cuped_table(comparison: pd.DataFrame, *, labels: dict | None = None, title=None, subtitle=None):
    """Interval width without and with CUPED, per metric and variant, from
    :func:`cxlib.experiments.cuped_comparison` (the CUPED rows beside the same comparison without
    covariates).

    Examples
    --------
    >>> cuped_table(experiments.cuped_comparison(result[result["cuped"]], plain))  # doctest: +SKIP
    """
    t = comparison

    def cell(r, suffix):
        dk = _EXP_KINDS.get(r["kind"], ("number", "signed"))[1]
        opts = {"digits": 2} if dk == "pp" else {}
        return interval(r[f"abs_diff_{suffix}"], r[f"abs_ci_lower_{suffix}"], r[f"abs_ci_upper_{suffix}"],
                        kind=dk, **opts)

    t = t.assign(_metric=[label(m, labels) for m in t["metric"]],
                 _plain=[cell(r, "plain") for _, r in t.iterrows()],
                 _cuped=[cell(r, "cuped") for _, r in t.iterrows()],
                 _narrower=[share(1 - w, 0) for w in t["interval_width_ratio"]])
    return table(t, columns={"_metric": "text", "variant": "label", "_plain": "text", "_cuped": "text",
                             "_narrower": "text"}, groups="_metric", title=title, subtitle=subtitle,
                 labels={"variant": "Variant", "_plain": "Difference without CUPED", "_cuped": "With CUPED",
                         "_narrower": "Interval narrower by", **(labels or {})}, notes=[CI_NOTE])


def cuped_answer(gain: pd.DataFrame, *, labels: dict | None = None) -> Text:
    """What CUPED bought, in a sentence per metric, from :func:`cxlib.experiments.cuped_gain`: how much
    narrower the intervals are and how many more units that is worth."""
    items = []
    for _, g in gain.iterrows():
        lo, hi = g["narrower_low"], g["narrower_high"]
        narrower = share(lo) if share(lo) == share(hi) else f"{share(lo)[:-1]}–{share(hi)}"
        items.append(text("{}: the pre-period covariate removed {} of the variance; intervals are {} narrower, "
                          "as good as running the test with about {} more units.", label(g["metric"], labels),
                          share(g["variance_reduction"]), narrower, share(g["units_worth"])))
    return answer(items)


def _labelled_note(n, labels=None):
    """A heavy-tail note with its metric, arm and covariate names as the page labels them."""
    from cxlib.notes import note

    keys = ("metric", "arm", "covariate")
    return note(n.code, **{k: (label(v, labels) if k in keys else v) for k, v in n.values.items()})


def heavy_tail_answer(tails: pd.DataFrame, *, labels: dict | None = None) -> Text:
    """Which mean metrics have a heavy tail, in words naming the rule, from :func:`cxlib.experiments.heavy_tails.check`:
    a sentence per heavy metric (and per capped covariate), one for the metrics the rule leaves raw, or
    that capping is off. Empty when there is no mean metric.

    Examples
    --------
    >>> heavy_tail_answer(heavy_tails.check(exp, control="control", metrics=metric_list))  # doctest: +SKIP
    """
    mode = tails.attrs.get("mode", "auto")
    if mode == "none":
        return answer([], lead=text("Capping is off (cap = none): every mean is compared raw, however far its "
                                    "largest values reach."))
    if tails.empty:
        return Text("")
    pct = _ordinal(100 * float(tails.attrs["quantile"]))
    items = []
    for n in tails.attrs.get("notes", []) or []:
        code = getattr(n, "code", None)
        if code == "heavy_tail":  # the note's words, then what the page does about it
            items.append(text("{}; the capped comparison is shown beside the raw one.",
                              Markup(str(note_text(_labelled_note(n, labels)))[:-1])))
        elif code == "capped_covariate":
            items.append(note_text(_labelled_note(n, labels)))
    heavy = {n.get("metric") for n in tails.attrs.get("notes", []) or [] if getattr(n, "code", None) == "heavy_tail"}
    first = tails.drop_duplicates("metric")
    if mode == "fixed":
        lead = text("Mean metrics are capped at their {} percentile (the cap parameter): values above it count "
                    "as that percentile, and the capped comparison is shown beside the raw one.", pct)
        for m, v, applied in first[["metric", "cap_value", "cap_applied"]].itertuples(index=False):
            if m in heavy:
                continue
            items.append(text("{}: capped at {}; this moves no arm's mean by more than half a standard error.",
                              label(m, labels), number(v)) if applied else
                         text("{}: no unit is above its {} percentile ({}), so capping changes nothing.",
                              label(m, labels), pct, number(v)))
    else:
        raw = [m for m in first["metric"] if m not in heavy]
        if raw:
            items.append(text("{}: capping at the {} percentile moves no arm's mean by more than half a standard "
                              "error, so the raw comparison stands.", ", ".join(label(m, labels) for m in raw), pct))
        lead = text("A few very large values can decide a mean. The rule: a mean metric is also compared capped "
                    "(values above its {} percentile count as that percentile) when capping moves an arm's mean "
                    "by more than half a standard error.", pct)
    return answer(items, lead=lead)


def heavy_tail_table(tails: pd.DataFrame, raw: pd.DataFrame, capped: pd.DataFrame | None, *,
                     labels: dict | None = None, title=None, subtitle=None):
    """Raw and capped relative change side by side (each with its 95% interval), per capped metric and
    variant: ``raw`` is the page's :func:`cxlib.experiments.compare` result, ``capped`` the same comparison
    capped (:func:`cxlib.experiments.heavy_tails.compare_capped`; None when nothing is capped: then empty).

    Examples
    --------
    >>> heavy_tail_table(tails, result, heavy_tails.compare_capped(exp, tails, ...))  # doctest: +SKIP
    """
    if capped is None or capped.empty:
        return Text("")
    keep = ["metric", "variant", "rel_lift", "rel_ci_lower", "rel_ci_upper"]
    t = capped[[*keep, "cap_value"]].merge(raw[keep], on=["metric", "variant"], suffixes=("_capped", "_raw"))
    pct = _ordinal(100 * float(tails.attrs.get("quantile") or 0.999))
    t = t.assign(_group=[f"{label(m, labels)} · capped at {number(v)}" for m, v in zip(t["metric"], t["cap_value"])],
                 _raw=[interval(r["rel_lift_raw"], r["rel_ci_lower_raw"], r["rel_ci_upper_raw"], kind="lift")
                       for _, r in t.iterrows()],
                 _capped=[interval(r["rel_lift_capped"], r["rel_ci_lower_capped"], r["rel_ci_upper_capped"],
                                   kind="lift") for _, r in t.iterrows()])
    control = label(raw.attrs.get("control", "control"), labels)
    return table(t, columns={"_group": "text", "variant": "label", "_raw": "text", "_capped": "text"},
                 groups="_group", title=title, subtitle=subtitle,
                 spanners={f"Relative change vs {control}": ["_raw", "_capped"]},
                 labels={**(labels or {}), "variant": "Variant", "_raw": "Raw",
                         "_capped": f"Capped at the {pct} percentile"},
                 notes=[text("Capped: values above the metric's {} percentile of all units count as that "
                             "percentile{}. Brackets: 95% confidence intervals.", pct,
                             " (its covariate is capped the same way)" if tails.attrs.get("covariate_caps") else "")])


def experiment_segment_answer(by_segment: pd.DataFrame, *, segment: str, primary: str | None = None,
                              srm_result=None, labels: dict | None = None) -> Text:
    """Does the primary-metric result hold in each segment? One line per variant: where it is beyond
    noise and where not (per-segment tests, adjusted over all segments)."""
    r_all = by_segment  # compare() already gated every decision on the allocation check
    primary = _exp_primary(r_all, primary)
    items = []
    control = label(by_segment.attrs.get("control", "control"), labels)
    for v, g in r_all[r_all["metric"] == primary].groupby("variant", sort=False):
        parts = Markup("; ").join(
            text("{} not measured ({})", label(r[segment], labels), _exp_unmeasured_words(r, control, labels))
            if _exp_unmeasured(r) else
            text("{} {} ({}, 95% CI {})", label(r[segment], labels),
                 {WIN: "better beyond noise", LOSS: "worse beyond noise",
                  GUARDRAIL_BREACHED: "worse beyond noise",
                  BLOCKED_BY_GUARDRAIL: "better beyond noise, but a guardrail broke",
                  NOT_INTERPRETABLE: NOT_INTERPRETABLE}.get(r["decision"], "within noise"),
                 _exp_cells(r)["head"], _exp_cells(r)["head_ci"]) for _, r in g.iterrows())
        items.append(text("<strong>{}</strong> on {}: {}.", label(v, labels), label(primary, labels), parts))
    return answer(items)


def experiment_cumulative_answer(settled: pd.DataFrame, *, srm_result=None, labels: dict | None = None) -> Text:
    """Where the cumulative lift ended, per variant, and whether its interval had settled on one side of
    zero over the last week (descriptive: unadjusted intervals), from :func:`cxlib.experiments.settled`."""
    items = []
    if settled.empty:
        return answer([text("Too few days of data to show how the estimate settled.")])
    last = settled.attrs.get("last_period", settled["period"].max())
    for _, r in settled.iterrows():
        side = {1: "above zero", -1: "below zero"}.get(int(r["window_side"]))
        items.append(text("<strong>{}</strong>: {} after {} days (95% CI {}); {}.", label(r["variant"], labels),
                          lift(r["rel_lift"]),
                          count(r["n_periods"]),
                          interval_range(r["rel_lift"], r["rel_ci_lower"], r["rel_ci_upper"], kind="lift") or MISSING,
                          text("the interval stayed {} through the last 7 days", side) if side
                          else text("the interval still included zero in the last 7 days")))
    if srm_result is not None and srm_result.mismatch:
        return answer(items, lead=text("Up to {} (not interpretable: sample ratio mismatch):", date(last)))
    return answer(items, lead=text("Up to {}:", date(last)))


def experiment_power_table(power_: pd.DataFrame, *, labels: dict | None = None, title=None, subtitle=None):
    """A :func:`cxlib.experiments.power_table` result for people."""
    target = lift(power_["lift_target"].iloc[0], 0) if len(power_) else "10%"
    p = power_.assign(_metric=[f"{label(m, labels)} (control {share(b, 1)})"
                               for m, b in zip(power_["metric"], power_["baseline"])],
                      _mde=[f"±{share(x, 1)}" if _num(x) is not None else MISSING
                            for x in power_["minimum_detectable_lift"]],
                      _days=[("Enough units already" if _num(d) == 0 else f"{count(d)} more days") if _num(d) is not None
                             else MISSING for d in power_["more_days_needed"]])
    cols = {"_metric": "text", "units_per_arm": "count", "_mde": "text", "units_per_arm_needed": "count"}
    if power_["more_days_needed"].notna().any():
        cols["_days"] = "text"
    return table(p, columns=cols, title=title, subtitle=subtitle,
                 labels={"_metric": "Metric", "units_per_arm": "Units per arm",
                         "_mde": "Smallest lift it could detect",
                         "units_per_arm_needed": f"Units per arm to detect {target}",
                         "_days": "Time needed at current traffic", **(labels or {})},
                 notes=["Two-sided test at 80% power; lifts are relative to the control rate."])


def experiment_srm_answer(srm_result, result: pd.DataFrame | None = None) -> Text:
    """The randomization check in a sentence (chi-square test of the units per arm against the plan)."""
    t = srm_result.table
    left_out = int((result.attrs.get("units_without_variant", 0) if result is not None else 0) or 0)
    extra = text(" {} units without a variant are left out.", count(left_out)) if left_out else text("")
    if srm_result.mismatch:
        return paragraph("<strong>No.</strong> The arms did not receive their planned shares of the {} units "
                         "(chi-square test p {}): assignment or logging is broken, so no result on this page can "
                         "be called a win or a loss until the cause is found and fixed.{}",
                         count(t["n"].sum()), _p_phrase(srm_result.p_value), extra)
    return paragraph("<strong>Yes.</strong> The {} units are split across the {} arms as planned (chi-square test "
                     "p {}; a mismatch would need p below {}).{}", count(t["n"].sum()), count(len(t)),
                     _p_phrase(srm_result.p_value), p_value(srm_result.threshold), extra)


def _exp_family(result: pd.DataFrame) -> str:
    m, v = result["metric"].nunique(), result["variant"].nunique()
    return f"{count(m)} metric{'s' if m != 1 else ''} × {count(v)} variant{'s' if v != 1 else ''}"


def experiment_overview(result: pd.DataFrame, *, labels: dict | None = None) -> Text:
    """Section answer for the full results table: how many comparisons are beyond noise, and which."""
    n = len(result)
    if (result["decision"] == NOT_INTERPRETABLE).all():
        return paragraph("Not one of the {} comparisons can be read as a result: the allocation check failed. The "
                         "numbers below are measurements only.", count(n))
    control = label(result.attrs.get("control", "control"), labels)
    gaps = [r for _, r in result.iterrows() if _exp_unmeasured(r)]
    unmeasured = (text(" {} could not be measured, so {} no estimate: {}.",
                       f"{count(len(gaps))} comparison{'s' if len(gaps) != 1 else ''}",
                       "they have" if len(gaps) != 1 else "it has",
                       "; ".join(f"{label(r['variant'], labels)} on {label(r['metric'], labels)} "
                                 f"({_exp_unmeasured_words(r, control, labels)})" for r in gaps))
                  if gaps else text(""))
    moved = result[result["decision"].isin([WIN, LOSS, GUARDRAIL_BREACHED, BLOCKED_BY_GUARDRAIL])]
    if moved.empty:
        return paragraph("Not one of the {} comparisons ({}) moved beyond noise.{}", count(n), _exp_family(result),
                         unmeasured)
    said = Markup("; ").join(
        text("{} {} on {} ({})", label(r["variant"], labels),
             {WIN: "better", BLOCKED_BY_GUARDRAIL: "better (blocked by its broken guardrail)"}.get(
                 r["decision"], "worse"), label(r["metric"], labels), _exp_cells(r)["head"])
        for _, r in moved.iterrows())
    return paragraph("{} of the {} comparisons ({}) moved beyond noise (p-values adjusted for "
                     "the number of comparisons; guardrails judged before adjustment): {}. The rest are {}.{}",
                     count(len(moved)), count(n), _exp_family(result), said,
                     "within noise" if not gaps else "within noise or not measured", unmeasured)


def experiment_power_answer(power_: pd.DataFrame, *, labels: dict | None = None) -> Text:
    """Section answer for :func:`cxlib.experiments.power_table`: the smallest lift the test could see, per
    metric."""
    if power_.empty:
        return paragraph("The power calculation here covers proportion (yes/no) metrics; this experiment has none.")
    items = [text("{}: with {} units per arm the test could reliably detect (80% power) a lift of about {} or "
                  "more from the control rate of {}; smaller effects could have been missed.",
                  label(r["metric"], labels),
                  count(r["units_per_arm"]), share(r["minimum_detectable_lift"], 1), share(r["baseline"], 1))
             for _, r in power_.iterrows()]
    return answer(items)


_EXP_SHORT = {WIN: "Win", LOSS: "Loss", INCONCLUSIVE: "Within noise", GUARDRAIL_BREACHED: "Guardrail broken",
              BLOCKED_BY_GUARDRAIL: "Better, blocked by guardrail",
              NOT_INTERPRETABLE: "Not interpretable (SRM)", NOT_MEASURED: "Not measured"}


def experiment_results_table(result: pd.DataFrame, *, by: str | None = None, primary: str | None = None,
                             labels: dict | None = None, title=None, subtitle=None):
    """A :func:`cxlib.experiments.compare` result in four phone-sized columns: variant, relative change and
    difference (each with its 95% interval) and the result in words with its p-value; rows grouped by
    metric (primary first, guardrails last, marked in words) and segment (``by``).

    Examples
    --------
    >>> experiment_results_table(result, primary="converted")  # doctest: +SKIP
    """
    # a primary metric that is not in this table (e.g. a table of quantile metrics) marks none
    primary = _exp_primary(result, primary) if primary is None or primary in set(result["metric"]) else None
    names = experiment_labels(result, primary=primary, labels=labels)
    guard = result["guardrail"].astype(bool) if "guardrail" in result else pd.Series(False, index=result.index)
    order = {m: i for i, m in enumerate(result["metric"].unique())}
    r = result.assign(_o=[(0 if m == primary else 2 if g else 1, order[m]) for m, g in zip(result["metric"], guard)])
    r = r.sort_values(["_o", *([by] if by else [])], kind="mergesort")

    control = label(result.attrs.get("control", "control"), labels)

    def verdict(x):
        if _exp_unmeasured(x):  # no estimate: the reason in words, no p-value
            return f"{_EXP_SHORT[NOT_MEASURED]}: {_exp_unmeasured_words(x, control, labels)}"
        word = _EXP_SHORT.get(x["decision"], label(x["decision"]))
        if x["decision"] == NOT_INTERPRETABLE:
            return word
        if x["decision"] == GUARDRAIL_BREACHED:
            return f"{word} (p {_p_phrase(x['p_value'])}, unadjusted)"
        return f"{word} (p {_p_phrase(x['p_adjusted'])})"

    def diff(x):
        dk = _EXP_KINDS.get(x["kind"], ("number", "signed"))[1]
        opts = {"digits": 2} if dk == "pp" else {}
        return interval(x["abs_diff"], x["abs_ci_lower"], x["abs_ci_upper"], kind=dk, **opts)

    r = r.assign(_group=[names.get(m, label(m, labels)) + (f" · {label(s, labels)}" if by else "")
                         for m, s in zip(r["metric"], r[by] if by else r["metric"])],
                 _lift=[interval(x["rel_lift"], x["rel_ci_lower"], x["rel_ci_upper"], kind="lift")
                        for _, x in r.iterrows()],
                 _diff=[diff(x) for _, x in r.iterrows()],
                 _verdict=[verdict(x) for _, x in r.iterrows()])
    return table(r, columns={"_group": "text", "variant": "label", "_lift": "text", "_diff": "text",
                             "_verdict": "text"}, groups="_group", title=title, subtitle=subtitle,
                 labels={**(labels or {}), "variant": "Variant", "_lift": "Relative change",
                         "_diff": f"Difference vs {control}", "_verdict": "Result"},
                 notes=[text("Brackets: 95% confidence intervals. p-values adjusted for the {} comparisons "
                             "({}); a guardrail is broken when its interval lies entirely on the bad side, "
                             "before adjustment.",
                             # rows not measured have no p-value and are not in the family
                             count(len(result) - sum(_exp_unmeasured(x) for _, x in result.iterrows())),
                             label(result.attrs.get("correction", "holm")).replace("Fdr bh", "Benjamini-Hochberg")
                             if result.attrs.get("correction", "holm") != "none" else "no adjustment")])


def _experiment_diff_text(kind, est, lo, hi, *, with_estimate=True):
    """A difference in the metric's own unit (pp for shares, points for NPS), as in the results table."""
    dk = _EXP_KINDS.get(kind, ("number", "signed"))[1]
    opts = {"digits": 2} if dk == "pp" else {}
    if with_estimate:
        return interval(est, lo, hi, kind=dk, **opts)
    return interval_range(est, lo, hi, kind=dk, **opts) or MISSING


def _experiment_i2_words(i2, segment_word) -> Text:
    i2 = _num(i2)
    if i2 is None:
        return text("I² not available")
    if i2 <= 0:
        return text("I² = 0%: no spread between {} beyond chance", segment_word)
    word = ("a small" if i2 < 0.25 else "a moderate" if i2 < 0.5 else "a large" if i2 < 0.75 else "most of the")
    return text("I² = {}: {} share of the spread between {} goes beyond chance", share(i2), word, segment_word)


def experiment_heterogeneity_answer(het: pd.DataFrame, by_segment: pd.DataFrame, *, segment: str,
                                    srm_result=None, labels: dict | None = None) -> Text:
    """Does the effect differ between segments? One sentence per variant from
    :func:`cxlib.experiments.heterogeneity_intervals` (Cochran's Q p-value and ``differs``, I² in words,
    the pooled effect with its 95% interval), under the question in bold.

    Examples
    --------
    >>> het = experiments.heterogeneity_intervals(experiments.heterogeneity(res, metric="converted"))
    >>> experiment_heterogeneity_answer(het, res, segment="device")  # doctest: +SKIP
    """
    seg = label(segment, labels).lower()
    question = text("<strong>Does the effect differ between {} segments?</strong>", seg)
    items = []
    kinds = dict(zip(by_segment["metric"], by_segment["kind"])) if "kind" in by_segment else {}
    for _, r in het.iterrows():
        p = _num(r["p_value"])
        differs = p is not None and bool(r["differs"])
        est, se = _num(r["pooled_effect"]), _num(r["pooled_se"])
        kind = kinds.get(r["metric"])
        dk = _EXP_KINDS.get(kind, ("number", "signed"))[1]
        pooled = (format_value(est, dk, **({"digits": 2} if dk == "pp" else {})) if est is not None else MISSING)
        ci = (_experiment_diff_text(kind, est, r["pooled_ci_lower"], r["pooled_ci_upper"], with_estimate=False)
              if est is not None and se is not None else MISSING)
        items.append(text("<strong>{}</strong>: {} that the effect on {} differs by {} (Cochran's Q p {}; {}); "
                          "pooled over {} {} segments, {} (95% CI {}).",
                          label(r["variant"], labels), "evidence" if differs else "no evidence",
                          label(r["metric"], labels), seg, _p_phrase(p),
                          _experiment_i2_words(r["i2"], text("the {} segments", seg)),
                          count(r["n_segments"]), seg, pooled, ci))
    if not items:
        items = [text("Fewer than two {} segments have units in both arms, so there is nothing to compare "
                      "between segments.", seg)]
    lead = text("{} One test per variant, so reading many segment rows does not multiply false alarms:",
                question)
    if srm_result is not None and srm_result.mismatch:
        lead = text("{} Not interpretable (sample ratio mismatch); for the record:", question)
    return answer(items, lead=lead)


def experiment_sequential_answer(settled: pd.DataFrame, *, srm_result=None, labels: dict | None = None) -> Text:
    """Was it safe to look every day? Per variant, whether the always-valid confidence sequence
    excluded zero at the last period and from which day on, from :func:`cxlib.experiments.settled` of
    ``cumulative(..., sequential=True)``.

    Examples
    --------
    >>> experiment_sequential_answer(experiments.settled(experiments.cumulative(df, control="control",
    ...                                                  metric=m, sequential=True)))  # doctest: +SKIP
    """
    question = text("<strong>Would a daily look have called it?</strong>")
    if settled.empty or "cs_lower" not in settled:
        return answer([text("No always-valid interval to show (too few days of data).")], lead=question)
    items = []
    for _, r in settled.iterrows():
        cs = _experiment_diff_text(r["kind"], r["abs_diff"], r["cs_lower"], r["cs_upper"])
        side = int(r["cs_side"])
        better = side != 0 and (side > 0) == (r.get("direction", "increase") != "decrease")
        if side == 0:
            items.append(text("<strong>{}</strong>: the always-valid 95% interval still includes zero on the last "
                              "day, {}, so even watching every day gives no call for a win or a loss.",
                              label(r["variant"], labels), cs))
        else:
            items.append(text("<strong>{}</strong>: the always-valid 95% interval excluded zero on the last day, "
                              "{}, and on every day from {} on (day {} of {}), so the {} stands even though "
                              "the test was looked at every day.", label(r["variant"], labels), cs,
                              date(r["cs_since"]), count(r["cs_day"]), count(r["n_days"]),
                              "improvement" if better else "worsening"))
    lead = text("{} The always-valid interval (a confidence sequence) stays valid however often it is checked; "
                "the shaded 95% bands in the figure are valid for one look at the planned end only.", question)
    if srm_result is not None and srm_result.mismatch:
        lead = text("{} Not interpretable (sample ratio mismatch); for the record:", question)
    return answer(items, lead=lead)


def experiment_sequential_table(over_time: pd.DataFrame, *, labels: dict | None = None, title=None):
    """The last period of ``cumulative(..., sequential=True)`` in four phone-sized columns: variant,
    difference vs control, fixed-horizon 95% interval (one look) and always-valid 95% interval (any look)."""
    last = over_time[over_time["period"] == over_time["period"].max()]
    r = last.assign(
        _diff=[format_value(x["abs_diff"], _EXP_KINDS.get(x["kind"], ("number", "signed"))[1],
                            **({"digits": 2} if x["kind"] == "proportion" else {}))
               for _, x in last.iterrows()],
        _fixed=[_experiment_diff_text(x["kind"], x["abs_diff"], x["abs_ci_lower"], x["abs_ci_upper"],
                                      with_estimate=False) for _, x in last.iterrows()],
        _cs=[_experiment_diff_text(x["kind"], x["abs_diff"], x["cs_lower"], x["cs_upper"], with_estimate=False)
             for _, x in last.iterrows()])
    control = label(over_time.attrs.get("control", "control"), labels)
    return table(r, columns={"variant": "label", "_diff": "text", "_fixed": "text", "_cs": "text"},
                 title=title if title is not None else text("Last day, {}", date(over_time["period"].max())),
                 labels={**(labels or {}), "variant": "Variant", "_diff": f"Difference vs {control}",
                         "_fixed": "95% interval, one look", "_cs": "95% interval, any look"},
                 notes=["One look: the usual fixed-horizon interval, valid only if the test is read once, at its "
                        "planned end. Any look: the always-valid confidence sequence, valid however often it "
                        "was checked."])


def _exp_segment_key(r, by, labels):
    return ", ".join(label(r[c], labels) for c in by)


def experiment_explorer_answer(explored: pd.DataFrame, *, segment: str, srm_result=None,
                               labels: dict | None = None, max_items: int = 4) -> Text:
    """Which segment cells stand out without false alarms? From :func:`cxlib.experiments.segment_explorer`:
    how many of the segment × metric × variant cells are discoveries at the false-discovery rate
    (Benjamini-Hochberg, family per metric or over everything), which ones, and whether the shrunken
    (empirical-Bayes) estimates could be computed.

    Examples
    --------
    >>> experiment_explorer_answer(experiments.segment_explorer(by_segment), segment="device")  # doctest: +SKIP
    """
    seg = label(segment, labels).lower()
    q = float(explored.attrs.get("fdr_q", 0.05))
    fam = explored.attrs.get("fdr_family", "metric")
    by = list(explored.attrs.get("by") or [segment])
    question = text("<strong>Which {} segments stand out, without false alarms?</strong>", seg)
    n = len(explored)
    found = explored[explored["discovery"].astype(bool)]
    family = (text("a family per metric") if fam == "metric" else text("one family over every metric"))
    items = []
    if found.empty:
        items.append(text("None of the {} segment cells ({}) stands out once the number of cells is taken into "
                          "account (Benjamini-Hochberg at a false-discovery rate of {}, {}).", count(n),
                          _exp_family(explored), share(q), family))
    else:
        top = found.sort_values("q_value", kind="mergesort").head(max_items)
        said = Markup("; ").join(
            text("{} on {}, {} ({}, q {})", label(r["variant"], labels), label(r["metric"], labels),
                 _exp_segment_key(r, by, labels),
                 _experiment_diff_text(r["kind"], r["abs_diff"], r["abs_ci_lower"], r["abs_ci_upper"]),
                 _p_phrase(r["q_value"]))
            for _, r in top.iterrows())
        more = text(", and {} more in the table", count(len(found) - len(top))) if len(found) > len(top) else ""
        items.append(text("{} of the {} segment cells stand out at a false-discovery rate of {} (Benjamini-Hochberg, "
                          "{}): {}{}. On average at most {} of such a list is a false alarm.", count(len(found)),
                          count(n), share(q), family, said, more, share(q)))
    shrunk = explored["shrinkage"].notna() if "shrinkage" in explored else pd.Series(False, index=explored.index)
    if shrunk.any():
        items.append(text("Shrunken estimates (empirical Bayes) pull each segment toward the overall effect, the "
                          "more the fewer units it has: read them for the size of a segment's effect, since the "
                          "raw segment with the largest effect is usually partly luck."))
    else:
        k = int(explored.groupby(["metric", "variant"]).size().max()) if n else 0
        items.append(text("Shrunken estimates need at least four segment values to learn how much segments really "
                          "differ; {} has {}, so the raw estimates are shown as they are.", seg, count(k)))
    lead = question
    if srm_result is not None and srm_result.mismatch:
        lead = text("{} Not interpretable (sample ratio mismatch); for the record:", question)
    return answer(items, lead=lead)


def experiment_explorer_table(explored: pd.DataFrame, *, primary: str | None = None, labels: dict | None = None,
                              title=None, subtitle=None):
    """The segment explorer in phone-sized columns: variant, raw difference (95% interval), shrunken
    difference (95% interval, "—" when not shrunk), q-value and whether the cell stands out; rows grouped
    by metric and segment (primary first)."""
    by = list(explored.attrs.get("by") or [])
    primary = _exp_primary(explored, primary)
    names = experiment_labels(explored, primary=primary, labels=labels)
    order = {m: i for i, m in enumerate(explored["metric"].unique())}
    r = explored.assign(_o=[(0 if m == primary else 1, order[m]) for m in explored["metric"]])
    r = r.sort_values(["_o", *by], kind="mergesort")
    shrunk = r["shrinkage"].notna() if "shrinkage" in r else pd.Series(False, index=r.index)
    r = r.assign(
        _group=[names.get(x["metric"], label(x["metric"], labels)) + " · " + _exp_segment_key(x, by, labels)
                for _, x in r.iterrows()],
        _raw=[_exp_unmeasured_words(x, label(explored.attrs.get("control", "control"), labels), labels, first=True)
              if _exp_unmeasured(x) else
              _experiment_diff_text(x["kind"], x["abs_diff"], x["abs_ci_lower"], x["abs_ci_upper"])
              for _, x in r.iterrows()],
        _shrunk=[_experiment_diff_text(x["kind"], x["shrunk_diff"], x["shrunk_ci_lower"], x["shrunk_ci_upper"])
                 if s else MISSING for (_, x), s in zip(r.iterrows(), shrunk)],
        _stands=[("Yes" if bool(x["discovery"]) else "No") + f" (q {_p_phrase(x['q_value'])})" for _, x in r.iterrows()])
    control = label(explored.attrs.get("control", "control"), labels)
    fam = explored.attrs.get("fdr_family", "metric")
    cols = {"_group": "text", "variant": "label", "_raw": "text", "_shrunk": "text", "_stands": "text"}
    if not shrunk.any():  # too few segments to shrink anywhere: the answer says so, no column of dashes
        cols.pop("_shrunk")
    return table(r, columns=cols,
                 groups="_group", title=title, subtitle=subtitle,
                 labels={**(labels or {}), "variant": "Variant", "_raw": f"Difference vs {control}",
                         "_shrunk": "Shrunken estimate", "_stands": "Stands out?"},
                 notes=[text("Brackets: 95% intervals. q: Benjamini-Hochberg adjusted p-value over {}; a cell stands "
                             "out when q is below {}. Shrunken: empirical-Bayes estimate (normal model, "
                             "method-of-moments spread between segments, Morris intervals){}.",
                             "each metric's cells" if fam == "metric" else "all cells",
                             share(float(explored.attrs.get("fdr_q", 0.05))),
                             "; — when there are too few segments to shrink" if shrunk.any() else
                             ", shown from four segment values on")])


def experiment_quantile_answer(result: pd.DataFrame, *, srm_result=None, labels: dict | None = None) -> Text:
    """Plain-language reading of quantile metrics (``kind='quantile'``: median, p90 ...) compared between
    arms: the quantile in each arm and the difference with its 95% interval, per variant."""
    items = []
    control = label(result.attrs.get("control", "control"), labels)
    for _, r in result.iterrows():
        if _exp_unmeasured(r):
            items.append(text("<strong>{}</strong>, {}: not measured, {}, so there is no difference to show.",
                              label(r["variant"], labels), label(r["metric"], labels),
                              _exp_unmeasured_words(r, control, labels)))
            continue
        verdict = {WIN: "better beyond noise", LOSS: "worse beyond noise",
                   GUARDRAIL_BREACHED: "worse beyond noise (guardrail broken)",
                   BLOCKED_BY_GUARDRAIL: "better beyond noise, but blocked by a broken guardrail",
                   NOT_INTERPRETABLE: "not interpretable (sample ratio mismatch)"}.get(r["decision"], "within noise")
        items.append(text("<strong>{}</strong>, {}: {} against {} in control, a difference of {}: {}.",
                          label(r["variant"], labels), label(r["metric"], labels),
                          format_value(r["variant_value"], "number"), format_value(r["control_value"], "number"),
                          _experiment_diff_text(r["kind"], r["abs_diff"], r["abs_ci_lower"], r["abs_ci_upper"]),
                          verdict))
    lead = text("Each variant's quantile against control's (95% intervals of the difference, p-values adjusted "
                "for the {} comparisons):", count(len(result)))
    if srm_result is not None and srm_result.mismatch:
        lead = text("Not interpretable (sample ratio mismatch); for the record:")
    return answer(items, lead=lead)


def experiment_not_shown(part) -> Text:
    """Why an optional section of the experiment page is not shown, from its page result
    (:mod:`cxlib.pages.experiment_comparison`: ``Cuped``, ``Segments``, ``OverTime``, ``Quantiles``):
    what it would show, what it needs and how to supply it; empty when the section is shown.

    Examples
    --------
    >>> experiment_not_shown(page.cuped(setup))  # doctest: +SKIP
    """
    kind = type(part).__name__
    if kind == "Segments":
        if part.missing == "not_in_data":
            return paragraph("<em>Not shown:</em> the segment column “{}” is not in the experiment data, so the "
                             "by-segment comparison is skipped. Name an existing column with the segment "
                             "parameter.", part.segment)
        if part.missing:
            return missing_section("the comparison within each segment (e.g. device or plan).",
                                   "a segment column in the experiment table",
                                   "name it with the segment parameter, e.g. segment=device.")
        return Text("")
    if getattr(part, "given", True):
        return Text("")
    if kind == "Cuped":
        return missing_section("how much a pre-period covariate (CUPED) narrows the intervals.",
                               "a value per unit from before the test (such as last month's revenue)",
                               "name it with the covariates parameter, e.g. covariates={revenue: pre_revenue}.")
    if kind == "OverTime":
        return missing_section("how the lift on the primary metric settled day by day.",
                               "an exposure time per unit",
                               "name that column with the time parameter, e.g. time=exposure_time.")
    return missing_section("how the median or a high percentile (such as the 95th) moved between arms.",
                           "a numeric column per unit (such as a response time or an order value)",
                           "name it with the quantiles parameter, e.g. quantiles={revenue: [median, p95]}.")


def experiment_cuped_answer(part, *, labels: dict | None = None) -> Text:
    """The CUPED section's answer from the page's ``Cuped`` result: :func:`cuped_answer` of its gain, or
    why it is not shown."""
    return cuped_answer(part.gain, labels=labels) if part.given else experiment_not_shown(part)
