"""support.response_time_histogram: log-spaced bins, shares and medians per channel, checked against numpy on
the raw durations of hand-written tickets (one value per ticket, before they are counted)."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from cxlib import support

RAW = {  # seconds to first response, one per ticket
    "chat": [0, 30, 30, 45, 60, 60, 60, 120, 300, 900, 3600],
    "email": [600, 3600, 3600, 7200, 14400, 14400, 28800, 86400, 172800, 259200],
}


def _counts():
    """The raw durations as support.durations returns them: tickets per (channel, seconds)."""
    rows = [dict(channel=ch, seconds=s, n=n) for ch, secs in RAW.items() for s, n in sorted(Counter(secs).items())]
    t = pd.DataFrame(rows)
    t.attrs.update(by=["channel"], notes=[], as_of=pd.Timestamp("2026-10-31"))
    return t


def test_bins_shares_and_medians_match_numpy_on_the_raw_durations():
    out = support.response_time_histogram(_counts(), bins=12)
    hours = {ch: np.maximum(np.array(v, float), 1) / 3600 for ch, v in RAW.items()}
    every = np.concatenate(list(hours.values()))
    edges = np.geomspace(every.min(), every.max() * 1.001, 13)  # shared bins, a hair past the longest wait
    for ch, h in hours.items():
        g = out[out["channel"] == ch].sort_values("lower")
        assert len(g) == 12
        np.testing.assert_allclose(g["lower"], edges[:-1], rtol=1e-12)
        np.testing.assert_allclose(g["upper"], edges[1:], rtol=1e-12)
        n, _ = np.histogram(h, bins=edges)
        assert g["n"].tolist() == n.tolist()
        np.testing.assert_allclose(g["share"], n / len(h), rtol=1e-12)
        assert g["share"].sum() == pytest.approx(1.0)
        # the lower median: the shortest wait that half the tickets do not exceed
        assert g["median"].iloc[0] == pytest.approx(np.percentile(h, 50, method="inverted_cdf"), rel=1e-12)
        assert (g["tickets"] == len(h)).all() and (g["unit"] == "hour").all()


def test_hand_computed_medians():
    out = support.response_time_histogram(_counts(), by="channel")
    med = out.groupby("channel")["median"].first()
    assert med["chat"] == pytest.approx(60 / 3600)      # 6th of 11 waits: one minute
    assert med["email"] == pytest.approx(14400 / 3600)  # 5th of 10 waits: four hours
    assert out.attrs["as_of"] == pd.Timestamp("2026-10-31")


def test_whole_table_without_segments_and_empty_counts():
    counts = _counts()
    whole = counts.drop(columns="channel").groupby("seconds", as_index=False)["n"].sum()
    one = support.response_time_histogram(whole, by=[], bins=5)
    assert list(one.columns) == ["lower", "upper", "n", "share", "median", "tickets", "unit"]
    assert one["n"].sum() == sum(len(v) for v in RAW.values())
    empty = support.response_time_histogram(counts.iloc[:0], by="channel")
    assert empty.empty and "median" in empty.columns
