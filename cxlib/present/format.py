"""Formatting rules: one function per kind of value (share, points, duration, p-value, date ...), the
one label rule (:func:`label`) and the estimate-with-interval cell. Pure functions of numbers; missing,
NaN or infinite values become "—"; the output never contains NaN, True/False or scientific notation.
"""
from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import pandas as pd

MISSING = "—"  # em dash: missing, not applicable or suppressed
MINUS = "\u2212"  # typographic minus sign for negative numbers
CI_NOTE = "Ranges in brackets are 95% confidence intervals."
SUPPRESSED_NOTE = "— : too few answers to show reliably (suppressed), or not available."


# ============================================================================ 1. formatting rules

def _num(x) -> float | None:
    """``x`` as a finite float, or None (missing, NaN, infinite, boolean or not a number)."""
    if x is None or isinstance(x, (bool, np.bool_)):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _fixed(v: float, digits: int, *, sign: bool = False) -> str:
    """Fixed-point with thousands separators (never scientific), a real minus sign, no "-0"."""
    digits = max(int(digits), 0)
    if round(v, digits) == 0:
        return f"{0:.{digits}f}"
    body = f"{abs(v):,.{digits}f}"
    return (MINUS if v < 0 else ("+" if sign else "")) + body


def _auto_digits(v: float) -> int:
    """Decimals that show about three significant figures (at most 4 decimals, 0 from 100 up)."""
    a = abs(v)
    if a >= 100 or a == 0:
        return 0
    if a >= 10:
        return 1
    if a >= 1:
        return 2
    return min(4, 1 - math.floor(math.log10(a)))


def share(x, digits: int = 0) -> str:
    """A proportion (0..1) as a percentage.

    Parameters
    ----------
    x : float
        The share, 0.63 for 63%.
    digits : int, default 0
        Decimals of the percentage.

    Returns
    -------
    str
        "63%"; "< 1%" / "> 99%" for non-zero shares that would round to 0% / 100%; "—" when missing.

    Examples
    --------
    >>> share(0.634), share(0.0004), share(float("nan"))
    ('63%', '< 1%', '—')
    """
    v = _num(x)
    if v is None:
        return MISSING
    pct, step = 100 * v, 10.0 ** -digits
    if 0 < abs(pct) < step / 2:
        return f"< {step:.{digits}f}%" if pct > 0 else f"> {MINUS}{step:.{digits}f}%"
    if 100 - step / 2 <= pct < 100:
        return f"> {100 - step:.{digits}f}%"
    return _fixed(pct, digits) + "%"


def points(x, digits: int = 1) -> str:
    """A signed score or difference in points (NPS), one decimal: "+13.2", "−4.0", "0.0".

    Examples
    --------
    >>> points(13.157), points(-4), points(None)
    ('+13.2', '−4.0', '—')
    """
    v = _num(x)
    return MISSING if v is None else _fixed(v, digits, sign=True)


def pp(x, digits: int = 1) -> str:
    """A difference of two shares (0..1 scale) in percentage points: 0.017 -> "+1.7 pp".

    Examples
    --------
    >>> pp(0.0165)
    '+1.7 pp'
    """
    v = _num(x)
    return MISSING if v is None else _fixed(100 * v, digits, sign=True) + " pp"


def lift(x, digits: int = 1) -> str:
    """A relative change (0.166 = 16.6% more) as a signed percentage: "+16.6%".

    Examples
    --------
    >>> lift(0.1657), lift(-0.05)
    ('+16.6%', '−5.0%')
    """
    v = _num(x)
    return MISSING if v is None else _fixed(100 * v, digits, sign=True) + "%"


def count(n) -> str:
    """A whole number with thousands separators: 1234 -> "1,234" (20000.0 -> "20,000").

    Examples
    --------
    >>> count(1234), count(20000.0), count(float("nan"))
    ('1,234', '20,000', '—')
    """
    v = _num(n)
    return MISSING if v is None else _fixed(round(v), 0)


def number(x, digits: int | None = None, *, sign: bool = False) -> str:
    """A plain number with about three significant figures (``digits`` fixes the decimals).

    Never scientific notation: a non-zero value below 0.001 in size shows as "< 0.001".

    Examples
    --------
    >>> number(5.1486), number(1234.6), number(0.00327), number(1.45e-15), number(0.52, sign=True)
    ('5.15', '1,235', '0.0033', '< 0.001', '+0.52')
    """
    v = _num(x)
    if v is None:
        return MISSING
    if digits is None:
        if 0 < abs(v) < 0.001:
            return f"< {'+' if sign else ''}0.001" if v > 0 else f"> {MINUS}0.001"
        digits = _auto_digits(v)
    return _fixed(v, digits, sign=sign)


