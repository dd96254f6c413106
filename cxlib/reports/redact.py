"""What a shared page or manifest may show of an error or a parameter: no machine paths, no credentials.

Examples
--------
>>> people_message("FileNotFoundError: /home/ana/secret/data/responses.csv\\nmore")
'FileNotFoundError: responses.csv'
"""
from __future__ import annotations

import re

_PATH = re.compile(r"(?:[A-Za-z]:)?(?:/[^\s'\"/:]+)+/([^\s'\"/:]+)")


def people_message(error: str) -> str:
    """An error for the shared page: no machine paths (file names only), no credentials, one line."""
    from cxlib.data import redact_credentials

    text = redact_credentials(re.sub(r"\x1b\[[0-9;]*m", "", error or "")).strip()
    text = _PATH.sub(lambda m: m.group(1), text)
    return (text.splitlines()[0] if text else "unknown error")[:400]


def _redacted(value):
    """``value`` (text, or a mapping / list of them) with credentials in connection URLs redacted."""
    from cxlib.data import redact_credentials

    if isinstance(value, str):
        return redact_credentials(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value
