"""Shared by the survey layouts: find the score, comment and driver questions from their texts.

A survey export names its columns by question ids or texts; which one is the recommend question is
found from the text (``recommend``), checked against the values (0-10). Drivers a layout guesses are
rating columns only (:func:`cxlib.sources.parse.rating_values`: numbers or one scale's labels, inside
the scale), never text such as a company-size range. A user's ``columns:`` always wins over these
guesses.
"""
from __future__ import annotations

import re

import pandas as pd

from cxlib.sources.layouts.base import Frame
from cxlib.sources.parse import missing, rating_values

_ROLES = [
    ("nps", re.compile(r"recommend", re.I), (0, 10)),
    ("csat", re.compile(r"satisf", re.I), (1, 5)),
    ("ces", re.compile(r"\beas(y|e|ier)\b|effort", re.I), (1, 7)),
]
_COMMENT = re.compile(r"\bwhy\b|reason|comment|feedback|anything else|tell us|improve|explain|describe", re.I)


def _scores(s: pd.Series, decimal: str = ".") -> pd.Series | None:
    """The column's ratings when it is a rating column (the one label rule), else None."""
    try:
        return rating_values(s, decimal=decimal)
    except Exception:  # noqa: BLE001 - a guess only
        return None


def ratings(frame: Frame, cols) -> list[str]:
    """The columns of ``cols`` that are driver candidates: rating columns (whole numbers or one scale's
    labels inside 0-10, 1-5 or 1-7) that are not yes/no (only 0 and 1) and not already mapped."""
    df, used = frame.df, set(frame.columns.values())
    dec = frame.options.get("decimal") or "."
    out = []
    for c in cols:
        if c in used or c not in df.columns:
            continue
        sc = _scores(df[c], dec)
        if sc is not None and not sc.dropna().isin([0.0, 1.0]).all():
            out.append(c)
    return out


def guess(frame: Frame, texts: dict[str, str], groups: dict[str, list[str]] | None = None) -> None:
    """Fill ``frame.columns`` (nps, csat, ces, comment) and ``frame.drivers`` from question texts.

    ``texts`` maps single-question columns to their text; ``groups`` maps a matrix question to its
    sub-item columns (driver candidates). Columns already in ``frame.columns`` are kept.
    """
    df = frame.df
    dec = frame.options.get("decimal") or "."
    used = set(frame.columns.values())
    for role, pattern, (lo, hi) in _ROLES:
        if role in frame.columns:
            continue
        for col, text in texts.items():
            if col in used or col not in df.columns or not pattern.search(text or ""):
                continue
            sc = _scores(df[col], dec)
            if sc is not None and sc.min() >= lo and sc.max() <= hi:
                frame.columns[role] = col
                used.add(col)
                break
    if "comment" not in frame.columns:
        for col, text in texts.items():
            if col in used or col not in df.columns or not _COMMENT.search(text or ""):
                continue
            if _scores(df[col], dec) is None and (~missing(df[col])).any():
                frame.columns["comment"] = col
                used.add(col)
                break
    if not frame.drivers:
        # the first matrix question with two or more rating rows; its other rows (an "Other" text
        # row, a yes/no row) are left out rather than disqualifying the question
        for _, cols in (groups or {}).items():
            cols = ratings(frame, cols)
            if len(cols) >= 2:
                frame.drivers = cols
                break


def responses(n: int, kind: str = "") -> str:
    """'1 partial response', '3 partial responses': a count and its noun agree (every survey layout)."""
    return f"{n:,} {kind + ' ' if kind else ''}response{'' if n == 1 else 's'}"