_PREFIX_CURRENCIES = {"$", "£", "¥", "₹", "€", "US$", "A$", "C$", "R$", "NZ$", "HK$"}


def money(x, currency: str = "$", digits: int | None = None) -> str:
    """An amount of money: "$1,234", "$12.50", "−$3.20", "1,234 kr".

    Parameters
    ----------
    x : float
    currency : str, default "$"
        A symbol ($, £, €, ¥ ...) goes before the amount, a code or word ("EUR", "kr") after it.
    digits : int, optional
        Decimals; default 2 below 1,000 and 0 from 1,000 up.

    Examples
    --------
    >>> money(1234.5), money(12.5), money(-3.2), money(1234, "kr")
    ('$1,234', '$12.50', '−$3.20', '1,234 kr')
    """
    v = _num(x)
    if v is None:
        return MISSING
    body = _fixed(abs(v), (2 if abs(v) < 1000 else 0) if digits is None else digits)
    sign = MINUS if v < 0 and body.strip("0.,") else ""
    return f"{sign}{currency}{body}" if currency in _PREFIX_CURRENCIES else f"{sign}{body} {currency}"


_HOURS_PER = {"second": 1 / 3600, "s": 1 / 3600, "sec": 1 / 3600, "minute": 1 / 60, "min": 1 / 60, "m": 1 / 60,
              "hour": 1.0, "h": 1.0, "hr": 1.0, "day": 24.0, "d": 24.0, "week": 168.0, "w": 168.0}


def duration(x, unit: str = "hour", *, as_given: bool = False, digits: int | None = None, like=None,
             suffix: bool = True) -> str:
    """A duration with automatic units: "40 s", "4.2 min", "45 min", "6.1 h", "2.3 days", "12 days".

    Parameters
    ----------
    x : float
        The duration, in ``unit``.
    unit : str, default "hour"
        second, minute, hour, day or week (plural and short forms accepted).
    as_given : bool, default False
        Keep ``unit`` and write it out, a whole number without decimals: a setting such as a window of
        "7 days" or "1 day" ("2.5 days" when not whole), not a measured duration.
    digits : int, optional
        With ``as_given``: this many decimals ("1.5 months"; singular when it reads "1"). Any unit name.
    like : float, optional
        Write ``x`` in the unit a duration of ``like`` (same ``unit``) gets -- days from 48 h, hours from
        an hour, else minutes -- with one decimal (none in minutes), so an estimate and its interval
        share one unit: ``duration(40, like=52)`` is "1.7 days" beside "2.2 days".
    suffix : bool, default True
        With ``like``: False leaves the unit's name out (for a column whose header names it).

    Examples
    --------
    >>> duration(0.75), duration(6.07), duration(55), duration(0.07), duration(40, unit="second")
    ('45 min', '6.1 h', '2.3 days', '4.2 min', '40 s')
    >>> duration(7, unit="day", as_given=True), duration(1, unit="days", as_given=True)
    ('7 days', '1 day')
    >>> duration(41.3, like=41.3), duration(40, like=52), duration(1.5, "month", as_given=True, digits=1)
    ('41.3 h', '1.7 days', '1.5 months')
    """
    v = _num(x)
    if v is None:
        return MISSING
    if as_given and digits is not None:
        name, said = str(unit).lower().rstrip("s") or "second", number(v, digits)
        return f"{said} {name}{'' if said == '1' else 's'}"
    if like is not None:  # the unit of `like` (e.g. the largest of an interval), fixed decimals
        per_like = _HOURS_PER.get(str(unit).lower().rstrip("s") or "s", _HOURS_PER.get(str(unit).lower())) or 1.0
        top = (_num(like) or 0.0) * per_like
        scale, name = (24.0, "days") if round(top, 1) >= 48 else (1.0, "h") if round(top * 60) >= 60 else (1 / 60, "min")
        said = number(v * per_like / scale, 0 if name == "min" else 1)
        return f"{said} {name}" if suffix else said
    if as_given:  # a setting in the unit it was given in: "7 days", never "7.0 days" or "168 h"
        name = str(unit).lower().rstrip("s") or "second"
        return (f"{count(v)} {name}{'s' if v != 1 else ''}" if float(v).is_integer() else f"{number(v)} {name}s")
    per = _HOURS_PER.get(str(unit).lower().rstrip("s") or "s", _HOURS_PER.get(str(unit).lower()))
    if per is None:
        raise ValueError(f"unknown duration unit {unit!r}; use second, minute, hour, day or week")
    h, sign = abs(v) * per, (MINUS if v < 0 else "")
    if h == 0:
        return "0 min"
    if h < 1 / 60:
        secs = round(h * 3600)
        return f"{sign}{secs} s" if secs >= 1 else "< 1 s"
    if round(h * 60, 1) < 10:
        return f"{sign}{h * 60:.1f} min"
    if round(h * 60) < 60:
        return f"{sign}{round(h * 60)} min"
    if round(h, 1) < 48:
        return f"{sign}{h:.1f} h"
    days = h / 24
    return f"{sign}{days:.1f} days" if days < 10 else f"{sign}{days:,.0f} days"


