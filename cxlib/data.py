"""Sources -> Ibis tables, column checks and validation of the five input tables.

Everything a user hands to cxlib goes through :func:`as_table`: a pandas DataFrame, a CSV / Parquet
path or glob, a DuckDB file plus table, an Ibis connection URL plus table, or an Ibis table on any
backend. Row-level work then stays in the engine (embedded DuckDB by default).

Bad input raises :class:`CXDataError` (a ``ValueError``) with a message of a few lines that names the
source, the column, what was expected and up to three offending rows, e.g.::

    responses.csv: column 'nps' has 3 values outside 0..10 (rows 17, 208, 991: 11, -1, 12)

Inputs are never modified: files are only read, DataFrames are wrapped, never written to.

Example
-------
>>> from cxlib import data
>>> v = data.validate("data/sample/responses.csv", kind="responses")
>>> v.n_rows > 1000
True
"""
from __future__ import annotations

import glob as _glob
import hashlib
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import pandas as pd

from cxlib.paths import KINDS, PROJECT_ROOT

__all__ = [
    "CXDataError", "as_table", "source_name", "require_columns", "clean_timestamp", "clean_numeric",
    "clean_binary", "check_unique", "check_not_empty", "validate", "Validation", "to_pandas",
    "default_backend", "PERSONAL_DATA_DEFAULT", "drop_personal", "fingerprint", "NULL_STRINGS",
    "redact_credentials", "is_sample", "check_order", "check_segments", "check_variant_case", "find_column", "default_as_of", "after_as_of", "RUN_DATE_ENV", "SAMPLE_AS_OF",
]

#: Cell values read as missing in CSV files.
NULL_STRINGS = ["", "N/A", "NA", "n/a", "na", "null", "NULL"]

#: Column names treated as personal data unless a notebook declares its own list.
PERSONAL_DATA_DEFAULT = (
    "email", "e_mail", "email_address", "phone", "phone_number", "mobile", "name", "first_name",
    "last_name", "full_name", "customer_name", "address", "street", "ip", "ip_address",
)

_MAX_EXAMPLES = 3
# CSV files up to this size are type-sniffed in full (a stray text value deep in a numeric column is
# then caught by the sniffer instead of failing mid-query).
_FULL_SNIFF_BYTES = 64 * 1024 * 1024


class CXDataError(ValueError):
    """Bad input data: names the source, column, expectation and example rows.

    Attributes
    ----------
    source, column : str or None
        Where the problem is (``column`` is None for table-level problems).
    problems : list of str
        One line per problem (validation collects all problems of a table before raising).
    """

    def __init__(self, message: str, *, source: str | None = None, column: str | None = None,
                 problems: Sequence[str] | None = None):
        self.source = source
        self.column = column
        self.problems = list(problems) if problems else [message]
        super().__init__(message)


# --------------------------------------------------------------------------------------------------
# engine and sources

_BACKEND = None


#: Engine threads of the embedded DuckDB (default: every core); ``cx run`` sets it to cores / jobs.
ENGINE_THREADS_ENV = "CX_ENGINE_THREADS"


def default_backend():
    """The embedded DuckDB connection used for files and DataFrames (session time zone UTC)."""
    global _BACKEND
    if _BACKEND is None:
        _BACKEND = ibis.duckdb.connect()
        # Timestamps are compared and bucketed in UTC unless a reporting time zone is asked for.
        _BACKEND.raw_sql("SET TimeZone='UTC'")
        threads = os.environ.get(ENGINE_THREADS_ENV, "")
        if threads.isdigit() and int(threads) > 0:  # `cx run` shares the cores among parallel notebooks
            _BACKEND.raw_sql(f"SET threads={int(threads)}")
    return _BACKEND


_FILE_CONNECTIONS: dict[str, Any] = {}


def _duckdb_file(path: str):
    """One read-only connection per DuckDB file (DuckDB refuses two differently-configured ones)."""
    key = str(Path(path).resolve())
    if key not in _FILE_CONNECTIONS:
        _FILE_CONNECTIONS[key] = ibis.duckdb.connect(key, read_only=True)
    return _FILE_CONNECTIONS[key]


@dataclass(frozen=True)
class _Source:
    label: str
    kind: str  # 'csv', 'parquet', 'duckdb', 'url', 'frame', 'ibis'
    paths: tuple[str, ...] = ()
    read_options: tuple = ()
    blank_rows: int = 0  # all-blank rows skipped when reading (spreadsheet leftovers)


# Physical table node -> where it came from (for messages and raw re-reads).
_SOURCES: dict[Any, _Source] = {}


def _register(t: ibis.Table, src: _Source) -> ibis.Table:
    _SOURCES[t.op()] = src
    return t


def _source_of(t: ibis.Table) -> _Source | None:
    node = t.op()
    if node in _SOURCES:
        return _SOURCES[node]
    try:
        for leaf in node.find(ops.PhysicalTable):
            if leaf in _SOURCES:
                return _SOURCES[leaf]
    except Exception:  # pragma: no cover - defensive: graph walking is best effort
        return None
    return None


def source_name(t: ibis.Table, name: str | None = None) -> str:
    """A short label for messages: the file name, 'DataFrame', or the table's name."""
    if name:
        return name
    src = _source_of(t)
    if src is not None:
        return src.label
    try:
        leaf = next(iter(t.op().find(ops.PhysicalTable)))
        return str(leaf.name)
    except Exception:  # pragma: no cover
        return "table"


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


def _friendly_engine_message(exc: Exception) -> str:
    """First meaningful line of an engine error, without the engine's own stack or hints."""
    text = str(exc).strip()
    for prefix in ("Invalid Input Error: ", "Conversion Error: ", "IO Error: ", "Binder Error: ",
                   "Catalog Error: ", "Parser Error: "):
        text = text.replace(prefix, "")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    keep = []
    for ln in lines:
        if ln.strip().lower().startswith(("possible fixes", "* ", "  file ", "line ", "original line")):
            if ln.strip().lower().startswith(("line ", "original line")):
                keep.append(ln.strip())
            continue
        keep.append(ln.strip())
    return " ".join(keep[:3])[:400]


_CREDENTIALS = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*):([^@\s]+)@")


def redact_credentials(text: str) -> str:
    """``postgres://analyst:S3cret@host/db`` -> ``postgres://analyst:***@host/db`` anywhere in a text
    (``${VAR}`` references are kept: they name a secret, they are not one)."""
    return _CREDENTIALS.sub(lambda m: m.group(0) if m.group(2).startswith("${") else f"{m.group(1)}:***@",
                            str(text))


def _expand_secrets(url: str) -> str:
    """``${NAME}`` in a connection URL -> the environment variable's value (how `cx run` passes
    passwords without writing them into the executed notebook)."""
    import os

    def sub(m):
        if m.group(1) not in os.environ:
            raise CXDataError(f"{redact_credentials(url)}: environment variable {m.group(1)} is not set.")
        from urllib.parse import quote

        return quote(os.environ[m.group(1)], safe="")
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", sub, url)


def _header_fields(path: str) -> tuple[list[str], str] | None:
    """The raw header names of a CSV file and its separator (DuckDB renames duplicates to 'x_1')."""
    import csv
    import gzip

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
    import csv

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


def is_sample(source: Any) -> bool:
    """True when a source is a file of the bundled sample (``data/sample/``)."""
    from cxlib.paths import SAMPLE_DIR

    if isinstance(source, Mapping):
        source = source.get("path")
    if not isinstance(source, (str, Path)) or "://" in str(source):
        return False
    found = _resolve_path(str(source))
    return bool(found) and all(Path(p).resolve().parent == SAMPLE_DIR.resolve() for p in found)


#: Set by `cx run` in every notebook's environment: the report date (``--date``, else today).
RUN_DATE_ENV = "CX_RUN_DATE"
#: The bundled sample is a snapshot taken at the end of this day (cxlib.sample.END).
SAMPLE_AS_OF = pd.Timestamp("2026-11-22 23:59:59")


