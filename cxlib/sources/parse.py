"""Text -> numbers, money and timestamps, with errors that name the option that fixes them.

Every parser takes a pandas Series of text (as read from the file) and returns a typed Series, or
raises :class:`cxlib.data.CXDataError` naming the file, the column, up to three example lines and the
reader option that would read them (``decimal: ','``, ``date_format: '%d.%m.%Y'``, ``currency:``).

Example
-------
>>> import pandas as pd
>>> to_number(pd.Series(["7,5", "8"]), decimal=",").tolist()
[7.5, 8.0]
>>> to_money(pd.Series(["$1,234.50", "1.234,50 €"])).tolist()
[1234.5, 1234.5]
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from cxlib.errors import CXDataError
from cxlib.schema import NULL_STRINGS

__all__ = ["Where", "missing", "to_number", "to_money", "to_score", "to_timestamp", "slug",
           "looks_numeric", "looks_timestamp", "LIKERT", "SCALES", "LABEL_PATTERN", "likert_scale",
           "rating_values"]

_MAX_EXAMPLES = 3
_NULLS = {s.lower() for s in NULL_STRINGS} | {"nan", "<na>", "none", "nat"}

#: Ordered answer labels read as 1..n when a rating column holds labels instead of numbers. A column's
#: labels are read by the first list that holds all of them (one scale per column); the five-point
#: lists come first, so "agree" is 4 unless a seven-point word ("somewhat agree") is in the column.
#: "Neutral" is the middle point of any of them (:func:`likert_scale`).
LIKERT = [
    ["very dissatisfied", "dissatisfied", "neither satisfied nor dissatisfied", "satisfied", "very satisfied"],
    ["strongly disagree", "disagree", "neither agree nor disagree", "agree", "strongly agree"],
    ["very poor", "poor", "fair", "good", "excellent"],
    ["poor", "fair", "good", "very good", "excellent"],
    ["very difficult", "difficult", "neither easy nor difficult", "easy", "very easy"],
    # SurveyMonkey / Google Forms wordings of the same five points
    ["very dissatisfied", "somewhat dissatisfied", "neither satisfied nor dissatisfied", "somewhat satisfied",
     "very satisfied"],
    ["not at all satisfied", "slightly satisfied", "moderately satisfied", "very satisfied", "extremely satisfied"],
    ["very unlikely", "unlikely", "neither likely nor unlikely", "likely", "very likely"],
    ["strongly disagree", "disagree", "somewhat disagree", "neither agree nor disagree", "somewhat agree", "agree",
     "strongly agree"],
]

#: The rating scales a survey column may be on; a column's values must all lie inside one of them.
SCALES = ((0, 10), (1, 5), (1, 7))

_LETTERS = "A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7a3"
#: A rating label: a whole number of a scale, a separator and words, as survey tools export a scale's
#: end points ("10 - Extremely likely", "1 = Not at all", "5: Very satisfied", "3) Neutral"). A dash
#: separates only with a space beside it, so "5-star" (a compound word) is not a label; the words hold a
#: letter and no digit, so ranges ("10-50", "10 - 50 staff"), dates and phone numbers are not labels.
#: One pattern for pandas and the engine (RE2: no look-arounds), used by :func:`to_score` and by
#: ``cxlib.data.clean_numeric(ratings=True)``; group 1 is the number.
LABEL_PATTERN = ("^\\s*(\\d{1,2})(?:\\s*[:=)]\\s*|\\s+[-\u2013\u2014]\\s*|[-\u2013\u2014]\\s+)"
                 f"[^0-9{_LETTERS}]*[{_LETTERS}][^0-9]*$")
_LABEL = re.compile(LABEL_PATTERN)
_MIDDLE = ("neutral",)  # the middle point's short wording in many tools


def likert_scale(words) -> dict[str, float] | None:
    """The ordered labels (lower case -> 1..n) of the first :data:`LIKERT` list holding every one of
    ``words`` (lower-case, stripped answer texts), or None when no single list holds them all."""
    words = set(words)
    for scale in LIKERT:
        mapping = {w: float(i + 1) for i, w in enumerate(scale)}
        mapping.update({w: (len(scale) + 1) / 2 for w in _MIDDLE})
        if words and words <= set(mapping):
            return mapping
    return None


@dataclass(frozen=True)
class Where:
    """Where a column came from, for messages: file label, column name, line numbers of the rows."""

    label: str
    column: str
    lines: pd.Series | None = None  # file line (1-based) of each row, aligned to the data

    def examples(self, bad: pd.Series, values: pd.Series) -> str:
        idx = list(bad[bad].index[:_MAX_EXAMPLES])
        if not idx:
            return ""
        lines = [str(int(self.lines.loc[i])) if self.lines is not None else str(int(i) + 1) for i in idx]
        vals = ", ".join(repr(str(values.loc[i])[:40]) for i in idx)
        return f"(line{'s' if len(idx) > 1 else ''} {', '.join(lines)}: {vals})"

    def fail(self, bad: pd.Series, values: pd.Series, what: str, fix: str) -> None:
        n = int(bad.sum())
        msg = (f"{self.label}: column '{self.column}' {what}, but {n} value{'s' if n > 1 else ''} "
               f"could not be read {self.examples(bad, values)}. {fix}")
        raise CXDataError(msg, source=self.label, column=self.column)


def missing(s: pd.Series) -> pd.Series:
    """True where a cell is blank or one of the missing-value words (N/A, NA, null ...)."""
    text = s.astype("string").str.strip()
    return text.isna() | text.str.lower().isin(_NULLS).fillna(True)


def _clean(s: pd.Series) -> pd.Series:
    text = s.astype("string").str.strip()
    return text.mask(missing(s))


def to_number(s: pd.Series, *, decimal: str = ".", thousands: str | None = None,
              where: Where | None = None) -> pd.Series:
    """Parse numbers written with the given decimal mark and thousands separator (float64)."""
    text = _clean(s)
    t = text
    if thousands:
        t = t.str.replace(thousands, "", regex=False)
    if decimal != ".":
        t = t.str.replace(".", "\u0000", regex=False).str.replace(decimal, ".", regex=False)
    t = t.str.replace("\u2212", "-", regex=False)
    out = pd.to_numeric(t, errors="coerce").astype("float64")
    bad = text.notna() & out.isna()
    if bad.any() and where is not None:
        where.fail(bad, text, "should hold numbers", _number_hint(text[bad], decimal, thousands,
                                                                  where.column))
    return out.where(~bad)


def _number_hint(bad: pd.Series, decimal: str, thousands: str | None, column: str) -> str:
    sample = [v for v in bad.dropna().astype(str).head(20)]
    if any(re.search(r"[$€£¥₹]|\b(USD|EUR|GBP|CHF|JPY)\b", v) for v in sample):
        return f"If it holds money, set currency: ['{column}']."
    if decimal == "." and any(re.fullmatch(r"-?\d{1,3}(\.\d{3})*,\d+", v) for v in sample):
        return "Set decimal: ',' (and thousands: '.') to read numbers like 7,5 or 1.234,5."
    if decimal == "." and any(re.fullmatch(r"-?\d+,\d+", v) for v in sample):
        return "Set decimal: ',' to read numbers written like 7,5."
    if any(re.fullmatch(r"-?\d{1,3}([,. '\u00a0]\d{3})+([.,]\d+)?", v) for v in sample):
        sep = next((m.group(1) for v in sample for m in [re.search(r"\d([,. '\u00a0])\d{3}", v)] if m), ",")
        return f"Set thousands: '{sep}' to read numbers with digit grouping."
    if decimal == "," and any(re.fullmatch(r"-?\d+\.\d+", v) for v in sample):
        return "The file writes decimals with a point: remove decimal: ','."
    return "Fix or blank these cells, or map another column."


_MONEY_JUNK = re.compile(r"[^\d,.\-()]")


def to_money(s: pd.Series, *, decimal: str | None = None, where: Where | None = None) -> pd.Series:
    """Parse money text: currency symbols and codes, digit grouping and ``(12.50)`` negatives.

    The decimal mark is the last ``.`` or ``,`` followed by one or two digits (``$1,234.50``,
    ``1.234,50 €``); pass ``decimal`` to force it.
    """
    text = _clean(s)
    neg = text.str.contains(r"^\(.*\)$|^-|-\s*$|^[^\d]*-", regex=True).fillna(False).astype(bool)
    core = text.str.replace(_MONEY_JUNK, "", regex=True).str.replace(r"[()\-]", "", regex=True)

    def one(v):
        if v is None or v is pd.NA or v == "":
            return np.nan
        if decimal:
            dec = decimal
        else:
            m = re.search(r"[.,](\d{1,2})$", v)
            dec = v[m.start()] if m else None
        if dec:
            grp = "," if dec == "." else "."
            v = v.replace(grp, "").replace(dec, ".")
        else:
            v = v.replace(",", "").replace(".", "")
        try:
            return float(v)
        except ValueError:
            return np.nan

    out = pd.Series([one(v) for v in core.astype(object).where(core.notna(), None)], index=s.index,
                    dtype="float64")
    out = out.where(~neg, -out)
    bad = text.notna() & out.isna()
    if bad.any() and where is not None:
        where.fail(bad, text, "should hold money amounts",
                   "Money is read from text like '$1,234.50' or '1.234,50 €'; fix these cells or set "
                   "decimal: to the decimal mark the file uses.")
    return out


def _rating_parts(text: pd.Series, decimal: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Bare numbers, label numbers ("10 - Extremely likely" -> 10) and the remaining lower-case words."""
    num = to_number(text, decimal=decimal)
    lab = pd.to_numeric(text.str.extract(_LABEL, expand=False), errors="coerce").astype("float64")
    lab = lab.where(num.isna())
    words = text.str.lower().str.strip().where(num.isna() & lab.isna())
    return num, lab, words


