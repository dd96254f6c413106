"""What a stakeholder reads: formatted values, escaped plain-language text and Great Tables tables.

Analyses return tidy DataFrames of raw floats; this module alone turns them into words and cells. Three
layers, each built on the one before:

1. **Formatting rules** (pure functions, usable anywhere): :func:`share` ("63%"), :func:`points`
   ("+13.2"), :func:`pp` ("+1.7 pp"), :func:`lift` ("+16.6%"), :func:`count` ("1,234"), :func:`number`,
   :func:`money`, :func:`duration` ("45 min", "6.1 h", "2.3 days"), :func:`p_value` ("< 0.001"),
   :func:`date`, :func:`yes_no`, :func:`interval` ("63% (57–69%)", "+13.2 (+3.2 to +23.1)") and
   :func:`label` (``in_app`` -> "In-app"). Missing, NaN, infinite or suppressed values become "—"; the
   output never contains NaN, None, True, False, NaT or scientific notation.
2. **Escaped text**: :func:`text` fills a trusted HTML template with values that are HTML-escaped by
   construction (``markupsafe.Markup.format``) and returns :class:`Text`, a ``Markup`` string that
   notebooks display as HTML (``_repr_html_``). A segment value, variant name, driver label, stage or
   comment is data, never markup: ``<script>`` or ``**bold**`` in a value is shown literally.
   :func:`paragraph`, :func:`bullets`, :func:`answer` and :func:`key_figures` build on it; the
   ``*_summary`` functions are the plain-language answers behind each analysis' ``summarize``.
3. **Tables**: :func:`table` renders a DataFrame with Great Tables (no index, human headers, merged
   "estimate (low–high)" cells, "—" for suppressed rows, text escaped, wraps on a 390 px phone); one
   ``*_table`` helper per result of the analyses builds on it.

Examples
--------
>>> from cxlib import present
>>> present.share(0.634), present.points(13.16), present.p_value(1.45e-15)
('63%', '+13.2', '< 0.001')
>>> present.interval(0.63, 0.57, 0.69, kind="share")
'63% (57–69%)'
>>> str(present.text("Plan <strong>{plan}</strong>", plan="<b>pro</b>"))
'Plan <strong>&lt;b&gt;pro&lt;/b&gt;</strong>'
"""
from __future__ import annotations

import datetime as dt
import hashlib
import html
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from markupsafe import Markup, escape

__all__ = [
    # formatting rules
    "MISSING", "share", "points", "pp", "lift", "count", "number", "money", "duration", "p_value", "date",
    "yes_no", "interval", "interval_range", "label", "format_value", "ROLES",
    # escaped text
    "Text", "escape", "text", "paragraph", "bullets", "answer", "Figure", "figure", "change_sentence",
    "key_figures",
    # tables
    "table", "score_table", "retention_table", "retention_curve_table", "churn_table", "lifetime_table",
    "drivers_table", "themes_table", "theme_impact_table", "rising_themes_table", "experiment_table",
    "srm_table", "headline_table", "headline_figures", "segment_table", "support_changes_table",
    "close_the_loop_table", "response_times_table", "target_attainment_table", "funnel_table",
    "stage_table",
    # page parts
    "data_notes", "note_text", "NOTE_TEXT", "contents", "missing_section",
    # plain-language answers (behind the analyses' summarize functions)
    "retention_summary", "churn_summary", "lifetime_summary", "experiment_summary", "scorecard_summary",
    "drivers_summary",
]

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


def duration(x, unit: str = "hour") -> str:
    """A duration with automatic units: "40 s", "4.2 min", "45 min", "6.1 h", "2.3 days", "12 days".

    Parameters
    ----------
    x : float
        The duration, in ``unit``.
    unit : str, default "hour"
        second, minute, hour, day or week (plural and short forms accepted).

    Examples
    --------
    >>> duration(0.75), duration(6.07), duration(55), duration(0.07), duration(40, unit="second")
    ('45 min', '6.1 h', '2.3 days', '4.2 min', '40 s')
    """
    v = _num(x)
    if v is None:
        return MISSING
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
          "us": "US", "uk": "UK", "apac": "APAC", "emea": "EMEA", "latam": "LATAM", "na": "NA", "r2": "R²",
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


# ============================================================================ 2. escaped text

class Text(Markup):
    """Safe HTML: a ``markupsafe.Markup`` string that notebooks display as HTML.

    Build it with :func:`text` (values escaped by construction), never from a string that contains data.
    ``str(t)`` is the HTML; ``t.plain`` the same content as plain text (for the index page, logs or
    ``text/plain`` output).

    Examples
    --------
    >>> t = text("<strong>{v}</strong> said {c}", v="63%", c="<script>x</script>")
    >>> t.plain
    '63% said <script>x</script>'
    """

    __slots__ = ()

    def _repr_html_(self) -> str:
        return str(self)

    @property
    def plain(self) -> str:
        """The text without tags, entities unescaped; list items start lines with "- "."""
        s = re.sub(r"<style\b.*?</style>", "", str(self), flags=re.S | re.I)
        s = re.sub(r"<li\b[^>]*>", "\n- ", s, flags=re.I)
        s = re.sub(r"</(p|div|ul|h\d)>|<br\s*/?>", "\n", s, flags=re.I)
        s = html.unescape(re.sub(r"<[^>]+>", "", s))
        return "\n".join(line.strip() for line in s.splitlines() if line.strip())

    def _repr_pretty_(self, p, cycle) -> None:  # IPython's text/plain
        p.text(self.plain)


def text(template: str, /, *args, **values) -> Text:
    """Fill a trusted HTML template with escaped values.

    Parameters
    ----------
    template : str
        A literal written by the programmer (may contain tags such as ``<strong>``); never data.
    *args, **values
        Values for ``{}`` / ``{name}`` fields: escaped unless they are already :class:`Text` / ``Markup``.

    Returns
    -------
    Text

    Examples
    --------
    >>> str(text("Variant <strong>{}</strong>", "<img src=x onerror=alert(1)>"))
    'Variant <strong>&lt;img src=x onerror=alert(1)&gt;</strong>'
    """
    return Text(template).format(*args, **values)


def _safe(item) -> Markup:
    """Markup kept as it is, anything else escaped as plain text."""
    return item if isinstance(item, Markup) else escape(_text(item) if not isinstance(item, str) else item)


def paragraph(template: str, /, *args, **values) -> Text:
    """A ``<p class="cx-text">`` paragraph built by :func:`text`.

    Examples
    --------
    >>> str(paragraph("NPS is {v}.", v="+23.5"))
    '<p class="cx-text">NPS is +23.5.</p>'
    """
    return text('<p class="cx-text">{}</p>', text(template, *args, **values))


def bullets(items, *, cls: str = "cx-list") -> Text:
    """A bullet list; items are :class:`Text` (kept) or plain strings (escaped).

    Examples
    --------
    >>> str(bullets(["a < b", text("<em>{}</em>", "c")]))
    '<ul class="cx-list"><li>a &lt; b</li><li><em>c</em></li></ul>'
    """
    lis = Markup("").join(text("<li>{}</li>", _safe(i)) for i in items)
    return text('<ul class="{}">{}</ul>', cls, lis)


def answer(items, *, lead=None) -> Text:
    """A page's plain-language answer: an optional lead sentence and a bullet list, in ``div.cx-answer``.

    Examples
    --------
    >>> print(answer(["NPS is +23.5."], lead="Week of 16 Nov 2026:").plain)
    Week of 16 Nov 2026:
    - NPS is +23.5.
    """
    items = list(items)
    head = text('<p class="cx-lead">{}</p>', _safe(lead)) if lead is not None else Markup("")
    body = bullets(items) if items else Markup("")
    return text('<div class="cx-answer">{}{}</div>', head, body)


_STYLE = Markup(
    "<style>"
    ".cx-tiles{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0 12px;max-width:100%}"
    ".cx-tile{flex:1 1 150px;min-width:0;box-sizing:border-box;border:1px solid #c8ccd0;border-radius:6px;"
    "padding:8px 10px;background:#fff;color:#222}"
    ".cx-tile-label{font-size:13px;color:#444}"
    ".cx-tile-value{font-size:24px;font-weight:600;line-height:1.25}"
    ".cx-tile-interval,.cx-tile-change,.cx-tile-note{font-size:13px;line-height:1.35;overflow-wrap:break-word}"
    ".cx-answer ul{padding-left:1.2em;margin:4px 0}.cx-answer li{margin:2px 0}"
    "</style>")


@dataclass
class Figure:
    """One key-figure tile: formatted strings (plain text is escaped when rendered)."""

    label: str
    value: str
    interval: str = ""
    change: str = ""
    note: str = ""


_CHANGE_UNITS = {"share": "percentage points", "pp": "percentage points", "points": "points"}


def change_sentence(change, lo=None, hi=None, *, kind: str = "points", versus: str = "the previous period",
                    beyond_noise=None, digits: int | None = None) -> str:
    """A change in words, with its interval and whether it is beyond noise.

    ``kind`` is the kind of the metric (share changes are read as percentage points).

    Examples
    --------
    >>> change_sentence(-13.34, -24.4, -2.28, kind="points", versus="the prior 4 weeks", beyond_noise=True)
    '▼ Down 13.3 points vs the prior 4 weeks (95% CI −24.4 to −2.3): beyond noise.'
    """
    v = _num(change)
    if v is None:
        return f"No comparison with {versus}."
    scale = 100 if kind in ("share", "pp") else 1
    d = 1 if digits is None and kind in ("share", "pp", "points") else digits
    amount = number(abs(v) * scale, d)
    unit = _CHANGE_UNITS.get(kind, "")
    move = "▲ Up" if v > 0 else "▼ Down"
    s = f"{move} {amount}{' ' + unit if unit else ''} vs {versus}" if amount.strip("0.") else f"No change vs {versus}"
    if _num(lo) is not None and _num(hi) is not None:
        dd = d if d is not None else _auto_digits(v * scale)
        s += f" (95% CI {number(_num(lo) * scale, dd, sign=True)} to {number(_num(hi) * scale, dd, sign=True)})"
    if beyond_noise is not None and not (isinstance(beyond_noise, float) and math.isnan(beyond_noise)):
        s += ": beyond noise." if bool(beyond_noise) else ": within noise (could be chance)."
    else:
        s += "."
    return s


def figure(name, estimate, lo=None, hi=None, *, kind: str = "number", change=None, change_lo=None,
           change_hi=None, versus: str = "the previous period", beyond_noise=None, note: str = "",
           labels: dict | None = None, **options) -> Figure:
    """A :class:`Figure` from numbers: value, "95% CI" range and change sentence formatted by the rules.

    Examples
    --------
    >>> f = figure("nps", 13.16, 3.2, 23.1, kind="points", change=-13.3, change_lo=-24.4, change_hi=-2.3,
    ...            versus="the prior 4 weeks", beyond_noise=True)
    >>> f.label, f.value, f.interval
    ('NPS', '+13.2', '95% CI +3.2 to +23.1')
    """
    value = format_value(estimate, kind, **_est_options(estimate, kind, options))
    inner = interval_range(estimate, lo, hi, kind=kind, **options) if value != MISSING else None
    ci = f"95% CI {inner}" if inner else ""
    chg = "" if change is None and beyond_noise is None else change_sentence(
        change, change_lo, change_hi, kind=kind, versus=versus, beyond_noise=beyond_noise)
    return Figure(label(name, labels), value, ci, chg, note)


def key_figures(figures) -> Text:
    """Three to five key-figure tiles (``div.cx-tiles`` > ``div.cx-tile``) that wrap on a 390 px phone.

    Parameters
    ----------
    figures : iterable of Figure or mapping
        Each with ``label``, ``value`` and optionally ``interval``, ``change`` (a sentence that says in
        words whether the change is beyond noise) and ``note``. Plain strings are escaped.

    Examples
    --------
    >>> html_ = key_figures([Figure("NPS", "+13.2", "95% CI +3.2 to +23.1", "Down 13.3 points: beyond noise.")])
    >>> 'class="cx-tiles"' in html_ and "beyond noise" in html_
    True
    """
    tiles = []
    for f in figures:
        f = f if isinstance(f, Figure) else Figure(**f)
        parts = [text('<div class="cx-tile-label">{}</div>', _safe(f.label)),
                 text('<div class="cx-tile-value">{}</div>', _safe(f.value))]
        for cls, val in (("interval", f.interval), ("change", f.change), ("note", f.note)):
            if val:
                parts.append(text('<div class="cx-tile-{}">{}</div>', cls, _safe(val)))
        tiles.append(text('<div class="cx-tile" role="group">{}</div>', Markup("").join(parts)))
    return text('{}<div class="cx-tiles">{}</div>', _STYLE, Markup("").join(tiles))


# ============================================================================ 3. tables

def _infer_role(name, s: pd.Series) -> str:
    n = str(name)
    if n in ("p_value", "p_adjusted") or n.endswith("_p_value"):
        return "p_value"
    if pd.api.types.is_bool_dtype(s):
        return "yes_no"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "date"
    if pd.api.types.is_integer_dtype(s):
        return "count"
    if pd.api.types.is_float_dtype(s):
        if n.endswith(("_share", "_rate")) or n in ("share", "retention", "conversion", "attainment", "csat"):
            return "share"
        if n.endswith("_hours"):
            return "duration"
        return "number"
    return "text"


def _gt_text(x):
    """Title / note text for Great Tables: Markup stays HTML, anything else is escaped by GT."""
    from great_tables import html as gt_html

    return gt_html(str(x)) if isinstance(x, Markup) else _text(x)


_TEXT_ROLES = {"text", "label", "date"}


def table(df: pd.DataFrame, *, columns=None, labels: dict | None = None, title=None, subtitle=None,
          intervals: dict | None = None, spanners: dict | None = None, notes=(), groups: str | None = None,
          suppressed: str = "suppressed", keep_suppressed=("n",), options: dict | None = None,
          fills=None):
    """A stakeholder table rendered by Great Tables.

    Every cell is formatted into text by the rules of this module (so no NaN, True/False or scientific
    notation can reach the page) and handed to Great Tables, which escapes it and lays the table out: no
    index, human headers, title and notes, small type, full width, wrapping cells for a 390 px phone.

    Parameters
    ----------
    df : DataFrame
        A result table (raw numbers).
    columns : mapping or list, optional
        ``{column: role}`` in display order, roles from :data:`ROLES` ('text', 'label', 'share', 'points',
        'pp', 'lift', 'count', 'number', 'signed', 'money', 'duration', 'p_value', 'date', 'yes_no');
        a list infers roles from dtypes; default every column.
    labels : mapping, optional
        Header labels ``{column: label}`` (default :func:`label` of the name); also used for the values
        of 'label' columns.
    title, subtitle : str, optional
        Plain text (escaped) or :class:`Text`.
    intervals : mapping, optional
        ``{estimate_column: (low_column, high_column)}``: one cell "63% (57–69%)".
    spanners : mapping, optional
        ``{spanner label: [columns]}``.
    notes : iterable of str
        Source notes under the table; notes on intervals and suppression are added when they apply.
    groups : str, optional
        A column whose values become row-group headings.
    suppressed : str, default "suppressed"
        Boolean column: those rows show "—" in every non-text cell except ``keep_suppressed``.
    options : mapping, optional
        Formatter options per column, e.g. ``{"retention": {"digits": 1}, "p50": {"unit": "minute"}}``.
    fills : DataFrame, optional
        Background colours of cells: row i of ``fills`` for row i of ``df``, columns by name; a colour
        string or None. Use with printed values: colour never carries meaning alone.

    Returns
    -------
    great_tables.GT
        Displays itself in a notebook (``_repr_html_``); ``.as_raw_html()`` gives the HTML.

    Examples
    --------
    >>> t = table(pd.DataFrame({"plan": ["basic"], "retention": [0.63], "ci_lower": [0.57],
    ...                         "ci_upper": [0.69]}), columns={"plan": "label", "retention": "share"},
    ...           intervals={"retention": ("ci_lower", "ci_upper")})
    >>> "63% (57–69%)" in t.as_raw_html()
    True
    """
    from great_tables import GT, loc, style

    intervals, options, labels = dict(intervals or {}), dict(options or {}), dict(labels or {})
    hidden = {suppressed, *(c for pair in intervals.values() for c in pair)}
    if columns is None:
        columns = [c for c in df.columns if c not in hidden]
    missing = [c for c in [*columns, *(c for p in intervals.values() for c in p)] if c not in df.columns]
    if missing:
        raise ValueError(f"table has no column(s) {', '.join(map(str, missing))}")
    if not isinstance(columns, dict):
        columns = {c: _infer_role(c, df[c]) for c in columns}
    df = df.reset_index(drop=True)
    sup = (df[suppressed].fillna(False).astype(bool) if suppressed in df.columns
           else pd.Series(False, index=df.index))
    ids = {c: f"c{i}" for i, c in enumerate(columns)}  # internal names: data never becomes an id
    out = {}
    for col, role in columns.items():
        opts = options.get(col, {})
        if role == "label":
            cells = [label(v, labels) for v in df[col]]
        elif col in intervals:
            lo, hi = intervals[col]
            cells = [interval(e, a, b, kind=role, **opts) for e, a, b in zip(df[col], df[lo], df[hi])]
        else:
            cells = [format_value(v, role, **opts) for v in df[col]]
        if role not in _TEXT_ROLES and col not in keep_suppressed:
            cells = [MISSING if s else c for c, s in zip(cells, sup)]
        out[ids[col]] = pd.Series(cells, dtype=object)
    shown = pd.DataFrame(out, index=df.index)
    digest = hashlib.sha1(repr((shown.to_numpy().tolist(), list(map(str, columns)), str(title))).encode())
    gid = "cx-" + digest.hexdigest()[:10]  # stable id: re-running a notebook gives the same HTML
    g = GT(shown, groupname_col=ids[groups] if groups else None).with_id(gid)
    g = g.cols_label(**{ids[c]: label(c, labels) for c in columns if c != groups})
    numeric = [ids[c] for c, r in columns.items() if r not in _TEXT_ROLES and c != groups]
    text_cols = [ids[c] for c, r in columns.items() if r in _TEXT_ROLES and c != groups]
    if numeric:
        g = g.cols_align("right", columns=numeric)
    if text_cols:
        g = g.cols_align("left", columns=text_cols)
    if title is not None:
        g = g.tab_header(title=_gt_text(title), subtitle=_gt_text(subtitle) if subtitle is not None else None)
    for i, (name, cols) in enumerate((spanners or {}).items()):
        g = g.tab_spanner(label=_gt_text(name), columns=[ids[c] for c in cols], id=f"s{i}")
    if fills is not None:
        for col in columns:
            for row, colour in fills[col].items() if col in fills else ():
                if isinstance(colour, str):
                    g = g.tab_style(style.fill(colour), loc.body(columns=ids[col], rows=[df.index.get_loc(row)]))
    auto = [CI_NOTE] if intervals and any(c in columns for c in intervals) else []
    auto += [SUPPRESSED_NOTE] if bool(sup.any()) else []
    for note in [*notes, *auto]:
        g = g.tab_source_note(_gt_text(note))
    g = g.tab_options(container_width="100%", table_width="100%", table_font_size="14px",
                      heading_align="left", heading_title_font_size="16px", heading_subtitle_font_size="13px",
                      column_labels_font_weight="bold", data_row_padding="4px", column_labels_padding="4px",
                      row_group_padding="4px", source_notes_font_size="12px", table_margin_left="0px")
    return g.opt_css(
        f"#{gid} .gt_table {{ max-width: 100%; }}\n"
        f"#{gid} .gt_row, #{gid} .gt_col_heading, #{gid} .gt_group_heading, #{gid} .gt_sourcenote "
        "{ white-space: normal; overflow-wrap: break-word; padding-left: 4px; padding-right: 4px; }\n"
        # headers wrap between words (hyphenated when a word is longer than its column), never mid-word
        f"#{gid} .gt_col_heading {{ overflow-wrap: normal; word-break: normal; hyphens: auto; }}\n"
        f"#{gid} .gt_right {{ font-variant-numeric: tabular-nums; }}")


# ------------------------------------------------------------------ one helper per result table

def _keys(df: pd.DataFrame, first: str, by=None) -> list[str]:
    """Segment columns: ``by`` if given, else the columns before ``first`` (where the results put them)."""
    if by is not None:
        return [by] if isinstance(by, str) else list(by)
    return list(df.columns[:list(df.columns).index(first)]) if first in df.columns else []


def _key_roles(df, keys) -> dict:
    return {k: ("date" if pd.api.types.is_datetime64_any_dtype(df[k]) else "label") for k in keys}


def _period_opts(df, keys, grain):
    return {k: {"grain": grain} for k in keys if pd.api.types.is_datetime64_any_dtype(df[k])}


_SCORE_NAMES = {"nps": "NPS", "csat": "CSAT (satisfied)", "ces": "CES (ease, 1–7)"}


def score_table(result: pd.DataFrame, *, by=None, grain: str = "month", labels: dict | None = None, title=None,
                subtitle=None):
    """NPS, CSAT or CES results of :mod:`cxlib.metrics` (overall, ``by=`` segments or ``period=``).

    Examples
    --------
    >>> score_table(metrics.nps("data/sample/responses.csv", by="plan"))  # doctest: +SKIP
    """
    metric = str(result["metric"].iloc[0]) if len(result) and "metric" in result else "nps"
    keys = _keys(result, "n", by)
    cols = {**_key_roles(result, keys), "n": "count"}
    names = {"n": "Answers", **_SCORE_NAMES}
    if metric == "nps":
        cols.update(nps="points", promoter_share="share", detractor_share="share")
        names.update(promoter_share="Promoters", detractor_share="Detractors")
    elif metric == "csat":
        cols.update(csat="share")
    else:
        cols.update(ces="number", easy_share="share")
        names.update(easy_share="Found it easy")
    cols = {c: r for c, r in cols.items() if c in result.columns}
    iv = {metric: ("ci_lower", "ci_upper")}
    if "easy_share" in cols:
        iv["easy_share"] = ("easy_ci_lower", "easy_ci_upper")
    return table(result, columns=cols, intervals=iv, labels={**names, **(labels or {})}, title=title,
                 subtitle=subtitle, options={**_period_opts(result, keys, grain), "ces": {"digits": 2}})


_SHADES = ["#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#084594"]


def _shade(v) -> str | None:
    """A single-hue (colour-blind-safe) fill for a share; the number is always printed in the cell."""
    x = _num(v)
    return None if x is None else _SHADES[min(int(max(x, 0) * len(_SHADES)), len(_SHADES) - 1)]


def retention_table(table_: pd.DataFrame, *, by: str | None = None, periods: int = 6, labels: dict | None = None,
                    title=None, subtitle=None, value: str = "retention"):
    """A :func:`cxlib.cohorts.retention_table` as a cohort x period grid of shares.

    Cells of periods that have not ended yet are blank (open, not a drop); suppressed cohorts show "—".
    Cells are shaded by value (one hue), the share is printed in each.

    Examples
    --------
    >>> retention_table(cohorts.retention_table("data/sample/events.csv"))  # doctest: +SKIP
    """
    grain = table_.attrs.get("grain", "month")
    t = table_[(table_["period"] >= 1) & (table_["period"] <= periods)]
    keys = [*([by] if by else []), "cohort"]
    t = t.assign(_cell=[("" if not m else (MISSING if s else share(v)))
                        for v, m, s in zip(t[value], t["mature"], t["suppressed"])],
                 _v=t[value].where(t["mature"] & ~t["suppressed"]))
    grid = t.pivot_table(index=keys, columns="period", values="_cell", aggfunc="first")
    grid = grid.reindex(columns=sorted(grid.columns)).fillna("")
    nums = t.pivot_table(index=keys, columns="period", values="_v", aggfunc="first").reindex(
        index=grid.index, columns=grid.columns)
    names = {p: str(p) for p in grid.columns}  # under the spanner "Months since joining"
    sizes = table_.groupby(keys)["cohort_size"].first().rename("size").reset_index()
    wide = grid.rename(columns=names).reset_index().merge(sizes, on=keys, how="left")
    wide.columns.name = None
    fills = nums.rename(columns=names).reset_index(drop=True).map(_shade)
    cols = {**({by: "label"} if by else {}), "cohort": "date", "size": "count", **{n: "text" for n in names.values()}}
    nt = table(wide, columns=cols, labels={"cohort": "Cohort", "size": "Customers", **(labels or {})},
               title=title, subtitle=subtitle, options={"cohort": {"grain": grain}}, fills=fills,
               spanners={f"{grain.capitalize()}s since joining": list(names.values())}, groups=by,
               notes=[f"Share of each cohort active again in {grain} k after joining; blank: that {grain} "
                      "has not ended yet."])
    return nt.cols_align("right", columns=[f"c{i}" for i in range(len(keys) + 1, len(cols))])


def retention_curve_table(curve: pd.DataFrame, *, by: str | None = None, periods: int = 12, grain: str = "month",
                          labels: dict | None = None, title=None, subtitle=None):
    """A :func:`cxlib.cohorts.retention_curve` (pooled retention by period since joining, with intervals).

    Examples
    --------
    >>> retention_curve_table(cohorts.retention_curve(table))  # doctest: +SKIP
    """
    c = curve[(curve["period"] >= 1) & (curve["period"] <= periods)].assign(
        _period=lambda d: [f"{grain.capitalize()} {int(p)}" for p in d["period"]])
    keys = _keys(c, "period", by)
    cols = {**_key_roles(c, keys), "_period": "text", "retention": "share", "customers": "count",
            "cohorts": "count"}
    return table(c, columns=cols, intervals={"retention": ("ci_lower", "ci_upper")},
                 labels={"_period": "Since joining", "customers": "Customers", "cohorts": "Cohorts", **(labels or {})},
                 title=title, subtitle=subtitle, keep_suppressed=("customers", "cohorts"))


def churn_table(result: pd.DataFrame, *, by: str | None = None, last: int = 3, labels: dict | None = None,
                title=None, subtitle=None):
    """A :func:`cxlib.metrics.churn_rate` table: the last ``last`` complete periods per segment.

    Examples
    --------
    >>> churn_table(metrics.churn_rate("data/sample/subscriptions.csv", by="plan"))  # doctest: +SKIP
    """
    keys = _keys(result, "period", by)
    done = result[result["complete"]]
    recent = done.groupby(keys, sort=False).tail(last) if keys else done.tail(last)
    cols = {**_key_roles(recent, keys), "period": "date", "churn_rate": "share", "lost": "count", "n": "count"}
    if "revenue_retention" in recent:
        cols["revenue_retention"] = "share"
    names = {"churn_rate": "Cancelled", "lost": "Lost", "n": "Customers at start",
             "revenue_retention": "Revenue kept"}
    return table(recent, columns=cols, intervals={"churn_rate": ("ci_lower", "ci_upper")},
                 labels={**names, **(labels or {})}, title=title, subtitle=subtitle,
                 options={"period": {"grain": result.attrs.get("period", "month")}, "churn_rate": {"digits": 1}})


def lifetime_table(medians: pd.DataFrame, *, by: str | None = None, unit: str = "month", labels: dict | None = None,
                   title=None, subtitle=None):
    """Median lifetimes (``kaplan_meier(...).attrs['medians']`` or :func:`cxlib.survival.median_survival`).

    Examples
    --------
    >>> lifetime_table(km.attrs["medians"], by="plan")  # doctest: +SKIP
    """
    def cell(r):
        if r.get("suppressed", False) is True:
            return f"{MISSING} (too few customers)"
        if not r["reached"]:
            return "Not reached (over half still subscribed)"
        lo, hi = number(r["ci_lower"], 1), number(r["ci_upper"], 1)
        hi = hi if hi != MISSING else "beyond the follow-up"
        return f"{number(r['median'], 1)} {unit}s ({lo} to {hi})"

    m = medians.assign(_median=[cell(r) for _, r in medians.iterrows()])
    keys = _keys(m, "n", by)
    return table(m, columns={**_key_roles(m, keys), "_median": "text", "n": "count", "events": "count"},
                 labels={"_median": "Median lifetime", "n": "Customers", "events": "Cancelled", **(labels or {})},
                 title=title, subtitle=subtitle, notes=[CI_NOTE])


_QUADRANTS = {"fix first": "Fix first", "keep up": "Keep up", "monitor": "Monitor", "maintain": "Maintain"}


def drivers_table(result: pd.DataFrame, *, labels: dict | None = None, prefix: str = "drv_", title=None,
                  subtitle=None):
    """A :func:`cxlib.drivers.key_drivers` (or :func:`~cxlib.drivers.quadrant`) result.

    Examples
    --------
    >>> drivers_table(drivers.key_drivers("data/sample/responses.csv", outcome="nps"))  # doctest: +SKIP
    """
    if "quadrant" not in result.columns:
        from cxlib.drivers import quadrant

        result = quadrant(result)
    labels = {**(result.attrs.get("labels") or {}), **(labels or {})}
    names = {d: labels.get(d, label(str(d).removeprefix(prefix), labels)) for d in result["driver"]}
    q = result.assign(_quadrant=result["quadrant"].map(_QUADRANTS).fillna(result["quadrant"]))
    return table(q, columns={"driver": "label", "importance": "share", "mean": "number", "_quadrant": "text",
                             "n": "count"},
                 intervals={"importance": ("ci_lower", "ci_upper")}, title=title, subtitle=subtitle,
                 labels={**names, "driver": "Driver", "importance": "Share of explained variation",
                         "mean": "Average rating", "_quadrant": "Priority", "n": "Ratings"},
                 options={"mean": {"digits": 1}})


