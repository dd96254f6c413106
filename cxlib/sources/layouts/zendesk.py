"""Zendesk Support ticket export (Reporting -> Export, or a view exported as CSV).

Columns like ``Id``, ``Requester``, ``Requester id``, ``Requester email``, ``Via``, ``Status``,
``Created at``, ``Solved at``, ``Reopens``, ``First reply time in minutes``, ``Full resolution time in
minutes`` (calendar minutes; the ``... within business hours`` twins are passed through).
``first_response_at`` = ``Created at`` + first reply minutes; ``resolved_at`` = ``Solved at`` (or
created + full resolution minutes); ``reopened`` = Reopens > 0; ``Via`` becomes email / chat / phone /
web. Times are in the account's time zone (set ``tz:``) unless they carry an offset.

Example
-------
>>> # tickets = sources.read({"path": "zendesk.csv", "layout": "zendesk", "tz": "America/New_York"})
"""
from __future__ import annotations

from cxlib.sources.layouts.base import Frame, norm
from cxlib.sources.layouts._tickets import add_duration, channels, reopened

NAME = "zendesk"
KIND = "tickets"
COLUMNS = {
    "ticket_id": ["Id", "Ticket ID"],
    "customer_id": ["Requester id", "Requester ID", "Requester external id", "Requester email"],
    "created_at": ["Created at"],
    "resolved_at": ["Solved at"],
    "channel": ["Via", "Channel"],
}
TIMESTAMPS = ["Updated at", "Assigned at", "Initially assigned at", "Due date"]
FORMATS = ["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S %z", "%d/%m/%Y %H:%M"]
NUMBERS = ["Replies", "Reopens", "Group stations", "Assignee stations"]
PERSONAL = ["Requester", "Requester email", "Submitter", "Assignee", "Requester phone"]


def detect(header):
    first = {norm(c) for c in header[0]} if header else set()
    return {"id", "createdat"} <= first and bool(first & {"requester", "requesterid", "requesteremail"}) and bool(
        first & {"firstreplytimeinminutes", "via", "solvedat", "fullresolutiontimeinminutes"})


def finish(frame: Frame) -> None:
    add_duration(frame, "first_response_at", frame.col("First reply time in minutes"), "minutes")
    add_duration(frame, "resolved_at", frame.col("Full resolution time in minutes"), "minutes")
    reopened(frame, frame.col("Reopens"))
    channels(frame)
