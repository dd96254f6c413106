"""compare(by=) reads segments by the one rule of every analysis (issue 22, "same value, different spelling").

Hand-written rows: "EMEA", "EMEA " and "emea" are one segment, counted under the most frequent spelling
(rows of the whole table, units without an arm included), with a ``segment_case_merged`` note in
``attrs['notes']``. Every figure is checked against pandas on the same rows; the rule costs no query of
its own (the rows per spelling come from the comparison's aggregate).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cxlib import data as cxdata
from cxlib import experiments as ex
from cxlib.notes import codes

# 'emea' is the most frequent spelling only once the units without an arm are counted: the rule reads
# the table's rows, as every other analysis does
REGIONS = (["EMEA"] * 6 + ["EMEA "] * 4 + ["emea"] * 8 + ["APAC"] * 7 + [" APAC"] * 5 + ["apac "] * 2
           + ["LATAM"] * 6)


def _rows(tmp_path, file="experiment.csv"):
    n = len(REGIONS)
    rng = np.random.default_rng(22)
    variant = np.array(["control", "treat"] * (n // 2))
    converted = (rng.random(n) < np.where(variant == "treat", 0.6, 0.4)).astype(int)
    revenue = np.round(rng.normal(20, 6, n) + np.where(variant == "treat", 3.0, 0.0), 2)
    df = pd.DataFrame({"unit_id": [f"u{i:03d}" for i in range(n)], "variant": variant, "region": REGIONS,
                       "converted": converted, "revenue": revenue, "email": [f"p{i}@x.com" for i in range(n)]})
    # four units without an arm, all spelled 'emea': they decide which spelling the segment is shown as
    extra = pd.DataFrame({"unit_id": [f"x{i}" for i in range(4)], "variant": [""] * 4, "region": ["emea"] * 4,
                          "converted": [1, 0, 1, 0], "revenue": [1.0, 2.0, 3.0, 4.0],
                          "email": [f"x{i}@x.com" for i in range(4)]})
    df = pd.concat([df, extra], ignore_index=True).sample(frac=1.0, random_state=5).reset_index(drop=True)
    path = tmp_path / file
    df.to_csv(path, index=False)
    return str(path), df


def _canonical(values: pd.Series) -> pd.Series:
    """Brute force: trim, then the most frequent trimmed spelling of each lower-cased value (ties: sort order)."""
    s = values.astype(str).str.strip()
    counts = s.value_counts()
    best = {}
    for v, k in sorted(counts.items(), key=lambda kv: (kv[0].lower(), -kv[1], kv[0])):
        best.setdefault(v.lower(), v)
    return s.map(lambda v: best[v.lower()])


def _brute(df):
    """Per segment and metric: arm sizes, arm means and the Welch p-value of the difference (treat - control)."""
    d = df.assign(region=_canonical(df["region"]))
    d = d[d["variant"].fillna("").astype(str).str.strip() != ""]
    out = []
    for seg, g in d.groupby("region"):
        for metric in ("converted", "revenue"):
            c = g.loc[g["variant"] == "control", metric].astype(float)
            t = g.loc[g["variant"] == "treat", metric].astype(float)
            out.append(dict(region=seg, metric=metric, n_control=len(c), n_variant=len(t), control_value=c.mean(),
                            variant_value=t.mean(), abs_diff=t.mean() - c.mean(),
                            welch_p=stats.ttest_ind(t, c, equal_var=False).pvalue))
    return pd.DataFrame(out).sort_values(["region", "metric"]).reset_index(drop=True)


METRICS = {"converted": "proportion", "revenue": "mean"}


def _merged(res):
    return [n for n in res.attrs["notes"] if getattr(n, "code", None) == "segment_case_merged"]


def test_case_and_space_variants_are_one_segment_with_the_brute_force_numbers(tmp_path):
    path, df = _rows(tmp_path)
    res = ex.compare(path, control="control", metrics=METRICS, by="region", correction="none")
    want = _brute(df)
    got = res.sort_values(["region", "metric"]).reset_index(drop=True)
    assert sorted(set(got["region"])) == ["APAC", "LATAM", "emea"]
    assert got["region"].tolist() == want["region"].tolist()
    assert got["metric"].tolist() == want["metric"].tolist()
    assert got["n_control"].tolist() == want["n_control"].tolist()
    assert got["n_variant"].tolist() == want["n_variant"].tolist()
    for col in ("control_value", "variant_value", "abs_diff"):
        assert np.allclose(got[col], want[col]), col
    mean = got["metric"] == "revenue"
    assert np.allclose(got.loc[mean, "p_value"], want.loc[mean, "welch_p"])
    notes = sorted(((m["column"], m["value"], m["variants"]) for m in _merged(res)), key=lambda x: x[1])
    assert notes == [("region", "APAC", ["APAC", "apac"]), ("region", "emea", ["EMEA", "emea"])]
    # the segment tests read the merged segments too
    assert ex.heterogeneity(res)["n_segments"].tolist() == [3, 3]
    assert set(ex.segment_explorer(res)["region"]) == {"APAC", "LATAM", "emea"}


def test_the_segment_is_named_as_the_header_shows_it_and_a_personal_one_is_refused(tmp_path):
    path, df = _rows(tmp_path)
    res = ex.compare(path, control="control", metrics=METRICS, by="Region", correction="none")
    assert "region" in res.columns and res.attrs["by"] == ["region"]
    assert sorted(set(res["region"])) == ["APAC", "LATAM", "emea"]
    with pytest.raises(cxdata.CXDataError, match="personal data"):
        ex.compare(path, control="control", metrics=METRICS, by="email")


@pytest.mark.parametrize("options", [dict(cap=0.99), dict(metrics={"revenue": "median", "converted": "proportion"}),
                                     dict(metrics={"revenue": "median"}),
                                     dict(metrics=[ex.Metric("converted", "proportion"),
                                                   ex.Metric("revenue", covariate="converted")])])
def test_every_path_of_the_comparison_merges_the_same_way(tmp_path, options):
    """Capped (the checked path), quantiles beside sums, quantiles alone (no aggregate to count from), a
    column cleaned two ways (one query per metric)."""
    path, df = _rows(tmp_path)
    kw = dict(control="control", metrics=METRICS, by="region", correction="none") | options
    res = ex.compare(path, **kw)
    assert sorted(set(res["region"])) == ["APAC", "LATAM", "emea"]
    assert "segment_case_merged" in codes(res.attrs["notes"])
    d = df.assign(region=_canonical(df["region"]))
    d = d[d["variant"].fillna("").astype(str).str.strip() != ""]
    for _, row in res.iterrows():
        g = d[d["region"] == row["region"]]
        col = row["metric"].split(" ")[0]
        c, t = g.loc[g["variant"] == "control", col], g.loc[g["variant"] == "treat", col]
        assert (row["n_control"], row["n_variant"]) == (len(c), len(t))
        if row["kind"] == "quantile":
            assert np.isclose(row["control_value"], c.median()) and np.isclose(row["variant_value"], t.median())
        elif row["kind"] == "proportion":
            assert np.isclose(row["abs_diff"], t.mean() - c.mean())


def test_summary_statistics_adds_up_the_spellings_sums(tmp_path):
    path, df = _rows(tmp_path)
    got = ex.summary_statistics(path, metrics=METRICS, by="region")
    d = df.assign(region=_canonical(df["region"]))
    d = d[d["variant"].fillna("").astype(str).str.strip() != ""]
    want = d.groupby(["region", "variant"])["revenue"].agg(n="count", sum="sum", sum_squares=lambda s: (s * s).sum())
    rev = got[got["metric"] == "revenue"].set_index(["region", "variant"]).sort_index()
    assert rev["n"].tolist() == want["n"].tolist()
    assert np.allclose(rev[["sum", "sum_squares"]].to_numpy(float), want[["sum", "sum_squares"]].to_numpy(float))
    assert len(_merged(got)) == 2 and got.attrs["by"] == ["region"]


def test_the_spelling_rule_costs_no_query(tmp_path, monkeypatch):
    """Cold: as many queries with by= as without (the aggregate counts the spellings); warm: one."""
    plain, _ = _rows(tmp_path, "plain.csv")
    split, _ = _rows(tmp_path, "split.csv")
    calls = []
    real = cxdata._execute  # every query of to_pandas runs here (cxlib.engine)
    monkeypatch.setattr("cxlib.engine._execute", lambda expr, **kw: calls.append(1) or real(expr, **kw))
    ex.compare(plain, control="control", metrics=METRICS)
    without = len(calls)
    calls.clear()
    ex.compare(split, control="control", metrics=METRICS, by="region")
    assert len(calls) == without
    calls.clear()
    res = ex.compare(split, control="control", metrics=METRICS, by="region")
    assert len(calls) == 1 and len(_merged(res)) == 2
