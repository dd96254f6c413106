"""Tables a stakeholder reads, built with Great Tables: :func:`table` (no index, human headers, merged
"estimate (low–high)" cells, "—" for suppressed rows, escaped text) and one ``*_table`` helper per result
table of the analyses.
"""
from __future__ import annotations

import hashlib

import pandas as pd
from markupsafe import Markup

from cxlib.present.format import CI_NOTE, MISSING, SUPPRESSED_NOTE, _num, _text, count, format_value, interval, label, number, p_value, share
from cxlib.present.text import Text, figure, key_figures, text

# ============================================================================ 3. tables

def _infer_role(name, s: pd.Series) -> str:
    n = str(name)
    if n in ("p_value", "p_adjusted") or n.endswith("_p_value"):
        return "p_value"
    if pd.api.types.is_bool_dtype(s):
        return "yes_no"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "date"
    if pd.api.types.is_integer_dtype(s):
        return "count"
    if pd.api.types.is_float_dtype(s):
        if n.endswith(("_share", "_rate")) or n in ("share", "retention", "conversion", "attainment", "csat"):
            return "share"
        if n.endswith("_hours"):
            return "duration"
        return "number"
    return "text"


def _gt_text(x):
    """Title / note text for Great Tables: Markup stays HTML, anything else is escaped by GT."""
    from great_tables import html as gt_html

    return gt_html(str(x)) if isinstance(x, Markup) else _text(x)


_TEXT_ROLES = {"text", "label", "date"}


