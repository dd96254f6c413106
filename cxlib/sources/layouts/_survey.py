"""Shared by the survey layouts: find the score, comment and driver questions from their texts.

A survey export names its columns by question ids or texts; which one is the recommend question is
found from the text (``recommend``), checked against the values (0-10). A user's ``columns:`` always
wins over these guesses.
"""
from __future__ import annotations

import re

import pandas as pd

from cxlib.sources.layouts import Frame
from cxlib.sources.parse import missing, to_score

_ROLES = [
    ("nps", re.compile(r"recommend", re.I), (0, 10)),
    ("csat", re.compile(r"satisf", re.I), (1, 5)),
    ("ces", re.compile(r"\beas(y|e|ier)\b|effort", re.I), (1, 7)),
]
_COMMENT = re.compile(r"\bwhy\b|reason|comment|feedback|anything else|tell us|improve|explain|describe", re.I)


def _scores(s: pd.Series) -> pd.Series | None:
    try:
        out = to_score(s)
    except Exception:  # noqa: BLE001 - a guess only
        return None
    answered = ~missing(s)
    if answered.sum() == 0 or out[answered].isna().any():
        return None
    return out


def guess(frame: Frame, texts: dict[str, str], groups: dict[str, list[str]] | None = None) -> None:
    """Fill ``frame.columns`` (nps, csat, ces, comment) and ``frame.drivers`` from question texts.

    ``texts`` maps single-question columns to their text; ``groups`` maps a matrix question to its
    sub-item columns (driver candidates). Columns already in ``frame.columns`` are kept.
    """
    df = frame.df
    used = set(frame.columns.values())
    for role, pattern, (lo, hi) in _ROLES:
        if role in frame.columns:
            continue
        for col, text in texts.items():
            if col in used or col not in df.columns or not pattern.search(text or ""):
                continue
            sc = _scores(df[col])
            if sc is not None and sc.min() >= lo and sc.max() <= hi:
                frame.columns[role] = col
                used.add(col)
                break
    if "comment" not in frame.columns:
        for col, text in texts.items():
            if col in used or col not in df.columns or not _COMMENT.search(text or ""):
                continue
            if _scores(df[col]) is None and (~missing(df[col])).any():
                frame.columns["comment"] = col
                used.add(col)
                break
    if not frame.drivers:
        for _, cols in (groups or {}).items():
            cols = [c for c in cols if c in df.columns and c not in used]
            if len(cols) >= 2 and all(_scores(df[c]) is not None for c in cols):
                frame.drivers = cols
                break
