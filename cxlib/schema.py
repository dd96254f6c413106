"""The table kinds and their contract: which columns each kind has, of which type, and which role a
validation checks them for (foundation layer: no files, no engine).

Example
-------
>>> from cxlib import schema
>>> schema.CONTRACT["responses"]["nps"], schema.ROLES["tickets"]["created"]
('score', ('created_at', 'ts', True))
"""
from __future__ import annotations

__all__ = ["KINDS", "CONTRACT", "ROLES", "NULL_STRINGS"]

#: The table kinds of data/README.md.
KINDS = ("events", "subscriptions", "responses", "tickets", "experiment", "mrr_history")

#: Cell values read as missing in CSV files.
NULL_STRINGS = ["", "N/A", "NA", "n/a", "na", "null", "NULL"]

#: Contract column types per table kind: id, ts (timestamp), score, num, text.
CONTRACT = {
    "events": {"customer_id": "id", "event_time": "ts", "event_name": "text", "revenue": "num"},
    "subscriptions": {"customer_id": "id", "start_time": "ts", "end_time": "ts", "mrr": "num",
                      "duration": "num", "event": "text"},
    "responses": {"respondent_id": "id", "customer_id": "id", "response_time": "ts", "nps": "score", "csat": "score",
                  "ces": "score", "comment": "text"},
    "tickets": {"ticket_id": "id", "customer_id": "id", "created_at": "ts", "first_response_at": "ts",
                "resolved_at": "ts", "channel": "text", "reopened": "text"},
    "experiment": {"unit_id": "id", "variant": "text", "exposure_time": "ts"},
    "mrr_history": {"customer_id": "id", "month": "ts", "mrr": "num"},
}

#: What :func:`cxlib.data.validate` checks per kind: role -> (default column, check, required); checks:
#: id, uid (unique id), ts (ts?: blank allowed), text, nonneg, bin, score:<lo>:<hi>.
ROLES: dict[str, dict[str, tuple[str, str, bool]]] = {
    "events": {
        "customer": ("customer_id", "id", True),
        "time": ("event_time", "ts", True),
        "event": ("event_name", "text", False),
        "value": ("revenue", "nonneg", False),
    },
    "subscriptions": {
        "customer": ("customer_id", "uid", True),
        "start": ("start_time", "ts", False),
        "end": ("end_time", "ts?", False),
        "duration": ("duration", "nonneg", False),
        "event": ("event", "bin", False),
        "mrr": ("mrr", "nonneg", False),
    },
    "responses": {
        "respondent": ("respondent_id", "uid", True),
        "customer": ("customer_id", "id", False),
        "time": ("response_time", "ts", True),
        "nps": ("nps", "score:0:10", "present"),  # the column must exist; blank answers are counted
        "csat": ("csat", "score:1:5", False),
        "ces": ("ces", "score:1:7", False),
        "comment": ("comment", "text", False),
    },
    "tickets": {
        "ticket": ("ticket_id", "uid", True),
        "customer": ("customer_id", "id", True),
        "created": ("created_at", "ts", True),
        "first_response": ("first_response_at", "ts?", False),
        "resolved": ("resolved_at", "ts?", False),
        "channel": ("channel", "text", False),
        "reopened": ("reopened", "bin", False),
    },
    "experiment": {
        "unit": ("unit_id", "uid", True),
        "variant": ("variant", "id", True),
        "time": ("exposure_time", "ts?", False),
    },
    "mrr_history": {
        "customer": ("customer_id", "id", True),
        "month": ("month", "ts", True),
        "mrr": ("mrr", "nonneg", True),
    },
}
