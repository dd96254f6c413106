"""Which inputs a page can use: only the user's data, and only the columns it has.

Two rules (DESIGN.md, "The analysis date" and "Notebooks"), one home for every notebook:

1. **Demo rows never mix silently into a user's report.** When any data parameter of a page names a
   user's source, the page's other data parameters that still point at the bundled sample are left out
   (set to ``None``) with a ``demo_table_left_out`` note, unless the user gave them explicitly.
2. **A default that names a sample column applies to the sample.** On a user's table, a column-naming
   parameter the user did not give keeps only the columns that table has; the rest are skipped with a
   ``sample_default_skipped`` note (one per table). A parameter the user *gave* that names a missing column is an error
   (:class:`cxlib.data.CXDataError`; ``cx run`` reports it before anything runs, exit 2).

Which parameters were given: ``cx run`` sets :data:`GIVEN_ENV` (a JSON list of the names given on the
command line or in a parameters file) for each notebook; interactively nothing counts as given, so
defaults are only ever skipped, never an error.

Examples
--------
>>> from cxlib import pages
>>> got = pages.resolve("experiment_comparison", {"experiment": "my_test.csv", "segment": "device",
...                     "metrics": {"converted": "proportion"}, "ratios": {"clicks": "sessions"}})  # doctest: +SKIP
>>> got.values["segment"], got.values["ratios"]  # doctest: +SKIP
('', {})
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Mapping


from cxlib import data as cxdata
from cxlib import scorecard, sources
from cxlib.notes import note

__all__ = ["GIVEN_ENV", "PAGES", "Page", "Inputs", "resolve", "given_parameters"]

#: Set by ``cx run`` for each notebook: JSON list of the parameter names the user gave.
GIVEN_ENV = "CX_GIVEN_PARAMETERS"


@dataclass(frozen=True)
class Page:
    """What a page reads: its data parameters and, per column-naming parameter, (table, shape).

    Shapes: ``column`` (one name, skipped to ``""``), ``optional`` (one name, skipped to ``None``), ``columns`` (a list), ``csv`` (a
    comma-separated string), ``keys`` (a mapping keyed by column), ``pairs`` (a mapping whose keys and
    values are columns: ratios, covariates), ``metrics`` (names of the page's metrics: guardrails).
    """

    tables: tuple[str, ...]
    columns: Mapping[str, tuple[str, str]] = field(default_factory=dict)


#: The inputs of each notebook. The data parameters are listed with the one the page needs first.
PAGES: dict[str, Page] = {
    "experiment_comparison": Page(
        tables=("experiment",),
        columns={"ratios": ("experiment", "pairs"), "covariates": ("experiment", "pairs"),
                 "guardrails": ("experiment", "metrics"), "segment": ("experiment", "column"),
                 "time": ("experiment", "column"), "quantiles": ("experiment", "keys")}),
    "nps_drivers": Page(
        tables=("responses", "subscriptions"),
        columns={"csat": ("responses", "optional"), "ces": ("responses", "optional"),
                 "comment": ("responses", "optional"), "segments": ("responses", "columns"),
                 "weight_by": ("responses", "columns")}),
    "cohort_retention": Page(
        tables=("events", "subscriptions", "tickets", "responses", "mrr_history"),
        columns={"value": ("events", "optional"), "segment": ("events", "optional"),
                 "mrr": ("subscriptions", "optional"), "churn_factors": ("subscriptions", "csv")}),
    "cx_scorecard": Page(
        tables=("responses", "tickets", "events", "subscriptions"),
        columns={"segments": ("responses", "columns"), "stage": ("responses", "column")}),
    "journey_map": Page(tables=("events", "responses", "tickets", "subscriptions")),
}


@dataclass
class Inputs:
    """The values a page runs with (``values``) and what was left out (``attrs['notes']``)."""

    values: dict[str, Any]
    tables: tuple[str, ...] = ()
    attrs: dict[str, Any] = field(default_factory=lambda: {"notes": []})

    @property
    def notes(self) -> list:
        return self.attrs["notes"]

    @property
    def demo(self) -> bool:
        """True when every data source still in use is the bundled sample."""
        used = [self.values[k] for k in self.tables if self.values.get(k)]
        return bool(used) and all(cxdata.is_sample(v) for v in used)


def given_parameters() -> set[str] | None:
    """The parameter names ``cx run`` says the user gave, or None outside a run (interactive use)."""
    raw = os.environ.get(GIVEN_ENV)
    if raw is None:
        return None
    try:
        return set(json.loads(raw))
    except (ValueError, TypeError):
        return set()


def _table_of(value, kind: str):
    """The data source as a table (a cached read: its header and metadata are what is used here)."""
    return sources.read(value, kind=kind) if sources.is_spec(value) else cxdata.as_table(value)


def _rename(value, shape: str, found: Mapping[str, str]):
    """``value`` with each name replaced by the column it was found as (header text -> column)."""
    if not found or shape not in ("column", "optional", "columns", "csv"):
        return value
    if shape in ("column", "optional"):
        return found.get(value, value)
    if shape == "columns":
        return [found.get(v, v) for v in value]
    return ", ".join(found.get(v, v) for v in _names(value, "csv"))


def _names(value, shape: str) -> list[str]:
    """The column names a parameter value names, in order."""
    if value is None or value == "":
        return []
    if shape in ("column", "optional"):
        return [value] if isinstance(value, str) else []
    if shape == "columns":
        return [v for v in (value if isinstance(value, (list, tuple)) else [value]) if isinstance(v, str)]
    if shape == "csv":
        return [v.strip() for v in str(value).split(",") if v.strip()]
    if shape == "keys":
        return [k for k in (value or {})]
    if shape == "pairs":
        out = []
        for k, v in (value or {}).items():
            out += [k] + ([v] if isinstance(v, str) else [c for c in (v or []) if isinstance(c, str)])
        return out
    return []


def _keep(value, shape: str, have: set[str], metric_names: set[str]):
    """``value`` without the parts that name columns not in ``have`` (or metrics not in the page)."""
    if shape in ("column", "optional"):
        return value if value in have else ("" if shape == "column" else None)
    if shape == "columns":
        return [v for v in value if v in have]
    if shape == "csv":
        return ", ".join(v for v in _names(value, "csv") if v in have)
    if shape == "keys":
        return {k: v for k, v in value.items() if k in have}
    if shape == "pairs":
        return {k: v for k, v in value.items() if all(c in have for c in _names({k: v}, "pairs"))}
    if shape == "metrics":
        return [v for v in value if v in metric_names]
    return value


def _metric_names(values: Mapping[str, Any], have: set[str]) -> set[str]:
    """The metric names a page compares (its ``metrics`` and ``ratios`` mappings) that ``have`` holds."""
    metrics, ratios = values.get("metrics"), values.get("ratios")
    names = {k for k in metrics if k in have} if isinstance(metrics, Mapping) else set()
    if isinstance(ratios, Mapping):
        names |= {k for k, v in ratios.items() if k in have and v in have}
    return names


def resolve(page: str, values: Mapping[str, Any], *, given: set[str] | None = None) -> Inputs:
    """The inputs ``page`` can use from its parameter ``values`` (a notebook passes ``globals()``).

    Parameters
    ----------
    page : str
        A notebook name of :data:`PAGES`.
    values : mapping
        The page's parameters; names it does not declare are ignored.
    given : set of str, optional
        Names the user gave; default: what ``cx run`` says (:data:`GIVEN_ENV`), else nothing.

    Returns
    -------
    Inputs
        ``values``: the parameters the page runs with (only those :data:`PAGES` names, changed or not);
        ``attrs['notes']``: ``demo_table_left_out`` and ``sample_default_skipped`` notes.

    Raises
    ------
    cxlib.data.CXDataError
        A parameter the user gave names a column its table does not have.
    """
    spec = PAGES[page]
    given = given_parameters() if given is None else set(given)
    given = given or set()
    out = {k: values[k] for k in (*spec.tables, *spec.columns) if k in values}
    notes: list = []
    # 1. demo tables: left out when a user's table is there (unless the user asked for them)
    present = {k: out.get(k) for k in spec.tables if out.get(k) not in (None, "")}
    users = [k for k, v in present.items() if not cxdata.is_sample(v)]
    if users:
        for k, v in present.items():
            if cxdata.is_sample(v) and k not in given:
                out[k] = None
                notes.append(note("demo_table_left_out", table=k, instead=users))
    # 2. sample-column defaults on a user's table
    table_of: dict[str, Any] = {}
    problems, skipped = [], {}
    for param, (table, shape) in spec.columns.items():
        if param not in out:
            continue
        source = out.get(table)
        if source in (None, "") or cxdata.is_sample(source):
            continue
        if table not in table_of:
            table_of[table] = _table_of(source, table)
        t = table_of[table]
        have = set(t.columns)
        metric_names = _metric_names(values, have) if shape == "metrics" else set()
        value = out[param]
        if shape in ("column", "optional", "columns", "csv"):
            # a column may be named as the export shows it (header text, layout id): the one rule of data
            found = {}
            for name_ in _names(value, shape):
                try:
                    col = cxdata.find_column(t, name_, what=f"parameter '{param}'")
                except cxdata.CXDataError as exc:  # a text matching two columns
                    problems.append(str(exc).rstrip("."))
                    col = None
                if col is not None and col != name_:
                    found[name_] = col
            value = out[param] = _rename(value, shape, found)
        if shape == "metrics":
            missing = [v for v in (value or []) if v not in metric_names]
        else:
            missing = [c for c in _names(value, shape) if c not in have]
        if not missing:
            continue
        if param in given:
            what = "metric" if shape == "metrics" else "column"
            problems.append(f"parameter '{param}' names {what}{'s' if len(missing) > 1 else ''} "
                            f"{', '.join(repr(m) for m in missing)}, which the {table} table does not have "
                            f"(it has: {', '.join(sorted(have)[:20])})")
            continue
        out[param] = _keep(value, shape, have, metric_names)
        skipped.setdefault(table, {})[param] = missing
    # one sentence per table, as for a missing segment
    notes += [note("sample_default_skipped", table=table, parameters=list(per), columns=list(per.values()))
              for table, per in skipped.items()]
    problems += _week_problems(values, out, spec)
    if problems:
        raise cxdata.CXDataError(f"{page}: " + "; ".join(problems) + ".")
    res = Inputs(out, tables=spec.tables)
    res.attrs["notes"] = notes
    return res


def _week_problems(values: Mapping[str, Any], out: Mapping[str, Any], spec: Page) -> list[str]:
    """A reporting ``week`` must have ended by the analysis date: the scorecard's own rule
    (:func:`cxlib.scorecard.reporting_week`), asked before anything runs."""
    week, source = values.get("week"), out.get(spec.tables[0])
    if not week or source in (None, ""):
        return []
    try:
        as_of = cxdata.default_as_of(values.get("as_of"), source)
        scorecard.reporting_week(week, _table_of(source, spec.tables[0]), as_of, tz=values.get("tz"),
                                 week_start=values.get("week_start") or "monday")
    except cxdata.CXDataError as exc:
        return [f"parameter 'week': {str(exc).rstrip('.')}"]
    return []
