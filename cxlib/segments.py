"""Segments: how every analysis reads its ``by=`` columns (issue 22, "Read what real exports hold").

One home for the rules an analysis applies to the columns it splits its result by:

- **Naming.** A segment parameter names a column as any column parameter may
  (:func:`cxlib.data.find_column`): its exact name first, then the contract name, the export's header
  text or question (``"What region are you in?"`` for SurveyMonkey's ``what_region_are_you_in``), the
  layout's id of the original column, then the same ignoring case and punctuation. The result's column
  is the table's column (the name labels and the page know it by).
- **Values** (:func:`cxlib.data.check_segments`): personal-data columns are refused; text values are
  trimmed (``'EMEA '`` is ``'EMEA'``) and spellings that differ only by case are counted together under
  the most frequent one, each merge a ``segment_case_merged`` note for ``result.attrs['notes']``. The
  merge costs one small query per text segment column, answered from the check cache on an unchanged file.

Example
-------
>>> from cxlib import data, segments
>>> notes = []
>>> t, by = segments.prepare(data.as_table("data/sample/responses.csv"), "Channel", notes=notes)
>>> by
['channel']
"""
from __future__ import annotations

import ibis

from cxlib import data as cxdata

__all__ = ["resolve", "prepare"]


def resolve(t: ibis.Table, by, *, name: str | None = None) -> list[str]:
    """The table's columns the segment names ``by`` (str, list or None) refer to, one per name in order;
    a name no column answers to is kept as given (:func:`prepare` then reports it missing)."""
    label = cxdata.source_name(t, name)
    return [cxdata.find_column(t, b, label=label, what="segment") or b for b in cxdata.as_list(by)]


def prepare(t: ibis.Table, by, *, name: str | None = None, notes: list | None = None,
            need=()) -> tuple[ibis.Table, list[str]]:
    """``t`` with its segment columns read by the rules above, and those columns' names.

    Parameters
    ----------
    t : ibis.Table
        The table as opened (its source metadata names the export's headers).
    by : str or list of str or None
        Segment names as the user gave them.
    name : str, optional
        The table's label in messages.
    notes : list, optional
        Receives a ``segment_case_merged`` note per merged spelling (pass the result's notes list).
    need : list of str
        Other columns the analysis needs, checked with the segments in one message.

    Returns
    -------
    (ibis.Table, list of str)
        The table (trimmed, case variants merged) and the resolved segment columns.

    Raises
    ------
    cxlib.data.CXDataError
        A segment (or ``need`` column) the table does not have, a name matching two columns, or a
        personal-data segment.
    """
    cols = resolve(t, by, name=name)
    cxdata.require_columns(t, [*need, *cols], name=name)
    if not cols:
        return t, cols
    return cxdata.check_segments(t, cols, name=name, notes=notes), cols