def default_as_of(as_of=None, *sources) -> pd.Timestamp:
    """The analysis date: ``as_of`` when given; else the sample's snapshot when every source is the
    bundled demo data; else the end of the report date (``cx run --date``, else today, UTC).

    Never the latest timestamp in the data: one row dated 2099 must not stretch a table to 900 periods
    or a lifetime to 888 months. A date without a time (``'2026-02-15'``, a ``datetime.date``) means the
    end of that day, as the report date does: the day's own rows are in. A timestamp is taken as given.
    """
    import datetime as _dt
    import os

    if as_of is not None and not (isinstance(as_of, str) and not as_of.strip()):
        if isinstance(as_of, pd.Timestamp):
            return as_of
        day_only = (isinstance(as_of, _dt.date) and not isinstance(as_of, _dt.datetime)) or (
            isinstance(as_of, str) and re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", as_of) is not None)
        try:
            ts = pd.Timestamp(as_of.isoformat() if isinstance(as_of, (_dt.date, _dt.datetime)) else str(as_of).strip())
        except (ValueError, TypeError):
            raise CXDataError(f"as_of must be a date YYYY-MM-DD, got {as_of!r}.") from None
        return ts + pd.Timedelta(days=1) - pd.Timedelta(seconds=1) if day_only else ts
    known = [s for s in sources if s is not None]
    if known and all(is_sample(s) for s in known):
        return SAMPLE_AS_OF
    day = os.environ.get(RUN_DATE_ENV) or _dt.datetime.now(_dt.timezone.utc).date().isoformat()
    return pd.Timestamp(day) + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)


def after_as_of(t: ibis.Table, columns, as_of: pd.Timestamp, *, name: str | None = None, ends=None,
                tz: str | None = None):
    """A ``rows_after_as_of`` note on rows dated after ``as_of`` in any of ``columns``, else None.

    ``columns``: the time that dates a row first (an event, a start, a ticket's creation: a row dated
    later is left out), then the record's ends (an end, a resolution, a first reply: a later one has not
    happened yet on the analysis date, so the record counts as still active or open). ``ends`` names
    the end columns explicitly (default: every column after the first).

    Returns
    -------
    cxlib.notes.Note or None
        Code ``rows_after_as_of`` with ``table``, ``as_of``, ``counts`` ({column: rows after it}),
        ``examples`` ({column: a short string of example rows and values, e.g. "rows 3, 9: 2099-01-01
        00:00:00"}) and ``ends`` (the columns of ``counts`` that are ends), in the order of ``columns``
        (only columns with a later row). Words: :data:`cxlib.present.NOTE_TEXT`. ``tz``: the clock the
        times are on, when known (the examples then show them as the file has them).

    Examples
    --------
    >>> n = after_as_of(as_table("subscriptions.csv"), ["start_time", "end_time"],
    ...                 pd.Timestamp("2026-12-06"))  # doctest: +SKIP
    >>> n.code, n["counts"], n["ends"]  # doctest: +SKIP
    ('rows_after_as_of', {'end_time': 12}, ['end_time'])
    """
    from cxlib.notes import note

    cut = as_of.to_pydatetime()
    columns = as_list(columns)
    cols = [c for c in dict.fromkeys(columns) if c in t.columns]
    if not cols:
        return None
    ends = set(as_list(ends)) if ends is not None else set(columns[1:]) - {columns[0]}
    label = source_name(t, name)
    counts, examples = {}, {}
    for c in cols:
        n, ex = _examples(t, lambda x, c=c: x[c].notnull() & (x[c] > cut), c, name=label, tz=tz)
        if n:
            counts[c], examples[c] = int(n), ex.strip("()")
    if not counts:
        return None
    return note("rows_after_as_of", table=label, as_of=pd.Timestamp(as_of), counts=counts, examples=examples,
                ends=[c for c in counts if c in ends])


#: What sets each table kind's last record (DESIGN.md, "The analysis date"): the latest of these columns.
RECORD_TIMES = {
    "events": ("event_time",),
    "subscriptions": ("start_time", "end_time"),
    "responses": ("response_time",),
    "tickets": ("created_at", "first_response_at", "resolved_at"),
}
#: Length of one period, to tell a table that ends "more than one period" before the analysis date.
PERIOD_LENGTH = {"hour": pd.DateOffset(hours=1), "day": pd.DateOffset(days=1), "week": pd.DateOffset(weeks=1),
                 "month": pd.DateOffset(months=1), "quarter": pd.DateOffset(months=3),
                 "year": pd.DateOffset(years=1)}


def last_record(t: ibis.Table, columns, as_of: pd.Timestamp, *, name: str | None = None) -> pd.Timestamp | None:
    """The table's last record: the latest value of ``columns`` on or before ``as_of`` (None when none).

    Counted after later rows are left out, so one row dated 2099 cannot set it. One engine query.

    Examples
    --------
    >>> last_record(as_table("data/sample/events.csv"), ["event_time"], SAMPLE_AS_OF)  # doctest: +SKIP
    Timestamp('2026-11-22 21:14:03')
    """
    cut = as_of.to_pydatetime()
    cols = [c for c in as_list(columns) if c in t.columns]
    if not cols:
        return None
    aggs = {f"_m{i}": t[c].max(where=t[c] <= cut) for i, c in enumerate(cols)}
    row = to_pandas(t.aggregate(**aggs), name=name).iloc[0]
    found = [pd.Timestamp(v) for v in row.tolist() if v is not None and not pd.isna(v)]
    if not found:
        return None
    last = max(found)
    return last.tz_localize(None) if last.tzinfo is not None else last


def observed_end(as_of: pd.Timestamp, last: pd.Timestamp | None) -> pd.Timestamp:
    """The end of what a table observes: the earlier of the analysis date and its last record."""
    return as_of if last is None or pd.isna(last) else min(pd.Timestamp(as_of), pd.Timestamp(last))


def ends_early(t: ibis.Table | None, last: pd.Timestamp | None, as_of: pd.Timestamp, period: str = "month", *,
               name: str | None = None):
    """A ``data_ends_early`` note when the last record is more than one ``period`` before ``as_of``, else None.

    The note's values: ``table``, ``last`` and ``as_of`` (timestamps) and ``period``; present says that
    periods after ``last`` are not observed (blank, not zero).
    """
    from cxlib.notes import note

    if last is None or pd.isna(last):
        return None
    step = PERIOD_LENGTH.get(period, pd.DateOffset(months=1))
    if pd.Timestamp(last) + step >= pd.Timestamp(as_of):
        return None
    label = source_name(t, name) if t is not None else (name or "the data")
    return note("data_ends_early", table=label, last=pd.Timestamp(last), as_of=pd.Timestamp(as_of), period=period)


def local_as_of(as_of: pd.Timestamp, tz: str | None = None) -> pd.Timestamp:
    """The analysis date (an instant, naive = UTC) as a naive time on the clock of ``tz`` (None: UTC).

    The end of a calendar day (23:59:59: a date-only ``as_of`` and the report date) is that day's end on
    the reporting clock, not converted: "as of 15 February" in Berlin keeps Berlin's 15 February whole.
    """
    at = pd.Timestamp(as_of)
    if at.tzinfo is not None:
        at = at.tz_convert("UTC").tz_localize(None)
    if not tz or (at.hour, at.minute, at.second) == (23, 59, 59):
        return at
    return at.tz_localize("UTC").tz_convert(tz).tz_localize(None)


def upto_as_of(t: ibis.Table, column: str | None, as_of: pd.Timestamp, *, tz: str | None = None,
               required: bool = False, name: str | None = None) -> tuple[ibis.Table, Any]:
    """``t`` without its rows dated after ``as_of`` in ``column``, and the note counting them (else None).

    ``column`` None or absent from the table: ``t`` as it is and no note. The column is cleaned as a
    timestamp (:func:`clean_timestamp`, on the clock of ``tz`` when given; ``as_of`` is compared on that
    clock); blank times are kept. When no row is late the table is returned cleaned but unfiltered (the
    queries built on it stay those of a call without ``as_of``); the count is a check, kept for a session
    table (one query on a cold call, none on a warm one).
    """
    if column is None or column not in t.columns:
        return t, None
    t = clean_timestamp(t, column, tz=tz, required=required, name=name)
    cut = local_as_of(as_of, tz)
    late = after_as_of(t, [column], cut, name=name, tz=tz or "UTC")
    if late:
        t = t.filter(t[column].isnull() | (t[column] <= cut.to_pydatetime()))
    return t, late


#: CSV files up to this size are read once per session into a DuckDB temp table (larger ones stay views).
_MATERIALIZE_MAX_BYTES = 512 * 1024 * 1024
# (file identities, reader options, label) -> the materialised table, reused while the files are unchanged.
_CSV_CACHE: dict[tuple, ibis.Table] = {}
# (file identities, reader options, column) -> that column as raw text (timestamp offset checks).
_RAW_CACHE: dict[tuple, ibis.Table] = {}


def _file_key(paths: Sequence[str]) -> tuple:
    """Identity of files for the session cache: resolved path, size and mtime (ns) of each."""
    out = []
    for p in paths:
        st = Path(p).stat()
        out.append((str(Path(p).resolve()), st.st_size, st.st_mtime_ns))
    return tuple(out)