def rating_values(s: pd.Series, *, decimal: str = ".") -> pd.Series | None:
    """A rating column's values, or None when the column is not one (the one label rule).

    A column is a rating column when every non-blank value is a whole number, a label
    (:data:`LABEL_PATTERN`: ``'10 - Extremely likely'`` -> 10) or an answer word of one :data:`LIKERT`
    list (``'Very satisfied'`` -> 5), and all values lie inside one scale of :data:`SCALES` (with
    words: inside that list's 1..n). Anything else (ranges such as ``'10-50'``, dates, phone numbers,
    ``'5-star'``, words of two scales, numbers beyond the scale) is not a rating column.
    """
    text = _clean(s)
    answered = text.notna()
    if not answered.any():
        return None
    num, lab, words = _rating_parts(text, decimal)
    out = num.fillna(lab)
    hi = max(h for _, h in SCALES)
    lo = min(low for low, _ in SCALES)
    said = words.dropna()
    if len(said):
        scale = likert_scale(said.unique())
        if scale is None:
            return None
        out = out.fillna(words.map(scale).astype("float64"))
        lo, hi = 1.0, float(len(scale))
    v = out[answered]
    if v.isna().any() or (v != v.round()).any() or (v < lo).any() or (v > hi).any():
        return None
    return out


