"""Pre-flight: every data source of every notebook about to run is resolved and validated before any
notebook starts (one line per problem), and passwords move out of connection URLs.

Examples
--------
>>> _validate_arguments("responses", {"responses": "r.csv", "score": "nps", "drivers": []})
{'nps': 'nps', 'drivers': None}
"""
from __future__ import annotations

import contextlib
import json
import os
import re
from typing import Any

from cxlib.reports.parameters import SOURCE_PARAMETERS, effective_parameters
from cxlib.reports.redact import people_message

#: Set by the runner for each notebook run: the report date (cxlib.data.default_as_of reads it).
RUN_DATE_ENV = "CX_RUN_DATE"


class PreflightError(ValueError):
    """Bad input data or an unreadable source found before any notebook started (one line per problem)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))




#: Notebook parameter -> the validate() role it names, per source kind (a parameter named like a role
#: of the table maps that role; ``score`` is the responses' NPS column).
_ROLE_PARAMETERS = {
    "events": {"customer": "customer", "time": "time", "value": "value", "event": "event"},
    "subscriptions": {"customer": "customer", "start": "start", "end": "end", "mrr": "mrr"},
    "responses": {"score": "nps", "time": "time", "comment": "comment", "respondent": "respondent"},
    "tickets": {"ticket": "ticket", "channel": "channel"},
    "experiment": {"unit": "unit", "variant": "variant"},
    "mrr_history": {"customer": "customer"},
}


def _validate_arguments(kind: str, params: dict) -> dict:
    """The keyword arguments of :func:`cxlib.data.validate` that a notebook's parameters imply.

    ``time`` names one table's time column: that of the first data source the notebook declares among
    those with a time role (the cohort page's ``time`` is the events', not the responses').
    """
    kw = {}
    timed = [k for k in params if k in _ROLE_PARAMETERS and "time" in _ROLE_PARAMETERS[k]]
    for param, role in _ROLE_PARAMETERS[kind].items():
        if param == "time" and timed and timed[0] != kind:
            continue
        value = params.get(param)
        if isinstance(value, str) and value:
            kw[role] = value
    if kind == "events" and "customer" in kw and "time" not in kw and "time" in params:
        pass
    if kind == "responses" and "drivers" in params:
        kw["drivers"] = params["drivers"] or None
    if kind == "responses" and "drivers" not in params:
        kw["drivers"] = None
    if kind == "experiment":
        metric_cols = list((params.get("metrics") or {}).keys())
        for num, den in (params.get("ratios") or {}).items():
            metric_cols += [num, den]
        metric_cols += [c for c in (params.get("covariates") or {}).values() if isinstance(c, str)]
        kw["metrics"] = list(dict.fromkeys(metric_cols))
    return kw


@contextlib.contextmanager
def report_date(day) -> Any:
    """The report date as the analyses' default analysis date (:data:`RUN_DATE_ENV`) inside the block,
    as in each notebook of the run (pre-flight judges a reporting week against the same date)."""
    old = os.environ.get(RUN_DATE_ENV)
    if day is not None:
        os.environ[RUN_DATE_ENV] = str(day)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(RUN_DATE_ENV, None)
        else:
            os.environ[RUN_DATE_ENV] = old


def preflight(resolved: dict[str, dict], given: dict[str, set] | None = None) -> list[str]:
    """Resolve and validate every data source of every notebook about to run; one line per problem.

    Each page's inputs are resolved first (:func:`effective_parameters`, with the names in ``given``
    counted as the user's): a demo table left out is not checked, a skipped sample default is not asked
    for, and a given parameter naming a missing column (or a reporting week not yet over) is a problem.

    Each source goes through :func:`cxlib.data.validate` (the checks ``cx validate`` and the notebooks
    make) with the column roles the notebook's parameters name; a source used by several notebooks with
    the same roles is checked once.
    """
    from cxlib import data as cxdata

    problems, seen = [], {}
    for slug, params in resolved.items():
        try:
            params = effective_parameters(slug, params, (given or {}).get(slug))
        except (cxdata.CXDataError, ValueError, TypeError) as exc:
            line = people_message(str(exc)) if "/" in str(exc) else str(exc)
            problems.append(line if line.startswith(f"{slug}: ") else f"{slug}: {line}")  # pages name the page
            continue
        if params.get("journey"):  # a journey file is input too: its mistakes stop the run before it starts
            from cxlib.journey import load_journey

            try:
                load_journey(params["journey"])
            except cxdata.CXDataError as exc:
                problems.append(f"{slug}: parameter 'journey': {people_message(str(exc))}")
        for kind in SOURCE_PARAMETERS:
            if kind not in params:
                continue
            value = params[kind]
            if value is None or value == "":
                continue
            kw = _validate_arguments(kind, params)
            key = json.dumps([kind, value, kw], sort_keys=True, default=str)
            if key not in seen:
                try:
                    cxdata.validate(value, kind=kind, **kw)
                    seen[key] = None
                except (cxdata.CXDataError, ValueError, TypeError) as exc:
                    lines = getattr(exc, "problems", None) or [str(exc)]
                    seen[key] = [people_message(ln) if "/" in ln else cxdata.redact_credentials(ln)
                                 for ln in lines]
                except Exception as exc:  # an unreadable URL, a driver error: still one line, no traceback
                    seen[key] = [f"could not read the source: {people_message(str(exc))}"]
            for line in seen[key] or []:
                problems.append(f"{slug}: parameter '{kind}': {line}")
    return problems


def _protect_secrets(resolved: dict[str, dict]) -> dict[str, str]:
    """Move passwords out of connection URLs: the notebook gets ``${CX_SECRET_n}`` (expanded by
    cxlib.data at connect time) and the worker's environment holds the value."""
    secrets: dict[str, str] = {}
    pattern = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*):([^@\s]+)@")

    def fix(value):
        if isinstance(value, str):
            m = pattern.match(value)
            if m and not m.group(2).startswith("${"):
                from urllib.parse import unquote

                password = unquote(m.group(2))  # _expand_secrets quotes it again at connect time
                name = next((k for k, v in secrets.items() if v == password), None)
                if name is None:
                    name = f"CX_SECRET_{len(secrets) + 1}"
                    secrets[name] = password
                return f"{m.group(1)}:${{{name}}}@" + value[m.end():]
            return value
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        return value

    for slug, params in resolved.items():
        resolved[slug] = {k: fix(v) for k, v in params.items()}
    return secrets

