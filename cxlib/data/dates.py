"""The analysis date (DESIGN.md "The analysis date"): :func:`default_as_of` decides it; rows dated after it
are counted (:func:`after_as_of`) or left out (:func:`upto_as_of`); :func:`last_record`,
:func:`observed_end` and :func:`ends_early` say where a table's data ends; :func:`period_start` buckets
times into reporting periods.

Example
-------
>>> from cxlib.data.dates import default_as_of
>>> default_as_of("2026-02-15")
Timestamp('2026-02-15 23:59:59')
"""
from __future__ import annotations

import datetime as _dt
import os
import re
from pathlib import Path
from typing import Any, Mapping

import ibis
import pandas as pd

from cxlib.data.checks import _examples, as_list
from cxlib.data.timestamps import clean_timestamp
from cxlib.engine import source_name, to_pandas
from cxlib.errors import CXDataError
from cxlib.notes import note
from cxlib.paths import SAMPLE_DIR
from cxlib.sources.plain import _resolve_path

def is_sample(source: Any) -> bool:
    """True when a source is a file of the bundled sample (``data/sample/``)."""
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


#: Reporting periods accepted by ``period=`` / ``grain=`` arguments, and their Ibis truncation units.
PERIODS = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}


def period_start(column, period: str):
    """Start of the ``period`` ('day', 'week' (Monday), 'month', 'quarter', 'year') containing each time.

    Works on an Ibis timestamp column in any backend; raises :class:`CXDataError` for an unknown period.
    """
    if period not in PERIODS:
        raise CXDataError(f"unknown period {period!r}; expected one of {', '.join(PERIODS)}.")
    return column.truncate(PERIODS[period])
