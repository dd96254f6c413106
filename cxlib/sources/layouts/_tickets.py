"""Shared by the ticket layouts: durations to timestamps, channel names, reopen counts."""
from __future__ import annotations

import re

import pandas as pd

from cxlib.sources.layouts.base import Frame
from cxlib.sources.parse import Where, missing, to_number

#: Export channel names -> the contract's channel values (email, chat, phone, web, social, api ...).
CHANNELS = {
    "mail": "email", "email": "email", "outbound email": "email", "e-mail": "email",
    "chat": "chat", "messaging": "chat", "native messaging": "chat", "web widget": "chat",
    "messenger": "chat", "conversation": "chat", "in-app": "chat", "live chat": "chat",
    "voice": "phone", "phone": "phone", "phone call (incoming)": "phone", "phone call (outgoing)": "phone",
    "call": "phone", "web form": "web", "web": "web", "portal": "web", "feedback widget": "web",
    "api": "api", "mobile sdk": "app", "twitter": "social", "facebook": "social", "whatsapp": "chat",
}


def duration(s: pd.Series, *, unit: str, where: Where) -> pd.Series:
    """A duration column as a Timedelta: numbers in ``unit`` ('minutes', 'hours', 'seconds') or
    ``hh:mm[:ss]`` text."""
    text = s.astype("string").str.strip().mask(missing(s))
    hms = text.str.fullmatch(r"\d+:\d{2}(:\d{2})?").fillna(False).astype(bool)
    out = pd.Series(pd.NaT, index=s.index, dtype="timedelta64[us]")
    if hms.any():
        padded = text[hms].where(text[hms].str.count(":") == 2, text[hms] + ":00")
        out[hms] = pd.to_timedelta(padded, errors="coerce").astype("timedelta64[us]")
    rest = text.notna() & ~hms
    if rest.any():
        num = to_number(text[rest], where=Where(where.label, where.column, where.lines))
        out[rest] = pd.to_timedelta(num, unit={"minutes": "m", "hours": "h", "seconds": "s"}[unit])
    return out


def add_duration(frame: Frame, target: str, column: str | None, unit: str, base: str = "created_at") -> None:
    """``target = base + duration`` where the export gives a duration instead of a timestamp."""
    df = frame.df
    if column is None or base not in df.columns:
        return
    if target in df.columns and df[target].notna().any():
        return
    delta = duration(df[column], unit=unit, where=Where(frame.label, column, df["__line"]))
    df[target] = (df[base] + delta).astype("datetime64[us]")
    frame.notes.append(f"'{target}' computed as '{base}' + '{column}'.")


def channels(frame: Frame) -> None:
    """Lower-case the channel and map the tool's names onto email / chat / phone / web."""
    if "channel" in frame.df.columns:
        ch = frame.df["channel"].astype("string").str.strip()
        low = ch.str.lower()
        frame.df["channel"] = low.map(lambda v: CHANNELS.get(v, re.sub(r"\s+", "_", v)) if isinstance(v, str) else v,
                                      na_action="ignore").astype("string")


def reopened(frame: Frame, column: str | None) -> None:
    """``reopened`` (0/1) from a reopen count when the contract column is not mapped."""
    if column and "reopened" not in frame.df.columns:
        n = to_number(frame.df[column], where=Where(frame.label, column, frame.df["__line"]))
        frame.df["reopened"] = (n > 0).astype("Int64").where(n.notna())
