"""cxlib.cohorts, cxlib.churn and cxlib.survival against brute-force loops and statsmodels on raw rows."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlib import cohorts, metrics, survival
from cxlib.data import CXDataError


@pytest.fixture(scope="module")
def events():
    rng = np.random.default_rng(5)
    rows = []
    for c in range(400):
        start = pd.Timestamp("2025-01-01") + pd.Timedelta(days=int(rng.integers(0, 240)))
        seg = "a" if c % 3 else "b"
        rows.append((f"c{c}", start, seg, 10.0))
        for _ in range(int(rng.integers(0, 6))):
            rows.append((f"c{c}", start + pd.Timedelta(days=int(rng.integers(1, 300))), seg,
                         float(rng.integers(0, 50))))
    return pd.DataFrame(rows, columns=["customer_id", "event_time", "seg", "revenue"])


def brute_force(ev, grain, as_of, definition):
    """Loop over customers: cohort = first period, active set per period index."""
    ev = ev[ev["event_time"] <= as_of]
    freq = {"month": "M", "week": "W-SUN"}[grain]
    per = ev["event_time"].dt.to_period(freq)
    table = {}
    for cid, ps in per.groupby(ev["customer_id"]):
        first = ps.min()
        ks = {(p - first).n for p in ps}
        last = max(ks)
        horizon = (as_of.to_period(freq) - first).n
        for k in range(horizon + 1):
            hit = k in ks if definition == "return_on" else k <= last
            size, act = table.get((first.start_time, k), (0, 0))
            table[(first.start_time, k)] = (size + 1, act + hit)
    return table


@pytest.mark.parametrize("grain", ["month", "week"])
@pytest.mark.parametrize("definition", ["return_on", "on_or_after"])
def test_retention_table_matches_brute_force(events, grain, definition):
    as_of = pd.Timestamp("2025-10-15")
    got = cohorts.retention_table(events, grain=grain, definition=definition, as_of=as_of, min_n=1)
    exp = brute_force(events, grain, as_of, definition)
    assert len(got) == len(exp)
    for row in got.itertuples():
        size, act = exp[(row.cohort, row.period)]
        assert (row.cohort_size, row.active) == (size, act)
    assert got.loc[got["period"] == 0, "retention"].eq(1).all()
    if definition == "on_or_after":
        assert (got.groupby("cohort")["active"].diff().dropna() <= 0).all()


def test_mature_flag_and_revenue(events):
    as_of = pd.Timestamp("2025-10-15")
    got = cohorts.retention_table(events, value="revenue", as_of=as_of, min_n=1)
    # October 2025 (the as_of month) is open, September closed
    assert not got.loc[got["period_start"] == "2025-10-01", "mature"].any()
    assert got.loc[got["period_start"] == "2025-09-01", "mature"].all()
    ev = events[events["event_time"] <= as_of].copy()
    ev["m"] = ev["event_time"].dt.to_period("M")
    first = ev.groupby("customer_id")["m"].transform("min")
    jan = ev[first == pd.Period("2025-01", "M")]
    rev0 = jan.loc[jan["m"] == pd.Period("2025-01", "M"), "revenue"].sum()
    rev2 = jan.loc[jan["m"] == pd.Period("2025-03", "M"), "revenue"].sum()
    cell = got[(got["cohort"] == "2025-01-01") & (got["period"] == 2)].iloc[0]
    assert cell["revenue"] == pytest.approx(rev2)
    assert cell["revenue_retention"] == pytest.approx(rev2 / rev0)


def test_segments_from_first_event_and_suppression(events):
    got = cohorts.retention_table(events, by="seg", min_n=20, as_of="2025-10-15")
    assert set(got["seg"]) == {"a", "b"}
    small = got[got["cohort_size"] < 20]
    assert small["suppressed"].all() and small["retention"].isna().all()
    assert got.loc[~got["suppressed"], "retention"].notna().all()


def test_bad_arguments_are_clear_errors(events):
    with pytest.raises(CXDataError, match="grain must be one of"):
        cohorts.retention_table(events, grain="fortnight")
    with pytest.raises(CXDataError, match="user_id"):
        cohorts.retention_table(events, customer="user_id")


def test_sample_planted_retention_recovered(sample_dir):
    rt = cohorts.retention_table(sample_dir / "events.csv", by="plan")
    curve = cohorts.retention_curve(rt[(rt["cohort"] < "2026-01-01")], by="plan").set_index(["plan", "period"])
    # month 1 of 2025 cohorts: basic 0.55, pro 0.67 (December x0.8 pulls the pooled value down a little)
    basic, pro = curve.loc[("basic", 1)], curve.loc[("pro", 1)]
    assert basic["ci_lower"] - 0.03 < 0.55 < basic["ci_upper"] + 0.03
    assert 0.06 < pro["retention"] - basic["retention"] < 0.20
    # newer cohorts (2026) retain better in month 1
    new = cohorts.retention_curve(rt[rt["cohort"] >= "2026-01-01"]).set_index("period").loc[1, "retention"]
    old = cohorts.retention_curve(rt[rt["cohort"] < "2026-01-01"]).set_index("period").loc[1, "retention"]
    assert new > old
    # December seasonality: cells falling in December retain less than their neighbours
    mature = rt[rt["mature"] & (rt["period"].between(2, 8))]
    dec = mature[mature["period_start"].dt.month == 12]["retention"].mean()
    nov = mature[mature["period_start"].dt.month == 11]["retention"].mean()
    assert dec < nov


# ------------------------------------------------------------------------------------------ churn

def test_churn_rate_matches_hand_count():
    subs = pd.DataFrame({
        "customer_id": list("abcdef"),
        "start_time": ["2026-01-05", "2026-01-20", "2026-02-03", "2026-02-10", "2026-01-01", "2026-03-01"],
        "end_time": ["2026-02-14", None, "2026-02-20", "2026-03-02", "2026-03-31", None],
    })
    got = metrics.churn_rate(subs, as_of="2026-03-31", min_n=1).set_index("period")
    # February: at start a, b, e (3); lost a (c started in Feb: not at risk)
    assert got.loc["2026-02-01", ["n", "lost"]].tolist() == [3, 1]
    # March: at start b, d, e (3); lost d and e
    assert got.loc["2026-03-01", ["n", "lost"]].tolist() == [3, 2]
    ret = metrics.retention_rate(subs, as_of="2026-03-31", min_n=1).set_index("period")
    assert ret.loc["2026-03-01", "retention_rate"] == pytest.approx(1 / 3)
    money = metrics.churn_rate(subs.assign(mrr=[10, 20, 30, 40, 50, 60]), as_of="2026-03-31", min_n=1,
                               mrr="mrr").set_index("period")
    # March: at start b (20), d (40), e (50); d and e lost
    assert money.loc["2026-03-01", ["mrr_start", "mrr_lost"]].tolist() == [110, 90]
    assert money.loc["2026-03-01", "revenue_retention"] == pytest.approx(20 / 110)


def test_sample_planted_monthly_churn(sample_dir):
    c = metrics.churn_rate(sample_dir / "subscriptions.csv", by="plan")
    c = c[c["complete"] & ~c["suppressed"]]
    pooled = c.groupby("plan")[["lost", "n"]].sum()
    rate = pooled["lost"] / pooled["n"]
    assert rate["basic"] == pytest.approx(0.06, abs=0.01)
    assert rate["pro"] == pytest.approx(0.03, abs=0.008)


# ------------------------------------------------------------------------------------------ survival

def product_limit(times, events):
    """Hand-written Kaplan-Meier with Greenwood variance."""
    s, var_sum, out = 1.0, 0.0, {}
    for t in sorted(set(times[events == 1])):
        n = (times >= t).sum()
        d = ((times == t) & (events == 1)).sum()
        s *= 1 - d / n
        var_sum += d / (n * (n - d)) if n > d else 0
        out[t] = (n, d, s, s * np.sqrt(var_sum))
    return out


def test_kaplan_meier_matches_product_limit_loop():
    rng = np.random.default_rng(3)
    times = np.round(rng.exponential(10, 300))
    events = (rng.random(300) < 0.7).astype(int)
    df = pd.DataFrame({"d": times, "e": events})
    km = survival.kaplan_meier(df, duration="d", event="e", unit="month")
    exp = product_limit(times, events)
    km = km[km["events"] > 0].set_index("time")
    assert len(km) == len(exp)
    for t, (n, d, s, se) in exp.items():
        row = km.loc[t]
        assert (row["at_risk"], row["events"]) == (n, d)
        assert row["survival"] == pytest.approx(s)
        assert row["se"] == pytest.approx(se, rel=1e-6)
        assert row["ci_lower"] <= s <= row["ci_upper"]


def test_start_end_lifetimes_and_censoring():
    df = pd.DataFrame({"start_time": ["2026-01-01", "2026-01-01", "2026-01-01"],
                       "end_time": ["2026-01-11", None, "2026-03-01"]})
    lt = survival.lifetimes(df, start="start_time", end="end_time", as_of="2026-02-01", unit="day")
    # ended after as_of = still active; the table's last record on or before as_of is the end on 2026-01-11
    # (issue 21: censored at the earlier of as_of and the last record), so the two are censored at 10 days
    assert sorted(zip(lt["time"], lt["event"], lt["n"])) == [(10.0, 0, 2), (10.0, 1, 1)]
    # a start on the analysis date makes as_of the last record: censored at 31 days
    df.loc[3] = ["2026-02-01", None]
    lt = survival.lifetimes(df, start="start_time", end="end_time", as_of="2026-02-01", unit="day")
    assert sorted(zip(lt["time"], lt["event"], lt["n"])) == [(0.0, 0, 1), (10.0, 1, 1), (31.0, 0, 2)]


def test_sample_planted_median_lifetimes_and_logrank(sample_dir):
    kw = dict(start="start_time", end="end_time", by="plan")
    med = survival.median_survival(sample_dir / "subscriptions.csv", **kw).set_index("plan")
    basic = med.loc["basic"]
    assert basic["ci_lower"] <= 11.2 <= basic["ci_upper"]
    # pro: median 22.8 months at the edge of follow-up: not reached, or late
    pro = med.loc["pro"]
    assert (not pro["reached"]) or pro["median"] > 16
    km = survival.kaplan_meier(sample_dir / "subscriptions.csv", **kw)
    at_basic_median = km[(km["plan"] == "pro") & (km["time"] <= basic["median"])].iloc[-1]
    assert at_basic_median["ci_lower"] > 0.6      # truth: 0.97 ** 11.2 = 0.71
    assert survival.logrank(sample_dir / "subscriptions.csv", **kw)["p_value"] < 0.001


@pytest.mark.spark
def test_same_retention_table_on_spark_and_duckdb(events, spark_backend):
    sp = spark_backend.create_table("cx_test_events", events, overwrite=True)
    kw = dict(grain="month", as_of="2025-10-15", min_n=1, by="seg", value="revenue")
    on_spark = cohorts.retention_table(sp, **kw)
    on_duckdb = cohorts.retention_table(events, **kw)
    cols = ["seg", "cohort", "period", "cohort_size", "active", "mature"]
    pd.testing.assert_frame_equal(on_spark[cols], on_duckdb[cols], check_dtype=False)
    assert np.allclose(on_spark["revenue"], on_duckdb["revenue"])
    churn_sp = metrics.churn_rate(spark_backend.create_table("cx_test_subs", pd.DataFrame({
        "customer_id": ["a", "b", "c"], "start_time": pd.to_datetime(["2026-01-05", "2026-01-20", "2026-02-03"]),
        "end_time": pd.to_datetime(["2026-02-14", None, "2026-03-20"])}), overwrite=True), as_of="2026-03-31", min_n=1)
    assert churn_sp.set_index("period").loc["2026-02-01", ["n", "lost"]].tolist() == [2, 1]


def test_repeat_business_matches_loop(events):
    ev = events.assign(event_name="purchase")
    got = cohorts.repeat_business(ev, min_n=1).set_index("period")
    ev = ev.sort_values("event_time")
    seen, per = set(), {}
    for r in ev.itertuples():  # brute force: a purchase is a repeat when the customer bought before
        p = pd.Timestamp(r.event_time).to_period("M").start_time
        d = per.setdefault(p, {"buyers": set(), "repeat": set(), "rev": 0.0, "rrev": 0.0})
        d["buyers"].add(r.customer_id)
        d["rev"] += r.revenue
        if r.customer_id in seen:
            d["repeat"].add(r.customer_id)
            d["rrev"] += r.revenue
        seen.add(r.customer_id)
    for p, d in per.items():
        row = got.loc[p]
        assert (row["buyers"], row["repeat_buyers"]) == (len(d["buyers"]), len(d["repeat"]))
        assert row["repeat_revenue"] == pytest.approx(d["rrev"])


def test_ltv_to_date_is_cumulative_revenue_per_customer(events):
    rt = cohorts.retention_table(events, value="revenue", as_of="2025-10-15", min_n=1)
    ltv = cohorts.ltv_to_date(rt)
    jan = rt[(rt["cohort"] == "2025-01-01") & rt["mature"]]
    last = ltv[ltv["cohort"] == "2025-01-01"].iloc[-1]
    assert last["ltv_to_date"] == pytest.approx(jan["revenue"].sum() / jan["cohort_size"].iloc[0])


def test_time_zone_moves_events_across_month_end():
    ev = pd.DataFrame({"customer_id": ["a", "a", "b"],
                       "event_time": ["2026-01-10 10:00:00", "2026-01-31 23:30:00", "2026-01-05 09:00:00"]})
    utc = cohorts.retention_table(ev, as_of="2026-03-31", min_n=1)
    berlin = cohorts.retention_table(ev, as_of="2026-03-31", min_n=1, tz="Europe/Berlin")
    # in UTC a's second event is in January (period 0); in Berlin it is 00:30 on 1 February (period 1)
    assert utc.query("period == 1")["active"].sum() == 0
    assert berlin.query("period == 1")["active"].sum() == 1


def test_events_on_period_boundaries_and_single_customer_cohorts():
    ev = pd.DataFrame({"customer_id": ["a", "a", "a"],
                       "event_time": ["2026-01-31 23:59:59", "2026-02-01 00:00:00", "2026-03-01 00:00:00"]})
    rt = cohorts.retention_table(ev, as_of="2026-03-31 23:59:59", min_n=1)
    assert rt["cohort_size"].eq(1).all() and rt["active"].tolist() == [1, 1, 1]
    # a cohort of one is suppressed at the default minimum size
    assert cohorts.retention_table(ev, as_of="2026-03-31")["suppressed"].all()


def test_signup_column_and_sunday_weeks():
    ev = pd.DataFrame({"customer_id": ["a", "a", "b"],
                       "event_time": pd.to_datetime(["2026-02-10", "2026-03-05", "2026-01-20"]),
                       "signed_up": pd.to_datetime(["2026-01-15", "2026-01-15", "2026-01-02"])})
    rt = cohorts.retention_table(ev, signup="signed_up", as_of="2026-03-31", min_n=1)
    jan = rt[rt["cohort"] == "2026-01-01"].set_index("period")
    assert jan.loc[0, "cohort_size"] == 2
    assert jan["active"].tolist() == [1, 1, 1]     # b in January; a in February and March, not in January
    sun = cohorts.retention_table(ev, grain="week", week_start="sunday", as_of="2026-03-31", min_n=1)
    assert set(pd.to_datetime(sun["cohort"]).dt.day_of_week) == {6}
