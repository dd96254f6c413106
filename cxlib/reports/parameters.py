"""Notebook parameters: read a notebook's ``parameters`` cell, merge defaults < file < ``-p``, coerce.

An unknown name or a value that does not fit the declared type, choices or bounds raises
:class:`ParameterError` before anything runs.

Examples
--------
>>> p = Parameter("min_n", "int", 30, "Smallest segment shown. At least 1.")
>>> coerce(p, "40")
40
"""
from __future__ import annotations

import ast
import copy
import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cxlib import paths

#: Data-source parameter names (fingerprinted in the manifest).
SOURCE_PARAMETERS = paths.KINDS


class ParameterError(ValueError):
    """A parameter that does not exist or whose value does not fit its declared type or choices."""


@dataclass
class Parameter:
    """One line of a notebook's parameters cell: ``name: type = default  # help. One of: a, b.``"""

    name: str
    type: str
    default: Any
    help: str = ""
    choices: list[str] | None = None

    def describe(self) -> str:
        choice = f" (one of: {', '.join(self.choices)})" if self.choices else ""
        return f"{self.name}: {self.type} = {self.default!r}  {self.help}{choice}".rstrip()



_CHOICES = re.compile(r"One of:\s*(.+?)\.?\s*$")


_PARAMETER_CACHE: dict[tuple, list] = {}


def notebook_parameters(path) -> list[Parameter]:
    """Parameters declared in the cell tagged ``parameters`` of a notebook (type, default, help, choices)."""
    # The committed notebooks carry their outputs (megabytes): read the JSON once per file version, without
    # nbformat's schema validation (papermill validates the notebook it runs).
    st = Path(path).stat()
    key = (str(Path(path).resolve()), st.st_mtime_ns, st.st_size)
    if key not in _PARAMETER_CACHE:
        _PARAMETER_CACHE[key] = _read_parameters(path)
    return copy.deepcopy(_PARAMETER_CACHE[key])  # defaults may be dicts or lists: callers get their own


def _read_parameters(path) -> list[Parameter]:
    with open(path, encoding="utf-8") as fh:
        cells = json.load(fh).get("cells", [])
    cell = next((c for c in cells if "parameters" in (c.get("metadata") or {}).get("tags", [])), None)
    if cell is None:
        return []
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else source
    lines = source.splitlines()
    out = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            rest = lines[node.end_lineno - 1][node.end_col_offset:]
            comment = rest.split("#", 1)[1].strip() if "#" in rest else ""
            m = _CHOICES.search(comment)
            choices = [c.strip() for c in m.group(1).split(",")] if m else None
            help_text = comment[: m.start()].strip() if m else comment
            default = ast.literal_eval(node.value) if node.value is not None else None
            out.append(Parameter(node.target.id, ast.unparse(node.annotation), default, help_text, choices))
    return out


_TRUE, _FALSE = {"true", "yes", "1", "on"}, {"false", "no", "0", "off"}


def coerce(param: Parameter, value: Any) -> Any:
    """Coerce a value (from YAML or a ``-p key=value`` string) to the parameter's declared type."""
    typ = param.type.replace(" ", "")
    optional = typ.startswith("Optional[")
    base = typ[len("Optional["):-1] if optional else typ
    if value is None or (optional and isinstance(value, str) and value.strip().lower() in ("none", "null", "")):
        if optional:
            return None
        raise ParameterError(f"parameter '{param.name}' needs a {base}, got nothing")

    def fail(what):
        raise ParameterError(f"parameter '{param.name}' expects {what}, got {value!r}")

    if param.name in SOURCE_PARAMETERS:  # a plain source (text) or a source spec (mapping, or YAML text)
        if isinstance(value, str) and value.strip().startswith("{"):
            import yaml

            try:
                value = yaml.safe_load(value)
            except yaml.YAMLError:
                fail("a source: a path, URL::table, or a spec such as {path: file.csv, layout: qualtrics}")
        if isinstance(value, dict):
            return value
        if isinstance(value, str):
            return value
        fail("a source: a path, URL::table, or a spec such as {path: file.csv, layout: qualtrics}")

    if base == "bool":
        if isinstance(value, bool):
            out = value
        elif isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            out = value.strip().lower() in _TRUE
        else:
            fail("true or false")
    elif base == "int":
        try:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            out = int(value)
        except (TypeError, ValueError):
            fail("an integer")
    elif base == "float":
        try:
            if isinstance(value, bool):
                raise ValueError
            out = float(value)
        except (TypeError, ValueError):
            fail("a number")
    elif base in ("list", "dict"):
        if isinstance(value, str):
            import yaml

            try:
                value = yaml.safe_load(value)
            except yaml.YAMLError:
                fail(f"a {base} (YAML, e.g. {'[a, b]' if base == 'list' else '{a: 1}'})")
            if base == "list" and isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list if base == "list" else dict):
            fail(f"a {base}")
        out = value
    elif base == "date":
        try:
            out = dt.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            fail("a date YYYY-MM-DD")
    elif base == "str":
        if isinstance(value, (dict, list)):
            fail("a text value")
        out = value.isoformat() if isinstance(value, dt.date) else str(value)
    else:
        out = value
    _check_bounds(param, out)
    if param.choices and out is not None:
        items = out if isinstance(out, list) else [out]
        bad = [v for v in items if str(v) not in param.choices]
        if bad:
            raise ParameterError(f"parameter '{param.name}' must be one of {', '.join(param.choices)}; "
                                 f"got {', '.join(map(str, bad))}")
    return out


