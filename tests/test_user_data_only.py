"""Each page runs on a user's data given only its data parameters plus what it cannot guess, and no
sample table reaches the report (DESIGN.md: "Demo rows never mix silently into a user's report")."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from cxlib.paths import PROJECT_ROOT, SAMPLE_DIR

DATE = "2026-11-23"


def cx(tmp_path, *args):
    return subprocess.run([sys.executable, "-m", "cxlib.cli", "run", *args, "--reports-dir", str(tmp_path / "out"),
                           "--date", DATE], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=1200, cwd=PROJECT_ROOT)


def published(tmp_path, page):
    day = tmp_path / "out" / DATE
    manifest = json.loads((day / "manifest.json").read_text())
    rec = next(r for r in manifest["notebooks"] if r["notebook"] == page) if isinstance(
        manifest.get("notebooks"), list) else manifest["notebooks"][page]
    return day, rec


def assert_only_user_data(tmp_path, page, user_inputs):
    day, rec = published(tmp_path, page)
    assert rec["status"] == "ok"
    assert not rec["demo"]
    assert set(rec["inputs"]) == set(user_inputs), rec["inputs"]
    text = json.dumps(rec["inputs"])
    assert str(SAMPLE_DIR) not in text and "data/sample" not in text
    html = (day / f"{page}.html").read_text()
    assert "Demo data" not in html and "Traceback" not in html
    return html


@pytest.fixture
def game(tmp_path):
    """A game studio's A/B export: its own metric names, none of the sample's columns."""
    rng = np.random.default_rng(7)
    n = 600
    rounds = rng.poisson(30, n).astype(float)
    rounds[17] = 49_854  # one player at ~1,600x the median
    df = pd.DataFrame({"player": [f"u{i:04d}" for i in range(n)], "arm": np.where(np.arange(n) % 2, "B", "A"),
                       "rounds": rounds, "retained_d7": rng.binomial(1, 0.4, n)})
    path = tmp_path / "game_test.csv"
    df.to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_experiment_page_runs_on_a_users_file_given_experiment_control_and_metrics(tmp_path, game):
    spec = f"{{path: {game}, columns: {{unit_id: player, variant: arm}}}}"
    r = cx(tmp_path, "experiment_comparison", "-p", f"experiment={spec}", "-p", "control=A",
           "-p", "metrics={rounds: mean, retained_d7: proportion}")
    assert r.returncode == 0, r.stderr[-3000:]
    html = assert_only_user_data(tmp_path, "experiment_comparison", {"experiment"})
    day, _ = published(tmp_path, "experiment_comparison")
    results = pd.read_csv(day / "tables" / "experiment_comparison" / "results.csv")
    assert set(results["metric"]) == {"rounds", "retained_d7"}  # no sample ratio, covariate or guardrail ...
    assert "segment (device)" in html and "ratios (clicks, sessions)" in html  # ... and each one is said
    heavy = pd.read_csv(day / "tables" / "experiment_comparison" / "heavy_tails.csv")
    assert heavy.loc[heavy["metric"] == "rounds", "heavy"].any()  # the 49,854-round player is named


@pytest.mark.slow
def test_a_given_parameter_naming_a_missing_column_stops_the_run(tmp_path, game):
    spec = f"{{path: {game}, columns: {{unit_id: player, variant: arm}}}}"
    r = cx(tmp_path, "experiment_comparison", "-p", f"experiment={spec}", "-p", "control=A",
           "-p", "metrics={rounds: mean}", "-p", "segment=device")
    assert r.returncode == 2 and "'segment' names column 'device'" in r.stderr
    assert not (tmp_path / "out" / DATE).exists()


@pytest.fixture
def answers(tmp_path):
    """Survey answers over ten weeks, the last answer on 2026-11-13 (the week of 16 Nov has none)."""
    rng = np.random.default_rng(11)
    n = 500
    times = pd.Timestamp("2026-09-07") + pd.to_timedelta(rng.uniform(0, 67 * 86400, n), unit="s")
    df = pd.DataFrame({"respondent_id": range(1, n + 1), "response_time": times.strftime("%Y-%m-%d %H:%M:%S"),
                       "nps": rng.choice(11, n, p=[.02] * 5 + [.05, .05, .15, .2, .25, .2]),
                       "comment": rng.choice(["slow delivery", "great support", "price too high", ""], n)})
    path = tmp_path / "answers.csv"
    df.to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_nps_page_runs_on_a_users_responses_alone(tmp_path, answers):
    r = cx(tmp_path, "nps_drivers", "-p", f"responses={answers}")
    assert r.returncode == 0, r.stderr[-3000:]
    html = assert_only_user_data(tmp_path, "nps_drivers", {"responses"})
    assert "demo data while responses is your own data" in html  # the demo customer base is left out


@pytest.mark.slow
def test_scorecard_runs_on_a_users_responses_alone_even_when_its_last_week_is_empty(tmp_path, answers):
    r = cx(tmp_path, "cx_scorecard", "-p", f"responses={answers}")
    assert r.returncode == 0, r.stderr[-3000:]
    html = assert_only_user_data(tmp_path, "cx_scorecard", {"responses"})
    assert "demo data while responses is your own data" in html
    assert "No answers" in html or "no answers" in html


@pytest.mark.slow
def test_scorecard_week_after_the_analysis_date_is_a_usage_error(tmp_path, answers):
    r = cx(tmp_path, "cx_scorecard", "-p", f"responses={answers}", "-p", "week=2026-11-23")
    assert r.returncode == 2 and "after the analysis date" in r.stderr


@pytest.mark.slow
def test_cohort_page_runs_on_a_historical_users_log_alone(tmp_path):
    """A transaction log that ends in June 1998: no month after it is shown as observed."""
    rng = np.random.default_rng(3)
    rows = []
    for c in range(400):
        start = pd.Timestamp("1997-01-01") + pd.Timedelta(days=int(rng.integers(0, 365)))
        for k in range(int(rng.integers(1, 6))):
            t = start + pd.Timedelta(days=int(k * rng.integers(20, 90)))
            if t <= pd.Timestamp("1998-06-30"):
                rows.append((f"c{c}", t.strftime("%Y-%m-%d")))
    path = tmp_path / "cdnow.csv"
    pd.DataFrame(rows, columns=["customer_id", "event_time"]).to_csv(path, index=False)
    r = cx(tmp_path, "cohort_retention", "-p", f"events={path}")
    assert r.returncode == 0, r.stderr[-3000:]
    assert_only_user_data(tmp_path, "cohort_retention", {"events"})
    day, _ = published(tmp_path, "cohort_retention")
    for csv in (day / "tables" / "cohort_retention").glob("*.csv"):
        t = pd.read_csv(csv)
        if "period_start" in t.columns:
            late = t[pd.to_datetime(t["period_start"]) > pd.Timestamp("1998-06-30")]
            assert late.empty, csv.name