def _csv_select(con, paths: Sequence[str], opts: Mapping[str, Any], columns: Sequence[str] | None = None):
    """``SELECT * FROM read_csv(...)`` exactly as Ibis' ``read_csv`` builds it (header, auto_detect)."""
    import sqlglot as sg
    import sqlglot.expressions as sge
    from ibis.backends.sql.compilers.base import C, STAR
    from ibis import util

    kwargs = dict(opts)
    kwargs.setdefault("header", True)
    kwargs["auto_detect"] = kwargs.pop("auto_detect", True)
    options = [C[key].eq(sge.convert(val)) for key, val in kwargs.items()]
    src = con.compiler.f.read_csv(util.normalize_filenames(list(paths) if len(paths) > 1 else paths[0]), *options)
    cols = [sg.column(c, quoted=True) for c in columns] if columns else [STAR]
    return sg.select(*cols).from_(src)


def _materialize(con, select, prefix: str) -> ibis.Table:
    """Run ``CREATE TEMP TABLE <fresh name> AS <select>`` and return the table."""
    import sqlglot as sg
    import sqlglot.expressions as sge
    from ibis import util

    name = util.gen_name(prefix)
    create = sge.Create(this=sg.to_identifier(name, quoted=True), kind="TABLE", expression=select,
                        properties=sge.Properties(expressions=[sge.TemporaryProperty()]))
    with con._safe_raw_sql(create):
        pass
    return con.table(name)


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


# (file identities, label) -> the Parquet view (lazy: the files are read by each query, never copied)
_PARQUET_CACHE: dict[tuple, ibis.Table] = {}
# view name -> its files, for the check answers kept per file identity (see _check_key)
_PARQUET_FILES: dict[str, tuple[str, ...]] = {}
_PARQUET_PREFIX = "cx_pq_"


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


def _read_error(label: str, exc: Exception) -> str:
    msg = _friendly_engine_message(exc)
    if "unicode" in msg.lower() or "utf" in msg.lower() or "encod" in msg.lower():
        line = re.search(r"Line:\s*(\d+)", msg)
        where = f" near line {line.group(1)}" if line else ""
        return (f"{label}: the file is not valid UTF-8 text (undecodable bytes{where}). "
                "Re-save it as UTF-8 (e.g. 'Save as CSV UTF-8' in Excel) and try again.")
    return f"{label}: could not read the file: {msg}"


def as_table(data: Any, *, table: str | None = None, name: str | None = None) -> ibis.Table:
    """Open a data source as an Ibis table.

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
    >>> t = as_table("data/sample/events.csv")
    >>> "customer_id" in t.columns
    True
    """
    if isinstance(data, ibis.Table):
        if "ibis.backends.postgres" in sys.modules:  # a PostgreSQL table: its compiler needs the cast fix
            _postgres_bool_to_int()
        if name:
            _register(data, _Source(name, "ibis"))
        return data
    if isinstance(data, Mapping) or (isinstance(data, str) and data.strip().startswith("{")):
        from cxlib import sources  # a source spec (DESIGN.md, "Sources")

        if sources.is_spec(data):
            return sources.read(data)
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
        if not suffix.endswith((".duckdb", ".ddb", ".db", ".parquet", ".pq")):
            from cxlib import sources  # a plain path means {path: ...}: Excel, JSON lines, known exports

            as_spec = sources.plain_spec(spec)
            if as_spec is not None:
                return sources.read(as_spec)
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
        from cxlib.sources.files import ACCEPTED

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


def _postgres_bool_to_int() -> None:
    """PostgreSQL cannot cast a boolean to BIGINT (every ``(x >= 9).cast('int64').sum()`` in the analyses):
    compile such casts as CAST(CAST(x AS INT) AS BIGINT), which every engine accepts."""
    try:
        from ibis.backends.sql.compilers.postgres import PostgresCompiler
    except ImportError:  # pragma: no cover - ibis without the postgres compiler
        return
    original = PostgresCompiler.visit_Cast
    if getattr(original, "_cx_patched", False):
        return

    def visit_Cast(self, op, *, arg, to):
        if op.arg.dtype.is_boolean() and to.is_integer() and not to.is_int32():
            return self.cast(self.cast(arg, dt.int32), to)
        return original(self, op, arg=arg, to=to)

    visit_Cast._cx_patched = True
    PostgresCompiler.visit_Cast = visit_Cast
    PostgresCompiler.visit_TryCast = visit_Cast


_URL_CONNECTIONS: dict[str, Any] = {}


def _connect(url: str):
    """One connection per URL for the session (opening a database connection per call is slow)."""
    if url not in _URL_CONNECTIONS:
        _URL_CONNECTIONS[url] = ibis.connect(url)
        if "ibis.backends.postgres" in sys.modules:  # patched only when PostgreSQL is used (its compiler
            _postgres_bool_to_int()                  # module costs ~0.15 s to import)
    return _URL_CONNECTIONS[url]


# Tables cxlib itself made from files for this session (temp tables, never written to after creation; a
# changed file gets a new table). Queries that read only these give the same answer every time.
_SESSION_TABLE_PREFIXES = ("ibis_cx_csv_", "ibis_cx_raw_", "cx_src_")
# compiled SQL per expression (only over session tables or database tables; bounded, oldest dropped first)
_SQL_CACHE: dict[Any, str] = {}
# validation answers (counts, example rows) per check query over session tables only
_CHECK_CACHE: dict[Any, Any] = {}
_CACHE_MAX = 512


def _leaves(op) -> list:
    try:
        return list(op.find(ops.PhysicalTable))
    except Exception:  # pragma: no cover - defensive: graph walking is best effort
        return []


def _on_session_tables(op) -> bool:
    """True when every table ``op`` reads is a session table of cxlib (immutable while cached)."""
    leaves = _leaves(op)
    return bool(leaves) and all(type(leaf) is ops.DatabaseTable and str(leaf.name).startswith(_SESSION_TABLE_PREFIXES)
                                for leaf in leaves)


def _remember(cache: dict, key, value) -> None:
    if len(cache) >= _CACHE_MAX:
        cache.pop(next(iter(cache)))
    cache[key] = value


def _execute(expr: Any):
    """``expr.execute()``; on the embedded DuckDB the compiled SQL of a repeated expression is reused
    (Ibis compiles every call anew, which costs more than running a query on a small table)."""
    backend = _BACKEND
    if backend is None or not hasattr(expr, "as_table"):
        return expr.execute()
    op = expr.op()
    sql = _SQL_CACHE.get(op)
    if sql is None:
        leaves = _leaves(op)
        if not leaves or any(type(leaf) is not ops.DatabaseTable for leaf in leaves) or \
                expr._find_backend(use_default=True) is not backend:
            return expr.execute()
        sql = backend.compile(expr.as_table())
        _remember(_SQL_CACHE, op, sql)
    import pyarrow.types as pat
    from ibis.backends.duckdb.converter import DuckDBPandasData

    table = backend.con.sql(sql).to_arrow_table()
    df = pd.DataFrame({name: (col.to_pylist() if (pat.is_nested(col.type) or pat.is_dictionary(col.type)
                                                  or col.null_count) else col.to_pandas())
                       for name, col in zip(table.column_names, table.columns)})
    df = DuckDBPandasData.convert_table(df, expr.as_table().schema())
    return expr.__pandas_result__(df)


def _check_key(op) -> Any:
    """Key of a check answer that may be kept: the query itself over session tables (immutable copies);
    over cxlib's Parquet views, the query plus the files' current size and mtime (a view reads its files
    anew each time, so an answer is only reused while they are unchanged); otherwise None."""
    if _on_session_tables(op):
        return op
    leaves = _leaves(op)
    if not leaves or any(type(leaf) is not ops.DatabaseTable or str(leaf.name) not in _PARQUET_FILES
                         for leaf in leaves):
        return None
    try:
        return (op, tuple(_file_key(_PARQUET_FILES[str(leaf.name)]) for leaf in leaves))
    except OSError:
        return None


def _checked(expr: Any, *, name: str | None = None):
    """:func:`to_pandas` for a validation query: its answer is kept while it reads only files that have not
    changed (see :func:`_check_key`), so a later call on the same unchanged file does not re-check it."""
    op = expr.op()
    key = _check_key(op)
    hit = _CHECK_CACHE.get(key) if key is not None else None
    if hit is not None:
        return hit.copy() if isinstance(hit, pd.DataFrame) else hit
    out = to_pandas(expr, name=name)
    if key is not None:
        _remember(_CHECK_CACHE, key, out.copy() if isinstance(out, pd.DataFrame) else out)
    return out


# a cleaned table (or a passed check) per (step, input table, options) over session tables: a later call
# on the same unchanged file gets the same expression back without re-building or re-running its checks
_CLEAN_CACHE: dict[Any, Any] = {}
_PASSED = object()


