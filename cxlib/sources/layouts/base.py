"""What every layout module works with: :class:`Frame` (the hooks' argument), :func:`norm` and
:func:`find` (loose column matching).

Example
-------
>>> from cxlib.sources.layouts.base import find
>>> find(["Ticket ID", "Subject"], "ticket_id")
'Ticket ID'
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["Frame", "norm", "find"]


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
