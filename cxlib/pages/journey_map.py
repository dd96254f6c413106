"""The journey map page, computed: which tables are usable, the map, the friction list and the headline.

Numbers and note codes only (DESIGN.md, "Layers"); :mod:`cxlib.present.journey_map` turns them into
words and :mod:`cxlib.plots.journey` into the funnel plot.

Examples
--------
>>> from cxlib.pages import journey_map as page
>>> r = page.build({"events": "data/sample/events.csv", "responses": "data/sample/responses.csv"})  # doctest: +SKIP
>>> r.map[["stage", "customers", "target_status"]]  # doctest: +SKIP
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import pandas as pd

from cxlib import data as cxdata
from cxlib import journey
from cxlib.notes import note
from cxlib.pages.inputs import Inputs, resolve

__all__ = ["PARAMETERS", "JourneyPage", "build", "stage", "MAP_COLUMNS", "FRICTION_COLUMNS"]

#: The page's parameters and their defaults (the notebook's parameters cell).
PARAMETERS = {"events": "data/sample/events.csv", "responses": "data/sample/responses.csv",
              "tickets": "data/sample/tickets.csv", "subscriptions": "data/sample/subscriptions.csv",
              "journey": None, "as_of": None, "period": "month"}
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
    "change_period", "promise_change", "promise_change_ci_lower", "promise_change_ci_upper", "promise_change_q",
    "promise_change_beyond_noise", "nps_change", "nps_change_ci_lower", "nps_change_ci_upper", "nps_change_q",
    "nps_change_beyond_noise"]
#: The columns of the published friction list (stages with friction, ranked).
FRICTION_COLUMNS = ["rank", "rank_ci_lower", "rank_ci_upper", "stage", "owner", "target_kind", "target",
                    "promise_n", "promise_share", "promise_ci_lower", "promise_ci_upper", "control_limit",
                    "friction", "top_theme", "quote"]


@dataclass
class JourneyPage:
    """Everything the page shows: the map (one row per stage), the friction list, the funnel plot's limit
    lines, the headline picks (rows of the map) and the notes (codes) on what was left out."""

    inputs: Inputs
    map: pd.DataFrame
    friction: pd.DataFrame
    curves: pd.DataFrame
    headline: dict
    notes: list = field(default_factory=list)

    @property
    def sha256(self) -> str:
        return self.map.attrs["journey_sha256"]

    @property
    def as_of(self) -> pd.Timestamp:
        return self.map.attrs["as_of"]

    @property
    def stages(self) -> list:
        return list(self.map["stage"])


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
            "weakest_conversion": _pick(m, "conversion", largest=False),
            "churn": _pick(churn, "churn_hr", largest=True) if len(churn) else None,
            "top_two_apart": m.attrs.get("top_two_apart"), "frictions": int((m["friction"] > 0).sum()),
            "missed": int((m["target_status"] == "missed").sum()),
            "met": int((m["target_status"] == "met").sum()), "judged": int(m["target_status"].notna().sum())}


def build(values: Mapping[str, Any], *, publish: Callable | None = None) -> JourneyPage:
    """The page from its parameter ``values`` (a notebook passes ``globals()``): resolve the inputs (only
    the user's data), run :func:`cxlib.journey.journey_map`, publish the map and the friction list.

    Notes (codes): the inputs' (``demo_table_left_out``), the map's, and ``journey_table_not_given``
    (one per table the journey needs that was not given).
    """
    params = {k: values.get(k, v) for k, v in PARAMETERS.items()}
    inputs = resolve("journey_map", params)
    params.update(inputs.values)
    p = params
    tables = {k: p[k] or None for k in ("events", "responses", "tickets", "subscriptions")}
    m = journey.journey_map(tables["events"], responses=tables["responses"], tickets=tables["tickets"],
                            subscriptions=tables["subscriptions"], journey=p["journey"] or None, as_of=p["as_of"],
                            period=p["period"])
    notes = list(inputs.notes)
    needed = {t for s in m["needs"] for t in str(s).split(", ") if t}
    notes += [note("journey_table_not_given", table=t) for t in sorted(needed)]
    if tables["subscriptions"] is None:
        notes.append(note("journey_table_not_given", table="subscriptions"))
    fr = m[m["friction"] > 0].sort_values("rank")
    shown = m.reindex(columns=MAP_COLUMNS)
    shown.attrs = dict(m.attrs)
    friction = fr.reindex(columns=FRICTION_COLUMNS).reset_index(drop=True)
    if publish is not None:
        publish(shown, "journey_map")
        publish(friction, "friction")
        # the journey file's hash beside the numbers: a changed journey never silently breaks a trend
        path = m.attrs["journey_path"]
        publish(pd.DataFrame({"journey": [Path(path).name if path else "given as a mapping"],
                              "sha256": [m.attrs["journey_sha256"]]}), "journey_file")
    curves = journey.funnel_curves(m)
    return JourneyPage(inputs=inputs, map=m, friction=friction, curves=curves, headline=headline_picks(m),
                       notes=notes)


def stage(page: JourneyPage, name: str) -> dict:
    """One stage's row of the map as a mapping (KeyError-free: an unknown name is a CXDataError)."""
    row = page.map[page.map["stage"] == name]
    if row.empty:
        raise cxdata.CXDataError(f"the journey has no stage {name!r} (it has: {', '.join(page.stages)}).")
    return row.iloc[0].to_dict()