def _memo_key(step: str, t: ibis.Table, *args) -> tuple | None:
    try:
        op = t.op()
        return (step, op, *args) if _on_session_tables(op) else None
    except Exception:  # pragma: no cover - unhashable options: no memo
        return None


def memo_plan(key: tuple, t: ibis.Table, build):
    """``build()`` once per (key, session table): an analysis's cleaned table and query expressions.

    Only when ``t`` reads cxlib's session tables (a file read once per session, immutable while cached; see
    :func:`_memo_key`): a repeated call gets the *same* expression objects back, so its checks are not
    re-built and the engine reuses their compiled SQL. The value holds expressions (and check notes), never
    results; every analysis query still runs. DataFrames, Parquet and warehouse tables are not session
    tables: ``build()`` runs (with every check) on each call. A failing check raises and caches nothing.
    """
    src = _source_of(t)  # its label is in messages (re-registered when a table is passed with name=)
    mkey = _memo_key(key[0], t, *key[1:], getattr(src, "label", None))
    if mkey is not None:
        try:
            hit = _CLEAN_CACHE.get(mkey)
        except TypeError:  # an unhashable option: no memo
            mkey = hit = None
        if hit is not None:
            return hit
    value = build()
    if mkey is not None:
        _remember(_CLEAN_CACHE, mkey, value)
    return value


def to_pandas(expr: Any, *, name: str | None = None) -> pd.DataFrame:
    """Execute an Ibis expression, turning engine errors into :class:`CXDataError`."""
    try:
        out = _execute(expr)
    except CXDataError:
        raise
    except Exception as exc:
        label = name or (source_name(expr) if isinstance(expr, ibis.Table) else "data")
        msg = _friendly_engine_message(exc)
        if "unicode" in msg.lower() or "utf-8" in msg.lower():
            raise CXDataError(_read_error(label, exc), source=label) from None
        raise CXDataError(f"{label}: the data could not be processed: {msg}", source=label) from None
    return out if isinstance(out, pd.DataFrame) else out


# --------------------------------------------------------------------------------------------------
# column checks

_ROW = "__cx_row"


def _missing(v: Any) -> bool:
    """None, NaN, NaT or pd.NA (a blank cell, whatever the engine's type)."""
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):  # a list or array value
        return False


def _fmt(v: Any) -> str:
    if _missing(v):
        return "blank"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, str):
        return repr(v) if len(v) <= 40 else repr(v[:37] + "...")
    return str(v)


def _examples(t: ibis.Table, bad, column: str, *, name: str | None, tz: str | None = None) -> tuple[int, str]:
    """Count of rows where ``bad`` holds and a '(rows 17, 208: 11, -1)' snippet.

    Rows are the 1-based data rows of the user's file: when a layout dropped rows on reading (partial
    responses), the numbers it recorded (``data_rows`` in :func:`cxlib.sources.metadata`), as long as
    ``t`` still has the rows read (no filter since). ``tz``: the clock a timestamp ``column`` is on (None:
    not known); when the file's times are on another clock (a Qualtrics export's own zone, the spec's
    ``tz:``), examples show them on the file's clock, with the zone named.
    """
    # the count needs no row numbers (a window over every row); they are computed only for examples
    n = int(_checked(t.filter(bad(t)).count(), name=name))
    if n == 0:
        return 0, ""
    numbered = t.mutate(**{_ROW: ibis.row_number() + 1})
    bad_rows = numbered.filter(bad(numbered))
    ex = _checked(bad_rows.order_by(_ROW).select(_ROW, column).limit(_MAX_EXAMPLES), name=name)
    from cxlib import sources  # the reader's record of the file (no query)

    meta = sources.metadata(t)
    nums, vals = [int(r) for r in ex[_ROW]], [_fmt(v) for v in ex[column]]
    read = meta.get("data_rows")
    # row_number() counts the rows read only while nothing between them and t changed the rows
    kept = all(isinstance(r, (ops.PhysicalTable, ops.Project, ops.DropColumns)) for r in t.op().find(ops.Relation))
    if read is not None and kept and all(0 < r <= len(read) for r in nums):
        nums = [int(read[r - 1]) for r in nums]
    zone = meta.get("source_tz") or meta.get("tz") or "UTC"
    if tz and zone != tz and t[column].type().is_timestamp():  # on the file's clock, zone named
        for i, v in enumerate(ex[column]):
            try:  # a blank, or a time a clock change makes ambiguous, stays as it is
                vals[i] = vals[i] if _missing(v) else \
                    f"{pd.Timestamp(v).tz_localize(tz).tz_convert(zone).tz_localize(None)} {zone}"
            except (TypeError, ValueError):
                pass
    return n, f"(row{'s' if len(nums) > 1 else ''} {', '.join(map(str, nums))}: {', '.join(vals)})"


def _raise(label: str, column: str | None, message: str):
    raise CXDataError(message, source=label, column=column)


def require_columns(t: ibis.Table, columns: Iterable[str], *, name: str | None = None,
                    roles: Mapping[str, str] | None = None) -> None:
    """Raise if any of ``columns`` is missing, listing what the table does have.

    ``roles`` maps a column to the keyword that names it (``{'user_id': 'customer'}``) so the message
    can say which argument to change.
    """
    missing = [c for c in columns if c not in t.columns]
    if missing:
        label = source_name(t, name)
        hint = ""
        if roles:
            hint = " Map yours with " + ", ".join(f"{roles[c]}='<column>'" for c in missing if c in roles) + "."
        avail = ", ".join(t.columns[:20]) + (" ..." if len(t.columns) > 20 else "")
        cols = ", ".join(repr(c) for c in missing)
        _raise(label, missing[0], f"{label}: missing column{'s' if len(missing) > 1 else ''} {cols} "
                                  f"(the table has: {avail}).{hint}")


def check_not_empty(t: ibis.Table, *, name: str | None = None) -> int:
    """Raise if the table has no rows; return the row count."""
    n = int(_checked(t.count(), name=name))
    if n == 0:
        label = source_name(t, name)
        _raise(label, None, f"{label}: the table is empty (no data rows).")
    return n


def check_unique(t: ibis.Table, column: str, *, name: str | None = None) -> None:
    """Raise if ``column`` holds duplicate values, with examples of the duplicated ids and their rows."""
    key = _memo_key("unique", t, column)
    if key is not None and _CLEAN_CACHE.get(key) is _PASSED:
        return
    require_columns(t, [column], name=name)
    label = source_name(t, name)
    dup = t.group_by(column).aggregate(__cx_n=t.count()).filter(lambda d: d.__cx_n > 1)
    # one query: the most duplicated ids, each row carrying the number of duplicated ids (none: no rows)
    ids = _checked(dup.mutate(__cx_dups=ibis._.count().over(ibis.window()))
                    .order_by(ibis.desc("__cx_n"), column).limit(_MAX_EXAMPLES), name=label)
    n_dup = int(ids["__cx_dups"].iloc[0]) if len(ids) else 0
    if n_dup:
        first = ids[column].iloc[0]
        numbered = t.mutate(**{_ROW: ibis.row_number() + 1})
        # a repeated blank id is found by isnull (a NaN literal cannot be compared with a text column)
        same = numbered[column].isnull() if _missing(first) else numbered[column] == first
        rows = to_pandas(numbered.filter(same).order_by(_ROW).select(_ROW)
                         .limit(_MAX_EXAMPLES), name=label)[_ROW]
        shown = ", ".join(f"{_fmt(v)} x{int(k)}" for v, k in zip(ids[column], ids["__cx_n"]))
        _raise(label, column,
               f"{label}: column '{column}' must be unique, but {n_dup} value{'s' if n_dup > 1 else ''} "
               f"appear more than once ({shown}; {_fmt(first)} at rows "
               f"{', '.join(str(int(r)) for r in rows)}).")
    if key is not None:
        _remember(_CLEAN_CACHE, key, _PASSED)


def find_column(t, name: str | None, *, label: str | None = None, what: str = "column") -> str | None:
    """The table's column a parameter calls ``name`` (None when absent or ``name`` is empty).

    The one rule for a column named by a user (DESIGN "Sources", :class:`cxlib.sources.names.Names`), in
    order: the exact name; the contract name a layout or ``columns:`` mapped onto it; the export's header
    text (question, ``"Question - Row"``) or the layout's id of the original column; the same ignoring case,
    spaces and punctuation (an export's ``Region`` for a ``region`` parameter). A name matching two columns
    raises :class:`CXDataError` naming both (``label``: the table in the message, ``what``: the parameter).
    """
    if name is None or str(name) == "":
        return None
    if name in t.columns:  # an exact name always wins, without reading anything else
        return name
    from cxlib import sources
    from cxlib.sources.names import Names

    meta = sources.metadata(t)
    cols = list(t.columns)
    # the original column a layout or ``columns:`` renamed still answers to its own name (a layout's id)
    header = {tgt: [src] for tgt, src in (meta.get("columns") or {}).items() if tgt in cols and src != tgt}
    names = Names(cols, header=header, questions=meta.get("questions") or {},
                  labels={k: v for k, v in (meta.get("labels") or {}).items() if k in cols})
    return names.one(name, label=label or source_name(t), what=what)


