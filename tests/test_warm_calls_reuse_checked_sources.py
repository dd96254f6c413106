"""Warm calls of key_drivers and kaplan_meier: repeated calls on a file reuse its checked,
compiled expressions, yet every answer matches an independent computation on the raw rows (statsmodels,
numpy), a changed file or analysis date is picked up, and DataFrames are checked on every call."""
from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.duration.survfunc import SurvfuncRight

from cxlib import data as cxdata
from cxlib import drivers, present, survival

DRV = [f"drv_{c}" for c in "abcde"]


def _survey(n=900, seed=7, halo_share=0.35, top=10, blanks=True):
    """Ratings 1..top, a share of halo respondents (straight-liners and one-point wobblers), some blanks."""
    rng = np.random.default_rng(seed)
    common = rng.normal(size=n)
    x = np.clip(np.round((top + 1) / 2 + (top / 5) * (0.6 * common[:, None] + 0.8 * rng.normal(size=(n, len(DRV))))),
                1, top)
    halo = rng.random(n) < halo_share
    level = np.clip(np.round((top + 1) / 2 + (top / 5) * common), 1, top)
    x[halo] = level[halo, None]
    wobble = halo & (rng.random(n) < 0.4)
    x[wobble, 2] = np.where(level[wobble] < top, level[wobble] + 1, top - 1)
    df = pd.DataFrame(x, columns=DRV)
    if blanks:
        for j, c in enumerate(DRV):
            df.loc[rng.random(n) < 0.03 * (j + 1), c] = np.nan
    df["nps"] = np.clip(np.round(7 + 2 * common + rng.normal(0, 1.5, n)), 0, 10)
    df["segment"] = np.where(rng.random(n) < 0.45, "north", "south")
    return df


def _std_ols(df, cols=DRV, outcome="nps"):
    """Independent: statsmodels OLS on z-scored complete, non-straight-lining rows; (betas, R², n)."""
    d = df.dropna(subset=[outcome, *cols])
    x = d[cols].to_numpy(float)
    d = d[x.max(axis=1) != x.min(axis=1)]
    z = (d[[*cols, outcome]] - d[[*cols, outcome]].mean()) / d[[*cols, outcome]].std(ddof=0)
    fit = sm.OLS(z[outcome], sm.add_constant(z[cols])).fit()
    return fit.params[cols].to_numpy(), fit.rsquared, len(d)


def _halo_brute(df, cols=DRV, outcome="nps", scale=(1, 10)):
    """Independent: per respondent np.std of the ratings <= 5% of the scale range; (halo, straight, n)."""
    x = df.dropna(subset=[outcome, *cols])[cols].to_numpy(float)
    thr = drivers.HALO_SD_SHARE * (scale[1] - scale[0])
    straight = np.array([len(set(r)) == 1 for r in x.tolist()])
    return int(((x.std(axis=1) <= thr + 1e-9) | straight).sum()), int(straight.sum()), len(x)


def _km_brute(df, as_of, unit_days=30.4375, whole=None):
    """Independent Kaplan-Meier: statsmodels on one row per customer (whole days, halves up), still active
    customers censored at the earlier of as_of and the last start or end on or before it in ``whole``
    (the whole table; default ``df``)."""
    def ts(frame):
        return (pd.to_datetime(frame["start_time"], format="ISO8601"),
                pd.to_datetime(frame["end_time"], format="ISO8601"))

    start, end = ts(df)
    s = df.assign(start_time=start, end_time=end)
    cut = pd.Timestamp(as_of)
    w_start, w_end = ts(df if whole is None else whole)
    last = max(w_start[w_start <= cut].max(), w_end[w_end <= cut].max() if (w_end <= cut).any() else w_start.min())
    s = s[s["start_time"] <= cut]
    churned = s["end_time"].notna() & (s["end_time"] <= cut)
    days = (s["end_time"].where(churned, min(cut, last)) - s["start_time"]).dt.total_seconds() / 86400
    return SurvfuncRight((np.floor(days + 0.5) / unit_days).to_numpy(), churned.to_numpy(float))


def _subscriptions(n=700, seed=3):
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 500 * 86400, n), unit="s")
    life = pd.to_timedelta(rng.exponential(200, n) * 86400, unit="s").round("s")
    end = (start + life).where(rng.random(n) < 0.7)
    return pd.DataFrame({"customer_id": [f"C{i:05d}" for i in range(n)],
                         "start_time": start.strftime("%Y-%m-%d %H:%M:%S"),
                         "end_time": pd.Series(end).dt.strftime("%Y-%m-%d %H:%M:%S"),
                         "plan": np.where(rng.random(n) < 0.5, "basic", "pro")})