def p_value(p) -> str:
    """A p-value with three decimals, "< 0.001" below that; never scientific notation.

    Examples
    --------
    >>> p_value(1.45e-15), p_value(0.0321), p_value(1.0), p_value(float("nan"))
    ('< 0.001', '0.032', '1.000', '—')
    """
    v = _num(p)
    if v is None or v < 0 or v > 1 + 1e-9:
        return MISSING
    return "< 0.001" if v < 0.001 else f"{min(v, 1.0):.3f}"


def date(x, grain: str | None = None) -> str:
    """A date for people: "16 Nov 2026"; by ``grain``: "Nov 2026" (month), "2026 Q4" (quarter), "2026".

    With no grain a time of day is added when there is one ("19 Nov 2026 13:04").

    Examples
    --------
    >>> date("2026-11-16"), date("2026-11-01", grain="month"), date(None)
    ('16 Nov 2026', 'Nov 2026', '—')
    """
    if x is None or isinstance(x, (bool, np.bool_)):
        return MISSING
    try:
        ts = pd.Timestamp(x)
    except (TypeError, ValueError):
        return MISSING
    if pd.isna(ts):
        return MISSING
    g = (grain or "").lower()
    if g == "month":
        return f"{ts:%b %Y}"
    if g == "quarter":
        return f"{ts.year} Q{ts.quarter}"
    if g == "year":
        return f"{ts.year}"
    if g in ("week", "day", "date"):
        return f"{ts.day} {ts:%b %Y}"
    if g == "hour":
        return f"{ts.day} {ts:%b %Y %H}:00"
    if g == "" and (ts.hour or ts.minute or ts.second):
        return f"{ts.day} {ts:%b %Y %H:%M}"
    return f"{ts.day} {ts:%b %Y}"


def yes_no(x, yes: str = "Yes", no: str = "No") -> str:
    """A flag in words: "Yes" / "No" ("—" when missing); accepts bools, 0/1 and "true"/"false".

    Examples
    --------
    >>> yes_no(True), yes_no(np.False_), yes_no(None), yes_no("true")
    ('Yes', 'No', '—', 'Yes')
    """
    if isinstance(x, str):
        s = x.strip().lower()
        return yes if s in ("true", "yes", "y", "1") else (no if s in ("false", "no", "n", "0") else MISSING)
    if isinstance(x, (bool, np.bool_)):
        return yes if x else no
    v = _num(x)
    return MISSING if v is None else (yes if v else no)


def _text(x) -> str:
    """Any cell value as display text: flags in words, numbers without NaN / scientific notation."""
    if isinstance(x, (bool, np.bool_)):
        return yes_no(x)
    if isinstance(x, (pd.Timestamp, dt.date, np.datetime64)):
        return date(x)
    if isinstance(x, (int, float, np.integer, np.floating)):
        return number(x) if not float(x).is_integer() else count(x)
    if x is None or x is pd.NA or x is pd.NaT:
        return MISSING
    s = str(x)
    if s.strip() in _MISSING_WORDS:
        return MISSING
    if s.strip() in ("True", "False"):
        return yes_no(s)
    return s  # "" stays blank on purpose (e.g. a period that has not ended)


_MISSING_WORDS = {"nan", "NaN", "None", "NaT", "<NA>", "null", "NULL"}


