"""Note codes: what an analysis noticed about its data, as a code with values (never a sentence).

Analyses put :class:`Note` objects in ``result.attrs['notes']``; :func:`cxlib.present.data_notes` turns
each code into escaped words (``present.NOTE_TEXT``). Like gbstats' message codes, the code is the
contract a test or another program reads; the wording can change without touching an analysis.

Examples
--------
>>> from cxlib.notes import Note, note
>>> n = note("data_ends_early", table="orders.csv", last="1998-06-30", as_of="2026-12-06", period="month")
>>> n.code, n["table"]
('data_ends_early', 'orders.csv')
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

__all__ = ["Note", "note", "codes"]


@dataclass(frozen=True, eq=True)
class Note:
    """One finding about the data: a stable ``code`` and the ``values`` its words need."""

    code: str
    values: Mapping[str, Any] = field(default_factory=dict, compare=True, hash=False)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def __hash__(self) -> int:  # values may hold lists; the code and keys are enough to bucket
        return hash((self.code, tuple(sorted(self.values))))


def note(code: str, **values: Any) -> Note:
    """A :class:`Note` with ``code`` and keyword ``values``."""
    return Note(code, dict(values))


def codes(notes) -> list[str]:
    """The codes of the :class:`Note` objects among ``notes`` (strings, older notes, are skipped)."""
    return [n.code for n in notes or () if isinstance(n, Note)]