_AT_LEAST = re.compile(r"\bAt least (-?\d+(?:\.\d+)?)", re.I)
_BETWEEN = re.compile(r"\bBetween (-?\d+(?:\.\d+)?) and (-?\d+(?:\.\d+)?)", re.I)
_DATE_HELP = re.compile(r"YYYY-MM-DD")


def _check_bounds(param: Parameter, value: Any) -> None:
    """Bounds a parameter's help declares ("At least 1.", "Between 0 and 1.", "YYYY-MM-DD"); whole-number
    parameters are never negative (sizes, counts, seeds)."""
    if value is None:
        return
    text = param.help or ""
    if _DATE_HELP.search(text) and isinstance(value, str):
        try:
            dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ParameterError(f"parameter '{param.name}' expects a date YYYY-MM-DD, got {value!r}") from None
    size = len(value) if isinstance(value, (list, dict)) else None
    number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    m = _AT_LEAST.search(text)
    lo = float(m.group(1)) if m else (0.0 if isinstance(number, int) else None)
    b = _BETWEEN.search(text)
    if size is not None and lo is not None and size < lo:
        raise ParameterError(f"parameter '{param.name}' needs at least {lo:g} item{'s' if lo != 1 else ''}, "
                             f"got {value!r}")
    if number is not None and lo is not None and number < lo:
        raise ParameterError(f"parameter '{param.name}' must be at least {lo:g}, got {value!r}")
    if number is not None and b and not float(b.group(1)) <= number <= float(b.group(2)):
        raise ParameterError(f"parameter '{param.name}' must be between {b.group(1)} and {b.group(2)}, "
                             f"got {value!r}")


def given_parameters(notebook, *, file_params: dict | None = None, overrides: dict | None = None) -> set[str]:
    """Names of ``notebook``'s parameters the user gave (``-p`` or a parameters file), not defaulted.

    A page needs this, not only the merged values: a default that names a sample column is skipped on a
    user's table, while the same name given by the user is an error when the column is missing.
    """
    declared = {p.name for p in notebook_parameters(notebook)}
    slug = Path(notebook).stem
    file_params = file_params or {}
    shared = {k for k, v in file_params.items() if not isinstance(v, dict) or k in declared}
    section = file_params.get(slug) if isinstance(file_params.get(slug), dict) and slug not in declared else {}
    return (shared | set(section or {}) | set(overrides or {})) & declared


def resolve_parameters(notebook, *, file_params: dict | None = None, overrides: dict | None = None) -> dict:
    """Defaults < ``file_params`` (YAML, shared or per-notebook) < ``overrides``, validated and coerced.

    ``file_params`` may hold values for every notebook and per-notebook sections keyed by the notebook
    name (``nps_drivers: {min_n: 50}``). Only names the notebook declares are taken from the shared part
    of the file; ``overrides`` (``-p``) must name a parameter of at least one notebook being run, which
    :func:`run_reports` checks across the notebooks.
    """
    declared = {p.name: p for p in notebook_parameters(notebook)}
    slug = Path(notebook).stem
    values = {name: p.default for name, p in declared.items()}
    file_params = file_params or {}
    shared = {k: v for k, v in file_params.items() if not isinstance(v, dict) or k in declared}
    section = file_params.get(slug) if isinstance(file_params.get(slug), dict) and slug not in declared else {}
    for source in (shared, section, overrides or {}):
        for key, value in source.items():
            if key in declared:
                values[key] = coerce(declared[key], value)
    for key in section:
        if key not in declared:
            raise ParameterError(f"unknown parameter '{key}' for {slug}; it has: {', '.join(declared)}")
    return values


def effective_parameters(slug: str, parameters: dict, given=None) -> dict:
    """The values a page runs with: :func:`cxlib.pages.resolve` applied (demo tables beside a user's
    table left out, sample-column defaults skipped on a user's table); unchanged for other notebooks."""
    from cxlib import pages

    if slug not in pages.PAGES:
        return dict(parameters)
    return {**parameters, **pages.resolve(slug, parameters, given=set(given or ())).values}


def _is_demo(parameters: dict) -> bool:
    """True when every data source of the notebook is the bundled sample (pages then say 'Demo data')."""
    from cxlib import data as cxdata

    values = [parameters.get(k) for k in SOURCE_PARAMETERS if parameters.get(k)]
    return bool(values) and all(cxdata.is_sample(v) for v in values)


def find_notebooks(names=None, *, notebooks_dir=None) -> list[Path]:
    """Notebook paths by name (slug), or all of ``notebooks/*.ipynb``; unknown names raise ParameterError."""
    folder = Path(notebooks_dir or paths.NOTEBOOKS_DIR)
    available = {p.stem: p for p in sorted(folder.glob("*.ipynb"))}
    if not names:
        return list(available.values())
    missing = [n for n in names if Path(n).stem not in available]
    if missing:
        raise ParameterError(f"unknown notebook {', '.join(missing)}; available: "
                             f"{', '.join(available) or '(none)'}")
    return [available[Path(n).stem] for n in names]

