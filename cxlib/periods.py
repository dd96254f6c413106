"""Periods in the reporting time zone: which zone, which first day of the week, each time's period start.

Moved out of :mod:`cxlib.metrics` (which re-exports these names) so that every analysis that cuts periods
(metrics, support, themes, journey, scorecard) reads one rule.
"""
from __future__ import annotations

from cxlib import data as cxdata

__all__ = ["WEEK_STARTS", "period_start", "period_complete", "start_of", "period_end", "holds", "_check_week_start",
           "_reporting_tz"]


#: First day of a week for ``week_start=``: days to add before truncating to an ISO (Monday) week.
WEEK_STARTS = {"monday": 0, "tuesday": 6, "wednesday": 5, "thursday": 4, "friday": 3, "saturday": 2, "sunday": 1}


def _check_week_start(week_start) -> str:
    ws = str(week_start).strip().lower() if week_start is not None else ""
    if ws not in WEEK_STARTS:
        raise cxdata.CXDataError(f"week_start must be one of {', '.join(WEEK_STARTS)}, not {week_start!r} "
                                 "(e.g. week_start='sunday').")
    return ws


def _reporting_tz(t, tz):
    """The time zone periods are cut in: ``tz`` (checked: an IANA name such as 'Europe/Berlin'), else the
    source spec's ``tz:``, else None (UTC)."""
    if tz is None:
        from cxlib import sources

        tz = sources.metadata(t).get("tz")
        backend = getattr(t._find_backend(use_default=True), "name", "")
        if backend not in ("duckdb", "pyspark"):  # no local-time conversion there: the spec's zone is
            tz = None                             # not forced on it (an explicit tz= says why it can't)
    if tz in (None, "", "UTC", "utc", "Z"):
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise cxdata.CXDataError(f"unknown time zone {tz!r}; use an IANA name such as 'Europe/Berlin' or "
                                 "'America/New_York' (or 'UTC').") from None
    return str(tz)


def period_start(column, period: str, *, week_start: str = "monday"):
    """First day of the ``period`` holding each (local, naive) time of an Ibis timestamp column.

    As :func:`cxlib.data.period_start`, with weeks starting on ``week_start`` (any weekday name, default
    Monday): the time is shifted forward by the days from ``week_start`` to the next Monday, truncated
    to its ISO week, and shifted back, so a Sunday-start week runs Sunday 00:00 to Saturday 24:00.
    """
    ws = _check_week_start(week_start)
    if period == "week" and WEEK_STARTS[ws]:
        import ibis

        shift = ibis.interval(days=WEEK_STARTS[ws])
        return (column + shift).truncate("W") - shift
    return cxdata.period_start(column, period)


def period_complete(starts, period: str, end):
    """Whether each period (its first day in ``starts``) had ended by ``end``: a boolean array.

    ``end`` is the table's observed end (:func:`cxlib.data.observed_end`: the earlier of the analysis date
    and its last record), on the clock the periods were cut on. DESIGN "The analysis date": a period is
    observed only when it ended by both; the last month of a log that stops on 10 February is not complete,
    whether the analysis date is 11 February or years later.
    """
    import numpy as np
    import pandas as pd

    step = cxdata.PERIOD_LENGTH[period]
    end = pd.Timestamp(end)
    return np.array([pd.Timestamp(x) + step <= end for x in starts], dtype=bool)


def start_of(x, period: str):
    """The first day of the period holding the time ``x`` (weeks from Monday): a scalar, to tell whether
    a table's last record falls in the analysis date's period.

    Examples
    --------
    >>> str(start_of("2026-02-10 18:00", "month")), str(start_of("2026-02-11", "week"))
    ('2026-02-01 00:00:00', '2026-02-09 00:00:00')
    """
    import pandas as pd

    x = pd.Timestamp(x).normalize()
    g = (period or "month").lower()
    if g == "day":
        return x
    if g == "week":
        return x - pd.Timedelta(days=x.weekday())
    return x.to_period({"month": "M", "quarter": "Q", "year": "Y"}.get(g, "M")).start_time


def period_end(start, period: str):
    """The first moment after the period that starts at ``start``.

    Examples
    --------
    >>> str(period_end("2026-02-01", "month")), str(period_end("2026-02-09", "week"))
    ('2026-03-01 00:00:00', '2026-02-16 00:00:00')
    """
    import pandas as pd

    p = pd.Timestamp(start)
    g = (period or "month").lower()
    if g in ("week", "day"):
        return p + pd.Timedelta(days=7 if g == "week" else 1)
    return p.to_period({"month": "M", "quarter": "Q", "year": "Y"}.get(g, "M")).end_time.normalize() + pd.Timedelta(days=1)


def holds(start, period: str, as_of) -> bool:
    """Whether the period starting ``start`` holds the analysis date ``as_of``: an incomplete period is then
    in progress; otherwise the data simply end in it (DESIGN "The analysis date"). Unknown: True.

    Examples
    --------
    >>> holds("2026-02-01", "month", "2026-02-11"), holds("2026-02-01", "month", "2026-06-30")
    (True, False)
    """
    import pandas as pd

    if as_of is None or start is None or pd.isna(start):
        return True
    return bool(pd.Timestamp(start) <= pd.Timestamp(as_of) < period_end(start, period))