def table(df: pd.DataFrame, *, columns=None, labels: dict | None = None, title=None, subtitle=None,
          intervals: dict | None = None, spanners: dict | None = None, notes=(), groups: str | None = None,
          suppressed: str = "suppressed", keep_suppressed=("n",), options: dict | None = None,
          fills=None):
    """A stakeholder table rendered by Great Tables.

    Every cell is formatted into text by the rules of this module (so no NaN, True/False or scientific
    notation can reach the page) and handed to Great Tables, which escapes it and lays the table out: no
    index, human headers, title and notes, small type, full width, wrapping cells for a 390 px phone.

    Parameters
    ----------
    df : DataFrame
        A result table (raw numbers).
    columns : mapping or list, optional
        ``{column: role}`` in display order, roles from :data:`ROLES` ('text', 'label', 'share', 'points',
        'pp', 'lift', 'count', 'number', 'signed', 'money', 'duration', 'p_value', 'date', 'yes_no');
        a list infers roles from dtypes; default every column.
    labels : mapping, optional
        Header labels ``{column: label}`` (default :func:`label` of the name); also used for the values
        of 'label' columns.
    title, subtitle : str, optional
        Plain text (escaped) or :class:`Text`.
    intervals : mapping, optional
        ``{estimate_column: (low_column, high_column)}``: one cell "63% (57–69%)".
    spanners : mapping, optional
        ``{spanner label: [columns]}``.
    notes : iterable of str
        Source notes under the table; notes on intervals and suppression are added when they apply.
    groups : str, optional
        A column whose values become row-group headings.
    suppressed : str, default "suppressed"
        Boolean column: those rows show "—" in every non-text cell except ``keep_suppressed``.
    options : mapping, optional
        Formatter options per column, e.g. ``{"retention": {"digits": 1}, "p50": {"unit": "minute"}}``.
    fills : DataFrame, optional
        Background colours of cells: row i of ``fills`` for row i of ``df``, columns by name; a colour
        string or None. Use with printed values: colour never carries meaning alone.

    Returns
    -------
    great_tables.GT
        Displays itself in a notebook (``_repr_html_``); ``.as_raw_html()`` gives the HTML.

    Examples
    --------
    >>> t = table(pd.DataFrame({"plan": ["basic"], "retention": [0.63], "ci_lower": [0.57],
    ...                         "ci_upper": [0.69]}), columns={"plan": "label", "retention": "share"},
    ...           intervals={"retention": ("ci_lower", "ci_upper")})
    >>> "63% (57–69%)" in t.as_raw_html()
    True
    """
    from great_tables import GT, loc, style

    intervals, options, labels = dict(intervals or {}), dict(options or {}), dict(labels or {})
    hidden = {suppressed, *(c for pair in intervals.values() for c in pair)}
    if columns is None:
        columns = [c for c in df.columns if c not in hidden]
    missing = [c for c in [*columns, *(c for p in intervals.values() for c in p)] if c not in df.columns]
    if missing:
        raise ValueError(f"table has no column(s) {', '.join(map(str, missing))}")
    if not isinstance(columns, dict):
        columns = {c: _infer_role(c, df[c]) for c in columns}
    df = df.reset_index(drop=True)
    sup = (df[suppressed].fillna(False).astype(bool) if suppressed in df.columns
           else pd.Series(False, index=df.index))
    ids = {c: f"c{i}" for i, c in enumerate(columns)}  # internal names: data never becomes an id
    out = {}
    for col, role in columns.items():
        opts = options.get(col, {})
        if role == "label":
            cells = [label(v, labels) for v in df[col]]
        elif col in intervals:
            lo, hi = intervals[col]
            cells = [interval(e, a, b, kind=role, **opts) for e, a, b in zip(df[col], df[lo], df[hi])]
        else:
            cells = [format_value(v, role, **opts) for v in df[col]]
        if role not in _TEXT_ROLES and col not in keep_suppressed:
            cells = [MISSING if s else c for c, s in zip(cells, sup)]
        out[ids[col]] = pd.Series(cells, dtype=object)
    shown = pd.DataFrame(out, index=df.index)
    digest = hashlib.sha1(repr((shown.to_numpy().tolist(), list(map(str, columns)), str(title))).encode())
    gid = "cx-" + digest.hexdigest()[:10]  # stable id: re-running a notebook gives the same HTML
    g = GT(shown, groupname_col=ids[groups] if groups else None).with_id(gid)
    g = g.cols_label(**{ids[c]: label(c, labels) for c in columns if c != groups})
    numeric = [ids[c] for c, r in columns.items() if r not in _TEXT_ROLES and c != groups]
    text_cols = [ids[c] for c, r in columns.items() if r in _TEXT_ROLES and c != groups]
    if numeric:
        g = g.cols_align("right", columns=numeric)
    if text_cols:
        g = g.cols_align("left", columns=text_cols)
    if title is not None:
        g = g.tab_header(title=_gt_text(title), subtitle=_gt_text(subtitle) if subtitle is not None else None)
    for i, (name, cols) in enumerate((spanners or {}).items()):
        g = g.tab_spanner(label=_gt_text(name), columns=[ids[c] for c in cols], id=f"s{i}")
    if fills is not None:
        for col in columns:
            for row, colour in fills[col].items() if col in fills else ():
                if isinstance(colour, str):
                    g = g.tab_style(style.fill(colour), loc.body(columns=ids[col], rows=[df.index.get_loc(row)]))
    auto = [CI_NOTE] if intervals and any(c in columns for c in intervals) else []
    auto += [SUPPRESSED_NOTE] if bool(sup.any()) else []
    for note in [*notes, *auto]:
        g = g.tab_source_note(_gt_text(note))
    g = g.tab_options(container_width="100%", table_width="100%", table_font_size="14px",
                      heading_align="left", heading_title_font_size="16px", heading_subtitle_font_size="13px",
                      column_labels_font_weight="bold", data_row_padding="4px", column_labels_padding="4px",
                      row_group_padding="4px", source_notes_font_size="12px", table_margin_left="0px")
    return g.opt_css(
        f"#{gid} .gt_table {{ max-width: 100%; }}\n"
        f"#{gid} .gt_row, #{gid} .gt_col_heading, #{gid} .gt_group_heading, #{gid} .gt_sourcenote "
        "{ white-space: normal; overflow-wrap: break-word; padding-left: 4px; padding-right: 4px; }\n"
        # headers wrap between words (hyphenated when a word is longer than its column), never mid-word
        f"#{gid} .gt_col_heading {{ overflow-wrap: normal; word-break: normal; hyphens: auto; }}\n"
        f"#{gid} .gt_right {{ font-variant-numeric: tabular-nums; }}")


# ------------------------------------------------------------------ one helper per result table

def _keys(df: pd.DataFrame, first: str, by=None) -> list[str]:
    """Segment columns: ``by`` if given, else the columns before ``first`` (where the results put them)."""
    if by is not None:
        return [by] if isinstance(by, str) else list(by)
    return list(df.columns[:list(df.columns).index(first)]) if first in df.columns else []


def _key_roles(df, keys) -> dict:
    return {k: ("date" if pd.api.types.is_datetime64_any_dtype(df[k]) else "label") for k in keys}


def _period_opts(df, keys, grain):
    return {k: {"grain": grain} for k in keys if pd.api.types.is_datetime64_any_dtype(df[k])}


