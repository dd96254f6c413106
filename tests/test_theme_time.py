"""Theme counts cut their periods like the metrics: in the reporting time zone, weeks from week_start."""
import pandas as pd

from cxlib import themes


def _frame():
    # Sunday 23:30 UTC is Monday 00:30 in Berlin: the week it belongs to depends on tz and week_start
    times = ["2026-11-22T23:30:00+00:00", "2026-11-23T10:00:00+00:00", "2026-11-21T12:00:00+00:00",
             "2026-11-29T22:45:00+00:00"]
    return pd.DataFrame({"respondent_id": [f"r{i}" for i in range(4)], "response_time": times,
                         "comment": ["The app is slow to load."] * 4, "nps": [3, 9, 7, 10]})


def _brute(tz, week_start):
    t = pd.to_datetime(_frame()["response_time"], utc=True).dt.tz_convert(tz).dt.tz_localize(None)
    offset = {"monday": 0, "sunday": 6}[week_start]     # weekday() of the first day of the week
    start = (t.dt.normalize() - pd.to_timedelta((t.dt.day_of_week - offset) % 7, unit="D"))
    return start.value_counts().sort_index()


def test_theme_counts_weeks_follow_tz_and_week_start():
    for tz, ws in [("UTC", "monday"), ("Europe/Berlin", "monday"), ("UTC", "sunday"), ("America/New_York", "sunday")]:
        got = themes.theme_counts(_frame(), time="response_time", period="week", tz=tz, week_start=ws, min_n=1)
        got = got.drop_duplicates("period").set_index("period")["comments"].sort_index()
        want = _brute(tz, ws)
        assert list(got.index) == list(want.index), (tz, ws, got, want)
        assert list(got.to_numpy()) == list(want.to_numpy()), (tz, ws)
