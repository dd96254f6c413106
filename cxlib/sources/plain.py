"""Plain sources: a CSV / Parquet path or glob, a DuckDB file, a connection URL, a DataFrame or an Ibis
table, opened on the engine without a spec (:func:`open_plain`; :func:`cxlib.sources.as_table` adds the
spec and export-layout dispatch in front of it).

CSV files up to 512 MB are read once per session into a DuckDB temp table; Parquet files stay views.
Bad input raises :class:`~cxlib.errors.CXDataError` naming the file and what to do.

Example
-------
>>> from cxlib.sources.plain import open_plain
>>> "customer_id" in open_plain("data/sample/events.csv").columns
True
"""
from __future__ import annotations

import csv
import glob as _glob
import gzip
import hashlib
import re
import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

import ibis
import pandas as pd

from cxlib.engine import (_CSV_CACHE, _MATERIALIZE_MAX_BYTES, _PARQUET_CACHE, _PARQUET_FILES, _PARQUET_PREFIX,
                          _RAW_CACHE, _connect, _csv_select, _duckdb_file, _expand_secrets, _file_key,
                          _friendly_engine_message, _materialize, _postgres_bool_to_int, _read_error, _register,
                          _remember, _Source, _source_of, default_backend, redact_credentials, to_pandas)
from cxlib.errors import CXDataError
from cxlib.paths import PROJECT_ROOT
from cxlib.sources.files import ACCEPTED
from cxlib.schema import NULL_STRINGS

__all__ = ["open_plain"]

# then caught by the sniffer instead of failing mid-query).
_FULL_SNIFF_BYTES = 64 * 1024 * 1024


def _resolve_path(path: str) -> list[str]:
    """Files matching a path or glob; relative paths are tried against the cwd, then PROJECT_ROOT."""
    p = Path(path).expanduser()
    candidates = [p] if p.is_absolute() else [Path.cwd() / p, PROJECT_ROOT / p]
    for cand in candidates:
        matches = sorted(_glob.glob(str(cand))) if _glob.has_magic(str(cand)) else (
            [str(cand)] if cand.is_file() else [])
        if matches:
            return matches
    return []