_SCORE_NAMES = {"nps": "NPS", "csat": "CSAT (satisfied)", "ces": "CES (ease, 1–7)"}


def score_table(result: pd.DataFrame, *, by=None, grain: str = "month", labels: dict | None = None, title=None,
                subtitle=None):
    """NPS, CSAT or CES results of :mod:`cxlib.metrics` (overall, ``by=`` segments or ``period=``).

    Examples
    --------
    >>> score_table(metrics.nps("data/sample/responses.csv", by="plan"))  # doctest: +SKIP
    """
    metric = str(result["metric"].iloc[0]) if len(result) and "metric" in result else "nps"
    keys = _keys(result, "n", by)
    cols = {**_key_roles(result, keys), "n": "count"}
    names = {"n": "Answers", **_SCORE_NAMES}
    if metric == "nps":
        cols.update(nps="points", promoter_share="share", detractor_share="share")
        names.update(promoter_share="Promoters", detractor_share="Detractors")
    elif metric == "csat":
        cols.update(csat="share")
    else:
        cols.update(ces="number", easy_share="share")
        names.update(easy_share="Found it easy")
    cols = {c: r for c, r in cols.items() if c in result.columns}
    iv = {metric: ("ci_lower", "ci_upper")}
    if "easy_share" in cols:
        iv["easy_share"] = ("easy_ci_lower", "easy_ci_upper")
    return table(result, columns=cols, intervals=iv, labels={**names, **(labels or {})}, title=title,
                 subtitle=subtitle, options={**_period_opts(result, keys, grain), "ces": {"digits": 2}})


_SHADES = ["#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#084594"]


def _shade(v) -> str | None:
    """A single-hue (colour-blind-safe) fill for a share; the number is always printed in the cell."""
    x = _num(v)
    return None if x is None else _SHADES[min(int(max(x, 0) * len(_SHADES)), len(_SHADES) - 1)]


def retention_table(table_: pd.DataFrame, *, by: str | None = None, periods: int = 6, labels: dict | None = None,
                    title=None, subtitle=None, value: str = "retention"):
    """A :func:`cxlib.cohorts.retention_table` as a cohort x period grid of shares.

    Cells of periods that have not ended yet are blank (open, not a drop); suppressed cohorts show "—".
    Cells are shaded by value (one hue), the share is printed in each.

    Examples
    --------
    >>> retention_table(cohorts.retention_table("data/sample/events.csv"))  # doctest: +SKIP
    """
    grain = table_.attrs.get("grain", "month")
    t = table_[(table_["period"] >= 1) & (table_["period"] <= periods)]
    keys = [*([by] if by else []), "cohort"]
    t = t.assign(_cell=[("" if not m else (MISSING if s else share(v)))
                        for v, m, s in zip(t[value], t["mature"], t["suppressed"])],
                 _v=t[value].where(t["mature"] & ~t["suppressed"]))
    grid = t.pivot_table(index=keys, columns="period", values="_cell", aggfunc="first")
    grid = grid.reindex(columns=sorted(grid.columns)).fillna("")
    nums = t.pivot_table(index=keys, columns="period", values="_v", aggfunc="first").reindex(
        index=grid.index, columns=grid.columns)
    names = {p: str(p) for p in grid.columns}  # under the spanner "Months since joining"
    sizes = table_.groupby(keys)["cohort_size"].first().rename("size").reset_index()
    wide = grid.rename(columns=names).reset_index().merge(sizes, on=keys, how="left")
    wide.columns.name = None
    fills = nums.rename(columns=names).reset_index(drop=True).map(_shade)
    cols = {**({by: "label"} if by else {}), "cohort": "date", "size": "count", **{n: "text" for n in names.values()}}
    nt = table(wide, columns=cols, labels={"cohort": "Cohort", "size": "Customers", **(labels or {})},
               title=title, subtitle=subtitle, options={"cohort": {"grain": grain}}, fills=fills,
               spanners={f"{grain.capitalize()}s since joining": list(names.values())}, groups=by,
               notes=[f"Share of each cohort active again in {grain} k after joining; blank: that {grain} "
                      "has not ended yet."])
    return nt.cols_align("right", columns=[f"c{i}" for i in range(len(keys) + 1, len(cols))])


