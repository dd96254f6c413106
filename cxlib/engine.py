"""The engine: the embedded DuckDB connection, database connections, where each table came from, and
cached execution (foundation layer: imports only :mod:`cxlib.errors`).

A table cxlib opens is registered with its :class:`_Source` (a label for messages, the files, the
reader options), so messages can name the file and checks can re-read the raw text. Queries run through
:func:`to_pandas`, which turns engine errors into :class:`~cxlib.errors.CXDataError`; validation
queries run through :func:`_checked`, whose answers are kept while the files they read are unchanged.

Example
-------
>>> from cxlib import engine
>>> import ibis, pandas as pd
>>> t = engine._register(ibis.memtable(pd.DataFrame({"a": [1, 2]})), engine._Source("demo.csv", "frame"))
>>> engine.source_name(t), int(engine.to_pandas(t.count()))
('demo.csv', 2)
"""
from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence
from urllib.parse import quote

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import pandas as pd

from cxlib.errors import CXDataError

__all__ = ["default_backend", "ENGINE_THREADS_ENV", "source_name", "redact_credentials", "to_pandas", "memo_plan"]

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
    def sub(m):
        if m.group(1) not in os.environ:
            raise CXDataError(f"{redact_credentials(url)}: environment variable {m.group(1)} is not set.")
        return quote(os.environ[m.group(1)], safe="")
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", sub, url)

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

# (file identities, label) -> the Parquet view (lazy: the files are read by each query, never copied)
_PARQUET_CACHE: dict[tuple, ibis.Table] = {}
# view name -> its files, for the check answers kept per file identity (see _check_key)
_PARQUET_FILES: dict[str, tuple[str, ...]] = {}
_PARQUET_PREFIX = "cx_pq_"


def _read_error(label: str, exc: Exception) -> str:
    msg = _friendly_engine_message(exc)
    if "unicode" in msg.lower() or "utf" in msg.lower() or "encod" in msg.lower():
        line = re.search(r"Line:\s*(\d+)", msg)
        where = f" near line {line.group(1)}" if line else ""
        return (f"{label}: the file is not valid UTF-8 text (undecodable bytes{where}). "
                "Re-save it as UTF-8 (e.g. 'Save as CSV UTF-8' in Excel) and try again.")
    return f"{label}: could not read the file: {msg}"


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
