"""The one error bad input raises: :class:`CXDataError` (foundation layer: imports nothing of cxlib).

Example
-------
>>> from cxlib.errors import CXDataError
>>> err = CXDataError("responses.csv: column 'nps' has 3 values outside 0..10", source="responses.csv",
...                   column="nps")
>>> err.column, isinstance(err, ValueError)
('nps', True)
"""
from __future__ import annotations

from typing import Sequence

__all__ = ["CXDataError"]


class CXDataError(ValueError):
    """Bad input data: names the source, column, expectation and example rows.

    Attributes
    ----------
    source, column : str or None
        Where the problem is (``column`` is None for table-level problems).
    problems : list of str
        One line per problem (validation collects all problems of a table before raising).
    """

    def __init__(self, message: str, *, source: str | None = None, column: str | None = None,
                 problems: Sequence[str] | None = None):
        self.source = source
        self.column = column
        self.problems = list(problems) if problems else [message]
        super().__init__(message)