def retention_curve_table(curve: pd.DataFrame, *, by: str | None = None, periods: int = 12, grain: str = "month",
                          labels: dict | None = None, title=None, subtitle=None):
    """A :func:`cxlib.cohorts.retention_curve` (pooled retention by period since joining, with intervals).

    Examples
    --------
    >>> retention_curve_table(cohorts.retention_curve(table))  # doctest: +SKIP
    """
    c = curve[(curve["period"] >= 1) & (curve["period"] <= periods)].assign(
        _period=lambda d: [f"{grain.capitalize()} {int(p)}" for p in d["period"]])
    keys = _keys(c, "period", by)
    cols = {**_key_roles(c, keys), "_period": "text", "retention": "share", "customers": "count",
            "cohorts": "count"}
    return table(c, columns=cols, intervals={"retention": ("ci_lower", "ci_upper")},
                 labels={"_period": "Since joining", "customers": "Customers", "cohorts": "Cohorts", **(labels or {})},
                 title=title, subtitle=subtitle, keep_suppressed=("customers", "cohorts"))


def churn_table(result: pd.DataFrame, *, by: str | None = None, last: int = 3, labels: dict | None = None,
                title=None, subtitle=None):
    """A :func:`cxlib.metrics.churn_rate` table: the last ``last`` complete periods per segment.

    Examples
    --------
    >>> churn_table(metrics.churn_rate("data/sample/subscriptions.csv", by="plan"))  # doctest: +SKIP
    """
    keys = _keys(result, "period", by)
    done = result[result["complete"]]
    recent = done.groupby(keys, sort=False).tail(last) if keys else done.tail(last)
    cols = {**_key_roles(recent, keys), "period": "date", "churn_rate": "share", "lost": "count", "n": "count"}
    if "revenue_retention" in recent:
        cols["revenue_retention"] = "share"
    names = {"churn_rate": "Cancelled", "lost": "Lost", "n": "Customers at start",
             "revenue_retention": "Revenue kept"}
    return table(recent, columns=cols, intervals={"churn_rate": ("ci_lower", "ci_upper")},
                 labels={**names, **(labels or {})}, title=title, subtitle=subtitle,
                 options={"period": {"grain": result.attrs.get("period", "month")}, "churn_rate": {"digits": 1}})


def lifetime_table(medians: pd.DataFrame, *, by: str | None = None, unit: str = "month", labels: dict | None = None,
                   title=None, subtitle=None):
    """Median lifetimes (``kaplan_meier(...).attrs['medians']`` or :func:`cxlib.survival.median_survival`).

    Examples
    --------
    >>> lifetime_table(km.attrs["medians"], by="plan")  # doctest: +SKIP
    """
    def cell(r):
        if r.get("suppressed", False) is True:
            return f"{MISSING} (too few customers)"
        if not r["reached"]:
            return "Not reached (over half still subscribed)"
        lo, hi = number(r["ci_lower"], 1), number(r["ci_upper"], 1)
        hi = hi if hi != MISSING else "beyond the follow-up"
        return f"{number(r['median'], 1)} {unit}s ({lo} to {hi})"

    m = medians.assign(_median=[cell(r) for _, r in medians.iterrows()])
    keys = _keys(m, "n", by)
    return table(m, columns={**_key_roles(m, keys), "_median": "text", "n": "count", "events": "count"},
                 labels={"_median": "Median lifetime", "n": "Customers", "events": "Cancelled", **(labels or {})},
                 title=title, subtitle=subtitle, notes=[CI_NOTE])


_QUADRANTS = {"fix first": "Fix first", "keep up": "Keep up", "monitor": "Monitor", "maintain": "Maintain"}


def drivers_table(result: pd.DataFrame, *, labels: dict | None = None, prefix: str = "drv_", title=None,
                  subtitle=None):
    """A :func:`cxlib.drivers.quadrant` result (a plain :func:`~cxlib.drivers.key_drivers` result has no
    priority: that column then shows "—"; present computes no quadrant).

    Examples
    --------
    >>> drivers_table(drivers.quadrant(drivers.key_drivers("data/sample/responses.csv")))  # doctest: +SKIP
    """
    if "quadrant" not in result.columns:
        result = result.assign(quadrant=MISSING)
    labels = {**(result.attrs.get("labels") or {}), **(labels or {})}
    names = {d: labels.get(d, label(str(d).removeprefix(prefix), labels)) for d in result["driver"]}
    q = result.assign(_quadrant=result["quadrant"].map(_QUADRANTS).fillna(result["quadrant"]))
    return table(q, columns={"driver": "label", "importance": "share", "mean": "number", "_quadrant": "text",
                             "n": "count"},
                 intervals={"importance": ("ci_lower", "ci_upper")}, title=title, subtitle=subtitle,
                 labels={**names, "driver": "Driver", "importance": "Share of explained variation",
                         "mean": "Average rating", "_quadrant": "Priority", "n": "Ratings"},
                 options={"mean": {"digits": 1}})


