"""Freshdesk tickets export (Tickets -> Export, CSV).

Columns like ``Ticket ID``, ``Subject``, ``Status``, ``Priority``, ``Source``, ``Type``, ``Agent``,
``Group``, ``Created time``, ``Due by Time``, ``Resolved time``, ``Closed time``, ``Last update time``,
``Initial response time``, ``First response time (in hrs)``, ``Resolution time (in hrs)``, ``Agent
interactions``, ``Customer interactions``, plus contact fields (``Full name``, ``Email``, ``Contact
ID``). ``first_response_at`` = ``Initial response time`` or created + first response hours;
``resolved_at`` = ``Resolved time`` or ``Closed time``; ``Source`` becomes email / chat / phone / web.

Example
-------
>>> # tickets = sources.read({"path": "freshdesk.csv", "layout": "freshdesk"})
"""
from __future__ import annotations

from cxlib.sources.layouts.base import Frame
from cxlib.sources.layouts._tickets import add_duration, channels

NAME = "freshdesk"
KIND = "tickets"
SIGNATURE = ["Ticket ID", "Created time"]
COLUMNS = {
    "ticket_id": ["Ticket ID"],
    "customer_id": ["Contact ID", "Requester ID", "Requester Email", "Email"],
    "created_at": ["Created time"],
    "first_response_at": ["Initial response time"],
    "resolved_at": ["Resolved time", "Closed time"],
    "channel": ["Source"],
}
TIMESTAMPS = ["Due by Time", "Closed time", "Last update time", "Resolved time"]
FORMATS = ["%Y-%m-%d %H:%M:%S", "%d-%m-%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M"]
NUMBERS = ["Agent interactions", "Customer interactions"]
PERSONAL = ["Full name", "Email", "Agent", "Work phone", "Mobile phone", "Requester Name", "Requester Email"]


def finish(frame: Frame) -> None:
    add_duration(frame, "first_response_at", frame.col("First response time (in hrs)"), "hours")
    add_duration(frame, "resolved_at", frame.col("Resolution time (in hrs)"), "hours")
    channels(frame)
