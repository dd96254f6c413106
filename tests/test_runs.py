"""Scheduled runs a scheduler can trust (issue 10): pre-flight, no lost pages, no gap, signals,
filesystem errors, secrets and log lines. Everything runs `cx` as a subprocess, as cron would."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from cxlib import data as cxdata
from cxlib import reports

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
CX = [sys.executable, "-m", "cxlib.cli"]
LOG_LINE = re.compile(r"^cx \[\d\d:\d\d:\d\d\] [a-z_]+: (started|ok|failed)\b")


def cx(*args, **kw):
    return subprocess.run([*CX, *args], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600,
                          **kw)


def run_fixture(rep, *args, date="2026-11-23"):
    return cx("run", *args, "--notebooks-dir", str(FIXTURES), "--reports-dir", str(rep), "--date", date)


def wait_for(predicate, timeout=120.0, what="condition"):
    """Bounded wait: poll until ``predicate()`` is true, fail after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


# ------------------------------------------------------------------------------------------ pre-flight

@pytest.mark.parametrize("value,expect", [
    ("does/not/exist.csv", "exist.csv: file not found"),
    ("postgres://analyst:S3cretPass@127.0.0.1:9/nodb::responses", "could not open table 'responses'"),
])
def test_unreadable_source_exit_2_nothing_written(tmp_path, value, expect):
    rep = tmp_path / "rep"
    r = run_fixture(rep, "good", "-p", f"responses={value}")
    assert r.returncode == 2, r.stderr
    assert "good: parameter 'responses'" in r.stderr and expect in r.stderr
    assert "Traceback" not in r.stderr and "S3cretPass" not in r.stderr
    assert not rep.exists() or not list(rep.glob("20*"))


def test_preflight_checks_every_notebook_and_keeps_earlier_report(tmp_path, sample_dir):
    rep = tmp_path / "rep"
    assert run_fixture(rep, "good").returncode == 0
    before = (rep / "2026-11-23" / "good.html").read_bytes()
    dup = tmp_path / "responses.csv"
    lines = (sample_dir / "responses.csv").read_text(encoding="utf-8").splitlines()
    dup.write_text("\n".join(lines[:50] + [lines[7]]) + "\n", encoding="utf-8")  # one respondent twice
    r = run_fixture(rep, "good", "-p", f"responses={dup}")
    assert r.returncode == 2
    assert "column 'respondent_id' must be unique" in r.stderr and "Traceback" not in r.stderr
    assert (rep / "2026-11-23" / "good.html").read_bytes() == before


@pytest.mark.parametrize("args,message", [
    (["cohort_retention", "-p", "as_of=yesterday"], "parameter 'as_of' expects a date YYYY-MM-DD"),
    (["cohort_retention", "-p", "min_n=-5"], "parameter 'min_n' must be at least 1"),
    (["nps_drivers", "-p", "segments=[]"], "parameter 'segments' needs at least 1 item"),
    (["nps_drivers", "-p", "bootstrap=-1"], "parameter 'bootstrap' must be at least 0"),
])
def test_nonsense_parameters_exit_2(tmp_path, args, message):
    r = cx("run", *args, "--reports-dir", str(tmp_path / "rep"))
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "rep").exists() or not list((tmp_path / "rep").glob("20*"))


# ------------------------------------------------------------------------------------------ failures

def test_failed_rerun_keeps_the_good_page_and_records_the_attempt(tmp_path):
    rep = tmp_path / "rep"
    assert run_fixture(rep, "flaky").returncode == 0
    day = rep / "2026-11-23"
    good = (day / "flaky.html").read_bytes()
    r = run_fixture(rep, "flaky", "-p", "fail=true")
    assert r.returncode == 1 and "failed: flaky" in r.stderr
    assert (day / "flaky.html").read_bytes() == good
    rec = json.loads((day / "manifest.json").read_text())["notebooks"][0]
    assert rec["status"] == "ok" and rec["last_attempt"]["status"] == "failed"
    error_page = (day / rec["last_attempt"]["page"]).read_text()
    assert "could not be produced" in error_page and "planted failure in module.py" in error_page
    assert "/very/secret" not in error_page and "Traceback" not in error_page
    log = rep / rec["last_attempt"]["log"]
    assert log.exists() and "Traceback" in log.read_text() or "RuntimeError" in log.read_text()
    index = (rep / "index.html").read_text()
    assert "a later attempt at" in index and rec["last_attempt"]["page"] in index
    assert '<span class="ok">ok</span>' in index


def test_failure_without_a_good_page_is_a_short_page_for_people(tmp_path):
    rep = tmp_path / "rep"
    r = run_fixture(rep, "bad")
    assert r.returncode == 1
    page = (rep / "2026-11-23" / "bad.html").read_text()
    assert "could not be produced" in page and "planted failure for the tests" in page
    for leak in ("Traceback", "site-packages", ".venv", "papermill", str(Path.home())):
        assert leak not in page


def test_folder_is_switched_atomically_and_stale_leftovers_are_cleaned(tmp_path):
    rep = tmp_path / "rep"
    (rep / ".runs" / "2026-11-23.20200101T000000-dead00").mkdir(parents=True)  # a killed run's version
    (rep / ".tmp-2026-11-23-abcd").mkdir()                                    # older cx's leftovers
    (rep / ".old-2026-11-23-abcd").mkdir()
    legacy = rep / "2026-11-16"                                               # a folder from an older cx
    legacy.mkdir()
    (legacy / "x.html").write_text("old page")
    assert run_fixture(rep, "good").returncode == 0
    day = rep / "2026-11-23"
    assert day.is_symlink() and (day / "good.html").exists()
    assert not list(rep.glob(".tmp-*")) and not list(rep.glob(".old-*")) and not list(rep.glob(".link-*"))
    assert [p.name for p in (rep / ".runs").iterdir()] == [os.readlink(day).split("/")[-1]]
    assert (legacy / "x.html").read_text() == "old page"                     # untouched: not re-run
    # re-running swaps the link to a new complete version; the old version is removed afterwards
    first = os.readlink(day)
    assert run_fixture(rep, "good").returncode == 0
    assert os.readlink(day) != first and (day / "good.html").exists()
    assert len(list((rep / ".runs").iterdir())) == 1


