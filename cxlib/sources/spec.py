"""Source specs: the mapping form of a data source (see DESIGN.md "Sources").

Example
-------
>>> spec_from("{path: q3.csv, layout: qualtrics}")
{'path': 'q3.csv', 'layout': 'qualtrics'}
>>> is_spec({"path": "q3.csv"}), is_spec("q3.csv")
(True, False)
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from cxlib.errors import CXDataError

__all__ = ["SPEC_KEYS", "READER_OPTIONS", "is_spec", "spec_from", "check_spec"]

#: Reader options (all optional): how the file's text is read.
READER_OPTIONS = ("sep", "decimal", "thousands", "encoding", "date_format", "skip_rows", "sheet", "currency")
#: Every key a source spec may have.
SPEC_KEYS = ("path", "url", "layout", *READER_OPTIONS, "columns", "drivers", "driver_scale", "labels",
             "personal", "tz", "table")


def is_spec(value: Any) -> bool:
    """True for a mapping (a source spec) or a YAML/JSON string holding one (``'{path: q3.csv}'``)."""
    if isinstance(value, Mapping):
        return True
    if isinstance(value, str) and value.strip().startswith("{") and value.strip().endswith("}"):
        try:
            return isinstance(yaml.safe_load(value), Mapping)
        except yaml.YAMLError:
            return False
    return False


def spec_from(value: Any) -> dict:
    """A checked spec dict from a mapping or a YAML string (as given with ``-p`` on the command line).

    Raises
    ------
    CXDataError
        Not a mapping, unknown keys (named, with the allowed ones), neither / both of path and url,
        or an option of the wrong type.
    """
    if isinstance(value, str):
        try:
            loaded = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            raise CXDataError(f"source spec {value!r} is not valid YAML: {exc}".splitlines()[0]) from None
        value = loaded
    if not isinstance(value, Mapping):
        raise CXDataError(f"a source spec is a mapping such as {{path: q3.csv, layout: qualtrics}}, got "
                          f"{type(value).__name__}.")
    return check_spec(dict(value))


def check_spec(spec: dict) -> dict:
    """Validate keys and option types of a spec; returns it (a new dict)."""
    unknown = [k for k in spec if k not in SPEC_KEYS]
    if unknown:
        raise CXDataError(f"unknown source spec key{'s' if len(unknown) > 1 else ''} "
                          f"{', '.join(repr(k) for k in unknown)}; allowed keys: {', '.join(SPEC_KEYS)}.")
    has_path, has_url = spec.get("path") is not None, spec.get("url") is not None
    if has_path == has_url:
        raise CXDataError("a source spec needs exactly one of path: (a file or glob) or url: "
                          "(a connection URL with ::table)." if not has_path else
                          "a source spec has both path: and url:; give one.")
    for key in ("sep", "decimal", "thousands", "encoding", "date_format", "layout", "tz"):
        if spec.get(key) is not None and not isinstance(spec[key], str):
            raise CXDataError(f"source spec {key}: should be text, got {spec[key]!r}.")
    if spec.get("decimal") not in (None, ".", ","):
        raise CXDataError(f"source spec decimal: should be '.' or ',', got {spec['decimal']!r}.")
    if spec.get("skip_rows") is not None and (not isinstance(spec["skip_rows"], int) or spec["skip_rows"] < 0):
        raise CXDataError(f"source spec skip_rows: should be a whole number >= 0, got {spec['skip_rows']!r}.")
    for key in ("columns", "labels"):
        if spec.get(key) is not None and not isinstance(spec[key], Mapping):
            raise CXDataError(f"source spec {key}: should be a mapping (contract column: your column), "
                              f"got {spec[key]!r}.")
    for key in ("currency", "personal"):
        if isinstance(spec.get(key), str):
            spec[key] = [spec[key]]
        if spec.get(key) is not None and not isinstance(spec[key], (list, tuple)):
            raise CXDataError(f"source spec {key}: should be a list of columns, got {spec[key]!r}.")
    drv = spec.get("drivers")
    if drv is not None and not isinstance(drv, (str, list, tuple, Mapping)):
        raise CXDataError("source spec drivers: should be a list of columns, a prefix, or a mapping "
                          f"{{column: label}}, got {drv!r}.")
    scale = spec.get("driver_scale")
    if scale is not None and not (isinstance(scale, (list, tuple)) and len(scale) == 2):
        raise CXDataError(f"source spec driver_scale: should be [low, high], e.g. [1, 5], got {scale!r}.")
    return spec
