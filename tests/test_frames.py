"""DataFrames straight from pandas: nanosecond timestamps work (floored to the engine's microseconds) and
the caller's frame is left as it was."""
import pandas as pd

from cxlib import metrics


def test_nanosecond_timestamps_are_floored_not_refused_and_the_frame_is_unchanged():
    times = pd.to_datetime(["2026-03-01 23:59:59.999999999", "2026-03-02 00:00:00.000000001",
                            "2026-03-02 10:00:00.000000000"])
    for t in (times, times.tz_localize("UTC")):
        df = pd.DataFrame({"respondent_id": ["a", "b", "c"], "response_time": t, "nps": [9, 3, 10]})
        before = df.copy()
        got = metrics.nps(df, time="response_time", period="day", min_n=1)
        assert df.equals(before)
        # flooring keeps each answer on its own day (23:59:59.999999 stays on 1 March)
        assert got.set_index("period")["n"].to_dict() == {pd.Timestamp("2026-03-01"): 1, pd.Timestamp("2026-03-02"): 2}