def themes_table(counts: pd.DataFrame, *, labels: dict | None = None, title=None, subtitle=None):
    """A :func:`cxlib.themes.theme_counts` result (share of comments mentioning each theme).

    Examples
    --------
    >>> themes_table(themes.theme_counts("data/sample/responses.csv"))  # doctest: +SKIP
    """
    keys = [k for k in _keys(counts, "theme") if k != "theme"]
    cols = {**_key_roles(counts, keys), "label": "text", "mentions": "count", "share": "share"}
    return table(counts, columns=cols, intervals={"share": ("ci_lower", "ci_upper")}, title=title,
                 subtitle=subtitle, options=_period_opts(counts, keys, "week"),
                 labels={"label": "Theme", "share": "Share of comments", **(labels or {})})


def theme_impact_table(impact: pd.DataFrame, *, score: str = "NPS", labels: dict | None = None, title=None,
                       subtitle=None):
    """A :func:`cxlib.themes.theme_impact` result (NPS of commenters on a theme vs the others).

    Examples
    --------
    >>> theme_impact_table(themes.theme_impact("data/sample/responses.csv"))  # doctest: +SKIP
    """
    return table(impact, columns={"label": "text", "mentions": "count", "nps_with": "points",
                                  "impact": "points", "p_value": "p_value"},
                 intervals={"impact": ("ci_lower", "ci_upper")}, title=title, subtitle=subtitle,
                 labels={"label": "Theme", "nps_with": f"{score} with theme", "impact": "Vs other commenters",
                         "p_value": "p", **(labels or {})})


def rising_themes_table(rising: pd.DataFrame, *, labels: dict | None = None, title=None, subtitle=None):
    """A :func:`cxlib.themes.rising_themes` result (this period's share vs the prior periods).

    Examples
    --------
    >>> rising_themes_table(themes.rising_themes(counts, period=week))  # doctest: +SKIP
    """
    r = rising.assign(_verdict=[("Rising beyond noise" if up else "No") for up in rising["rising"]])
    return table(r, columns={"label": "text", "share": "share", "prior_share": "share", "change": "pp",
                             "p_value": "p_value", "_verdict": "text"},
                 intervals={"change": ("ci_lower", "ci_upper")}, title=title, subtitle=subtitle,
                 labels={"label": "Theme", "share": "This period", "prior_share": "Prior periods",
                         "change": "Change", "_verdict": "Rising?", **(labels or {})})


# experiment metric kind -> (kind of its values, kind of its differences)
_EXP_KINDS = {"proportion": ("share", "pp"), "nps": ("points", "points"), "mean": ("number", "signed"),
              "ratio": ("number", "signed")}
_DECISIONS = {"win": "Win: better beyond noise", "loss": "Loss: worse beyond noise",
              "inconclusive": "Inconclusive: within noise", "guardrail breached": "Guardrail breached: worse",
              "blocked by guardrail": "Better, but blocked: a guardrail broke"}


def experiment_table(result: pd.DataFrame, *, by: str | None = None, labels: dict | None = None, title=None,
                     subtitle=None):
    """A :func:`cxlib.experiments.compare` result: difference and relative lift with intervals,
    adjusted p-value and the decision in words, one row per metric and variant.

    Examples
    --------
    >>> experiment_table(experiments.compare(df, control="control", metrics=metrics))  # doctest: +SKIP
    """
    control = label(result.attrs.get("control", "control"), labels)

    def diff(r):
        if _exp_unmeasured(r):  # an arm without units: the reason in words, no number
            return _exp_unmeasured_words(r, control, labels, first=True)
        kind = _EXP_KINDS.get(r["kind"], ("number", "signed"))[1]
        opts = {"digits": 2} if kind == "pp" else {}
        return interval(r["abs_diff"], r["abs_ci_lower"], r["abs_ci_upper"], kind=kind, **opts)

    r = result.assign(_diff=[diff(x) for _, x in result.iterrows()],
                      _metric=[label(m, labels) for m in result["metric"]],
                      _decision=[_DECISIONS[NOT_MEASURED] if _exp_unmeasured(x) else
                                 _DECISIONS.get(x["decision"], x["decision"]) for _, x in result.iterrows()])
    keys = [by] if by else []
    cols = {"_metric": "text", "variant": "label", **_key_roles(r, keys), "_diff": "text", "rel_lift": "lift",
            "p_adjusted": "p_value", "_decision": "text"}
    return table(r, columns=cols, groups="_metric", title=title, subtitle=subtitle,
                 notes=[text("Compared with {}; brackets: 95% confidence interval; p-values adjusted for multiple "
                             "comparisons.", label(result.attrs.get("control", "control"), labels))],
                 labels={"variant": "Variant", "_diff": "Difference vs control", "rel_lift": "Relative change",
                         "p_adjusted": "Adjusted p", "_decision": "Result", **(labels or {})})


def srm_table(srm_result, *, labels: dict | None = None, title=None, subtitle=None):
    """The per-variant table of an :func:`cxlib.experiments.srm` check, with its verdict as a note.

    Examples
    --------
    >>> srm_table(experiments.srm({"control": 5000, "b": 5100}))  # doctest: +SKIP
    """
    verdict = (f"Sample ratio mismatch (p = {p_value(srm_result.p_value)}): assignment or logging is broken."
               if srm_result.mismatch else
               f"Allocation check passed: counts match the plan (p = {p_value(srm_result.p_value)}).")
    return table(srm_result.table, columns={"variant": "label", "n": "count", "expected_n": "count",
                                            "observed_share": "share", "expected_share": "share"},
                 labels={"variant": "Variant", "n": "Units", "expected_n": "Expected units",
                         "observed_share": "Share", "expected_share": "Planned share", **(labels or {})},
                 options={"observed_share": {"digits": 1}, "expected_share": {"digits": 1}},
                 title=title, subtitle=subtitle, notes=[verdict])


_HEAD_KINDS = {"nps": ("points", {}), "csat": ("share", {}), "ces": ("number", {"digits": 2})}


