"""Shared fixtures.

Spark and browser tests skip on a machine without Java/pyspark or Chromium, but CI sets
CX_REQUIRE_SPARK=1 / CX_REQUIRE_BROWSER=1 (see .ci/run) and there a missing dependency fails the test
instead of skipping it, so a skip can never pass for a green CI run.
"""
from __future__ import annotations

import os
import shutil

import pytest

from cxlib.paths import PROJECT_ROOT, SAMPLE_DIR


def _unavailable(what: str, env: str, why: str):
    if os.environ.get(env) == "1":
        pytest.fail(f"{what} is required in CI ({env}=1) but unavailable: {why}")
    pytest.skip(f"{what} unavailable: {why}")


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory):
    """One local Spark session for the whole suite (a cold start costs ~30 s)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the machine
        _unavailable("pyspark", "CX_REQUIRE_SPARK", str(exc))
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        _unavailable("Java (for Spark)", "CX_REQUIRE_SPARK", "no java on PATH")
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("cxlib-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        # keep Spark's tables out of the working tree
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark-warehouse")))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    yield spark
    spark.stop()


@pytest.fixture(scope="session")
def spark_backend(spark_session):
    """An Ibis backend on the suite's Spark session."""
    import ibis

    return ibis.pyspark.connect(spark_session)


@pytest.fixture(scope="session")
def chromium_paths():
    """(chromium, chromedriver) executables for browser tests."""
    chrome = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chrome or not driver:
        _unavailable("Chromium", "CX_REQUIRE_BROWSER", "chromium / chromedriver not on PATH")
    return chrome, driver


@pytest.fixture(scope="session")
def sample_dir():
    return SAMPLE_DIR


@pytest.fixture(scope="session")
def project_root():
    return PROJECT_ROOT


# ------------------------------------------------------------------------------------------ PostgreSQL

# The sample tables loaded into the test database and their timestamp columns.
_PG_TABLES = {
    "responses": ["response_time"],
    "events": ["event_time"],
    "subscriptions": ["start_time", "end_time"],
}


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "postgres: reads the sample tables from a real PostgreSQL server (CX_PG_URL; runs in CI)")


def _pg_frame(name: str):
    """A sample CSV as the database should hold it: timestamps as timestamps, whole-number columns
    with blanks as nullable integers (as DuckDB reads the CSV), not floats."""
    import pandas as pd

    frame = pd.read_csv(SAMPLE_DIR / f"{name}.csv")
    for col in _PG_TABLES[name]:
        frame[col] = pd.to_datetime(frame[col], format="ISO8601")
    for col in frame.columns:
        values = frame[col].dropna()
        if frame[col].dtype.kind == "f" and len(values) and (values == values.round()).all():
            frame[col] = frame[col].astype("Int64")
    return frame


@pytest.fixture(scope="session")
def pg_url():
    """``CX_PG_URL`` (``postgres://analyst:PASSWORD@127.0.0.1:PORT/cx``, set by .ci/postgres.sh) with
    the sample's responses, events and subscriptions loaded into it.

    Loading is guarded by an advisory lock and skipped when the database already holds these exact
    CSVs, so parallel workers and repeated runs against one cluster do not replace tables under a
    running test. Without CX_PG_URL the tests skip, or fail when CX_REQUIRE_POSTGRES=1 (CI).
    """
    import hashlib

    url = os.environ.get("CX_PG_URL")
    if not url:
        _unavailable("PostgreSQL", "CX_REQUIRE_POSTGRES",
                     "CX_PG_URL is not set (start a throwaway server with .ci/postgres.sh)")
    try:
        import ibis
        import psycopg
    except ImportError as exc:  # pragma: no cover - depends on the machine
        _unavailable("PostgreSQL client", "CX_REQUIRE_POSTGRES", str(exc))
    from cxlib.data import redact_credentials

    digest = hashlib.sha256(b"cx-pg-fixture-1")
    for name in _PG_TABLES:
        digest.update((SAMPLE_DIR / f"{name}.csv").read_bytes())
    fingerprint = digest.hexdigest()
    try:
        lock = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except Exception as exc:
        _unavailable("PostgreSQL", "CX_REQUIRE_POSTGRES", redact_credentials(str(exc)).strip())
    with lock:
        lock.execute("SELECT pg_advisory_lock(hashtext('cx-test-sample-tables'))")
        lock.execute("CREATE TABLE IF NOT EXISTS cx_test_fixture (fingerprint text NOT NULL)")
        loaded = {row[0] for row in lock.execute("SELECT fingerprint FROM cx_test_fixture")}
        if loaded != {fingerprint}:
            con = ibis.connect(url)
            try:
                for name in _PG_TABLES:
                    con.create_table(name, _pg_frame(name), overwrite=True)
            finally:
                con.disconnect()
            lock.execute("DELETE FROM cx_test_fixture")
            lock.execute("INSERT INTO cx_test_fixture VALUES (%s)", (fingerprint,))
        lock.execute("SELECT pg_advisory_unlock(hashtext('cx-test-sample-tables'))")
    return url


@pytest.fixture(scope="session")
def golden_run(tmp_path_factory):
    """``golden_run(name)``: the tables folder of one pinned `cx run` of tests/golden/runs.py, run once per
    session (the golden comparison and the export end-to-end checks read the same run)."""
    from golden.runs import run

    done = {}

    def get(name: str):
        if name not in done:
            done[name] = run(name, tmp_path_factory.mktemp(f"golden-{name}"))
        return done[name]

    return get
