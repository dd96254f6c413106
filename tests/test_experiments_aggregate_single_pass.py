"""compare() on a clean table: one grouped scan (value checks, counts and sufficient statistics together)
plus one count of distinct 64-bit unit-id hashes; a duplicate id, a hash collision, a bad value or a blank
take the checked path, which names the rows exactly as the separate checks do. Numbers are checked against
sums over the raw rows in pandas."""
from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from cxlib import data as cxdata
from cxlib import experiments as ex
from cxlib.experiments import Metric


def _units(n=600, seed=5):
    rng = np.random.default_rng(seed)
    pre = rng.gamma(2.0, 5.0, n)
    sessions = 1.0 + rng.poisson(3, n)
    df = pd.DataFrame({
        "unit_id": [f"U{i:05d}" for i in range(n)],
        "variant": rng.choice(["control", " b", "c "], size=n),
        "converted": (rng.random(n) < 0.3).astype(int),
        "revenue": np.round(pre * 0.5 + rng.normal(0, 3, n), 2),
        "nps": rng.integers(0, 11, n).astype(float),
        "clicks": rng.poisson(sessions).astype(float),
        "sessions": sessions,
        "pre": pre,
        "seg": rng.choice(["p", "q"], size=n),
    })
    # blanks in every kind of column, units without an arm
    df.loc[rng.choice(n, 60, replace=False), "nps"] = np.nan
    df.loc[rng.choice(n, 20, replace=False), "sessions"] = np.nan
    df.loc[rng.choice(n, 15, replace=False), "pre"] = np.nan
    df.loc[rng.choice(n, 10, replace=False), "revenue"] = np.nan
    df.loc[[3, 17], "variant"] = [None, "  "]
    return df


METRICS = [Metric("converted", "proportion", covariate="pre"), Metric("revenue", "mean", covariate="pre"),
           Metric("nps", "nps"), Metric("clicks", "ratio", denominator="sessions", covariate="pre")]


def _brute(df, by=()):
    """The summary's sums over the raw rows, in pandas (independent of the engine code)."""
    d = df.assign(variant=df["variant"].str.strip())
    d = d[d["variant"].notna() & (d["variant"] != "")]
    rows = []
    for m in METRICS:
        y = d[m.column].astype(float)
        if m.kind == "nps":
            score = np.where(y >= 9, 1.0, np.where(y <= 6, -1.0, 0.0))
            y = pd.Series(np.where(y.isna(), np.nan, score), index=d.index)
        cols = {"y": y, **({"d": d[m.denominator]} if m.denominator else {}),
                **({"x": d["pre"]} if m.covariate else {})}
        frame = pd.DataFrame(cols).assign(variant=d["variant"], **{b: d[b] for b in by}).dropna()
        for key, g in frame.groupby([*by, "variant"]):
            key = key if isinstance(key, tuple) else (key,)
            r = dict(zip([*by, "variant"], key), metric=m.name, n=len(g), sum=g["y"].sum(),
                     sum_squares=(g["y"] ** 2).sum())
            if m.denominator:
                r.update(den_sum=g["d"].sum(), den_sum_squares=(g["d"] ** 2).sum(),
                         sum_products=(g["y"] * g["d"]).sum())
            if m.covariate:
                r.update(pre_sum=g["x"].sum(), pre_sum_squares=(g["x"] ** 2).sum(),
                         pre_sum_products=(g["y"] * g["x"]).sum())
                if m.denominator:
                    r["pre_den_products"] = (g["d"] * g["x"]).sum()
            rows.append(r)
    return pd.DataFrame(rows)


def _check_against_brute(got, df, by=()):
    want = _brute(df, by)
    key = [*by, "metric", "variant"]
    got = got.set_index(key).sort_index()
    want = want.set_index(key).sort_index()
    assert list(got.index) == list(want.index)
    for col in want.columns:
        np.testing.assert_allclose(got.loc[want.index, col].astype(float), want[col].astype(float), rtol=1e-10,
                                   err_msg=col)


@pytest.mark.parametrize("by", [(), ("seg",)])
def test_one_pass_numbers_match_raw_row_sums(tmp_path, by):
    df = _units()
    p = tmp_path / "units.parquet"
    df.to_parquet(p, index=False)
    got = ex.summary_statistics(str(p), metrics=METRICS, by=list(by) or None)
    _check_against_brute(got, df, by)
    assert got.attrs["units_without_variant"] == 2
    arms = df["variant"].str.strip()
    assert got.attrs["arm_counts"] == arms[arms.notna() & (arms != "")].value_counts().to_dict()


