"""Column checks: required columns, unique ids, non-empty tables, segments, arm spellings, row order, and the
one rule for finding a column a user names (:func:`find_column`). Every failure is one
:class:`~cxlib.errors.CXDataError` naming the source, the column and up to three example rows.

Example
-------
>>> import pandas as pd
>>> from cxlib.data.checks import check_unique
>>> from cxlib.sources import as_table
>>> check_unique(as_table(pd.DataFrame({"id": ["a", "b", "a"]})), "id")
Traceback (most recent call last):
...
cxlib.errors.CXDataError: DataFrame: column 'id' must be unique, but 1 value appear more than once ('a' x2; 'a' at rows 1, 3).
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import ibis
import ibis.expr.operations as ops
import pandas as pd

from cxlib import sources
from cxlib.engine import _CLEAN_CACHE, _PASSED, _checked, _memo_key, _remember, source_name, to_pandas
from cxlib.errors import CXDataError
from cxlib.sources.names import Names

_MAX_EXAMPLES = 3

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


def as_list(columns) -> list[str]:
    """``None`` -> [], 'a' -> ['a'], ['a', 'b'] -> ['a', 'b'] (for ``by=`` arguments)."""
    if columns is None:
        return []
    if isinstance(columns, str):
        return [columns]
    return list(columns)
