"""Intercom conversations export (Reports -> export conversations CSV, or the reporting data export).

Column names vary between Intercom's exports, so each contract column lists alternatives:
``Conversation ID``; the contact (``User ID`` / ``Contact ID`` / ``External ID`` / ``User email``);
``Conversation started at`` / ``Created at``; ``First admin reply at`` (or ``Time to first response``
in seconds); ``Last closed at`` / ``First closed at``; ``Channel`` / ``Conversation source``;
``Reopens``. Durations are seconds (Intercom's unit); Unix-second timestamps are read too.

Example
-------
>>> # tickets = sources.read({"path": "intercom.csv", "layout": "intercom"})
"""
from __future__ import annotations

from cxlib.sources.layouts.base import Frame, norm
from cxlib.sources.layouts._tickets import add_duration, channels, reopened

NAME = "intercom"
KIND = "tickets"
COLUMNS = {
    "ticket_id": ["Conversation ID", "conversation_id", "Conversation Id"],
    "customer_id": ["User ID", "Contact ID", "External ID", "user_id", "contact_id", "User email", "Email"],
    "created_at": ["Conversation started at", "Created at", "conversation_started_at", "created_at"],
    "first_response_at": ["First admin reply at", "first_admin_reply_at", "First response at"],
    "resolved_at": ["Last closed at", "last_close_at", "First closed at", "first_close_at", "Closed at"],
    "channel": ["Channel", "Conversation source", "Initial channel", "source_type"],
}
TIMESTAMPS = ["Last updated at", "First closed at", "Last closed at", "First contact reply at"]
PERSONAL = ["User name", "User email", "Name", "Email", "Teammate assigned", "Admin assigned"]


def detect(header):
    first = {norm(c) for c in header[0]} if header else set()
    return "conversationid" in first and bool(first & {"conversationstartedat", "createdat"})


def finish(frame: Frame) -> None:
    add_duration(frame, "first_response_at",
                 frame.col("Time to first response (seconds)", "Time to first response", "time_to_first_response",
                           "First response time (seconds)"), "seconds")
    reopened(frame, frame.col("Reopens", "Times reopened", "reopens"))
    channels(frame)
