"""Project paths, all derived from one root constant (cookiecutter-data-science style).

``CX_PROJECT_ROOT`` overrides the root (useful when cxlib is installed outside a checkout).
"""
from __future__ import annotations

import os
from pathlib import Path

from cxlib.schema import KINDS

__all__ = ["PROJECT_ROOT", "DATA_DIR", "SAMPLE_DIR", "NOTEBOOKS_DIR", "REPORTS_DIR", "CONFIG_DIR", "KINDS", "sample_path"]

PROJECT_ROOT: Path = Path(os.environ.get("CX_PROJECT_ROOT", Path(__file__).resolve().parent.parent))
DATA_DIR: Path = PROJECT_ROOT / "data"
SAMPLE_DIR: Path = DATA_DIR / "sample"
NOTEBOOKS_DIR: Path = PROJECT_ROOT / "notebooks"
REPORTS_DIR: Path = PROJECT_ROOT / "reports"
CONFIG_DIR: Path = PROJECT_ROOT / "config"


def sample_path(kind: str) -> Path:
    """Path of the bundled sample file for a table kind, e.g. ``sample_path('responses')``."""
    if kind not in KINDS:
        raise ValueError(f"unknown table kind {kind!r}; expected one of {', '.join(KINDS)}")
    return SAMPLE_DIR / f"{kind}.csv"
