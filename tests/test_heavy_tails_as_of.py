"""The heavy-tail check counts the units the comparison counts: units exposed after the analysis date are
left out by the same helper compare uses (issue 21), so an extreme unit exposed later neither fires the
rule nor moves the threshold. Brute force in numpy on the hand-written rows exposed by ``as_of``."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlib import experiments
from cxlib.experiments import heavy_tails as ht
from cxlib import present
from cxlib.notes import codes

AS_OF = "2026-11-30"


def _rows(tmp_path, time_col="exposure_time"):
    """1,000 units exposed in November, light-tailed rounds; 40 more exposed in December, one of them at
    ~1,000x the median (it would make 'rounds' heavy if it were counted)."""
    i = np.arange(1040)
    df = pd.DataFrame({"unit_id": [f"u{k}" for k in i],
                       "variant": np.where(i % 2 == 1, "treatment", "control"),
                       "rounds": 1.0 + (i * 37) % 60,
                       time_col: [f"2026-11-{1 + k % 29:02d} 10:00" if k < 1000 else "2026-12-03 09:00" for k in i]})
    df.loc[1001, "rounds"] = 60_000.0  # a December unit (treatment)
    path = tmp_path / "exp.csv"
    df.to_csv(path, index=False)
    return path, df


def _brute(df, q):
    cap = np.quantile(df["rounds"].to_numpy(float), q)
    out = {}
    for arm, g in df.groupby("variant"):
        y = g["rounds"].to_numpy(float)
        c = np.minimum(y, cap)
        se = y.std(ddof=1) / np.sqrt(len(y))
        out[arm] = dict(n=len(y), mean=y.mean(), capped=c.mean(), shift=(y.mean() - c.mean()) / se,
                        k=int((y > cap).sum()), cap=cap)
    return out


def test_units_exposed_after_as_of_are_left_out_of_the_heavy_tail_check(tmp_path):
    path, df = _rows(tmp_path)
    tails = ht.check(path, control="control", metrics={"rounds": "mean"}, as_of=AS_OF)
    kept = df[pd.to_datetime(df["exposure_time"]) <= pd.Timestamp(AS_OF)]
    want = _brute(kept, ht.RULE_QUANTILE)
    got = tails.set_index("variant")
    for arm in ("control", "treatment"):
        assert got.loc[arm, "n"] == want[arm]["n"] == 500
        assert got.loc[arm, "mean"] == pytest.approx(want[arm]["mean"], rel=1e-12)
        assert got.loc[arm, "capped_mean"] == pytest.approx(want[arm]["capped"], rel=1e-12)
        assert got.loc[arm, "cap_value"] == pytest.approx(want[arm]["cap"], rel=1e-12)
        assert got.loc[arm, "n_capped"] == want[arm]["k"]
    assert not got["heavy"].any()
    assert tails.attrs["as_of"] == pd.Timestamp(AS_OF) + pd.Timedelta(days=1, seconds=-1)  # the end of that day
    late = [n for n in tails.attrs["notes"] if getattr(n, "code", None) == "rows_after_as_of"]
    assert len(late) == 1 and late[0]["counts"] == {"exposure_time": 40}
    # the same units as the comparison
    r = experiments.compare(path, control="control", metrics={"rounds": "mean"}, as_of=AS_OF)
    assert (r["n_control"].iloc[0], r["n_variant"].iloc[0]) == (got.loc["control", "n"], got.loc["treatment", "n"])


def test_without_as_of_cut_the_later_extreme_unit_would_fire_the_rule(tmp_path):
    """The control of the test above: counted, the December unit makes the metric heavy."""
    path, df = _rows(tmp_path)
    tails = ht.check(path, control="control", metrics={"rounds": "mean"}, as_of="2026-12-31")
    want = _brute(df, ht.RULE_QUANTILE)
    got = tails.set_index("variant")
    assert got.loc["treatment", "n"] == want["treatment"]["n"] == 520
    assert got["heavy"].all() and "heavy_tail" in codes(tails.attrs["notes"])
    assert got.loc["treatment", "shift_in_se"] == pytest.approx(want["treatment"]["shift"], rel=1e-9)


def test_a_named_time_column_and_the_page_note_in_words(tmp_path):
    path, df = _rows(tmp_path, time_col="first_seen")
    tails = ht.check(path, control="control", metrics={"rounds": "mean"}, time="first_seen", as_of=AS_OF)
    assert tails.set_index("variant")["n"].to_dict() == {"control": 500, "treatment": 500}
    words = present.data_notes(tails).plain
    assert "40 rows with 'first_seen' after 30 Nov 2026 23:59" in words and "left out" in words
    # capped comparison on the same units (compare_capped passes as_of / time through to compare)
    fixed = ht.check(path, control="control", metrics={"rounds": "mean"}, time="first_seen", as_of=AS_OF, cap=0.9)
    capped = ht.compare_capped(path, fixed, metrics={"rounds": "mean"}, control="control", time="first_seen",
                               as_of=AS_OF)
    assert capped["n_variant"].iloc[0] == 500


def test_a_table_without_an_exposure_time_is_checked_whole(tmp_path):
    path, df = _rows(tmp_path)
    df.drop(columns="exposure_time").to_csv(path, index=False)
    tails = ht.check(path, control="control", metrics={"rounds": "mean"}, as_of=AS_OF)
    assert tails["n"].sum() == 1040 and tails.attrs["as_of"] is None
    assert "rows_after_as_of" not in codes(tails.attrs["notes"])