def to_score(s: pd.Series, *, decimal: str = ".", where: Where | None = None) -> pd.Series:
    """Ratings: numbers, or a rating column's labels (see :func:`rating_values`).

    A column of numbers is read as numbers. A column with labels is read only when it is a rating
    column as a whole; otherwise, with ``where``, one error names the values that are not ratings
    (without ``where`` they are NaN).
    """
    text = _clean(s)
    num = to_number(text, decimal=decimal)
    if not (text.notna() & num.isna()).any():
        return num
    rated = rating_values(text, decimal=decimal)
    if rated is not None:
        return rated
    if where is not None:
        _, lab, words = _rating_parts(text, decimal)
        known = set().union(*map(set, LIKERT), _MIDDLE)
        bad = text.notna() & num.isna() & lab.isna() & ~words.isin(known).fillna(False).astype(bool)
        if bad.any():
            where.fail(bad, text, "should hold ratings (numbers, or labels such as '10 - Extremely likely' "
                       "or 'Very satisfied')", _number_hint(text[bad], decimal, None, where.column))
        said, val = words.dropna(), num.fillna(lab)
        scale = likert_scale(said.unique()) if len(said) else None
        if scale is not None:  # numbers beside answer words must lie inside the words' scale
            top = max(scale.values())
            bad = val.notna() & ((val < 1) | (val > top) | (val != val.round()))
            what = f"mixes answer words of a 1-{top:g} scale with numbers outside it"
        elif len(said):
            bad = words.notna()
            what = "mixes answer words of different scales"
        else:
            bad = val.notna() & ((val < 0) | (val > 10) | (val != val.round()))
            what = "has rating labels, so every value should be a whole number on one scale (0-10, 1-5, 1-7)"
        where.fail(bad, text, what, "Map each scale to its own column, or fix these cells.")
    return num


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|UTC|[+-]\d{2}:?\d{2})?$")
_OFFSET = re.compile(r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})$|T.*Z$")


