"""Build the offline API reference of cxlib from its numpydoc docstrings (``make docs``).

pdoc follows a package's ``__all__``: a package that lists only its public names (``cxlib``,
``cxlib.reports``) would hide its submodules, so every module such a package does not reach is named
explicitly. No network: no MathJax or Mermaid from a CDN.

Usage: ``python docs/build_api.py [OUTPUT_DIR]`` (default ``docs/api``).
"""
from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

import pdoc
import pdoc.render

import cxlib


def modules() -> list[str]:
    """``cxlib`` and each public module that its parent package's ``__all__`` leaves out."""
    names = ["cxlib"]
    for info in pkgutil.walk_packages(cxlib.__path__, "cxlib."):
        parent, _, leaf = info.name.rpartition(".")
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        listed = getattr(importlib.import_module(parent), "__all__", None)
        if listed is not None and leaf not in listed:
            names.append(info.name)
    return names


def build(out: Path) -> Path:
    pdoc.render.configure(docformat="numpy", math=False, mermaid=False, search=True)
    pdoc.pdoc(*modules(), output_directory=Path(out))
    return Path(out) / "index.html"


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "api"))
