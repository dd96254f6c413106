"""scorecard.headline(sequential=True): always-valid "beyond noise?" flags (issue 14), checked against the
confidence-sequence formula written out here and against the fixed-horizon headline."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlib import scorecard

ALPHA = 0.05


def _cs(change, se, n, n_opt):
    """Normal-mixture confidence sequence (Waudby-Smith et al. 2023), written out independently."""
    a = n * (-2 * np.log(ALPHA) + np.log(1 - 2 * np.log(ALPHA))) / n_opt
    half = se * np.sqrt(2 * (a + 1) / a * np.log(np.sqrt(a + 1) / ALPHA))
    p = min(1.0, np.sqrt(1 + a) * np.exp(-a * (change / se) ** 2 / (2 * (1 + a))))
    return change - half, change + half, p


@pytest.mark.parametrize("n_opt", [None, 20_000])
def test_sequential_headline_uses_the_confidence_sequence(sample_dir, n_opt):
    src = str(sample_dir / "responses.csv")
    fixed = scorecard.headline(src)
    seq = scorecard.headline(src, sequential=True, n_opt=n_opt)
    assert seq.attrs["sequential"] and not fixed.attrs["sequential"]
    same = ["metric", "week", "n", "value", "ci_lower", "ci_upper", "comparison", "baseline", "baseline_n", "change"]
    pd.testing.assert_frame_equal(seq[same], fixed[same])
    raw = pd.read_csv(src)
    ts = pd.to_datetime(raw["response_time"], format="ISO8601")
    week = pd.Timestamp(fixed.attrs["week"])
    for (_, f), (_, s) in zip(fixed.iterrows(), seq.iterrows()):
        if pd.isna(f["change"]):
            assert pd.isna(s["change_ci_lower"]) and not s["beyond_noise"]
            continue
        if f["metric"] == "nps":  # the standard error from the raw answers (trinomial), independently
            def part(lo, hi):
                x = raw.loc[(ts >= lo) & (ts < hi), "nps"].dropna()
                sc = np.select([x >= 9, x <= 6], [100.0, -100.0], 0.0)
                return sc.mean(), sc.var(ddof=0) / len(sc), len(sc)
            weeks = 1 if f["comparison"] == "previous week" else 4
            (m1, v1, n1), (m0, v0, n0) = part(week, week + pd.Timedelta(days=7)), part(week - pd.Timedelta(weeks=weeks), week)
            se = np.sqrt(v1 + v0)
            assert f["change"] == pytest.approx(m1 - m0, rel=1e-9)
        else:
            se = (f["change_ci_upper"] - f["change"]) / 1.959963984540054
            n1, n0 = f["n"], f["baseline_n"]
        lo, hi, p = _cs(f["change"], se, n1 + n0, n1 + n0 if n_opt is None else n_opt)
        assert (s["change_ci_lower"], s["change_ci_upper"]) == pytest.approx((lo, hi), rel=1e-9)
        assert s["p_value"] == pytest.approx(p, rel=1e-9)
        assert s["beyond_noise"] == (p < ALPHA)
        assert s["change_ci_lower"] < f["change_ci_lower"] and s["change_ci_upper"] > f["change_ci_upper"]
        assert s["p_value"] >= f["p_value"]


def test_daily_checks_of_an_unchanged_score_rarely_flag_with_sequential():
    """A/A: a week of NPS answers checked every day against last week's. The headline's rule applied
    to simulated counts: naive z flags far more often than alpha over 7 looks x 20 weeks; the sequence not."""
    from cxlib.experiments import confidence_sequence

    rng = np.random.default_rng(12)
    sims, days, per_day = 4000, 7, 60
    base = rng.multinomial(per_day * days, [0.45, 0.30, 0.25], size=sims)
    cur = np.cumsum(rng.multinomial(per_day, [0.45, 0.30, 0.25], size=(sims, days)), axis=1)

    def nps(c):
        n = c.sum(-1)
        p, d = c[..., 0] / n, c[..., 2] / n
        return 100 * (p - d), 1e4 * (p + d - (p - d) ** 2) / n, n

    m1, v1, n1 = nps(cur)
    m0, v0, n0 = nps(base[:, None, :])
    diff, se = m1 - m0, np.sqrt(v1 + v0)
    naive = (np.abs(diff / se) > 1.96).any(axis=1).mean()
    lo, hi, p = confidence_sequence(diff, se, n1 + n0, n_opt=2 * per_day * days)
    seq = (p < ALPHA).any(axis=1).mean()
    print(f"scorecard A/A, 7 daily looks: naive {naive:.3f}, always-valid {seq:.3f}")
    assert naive > 0.09 and seq <= ALPHA
