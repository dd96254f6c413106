"""revenue.net_revenue_retention against a direct pandas computation on the raw rows (a loop over
periods and customers), and its delta-method interval against a customer-level bootstrap."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlib import revenue
from cxlib.data import CXDataError
from cxlib.paths import SAMPLE_DIR


def brute(raw: pd.DataFrame, *, months: int = 1, rolling: bool = False, by: str | None = None):
    """Per period: snapshots as dicts customer -> MRR (rows of a month added up, > 0 only)."""
    raw = raw.copy()
    ts = pd.to_datetime(raw["month"], format="mixed")
    raw["_m"] = ts.dt.year * 12 + ts.dt.month - 1
    per = raw.groupby(["customer_id", "_m"]).agg(v=("mrr", "sum"), seg=(by or "mrr", "min")).reset_index()
    per = per[per["v"] > 0]
    snaps = sorted(per["_m"].unique()) if rolling else [m for m in sorted(per["_m"].unique()) if m % months == months - 1]
    out = {}
    for end in snaps:
        start = end - months
        if start < per["_m"].min():
            continue
        s = per[per["_m"] == start].set_index("customer_id")
        e = per[per["_m"] == end].set_index("customer_id")["v"]
        for key, grp in (s.groupby("seg") if by else [(None, s)]):
            x = grp["v"]
            y = e.reindex(x.index).fillna(0.0)
            kept = y > 0
            new_ids = e.index.difference(s.index)
            new = per[(per["_m"] == end) & per["customer_id"].isin(new_ids)]
            new = new[new["seg"] == key] if by else new
            out[(pd.Timestamp(year=(start + 1) // 12, month=(start + 1) % 12 + 1, day=1), key)] = {
                "n": len(x), "churned": int((~kept).sum()), "start_mrr": x.sum(), "end_mrr": y.sum(),
                "expansion": (y - x)[kept].clip(lower=0).sum(), "contraction": (x - y)[kept].clip(lower=0).sum(),
                "churned_mrr": x[~kept].sum(), "new_mrr": float(new["v"].sum()),
                "gross_retention": np.minimum(x, y).sum() / x.sum(), "net_retention": y.sum() / x.sum(),
                "_x": x.to_numpy(), "_y": y.to_numpy()}
    return out


def toy():
    rows = [  # customer, month, mrr, plan
        ("a", "2026-01-01", 10, "basic"), ("a", "2026-02-15", 10, "basic"), ("a", "2026-03-01", 20, "basic"),
        ("b", "2026-01-01", 50, "pro"), ("b", "2026-02-01", 30, "pro"), ("b", "2026-02-01", 5, "pro"),  # two rows
        ("c", "2026-01-01", 40, "pro"),  # churns in February
        ("d", "2026-02-01", 25, "basic"), ("d", "2026-03-01", 0, "basic"),  # zero = not paying
        ("c", "2026-03-01", 40, "pro"),  # comes back in March: new MRR, not retained
        ("e", "2026-01-20", 15, "basic"), ("e", "2026-02-01", 15, "basic"), ("e", "2026-03-01", 12, "basic"),
    ]
    return pd.DataFrame(rows, columns=["customer_id", "month", "mrr", "plan"])


COLS = ["n", "churned", "start_mrr", "end_mrr", "expansion", "contraction", "churned_mrr", "new_mrr",
        "gross_retention", "net_retention"]


def check(got, ref, by=None):
    assert len(got) == len(ref)
    for _, r in got.iterrows():
        want = ref[(r["period"], r[by] if by else None)]
        for c in COLS:
            assert r[c] == pytest.approx(want[c], rel=1e-12, abs=1e-12), (r["period"], c)


def test_toy_history_matches_pandas():
    raw = toy()
    got = revenue.net_revenue_retention(raw, as_of="2026-03-31 23:59:59", min_n=1)
    check(got, brute(raw))
    feb = got.set_index("period").loc[pd.Timestamp("2026-02-01")]
    assert feb["n"] == 4 and feb["churned"] == 1 and feb["start_mrr"] == 115
    assert feb["contraction"] == 15 and feb["churned_mrr"] == 40 and feb["new_mrr"] == 25
    assert feb["net_retention"] == pytest.approx(60 / 115)
    mar = got.set_index("period").loc[pd.Timestamp("2026-03-01")]
    assert mar["expansion"] == 10 and mar["new_mrr"] == 40  # c's return is new MRR
    assert bool(mar["complete"]) and not got["suppressed"].any()
    # the month in progress on the analysis date is shown but not complete
    part = revenue.net_revenue_retention(raw, as_of="2026-03-10", min_n=1)
    assert not bool(part["complete"].iloc[-1]) and bool(part["complete"].iloc[0])
    # before March starts, March is left out
    assert len(revenue.net_revenue_retention(raw, as_of="2026-02-27", min_n=1)) == 1


def test_toy_by_segment_matches_pandas():
    raw = toy()
    got = revenue.net_revenue_retention(raw, as_of="2026-03-31", by="plan", min_n=1)
    check(got, brute(raw, by="plan"), by="plan")


@pytest.fixture(scope="module")
def sample_rows():
    return pd.read_csv(SAMPLE_DIR / "mrr_history.csv")


@pytest.mark.parametrize("kw", [dict(), dict(period="quarter"), dict(period="year", rolling=True), dict(by="plan")])
def test_sample_matches_pandas(sample_rows, kw):
    got = revenue.net_revenue_retention(SAMPLE_DIR / "mrr_history.csv", min_n=1, **kw)
    months = revenue.PERIOD_MONTHS[kw.get("period", "month")]
    check(got, brute(sample_rows, months=months, rolling=kw.get("rolling", False), by=kw.get("by")), by=kw.get("by"))
    assert got["start_mrr"].gt(0).all() and (got["gross_retention"] <= 1).all()


def test_interval_matches_customer_bootstrap(sample_rows):
    got = revenue.net_revenue_retention(sample_rows, as_of="2026-11-22 23:59:59", min_n=1)
    ref = brute(sample_rows)
    rng = np.random.default_rng(3)
    for _, r in got.tail(3).iterrows():
        d = ref[(r["period"], None)]
        x, y = d["_x"], d["_y"]
        idx = rng.integers(0, len(x), (2000, len(x)))
        boot_net = y[idx].sum(1) / x[idx].sum(1)
        boot_gross = np.minimum(x, y)[idx].sum(1) / x[idx].sum(1)
        assert r["net_se"] == pytest.approx(boot_net.std(ddof=1), rel=0.1)
        assert r["gross_se"] == pytest.approx(boot_gross.std(ddof=1), rel=0.1)
        assert r["net_ci_lower"] == pytest.approx(r["net_retention"] - 1.959964 * r["net_se"], rel=1e-6)


def test_suppression_and_bad_input():
    raw = toy()
    got = revenue.net_revenue_retention(raw, as_of="2026-03-31", min_n=30)
    assert got["suppressed"].all() and got["net_retention"].isna().all() and (got["n"] > 0).all()
    bad = raw.assign(mrr=raw["mrr"].astype(object))
    bad.loc[2, "mrr"] = -5
    with pytest.raises(CXDataError, match="mrr"):
        revenue.net_revenue_retention(bad, as_of="2026-03-31")
    with pytest.raises(CXDataError, match="period"):
        revenue.net_revenue_retention(raw, period="week")
    with pytest.raises(CXDataError, match="monthly_revenue"):
        revenue.net_revenue_retention(raw, mrr="monthly_revenue")
    with pytest.raises(CXDataError, match="two"):
        revenue.net_revenue_retention(raw[raw["month"] == "2026-01-01"], as_of="2026-03-31")


def test_sample_history_follows_the_subscriptions_and_the_planted_moves(sample_rows):
    from cxlib import sample

    subs = pd.read_csv(SAMPLE_DIR / "subscriptions.csv", parse_dates=["start_time", "end_time"])
    end = subs["end_time"].fillna(pd.Timestamp("2026-11-22"))
    months = (end.dt.year - subs["start_time"].dt.year) * 12 + end.dt.month - subs["start_time"].dt.month + 1
    rows = sample_rows.groupby("customer_id").size().reindex(subs["customer_id"]).to_numpy()
    assert (rows == months.to_numpy()).all()
    h = sample_rows.sort_values(["customer_id", "month"])
    step = h.groupby("customer_id")["mrr"].diff().dropna()
    n = len(step)
    up = (step > 0).mean()
    assert abs(up - sample.MRR_EXPAND) < 3 * np.sqrt(sample.MRR_EXPAND * (1 - sample.MRR_EXPAND) / n)
    price = h["plan"].map({"basic": 29, "pro": 79})
    assert ((h["mrr"] % price) == 0).all() and (h["mrr"] >= price).all()
    several = (h.groupby("customer_id")["mrr"].shift() > price).loc[step.index]
    down = (step[several] < 0).mean()
    assert abs(down - sample.MRR_CONTRACT) < 3 * np.sqrt(sample.MRR_CONTRACT * (1 - sample.MRR_CONTRACT) / several.sum())


def test_any_source_gives_the_same_answer(sample_rows, tmp_path):
    ref = revenue.net_revenue_retention(sample_rows, as_of="2026-11-22 23:59:59")
    renamed = sample_rows.rename(columns={"customer_id": "Account", "month": "Billing month", "mrr": "MRR (USD)"})
    renamed.to_csv(tmp_path / "mh.csv", index=False)
    renamed.to_parquet(tmp_path / "mh.parquet")
    spec = {"path": str(tmp_path / "mh.csv"),
            "columns": {"customer_id": "Account", "month": "Billing month", "mrr": "MRR (USD)"}}
    for got in (revenue.net_revenue_retention(spec, as_of="2026-11-22 23:59:59"),
                revenue.net_revenue_retention(tmp_path / "mh.parquet", customer="Account", time="Billing month",
                                              mrr="MRR (USD)", as_of="2026-11-22 23:59:59")):
        pd.testing.assert_frame_equal(got.reset_index(drop=True), ref.reset_index(drop=True), check_dtype=False)