def check_segments(t: ibis.Table, by, *, name: str | None = None) -> ibis.Table:
    """Refuse personal-data columns as segments: a segment value is printed on the page. Returns ``t``
    unchanged.

    How segment values are read (trimmed, spellings that differ only by case counted together) is the
    analyses' rule, in one home: :func:`cxlib.segments.prepare`.
    """
    from cxlib import sources

    declared = set(sources.metadata(t).get("personal") or ())
    bad = [b for b in as_list(by) if b in declared or sources.is_personal(str(b))]
    if bad:
        label = source_name(t, name)
        _raise(label, bad[0], f"{label}: column '{bad[0]}' is personal data and cannot be used as a segment "
                              "(its values would be printed on the page).")
    return t


def check_variant_case(names: Iterable, variant: str, label: str) -> None:
    """Arms whose names differ only by case ('Control', 'control') are an error naming both: whether they
    are one arm is the user's decision, never merged silently. ``names``: the arms' (trimmed) names.
    The one check :func:`validate` (kind 'experiment') and :func:`cxlib.experiments.compare` both run."""
    seen: dict[str, str] = {}
    for v in dict.fromkeys(str(x) for x in names if not _missing(x)):
        if seen.setdefault(v.lower(), v) != v:
            raise CXDataError(f"{label}: column '{variant}' has variants '{seen[v.lower()]}' and '{v}', which "
                              "differ only by case. If they are one arm, spell them the same in the data; "
                              "if not, rename one.", source=label, column=variant)


def check_order(t: ibis.Table, before: str, after: str, *, name: str | None = None) -> None:
    """Raise when ``after`` is earlier than ``before`` in any row (an end before its start), with rows.

    Both columns must already be cleaned timestamps (:func:`clean_timestamp`).
    """
    label = source_name(t, name)
    n, ex = _examples(t, lambda x: x[after].notnull() & x[before].notnull() & (x[after] < x[before]), after,
                      name=label)
    if n:
        _raise(label, after, f"{label}: column '{after}' is before '{before}' in {n} row{'s' if n > 1 else ''} "
                             f"{ex}.")


def _is_missing_text(col):
    return col.isnull() | (col.strip() == "") | col.strip().upper().isin(["N/A", "NA", "NULL"])


def clean_numeric(t: ibis.Table, column: str, *, lo: float | None = None, hi: float | None = None,
                  integer: bool = False, required: bool = False, name: str | None = None,
                  ratings: bool | None = None) -> ibis.Table:
    """Return ``t`` with ``column`` as float64 (NULL where missing), after checking its values.

    Blank and 'N/A' cells are missing (allowed unless ``required``); text that is not a number, values
    outside ``lo..hi`` and (with ``integer``) fractions raise :class:`CXDataError` with example rows.
    ``ratings`` (default: for whole numbers on a scale within 0..10) also reads the labels survey tools
    export for a rating scale as their numbers: ``'10 - Extremely likely'`` -> 10, ``'Very satisfied'``
    -> 5 (the ordered answer labels of :data:`cxlib.sources.parse.LIKERT`), as a source spec reads them.
    """
    if ratings is None:
        ratings = bool(integer and lo is not None and hi is not None and lo >= 0 and hi <= 10)
    key = _memo_key("numeric", t, column, lo, hi, integer, required, ratings)
    if key is not None and key in _CLEAN_CACHE:
        return _CLEAN_CACHE[key]
    t = _clean_numeric(t, column, lo=lo, hi=hi, integer=integer, required=required, name=name, ratings=ratings)
    if key is not None:
        _remember(_CLEAN_CACHE, key, t)
    return t


def _rating_value(col, scale: Mapping[str, float] | None = None):
    """A text rating as a number: a number, a label's number ('10 - Extremely likely'; the one label
    rule, :data:`cxlib.sources.parse.LABEL_PATTERN`: not '10-50', a date or '5-star'), or a label of
    ``scale`` (lower-case label -> value)."""
    from cxlib.sources.parse import LABEL_PATTERN  # the same rule as the spec path

    s = col.strip()
    lead = s.re_extract(LABEL_PATTERN, 1).nullif("")
    out = ibis.coalesce(s.try_cast("float64"), lead.try_cast("float64"))
    if scale:
        out = ibis.coalesce(out, s.lower().cases(*((k, float(v)) for k, v in scale.items()),
                                                 else_=ibis.null("float64")))
    return out


def _rating_scale(t, column, label) -> dict[str, float] | None:
    """The ordered answer labels (1..n) the column's non-numeric answers all belong to, or None."""
    from cxlib.sources.parse import likert_scale  # the same labels as the spec path

    v = _rating_value(t[column])
    words = _checked(t.filter(~_is_missing_text(t[column]) & v.isnull())
                     .select(w=t[column].strip().lower()).distinct().limit(50), name=label)["w"]
    return likert_scale(words) if len(words) else None


def _clean_numeric(t, column, *, lo, hi, integer, required, name, ratings=False):
    require_columns(t, [column], name=name)
    label = source_name(t, name)
    col_type = t[column].type()
    if col_type.is_boolean():
        t = t.mutate(**{column: t[column].cast("float64")})
    elif col_type.is_string():
        value = _rating_value(t[column]) if ratings else t[column].strip().try_cast("float64")
        n, ex = _examples(t, lambda x: ~_is_missing_text(x[column]) & value.isnull(), column, name=label)
        scale = _rating_scale(t, column, label) if n and ratings else None
        if scale:
            value = _rating_value(t[column], scale)
            n, ex = _examples(t, lambda x: ~_is_missing_text(x[column]) & value.isnull(), column, name=label)
            top = max(scale.values())  # answer words and numbers must be on one scale (1..n)
            m, ex2 = (0, "") if n else _examples(t, lambda x: value.notnull() & ((value < 1) | (value > top)),
                                                 column, name=label)
            if m:
                _raise(label, column, f"{label}: column '{column}' mixes answer words of a 1-{_fmt(top)} scale "
                                      f"with {m} number{'s' if m > 1 else ''} outside it {ex2}; map each scale "
                                      "to its own column.")
        if n:
            _raise(label, column, f"{label}: column '{column}' should hold numbers, but {n} value"
                                  f"{'s are' if n > 1 else ' is'} not a number {ex}.")
        t = t.mutate(**{column: ibis.ifelse(_is_missing_text(t[column]), ibis.null("float64"), value)})
    elif not col_type.is_numeric():
        _raise(label, column, f"{label}: column '{column}' should hold numbers but has type {col_type}.")
    else:
        t = t.mutate(**{column: t[column].cast("float64")})
    if required:
        n, ex = _examples(t, lambda x: x[column].isnull() | x[column].isnan(), column, name=label)
        if n:
            _raise(label, column, f"{label}: column '{column}' is required but {n} row"
                                  f"{'s are' if n > 1 else ' is'} blank {ex}.")
    if lo is not None or hi is not None:
        lo_v = float("-inf") if lo is None else lo
        hi_v = float("inf") if hi is None else hi
        n, ex = _examples(t, lambda x: x[column].notnull() & ((x[column] < lo_v) | (x[column] > hi_v)),
                          column, name=label)
        if n:
            rng = f"{_fmt(lo)}..{_fmt(hi)}" if lo is not None and hi is not None else (
                f">= {_fmt(lo)}" if lo is not None else f"<= {_fmt(hi)}")
            _raise(label, column, f"{label}: column '{column}' has {n} value{'s' if n > 1 else ''} "
                                  f"outside {rng} {ex}.")
    if integer:
        n, ex = _examples(t, lambda x: x[column].notnull() & (x[column] != x[column].floor()),
                          column, name=label)
        if n:
            _raise(label, column, f"{label}: column '{column}' should hold whole numbers, but {n} "
                                  f"value{'s are' if n > 1 else ' is'} fractional {ex}.")
    return t


