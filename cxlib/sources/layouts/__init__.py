"""Known export layouts: small declarative modules, one per tool.

A layout module declares

``NAME``, ``KIND``
    Its name (the spec's ``layout:``) and the contract table it makes.
``SIGNATURE``
    Column names that must all appear in the first header row (matched case- and
    separator-insensitively), or a ``detect(header_rows) -> bool`` function.
``HEADER_ROWS``
    Number of header rows (the first holds the column names), or ``header_rows(header_rows) -> int``.
``COLUMNS``
    The default mapping onto the contract: ``{contract column: [export column, alternative, ...]}``.
``TIMESTAMPS``, ``FORMATS``, ``MONEY``, ``NUMBERS``, ``PERSONAL``
    Export columns holding timestamps (tried with ``FORMATS`` after ISO 8601), money, numbers, and
    personal data.
``TZ``
    The time zone of naive timestamps when the export has a fixed one (``'UTC'`` for Typeform).
``prepare(frame)`` / ``finish(frame)`` (optional)
    Hooks on a :class:`Frame`: ``prepare`` sees the text before mapping (question-text rows, ImportId
    JSON, column names from two header rows); ``finish`` sees typed columns after mapping (unit
    conversions, partial responses, line items collapsed to orders).

Example
-------
>>> from cxlib.sources import layouts
>>> layouts.detect([["StartDate", "EndDate", "Status", "ResponseId", "Finished", "RecordedDate"]])
'qualtrics'
"""
from __future__ import annotations

from types import ModuleType

from cxlib.errors import CXDataError
from cxlib.sources.layouts import freshdesk, intercom, qualtrics, shopify, stripe, surveymonkey, typeform, zendesk
from cxlib.sources.layouts.base import Frame, find, norm

__all__ = ["NAMES", "get", "detect", "Frame", "norm", "find"]

#: Known layouts, in detection order (most specific first).
NAMES = ("qualtrics", "surveymonkey", "typeform", "zendesk", "freshdesk", "intercom", "shopify", "stripe")
_MODULES: dict[str, ModuleType] = {"qualtrics": qualtrics, "surveymonkey": surveymonkey, "typeform": typeform,
                                   "zendesk": zendesk, "freshdesk": freshdesk, "intercom": intercom,
                                   "shopify": shopify, "stripe": stripe}


def get(name: str) -> ModuleType:
    """The layout module called ``name``; :class:`cxlib.errors.CXDataError` if there is none."""
    key = str(name).strip().lower()
    if key not in NAMES:
        raise CXDataError(f"unknown layout {name!r}; known layouts: {', '.join(NAMES)} (or omit "
                          "layout: and map columns with columns:).")
    return _MODULES[key]


def _matches(mod: ModuleType, header: list[list[str]]) -> bool:
    if hasattr(mod, "detect"):
        return bool(mod.detect(header))
    first = {norm(c) for c in header[0]} if header else set()
    return all(norm(c) in first for c in getattr(mod, "SIGNATURE", ())) and bool(getattr(mod, "SIGNATURE", ()))


def detect(header: list[list[str]]) -> str | None:
    """Name of the layout whose header signature the first rows match, or None."""
    for name in NAMES:
        if _matches(get(name), header):
            return name
    return None


def header_rows(mod: ModuleType, header: list[list[str]]) -> int:
    n = getattr(mod, "HEADER_ROWS", 1)
    return int(mod.header_rows(header)) if callable(getattr(mod, "header_rows", None)) else int(n)
