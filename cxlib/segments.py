"""Segments: how every analysis reads its ``by=`` columns (issue 22, "Read what real exports hold").

One home for the rules an analysis applies to the columns it splits its result by:

- **Naming.** A segment parameter names a column as any column parameter may
  (:func:`cxlib.data.find_column`): its exact name first, then the contract name, the export's header
  text or question (``"What region are you in?"`` for SurveyMonkey's ``what_region_are_you_in``), the
  layout's id of the original column, then the same ignoring case and punctuation. The result's column
  is the table's column (the name labels and the page know it by).
- **Values**: personal-data columns are refused (:func:`cxlib.data.check_segments`); text
  values are trimmed (``'EMEA '`` is ``'EMEA'``) and spellings that differ only by case are counted
  together under the most frequent one (rows per spelling in the table; ties: the first in sort order),
  each merge a ``segment_case_merged`` note for ``result.attrs['notes']``. :func:`prepare` spends one
  small query per text segment column on it, answered from the check cache on an unchanged file; an
  analysis whose own aggregate already counts the rows per spelling (:func:`cxlib.experiments.compare`)
  takes the counts from it instead (:func:`read`, :func:`case_merges`, :func:`merge_sums`): no query.

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
import pandas as pd

from cxlib import data as cxdata

__all__ = ["resolve", "prepare", "read", "spellings", "case_merges", "merge_sums"]


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
    t, cols, text = read(t, by, name=name, need=need)
    label = cxdata.source_name(t, name)
    for c in text:
        swap = case_merges(spellings(t, c, name=label), c, label=label, notes=notes)
        if swap:
            t = t.mutate(**{c: t[c].substitute(swap)})
    return t, cols


def read(t: ibis.Table, by, *, name: str | None = None, need=()) -> tuple[ibis.Table, list[str], list[str]]:
    """Everything :func:`prepare` does without running a query: the names resolved, the columns required,
    personal-data columns refused and text values trimmed. Returns ``(table, segment columns, text
    segment columns)``; the case merge of the text columns is the caller's (:func:`spellings` and
    :func:`case_merges`, or the same counts taken from a query it runs anyway, as
    :func:`cxlib.experiments.compare` does)."""
    cols = resolve(t, by, name=name)
    cxdata.require_columns(t, [*need, *cols], name=name)
    if not cols:
        return t, cols, []
    cxdata.check_segments(t, cols, name=name)  # personal-data columns are refused (the contract's rule)
    text = [c for c in dict.fromkeys(cols) if t[c].type().is_string()]
    if text:
        t = t.mutate(**{c: t[c].strip() for c in text})
    return t, cols, text


def spellings(t: ibis.Table, column: str, *, name: str | None = None) -> pd.DataFrame:
    """The rows per (trimmed) value of a text segment column: ``v``, ``n`` (blanks left out). One small
    query, kept in the check cache while the file is unchanged (a warm call runs none)."""
    f = t.filter(t[column].notnull())
    g = f.group_by(v=f[column]).aggregate(n=f.count())
    g = g.mutate(k=g.v.lower())
    # only the spellings that collide with another (usually none): the answer stays small
    g = g.mutate(m=g.v.count().over(ibis.window(group_by=g.k))).filter(lambda x: x.m > 1)
    return cxdata._checked(g.select("v", "n"), name=name)


def case_merges(counts: pd.DataFrame, column: str, *, label: str, notes: list | None = None) -> dict:
    """``{spelling: kept spelling}`` for the values of ``column`` that differ only by case, from rows per
    value (``counts``: columns ``v`` and ``n``, any values, one row per value or several to be added up):
    each group is counted under its most frequent spelling (ties: the first in sort order), and each
    merge appends a ``segment_case_merged`` Note to ``notes``."""
    from cxlib.notes import note

    if counts is None or counts.empty:
        return {}
    c = counts[counts["v"].notna()]
    n = c.assign(v=c["v"].astype(str)).groupby("v", sort=True)["n"].sum()
    n = n.reset_index().assign(k=lambda d: d["v"].str.lower())
    swap = {}
    for _, grp in n.sort_values(["k", "n", "v"], ascending=[True, False, True]).groupby("k", sort=True):
        if len(grp) < 2:
            continue
        keep = str(grp["v"].iloc[0])
        swap.update({str(v): keep for v in grp["v"].iloc[1:]})
        if notes is not None:
            notes.append(note("segment_case_merged", table=label, column=column, value=keep,
                              variants=sorted(str(v) for v in grp["v"])))
    return swap


def merge_sums(frame: pd.DataFrame, swaps: dict, keys) -> pd.DataFrame:
    """``frame`` (rows of additive counts and sums per group ``keys``) with the segment spellings in
    ``swaps`` ({column: {spelling: kept}}) replaced and their rows added up: what the same aggregate over
    the merged column gives, without running it again. A sum that is blank in every merged row stays
    blank."""
    swaps = {c: s for c, s in swaps.items() if s and c in frame.columns}
    if not swaps or frame.empty:
        return frame
    out = frame.copy()
    for c, s in swaps.items():
        out[c] = out[c].map(lambda v, s=s: s.get(v, v) if isinstance(v, str) else v).astype(frame[c].dtype)
    keys = list(keys)
    order = list(frame.columns)
    out = out.groupby(keys, sort=False, dropna=False).sum(min_count=1).reset_index()
    for col in order:  # integer counts stay integers (min_count makes every sum a float)
        if col not in keys and pd.api.types.is_integer_dtype(frame[col].dtype) and out[col].notna().all():
            out[col] = out[col].astype(frame[col].dtype)
    return out[order]
