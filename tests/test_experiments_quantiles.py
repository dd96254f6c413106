"""Quantile metrics (median, p90) in cxlib.experiments: engine order statistics against numpy on the raw
rows, the standard error against a bootstrap, and coverage by simulation."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cxlib import experiments as ex
from cxlib.data import CXDataError
from cxlib.experiments import Metric


@pytest.fixture(scope="module")
def tickets():
    rng = np.random.default_rng(61)
    n = 3000
    variant = rng.choice(["control", "bot"], size=n)
    minutes = rng.lognormal(3.0, 1.0, n) * np.where(variant == "bot", 0.8, 1.0)
    minutes[rng.random(n) < 0.05] = np.nan                      # unanswered tickets
    return pd.DataFrame({"unit_id": np.arange(n), "variant": variant, "minutes": minutes,
                         "channel": rng.choice(["chat", "email", "phone"], size=n)})


def row(res, metric, variant="bot"):
    return res[(res["metric"] == metric) & (res["variant"] == variant)].iloc[0]


def test_kinds_names_and_errors():
    assert Metric("minutes", "median") == Metric("minutes", "quantile", quantile=0.5)
    assert Metric("minutes", "p90").name == "minutes p90" and Metric("minutes", "median").name == "minutes median"
    assert ex.metric._normalize({"minutes": "p99.5"})[0].quantile == pytest.approx(0.995)
    with pytest.raises(CXDataError, match="quantile must be between"):
        Metric("minutes", "quantile", quantile=90)
    with pytest.raises(CXDataError, match="no covariates"):
        Metric("minutes", "median", covariate="pre")


def test_quantiles_equal_numpy_on_the_raw_rows(tickets):
    res = ex.compare(tickets, control="control", correction="none",
                     metrics=[Metric("minutes", "median", direction="decrease"),
                              Metric("minutes", "p90", direction="decrease")])
    for metric, q in (("minutes median", 0.5), ("minutes p90", 0.9)):
        r = row(res, metric)
        a = tickets.loc[tickets.variant == "bot", "minutes"].dropna()
        c = tickets.loc[tickets.variant == "control", "minutes"].dropna()
        assert (r["n_variant"], r["n_control"]) == (len(a), len(c))
        assert r["variant_value"] == pytest.approx(np.quantile(a, q), rel=1e-12)
        assert r["control_value"] == pytest.approx(np.quantile(c, q), rel=1e-12)
        assert r["abs_diff"] == pytest.approx(np.quantile(a, q) - np.quantile(c, q), rel=1e-12)
        assert r["kind"] == "quantile" and r["decision"] == "win"  # faster answers, direction decrease
    seg = ex.compare(tickets, control="control", metrics={"minutes": "median"}, by="channel")
    for _, r in seg.iterrows():
        d = tickets[tickets["channel"] == r["channel"]]
        assert r["variant_value"] == pytest.approx(d.loc[d.variant == "bot", "minutes"].median(), rel=1e-12)


@pytest.mark.parametrize("q", [0.5, 0.9])
def test_standard_error_agrees_with_a_bootstrap(tickets, q):
    res = ex.compare(tickets, control="control", metrics=[Metric("minutes", "quantile", quantile=q)], correction="none")
    r = res.iloc[0]
    se = ex.segments._row_se(res, res, [])[0]
    z = stats.norm.ppf(0.975)
    assert (r["abs_ci_upper"] - r["abs_ci_lower"]) / 2 == pytest.approx(z * se, rel=1e-12)
    rng = np.random.default_rng(3)
    a = tickets.loc[tickets.variant == "bot", "minutes"].dropna().to_numpy()
    c = tickets.loc[tickets.variant == "control", "minutes"].dropna().to_numpy()
    boot = (np.quantile(a[rng.integers(0, len(a), (2000, len(a)))], q, axis=1)
            - np.quantile(c[rng.integers(0, len(c), (2000, len(c)))], q, axis=1))
    print(f"q={q}: order-statistic SE {se:.3f}, bootstrap SE {boot.std(ddof=1):.3f}")
    assert se == pytest.approx(boot.std(ddof=1), rel=0.15)


def test_interval_of_the_difference_covers_in_simulation():
    """300 experiments (one segment each) of lognormal response times with a known true difference."""
    rng = np.random.default_rng(17)
    sims, n = 300, 400
    frames = []
    for arm, scale in (("control", 1.0), ("bot", 0.8)):
        frames.append(pd.DataFrame({"sim": np.repeat(np.arange(sims), n), "variant": arm,
                                    "minutes": rng.lognormal(3.0, 1.0, sims * n) * scale}))
    df = pd.concat(frames, ignore_index=True)
    df["unit_id"] = np.arange(len(df))
    res = ex.compare(df, control="control", by="sim", correction="none",
                     metrics=[Metric("minutes", "median"), Metric("minutes", "p90")])
    for metric, q in (("minutes median", 0.5), ("minutes p90", 0.9)):
        g = res[res["metric"] == metric]
        truth = np.exp(3.0 + stats.norm.ppf(q)) * (0.8 - 1.0)
        cover = ((g["abs_ci_lower"] <= truth) & (truth <= g["abs_ci_upper"])).mean()
        print(f"{metric}: coverage of the 95% interval {cover:.3f}")
        assert 0.92 <= cover <= 0.985


def test_quantile_metric_errors(tickets):
    with pytest.raises(CXDataError, match="no values"):
        ex.compare(tickets.assign(minutes=np.nan), control="control", metrics={"minutes": "median"})
    with pytest.raises(CXDataError, match="cumulative"):
        ex.cumulative(tickets.assign(exposure_time=pd.Timestamp("2026-10-01")), control="control",
                      metric=Metric("minutes", "median"))
    bad = tickets.assign(minutes=tickets["minutes"].round(2).astype(str))
    bad.loc[5, "minutes"] = "soon"
    with pytest.raises(CXDataError, match="should hold numbers"):
        ex.compare(bad, control="control", metrics={"minutes": "p90"})


def test_a_quantile_on_tied_ratings_is_refused_with_a_clear_error():
    # 1-5 ratings: the median is 4 in both arms whatever the sample, its interval has no width
    control = np.repeat([3, 4, 5], [60, 80, 60])
    variant = np.repeat([3, 4, 5], [40, 80, 80])
    df = pd.DataFrame({"unit_id": np.arange(400), "variant": ["control"] * 200 + ["b"] * 200,
                       "y": np.concatenate([control, variant])})
    with pytest.raises(CXDataError, match="tied values.*'mean'"):
        ex.compare(df, control="control", metrics={"y": "median"})
    # the same metric as a mean works
    assert ex.compare(df, control="control", metrics={"y": "mean"})["p_value"].notna().all()
