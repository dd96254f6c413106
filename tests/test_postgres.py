"""A real PostgreSQL source: the sample tables in a throwaway server (.ci/postgres.sh, fixture `pg_url`)
give the same numbers as the CSV files, through the API and through `cx run`, and the password never
lands in anything a run writes or prints.

Locally: ``.ci/postgres.sh .venv/bin/python -m pytest tests/test_postgres.py`` (as root it runs the
server as the unprivileged user ``cxpg``); without CX_PG_URL these tests skip, in CI they fail.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import pytest

from cxlib import cohorts, metrics
from cxlib.paths import SAMPLE_DIR

pytestmark = pytest.mark.postgres

AS_OF = "2026-11-22 23:59:59"
DATE = "2026-11-23"


def _password(url: str) -> str:
    password = urlsplit(url).password
    assert password, "CX_PG_URL must carry a password for these tests (postgres://user:PASSWORD@host/db)"
    return password


def _assert_same(got: pd.DataFrame, want: pd.DataFrame, keys: list[str]):
    """Same columns, same rows (in key order), equal non-numeric cells, numeric cells within 1e-9."""
    assert list(got.columns) == list(want.columns)
    got = got.sort_values(keys).reset_index(drop=True)
    want = want.sort_values(keys).reset_index(drop=True)
    assert len(got) == len(want) > 0
    for col in want.columns:
        a, b = got[col], want[col]
        if pd.api.types.is_numeric_dtype(b) and not pd.api.types.is_bool_dtype(b):
            np.testing.assert_allclose(a.to_numpy(dtype=float), b.to_numpy(dtype=float), rtol=0, atol=1e-9,
                                       equal_nan=True, err_msg=col)
        else:
            assert a.astype(object).where(a.notna(), None).tolist() == \
                b.astype(object).where(b.notna(), None).tolist(), col


def _cx(*args, cwd, timeout=600):
    # CX_PG_URL is not passed on: a password found in the output can only have come through the run.
    env = {k: v for k, v in os.environ.items() if k != "CX_PG_URL"}
    return subprocess.run([sys.executable, "-m", "cxlib.cli", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _files_containing(root: Path, needle: str) -> list[str]:
    raw = needle.encode()
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.is_file() and not p.is_symlink() and raw in p.read_bytes())


# ------------------------------------------------------------------------------------------ the API

def test_tables_loaded_with_timestamps(pg_url):
    import ibis

    con = ibis.connect(pg_url)
    try:
        assert con.table("responses").schema()["response_time"].is_timestamp()
        assert con.table("events").schema()["event_time"].is_timestamp()
        subs = con.table("subscriptions").schema()
        assert subs["start_time"].is_timestamp() and subs["end_time"].is_timestamp()
        assert con.table("responses").count().execute() == len(pd.read_csv(SAMPLE_DIR / "responses.csv"))
    finally:
        con.disconnect()


@pytest.mark.parametrize("by", [None, "channel"])
def test_nps_same_as_csv(pg_url, by):
    got = metrics.nps(f"{pg_url}::responses", by=by)
    want = metrics.nps(str(SAMPLE_DIR / "responses.csv"), by=by)
    _assert_same(got, want, [by] if by else list(want.columns[:1]))


def test_retention_table_same_as_csv(pg_url):
    got = cohorts.retention_table(f"{pg_url}::events", as_of=AS_OF)
    want = cohorts.retention_table(str(SAMPLE_DIR / "events.csv"), as_of=AS_OF)
    _assert_same(got, want, ["cohort", "period"])


# ------------------------------------------------------------------------------------------ cx run

@pytest.mark.slow
def test_cx_run_nps_drivers_from_postgres_keeps_the_password_out(pg_url, tmp_path):
    password = _password(pg_url)
    rep, logs = tmp_path / "rep", tmp_path / "rep-logs"
    proc = _cx("run", "nps_drivers", "--reports-dir", rep, "--date", DATE,
               "-p", f"responses={pg_url}::responses", "-p", "bootstrap=20", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    day = rep / DATE
    page = day / "nps_drivers.html"
    assert page.is_file()
    assert logs.is_dir() and any(logs.rglob("*.ipynb")), "the executed notebook should be kept in the logs"

    assert password not in proc.stdout and password not in proc.stderr
    manifest = (day / "manifest.json").read_text(encoding="utf-8")
    assert password not in manifest
    assert password not in page.read_text(encoding="utf-8")
    assert _files_containing(logs, password) == []
    assert _files_containing(rep, password) == []

    record = {n["notebook"]: n for n in json.loads(manifest)["notebooks"]}["nps_drivers"]
    assert record["status"] == "ok"
    assert record.get("demo") is not True, "a Postgres source is the user's data, not the demo sample"

    # the same numbers as the CSV: every result table equals that of the same run on the sample CSV
    ref = tmp_path / "ref"
    # the user's own answers are never weighted to the demo customer base: the reference leaves it out too
    proc = _cx("run", "nps_drivers", "--reports-dir", ref, "--date", DATE,
               "-p", f"responses={SAMPLE_DIR / 'responses.csv'}", "-p", "bootstrap=20",
               "-p", "subscriptions=null", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    want = {p.name: p for p in (ref / DATE / "tables" / "nps_drivers").glob("*.csv")}
    got = {p.name: p for p in (day / "tables" / "nps_drivers").glob("*.csv")}
    assert "nps_overall.csv" in want and sorted(got) == sorted(want)
    for name, path in want.items():
        expected, actual = pd.read_csv(path), pd.read_csv(got[name])
        if expected.empty:  # e.g. no proposed themes: the same empty table with the same columns
            assert actual.empty and list(actual.columns) == list(expected.columns), name
            continue
        keys = [c for c in expected.columns if not pd.api.types.is_float_dtype(expected[c])]
        _assert_same(actual, expected, keys or list(expected.columns))


def test_cx_run_wrong_password_fails_preflight_in_one_line(pg_url, tmp_path):
    parts = urlsplit(pg_url)
    wrong = "Wr0ng-Pa55word-x9"
    bad_url = f"{parts.scheme}://{parts.username}:{wrong}@{parts.hostname}:{parts.port}{parts.path}"
    rep = tmp_path / "rep"
    proc = _cx("run", "nps_drivers", "--reports-dir", rep, "--date", DATE,
               "-p", f"responses={bad_url}::responses", "-p", "bootstrap=20", cwd=tmp_path, timeout=180)
    assert proc.returncode == 2, proc.stderr[-3000:]
    for secret in (wrong, _password(pg_url)):
        assert secret not in proc.stderr and secret not in proc.stdout
    assert "Traceback" not in proc.stderr
    problems = [ln for ln in proc.stderr.splitlines() if ln.startswith("  - ")]
    assert len(problems) == 1, proc.stderr
    assert "responses" in problems[0] and "password authentication failed" in problems[0], problems[0]
    assert not (rep / DATE).exists(), "pre-flight failures write nothing"


@pytest.mark.slow
def test_cx_run_percent_encoded_password(pg_url, tmp_path):
    """A password written percent-encoded in the URL (as one with '@', ':', '/' or '%' must be) reaches
    the notebook's connection decoded once, and neither form is written anywhere."""
    parts = urlsplit(pg_url)
    password = _password(pg_url)
    encoded = "".join(f"%{b:02X}" for b in password.encode())
    url = f"{parts.scheme}://{parts.username}:{encoded}@{parts.hostname}:{parts.port}{parts.path}"
    rep, logs = tmp_path / "rep", tmp_path / "rep-logs"
    proc = _cx("run", "nps_drivers", "--reports-dir", rep, "--date", DATE,
               "-p", f"responses={url}::responses", "-p", "bootstrap=0", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (rep / DATE / "nps_drivers.html").is_file()
    for secret in (password, encoded):
        assert secret not in proc.stdout and secret not in proc.stderr
        assert _files_containing(rep, secret) == [] and _files_containing(logs, secret) == []
