"""Heavy tails in experiment means (issue 21 item 4): the 99.9th-percentile capping rule, checked against
brute-force winsorised means in numpy; the covariate capped by the same rule; 'none' switches it off."""
import numpy as np
import pandas as pd
import pytest

from cxlib import experiments as ex
from cxlib.experiments import heavy_tails as ht
from cxlib import present
from cxlib.data import CXDataError
from cxlib.experiments import Metric
from cxlib.notes import codes

N = 2000  # the 99.9th percentile of 2,000 pooled units lies below the top two values


@pytest.fixture
def exp_csv(tmp_path):
    """2,000 units alternating control / new_checkout; rounds around a median of ~30 with one player at
    ~1,000x the median (49,854 rounds); a light-tailed score; a pre-period covariate with one extreme."""
    i = np.arange(N)
    df = pd.DataFrame({"unit_id": [f"u{k}" for k in i],
                       "variant": np.where(i % 2 == 1, "new_checkout", "control"),
                       "rounds": 1.0 + (i * 37) % 60,
                       "light": 10.0 + (i * 7) % 5,
                       "pre_rounds": 1.0 + (i * 13) % 50 + ((i * 37) % 60) / 3})
    df.loc[3, "rounds"] = 49_854.0          # unit u3 is in new_checkout
    df.loc[11, "pre_rounds"] = 40_000.0     # an extreme covariate value (new_checkout)
    path = tmp_path / "experiment.csv"
    df.to_csv(path, index=False)
    return path, df


def _brute(df, col, q):
    """Per arm: n, mean, se of the mean, winsorised mean at the pooled q-quantile (numpy 'linear'),
    shift in standard errors, units above the cap."""
    cap = np.quantile(df[col].to_numpy(float), q)
    out = {}
    for arm, g in df.groupby("variant"):
        y = g[col].to_numpy(float)
        se = y.std(ddof=1) / np.sqrt(len(y))
        capped = np.minimum(y, cap).mean()
        out[arm] = dict(n=len(y), mean=y.mean(), se=se, capped_mean=capped, shift=(y.mean() - capped) / se,
                        n_capped=int((y > cap).sum()))
    return cap, out


def test_one_unit_at_1000x_the_median_fires_the_rule_with_brute_force_numbers(exp_csv):
    path, df = exp_csv
    tails = ht.check(path, control="control", metrics={"rounds": "mean", "light": "mean"})
    cap, want = _brute(df, "rounds", 0.999)
    rows = tails[tails["metric"] == "rounds"].set_index("variant")
    assert list(rows.index) == ["control", "new_checkout"]  # control first
    for arm, w in want.items():
        r = rows.loc[arm]
        assert r["n"] == w["n"] and r["n_capped"] == w["n_capped"]
        assert r["cap_value"] == pytest.approx(cap, rel=1e-12)
        assert r["mean"] == pytest.approx(w["mean"], rel=1e-12)
        assert r["se"] == pytest.approx(w["se"], rel=1e-9)
        assert r["capped_mean"] == pytest.approx(w["capped_mean"], rel=1e-12)
        assert r["shift_in_se"] == pytest.approx(w["shift"], rel=1e-9)
    assert want["new_checkout"]["shift"] > 0.5 and rows["heavy"].all() and rows["cap_applied"].all()
    (n,) = [n for n in tails.attrs["notes"] if n.code == "heavy_tail"]
    assert n["metric"] == "rounds" and n["arm"] == "new_checkout" and n["arms"] == ["new_checkout"]
    assert n["max_shift"] == pytest.approx(want["new_checkout"]["shift"], rel=1e-9)
    assert n["cap_value"] == pytest.approx(cap) and n["quantile"] == 0.999
    assert ht.cap_for(tails) == 0.999
    assert [m.name for m in ht.capped_metrics(tails, {"rounds": "mean", "light": "mean"})] == ["rounds"]


def test_light_tailed_metric_does_not_fire_and_stays_raw(exp_csv):
    path, df = exp_csv
    tails = ht.check(path, control="control", metrics={"light": "mean"})
    _, want = _brute(df, "light", 0.999)
    assert tails["shift_in_se"].to_numpy() == pytest.approx([want["control"]["shift"], want["new_checkout"]["shift"]])
    assert not tails["heavy"].any() and not tails["cap_applied"].any()
    assert codes(tails.attrs["notes"]) == []
    assert ht.cap_for(tails) is None
    assert ht.compare_capped(path, tails, metrics={"light": "mean"}, control="control") is None
    words = present.heavy_tail_answer(tails).plain
    assert "99.9th percentile" in words and "half a standard error" in words and "raw comparison stands" in words


def test_a_single_capped_unit_that_moves_the_mean_too_little_is_not_heavy(tmp_path):
    # the rule needs both: a unit capped AND a shift above half a standard error
    i = np.arange(N)
    df = pd.DataFrame({"unit_id": i, "variant": np.where(i % 2, "b", "control"), "y": 100.0 + i % 50})
    df.loc[1, "y"] = 160.0  # above the 99.9th percentile, but barely: a tiny shift
    df.to_csv(tmp_path / "e.csv", index=False)
    tails = ht.check(tmp_path / "e.csv", control="control", metrics={"y": "mean"})
    cap, want = _brute(df, "y", 0.999)
    assert tails["n_capped"].sum() == sum(w["n_capped"] for w in want.values()) >= 1
    assert tails["shift_in_se"].abs().max() == pytest.approx(max(abs(w["shift"]) for w in want.values()))
    assert tails["shift_in_se"].abs().max() < 0.5 and not tails["heavy"].any()


