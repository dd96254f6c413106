"""Check answers over Parquet files are kept only while the files are unchanged (size, mtime)."""
import os

import pandas as pd
import pytest

from cxlib import data as cxdata
from cxlib import experiments


def _write(path, df, mtime=None):
    df.to_parquet(path, index=False)
    if mtime is not None:
        os.utime(path, ns=(mtime, mtime))


@pytest.fixture
def exp(tmp_path):
    n = 400
    df = pd.DataFrame({"unit_id": [f"u{i}" for i in range(n)], "variant": ["control", "treatment"] * (n // 2),
                       "converted": [i % 3 == 0 for i in range(n)]})
    path = tmp_path / "exp.parquet"
    _write(path, df)
    return path, df


def test_a_second_comparison_reuses_the_unit_check(exp, monkeypatch):
    path, _ = exp
    first = experiments.compare(str(path), control="control", metrics={"converted": "proportion"})
    calls = []
    real = cxdata._execute  # every query of to_pandas runs here (cxlib.engine)
    monkeypatch.setattr("cxlib.engine._execute", lambda e, **k: (calls.append(e), real(e, **k))[1])
    again = experiments.compare(str(path), control="control", metrics={"converted": "proportion"})
    pd.testing.assert_frame_equal(first, again)
    assert len(calls) == 1  # only the aggregate: the uniqueness answer was kept


def test_a_rewritten_file_is_checked_again(exp):
    path, df = exp
    t = cxdata.as_table(str(path))  # a table object held across the rewrite
    experiments.compare(str(path), control="control", metrics={"converted": "proportion"})
    dup = pd.concat([df, df.iloc[[5]]], ignore_index=True)
    _write(path, dup, mtime=os.stat(path).st_mtime_ns + 10**9)
    with pytest.raises(cxdata.CXDataError, match="unit_id.*must be unique"):
        experiments.compare(str(path), control="control", metrics={"converted": "proportion"})
    with pytest.raises(cxdata.CXDataError, match="unit_id.*must be unique"):
        experiments.compare(t, control="control", metrics={"converted": "proportion"})


def test_same_size_same_mtime_rewrite_is_the_only_blind_spot_documented(exp):
    """The identity is (path, size, mtime in ns), like the CSV session cache: a file rewritten with the
    same size and the same nanosecond mtime would not be noticed (mtime is set by every normal write)."""
    path, _ = exp
    k1 = cxdata._file_key([str(path)])
    os.utime(path, ns=(os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns + 1))
    assert cxdata._file_key([str(path)]) != k1