def _header_fields(path: str) -> tuple[list[str], str] | None:
    """The raw header names of a CSV file and its separator (DuckDB renames duplicates to 'x_1')."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", errors="replace", newline="") as fh:
            first = fh.readline()
    except OSError:
        return None
    sep = max([",", ";", "\t", "|"], key=first.count)
    return next(csv.reader([first], delimiter=sep)), sep


def _duplicated_header(t: ibis.Table) -> str | None:
    """'the header names column 'nps' twice (columns 3 and 9)', for CSV sources; else None."""
    src = _source_of(t)
    if src is None or src.kind != "csv":
        return None
    got = _header_fields(src.paths[0])
    if not got:
        return None
    names = [n.strip() for n in got[0]]
    seen: dict[str, int] = {}
    for i, n in enumerate(names, start=1):
        key = n.lower()
        if key in seen and n:
            return (f"the header names column '{n}' twice (columns {seen[key]} and {i}); rename one of them "
                    "in the file, or map the one you mean with columns:.")
        seen[key] = i
    return None


def _ragged(paths: list[str], label: str, columns: list[str]) -> str | None:
    """A message when DuckDB fell back to one column: a ragged row, or a separator it could not detect."""
    if len(columns) != 1:
        return None
    got = _header_fields(paths[0])
    if not got:
        return None
    header, sep = got
    if len(header) < 2:
        return None
    with open(paths[0], encoding="utf-8-sig", errors="replace", newline="") as fh:
        for line_no, row in enumerate(csv.reader(fh, delimiter=sep), start=1):
            if line_no > 1 and row and len(row) != len(header):
                shown = sep if sep != "\t" else "tab"
                return (f"{label}: line {line_no} has {len(row)} fields but the header has {len(header)} "
                        f"(separator {shown!r}): a ragged row, e.g. an unquoted separator inside a text. Quote "
                        "that text or fix the row.")
    return (f"{label}: could not detect the column separator (the header reads as one column: "
            f"{columns[0][:60]!r}). Give the separator, e.g. a spec with sep: ';'.")


def _read_csv(paths: list[str], label: str) -> ibis.Table:
    con = default_backend()
    key_files = _file_key(paths)
    size = sum(k[1] for k in key_files)
    opts: dict[str, Any] = {"nullstr": NULL_STRINGS}
    if size <= _FULL_SNIFF_BYTES:
        opts["sample_size"] = -1
    read_options = tuple(sorted(opts.items(), key=str))
    key = (key_files, repr(read_options), label)
    cached = _CSV_CACHE.get(key)
    if cached is not None:
        return cached
    _check_header_case(paths[0], label)
    t = None
    if size <= _MATERIALIZE_MAX_BYTES:
        # Read once per session: later queries (checks, examples, the aggregate) scan the table instead
        # of parsing and type-sniffing the file again. If reading the whole file fails (e.g. bytes that are
        # not UTF-8 deep inside it), fall back to the lazy view so errors surface exactly as before.
        t = _materialize_csv(con, paths, opts)
    materialized = t is not None
    try:
        if t is None:
            t = con.read_csv(paths if len(paths) > 1 else paths[0], **opts)
    except Exception as exc:
        msg = _friendly_engine_message(exc)
        m = re.search(r"Expected Number of Columns:\s*(\d+)\s*Found:\s*(\d+)", msg)
        line = re.search(r"(?:Line|line)[: ]\s*(\d+)", msg)
        if m:
            raise CXDataError(f"{label}: line {line.group(1) if line else '?'} has {m.group(2)} fields but the "
                              f"header has {m.group(1)}: a ragged row, e.g. an unquoted separator inside a text. "
                              "Quote that text or fix the row.", source=label) from None
        raise CXDataError(_read_error(label, exc), source=label) from None
    ragged = _ragged(paths, label, list(t.columns))
    if ragged:
        raise CXDataError(ragged, source=label)
    t, n_blank = _drop_blank_rows(con, t, paths, in_session=materialized)
    t = _register(t, _Source(label, "csv", tuple(paths), read_options, n_blank))
    _CSV_CACHE[key] = t
    return t


_CONVERSION = re.compile(r'Error when converting column "([^"]+)"')


def _materialize_csv(con, paths: Sequence[str], opts: Mapping[str, Any]) -> ibis.Table | None:
    """The CSV as a session table, or None. A column the sniffer typed from most rows but that has a value
    of another form (a date in two formats) is read as text instead, so the checks name its rows and the
    option that reads them; the engine's own "Could not convert" never reaches a user."""
    import sqlglot.expressions as sge

    as_text: list[str] = []
    for _ in range(64):
        o = dict(opts)
        if as_text:
            o["types"] = sge.Struct(expressions=[sge.PropertyEQ(this=sge.convert(c), expression=sge.convert("VARCHAR"))
                                                 for c in as_text])
        try:
            return _materialize(con, _csv_select(con, paths, o), "cx_csv")
        except Exception as exc:
            m = _CONVERSION.search(str(exc))
            if not m or m.group(1) in as_text:
                return None
            as_text.append(m.group(1))
    return None


def _check_header_case(path: str, label: str) -> None:
    """Headers that differ only by case ('NPS' and 'nps') are one name to the engine: an error naming both
    (exact repeats are reported by :func:`validate`)."""
    got = _header_fields(path)
    if not got:
        return
    seen: dict[str, str] = {}
    for n in (h.strip() for h in got[0]):
        other = seen.setdefault(n.lower(), n)
        if n and other != n:
            raise CXDataError(f"{label}: the header has columns '{other}' and '{n}', which differ only by case; "
                              "they cannot be told apart. Rename one of them in the file.", source=label,
                              column=n)


_BLANK_LINE = re.compile(rb'[\s,;\t|"]*')