def _zone(tz: str | None, label: str) -> ZoneInfo | None:
    if tz in (None, "", "UTC", "Z", "utc"):
        return None
    try:
        return ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError):
        raise CXDataError(f"{label}: unknown time zone {tz!r}; use an IANA name such as "
                          "'Europe/Berlin' or 'America/New_York'.", source=label) from None


def to_timestamp(s: pd.Series, *, date_format: str | None = None, formats: Sequence[str] = (),
                 tz: str | None = None, where: Where | None = None) -> pd.Series:
    """Parse timestamps to naive UTC (``datetime64[us]``).

    Values with a UTC offset (``2025-03-04 10:15:00 -0500``, ``...Z``) are exact instants; naive ones
    are local time in ``tz`` (default UTC). Tried in order: ``date_format`` if given, ISO 8601, the
    layout's ``formats``, 10-digit Unix seconds. Day-first / month-first text such as ``04.03.2025``
    is never guessed: it needs ``date_format``, and the error says which one.
    """
    label = where.label if where else "data"
    text = _clean(s)
    text = text.str.replace(r"\s+(UTC|GMT)$", " +0000", regex=True).str.replace(r"\s+", " ", regex=True)
    aware = text.str.contains(_OFFSET, regex=True).fillna(False).astype(bool)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us, UTC]")
    zone = _zone(tz, label)

    def parse(vals: pd.Series, fmt: str, is_aware: bool) -> pd.Series:
        if fmt == "unix":
            num = pd.to_numeric(vals.where(vals.str.fullmatch(r"\d{9,10}(\.\d+)?")), errors="coerce")
            return pd.to_datetime(num, unit="s", utc=True)
        if fmt == "ISO8601":
            vals = vals.where(vals.str.match(_ISO))
        if is_aware:
            return pd.to_datetime(vals, format=fmt, errors="coerce", utc=True)
        got = pd.to_datetime(vals, format=fmt, errors="coerce")
        if isinstance(got.dtype, pd.DatetimeTZDtype):  # a format with %z
            return got.dt.tz_convert("UTC")
        return got.dt.tz_localize(zone or "UTC", ambiguous="NaT",
                                  nonexistent="shift_forward").dt.tz_convert("UTC")

    for is_aware in (True, False):
        todo = text.notna() & (aware if is_aware else ~aware)
        fmts = ([date_format] if date_format else []) + ["ISO8601", *formats] + ([] if is_aware else ["unix"])
        for fmt in fmts:
            if not todo.any():
                break
            got = parse(text[todo], fmt, is_aware).astype("datetime64[us, UTC]")
            ok = got.notna()
            out.loc[got.index[ok]] = got[ok]
            todo = todo & out.isna()
    bad = text.notna() & out.isna()
    if bad.any() and where is not None:
        where.fail(bad, text, "should hold dates or timestamps", _date_hint(text[bad], date_format))
    n_aware, n_naive = int((aware & out.notna()).sum()), int((~aware & out.notna()).sum())
    if n_aware and n_naive and where is not None:
        raise CXDataError(
            f"{where.label}: column '{where.column}' mixes times with a UTC offset ({n_aware}) and "
            f"without ({n_naive}) {where.examples(~aware & out.notna(), text)}; their meaning is "
            "ambiguous. Give every value an offset or none (naive times are read in tz:).",
            source=where.label, column=where.column)
    return out.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")


