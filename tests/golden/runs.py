"""The runs whose published tables are the refactoring safety net (golden files).

Each run is `cx run` with `--date` pinned (so every default `as_of` is pinned too) on the bundled sample
or on the export fixtures. `python tests/golden/runs.py record` rewrites tests/golden/<run>/; the test
(tests/test_golden_tables.py) runs the same and compares every table, floats to 1e-9 relative.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
EXPORTS = ROOT / "tests" / "fixtures" / "exports"
DATE = "2026-11-30"


def _spec(name, layout, **extra):
    return {"path": str(EXPORTS / name), "layout": layout, **extra}


EURO = {"path": str(EXPORTS / "european.csv"), "sep": ";", "decimal": ",", "thousands": ".",
        "encoding": "latin-1", "date_format": "%d.%m.%Y", "currency": ["Umsatz"],
        "columns": {"respondent_id": "Antwort-ID", "response_time": "Datum", "nps": "Empfehlung",
                    "comment": "Kommentar"}, "drivers": {"Bewertung Service": "Service"}}

RUNS = {
    "sample": {},  # every notebook on the bundled sample, its defaults
    "exports_a": {
        "nps_drivers": {"responses": _spec("typeform.csv", "typeform"), "bootstrap": 20, "min_n": 5},
        "cx_scorecard": {"responses": _spec("surveymonkey.xlsx", "surveymonkey", sheet="Sheet"),
                         "tickets": _spec("freshdesk.csv", "freshdesk"), "events": None, "min_n": 5},
        "cohort_retention": {"events": _spec("shopify_orders.csv", "shopify"),
                             "subscriptions": _spec("stripe_subscriptions.csv", "stripe"), "segment": None,
                             "min_n": 3},
    },
    "exports_b": {
        "nps_drivers": {"responses": EURO, "bootstrap": 20, "min_n": 5},
        "cx_scorecard": {"responses": _spec("qualtrics.csv", "qualtrics"),
                         "tickets": _spec("intercom.csv", "intercom"), "events": None, "min_n": 5},
    },
}


def run(name: str, workdir: Path) -> Path:
    """Run one golden run into `workdir`; return the folder of its tables."""
    params = RUNS[name]
    args = [sys.executable, "-m", "cxlib.cli", "run", *params.keys(), "--reports-dir", str(workdir / name),
            "--date", DATE]
    if params:
        p = workdir / f"{name}.yaml"
        p.write_text(yaml.safe_dump(params))
        args += ["--params", str(p)]
    # a fixed salt makes pseudonymised ids (contact-like customer ids) the same in every run
    env = {**os.environ, "CX_PSEUDONYM_SALT": "golden"}
    r = subprocess.run(args, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=1800, cwd=ROOT,
                       env=env)
    if r.returncode != 0:
        raise RuntimeError(f"golden run {name} exited {r.returncode}:\n{r.stderr[-3000:]}")
    return workdir / name / DATE / "tables"


def record(workdir: Path) -> None:
    for name in RUNS:
        tables = run(name, workdir)
        dest = HERE / name
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(tables, dest)


if __name__ == "__main__":
    import tempfile
    if sys.argv[1:] != ["record"]:
        sys.exit("usage: python tests/golden/runs.py record")
    with tempfile.TemporaryDirectory() as d:
        record(Path(d))