def _head_cells(head: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, r in head.iterrows():
        kind, opts = _HEAD_KINDS.get(r["metric"], ("number", {}))
        ck = "pp" if kind == "share" else ("points" if kind == "points" else "signed")
        rows.append({"value": interval(r["value"], r["ci_lower"], r["ci_upper"], kind=kind, **opts),
                     "change": interval(r["change"], r["change_ci_lower"], r["change_ci_upper"], kind=ck,
                                        **({"digits": 2} if ck == "signed" else {})),
                     "verdict": ("No comparison (too few answers)" if _num(r["change"]) is None
                                 else "Beyond noise" if r["beyond_noise"] else "Within noise")})
    return pd.DataFrame(rows, index=head.index)


def headline_table(head: pd.DataFrame, *, labels: dict | None = None, title=None, subtitle=None):
    """A :func:`cxlib.scorecard.headline` result: this week's value and its change against each comparison.

    Examples
    --------
    >>> headline_table(scorecard.headline("data/sample/responses.csv"))  # doctest: +SKIP
    """
    h = head.join(_head_cells(head).add_prefix("_"))
    h = h.assign(_metric=[f"{_SCORE_NAMES.get(m, label(m, labels))} ({count(n)} answers)"
                          for m, n in zip(h["metric"], h["n"])])
    return table(h, columns={"_metric": "text", "comparison": "label", "_value": "text",
                             "_change": "text", "p_value": "p_value", "_verdict": "text"}, groups="_metric",
                 labels={"comparison": "Compared with", "_value": "This week",
                         "_change": "Change", "_verdict": "Verdict", **(labels or {})},
                 title=title, subtitle=subtitle, notes=[CI_NOTE])


def headline_figures(head: pd.DataFrame, *, labels: dict | None = None) -> Text:
    """Key-figure tiles of a :func:`cxlib.scorecard.headline` result (change against the prior weeks).

    Examples
    --------
    >>> headline_figures(scorecard.headline("data/sample/responses.csv"))  # doctest: +SKIP
    """
    figs = []
    for metric, g in head.groupby("metric", sort=False):
        r = g[g["comparison"] != "previous week"].iloc[0] if (g["comparison"] != "previous week").any() else g.iloc[0]
        kind, opts = _HEAD_KINDS.get(metric, ("number", {}))
        figs.append(figure(metric, r["value"], r["ci_lower"], r["ci_upper"], kind=kind, change=r["change"],
                           change_lo=r["change_ci_lower"], change_hi=r["change_ci_upper"],
                           versus=f"the {label(r['comparison']).lower()}", beyond_noise=r["beyond_noise"],
                           note=f"{count(r['n'])} answers", labels={**_SCORE_NAMES, **(labels or {})}, **opts))
    return key_figures(figs)


def segment_table(seg: pd.DataFrame, *, labels: dict | None = None, title=None, subtitle=None):
    """A :func:`cxlib.scorecard.segment_table` result: NPS per segment value, grouped by segment.

    Examples
    --------
    >>> segment_table(scorecard.segment_table("data/sample/responses.csv"))  # doctest: +SKIP
    """
    if seg.empty:  # a week without answers: segment_answer says so; no empty table
        return Text("")
    s = seg.assign(_segment=[label(v, labels) for v in seg["segment"]])
    return table(s, columns={"_segment": "text", "value": "label", "n": "count", "nps": "points"}, groups="_segment",
                 intervals={"nps": ("ci_lower", "ci_upper")}, title=title, subtitle=subtitle,
                 labels={"value": "Segment", "n": "Answers", "nps": "NPS", **(labels or {})})


def support_changes_table(changes: pd.DataFrame, *, labels: dict | None = None, title=None, subtitle=None):
    """A :func:`cxlib.scorecard.support_changes` result: this week's median response time vs usual.

    Examples
    --------
    >>> support_changes_table(scorecard.support_changes("data/sample/tickets.csv"))  # doctest: +SKIP
    """
    key = changes.columns[0]

    def verdict(r):
        if _num(r.get("p_value")) is None:
            return "No comparison (too few tickets)"
        if not r["beyond_noise"]:
            return "Within noise"
        return f"{'Slower' if r['ratio'] > 1 else 'Faster'} beyond noise ({number(r['ratio'], 1)}×)"

    c = changes.assign(_verdict=[verdict(r) for _, r in changes.iterrows()])
    return table(c, columns={key: "label", "median_hours": "duration", "prior_median_hours": "duration",
                             "slower_share": "share", "p_value": "p_value", "_verdict": "text"},
                 labels={"median_hours": "Median this week", "prior_median_hours": "Usual median",
                         "slower_share": "Slower than usual", "_verdict": "Verdict", **(labels or {})},
                 title=title, subtitle=subtitle)


def close_the_loop_table(loop: pd.DataFrame, *, score: str = "nps", labels: dict | None = None, title=None,
                         subtitle=None):
    """A :func:`cxlib.scorecard.close_the_loop` list: detractors to call back, with their comment.

    Five columns to fit a phone (customer, score, comment, themes, latest ticket); the answer time and
    touchpoint stay in the CSV.

    Examples
    --------
    >>> close_the_loop_table(scorecard.close_the_loop("data/sample/responses.csv"))  # doctest: +SKIP
    """
    who = "customer_id" if "customer_id" in loop.columns else "respondent_id"  # surveys without customer ids
    cols = {who: "text", score: "count", "comment": "text", "themes": "text", "latest_ticket": "label"}
    cols = {c: r for c, r in cols.items() if c in loop.columns}
    if "latest_ticket" in loop.columns:
        loop = loop.assign(latest_ticket=loop["latest_ticket"].replace({"none": "No ticket"}))
    return table(loop, columns=cols, title=title, subtitle=subtitle,
                 labels={"customer_id": "Customer", "respondent_id": "Respondent", "response_time": "Answered",
                         score: "Score",
                         "latest_ticket": "Latest ticket", **(labels or {})})


def response_times_table(times: pd.DataFrame, *, labels: dict | None = None, title=None, subtitle=None):
    """A :func:`cxlib.support.response_times` result: median and 90th percentile with intervals.

    Examples
    --------
    >>> response_times_table(support.response_times("data/sample/tickets.csv"))  # doctest: +SKIP
    """
    keys = _keys(times, "measure")
    unit = str(times["unit"].iloc[0]) if len(times) and "unit" in times else "hour"
    return table(times, columns={**_key_roles(times, keys), "n": "count", "p50": "duration", "p90": "duration"},
                 intervals={"p50": ("p50_ci_lower", "p50_ci_upper"), "p90": ("p90_ci_lower", "p90_ci_upper")},
                 options={"p50": {"unit": unit}, "p90": {"unit": unit}, **_period_opts(times, keys, "week")},
                 labels={"n": "Tickets", "p50": "Median", "p90": "90% answered within", **(labels or {})},
                 title=title, subtitle=subtitle)


def target_attainment_table(attain: pd.DataFrame, *, labels: dict | None = None, title=None, subtitle=None):
    """A :func:`cxlib.support.target_attainment` result: share of tickets within each channel's target.

    Examples
    --------
    >>> target_attainment_table(support.target_attainment(tickets, targets={"email": 12}))  # doctest: +SKIP
    """
    key = attain.columns[0]
    unit = str(attain["unit"].iloc[0]) if len(attain) and "unit" in attain else "hour"
    return table(attain, columns={key: "label", "target": "duration", "n": "count", "attainment": "share"},
                 intervals={"attainment": ("ci_lower", "ci_upper")}, options={"target": {"unit": unit}},
                 labels={"target": "Target", "n": "Tickets", "attainment": "Within target", **(labels or {})},
                 title=title, subtitle=subtitle)


def funnel_table(steps: pd.DataFrame, *, by: str | None = None, labels: dict | None = None, title=None,
                 subtitle=None):
    """A :func:`cxlib.journey.funnel` result: reached, step conversion with interval, overall, time taken.

    Examples
    --------
    >>> funnel_table(journey.funnel("data/sample/events.csv"))  # doctest: +SKIP
    """
    keys = _keys(steps, "step", by)
    cols = {**_key_roles(steps, keys), "step": "label", "reached": "count", "conversion": "share",
            "overall": "share", "median_hours_from_previous": "duration"}
    return table(steps, columns=cols, intervals={"conversion": ("ci_lower", "ci_upper")}, title=title,
                 subtitle=subtitle, keep_suppressed=("reached",), groups=keys[0] if len(keys) == 1 else None,
                 labels={"step": "Step", "reached": "Customers", "conversion": "From previous step",
                         "overall": "From first step", "median_hours_from_previous": "Median time from previous",
                         **(labels or {})})


def stage_table(stages: pd.DataFrame, *, labels: dict | None = None, title=None, subtitle=None):
    """A :func:`cxlib.journey.stage_metrics` result: NPS per journey stage, the weakest one marked in words.

    Examples
    --------
    >>> stage_table(journey.stage_metrics("data/sample/responses.csv"))  # doctest: +SKIP
    """
    key = stages.columns[0]
    weakest = stages["weakest"] if "weakest" in stages else pd.Series(False, index=stages.index)
    s = stages.assign(_stage=[label(v, labels) + (" (weakest)" if w else "") for v, w in zip(stages[key], weakest)])
    return table(s, columns={"_stage": "text", "n": "count", "nps": "points", "promoter_share": "share",
                             "detractor_share": "share"},
                 intervals={"nps": ("ci_lower", "ci_upper")}, title=title, subtitle=subtitle,
                 labels={"_stage": label(key, labels), "n": "Answers", "nps": "NPS", "promoter_share": "Promoters",
                         "detractor_share": "Detractors", **(labels or {})})


# ============================================================================ plain-language answers

def _segment(by, value, labels=None) -> Text:
    return text("{} <strong>{}</strong>", label(by, labels), label(value, labels))


def retention_summary(table_: pd.DataFrame, *, by: str | None = None, period: int = 1,
                      labels: dict | None = None) -> Text:
    """Period-``period`` retention overall and per segment, and how many cells are still open.

    Examples
    --------
    >>> retention_summary(cohorts.retention_table("data/sample/events.csv"))  # doctest: +SKIP
    """
    from cxlib.cohorts import retention_curve

    grain = table_.attrs.get("grain", "month")
    items = []
    row = retention_curve(table_, min_n=table_.attrs.get("min_n", 30))
    row = row[row["period"] == period]
    if not row.empty and not row["suppressed"].iloc[0]:
        r = row.iloc[0]
        items.append(text("<strong>{}</strong> of customers are active again in {} {} after joining "
                          "(95% CI {}; n = {} customers in {} cohorts).", share(r["retention"]), grain, period,
                          interval_range(r["retention"], r["ci_lower"], r["ci_upper"], kind="share"),
                          count(r["customers"]), count(r["cohorts"])))
    if by:
        curve = retention_curve(table_, by=by)
        for _, r in curve[(curve["period"] == period) & ~curve["suppressed"]].iterrows():
            items.append(text("{}: {} (95% CI {}; n = {}).", _segment(by, r[by], labels), share(r["retention"]),
                              interval_range(r["retention"], r["ci_lower"], r["ci_upper"], kind="share"),
                              count(r["customers"])))
    open_cells = count(int((~table_["mature"]).sum()))
    end, at = table_.attrs.get("data_end"), table_.attrs.get("as_of")
    if end is not None and at is not None and not _holds_as_of(_nps_period_start(end, grain), grain, at):
        items.append(text("{} cells are not complete (the data end on {}, before their {} ended): they are shown "
                          "blank and left out of averages; they are not drops.", open_cells,
                          date(pd.Timestamp(end).normalize()), grain))
    else:
        items.append(text("{} cells are still open (their {} has not ended): they are shown blank and left out of "
                          "averages; they are not drops.", open_cells, grain))
    return answer(items)


def churn_summary(result: pd.DataFrame, *, by: str | None = None, last: int = 6, labels: dict | None = None) -> Text:
    """Pooled churn of the last ``last`` complete periods per segment (lost / at risk, Wilson 95% interval).

    Examples
    --------
    >>> churn_summary(metrics.churn_rate("data/sample/subscriptions.csv"))  # doctest: +SKIP
    """
    from cxlib.cohorts import _wilson

    period = result.attrs.get("period", "month")
    done = result[result["complete"]]
    recent = sorted(done["period"].unique())[-last:]
    done = done[done["period"].isin(recent)]
    groups = [(text("All customers"), done)] if not by else [(_segment(by, k, labels), g)
                                                             for k, g in done.groupby(by)]
    items = []
    for who, g in groups:
        lost, n = int(g["lost"].sum()), int(g["n"].sum())
        if n == 0:
            continue
        lo, hi = _wilson([lost], [n], 0.05)
        items.append(text("{}: <strong>{}</strong> of customers cancel per {} (95% CI {}; {} lost of {} "
                          "customer-{}s over the last {} complete {}s).", who, share(lost / n, 1), period,
                          interval_range(lost / n, lo[0], hi[0], kind="share", digits=1),
                          count(lost), count(n), period, len(recent), period))
    return answer(items)


def churn_method(result: pd.DataFrame) -> Text:
    """The method paragraph under a :func:`cxlib.metrics.churn_rate` trend: what the rate is, and what its
    hollow point is: the period in progress when it holds the analysis date (``attrs['as_of']``), else
    the last period of data, not complete (the subscriptions end on ``attrs['data_end']``)."""
    period = result.attrs.get("period", "month")
    out = text("Churn rate = subscribers lost in the {p} ÷ subscribers active at its start (a customer who starts "
               "during the {p} is not yet at risk), with a Wilson 95% interval.", p=period)
    open_ = result[~result["complete"].astype(bool)] if "complete" in result else result.iloc[:0]
    if open_.empty:
        return paragraph("{}", out)
    last = pd.Timestamp(open_["period"].max())
    end = result.attrs.get("data_end")
    if end is None or _holds_as_of(last, period, result.attrs.get("as_of")):
        return paragraph("{} The {} in progress (hollow point) is not over.", out, period)
    return paragraph("{} {}, the last {} of data (hollow point), is not complete: the subscriptions end on {}.", out,
                     nps_period_name(last, period), period, date(pd.Timestamp(end).normalize()))


def lifetime_summary(medians: pd.DataFrame, *, by: str | None = None, test: dict | None = None,
                     unit: str = "month", labels: dict | None = None) -> Text:
    """Median lifetimes in words (and the log-rank test between segments).

    Examples
    --------
    >>> lifetime_summary(km.attrs["medians"], by="plan", test=survival.logrank(...))  # doctest: +SKIP
    """
    items = []
    for _, r in medians.iterrows():
        who = _segment(by, r[by], labels) if by else text("All customers")
        if r.get("suppressed", False) is True:
            items.append(text("{}: too few customers to estimate a median lifetime (n = {}).", who, count(r["n"])))
        elif r["reached"]:
            hi = number(r["ci_upper"], 1)
            items.append(text("{}: half of the customers have cancelled after <strong>{} {}s</strong> (95% CI {} "
                              "to {}; n = {}, {} cancelled).", who, number(r["median"], 1), unit,
                              number(r["ci_lower"], 1), hi if hi != MISSING else "beyond the follow-up",
                              count(r["n"]), count(r["events"])))
        else:
            items.append(text("{}: median lifetime <strong>not reached</strong>: more than half are still "
                              "subscribed at the end of the follow-up (n = {}, {} cancelled).", who,
                              count(r["n"]), count(r["events"])))
    if test is not None:
        differ = _num(test["p_value"]) is not None and test["p_value"] < 0.05
        items.append(text("The lifetime curves {} (log-rank χ² = {}, df = {}, p {}).",
                          "differ" if differ else "are not distinguishable from each other",
                          number(test["statistic"], 1), count(test["df"]), _p_phrase(test["p_value"])))
    return answer(items)


def _p_phrase(p) -> str:
    s = p_value(p)
    return s if s.startswith("<") else f"= {s}"


def experiment_summary(result: pd.DataFrame, *, srm_result=None, labels: dict | None = None) -> Text:
    """A :func:`cxlib.experiments.compare` result in words: allocation check first, then guardrail
    breaches, wins, losses and inconclusive results. A failed SRM check suppresses win / loss language.

    Examples
    --------
    >>> experiment_summary(result, srm_result=experiments.srm(df))  # doctest: +SKIP
    """
    items = []
    broken = srm_result is not None and srm_result.mismatch
    if srm_result is not None:
        if broken:
            items.append(text("<strong>Warning: sample ratio mismatch</strong> (p {}): the arms did not receive the "
                              "planned shares of units. Assignment or logging is broken; no result below can be "
                              "called a win or a loss until the cause is found.", _p_phrase(srm_result.p_value)))
        else:
            items.append(text("Allocation check passed: unit counts match the plan (SRM p {}).",
                              _p_phrase(srm_result.p_value)))
    order = {"guardrail breached": 0, "blocked by guardrail": 1, "win": 1, "loss": 2, "inconclusive": 3,
             "not measured": 5}
    control = label(result.attrs.get("control", "control"), labels)
    ranked = result.assign(_o=result["decision"].map(order).fillna(4)).sort_values("_o", kind="mergesort")
    for _, r in ranked.iterrows():
        vk, dk = _EXP_KINDS.get(r["kind"], ("number", "signed"))
        what = text("<strong>{}</strong> vs {} on <strong>{}</strong>", label(r["variant"], labels), control,
                    label(r["metric"], labels))
        opts = {"digits": 2} if dk == "pp" else {}
        if _exp_unmeasured(r):  # no estimate to call anything, SRM or not
            items.append(text("Not measured: {}: {} (n = {} vs {}).", what, _exp_unmeasured_words(r, control, labels),
                              count(r["n_variant"]), count(r["n_control"])))
            continue
        ci = text("{} (95% CI {}), relative {} (adjusted p {}; n = {} vs {})",
                  format_value(r["abs_diff"], dk, **_est_options(r["abs_diff"], dk, opts)),
                  interval_range(r["abs_diff"], r["abs_ci_lower"], r["abs_ci_upper"], kind=dk, **opts),
                  lift(r["rel_lift"]), _p_phrase(r["p_adjusted"]), count(r["n_variant"]), count(r["n_control"]))
        if broken:
            items.append(text("{}: {} (not interpretable: SRM).", what, ci))
        elif r["decision"] == "guardrail breached":
            items.append(text("<strong>Guardrail breached</strong>: {} got worse: {}.", what, ci))
        elif r["decision"] == "blocked by guardrail":
            items.append(text("<strong>Better, but blocked</strong> (a guardrail of this variant broke): {}, {}.",
                              what, ci))
        elif r["decision"] == "win":
            items.append(text("<strong>Win</strong>: {}, {}.", what, ci))
        elif r["decision"] == "loss":
            items.append(text("<strong>Loss</strong>: {}, {}.", what, ci))
        else:
            items.append(text("Inconclusive (within noise): {}, {}.", what, ci))
    return answer(items)


def scorecard_summary(head: pd.DataFrame, *, support_table: pd.DataFrame | None = None,
                      rising: pd.DataFrame | None = None, stages: pd.DataFrame | None = None,
                      labels: dict | None = None) -> Text:
    """The scorecard's answer: each headline metric and what changed beyond noise (support speed,
    rising comment themes, the weakest journey stage).

    Examples
    --------
    >>> scorecard_summary(scorecard.headline("data/sample/responses.csv"))  # doctest: +SKIP
    """
    w = head.attrs.get("week")
    items = list(_unanswered(head))
    for metric, g in head.groupby("metric", sort=False):
        if not (g["n"] > 0).any():
            continue  # said above, with the last week that had answers
        r = g.iloc[0]
        prior = g[g["comparison"] != "previous week"]
        prior = prior.iloc[0] if not prior.empty else r
        kind, opts = _HEAD_KINDS.get(metric, ("number", {}))
        line = text("<strong>{} {}</strong> (95% CI {}, n = {})", _SCORE_NAMES.get(metric, label(metric, labels)),
                    format_value(r["value"], kind, **opts),
                    interval_range(r["value"], r["ci_lower"], r["ci_upper"], kind=kind, **opts) or MISSING,
                    count(r["n"]))
        if _num(prior["change"]) is not None:
            said = change_sentence(prior["change"], prior["change_ci_lower"], prior["change_ci_upper"], kind=kind,
                                   versus=f"the {label(prior['comparison']).lower()}",
                                   beyond_noise=prior["beyond_noise"], digits=opts.get("digits"))
            line = text("{}: {} (p {})", line, said.rstrip("."), _p_phrase(prior["p_value"]))
        items.append(text("{}.", line))
    if support_table is not None and not support_table.empty:
        key = support_table.columns[0]
        for _, s in support_table[support_table["beyond_noise"]].iterrows():
            items.append(text("Support: <strong>{}</strong> first responses got {}: median <strong>{}</strong> "
                              "against {} in the prior weeks ({}×; {} of tickets slower than the usual median; "
                              "Mann-Whitney p {}).", label(s[key], labels), "slower" if s["ratio"] > 1 else "faster",
                              duration(s["median_hours"]), duration(s["prior_median_hours"]), number(s["ratio"], 1),
                              share(s["slower_share"]), _p_phrase(s["p_value"])))
        if not support_table["beyond_noise"].any():
            items.append(text("Support response times: no channel changed beyond noise."))
    if rising is not None and not rising.empty:
        up = rising[rising["rising"]]
        for _, r in up.iterrows():
            items.append(text("Rising theme: <strong>{}</strong> in {} of comments (prior weeks {}).", r["label"],
                              share(r["share"]), share(r["prior_share"])))
        if up.empty:
            items.append(text("No comment theme rose beyond noise."))
    if stages is not None and "weakest" in stages and stages["weakest"].any():
        s = stages[stages["weakest"]].iloc[0]
        items.append(text("Weakest journey stage: <strong>{}</strong> (NPS {}, 95% CI {}, n = {}, all weeks).",
                          label(s.iloc[0], labels), points(s["nps"]),
                          interval_range(s["nps"], s["ci_lower"], s["ci_upper"], kind="points") or MISSING,
                          count(s["n"])))
    lead = text("Week of <strong>{}</strong>:", date(w)) if w is not None else None
    return answer(items, lead=lead)


def _scale_words(result) -> str:
    """'1–5' from a key-driver result's rating scale (``attrs['scale']``), else '1–10'."""
    lo, hi = (result.attrs.get("scale") or (1, 10))[:2]
    return f"{number(lo, 0)}–{number(hi, 0)}"


def drivers_summary(result: pd.DataFrame, *, labels: dict | None = None, prefix: str = "drv_") -> Text:
    """A :func:`cxlib.drivers.key_drivers` result in words: top three drivers and the fix-first list.

    Examples
    --------
    >>> drivers_summary(drivers.key_drivers("data/sample/responses.csv", outcome="nps"))  # doctest: +SKIP
    """
    from cxlib.drivers import quadrant

    labels = {**(result.attrs.get("labels") or {}), **(labels or {})}
    name = lambda d: labels.get(d, label(str(d).removeprefix(prefix), labels))  # noqa: E731
    q = quadrant(result)
    r2 = result.attrs.get("r2")
    tops = [text("<strong>{}</strong> {}", name(r.driver), interval(r.importance, r.ci_lower, r.ci_upper,
                                                                     kind="share")) for r in q.head(3).itertuples()]
    items = [text("The strongest drivers of the {} score are {} of the explained variation (95% bootstrap "
                  "intervals).", label(result.attrs.get("outcome", "score"), labels), Markup(", ").join(tops))]
    if _num(r2) is not None:
        items.append(text("Together the {} ratings explain R² = {} of the score's variation, from {} respondents "
                          "who rated every driver ({} straight-liners left out).", count(len(result)),
                          number(r2, 2), count(result.attrs.get("n_model", 0)),
                          count(result.attrs.get("n_straightliners", 0))))
    fix = q[q["quadrant"] == "fix first"]
    if not fix.empty:
        items.append(text("<strong>Fix first</strong> (important but rated below average): {}.", Markup(", ").join(
            text("{} (average {} on {})", name(r.driver), number(r.mean, 1), _scale_words(result))
            for r in fix.itertuples())))
    return answer(items)


# ------------------------------------------------------------------------------------------ page parts

#: Words for each note code (cxlib.notes): a template over the note's values, escaped by :func:`text`.
#: Values named ``last``, ``as_of``, ``week`` ... are formatted as dates; counts as counts.
#: A code whose words depend on its values' kind has a function (note -> Text) instead of a template.
NOTE_TEXT: dict[str, str | Callable] = {
    "blank_rows_skipped": ("{table}: {count} blank rows (every cell empty, as a spreadsheet leaves at the end) "
                           "are not records and were skipped."),
    "segment_case_merged": ("{table}: in column '{column}', {variants} differ only by case and are counted "
                            "together as {value}."),
    "data_ends_early": ("{table} ends on {last}, more than a {period} before the analysis date ({as_of}): "
                        "later {period}s are not observed and are left blank, not shown as zero."),
    "funnel_step_missing": ("{table}: column '{column}' has no event named {steps}, so nobody reached that "
                            "step (shown as 0). Check the spelling: the column has {n_available} event "
                            "names, among them {available}."),
    "demo_table_left_out": ("The {table} parameter still points at the demo data while {instead} is your own "
                            "data, so the {table} table is left out: demo rows never mix into your report. "
                            "Give your own {table} to add what it shows."),
    "sample_default_skipped": lambda n: text(
        "Your {} table does not have the demo data's columns that these defaults name, so those parts are "
        "skipped: {}. Name your own columns with those parameters.", n["table"],
        "; ".join(f"{p} ({', '.join(c)})" for p, c in zip(n["parameters"], n["columns"]))),
    "heavy_tail": ("{metric} has a heavy tail: capping it at its {percentile} percentile ({cap_value}) moves the "
                   "{arm} mean by {max_shift} standard errors."),
    "capped_covariate": ("{covariate}, the covariate of {metric}, is capped by the same rule: at its {percentile} "
                         "percentile ({cap_value})."),
    # every row after the analysis date (cxlib.empty.nothing_before): an empty part is a finding
    "nothing_before_as_of": lambda n: text(
        "{}: no {} on or before the analysis date ({}) in '{}'; the first is on {}, so this part is empty. "
        "A later analysis date includes them.", n["table"], n["what"], date(pd.Timestamp(n["as_of"]), "day"),
        n["column"], date(pd.Timestamp(n["first"]), "day")),
}


def _ordinal(v: float) -> str:
    """99.9 -> '99.9th', 99 -> '99th', 91 -> '91st' (a percentile's name)."""
    s = f"{float(v):g}"
    teen = "." not in s and s.endswith(("11", "12", "13"))
    return s + ("th" if teen else {"1": "st", "2": "nd", "3": "rd"}.get(s[-1], "th"))


def _note_value(key: str, value):
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        return date(value)
    if isinstance(value, bool):
        return yes_no(value)
    if key == "percentile" and isinstance(value, (int, float, np.number)):
        return _ordinal(value)
    if isinstance(value, (int, np.integer)):
        return count(value)
    if isinstance(value, (float, np.floating)):  # never a raw float repr (0.8234567) on a page
        return number(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(_note_value(key, v)) for v in value)
    return value


def note_text(note) -> Text | str:
    """Words for one note: a :class:`cxlib.notes.Note` through :data:`NOTE_TEXT` (escaped), a string as it is.

    Examples
    --------
    >>> from cxlib.notes import note
    >>> str(note_text(note("data_ends_early", table="a.csv", last=pd.Timestamp("1998-06-30"),
    ...                    as_of=pd.Timestamp("2026-12-06"), period="month")))[:30]
    'a.csv ends on 30 Jun 1998, mor'
    """
    code = getattr(note, "code", None)
    if code is None:
        return note
    template = NOTE_TEXT.get(code)
    if callable(template):  # words that depend on the values' kind (a score in points or as a share)
        return template(note)
    values = {k: _note_value(k, v) for k, v in (getattr(note, "values", None) or {}).items()}
    if template is None:  # a code without words yet: say the code and its values, never drop it
        return text("{}: {}", label(code), ", ".join(f"{k} {v}" for k, v in values.items()))
    return text(template, **values)


def rows_after_as_of_words(n) -> Text:
    """Words for a ``rows_after_as_of`` note (:func:`cxlib.data.after_as_of`): per column, the rows dated
    after the analysis date (the moment with its time: "after 6 Dec 2026 00:00") with example rows; rows
    dated later are left out, and a later end (the note's ``ends``: an end, a resolution, a reply) has
    not happened by then, so the record counts as still active or open. Escaped."""
    counts = dict(n.get("counts") or {})
    examples = dict(n.get("examples") or {})
    ends = [c for c in (n.get("ends") or []) if c in counts]
    ts = pd.Timestamp(n.get("as_of"))
    at = f"{date(ts, 'day')} {ts:%H:%M}"
    parts = "; ".join(f"{count(k)} row{'s' if k != 1 else ''} with '{c}' after {at}"
                      + (f" ({examples[c]})" if examples.get(c) else "") for c, k in counts.items())
    what = (["rows dated later are left out"] if any(c not in ends for c in counts) else [])
    named = " or ".join("'" + c + "'" for c in ends)
    what += [f"a later {named} has not happened by then, so the record counts as still active or open"] if ends else []
    return text("{}: {}. The analysis date is {}: {}.", n.get("table"), parts, date(ts, "day"), "; ".join(what))


NOTE_TEXT["rows_after_as_of"] = rows_after_as_of_words


def data_notes(*results) -> Text:
    """What the analyses noticed about the data (rows after the analysis date, units without a variant
    ...), from each result's ``.attrs['notes']``, as an escaped list; empty when there is nothing.

    Examples
    --------
    >>> data_notes(cohorts.retention_table("data/sample/events.csv"))  # doctest: +SKIP
    """
    seen = []
    for r in results:
        for n in (getattr(r, "attrs", None) or {}).get("notes", []) or []:
            n = note_text(n)
            if n and n not in seen:
                seen.append(n)
    if not seen:
        return Text("")
    return Text(Markup('<div class="cx-notes"><strong>About the data.</strong>') + bullets(seen)
                + Markup("</div>"))


def contents(sections) -> Text:
    """A short contents list linking to the page's section headings (``[(title, anchor), ...]`` or titles;
    the anchor of a Markdown heading "## 2. Where it is lower" is ``2.-Where-it-is-lower`` in nbconvert)."""
    items = []
    for s in sections:
        title, anchor = (s if isinstance(s, tuple) else (s, str(s).strip().replace(" ", "-")))
        items.append(text('<a href="#{}">{}</a>', anchor, title))
    return Text(Markup('<nav class="cx-contents" aria-label="Contents"><strong>On this page</strong>')
                + bullets(items) + Markup("</nav>"))


def missing_section(what: str, needs: str, how: str) -> Text:
    """The one sentence an optional section shows when its input is absent: what it would show, what it
    needs and how to supply it."""
    return paragraph("<em>Not shown:</em> {} This section needs {}; {}", what, needs, how)


# ---- cohort_retention page (additions for that notebook go below this line)

def _span(first, last, grain: str = "month") -> str:
    """A range of cohorts in words: "Apr–Sep 2026", "Nov 2025 – Apr 2026", "Mar 2026" (one cohort)."""
    a, b = date(first, grain), date(last, grain)
    if a == b or b == MISSING:
        return a
    ta, tb = pd.Timestamp(first), pd.Timestamp(last)
    if grain == "month" and ta.year == tb.year:
        return f"{ta:%b}–{tb:%b %Y}"
    return f"{a} – {b}"


def _ages(ks, grain: str) -> str:
    """"month 1", "months 1 and 3", "months 1, 3 and 6"."""
    ks = [str(int(k)) for k in ks]
    if len(ks) == 1:
        return f"{grain} {ks[0]}"
    return f"{grain}s {', '.join(ks[:-1])} and {ks[-1]}"


def _noise_words(beyond) -> str:
    return "beyond noise" if bool(beyond) else "within noise (could be chance)"


def _cohort_mode(cmp: pd.DataFrame) -> bool:
    return "cohorts_from" in cmp.columns


def retention_comparison_table(cmp: pd.DataFrame, *, grain: str = "month", labels: dict | None = None,
                               title=None, subtitle=None):
    """Newer vs earlier cohorts (or one segment vs another) at the same age: both retentions with their
    intervals and customers, the difference in percentage points with its 95% interval, and the verdict.

    ``cmp`` has one row per age (and segment pair): ``period``, ``group``, ``reference``, ``customers``,
    ``retention``, ``ci_lower``, ``ci_upper``, the same with a ``reference_`` prefix, ``difference``,
    ``difference_ci_lower``, ``difference_ci_upper``, ``p_value``, ``beyond_noise``; cohort ranges in
    ``cohorts_from`` / ``cohorts_to`` / ``reference_from`` / ``reference_to`` when cohorts are compared.
    """
    cohort = _cohort_mode(cmp)

    def side(r, pre):
        est = interval(r[f"{pre}retention"], r[f"{pre}ci_lower"], r[f"{pre}ci_upper"], kind="share")
        n = f"n = {count(r[f'{pre}customers'])}"
        if cohort:
            first, last = (r[(pre or "cohorts_") + "from"], r[(pre or "cohorts_") + "to"])
            return f"{est}, {n}, {_span(first, last, grain)}"
        return f"{label(r['reference' if pre else 'group'], labels)}: {est}, {n}"

    def verdict(r):
        diff = interval(r["difference"], r["difference_ci_lower"], r["difference_ci_upper"], kind="pp")
        if diff == MISSING:
            return MISSING
        p = _p_phrase(r["p_value"])
        if bool(r["beyond_noise"]):
            return f"{diff}: {'higher' if r['difference'] > 0 else 'lower'}, beyond noise (p {p})"
        return f"{diff}: within noise (p {p})"

    c = cmp.assign(_age=[f"{grain.capitalize()} {int(k)}" for k in cmp["period"]],
                   _a=[side(r, "") for _, r in cmp.iterrows()],
                   _b=[side(r, "reference_") for _, r in cmp.iterrows()],
                   _verdict=[verdict(r) for _, r in cmp.iterrows()])
    heads = ({"_a": "Newer cohorts", "_b": "Earlier cohorts"} if cohort
             else {"_a": "Segment", "_b": "Compared with"})
    return table(c, columns={"_age": "text", "_a": "text", "_b": "text", "_verdict": "text"},
                 labels={"_age": "Age", **heads, "_verdict": "Difference", **(labels or {})},
                 title=title, subtitle=subtitle,
                 notes=[f"Age: {grain}s since joining. Customers pooled over the cohorts that have completed that "
                        f"{grain}; brackets: 95% confidence intervals; difference in percentage points (beyond "
                        "noise when its interval excludes zero)."])


def segment_curve_table(curve: pd.DataFrame, *, by: str, ages=(1, 3, 6, 12), grain: str = "month",
                        labels: dict | None = None, title=None, subtitle=None):
    """A :func:`cxlib.cohorts.retention_curve` by segment as ages x segments (narrow enough for a phone):
    each cell "56% (54–59%)" with the customers pooled at that age underneath in the same cell."""
    c = curve[curve["period"].isin(list(ages))]
    c = c.assign(_cell=[MISSING if s else f"{interval(v, lo, hi, kind='share')}, n = {count(n)}"
                        for v, lo, hi, n, s in zip(c["retention"], c["ci_lower"], c["ci_upper"], c["customers"],
                                                   c["suppressed"].astype(bool))])
    grid = c.pivot_table(index="period", columns=by, values="_cell", aggfunc="first").fillna(MISSING)
    segs = list(grid.columns)
    ids = {s: f"s{i}" for i, s in enumerate(segs)}  # data values never become column names
    wide = grid.rename(columns=ids).reset_index()
    wide.columns.name = None
    wide["_age"] = [f"{grain.capitalize()} {int(k)}" for k in wide["period"]]
    return table(wide, columns={"_age": "text", **{ids[s]: "text" for s in segs}},
                 labels={"_age": "Age", **{ids[s]: label(s, labels) for s in segs}}, title=title, subtitle=subtitle,
                 spanners={label(by, labels): [ids[s] for s in segs]},
                 notes=[f"Share of customers active again that many {grain}s after joining, pooled over the cohorts "
                        f"that have completed that {grain}; n: customers; brackets: 95% confidence intervals."])


def retention_comparison_summary(cmp: pd.DataFrame, *, grain: str = "month", by: str | None = None,
                                 labels: dict | None = None) -> list:
    """One escaped sentence per row of a retention comparison (see :func:`retention_comparison_table`)."""
    items = []
    for _, r in cmp.iterrows():
        a = interval_range(r["retention"], r["ci_lower"], r["ci_upper"], kind="share")
        b = interval_range(r["reference_retention"], r["reference_ci_lower"], r["reference_ci_upper"], kind="share")
        diff = text("{} (95% CI {}), p {}: {}", pp(r["difference"]),
                    interval_range(r["difference"], r["difference_ci_lower"], r["difference_ci_upper"], kind="pp"),
                    _p_phrase(r["p_value"]), _noise_words(r["beyond_noise"]))
        age = f"{grain.capitalize()} {int(r['period'])}"
        if _cohort_mode(cmp):
            items.append(text("{}: the newer cohorts ({}) retain <strong>{}</strong> (95% CI {}; n = {}) against {} "
                              "({}; n = {}) for the earlier cohorts ({}) at the same age: {}.", age,
                              _span(r["cohorts_from"], r["cohorts_to"], grain), share(r["retention"]), a,
                              count(r["customers"]), share(r["reference_retention"]), b,
                              count(r["reference_customers"]),
                              _span(r["reference_from"], r["reference_to"], grain), diff))
        else:
            items.append(text("{}: {} retains <strong>{}</strong> (95% CI {}; n = {}) against {} ({}; n = {}) for "
                              "{}: {}.", age, _segment(by, r["group"], labels), share(r["retention"]), a,
                              count(r["customers"]), share(r["reference_retention"]), b,
                              count(r["reference_customers"]), _segment(by, r["reference"], labels), diff))
    return items


def retention_comparison_verdict(cmp: pd.DataFrame, *, grain: str = "month", by: str | None = None,
                                 labels: dict | None = None) -> list:
    """The short answer to "do newer cohorts (or does a segment) retain better at the same age?": one
    escaped sentence per compared pair ("Partly: newer cohorts retain better at month 3, beyond noise; at
    month 1 the difference is within noise.")."""
    out = []
    if cmp is None or cmp.empty:
        return out
    pairs = [((None, None), cmp)] if _cohort_mode(cmp) else list(cmp.groupby(["group", "reference"], sort=False))
    for (g, ref), rows in pairs:
        rows = rows[[(_num(d) is not None) for d in rows["difference"]]]
        if rows.empty:
            continue
        beyond = rows["beyond_noise"].astype(bool)
        better = rows.loc[beyond & (rows["difference"] > 0), "period"].tolist()
        worse = rows.loc[beyond & (rows["difference"] < 0), "period"].tolist()
        noise = rows.loc[~beyond, "period"].tolist()
        if g is None:
            a, b, verb = text("newer cohorts"), text("earlier cohorts"), "retain"
            lead = ("Yes: " if better and not worse and not noise else "Partly: " if better and not worse else
                    "No: " if worse and not better else "Not clearly: " if not better and not worse else "Mixed: ")
        else:
            a, b, verb, lead = _segment(by, g, labels), _segment(by, ref, labels), "retains", ""
        parts = []
        if better:
            parts.append(text("{} {} better than {} at {}, beyond noise", a, verb, b, _ages(better, grain)))
        if worse:
            parts.append(text("{} {} worse than {} at {}, beyond noise", a, verb, b, _ages(worse, grain)))
        if noise:
            parts.append(text("at {} the difference is within noise", _ages(noise, grain)) if parts else
                         text("{} and {} are not distinguishable at {} (within noise)", a, b, _ages(noise, grain)))
        body = Markup("; ").join(parts)
        out.append(text("{}{}.", lead, Markup(str(body)[:1].upper() + str(body)[1:]) if not lead else body))
    return out


def lifetime_figure(medians: pd.DataFrame, *, test: dict | None = None, unit: str = "month", by: str | None = None,
                    labels: dict | None = None, name: str = "Median customer lifetime") -> Figure:
    """A key-figure tile of the overall median lifetime (one row of ``medians``), with the log-rank
    comparison of segments as its "change" line."""
    r = medians.iloc[0]
    if r.get("suppressed", False) is True:
        value, ci = MISSING, f"Too few customers to estimate (n = {count(r['n'])})."
    elif bool(r["reached"]):
        value = f"{number(r['median'], 1)} {unit}s"
        hi = number(r["ci_upper"], 1)
        ci = (f"95% CI {number(r['ci_lower'], 1)}–{hi} {unit}s" if hi != MISSING
              else f"95% CI from {number(r['ci_lower'], 1)} {unit}s (upper end beyond the follow-up)")
    else:
        value, ci = "Not reached", "More than half are still subscribed at the end of the follow-up."
    change = ""
    if test is not None and by:
        differ = _num(test["p_value"]) is not None and test["p_value"] < 0.05
        change = (f"{label(by, labels)} segments {'differ' if differ else 'do not differ'} (log-rank p "
                  f"{_p_phrase(test['p_value'])}): {'beyond noise' if differ else 'within noise'}.")
    return Figure(name, value, ci, change, f"{count(r['n'])} customers, {count(r['events'])} cancelled")


def ltv_table(ltv: pd.DataFrame, *, periods=(0, 3, 6, 12), grain: str = "month", min_n: int = 30,
              currency: str = "$", labels: dict | None = None, title=None, subtitle=None):
    """A :func:`cxlib.cohorts.ltv_to_date` result as cohort rows x a few ages: revenue per acquired customer
    to date (blank: that age not reached yet; "—": cohort smaller than ``min_n``)."""
    keys = [c for c in ltv.columns if c not in {"cohort", "period", "cohort_size", "cumulative_revenue",
                                                "ltv_to_date"}]
    t = ltv[ltv["period"].isin(list(periods))]
    t = t.assign(_cell=[MISSING if n < min_n else money(v, currency) for v, n in zip(t["ltv_to_date"],
                                                                                    t["cohort_size"])])
    grid = t.pivot_table(index=[*keys, "cohort"], columns="period", values="_cell", aggfunc="first")
    grid = grid.reindex(columns=[p for p in periods if p in grid.columns]).fillna("")
    names = {p: str(p) for p in grid.columns}
    sizes = ltv.groupby([*keys, "cohort"])["cohort_size"].first().rename("size")
    wide = grid.rename(columns=names).join(sizes).reset_index()
    wide.columns.name = None
    cols = {**{k: "label" for k in keys}, "cohort": "date", "size": "count", **{n: "text" for n in names.values()}}
    nt = table(wide, columns=cols, labels={"cohort": "Cohort", "size": "n", **(labels or {})},
               title=title, subtitle=subtitle, options={"cohort": {"grain": grain}},
               spanners={f"{grain.capitalize()}s since joining": list(names.values())},
               notes=[f"Cumulative revenue per acquired customer up to the end of that {grain}; n: customers in the "
                      f"cohort; blank: not reached yet; —: cohort of fewer than {count(min_n)} customers."])
    return nt.cols_align("right", columns=[f"c{i}" for i in range(len(keys) + 1, len(cols))])


# time to first value (cxlib.journey.step_times by acquisition cohort)

def _cohort_duration_unit(hours) -> tuple[float, str]:
    """Hours per unit and the unit's name for durations up to ``hours``: days from 48 h, else hours, else
    minutes (the thresholds of :func:`duration`)."""
    top = _num(hours) or 0.0
    return (24.0, "days") if round(top, 1) >= 48 else (1.0, "h") if round(top * 60) >= 60 else (1 / 60, "min")


def _cohort_duration_parts(est, lo, hi, *, top=None, unit: bool = True) -> tuple[str, str | None]:
    """A duration in hours and its interval in one unit, the unit of the largest of the three (or of
    ``top``): "41.3 h" and "39.6–42.9 h", "1.7 days" and "1.3–2.1 days", so an interval never mixes hours
    and days; ``unit=False`` leaves the unit out (for a column whose header names it)."""
    vals = [_num(v) for v in (est, lo, hi)]
    if vals[0] is None:
        return MISSING, None
    scale, name = _cohort_duration_unit(top if top is not None else max(abs(v) for v in vals if v is not None))
    tail = f" {name}" if unit else ""
    digits = 0 if name == "min" else 1
    lo_t, hi_t = (number(v / scale, digits) if v is not None else None for v in vals[1:])
    inner = (None if lo_t is None and hi_t is None else f"up to {hi_t}{tail}" if lo_t is None
             else f"from {lo_t}{tail}" if hi_t is None else f"{lo_t}–{hi_t}{tail}")
    return f"{number(vals[0] / scale, digits)}{tail}", inner


def cohort_first_value_answer(overall: pd.DataFrame, cmp: dict | None = None, *, latest: pd.Series | None = None,
                              grain: str = "month", days: int = 7) -> Text:
    """One escaped sentence on time to first value: the median (hours, automatic units) with its 95% interval
    among the customers who got there, the share reaching it within ``days`` days with its interval, and
    whether the latest cohorts are faster.

    ``overall`` is a :func:`cxlib.journey.step_times` result without cohorts (one row). ``cmp`` is a
    :func:`cxlib.comparisons.two_shares` result of the latest cohorts' pooled within-``days`` counts
    against the earlier cohorts', with ``share``, ``reference_share``, ``from``, ``to``,
    ``reference_from``, ``reference_to`` and ``cohorts`` added; without it, ``latest`` (one row of the
    cohort result) is stated on its own.
    """
    r = overall.iloc[0]
    w = f"within_{days:g}d"
    if _num(r["median"]) is None:
        return text("Too few customers reached first value to estimate how long it takes ({} of the {} who "
                    "signed up).", count(r["n"]), count(r["n_start"]))
    med, med_ci = _cohort_duration_parts(r["median"], r["ci_lower"], r["ci_upper"])
    head = text("Customers who reach first value get there a median <strong>{}</strong> after signing up (95% CI {}; "
                "{} of the {} who signed up)", med, med_ci or MISSING, count(r["n"]), count(r["n_start"]))
    if _num(r[w]) is not None:
        head = text("{}, and <strong>{}</strong> of new customers reach it within {} days (95% CI {})", head,
                    share(r[w]), days, interval_range(r[w], r[f"{w}_ci_lower"], r[f"{w}_ci_upper"], kind="share"))
    if cmp is not None and _num(cmp["difference"]) is not None:
        beyond = bool(cmp["beyond_noise"])
        verdict = ("recent cohorts are faster" if beyond and cmp["difference"] > 0 else
                   "recent cohorts are slower" if beyond else "recent cohorts are not measurably faster")
        tail = text("; {}: the latest {} cohorts ({}) reached it within {} days at {} against {} for the earlier "
                    "ones ({}), {} (95% CI {}), p {}: {}", verdict, count(cmp["cohorts"]),
                    _span(cmp["from"], cmp["to"], grain), days, share(cmp["share"]), share(cmp["reference_share"]),
                    _span(cmp["reference_from"], cmp["reference_to"], grain), pp(cmp["difference"]),
                    interval_range(cmp["difference"], cmp["difference_ci_lower"], cmp["difference_ci_upper"],
                                   kind="pp"), _p_phrase(cmp["p_value"]), _noise_words(beyond))
    elif latest is not None and _num(latest[w]) is not None:
        tail = text("; the latest complete cohort ({}) reached it within {} days at {} (95% CI {}), too few cohorts "
                    "to compare", date(latest["cohort"], grain), days, share(latest[w]),
                    interval_range(latest[w], latest[f"{w}_ci_lower"], latest[f"{w}_ci_upper"], kind="share"))
    else:
        tail = text("; no cohort has had {} days for all its customers yet, so cohorts are not compared", days)
    return text("{}{}.", head, tail)


def cohort_first_value_table(by_cohort: pd.DataFrame, *, grain: str = "month", days: int = 7, title=None,
                             subtitle=None):
    """Cohort rows of a :func:`cxlib.journey.step_times` result: customers who started, the median time to
    first value with its interval, and the share reaching it within ``days`` days with its interval."""
    w = f"within_{days:g}d"
    top = pd.concat([by_cohort["median"], by_cohort["ci_lower"], by_cohort["ci_upper"]]).max()
    name = {"days": "days", "h": "hours", "min": "minutes"}[_cohort_duration_unit(top)[1]]
    cells = [_cohort_duration_parts(e, lo, hi, top=top, unit=False)
             for e, lo, hi in zip(by_cohort["median"], by_cohort["ci_lower"], by_cohort["ci_upper"])]
    by_cohort = by_cohort.assign(median=[e if i is None else f"{e} ({i})" for e, i in cells])
    g = table(by_cohort, columns={"cohort": "date", "n_start": "count", "median": "text", w: "share"},
              intervals={w: (f"{w}_ci_lower", f"{w}_ci_upper")},
              labels={"cohort": "Cohort", "n_start": "Signed up", "median": f"Median {name} to first value",
                      w: f"Reached within {days} days"},
              options={"cohort": {"grain": grain}}, keep_suppressed=("n_start",), title=title, subtitle=subtitle,
              notes=[f"Cohort: the {grain} of sign-up; only cohorts whose every customer has had {days} days. "
                     "Median among the customers who reached first value (a distribution-free interval); the "
                     f"share within {days} days is of everyone who signed up (Wilson interval)."])
    return g.cols_align("right", columns=["c2"])


# Touches of cxlib.journey.churn_by_touch in words: (table cell, "customers who ...", as a last touch).
COHORT_TOUCH_WORDS = {
    "step:signup": ("Signed up", "customers who signed up", "signing up"),
    "step:onboarding_done": ("Finished onboarding", "customers who finished onboarding", "finishing onboarding"),
    "step:first_value": ("Reached first value", "customers who reached first value", "reaching first value"),
    "step:checkout_started": ("Started a checkout", "customers who started a checkout", "starting a checkout"),
    "step:purchase": ("Made a purchase", "customers who made a purchase", "a purchase"),
    "support_contact": ("Contacted support", "customers who contacted support", "contacting support"),
    "slow_first_response": ("Waited past the target for a support reply",
                            "customers who waited longer than the target for a first support reply",
                            "a support reply later than the target"),
    "detractor_answer": ("Gave a survey score of 0–6", "customers who gave a survey score of 0–6 (detractors)",
                         "a survey score of 0–6"),
    "none": ("No tracked touch", "customers with no tracked touch", "no tracked touch"),
}


def cohort_touch_words(touch, which: int = 0) -> Text:
    """A touch name of :func:`cxlib.journey.churn_by_touch` in words (0: table cell, 1: "customers who
    ...", 2: as a last touch); an unknown ``step:x`` reads "Reached “x”"."""
    t = str(touch)
    if t in COHORT_TOUCH_WORDS:
        return text("{}", COHORT_TOUCH_WORDS[t][which])
    step = t.removeprefix("step:")
    return text(("Reached “{}”", "customers who reached “{}”", "reaching “{}”")[which], step)


def _cohort_hr(r, digits: int = 2) -> str:
    return f"{number(r['hazard_ratio'], digits)}×"


def cohort_touch_answer(ct: pd.DataFrame, *, min_n: int = 30) -> Text:
    """One sentence on :func:`cxlib.journey.churn_by_touch`: the strongest association beyond noise (95%
    interval of the hazard ratio excludes 1), else the largest hazard ratio and that none is beyond noise."""
    w = int(round(ct.attrs.get("window_days", 30)))
    ok = ct[~ct["suppressed"].astype(bool) & ct["hazard_ratio"].notna()] if len(ct) else ct
    if not len(ok):
        return text("No touch can be compared yet: every touch has fewer than {} customers with it or without it "
                    "among those still subscribed {} days after starting.", count(min_n), w)
    beyond = ok[(ok["ci_lower"] > 1) | (ok["ci_upper"] < 1)]
    if len(beyond):
        r = beyond.loc[np.log(beyond["hazard_ratio"]).abs().idxmax()]
        return text("In their first {} days, {} left <strong>{} as often</strong> afterwards as those who did not "
                    "(95% CI {}; {} vs {} customers) — an association, not proof of cause.", w,
                    cohort_touch_words(r["touch"], 1), _cohort_hr(r),
                    interval_range(r["hazard_ratio"], r["ci_lower"], r["ci_upper"], digits=2),
                    count(r["n_with"]), count(r["n_without"]))
    r = ok.loc[ok["hazard_ratio"].idxmax()]
    return text("No touch in the first {} days is associated with leaving beyond noise: the largest hazard ratio is "
                "for {}, who left <strong>{} as often</strong> as those who did not (95% CI {}, which includes "
                "1×; {} vs {} customers).", w, cohort_touch_words(r["touch"], 1), _cohort_hr(r),
                interval_range(r["hazard_ratio"], r["ci_lower"], r["ci_upper"], digits=2), count(r["n_with"]),
                count(r["n_without"]))


def cohort_touch_table(ct: pd.DataFrame, *, title=None, subtitle=None):
    """The unsuppressed touches of :func:`cxlib.journey.churn_by_touch` (highest hazard ratio first): touch
    in words with its customers, "left × as often" with its interval, 90-day retention with vs without."""
    w = int(round(ct.attrs.get("window_days", 30)))
    h = int(round(ct.attrs.get("horizon_days", 90)))
    rw, ro = f"retention_{h}d_with", f"retention_{h}d_without"
    ok = ct[~ct["suppressed"].astype(bool)].sort_values("hazard_ratio", ascending=False, na_position="last")
    cells = ok.assign(
        _touch=[text("{} ({} of {})", cohort_touch_words(t), count(a), count(a + b)).plain
                for t, a, b in zip(ok["touch"], ok["n_with"], ok["n_without"])],
        _hr=[MISSING if _num(r["hazard_ratio"]) is None else
             # a word joiner after the dash: the interval wraps as a whole, under the estimate
             f"{_cohort_hr(r)} ({interval_range(r['hazard_ratio'], r['ci_lower'], r['ci_upper'], digits=2)})"
             .replace("–", "–\u2060")
             for _, r in ok.iterrows()])
    g = table(cells, columns={"_touch": "text", "_hr": "text", rw: "share", ro: "share"},
              labels={"_touch": f"Touch in the first {w} days (customers)", "_hr": "Left × as often",
                      rw: "With the touch", ro: "Without"},
              spanners={f"Still subscribed {h} days later": [rw, ro]}, title=title, subtitle=subtitle,
              notes=[f"Customers still subscribed {w} days after starting; “left × as often” is the hazard ratio "
                     "of cancelling from then on, with vs without the touch (Cox model, 95% interval). "
                     f"“Still subscribed” is Kaplan–Meier, {h} days after day {w}. Association, not cause."])
    return g.cols_align("right", columns=["c1"])


def cohort_last_touch_sentence(lt: pd.DataFrame, *, top: int = 2) -> Text:
    """One sentence on :func:`cxlib.journey.last_touch_before_churn`: how many cancellations were counted,
    the share with no touch in the window, and the most common last touches."""
    w = int(round(lt.attrs.get("window_days", 30)))
    total = int(lt.attrs.get("churns", lt["churns"].sum() if len(lt) else 0))
    if not total:
        return text("No cancellation falls in the period the touch data cover, so last touches are not counted.")
    none = lt[lt["touch"] == "none"]
    lead = (text("{} of them ({}) had no tracked touch in their last {} days", count(none["churns"].iloc[0]),
                 share(none["share"].iloc[0]), w) if len(none) else
            text("every one had a tracked touch in their last {} days", w))
    rest = lt[lt["touch"] != "none"].head(top)
    if len(rest):
        said = Markup(", then ").join(text("{} ({}, {})", cohort_touch_words(t, 2), count(n), share(s))
                                      for t, n, s in zip(rest["touch"], rest["churns"], rest["share"]))
        lead = text("{}; the most common last touch was {}", lead, said)
    return text("Of the <strong>{}</strong> cancellations whose last {} days the touch data cover, {} — a touch "
                "that is common among all customers is often the last one simply because it is common.",
                count(total), w, lead)




# restricted mean survival, Cox hazard ratios, net revenue retention, who to save first
# (cxlib.survival.rmst / cox, cxlib.revenue.net_revenue_retention, cxlib.at_risk.who_to_save)

def _cohort_months(x, digits: int = 1) -> str:
    return f"{number(x, digits)} month{'' if number(x, digits) == '1' else 's'}"


def cohort_rmst_answer(rm: pd.DataFrame, *, by: str | None = None, labels: dict | None = None) -> Text:
    """One escaped sentence on :func:`cxlib.survival.rmst`: months subscribed out of the first ``horizon``
    per segment with intervals, and each difference against the reference with its interval and verdict."""
    h = rm["horizon"].iloc[0]
    rows = rm[rm["kind"] == "rmst"]
    if not by or len(rows) < 2:
        r = rows.iloc[0]
        return text("Of their first {} months, customers stay subscribed <strong>{}</strong> on average (95% CI {}; "
                    "{} customers).", number(h, 0), _cohort_months(r["rmst"]),
                    interval_range(r["rmst"], r["ci_lower"], r["ci_upper"], digits=1), count(r["n"]))
    each = Markup("; ").join(text("{} <strong>{}</strong> (95% CI {}; n = {})", label(r[by], labels),
                                  _cohort_months(r["rmst"]),
                                  interval_range(r["rmst"], r["ci_lower"], r["ci_upper"], digits=1), count(r["n"]))
                             for _, r in rows.iterrows())
    diffs = []
    for _, d in rm[rm["kind"] == "difference"].iterrows():
        beyond = (d["ci_lower"] > 0) or (d["ci_upper"] < 0)
        diffs.append(text("{} customers stay {} {} than {} customers (95% CI {}), p {}: {}",
                          label(d[by], labels), _cohort_months(abs(d["rmst"])),
                          "longer" if d["rmst"] > 0 else "shorter", label(d["reference"], labels),
                          interval_range(d["rmst"], d["ci_lower"], d["ci_upper"], kind="signed", digits=1),
                          _p_phrase(d["p_value"]), _noise_words(beyond)))
    return text("Of their first {} months, customers stay subscribed on average: {}. {}.", number(h, 0), each,
                Markup("; ").join(diffs))


def cohort_rmst_table(rm: pd.DataFrame, *, by: str, labels: dict | None = None, title=None, subtitle=None):
    """Segment rows of :func:`cxlib.survival.rmst`: months subscribed of the first ``horizon`` with the
    interval, customers, cancellations, and the difference against the reference segment."""
    h = number(rm["horizon"].iloc[0], 0)
    rows = rm[rm["kind"] == "rmst"].reset_index(drop=True)
    diffs = rm[rm["kind"] == "difference"].set_index(by)
    cells = rows.assign(
        _seg=[label(v, labels) for v in rows[by]],
        _rmst=[interval(r["rmst"], r["ci_lower"], r["ci_upper"], digits=1) for _, r in rows.iterrows()],
        _diff=[("reference" if v not in diffs.index else
                interval(diffs.loc[v, "rmst"], diffs.loc[v, "ci_lower"], diffs.loc[v, "ci_upper"], kind="signed",
                         digits=1))
               for v in rows[by]])
    return table(cells, columns={"_seg": "text", "_rmst": "text", "_diff": "text", "n": "count", "events": "count"},
                 labels={"_seg": label(by, labels), "_rmst": f"Months subscribed of the first {h}",
                         "_diff": "Difference (months)", "n": "Customers", "events": "Cancelled"},
                 title=title, subtitle=subtitle,
                 notes=[f"Restricted mean survival time: the area under the Kaplan–Meier curve up to {h} months, "
                        "with its standard (Greenwood-type) variance; the difference's variance is the sum of the two. "
                        + CI_NOTE])


def _cohort_term(term, ref, labels=None) -> str:
    """'plan=pro' against 'plan=basic' -> "Plan: pro vs basic"; a numeric term -> its label."""
    col, _, val = str(term).partition("=")
    if not val:
        return f"{label(col, labels)} (per unit)"
    base = str(ref).partition("=")[2] if ref is not None else ""
    return f"{label(col, labels)}: {label(val, labels)} vs {label(base, labels)}"


def _cohort_ph_words(p) -> str:
    v = _num(p)
    if v is None:
        return MISSING
    return "Holds" if v >= 0.05 else f"Changes over time (p {_p_phrase(v)})"


def cohort_cox_answer(cx: pd.DataFrame, *, labels: dict | None = None) -> Text:
    """One escaped sentence on :func:`cxlib.survival.cox`: the terms whose hazard ratio is beyond noise
    (interval excludes 1), adjusted for the others, and the proportional-hazards caveat when it applies."""
    def who(term, ref):
        col, _, val = str(term).partition("=")
        if not val:
            return text("each extra unit of {}", label(col, labels)), None
        return (text("{} customers", label(val, labels)),
                text("{} customers", label(str(ref).partition("=")[2], labels)))

    beyond = cx[(cx["ci_lower"] > 1) | (cx["ci_upper"] < 1)]
    parts = []
    for _, r in beyond.iterrows():
        a, b = who(r["term"], r["reference"])
        hr = interval_range(r["hazard_ratio"], r["ci_lower"], r["ci_upper"], digits=2)
        parts.append(text("{} cancel <strong>{} as often</strong> as {} (95% CI {}, p {})", a, _cohort_hr(r),
                          b if b is not None else text("one unit less"), hr, _p_phrase(r["p_value"])))
    if parts:
        factors = list(dict.fromkeys(str(t).partition("=")[0] for t in cx["term"]))
        head = text("Comparing customers alike in {} (a Cox model): {}.",
                    Markup(" and ").join(text("{}", label(f, labels).lower()) for f in factors), Markup("; ").join(parts))
    else:
        head = text("Taken together, no factor's rate of cancelling differs from its reference beyond noise.")
    if len(beyond) and len(beyond) < len(cx):
        head = text("{} The other comparisons are within noise (their intervals include 1×).", head)
    bad = cx[cx["ph_p_value"] < 0.05]
    if len(bad):
        head = text("{} Caution: for {} the ratio changes with a customer's age, so the single number is an "
                    "average over the lifetime.", head,
                    Markup(", ").join(text("{}", _cohort_term(t, r, labels))
                                      for t, r in zip(bad["term"], bad["reference"])))
    return head


def cohort_cox_table(cx: pd.DataFrame, *, labels: dict | None = None, title=None, subtitle=None):
    """Terms of :func:`cxlib.survival.cox`: comparison in words, "0.47× (0.41–0.55)", p-value and the
    proportional-hazards check."""
    cells = cx.assign(_term=[_cohort_term(t, r, labels) for t, r in zip(cx["term"], cx["reference"])],
                      _hr=[f"{_cohort_hr(r)} ({interval_range(r['hazard_ratio'], r['ci_lower'], r['ci_upper'], digits=2)})"
                           .replace("–", "–\u2060") for _, r in cx.iterrows()],
                      _ph=[_cohort_ph_words(p) for p in cx["ph_p_value"]])
    n, ev = cx["n"].iloc[0], cx["events"].iloc[0]
    g = table(cells, columns={"_term": "text", "_hr": "text", "p_value": "p_value", "_ph": "text"},
              labels={"_term": "Comparison", "_hr": "Cancels × as often", "p_value": "p",
                      "_ph": "Same ratio at every age?"},
              title=title, subtitle=subtitle,
              notes=[f"Cox proportional-hazards model of {count(n)} customers ({count(ev)} cancelled), all comparisons in "
                     "one model (each adjusted for the others); “× as often” is the hazard ratio with its 95% interval "
                     "(below 1×: cancels less often). The last column tests whether the ratio is the same at every "
                     "age (Schoenfeld residuals against time); where it is not, the number is an average. "
                     "Association, not cause."])
    return g.cols_align("right", columns=["c1"])


def cohort_nrr_answer(nrr: pd.DataFrame, *, last: int = 3, trailing: pd.DataFrame | None = None,
                      currency: str = "$") -> Text:
    """One escaped sentence on :func:`cxlib.revenue.net_revenue_retention`: the latest complete month's net
    and gross revenue retention with intervals and the MRR bridge, plus the trailing-12-month NRR when
    given (a ``rolling`` result with ``period='year'``)."""
    done = nrr[nrr["complete"] & ~nrr["suppressed"].astype(bool)]
    if done.empty:
        return text("No complete month with at least the minimum number of paying customers yet.")
    r = done.iloc[-1]
    said = text("From {} to {}, the customers paying in {} kept <strong>{}</strong> of their monthly recurring revenue "
                "counting expansion (net revenue retention, 95% CI {}) and {} without it (gross, 95% CI {}): "
                "{} at the start, {} expansion, {} contraction, {} lost to cancellations ({} of {} customers)",
                date(r["start_month"], "month"), date(r["end_month"], "month"), date(r["start_month"], "month"),
                share(r["net_retention"], 1),
                interval_range(r["net_retention"], r["net_ci_lower"], r["net_ci_upper"], kind="share", digits=1),
                share(r["gross_retention"], 1),
                interval_range(r["gross_retention"], r["gross_ci_lower"], r["gross_ci_upper"], kind="share", digits=1),
                money(r["start_mrr"], currency, 0), "+" + money(r["expansion"], currency, 0),
                MINUS + money(r["contraction"], currency, 0), MINUS + money(r["churned_mrr"], currency, 0),
                count(r["churned"]), count(r["n"]))
    if trailing is not None:
        t = trailing[trailing["complete"] & ~trailing["suppressed"].astype(bool)]
        if len(t):
            y = t.iloc[-1]
            said = text("{}. Over twelve months, the customers paying in {} now pay <strong>{}</strong> of what they paid "
                        "then (95% CI {}; {} customers)", said, date(y["start_month"], "month"),
                        share(y["net_retention"], 1),
                        interval_range(y["net_retention"], y["net_ci_lower"], y["net_ci_upper"], kind="share", digits=1),
                        count(y["n"]))
    return text("{}.", said)


def cohort_nrr_table(nrr: pd.DataFrame, *, last: int = 6, currency: str = "$", title=None, subtitle=None):
    """The last ``last`` complete months of :func:`cxlib.revenue.net_revenue_retention` (five columns, for a
    phone): month, paying customers and MRR at the start, gross and net revenue retention with intervals
    (the moves -- expansion, contraction, cancelled -- are in the result table's CSV)."""
    done = nrr[nrr["complete"]].tail(last).reset_index(drop=True)
    g = table(done, columns={"period": "date", "n": "count", "start_mrr": "money", "gross_retention": "share",
                             "net_retention": "share"},
              intervals={"gross_retention": ("gross_ci_lower", "gross_ci_upper"),
                         "net_retention": ("net_ci_lower", "net_ci_upper")},
              labels={"period": "Month", "n": "Paying at start", "start_mrr": "MRR at start",
                      "gross_retention": "Gross retention", "net_retention": "Net retention"},
              options={"period": {"grain": "month"}, "start_mrr": {"currency": currency, "digits": 0},
                       "gross_retention": {"digits": 1}, "net_retention": {"digits": 1}},
              keep_suppressed=("n", "start_mrr"), title=title, subtitle=subtitle,
              notes=["Customers paying in the month before, followed to the month: net retention = their MRR now ÷ "
                     "their MRR then (expansion counts), gross = the same without expansion (at most 100%). New "
                     "customers are in neither. Intervals: delta method for a ratio, the customer as the unit."])
    return g


def cohort_save_answer(w: pd.DataFrame, *, currency: str = "$") -> Text:
    """One escaped sentence on :func:`cxlib.at_risk.who_to_save`: how many customers show a warning sign,
    how many per sign, and the value at risk of the listed top (expected revenue for a list from
    :func:`cxlib.at_risk.buyers_to_save`)."""
    a = w.attrs
    by_clv = a.get("value") == "expected_clv"
    words = {"cancel_pending": "have already cancelled", "detractor": "scored 0–6 in a recent survey",
             "support": "had repeated or long-open support tickets", "inactive": "have been inactive for a while",
             "contraction": "pay less than a few months ago", "lapsing": "have probably stopped buying"}
    per = Markup(", ").join(text("{} {}", count(a["counts"][k]), words[k]) for k in words if a["counts"].get(k))
    who = "buyers" if by_clv else "subscribed customers"
    if not a.get("listed"):
        return text("None of the {} {} shows a warning sign.", count(a.get("subscribed", 0)), who)
    if by_clv:
        weeks = number(a.get("horizon_weeks", 52), 0)
        tail = text("The {} below are expected to bring the most revenue in the next {} weeks: {} between them "
                    "(purchase model).", count(len(w)), weeks, money(w["value_at_risk"].sum(), currency, 0))
    else:
        tail = text("The {} below carry the most revenue: {} a year between them.", count(len(w)),
                    money(w["value_at_risk"].sum(), currency, 0))
    return text("<strong>{}</strong> of the {} {} show at least one warning sign ({}). {}", count(a["listed"]),
                count(a["subscribed"]), who, per, tail)


def cohort_save_method(w: pd.DataFrame) -> Text:
    """The method paragraph under the who-to-save list: the signs and their thresholds, what value at risk
    is (or, for buyers, the BG/NBD + Gamma-Gamma fit it comes from), which inputs were missing (so their
    signs were not checked), and the caveat."""
    t = w.attrs["thresholds"]
    names = {"responses": "survey answers", "tickets": "support tickets", "events": "activity events",
             "mrr_history": "an MRR history"}
    if w.attrs.get("value") == "expected_clv":
        bg, gg = w.attrs.get("bgnbd", {}), w.attrs.get("gamma_gamma", {})
        out = text("Warning signs: a survey score of 0–6 in the last {} days, {} or more support tickets in the last {} "
                   "days or one open for {} days, no activity for {} days, or a chance below {} that the buyer is "
                   "still active. Expected revenue comes from two models fitted to every buyer's purchases: BG/NBD "
                   "for how often they buy and whether they have stopped (r {}, α {}, a {}, b {}), Gamma-Gamma for "
                   "how much they spend per purchase (p {}, q {}, v {}; {} repeat buyers).", t["survey_days"],
                   t["min_tickets"], t["ticket_days"], t["open_days"], t["inactive_days"],
                   share(t.get("lapsing_below", 0.5)), number(bg.get("r")), number(bg.get("alpha")),
                   number(bg.get("a")), number(bg.get("b")), number(gg.get("p")), number(gg.get("q")),
                   number(gg.get("v")), count(gg.get("n")))
        names.pop("mrr_history")
    else:
        out = text("Warning signs: a cancellation already booked, a survey score of 0–6 in the last {} days, {} or more "
                   "support tickets in the last {} days or one open for {} days, no activity for {} days, or paying "
                   "less than {} months ago. Value at risk is {} months of the customer's current MRR.",
                   t["survey_days"], t["min_tickets"], t["ticket_days"], t["open_days"], t["inactive_days"],
                   t["contraction_months"], number(w.attrs.get("months", 12), 0))
    missing = [names[k] for k in names if k not in w.attrs.get("inputs", [])]
    if missing:
        out = text("{} Without {}, the signs they would show are not checked.", out, ", ".join(missing))
    at, ends = w.attrs.get("as_of"), w.attrs.get("ends") or {}
    early = [text("{} to {}", names[k], date(pd.Timestamp(e).normalize())) for k, e in ends.items()
             if k in names and at is not None and pd.Timestamp(e).normalize() < pd.Timestamp(at).normalize()]
    if early:  # who_to_save measured these signs to their table's own end, not to the analysis date
        out = text("{} Days and windows are counted to the end of each table's data, not to {}: {}.", out,
                   date(pd.Timestamp(at).normalize()), Markup("; ").join(early))
    return paragraph("{} The signs go with leaving; they do not say how likely each customer is to go, and a "
                     "customer's value is their revenue, not their margin.", out)


def cohort_save_table(w: pd.DataFrame, *, currency: str = "$", labels: dict | None = None, title=None, subtitle=None):
    """The :func:`cxlib.at_risk.who_to_save` list, narrow enough for a phone: pseudonymous id (with the kept
    segment columns), value at risk with the MRR it comes from, revenue to date and the reason in words."""
    known = {"rank", "customer", "mrr", "value_at_risk", "ltv_to_date", "signals", "ends_on", "last_nps",
             "last_nps_on", "tickets_recent", "open_ticket_days", "days_inactive", "mrr_before", "reason",
             "cancel_pending", "detractor", "support", "inactive", "contraction", "lapsing", "expected_clv",
             "p_alive"}
    extra = [c for c in w.columns if c not in known]
    months = number(w.attrs.get("months", 12), 0)
    cells = w.assign(
        _who=[f"{r['customer']}" + (f" ({', '.join(label(r[c], labels) for c in extra)})" if extra else "")
              for _, r in w.iterrows()],
        _value=[money(v, currency, 0) + (f" ({money(m, currency, 0)} a month)" if _num(m) else "")
                for v, m in zip(w["value_at_risk"], w["mrr"])])
    by_clv = w.attrs.get("value") == "expected_clv"
    cols = {"_who": "text", "_value": "text"}
    if w["ltv_to_date"].notna().any():
        cols["ltv_to_date"] = "money"
    cols["reason"] = "text"
    g = table(cells, columns=cols,
              labels={"_who": "Customer",
                      "_value": "Expected revenue (CLV)" if by_clv else f"Value at risk ({months} months)",
                      "ltv_to_date": "Paid to date", "reason": "Why", **(labels or {})},
              options={"ltv_to_date": {"currency": currency, "digits": 0}}, title=title, subtitle=subtitle,
              notes=[("Buyers with at least one warning sign, largest expected revenue first (purchase model). "
                      if by_clv else f"Subscribed customers with at least one warning sign, largest value at risk first "
                      f"({months} months of their current MRR). ")
                     + "Ids are pseudonyms (salted hashes): look them up with the same salt (CX_PSEUDONYM_SALT) in "
                     "your own system. A sign is associated with leaving, not proof."])
    return g.cols_width({f"c{len(cols) - 1}": "42%"}).cols_align("right", columns=["c1"])


# ---- nps_drivers page (additions for that notebook go below this line)

# Columns of the responses contract whose layout labels are question texts, not names for a page: the
# page says "NPS", "CSAT", "CES" itself.
_NPS_RESPONSE_COLUMNS = {"respondent_id", "customer_id", "response_time", "nps", "csat", "ces", "comment"}


def nps_source_labels(meta: dict | None, *, skip=()) -> dict:
    """Display labels from :func:`cxlib.sources.metadata` for a page: entries that only repeat the name
    (``plan: "plan"``) are dropped so the readable default applies, and the contract's score / id / comment
    columns (and ``skip``) are left out because the page names them itself.

    Examples
    --------
    >>> nps_source_labels({"labels": {"plan": "plan", "Q2_1": "Speed of reply", "nps": "How likely ...?"}})
    {'Q2_1': 'Speed of reply'}
    """
    out = {}
    for k, v in ((meta or {}).get("labels") or {}).items():
        if k in _NPS_RESPONSE_COLUMNS or k in set(skip) or v is None or str(v).strip() in ("", str(k)):
            continue
        out[k] = str(v)
    return out


def nps_driver_labels(result: pd.DataFrame, labels: dict | None = None, prefix: str = "drv_") -> dict:
    """``{driver column: display label}`` of a key-driver result: the source's labels (question texts of
    an export) first, else the column read as words without the prefix (``drv_ease_of_use`` -> "Ease of
    use")."""
    labels = dict(labels or {})
    return {d: labels.get(d, label(str(d).removeprefix(prefix) if prefix else str(d), labels))
            for d in dict.fromkeys(result["driver"])}


def driver_rating_scale(result: pd.DataFrame | None = None, scale=None) -> tuple[float, float] | None:
    """The driver rating scale ``(low, high)``: ``scale`` when given (a spec's / layout's
    ``driver_scale``), else ``result.attrs['scale']`` (observed by the analysis), else read from the
    averages as a last resort (at most 5 -> 1–5, at most 7 -> 1–7, else 0–10 or 1–10).

    Examples
    --------
    >>> driver_rating_scale(scale=[1, 5]), driver_rating_scale(pd.DataFrame({"mean": [7.2, 6.1]}))
    ((1.0, 5.0), (1.0, 10.0))
    """
    if scale is None and result is not None:
        scale = result.attrs.get("scale")
        if isinstance(scale, dict):  # per-driver scales: one scale when they agree
            found = {tuple(v) for v in scale.values() if v is not None}
            scale = found.pop() if len(found) == 1 else None
    if scale is not None:
        lo, hi = scale
        return float(lo), float(hi)
    if result is None or "mean" not in result:
        return None
    v = pd.to_numeric(result["mean"], errors="coerce").dropna()
    if v.empty:
        return None
    hi = float(v.max())
    if hi <= 5:
        return 1.0, 5.0
    if hi <= 7:
        return 1.0, 7.0
    return (0.0 if float(v.min()) < 1 else 1.0), 10.0


def driver_scale_text(scale) -> str:
    """A rating scale for people: (1, 5) -> "1–5"; "" when unknown."""
    if scale is None:
        return ""
    lo, hi = scale
    return f"{number(lo, 0 if float(lo).is_integer() else 1)}–{number(hi, 0 if float(hi).is_integer() else 1)}"


def drivers_scale_summary(result: pd.DataFrame, *, labels: dict | None = None, scale=None, prefix: str = "drv_",
                          outcome: str = "likelihood to recommend") -> Text:
    """:func:`drivers_summary` on the ratings' own scale: top three drivers, model fit and the fix-first
    list with each average as "average 2.9 on the 1–5 scale" (never "/10" for 1–5 ratings).

    Examples
    --------
    >>> drivers_scale_summary(kd, labels=meta["labels"], scale=meta["driver_scale"])  # doctest: +SKIP
    """
    from cxlib.drivers import quadrant

    names = nps_driver_labels(result, labels, prefix)
    sc = driver_rating_scale(result, scale)
    q = quadrant(result) if "quadrant" not in result else result
    r2 = result.attrs.get("r2")
    tops = [text("<strong>{}</strong> {}", names[r.driver], interval(r.importance, r.ci_lower, r.ci_upper,
                                                                      kind="share")) for r in q.head(3).itertuples()]
    items = [text("The strongest drivers of {} are {} of the explained variation (95% bootstrap intervals).",
                  outcome, Markup(", ").join(tops))]
    if _num(r2) is not None:
        items.append(text("Together the {} ratings explain R² = {} of the score's variation, from {} respondents "
                          "who rated every driver ({} straight-liners, who gave every driver the same rating, "
                          "left out).", count(len(result)), number(r2, 2), count(result.attrs.get("n_model", 0)),
                          count(result.attrs.get("n_straightliners", 0))))
    fix = q[q["quadrant"] == "fix first"]
    on = text(" on the {} scale", driver_scale_text(sc)) if sc else Markup("")
    if not fix.empty:
        items.append(text("<strong>Fix first</strong> (important but rated below the other drivers): {}.",
                          Markup(", ").join(text("{} (average {}{})", names[r.driver], number(r.mean, 1), on)
                                            for r in fix.itertuples())))
    else:
        items.append(text("No important driver is rated below the others: nothing is in the fix-first corner."))
    return answer(items)


def drivers_scale_table(result: pd.DataFrame, *, labels: dict | None = None, scale=None, prefix: str = "drv_",
                        title=None, subtitle=None):
    """:func:`drivers_table` with the rating scale in the "Average rating" header ("Average rating
    (1–5)") and the fix-first rows first in words.

    Examples
    --------
    >>> drivers_scale_table(kd, scale=(1, 5))  # doctest: +SKIP
    """
    if "quadrant" not in result.columns:
        from cxlib.drivers import quadrant

        result = quadrant(result)
    names = nps_driver_labels(result, labels, prefix)
    sc = driver_rating_scale(result, scale)
    q = result.assign(_driver=[names[d] for d in result["driver"]],
                      _quadrant=result["quadrant"].map(_QUADRANTS).fillna(result["quadrant"]))
    n = pd.to_numeric(result["n"], errors="coerce")
    rated = (f"Ratings per driver: {count(n.min())}" + (f" to {count(n.max())}" if n.max() != n.min() else "")
             + f"; {count(result.attrs.get('n_model', 0))} respondents rated every driver and enter the model.")
    return table(q, columns={"_driver": "text", "importance": "share", "mean": "number", "_quadrant": "text"},
                 intervals={"importance": ("ci_lower", "ci_upper")}, title=title, subtitle=subtitle,
                 labels={"_driver": "Driver", "importance": "Importance",
                         "mean": f"Average ({driver_scale_text(sc).replace('–', '–' + chr(0x2060))})" if sc
                         else "Average rating",
                         "_quadrant": "Priority"},
                 options={"mean": {"digits": 1}},
                 notes=["Importance: the driver's share of the explained variation in the score. Average: the "
                        "average rating" + (f" on the {driver_scale_text(sc)} scale." if sc else "."),
                        "Priority: fix first = important and rated below the other drivers' average; keep up = "
                        "important and rated above it; monitor / maintain = less important.", rated]
                 ).cols_width(cases={"c0": "34%"})  # driver names (question texts) wrap between words


# -- scores: the latest period against the one before

_NPS_SCORE_KINDS = {"nps": ("points", {}), "csat": ("share", {}), "ces": ("number", {"digits": 2})}
_NPS_SCORE_WORDS = {"nps": "NPS", "csat": "CSAT", "ces": "CES"}


def nps_period_name(p, grain: str = "month") -> str:
    """A period for people by its first day: "Nov 2026", "week of 16 Nov 2026", "2026 Q4"."""
    g = (grain or "").lower()
    return f"week of {date(p, 'week')}" if g == "week" else date(p, g or None)


def _nps_period_start(x, grain: str) -> pd.Timestamp:
    """The first day of the period holding ``x`` (weeks from Monday: only to tell whether the data reach
    the analysis date's period)."""
    x = pd.Timestamp(x).normalize()
    g = (grain or "month").lower()
    if g == "day":
        return x
    if g == "week":
        return x - pd.Timedelta(days=x.weekday())
    return x.to_period({"month": "M", "quarter": "Q", "year": "Y"}.get(g, "M")).start_time


def _nps_period_end(p, grain: str) -> pd.Timestamp:
    p = pd.Timestamp(p)
    g = (grain or "month").lower()
    if g == "week":
        return p + pd.Timedelta(days=7)
    if g == "day":
        return p + pd.Timedelta(days=1)
    freq = {"month": "M", "quarter": "Q", "year": "Y"}.get(g, "M")
    return p.to_period(freq).end_time.normalize() + pd.Timedelta(days=1)


def nps_latest_change(trend: pd.DataFrame, *, metric: str = "nps", grain: str = "month", as_of=None,
                  alpha: float = 0.05) -> dict | None:
    """The latest period with enough answers against the one before it (a :mod:`cxlib.metrics` result
    with ``period=``): estimates, the change with its 95% interval and two-sided test (the metrics module's
    ``nps_change`` / ``proportion_change`` / ``mean_change``), and whether the latest period had ended by
    ``as_of``. None with fewer than two shown periods.
    """
    from cxlib import metrics

    if trend is None or "period" not in trend:
        return None
    t = trend[~trend["suppressed"].astype(bool)].sort_values("period") if "suppressed" in trend else trend
    if len(t) < 2:
        return None
    cur, prev = t.iloc[-1], t.iloc[-2]
    ch = metrics.score_change(metric, cur, prev, alpha=alpha)
    end = _nps_period_end(cur["period"], grain)
    if "complete" in t:  # the analysis decided (its period ended by as_of and by the table's last answer)
        complete = bool(cur["complete"])
    else:
        complete = as_of is None or end <= pd.Timestamp(as_of) + pd.Timedelta(seconds=1)
    at = as_of if as_of is not None else trend.attrs.get("as_of")
    return {"period": pd.Timestamp(cur["period"]), "previous": pd.Timestamp(prev["period"]), "value": cur[metric],
            "ci_lower": cur["ci_lower"], "ci_upper": cur["ci_upper"], "n": cur["n"],
            "previous_value": prev[metric], "change": ch["change"], "change_ci_lower": ch["ci_lower"],
            "change_ci_upper": ch["ci_upper"], "p_value": ch["p_value"], "beyond_noise": ch["beyond_noise"],
            "complete": bool(complete), "in_progress": not complete and _holds_as_of(cur["period"], grain, at)}


def _holds_as_of(start, grain: str, as_of) -> bool:
    """Whether the period starting ``start`` holds the analysis date ``as_of`` (a result's ``attrs``): an
    incomplete period is then in progress; otherwise the data simply end in it. Unknown ``as_of``: True."""
    if as_of is None or start is None or pd.isna(start):
        return True
    return pd.Timestamp(start) <= pd.Timestamp(as_of) < _nps_period_end(start, grain)


def _incomplete_words(grain: str, in_progress: bool) -> str:
    """How an incomplete period is named: in progress (it holds the analysis date), or the last one of
    data that end before it is over."""
    g = (grain or "month").lower()
    return "so far" if in_progress else f"(the last {g} of data, not complete)"


def _nps_latest_name(ch: dict, grain: str) -> str:
    if ch["complete"]:
        return nps_period_name(ch["period"], grain)
    return f"{nps_period_name(ch['period'], grain)} {_incomplete_words(grain, ch.get('in_progress', True))}"


def nps_score_figure(overall: pd.DataFrame, trend: pd.DataFrame | None = None, *, metric: str = "nps",
                 grain: str = "month", as_of=None, span: str = "", min_n: int | None = None) -> Figure:
    """A key-figure tile of a score over the whole data (value, 95% interval, answers) whose change line is
    the latest period against the one before it, beyond noise or not."""
    r = overall.iloc[0]
    kind, opts = _NPS_SCORE_KINDS.get(metric, ("number", {}))
    f = figure(_SCORE_NAMES.get(metric, label(metric)), r[metric], r["ci_lower"], r["ci_upper"], kind=kind,
               note=f"{count(r['n'])} answers{', ' + span if span else ''}", **opts)
    if f.value == MISSING:
        f.interval = "Too few answers to show reliably" + (f" (at least {count(min_n)} needed)." if min_n else ".")
    ch = nps_latest_change(trend, metric=metric, grain=grain, as_of=as_of)
    if ch is not None:
        f.change = (f"{_nps_latest_name(ch, grain)}: {format_value(ch['value'], kind, **opts)}. "
                    + change_sentence(ch["change"], ch["change_ci_lower"], ch["change_ci_upper"], kind=kind,
                                      versus=nps_period_name(ch["previous"], grain), beyond_noise=ch["beyond_noise"],
                                      digits=opts.get("digits")))
    return f


def nps_score_sentence(overall: pd.DataFrame, *, metric: str = "nps", span: str = "", scale=None,
                       min_n: int | None = None) -> Text:
    """One sentence: a score over the whole data with its interval and answers (NPS with its mix)."""
    r = overall.iloc[0]
    kind, opts = _NPS_SCORE_KINDS.get(metric, ("number", {}))
    if bool(r.get("suppressed", False)) or _num(r[metric]) is None:
        return text("{}: too few answers to show reliably ({} answers{}).", _NPS_SCORE_WORDS.get(metric, label(metric)),
                    count(r["n"]), text("; at least {} needed", count(min_n)) if min_n else Markup(""))
    head = text("<strong>{} {}</strong> (95% CI {}; {} answers{})", _NPS_SCORE_WORDS.get(metric, label(metric)),
                format_value(r[metric], kind, **opts),
                interval_range(r[metric], r["ci_lower"], r["ci_upper"], kind=kind, **opts), count(r["n"]),
                text(", {}", span) if span else Markup(""))
    if metric == "nps":
        return text("{}: {} promoters (9–10), {} passives (7–8), {} detractors (0–6).", head,
                    share(r["promoter_share"]), share(r["passive_share"]), share(r["detractor_share"]))
    if metric == "csat":
        lo, hi = scale or (1, 5)
        return text("{}: the share of answers of {} or {} on the {}–{} satisfaction scale.", head, count(hi - 1),
                    count(hi), count(lo), count(hi))
    lo, hi = scale or (1, 7)
    return text("{}: the average effort rating on a {}–{} scale ({} = very easy); {} found it easy ({} or {}).",
                head, count(lo), count(hi), count(hi), share(r.get("easy_share")), count(hi - 1), count(hi))


def nps_change_text(trend: pd.DataFrame, *, metric: str = "nps", grain: str = "month", as_of=None) -> Text:
    """The latest period against the one before, in one sentence with its interval and test."""
    ch = nps_latest_change(trend, metric=metric, grain=grain, as_of=as_of)
    name = _NPS_SCORE_WORDS.get(metric, label(metric))
    if ch is None:
        return text("{}: fewer than two {}s have enough answers to compare.", name, grain)
    kind, opts = _NPS_SCORE_KINDS.get(metric, ("number", {}))
    prev = nps_period_name(ch["previous"], grain)
    said = change_sentence(ch["change"], ch["change_ci_lower"], ch["change_ci_upper"], kind=kind, versus=prev,
                           beyond_noise=ch["beyond_noise"], digits=opts.get("digits"))
    return text("{} in {}: <strong>{}</strong> ({} answers; {}: {}). {}; p {}.", name, _nps_latest_name(ch, grain),
                format_value(ch["value"], kind, **opts), count(ch["n"]), prev,
                format_value(ch["previous_value"], kind, **opts), said.rstrip("."), _p_phrase(ch["p_value"]))


# -- segments: each value against the rest of the answers

def nps_gaps(by_segment: dict, *, alpha: float = 0.05) -> pd.DataFrame:
    """Each segment value's NPS against all other answers of the same segment column (difference in
    points with a 95% interval and a two-sided z-test, :func:`cxlib.metrics.nps_change`).

    ``by_segment`` maps a segment column to its :func:`cxlib.metrics.nps` ``by=`` result. Returns one row
    per segment and value: ``segment``, ``value``, ``n``, ``nps``, ``ci_lower``, ``ci_upper``,
    ``suppressed``, ``gap``, ``gap_ci_lower``, ``gap_ci_upper``, ``p_value``, ``beyond_noise``.
    """
    from cxlib import metrics

    rows = []
    for seg, t in by_segment.items():
        total = t[["n", "promoters", "detractors"]].sum()
        for _, r in t.iterrows():
            row = {"segment": seg, "value": r[seg], "n": int(r["n"]), "nps": r["nps"], "ci_lower": r["ci_lower"],
                   "ci_upper": r["ci_upper"], "suppressed": bool(r["suppressed"]), "gap": np.nan,
                   "gap_ci_lower": np.nan, "gap_ci_upper": np.nan, "p_value": np.nan, "beyond_noise": False}
            rest = total - r[["n", "promoters", "detractors"]]
            if not row["suppressed"] and rest["n"] > 0:
                ch = metrics.nps_change(r, rest, alpha=alpha)
                row.update(gap=ch["change"], gap_ci_lower=ch["ci_lower"], gap_ci_upper=ch["ci_upper"],
                           p_value=ch["p_value"], beyond_noise=ch["beyond_noise"])
            rows.append(row)
    cols = ["segment", "value", "n", "nps", "ci_lower", "ci_upper", "suppressed", "gap", "gap_ci_lower",
            "gap_ci_upper", "p_value", "beyond_noise"]
    return pd.DataFrame(rows, columns=cols)


def _nps_lowest(gaps: pd.DataFrame, seg) -> pd.Series | None:
    g = gaps[(gaps["segment"] == seg) & ~gaps["suppressed"]]
    return None if g.empty or g["nps"].isna().all() else g.loc[g["nps"].idxmin()]


def nps_weakest_sentence(gaps: pd.DataFrame, *, labels: dict | None = None) -> Text:
    """The page's answer on segments: the value most below the rest beyond noise, else why there is none."""
    r = nps_weakest_segment(gaps)
    if r is not None:
        return nps_gap_sentence(r, labels=labels)
    if gaps["suppressed"].all():
        return text("Segments: no segment value has enough answers to compare.")
    return text("No segment value has an NPS below the other answers beyond noise.")


def nps_weakest_segment(gaps: pd.DataFrame) -> pd.Series | None:
    """The segment value most below the rest beyond noise (None when no value is)."""
    low = gaps[gaps["beyond_noise"] & (gaps["gap"] < 0)]
    return None if low.empty else low.loc[low["gap"].idxmin()]


def _nps_gap_words(r: pd.Series) -> Text:
    nps_ = text("NPS <strong>{}</strong> (95% CI {}; {} answers)", points(r["nps"]),
                interval_range(r["nps"], r["ci_lower"], r["ci_upper"], kind="points"), count(r["n"]))
    if _num(r["gap"]) is None:
        return nps_
    verdict = "beyond noise" if r["beyond_noise"] else "within noise (could be chance)"
    return text("{}, {} points {} the other answers (95% CI {}; p {}): {}", nps_, number(abs(r["gap"]), 1),
                "below" if r["gap"] < 0 else "above",
                interval_range(r["gap"], r["gap_ci_lower"], r["gap_ci_upper"], kind="points"),
                _p_phrase(r["p_value"]), verdict)


def nps_gap_sentence(r: pd.Series, *, labels: dict | None = None) -> Text:
    """One row of :func:`nps_gaps` in a sentence: "Plan <b>basic</b>: NPS +10.2 (95% CI ...), 14.1 points
    below the other answers (95% CI ...; p < 0.001): beyond noise."."""
    return text("{}: {}.", _segment(r["segment"], r["value"], labels), _nps_gap_words(r))


def nps_segments_summary(gaps: pd.DataFrame, *, labels: dict | None = None, skipped=()) -> Text:
    """Per segment column, its lowest value against the other answers (with the test); then the segment
    columns asked for but not usable (``skipped``: ``[(column, reason), ...]``), each with its reason."""
    items = []
    for seg in dict.fromkeys(gaps["segment"]):
        r = _nps_lowest(gaps, seg)
        if r is None:
            g = gaps[gaps["segment"] == seg]
            big = g.loc[g["n"].idxmax()] if len(g) else None
            items.append(text("{}: no value has enough answers to show{}.", label(seg, labels), text(
                " (the largest, {}, has {})", label(big["value"], labels), count(big["n"])) if big is not None
                else Markup("")))
        else:
            items.append(text("{}: lowest is <strong>{}</strong>, {}.", label(seg, labels), label(r["value"], labels),
                              _nps_gap_words(r)))
    for s, why in skipped:
        items.append(text("<em>Skipped:</em> {}: {}", s, why))
    return answer(items)


def nps_gaps_table(gaps: pd.DataFrame, *, labels: dict | None = None, title=None, subtitle=None):
    """A :func:`nps_gaps` result: NPS per segment value with its interval and its difference from the other
    answers, grouped by segment column; the verdict in words."""
    g = gaps.assign(_segment=[label(s, labels) for s in gaps["segment"]],
                    _value=[f"{label(v, labels)} (n = {count(n)})" for v, n in zip(gaps["value"], gaps["n"])],
                    _verdict=[("—" if s or _num(x) is None else
                               ("Lower, beyond noise" if b and x < 0 else "Higher, beyond noise" if b else
                                "Within noise")) for s, x, b in zip(gaps["suppressed"], gaps["gap"],
                                                                     gaps["beyond_noise"])])
    return table(g, columns={"_segment": "text", "_value": "text", "nps": "points", "gap": "points",
                             "_verdict": "text"}, groups="_segment",
                 intervals={"nps": ("ci_lower", "ci_upper"), "gap": ("gap_ci_lower", "gap_ci_upper")},
                 labels={"_value": "Segment (answers)", "nps": "NPS", "gap": "Vs the other answers",
                         "_verdict": "Verdict"},
                 title=title, subtitle=subtitle,
                 notes=["Vs the other answers: this value's NPS minus the NPS of every other answer in the same "
                        "segment, in points; beyond noise when p < 0.05 (two-sided z-test, not adjusted for the "
                        "number of comparisons)."])


def nps_segment_figure(gaps: pd.DataFrame, *, labels: dict | None = None) -> Figure | None:
    """A key-figure tile of :func:`nps_weakest_segment` (None when no value is lower beyond noise)."""
    r = nps_weakest_segment(gaps)
    if r is None:
        return None
    return Figure(f"Lowest: {label(r['segment'], labels)} {label(r['value'], labels)}", f"NPS {points(r['nps'])}",
                  f"95% CI {interval_range(r['nps'], r['ci_lower'], r['ci_upper'], kind='points')}",
                  f"{number(abs(r['gap']), 1)} points below the other answers (95% CI "
                  f"{interval_range(r['gap'], r['gap_ci_lower'], r['gap_ci_upper'], kind='points')}): beyond noise.",
                  f"{count(r['n'])} answers")


def nps_driver_figure(result: pd.DataFrame, *, labels: dict | None = None, scale=None, prefix: str = "drv_") -> Figure:
    """A key-figure tile of the strongest driver, with the fix-first list as its note."""
    from cxlib.drivers import quadrant

    q = quadrant(result) if "quadrant" not in result else result
    names = nps_driver_labels(q, labels, prefix)
    top = q.iloc[0]
    sc = driver_rating_scale(q, scale)
    fix = [f"{names[r.driver]} ({number(r.mean, 1)}{' on ' + driver_scale_text(sc) if sc else ''})"
           for r in q[q["quadrant"] == "fix first"].itertuples()]
    return Figure(f"Strongest driver: {names[top['driver']]}", share(top["importance"]),
                  f"of the explained variation (95% CI {interval_range(top['importance'], top['ci_lower'], top['ci_upper'], kind='share')})",
                  "Fix first: " + ", ".join(fix) + "." if fix else "Nothing in the fix-first corner.",
                  f"R² = {number(result.attrs.get('r2'), 2)}, {count(result.attrs.get('n_model', 0))} respondents")


# -- comments

_NPS_QUOTES_STYLE = Markup("<style>.cx-quotes li{overflow-wrap:anywhere;margin:4px 0}"
                       ".cx-quotes .cx-who{color:#555;font-size:0.9em}</style>")


def nps_themes_summary(counts: pd.DataFrame, impact: pd.DataFrame | None = None, *, top: int = 3) -> Text:
    """What customers write about: the most mentioned themes and the theme whose commenters score lowest
    (with the test); a sentence instead when no comment matched a theme."""
    return answer(nps_themes_items(counts, impact, top=top))


def nps_themes_items(counts: pd.DataFrame, impact: pd.DataFrame | None = None, *, top: int = 3) -> list[Text]:
    """The sentences of :func:`nps_themes_summary` as a list (the first is the most mentioned themes)."""
    n = int(counts["comments"].max()) if len(counts) else 0
    hit = counts[counts["mentions"] > 0].sort_values("mentions", ascending=False)
    if n == 0:
        return [text("No comments to read: the comment column is blank in every answer.")]
    if hit.empty:
        return [text("No theme matched any of the {} comments. The theme taxonomy is English keyword lists: "
                     "give your own (in the comments' language) with the taxonomy parameter.", count(n))]
    items = [text("Customers most often write about {} (share of {} comments).", Markup(", ").join(
        text("<strong>{}</strong> {}", r["label"], share(r["share"]) if _num(r["share"]) is not None else
             text("{} comments", count(r["mentions"]))) for _, r in hit.head(top).iterrows()), count(n))]
    if impact is not None and not impact.empty:
        low = impact[~impact["suppressed"].astype(bool)].dropna(subset=["impact"])
        if not low.empty:
            r = low.loc[low["impact"].idxmin()]
            verdict = "beyond noise" if _num(r["p_value"]) is not None and r["p_value"] < 0.05 else \
                "within noise (could be chance)"
            items.append(text("Commenters who mention <strong>{}</strong> give an NPS of {}, {} points {} other "
                              "commenters (95% CI {}; p {}): {}.", r["label"], points(r["nps_with"]),
                              number(abs(r["impact"]), 1), "below" if r["impact"] < 0 else "above",
                              interval_range(r["impact"], r["ci_lower"], r["ci_upper"], kind="points"),
                              _p_phrase(r["p_value"]), verdict))
        else:
            items.append(text("No theme has enough comments (at least the minimum per group) to compare its "
                              "commenters' NPS with the others'."))
    return items


def nps_theme_table(impact: pd.DataFrame, *, title=None, subtitle=None):
    """A :func:`cxlib.themes.theme_impact` result in four columns that fit a phone: theme (with its number
    of comments), NPS of those commenters, the difference from other commenters with its interval, p."""
    t = impact.assign(_theme=[f"{_text(lbl)} ({count(n)})" for lbl, n in zip(impact["label"], impact["mentions"])])
    return table(t, columns={"_theme": "text", "nps_with": "points", "impact": "points", "p_value": "p_value"},
                 intervals={"impact": ("ci_lower", "ci_upper")}, title=title, subtitle=subtitle,
                 labels={"_theme": "Theme (comments)", "nps_with": "NPS", "impact": "Vs other commenters",
                         "p_value": "p"},
                 notes=["NPS: of the commenters who mention the theme. Vs other commenters: that NPS minus the NPS "
                        "of commenters who do not mention it, in points (two-sided z-test)."])


def nps_period_span(trend: pd.DataFrame | None, grain: str = "month") -> str:
    """The periods a per-period result covers, for people: "Jan 2026 to Nov 2026" ("" without periods)."""
    if trend is None or "period" not in trend or trend["period"].dropna().empty:
        return ""
    a, b = trend["period"].min(), trend["period"].max()
    return nps_period_name(a, grain) if a == b else f"{nps_period_name(a, grain)} to {nps_period_name(b, grain)}"


def nps_drivers_sentence(result: pd.DataFrame, *, labels: dict | None = None, scale=None, prefix: str = "drv_") -> Text:
    """The key-driver answer in one sentence: the strongest driver and the fix-first list (on the ratings'
    own scale)."""
    from cxlib.drivers import quadrant

    q = quadrant(result) if "quadrant" not in result else result
    names = nps_driver_labels(q, labels, prefix)
    top, sc = q.iloc[0], driver_rating_scale(q, scale)
    on = text(" on the {} scale", driver_scale_text(sc)) if sc else Markup("")
    fix = q[q["quadrant"] == "fix first"]
    fixed = (text("fix first: {}.", Markup(", ").join(text("<strong>{}</strong> (average {}{})", names[r.driver],
                                                           number(r.mean, 1), on) for r in fix.itertuples()))
             if not fix.empty else text("no important driver is rated below the others."))
    return text("The strongest driver of the score is <strong>{}</strong> ({} of the explained variation); {}",
                names[top["driver"]], interval(top["importance"], top["ci_lower"], top["ci_upper"], kind="share"),
                fixed)


def nps_comment_quotes(examples: pd.DataFrame, *, comment: str = "comment", score: str = "nps",
                   id: str = "respondent_id", lead=None) -> Text:
    """Example comments as an escaped list: each comment as text (never markup), with its score and the
    respondent id. ``lead`` is an optional sentence (plain text or :class:`Text`) above the list."""
    items = []
    for _, r in examples.iterrows():
        who = text('<span class="cx-who">({} {}, {})</span>', _NPS_SCORE_WORDS.get(score, label(score)),
                   count(r.get(score)), _text(r.get(id)))
        items.append(text("“{}” {}", _text(r.get(comment)), who))
    head = text('<p class="cx-text">{}</p>', _safe(lead)) if lead is not None else Markup("")
    return Text(_NPS_QUOTES_STYLE + head + bullets(items, cls="cx-list cx-quotes"))


def nps_data_notes(meta: dict | None, *results) -> Text:
    """:func:`data_notes` of the results plus what reading the source noticed (``metadata['notes']``:
    preview responses dropped, partial responses kept ...)."""
    class _R:  # data_notes reads .attrs['notes']
        attrs = {"notes": list((meta or {}).get("notes") or [])}

    return data_notes(_R(), *results)


# -- key-driver cautions, promoter / detractor odds, top two drivers

_NPS_CAUTION_STYLE = Markup("<style>.cx-caution{border-left:4px solid #b35806;background:#fff7ec;padding:4px 10px;"
                            "margin:8px 0;overflow-wrap:anywhere}.cx-caution ul{padding-left:1.2em;margin:4px 0}"
                            "</style>")


def nps_driver_cautions(warnings) -> Text | None:
    """The key-driver warnings (``key_drivers(...).attrs['warnings']``: overlapping drivers, halo answers)
    as a visible "Caution" list, each sentence escaped; None when there are none (then nothing is shown)."""
    warnings = [w for w in (warnings or []) if str(w).strip()]
    if not warnings:
        return None
    return Text(_NPS_CAUTION_STYLE + text('<div class="cx-caution"><p class="cx-lead"><strong>{}</strong> {}</p>{}'
                                          '</div>', "Caution:", "read the driver ranking with these in mind.",
                                          bullets([str(w) for w in warnings])))


def _nps_odds(r) -> str:
    """An odds ratio with its interval: "×1.57 (1.48–1.66)"."""
    return "×" + interval(r["odds_ratio"], r["ci_lower"], r["ci_upper"], kind="number", digits=2)


def nps_odds_sentence(models: pd.DataFrame, *, labels: dict | None = None, prefix: str = "drv_") -> Text:
    """One sentence from :func:`cxlib.drivers.promoter_detractor_models`: the driver whose +1 rating point
    raises the odds of being a promoter most, and the one that lowers the odds of being a detractor most,
    each with its 95% interval (or that none does beyond noise)."""
    names = nps_driver_labels(models, labels, prefix)
    pro = models[models["model"] == "promoter"].sort_values("odds_ratio", ascending=False, kind="mergesort")
    det = models[models["model"] == "detractor"].sort_values("odds_ratio", kind="mergesort")
    n = models["n"].max() if "n" in models and len(models) else None
    up = not pro.empty and bool(pro.iloc[0]["beyond_noise"]) and pro.iloc[0]["odds_ratio"] > 1
    down = not det.empty and bool(det.iloc[0]["beyond_noise"]) and det.iloc[0]["odds_ratio"] < 1
    if up and down and pro.iloc[0]["driver"] == det.iloc[0]["driver"]:
        return text("Holding the other ratings fixed, one more point on <strong>{}</strong> both raises the odds of "
                    "being a promoter the most, {}, and lowers the odds of being a detractor the most, {} (95% "
                    "intervals; {} respondents who rated every driver, straight-liners included).",
                    names[pro.iloc[0]["driver"]], _nps_odds(pro.iloc[0]), _nps_odds(det.iloc[0]), count(n))
    parts = []
    if up:
        r = pro.iloc[0]
        parts.append(text("one more point on <strong>{}</strong> raises the odds of being a promoter the most, {}",
                          names[r["driver"]], _nps_odds(r)))
    else:
        parts.append(text("no driver's rating raises the odds of being a promoter beyond noise"))
    if down:
        r = det.iloc[0]
        parts.append(text("one more point on <strong>{}</strong> lowers the odds of being a detractor the most, {}",
                          names[r["driver"]], _nps_odds(r)))
    else:
        parts.append(text("no driver's rating lowers the odds of being a detractor beyond noise"))
    return text("Holding the other ratings fixed, {}; {} (95% intervals; {} respondents who rated every driver, "
                "straight-liners included).",
                parts[0], parts[1], count(n))


def nps_odds_table(models: pd.DataFrame, *, labels: dict | None = None, prefix: str = "drv_", title=None,
                   subtitle=None):
    """Driver x (promoter odds ×, detractor odds ×), each with its 95% interval, strongest promoter
    driver first: three columns for a phone."""
    names = nps_driver_labels(models, labels, prefix)
    wide = None
    for m in ("promoter", "detractor"):
        part = (models[models["model"] == m].set_index("driver")[["odds_ratio", "ci_lower", "ci_upper"]]
                .rename(columns=lambda c: f"{m}_{c}"))
        wide = part if wide is None else wide.join(part, how="outer")
    wide = wide.sort_values("promoter_odds_ratio", ascending=False, kind="mergesort").reset_index()
    wide["_driver"] = [names[d] for d in wide["driver"]]
    for m in ("promoter", "detractor"):
        wide[f"_{m}"] = ["×" + interval(e, lo, hi, kind="number", digits=2) if _num(e) is not None else MISSING
                         for e, lo, hi in zip(wide[f"{m}_odds_ratio"], wide[f"{m}_ci_lower"], wide[f"{m}_ci_upper"])]
    n = models["n"].max() if len(models) else 0
    return table(wide, columns={"_driver": "text", "_promoter": "text", "_detractor": "text"},
                 labels={"_driver": "Driver", "_promoter": "Promoter odds ×", "_detractor": "Detractor odds ×"},
                 title=title, subtitle=subtitle,
                 notes=["Odds ×: how the odds of being a promoter (9–10), or a detractor (0–6), multiply with each "
                        "extra rating point on the driver, the other drivers held fixed. Above 1 raises the odds, "
                        "below 1 lowers them; an interval that includes 1 is within noise.",
                        f"Two logistic regressions on {count(n)} respondents who rated every driver (straight-liners "
                        "included).", CI_NOTE]
                 ).cols_width(cases={"c0": "34%"}).cols_align("right", columns=["c1", "c2"])


def nps_top_two_sentence(top_two: pd.DataFrame, *, labels: dict | None = None, prefix: str = "drv_") -> Text:
    """One sentence from :func:`cxlib.drivers.top_two_difference`: the lead of the top driver over the
    second in share of the explained variation, its bootstrap interval and whether it excludes zero."""
    r = top_two.iloc[0]
    labels = dict(labels or {})
    first, second = (labels.get(d, label(str(d).removeprefix(prefix) if prefix else str(d), labels))
                     for d in (r["first"], r["second"]))
    lead = text("<strong>{}</strong> ({}) is ahead of <strong>{}</strong> ({}) by {} percentage points of the "
                "explained variation", first, share(r["importance_first"]), second, share(r["importance_second"]),
                number(100 * r["difference"], 1))
    if _num(r["ci_lower"]) is None or _num(r["ci_upper"]) is None:
        return text("{}; without bootstrap resamples (bootstrap = 0) there is no interval to say whether the lead "
                    "is beyond noise.", lead)
    rng = text("95% bootstrap interval {} pp, {} resamples",
               interval_range(r["difference"], r["ci_lower"], r["ci_upper"], kind="pp"), count(r["bootstrap"]))
    if bool(r["excludes_zero"]):
        return text("{} ({}): the interval excludes zero, so the top driver is ahead beyond noise.", lead, rng)
    return text("{} ({}): the interval includes zero, so the two could be tied; treat them as equally important.",
                lead, rng)


# -- weighting: NPS of respondents vs NPS weighted to the customer base

def nps_weighting_items(weighted: pd.DataFrame, *, labels: dict | None = None, population_size=None) -> list[Text]:
    """Sentences from :func:`cxlib.metrics.weighted_nps`: the NPS weighted to the customer base with its
    interval and effective number of answers, the respondents' NPS beside it, whether weighting moved it
    beyond the width of the intervals, and the caveat of weighting."""
    rows = weighted.set_index("weighting")
    raw, wtd = rows.loc["respondents"], rows.loc["customers"]
    cols = list(weighted.attrs.get("columns") or [])
    names = [(labels or {}).get(c) or str(c).replace("_", " ") for c in cols]
    what = Markup(" and ").join(text("{}", c) for c in names) if names else text("{}", "the survey weights")
    if bool(wtd["suppressed"]) or _num(wtd["nps"]) is None:
        return [text("NPS weighted to the customer base ({}): too few answers to show reliably.", what)]
    base = text(" of {} customers", count(population_size)) if _num(population_size) else Markup("")
    how = (text("Weighted with the survey weights in {}", weighted.attrs["weights"]) if weighted.attrs.get("weights")
           else text("Weighted to the customer base's mix{} of {}", base, what))
    items = [text("{}, <strong>NPS is {}</strong> (95% CI {}), against {} (95% CI {}) for the respondents as they "
                  "are.", how, points(wtd["nps"]),
                  interval_range(wtd["nps"], wtd["ci_lower"], wtd["ci_upper"], kind="points"), points(raw["nps"]),
                  interval_range(raw["nps"], raw["ci_lower"], raw["ci_upper"], kind="points"))]
    gap = float(wtd["nps"]) - float(raw["nps"])
    deff = _num(wtd["design_effect"]) or 1.0
    items.append(text("Unequal weights make the {} answers worth about {} equally weighted ones (effective sample "
                      "size; design effect {}), so the weighted interval is {}.", count(wtd["n"]),
                      count(round(float(wtd["n_effective"]))), number(deff, 2),
                      "wider" if deff > 1.005 else "about as wide"))
    half = (float(raw["ci_upper"]) - float(raw["ci_lower"])) / 2
    if abs(gap) < half:
        items.append(text("Weighting moves NPS by {} points, less than the margin of error: the respondents already "
                          "look like the customer base on these columns.", number(abs(gap), 1)))
    else:
        items.append(text("Weighting moves NPS by {} points, more than the margin of error: some customers answer "
                          "more often than others, so quote the weighted figure for customers.", number(gap, 1, sign=True)))
    left = int(weighted.attrs.get("left_out") or 0)
    items.append(text("Caveat: weighting corrects only for the columns it uses; customers who differ from "
                      "respondents in other ways (say, the unhappiest not answering at all) still bias both figures."
                      "{}", text(" {} answers with a blank in a weighting column are left out of the weighted "
                                 "figure.", count(left)) if left else Markup("")))
    return items


def nps_weighting_table(weighted: pd.DataFrame, *, title=None, subtitle=None):
    """The two rows of :func:`cxlib.metrics.weighted_nps` for a phone: who the figure describes, NPS with
    its interval, answers and effective answers."""
    t = weighted.assign(_who=weighted["weighting"].map({"respondents": "Respondents as they are",
                                                        "customers": "Weighted to the customer base"}))
    return table(t, columns={"_who": "text", "nps": "points", "n": "count", "n_effective": "count"},
                 intervals={"nps": ("ci_lower", "ci_upper")}, title=title, subtitle=subtitle,
                 labels={"_who": "Describes", "nps": "NPS", "n": "Answers", "n_effective": "Effective answers"},
                 notes=["Effective answers: the number of equally weighted answers with the same precision "
                        "(Kish: (Σw)² / Σw²); the weighted interval uses it."])


# -- themes the taxonomy does not know yet

def nps_proposed_items(proposed: pd.DataFrame, *, top: int = 3) -> list[Text]:
    """Sentences from :func:`cxlib.themes.propose_themes`: how many comments no theme matched, the proposed
    themes (top words, size with interval, NPS against the other commenters with interval and test), and
    the caveat that they are proposals to read, not findings."""
    a = proposed.attrs
    n, untagged = int(a.get("comments") or 0), int(a.get("untagged") or 0)
    if n == 0:
        return [text("No comments to read.")]
    if untagged == 0:
        return [text("Every one of the {} comments matched a theme of the taxonomy: there is nothing new to "
                     "propose.", count(n))]
    if proposed.empty:
        return [text("{} of the {} comments match no theme of the taxonomy, but they do not form groups of a useful "
                     "size (too few, or too varied) to propose a new theme.", count(untagged), count(n))]
    items = [text("{} of the {} comments ({}) match no theme of the taxonomy. Grouping them by the words they share "
                  "proposes {} new theme{}:", count(untagged), count(n), share(untagged / n), count(len(proposed)),
                  "" if len(proposed) == 1 else "s")]
    for _, r in proposed.head(top).iterrows():
        size = text("{} comments, {} of the unmatched", count(r["size"]),
                    interval(r["share"], r["share_ci_lower"], r["share_ci_upper"], kind="share"))
        if bool(r["suppressed"]) or _num(r["impact"]) is None:
            items.append(text("<strong>{}</strong> ({}; too few scored answers to compare its NPS).", r["label"], size))
            continue
        verdict = "beyond noise" if bool(r["beyond_noise"]) else "within noise"
        items.append(text("<strong>{}</strong> ({}): NPS {}, {} points {} the other commenters (95% CI {}; p {}): {}.",
                          r["label"], size, interval(r["nps"], r["ci_lower"], r["ci_upper"], kind="points"),
                          number(abs(r["impact"]), 1), "below" if r["impact"] < 0 else "above",
                          interval_range(r["impact"], r["impact_ci_lower"], r["impact_ci_upper"], kind="points"),
                          _p_phrase(r["p_value"]), verdict))
    items.append(text("These are proposals, named by their most typical words: read the example comments, then "
                      "add the themes worth tracking (with their keywords) to the taxonomy file."))
    return items


def nps_proposed_table(proposed: pd.DataFrame, *, title=None, subtitle=None):
    """:func:`cxlib.themes.propose_themes` for a phone: top words, comments (share of the unmatched), NPS
    and the difference from the other commenters, each with its 95% interval."""
    t = proposed.assign(_words=proposed["top_terms"].astype(str))
    return table(t, columns={"_words": "text", "size": "count", "nps": "points", "impact": "points"},
                 intervals={"nps": ("ci_lower", "ci_upper"), "impact": ("impact_ci_lower", "impact_ci_upper")},
                 title=title, subtitle=subtitle, keep_suppressed=("_words", "size"),
                 labels={"_words": "Most typical words", "size": "Comments", "nps": "NPS", "impact": "Vs others"},
                 notes=["Comments that no taxonomy theme matches, grouped by the words they share (TF-IDF and "
                        "non-negative matrix factorisation, seeded). NPS: of the group's commenters; vs others: "
                        "that NPS minus the NPS of every other commenter, in points."]
                 ).cols_width(cases={"c0": "34%"})


def nps_proposed_quotes(proposed: pd.DataFrame, *, comment: str = "comment", score: str = "nps",
                        id: str = "respondent_id", theme: str | None = None) -> Text | None:
    """Example comments of one proposed theme (default: the one with the lowest NPS, else the largest),
    escaped and with contact details already masked by :func:`cxlib.themes.propose_themes`."""
    ex = proposed.attrs.get("examples")
    if proposed.empty or ex is None or ex.empty:
        return None
    if theme is None:
        shown = proposed.dropna(subset=["impact"])
        theme = (shown.loc[shown["impact"].idxmin(), "theme"] if not shown.empty else proposed.iloc[0]["theme"])
    r = proposed.set_index("theme").loc[theme]
    pick = ex[ex["theme"] == theme]
    if id not in pick:
        pick = pick.assign(**{id: MISSING})
    if score not in pick:
        pick = pick.assign(**{score: None})
    return nps_comment_quotes(pick, comment=comment, score=score, id=id,
                              lead=text("Comments of the proposed theme <strong>{}</strong>:", r["label"]))


# ---- experiment_comparison page (additions for that notebook go below this line)

# the decision the page shows when the allocation check failed (compare() itself does not know about SRM)
NOT_INTERPRETABLE = "not interpretable"
_DECISIONS.setdefault(NOT_INTERPRETABLE, "Not interpretable: sample ratio mismatch")
# an arm without a measured unit for the metric (experiments.NOT_MEASURED): no estimate to call anything
NOT_MEASURED = "not measured"
_DECISIONS.setdefault(NOT_MEASURED, "Not measured: no units measured in an arm")
_EXP_VERDICTS = {"win": "Win: better beyond noise", "loss": "Loss: worse beyond noise",
             "inconclusive": "Inconclusive: within noise",
             "guardrail breached": "Guardrail broken: worse beyond noise",
             "blocked by guardrail": "Better, but blocked: a guardrail broke",
             NOT_INTERPRETABLE: "Not interpretable: sample ratio mismatch",
             NOT_MEASURED: "Not measured: no estimate"}


def _exp_unmeasured(r) -> bool:
    """Whether a comparison row has an arm without a measured unit (n = 0): it has no estimate, whatever
    its decision says (a failed allocation check makes every decision 'not interpretable')."""
    return _num(r.get("n_variant")) == 0 or _num(r.get("n_control")) == 0


def _exp_unmeasured_words(r, control: str = "control", labels: dict | None = None, *, first: bool = False) -> str:
    """'no units measured in Treatment' (plain text, escaped where it is used) for a row of
    :func:`_exp_unmeasured`; ``control`` is its label; ``first`` starts it with a capital."""
    none_v, none_c = _num(r.get("n_variant")) == 0, _num(r.get("n_control")) == 0
    arm = label(r["variant"], labels)
    s = (f"no units measured in {arm} or {control}" if none_v and none_c
         else f"no units measured in {arm if none_v else control}")
    return s[:1].upper() + s[1:] if first else s


def metric_not_measured_words(n) -> Text:
    """Words for a ``metric_not_measured_in_arm`` note (:func:`cxlib.experiments.compare_summary`): the
    metric, the arm without a measured unit and, with segments, the segment."""
    seg = n.get("segment") or {}
    where = (text(" in the segment {}", ", ".join(f"{label(k)}: {label(v)}" for k, v in seg.items())) if seg
             else text(""))
    arm, control = n.get("variant"), n.get("control")
    against = (text("no variant is compared with it") if arm == control
               else text("it is not compared with {}", label(control)))
    return text("{} has no units measured in {}{} (every unit there has it blank), so {}: its row shows no "
                "estimate.", label(n.get("metric")), label(arm), where, against)


NOTE_TEXT["metric_not_measured_in_arm"] = metric_not_measured_words


def experiment_as_read(result: pd.DataFrame, srm_result=None) -> pd.DataFrame:
    """A :func:`cxlib.experiments.compare` result as the page must read it: after a failed sample-ratio
    check every ``decision`` is "not interpretable" (no win, loss or breach can be called); otherwise
    the result unchanged.

    Examples
    --------
    >>> experiment_as_read(result, experiments.srm(df))["decision"].unique()  # doctest: +SKIP
    """
    if srm_result is None or not srm_result.mismatch:
        return result
    out = result.assign(decision=NOT_INTERPRETABLE)
    out.attrs = dict(result.attrs)
    return out


def experiment_labels(result: pd.DataFrame, *, primary=None, labels=None) -> dict:
    """Display names for :func:`experiment_table`: ``labels`` plus each metric's name with the primary
    metric and the guardrails marked in words ("Converted (primary)", "CSAT (guardrail)")."""
    names = dict(labels or {})
    guard = result.groupby("metric", sort=False)["guardrail"].first() if "guardrail" in result else {}
    for m in result["metric"].unique():
        base = label(m, labels)
        if m == primary:
            base += " (primary)"
        elif bool(guard.get(m, False)):
            base += " (guardrail)"
        names[m] = base
    return names


def _exp_primary(result: pd.DataFrame, primary=None) -> str:
    return primary if primary is not None and primary in set(result["metric"]) else str(result["metric"].iloc[0])


def _exp_cells(r) -> dict:
    """One comparison row's numbers as text: relative lift, difference, arm values, p."""
    vk, dk = _EXP_KINDS.get(r["kind"], ("number", "signed"))
    opts = {"digits": 2} if dk == "pp" else {}
    return {"lift": lift(r["rel_lift"]),
            "lift_ci": interval_range(r["rel_lift"], r["rel_ci_lower"], r["rel_ci_upper"], kind="lift") or MISSING,
            "diff": format_value(r["abs_diff"], dk, **_est_options(r["abs_diff"], dk, opts)),
            "diff_ci": interval_range(r["abs_diff"], r["abs_ci_lower"], r["abs_ci_upper"], kind=dk, **opts) or MISSING,
            "variant_value": format_value(r["variant_value"], vk, **({"digits": 1} if vk == "share" else {})),
            "control_value": format_value(r["control_value"], vk, **({"digits": 1} if vk == "share" else {})),
            "p": _p_phrase(r["p_adjusted"]), "p_raw": _p_phrase(r["p_value"]),
            # the number to lead with: NPS moves in points (a relative change of a score near zero misleads)
            "head": (format_value(r["abs_diff"], dk) + " points") if r["kind"] == "nps" else lift(r["rel_lift"]),
            "head_ci": (interval_range(r["abs_diff"], r["abs_ci_lower"], r["abs_ci_upper"], kind=dk) or MISSING)
            if r["kind"] == "nps" else
            (interval_range(r["rel_lift"], r["rel_ci_lower"], r["rel_ci_upper"], kind="lift") or MISSING)}


def experiment_figures(result: pd.DataFrame, *, srm_result=None, primary: str | None = None,
                       labels: dict | None = None, max_variants: int = 3) -> Text:
    """Key-figure tiles of an experiment: each variant's lift on the primary metric (with its 95%
    interval, the difference and the verdict in words), the guardrails and the randomization check.

    Examples
    --------
    >>> experiment_figures(result, srm_result=check, primary="converted")  # doctest: +SKIP
    """
    r_all = experiment_as_read(result, srm_result)
    primary = _exp_primary(r_all, primary)
    control = label(result.attrs.get("control", "control"), labels)
    figs = []
    rows = r_all[r_all["metric"] == primary]
    for _, r in rows.head(max_variants).iterrows():
        if _exp_unmeasured(r):
            figs.append(Figure(f"{label(r['variant'], labels)} vs {control}: {label(primary, labels)}",
                               "Not measured", "", _exp_unmeasured_words(r, control, labels, first=True),
                               f"No estimate (n = {count(r['n_variant'])} vs {count(r['n_control'])})"))
            continue
        c = _exp_cells(r)
        nps_kind = r["kind"] == "nps"
        value = c["diff"] if nps_kind else c["lift"]
        ci = c["diff_ci"] if nps_kind else c["lift_ci"]
        change = (f"NPS {c['variant_value']} vs {c['control_value']} in {control} (relative {c['lift']})" if nps_kind
                  else f"{c['diff']}: {c['variant_value']} vs {c['control_value']} in {control}")
        verdict = _EXP_VERDICTS.get(r["decision"], label(r["decision"]))
        figs.append(Figure(f"{label(r['variant'], labels)} vs {control}: {label(primary, labels)}", value,
                           f"95% CI {ci}", change,
                           verdict + ("" if r["decision"] == NOT_INTERPRETABLE else f" (adjusted p {c['p']})")))
    guard = r_all[r_all["guardrail"].astype(bool)] if "guardrail" in r_all else r_all.iloc[:0]
    if not guard.empty:
        names = ", ".join(label(m, labels) for m in guard["metric"].unique())
        if srm_result is not None and srm_result.mismatch:
            figs.append(Figure(f"Guardrails ({names})", "Unknown", "",
                               "The allocation check failed, so no breach can be ruled in or out."))
        else:
            broken = guard[guard["guardrail_breach"].astype(bool)]
            said = []
            for _, b in broken.iterrows():
                c = _exp_cells(b)
                said.append(f"{label(b['variant'], labels)}: {label(b['metric'], labels)} {c['diff']} "
                            f"(95% CI {c['diff_ci']})")
            gaps = [x for _, x in guard.iterrows() if _exp_unmeasured(x)]
            said += [f"{label(x['variant'], labels)}: {label(x['metric'], labels)} not measured "
                     f"({_exp_unmeasured_words(x, control, labels)})" for x in gaps]
            figs.append(Figure(f"Guardrails ({names})",
                               ("All held" if not gaps else "Not all measured") if broken.empty
                               else f"{count(len(broken))} broken",
                               f"of {count(len(guard))} checks", "; ".join(said),
                               ("No guardrail got worse beyond noise." if not gaps else
                                "No measured guardrail got worse beyond noise.") if broken.empty
                               else "Worse beyond noise (95% interval entirely on the bad side)."))
    if srm_result is not None:
        t = srm_result.table
        n_total = int(t["n"].sum())
        left_out = int(result.attrs.get("units_without_variant", 0) or 0)
        note = f"{count(n_total)} units in {count(len(t))} arms"
        if left_out:
            note += f"; {count(left_out)} without a variant left out"
        figs.append(Figure("Randomization (allocation check)",
                           "Mismatch" if srm_result.mismatch else "Healthy",
                           f"Chi-square test p {_p_phrase(srm_result.p_value)}",
                           "Arms did not get their planned shares: results are not interpretable."
                           if srm_result.mismatch else "Arms got their planned shares of units.", note))
    return key_figures(figs)


def experiment_answer(result: pd.DataFrame, *, srm_result=None, primary: str | None = None,
                      labels: dict | None = None) -> Text:
    """The experiment page's short answer: a lead sentence (the verdict on the primary metric and the
    guardrails), then one line per variant with lift, difference and 95% intervals, broken guardrails
    and the other results beyond noise. A failed SRM check says the results are not interpretable and
    calls nothing a win.

    Examples
    --------
    >>> experiment_answer(result, srm_result=check, primary="converted")  # doctest: +SKIP
    """
    r_all = experiment_as_read(result, srm_result)
    primary = _exp_primary(r_all, primary)
    control = label(result.attrs.get("control", "control"), labels)
    metric = label(primary, labels)
    rows = r_all[r_all["metric"] == primary]
    broken_srm = srm_result is not None and srm_result.mismatch
    items = []
    for _, r in rows.iterrows():
        if _exp_unmeasured(r):
            items.append(text("<strong>{}</strong> on {}: not measured, {} (n = {} vs {}), so there is no estimate.",
                              label(r["variant"], labels), metric, _exp_unmeasured_words(r, control, labels),
                              count(r["n_variant"]), count(r["n_control"])))
            continue
        c = _exp_cells(r)
        nums = text("{} relative (95% CI {}), {} (95% CI {}); {} vs {} in {}; adjusted p {}, n = {} vs {}",
                    c["lift"], c["lift_ci"], c["diff"], c["diff_ci"], c["variant_value"], c["control_value"],
                    control, c["p"], count(r["n_variant"]), count(r["n_control"]))
        word = {"win": "won", "loss": "lost", "guardrail breached": "got worse beyond noise",
                "blocked by guardrail": "improved but is blocked by its broken guardrail"}.get(r["decision"])
        if broken_srm:
            items.append(text("<strong>{}</strong> on {}: not interpretable. Measured: {}.",
                              label(r["variant"], labels), metric, nums))
        elif word:
            items.append(text("<strong>{}</strong> {} on {}: {}.", label(r["variant"], labels), word, metric, nums))
        else:
            items.append(text("<strong>{}</strong> on {}: inconclusive, within noise: {}.",
                              label(r["variant"], labels), metric, nums))
    guard = r_all[r_all["guardrail"].astype(bool)] if "guardrail" in r_all else r_all.iloc[:0]
    breaches = guard[guard["guardrail_breach"].astype(bool)] if not broken_srm else guard.iloc[:0]
    for _, b in breaches.iterrows():
        c = _exp_cells(b)
        items.append(text("<strong>Guardrail broken</strong>: {} made {} worse: {} (95% CI {}), {} relative "
                          "(95% CI {}); p {} before adjustment.", label(b["variant"], labels),
                          label(b["metric"], labels), c["diff"], c["diff_ci"], c["lift"], c["lift_ci"], c["p_raw"]))
    # a guardrail with an arm without units cannot have held: it is said as not measured, not as held
    unmeasured = pd.Series([_exp_unmeasured(x) for _, x in r_all.iterrows()], index=r_all.index, dtype=bool)
    held = guard[~unmeasured.reindex(guard.index, fill_value=False)]
    if not held.empty and breaches.empty and not broken_srm:
        items.append(text("No guardrail ({}) got worse beyond noise.",
                          ", ".join(label(m, labels) for m in held["metric"].unique())))
    gaps = r_all[unmeasured & (r_all["metric"] != primary)]
    if not gaps.empty:
        items.append(text("Not measured, so no estimate: {}.", "; ".join(
            f"{label(g['metric'], labels)} for {label(g['variant'], labels)} "
            f"({_exp_unmeasured_words(g, control, labels)})" for _, g in gaps.iterrows())))
    others = r_all[(r_all["metric"] != primary) & r_all["decision"].isin(["win", "loss", "blocked by guardrail"])]
    if not others.empty:
        said = Markup("; ").join(
            text("{} {} on {} ({}, 95% CI {})", label(o["variant"], labels),
                 {"win": "better", "blocked by guardrail": "better (blocked by its broken guardrail)"}.get(
                     o["decision"], "worse"), label(o["metric"], labels),
                 _exp_cells(o)["head"], _exp_cells(o)["head_ci"]) for _, o in others.iterrows())
        items.append(text("Other metrics beyond noise: {}.", said))
    # the lead: one sentence the index shows as the page's headline
    if broken_srm:
        lead = text("<strong>Results are not interpretable</strong>: the arms did not receive their planned "
                    "shares of units (sample ratio mismatch, p {}). No variant can be called a win or a loss "
                    "until assignment or logging is fixed.", _p_phrase(srm_result.p_value))
    else:
        verdicts = Markup(", ").join(
            text("{} {}", label(r["variant"], labels),
                 "was not measured (" + _exp_unmeasured_words(r, control, labels) + ")" if _exp_unmeasured(r) else
                 {"win": "won", "loss": "lost", "guardrail breached": "got worse",
                  "blocked by guardrail": "improved but broke a guardrail"}.get(r["decision"],
                                                                                 "was inconclusive"))
            for _, r in rows.iterrows())
        if guard.empty:
            tail = text("")
        elif breaches.empty and held.empty:
            tail = text(" No guardrail was measured in every arm.")
        elif breaches.empty:
            tail = text(" No guardrail broke." if len(held) == len(guard) else " No measured guardrail broke.")
        else:
            tail = text(" Guardrail broken: {}.", Markup(", ").join(
                text("{} on {}", label(b["variant"], labels), label(b["metric"], labels))
                for _, b in breaches.iterrows()))
        lead = text("On the primary metric, {}: {}.{}", metric, verdicts, tail)
    return answer(items, lead=lead)


def cuped_table(adjusted: pd.DataFrame, plain: pd.DataFrame, *, labels: dict | None = None, title=None,
                subtitle=None):
    """Interval width without and with CUPED, per metric and variant (``adjusted``: the CUPED rows of a
    :func:`cxlib.experiments.compare` result; ``plain``: the same comparison without covariates).

    Examples
    --------
    >>> cuped_table(result[result["cuped"]], plain)  # doctest: +SKIP
    """
    t = cuped_comparison(adjusted, plain)

    def cell(r, suffix):
        dk = _EXP_KINDS.get(r["kind"], ("number", "signed"))[1]
        opts = {"digits": 2} if dk == "pp" else {}
        return interval(r[f"abs_diff_{suffix}"], r[f"abs_ci_lower_{suffix}"], r[f"abs_ci_upper_{suffix}"],
                        kind=dk, **opts)

    t = t.assign(_metric=[label(m, labels) for m in t["metric"]],
                 _plain=[cell(r, "plain") for _, r in t.iterrows()],
                 _cuped=[cell(r, "cuped") for _, r in t.iterrows()],
                 _narrower=[share(1 - w, 0) for w in t["interval_width_ratio"]])
    return table(t, columns={"_metric": "text", "variant": "label", "_plain": "text", "_cuped": "text",
                             "_narrower": "text"}, groups="_metric", title=title, subtitle=subtitle,
                 labels={"variant": "Variant", "_plain": "Difference without CUPED", "_cuped": "With CUPED",
                         "_narrower": "Interval narrower by", **(labels or {})}, notes=[CI_NOTE])


def cuped_comparison(adjusted: pd.DataFrame, plain: pd.DataFrame) -> pd.DataFrame:
    """CUPED-adjusted and plain comparisons side by side with ``interval_width_ratio`` (with / without)."""
    keep = ["metric", "variant", "abs_diff", "abs_ci_lower", "abs_ci_upper"]
    t = adjusted[[*keep, "kind", "variance_reduction"]].merge(plain[keep], on=["metric", "variant"],
                                                              suffixes=("_cuped", "_plain"))
    t["interval_width_ratio"] = ((t["abs_ci_upper_cuped"] - t["abs_ci_lower_cuped"])
                                 / (t["abs_ci_upper_plain"] - t["abs_ci_lower_plain"]))
    return t


def cuped_answer(comparison: pd.DataFrame, *, labels: dict | None = None) -> Text:
    """What CUPED bought, in a sentence per metric: how much narrower the intervals are and how many
    more units that is worth."""
    items = []
    for m, g in comparison.groupby("metric", sort=False):
        w = g["interval_width_ratio"].astype(float)
        lo, hi = 1 - w.max(), 1 - w.min()
        narrower = share(lo) if share(lo) == share(hi) else f"{share(lo)[:-1]}–{share(hi)}"
        worth = 1 / float(w.mean()) ** 2 - 1
        items.append(text("{}: the pre-period covariate removed {} of the variance; intervals are {} narrower, "
                          "as good as running the test with about {} more units.", label(m, labels),
                          share(g["variance_reduction"].iloc[0]), narrower, share(worth)))
    return answer(items)


def _labelled_note(n, labels=None):
    """A heavy-tail note with its metric, arm and covariate names as the page labels them."""
    from cxlib.notes import note

    keys = ("metric", "arm", "covariate")
    return note(n.code, **{k: (label(v, labels) if k in keys else v) for k, v in n.values.items()})


def heavy_tail_answer(tails: pd.DataFrame, *, labels: dict | None = None) -> Text:
    """Which mean metrics have a heavy tail, in words naming the rule, from :func:`cxlib.heavy_tails.check`:
    a sentence per heavy metric (and per capped covariate), one for the metrics the rule leaves raw, or
    that capping is off. Empty when there is no mean metric.

    Examples
    --------
    >>> heavy_tail_answer(heavy_tails.check(exp, control="control", metrics=metric_list))  # doctest: +SKIP
    """
    mode = tails.attrs.get("mode", "auto")
    if mode == "none":
        return answer([], lead=text("Capping is off (cap = none): every mean is compared raw, however far its "
                                    "largest values reach."))
    if tails.empty:
        return Text("")
    pct = _ordinal(100 * float(tails.attrs["quantile"]))
    items = []
    for n in tails.attrs.get("notes", []) or []:
        code = getattr(n, "code", None)
        if code == "heavy_tail":  # the note's words, then what the page does about it
            items.append(text("{}; the capped comparison is shown beside the raw one.",
                              Markup(str(note_text(_labelled_note(n, labels)))[:-1])))
        elif code == "capped_covariate":
            items.append(note_text(_labelled_note(n, labels)))
    heavy = {n.get("metric") for n in tails.attrs.get("notes", []) or [] if getattr(n, "code", None) == "heavy_tail"}
    first = tails.drop_duplicates("metric")
    if mode == "fixed":
        lead = text("Mean metrics are capped at their {} percentile (the cap parameter): values above it count "
                    "as that percentile, and the capped comparison is shown beside the raw one.", pct)
        for m, v, applied in first[["metric", "cap_value", "cap_applied"]].itertuples(index=False):
            if m in heavy:
                continue
            items.append(text("{}: capped at {}; this moves no arm's mean by more than half a standard error.",
                              label(m, labels), number(v)) if applied else
                         text("{}: no unit is above its {} percentile ({}), so capping changes nothing.",
                              label(m, labels), pct, number(v)))
    else:
        raw = [m for m in first["metric"] if m not in heavy]
        if raw:
            items.append(text("{}: capping at the {} percentile moves no arm's mean by more than half a standard "
                              "error, so the raw comparison stands.", ", ".join(label(m, labels) for m in raw), pct))
        lead = text("A few very large values can decide a mean. The rule: a mean metric is also compared capped "
                    "(values above its {} percentile count as that percentile) when capping moves an arm's mean "
                    "by more than half a standard error.", pct)
    return answer(items, lead=lead)


def heavy_tail_table(tails: pd.DataFrame, raw: pd.DataFrame, capped: pd.DataFrame | None, *,
                     labels: dict | None = None, title=None, subtitle=None):
    """Raw and capped relative change side by side (each with its 95% interval), per capped metric and
    variant: ``raw`` is the page's :func:`cxlib.experiments.compare` result, ``capped`` the same comparison
    capped (:func:`cxlib.heavy_tails.compare_capped`; None when nothing is capped: then empty).

    Examples
    --------
    >>> heavy_tail_table(tails, result, heavy_tails.compare_capped(exp, tails, ...))  # doctest: +SKIP
    """
    if capped is None or capped.empty:
        return Text("")
    keep = ["metric", "variant", "rel_lift", "rel_ci_lower", "rel_ci_upper"]
    t = capped[[*keep, "cap_value"]].merge(raw[keep], on=["metric", "variant"], suffixes=("_capped", "_raw"))
    pct = _ordinal(100 * float(tails.attrs.get("quantile") or 0.999))
    t = t.assign(_group=[f"{label(m, labels)} · capped at {number(v)}" for m, v in zip(t["metric"], t["cap_value"])],
                 _raw=[interval(r["rel_lift_raw"], r["rel_ci_lower_raw"], r["rel_ci_upper_raw"], kind="lift")
                       for _, r in t.iterrows()],
                 _capped=[interval(r["rel_lift_capped"], r["rel_ci_lower_capped"], r["rel_ci_upper_capped"],
                                   kind="lift") for _, r in t.iterrows()])
    control = label(raw.attrs.get("control", "control"), labels)
    return table(t, columns={"_group": "text", "variant": "label", "_raw": "text", "_capped": "text"},
                 groups="_group", title=title, subtitle=subtitle,
                 spanners={f"Relative change vs {control}": ["_raw", "_capped"]},
                 labels={**(labels or {}), "variant": "Variant", "_raw": "Raw",
                         "_capped": f"Capped at the {pct} percentile"},
                 notes=[text("Capped: values above the metric's {} percentile of all units count as that "
                             "percentile{}. Brackets: 95% confidence intervals.", pct,
                             " (its covariate is capped the same way)" if tails.attrs.get("covariate_caps") else "")])


def experiment_segment_answer(by_segment: pd.DataFrame, *, segment: str, primary: str | None = None,
                              srm_result=None, labels: dict | None = None) -> Text:
    """Does the primary-metric result hold in each segment? One line per variant: where it is beyond
    noise and where not (per-segment tests, adjusted over all segments)."""
    r_all = experiment_as_read(by_segment, srm_result)
    primary = _exp_primary(r_all, primary)
    items = []
    control = label(by_segment.attrs.get("control", "control"), labels)
    for v, g in r_all[r_all["metric"] == primary].groupby("variant", sort=False):
        parts = Markup("; ").join(
            text("{} not measured ({})", label(r[segment], labels), _exp_unmeasured_words(r, control, labels))
            if _exp_unmeasured(r) else
            text("{} {} ({}, 95% CI {})", label(r[segment], labels),
                 {"win": "better beyond noise", "loss": "worse beyond noise",
                  "guardrail breached": "worse beyond noise",
                  "blocked by guardrail": "better beyond noise, but a guardrail broke",
                  NOT_INTERPRETABLE: "not interpretable"}.get(r["decision"], "within noise"),
                 _exp_cells(r)["head"], _exp_cells(r)["head_ci"]) for _, r in g.iterrows())
        items.append(text("<strong>{}</strong> on {}: {}.", label(v, labels), label(primary, labels), parts))
    return answer(items)


def experiment_cumulative_answer(over_time: pd.DataFrame, *, srm_result=None, labels: dict | None = None) -> Text:
    """Where the cumulative lift ended, per variant, and whether its interval had settled on one side of
    zero over the last week (descriptive: unadjusted intervals)."""
    items = []
    if over_time.empty:
        return answer([text("Too few days of data to show how the estimate settled.")])
    last = over_time["period"].max()
    for v, g in over_time.groupby("variant", sort=False):
        g = g.sort_values("period")
        r = g.iloc[-1]
        tail = g[g["period"] > last - pd.Timedelta(days=7)]
        side = ("above zero" if (tail["rel_ci_lower"] > 0).all() else
                "below zero" if (tail["rel_ci_upper"] < 0).all() else None)
        items.append(text("<strong>{}</strong>: {} after {} days (95% CI {}); {}.", label(v, labels),
                          lift(r["rel_lift"]),
                          count(len(g)),
                          interval_range(r["rel_lift"], r["rel_ci_lower"], r["rel_ci_upper"], kind="lift") or MISSING,
                          text("the interval stayed {} through the last 7 days", side) if side
                          else text("the interval still included zero in the last 7 days")))
    if srm_result is not None and srm_result.mismatch:
        return answer(items, lead=text("Up to {} (not interpretable: sample ratio mismatch):", date(last)))
    return answer(items, lead=text("Up to {}:", date(last)))


def experiment_power(result: pd.DataFrame, *, days=None, alpha: float = 0.05, lift_target: float = 0.10,
                     power: float = 0.8) -> pd.DataFrame:
    """Sensitivity of the test for each proportion metric: the smallest relative lift it could detect
    (two-sided, ``power``) with the units it had, the units per arm for a ``lift_target`` lift and the
    days more that takes at the traffic seen (when ``days`` of data are known). Raw numbers (for a CSV)."""
    from cxlib import experiments

    rows = []
    for m, g in result[result["kind"] == "proportion"].groupby("metric", sort=False):
        base, n_arm = float(g["control_value"].iloc[0]), float(g["n_control"].iloc[0])
        if not 0 < base < 1:
            continue
        need = experiments.sample_size(base, lift_target, alpha=alpha, power=power)
        rows.append({"metric": m, "baseline": base, "units_per_arm": n_arm,
                     "minimum_detectable_lift": experiments.minimum_detectable_effect(n_arm, base, alpha=alpha,
                                                                                     power=power),
                     "lift_target": lift_target, "units_per_arm_needed": need,
                     "more_days_needed": experiments.days_needed(need, n_arm, days) if days else float("nan")})
    return pd.DataFrame(rows, columns=["metric", "baseline", "units_per_arm", "minimum_detectable_lift",
                                       "lift_target", "units_per_arm_needed", "more_days_needed"])


def experiment_power_table(power_: pd.DataFrame, *, labels: dict | None = None, title=None, subtitle=None):
    """An :func:`experiment_power` table for people."""
    target = lift(power_["lift_target"].iloc[0], 0) if len(power_) else "10%"
    p = power_.assign(_metric=[f"{label(m, labels)} (control {share(b, 1)})"
                               for m, b in zip(power_["metric"], power_["baseline"])],
                      _mde=[f"±{share(x, 1)}" if _num(x) is not None else MISSING
                            for x in power_["minimum_detectable_lift"]],
                      _days=[("Enough units already" if _num(d) == 0 else f"{count(d)} more days") if _num(d) is not None
                             else MISSING for d in power_["more_days_needed"]])
    cols = {"_metric": "text", "units_per_arm": "count", "_mde": "text", "units_per_arm_needed": "count"}
    if power_["more_days_needed"].notna().any():
        cols["_days"] = "text"
    return table(p, columns=cols, title=title, subtitle=subtitle,
                 labels={"_metric": "Metric", "units_per_arm": "Units per arm",
                         "_mde": "Smallest lift it could detect",
                         "units_per_arm_needed": f"Units per arm to detect {target}",
                         "_days": "Time needed at current traffic", **(labels or {})},
                 notes=["Two-sided test at 80% power; lifts are relative to the control rate."])


def experiment_srm_answer(srm_result, result: pd.DataFrame | None = None) -> Text:
    """The randomization check in a sentence (chi-square test of the units per arm against the plan)."""
    t = srm_result.table
    left_out = int((result.attrs.get("units_without_variant", 0) if result is not None else 0) or 0)
    extra = text(" {} units without a variant are left out.", count(left_out)) if left_out else text("")
    if srm_result.mismatch:
        return paragraph("<strong>No.</strong> The arms did not receive their planned shares of the {} units "
                         "(chi-square test p {}): assignment or logging is broken, so no result on this page can "
                         "be called a win or a loss until the cause is found and fixed.{}",
                         count(t["n"].sum()), _p_phrase(srm_result.p_value), extra)
    return paragraph("<strong>Yes.</strong> The {} units are split across the {} arms as planned (chi-square test "
                     "p {}; a mismatch would need p below {}).{}", count(t["n"].sum()), count(len(t)),
                     _p_phrase(srm_result.p_value), p_value(srm_result.threshold), extra)


def _exp_family(result: pd.DataFrame) -> str:
    m, v = result["metric"].nunique(), result["variant"].nunique()
    return f"{count(m)} metric{'s' if m != 1 else ''} × {count(v)} variant{'s' if v != 1 else ''}"


def experiment_overview(result: pd.DataFrame, *, labels: dict | None = None) -> Text:
    """Section answer for the full results table: how many comparisons are beyond noise, and which."""
    n = len(result)
    if (result["decision"] == NOT_INTERPRETABLE).all():
        return paragraph("Not one of the {} comparisons can be read as a result: the allocation check failed. The "
                         "numbers below are measurements only.", count(n))
    control = label(result.attrs.get("control", "control"), labels)
    gaps = [r for _, r in result.iterrows() if _exp_unmeasured(r)]
    unmeasured = (text(" {} could not be measured, so {} no estimate: {}.",
                       f"{count(len(gaps))} comparison{'s' if len(gaps) != 1 else ''}",
                       "they have" if len(gaps) != 1 else "it has",
                       "; ".join(f"{label(r['variant'], labels)} on {label(r['metric'], labels)} "
                                 f"({_exp_unmeasured_words(r, control, labels)})" for r in gaps))
                  if gaps else text(""))
    moved = result[result["decision"].isin(["win", "loss", "guardrail breached", "blocked by guardrail"])]
    if moved.empty:
        return paragraph("Not one of the {} comparisons ({}) moved beyond noise.{}", count(n), _exp_family(result),
                         unmeasured)
    said = Markup("; ").join(
        text("{} {} on {} ({})", label(r["variant"], labels),
             {"win": "better", "blocked by guardrail": "better (blocked by its broken guardrail)"}.get(
                 r["decision"], "worse"), label(r["metric"], labels), _exp_cells(r)["head"])
        for _, r in moved.iterrows())
    return paragraph("{} of the {} comparisons ({}) moved beyond noise (p-values adjusted for "
                     "the number of comparisons; guardrails judged before adjustment): {}. The rest are {}.{}",
                     count(len(moved)), count(n), _exp_family(result), said,
                     "within noise" if not gaps else "within noise or not measured", unmeasured)


def experiment_power_answer(power_: pd.DataFrame, *, labels: dict | None = None) -> Text:
    """Section answer for :func:`experiment_power`: the smallest lift the test could see, per metric."""
    if power_.empty:
        return paragraph("The power calculation here covers proportion (yes/no) metrics; this experiment has none.")
    items = [text("{}: with {} units per arm the test could reliably detect (80% power) a lift of about {} or "
                  "more from the control rate of {}; smaller effects could have been missed.",
                  label(r["metric"], labels),
                  count(r["units_per_arm"]), share(r["minimum_detectable_lift"], 1), share(r["baseline"], 1))
             for _, r in power_.iterrows()]
    return answer(items)


_EXP_SHORT = {"win": "Win", "loss": "Loss", "inconclusive": "Within noise", "guardrail breached": "Guardrail broken",
              "blocked by guardrail": "Better, blocked by guardrail",
              NOT_INTERPRETABLE: "Not interpretable (SRM)", NOT_MEASURED: "Not measured"}


def experiment_results_table(result: pd.DataFrame, *, by: str | None = None, primary: str | None = None,
                             labels: dict | None = None, title=None, subtitle=None):
    """A :func:`cxlib.experiments.compare` result in four phone-sized columns: variant, relative change and
    difference (each with its 95% interval) and the result in words with its p-value; rows grouped by
    metric (primary first, guardrails last, marked in words) and segment (``by``).

    Examples
    --------
    >>> experiment_results_table(result, primary="converted")  # doctest: +SKIP
    """
    # a primary metric that is not in this table (e.g. a table of quantile metrics) marks none
    primary = _exp_primary(result, primary) if primary is None or primary in set(result["metric"]) else None
    names = experiment_labels(result, primary=primary, labels=labels)
    guard = result["guardrail"].astype(bool) if "guardrail" in result else pd.Series(False, index=result.index)
    order = {m: i for i, m in enumerate(result["metric"].unique())}
    r = result.assign(_o=[(0 if m == primary else 2 if g else 1, order[m]) for m, g in zip(result["metric"], guard)])
    r = r.sort_values(["_o", *([by] if by else [])], kind="mergesort")

    control = label(result.attrs.get("control", "control"), labels)

    def verdict(x):
        if _exp_unmeasured(x):  # no estimate: the reason in words, no p-value
            return f"{_EXP_SHORT[NOT_MEASURED]}: {_exp_unmeasured_words(x, control, labels)}"
        word = _EXP_SHORT.get(x["decision"], label(x["decision"]))
        if x["decision"] == NOT_INTERPRETABLE:
            return word
        if x["decision"] == "guardrail breached":
            return f"{word} (p {_p_phrase(x['p_value'])}, unadjusted)"
        return f"{word} (p {_p_phrase(x['p_adjusted'])})"

    def diff(x):
        dk = _EXP_KINDS.get(x["kind"], ("number", "signed"))[1]
        opts = {"digits": 2} if dk == "pp" else {}
        return interval(x["abs_diff"], x["abs_ci_lower"], x["abs_ci_upper"], kind=dk, **opts)

    r = r.assign(_group=[names.get(m, label(m, labels)) + (f" · {label(s, labels)}" if by else "")
                         for m, s in zip(r["metric"], r[by] if by else r["metric"])],
                 _lift=[interval(x["rel_lift"], x["rel_ci_lower"], x["rel_ci_upper"], kind="lift")
                        for _, x in r.iterrows()],
                 _diff=[diff(x) for _, x in r.iterrows()],
                 _verdict=[verdict(x) for _, x in r.iterrows()])
    return table(r, columns={"_group": "text", "variant": "label", "_lift": "text", "_diff": "text",
                             "_verdict": "text"}, groups="_group", title=title, subtitle=subtitle,
                 labels={**(labels or {}), "variant": "Variant", "_lift": "Relative change",
                         "_diff": f"Difference vs {control}", "_verdict": "Result"},
                 notes=[text("Brackets: 95% confidence intervals. p-values adjusted for the {} comparisons "
                             "({}); a guardrail is broken when its interval lies entirely on the bad side, "
                             "before adjustment.",
                             # rows not measured have no p-value and are not in the family
                             count(len(result) - sum(_exp_unmeasured(x) for _, x in result.iterrows())),
                             label(result.attrs.get("correction", "holm")).replace("Fdr bh", "Benjamini-Hochberg")
                             if result.attrs.get("correction", "holm") != "none" else "no adjustment")])


def _experiment_diff_text(kind, est, lo, hi, *, with_estimate=True):
    """A difference in the metric's own unit (pp for shares, points for NPS), as in the results table."""
    dk = _EXP_KINDS.get(kind, ("number", "signed"))[1]
    opts = {"digits": 2} if dk == "pp" else {}
    if with_estimate:
        return interval(est, lo, hi, kind=dk, **opts)
    return interval_range(est, lo, hi, kind=dk, **opts) or MISSING


def _experiment_i2_words(i2, segment_word) -> Text:
    i2 = _num(i2)
    if i2 is None:
        return text("I² not available")
    if i2 <= 0:
        return text("I² = 0%: no spread between {} beyond chance", segment_word)
    word = ("a small" if i2 < 0.25 else "a moderate" if i2 < 0.5 else "a large" if i2 < 0.75 else "most of the")
    return text("I² = {}: {} share of the spread between {} goes beyond chance", share(i2), word, segment_word)


def experiment_heterogeneity_answer(het: pd.DataFrame, by_segment: pd.DataFrame, *, segment: str,
                                    alpha: float = 0.05, srm_result=None, labels: dict | None = None) -> Text:
    """Does the effect differ between segments? One sentence per variant from
    :func:`cxlib.experiments.heterogeneity` (Cochran's Q p-value, I² in words, the pooled effect with its
    95% interval), under the question in bold.

    Examples
    --------
    >>> experiment_heterogeneity_answer(experiments.heterogeneity(res, metric="converted"), res,
    ...                                 segment="device")  # doctest: +SKIP
    """
    from scipy import stats as _stats

    seg = label(segment, labels).lower()
    question = text("<strong>Does the effect differ between {} segments?</strong>", seg)
    items = []
    kinds = dict(zip(by_segment["metric"], by_segment["kind"])) if "kind" in by_segment else {}
    z = _stats.norm.ppf(1 - alpha / 2)
    for _, r in het.iterrows():
        p = _num(r["p_value"])
        differs = p is not None and p < alpha
        est, se = _num(r["pooled_effect"]), _num(r["pooled_se"])
        kind = kinds.get(r["metric"])
        dk = _EXP_KINDS.get(kind, ("number", "signed"))[1]
        pooled = (format_value(est, dk, **({"digits": 2} if dk == "pp" else {})) if est is not None else MISSING)
        ci = (_experiment_diff_text(kind, est, est - z * se, est + z * se, with_estimate=False)
              if est is not None and se is not None else MISSING)
        items.append(text("<strong>{}</strong>: {} that the effect on {} differs by {} (Cochran's Q p {}; {}); "
                          "pooled over {} {} segments, {} (95% CI {}).",
                          label(r["variant"], labels), "evidence" if differs else "no evidence",
                          label(r["metric"], labels), seg, _p_phrase(p),
                          _experiment_i2_words(r["i2"], text("the {} segments", seg)),
                          count(r["n_segments"]), seg, pooled, ci))
    if not items:
        items = [text("Fewer than two {} segments have units in both arms, so there is nothing to compare "
                      "between segments.", seg)]
    lead = text("{} One test per variant, so reading many segment rows does not multiply false alarms:",
                question)
    if srm_result is not None and srm_result.mismatch:
        lead = text("{} Not interpretable (sample ratio mismatch); for the record:", question)
    return answer(items, lead=lead)


def _experiment_cs_run(g: pd.DataFrame):
    """(side, first period, its day number) of the last unbroken run of periods whose confidence sequence
    excludes zero on the same side as the last period; side None when the last one includes zero."""
    g = g.sort_values("period").reset_index(drop=True)
    side = np.where(g["cs_lower"] > 0, 1, np.where(g["cs_upper"] < 0, -1, 0))
    if not len(g) or side[-1] == 0:
        return None, None, None
    k = len(g) - 1
    while k > 0 and side[k - 1] == side[-1]:
        k -= 1
    return int(side[-1]), g.loc[k, "period"], k + 1


def experiment_sequential_answer(over_time: pd.DataFrame, *, srm_result=None, labels: dict | None = None) -> Text:
    """Was it safe to look every day? Per variant, whether the always-valid confidence sequence
    (``cumulative(..., sequential=True)``) excluded zero at the last period and from which day on.

    Examples
    --------
    >>> experiment_sequential_answer(experiments.cumulative(df, control="control", metric=m,
    ...                                                     sequential=True))  # doctest: +SKIP
    """
    question = text("<strong>Would a daily look have called it?</strong>")
    if over_time.empty or "cs_lower" not in over_time:
        return answer([text("No always-valid interval to show (too few days of data).")], lead=question)
    n_days = over_time["period"].nunique()
    items = []
    for v, g in over_time.groupby("variant", sort=False):
        g = g.sort_values("period")
        r = g.iloc[-1]
        cs = _experiment_diff_text(r["kind"], r["abs_diff"], r["cs_lower"], r["cs_upper"])
        side, since, day = _experiment_cs_run(g)
        better = side is not None and (side > 0) == (r.get("direction", "increase") != "decrease")
        if side is None:
            items.append(text("<strong>{}</strong>: the always-valid 95% interval still includes zero on the last "
                              "day, {}, so even watching every day gives no call for a win or a loss.",
                              label(v, labels), cs))
        else:
            items.append(text("<strong>{}</strong>: the always-valid 95% interval excluded zero on the last day, "
                              "{}, and on every day from {} on (day {} of {}), so the {} stands even though "
                              "the test was looked at every day.", label(v, labels), cs, date(since), count(day),
                              count(n_days), "improvement" if better else "worsening"))
    lead = text("{} The always-valid interval (a confidence sequence) stays valid however often it is checked; "
                "the shaded 95% bands in the figure are valid for one look at the planned end only.", question)
    if srm_result is not None and srm_result.mismatch:
        lead = text("{} Not interpretable (sample ratio mismatch); for the record:", question)
    return answer(items, lead=lead)


def experiment_sequential_table(over_time: pd.DataFrame, *, labels: dict | None = None, title=None):
    """The last period of ``cumulative(..., sequential=True)`` in four phone-sized columns: variant,
    difference vs control, fixed-horizon 95% interval (one look) and always-valid 95% interval (any look)."""
    last = over_time[over_time["period"] == over_time["period"].max()]
    r = last.assign(
        _diff=[format_value(x["abs_diff"], _EXP_KINDS.get(x["kind"], ("number", "signed"))[1],
                            **({"digits": 2} if x["kind"] == "proportion" else {}))
               for _, x in last.iterrows()],
        _fixed=[_experiment_diff_text(x["kind"], x["abs_diff"], x["abs_ci_lower"], x["abs_ci_upper"],
                                      with_estimate=False) for _, x in last.iterrows()],
        _cs=[_experiment_diff_text(x["kind"], x["abs_diff"], x["cs_lower"], x["cs_upper"], with_estimate=False)
             for _, x in last.iterrows()])
    control = label(over_time.attrs.get("control", "control"), labels)
    return table(r, columns={"variant": "label", "_diff": "text", "_fixed": "text", "_cs": "text"},
                 title=title if title is not None else text("Last day, {}", date(over_time["period"].max())),
                 labels={**(labels or {}), "variant": "Variant", "_diff": f"Difference vs {control}",
                         "_fixed": "95% interval, one look", "_cs": "95% interval, any look"},
                 notes=["One look: the usual fixed-horizon interval, valid only if the test is read once, at its "
                        "planned end. Any look: the always-valid confidence sequence, valid however often it "
                        "was checked."])


def _exp_segment_key(r, by, labels):
    return ", ".join(label(r[c], labels) for c in by)


def experiment_explorer_answer(explored: pd.DataFrame, *, segment: str, srm_result=None,
                               labels: dict | None = None, max_items: int = 4) -> Text:
    """Which segment cells stand out without false alarms? From :func:`cxlib.experiments.segment_explorer`:
    how many of the segment × metric × variant cells are discoveries at the false-discovery rate
    (Benjamini-Hochberg, family per metric or over everything), which ones, and whether the shrunken
    (empirical-Bayes) estimates could be computed.

    Examples
    --------
    >>> experiment_explorer_answer(experiments.segment_explorer(by_segment), segment="device")  # doctest: +SKIP
    """
    seg = label(segment, labels).lower()
    q = float(explored.attrs.get("fdr_q", 0.05))
    fam = explored.attrs.get("fdr_family", "metric")
    by = list(explored.attrs.get("by") or [segment])
    question = text("<strong>Which {} segments stand out, without false alarms?</strong>", seg)
    n = len(explored)
    found = explored[explored["discovery"].astype(bool)]
    family = (text("a family per metric") if fam == "metric" else text("one family over every metric"))
    items = []
    if found.empty:
        items.append(text("None of the {} segment cells ({}) stands out once the number of cells is taken into "
                          "account (Benjamini-Hochberg at a false-discovery rate of {}, {}).", count(n),
                          _exp_family(explored), share(q), family))
    else:
        top = found.sort_values("q_value", kind="mergesort").head(max_items)
        said = Markup("; ").join(
            text("{} on {}, {} ({}, q {})", label(r["variant"], labels), label(r["metric"], labels),
                 _exp_segment_key(r, by, labels),
                 _experiment_diff_text(r["kind"], r["abs_diff"], r["abs_ci_lower"], r["abs_ci_upper"]),
                 _p_phrase(r["q_value"]))
            for _, r in top.iterrows())
        more = text(", and {} more in the table", count(len(found) - len(top))) if len(found) > len(top) else ""
        items.append(text("{} of the {} segment cells stand out at a false-discovery rate of {} (Benjamini-Hochberg, "
                          "{}): {}{}. On average at most {} of such a list is a false alarm.", count(len(found)),
                          count(n), share(q), family, said, more, share(q)))
    shrunk = explored["shrinkage"].notna() if "shrinkage" in explored else pd.Series(False, index=explored.index)
    if shrunk.any():
        items.append(text("Shrunken estimates (empirical Bayes) pull each segment toward the overall effect, the "
                          "more the fewer units it has: read them for the size of a segment's effect, since the "
                          "raw segment with the largest effect is usually partly luck."))
    else:
        k = int(explored.groupby(["metric", "variant"]).size().max()) if n else 0
        items.append(text("Shrunken estimates need at least four segment values to learn how much segments really "
                          "differ; {} has {}, so the raw estimates are shown as they are.", seg, count(k)))
    lead = question
    if srm_result is not None and srm_result.mismatch:
        lead = text("{} Not interpretable (sample ratio mismatch); for the record:", question)
    return answer(items, lead=lead)


def experiment_explorer_table(explored: pd.DataFrame, *, primary: str | None = None, labels: dict | None = None,
                              title=None, subtitle=None):
    """The segment explorer in phone-sized columns: variant, raw difference (95% interval), shrunken
    difference (95% interval, "—" when not shrunk), q-value and whether the cell stands out; rows grouped
    by metric and segment (primary first)."""
    by = list(explored.attrs.get("by") or [])
    primary = _exp_primary(explored, primary)
    names = experiment_labels(explored, primary=primary, labels=labels)
    order = {m: i for i, m in enumerate(explored["metric"].unique())}
    r = explored.assign(_o=[(0 if m == primary else 1, order[m]) for m in explored["metric"]])
    r = r.sort_values(["_o", *by], kind="mergesort")
    shrunk = r["shrinkage"].notna() if "shrinkage" in r else pd.Series(False, index=r.index)
    r = r.assign(
        _group=[names.get(x["metric"], label(x["metric"], labels)) + " · " + _exp_segment_key(x, by, labels)
                for _, x in r.iterrows()],
        _raw=[_exp_unmeasured_words(x, label(explored.attrs.get("control", "control"), labels), labels, first=True)
              if _exp_unmeasured(x) else
              _experiment_diff_text(x["kind"], x["abs_diff"], x["abs_ci_lower"], x["abs_ci_upper"])
              for _, x in r.iterrows()],
        _shrunk=[_experiment_diff_text(x["kind"], x["shrunk_diff"], x["shrunk_ci_lower"], x["shrunk_ci_upper"])
                 if s else MISSING for (_, x), s in zip(r.iterrows(), shrunk)],
        _stands=[("Yes" if bool(x["discovery"]) else "No") + f" (q {_p_phrase(x['q_value'])})" for _, x in r.iterrows()])
    control = label(explored.attrs.get("control", "control"), labels)
    fam = explored.attrs.get("fdr_family", "metric")
    cols = {"_group": "text", "variant": "label", "_raw": "text", "_shrunk": "text", "_stands": "text"}
    if not shrunk.any():  # too few segments to shrink anywhere: the answer says so, no column of dashes
        cols.pop("_shrunk")
    return table(r, columns=cols,
                 groups="_group", title=title, subtitle=subtitle,
                 labels={**(labels or {}), "variant": "Variant", "_raw": f"Difference vs {control}",
                         "_shrunk": "Shrunken estimate", "_stands": "Stands out?"},
                 notes=[text("Brackets: 95% intervals. q: Benjamini-Hochberg adjusted p-value over {}; a cell stands "
                             "out when q is below {}. Shrunken: empirical-Bayes estimate (normal model, "
                             "method-of-moments spread between segments, Morris intervals){}.",
                             "each metric's cells" if fam == "metric" else "all cells",
                             share(float(explored.attrs.get("fdr_q", 0.05))),
                             "; — when there are too few segments to shrink" if shrunk.any() else
                             ", shown from four segment values on")])


def experiment_quantile_answer(result: pd.DataFrame, *, srm_result=None, labels: dict | None = None) -> Text:
    """Plain-language reading of quantile metrics (``kind='quantile'``: median, p90 ...) compared between
    arms: the quantile in each arm and the difference with its 95% interval, per variant."""
    items = []
    control = label(result.attrs.get("control", "control"), labels)
    for _, r in result.iterrows():
        if _exp_unmeasured(r):
            items.append(text("<strong>{}</strong>, {}: not measured, {}, so there is no difference to show.",
                              label(r["variant"], labels), label(r["metric"], labels),
                              _exp_unmeasured_words(r, control, labels)))
            continue
        verdict = {"win": "better beyond noise", "loss": "worse beyond noise",
                   "guardrail breached": "worse beyond noise (guardrail broken)",
                   "blocked by guardrail": "better beyond noise, but blocked by a broken guardrail",
                   NOT_INTERPRETABLE: "not interpretable (sample ratio mismatch)"}.get(r["decision"], "within noise")
        items.append(text("<strong>{}</strong>, {}: {} against {} in control, a difference of {}: {}.",
                          label(r["variant"], labels), label(r["metric"], labels),
                          format_value(r["variant_value"], "number"), format_value(r["control_value"], "number"),
                          _experiment_diff_text(r["kind"], r["abs_diff"], r["abs_ci_lower"], r["abs_ci_upper"]),
                          verdict))
    lead = text("Each variant's quantile against control's (95% intervals of the difference, p-values adjusted "
                "for the {} comparisons):", count(len(result)))
    if srm_result is not None and srm_result.mismatch:
        lead = text("Not interpretable (sample ratio mismatch); for the record:")
    return answer(items, lead=lead)


# ---- cx_scorecard page (additions for that notebook go below this line)

_SCORE_HOW = {"csat": "a csat column (satisfaction 1–5)", "ces": "a ces column (ease 1–7)"}


def scorecard_no_answers(n) -> Text:
    """Words for a ``no_answers_in_week`` note (:func:`cxlib.scorecard.headline` and friends): no answers
    that week and, when the note names it, the last week that had some with its figure, e.g. "No NPS
    answers in the week of 30 Nov 2026; the last week with answers was that of 23 Nov 2026: NPS +12.0
    (n = 84)." Every value is escaped; a missing figure is said in words, never NaN."""
    metric = str(n.get("metric") or "nps")
    name = label(metric, {"nps": "NPS", "csat": "CSAT", "ces": "CES"})
    first = text("No {} answers in the week of {}", name, date(n.get("week")))
    if "last_week" not in (getattr(n, "values", None) or {}):
        return text("{}.", first)
    lw = n.get("last_week")
    if lw is None or pd.isna(lw):
        return text("{}, nor in any week before it.", first)
    kind, opts = _HEAD_KINDS.get(metric, ("number", {}))
    v = _num(n.get("value"))
    if v is None:
        fig = text("{} answers, too few to show a score", count(n.get("n", 0)))
    else:
        level = round(100 * (1 - float(n.get("alpha", 0.05))))
        fig = text("{} {} ({}% CI {}, n = {})", name, format_value(v, kind, **opts), level,
                   interval_range(v, n.get("ci_lower"), n.get("ci_upper"), kind=kind, **opts) or MISSING,
                   count(n.get("n", 0)))
    return text("{}; the last week with answers was that of {}: {}.", first, date(lw), fig)


def scorecard_no_answers_before(n) -> Text:
    """Words for a ``no_answers_before_week`` note (:func:`cxlib.scorecard.what_changed`)."""
    name = label(str(n.get("metric") or "nps"), {"nps": "NPS", "csat": "CSAT", "ces": "CES"})
    return text("No {} answers in the {} weeks before the week of {}: nothing to compare that week with.",
                name, count(n.get("prior_weeks", 0)), date(n.get("week")))


NOTE_TEXT["no_answers_in_week"] = scorecard_no_answers
NOTE_TEXT["no_answers_before_week"] = scorecard_no_answers_before
NOTE_TEXT["no_tickets_in_week"] = ("No tickets from the week of {week} to compare: none was created that week, or none "
                                   "was answered by the analysis date.")


def _empty_week_notes(result, metric: str | None = None, code: str = "no_answers_in_week") -> list:
    """The ``code`` notes of ``result`` (for ``metric`` when given)."""
    return [n for n in (getattr(result, "attrs", None) or {}).get("notes", []) or []
            if getattr(n, "code", None) == code and (metric is None or n.get("metric") == metric)]


def _unanswered(head: pd.DataFrame) -> list:
    """Words for each headline metric without answers this week (its ``no_answers_in_week`` note), also
    when its rows were filtered out of ``head`` before the call (the notes travel in ``attrs``)."""
    out, said = [], set()
    for n in _empty_week_notes(head):
        m = n.get("metric")
        g = head[head["metric"] == m] if len(head) else head
        if m in said or (len(g) and (g["n"] > 0).any()):
            continue
        said.add(m)
        out.append(scorecard_no_answers(n))
    return out


def scorecard_figures(head: pd.DataFrame, *, scores=("nps", "csat", "ces"), min_n: int | None = None,
                      labels: dict | None = None) -> Text:
    """Key-figure tiles of a :func:`cxlib.scorecard.headline` result: this week's value with its interval,
    the change against the prior weeks and against the previous week (each beyond noise or not, in words)
    and the number of answers. A score in ``scores`` that ``head`` lacks gets a tile saying it is not measured.

    Examples
    --------
    >>> scorecard_figures(scorecard.headline("data/sample/responses.csv"))  # doctest: +SKIP
    """
    figs = []
    for metric in scores:
        g = head[head["metric"] == metric]
        name = _SCORE_NAMES.get(metric, label(metric, labels))
        empty = _empty_week_notes(head, metric)
        measured = head.attrs.get("scores")  # the scores headline() was given columns for
        if metric not in (measured if measured is not None else set(head["metric"]) if len(head) else ()):
            # no column for this score in the survey (not a week without answers): say how to add it
            figs.append(Figure(name, "Not measured", note=text("The responses have no {} column; add {} to see it.",
                                                               label(metric), _SCORE_HOW.get(metric, "the column"))))
            continue
        if empty and (g.empty or not (g["n"] > 0).any()):  # a week without answers: news, with the last week
            figs.append(Figure(name, "No answers", note=scorecard_no_answers(empty[0])))
            continue
        if g.empty:  # measured, but its rows were left out of the table given
            figs.append(Figure(name, MISSING, note=text("No {} figure in this table.", label(metric))))
            continue
        prior, prev = g[g["comparison"] != "previous week"], g[g["comparison"] == "previous week"]
        r = (prior if len(prior) else g).iloc[0]
        kind, opts = _HEAD_KINDS.get(metric, ("number", {}))
        f = figure(metric, r["value"], r["ci_lower"], r["ci_upper"], kind=kind, change=r["change"],
                   change_lo=r["change_ci_lower"], change_hi=r["change_ci_upper"],
                   versus=f"the {label(r['comparison']).lower()}", beyond_noise=r["beyond_noise"],
                   labels={**_SCORE_NAMES, **(labels or {})}, **opts)
        note = []
        if len(prev):
            p = prev.iloc[0]
            note.append(change_sentence(p["change"], p["change_ci_lower"], p["change_ci_upper"], kind=kind,
                                        versus="the previous week", beyond_noise=p["beyond_noise"],
                                        digits=opts.get("digits")))
        few = f" (too few to show; at least {count(min_n)} needed)" if f.value == MISSING and min_n else ""
        f.interval = "; ".join(x for x in (f.interval, f"{count(r['n'])} answers this week{few}") if x)
        f.note = " ".join(note)
        figs.append(f)
    return key_figures(figs)


def headline_answer(head: pd.DataFrame, *, labels: dict | None = None) -> Text:
    """One sentence on a :func:`cxlib.scorecard.headline` result: which scores moved beyond noise, and
    against which comparison (previous week or the prior weeks)."""
    moved, compared = [], False
    empty = _unanswered(head)
    for _, r in head.iterrows():
        if _num(r["change"]) is None:
            continue
        compared = True
        if bool(r["beyond_noise"]):
            kind = _HEAD_KINDS.get(r["metric"], ("number", {}))[0]
            moved.append(text("{} {} vs the {} (p {})", label(r["metric"], {**_SCORE_NAMES, **(labels or {})}),
                              change_sentence(r["change"], kind=kind, versus="x").split(" vs ")[0]
                              .removeprefix("▲ ").removeprefix("▼ ").lower(),
                              label(r["comparison"]).lower(), _p_phrase(r["p_value"])))
    if not compared and empty:
        return answer(empty)
    if not compared:
        return paragraph("Too few answers this week or before it to test any change.")
    if not moved:
        return paragraph("No score changed beyond noise, against the previous week or the prior weeks: the "
                         "movements are week-to-week wobble.")
    return paragraph("Beyond noise: {}. Every other change is within noise.", Markup("; ").join(moved))


def segment_answer(seg: pd.DataFrame, *, labels: dict | None = None) -> Text:
    """The lowest NPS this week within each segment column of :func:`cxlib.scorecard.segment_table`; a
    week without answers is said in one sentence."""
    if seg.empty:  # the week and no more: the headline above already gives the last week with answers
        found = _empty_week_notes(seg)
        return answer([text("No {} answers in the week of {}.", label(str(found[0].get("metric") or "nps"),
                                                                      {"nps": "NPS"}), date(found[0].get("week")))
                       if found else text("No answers this week.")])
    items = []
    for col, g in seg.groupby("segment", sort=False):
        ok = g[~g["suppressed"].astype(bool)]
        if ok.empty:
            items.append(text("{}: every value has too few answers this week to show.", label(col, labels)))
            continue
        lo, hi = ok.loc[ok["nps"].idxmin()], ok.loc[ok["nps"].idxmax()]
        if len(ok) < 2:
            items.append(text("{}: only <strong>{}</strong> has enough answers, NPS {} (95% CI {}, n = {}).",
                              label(col, labels), label(lo["value"], labels), points(lo["nps"]),
                              interval_range(lo["nps"], lo["ci_lower"], lo["ci_upper"], kind="points"),
                              count(lo["n"])))
            continue
        items.append(text("{}: lowest <strong>{}</strong> NPS {} (95% CI {}, n = {}), highest {} {} (n = {}).",
                          label(col, labels), label(lo["value"], labels), points(lo["nps"]),
                          interval_range(lo["nps"], lo["ci_lower"], lo["ci_upper"], kind="points"),
                          count(lo["n"]), label(hi["value"], labels), points(hi["nps"]), count(hi["n"])))
    return answer(items)


def support_answer(changes: pd.DataFrame, *, attainment: pd.DataFrame | None = None,
                   labels: dict | None = None) -> Text:
    """Per channel: this week's median first response against the prior weeks (Mann-Whitney test, from
    :func:`cxlib.scorecard.support_changes`) and the share answered within the channel's target this week
    (:func:`cxlib.support.target_attainment`)."""
    if changes.empty or not (changes["n"] > 0).any():
        found = _empty_week_notes(changes, code="no_tickets_in_week")
        if found:
            return answer([note_text(found[0])])
        if changes.empty:
            return answer([text("No tickets to compare this week.")])
    key = changes.columns[0]
    att = attainment.set_index(attainment.columns[0]) if attainment is not None and len(attainment) else None
    items = []
    for _, s in changes.iterrows():
        ch = label(s[key], labels)
        if _num(s["median_hours"]) is None:
            line = text("<strong>{}</strong>: too few tickets to compare ({} this week, {} in the prior weeks)",
                        ch, count(s["n"]), count(s["prior_n"]))
        else:
            verdict = ((text("<strong>slower beyond noise</strong>") if s["ratio"] > 1
                        else text("<strong>faster beyond noise</strong>")) if s["beyond_noise"]
                       else text("within noise"))
            line = text("<strong>{}</strong>: median first response <strong>{}</strong> this week against {} "
                        "usually, {} (Mann–Whitney p {}; {} tickets)", ch, duration(s["median_hours"]),
                        duration(s["prior_median_hours"]), verdict, _p_phrase(s["p_value"]), count(s["n"]))
        if att is not None and s[key] in att.index:
            a = att.loc[s[key]]
            line = text("{}; {} answered within the {} target (95% CI {})", line, share(a["attainment"]),
                        duration(a["target"], unit=str(a.get("unit", "hour"))),
                        interval_range(a["attainment"], a["ci_lower"], a["ci_upper"], kind="share"))
        items.append(text("{}.", line))
    return answer(items)


def support_quality_table(resolution: pd.DataFrame, *, repeats: pd.DataFrame | None = None,
                          reopens: pd.DataFrame | None = None, within_days=7, labels: dict | None = None,
                          title=None, subtitle=None):
    """Per channel: median time to resolve (:func:`cxlib.support.response_times` with
    ``measure='resolution'``), repeat contacts (:func:`cxlib.support.repeat_contact_rate`) and reopened
    tickets (:func:`cxlib.support.reopen_rate`), each with its 95% interval."""
    key = resolution.columns[0]
    unit = str(resolution["unit"].iloc[0]) if len(resolution) and "unit" in resolution else "hour"
    m = resolution[[key, "n", "p50", "p50_ci_lower", "p50_ci_upper"]]
    cols, iv = {key: "label", "n": "count", "p50": "duration"}, {"p50": ("p50_ci_lower", "p50_ci_upper")}
    for extra, rate in ((repeats, "repeat_rate"), (reopens, "reopen_rate")):
        if extra is not None and len(extra):
            m = m.merge(extra[[key, rate, "ci_lower", "ci_upper"]].rename(
                columns={"ci_lower": f"{rate}_lo", "ci_upper": f"{rate}_hi"}), on=key, how="left")
            cols[rate], iv[rate] = "share", (f"{rate}_lo", f"{rate}_hi")
    return table(m, columns=cols, intervals=iv, options={"p50": {"unit": unit}}, title=title, subtitle=subtitle,
                 labels={"n": "Resolved tickets", "p50": "Median time to resolve",
                         "repeat_rate": f"Repeat within {_days(within_days)}",
                         "reopen_rate": "Reopened", **(labels or {})})


def stage_answer(stages: pd.DataFrame, *, labels: dict | None = None) -> Text:
    """The lowest and highest NPS by journey stage (:func:`cxlib.journey.stage_metrics`, all weeks)."""
    key = stages.columns[0]
    ok = stages[~stages["suppressed"].astype(bool)]
    if ok.empty:
        return paragraph("Every stage has too few answers to show an NPS.")
    lo, hi = ok.loc[ok["nps"].idxmin()], ok.loc[ok["nps"].idxmax()]
    return paragraph("Lowest NPS: <strong>{}</strong> at {} (95% CI {}, n = {}); highest: {} at {} (95% CI {}, "
                     "n = {}). All weeks pooled; no test between stages, so read the intervals.",
                     label(lo[key], labels), points(lo["nps"]),
                     interval_range(lo["nps"], lo["ci_lower"], lo["ci_upper"], kind="points"), count(lo["n"]),
                     label(hi[key], labels), points(hi["nps"]),
                     interval_range(hi["nps"], hi["ci_lower"], hi["ci_upper"], kind="points"), count(hi["n"]))


def weakest_step_answer(weak: pd.DataFrame, *, steps, labels: dict | None = None) -> Text:
    """A :func:`cxlib.journey.weakest_step` result in words: the step with the lowest conversion, and
    whether it is lower than the next-weakest step beyond noise (two-proportion test)."""
    steps = list(steps)
    r = weak.iloc[0]
    if not isinstance(r["step"], str):
        return paragraph("Too few customers reached each step to name a weakest step.")

    def hop(step):
        i = steps.index(step) if step in steps else 0
        return (text("{} → {}", label(steps[i - 1], labels), label(step, labels)) if i
                else text("{}", label(step, labels)))

    i = steps.index(r["step"]) if r["step"] in steps else 0
    first = text("The weakest step is <strong>{}</strong>: {} of the {} customers who got to {} went on "
                 "(95% CI {})", hop(r["step"]), share(r["conversion"]), count(r["entered"]),
                 label(steps[i - 1] if i else r["step"], labels).lower(),
                 interval_range(r["conversion"], r["ci_lower"], r["ci_upper"], kind="share"))
    if not isinstance(r["next_step"], str):
        return paragraph("{}; it is the only step with enough customers to compare.", first)
    verdict = ("beyond noise: fix this step first" if r["beyond_noise"]
               else "within noise: it cannot be told apart from the next-weakest step")
    return paragraph("{}, against {} at the next-weakest step, {}. The gap is {} (95% CI {}; two-proportion "
                     "test p {}): {}.", first, share(r["next_conversion"]), hop(r["next_step"]),
                     pp(r["difference"]), interval_range(r["difference"], r["diff_ci_lower"], r["diff_ci_upper"],
                                                         kind="pp"), _p_phrase(r["p_value"]), verdict)


def step_time_answer(times: pd.DataFrame, *, labels: dict | None = None) -> Text:
    """A :func:`cxlib.journey.step_times` result (one row) in words: median and 90th percentile time from
    the start step to the end step with intervals, and the share who got there within 7 days."""
    r = times.iloc[0]
    start, end = label(r["start"], labels), label(r["end"], labels)
    if bool(r["suppressed"]):
        return paragraph("Too few customers went from {} to {} ({}) to say how long it takes.", start.lower(),
                         end.lower(), count(r["n"]))
    unit = times.attrs.get("unit", "hour")
    week = ""
    if "within_7d" in times and _num(r["within_7d"]) is not None:
        week = text(" Of the customers who reached {} at least 7 days before the data end, {} (95% CI {}) got to "
                    "{} within 7 days.", start.lower(), share(r["within_7d"]),
                    interval_range(r["within_7d"], r["within_7d_ci_lower"], r["within_7d_ci_upper"], kind="share"),
                    end.lower())
    return paragraph("Time to {}: half of the {} customers who got from {} to {} took at most <strong>{}</strong> "
                     "(95% CI {}); 90% took at most {}.{}", end.lower(), count(r["n"]), start.lower(), end.lower(),
                     duration(r["median"], unit=unit),
                     interval_range(r["median"], r["ci_lower"], r["ci_upper"], kind="duration", unit=unit),
                     duration(r["p90"], unit=unit), week)


def themes_answer(week_counts: pd.DataFrame, *, rising: pd.DataFrame | None = None, top: int = 3,
                  labels: dict | None = None) -> Text:
    """This week's comment themes in words (:func:`cxlib.themes.theme_counts` rows of one week) and the
    themes rising beyond noise (:func:`cxlib.themes.rising_themes`)."""
    n = int(week_counts["comments"].max()) if len(week_counts) else 0
    if n == 0:
        return answer([text("No comments this week.")])
    hits = week_counts[week_counts["mentions"] > 0].sort_values("mentions", ascending=False, kind="mergesort")
    if hits.empty:
        return answer([text("No theme matched this week's {} comments. The theme taxonomy is English: give your "
                            "own with the taxonomy parameter (a YAML file of themes and their words).", count(n))])
    tops = Markup(", ").join(
        text("<strong>{}</strong> {} ({} of {})", label(h["label"], labels), share(h["mentions"] / n),
             count(h["mentions"]), count(n)) for _, h in hits.head(top).iterrows())
    items = [text("Most mentioned in this week's {} comments: {}.", count(n), tops)]
    if rising is not None and len(rising):
        up = rising[rising["rising"].astype(bool)]
        if up.empty:
            items.append(text("No theme rose beyond noise against the prior weeks."))
        for _, r in up.iterrows():
            items.append(text("Rising beyond noise: <strong>{}</strong>, {} of comments against {} in the prior "
                              "weeks (change {}, 95% CI {}; p {}).", label(r["label"], labels), share(r["share"]),
                              share(r["prior_share"]), pp(r["change"]),
                              interval_range(r["change"], r["ci_lower"], r["ci_upper"], kind="pp"),
                              _p_phrase(r["p_value"])))
    return answer(items)


def _days(d) -> str:
    v = _num(d)
    return MISSING if v is None else (f"{count(v)} day{'s' if v != 1 else ''}" if float(v).is_integer()
                                      else f"{number(v)} days")


def stage_nps_table(stages: pd.DataFrame, *, labels: dict | None = None, title=None, subtitle=None):
    """A compact :func:`cxlib.journey.stage_metrics` table for a phone: stage (the weakest marked in
    words), answers and NPS with its interval; promoter and detractor shares stay in the CSV."""
    key = stages.columns[0]
    weakest = stages["weakest"] if "weakest" in stages else pd.Series(False, index=stages.index)
    s = stages.assign(_stage=[label(v, labels) + (" (lowest)" if w else "") for v, w in zip(stages[key], weakest)])
    return table(s, columns={"_stage": "text", "n": "count", "nps": "points"},
                 intervals={"nps": ("ci_lower", "ci_upper")}, title=title, subtitle=subtitle,
                 labels={"_stage": "Stage", "n": "Answers", "nps": "NPS", **(labels or {})})


def funnel_steps_table(steps: pd.DataFrame, *, labels: dict | None = None, title=None, subtitle=None):
    """A compact :func:`cxlib.journey.funnel` table for a phone: customers reaching each step, conversion
    from the previous step with its interval, and the median time from the previous step."""
    steps = steps.assign(conversion=steps["conversion"].where(steps["position"] > 1))  # the first step has none
    return table(steps, columns={"step": "label", "reached": "count", "conversion": "share",
                                 "median_hours_from_previous": "duration"},
                 intervals={"conversion": ("ci_lower", "ci_upper")}, title=title, subtitle=subtitle,
                 keep_suppressed=("reached",),
                 labels={"step": "Step", "reached": "Customers", "conversion": "From previous step",
                         "median_hours_from_previous": "Median time taken", **(labels or {})})


def rising_table(rising: pd.DataFrame, *, labels: dict | None = None, title=None, subtitle=None):
    """A compact :func:`cxlib.themes.rising_themes` table for a phone: theme (rising ones marked in
    words), this week's share, the prior weeks' share and the change with its interval."""
    r = rising.assign(_theme=[label(t, labels) + (" (rising beyond noise)" if up else "")
                              for t, up in zip(rising["label"], rising["rising"])])
    return table(r, columns={"_theme": "text", "share": "share", "prior_share": "share", "change": "pp"},
                 intervals={"change": ("ci_lower", "ci_upper")}, title=title, subtitle=subtitle,
                 labels={"_theme": "Theme", "share": "This week", "prior_share": "Prior weeks", "change": "Change",
                         **(labels or {})})


def callback_table(loop: pd.DataFrame, *, score: str = "nps", labels: dict | None = None, title=None,
                   subtitle=None):
    """A :func:`cxlib.scorecard.close_the_loop` list grouped by comment theme, four columns for a phone:
    the id (customer id, else respondent id), score, comment and latest ticket status."""
    who = "customer_id" if "customer_id" in loop.columns else "respondent_id"
    theme = loop["themes"] if "themes" in loop.columns else pd.Series("", index=loop.index)
    d = loop.assign(_theme=theme.replace({"(no theme)": "No theme matched"}))
    d = d.sort_values(["_theme", score], kind="mergesort")
    cols = {"_theme": "text", who: "text", score: "count", "comment": "text"}
    if "latest_ticket" in d.columns:
        d = d.assign(_ticket=d["latest_ticket"].map({"none": "No ticket", "open": "Open", "resolved": "Resolved"})
                     .fillna(d["latest_ticket"]))
        cols["_ticket"] = "text"
    return table(d, columns=cols, groups="_theme", title=title, subtitle=subtitle,
                 labels={"customer_id": "Customer", "respondent_id": "Respondent", score: "Score",
                         "comment": "Comment", "_ticket": "Latest ticket", **(labels or {})})


def source_notes(*tables) -> Text:
    """The notes a source's reader or layout recorded (:func:`cxlib.sources.metadata` ``notes``: dropped
    previews, partial answers, computed columns), as one escaped "About the data" list; empty without notes."""
    from cxlib import sources

    holders = []
    for t in tables:
        if t is None:
            continue
        h = pd.DataFrame()
        h.attrs["notes"] = list(sources.metadata(t).get("notes") or [])
        holders.append(h)
    return data_notes(*holders)


def _scorecard_noise(beyond) -> str:
    return "beyond noise" if bool(beyond) else "within noise"


def scorecard_what_changed_answer(wc: pd.DataFrame, *, top: int = 3, labels: dict | None = None) -> Text:
    """One sentence on a :func:`cxlib.scorecard.what_changed` result: the total change against the prior
    weeks = segment mix (who answered) + change within segments, each with its 95% interval and whether it
    is beyond noise, and the segments with the largest absolute contributions. With nothing to split (no
    answers this week or before it) the sentence says so."""
    if wc.empty:
        found = (_empty_week_notes(wc) or _empty_week_notes(wc, code="no_answers_before_week"))
        return paragraph("{}", note_text(found[0]) if found else text("Nothing to split this week."))
    parts = wc.set_index("part")
    tot, mix, within = (parts.loc[p] for p in ("total", "mix", "within"))
    by = wc.attrs.get("by") or ["segment"]
    col = " / ".join(label(b, labels) for b in by).lower()
    segs = wc[wc["part"] == "segment"].head(top)
    movers = Markup(", ").join(text("{} {}", label(r["segment"], labels), points(r["estimate"]))
                               for _, r in segs.iterrows())
    if _num(tot["ci_lower"]) is None:
        return paragraph("NPS changed by <strong>{}</strong> points against the prior {} weeks ({} to {}): {} from "
                         "who answered (mix by {}) and {} from changes within each {}; the largest contributions: "
                         "{}. No intervals were computed (bootstrap=0).", points(tot["estimate"]),
                         count(wc.attrs.get("prior_weeks")), points(tot["value_before"]), points(tot["value_now"]),
                         points(mix["estimate"]), col, points(within["estimate"]), col, movers)
    lead = {(False, True): "A change within each {}, not in who answered",
            (True, False): "A change in who answered (the mix of {} values), not within them",
            (True, True): "Both who answered and changes within each {}",
            (False, False): "Neither part stands out from noise"}[(bool(mix["beyond_noise"]),
                                                                 bool(within["beyond_noise"]))]
    return paragraph("<strong>{}</strong>: NPS changed by <strong>{}</strong> points (95% CI {}, {}; {} in the prior "
                     "{} weeks, {} this week), of which who answered (the mix of {} values) accounts for {} (95% CI "
                     "{}, {}) and changes within each {} for {} (95% CI {}, {}); the {} values that moved it most: "
                     "{}.", text(lead, col),
                     points(tot["estimate"]), interval_range(tot["estimate"], tot["ci_lower"], tot["ci_upper"],
                                                             kind="points"),
                     _scorecard_noise(tot["beyond_noise"]), points(tot["value_before"]),
                     count(wc.attrs.get("prior_weeks")), points(tot["value_now"]), col, points(mix["estimate"]),
                     interval_range(mix["estimate"], mix["ci_lower"], mix["ci_upper"], kind="points"),
                     _scorecard_noise(mix["beyond_noise"]), col, points(within["estimate"]),
                     interval_range(within["estimate"], within["ci_lower"], within["ci_upper"], kind="points"),
                     _scorecard_noise(within["beyond_noise"]), col, movers)


def scorecard_what_changed_table(wc: pd.DataFrame, *, top: int = 5, labels: dict | None = None, title=None,
                                 subtitle=None):
    """A compact :func:`cxlib.scorecard.what_changed` table for a phone: the ``top`` segments by absolute
    contribution, each with its mix part, within part and total (NPS points, 95% intervals), then a row
    for all segments (the whole change); no table when there is nothing to split."""
    if wc.empty:
        return Text("")
    by = wc.attrs.get("by") or ["segment"]
    segs = wc[wc["part"] == "segment"]
    rows = segs.head(top)[["segment", "mix_contribution", "mix_ci_lower", "mix_ci_upper", "within_contribution",
                           "within_ci_lower", "within_ci_upper", "estimate", "ci_lower", "ci_upper"]]
    rows = rows.assign(segment=[label(v, labels) for v in rows["segment"]])
    parts = wc.set_index("part")
    every = {"segment": "All values", "estimate": parts.loc["total", "estimate"],
             "ci_lower": parts.loc["total", "ci_lower"], "ci_upper": parts.loc["total", "ci_upper"]}
    for p, c in (("mix", "mix_contribution"), ("within", "within_contribution")):
        every.update({c: parts.loc[p, "estimate"], c.replace("contribution", "ci_lower"): parts.loc[p, "ci_lower"],
                      c.replace("contribution", "ci_upper"): parts.loc[p, "ci_upper"]})
    rows = pd.concat([rows, pd.DataFrame([every])], ignore_index=True)
    rest = len(segs) - len(rows) + 1
    notes = ([f"{count(rest)} other value{'s' if rest != 1 else ''} contributed less."] if rest > 0 else [])
    notes.append("Mix: the shift in who answered; within: the change of NPS inside each value. "
                 "Mix + within = total, in NPS points.")
    return table(rows, columns={"segment": "text", "mix_contribution": "points", "within_contribution": "points",
                                "estimate": "points"},
                 intervals={"mix_contribution": ("mix_ci_lower", "mix_ci_upper"),
                            "within_contribution": ("within_ci_lower", "within_ci_upper"),
                            "estimate": ("ci_lower", "ci_upper")},
                 notes=notes, title=title, subtitle=subtitle,
                 labels={"segment": " / ".join(label(b, labels) for b in by), "mix_contribution": "Who answered (mix)",
                         "within_contribution": "Within", "estimate": "Total"})


def _scorecard_touch_clause(r) -> Text:
    return text("{} left <strong>{} as often</strong> as those who did not (95% CI {}; {} vs {} customers)",
                cohort_touch_words(r["touch"], 1), _cohort_hr(r),
                interval_range(r["hazard_ratio"], r["ci_lower"], r["ci_upper"], digits=2),
                count(r["n_with"]), count(r["n_without"]))


def scorecard_touch_answer(ct: pd.DataFrame, *, min_n: int = 30) -> Text:
    """"After which touch do customers leave?" in one sentence, from :func:`cxlib.journey.churn_by_touch`:
    the touch with the highest hazard ratio whose 95% interval lies above 1 (else the highest one, said to
    be within noise), and the touch that goes most with staying (interval below 1) when there is one;
    always called an association.

    Examples
    --------
    >>> ct = journey.churn_by_touch("data/sample/subscriptions.csv", tickets="data/sample/tickets.csv")
    >>> scorecard_touch_answer(ct)  # doctest: +SKIP
    """
    w = int(round(ct.attrs.get("window_days", 30)))
    ok = ct[~ct["suppressed"].astype(bool) & ct["hazard_ratio"].notna()] if len(ct) else ct
    if not len(ok):
        return text("No touch can be compared yet: every touch has fewer than {} customers with it or without it "
                    "among those still subscribed {} days after starting.", count(min_n), w)
    risk, stay = ok[ok["ci_lower"] > 1], ok[ok["ci_upper"] < 1]
    tail = (text("; {}", _scorecard_touch_clause(stay.loc[stay["hazard_ratio"].idxmin()])) if len(stay)
            else text(""))
    if len(risk):
        r = risk.loc[risk["hazard_ratio"].idxmax()]
        return text("Customers leave most after {} in their first {} days: {}{} — associations, not proof of "
                    "cause.", cohort_touch_words(r["touch"], 2), w, _scorecard_touch_clause(r), tail)
    r = ok.loc[ok["hazard_ratio"].idxmax()]
    return text("No touch in customers' first {} days is followed by more leaving beyond noise: the closest, {}, "
                "is within noise{} — associations, not proof of cause.", w, _scorecard_touch_clause(r), tail)