def clean_binary(t: ibis.Table, column: str, *, name: str | None = None,
                 required: bool = False) -> ibis.Table:
    """Return ``t`` with ``column`` as int64 0/1 (true/false/yes/no accepted); anything else raises."""
    require_columns(t, [column], name=name)
    label = source_name(t, name)
    ct = t[column].type()
    if ct.is_boolean():
        return t.mutate(**{column: t[column].cast("int64")})
    if ct.is_string():
        norm = t[column].strip().lower()
        mapped = norm.cases(("1", 1), ("true", 1), ("yes", 1), ("y", 1), ("t", 1),
                            ("0", 0), ("false", 0), ("no", 0), ("n", 0), ("f", 0),
                            ("1.0", 1), ("0.0", 0), else_=ibis.null("int64"))
        n, ex = _examples(t, lambda x: ~_is_missing_text(x[column]) & mapped.isnull(), column, name=label)
        if n:
            _raise(label, column, f"{label}: column '{column}' should be 0/1, but {n} value"
                                  f"{'s are' if n > 1 else ' is'} not {ex}.")
        t = t.mutate(**{column: mapped})
    else:
        t = clean_numeric(t, column, name=label)
        n, ex = _examples(t, lambda x: x[column].notnull() & ~x[column].isin([0.0, 1.0]), column,
                          name=label)
        if n:
            _raise(label, column, f"{label}: column '{column}' should be 0/1, but {n} value"
                                  f"{'s are' if n > 1 else ' is'} not {ex}.")
        t = t.mutate(**{column: t[column].cast("int64")})
    if required:
        n, ex = _examples(t, lambda x: x[column].isnull(), column, name=label)
        if n:
            _raise(label, column, f"{label}: column '{column}' is required but {n} row"
                                  f"{'s are' if n > 1 else ' is'} blank {ex}.")
    return t


# An offset only counts after a clock time, so the date 2026-01-01 does not look like "-01".
_TZ_SUFFIX = r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|UTC|[+-]\d{2}(:?\d{2})?)$"


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


def _utc_naive(col):
    """A tz-aware timestamp expression as naive UTC.

    On DuckDB through the instant's microseconds since the epoch: the same value as a cast to
    ``TIMESTAMP`` in the session's UTC, without the per-row ICU time-zone conversion a cast does
    (about 100 ns a row: a second per 10M rows, paid by every query over the column).
    """
    aware = col.cast(dt.Timestamp(timezone="UTC"))
    try:
        engine = getattr(col._find_backend(use_default=True), "name", "")
    except Exception:  # pragma: no cover - an unbound expression: the portable cast
        engine = ""
    if engine == "duckdb":
        udfs = _tz_udfs()
        return udfs["make_timestamp"](udfs["epoch_us"](aware))
    return aware.cast(dt.Timestamp())


_TZ_UDFS: dict[str, Any] = {}


def _tz_udfs() -> dict[str, Any]:
    """The engines' UTC -> local time functions, defined once (a fresh UDF per call would make every
    call's expression new, so nothing compiled or checked before could be reused)."""
    if not _TZ_UDFS:
        @ibis.udf.scalar.builtin(name="timezone")
        def _timezone(zone: str, ts: dt.Timestamp(timezone="UTC")) -> dt.Timestamp():  # type: ignore[valid-type]
            ...

        @ibis.udf.scalar.builtin(name="from_utc_timestamp")
        def _from_utc(ts: dt.Timestamp(), zone: str) -> dt.Timestamp():  # type: ignore[valid-type]
            ...

        @ibis.udf.scalar.builtin(name="epoch_us")
        def _epoch_us(ts: dt.Timestamp(timezone="UTC")) -> dt.int64:  # type: ignore[valid-type]
            ...

        @ibis.udf.scalar.builtin(name="make_timestamp")
        def _make_timestamp(us: dt.int64) -> dt.Timestamp():  # type: ignore[valid-type]
            ...
        _TZ_UDFS.update(duckdb=_timezone, pyspark=_from_utc, epoch_us=_epoch_us, make_timestamp=_make_timestamp)
    return _TZ_UDFS


def _to_local(t: ibis.Table, column: str, tz: str) -> ibis.Table:
    """Convert a naive-UTC timestamp column to naive local time in ``tz`` (DuckDB and Spark)."""
    backend = t._find_backend(use_default=True)
    bname = getattr(backend, "name", "")
    if bname == "duckdb":
        return t.mutate(**{column: _tz_udfs()["duckdb"](tz, t[column].cast(dt.Timestamp(timezone="UTC")))})
    if bname == "pyspark":
        return t.mutate(**{column: _tz_udfs()["pyspark"](t[column], tz)})
    raise CXDataError(f"converting to the time zone {tz!r} is not supported on the {bname} backend; "
                      "convert timestamps upstream or use tz=None.")


def clean_timestamp(t: ibis.Table, column: str, *, tz: str | None = None, required: bool = True,
                    name: str | None = None) -> ibis.Table:
    """Return ``t`` with ``column`` as a naive timestamp in UTC (or in the reporting time zone ``tz``).

    Text is parsed as ISO 8601; values with a UTC offset are converted to UTC. A column that mixes
    values with and without an offset is rejected (their meaning is ambiguous), as are unparseable
    values; blank values are errors when ``required``.
    """
    key = _memo_key("timestamp", t, column, tz, required)
    if key is not None and key in _CLEAN_CACHE:
        return _CLEAN_CACHE[key]
    out = _clean_timestamp(t, column, tz=tz, required=required, name=name)
    if key is not None:
        _remember(_CLEAN_CACHE, key, out)
    return out


def _clean_timestamp(t, column, *, tz, required, name):
    require_columns(t, [column], name=name)
    label = source_name(t, name)
    ct = t[column].type()
    if ct.is_string():
        s = t[column].strip()
        aware = s.re_search(_TZ_SUFFIX)
        _check_mixed_tz(t, column, aware, label)
        parsed = ibis.ifelse(aware, _utc_naive(s.try_cast(dt.Timestamp(timezone="UTC"))),
                             s.try_cast(dt.Timestamp()))
        n, ex = _examples(t, lambda x: ~_is_missing_text(x[column]) & parsed.isnull(), column, name=label)
        if n:
            from cxlib.sources.parse import _date_hint  # the option that reads them, as on the spec path

            first = _checked(t.filter(~_is_missing_text(t[column]) & parsed.isnull()).select(column).limit(1),
                             name=label)[column]
            hint = _date_hint(first.astype(str), None).replace("Set date_format:", "Read the file with a "
                                                               "source spec with date_format:", 1)
            _raise(label, column, f"{label}: column '{column}' should hold timestamps "
                                  f"(ISO 8601, e.g. 2026-03-01 14:05:00), but {n} value"
                                  f"{'s' if n > 1 else ''} could not be read {ex}. {hint}")
        t = t.mutate(**{column: ibis.ifelse(_is_missing_text(t[column]), ibis.null(dt.Timestamp()),
                                            parsed)})
    elif ct.is_timestamp():
        if ct.timezone is not None:
            raw = _raw_strings(t, column)
            if raw is not None:
                _check_mixed_tz(raw, column, raw[column].strip().re_search(_TZ_SUFFIX), label)
            t = t.mutate(**{column: _utc_naive(t[column])})
    elif ct.is_date():
        t = t.mutate(**{column: t[column].cast(dt.Timestamp())})
    else:
        _raise(label, column, f"{label}: column '{column}' should hold timestamps but has type {ct}.")
    if required:
        n, ex = _examples(t, lambda x: x[column].isnull(), column, name=label)
        if n:
            _raise(label, column, f"{label}: column '{column}' is required but {n} row"
                                  f"{'s are' if n > 1 else ' is'} blank {ex}.")
    if tz:
        t = _to_local(t, column, tz)
    return t


def _check_mixed_tz(t: ibis.Table, column: str, aware, label: str) -> None:
    present = ~_is_missing_text(t[column].cast("string"))
    counts = _checked(t.aggregate(n_aware=(present & aware).sum(), n_naive=(present & ~aware).sum()),
                       name=label)
    n_aware, n_naive = int(counts.n_aware.iloc[0] or 0), int(counts.n_naive.iloc[0] or 0)
    if n_aware and n_naive:
        _, ex_a = _examples(t, lambda x: ~_is_missing_text(x[column]) &
                            x[column].strip().re_search(_TZ_SUFFIX), column, name=label)
        _, ex_n = _examples(t, lambda x: ~_is_missing_text(x[column]) &
                            ~x[column].strip().re_search(_TZ_SUFFIX), column, name=label)
        _raise(label, column, f"{label}: column '{column}' mixes time zones: {n_aware} value"
                              f"{'s carry' if n_aware > 1 else ' carries'} a UTC offset {ex_a} and "
                              f"{n_naive} {'do' if n_naive > 1 else 'does'} not {ex_n}. Give every value an offset "
                              "or none.")


