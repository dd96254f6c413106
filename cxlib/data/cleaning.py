"""Cleaning numbers and 0/1 flags: :func:`clean_numeric` (ratings written as survey labels included) and
:func:`clean_binary`. A cleaned column is float64 (or int64 0/1) with NULL where blank; anything else
raises :class:`~cxlib.errors.CXDataError` with example rows.

Example
-------
>>> import pandas as pd
>>> from cxlib.data.cleaning import clean_numeric
>>> from cxlib.sources import as_table
>>> t = clean_numeric(as_table(pd.DataFrame({"nps": ["9", "N/A", "10 - Extremely likely"]})), "nps", lo=0, hi=10,
...                   integer=True)
>>> t.nps.to_list()  # doctest: +SKIP
[9.0, None, 10.0]
"""
from __future__ import annotations

from typing import Mapping

import ibis

from cxlib.data.checks import _examples, _fmt, _is_missing_text, _raise, require_columns
from cxlib.engine import _CLEAN_CACHE, _checked, _memo_key, _remember, source_name
from cxlib.sources.parse import LABEL_PATTERN, likert_scale

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
    s = col.strip()
    lead = s.re_extract(LABEL_PATTERN, 1).nullif("")
    out = ibis.coalesce(s.try_cast("float64"), lead.try_cast("float64"))
    if scale:
        out = ibis.coalesce(out, s.lower().cases(*((k, float(v)) for k, v in scale.items()),
                                                 else_=ibis.null("float64")))
    return out


def _rating_scale(t, column, label) -> dict[str, float] | None:
    """The ordered answer labels (1..n) the column's non-numeric answers all belong to, or None."""
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
