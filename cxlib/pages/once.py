"""Each section of a page is computed once per setup, and its tables published the first time.

A page's answer at the top reads results of sections further down; both must show the same numbers and
publish each table once. Every page's ``Setup`` carries a ``results`` dict and an optional ``publish``
callable (``reports.publish`` in a notebook; pages never import reports).

Examples
--------
>>> from types import SimpleNamespace
>>> s = SimpleNamespace(results={}, publish=None)
>>> once(s, "answer", lambda s: 42), once(s, "answer", lambda s: 0)
(42, 42)
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["once", "published"]


def once(setup, key: str, compute: Callable[[Any], Any]):
    """``compute(setup)`` the first time ``key`` is asked of this setup; the same result after."""
    if key not in setup.results:
        setup.results[key] = compute(setup)
    return setup.results[key]


def published(setup, table, name: str):
    """``table`` published as ``name`` when the page publishes (and ``table`` is not None); returned."""
    if table is not None and getattr(setup, "publish", None) is not None:
        setup.publish(table, name)
    return table
