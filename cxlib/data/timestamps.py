"""Time zones: :func:`clean_timestamp` reads a column as naive UTC (or the reporting clock ``tz``), refusing
values it cannot read and columns that mix values with and without a UTC offset.

Example
-------
>>> import pandas as pd
>>> from cxlib.data.timestamps import clean_timestamp
>>> from cxlib.sources import as_table
>>> t = clean_timestamp(as_table(pd.DataFrame({"at": ["2026-03-01 14:05:00+01:00"]})), "at")
>>> str(t.at.execute()[0])
'2026-03-01 13:05:00'
"""
from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.datatypes as dt

from cxlib.data.checks import _checked, _examples, _is_missing_text, _raise, require_columns
from cxlib.engine import _CLEAN_CACHE, _memo_key, _remember, source_name
from cxlib.errors import CXDataError
from cxlib.sources.parse import _date_hint
from cxlib.sources.plain import _raw_strings

# An offset only counts after a clock time, so the date 2026-01-01 does not look like "-01".
_TZ_SUFFIX = r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|UTC|[+-]\d{2}(:?\d{2})?)$"


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
