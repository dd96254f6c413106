"""SurveyMonkey CSV / XLSX export ("All responses data", expanded), two header rows.

Row 1 holds the respondent fields (``Respondent ID``, ``Collector ID``, ``Start Date``, ``End Date``,
``IP Address``, ``Email Address``, ``First Name``, ``Last Name``, ``Custom Data 1``) and each question's
text over its first column (blank over the rest of a matrix or multi-choice question); row 2 holds
``Response`` / ``Open-Ended Response`` or the matrix row / choice label. Columns are named by a slug
of the question text plus the sub-label (``how_would_you_rate_us_on_speed_of_reply``); the texts become
labels. Dates are US ``MM/DD/YYYY hh:mm:ss AM``; ratings may be numbers or labels ("Very satisfied").

Example
-------
>>> # responses = sources.read({"path": "survey.xlsx", "layout": "surveymonkey"})
"""
from __future__ import annotations

from cxlib.sources.layouts.base import Frame, norm
from cxlib.sources.layouts._survey import guess
from cxlib.sources.parse import slug

NAME = "surveymonkey"
KIND = "responses"
HEADER_ROWS = 2
SIGNATURE = ["Respondent ID", "Collector ID"]
COLUMNS = {
    "respondent_id": ["respondent_id", "Respondent ID"],
    "response_time": ["end_date", "End Date", "start_date"],
}
TIMESTAMPS = ["start_date", "end_date"]
FORMATS = ["%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y"]
PERSONAL = ["ip_address", "email_address", "first_name", "last_name"]
_META = {"respondentid", "collectorid", "startdate", "enddate", "ipaddress", "emailaddress",
         "firstname", "lastname"}
_SINGLE = {"response", "openendedresponse", ""}


def prepare(frame: Frame) -> None:
    top, sub = frame.header[0], frame.header[1] if len(frame.header) > 1 else [""] * len(frame.header[0])
    names, seen = [], set()
    groups: dict[str, list[str]] = {}
    singles: dict[str, str] = {}
    question = ""
    for i, (q, s) in enumerate(zip(top, sub)):
        q, s = str(q or "").strip(), str(s or "").strip()
        if q:
            question = q
        if norm(q) in _META or (q and q.lower().startswith("custom data")):
            name, label, full = slug(q), q, q
        elif norm(s) in _SINGLE:
            name, label, full = slug(question), question, question
        else:
            name = f"{slug(question, max_len=40)}_{slug(s, max_len=30)}"
            label, full = s, f"{question} - {s}"
        base, k = name, 2
        while name.lower() in seen:
            name, k = f"{base}_{k}", k + 1
        seen.add(name.lower())
        names.append(name)
        frame.labels[name], frame.questions[name] = label, full
        if norm(q) in _META:
            continue
        if norm(s) in _SINGLE:
            singles[name] = question
        else:
            groups.setdefault(question, []).append(name)
    frame.df.columns = names + list(frame.df.columns[len(names):])
    guess(frame, singles, groups)
