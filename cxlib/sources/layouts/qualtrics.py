"""Qualtrics survey CSV (Data & Analysis -> Export -> CSV), new and legacy formats.

New format: three header rows: export ids (``ResponseId``, ``Q1``, ``Q2_3``), question texts
(``"How satisfied ... - Speed of reply"``), and ImportId JSON (``{"ImportId":"QID2_3"}``; date columns
also carry ``"timeZone"``). Legacy format: two header rows (``V1``.. or ``ResponseID``, then texts).
Columns keep the export ids; the texts become labels (a matrix item's label is its sub-label).
Partial responses (``Finished`` False/0) are kept only if they answered the score; survey previews,
tests and spam are dropped. With numeric or "choice text" values (``"10 - Extremely likely"``).

Example
-------
>>> # responses = sources.read({"path": "q3_survey.csv", "layout": "qualtrics"})
"""
from __future__ import annotations

import json
import re

from cxlib.sources.layouts.base import Frame, norm
from cxlib.sources.layouts._survey import guess, responses
from cxlib.sources.parse import missing

NAME = "qualtrics"
KIND = "responses"
COLUMNS = {
    "respondent_id": ["ResponseId", "ResponseID", "Response ID", "V1"],
    "response_time": ["RecordedDate", "EndDate", "Recorded Date", "End Date", "V9"],
}
TIMESTAMPS = ["StartDate", "EndDate", "RecordedDate", "V8", "V9"]
NUMBERS = ["Progress", "Duration (in seconds)"]
PERSONAL = ["IPAddress", "RecipientEmail", "RecipientFirstName", "RecipientLastName", "LocationLatitude",
            "LocationLongitude", "EmailAddress", "Name", "IP Address", "Recipient Email", "V3", "V5", "V6"]
FORMATS = ["%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%Y-%m-%d %H:%M"]
_DROP_STATUS = {"survey preview", "survey test", "spam", "1", "2", "8"}


def detect(header):
    first = {norm(c) for c in header[0]} if header else set()
    new = "responseid" in first and ("recordeddate" in first or "startdate" in first)
    legacy = "responseid" in first and "responseset" in first
    return new or legacy


def header_rows(header):
    third = header[2] if len(header) > 2 else []
    return 3 if any(str(c).lstrip().startswith('{"ImportId"') for c in third) else 2


def prepare(frame: Frame) -> None:
    names = frame.header[0]
    texts = frame.header[1] if len(frame.header) > 1 else [""] * len(names)
    imports = frame.header[2] if header_rows(frame.header) == 3 else [""] * len(names)
    groups: dict[str, list[str]] = {}
    singles: dict[str, str] = {}
    for name, text, imp in zip(names, texts, imports):
        text = str(text or "").strip()
        frame.questions[name] = text
        sub = text.rsplit(" - ", 1)[1].strip() if " - " in text else None
        frame.labels[name] = sub or text
        m = re.fullmatch(r"(Q[\w.]*?)_(\d+)", name)
        if m and not name.endswith(("_TEXT", "_NPS_GROUP")):
            groups.setdefault(m.group(1), []).append(name)
        elif not name.endswith(("_TEXT", "_NPS_GROUP")):
            singles[name] = text
        try:
            meta = json.loads(imp) if str(imp).startswith("{") else {}
        except ValueError:
            meta = {}
        if meta.get("ImportId") in ("recordedDate", "endDate") and meta.get("timeZone"):
            frame.tz = frame.tz or meta["timeZone"]
    for name in names:  # an NPS question carries a Qn_NPS_GROUP companion
        if name.endswith("_NPS_GROUP") and name[: -len("_NPS_GROUP")] in names:
            frame.columns.setdefault("nps", name[: -len("_NPS_GROUP")])
    guess(frame, singles, groups)
    status = frame.col("Status", "V7")
    if status:
        drop = frame.df[status].str.strip().str.lower().isin(_DROP_STATUS).fillna(False).astype(bool)
        if drop.any():
            frame.notes.append(f"{responses(int(drop.sum()))} dropped (survey preview / test / spam).")
            frame.df = frame.df[~drop]


def finish(frame: Frame) -> None:
    fin = frame.col("Finished", "V10")
    df = frame.df
    if fin and "nps" in df.columns:
        flag = df[fin].astype("string").str.strip().str.lower()
        partial = flag.isin(["false", "0", "no"]).fillna(False).astype(bool)
        unanswered = partial & df["nps"].isna()
        if unanswered.any():
            frame.notes.append(f"{responses(int(unanswered.sum()), 'partial')} without a score dropped "
                               f"(survey not finished); {responses(int((partial & ~unanswered).sum()), 'partial')} "
                               "with a score kept.")
            frame.df = df[~unanswered]
    _ = missing
