"""Report pipeline: papermill runs, HTML export, manifest and index (being built; see issue 3).

Notebook-facing API (stable): :func:`publish`.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

#: Set by the runner for each notebook run: where published result tables go.
TABLES_ENV = "CX_TABLES_DIR"


def publish(table: pd.DataFrame, name: str, *, caption: str | None = None) -> pd.DataFrame:
    """Register a result table of the notebook: written to ``tables/<slug>/<name>.csv`` in a report run.

    Returns the table so a notebook cell can end with ``publish(df, 'nps_by_week')`` and show it.
    Interactively (no report run) nothing is written.
    """
    out = os.environ.get(TABLES_ENV)
    if out:
        path = Path(out) / f"{name}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(path, index=False)
    return table
