"""The analysis date everywhere (issue 21, item 1): every public analysis over dated rows takes ``as_of``,
leaves the rows dated after it out and counts them in one note; ``attrs['as_of']`` holds the date.

Each family is checked on a hand-written CSV holding a few rows after ``as_of`` (some mistyped as 2099)
against a brute force in pandas on the rows on or before ``as_of``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlib import drivers, experiments, metrics, present, support, themes
from cxlib.notes import Note, codes

AS_OF = pd.Timestamp("2026-11-30 23:59:59")


def _late_note(result, count: int, column: str) -> Note:
    """The one note on rows after the analysis date; it counts ``count`` rows in the column, and its words
    say so."""
    notes = [n for n in result.attrs.get("notes", []) if isinstance(n, Note) and n.code == "rows_after_as_of"
             and column in n["counts"]]
    assert len(notes) == 1, result.attrs.get("notes")
    assert notes[0]["counts"][column] == count, notes[0]
    assert notes[0]["as_of"] == result.attrs.get("as_of", notes[0]["as_of"])
    words = present.note_text(notes[0]).plain
    assert f"{count:,} row{'s' if count > 1 else ''} with '{column}' after" in words, words
    return notes[0]


def _nps(scores: pd.Series) -> float:
    s = scores.dropna()
    return 100 * ((s >= 9).mean() - (s <= 6).mean())


# ------------------------------------------------------------------------------------------ responses

@pytest.fixture()
def responses(tmp_path):
    """80 answers in Sep-Nov 2026 and 4 after the analysis date (one dated 2099, a typo), with scores
    chosen so that leaving the later ones in would move every number."""
    rng = np.random.default_rng(21)
    n = 80
    times = pd.Timestamp("2026-09-01") + pd.to_timedelta(rng.integers(0, 90 * 86400, n), unit="s")
    late = pd.to_datetime(["2026-12-01 00:00:01", "2026-12-03 10:00:00", "2027-01-15 08:00:00", "2099-05-01 00:00:00"])
    drv = rng.integers(1, 6, (n, 3)).astype(float)
    score = np.clip(np.round(1.6 * drv[:, 0] + 0.8 * drv[:, 1] + rng.normal(0, 1.5, n)), 0, 10)
    df = pd.DataFrame({"respondent_id": np.arange(n + 4), "response_time": list(times) + list(late),
                       "nps": list(score.astype(int)) + [0, 0, 0, 0],
                       "csat": list(rng.integers(1, 6, n)) + [1, 1, 1, 1],
                       "ces": list(rng.integers(1, 8, n)) + [1, 1, 1, 1],
                       "plan": list(rng.choice(["basic", "pro"], n)) + ["pro"] * 4,
                       "drv_speed": list(drv[:, 0]) + [5, 1, 5, 1], "drv_price": list(drv[:, 1]) + [1, 5, 1, 5],
                       "drv_app": list(drv[:, 2]) + [3, 2, 1, 4],
                       "comment": [rng.choice(["slow delivery", "great price", "app crashed", "ok"]) for _ in range(n)]
                       + ["slow slow", "slow", "slow again", "slow delivery"]})
    df["response_time"] = pd.to_datetime(df["response_time"]).dt.strftime("%Y-%m-%d %H:%M:%S")
    path = tmp_path / "responses.csv"
    df.to_csv(path, index=False)
    kept = df[pd.to_datetime(df["response_time"]) <= AS_OF]
    assert len(kept) == n
    return path, df, kept


def test_scores_leave_out_answers_after_as_of_and_count_them_in_one_note(responses):
    path, _, kept = responses
    r = metrics.nps(path, as_of=AS_OF, min_n=1)
    assert int(r["n"].iloc[0]) == len(kept)
    assert r["nps"].iloc[0] == pytest.approx(_nps(kept["nps"]))
    assert r.attrs["as_of"] == AS_OF
    _late_note(r, 4, "response_time")
    by = metrics.nps(path, by="plan", as_of=AS_OF, min_n=1).set_index("plan")
    for plan, g in kept.groupby("plan"):
        assert by.loc[plan, "nps"] == pytest.approx(_nps(g["nps"]))
        assert by.loc[plan, "n"] == len(g)
    c = metrics.csat(path, as_of=AS_OF, min_n=1)
    assert c["csat"].iloc[0] == pytest.approx((kept["csat"] >= 4).mean())
    _late_note(c, 4, "response_time")
    e = metrics.ces(path, as_of=AS_OF, min_n=1)
    assert e["ces"].iloc[0] == pytest.approx(kept["ces"].mean())
    assert e["ci_upper"].iloc[0] - e["ces"].iloc[0] == pytest.approx(
        kept["ces"].std() / np.sqrt(len(kept)) * __import__("scipy").stats.t.ppf(0.975, len(kept) - 1))
    _late_note(e, 4, "response_time")


def test_default_as_of_is_the_report_date_so_a_2099_typo_is_left_out(responses, monkeypatch):
    path, df, _ = responses
    monkeypatch.setenv("CX_RUN_DATE", "2027-02-01")
    keep = df[pd.to_datetime(df["response_time"]) <= pd.Timestamp("2027-02-01 23:59:59")]
    r = metrics.nps(path, min_n=1)
    assert int(r["n"].iloc[0]) == len(keep) == len(df) - 1
    assert r["nps"].iloc[0] == pytest.approx(_nps(keep["nps"]))
    assert r.attrs["as_of"] == pd.Timestamp("2027-02-01 23:59:59")
    _late_note(r, 1, "response_time")


def test_trend_has_no_period_after_as_of_and_no_2099_period(responses, monkeypatch):
    path, _, kept = responses
    monkeypatch.setenv("CX_RUN_DATE", "2026-12-20")
    for kwargs in ({"as_of": AS_OF}, {}):  # given, and defaulted to the report date
        r = metrics.nps(path, time="response_time", period="month", min_n=1, **kwargs)
        assert r["period"].max() <= pd.Timestamp("2026-12-01")
        assert not (r["period"].dt.year == 2099).any()
    r = metrics.nps(path, time="response_time", period="month", min_n=1, as_of=AS_OF)
    want = kept.assign(period=pd.to_datetime(kept["response_time"]).dt.to_period("M").dt.start_time)
    brute = want.groupby("period")["nps"].agg(_nps)
    assert list(r["period"]) == list(brute.index)
    np.testing.assert_allclose(r["nps"], brute.to_numpy())
    _late_note(r, 4, "response_time")
    assert "data_ends_early" not in codes(r.attrs["notes"])


def test_trend_that_ends_more_than_one_period_before_as_of_says_so(responses):
    path, _, kept = responses
    last = pd.to_datetime(kept["response_time"]).max()
    r = metrics.csat(path, period="week", min_n=1, as_of="2027-03-01")
    early = [n for n in r.attrs["notes"] if isinstance(n, Note) and n.code == "data_ends_early"]
    assert len(early) == 1
    # the later answers up to the analysis date count: the last answer is 2027-01-15
    assert early[0]["last"] == pd.Timestamp("2027-01-15 08:00:00") > last
    assert early[0]["as_of"] == pd.Timestamp("2027-03-01 23:59:59") and early[0]["period"] == "week"  # end of that day
    _late_note(r, 1, "response_time")
    # within one period of the analysis date: no note
    r = metrics.csat(path, period="month", min_n=1, as_of="2027-02-10")
    assert "data_ends_early" not in codes(r.attrs["notes"])


def test_a_table_without_a_time_column_is_not_filtered(responses):
    _, df, _ = responses
    r = metrics.nps(df.drop(columns="response_time"), as_of=AS_OF, min_n=1)
    assert int(r["n"].iloc[0]) == len(df)
    assert r.attrs["notes"] == []


def test_weighted_nps_leaves_out_later_answers(responses):
    path, _, kept = responses
    w = metrics.weighted_nps(path, targets={"plan": {"basic": 0.5, "pro": 0.5}}, as_of=AS_OF, min_n=1)
    assert int(w["n"].iloc[0]) == len(kept)
    assert w["nps"].iloc[0] == pytest.approx(_nps(kept["nps"]))
    share = kept["plan"].value_counts(normalize=True)
    wt = kept["plan"].map(0.5 / share)
    p, d = (kept["nps"] >= 9).astype(float), (kept["nps"] <= 6).astype(float)
    assert w["nps"].iloc[1] == pytest.approx(100 * ((wt * p).sum() - (wt * d).sum()) / wt.sum())
    _late_note(w, 4, "response_time")


# ------------------------------------------------------------------------------------------ drivers

DRV = ["drv_speed", "drv_price", "drv_app"]


def test_key_drivers_use_only_answers_up_to_as_of(responses):
    path, _, kept = responses
    kd = drivers.key_drivers(path, drivers=DRV, bootstrap=0, exclude_straightliners=False, min_n=10,
                             as_of=AS_OF).set_index("driver")
    x = kept[DRV].astype(float)
    z = (x - x.mean()) / x.std()
    y = (kept["nps"] - kept["nps"].mean()) / kept["nps"].std()
    beta = np.linalg.lstsq(z.to_numpy(), y.to_numpy(), rcond=None)[0]  # standardised OLS coefficients
    np.testing.assert_allclose(kd.loc[DRV, "std_beta"], beta, rtol=1e-8)
    np.testing.assert_allclose(kd.loc[DRV, "mean"], x.mean().to_numpy())
    assert (kd.loc[DRV, "n"] == len(kept)).all()
    assert kd.attrs["n_model"] == len(kept) and kd.attrs["as_of"] == AS_OF
    _late_note(kd, 4, "response_time")
    # a warm call (same plan) keeps the note
    again = drivers.key_drivers(path, drivers=DRV, bootstrap=0, exclude_straightliners=False, min_n=10, as_of=AS_OF)
    _late_note(again, 4, "response_time")


def test_other_driver_analyses_use_only_answers_up_to_as_of(responses):
    path, _, kept = responses
    x = kept[DRV].to_numpy(float)
    halo = drivers.halo_counts(path, drivers=DRV, scale=(1, 5), as_of=AS_OF)
    assert int(halo["n"].iloc[0]) == len(kept)
    assert int(halo["straightliners"].iloc[0]) == int((x.max(axis=1) == x.min(axis=1)).sum())
    _late_note(halo, 4, "response_time")
    pd_models = drivers.promoter_detractor_models(path, drivers=DRV, as_of=AS_OF).set_index("model")
    assert (pd_models["n"] == len(kept)).all()
    assert pd_models.loc["promoter", "events"].iloc[0] == int((kept["nps"] >= 9).sum())
    assert pd_models.loc["detractor", "events"].iloc[0] == int((kept["nps"] <= 6).sum())
    _late_note(pd_models, 4, "response_time")
    top = drivers.top_two_difference(path, drivers=DRV, bootstrap=0, exclude_straightliners=False, as_of=AS_OF)
    assert int(top["n"].iloc[0]) == len(kept)
    _late_note(top, 4, "response_time")


# ------------------------------------------------------------------------------------------ themes

TAXONOMY = {"themes": {"delivery": {"patterns": ["slow", "delivery"]}, "price": {"patterns": ["price"]}},
            "trouble_words": ["crashed", "slow"]}


def test_themes_count_only_comments_up_to_as_of(responses):
    path, _, kept = responses
    slow = kept["comment"].str.contains("slow|delivery")
    tc = themes.theme_counts(path, taxonomy=TAXONOMY, as_of=AS_OF).set_index("theme")
    assert tc.loc["delivery", "comments"] == len(kept)
    assert tc.loc["delivery", "mentions"] == int(slow.sum())
    _late_note(tc, 4, "response_time")
    trend = themes.theme_counts(path, taxonomy=TAXONOMY, time="response_time", period="month", min_n=1,
                                as_of=AS_OF)
    assert trend["period"].max() == pd.Timestamp("2026-11-01")
    months = pd.to_datetime(kept["response_time"]).dt.to_period("M").dt.start_time
    got = trend[trend["theme"] == "delivery"].set_index("period")["mentions"]
    pd.testing.assert_series_equal(got, slow.groupby(months).sum(), check_names=False, check_dtype=False,
                                   check_index_type=False)
    impact = themes.theme_impact(path, taxonomy=TAXONOMY, min_n=1, as_of=AS_OF).set_index("theme")
    assert impact.loc["delivery", "nps_with"] == pytest.approx(_nps(kept.loc[slow, "nps"]))
    assert impact.loc["delivery", "nps_without"] == pytest.approx(_nps(kept.loc[~slow, "nps"]))
    _late_note(impact, 4, "response_time")
    tags = themes.tag_comments(path, taxonomy=TAXONOMY, as_of=AS_OF)
    assert set(tags.loc[tags["theme"] == "delivery", "respondent_id"]) == set(kept.loc[slow, "respondent_id"])
    _late_note(tags, 4, "response_time")
    words = themes.trouble_word_counts(path, taxonomy=TAXONOMY, as_of=AS_OF).set_index("word")
    assert words.loc["slow", "mentions"] == int(kept["comment"].str.contains("slow").sum())
    _late_note(words, 4, "response_time")


# ------------------------------------------------------------------------------------------ tickets

@pytest.fixture()
def tickets(tmp_path):
    """Tickets opened before the analysis date, one answered after it (still waiting on that date), two
    opened after it (one a 2099 typo)."""
    rows = []
    rng = np.random.default_rng(5)
    for i in range(40):
        created = pd.Timestamp("2026-11-01") + pd.Timedelta(hours=int(rng.integers(0, 600)))
        rows.append({"ticket_id": i, "customer_id": i % 7, "channel": ["email", "chat"][i % 2],
                     "created_at": created, "first_response_at": created + pd.Timedelta(minutes=int(rng.integers(5, 900))),
                     "resolved_at": created + pd.Timedelta(hours=int(rng.integers(1, 100))), "reopened": int(i % 5 == 0)})
    rows.append({"ticket_id": 40, "customer_id": 1, "channel": "email", "created_at": pd.Timestamp("2026-11-30 20:00"),
                 "first_response_at": pd.Timestamp("2026-12-02 09:00"), "resolved_at": pd.Timestamp("2026-12-03"),
                 "reopened": 1})
    for i, when in ((41, "2026-12-04 10:00"), (42, "2099-01-01 10:00")):
        rows.append({"ticket_id": i, "customer_id": 2, "channel": "chat", "created_at": pd.Timestamp(when),
                     "first_response_at": pd.Timestamp(when) + pd.Timedelta(minutes=1),
                     "resolved_at": pd.Timestamp(when) + pd.Timedelta(hours=1), "reopened": 1})
    df = pd.DataFrame(rows)
    path = tmp_path / "tickets.csv"
    df.to_csv(path, index=False)
    return path, df


def test_support_uses_only_what_had_happened_by_as_of(tickets):
    path, df = tickets
    cut = AS_OF
    answered = df[(df["created_at"] <= cut) & (df["first_response_at"] <= cut)]
    minutes = (answered["first_response_at"] - answered["created_at"]).dt.total_seconds() / 60
    d = support.durations(path, as_of=AS_OF)
    assert int(d["n"].sum()) == len(answered)
    assert sorted(np.repeat(d["seconds"], d["n"]) / 60) == sorted(minutes)
    note = _late_note(d, 2, "created_at")
    assert note["counts"]["first_response_at"] == 3  # the one still waiting and the two opened later
    assert "3 rows with 'first_response_at' after" in present.note_text(note).plain
    rt = support.response_times(path, by=None, unit="minute", min_n=1, as_of=AS_OF)
    assert int(rt["n"].iloc[0]) == len(answered)
    assert rt["p50"].iloc[0] == pytest.approx(np.sort(minutes)[int(np.ceil(0.5 * len(minutes))) - 1])
    _late_note(rt, 2, "created_at")
    ta = support.target_attainment(path, targets={"email": 4, "chat": 4}, as_of=AS_OF).set_index("channel")
    for ch, g in answered.assign(m=minutes).groupby("channel"):
        assert ta.loc[ch, "n"] == len(g)
        assert ta.loc[ch, "met"] == int((g["m"] <= 240).sum())
    _late_note(ta, 2, "created_at")
    resolved = df[(df["created_at"] <= cut) & (df["resolved_at"] <= cut)]
    ro = support.reopen_rate(path, by=None, as_of=AS_OF)
    assert int(ro["n"].iloc[0]) == len(resolved)
    assert int(ro["reopened"].iloc[0]) == int(resolved["reopened"].sum())
    _late_note(ro, 2, "created_at")


# ------------------------------------------------------------------------------------------ experiments

def test_compare_leaves_out_units_exposed_after_as_of(tmp_path):
    rng = np.random.default_rng(3)
    n = 200
    df = pd.DataFrame({"unit_id": np.arange(n), "variant": np.where(np.arange(n) % 2, "treatment", "control"),
                       "exposure_time": pd.Timestamp("2026-11-01") + pd.to_timedelta(rng.integers(0, 40 * 86400, n), unit="s"),
                       "revenue": rng.normal(10, 2, n)})
    df.loc[df["variant"] == "treatment", "exposure_time"] = df.loc[df["variant"] == "treatment", "exposure_time"].where(
        np.arange((df["variant"] == "treatment").sum()) % 4 != 0, pd.Timestamp("2099-01-01"))
    df.loc[df["exposure_time"] > AS_OF, "revenue"] += 50  # later units would move the result a lot
    path = tmp_path / "experiment.csv"
    df.to_csv(path, index=False)
    kept = df[df["exposure_time"] <= AS_OF]
    n_late = len(df) - len(kept)
    assert n_late > 10
    for kwargs in ({"time": "exposure_time"}, {}):  # given, and the contract's column by default
        r = experiments.compare(path, control="control", metrics={"revenue": "mean"}, as_of=AS_OF, **kwargs).iloc[0]
        means = kept.groupby("variant")["revenue"].mean()
        counts = kept["variant"].value_counts()
        assert r["n_control"] == counts["control"] and r["n_variant"] == counts["treatment"]
        assert r["control_value"] == pytest.approx(means["control"])
        assert r["variant_value"] == pytest.approx(means["treatment"])
    res = experiments.compare(path, control="control", metrics={"revenue": "mean"}, time="exposure_time", as_of=AS_OF)
    assert res.attrs["as_of"] == AS_OF
    arms = res.attrs["srm"].table.set_index("variant")["n"]  # the allocation check counts the same units
    assert arms.to_dict() == {"control": int(counts["control"]), "treatment": int(counts["treatment"])}
    _late_note(res, n_late, "exposure_time")
