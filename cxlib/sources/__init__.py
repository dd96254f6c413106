"""How data gets in: plain sources and source specs, reader options, known export layouts.

Public API
----------
``as_table(data, *, table=None, name=None) -> ibis.Table``
    Any source as an Ibis table: a source spec or a plain path of an export is read as its spec, any
    other plain source on the engine's own readers (:func:`cxlib.sources.plain.open_plain`).
``read(source, *, kind=None) -> ibis.Table``
    A plain source (path / glob / URL::table / DataFrame / Ibis table, see :func:`as_table`)
    or a source spec (a mapping, or its YAML text): the table with the contract's column names.
``detect_layout(path) -> str | None``
    The known export layout a file's header rows match.
``plain_spec(path) -> dict | None``
    The spec a plain path is read as (Excel, JSON lines, a known export layout), or None.
``metadata(table) -> dict``
    What the spec and layout said about a table: labels, drivers, driver scale, personal columns,
    layout, tz, notes.
``spec_from(value) -> dict`` / ``is_spec(value) -> bool``
    Parse and check a spec given as a mapping or YAML text (``-p 'responses={path: q3.csv}'``).

Example
-------
>>> from cxlib import sources
>>> t = sources.read({"path": "tests/fixtures/exports/qualtrics.csv"}, kind="responses")
>>> sources.metadata(t)["layout"], "nps" in t.columns
('qualtrics', True)
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from cxlib.engine import _source_of
from cxlib.errors import CXDataError
from cxlib.notes import note
from cxlib.sources import files, layouts
from cxlib.sources.plain import _resolve_path, open_plain
from cxlib.sources.personal import is_personal, looks_like_contact, personal_columns, pseudonymize
from cxlib.sources.reader import metadata_of, read_spec
from cxlib.sources.spec import READER_OPTIONS, SPEC_KEYS, is_spec, spec_from

__all__ = ["as_table", "read", "detect_layout", "plain_spec", "metadata", "spec_from", "is_spec", "SPEC_KEYS", "READER_OPTIONS",
           "LAYOUTS", "is_personal", "personal_columns", "looks_like_contact", "pseudonymize"]

#: Names of the known export layouts (a spec's ``layout:``).
LAYOUTS = layouts.NAMES


def as_table(data: Any, *, table: str | None = None, name: str | None = None) -> ibis.Table:
    """Open a data source as an Ibis table (also :func:`cxlib.data.as_table`).

    Parameters
    ----------
    data : pandas.DataFrame, str, pathlib.Path, ibis.Table or mapping
        A source spec (a mapping, or its YAML text) is read as :func:`read` reads it; a plain path of an
        Excel workbook, JSON lines or a known export layout as the spec ``{path: ...}`` (DESIGN.md
        "Sources"); anything else by :func:`cxlib.sources.plain.open_plain`: a DataFrame (wrapped, never
        modified), a CSV or Parquet path or glob (tried against the working directory, then the project
        root), a DuckDB file with ``table=`` (or ``file.duckdb::table``), a connection URL with ``table=``
        (or ``URL::table``), or an Ibis table on any backend, returned as is.
    table : str, optional
        Table name inside a database source.
    name : str, optional
        Label used in error messages (default: the file name, or 'DataFrame').

    Returns
    -------
    ibis.Table

    Raises
    ------
    CXDataError
        Missing file, unreadable file (e.g. not UTF-8), unknown table.

    Example
    -------
    >>> t = as_table("data/sample/events.csv")
    >>> "customer_id" in t.columns
    True
    """
    if (isinstance(data, Mapping) or (isinstance(data, str) and data.strip().startswith("{"))) and is_spec(data):
        return read(data)
    if isinstance(data, (str, Path)):
        path = str(data)
        if "::" in path and table is None:
            path = path.rsplit("::", 1)[0]
        if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", path):
            found = _resolve_path(path)
            if found and not "".join(Path(found[0]).suffixes[-2:]).lower().endswith(
                    (".duckdb", ".ddb", ".db", ".parquet", ".pq")):
                as_spec = plain_spec(path)  # a plain path means {path: ...}: Excel, JSON lines, known exports
                if as_spec is not None:
                    return read(as_spec)
    return open_plain(data, table=table, name=name)


def read(source: Any, *, kind: str | None = None, base: str | Path | None = None) -> ibis.Table:
    """Open a plain source or a source spec as an Ibis table with the contract's column names.

    Parameters
    ----------
    source : str, pathlib.Path, pandas.DataFrame, ibis.Table or mapping
        A plain source (delegated to :func:`as_table`) or a source spec: ``path`` or
        ``url``; ``layout``; reader options ``sep``, ``decimal``, ``thousands``, ``encoding``,
        ``date_format``, ``skip_rows``, ``sheet``, ``currency``; ``columns`` (contract column <- your
        column); ``drivers`` (list, prefix or {column: label}); ``driver_scale`` ([low, high]);
        ``labels``; ``personal``; ``tz``. A string holding a YAML mapping (``'{path: q3.csv}'``) is a
        spec too.
    kind : {'events', 'subscriptions', 'responses', 'tickets', 'experiment'}, optional
        The contract table the source is read as (default: the layout's).
    base : path, optional
        Folder a relative ``path:`` is resolved against first (a spec file's folder).

    Returns
    -------
    ibis.Table
        On the embedded DuckDB for files (read once per session and spec). Timestamps are naive UTC;
        personal columns are dropped and contact-like ids hashed (see :func:`metadata`).

    Raises
    ------
    CXDataError
        Unknown spec keys, missing files or columns, unreadable text (naming the option that fixes it).

    Example
    -------
    >>> t = read({"path": "tests/fixtures/exports/european.csv", "sep": ";", "decimal": ",",
    ...           "encoding": "latin-1", "date_format": "%d.%m.%Y",
    ...           "columns": {"respondent_id": "Antwort-ID", "response_time": "Datum", "nps": "Empfehlung"}})
    >>> t.nps.max().execute() <= 10
    True
    """
    if is_spec(source):
        return read_spec(spec_from(source), kind=kind, base=base)
    if isinstance(source, (str, Path, pd.DataFrame, ibis.Table)):
        return as_table(source)
    raise CXDataError(f"expected a path, a DataFrame, an Ibis table or a source spec (mapping), got "
                      f"{type(source).__name__}.")


def detect_layout(path: str | Path, *, encoding: str | None = None, sep: str | None = None,
                  sheet: Any = None) -> str | None:
    """The known export layout whose header signature the file matches, or None.

    Example
    -------
    >>> detect_layout("tests/fixtures/exports/zendesk.csv")
    'zendesk'
    """
    paths = files.resolve(path)
    if not paths:
        raise CXDataError(f"{Path(str(path)).name}: file not found.", source=str(path))
    opts = {k: v for k, v in (("encoding", encoding), ("sep", sep), ("sheet", sheet)) if v is not None}
    try:
        header, _ = files.read_grid(paths[0], opts, max_rows=4)
    except CXDataError:
        if encoding is not None:
            raise
        # the header of a Latin-1 / cp1252 export is still recognisable
        header, _ = files.read_grid(paths[0], {**opts, "encoding": "latin-1"}, max_rows=4)
    return layouts.detect(header)


# (file identity) -> the layout its header rows match (None: a plain table), while the file is unchanged
_DETECTED: dict[tuple, str | None] = {}


def plain_spec(path: str | Path) -> dict | None:
    """The source spec a plain path is read as, or None when the engine's own reader reads it.

    A plain path means ``{path: ...}`` (DESIGN.md "Sources"): an Excel workbook or JSON lines, and a
    text file whose header rows a known export layout recognises, are read exactly as that spec is
    (:func:`read`: layout detected, header rows skipped, columns mapped). Any other CSV / TSV / Parquet
    stays on the engine's fast reader. Detection reads only the file's first lines, once per session
    while the file is unchanged.

    Example
    -------
    >>> plain_spec("tests/fixtures/exports/zendesk.csv")["path"].endswith("zendesk.csv")
    True
    >>> plain_spec("data/sample/responses.csv") is None
    True
    """
    paths = files.resolve(path)
    if not paths:
        return None
    source = paths[0] if len(paths) == 1 else str(path)
    sfx = files.suffix_of(paths[0])
    if sfx in files.EXCEL_SUFFIXES or sfx in files.JSON_SUFFIXES:
        return {"path": source}
    if sfx not in files.TEXT_SUFFIXES:
        return None
    st = Path(paths[0]).stat()
    key = (str(Path(paths[0]).resolve()), st.st_size, st.st_mtime_ns)
    if key not in _DETECTED:
        try:
            _DETECTED[key] = detect_layout(paths[0])
        except CXDataError:  # unreadable header: the engine's reader says why
            _DETECTED[key] = None
    return {"path": source} if _DETECTED[key] else None


def metadata(table: ibis.Table) -> dict:
    """What is known about a table beyond its columns.

    Returns
    -------
    dict
        ``layout`` (name or None), ``kind``, ``labels`` ({column or value: display label}),
        ``questions`` (full question texts), ``drivers`` (list), ``driver_scale`` ([low, high] or None)
        and ``driver_scale_source`` ('declared' / 'data'), ``personal`` (personal columns dropped on
        read, or for a plain source those present by name), ``pseudonymized`` (id columns hashed),
        ``tz`` (reporting time zone), ``columns`` (the mapping applied), ``notes``, ``source``.

    Example
    -------
    >>> metadata(read("data/sample/responses.csv"))["layout"] is None
    True
    """
    meta = metadata_of(table)
    if meta is not None:
        out = dict(meta)
        out["labels"] = dict(meta["labels"])
        out["drivers"] = list(meta["drivers"])
        return out
    src = _source_of(table)
    blank = getattr(src, "blank_rows", 0)
    return {"layout": None, "kind": None, "labels": {}, "questions": {}, "drivers": [], "driver_scale": None,
            "personal": personal_columns(table.columns), "pseudonymized": [], "tz": "UTC", "columns": {},
            "notes": [note("blank_rows_skipped", table=src.label, count=blank)] if blank else [],
            "source": None}