def test_covariate_of_a_capped_metric_is_capped_by_the_same_rule(exp_csv):
    path, df = exp_csv
    ms = [Metric("rounds", covariate="pre_rounds")]
    res = ex.compare(path, control="control", metrics=ms, cap=0.999, correction="none")
    y_cap, x_cap = np.quantile(df["rounds"], 0.999), np.quantile(df["pre_rounds"], 0.999)

    def cuped_diff(y, x):  # classic CUPED: pooled slope cov(y, x) / var(x), then the difference of means
        theta = np.cov(y, x, ddof=1)[0, 1] / np.var(x, ddof=1)
        t = (df["variant"] == "new_checkout").to_numpy()
        return (y[t].mean() - y[~t].mean()) - theta * (x[t].mean() - x[~t].mean())

    y = np.minimum(df["rounds"].to_numpy(float), y_cap)
    x_raw = df["pre_rounds"].to_numpy(float)
    want = cuped_diff(y, np.minimum(x_raw, x_cap))
    got = res.iloc[0]["abs_diff"]
    assert got == pytest.approx(want, rel=1e-9)
    assert got != pytest.approx(cuped_diff(y, x_raw), rel=1e-6)  # the uncapped covariate gives another number
    assert res.attrs["covariate_caps"] == {"rounds": {"pre_rounds": pytest.approx(x_cap, rel=1e-12)}}
    # the check names the covariate's threshold too, and the capped comparison it drives is the same
    tails = ht.check(path, control="control", metrics=ms)
    (cn,) = [n for n in tails.attrs["notes"] if n.code == "capped_covariate"]
    assert cn["covariate"] == "pre_rounds" and cn["cap_value"] == pytest.approx(x_cap, rel=1e-12)
    capped = ht.compare_capped(path, tails, metrics=ms, control="control", correction="none")
    assert capped.iloc[0]["abs_diff"] == pytest.approx(want, rel=1e-9)
    # the check uses the units compare uses: a blank covariate leaves the unit out of the metric
    df2 = df.copy()
    df2.loc[5, "pre_rounds"] = np.nan
    df2.to_csv(path, index=False)
    t2 = ht.check(path, control="control", metrics=ms)
    assert t2.set_index("variant").loc["new_checkout", "n"] == N // 2 - 1


def test_cap_none_switches_it_off_and_a_number_always_caps(exp_csv):
    path, df = exp_csv
    off = ht.check(path, control="control", metrics={"rounds": "mean"}, cap="none")
    assert off.empty and ht.cap_for(off) is None and off.attrs["mode"] == "none"
    assert ht.compare_capped(path, off, metrics={"rounds": "mean"}, control="control") is None
    assert "Capping is off" in present.heavy_tail_answer(off).plain
    assert ht.check(path, control="control", metrics={"rounds": "mean"}, cap=None).empty
    # a quantile always caps there: every mean metric with a unit above it, whatever the shift
    fixed = ht.check(path, control="control", metrics={"rounds": "mean", "light": "mean"}, cap="0.99")
    assert ht.cap_for(fixed) == 0.99
    for col in ("rounds", "light"):
        cap, want = _brute(df, col, 0.99)
        rows = fixed[fixed["metric"] == col].set_index("variant")
        assert rows["cap_value"].iloc[0] == pytest.approx(cap, rel=1e-12)
        assert rows["capped_mean"].to_dict() == pytest.approx({a: w["capped_mean"] for a, w in want.items()}, rel=1e-12)
        assert rows["cap_applied"].all() == (sum(w["n_capped"] for w in want.values()) >= 1)
    assert fixed.groupby("metric")["cap_applied"].all().to_dict() == {"rounds": True, "light": False}
    capped = ht.compare_capped(path, fixed, metrics={"rounds": "mean", "light": "mean"}, control="control")
    assert list(capped["metric"]) == ["rounds"]
    assert capped["cap_value"].iloc[0] == pytest.approx(_brute(df, "rounds", 0.99)[0], rel=1e-12)
    words = present.heavy_tail_answer(fixed).plain
    assert "capped at their 99th percentile (the cap parameter)" in words
    assert "Light: no unit is above its 99th percentile" in words
    for bad in ("sometimes", 99, "1.5", True):
        with pytest.raises(CXDataError, match="cap must be 'auto'"):
            ht.check(path, control="control", metrics={"rounds": "mean"}, cap=bad)


def test_page_names_the_rule_and_shows_raw_and_capped_side_by_side(exp_csv):
    path, df = exp_csv
    ms = [Metric("rounds", covariate="pre_rounds"), Metric("light")]
    raw = ex.compare(path, control="control", metrics=ms)
    tails = ht.check(path, control="control", metrics=ms)
    capped = ht.compare_capped(path, tails, metrics=ms, control="control")
    words = present.heavy_tail_answer(tails, labels={"rounds": "Rounds played"}).plain
    assert "Rounds played has a heavy tail: capping it at its 99.9th percentile (" in words
    assert "moves the New checkout mean by" in words and "capped comparison is shown beside the raw one" in words
    assert "Pre rounds, the covariate of Rounds played, is capped by the same rule" in words
    assert "Light: capping at the 99.9th percentile moves no arm's mean" in words
    html = present.heavy_tail_table(tails, raw, capped).as_raw_html()
    r, c = raw.set_index("metric").loc["rounds"], capped.iloc[0]
    assert present.interval(r["rel_lift"], r["rel_ci_lower"], r["rel_ci_upper"], kind="lift") in html
    assert present.interval(c["rel_lift"], c["rel_ci_lower"], c["rel_ci_upper"], kind="lift") in html
    assert "Capped at the 99.9th percentile" in html and "Light" not in html
    assert str(present.heavy_tail_table(tails, raw, None)) == ""
    notes = present.data_notes(tails).plain
    assert "rounds has a heavy tail" in notes and "nan" not in notes.lower()
