"""The customer journey: funnel conversion, time between steps, the weakest step, and churn after touches.

Funnel (the ordered funnel of product-analytics tools): a customer enters at their first occurrence of
the first step and *reaches* step k at their first occurrence of it at or after the time counted for step
k-1 (a repeated step needs a row of its own); see :func:`funnel`. Step conversion = reached k / reached k-1
(Wilson 95% interval), drop-off = 1 - conversion (e.g. checkout abandonment), and the median time from
the previous step among those who converted. :func:`step_conversion` lays the same counts out as
conversion and abandonment per step; :func:`weakest_step` tests whether the lowest conversion is
lower than the next-lowest beyond noise.

Time between steps (:func:`step_times`, e.g. time to first value): median and 90th percentile with
distribution-free intervals and the shares reaching the end step within 1 / 7 / 30 days.

Churn after touches (:func:`churn_by_touch`, :func:`last_touch_before_churn`): customers with and
without a touch (a journey step, a support contact, a slow first reply, a detractor answer) in a
landmark window after their start, compared by a Cox hazard ratio, the log-rank test and the difference
in 90-day retention. These are associations, not causal effects.

Only counts, medians and per-customer durations (one number per customer) come back from the engine.

Examples
--------
>>> from cxlib import journey
>>> journey.funnel("data/sample/events.csv",
...                steps=["signup", "onboarding_done", "first_value", "checkout_started", "purchase"])  # doctest: +SKIP
>>> journey.step_times("data/sample/events.csv", cohort="month")  # doctest: +SKIP
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