def drop_personal(data, columns: Iterable[str] | None = None):
    """Drop personal-data columns: by the rules of DESIGN.md "Personal data" (name words, case- and
    separator-insensitive), plus what the source's spec or layout declared, plus ``columns``.

    Works on an Ibis table or a pandas DataFrame and returns the same kind (a new object; the input is
    untouched).
    """
    from cxlib import sources

    cols = list(data.columns)
    declared = set(columns or ())
    if isinstance(data, ibis.Table):
        declared |= set(sources.metadata(data).get("personal") or ())
    lowered = {c.lower() for c in declared}
    drop = [c for c in cols if str(c).lower() in lowered or sources.is_personal(str(c))]
    if not drop:
        return data
    if isinstance(data, pd.DataFrame):
        return data.drop(columns=drop)
    return data.drop(*drop)


_SHA_CACHE: dict[tuple, str] = {}


def fingerprint(source: Any, *, table: str | None = None) -> dict:
    """sha256 and row count of a source, for report manifests.

    Files are hashed byte for byte (all files of a glob, in name order); DataFrames by their values;
    other sources (databases) get ``sha256=None``.
    """
    sha = None
    if isinstance(source, Mapping) or (isinstance(source, str) and source.strip().startswith("{")):
        from cxlib import sources

        spec = sources.spec_from(source)
        if spec.get("path"):
            out = fingerprint(spec["path"]) if "://" not in str(spec["path"]) else {"sha256": None}
            out["rows"] = int(to_pandas(sources.read(spec).count()))
            return out
        return {"sha256": None, "rows": int(to_pandas(sources.read(spec).count()))}
    if isinstance(source, pd.DataFrame):
        sha = hashlib.sha256(pd.util.hash_pandas_object(source, index=True).values.tobytes()).hexdigest()
    elif isinstance(source, (str, Path)) and "://" not in str(source):
        paths = _resolve_path(str(source).split("::", 1)[0])
        if paths:
            key = _file_key(paths)
            sha = _SHA_CACHE.get(key)
            if sha is None:  # hashed once per session while the files are unchanged (size, mtime)
                h = hashlib.sha256()
                for p in paths:
                    with open(p, "rb") as fh:
                        for chunk in iter(lambda: fh.read(1 << 20), b""):
                            h.update(chunk)
                sha = _SHA_CACHE[key] = h.hexdigest()
    rows = int(to_pandas(as_table(source, table=table).count()))
    return {"sha256": sha, "rows": rows}


# --------------------------------------------------------------------------------------------------
# validation of the five table kinds

# role -> (default column, check, required); checks: id, uid (unique id), ts, text, num, nonneg, bin,
# score:<lo>:<hi>
_SPECS: dict[str, dict[str, tuple[str, str, bool]]] = {
    "events": {
        "customer": ("customer_id", "id", True),
        "time": ("event_time", "ts", True),
        "event": ("event_name", "text", False),
        "value": ("revenue", "nonneg", False),
    },
    "subscriptions": {
        "customer": ("customer_id", "uid", True),
        "start": ("start_time", "ts", False),
        "end": ("end_time", "ts?", False),
        "duration": ("duration", "nonneg", False),
        "event": ("event", "bin", False),
        "mrr": ("mrr", "nonneg", False),
    },
    "responses": {
        "respondent": ("respondent_id", "uid", True),
        "customer": ("customer_id", "id", False),
        "time": ("response_time", "ts", True),
        "nps": ("nps", "score:0:10", "present"),  # the column must exist; blank answers are counted
        "csat": ("csat", "score:1:5", False),
        "ces": ("ces", "score:1:7", False),
        "comment": ("comment", "text", False),
    },
    "tickets": {
        "ticket": ("ticket_id", "uid", True),
        "customer": ("customer_id", "id", True),
        "created": ("created_at", "ts", True),
        "first_response": ("first_response_at", "ts?", False),
        "resolved": ("resolved_at", "ts?", False),
        "channel": ("channel", "text", False),
        "reopened": ("reopened", "bin", False),
    },
    "experiment": {
        "unit": ("unit_id", "uid", True),
        "variant": ("variant", "id", True),
        "time": ("exposure_time", "ts?", False),
    },
    "mrr_history": {
        "customer": ("customer_id", "id", True),
        "month": ("month", "ts", True),
        "mrr": ("mrr", "nonneg", True),
    },
}


@dataclass
class Validation:
    """Outcome of :func:`validate`: the cleaned table plus what was noticed on the way.

    Attributes
    ----------
    table : ibis.Table
        The source with checked columns cleaned (timestamps naive UTC, scores float, 0/1 as int).
    kind, source : str
    n_rows : int
    columns : dict
        Role -> column actually used.
    notes : list of str
        Things that are allowed but worth knowing (e.g. N/A counts per rating column).
    missing : dict
        Column -> number of blank / N/A values among optional rating columns.
    """

    table: Any
    kind: str
    source: str
    n_rows: int
    columns: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    missing: dict = field(default_factory=dict)

    def summary(self) -> str:
        lines = [f"{self.source}: valid {self.kind} table, {self.n_rows:,} rows.",
                 "Columns: " + ", ".join(f"{r}={c}" for r, c in self.columns.items())]
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)


