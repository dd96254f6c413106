"""The run's record: ``manifest.json`` of a dated folder (one record per notebook, input fingerprints,
versions, commit) and the reading of every dated run's manifest for the index.

Examples
--------
>>> _iso(0)
'1970-01-01T00:00:00+00:00'
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

from cxlib import paths
from cxlib.reports.parameters import SOURCE_PARAMETERS
from cxlib.reports.redact import _redacted, people_message


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat(timespec="seconds")


def _versions() -> dict:
    """Versions of Python and of the libraries behind the numbers and pages."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0]}
    for pkg in ("cxlib", "pandas", "numpy", "scipy", "statsmodels", "seaborn", "matplotlib", "ibis-framework",
                "duckdb", "papermill", "nbconvert", "great-tables"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def _git_commit() -> str | None:
    try:
        r = subprocess.run(["git", "rev-parse", "HEAD"], cwd=paths.PROJECT_ROOT, capture_output=True,
                           text=True, timeout=5)
        return r.stdout.strip() or None if r.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def _parameter_file(value, folders) -> Path | None:
    """The existing file a text parameter names (absolute, or relative to one of ``folders``), else None."""
    if not isinstance(value, str) or not value.strip() or "\n" in value or "://" in value or len(value) > 1000:
        return None
    path = Path(value.strip()).expanduser()
    candidates = [path] if path.is_absolute() else [Path(f) / path for f in folders]
    for cand in candidates:
        try:
            if cand.is_file():
                return cand
        except OSError:  # a name too long for the file system, a path through a file: not a file
            continue
    return None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fingerprints(parameters: dict, folders=()) -> dict:
    """Fingerprints of what a notebook read: each data source (sha256 and rows) and each other parameter
    whose value names an existing file (a journey or taxonomy YAML: sha256 and bytes).

    Relative file names are looked up in ``folders`` (the notebook's working directory first), then the
    current directory and the project root.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "journey.yaml"
    >>> _ = f.write_text("stages: [sign_up]\\n")
    >>> _fingerprints({"journey": str(f), "min_n": 30})["journey"]["bytes"]
    18
    """
    from cxlib import data as cxdata

    out = {}
    for key in SOURCE_PARAMETERS:
        value = parameters.get(key)
        if not value:
            continue
        shown = _redacted(value)
        try:
            out[key] = {"source": shown, **cxdata.fingerprint(value)}
        except Exception as exc:  # the notebook reports bad data itself; keep the manifest honest
            out[key] = {"source": shown, "error": people_message(str(exc))}
    look_in = [*folders, Path.cwd(), paths.PROJECT_ROOT]
    for key, value in parameters.items():
        if key in SOURCE_PARAMETERS:
            continue
        path = _parameter_file(value, look_in)
        if path is None:
            continue
        try:
            out[key] = {"path": _redacted(value), "sha256": _sha256(path), "bytes": path.stat().st_size}
        except OSError as exc:
            out[key] = {"path": _redacted(value), "error": people_message(str(exc))}
    return out


def _read_manifest(folder: Path) -> dict:
    """Notebook slug -> its record in ``folder/manifest.json`` ({} when there is none)."""
    try:
        return {n["notebook"]: n for n in json.loads((folder / "manifest.json").read_text())["notebooks"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _merge_manifest(old: dict, records: list[dict], day: dt.date) -> dict:
    """The date's manifest: this run's records over the earlier ones of the same date."""
    merged = dict(old)
    for rec in records:
        merged[rec["notebook"]] = rec
    return {"date": day.isoformat(), "generated": _iso(time.time()), "git_commit": _git_commit(),
            "versions": _versions(), "notebooks": sorted(merged.values(), key=lambda r: r["notebook"])}


def _is_day(name: str) -> bool:
    """True for a dated run folder's name (YYYY-MM-DD)."""
    try:
        return len(name) == 10 and dt.date.fromisoformat(name).isoformat() == name
    except ValueError:
        return False


def _manifests(reports: Path) -> list[tuple[Path, dict]]:
    """(path, content) of every dated run's manifest that can be read, newest first."""
    out = []
    for manifest in sorted(reports.glob("*/manifest.json"), reverse=True):
        if not _is_day(manifest.parent.name):
            continue
        try:
            out.append((manifest, json.loads(manifest.read_text())))
        except (ValueError, OSError):
            continue
    return out