# words that are spelled as acronyms, and pairs that are one hyphenated word
_WORDS = {"nps": "NPS", "csat": "CSAT", "ces": "CES", "ci": "CI", "id": "ID", "ids": "IDs", "mrr": "MRR",
          "arr": "ARR", "ltv": "LTV", "clv": "CLV", "srm": "SRM", "cuped": "CUPED", "url": "URL", "utm": "UTM",
          "vif": "VIF", "sms": "SMS", "faq": "FAQ", "api": "API", "ios": "iOS", "ai": "AI", "ux": "UX",
          "ui": "UI", "kpi": "KPI", "sla": "SLA", "roi": "ROI", "b2b": "B2B", "b2c": "B2C", "eu": "EU",
          "us": "US", "uk": "UK", "apac": "APAC", "emea": "EMEA", "amer": "AMER", "latam": "LATAM", "na": "NA", "r2": "R²",
          "pp": "pp", "p50": "median", "p90": "90th percentile", "q1": "Q1", "q2": "Q2", "q3": "Q3", "q4": "Q4"}
_COMPOUNDS = {("in", "app"): "in-app", ("one", "click"): "one-click", ("drop", "off"): "drop-off",
              ("follow", "up"): "follow-up", ("self", "serve"): "self-serve", ("e", "mail"): "email",
              ("sign", "up"): "sign-up", ("log", "in"): "log-in", ("add", "on"): "add-on",
              ("opt", "in"): "opt-in", ("opt", "out"): "opt-out", ("check", "out"): "checkout",
              ("on", "prem"): "on-prem", ("non", "inferior"): "non-inferior", ("pre", "period"): "pre-period"}
# common result columns whose word-by-word reading is not what a reader expects
_COLUMNS = {"n": "Count", "ci_lower": "Lower 95% limit", "ci_upper": "Upper 95% limit", "p_value": "p-value",
            "p_adjusted": "Adjusted p-value", "abs_diff": "Difference", "rel_lift": "Relative lift",
            "n_control": "Units in control", "n_variant": "Units in variant", "prob_better": "Chance better",
            "beyond_noise": "Beyond noise", "std_beta": "Standardised beta", "raw_weight": "Raw weight",
            "se": "Standard error", "sd": "Standard deviation", "p50": "Median", "p90": "90th percentile"}
_IDENT = re.compile(r"^[a-z][a-z0-9]*(?:[_\-\s][a-z0-9]+)*$")
_RATIO = re.compile(r"^([A-Za-z][\w\-]*)\s*/\s*([A-Za-z][\w\-]*)$")


def _words(name: str) -> list[str]:
    words = [w for w in re.split(r"[_\-\s]+", name) if w]
    out, i = [], 0
    while i < len(words):
        pair = tuple(words[i:i + 2])
        if pair in _COMPOUNDS:
            out.append(_COMPOUNDS[pair])
            i += 2
        else:
            out.append(_WORDS.get(words[i], words[i]))
            i += 1
    return out


def _sentence(words: list[str]) -> str:
    s = " ".join(words)
    return s[:1].upper() + s[1:] if words and words[0] not in _WORDS.values() else s


def label(name, labels: dict | None = None) -> str:
    """A human label for a column name or a category value.

    ``labels`` (e.g. a source spec's ``labels:``) wins; then common result columns; then a snake_case or
    kebab-case identifier is read as words in sentence case with acronyms and hyphenated compounds;
    "a/b" reads "A per b". Anything else (already human text, an export's own id) is returned as it is.

    Parameters
    ----------
    name : str or any
        Column name or value.
    labels : mapping, optional
        Display names, ``{name: label}``.

    Returns
    -------
    str
        Plain text (escape it before putting it into HTML; :func:`text` and :func:`table` do).

    Examples
    --------
    >>> label("in_app"), label("clicks/sessions"), label("nps_with"), label("Q2_1", {"Q2_1": "Speed"})
    ('In-app', 'Clicks per session', 'NPS with', 'Speed')
    """
    if labels and name in labels:
        return str(labels[name])
    if name is None or isinstance(name, (bool, np.bool_, float, int, np.number)):
        return _text(name)
    s = str(name).strip()
    if not s:
        return MISSING
    if s in _COLUMNS:
        return _COLUMNS[s]
    if _IDENT.match(s):
        return _sentence(_words(s))
    m = _RATIO.match(s)
    if m:
        num, den = (label(part).lower() if _IDENT.match(part) else part for part in m.groups())
        if den.endswith("s") and not den.endswith("ss") and len(den) > 3:
            den = den[:-1]
        return _sentence([*num.split(" "), "per", den]) if _IDENT.match(m.group(1)) else f"{num} per {den}"
    return s


