"""Why a result is empty (issue 21: "An empty period is a finding on the page, not a failure of the run").

An analysis whose result came out empty asks :func:`nothing_before` why, spending one query only then:

- the table has no rows at all (a header and nothing else): bad input, one CXDataError "the table is
  empty (no data rows)";
- every row is dated after the analysis date: a whole-table summary (an overall NPS, a model) raises one
  CXDataError that says so and names the first date ("responses.csv: no answers on or before 1 Jan 2020
  in 'response_time' (the first is 3 Sep 2025); choose a later as_of"); a result the page shows as a
  finding (a trend, a table per segment, the scorecard's support section) is an empty frame with its
  usual columns and a ``nothing_before_as_of`` note (words: ``present.NOTE_TEXT``);
- otherwise (rows on or before the date, but blank scores, no answered ticket ...) nothing: the
  analysis reports that as it always has.
"""
from __future__ import annotations

import ibis
import pandas as pd

from cxlib import data as cxdata
from cxlib.notes import note

__all__ = ["nothing_before", "raise_nothing_before"]


def _day(ts, clock: bool = True) -> str:
    """'1 Jan 2020' (and the time, unless a day's start or end): a date in an error message."""
    ts = pd.Timestamp(ts)
    return f"{ts.day} {ts:%b %Y}" + ("" if not clock or f"{ts:%H:%M:%S}" in ("00:00:00", "23:59:59") else f" {ts:%H:%M}")


def nothing_before(t, time, as_of, *, name=None, what: str = "rows", tz=None, notes: list | None = None):
    """Why a result came out empty (call it only then: one query over ``t`` before its ``as_of`` cut).

    Raises CXDataError "the table is empty (no data rows)" for a table as read without rows (a caller's
    filtered selection without rows is not an empty file: None, its caller says why); when every row is
    dated after ``as_of`` in ``time`` (a blank time counts as before, as the cut keeps it), raises "no
    {what} on or before {as_of} in '{time}' (the first is ...); choose a later as_of" for a whole-table
    summary (``notes`` None), or appends a ``nothing_before_as_of`` note (``table``, ``column``, ``what``,
    ``as_of``, ``first``) to ``notes`` and returns it (a result the page shows as a finding). None when
    rows on or before ``as_of`` exist (empty for another reason, e.g. blank scores)."""
    label = cxdata.source_name(t, name)
    # a caller's selection (a filter, e.g. a week) without rows is not an empty file: its caller says why
    as_read = not t.op().find(ibis.expr.operations.Filter)
    if time is None or time not in t.columns:
        if as_read:
            cxdata.check_not_empty(t, name=label)
        return None
    t = cxdata.clean_timestamp(t, time, tz=tz, required=False, name=name)
    cut = cxdata.local_as_of(as_of, tz).to_pydatetime()
    got = cxdata.to_pandas(t.aggregate(n=t.count(), first=t[time].min(),
                                       kept=(t[time].isnull() | (t[time] <= cut)).cast("int64").sum()), name=name).iloc[0]
    if int(got["n"]) == 0 and as_read:
        cxdata.check_not_empty(t, name=label)
    if int(got["n"]) == 0 or int(got["kept"] or 0) > 0:
        return None
    found = note("nothing_before_as_of", table=label, column=time, what=what, as_of=pd.Timestamp(as_of),
                 first=pd.Timestamp(got["first"]))
    if notes is None:
        raise_nothing_before([found])
    notes.append(found)
    return found


def raise_nothing_before(notes) -> None:
    """Raise the CXDataError of the first ``nothing_before_as_of`` note among ``notes`` (a result's
    ``attrs['notes']``), if any: a summary of such a result has nothing to summarise."""
    for n in notes or ():
        if getattr(n, "code", None) == "nothing_before_as_of":
            raise cxdata.CXDataError(f"{n['table']}: no {n['what']} on or before {_day(n['as_of'])} in "
                                     f"'{n['column']}' (the first is {_day(n['first'], False)}); choose a later as_of.",
                                     source=n["table"], column=n["column"])

