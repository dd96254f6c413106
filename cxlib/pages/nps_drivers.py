"""The NPS drivers page, computed: every result ``notebooks/nps_drivers.ipynb`` shows, and which optional
inputs it can use (no words: :mod:`cxlib.present.nps_drivers` says them).

One function per section of the notebook; each returns a small dataclass of DataFrames and note codes.

- :func:`setup`: the inputs the page can use (:func:`cxlib.pages.resolve`: demo tables beside the user's and
  defaults naming columns the data lacks are left out), the responses table, its metadata, the analysis
  date, and which optional columns are there (time, CSAT, CES, segments, drivers, comments). It computes
  no section.
- :func:`scores`: NPS over the whole data (and CSAT / CES when the data has them), NPS weighted to the
  customer base.
- :func:`trend`: each score per period and the latest period against the one before (:func:`latest_change`).
- :func:`segments`: NPS per segment value, each value against the rest (:func:`cxlib.metrics.segment_gaps`).
- :func:`drivers`: the key drivers with their quadrant, rating scale and warnings (note codes).
- :func:`odds`: the promoter / detractor odds ratios of the drivers.
- :func:`top_two`: whether the top driver is ahead of the second.
- :func:`comments`: the comment themes, their impact on NPS, trouble words and the examples of the theme
  whose commenters score lowest.
- :func:`proposed_themes`: themes proposed from the comments no taxonomy theme matches.
- :func:`summary`: what the page's answer and key figures read (the sections' results).

Each result is computed once per :class:`Setup` (the answer at the top of the page reads the sections'
results) and, when :func:`setup` was given ``publish``, its tables are published once under the page's
names (``nps_overall``, ``nps_trend``, ``csat_overall``, ``ces_overall``, ``nps_weighted``,
``nps_by_segment``, ``key_drivers``, ``driver_odds_ratios``, ``top_two_difference``, ``themes``,
``theme_impact``, ``trouble_words``, ``proposed_themes``). An optional part that cannot run keeps its
:class:`cxlib.data.CXDataError` (``problem``) for the page to say what the data lacks.

Examples
--------
>>> from cxlib.pages import nps_drivers as page
>>> s = page.setup(globals())  # in the notebook, after its parameters cell  # doctest: +SKIP
>>> page.scores(s).overall["nps"].iloc[0], page.drivers(s).quad["quadrant"].tolist()[:2]  # doctest: +SKIP
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import pandas as pd

from cxlib import data as cxdata
from cxlib import drivers as kd
from cxlib import metrics, periods, sources, themes
from cxlib.data import CXDataError
from cxlib.pages.inputs import Inputs, resolve
from cxlib.pages.once import once, published

__all__ = ["Setup", "Scores", "Trend", "Segments", "Drivers", "Odds", "TopTwo", "Comments", "Proposed", "Summary",
           "setup", "scores", "trend", "segments", "drivers", "odds", "top_two", "comments", "proposed_themes",
           "summary", "noted", "latest_change", "SKIP_CODES", "PARAMETERS"]

#: Why a segment column asked for is not used: ``not_a_column`` (the data has no such column),
#: ``personal_data`` (the source marks it personal: never a segment).
SKIP_CODES = ("not_a_column", "personal_data")

#: The notebook's parameters the page reads (its parameters cell).
PARAMETERS = ("responses", "score", "time", "csat", "ces", "drivers", "method", "segments", "subscriptions",
              "weight_by", "weights", "period", "tz", "week_start", "comment", "taxonomy", "n_themes", "bootstrap",
              "seed", "min_n", "as_of")


@dataclass
class Setup:
    """The inputs the page runs with (nothing of a section computed yet).

    ``values``: every parameter (after :func:`cxlib.pages.resolve`); ``inputs``: the resolution (its notes
    go to "About the data"); ``table`` / ``meta``: the responses and :func:`cxlib.sources.metadata` of them;
    ``as_of``: the analysis date; ``grain``: the trend period; ``score``: the recommend score column;
    ``prefix``: the driver columns' prefix; ``has_time``: the responses have the time column;
    ``other_scores``: ``{"csat" | "ces": column}`` for the scores the data has; ``segments_used`` /
    ``skipped``: the segment columns used, and those asked for but not used as ``[(column, code)]`` (a code
    of :data:`SKIP_CODES`); ``driver_cols``: the driver rating columns; ``comment``: the comment column
    (None without one).
    """

    values: dict
    inputs: Inputs
    table: Any
    meta: dict
    as_of: Any
    grain: str
    min_n: int
    score: str
    prefix: str
    has_time: bool
    other_scores: dict
    segments_used: list
    skipped: list
    driver_cols: list
    comment: str | None
    publish: Callable | None = None
    results: dict = field(default_factory=dict, repr=False)

    def per_period(self) -> dict:
        """The keyword arguments of every per-period result of the page."""
        v = self.values
        return dict(time=v["time"], period=self.grain, tz=v.get("tz"), week_start=v.get("week_start", "monday"),
                    min_n=self.min_n)


def _segments_of(table, asked, meta) -> tuple[list[str], list[tuple[str, str]]]:
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


def setup(parameters: Mapping[str, Any], *, publish: Callable | None = None, inputs: Inputs | None = None) -> Setup:
    """The page's inputs from the notebook's parameters (a notebook passes ``globals()``; only
    :data:`PARAMETERS` are read) and the usable inputs (default: :func:`cxlib.pages.resolve` of them).
    Reads the responses' columns and metadata only: each section computes its own results.

    ``publish`` (e.g. :func:`cxlib.reports.publish`) is called once per result table, with the page's
    table names, the first time a section computes it.

    Examples
    --------
    >>> s = setup({"responses": "data/sample/responses.csv", "score": "nps", "time": "response_time",
    ...            "period": "month", "min_n": 30, "segments": ["plan", "region"]})  # doctest: +SKIP
    >>> s.segments_used, s.driver_cols[:2]  # doctest: +SKIP
    (['plan', 'region'], ['drv_ease_of_use', 'drv_speed'])
    """
    inputs = resolve("nps_drivers", parameters) if inputs is None else inputs
    v = {**{k: parameters[k] for k in PARAMETERS if k in parameters}, **inputs.values}
    table = cxdata.as_table(v["responses"])
    meta = sources.metadata(table)
    as_of = cxdata.default_as_of(v.get("as_of"), v["responses"])
    prefix = v.get("drivers") or "drv_"
    others = {name: col for name in ("csat", "ces") if (col := cxdata.find_column(table, v.get(name)))}
    used, skipped = _segments_of(table, v.get("segments"), meta)
    declared = [d for d in meta.get("drivers") or [] if d in table.columns]
    driver_cols = [c for c in table.columns if c.startswith(prefix)] or declared
    return Setup(v, inputs, table, meta, as_of, v["period"], v["min_n"], v["score"], prefix,
                 bool(cxdata.find_column(table, v["time"])), others, used, skipped, driver_cols,
                 cxdata.find_column(table, v.get("comment")), publish)


# ------------------------------------------------------------------------------------------ 1. scores

@dataclass
class Scores:
    """The scores over the whole data: ``overall`` (:func:`cxlib.metrics.nps`), ``others``
    (``{"csat" | "ces": result}`` for the scores the data has), ``weighted``
    (:func:`cxlib.metrics.weighted_nps`, None without a customer base or weights), ``problem`` (why the
    weighting could not run, else None), ``trend`` (the NPS per period of :func:`trend`, whose span the
    score names; None without a time column), ``grain``, ``min_n``."""

    overall: pd.DataFrame
    others: dict
    weighted: pd.DataFrame | None
    problem: CXDataError | None
    trend: pd.DataFrame | None
    grain: str
    min_n: int


def _scores(s: Setup) -> Scores:
    v, table, as_of = s.values, s.table, s.as_of
    overall = published(s, metrics.nps(table, as_of=as_of, score=s.score, min_n=s.min_n), "nps_overall")
    moving = trend(s)
    fns = {"csat": metrics.csat, "ces": metrics.ces}
    others = {name: published(s, fns[name](table, as_of=as_of, score=col, min_n=s.min_n), f"{name}_overall")
              for name, col in s.other_scores.items()}
    weighted = problem = None
    weights, subscriptions = v.get("weights"), v.get("subscriptions")
    if weights or subscriptions is not None:
        try:
            weighted = published(s, metrics.weighted_nps(
                table, as_of=as_of, score=s.score, weights=weights or None,
                population=None if weights else subscriptions, columns=v.get("weight_by"), min_n=s.min_n),
                "nps_weighted")
        except CXDataError as exc:  # categories without customers, no shared column ...
            problem = exc
    return Scores(overall, others, weighted, problem, moving.trend, s.grain, s.min_n)


def scores(s: Setup) -> Scores:
    """Section 1: NPS with its interval (and CSAT / CES when the data has them) and NPS weighted to the
    customer base; published as ``nps_overall``, ``csat_overall``, ``ces_overall`` and ``nps_weighted``.

    Examples
    --------
    >>> scores(s).overall[["nps", "ci_lower", "ci_upper", "n"]]  # doctest: +SKIP
    """
    return once(s, "scores", _scores)


# ------------------------------------------------------------------------------------------ 2. trend

@dataclass
class Trend:
    """Each score per period: ``trend`` (NPS, None without a time column), ``others`` (``{"csat" | "ces":
    trend or None}``), ``changes`` (``{metric: latest_change(...)}``, None with fewer than two shown
    periods), ``grain``."""

    trend: pd.DataFrame | None
    others: dict
    changes: dict
    grain: str

    @property
    def shown(self) -> pd.DataFrame | None:
        """The NPS trend when at least two periods have enough answers to draw, else None."""
        t = self.trend
        return t if t is not None and int((~t["suppressed"].astype(bool)).sum()) >= 2 else None


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
    end = periods.period_end(cur["period"], grain)
    if "complete" in t:  # the analysis decided (its period ended by as_of and by the table's last answer)
        complete = bool(cur["complete"])
    else:
        complete = as_of is None or end <= pd.Timestamp(as_of) + pd.Timedelta(seconds=1)
    at = as_of if as_of is not None else trend.attrs.get("as_of")
    holds = periods.holds(cur["period"], grain, at)
    return {"period": pd.Timestamp(cur["period"]), "previous": pd.Timestamp(prev["period"]), "value": cur[metric],
            "ci_lower": cur["ci_lower"], "ci_upper": cur["ci_upper"], "n": cur["n"],
            "previous_value": prev[metric], "change": ch["change"], "change_ci_lower": ch["ci_lower"],
            "change_ci_upper": ch["ci_upper"], "p_value": ch["p_value"], "beyond_noise": ch["beyond_noise"],
            "complete": bool(complete), "in_progress": not complete and holds}


def _trend(s: Setup) -> Trend:
    table, as_of, per = s.table, s.as_of, s.per_period()
    nps = published(s, metrics.nps(table, as_of=as_of, score=s.score, **per), "nps_trend") if s.has_time else None
    changes = {"nps": latest_change(nps, metric="nps", grain=s.grain, as_of=as_of)}
    fns = {"csat": metrics.csat, "ces": metrics.ces}
    others = {}
    for name, col in s.other_scores.items():
        others[name] = fns[name](table, as_of=as_of, score=col, **per) if nps is not None else None
        changes[name] = latest_change(others[name], metric=name, grain=s.grain, as_of=as_of)
    return Trend(nps, others, changes, s.grain)


def trend(s: Setup) -> Trend:
    """Section 2: NPS (and CSAT / CES) per period and the latest period against the one before; published
    as ``nps_trend``.

    Examples
    --------
    >>> trend(s).changes["nps"]["beyond_noise"]  # doctest: +SKIP
    """
    return once(s, "trend", _trend)


# ------------------------------------------------------------------------------------------ 3. segments

@dataclass
class Segments:
    """NPS per segment value: ``by_segment`` (``{column: metrics.nps(..., by=column)}``), ``gaps``
    (:func:`cxlib.metrics.segment_gaps`, None without a usable segment column), ``skipped``
    (``[(column, code)]``, a code of :data:`SKIP_CODES`)."""

    by_segment: dict
    gaps: pd.DataFrame | None
    skipped: list

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


def _segments(s: Setup) -> Segments:
    by_segment = {c: metrics.nps(s.table, as_of=s.as_of, score=s.score, by=c, min_n=s.min_n)
                  for c in s.segments_used}
    gaps = published(s, metrics.segment_gaps(by_segment), "nps_by_segment") if by_segment else None
    return Segments(by_segment, gaps, list(s.skipped))


def segments(s: Setup) -> Segments:
    """Section 3: each segment value's NPS against the rest of the answers of its column; published as
    ``nps_by_segment``.

    Examples
    --------
    >>> segments(s).gaps[["segment", "value", "gap", "beyond_noise"]]  # doctest: +SKIP
    """
    return once(s, "segments", _segments)


# ------------------------------------------------------------------------------------------ 4. drivers

@dataclass
class Drivers:
    """Key drivers: ``driver_cols``, ``quad`` (:func:`cxlib.drivers.quadrant` of the key drivers; None
    with fewer than two driver columns or when the analysis could not run), ``scale`` (the ratings' scale,
    :func:`cxlib.drivers.rating_scale`), ``warnings`` (note codes ``drivers_overlap``,
    ``halo_answers_common``), ``problem`` (why the analysis could not run, else None), ``prefix``."""

    driver_cols: list
    quad: pd.DataFrame | None = None
    scale: tuple | None = None
    warnings: list = field(default_factory=list)
    problem: CXDataError | None = None
    prefix: str = "drv_"


def _options(s: Setup) -> dict:
    """The key-driver options every driver result of the page shares."""
    v = s.values
    return dict(method=v.get("method", "relative_weights"), bootstrap=v.get("bootstrap", 200),
                seed=v.get("seed", 20261124))


def _drivers(s: Setup) -> Drivers:
    out = Drivers(list(s.driver_cols), prefix=s.prefix)
    if len(s.driver_cols) < 2:
        return out
    scale = s.meta.get("driver_scale") if s.driver_cols == s.meta.get("drivers") else None
    try:
        result = kd.key_drivers(s.table, as_of=s.as_of, outcome=s.score, drivers=s.driver_cols, min_n=s.min_n,
                                **_options(s))
    except CXDataError as exc:  # too few complete answers, a constant rating ...
        out.problem = exc
        return out
    out.quad = published(s, kd.quadrant(result), "key_drivers")
    out.scale = kd.rating_scale(out.quad, scale)
    out.warnings = list(result.attrs.get("warnings") or [])
    return out


def drivers(s: Setup) -> Drivers:
    """Section 4: the key drivers with their importance, quadrant and rating scale; published as
    ``key_drivers``.

    Examples
    --------
    >>> drivers(s).quad[["driver", "importance", "quadrant"]]  # doctest: +SKIP
    """
    return once(s, "drivers", _drivers)


@dataclass
class Odds:
    """Promoter / detractor odds ratios: ``table`` (:func:`cxlib.drivers.promoter_detractor_models`),
    ``drivers_ran`` (the key-driver analysis ran: without it there are no odds), ``problem``, ``prefix``."""

    drivers_ran: bool
    table: pd.DataFrame | None = None
    problem: CXDataError | None = None
    prefix: str = "drv_"


def _odds(s: Setup) -> Odds:
    if drivers(s).quad is None:
        return Odds(False, prefix=s.prefix)
    try:
        return Odds(True, published(s, kd.promoter_detractor_models(s.table, as_of=s.as_of, outcome=s.score,
                                                               drivers=s.driver_cols), "driver_odds_ratios"),
                    prefix=s.prefix)
    except CXDataError as exc:  # too few promoters or detractors for the drivers
        return Odds(True, problem=exc, prefix=s.prefix)


def odds(s: Setup) -> Odds:
    """Which drivers separate promoters from detractors (two logistic regressions on the driver ratings);
    published as ``driver_odds_ratios``. Runs only when :func:`drivers` did."""
    return once(s, "odds", _odds)


@dataclass
class TopTwo:
    """The top driver against the second: ``table`` (:func:`cxlib.drivers.top_two_difference`),
    ``drivers_ran``, ``problem``, ``prefix``."""

    drivers_ran: bool
    table: pd.DataFrame | None = None
    problem: CXDataError | None = None
    prefix: str = "drv_"


def _top_two(s: Setup) -> TopTwo:
    if drivers(s).quad is None:
        return TopTwo(False, prefix=s.prefix)
    try:
        return TopTwo(True, published(s, kd.top_two_difference(s.table, as_of=s.as_of, outcome=s.score,
                                                          drivers=s.driver_cols, **_options(s)),
                                 "top_two_difference"), prefix=s.prefix)
    except CXDataError as exc:
        return TopTwo(True, problem=exc, prefix=s.prefix)


def top_two(s: Setup) -> TopTwo:
    """Whether the top driver's share of the explained variation is ahead of the second's (seeded
    bootstrap); published as ``top_two_difference``. Runs only when :func:`drivers` did."""
    return once(s, "top_two", _top_two)


# ------------------------------------------------------------------------------------------ 5. comments

@dataclass
class Comments:
    """The comments: ``comment`` (the column, None without one), ``counts``
    (:func:`cxlib.themes.theme_counts`), ``impact`` (:func:`cxlib.themes.theme_impact`), ``trouble``
    (:func:`cxlib.themes.trouble_word_counts`), ``worst_theme`` (the shown theme whose commenters score
    lowest, a row of ``impact``) and its ``examples``; ``score`` (the score column)."""

    comment: str | None
    score: str
    counts: pd.DataFrame | None = None
    impact: pd.DataFrame | None = None
    trouble: pd.DataFrame | None = None
    worst_theme: pd.Series | None = None
    examples: pd.DataFrame | None = None

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


def _comments(s: Setup) -> Comments:
    col, out = s.comment, Comments(s.comment, s.score)
    if not col:
        return out
    as_of, taxonomy, min_n = s.as_of, s.values.get("taxonomy"), s.min_n
    out.counts = published(s, themes.theme_counts(s.table, as_of=as_of, comment=col, taxonomy=taxonomy, min_n=min_n),
                      "themes")
    out.impact = published(s, themes.theme_impact(s.table, as_of=as_of, comment=col, score=s.score, taxonomy=taxonomy,
                                             min_n=min_n), "theme_impact")
    out.trouble = published(s, themes.trouble_word_counts(s.table, as_of=as_of, comment=col, taxonomy=taxonomy),
                       "trouble_words")
    shown = out.impact_shown
    if shown is not None:
        out.worst_theme = shown.iloc[0]
        out.examples = themes.example_comments(s.table, as_of=as_of, theme=out.worst_theme["theme"], comment=col,
                                               keep=(s.score,), taxonomy=taxonomy, n=5)
    return out


def comments(s: Setup) -> Comments:
    """Section 5: what customers write about, which themes go with a lower score, and the comments of the
    theme with the lowest NPS; published as ``themes``, ``theme_impact`` and ``trouble_words``.

    Examples
    --------
    >>> comments(s).impact[["theme", "impact", "p_value"]]  # doctest: +SKIP
    """
    return once(s, "comments", _comments)


@dataclass
class Proposed:
    """Themes proposed from the comments no taxonomy theme matches: ``table``
    (:func:`cxlib.themes.propose_themes`, None without a comment column), ``comment``, ``score``."""

    comment: str | None
    score: str
    table: pd.DataFrame | None = None


def _proposed(s: Setup) -> Proposed:
    if not s.comment:
        return Proposed(None, s.score)
    v = s.values
    table = published(s, themes.propose_themes(s.table, as_of=s.as_of, comment=s.comment, score=s.score,
                                          taxonomy=v.get("taxonomy"), n_themes=v.get("n_themes", 6),
                                          min_size=s.min_n), "proposed_themes")
    return Proposed(s.comment, s.score, table)


def proposed_themes(s: Setup) -> Proposed:
    """What the comments no theme matches talk about (TF-IDF and NMF, seeded); published as
    ``proposed_themes``."""
    return once(s, "proposed", _proposed)


# ------------------------------------------------------------------------------------------ the answer

@dataclass
class Summary:
    """What the page's answer and key figures read: the results of :func:`scores`, :func:`trend`,
    :func:`segments`, :func:`drivers` and :func:`comments` (each computed once per setup)."""

    scores: Scores
    trend: Trend
    segments: Segments
    drivers: Drivers
    comments: Comments


def summary(s: Setup) -> Summary:
    """The page's answer: the score, its weighted value, the latest change, the weakest segment, the
    strongest driver and the most mentioned themes (the sections' results, computed once).

    Examples
    --------
    >>> summary(s).segments.weakest  # doctest: +SKIP
    """
    return Summary(scores(s), trend(s), segments(s), drivers(s), comments(s))


def noted(s: Setup) -> list:
    """The results whose data notes the page lists under "About the data", in order: the inputs, NPS, its
    trend, NPS per segment and the key drivers (each when the page has it)."""
    moving, seg, drv = trend(s), segments(s), drivers(s)
    return [s.inputs, scores(s).overall, *([moving.trend] if moving.trend is not None else []),
            *seg.by_segment.values(), *([drv.quad] if drv.quad is not None else [])]