ROLES = {
    "share": share, "points": points, "pp": pp, "lift": lift, "count": count, "number": number,
    "signed": lambda x, **kw: number(x, sign=True, **kw), "money": money, "duration": duration,
    "p_value": p_value, "date": date, "yes_no": yes_no, "text": _text, "label": label,
}
"""Cell roles of :func:`table` and their formatting rule."""


def format_value(x, role: str = "text", **options) -> str:
    """Format one value by its role (a key of :data:`ROLES`), e.g. ``format_value(0.63, "share")``.

    Examples
    --------
    >>> format_value(0.25, "share"), format_value(True, "yes_no")
    ('25%', 'Yes')
    """
    try:
        fmt = ROLES[role]
    except KeyError:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}") from None
    return fmt(x, **options)


_SIGNED_KINDS = {"points", "pp", "lift", "signed"}


def interval(est, lo, hi, kind: str = "number", **options) -> str:
    """An estimate and its interval in one string.

    Unsigned kinds use an en dash and one unit ("63% (57–69%)"), signed kinds or a negative bound use
    "to" ("+13.2 (+3.2 to +23.1)"). A missing bound reads "from x" / "up to y"; a missing estimate "—".

    Parameters
    ----------
    est, lo, hi : float
    kind : str, default "number"
        share, points, pp, lift, number, signed, count, money or duration.
    **options
        Passed to the formatter (``digits=``, ``unit=``, ``currency=``).

    Examples
    --------
    >>> interval(0.63, 0.57, 0.69, kind="share"), interval(13.16, 3.2, 23.11, kind="points")
    ('63% (57–69%)', '+13.2 (+3.2 to +23.1)')
    """
    e = format_value(est, kind, **_est_options(est, kind, options))
    if e == MISSING:
        return MISSING
    inner = interval_range(est, lo, hi, kind=kind, **options)
    return e if inner is None else f"{e} ({inner})"


def _est_options(est, kind, options) -> dict:
    """Numbers without fixed digits: the bounds get the estimate's precision."""
    if kind in ("number", "signed") and options.get("digits") is None and _num(est) is not None:
        return {**options, "digits": _auto_digits(_num(est))}
    return dict(options)


def interval_range(est, lo, hi, kind: str = "number", **options) -> str | None:
    """Only the bracketed part of :func:`interval` ("57–69%", "+3.2 to +23.1"), None without bounds.

    Examples
    --------
    >>> interval_range(0.63, 0.57, 0.69, kind="share")
    '57–69%'
    """
    options = _est_options(est, kind, options)
    if kind == "pp":  # the unit is said once, after the estimate
        lo_t, hi_t = (points(100 * _num(v), options.get("digits", 1)) if _num(v) is not None else MISSING
                      for v in (lo, hi))
    elif kind == "share":  # bounds are plain rounded shares, never "< 1%"
        lo_t, hi_t = (_fixed(100 * _num(v), options.get("digits", 0)) + "%" if _num(v) is not None else MISSING
                      for v in (lo, hi))
    else:
        lo_t, hi_t = format_value(lo, kind, **options), format_value(hi, kind, **options)
    if lo_t == MISSING and hi_t == MISSING:
        return None
    if lo_t == MISSING:
        return f"up to {hi_t}"
    if hi_t == MISSING:
        return f"from {lo_t}"
    negative = any(v is not None and v < 0 for v in (_num(lo), _num(hi)))
    if kind in _SIGNED_KINDS or negative:
        return f"{lo_t} to {hi_t}"
    unit = lo_t.rpartition(" ")[2] if kind == "duration" else "%"
    if kind in ("share", "duration") and lo_t.endswith(unit) and hi_t.endswith(unit) and lo_t[0].isdigit():
        lo_t = lo_t[:-len(unit)].rstrip()  # say the unit once: "57–69%", "5.8–6.2 h"
    return f"{lo_t}–{hi_t}"


def _p_phrase(p) -> str:
    s = p_value(p)
    return s if s.startswith("<") else f"= {s}"
