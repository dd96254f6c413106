"""Known export layouts: small declarative modules, one per tool.

A layout module declares

``NAME``, ``KIND``
    Its name (the spec's ``layout:``) and the contract table it makes.
``SIGNATURE``
    Column names that must all appear in the first header row (matched case- and
    separator-insensitively), or a ``detect(header_rows) -> bool`` function.
``HEADER_ROWS``
    Number of header rows (the first holds the column names), or ``header_rows(header_rows) -> int``.
``COLUMNS``
    The default mapping onto the contract: ``{contract column: [export column, alternative, ...]}``.
``TIMESTAMPS``, ``FORMATS``, ``MONEY``, ``NUMBERS``, ``PERSONAL``
    Export columns holding timestamps (tried with ``FORMATS`` after ISO 8601), money, numbers, and
    personal data.
``TZ``
    The time zone of naive timestamps when the export has a fixed one (``'UTC'`` for Typeform).
``prepare(frame)`` / ``finish(frame)`` (optional)
    Hooks on a :class:`Frame`: ``prepare`` sees the text before mapping (question-text rows, ImportId
    JSON, column names from two header rows); ``finish`` sees typed columns after mapping (unit
    conversions, partial responses, line items collapsed to orders).

Example
-------
>>> from cxlib.sources import layouts
>>> layouts.detect([["StartDate", "EndDate", "Status", "ResponseId", "Finished", "RecordedDate"]])
'qualtrics'
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pandas as pd

__all__ = ["NAMES", "get", "detect", "Frame", "norm", "find"]

#: Known layouts, in detection order (most specific first).
NAMES = ("qualtrics", "surveymonkey", "typeform", "zendesk", "freshdesk", "intercom", "shopify", "stripe")


def get(name: str) -> ModuleType:
    """The layout module called ``name``; :class:`cxlib.data.CXDataError` if there is none."""
    from cxlib.data import CXDataError
    key = str(name).strip().lower()
    if key not in NAMES:
        raise CXDataError(f"unknown layout {name!r}; known layouts: {', '.join(NAMES)} (or omit "
                          "layout: and map columns with columns:).")
    return importlib.import_module(f"cxlib.sources.layouts.{key}")


def norm(name: Any) -> str:
    """Column name key for loose matching: lower case, letters and digits only."""
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


def find(columns, *alternatives: str) -> str | None:
    """The first of ``alternatives`` present in ``columns`` (exact, then loosely matched)."""
    cols = list(columns)
    for alt in alternatives:
        if alt in cols:
            return alt
    loose = {norm(c): c for c in cols}
    for alt in alternatives:
        if norm(alt) in loose:
            return loose[norm(alt)]
    return None


def _matches(mod: ModuleType, header: list[list[str]]) -> bool:
    if hasattr(mod, "detect"):
        return bool(mod.detect(header))
    first = {norm(c) for c in header[0]} if header else set()
    return all(norm(c) in first for c in getattr(mod, "SIGNATURE", ())) and bool(getattr(mod, "SIGNATURE", ()))


def detect(header: list[list[str]]) -> str | None:
    """Name of the layout whose header signature the first rows match, or None."""
    for name in NAMES:
        if _matches(get(name), header):
            return name
    return None


def header_rows(mod: ModuleType, header: list[list[str]]) -> int:
    n = getattr(mod, "HEADER_ROWS", 1)
    return int(mod.header_rows(header)) if callable(getattr(mod, "header_rows", None)) else int(n)


@dataclass
class Frame:
    """What a layout hook works on.

    Attributes
    ----------
    df : pandas.DataFrame
        The data rows (text in ``prepare``, typed in ``finish``), with a ``__line`` column (file record
        number, for messages).
    header : list of list of str
        The header rows as read (first = column names).
    label : str
        File name for messages.
    columns : dict
        Extra default mapping found by ``prepare`` (contract column -> export column).
    labels, questions : dict
        Display labels (column or value -> label) and full question texts (column -> text).
    drivers : list of str
        Default driver columns found by the layout (export names in ``prepare``).
    personal : list of str
        Extra personal columns found by the layout.
    tz : str or None
        The export's own time zone for naive timestamps, when the export says (Qualtrics' ImportId).
    notes : list of str
        Things worth telling the analyst (rows dropped and why).
    options : dict
        The reader options of the spec (decimal, date_format ...).
    """

    df: pd.DataFrame
    header: list
    label: str
    columns: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)
    questions: dict = field(default_factory=dict)
    drivers: list = field(default_factory=list)
    personal: list = field(default_factory=list)
    tz: str | None = None
    notes: list = field(default_factory=list)
    options: dict = field(default_factory=dict)
    mapping: dict = field(default_factory=dict)

    def col(self, *alternatives: str) -> str | None:
        """The first present column among ``alternatives`` (see :func:`find`)."""
        return find([c for c in self.df.columns if c != "__line"], *alternatives)
