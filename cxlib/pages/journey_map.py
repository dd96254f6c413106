"""The journey map page, computed: which tables are usable, the map, the friction list and the headline.

One function per section of ``notebooks/journey_map.ipynb``; numbers and note codes only (DESIGN.md,
"Layers"): :mod:`cxlib.present.journey_map` turns them into words and :mod:`cxlib.plots.journey` into the
funnel plot.

- :func:`setup`: the inputs the page can use (only the user's data), the journey file checked (one clear
  error per mistake) and its hash, published as ``config_files`` (the manifest copies it), and the notes on
  tables the journey needs that were not given. Nothing heavy is computed.
- :func:`journey_map`: the map, one row per stage (:func:`cxlib.journey.journey_map`), and the rows the
  headline names; published as ``journey_map``.
- :func:`friction`: the friction list (stages short of target beyond noise, ranked) and the funnel plot's
  limit lines; published as ``friction``.

Each result is computed once per :class:`Setup` and, when :func:`setup` was given ``publish``, published
the first time.

Examples
--------
>>> from cxlib.pages import journey_map as page
>>> s = page.setup({"events": "data/sample/events.csv", "responses": "data/sample/responses.csv",
...                 "tickets": None, "subscriptions": None})  # doctest: +SKIP
>>> page.journey_map(s).map[["stage", "customers", "target_status"]]  # doctest: +SKIP
>>> page.friction(s).friction[["rank", "stage", "friction"]]  # doctest: +SKIP
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import pandas as pd

from cxlib import data as cxdata
from cxlib import journey
from cxlib.notes import note
from cxlib.pages.once import once, published
from cxlib.pages.inputs import Inputs, resolve

__all__ = ["PARAMETERS", "Setup", "Stages", "Friction", "JourneyPage", "setup", "journey_map", "friction", "build",
           "stage", "headline_picks", "MAP_COLUMNS", "FRICTION_COLUMNS", "CONFIG_COLUMNS", "TABLES"]

#: The page's parameters and their defaults (the notebook's parameters cell).
PARAMETERS = {"events": "data/sample/events.csv", "responses": "data/sample/responses.csv",
              "tickets": "data/sample/tickets.csv", "subscriptions": "data/sample/subscriptions.csv",
              "journey": None, "as_of": None, "period": "month"}
#: The data tables of the page, in the order the notes name them.
TABLES = ("events", "responses", "tickets", "subscriptions")
#: The columns of the published ``config_files`` table (the manifest copies it): file name only, sha256.
CONFIG_COLUMNS = ["name", "sha256"]
#: Per-stage metrics with a change from the previous period (conversion, promise, NPS, CSAT, CES).
_CHANGES = [f"{m}_change{x}" for m in journey.CHANGE_METRICS
            for x in ("_period", "", "_ci_lower", "_ci_upper", "_p", "_q", "_beyond_noise")]
#: The columns of the published map (one row per stage).
MAP_COLUMNS = [
    "stage", "position", "owner", "status", "customers", "previous", "conversion", "conversion_ci_lower",
    "conversion_ci_upper", "median_days", "median_ci_lower", "median_ci_upper", "target_kind", "target",
    "within_days", "promise_n", "promise_k", "promise_share", "promise_ci_lower", "promise_ci_upper",
    "control_limit", "target_status", "shortfall", "friction", "rank", "rank_ci_lower", "rank_ci_upper",
    "answers", "respondents", "response_rate", "response_rate_ci_lower", "response_rate_ci_upper", "nps",
    "nps_ci_lower", "nps_ci_upper", "nps_gap", "nps_gap_ci_lower", "nps_gap_ci_upper", "csat", "csat_ci_lower",
    "csat_ci_upper", "ces", "ces_ci_lower", "ces_ci_upper", "top_theme", "top_theme_share", "top_theme_ci_lower",
    "top_theme_ci_upper", "churn_touch", "churn_hr", "churn_hr_ci_lower", "churn_hr_ci_upper", "churn_p",
    "change_period", *_CHANGES]
#: The columns of the published friction list (stages with friction, ranked).
FRICTION_COLUMNS = ["rank", "rank_ci_lower", "rank_ci_upper", "stage", "owner", "target_kind", "target",
                    "promise_n", "promise_share", "promise_ci_lower", "promise_ci_upper", "control_limit",
                    "friction", "top_theme", "quote"]


@dataclass
class Setup:
    """The inputs the page runs with: ``values`` (every parameter, after :func:`cxlib.pages.resolve`),
    ``inputs`` (the resolution), ``tables`` (each data table, None when not given), ``spec`` (the journey
    file checked: :func:`cxlib.journey.load_journey`), ``notes`` (codes: the inputs' and one
    ``journey_table_not_given`` per table the journey needs that was not given)."""

    values: dict
    inputs: Inputs
    tables: dict
    spec: dict
    notes: list
    publish: Callable | None = None
    results: dict = field(default_factory=dict, repr=False)

    @property
    def config_name(self) -> str:
        """The journey file's name, never a path of the machine."""
        path = self.spec["path"]
        return Path(str(path).replace("\\", "/")).name if path else "journey (given as a mapping)"

    @property
    def sha256(self) -> str:
        return self.spec["sha256"]

    @property
    def stages(self) -> list:
        return [st["name"] for st in self.spec["stages"]]


