"""Escaped text: :class:`Text` (a ``Markup`` string shown as HTML in notebooks), :func:`text` and the
helpers built on it, key figures, and the words for note codes (:data:`NOTE_TEXT`, :func:`note_text`,
:func:`data_notes`). Every value is HTML-escaped by construction (``markupsafe.Markup.format``).
"""
from __future__ import annotations

import datetime as dt
import html
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from cxlib.present.format import MISSING, _auto_digits, _est_options, _num, _text, count, date, format_value, interval, interval_range, label, number, yes_no

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
    """One key-figure tile: formatted strings (plain text is escaped when rendered).

    ``estimate``, ``ci_lower`` and ``ci_upper`` keep the numbers behind ``value`` and ``interval``
    (:func:`figure` fills them) so the headline table (:func:`headline_frame`) carries data, not text.
    """

    label: str
    value: str
    interval: str = ""
    change: str = ""
    note: str = ""
    estimate: float | None = None
    ci_lower: float | None = None
    ci_upper: float | None = None


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
    return Figure(label(name, labels), value, ci, chg, note, _num(estimate), _num(lo), _num(hi))


def headline_frame(answer=None, figures=()) -> pd.DataFrame:
    """A page's headline as a table: its answer sentence, then one row per key figure.

    Each page publishes it (``publish(present.headline_frame(answer, figures), "headline_figures")``); the report
    index and manifest read the figures from it, never from the page's HTML.

    Parameters
    ----------
    answer : Text, str, list of them, or None
        The page's plain-language answer (:func:`answer` or a sentence). Its headline is the first line
        that is not a lead-in ending in ":" (a list's first such item), as plain text.
    figures : iterable of Figure or mapping
        The key figures (:func:`figure`); numbers come from their ``estimate``, ``ci_lower``, ``ci_upper``.

    Returns
    -------
    pandas.DataFrame
        Columns ``kind`` ("answer" or "figure"), ``label``, ``value``, ``interval``, ``change``, ``note``
        (text as shown) and ``estimate``, ``ci_lower``, ``ci_upper`` (floats, NaN when absent).

    Examples
    --------
    >>> df = headline_frame(answer(["NPS is +13.2."], lead="Week of 16 Nov 2026:"),
    ...                     [figure("nps", 13.16, 3.2, 23.1, kind="points")])
    >>> df[["kind", "label", "value", "estimate"]].values.tolist()
    [['answer', '', 'NPS is +13.2.', nan], ['figure', 'NPS', '+13.2', 13.16]]
    """
    columns = ["kind", "label", "value", "interval", "change", "note", "estimate", "ci_lower", "ci_upper"]
    rows = []
    items = answer if isinstance(answer, (list, tuple)) else [answer] if answer is not None else []
    lines = [ln.strip() for item in items
             for ln in (item.plain if isinstance(item, Text) else str(item)).splitlines() if ln.strip()]
    lines = [ln[2:].strip() if ln.startswith("- ") else ln for ln in lines]
    head = next((ln for ln in lines if not ln.endswith(":")), None)
    if head:
        rows.append({"kind": "answer", "label": "", "value": head})
    for f in figures:
        f = f if isinstance(f, Figure) else Figure(**f)
        rows.append({"kind": "figure", "label": str(f.label), "value": str(f.value), "interval": str(f.interval),
                     "change": str(f.change), "note": str(f.note), "estimate": _num(f.estimate),
                     "ci_lower": _num(f.ci_lower), "ci_upper": _num(f.ci_upper)})
    out = pd.DataFrame(rows, columns=columns)
    for c in columns[1:6]:
        out[c] = out[c].fillna("").astype(str)
    for c in columns[6:]:
        out[c] = pd.to_numeric(out[c]).astype(float)
    return out


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


# ============================================================================ plain-language answers

def _segment(by, value, labels=None) -> Text:
    return text("{} <strong>{}</strong>", label(by, labels), label(value, labels))


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