def test_a_clean_table_is_one_scan_plus_the_distinct_count(tmp_path, monkeypatch):
    df = _units()
    p = tmp_path / "units.parquet"
    df.to_parquet(p, index=False)
    calls = []
    real = cxdata._execute  # every query of to_pandas runs here (cxlib.engine)
    monkeypatch.setattr("cxlib.engine._execute", lambda expr, **kw: calls.append(1) or real(expr, **kw))
    ex.compare(str(p), control="control", metrics=METRICS)
    assert len(calls) == 2
    calls.clear()
    ex.compare(str(p), control="control", metrics=METRICS, check_units=False)
    assert len(calls) == 1


def _dup_frame():
    df = _units()
    df.loc[[40, 451], "unit_id"] = "U00007"  # rows 41 and 452 repeat row 8's id (1-based data rows)
    return df


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_a_planted_duplicate_is_named_with_its_rows(tmp_path, fmt):
    df = _dup_frame()
    p = tmp_path / f"units.{fmt}"
    df.to_parquet(p, index=False) if fmt == "parquet" else df.to_csv(p, index=False)
    with pytest.raises(cxdata.CXDataError) as want:
        cxdata.check_unique(cxdata.as_table(str(p)), "unit_id")
    with pytest.raises(cxdata.CXDataError) as got:
        ex.compare(str(p), control="control", metrics=METRICS)
    assert str(got.value) == str(want.value)
    assert "'U00007' x3" in str(got.value) and "rows 8, 41, 452" in str(got.value)


@ibis.udf.scalar.builtin(name="length")
def _colliding(value) -> ibis.expr.datatypes.uint64:  # every id of the same length gets one "hash"
    ...


def test_a_hash_collision_falls_back_to_the_exact_check(tmp_path, monkeypatch):
    """Distinct ids whose hashes collide: the exact check runs, finds no duplicate, and the numbers are
    those of the unchecked comparison; with a real duplicate too, the rows are still named."""
    df = _units()
    p = tmp_path / "units.parquet"
    df.to_parquet(p, index=False)
    ref = ex.compare(str(p), control="control", metrics=METRICS, check_units=False)
    monkeypatch.setattr(ex.aggregate, "_hash64", _colliding)
    exact = []
    real = cxdata.check_unique
    monkeypatch.setattr(cxdata, "check_unique", lambda *a, **kw: exact.append(a[1]) or real(*a, **kw))
    got = ex.compare(str(p), control="control", metrics=METRICS)
    assert exact == ["unit_id"]  # the collision sent it to the exact check, which passed
    pd.testing.assert_frame_equal(got, ref)
    dup = tmp_path / "dup.parquet"
    _dup_frame().to_parquet(dup, index=False)
    with pytest.raises(cxdata.CXDataError, match=r"'U00007' x3; 'U00007' at rows 8, 41, 452"):
        ex.compare(str(dup), control="control", metrics=METRICS)


def test_a_bad_value_in_a_row_without_an_arm_only_takes_the_checked_path(tmp_path):
    df = _units()
    clean = df.copy()
    df.loc[3, "nps"] = 42.0  # row 4 has no arm: the checks skip it, the comparison leaves it out
    p = tmp_path / "units.parquet"
    df.to_parquet(p, index=False)
    got = ex.summary_statistics(str(p), metrics=METRICS)
    _check_against_brute(got, clean)


def test_a_bad_value_in_an_arm_raises_the_checks_message(tmp_path):
    df = _units()
    df.loc[10, "nps"] = 7.5
    p = tmp_path / "units.parquet"
    df.to_parquet(p, index=False)
    with pytest.raises(cxdata.CXDataError) as want:
        t = cxdata.as_table(str(p))
        cxdata.clean_numeric(t.filter(t["variant"].strip() != ""), "nps", lo=0, hi=10, integer=True)
    with pytest.raises(cxdata.CXDataError) as got:
        ex.compare(str(p), control="control", metrics=METRICS)
    assert "7.5" in str(got.value) and "row" in str(got.value)
    assert str(got.value).split(" (row")[0] == str(want.value).split(" (row")[0]
