"""Personal data: :func:`drop_personal` removes personal columns (by name, by the source's declaration, or
listed) before anything reaches a report.

Example
-------
>>> import pandas as pd
>>> from cxlib.data.personal import drop_personal
>>> list(drop_personal(pd.DataFrame({"customer_id": [1], "email": ["a@b.c"]})).columns)
['customer_id']
"""
from __future__ import annotations

from typing import Iterable

import ibis
import pandas as pd

from cxlib import sources

#: Column names treated as personal data unless a notebook declares its own list.
PERSONAL_DATA_DEFAULT = (
    "email", "e_mail", "email_address", "phone", "phone_number", "mobile", "name", "first_name",
    "last_name", "full_name", "customer_name", "address", "street", "ip", "ip_address",
)


def drop_personal(data, columns: Iterable[str] | None = None):
    """Drop personal-data columns: by the rules of DESIGN.md "Personal data" (name words, case- and
    separator-insensitive), plus what the source's spec or layout declared, plus ``columns``.

    Works on an Ibis table or a pandas DataFrame and returns the same kind (a new object; the input is
    untouched).
    """
    cols = list(data.columns)
    declared = set(columns or ())
    if isinstance(data, ibis.Table):
        declared |= set(sources.metadata(data).get("personal") or ())
    lowered = {c.lower() for c in declared}
    drop = [c for c in cols if str(c).lower() in lowered or sources.is_personal(str(c))]
    if not drop:
        return data
    if isinstance(data, pd.DataFrame):
        return data.drop(columns=drop)
    return data.drop(*drop)
