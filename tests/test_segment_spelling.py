"""Same value, different spelling; segments named by header text; a segment of blank scores (issue 22).

Hand-written rows: "EMEA", "EMEA " and "emea" are one segment in every analysis that splits by segment
(trimmed; case variants merged under the most frequent spelling, with a ``segment_case_merged`` note in
``attrs['notes']``); a SurveyMonkey-style export (two header rows) takes its header text as ``by=``; a
segment value whose scores are all blank is a row with n = 0, suppressed. Every figure is checked against
pandas on the same rows.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlib import churn, cohorts, drivers, journey, metrics, revenue, scorecard, sources, support, survival, themes
from cxlib.notes import codes

AS_OF = "2026-06-30"
SPELLINGS = ["EMEA"] * 5 + ["EMEA "] * 3 + ["emea"] * 2 + ["APAC"] * 4 + [" APAC"] * 2 + ["LATAM"] * 3


def _canonical(values: pd.Series) -> pd.Series:
    """The brute-force rule: trim, then the most frequent trimmed spelling of each lower-cased key."""
    s = values.str.strip()
    counts = s.value_counts()
    best = {}
    for v, n in sorted(counts.items(), key=lambda kv: (kv[0].lower(), -kv[1], kv[0])):
        best.setdefault(v.lower(), v)
    return s.map(lambda v: best[v.lower()] if isinstance(v, str) else v)


def _merged(res):
    return [n for n in res.attrs["notes"] if getattr(n, "code", None) == "segment_case_merged"]


def _responses(tmp_path):
    rng = np.random.default_rng(3)
    n = len(SPELLINGS) * 3
    df = pd.DataFrame({"respondent_id": [f"r{i}" for i in range(n)],
                       "response_time": [f"2026-05-{1 + i % 28:02d} 10:00:00" for i in range(n)],
                       "region": (SPELLINGS * 3)[:n],
                       "nps": rng.integers(0, 11, n), "csat": rng.integers(1, 6, n),
                       "drv_a": rng.integers(1, 8, n), "drv_b": rng.integers(1, 8, n),
                       "comment": ["slow delivery" if i % 3 else "great support" for i in range(n)]})
    df["nps"] = np.clip(df["nps"] + (df["drv_a"] - 4), 0, 10)
    path = tmp_path / "responses.csv"
    df.to_csv(path, index=False)
    return path, df


def test_nps_counts_trimmed_and_case_merged_segments_as_pandas_does(tmp_path):
    path, df = _responses(tmp_path)
    res = metrics.nps(str(path), by="region", min_n=1, as_of=AS_OF)
    seg = _canonical(df["region"])
    want = df.assign(region=seg).groupby("region")["nps"].agg(
        n="count", nps=lambda s: 100 * ((s >= 9).mean() - (s <= 6).mean()))
    got = res.set_index("region")
    assert sorted(got.index) == sorted(want.index) == ["APAC", "EMEA", "LATAM"]
    assert got.loc[want.index, "n"].tolist() == want["n"].tolist()
    assert np.allclose(got.loc[want.index, "nps"], want["nps"])
    merged = _merged(res)
    assert [(m["column"], m["value"], m["variants"]) for m in merged] == [("region", "EMEA", ["EMEA", "emea"])]


def test_every_segment_analysis_of_responses_merges_the_same_way_and_says_so(tmp_path):
    path, df = _responses(tmp_path)
    seg = _canonical(df["region"])
    n_want = seg.value_counts().sort_index()
    results = {
        "csat": metrics.csat(str(path), by="region", min_n=1, as_of=AS_OF),
        "themes": themes.theme_counts(str(path), by="region", as_of=AS_OF, min_n=1),
        "drivers": drivers.key_drivers(str(path), outcome="nps", drivers=["drv_a", "drv_b"], by="region",
                                       bootstrap=0, min_n=1, as_of=AS_OF),
    }
    assert results["csat"].set_index("region")["n"].sort_index().tolist() == n_want.tolist()
    th = results["themes"].drop_duplicates("region").set_index("region")["comments"].sort_index()
    assert th.tolist() == n_want.tolist()
    assert set(results["drivers"]["region"]) == set(n_want.index)
    for name, res in results.items():
        assert "segment_case_merged" in codes(res.attrs["notes"]), name
    week = scorecard.segment_table(str(path), by="region", as_of=AS_OF, week="2026-05-25", min_n=1)
    in_week = df[pd.to_datetime(df["response_time"]).between("2026-05-25", "2026-05-31 23:59:59")]
    want_week = _canonical(df["region"])[in_week.index].value_counts()
    got_week = week[week["n"] > 0].set_index("value")["n"]
    assert got_week.sort_index().tolist() == want_week.sort_index().tolist()
    assert set(week["value"]) <= {"APAC", "EMEA", "LATAM"}


def test_event_subscription_and_ticket_analyses_merge_spellings(tmp_path):
    n = len(SPELLINGS)
    subs = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)],
                         "start_time": [f"2025-{1 + i % 6:02d}-01" for i in range(n)],
                         "end_time": [f"2026-{1 + i % 5:02d}-15" if i % 3 == 0 else "" for i in range(n)],
                         "plan": SPELLINGS})
    sp = tmp_path / "subs.csv"
    subs.to_csv(sp, index=False)
    seg = _canonical(subs["plan"])
    km = survival.kaplan_meier(str(sp), start="start_time", end="end_time", as_of=AS_OF, by="plan")
    med = km.attrs["medians"].set_index("plan")["n"].sort_index()
    assert med.tolist() == seg.value_counts().sort_index().tolist()
    assert "segment_case_merged" in codes(km.attrs["notes"])
    ch = churn.churn_rate(str(sp), by="plan", as_of=AS_OF)
    assert set(ch["plan"]) == set(seg) and "segment_case_merged" in codes(ch.attrs["notes"])

    ev = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)] * 2,
                       "event_time": [f"2026-01-{1 + i % 20:02d} 09:00:00" for i in range(n)]
                       + [f"2026-02-{1 + i % 20:02d} 09:00:00" for i in range(n)],
                       "event_name": ["signup"] * n + ["first_value"] * n, "plan": SPELLINGS * 2})
    ep = tmp_path / "events.csv"
    ev.to_csv(ep, index=False)
    rt = cohorts.retention_table(str(ep), by="plan", as_of=AS_OF, min_n=1)
    sizes = rt[rt["period"] == 0].groupby("plan")["cohort_size"].sum().sort_index()
    assert sizes.tolist() == seg.value_counts().sort_index().tolist()
    assert "segment_case_merged" in codes(rt.attrs["notes"])
    fn = journey.funnel(str(ep), steps=["signup", "first_value"], by="plan", as_of=AS_OF, min_n=1)
    first = fn[fn["position"] == 1].set_index("plan")["reached"].sort_index()
    assert first.tolist() == seg.value_counts().sort_index().tolist()
    assert "segment_case_merged" in codes(fn.attrs["notes"])

    tk = pd.DataFrame({"ticket_id": range(n), "customer_id": [f"c{i % 5}" for i in range(n)],
                       "created_at": [f"2026-03-{1 + i % 20:02d} 09:00:00" for i in range(n)],
                       "first_response_at": [f"2026-03-{1 + i % 20:02d} {10 + i % 5}:00:00" for i in range(n)],
                       "channel": SPELLINGS})
    tp = tmp_path / "tickets.csv"
    tk.to_csv(tp, index=False)
    rtimes = support.response_times(str(tp), by="channel", as_of=AS_OF, min_n=1)
    assert rtimes.set_index("channel")["n"].sort_index().tolist() == seg.value_counts().sort_index().tolist()
    assert "segment_case_merged" in codes(rtimes.attrs["notes"])

    mrr = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)] * 2,
                        "month": ["2026-01-01"] * n + ["2026-02-01"] * n,
                        "mrr": [100.0] * n + [100.0 if i % 4 else 0.0 for i in range(n)], "plan": SPELLINGS * 2})
    mp = tmp_path / "mrr.csv"
    mrr.to_csv(mp, index=False)
    nrr = revenue.net_revenue_retention(str(mp), by="plan", as_of=AS_OF, min_n=1)
    assert set(nrr["plan"]) == set(seg) and "segment_case_merged" in codes(nrr.attrs["notes"])
    want = seg.value_counts()
    assert nrr.groupby("plan")["n"].sum().sort_index().tolist() == want.sort_index().tolist()


def _surveymonkey(tmp_path):
    """A SurveyMonkey export: respondent fields and questions in row 1, 'Response' / row labels in row 2."""
    head1 = ["Respondent ID", "Collector ID", "Start Date", "End Date",
             "How likely are you to recommend us to a friend?", "Which region are you in?"]
    head2 = ["", "", "", "", "Response", "Response"]
    rows = []
    regions = ["Europe", "Europe ", "europe", "Asia", "Asia", "Americas"] * 6
    for i, r in enumerate(regions):
        rows.append([str(1000 + i), "42", "05/02/2026 09:00:00 AM", f"05/{2 + i % 20:02d}/2026 09:05:00 AM",
                     str((i * 7) % 11), r])
    rows[-1][4] = ""  # one blank score (Americas keeps others)
    path = tmp_path / "sm.csv"
    pd.DataFrame([head1, head2, *rows]).to_csv(path, index=False, header=False)
    body = pd.DataFrame(rows, columns=head1)
    return path, body


def test_a_segment_named_by_the_exports_header_text(tmp_path):
    path, body = _surveymonkey(tmp_path)
    t = sources.read({"path": str(path)}, kind="responses")
    assert sources.metadata(t)["layout"] == "surveymonkey"
    score = pd.to_numeric(body["How likely are you to recommend us to a friend?"], errors="coerce")
    seg = _canonical(body["Which region are you in?"])
    want = pd.DataFrame({"seg": seg, "s": score}).groupby("seg")["s"].count().sort_index()
    res = metrics.nps(t, by="Which region are you in?", min_n=1, as_of=AS_OF)
    col = ["which_region_are_you_in"]  # the result names the segment as the table does (the layout's slug)
    assert col[0] in res.columns
    got = res.set_index(col[0])["n"].sort_index()
    assert got.index.tolist() == want.index.tolist() and got.tolist() == want.tolist()
    assert "segment_case_merged" in codes(res.attrs["notes"])
    # the same column by its name and loosely by its header text: the same answer
    again = metrics.nps(t, by=col[0], min_n=1, as_of=AS_OF)
    pd.testing.assert_frame_equal(res.reset_index(drop=True), again.reset_index(drop=True), check_like=True)
    loose = metrics.nps(t, by="which region are you in", min_n=1, as_of=AS_OF)
    assert loose[col[0]].tolist() == res[col[0]].tolist()


def test_a_segment_value_whose_scores_are_all_blank_is_a_row_with_n_zero(tmp_path):
    df = pd.DataFrame({"respondent_id": [f"r{i}" for i in range(9)],
                       "response_time": ["2026-05-01 10:00:00"] * 9,
                       "touchpoint": ["web", "web", "web", "app", "app", "store", "store", "phone", None],
                       "nps": [10, 9, 3, 7, "", "", "", 8, 2]})
    path = tmp_path / "r.csv"
    df.to_csv(path, index=False)
    res = metrics.nps(str(path), by="touchpoint", min_n=1, as_of=AS_OF)
    score = pd.to_numeric(df["nps"], errors="coerce")
    want = score.groupby(df["touchpoint"].fillna("<none>")).count()
    got = res.assign(touchpoint=res["touchpoint"].fillna("<none>")).set_index("touchpoint")
    assert sorted(got.index) == sorted(want.index)       # 'store' (blank scores only) is a row
    assert got.loc[want.index, "n"].tolist() == want.tolist()
    assert got.loc["store", "n"] == 0 and bool(got.loc["store", "suppressed"]) and np.isnan(got.loc["store", "nps"])
    assert not got.drop(index="store")["suppressed"].any()
    share = metrics.csat(str(path), score="nps", scale=(0, 10), by="touchpoint", min_n=1, as_of=AS_OF)
    assert share.set_index("touchpoint").loc["store", "n"] == 0
