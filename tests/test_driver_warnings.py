"""drivers: promoter / detractor logistic models, VIF and halo warnings, top-two importance difference."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from cxlib import drivers, present
from cxlib.notes import Note, codes

DRV = [f"drv_{c}" for c in "abcdefg"]


@pytest.fixture(scope="module")
def sample(sample_dir):
    return pd.read_csv(sample_dir / "responses.csv")


def _collinear_halo(n=1500, halo_share=0.4, seed=4):
    """Two near-copies among seven 1-10 ratings (VIF in the hundreds) and 40% halo respondents."""
    rng = np.random.default_rng(seed)
    common = rng.normal(size=n)
    x = np.clip(np.round(5.5 + 1.9 * (0.6 * common[:, None] + 0.8 * rng.normal(size=(n, len(DRV))))), 1, 10)
    x[:, 1] = np.clip(x[:, 0] + rng.normal(0, 0.1, n), 1, 10)   # drv_b: drv_a with a little noise
    halo = rng.random(n) < halo_share
    level = np.clip(np.round(5.5 + 1.9 * common), 1, 10)
    x[halo] = level[halo, None]
    near = halo & (rng.random(n) < 0.5)          # half of them differ by one point on one driver
    x[near, 6] = np.where(level[near] < 10, level[near] + 1, 9)
    df = pd.DataFrame(x, columns=DRV)
    df["nps"] = np.clip(np.round(7 + 2 * common + rng.normal(0, 1.5, n)), 0, 10)
    df["segment"] = np.where(rng.random(n) < 0.5, "x", "y")
    return df, halo


def _words(notes) -> list[str]:
    """The warnings as the page says them (present's words for each note code)."""
    return [str(present.note_text(w)) for w in notes]


def _halo_by_hand(df, cols, scale=(1, 10)):
    """Independent count: population SD of a respondent's ratings at most 5% of the scale range."""
    x = df.dropna(subset=["nps", *cols])[cols].to_numpy(float)
    return int((x.std(axis=1) <= drivers.HALO_SD_SHARE * (scale[1] - scale[0]) + 1e-9).sum()), len(x)


# ------------------------------------------------------------------------------------------ logistic models

def test_odds_ratios_equal_statsmodels_logit_on_raw_rows(sample):
    got = drivers.promoter_detractor_models(sample).set_index(["model", "driver"])
    cols = [c for c in sample.columns if c.startswith("drv_")]
    rows = sample.dropna(subset=["nps", *cols])
    x = sm.add_constant(rows[cols].astype(float))
    for model, y in (("promoter", rows["nps"] >= 9), ("detractor", rows["nps"] <= 6)):
        fit = sm.Logit(y.astype(float), x).fit(disp=0)
        ci = np.exp(fit.conf_int(alpha=0.05).loc[cols])
        g = got.loc[model].loc[cols]
        np.testing.assert_allclose(g["odds_ratio"], np.exp(fit.params[cols]), rtol=1e-6)
        np.testing.assert_allclose(g["ci_lower"], ci[0], rtol=1e-6)
        np.testing.assert_allclose(g["ci_upper"], ci[1], rtol=1e-6)
        np.testing.assert_allclose(g["p_value"], fit.pvalues[cols], rtol=1e-5, atol=1e-300)
        assert (g["n"] == len(rows)).all() and (g["events"] == int(y.sum())).all()
    # the planted sample: better ratings make promoters likelier and detractors rarer
    assert (got.loc["promoter", "odds_ratio"] > 1).all() and (got.loc["detractor", "odds_ratio"] < 1).all()
    assert got.loc[("promoter", "drv_responsiveness"), "beyond_noise"]


# ------------------------------------------------------------------------------------------ warnings

def test_sample_has_no_halo_warning_and_no_vif_warning(sample):
    kd = drivers.key_drivers(sample, bootstrap=0)
    assert kd["vif"].max() < drivers.VIF_WARN          # the sample's drivers correlate ~0.36: VIF ~1.4
    assert kd.attrs["warnings"] == []
    halo = drivers.halo_counts(sample).iloc[0]
    assert 0.03 <= halo["halo_share"] < 0.10 and halo["straightliners"] == kd.attrs["n_straightliners"]
    assert drivers.key_drivers(sample, bootstrap=0, by="plan").attrs["warnings"] == []


def test_collinear_halo_data_warns_about_both():
    df, halo = _collinear_halo()
    kd = drivers.key_drivers(df, bootstrap=0)
    vif = kd.set_index("driver")["vif"]
    assert vif[["drv_a", "drv_b"]].min() > 100 and vif.drop(["drv_a", "drv_b"]).max() < drivers.VIF_WARN
    # the VIF is the diagonal of the inverse correlation matrix of the non-straight-lined complete rows
    x = df[DRV].to_numpy()
    rows = x[x.max(axis=1) > x.min(axis=1)]
    assert vif[DRV].to_numpy() == pytest.approx(np.diag(np.linalg.inv(np.corrcoef(rows, rowvar=False))), rel=1e-9)
    notes = kd.attrs["warnings"]
    assert len(notes) == 2 and all(isinstance(w, Note) for w in notes)  # codes with values, never sentences
    assert sorted(codes(notes)) == ["drivers_overlap", "halo_answers_common"]
    overlap = next(w for w in notes if w.code == "drivers_overlap")
    assert sorted(overlap["drivers"]) == ["drv_a", "drv_b"] and overlap["threshold"] == drivers.VIF_WARN
    warnings = _words(notes)
    vif_w = next(w for w in warnings if "overlap strongly" in w)
    # the drivers named by the one label rule (present.format.label): drv_a -> "A"
    assert f"A (VIF {vif['drv_a']:.0f})" in vif_w and f"B (VIF {vif['drv_b']:.0f})" in vif_w
    assert "importances are shared" in vif_w and "drv_c" not in vif_w and " c (" not in vif_w and " C (" not in vif_w
    n_halo, complete = _halo_by_hand(df, DRV)
    assert halo.sum() <= n_halo <= halo.sum() + 0.02 * complete   # the planted ones and a few natural
    halo_w = next(w for w in warnings if "Halo" in w)
    assert f"{n_halo} of {complete}" in halo_w and f"({n_halo / complete:.0%})" in halo_w
    assert 0.38 <= n_halo / complete <= 0.45         # about the 40% (VIF 437, no warning then)
    # per segment: each segment warns on its own
    by = _words(drivers.key_drivers(df, bootstrap=0, by="segment").attrs["warnings"])
    assert sum("segment x" in w for w in by) == 2 and sum("segment y" in w for w in by) == 2


def test_moderate_overlap_and_few_halo_do_not_warn():
    rng = np.random.default_rng(2)
    n = 2000
    z = 0.6 * rng.normal(size=(n, 1)) + 0.8 * rng.normal(size=(n, 4))
    x = np.clip(np.round(6 + 1.9 * z), 1, 10)
    df = pd.DataFrame(x, columns=DRV[:4]).assign(nps=np.clip(np.round(7 + z @ [1, 0.8, 0.5, 0.3] + rng.normal(size=n)), 0, 10))
    natural, _ = _halo_by_hand(df, DRV[:4])
    assert natural / n < 0.1
    assert drivers.key_drivers(df, bootstrap=0).attrs["warnings"] == []
    df.iloc[: int(0.25 * n), :4] = 5.0                  # about 25% halo: under the 30% line
    assert _halo_by_hand(df, DRV[:4])[0] / n < drivers.HALO_WARN_SHARE
    assert drivers.key_drivers(df, bootstrap=0).attrs["warnings"] == []
    df.iloc[: int(0.35 * n), :4] = 5.0                  # about 35%: warns, and only about halo
    w = _words(drivers.key_drivers(df, bootstrap=0).attrs["warnings"])
    assert len(w) == 1 and w[0].startswith("Halo answers are common")
    assert f"{_halo_by_hand(df, DRV[:4])[0]} of {n}" in w[0]


# ------------------------------------------------------------------------------------------ top two

def _planted(weights, n=1500, seed=6):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, len(weights)))
    df = pd.DataFrame(x, columns=DRV[: len(weights)])
    df["nps"] = x @ np.asarray(weights) + rng.normal(size=n)
    return df