def setup(params: Mapping[str, Any], *, publish: Callable | None = None) -> Setup:
    """The page's inputs from its parameters (a notebook passes ``globals()``): only the user's data, the
    journey file checked, its name and hash published as ``config_files``. Nothing heavy is computed.

    Raises
    ------
    cxlib.data.CXDataError
        A mistake in the journey file (one clear error per mistake), or a parameter naming what is missing.

    Examples
    --------
    >>> s = setup({"events": None, "responses": "data/sample/responses.csv", "tickets": None,
    ...            "subscriptions": None})  # doctest: +SKIP
    >>> s.config_name, len(s.sha256)  # doctest: +SKIP
    ('journey.yaml', 64)
    """
    values = {k: params.get(k, v) for k, v in PARAMETERS.items()}
    inputs = resolve("journey_map", values)
    values.update(inputs.values)
    tables = {k: values[k] or None for k in TABLES}
    spec = journey.load_journey(values["journey"] or None)
    needed = {t for st in spec["stages"]
              for t, has in (("events", st["events"]), ("responses", st["touchpoint"]),
                             ("tickets", st["ticket_channels"])) if has and tables[t] is None}
    if tables["subscriptions"] is None:
        needed.add("subscriptions")
    notes = list(inputs.notes) + [note("journey_table_not_given", table=t) for t in TABLES if t in needed]
    s = Setup(values, inputs, tables, spec, notes, publish)
    # the journey file's name and hash beside the numbers (and, through the manifest, beside every report):
    # a changed journey never silently breaks a trend
    published(s, pd.DataFrame({"name": [s.config_name], "sha256": [s.sha256]}, columns=CONFIG_COLUMNS), "config_files")
    return s


# ------------------------------------------------------------------------------------------ 1. the map

class _MapFacts:
    """What a result holding the map (``map``) tells about the journey: its file's hash, the analysis date
    and the stages in order."""

    @property
    def sha256(self) -> str:
        return self.map.attrs["journey_sha256"]

    @property
    def as_of(self) -> pd.Timestamp:
        return self.map.attrs["as_of"]

    @property
    def stages(self) -> list:
        return list(self.map["stage"])


@dataclass
class Stages(_MapFacts):
    """The map: ``map`` (every column of :func:`cxlib.journey.journey_map`, one row per stage in the
    journey's order; ``attrs``: the journey's hash, ``as_of``, notes), ``shown`` (the published columns,
    :data:`MAP_COLUMNS`), ``headline`` (:func:`headline_picks`), ``notes`` (the setup's codes)."""

    map: pd.DataFrame
    shown: pd.DataFrame
    headline: dict
    notes: list = field(default_factory=list)


def _pick(m: pd.DataFrame, column: str, *, largest: bool) -> dict | None:
    ok = m[m[column].notna()]
    if ok.empty:
        return None
    row = ok.loc[ok[column].idxmax() if largest else ok[column].idxmin()]
    return row.to_dict()