def themes_table(counts: pd.DataFrame, *, labels: dict | None = None, title=None, subtitle=None):
    """A :func:`cxlib.themes.theme_counts` result (share of comments mentioning each theme).

    Examples
    --------
    >>> themes_table(themes.theme_counts("data/sample/responses.csv"))  # doctest: +SKIP
    """
    keys = [k for k in _keys(counts, "theme") if k != "theme"]
    cols = {**_key_roles(counts, keys), "label": "text", "mentions": "count", "share": "share"}
    return table(counts, columns=cols, intervals={"share": ("ci_lower", "ci_upper")}, title=title,
                 subtitle=subtitle, options=_period_opts(counts, keys, "week"),
                 labels={"label": "Theme", "share": "Share of comments", **(labels or {})})


def theme_impact_table(impact: pd.DataFrame, *, score: str = "NPS", labels: dict | None = None, title=None,
                       subtitle=None):
    """A :func:`cxlib.themes.theme_impact` result (NPS of commenters on a theme vs the others).

    Examples
    --------
    >>> theme_impact_table(themes.theme_impact("data/sample/responses.csv"))  # doctest: +SKIP
    """
    return table(impact, columns={"label": "text", "mentions": "count", "nps_with": "points",
                                  "impact": "points", "p_value": "p_value"},
                 intervals={"impact": ("ci_lower", "ci_upper")}, title=title, subtitle=subtitle,
                 labels={"label": "Theme", "nps_with": f"{score} with theme", "impact": "Vs other commenters",
                         "p_value": "p", **(labels or {})})


def rising_themes_table(rising: pd.DataFrame, *, labels: dict | None = None, title=None, subtitle=None):
    """A :func:`cxlib.themes.rising_themes` result (this period's share vs the prior periods).

    Examples
    --------
    >>> rising_themes_table(themes.rising_themes(counts, period=week))  # doctest: +SKIP
    """
    r = rising.assign(_verdict=[("Rising beyond noise" if up else "No") for up in rising["rising"]])
    return table(r, columns={"label": "text", "share": "share", "prior_share": "share", "change": "pp",
                             "p_value": "p_value", "_verdict": "text"},
                 intervals={"change": ("ci_lower", "ci_upper")}, title=title, subtitle=subtitle,
                 labels={"label": "Theme", "share": "This period", "prior_share": "Prior periods",
                         "change": "Change", "_verdict": "Rising?", **(labels or {})})


# experiment metric kind -> (kind of its values, kind of its differences)
_EXP_KINDS = {"proportion": ("share", "pp"), "nps": ("points", "points"), "mean": ("number", "signed"),
              "ratio": ("number", "signed")}
_DECISIONS = {"win": "Win: better beyond noise", "loss": "Loss: worse beyond noise",
              "inconclusive": "Inconclusive: within noise", "guardrail breached": "Guardrail breached: worse",
              "blocked by guardrail": "Better, but blocked: a guardrail broke"}


def experiment_table(result: pd.DataFrame, *, by: str | None = None, labels: dict | None = None, title=None,
                     subtitle=None):
    """A :func:`cxlib.experiments.compare` result: difference and relative lift with intervals,
    adjusted p-value and the decision in words, one row per metric and variant.

    Examples
    --------
    >>> experiment_table(experiments.compare(df, control="control", metrics=metrics))  # doctest: +SKIP
    """
    control = label(result.attrs.get("control", "control"), labels)

    def diff(r):
        if _exp_unmeasured(r):  # an arm without units: the reason in words, no number
            return _exp_unmeasured_words(r, control, labels, first=True)
        kind = _EXP_KINDS.get(r["kind"], ("number", "signed"))[1]
        opts = {"digits": 2} if kind == "pp" else {}
        return interval(r["abs_diff"], r["abs_ci_lower"], r["abs_ci_upper"], kind=kind, **opts)

    r = result.assign(_diff=[diff(x) for _, x in result.iterrows()],
                      _metric=[label(m, labels) for m in result["metric"]],
                      _decision=[_DECISIONS[NOT_MEASURED] if _exp_unmeasured(x) else
                                 _DECISIONS.get(x["decision"], x["decision"]) for _, x in result.iterrows()])
    keys = [by] if by else []
    cols = {"_metric": "text", "variant": "label", **_key_roles(r, keys), "_diff": "text", "rel_lift": "lift",
            "p_adjusted": "p_value", "_decision": "text"}
    return table(r, columns=cols, groups="_metric", title=title, subtitle=subtitle,
                 notes=[text("Compared with {}; brackets: 95% confidence interval; p-values adjusted for multiple "
                             "comparisons.", label(result.attrs.get("control", "control"), labels))],
                 labels={"variant": "Variant", "_diff": "Difference vs control", "rel_lift": "Relative change",
                         "p_adjusted": "Adjusted p", "_decision": "Result", **(labels or {})})


