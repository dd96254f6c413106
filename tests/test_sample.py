"""cxlib.sample: byte-for-byte reproducibility, validity, and the planted truth checked by brute force.

The analysis modules have their own planted-truth tests; here the generator's raw rows are checked
with plain pandas loops against the design documented in data/README.md.
"""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from cxlib import data, sample
from cxlib.paths import KINDS


def sha(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    return sample.write_sample(out)


@pytest.mark.parametrize("kind", KINDS)
def test_generator_reproduces_committed_files_byte_for_byte(kind, regenerated, sample_dir):
    committed = sample_dir / f"{kind}.csv"
    assert committed.exists(), "data/sample is committed; regenerate with `make sample`"
    assert sha(regenerated[kind]) == sha(committed)


@pytest.mark.parametrize("toward", [np.inf, -np.inf], ids=["up", "down"])
def test_files_do_not_depend_on_last_bits_of_exp_and_log(toward, monkeypatch, tmp_path, sample_dir):
    """Another CPU's SIMD exp/log may differ from ours in the last bit: simulate that by moving every
    exp / log / log1p result one ulp, and the CSV files must still be the committed ones byte for byte."""
    for fn in ("exp", "log", "log1p"):
        real = getattr(np, fn)
        monkeypatch.setattr(np, fn, lambda x, *a, _f=real, **k: np.nextafter(_f(x, *a, **k), toward))
    written = sample.write_sample(tmp_path, tables=("events", "subscriptions", "tickets"))
    monkeypatch.undo()
    for kind, path in written.items():
        assert sha(path) == sha(sample_dir / f"{kind}.csv"), kind


def test_whole_seconds_round_before_truncating():
    just_below = np.nextafter(86399.0, 0.0)  # exactly 86399 in exact arithmetic, one ulp low here
    assert sample._whole([just_below, 86399.0, 86399.4, 86399.9994])[0] == 86399
    assert list(sample._whole([86399.0, 86399.4, 86399.9994])) == [86399, 86399, 86399]


def test_sample_is_small_enough_for_git(sample_dir):
    total = sum((sample_dir / f"{k}.csv").stat().st_size for k in KINDS)
    assert total < 10 * 1024 * 1024


def test_other_seed_gives_other_data(tmp_path):
    a = sample.write_sample(tmp_path / "a", seed=7, tables=("responses",))["responses"]
    b = sample.write_sample(tmp_path / "b", seed=7, tables=("responses",))["responses"]
    c = sample.write_sample(tmp_path / "c", tables=("responses",))["responses"]
    assert sha(a) == sha(b) != sha(c)


def test_scaled_parquet_blocks_have_unique_ids(tmp_path):
    paths = sample.write_sample(tmp_path, scale=2, format="parquet", tables=("events", "experiment"))
    ev = pd.read_parquet(paths["events"])
    one = sample.generate()["events"]
    assert len(ev) > 1.8 * len(one)
    assert ev["event_time"].dtype.kind == "M"
    ex = pd.read_parquet(paths["experiment"])
    assert ex["unit_id"].is_unique and len(ex) == 120_000
    # both blocks are valid tables of their kind
    assert data.validate(paths["experiment"], kind="experiment").n_rows == 120_000


def test_bad_arguments_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="format"):
        sample.write_sample(tmp_path, format="xlsx")
    with pytest.raises(ValueError, match="scale"):
        sample.write_sample(tmp_path, scale=0)


# ------------------------------------------------------------------------------- planted truth (raw rows)

@pytest.fixture(scope="module")
def frames(sample_dir):
    return {k: pd.read_csv(sample_dir / f"{k}.csv", keep_default_na=False, na_values=[""]) for k in KINDS}


def within_wilson(successes, n, truth):
    lo, hi = proportion_confint(successes, n, alpha=0.01, method="wilson")
    return lo <= truth <= hi