def headline_picks(m: pd.DataFrame) -> dict:
    """The rows the headline names: the top friction, the lowest NPS, the weakest conversion, the
    strongest churn association beyond noise (None when there is none)."""
    fr = m[m["friction"] > 0]
    churn = m[(m["churn_hr_ci_lower"] > 1) | (m["churn_hr_ci_upper"] < 1)]
    return {"top_friction": fr.sort_values("rank").iloc[0].to_dict() if len(fr) else None,
            "lowest_nps": _pick(m, "nps", largest=False),
            # a stage whose event names the table lacks has 0% by a typo, not by customers: not the weakest step
            "weakest_conversion": _pick(m[m["status"] != "not_found"], "conversion", largest=False),
            "churn": _pick(churn, "churn_hr", largest=True) if len(churn) else None,
            "top_two_apart": m.attrs.get("top_two_apart"), "frictions": int((m["friction"] > 0).sum()),
            "missed": int((m["target_status"] == "missed").sum()),
            "met": int((m["target_status"] == "met").sum()), "judged": int(m["target_status"].notna().sum())}


def _stages(s: Setup) -> Stages:
    v, t = s.values, s.tables
    m = journey.journey_map(t["events"], responses=t["responses"], tickets=t["tickets"],
                            subscriptions=t["subscriptions"], journey=v["journey"] or None,
                            as_of=v["as_of"], period=v["period"])
    shown = m.reindex(columns=MAP_COLUMNS)
    shown.attrs = dict(m.attrs)
    published(s, shown, "journey_map")
    return Stages(m, shown, headline_picks(m), list(s.notes))


def journey_map(s: Setup) -> Stages:
    """Section 1 (and the answer): the map, one row per stage, published as ``journey_map``."""
    return once(s, "journey_map", _stages)


# ------------------------------------------------------------------------------------------ 2. friction

@dataclass
class Friction:
    """The friction list: ``friction`` (stages short of target beyond noise, ranked, with
    :data:`FRICTION_COLUMNS`), ``curves`` (the funnel plot's limit lines, :func:`cxlib.journey.funnel_curves`),
    ``map`` (the map the funnel plot draws) and ``headline`` (whether the top two can be told apart)."""

    friction: pd.DataFrame
    curves: pd.DataFrame
    map: pd.DataFrame
    headline: dict


def _friction(s: Setup) -> Friction:
    st = journey_map(s)
    m = st.map
    ranked = m[m["friction"] > 0].sort_values("rank").reindex(columns=FRICTION_COLUMNS).reset_index(drop=True)
    return Friction(published(s, ranked, "friction"), journey.funnel_curves(m), m, st.headline)


def friction(s: Setup) -> Friction:
    """Section 2: the friction list and the funnel plot's limits, published as ``friction``."""
    return once(s, "friction", _friction)


# ------------------------------------------------------------------------------------------ all at once

@dataclass
class JourneyPage(_MapFacts):
    """Every result of the page at once (:func:`build`): the map, the friction list, the funnel plot's limit
    lines, the headline picks (rows of the map) and the notes (codes) on what was left out."""

    inputs: Inputs
    map: pd.DataFrame
    friction: pd.DataFrame
    curves: pd.DataFrame
    headline: dict
    notes: list = field(default_factory=list)


def build(values: Mapping[str, Any], *, publish: Callable | None = None) -> JourneyPage:
    """Every section at once (scripts and tests; the notebook calls the sections): :func:`setup`,
    :func:`journey_map` and :func:`friction` of ``values``.

    Examples
    --------
    >>> r = build({"events": "data/sample/events.csv", "responses": None, "tickets": None,
    ...            "subscriptions": None})  # doctest: +SKIP
    >>> r.friction[["rank", "stage"]]  # doctest: +SKIP
    """
    s = setup(values, publish=publish)
    st, fr = journey_map(s), friction(s)
    return JourneyPage(inputs=s.inputs, map=st.map, friction=fr.friction, curves=fr.curves, headline=st.headline,
                       notes=st.notes)


def stage(page, name: str) -> dict:
    """One stage's row of the map (of :func:`journey_map` or :func:`build`) as a mapping; an unknown name is a
    CXDataError naming the stages."""
    row = page.map[page.map["stage"] == name]
    if row.empty:
        raise cxdata.CXDataError(f"the journey has no stage {name!r} (it has: {', '.join(page.stages)}).")
    return row.iloc[0].to_dict()
