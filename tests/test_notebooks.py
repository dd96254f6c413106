"""The committed notebooks: conventions, clean outputs, and (nbval) that they still reproduce."""
from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest

from cxlib import reports
from cxlib.paths import NOTEBOOKS_DIR, PROJECT_ROOT

EXPECTED = ["cohort_retention", "cx_scorecard", "experiment_comparison", "journey_map", "nps_drivers"]
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))


def test_the_four_notebooks_exist():
    assert [p.stem for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_conventions_and_clean_committed_outputs(path):
    nb = nbformat.read(str(path), as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    params = reports.notebook_parameters(path)
    assert params, "a cell tagged 'parameters'"
    for p in params:
        assert p.help, f"{p.name} has no help text"
        reports.coerce(p, p.default)                     # every default fits its declared type / choices
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), "committed with outputs (run `make notebooks`)"
    for c in code:
        for out in c.get("outputs", []):
            assert out.get("name") != "stderr", (path.stem, c.source[:80], out.get("text", "")[:300])
            assert out.output_type != "error", (path.stem, c.source[:80])
    # thin: no function or class definitions; logic lives in cxlib
    assert not any(line.lstrip().startswith(("def ", "class ")) for c in code for line in c.source.splitlines())


def test_data_parameters_named_after_tables():
    for path in NOTEBOOKS:
        names = {p.name for p in reports.notebook_parameters(path)}
        assert names & {"events", "subscriptions", "responses", "tickets", "experiment"}, path.stem


@pytest.mark.slow
def test_nbval_outputs_reproduce():
    r = subprocess.run([sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "--nbval-sanitize-with",
                        "tests/sanitize.cfg", "-p", "no:cacheprovider", "-q", "notebooks/"],
                       cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, r.stdout[-4000:]
    assert " passed" in r.stdout and "skipped" not in r.stdout
