"""Segments in cxlib.experiments: Cochran's Q against statsmodels' meta-analysis, its false-positive rate and
power, and the per-metric correction family.

Simulations are seeded and vectorised (each well under 20 s on two shared cores)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects

from cxlib import experiments as ex
from experiment_units import row, se_of, simulated_units  # noqa: F401
from cxlib.data import CXDataError

ALPHA = 0.05


@pytest.fixture(scope="module")
def units():
    return simulated_units()



# ------------------------------------------------------------------------------ segments

def _segment_summary(rng, sims, segs, n, effects):
    frames = []
    for arm in ("control", "b"):
        for j in range(segs):
            shift = effects[j] if arm == "b" else 0.0
            y = rng.normal(10 + j, 3, (sims, n)) + shift
            frames.append(pd.DataFrame({"sim": np.arange(sims), "seg": f"s{j}", "variant": arm, "metric": "m",
                                        "kind": "mean", "n": n, "sum": y.sum(1), "sum_squares": (y * y).sum(1)}))
    return pd.concat(frames, ignore_index=True)


def test_heterogeneity_false_positive_rate_and_power():
    rng = np.random.default_rng(31)
    sims, segs, n = 600, 4, 200
    null = ex.compare_summary(_segment_summary(rng, sims, segs, n, [0.5] * segs), control="control",
                              by=["sim", "seg"], correction="none")
    h0 = ex.heterogeneity(null, segments="seg")
    assert len(h0) == sims and (h0["df"] == segs - 1).all()
    fpr = (h0["p_value"] < ALPHA).mean()
    alt = ex.compare_summary(_segment_summary(rng, sims, segs, n, [0.0, 0.0, 0.0, 1.5]), control="control",
                             by=["sim", "seg"], correction="none")
    power = (ex.heterogeneity(alt, segments="seg")["p_value"] < ALPHA).mean()
    # reading segment cells one by one: the same true effect everywhere, yet segments "disagree"
    sig = (null["p_value"] < ALPHA).groupby(null["sim"])
    mixed = (sig.any() & ~sig.all()).mean()
    print(f"heterogeneity: Q false-positive rate {fpr:.3f}, power {power:.3f}; "
          f"runs where segments look different by significance alone {mixed:.3f}")
    assert mixed > 0.5
    assert abs(fpr - ALPHA) <= 0.02
    assert power >= 0.8


def test_heterogeneity_matches_statsmodels_meta_analysis(units):
    res = ex.compare(units, control="control", metrics={"y": "mean", "score": "nps"}, by="seg")
    h = ex.heterogeneity(res)
    assert set(h["metric"]) == {"y", "score"} and (h["segment"] == "seg").all()
    one = ex.heterogeneity(res, metric="y")
    assert set(one["metric"]) == {"y"}
    for _, r in h.iterrows():
        g = res[(res["metric"] == r["metric"]) & (res["variant"] == r["variant"])]
        se = np.array([se_of(res, r["metric"], r["variant"], s) for s in g["seg"]])
        ce = combine_effects(g["abs_diff"].to_numpy(), se ** 2, method_re="dl")
        assert r["q"] == pytest.approx(ce.q, rel=1e-9)
        assert r["p_value"] == pytest.approx(stats.chi2.sf(ce.q, len(g) - 1), rel=1e-9)
        assert r["i2"] == pytest.approx(max(ce.i2, 0.0), abs=1e-12)
        assert r["tau2"] == pytest.approx(max(ce.tau2, 0.0), abs=1e-12)
        assert r["pooled_effect"] == pytest.approx(ce.mean_effect_fe, rel=1e-9)
    with pytest.raises(CXDataError, match="by-segment"):
        ex.heterogeneity(ex.compare(units, control="control", metrics={"y": "mean"}))


def test_correction_family_per_metric(units):
    ms = {"y": "mean", "score": "nps"}
    every = ex.compare(units, control="control", metrics=ms, by="seg")
    per = ex.compare(units, control="control", metrics=ms, by="seg", correction_family="metric")
    pd.testing.assert_series_equal(every["p_value"], per["p_value"])
    for m in ms:
        g = per[per["metric"] == m]
        np.testing.assert_allclose(g["p_adjusted"], ex.adjust_p(g["p_value"].to_numpy(), "holm"))
    assert (per["p_adjusted"] <= every["p_adjusted"] + 1e-15).all()
    bh = ex.compare(units, control="control", metrics=ms, by="seg", correction="fdr_bh", correction_family="metric")
    g = bh[bh["metric"] == "y"]
    np.testing.assert_allclose(g["p_adjusted"], ex.adjust_p(g["p_value"].to_numpy(), "fdr_bh"))
