"""The experiment page's new pieces: the confidence sequence in the cumulative figure, the segment
explorer and quantile answers/tables (escaped, no NaN / True / snake_case)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from cxlib import experiments as ex  # noqa: E402
from cxlib import plots, present  # noqa: E402
from cxlib.experiments import Metric  # noqa: E402


@pytest.fixture(scope="module")
def units():
    rng = np.random.default_rng(5)
    n = 6000
    variant = rng.choice(["control", "<b>bold</b>"], size=n)
    seg = rng.choice(["p", "q", "r", "s", "<i>t</i>"], size=n)
    y = rng.normal(10, 3, n) + np.where(variant != "control", 0.4, 0.0)
    return pd.DataFrame({"unit_id": np.arange(n), "variant": variant, "seg": seg, "y": y,
                         "minutes": rng.lognormal(3, 1, n),
                         "exposure_time": pd.Timestamp("2026-10-01") + pd.to_timedelta(np.arange(n) % 10, unit="D")})


def _html(obj) -> str:
    return obj.as_raw_html() if hasattr(obj, "as_raw_html") else str(obj)


def test_cumulative_figure_draws_the_confidence_sequence(units):
    seq = ex.cumulative(units, control="control", metric=Metric("y"), sequential=True)
    plain = ex.cumulative(units, control="control", metric=Metric("y"))
    ax_seq, ax_plain = plots.cumulative_lift(seq), plots.cumulative_lift(plain)
    assert len(ax_seq.get_lines()) == len(ax_plain.get_lines()) + 2       # two dashed bounds per variant
    dashed = [ln for ln in ax_seq.get_lines() if ln.get_linestyle() == "--" and ln.get_linewidth() == pytest.approx(1.1)]
    assert len(dashed) == 2
    g = seq[seq["variant"] != "control"].sort_values("period")
    np.testing.assert_allclose(dashed[1].get_ydata(), g["cs_upper"] / g["control_value"])
    alt = ax_seq.figure.cx_alt
    assert "always-valid" in alt and "always-valid" not in ax_plain.figure.cx_alt


def test_explorer_answer_and_table_are_escaped_and_plain(units):
    res = ex.compare(units, control="control", metrics=[Metric("y")], by="seg")
    e = ex.segment_explorer(res)
    html = str(present.experiment_explorer_answer(e, segment="seg"))
    assert "<b>bold</b>" not in html and "&lt;b&gt;" in html and "<i>t</i>" not in html
    assert "pull each segment toward the overall effect" in html
    tab = _html(present.experiment_explorer_table(e))
    assert "<i>t</i>" not in tab and "Shrunken estimate" in tab and "Stands out?" in tab
    for bad in ("nan", "NaN", "True", "False", "q_value", "shrunk_diff"):
        assert bad not in tab.replace("nanum", "")
    two = ex.segment_explorer(ex.compare(units[units["seg"].isin(["p", "q"])], control="control",
                                         metrics=[Metric("y")], by="seg"))
    assert "at least four segment values" in str(present.experiment_explorer_answer(two, segment="seg"))
    assert "Shrunken estimate" not in _html(present.experiment_explorer_table(two))


def test_quantile_answer_and_table(units):
    q = ex.compare(units, control="control", metrics=[Metric("minutes", "median", direction="decrease")])
    html = str(present.experiment_quantile_answer(q))
    assert "Minutes median" in html or "minutes median" in html.lower()
    assert "&lt;b&gt;bold" in html and "<b>bold</b>" not in html
    tab = _html(present.experiment_results_table(q, primary="y"))
    assert "(primary)" not in tab