# ------------------------------------------------------------------------------------------ key drivers

def test_warm_key_drivers_on_a_file_matches_statsmodels_every_call(tmp_path):
    df = _survey()
    path = tmp_path / "survey.csv"
    df.to_csv(path, index=False)
    beta, r2, n = _std_ols(df)
    for _ in range(3):
        kd = drivers.key_drivers(str(path), drivers=DRV, bootstrap=0, method="ols")
        got = kd.set_index("driver").loc[DRV, "std_beta"].to_numpy()
        assert np.allclose(got, beta, rtol=1e-9, atol=1e-12)
        assert kd.attrs["r2"] == pytest.approx(r2, rel=1e-9)
        assert kd.attrs["n_model"] == n
        # performance: everyone who rated the driver, not only complete answers
        assert kd.set_index("driver").loc[DRV, "n"].tolist() == [int(df[c].notna().sum()) for c in DRV]
        assert np.allclose(kd.set_index("driver").loc[DRV, "mean"], [df[c].mean() for c in DRV])


def test_halo_warning_counts_match_brute_force_overall_and_by_segment(tmp_path):
    df = _survey(halo_share=0.5)
    path = tmp_path / "halo.csv"
    df.to_csv(path, index=False)
    halo, straight, n = _halo_brute(df)
    assert halo / n > drivers.HALO_WARN_SHARE
    for src in (str(path), df, str(path)):  # file (cold, then warm) and DataFrame
        kd = drivers.key_drivers(src, drivers=DRV, bootstrap=0)
        text = " ".join(str(present.note_text(w)) for w in kd.attrs["warnings"])
        assert f"{halo} of {n} respondents" in text and f"({straight} exactly the same)" in text
        by = drivers.key_drivers(src, drivers=DRV, bootstrap=0, by="segment")
        text = " ".join(str(present.note_text(w)) for w in by.attrs["warnings"])
        for seg, g in df.groupby("segment"):
            h, s, m = _halo_brute(g)
            assert f"(in segment {seg}): {h} of {m} respondents" in text and f"({s} exactly the same)" in text
        # the engine's own count (halo_counts) agrees too
        hc = drivers.halo_counts(src, drivers=DRV)
        assert (int(hc["halo"].iloc[0]), int(hc["straightliners"].iloc[0]), int(hc["n"].iloc[0])) == (halo, straight, n)


def test_blank_segment_still_counts_its_halo_answers():
    df = _survey(halo_share=0.6)
    df.loc[df.index[:120], "segment"] = None
    kd = drivers.key_drivers(df, drivers=DRV, bootstrap=0, by="segment")
    h, s, m = _halo_brute(df[df["segment"].isna()])
    assert any(f"{h} of {m} respondents" in str(present.note_text(w)) for w in kd.attrs["warnings"])


def test_scale_comes_from_the_data_per_segment_too():
    df = _survey(top=5, blanks=False)
    assert df[DRV].to_numpy().max() <= 5
    for by in (None, "segment"):
        kd = drivers.key_drivers(df, drivers=DRV, bootstrap=0, by=by)
        assert kd.attrs["scale"] == (1.0, 5.0)
    df.loc[0, DRV[0]] = 7
    assert drivers.key_drivers(df, drivers=DRV, bootstrap=0, by="segment").attrs["scale"] == (1.0, 7.0)


def test_many_ratings_but_few_complete_answers_pull_every_row():
    """max_rows below each driver's count but above the complete answers: the exact path, no sampling."""
    df = _survey(n=1200, blanks=False)
    for j, c in enumerate(DRV):  # each driver blank on a different fifth: no complete answers there
        df.loc[df.index[j * 100:(j + 1) * 100], c] = np.nan
    beta, r2, n = _std_ols(df)
    cap = min(int(df[c].notna().sum()) for c in DRV) - 1
    assert n < cap
    kd = drivers.key_drivers(df, drivers=DRV, bootstrap=0, method="ols", max_rows=cap)
    assert kd.attrs["n_model"] == n and kd.attrs["bootstrap_rows"] == n
    assert np.allclose(kd.set_index("driver").loc[DRV, "std_beta"], beta, rtol=1e-9)


