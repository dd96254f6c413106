"""A refactor keeps every number: the tables `cx run` publishes on the sample and on the export fixtures
(`--date` pinned) equal the golden files recorded before the layering work, floats to 1e-9 relative.

The only allowed differences are columns of words that moved out of an analysis into `present` (a
sentence became a note code): they are listed in WORD_COLUMNS, each with the reason."""
from __future__ import annotations

import fnmatch
import math
from pathlib import Path

import pandas as pd
import pytest

from golden.runs import HERE, RUNS

# (table path relative to a run's tables/, column) -> why it may differ from the golden file
WORD_COLUMNS: dict[tuple[str, str], str] = {
    ("cohort_retention/who_to_save.csv", "reason"): "at_risk's reason sentences became codes (cxlib.at_risk.REASONS); "
                                                    "present.at_risk_reason says them on the page",
}

# Tables a page may publish that the golden files predate (compared to nothing, but only these may be new):
# each page's headline and key figures as data (the index and manifest read them, not the page's HTML),
# and the journey map page, added after the golden files were recorded. fnmatch patterns.
NEW_TABLES: set[str] = {
    # (named headline_figures: the scorecard's "headline" is its scores table, golden since before)
    "cohort_retention/headline_figures.csv",
    "nps_drivers/headline_figures.csv",
    "experiment_comparison/headline_figures.csv",
    "cx_scorecard/headline_figures.csv",
    "journey_map/*",
}


@pytest.fixture(scope="module", params=list(RUNS))
def tables(request, golden_run):
    return request.param, golden_run(request.param)


def _same(a: pd.Series, b: pd.Series) -> list[int]:
    """Row positions where two columns differ (numbers to 1e-9 relative, anything else exactly)."""
    bad = []
    for i, (x, y) in enumerate(zip(a.tolist(), b.tolist())):
        if isinstance(x, float) and math.isnan(x) and isinstance(y, float) and math.isnan(y):
            continue
        if isinstance(x, (int, float)) and isinstance(y, (int, float)) and not isinstance(x, bool):
            if not math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12):
                bad.append(i)
        elif x != y:
            bad.append(i)
    return bad


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path) if path.stat().st_size > 1 else pd.DataFrame()


@pytest.mark.slow
def test_published_tables_equal_the_golden_files(tables):
    name, got_dir = tables
    want_dir = HERE / name
    want = sorted(p.relative_to(want_dir).as_posix() for p in want_dir.rglob("*.csv"))
    got = sorted(p.relative_to(got_dir).as_posix() for p in got_dir.rglob("*.csv"))
    missing = sorted(set(want) - set(got))
    extra = sorted(r for r in set(got) - set(want) if not any(fnmatch.fnmatchcase(r, pat) for pat in NEW_TABLES))
    assert not missing and not extra, f"missing: {missing}; new and not in NEW_TABLES: {extra}"
    problems = []
    for rel in want:
        w, g = _read(want_dir / rel), _read(got_dir / rel)
        allowed = {c for (t, c) in WORD_COLUMNS if t == rel}
        wc = [c for c in w.columns if c not in allowed]
        gc = [c for c in g.columns if c not in allowed]
        if wc != gc or len(w) != len(g):
            problems.append(f"{rel}: columns {wc} -> {gc}, rows {len(w)} -> {len(g)}")
            continue
        for c in wc:
            rows = _same(w[c], g[c])
            if rows:
                problems.append(f"{rel}:{c} rows {rows[:5]}: {w[c].iloc[rows[0]]!r} -> {g[c].iloc[rows[0]]!r}")
    assert not problems, "\n".join(problems)