# ------------------------------------------------------------------------------------------ signals

def _start_waiting_run(tmp_path, rep):
    marker = tmp_path / "started.flag"
    proc = subprocess.Popen([*CX, "run", "flaky", "--notebooks-dir", str(FIXTURES), "--reports-dir", str(rep),
                             "--date", "2026-11-23", "-p", f"wait_for={marker}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            text=True, start_new_session=True)
    wait_for(marker.exists, what="the notebook to start")
    family = psutil.Process(proc.pid).children(recursive=True)
    assert family, "workers and a kernel are running"
    return proc, family


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sigterm_and_sigint_stop_everything_cleanly(tmp_path, sig, code):
    rep = tmp_path / "rep"
    assert run_fixture(rep, "good").returncode == 0
    before = (rep / "2026-11-23" / "good.html").read_bytes()
    proc, family = _start_waiting_run(tmp_path, rep)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "stopped by" in err and "Traceback" not in err and "zmq" not in err.lower()
    wait_for(lambda: not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in family),
             timeout=30, what="workers and kernel to exit")
    assert (rep / "2026-11-23" / "good.html").read_bytes() == before
    assert [p for p in (rep / ".runs").iterdir()] == [(rep / "2026-11-23").resolve()]


def test_kill_9_of_the_main_process_takes_workers_and_kernels_with_it(tmp_path):
    rep = tmp_path / "rep"
    proc, family = _start_waiting_run(tmp_path, rep)
    proc.kill()
    proc.wait(timeout=30)
    wait_for(lambda: not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in family),
             timeout=30, what="orphaned workers and kernel to exit")
    # the next run cleans the half-built version the killed run left
    assert run_fixture(rep, "good").returncode == 0
    assert len(list((rep / ".runs").iterdir())) == 1


# ------------------------------------------------------------------------------------------ filesystem

def test_a_file_where_the_reports_folder_should_be_is_exit_4(tmp_path):
    blocker = tmp_path / "reports"
    blocker.write_text("not a folder")
    r = run_fixture(blocker, "good")
    assert r.returncode == 4, r.stderr
    assert str(blocker) in r.stderr and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_unwritable_runs_folder_is_exit_4(tmp_path):
    rep = tmp_path / "rep"
    rep.mkdir()
    (rep / ".runs").write_text("a file where a folder should be")
    r = run_fixture(rep, "good")
    assert r.returncode == 4, r.stderr
    assert ".runs" in r.stderr and "Traceback" not in r.stderr


# ------------------------------------------------------------------------------------------ secrets, logs

def test_passwords_are_moved_out_of_urls_and_redacted(monkeypatch):
    resolved = {"a": {"responses": "postgres://analyst:S3cret@db.example/cx::responses", "min_n": 3}}
    from cxlib.reports.checks import _protect_secrets

    secrets = _protect_secrets(resolved)
    assert "S3cret" not in json.dumps(resolved) and list(secrets.values()) == ["S3cret"]
    name = next(iter(secrets))
    assert resolved["a"]["responses"] == f"postgres://analyst:${{{name}}}@db.example/cx::responses"
    monkeypatch.setenv(name, "S3cret")
    assert cxdata._expand_secrets(resolved["a"]["responses"]) == "postgres://analyst:S3cret@db.example/cx::responses"
    assert cxdata.redact_credentials("x postgres://u:p@h/d::t y") == "x postgres://u:***@h/d::t y"


def test_parallel_jobs_write_whole_log_lines(tmp_path):
    r = cx("run", "good", "flaky", "bad", "--notebooks-dir", str(FIXTURES), "--reports-dir", str(tmp_path / "rep"),
           "--date", "2026-11-23", "--jobs", "3")
    assert r.returncode == 1
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("cx [")]
    assert len(lines) == 6, r.stderr
    assert all(LOG_LINE.match(ln) for ln in lines), r.stderr
    assert all(ln.count("cx [") <= 1 for ln in r.stderr.splitlines())


def test_each_page_names_its_own_notebook_and_title(tmp_path):
    rep = tmp_path / "rep"
    r = run_fixture(rep, "good", "flaky", "bad")
    assert r.returncode == 1
    day = rep / "2026-11-23"
    for slug in ("good", "flaky"):
        page = (day / f"{slug}.html").read_text()
        assert f"from {slug}.ipynb" in page, slug
        others = {"good", "flaky", "bad"} - {slug}
        assert not any(f"from {o}.ipynb" in page for o in others), slug
    failed = next((day / "failed").glob("bad-*.html")).read_text()
    assert "Failing fixture" in failed      # the failed notebook's own title, not the last one submitted


def test_manifest_fingerprints_a_parameter_that_names_a_file(tmp_path):
    """A journey (or taxonomy) YAML given as a parameter is recorded beside the data inputs, by sha256."""
    import hashlib

    from cxlib.reports.manifest import _fingerprints

    body = b"stages:\n  - sign_up\n  - first_value\n"
    (tmp_path / "journey.yaml").write_bytes(body)
    got = _fingerprints({"journey": "journey.yaml", "period": "month", "min_n": 30, "label": "not/a/file"},
                        [tmp_path])
    assert set(got) == {"journey"}
    assert got["journey"] == {"path": "journey.yaml", "sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
