"""compare() runs its value checks and the allocation count inside its two queries; a bad value still
raises cxlib's own message (with example rows) exactly as the separate checks do."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlib import data as cxdata
from cxlib import experiments as ex


def _frame(**cols):
    n = 40
    base = {"unit_id": [f"U{i}" for i in range(n)], "variant": ["control", "b"] * (n // 2),
            "converted": [0, 1, 0, 0] * (n // 4), "nps": [9, 3, 7, 10] * (n // 4), "revenue": np.arange(n) * 1.5}
    base.update(cols)
    return pd.DataFrame(base)


@pytest.mark.parametrize("column,values,check", [
    ("nps", [9, 3, 11, 10] * 10, lambda t: cxdata.clean_numeric(t, "nps", lo=0, hi=10, integer=True)),
    ("nps", [9, 3, 7.5, 10] * 10, lambda t: cxdata.clean_numeric(t, "nps", lo=0, hi=10, integer=True)),
    ("nps", ["9", "x", "7", ""] * 10, lambda t: cxdata.clean_numeric(t, "nps", lo=0, hi=10, integer=True)),
    ("converted", [0, 1, 2, 0] * 10, lambda t: cxdata.clean_binary(t, "converted")),
    ("converted", ["yes", "no", "maybe", "y"] * 10, lambda t: cxdata.clean_binary(t, "converted")),
    ("revenue", ["1.5", "2", "n/a", "abc"] * 10, lambda t: cxdata.clean_numeric(t, "revenue")),
])
def test_a_bad_value_raises_the_checks_own_message(tmp_path, column, values, check):
    p = tmp_path / "experiment.csv"
    _frame(**{column: values}).to_csv(p, index=False)
    with pytest.raises(cxdata.CXDataError) as want:
        check(cxdata.as_table(str(p)))
    with pytest.raises(cxdata.CXDataError) as got:
        ex.compare(str(p), control="control", metrics={"converted": "proportion", "nps": "nps", "revenue": "mean"})
    assert str(got.value) == str(want.value) and "row" in str(got.value)


def test_clean_values_of_every_type_give_the_same_numbers(tmp_path):
    df = _frame(converted=["yes", "no", "no", "y"] * 10, nps=["9", "3", "", "10"] * 10)
    p = tmp_path / "experiment.csv"
    df.to_csv(p, index=False)
    got = ex.compare(str(p), control="control", metrics={"converted": "proportion", "nps": "nps", "revenue": "mean"},
                     correction="none")
    ref = ex.compare(df.assign(converted=(df["converted"].str.startswith("y")).astype(int),
                               nps=pd.to_numeric(df["nps"], errors="coerce")),
                     control="control", metrics={"converted": "proportion", "nps": "nps", "revenue": "mean"},
                     correction="none")
    pd.testing.assert_frame_equal(got, ref)


def test_allocation_check_uses_the_aggregate_counts(sample_dir):
    p = str(sample_dir / "experiment.csv")
    res = ex.compare(p, control="control", metrics={"converted": "proportion", "nps": "nps"}, by="device")
    direct = ex.srm(p)
    assert res.attrs["srm"].p_value == direct.p_value
    pd.testing.assert_frame_equal(res.attrs["srm"].table, direct.table)
    raw = pd.read_csv(p)
    assert dict(zip(direct.table["variant"], direct.table["n"])) == raw["variant"].value_counts().to_dict()


def test_a_clean_comparison_runs_one_query_when_warm(sample_dir, monkeypatch):
    """Checks, sizes, the aggregate and the allocation count: one engine query on a clean table whose
    unit-uniqueness answer is already known (the file is unchanged since the first call)."""
    p = str(sample_dir / "experiment.csv")
    ms = {"converted": "proportion", "revenue": "mean", "csat": "mean", "nps": "nps"}
    ex.compare(p, control="control", metrics=ms)  # the first call reads the file into the session
    calls = []
    real = cxdata._execute  # every query of to_pandas runs here (cxlib.engine)
    monkeypatch.setattr("cxlib.engine._execute", lambda expr, **kw: calls.append(1) or real(expr, **kw))
    ex.compare(p, control="control", metrics=ms, by="device")
    assert len(calls) == 1