def _date_hint(bad: pd.Series, date_format: str | None) -> str:
    v = str(bad.dropna().iloc[0]) if bad.notna().any() else ""
    time = ""
    m = re.search(r"\s(\d{1,2}):(\d{2})(:\d{2})?(\s?[AaPp][Mm])?", v)
    if m:
        time = (" %I:%M" if m.group(4) else " %H:%M") + (":%S" if m.group(3) else "") + (" %p" if m.group(4) else "")
    guess = None
    if re.match(r"^\d{1,2}\.\d{1,2}\.\d{4}", v):
        guess = "%d.%m.%Y"
    elif re.match(r"^\d{1,2}\.\d{1,2}\.\d{2}\b", v):
        guess = "%d.%m.%y"
    elif m2 := re.match(r"^(\d{1,2})/(\d{1,2})/(\d{4})", v):
        guess = "%d/%m/%Y" if int(m2.group(1)) > 12 else "%m/%d/%Y"
        if int(m2.group(1)) <= 12 and int(m2.group(2)) <= 12:
            return (f"Set date_format: '%m/%d/%Y{time}' (month first) or '%d/%m/%Y{time}' (day first), "
                    "whichever the export uses.")
    elif re.match(r"^\d{1,2}-\d{1,2}-\d{4}", v):
        guess = "%d-%m-%Y"
    if guess:
        return f"Set date_format: '{guess}{time}' to read dates written like {v!r}."
    if date_format:
        return f"They do not match date_format: '{date_format}'; fix the format or these cells."
    return "Set date_format: to the format the file uses (e.g. '%d.%m.%Y %H:%M')."


def looks_numeric(s: pd.Series, *, decimal: str = ".", thousands: str | None = None) -> bool:
    """True if every non-blank value parses as a number (and there is at least one)."""
    text = _clean(s)
    if text.notna().sum() == 0:
        return False
    return bool(to_number(text, decimal=decimal, thousands=thousands).notna().sum() == text.notna().sum())


def looks_timestamp(s: pd.Series, *, date_format: str | None = None) -> bool:
    """True if every non-blank value is an ISO 8601 date/time (or matches ``date_format``)."""
    text = _clean(s).dropna()
    if text.empty:
        return False
    if text.str.match(_ISO).all():
        return True
    if date_format:
        return bool(pd.to_datetime(text, format=date_format, errors="coerce").notna().all())
    return False


def slug(text: str, *, max_len: int = 48) -> str:
    """A column name from question text: ``'How easy was it? (1-5)'`` -> ``'how_easy_was_it_1_5'``."""
    s = re.sub(r"\{\{[^}]*\}\}", "", str(text))
    s = re.sub(r"[^0-9a-zA-Z]+", "_", s.lower()).strip("_")
    if len(s) > max_len:
        cut = s[:max_len]
        s = cut.rsplit("_", 1)[0] if "_" in cut else cut
    return s or "column"