def test_funnel_step_rates(frames):
    ev = frames["events"]
    reached = {s: set(ev.loc[ev.event_name == s, "customer_id"]) for s, _ in sample.FUNNEL[:-1]}
    # purchase as a journey step: a purchase by someone who started checkout, in the signup month
    steps = [s for s, _ in sample.FUNNEL]
    prev = reached["signup"]
    for step, rate in sample.FUNNEL[1:-1]:
        cur = reached[step]
        assert cur <= prev
        assert within_wilson(len(cur), len(prev), rate), (step, len(cur) / len(prev))
        prev = cur
    assert steps[-1] == "purchase"


def test_time_to_first_value_median_about_two_days(frames):
    ev = frames["events"].copy()
    ev["t"] = pd.to_datetime(ev["event_time"])
    su = ev[ev.event_name == "signup"].set_index("customer_id")["t"]
    fv = ev[ev.event_name == "first_value"].set_index("customer_id")["t"]
    days = (fv - su.reindex(fv.index)).dt.total_seconds() / 86400
    assert 1.5 < days.median() < 2.5


def test_month_one_retention_matches_planted_formula(frames):
    ev = frames["events"].copy()
    month = pd.to_datetime(ev["event_time"]).dt.to_period("M")
    ev["m"] = month
    cohort = ev.groupby("customer_id")["m"].min()
    plan = ev.groupby("customer_id")["plan"].first()
    active1 = set()
    for cid, m in zip(ev["customer_id"], ev["m"]):  # brute force
        if (m - cohort[cid]).n == 1:
            active1.add(cid)
    # 2025 cohorts Feb..Oct (month 1 is never a December and is complete)
    for p, truth in (("basic", 0.55), ("pro", 0.67)):
        ids = [c for c in cohort.index if plan[c] == p and pd.Period("2025-02", "M") <= cohort[c] <= pd.Period("2025-10", "M")]
        hits = sum(c in active1 for c in ids)
        assert within_wilson(hits, len(ids), truth), (p, hits / len(ids))


def test_experiment_arms_and_effects(frames):
    ex = frames["experiment"]
    counts = ex["variant"].value_counts()
    assert set(counts.index) == {"control", "new_checkout", "one_click"}
    assert counts.min() > 9_700
    conv = ex.groupby("variant")["converted"].agg(["sum", "count"])
    assert within_wilson(conv.loc["control", "sum"], conv.loc["control", "count"], 0.10)
    assert within_wilson(conv.loc["new_checkout", "sum"], conv.loc["new_checkout", "count"], 0.115)
    ratio = ex.groupby("variant")[["clicks", "sessions"]].sum()
    lift = (ratio.clicks / ratio.sessions).loc["one_click"] / (ratio.clicks / ratio.sessions).loc["control"] - 1
    assert 0.05 < lift < 0.11
    assert ex.loc[ex.converted == 0, "revenue"].eq(0).all()
    # CUPED potential: the squared correlation is the share of variance removed
    assert np.corrcoef(ex["revenue"], ex["pre_revenue"])[0, 1] ** 2 > 0.3


def test_responses_personal_columns_and_markup_present(frames):
    r = frames["responses"]
    assert {"email", "name", "phone"} <= set(r.columns)
    assert r["email"].str.endswith("@example.com").all()
    assert r["comment"].str.contains("<script>", regex=False).any()
    share_na = r["drv_responsiveness"].isna().mean()
    assert 0.2 < share_na < 0.3
    for word in ("confusing", "gave up", "didn't know", "sketchy"):
        assert r["comment"].str.contains(word, regex=False).any(), word


def test_ticket_times_are_ordered(frames):
    tk = frames["tickets"]
    c, f, r = (pd.to_datetime(tk[x]) for x in ("created_at", "first_response_at", "resolved_at"))
    assert (f.dropna() >= c[f.notna()]).all()
    both = f.notna() & r.notna()
    assert (r[both] >= f[both]).all()
    assert 0.06 < tk["reopened"].mean() < 0.10