def validate(data: Any, *, kind: str, table: str | None = None, name: str | None = None,
             drivers: Sequence[str] | str | None = "drv_", metrics: Sequence[str] | None = None,
             scales: Mapping[str, tuple[float, float]] | None = None, **columns: str) -> Validation:
    """Check a source against the contract of its table kind (see data/README.md).

    Every problem found is reported in one :class:`CXDataError` (one line per problem, each naming the
    column, the expectation and up to three offending rows). Missing optional ratings are allowed and
    counted in ``notes``.

    Parameters
    ----------
    data : DataFrame, path or Ibis table
        See :func:`as_table`.
    kind : {'events', 'subscriptions', 'responses', 'tickets', 'experiment'}
    table, name : str, optional
        See :func:`as_table`.
    drivers : str or list of str, optional
        Responses only: driver rating columns, or a prefix selecting them (default ``'drv_'``).
    metrics : list of str, optional
        Experiment only: metric columns that must be numeric.
    scales : mapping, optional
        Override score ranges, e.g. ``{'csat': (1, 10)}``.
    **columns : str
        Column mapping by role, e.g. ``customer='user_id'``, ``time='ts'`` (roles per kind: events:
        customer, time, event, value; subscriptions: customer, start, end, duration, event, mrr;
        responses: respondent, time, nps, csat, ces, comment; tickets: ticket, customer, created,
        first_response, resolved, channel, reopened; experiment: unit, variant, time).

    Example
    -------
    >>> v = validate("data/sample/tickets.csv", kind="tickets")
    >>> v.columns["created"]
    'created_at'
    """
    if kind not in _SPECS:
        raise CXDataError(f"unknown table kind {kind!r}; expected one of {', '.join(KINDS)}.")
    spec = _SPECS[kind]
    unknown = set(columns) - set(spec)
    if unknown:
        raise CXDataError(f"unknown column role(s) for {kind}: {', '.join(sorted(unknown))}; "
                          f"roles are {', '.join(spec)}.")
    from cxlib import sources

    t = sources.read(data, kind=kind) if sources.is_spec(data) else as_table(data, table=table, name=name)
    label = source_name(t, name)
    meta = sources.metadata(t)
    if kind == "responses" and drivers == "drv_" and meta.get("drivers"):
        drivers = list(meta["drivers"])  # the spec's / layout's driver columns
        if meta.get("driver_scale"):
            lo_s, hi_s = meta["driver_scale"]
            scales = {**{d: (lo_s, hi_s) for d in drivers}, **(scales or {})}
    problems: list[str] = []
    columns_hit: list[str | None] = []
    notes: list[str] = []
    used: dict[str, str] = {}
    missing_counts: dict[str, int] = {}

    try:
        n_rows = check_not_empty(t, name=label)
    except CXDataError as exc:
        raise exc
    n_blank = getattr(_source_of(t), "blank_rows", 0) or sum(
        int(n.get("count", 0)) for n in meta.get("notes") or () if getattr(n, "code", None) == "blank_rows_skipped")
    if n_blank:
        notes.append(f"{n_blank:,} blank row{'s' if n_blank > 1 else ''} (every cell empty, as a spreadsheet "
                     "leaves at the end) skipped: not records.")
    roles = {}
    required = []
    for role, (default, _check, req) in spec.items():
        col = columns.get(role, default)
        roles[col] = role
        if req or role in columns:
            required.append(col)
    if kind == "subscriptions" and "start_time" not in t.columns and "start" not in columns:
        required += [columns.get("duration", "duration"), columns.get("event", "event")]
    elif kind == "subscriptions":
        required.append(columns.get("start", "start_time"))
    try:
        require_columns(t, required, name=label, roles=roles)
    except CXDataError as exc:
        raise CXDataError(str(exc), source=label, column=exc.column) from None

    score_ranges = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
    score_ranges.update(scales or {})

    def run(fn):
        nonlocal t
        try:
            t = fn(t)
        except CXDataError as exc:
            problems.append(str(exc))
            columns_hit.append(exc.column)

    score_columns: list[tuple[str, str]] = []
    dup_header = _duplicated_header(t)
    if dup_header:
        problems.append(f"{label}: {dup_header}")
    for role, (default, check, req) in spec.items():
        col = columns.get(role, default)
        if col not in t.columns:
            continue
        used[role] = col
        if kind == "experiment" and role == "variant":
            n_blank, ex = _examples(t, lambda y, col=col: y[col].isnull() | (y[col].cast("string").strip() == ""),
                                    col, name=label)
            if n_blank:
                notes.append(f"{n_blank:,} unit{'s have' if n_blank > 1 else ' has'} no variant {ex}; they are "
                             "left out of every comparison and counted on the page.")
            continue
        if check in ("id", "uid"):
            def _nonnull(x, col=col):
                n, ex = _examples(x, lambda y: y[col].isnull(), col, name=label)
                if n:
                    _raise(label, col, f"{label}: column '{col}' is an id and must not be blank, but "
                                       f"{n} row{'s are' if n > 1 else ' is'} blank {ex}.")
                return x
            run(_nonnull)
            if check == "uid":
                run(lambda x, col=col: (check_unique(x, col, name=label), x)[1])
        elif check in ("ts", "ts?"):
            run(lambda x, col=col, req=(check == "ts"): clean_timestamp(x, col, required=req, name=label))
        elif check == "nonneg":
            run(lambda x, col=col: clean_numeric(x, col, lo=0, name=label))
        elif check == "bin":
            run(lambda x, col=col: clean_binary(x, col, name=label))
        elif check.startswith("score"):
            lo, hi = score_ranges.get(role, tuple(float(v) for v in check.split(":")[1:]))
            run(lambda x, col=col, lo=lo, hi=hi: clean_numeric(x, col, lo=lo, hi=hi, integer=True, name=label))
            score_columns.append((role, col))

    if score_columns and not any(c in (columns_hit or []) for _, c in score_columns):
        blank = to_pandas(t.aggregate(**{c: t[c].isnull().sum() for _, c in score_columns}), name=label)
        for role, c in score_columns:
            k = int(blank[c].iloc[0] or 0)
            if k == n_rows and role == "nps":
                problems.append(f"{label}: column '{c}' (the {role.upper()} score) has no answers at all: every "
                                f"one of the {n_rows:,} rows is blank. Map the score column with "
                                f"columns: {{nps: <your column>}}.")
            elif k == n_rows:
                notes.append(f"'{c}' has no answers at all; the {role.upper()} sections will say so.")
            elif k:
                notes.append(f"'{c}' is unanswered in {k:,} of {n_rows:,} rows; those rows are not counted for "
                             f"{role.upper()}.")
                missing_counts[c] = k
    if kind == "responses":
        drv_cols = ([c for c in t.columns if c.startswith(drivers)] if isinstance(drivers, str)
                    else list(drivers or []))
        twice = sorted({c for c in drv_cols if drv_cols.count(c) > 1})
        if twice:
            problems.append(f"{label}: driver column{'s' if len(twice) > 1 else ''} "
                            f"{', '.join(repr(c) for c in twice)} listed more than once in drivers.")
            drv_cols = list(dict.fromkeys(drv_cols))
        try:
            require_columns(t, drv_cols, name=label)
        except CXDataError as exc:
            problems.append(str(exc))
            columns_hit.append(exc.column)
            drv_cols = [c for c in drv_cols if c in t.columns]
        for col in drv_cols:
            run(lambda x, col=col: clean_numeric(x, col, lo=(scales or {}).get(col, (None, None))[0],
                                                 hi=(scales or {}).get(col, (None, None))[1], name=label,
                                                 ratings=True))
        if drv_cols and not problems:
            nn = to_pandas(t.aggregate(**{c: t[c].isnull().sum() for c in drv_cols}), name=label)
            for c in drv_cols:
                k = int(nn[c].iloc[0] or 0)
                missing_counts[c] = k
                if k:
                    notes.append(f"'{c}' is blank or N/A in {k:,} of {n_rows:,} rows "
                                 f"({k / n_rows:.0%}); allowed, excluded per analysis.")
                if k == n_rows:
                    problems.append(f"{label}: driver column '{c}' has no answers at all (every row is "
                                    "blank or N/A).")
            used["drivers"] = ", ".join(drv_cols)
        personal = sources.personal_columns(t.columns)
        if personal:
            notes.append("personal-data column(s) " + ", ".join(personal) +
                         " present: they are dropped before anything reaches a report.")
    if kind == "experiment":
        metric_cols = [c for c in dict.fromkeys(metrics or [])]
        try:
            require_columns(t, metric_cols, name=label)
        except CXDataError as exc:
            problems.append(str(exc))
            columns_hit.append(exc.column)
            metric_cols = [c for c in metric_cols if c in t.columns]
        for col in metric_cols:
            run(lambda x, col=col: clean_numeric(x, col, name=label))
        if metric_cols and not problems:
            blank = to_pandas(t.aggregate(**{c: t[c].isnull().sum() for c in metric_cols}), name=label)
            for c in metric_cols:
                if int(blank[c].iloc[0] or 0) == n_rows:
                    problems.append(f"{label}: metric column '{c}' is blank in every one of the {n_rows:,} rows.")
        if not problems:
            vcol = used["variant"]
            trimmed = t[vcol].cast("string").strip()
            arms = to_pandas(t.filter(trimmed.notnull() & (trimmed != "")).select(v=trimmed).distinct()
                             .order_by("v"), name=label)["v"]
            k = len(arms)
            if k < 2:
                problems.append(f"{label}: column '{vcol}' has {k} variant; an experiment needs a control "
                                "and at least one treatment.")
            try:  # the arm names compare reads: 'Control' and 'control' are for the user to settle
                check_variant_case(arms, vcol, label)
            except CXDataError as exc:
                problems.append(str(exc))
                columns_hit.append(exc.column)
    if kind == "subscriptions" and not problems and "start" in used and "end" in used:
        s, e = used["start"], used["end"]
        n, ex = _examples(t, lambda x: x[e].notnull() & (x[e] < x[s]), e, name=label)
        if n:
            problems.append(f"{label}: column '{e}' is before '{s}' in {n} row{'s' if n > 1 else ''} {ex}.")
    if kind == "tickets" and not problems:
        c0 = used["created"]
        for role in ("first_response", "resolved"):
            if role in used:
                c = used[role]
                n, ex = _examples(t, lambda x, c=c: x[c].notnull() & (x[c] < x[c0]), c, name=label)
                if n:
                    problems.append(f"{label}: column '{c}' is before '{c0}' in {n} row"
                                    f"{'s' if n > 1 else ''} {ex}.")

    if problems:
        head = f"{label} is not a valid {kind} table ({len(problems)} problem{'s' if len(problems) > 1 else ''}):"
        msg = head + "\n" + "\n".join(f"  - {p}" for p in problems) if len(problems) > 1 else problems[0]
        # the column is named when every problem is about the same one
        column = columns_hit[0] if len(set(columns_hit)) == 1 and len(columns_hit) == len(problems) else None
        raise CXDataError(msg, source=label, column=column, problems=problems)
    return Validation(table=t, kind=kind, source=label, n_rows=n_rows, columns=used, notes=notes,
                      missing=missing_counts)


#: Reporting periods accepted by ``period=`` / ``grain=`` arguments, and their Ibis truncation units.
PERIODS = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}


def period_start(column, period: str):
    """Start of the ``period`` ('day', 'week' (Monday), 'month', 'quarter', 'year') containing each time.

    Works on an Ibis timestamp column in any backend; raises :class:`CXDataError` for an unknown period.
    """
    if period not in PERIODS:
        raise CXDataError(f"unknown period {period!r}; expected one of {', '.join(PERIODS)}.")
    return column.truncate(PERIODS[period])


def as_list(columns) -> list[str]:
    """``None`` -> [], 'a' -> ['a'], ['a', 'b'] -> ['a', 'b'] (for ``by=`` arguments)."""
    if columns is None:
        return []
    if isinstance(columns, str):
        return [columns]
    return list(columns)
