"""`cx run` from the user's own folder: a data source or a spec's `path:` named relative to that folder is
found by the notebook too (the pre-flight and the kernel read the same file), and the manifest keeps the
parameter as the user gave it."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

from cxlib.paths import PROJECT_ROOT
from cxlib.reports.run import _anchor, _anchored

SAMPLE = PROJECT_ROOT / "data" / "sample"


def test_only_paths_the_kernel_cannot_find_are_made_absolute(tmp_path):
    (tmp_path / "mine.csv").write_text("a\n1\n")
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "q3_1.csv").write_text("a\n1\n")
    roots = (PROJECT_ROOT / "notebooks", PROJECT_ROOT)
    assert _anchor("mine.csv", tmp_path, roots) == str(tmp_path / "mine.csv")
    assert _anchor("exports/q3_*.csv", tmp_path, roots) == str(tmp_path / "exports/q3_*.csv")
    assert _anchor({"path": "mine.csv", "layout": "qualtrics"}, tmp_path, roots) == {
        "path": str(tmp_path / "mine.csv"), "layout": "qualtrics"}
    assert _anchor("{path: mine.csv, layout: qualtrics}", tmp_path, roots) == {
        "path": str(tmp_path / "mine.csv"), "layout": "qualtrics"}
    # what the kernel finds itself (the sample, a URL, a missing file, a number) stays as given
    for v in ("data/sample/events.csv", "postgres://u@h/db::t", "missing.csv", "", None, 3):
        assert _anchor(v, tmp_path, roots) == v
    assert _anchored({"events": "mine.csv", "segment": "mine.csv"}, roots)["segment"] == "mine.csv"


def test_a_source_named_relative_to_the_callers_folder_runs(tmp_path):
    shutil.copy(SAMPLE / "experiment.csv", tmp_path / "my_test.csv")
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "cxlib.cli", "run", "experiment_comparison", "-p",
                        "experiment=my_test.csv", "--reports-dir", str(out), "--date", "2026-11-23"],
                       cwd=tmp_path, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    day = out / "2026-11-23"
    record = json.loads((day / "manifest.json").read_text())["notebooks"][0]
    assert record["status"] == "ok" and record["parameters"]["experiment"] == "my_test.csv"
    # the page read the user's copy: its published arms are the sample's (same rows)
    res = pd.read_csv(day / "tables" / "experiment_comparison" / "results.csv")
    assert len(res) > 0 and "Demo data" not in (day / "experiment_comparison.html").read_text()
