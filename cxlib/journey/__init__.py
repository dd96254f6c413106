"""The customer journey: the funnel engine (:mod:`cxlib.journey.steps`: funnel conversion, time between
steps, the weakest step, churn after touches) and the journey map built on it (:mod:`~cxlib.journey.spec`
reads and checks a journey file, :mod:`~cxlib.journey.map` measures every stage against its promise,
:mod:`~cxlib.journey.friction` ranks the stages short of their target beyond noise).

Examples
--------
>>> from cxlib import journey
>>> journey.funnel("data/sample/events.csv",
...                steps=["signup", "onboarding_done", "first_value", "checkout_started", "purchase"])  # doctest: +SKIP
>>> journey.journey_map("data/sample/events.csv", responses="data/sample/responses.csv")  # doctest: +SKIP
"""
from cxlib.journey.steps import (  # noqa: F401
    DEFAULT_STEPS, DEFAULT_TARGETS, NOTE_NAMES, TOUCH_STEPS, WITHIN_DAYS, churn_by_touch, funnel,
    last_touch_before_churn, stage_metrics, step_conversion, step_times, weakest_step,
)
from cxlib.journey.spec import DEFAULT_JOURNEY, load_journey  # noqa: F401
from cxlib.journey.map import CHANGE_METRICS, CONVERSION_DAYS, journey_map  # noqa: F401
from cxlib.journey.friction import friction, funnel_curves  # noqa: F401

__all__ = ["funnel", "stage_metrics", "step_times", "step_conversion", "weakest_step", "churn_by_touch", "last_touch_before_churn", "DEFAULT_STEPS", "TOUCH_STEPS", "DEFAULT_TARGETS", "WITHIN_DAYS",
           "journey_map", "CHANGE_METRICS", "CONVERSION_DAYS", "load_journey", "DEFAULT_JOURNEY", "friction", "funnel_curves"]
