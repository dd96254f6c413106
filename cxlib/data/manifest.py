"""What a report manifest records about a source: :func:`fingerprint` (sha256 and row count).

Example
-------
>>> from cxlib.data.manifest import fingerprint
>>> fingerprint("data/sample/responses.csv")["rows"] > 1000
True
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from cxlib import sources
from cxlib.engine import _file_key, to_pandas
from cxlib.sources import as_table
from cxlib.sources.plain import _resolve_path

_SHA_CACHE: dict[tuple, str] = {}


def fingerprint(source: Any, *, table: str | None = None) -> dict:
    """sha256 and row count of a source, for report manifests.

    Files are hashed byte for byte (all files of a glob, in name order); DataFrames by their values;
    other sources (databases) get ``sha256=None``.
    """
    sha = None
    if isinstance(source, Mapping) or (isinstance(source, str) and source.strip().startswith("{")):
        spec = sources.spec_from(source)
        if spec.get("path"):
            out = fingerprint(spec["path"]) if "://" not in str(spec["path"]) else {"sha256": None}
            out["rows"] = int(to_pandas(sources.read(spec).count()))
            return out
        return {"sha256": None, "rows": int(to_pandas(sources.read(spec).count()))}
    if isinstance(source, pd.DataFrame):
        sha = hashlib.sha256(pd.util.hash_pandas_object(source, index=True).values.tobytes()).hexdigest()
    elif isinstance(source, (str, Path)) and "://" not in str(source):
        paths = _resolve_path(str(source).split("::", 1)[0])
        if paths:
            key = _file_key(paths)
            sha = _SHA_CACHE.get(key)
            if sha is None:  # hashed once per session while the files are unchanged (size, mtime)
                h = hashlib.sha256()
                for p in paths:
                    with open(p, "rb") as fh:
                        for chunk in iter(lambda: fh.read(1 << 20), b""):
                            h.update(chunk)
                sha = _SHA_CACHE[key] = h.hexdigest()
    rows = int(to_pandas(as_table(source, table=table).count()))
    return {"sha256": sha, "rows": rows}
