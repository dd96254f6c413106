"""Typeform responses CSV (Results -> Download -> CSV).

One header row: ``#`` (the response token), one column per question titled by its text, hidden
fields, then ``Response Type`` (newer exports: completed / partial), ``Start Date (UTC)``,
``Stage Date (UTC)``, ``Submit Date (UTC)``, ``Network ID``, ``Tags``. Question columns are renamed
to a slug of their text (the text becomes the label). Times are UTC. Partial responses are kept only
if they answered the score; their time is the stage or start date.

Example
-------
>>> # responses = sources.read({"path": "typeform.csv", "layout": "typeform"})
"""
from __future__ import annotations

from cxlib.sources.layouts.base import Frame, norm
from cxlib.sources.layouts._survey import guess, ratings, responses
from cxlib.sources.parse import slug

NAME = "typeform"
KIND = "responses"
SIGNATURE = ["Submit Date (UTC)", "Network ID"]
COLUMNS = {
    "respondent_id": ["#", "Response ID", "Token", "response_id"],
    "response_time": ["Submit Date (UTC)"],
}
TIMESTAMPS = ["Start Date (UTC)", "Submit Date (UTC)", "Stage Date (UTC)"]
TZ = "UTC"
PERSONAL = ["Network ID"]
_FIXED = {"#", "responsetype", "startdateutc", "stagedateutc", "submitdateutc", "networkid", "tags",
          "ending", "responseid", "token"}


def prepare(frame: Frame) -> None:
    # Names are made unique first (two "Rate this" questions -> rate_this, rate_this_2), and only then
    # keyed, so every repeated question is its own labelled driver candidate.
    names, seen, singles = [], set(), {}
    for c in frame.header[0]:
        c = str(c)
        fixed = c == "#" or norm(c) in _FIXED
        name = c if fixed else slug(c)
        base, k = name, 2
        while name.lower() in seen:
            name, k = f"{base}_{k}", k + 1
        seen.add(name.lower())
        names.append(name)
        if not fixed:
            frame.labels[name], frame.questions[name] = c.strip(), c.strip()
            singles[name] = c
    frame.df.columns = names + list(frame.df.columns[len(names):])
    guess(frame, {n: t for n, t in singles.items() if n in frame.df.columns}, None)
    # rating questions that are not the score are drivers when there are several (never text columns
    # such as a company-size range or a hidden field)
    if not frame.drivers:
        rated = ratings(frame, [n for n in singles if n in frame.df.columns])
        if len(rated) >= 2:
            frame.drivers = rated


def finish(frame: Frame) -> None:
    df = frame.df
    kind = frame.col("Response Type")
    if kind:
        partial = df[kind].astype("string").str.lower().eq("partial").fillna(False).astype(bool)
    else:  # older exports: a partial response has no submit date
        partial = df["response_time"].isna() if "response_time" in df.columns else df.index.isna()
    if "response_time" in df.columns:
        for alt in ("Stage Date (UTC)", "Start Date (UTC)"):
            col = frame.col(alt)
            if col:
                df["response_time"] = df["response_time"].fillna(df[col])
    if "nps" in df.columns:
        drop = partial & df["nps"].isna()
        if drop.any():
            frame.notes.append(f"{responses(int(drop.sum()), 'partial')} without a score dropped.")
        df = df[~drop]
    frame.df = df