def srm_table(srm_result, *, labels: dict | None = None, title=None, subtitle=None):
    """The per-variant table of an :func:`cxlib.experiments.srm` check, with its verdict as a note.

    Examples
    --------
    >>> srm_table(experiments.srm({"control": 5000, "b": 5100}))  # doctest: +SKIP
    """
    verdict = (f"Sample ratio mismatch (p = {p_value(srm_result.p_value)}): assignment or logging is broken."
               if srm_result.mismatch else
               f"Allocation check passed: counts match the plan (p = {p_value(srm_result.p_value)}).")
    return table(srm_result.table, columns={"variant": "label", "n": "count", "expected_n": "count",
                                            "observed_share": "share", "expected_share": "share"},
                 labels={"variant": "Variant", "n": "Units", "expected_n": "Expected units",
                         "observed_share": "Share", "expected_share": "Planned share", **(labels or {})},
                 options={"observed_share": {"digits": 1}, "expected_share": {"digits": 1}},
                 title=title, subtitle=subtitle, notes=[verdict])


_HEAD_KINDS = {"nps": ("points", {}), "csat": ("share", {}), "ces": ("number", {"digits": 2})}


def _head_cells(head: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, r in head.iterrows():
        kind, opts = _HEAD_KINDS.get(r["metric"], ("number", {}))
        ck = "pp" if kind == "share" else ("points" if kind == "points" else "signed")
        rows.append({"value": interval(r["value"], r["ci_lower"], r["ci_upper"], kind=kind, **opts),
                     "change": interval(r["change"], r["change_ci_lower"], r["change_ci_upper"], kind=ck,
                                        **({"digits": 2} if ck == "signed" else {})),
                     "verdict": ("No comparison (too few answers)" if _num(r["change"]) is None
                                 else "Beyond noise" if r["beyond_noise"] else "Within noise")})
    return pd.DataFrame(rows, index=head.index)


def headline_table(head: pd.DataFrame, *, labels: dict | None = None, title=None, subtitle=None):
    """A :func:`cxlib.scorecard.headline` result: this week's value and its change against each comparison.

    Examples
    --------
    >>> headline_table(scorecard.headline("data/sample/responses.csv"))  # doctest: +SKIP
    """
    h = head.join(_head_cells(head).add_prefix("_"))
    h = h.assign(_metric=[f"{_SCORE_NAMES.get(m, label(m, labels))} ({count(n)} answers)"
                          for m, n in zip(h["metric"], h["n"])])
    return table(h, columns={"_metric": "text", "comparison": "label", "_value": "text",
                             "_change": "text", "p_value": "p_value", "_verdict": "text"}, groups="_metric",
                 labels={"comparison": "Compared with", "_value": "This week",
                         "_change": "Change", "_verdict": "Verdict", **(labels or {})},
                 title=title, subtitle=subtitle, notes=[CI_NOTE])


def headline_figures(head: pd.DataFrame, *, labels: dict | None = None) -> Text:
    """Key-figure tiles of a :func:`cxlib.scorecard.headline` result (change against the prior weeks).

    Examples
    --------
    >>> headline_figures(scorecard.headline("data/sample/responses.csv"))  # doctest: +SKIP
    """
    figs = []
    for metric, g in head.groupby("metric", sort=False):
        r = g[g["comparison"] != "previous week"].iloc[0] if (g["comparison"] != "previous week").any() else g.iloc[0]
        kind, opts = _HEAD_KINDS.get(metric, ("number", {}))
        figs.append(figure(metric, r["value"], r["ci_lower"], r["ci_upper"], kind=kind, change=r["change"],
                           change_lo=r["change_ci_lower"], change_hi=r["change_ci_upper"],
                           versus=f"the {label(r['comparison']).lower()}", beyond_noise=r["beyond_noise"],
                           note=f"{count(r['n'])} answers", labels={**_SCORE_NAMES, **(labels or {})}, **opts))
    return key_figures(figs)


def segment_table(seg: pd.DataFrame, *, labels: dict | None = None, title=None, subtitle=None):
    """A :func:`cxlib.scorecard.segment_table` result: NPS per segment value, grouped by segment.

    Examples
    --------
    >>> segment_table(scorecard.segment_table("data/sample/responses.csv"))  # doctest: +SKIP
    """
    if seg.empty:  # a week without answers: segment_answer says so; no empty table
        return Text("")
    s = seg.assign(_segment=[label(v, labels) for v in seg["segment"]])
    return table(s, columns={"_segment": "text", "value": "label", "n": "count", "nps": "points"}, groups="_segment",
                 intervals={"nps": ("ci_lower", "ci_upper")}, title=title, subtitle=subtitle,
                 labels={"value": "Segment", "n": "Answers", "nps": "NPS", **(labels or {})})


def support_changes_table(changes: pd.DataFrame, *, labels: dict | None = None, title=None, subtitle=None):
    """A :func:`cxlib.scorecard.support_changes` result: this week's median response time vs usual.

    Examples
    --------
    >>> support_changes_table(scorecard.support_changes("data/sample/tickets.csv"))  # doctest: +SKIP
    """
    key = changes.columns[0]

    def verdict(r):
        if _num(r.get("p_value")) is None:
            return "No comparison (too few tickets)"
        if not r["beyond_noise"]:
            return "Within noise"
        return f"{'Slower' if r['ratio'] > 1 else 'Faster'} beyond noise ({number(r['ratio'], 1)}×)"

    c = changes.assign(_verdict=[verdict(r) for _, r in changes.iterrows()])
    return table(c, columns={key: "label", "median_hours": "duration", "prior_median_hours": "duration",
                             "slower_share": "share", "p_value": "p_value", "_verdict": "text"},
                 labels={"median_hours": "Median this week", "prior_median_hours": "Usual median",
                         "slower_share": "Slower than usual", "_verdict": "Verdict", **(labels or {})},
                 title=title, subtitle=subtitle)


def close_the_loop_table(loop: pd.DataFrame, *, score: str = "nps", labels: dict | None = None, title=None,
                         subtitle=None):
    """A :func:`cxlib.scorecard.close_the_loop` list: detractors to call back, with their comment.

    Five columns to fit a phone (customer, score, comment, themes, latest ticket); the answer time and
    touchpoint stay in the CSV.

    Examples
    --------
    >>> close_the_loop_table(scorecard.close_the_loop("data/sample/responses.csv"))  # doctest: +SKIP
    """
    who = "customer_id" if "customer_id" in loop.columns else "respondent_id"  # surveys without customer ids
    cols = {who: "text", score: "count", "comment": "text", "themes": "text", "latest_ticket": "label"}
    cols = {c: r for c, r in cols.items() if c in loop.columns}
    if "latest_ticket" in loop.columns:
        loop = loop.assign(latest_ticket=loop["latest_ticket"].replace({"none": "No ticket"}))
    return table(loop, columns=cols, title=title, subtitle=subtitle,
                 labels={"customer_id": "Customer", "respondent_id": "Respondent", "response_time": "Answered",
                         score: "Score",
                         "latest_ticket": "Latest ticket", **(labels or {})})


def response_times_table(times: pd.DataFrame, *, labels: dict | None = None, title=None, subtitle=None):
    """A :func:`cxlib.support.response_times` result: median and 90th percentile with intervals.

    Examples
    --------
    >>> response_times_table(support.response_times("data/sample/tickets.csv"))  # doctest: +SKIP
    """
    keys = _keys(times, "measure")
    unit = str(times["unit"].iloc[0]) if len(times) and "unit" in times else "hour"
    return table(times, columns={**_key_roles(times, keys), "n": "count", "p50": "duration", "p90": "duration"},
                 intervals={"p50": ("p50_ci_lower", "p50_ci_upper"), "p90": ("p90_ci_lower", "p90_ci_upper")},
                 options={"p50": {"unit": unit}, "p90": {"unit": unit}, **_period_opts(times, keys, "week")},
                 labels={"n": "Tickets", "p50": "Median", "p90": "90% answered within", **(labels or {})},
                 title=title, subtitle=subtitle)


def target_attainment_table(attain: pd.DataFrame, *, labels: dict | None = None, title=None, subtitle=None):
    """A :func:`cxlib.support.target_attainment` result: share of tickets within each channel's target.

    Examples
    --------
    >>> target_attainment_table(support.target_attainment(tickets, targets={"email": 12}))  # doctest: +SKIP
    """
    key = attain.columns[0]
    unit = str(attain["unit"].iloc[0]) if len(attain) and "unit" in attain else "hour"
    return table(attain, columns={key: "label", "target": "duration", "n": "count", "attainment": "share"},
                 intervals={"attainment": ("ci_lower", "ci_upper")}, options={"target": {"unit": unit}},
                 labels={"target": "Target", "n": "Tickets", "attainment": "Within target", **(labels or {})},
                 title=title, subtitle=subtitle)


def funnel_table(steps: pd.DataFrame, *, by: str | None = None, labels: dict | None = None, title=None,
                 subtitle=None):
    """A :func:`cxlib.journey.funnel` result: reached, step conversion with interval, overall, time taken.

    Examples
    --------
    >>> funnel_table(journey.funnel("data/sample/events.csv"))  # doctest: +SKIP
    """
    keys = _keys(steps, "step", by)
    cols = {**_key_roles(steps, keys), "step": "label", "reached": "count", "conversion": "share",
            "overall": "share", "median_hours_from_previous": "duration"}
    return table(steps, columns=cols, intervals={"conversion": ("ci_lower", "ci_upper")}, title=title,
                 subtitle=subtitle, keep_suppressed=("reached",), groups=keys[0] if len(keys) == 1 else None,
                 labels={"step": "Step", "reached": "Customers", "conversion": "From previous step",
                         "overall": "From first step", "median_hours_from_previous": "Median time from previous",
                         **(labels or {})})


def stage_table(stages: pd.DataFrame, *, labels: dict | None = None, title=None, subtitle=None):
    """A :func:`cxlib.journey.stage_metrics` result: NPS per journey stage, the weakest one marked in words.

    Examples
    --------
    >>> stage_table(journey.stage_metrics("data/sample/responses.csv"))  # doctest: +SKIP
    """
    key = stages.columns[0]
    weakest = stages["weakest"] if "weakest" in stages else pd.Series(False, index=stages.index)
    s = stages.assign(_stage=[label(v, labels) + (" (weakest)" if w else "") for v, w in zip(stages[key], weakest)])
    return table(s, columns={"_stage": "text", "n": "count", "nps": "points", "promoter_share": "share",
                             "detractor_share": "share"},
                 intervals={"nps": ("ci_lower", "ci_upper")}, title=title, subtitle=subtitle,
                 labels={"_stage": label(key, labels), "n": "Answers", "nps": "NPS", "promoter_share": "Promoters",
                         "detractor_share": "Detractors", **(labels or {})})


# ---- experiment_comparison page (additions for that notebook go below this line)

# the decision codes are the foundation's (cxlib.decisions, one definition); here only their words
from cxlib.decisions import NOT_INTERPRETABLE, NOT_MEASURED  # noqa: E402
_DECISIONS.setdefault(NOT_INTERPRETABLE, "Not interpretable: sample ratio mismatch")
# an arm without a measured unit for the metric: no estimate to call anything
_DECISIONS.setdefault(NOT_MEASURED, "Not measured: no units measured in an arm")


def _exp_unmeasured(r) -> bool:
    """Whether a comparison row has an arm without a measured unit (n = 0): it has no estimate, whatever
    its decision says (a failed allocation check makes every decision 'not interpretable')."""
    return _num(r.get("n_variant")) == 0 or _num(r.get("n_control")) == 0


def _exp_unmeasured_words(r, control: str = "control", labels: dict | None = None, *, first: bool = False) -> str:
    """'no units measured in Treatment' (plain text, escaped where it is used) for a row of
    :func:`_exp_unmeasured`; ``control`` is its label; ``first`` starts it with a capital."""
    none_v, none_c = _num(r.get("n_variant")) == 0, _num(r.get("n_control")) == 0
    arm = label(r["variant"], labels)
    s = (f"no units measured in {arm} or {control}" if none_v and none_c
         else f"no units measured in {arm if none_v else control}")
    return s[:1].upper() + s[1:] if first else s
