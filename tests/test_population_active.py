"""Population margins for weighting count the customers subscribed when it matters, not everyone ever."""
import pandas as pd
import pytest

from cxlib import metrics
from cxlib.paths import SAMPLE_DIR


def _brute(subs, lo, hi):
    on = subs[(subs["start_time"] <= hi) & (subs["end_time"].isna() | (subs["end_time"] > lo))]
    k = on.groupby("plan")["customer_id"].nunique()
    return (k / k.sum()).to_dict()


def test_active_filters_the_population_like_pandas():
    path = SAMPLE_DIR / "subscriptions.csv"
    subs = pd.read_csv(path, parse_dates=["start_time", "end_time"])
    for lo, hi in [("2026-11-22", "2026-11-22"), ("2026-01-05", "2026-11-22 23:59:59"), ("2025-06-01", "2025-06-30")]:
        want = _brute(subs, pd.Timestamp(lo), pd.Timestamp(hi))
        got = metrics.population_shares(path, columns=["plan"], active=(lo, hi))["plan"]
        assert got == pytest.approx(want, rel=1e-12)
    everyone = metrics.population_shares(path, columns=["plan"])["plan"]
    now = metrics.population_shares(path, columns=["plan"], active="2026-11-22")["plan"]
    assert abs(everyone["pro"] - now["pro"]) > 0.05          # churned basic customers would tilt the mix


def test_weighted_nps_weights_to_customers_subscribed_while_the_survey_ran():
    r = pd.read_csv(SAMPLE_DIR / "responses.csv", parse_dates=["response_time"])
    subs = pd.read_csv(SAMPLE_DIR / "subscriptions.csv", parse_dates=["start_time", "end_time"])
    w = metrics.weighted_nps(r, population=subs, columns=["plan"])
    lo, hi = r["response_time"].min(), r["response_time"].max()
    assert w.attrs["active"] == (lo, hi)
    assert w.attrs["targets"]["plan"] == pytest.approx(_brute(subs, lo, hi), rel=1e-12)
    # the weighted NPS equals a direct weighted computation with the raked (here: post-stratified) weights
    share = r["plan"].value_counts(normalize=True)
    wt = r["plan"].map(lambda p: w.attrs["targets"]["plan"][p] / share[p])
    nps = 100 * ((r["nps"] >= 9).astype(float) - (r["nps"] <= 6).astype(float))
    ok = r["nps"].notna()
    direct = (wt[ok] * nps[ok]).sum() / wt[ok].sum()
    assert w.loc[w["weighting"] == "customers", "nps"].iloc[0] == pytest.approx(direct, abs=1e-6)
    every = metrics.weighted_nps(r, population=subs, columns=["plan"], active=None)
    assert every.attrs["targets"]["plan"] != w.attrs["targets"]["plan"]