def test_top_two_clearly_different():
    df = _planted([0.6, 0.3, 0.1])
    r = drivers.top_two_difference(df, bootstrap=300).iloc[0]
    kd = drivers.key_drivers(df, bootstrap=0)
    assert (r["first"], r["second"]) == tuple(kd["driver"][:2]) == ("drv_a", "drv_b")
    assert r["importance_first"] == pytest.approx(kd["importance"].iloc[0])
    assert r["difference"] == pytest.approx(kd["importance"].iloc[0] - kd["importance"].iloc[1])
    assert 0 < r["ci_lower"] < r["difference"] < r["ci_upper"]
    assert r["excludes_zero"] and r["share_reversed"] == 0


def test_top_two_equal():
    df = _planted([0.4, 0.4, 0.15])
    r = drivers.top_two_difference(df, bootstrap=300).iloc[0]
    assert {r["first"], r["second"]} == {"drv_a", "drv_b"}
    assert r["difference"] >= 0
    assert r["ci_lower"] < 0 < r["ci_upper"] and not r["excludes_zero"]
    assert 0.05 < r["share_reversed"] < 0.95
    same = drivers.top_two_difference(df, bootstrap=300)
    pd.testing.assert_frame_equal(same, drivers.top_two_difference(df, bootstrap=300))  # seeded
