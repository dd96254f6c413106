"""The NPS drivers page, computed: every number the notebook ``nps_drivers`` shows, and which optional
inputs are usable (no words: :mod:`cxlib.present.nps_drivers` says them).

:func:`compute` runs the page's analyses once on the usable inputs (:func:`cxlib.pages.resolve`):
the scores and their trend (NPS, and CSAT / CES when the data has them), the latest period against the
one before (:func:`latest_change`), each segment value against the rest
(:func:`cxlib.metrics.segment_gaps`), NPS weighted to the customer base, the key drivers with their
quadrant, rating scale and warnings (note codes), the promoter / detractor odds, the top two drivers,
the comment themes and proposed themes. An optional part that cannot run keeps its
:class:`cxlib.data.CXDataError` (``problems``) for the page to say what the data lacks.

Examples
--------
>>> from cxlib.pages import nps_drivers as page
>>> res = page.compute(globals())  # in the notebook, after its parameters cell  # doctest: +SKIP
>>> res.overall["nps"].iloc[0], res.quad["quadrant"].tolist()[:2]  # doctest: +SKIP
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import pandas as pd

from cxlib import data as cxdata
from cxlib import drivers as kd
from cxlib import metrics, sources, themes
from cxlib.data import CXDataError
from cxlib.pages.inputs import Inputs, resolve

__all__ = ["NPSDriversPage", "compute", "latest_change", "publish_tables", "SKIP_CODES", "PARAMETERS"]

#: Why a segment column asked for is not used: ``not_a_column`` (the data has no such column),
#: ``personal_data`` (the source marks it personal: never a segment).
SKIP_CODES = ("not_a_column", "personal_data")


@dataclass
class NPSDriversPage:
    """Everything the NPS drivers page shows. ``None`` marks a part whose input is absent; ``problems``
    holds the error of a part whose input is there but cannot carry it (``weighting``, ``drivers``,
    ``odds``, ``top_two``)."""

    inputs: Any
    table: Any
    meta: dict
    as_of: Any
    grain: str
    min_n: int
    prefix: str
    score: str
    overall: pd.DataFrame
    trend: pd.DataFrame | None = None
    #: CSAT / CES when the data has them: ``{metric: (overall, trend)}``.
    scores: dict = field(default_factory=dict)
    #: ``{metric: latest_change(...)}`` for NPS and each score in ``scores`` (None: fewer than two periods).
    changes: dict = field(default_factory=dict)
    weighted: pd.DataFrame | None = None
    by_segment: dict = field(default_factory=dict)
    gaps: pd.DataFrame | None = None
    #: Segment columns asked for but not used: ``[(column, code)]``, a code of :data:`SKIP_CODES`.
    skipped: list = field(default_factory=list)
    driver_cols: list = field(default_factory=list)
    scale: tuple | None = None
    quad: pd.DataFrame | None = None
    #: The key-driver warnings (note codes ``drivers_overlap``, ``halo_answers_common``).
    warnings: list = field(default_factory=list)
    odds: pd.DataFrame | None = None
    top_two: pd.DataFrame | None = None
    comment: str | None = None
    counts: pd.DataFrame | None = None
    impact: pd.DataFrame | None = None
    trouble: pd.DataFrame | None = None
    proposed: pd.DataFrame | None = None
    #: The shown theme whose commenters score lowest (a row of ``impact``) and its example comments.
    worst_theme: pd.Series | None = None
    examples: pd.DataFrame | None = None
    problems: dict = field(default_factory=dict)
    #: The tables the page publishes, ``{name: table}``, in the order they are computed.
    tables: dict = field(default_factory=dict)

    @property
    def weakest(self) -> pd.Series | None:
        """The segment value most below the rest beyond noise (a row of ``gaps``), or None."""
        if self.gaps is None:
            return None
        low = self.gaps[self.gaps["beyond_noise"] & (self.gaps["gap"] < 0)]
        return None if low.empty else low.loc[low["gap"].idxmin()]

    @property
    def weakest_composition(self) -> pd.DataFrame | None:
        """The NPS mix of the segment column that holds :attr:`weakest` (None when no value is lower)."""
        w = self.weakest
        return None if w is None else self.by_segment[w["segment"]]

    @property
    def trend_shown(self) -> pd.DataFrame | None:
        """The NPS trend when at least two periods have enough answers to draw, else None."""
        t = self.trend
        return t if t is not None and int((~t["suppressed"].astype(bool)).sum()) >= 2 else None

    @property
    def themes_shown(self) -> pd.DataFrame | None:
        """Theme counts when some theme has comments and enough of them to show, else None."""
        c = self.counts
        return c if c is not None and bool(((c["mentions"] > 0) & ~c["suppressed"]).any()) else None

    @property
    def impact_shown(self) -> pd.DataFrame | None:
        """Theme impact of the themes with enough comments to compare (None without comments or when none has)."""
        if self.impact is None:
            return None
        shown = self.impact[~self.impact["suppressed"].astype(bool)]
        return None if shown.empty else shown


def _period_end(p, grain: str) -> pd.Timestamp:
    """The first moment after the period that starts ``p``."""
    p = pd.Timestamp(p)
    g = (grain or "month").lower()
    if g in ("week", "day"):
        return p + pd.Timedelta(days=7 if g == "week" else 1)
    freq = {"month": "M", "quarter": "Q", "year": "Y"}.get(g, "M")
    return p.to_period(freq).end_time.normalize() + pd.Timedelta(days=1)


def latest_change(trend: pd.DataFrame | None, *, metric: str = "nps", grain: str = "month", as_of=None,
                  alpha: float = 0.05) -> dict | None:
    """The latest period with enough answers against the one before it (a :mod:`cxlib.metrics` result with
    ``period=``): the estimates, the change with its 95% interval and two-sided test
    (:func:`cxlib.stats.score_change`), whether the latest period is complete (the trend's ``complete``
    column when it has one, else ended by ``as_of``) and, if not, whether it holds the analysis date
    (``in_progress``; ``as_of`` defaults to the trend's ``attrs['as_of']``). None with fewer than two shown
    periods.

    Examples
    --------
    >>> latest_change(metrics.nps("data/sample/responses.csv", period="month"))["beyond_noise"]  # doctest: +SKIP
    False
    """
    if trend is None or "period" not in trend:
        return None
    t = trend[~trend["suppressed"].astype(bool)].sort_values("period") if "suppressed" in trend else trend
    if len(t) < 2:
        return None
    cur, prev = t.iloc[-1], t.iloc[-2]
    ch = metrics.score_change(metric, cur, prev, alpha=alpha)
    end = _period_end(cur["period"], grain)
    if "complete" in t:  # the analysis decided (its period ended by as_of and by the table's last answer)
        complete = bool(cur["complete"])
    else:
        complete = as_of is None or end <= pd.Timestamp(as_of) + pd.Timedelta(seconds=1)
    at = as_of if as_of is not None else trend.attrs.get("as_of")
    holds = at is None or pd.isna(cur["period"]) or pd.Timestamp(cur["period"]) <= pd.Timestamp(at) < end
    return {"period": pd.Timestamp(cur["period"]), "previous": pd.Timestamp(prev["period"]), "value": cur[metric],
            "ci_lower": cur["ci_lower"], "ci_upper": cur["ci_upper"], "n": cur["n"],
            "previous_value": prev[metric], "change": ch["change"], "change_ci_lower": ch["ci_lower"],
            "change_ci_upper": ch["ci_upper"], "p_value": ch["p_value"], "beyond_noise": ch["beyond_noise"],
            "complete": bool(complete), "in_progress": not complete and holds}


def _segments(table, asked, meta) -> tuple[list[str], list[tuple[str, str]]]:
    """The usable segment columns (as the table names them, once each) and the skipped ones with a code."""
    cols, skipped = [], []
    for s in asked or []:
        c = cxdata.find_column(table, s)
        if c is None:
            skipped.append((s, "not_a_column"))
        elif c in (meta.get("personal") or []):
            skipped.append((s, "personal_data"))
        elif c not in cols:
            cols.append(c)
    return cols, skipped


#: The notebook's parameters the page reads (its parameters cell).
PARAMETERS = ("responses", "score", "time", "csat", "ces", "drivers", "method", "segments", "subscriptions",
              "weight_by", "weights", "period", "tz", "week_start", "comment", "taxonomy", "n_themes", "bootstrap",
              "seed", "min_n", "as_of")


def compute(parameters: Mapping[str, Any], inputs: Inputs | None = None) -> NPSDriversPage:
    """Every result of the NPS drivers page from the notebook's parameters (a notebook passes
    ``globals()``; only :data:`PARAMETERS` are read) and the usable inputs (default:
    :func:`cxlib.pages.resolve` of them: demo tables beside the user's and defaults naming columns the
    data lacks are left out, with a note each in ``res.inputs``).

    Examples
    --------
    >>> res = compute({"responses": "data/sample/responses.csv", "score": "nps", "time": "response_time",
    ...                "period": "month", "min_n": 30})  # doctest: +SKIP
    >>> res.gaps[["segment", "value", "gap", "beyond_noise"]]  # doctest: +SKIP
    """
    inputs = resolve("nps_drivers", parameters) if inputs is None else inputs
    v = {**{k: parameters[k] for k in PARAMETERS if k in parameters}, **inputs.values}
    responses, score, time, period = v["responses"], v["score"], v["time"], v["period"]
    min_n, tz, week_start = v["min_n"], v.get("tz"), v.get("week_start", "monday")
    table = cxdata.as_table(responses)
    meta = sources.metadata(table)
    as_of = cxdata.default_as_of(v.get("as_of"), responses)
    prefix = v.get("drivers") or "drv_"
    per = dict(time=time, period=period, tz=tz, week_start=week_start, min_n=min_n)
    res = NPSDriversPage(inputs=inputs, table=table, meta=meta, as_of=as_of, grain=period, min_n=min_n, prefix=prefix,
                         score=score,
                         overall=metrics.nps(table, as_of=as_of, score=score, min_n=min_n))
    res.tables["nps_overall"] = res.overall
    if cxdata.find_column(table, time):
        res.trend = res.tables["nps_trend"] = metrics.nps(table, as_of=as_of, score=score, **per)
    res.changes["nps"] = latest_change(res.trend, metric="nps", grain=period, as_of=as_of)
    for name, fn in (("csat", metrics.csat), ("ces", metrics.ces)):
        col = cxdata.find_column(table, v.get(name))
        if col:
            o = res.tables[f"{name}_overall"] = fn(table, as_of=as_of, score=col, min_n=min_n)
            t = fn(table, as_of=as_of, score=col, **per) if res.trend is not None else None
            res.scores[name] = (o, t)
            res.changes[name] = latest_change(t, metric=name, grain=period, as_of=as_of)
    weights, subscriptions = v.get("weights"), v.get("subscriptions")
    if weights or subscriptions is not None:
        try:
            res.weighted = res.tables["nps_weighted"] = metrics.weighted_nps(
                table, as_of=as_of, score=score, weights=weights or None,
                population=None if weights else subscriptions, columns=v.get("weight_by"), min_n=min_n)
        except CXDataError as exc:  # categories without customers, no shared column ...
            res.problems["weighting"] = exc
    seg_cols, res.skipped = _segments(table, v.get("segments"), meta)
    res.by_segment = {c: metrics.nps(table, as_of=as_of, score=score, by=c, min_n=min_n) for c in seg_cols}
    if res.by_segment:
        res.gaps = res.tables["nps_by_segment"] = metrics.segment_gaps(res.by_segment)
    _drivers(res, table, v, score=score)
    _comments(res, table, v, score=score)
    return res


def _drivers(res: NPSDriversPage, table, v: dict, *, score: str) -> None:
    """Key drivers with their quadrant and rating scale, the promoter / detractor odds and the top two."""
    meta, as_of, prefix = res.meta, res.as_of, res.prefix
    declared = [d for d in meta.get("drivers") or [] if d in table.columns]
    res.driver_cols = [c for c in table.columns if c.startswith(prefix)] or declared
    if len(res.driver_cols) < 2:
        return
    scale = meta.get("driver_scale") if res.driver_cols == meta.get("drivers") else None
    method, bootstrap, seed = v.get("method", "relative_weights"), v.get("bootstrap", 200), v.get("seed", 20261124)
    try:
        result = kd.key_drivers(table, as_of=as_of, outcome=score, drivers=res.driver_cols, method=method,
                                bootstrap=bootstrap, seed=seed, min_n=res.min_n)
    except CXDataError as exc:  # too few complete answers, a constant rating ...
        res.problems["drivers"] = exc
        return
    res.quad = res.tables["key_drivers"] = kd.quadrant(result)
    res.scale = kd.rating_scale(res.quad, scale)
    res.warnings = list(result.attrs.get("warnings") or [])
    try:
        res.odds = res.tables["driver_odds_ratios"] = kd.promoter_detractor_models(
            table, as_of=as_of, outcome=score, drivers=res.driver_cols)
    except CXDataError as exc:  # too few promoters or detractors for the drivers
        res.problems["odds"] = exc
    try:
        res.top_two = res.tables["top_two_difference"] = kd.top_two_difference(
            table, as_of=as_of, outcome=score, drivers=res.driver_cols, method=method, bootstrap=bootstrap, seed=seed)
    except CXDataError as exc:
        res.problems["top_two"] = exc


def _comments(res: NPSDriversPage, table, v: dict, *, score: str) -> None:
    """Themes of the comments, their impact on NPS, trouble words, proposed themes and the examples of the
    theme with the lowest NPS."""
    res.comment = col = cxdata.find_column(table, v.get("comment"))
    if not col:
        return
    as_of, taxonomy, min_n = res.as_of, v.get("taxonomy"), res.min_n
    res.counts = res.tables["themes"] = themes.theme_counts(table, as_of=as_of, comment=col, taxonomy=taxonomy,
                                                            min_n=min_n)
    res.impact = res.tables["theme_impact"] = themes.theme_impact(table, as_of=as_of, comment=col, score=score,
                                                                  taxonomy=taxonomy, min_n=min_n)
    res.trouble = res.tables["trouble_words"] = themes.trouble_word_counts(table, as_of=as_of, comment=col,
                                                                           taxonomy=taxonomy)
    res.proposed = res.tables["proposed_themes"] = themes.propose_themes(
        table, as_of=as_of, comment=col, score=score, taxonomy=taxonomy, n_themes=v.get("n_themes", 6),
        min_size=min_n)
    shown = res.impact_shown
    if shown is not None:
        res.worst_theme = shown.iloc[0]
        res.examples = themes.example_comments(table, as_of=as_of, theme=res.worst_theme["theme"], comment=col,
                                               keep=(score,), taxonomy=taxonomy, n=5)


def publish_tables(res: NPSDriversPage, publish: Callable) -> dict:
    """Publish every table the page computed (``publish(table, name)``, e.g. :func:`cxlib.reports.publish`)
    under its name; returns ``res.tables``.

    Examples
    --------
    >>> publish_tables(res, publish)  # doctest: +SKIP
    """
    for name, t in res.tables.items():
        publish(t, name)
    return res.tables
