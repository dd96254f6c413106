"""How a spec or a parameter may name a column (DESIGN.md "Sources").

Wherever a spec names a column (``columns:``, ``drivers:``, ``labels:``, ``personal:``, ``currency:``)
it may use, in this order of precedence:

1. the column's name in the table (an exact name match always wins);
2. the contract name the layout maps onto it (``nps`` for the column a layout found the score in);
3. the export's own header text: the first header row's cell (``Respondent ID``, a Typeform question),
   the full question text (SurveyMonkey / Qualtrics ``"Question - Row"``), or a matrix question's text
   (all its rows);
4. the same, matched loosely (case, spaces and punctuation ignored).

Example
-------
>>> n = Names(["q_speed", "q_price"], questions={"q_speed": "Rate us - Speed", "q_price": "Rate us - Price"},
...           labels={"q_speed": "Speed", "q_price": "Price"})
>>> n.find("Rate us - Speed"), n.find("Rate us")
(['q_speed'], ['q_speed', 'q_price'])
"""
from __future__ import annotations

import re
from typing import Iterable, Mapping

from cxlib.errors import CXDataError

__all__ = ["Names"]


def _loose(text) -> str:
    return re.sub(r"[^0-9a-z]", "", str(text).lower())


class Names:
    """The names a table's columns answer to.

    Parameters
    ----------
    columns : list of str
        The table's columns (as the layout named them).
    header : mapping, optional
        Column -> the export's own header cell (first header row), or a list of names it answered to.
    questions : mapping, optional
        Column -> full question text (``"Question - Row"`` for a matrix row).
    labels : mapping, optional
        Column -> display label (a matrix row's sub-label), used to find the question of a matrix row.
    contract : mapping, optional
        Contract column -> the column the layout maps onto it.
    """

    def __init__(self, columns: Iterable[str], *, header: Mapping | None = None, questions: Mapping | None = None,
                 labels: Mapping | None = None, contract: Mapping | None = None):
        self.columns = [str(c) for c in columns]
        self.contract = {str(k): str(v) for k, v in (contract or {}).items() if v in self.columns}
        texts: dict[str, list[str]] = {}
        groups: dict[str, list[str]] = {}

        def add(to, text, col):
            text = re.sub(r"\s+", " ", str(text or "")).strip()
            if text and col in self.columns and col not in to.setdefault(text, []):
                to[text].append(col)

        for col, h in (header or {}).items():
            for one in ([h] if isinstance(h, str) else list(h or ())):
                add(texts, one, col)
        for col, q in (questions or {}).items():
            add(texts, q, col)
            sub = str((labels or {}).get(col) or "").strip()
            full = re.sub(r"\s+", " ", str(q or "")).strip()
            if sub and full != sub and full.endswith(" - " + sub):  # a matrix row: its question names it too
                add(groups, full[: -len(" - " + sub)], col)
        # SurveyMonkey writes a matrix question over its first row's column: that is the question's text
        for text, cols in groups.items():
            if text in texts:
                texts[text] = [c for c in texts[text] if c not in cols]
        # a column's own text (header cell, full question) beats a matrix question naming all its rows
        self.texts, self.groups = {t: c for t, c in texts.items() if c}, groups

    def find(self, name, *, loose: bool = True) -> list[str]:
        """The columns ``name`` refers to ([] if none); a matrix question's text names all its rows.
        ``loose=False`` skips the case- and punctuation-insensitive match."""
        name = str(name)
        if name in self.columns:
            return [name]
        if name in self.contract:
            return [self.contract[name]]
        key = re.sub(r"\s+", " ", name).strip()
        for texts in (self.texts, self.groups):
            if texts.get(key):
                return list(texts[key])
        key = _loose(name)
        if not key or not loose:
            return []
        hits = [c for c in self.columns if _loose(c) == key]
        if hits:
            return hits[:1]
        for texts in (self.texts, self.groups):
            hits = list(dict.fromkeys(c for t, cols in texts.items() if _loose(t) == key for c in cols))
            if hits:
                return hits
        return []

    def renamed(self, mapping: Mapping[str, str], columns: Iterable[str]) -> "Names":
        """The same names after ``mapping`` (contract column -> column) renamed the columns (now
        ``columns``); a renamed column still answers to its old name and texts."""
        ren = {src: tgt for tgt, src in mapping.items()}
        new = Names(columns)
        keep = set(new.columns)
        new.texts = {t: [ren.get(c, c) for c in cols if ren.get(c, c) in keep] for t, cols in self.texts.items()}
        new.groups = {t: [ren.get(c, c) for c in cols if ren.get(c, c) in keep] for t, cols in self.groups.items()}
        for src, tgt in ren.items():
            if src != tgt and tgt in keep:
                new.texts.setdefault(src, [tgt])
        return new

    def one(self, name, *, label: str, what: str, loose: bool = True) -> str | None:
        """The one column ``name`` refers to, None if none; an error naming both when it matches two."""
        hits = self.find(name, loose=loose)
        if len(hits) > 1:
            raise CXDataError(f"{label}: {what} '{name}' matches {len(hits)} columns "
                              f"({', '.join(repr(c) for c in hits)}); name one of them.", source=label,
                              column=str(name))
        return hits[0] if hits else None