def _drop_blank_rows(con, t: ibis.Table, paths: Sequence[str], *, in_session: bool = False) -> tuple[ibis.Table, int]:
    """Rows with every cell blank (the ',,,,' or tab-only lines a spreadsheet leaves, at the end or between
    records) are not records: the table without them and how many there were. A table read into the session
    is always counted (one scan of memory); a file left as a view only when its last line is blank."""
    def blank_tail(path: str) -> bool:
        if path.endswith(".gz"):
            return True
        with open(path, "rb") as fh:
            fh.seek(max(0, Path(path).stat().st_size - 4096))
            # a line of separators only is blank even when the separator is a tab (whitespace to strip())
            lines = [ln for ln in fh.read().splitlines() if ln.strip(b" \r\n")]
        return bool(lines) and _BLANK_LINE.fullmatch(lines[-1]) is not None
    if len(t.columns) < 2 or not (in_session or any(blank_tail(p) for p in paths)):
        return t, 0
    empty = ibis.and_(*[t[c].isnull() for c in t.columns])
    n = int(to_pandas(t.filter(empty).count()))
    if not n:
        return t, 0
    from ibis import util

    return con.create_table(util.gen_name("cx_csv"), obj=t.filter(~empty), temp=True), n


def _read_parquet(paths: list[str], label: str) -> ibis.Table:
    """A view over Parquet files, the same one while the files are unchanged (size, mtime): expressions
    built on it repeat exactly, so their compiled SQL and check answers can be reused."""
    try:
        key = (_file_key(paths), label)
    except OSError as exc:
        raise CXDataError(_read_error(label, exc), source=label) from None
    hit = _PARQUET_CACHE.get(key)
    if hit is not None:
        return hit
    name = _PARQUET_PREFIX + hashlib.sha1(repr(key).encode()).hexdigest()[:16]
    try:
        t = default_backend().read_parquet(paths if len(paths) > 1 else paths[0], table_name=name)
    except Exception as exc:
        raise CXDataError(_read_error(label, exc), source=label) from None
    _PARQUET_FILES[name] = tuple(paths)
    _remember(_PARQUET_CACHE, key, t)
    return _register(t, _Source(label, "parquet", tuple(paths)))


def open_plain(data: Any, *, table: str | None = None, name: str | None = None) -> ibis.Table:
    """Open a plain data source as an Ibis table (no spec, no export layout: see :func:`cxlib.sources.as_table`).

    Parameters
    ----------
    data : pandas.DataFrame, str, pathlib.Path or ibis.Table
        A DataFrame (wrapped as an in-memory table on the embedded DuckDB, not copied to disk and
        never modified); a CSV or Parquet path or glob (relative paths are tried against the working
        directory, then the project root); a DuckDB database file (``shop.duckdb`` with ``table=``,
        or ``shop.duckdb::orders``); an Ibis connection URL with ``table=`` (or ``URL::table``); or an
        Ibis table on any backend, returned as is.
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
    >>> t = open_plain("data/sample/events.csv")
    >>> "customer_id" in t.columns
    True
    """
    if isinstance(data, ibis.Table):
        if "ibis.backends.postgres" in sys.modules:  # a PostgreSQL table: its compiler needs the cast fix
            _postgres_bool_to_int()
        if name:
            _register(data, _Source(name, "ibis"))
        return data
    if isinstance(data, pd.DataFrame):
        label = name or "DataFrame"
        if data.shape[1] == 0:
            raise CXDataError(f"{label}: the DataFrame has no columns.", source=label)
        # Column names must be strings for the engine; a copy of the column index only, not the data.
        frame = data if all(isinstance(c, str) for c in data.columns) else data.rename(columns=str)
        # the engine keeps microseconds: nanosecond parts are floored on a copy of those columns only
        # (the caller's frame is never changed)
        fine = [c for c, d in frame.dtypes.items() if pd.api.types.is_datetime64_any_dtype(d)
                and str(d).startswith(("datetime64[ns", "datetime64[ns,")) and bool((frame[c].dt.nanosecond != 0).any())]
        if fine:
            frame = frame.assign(**{c: frame[c].dt.floor("us") for c in fine})
        seen: dict[str, str] = {}
        for c in frame.columns:
            if seen.setdefault(c.lower(), c) != c:
                raise CXDataError(f"{label}: the DataFrame has columns '{seen[c.lower()]}' and '{c}', which differ "
                                  "only by case; they cannot be told apart. Rename one of them.", source=label,
                                  column=c)
        mixed = _mixed_objects(frame)
        if mixed:
            frame = frame.assign(**mixed)
        return _register(ibis.memtable(frame), _Source(label, "frame"))
    if isinstance(data, (str, Path)):
        spec = str(data)
        if "::" in spec and table is None:
            spec, table = spec.rsplit("::", 1)
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", spec):
            label = name or (f"{spec.split('://', 1)[0]}:{table}" if table else redact_credentials(spec))
            if not table:
                raise CXDataError(f"{label}: a connection URL needs a table (table= or URL::table).",
                                  source=label)
            try:
                con = (_duckdb_file(spec.split("://", 1)[1]) if spec.startswith("duckdb://")
                       else _connect(_expand_secrets(spec)))
                t = con.table(table)
            except Exception as exc:
                if isinstance(exc, CXDataError):
                    raise
                raise CXDataError(f"{label}: could not open table {table!r}: "
                                  f"{redact_credentials(_friendly_engine_message(exc))}", source=label) from None
            return _register(t, _Source(label, "url"))
        paths = _resolve_path(spec)
        label = name or (Path(spec).name if len(paths) <= 1 else spec)
        if not paths:
            where = " and ".join(dict.fromkeys(str(p) for p in (Path.cwd(), PROJECT_ROOT)))
            raise CXDataError(f"{label}: file not found (looked for {spec!r} in {where}).", source=label)
        suffix = "".join(Path(paths[0]).suffixes[-2:]).lower()
        if suffix.endswith((".duckdb", ".ddb", ".db")):
            if not table:
                raise CXDataError(f"{label}: a DuckDB file needs a table (table= or file.duckdb::table).",
                                  source=label)
            try:
                con = _duckdb_file(paths[0])
                t = con.table(table)
            except Exception as exc:
                raise CXDataError(f"{label}: could not open table {table!r}: "
                                  f"{_friendly_engine_message(exc)}", source=label) from None
            return _register(t, _Source(f"{label}::{table}", "duckdb", tuple(paths)))
        if suffix.endswith((".parquet", ".pq")):
            return _read_parquet(paths, label)
        if suffix.endswith((".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz")):
            return _read_csv(paths, label)
        raise CXDataError(f"{label}: unsupported file type {suffix or '(none)'!r}; expected {ACCEPTED}.",
                          source=label)
    raise CXDataError(f"expected a pandas DataFrame, a file path or an Ibis table, got "
                      f"{type(data).__name__}.")


