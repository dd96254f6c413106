"""The weekly CX scorecard page, computed: every result the notebook shows, and which inputs it can use.

One function per section of ``notebooks/cx_scorecard.ipynb``; each returns a small dataclass of
DataFrames (no words: :mod:`cxlib.present.cx_scorecard` turns them into sentences and tables).

- :func:`setup`: the inputs the page can use (only the user's data, the columns they have, no personal
  data), the display labels of the sources, and the segment columns used or skipped.
- :func:`scores`: this week's NPS / CSAT / CES against last week and the prior weeks, and the weekly trend.
- :func:`what_moved`: the shift-share split of this week's NPS change (who answered vs within segments).
- :func:`segments`: this week's NPS per segment value.
- :func:`support`: first response this week against the prior weeks, weekly trend, targets, resolution,
  repeat contacts and reopens (when a tickets table is given).
- :func:`journey`: NPS per journey stage, the funnel, its weakest step, time to first value, and after
  which touch customers leave (each when its input is there).
- :func:`voice`: this week's comment themes, the rising ones, and the detractors to call back.
- :func:`summary`: what the page's answer reads (the scores with a value, support changes when any could
  be tested, rising themes, stages).

Each result is computed once per :class:`Setup` (the answer at the top of the page reads the sections'
results) and, when :func:`setup` was given ``publish``, published once under the page's table names.

Examples
--------
>>> from cxlib.pages import cx_scorecard as page
>>> s = page.setup({"responses": "data/sample/responses.csv", "tickets": None, "events": None,
...                 "subscriptions": None})  # doctest: +SKIP
>>> page.scores(s).head[["metric", "comparison", "value", "change"]]  # doctest: +SKIP
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import pandas as pd

from cxlib import data as cxdata
from cxlib import journey as cxjourney
from cxlib import scorecard, sources, themes
from cxlib import support as cxsupport
from cxlib.data import PERSONAL_DATA_DEFAULT
from cxlib.pages.inputs import Inputs, resolve
from cxlib.pages.once import once, published

__all__ = ["Setup", "Scores", "Moved", "Segments", "Support", "Journey", "Voice", "Summary", "setup", "scores",
           "what_moved", "segments", "support", "journey", "voice", "summary", "noted", "DEFAULTS"]

#: The page's parameters and their defaults (the notebook's parameters cell), used when a name is absent.
DEFAULTS: dict[str, Any] = {
    "responses": "data/sample/responses.csv", "tickets": None, "events": None, "subscriptions": None,
    "week": None, "prior_weeks": 4, "segments": ["channel", "plan", "region", "touchpoint"],
    "stage": "touchpoint", "journey_steps": ["signup", "onboarding_done", "first_value", "checkout_started",
                                             "purchase"],
    "targets": {"email": 12, "chat": 0.1, "phone": 0.05}, "repeat_days": 7, "touch_window": 30,
    "personal_columns": ["email", "name", "phone"], "taxonomy": None, "min_n": 30, "tz": None,
    "week_start": "monday", "always_valid": False, "as_of": None,
}

#: Score columns that keep their short names whatever a source's layout calls them.
_SCORES = ("nps", "csat", "ces")
#: Weeks of the trend figure, ending with the reported week.
TREND_WEEKS = 26
#: Resamples and seed of what_changed's intervals (the page's fixed choice: same intervals every run).
BOOTSTRAP, SEED = 500, 20261124


@dataclass
class Setup:
    """The inputs the page runs with.

    ``values``: every parameter (after :func:`cxlib.pages.resolve`: demo tables beside the user's left out,
    sample-column defaults skipped); ``inputs``: the resolution (its notes go to "About the data");
    ``labels``: display names from the sources' layouts or specs; ``personal``: personal-data columns
    never shown; ``usable``: the responses' columns apart from those; ``segments_used`` /
    ``segments_skipped``: the segment parameter split by that; ``tables``: the responses, tickets and
    events tables read (None when not given), for their source notes.
    """

    values: dict
    inputs: Inputs
    labels: dict
    personal: list
    usable: set
    segments_used: list
    segments_skipped: list
    tables: tuple
    publish: Callable | None = None
    results: dict = field(default_factory=dict, repr=False)

    @property
    def min_n(self) -> int:
        return self.values["min_n"]

    @property
    def repeat_days(self):
        return self.values["repeat_days"]

    @property
    def prior_weeks(self) -> int:
        return self.values["prior_weeks"]

    @property
    def steps(self) -> list:
        return list(self.values["journey_steps"])

    def score(self, name: str) -> str | None:
        """``name`` when the responses have that score column (CSAT, CES are optional), else None."""
        return name if name in self.usable else None

    def window(self) -> dict:
        """The reporting window every section shares: analysis date, time zone, first day of the week."""
        v = self.values
        return {"as_of": v["as_of"], "tz": v["tz"], "week_start": v["week_start"]}


def setup(params: Mapping[str, Any], *, publish: Callable | None = None) -> Setup:
    """The page's inputs from its parameters (a notebook passes ``globals()``).

    ``publish`` (e.g. :func:`cxlib.reports.publish`) is called once per result table, with the page's
    table names, the first time a section computes it.

    Examples
    --------
    >>> s = setup({"responses": "data/sample/responses.csv"})  # doctest: +SKIP
    >>> s.segments_used  # doctest: +SKIP
    ['channel', 'plan', 'region', 'touchpoint']
    """
    values = {k: params.get(k, d) for k, d in DEFAULTS.items()}
    inputs = resolve("cx_scorecard", values)
    values.update(inputs.values)
    answers = cxdata.as_table(values["responses"])
    tickets = cxdata.as_table(values["tickets"]) if values["tickets"] is not None else None
    events = cxdata.as_table(values["events"]) if values["events"] is not None else None
    labels = {}
    for t in (tickets, answers):  # the responses' names win over the tickets'
        if t is not None:
            labels.update({k: v for k, v in sources.metadata(t)["labels"].items() if v != k and k not in _SCORES})
    personal = sorted(set(values["personal_columns"]) | set(PERSONAL_DATA_DEFAULT))
    usable = set(cxdata.drop_personal(answers, personal).columns)
    used = [s for s in values["segments"] if s in usable]
    skipped = [s for s in values["segments"] if s not in usable]
    return Setup(values, inputs, labels, personal, usable, used, skipped, (answers, tickets, events), publish)


# ------------------------------------------------------------------------------------------ 1. scores

@dataclass
class Scores:
    """This week's scores: ``head`` (:func:`cxlib.scorecard.headline`), ``trends`` (every week,
    :func:`cxlib.scorecard.weekly_trends`), ``week`` and ``week_end`` (its first and last day), ``recent``
    (the trend's last weeks up to this one, the rows shown: not suppressed), ``has_values`` (a score has a
    value this week), ``drawable`` (the trend has a point to draw)."""

    head: pd.DataFrame
    trends: pd.DataFrame
    week: pd.Timestamp
    week_end: pd.Timestamp
    prior_weeks: int
    recent: pd.DataFrame
    has_values: bool
    drawable: bool


def _scores(s: Setup) -> Scores:
    v, win = s.values, s.window()
    head = published(s, scorecard.headline(v["responses"], week=v["week"], csat=s.score("csat"), ces=s.score("ces"),
                                      prior_weeks=v["prior_weeks"], min_n=v["min_n"], sequential=v["always_valid"],
                                      **win), "headline")
    week = head.attrs["week"]
    trends = published(s, scorecard.weekly_trends(v["responses"], csat=s.score("csat"), ces=s.score("ces"), weeks=None,
                                             min_n=v["min_n"], **win), "weekly_trends")
    recent = trends[(trends["period"] > week - pd.Timedelta(weeks=TREND_WEEKS)) & (trends["period"] <= week)]
    recent = recent[~recent["suppressed"]]
    return Scores(head, trends, week, week + pd.Timedelta(days=6), int(v["prior_weeks"]), recent,
                  bool(head["value"].notna().any()), bool(len(recent)))


def scores(s: Setup) -> Scores:
    """Section 1 (and the key figures): this week's NPS, CSAT and CES, published as ``headline`` and
    ``weekly_trends``. CSAT and CES are measured when the responses have those columns."""
    return once(s, "scores", _scores)


# ------------------------------------------------------------------------------------------ 2. what moved

@dataclass
class Moved:
    """What moved NPS: ``result`` (:func:`cxlib.scorecard.what_changed`, None when not computed), ``by``
    (the segment column split by), ``status``: ``'ok'``, ``'no_segment'`` (no stage or segment column)
    or ``'too_few_weeks'`` (no NPS answers this week or none in the prior weeks); ``prior_weeks``."""

    result: pd.DataFrame | None
    by: str | None
    status: str
    prior_weeks: int


def _what_moved(s: Setup) -> Moved:
    v, sc = s.values, scores(s)
    by = v["stage"] if v["stage"] in s.usable else (s.segments_used[0] if s.segments_used else None)
    if by is None:
        return Moved(None, None, "no_segment", s.prior_weeks)
    t = sc.trends
    answered = t.loc[(t["metric"] == "nps") & (t["n"] > 0), "period"]
    before = answered.between(sc.week - pd.Timedelta(weeks=s.prior_weeks), sc.week, inclusive="left")
    if not ((answered == sc.week).any() and before.any()):
        return Moved(None, by, "too_few_weeks", s.prior_weeks)
    wc = scorecard.what_changed(v["responses"], week=sc.week, by=by, metric="nps", prior_weeks=v["prior_weeks"],
                                bootstrap=BOOTSTRAP, seed=SEED, **s.window())
    return Moved(published(s, wc, "what_changed"), by, "ok", s.prior_weeks)


def what_moved(s: Setup) -> Moved:
    """Section 2: this week's NPS change against the prior weeks split into who answered (mix of the
    journey stage, else the first segment column) and change within; published as ``what_changed``."""
    return once(s, "what_moved", _what_moved)


# ------------------------------------------------------------------------------------------ 3. segments

@dataclass
class Segments:
    """This week's NPS per segment value: ``table`` (:func:`cxlib.scorecard.segment_table`, None without
    a segment column), ``skipped`` (segment parameters the responses lack, or personal data)."""

    table: pd.DataFrame | None
    skipped: list


def _segments(s: Setup) -> Segments:
    table = None
    if s.segments_used:
        table = published(s, scorecard.segment_table(s.values["responses"], week=scores(s).week, by=s.segments_used,
                                                min_n=s.min_n, **s.window()), "segments")
    return Segments(table, list(s.segments_skipped))


def segments(s: Setup) -> Segments:
    """Section 3: NPS per segment value this week; published as ``segments``."""
    return once(s, "segments", _segments)


# ------------------------------------------------------------------------------------------ 4. support

@dataclass
class Support:
    """Support responsiveness (every table None without a tickets table; ``given`` says which).

    ``changes``: this week's first response per channel against the prior weeks
    (:func:`cxlib.scorecard.support_changes`); ``tested``: a channel had enough tickets to compare;
    ``weekly``: weekly first-response quantiles; ``trend_drawable``: a week and channel has enough
    tickets to draw; ``first_times`` / ``resolution``: all tickets; ``attainment``: weekly target
    attainment and ``attainment_week`` this week's rows; ``repeats`` / ``reopens`` (None when the tickets
    have no customer id / reopened column); ``week``; ``repeat_days``.
    """

    given: bool
    week: pd.Timestamp
    repeat_days: Any = None
    changes: pd.DataFrame | None = None
    tested: bool = False
    weekly: pd.DataFrame | None = None
    trend_drawable: bool = False
    first_times: pd.DataFrame | None = None
    resolution: pd.DataFrame | None = None
    attainment: pd.DataFrame | None = None
    attainment_week: pd.DataFrame | None = None
    repeats: pd.DataFrame | None = None
    reopens: pd.DataFrame | None = None


def _support(s: Setup) -> Support:
    v, win, week = s.values, s.window(), scores(s).week
    tickets, rows = v["tickets"], s.tables[1]
    if tickets is None:
        return Support(False, week, v["repeat_days"])
    changes = published(s, scorecard.support_changes(tickets, week=week, prior_weeks=v["prior_weeks"], **win),
                   "support_this_week")
    weekly = published(s, cxsupport.response_times(tickets, by="channel", period="week", min_n=min(v["min_n"], 20),
                                              **win), "first_response_weekly")
    first = published(s, cxsupport.response_times(tickets, measure="first_response", by="channel", min_n=v["min_n"],
                                             **win), "first_response_times")
    resolution = published(s, cxsupport.response_times(tickets, measure="resolution", by="channel", min_n=v["min_n"],
                                                  **win), "resolution_times")
    attain = published(s, cxsupport.target_attainment(tickets, targets=v["targets"], period="week", **win),
                  "target_attainment")
    repeats = (published(s, cxsupport.repeat_contact_rate(tickets, within_days=v["repeat_days"], **win), "repeat_contacts")
               if "customer_id" in rows.columns else None)
    # as the page always read it: reopens up to the default analysis date (the report date)
    reopens = published(s, cxsupport.reopen_rate(tickets), "reopens") if "reopened" in rows.columns else None
    return Support(True, week, v["repeat_days"], changes, bool(changes["median_hours"].notna().any()), weekly,
                   bool((~weekly["suppressed"]).any()), first, resolution, attain,
                   attain[attain["period"] == week], repeats, reopens)


def support(s: Setup) -> Support:
    """Section 4: support responsiveness; published as ``support_this_week``, ``first_response_weekly``,
    ``first_response_times``, ``resolution_times``, ``target_attainment``, ``repeat_contacts`` and
    ``reopens`` (each when its input is there)."""
    return once(s, "support", _support)


# ------------------------------------------------------------------------------------------ 5. journey

#: Each table a touch can come from, and the columns it needs for :func:`cxlib.journey.churn_by_touch`.
TOUCH_NEEDS = {"events": ["customer_id", "event_time", "event_name"], "tickets": ["customer_id", "created_at"],
               "responses": ["customer_id", "response_time", "nps"]}


@dataclass
class Journey:
    """The journey: ``stages`` (:func:`cxlib.journey.stage_metrics`, None without a stage column);
    ``funnel``, ``weakest``, ``first_value`` (None without events); ``touches``
    (:func:`cxlib.journey.churn_by_touch`, None without subscriptions or a table of touches);
    ``steps``; ``min_n``."""

    stages: pd.DataFrame | None
    funnel: pd.DataFrame | None
    weakest: pd.DataFrame | None
    first_value: pd.DataFrame | None
    touches: pd.DataFrame | None
    steps: list
    min_n: int


def _journey(s: Setup) -> Journey:
    v, win = s.values, s.window()
    stages = (published(s, cxjourney.stage_metrics(v["responses"], as_of=v["as_of"], stage=v["stage"], min_n=v["min_n"]),
                   "journey_stages") if v["stage"] in s.usable else None)
    funnel = weakest = first_value = None
    if v["events"] is not None:
        kw = dict(as_of=v["as_of"], steps=v["journey_steps"], min_n=v["min_n"])
        funnel = published(s, cxjourney.funnel(v["events"], **kw), "funnel")
        weakest = published(s, cxjourney.weakest_step(v["events"], **kw), "weakest_step")
        first_value = published(s, cxjourney.step_times(v["events"], **kw, tz=win["tz"], week_start=win["week_start"]),
                           "time_to_first_value")
    found = {}
    for kind, need in TOUCH_NEEDS.items():
        if v[kind] is not None and set(need) <= set(cxdata.as_table(v[kind]).columns):
            found[kind] = v[kind]
    touches = None
    if v["subscriptions"] is not None and found:
        touches = published(s, cxjourney.churn_by_touch(v["subscriptions"], as_of=v["as_of"], window=v["touch_window"],
                                                   targets=v["targets"], min_n=v["min_n"], **found), "churn_by_touch")
    return Journey(stages, funnel, weakest, first_value, touches, s.steps, s.min_n)


def journey(s: Setup) -> Journey:
    """Section 5: stages, funnel, weakest step, time to first value and after which touch customers leave
    (by calling :mod:`cxlib.journey`); published as ``journey_stages``, ``funnel``, ``weakest_step``,
    ``time_to_first_value`` and ``churn_by_touch`` (each when its input is there)."""
    return once(s, "journey", _journey)


# ------------------------------------------------------------------------------------------ 6-7. voice

@dataclass
class Voice:
    """Comments: ``given`` (the responses have a comment column); ``weekly_themes``
    (:func:`cxlib.themes.theme_counts` per week) and ``week_themes`` (this week's rows); ``comments``
    (this week's comments); ``top`` (the most mentioned themes this week: ``label``, ``mentions``,
    ``mention_share`` of this week's comments, most first); ``drawable`` (a theme to draw); ``rising``
    (:func:`cxlib.themes.rising_themes`, None without earlier weeks); ``loop``
    (:func:`cxlib.scorecard.close_the_loop`)."""

    given: bool
    weekly_themes: pd.DataFrame | None = None
    week_themes: pd.DataFrame | None = None
    comments: int = 0
    top: pd.DataFrame | None = None
    drawable: bool = False
    rising: pd.DataFrame | None = None
    loop: pd.DataFrame | None = None


#: Themes named in the answer.
TOP_THEMES = 3


def _voice(s: Setup) -> Voice:
    v, win, week = s.values, s.window(), scores(s).week
    if "comment" not in s.usable:
        return Voice(False)
    weekly = published(s, themes.theme_counts(v["responses"], time="response_time", period="week", taxonomy=v["taxonomy"],
                                         min_n=v["min_n"], **win), "weekly_themes")
    now = weekly[weekly["period"] == week]
    rising = None
    if len(now) and (weekly["period"] < week).any():
        rising = published(s, themes.rising_themes(weekly, period=week, prior=v["prior_weeks"]), "rising_themes")
    loop = published(s, scorecard.close_the_loop(v["responses"], tickets=v["tickets"], week=week, personal=s.personal,
                                            taxonomy=v["taxonomy"], **win), "close_the_loop")
    n = int(now["comments"].max()) if len(now) else 0
    hits = now[now["mentions"] > 0].sort_values("mentions", ascending=False, kind="mergesort").head(TOP_THEMES)
    top = hits[["label", "mentions"]].assign(mention_share=hits["mentions"] / n if n else float("nan"))
    drawable = bool((~now["suppressed"] & (now["mentions"] > 0)).any())
    return Voice(True, weekly, now, n, top.reset_index(drop=True), drawable, rising, loop)


def voice(s: Setup) -> Voice:
    """Sections 6 and 7: this week's comment themes, the rising ones and the detractors to call back;
    published as ``weekly_themes``, ``rising_themes`` and ``close_the_loop``."""
    return once(s, "voice", _voice)


# ------------------------------------------------------------------------------------------ the answer

@dataclass
class Summary:
    """What the page's answer reads: ``head`` (the headline rows with a value: scores too thin to estimate
    are said on their tiles), ``support`` (this week's support changes when a channel could be tested),
    ``rising`` themes and journey ``stages`` (None when absent)."""

    head: pd.DataFrame
    support: pd.DataFrame | None
    rising: pd.DataFrame | None
    stages: pd.DataFrame | None


def summary(s: Setup) -> Summary:
    """The page's answer: the scores, support, themes and journey results it reads (each computed once)."""
    head = scores(s).head
    care = support(s)
    return Summary(head[head["value"].notna()], care.changes if care.tested else None, voice(s).rising,
                   journey(s).stages)


def noted(s: Setup) -> list:
    """The results whose data notes the page lists under "About the data", in order."""
    sc, seg, care, trip = scores(s), segments(s), support(s), journey(s)
    out = [s.inputs, sc.head, sc.trends]
    out += [seg.table] if seg.table is not None else []
    out += [care.first_times, care.attainment] if care.given else []
    out += [trip.funnel] if trip.funnel is not None else []
    return out