def test_a_changed_file_is_read_again(tmp_path):
    path = tmp_path / "survey.csv"
    first, second = _survey(seed=1), _survey(seed=2, n=1100)
    first.to_csv(path, index=False)
    drivers.key_drivers(str(path), drivers=DRV, bootstrap=0)
    second.to_csv(path, index=False)
    os.utime(path, ns=(os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns + 10**9))
    beta, r2, n = _std_ols(second)
    kd = drivers.key_drivers(str(path), drivers=DRV, bootstrap=0, method="ols")
    assert kd.attrs["n_model"] == n
    assert np.allclose(kd.set_index("driver").loc[DRV, "std_beta"], beta, rtol=1e-9)


def test_dataframes_are_checked_on_every_call():
    df = _survey()
    drivers.key_drivers(df, drivers=DRV, bootstrap=0)
    bad = df.astype({DRV[1]: object})
    bad.loc[5, DRV[1]] = "great"
    with pytest.raises(cxdata.CXDataError, match="should hold numbers"):
        drivers.key_drivers(bad, drivers=DRV, bootstrap=0)
    df.loc[df.index[:300], DRV[0]] = np.nan  # the same frame, changed in place
    beta, r2, n = _std_ols(df)
    kd = drivers.key_drivers(df, drivers=DRV, bootstrap=0, method="ols")
    assert kd.attrs["n_model"] == n
    assert np.allclose(kd.set_index("driver").loc[DRV, "std_beta"], beta, rtol=1e-9)


def test_a_failing_file_fails_on_every_call(tmp_path):
    df = _survey().astype({DRV[0]: object})
    df.loc[3, DRV[0]] = "n/a please"
    path = tmp_path / "bad.csv"
    df.to_csv(path, index=False)
    for _ in range(2):
        with pytest.raises(cxdata.CXDataError, match=r"drv_a.*should hold numbers.*row"):
            drivers.key_drivers(str(path), drivers=DRV, bootstrap=0)


# ------------------------------------------------------------------------------------------ Kaplan-Meier

def test_warm_kaplan_meier_on_a_file_matches_statsmodels(tmp_path):
    df = _subscriptions()
    path = tmp_path / "subs.csv"
    df.to_csv(path, index=False)
    for as_of in ("2026-01-01 00:00:00", "2025-09-15 00:00:00", "2026-01-01 00:00:00"):  # midnight, as given
        ref = _km_brute(df, as_of)
        for _ in range(2):
            km = survival.kaplan_meier(str(path), start="start_time", end="end_time", as_of=as_of)
            assert np.allclose(km["time"], ref.surv_times, rtol=0, atol=1e-12)
            assert np.allclose(km["survival"], ref.surv_prob, rtol=1e-12, atol=1e-12)
            assert km["at_risk"].tolist() == np.round(ref.n_risk).astype(int).tolist()
            med = km.attrs["medians"].iloc[0]
            assert med["n"] == len(ref.time)
            if np.isfinite(ref.quantile(0.5)):
                assert med["median"] == pytest.approx(ref.quantile(0.5))


def test_default_analysis_date_follows_the_report_date(tmp_path, monkeypatch):
    df = _subscriptions(seed=5)
    path = tmp_path / "subs.csv"
    df.to_csv(path, index=False)
    for day in ("2025-10-01", "2026-02-01", "2025-10-01"):
        monkeypatch.setenv(cxdata.RUN_DATE_ENV, day)
        ref = _km_brute(df, pd.Timestamp(day) + pd.Timedelta(days=1) - pd.Timedelta(seconds=1))
        km = survival.kaplan_meier(str(path), start="start_time", end="end_time")
        assert np.allclose(km["survival"], ref.surv_prob, rtol=1e-12)
        late = int((pd.to_datetime(df["start_time"]) > pd.Timestamp(day) + pd.Timedelta(hours=23, minutes=59,
                                                                                       seconds=59)).sum())
        found = [n for n in km.attrs["notes"] if getattr(n, "code", None) == "rows_after_as_of"]
        assert len(found) <= 1
        assert (found[0]["counts"].get("start_time", 0) if found else 0) == late
        if late:
            assert f"{late:,} row{'s' if late > 1 else ''} with 'start_time' after" in present.note_text(found[0]).plain