def _mixed_objects(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """Object columns mixing numbers with text (what ``pd.read_excel`` gives for a number column with 'N/A'
    cells), as new columns: the strings the CSV reader treats as blank are blank, and a column then
    holding only numbers is float64; otherwise every value becomes text, so the checks name the column
    and the rows that are not numbers. Never changes the caller's frame."""
    out = {}
    nulls = set(NULL_STRINGS)
    for c, d in frame.dtypes.items():
        if d != object or not pd.api.types.infer_dtype(frame[c], skipna=True).startswith("mixed"):
            continue
        s = frame[c]
        is_null_text = s.map(lambda v: isinstance(v, str) and v.strip() in nulls)
        s = s.mask(is_null_text | s.isna(), None)
        nums = pd.to_numeric(s, errors="coerce")
        if bool((nums.notna() | s.isna()).all()):
            out[c] = nums.astype("float64")
        else:
            out[c] = s.map(lambda v: None if v is None else str(v)).astype("string")
    return out


def _raw_strings(t: ibis.Table, column: str) -> ibis.Table | None:
    """The column as the original text, for CSV sources whose sniffer already parsed it."""
    src = _source_of(t)
    if src is None or src.kind != "csv":
        return None
    con = default_backend()
    opts = dict(src.read_options)
    opts["all_varchar"] = True
    opts.pop("sample_size", None)
    try:
        key = (_file_key(src.paths), repr(src.read_options), column)
    except OSError:
        key = None
    if key is not None and key in _RAW_CACHE:
        return _RAW_CACHE[key]
    if key is not None and sum(k[1] for k in key[0]) <= _MATERIALIZE_MAX_BYTES:
        # the text of one column, read once per session (read again only when the file changes)
        try:
            out = _materialize(con, _csv_select(con, src.paths, opts, [column]), "cx_raw")
        except Exception:
            out = None
        if out is not None and list(out.columns) == [column]:
            _RAW_CACHE[key] = out
            return out
    raw = con.read_csv(list(src.paths) if len(src.paths) > 1 else src.paths[0], **opts)
    return raw.select(column) if column in raw.columns else None