def test_kaplan_meier_errors_and_notes_repeat_on_warm_calls(tmp_path):
    df = _subscriptions(seed=9)
    df.loc[4, "end_time"] = "2024-01-01 00:00:00"  # before its start
    path = tmp_path / "subs.csv"
    df.to_csv(path, index=False)
    for _ in range(2):
        with pytest.raises(cxdata.CXDataError, match=r"'end_time' is before 'start_time' in 1 row \(row 5"):
            survival.kaplan_meier(str(path), start="start_time", end="end_time", as_of="2026-01-01 00:00:00")
    ok = _subscriptions(seed=9)
    ok.to_csv(path, index=False)
    os.utime(path, ns=(os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns + 10**9))
    late = int((pd.to_datetime(ok["start_time"]) > pd.Timestamp("2025-06-01")).sum())
    for name in (None, "subscriptions export", None):
        km = survival.kaplan_meier(str(path), start="start_time", end="end_time", as_of="2025-06-01 00:00:00", name=name)
        first = km.attrs["notes"][0]
        assert (first.code, first["table"], first["counts"]["start_time"]) == ("rows_after_as_of", name or "subs.csv",
                                                                               late)
        assert present.note_text(first).plain.startswith(f"{name or 'subs.csv'}: {late:,} rows with 'start_time' after")
        assert np.allclose(km["survival"], _km_brute(ok, "2025-06-01").surv_prob, rtol=1e-12)


def test_kaplan_meier_by_segment_matches_statsmodels_per_segment(tmp_path):
    df = _subscriptions(n=900, seed=11)
    path = tmp_path / "subs.csv"
    df.to_csv(path, index=False)
    for _ in range(2):
        km = survival.kaplan_meier(str(path), start="start_time", end="end_time", as_of="2026-03-01 00:00:00", by="plan")
        for plan, g in df.groupby("plan"):
            ref = _km_brute(g, "2026-03-01", whole=df)
            part = km[km["plan"] == plan]
            assert np.allclose(part["survival"], ref.surv_prob, rtol=1e-12)
        med = km.attrs["medians"].set_index("plan")
        assert med.loc["basic", "n"] == len(_km_brute(df[df["plan"] == "basic"], "2026-03-01", whole=df).time)


def test_warm_calls_on_a_file_run_only_their_analysis_queries(tmp_path, monkeypatch):
    """Checks of an unchanged file are not re-run: key_drivers runs its two queries (means and counts, then
    the complete answers; the rating scale is kept like a check), kaplan_meier its one counts query."""
    survey, subs = tmp_path / "survey.csv", tmp_path / "subs.csv"
    _survey().to_csv(survey, index=False)
    _subscriptions().to_csv(subs, index=False)
    calls = []
    real = cxdata._execute
    monkeypatch.setattr("cxlib.engine._execute", lambda expr: calls.append(expr) or real(expr))  # where to_pandas runs it
    for fn, want in ((lambda: drivers.key_drivers(str(survey), drivers=DRV, bootstrap=0), 2),
                     (lambda: survival.kaplan_meier(str(subs), start="start_time", end="end_time",
                                                    as_of="2026-01-01 00:00:00"), 1)):
        first = fn()
        calls.clear()
        again = fn()
        assert len(calls) == want
        pd.testing.assert_frame_equal(first, again)


@pytest.mark.parametrize("as_of", ["2025-11-03 10:20:30", "2025-11-03 10:20:30.250000"])
def test_lifetimes_ending_or_starting_exactly_at_the_analysis_date(tmp_path, as_of):
    """Boundary rows (end == as_of counts as churned, start == as_of is in), whole-second and fractional."""
    df = _subscriptions(n=400, seed=21)
    cut = pd.Timestamp(as_of)
    df.loc[0:9, "end_time"] = cut.strftime("%Y-%m-%d %H:%M:%S.%f")
    df.loc[0:9, "start_time"] = "2025-06-01 00:00:00"
    df.loc[10:14, "start_time"] = cut.strftime("%Y-%m-%d %H:%M:%S.%f")
    df.loc[10:14, "end_time"] = None
    path = tmp_path / "subs.csv"
    df.to_csv(path, index=False)
    ref = _km_brute(df, cut)
    assert len(ref.time) == 400 - int((pd.to_datetime(df["start_time"], format="ISO8601") > cut).sum())
    for src in (str(path), df, str(path)):
        km = survival.kaplan_meier(src, start="start_time", end="end_time", as_of=as_of)
        assert np.allclose(km["time"], ref.surv_times, rtol=0, atol=1e-12)
        assert np.allclose(km["survival"], ref.surv_prob, rtol=1e-12, atol=1e-12)
        assert int(km["events"].sum()) == int(ref.status.sum())
