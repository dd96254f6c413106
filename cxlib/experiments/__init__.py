"""
``compare`` = one engine aggregation for all metrics (their value checks, the row, no-arm and per-arm
unit counts ride along in the same scan; with the unit check, one count of distinct unit ids beside it:
two queries on a clean table, the checks' own queries only when one fails) to a *summary* table (one row per variant x metric:
``n``, ``sum``, ``sum_squares``; ratios add ``den_sum``, ``den_sum_squares``, ``sum_products``; CUPED
adds ``pre_sum``, ``pre_sum_squares``, ``pre_sum_products``) followed by ``compare_summary`` on it, as
experiment platforms do (GrowthBook's gbstats, Eppo): the same code compares 30,000 units from a CSV or
a billion from a warehouse table.

Methods
-------
- Means and proportions: difference of arm means with the Welch (unequal-variance) t interval and test.
  A proportion is the mean of a 0/1 column (so this is the unpooled two-proportion test).
- NPS: each answer is scored +1 promoter (9-10), 0 passive, -1 detractor; NPS = 100 x the mean, whose
  variance is the trinomial ``p + d - (p - d)^2``; then as for means. Units without an answer are left
  out (n = answered).
- Ratio metrics (e.g. clicks / sessions, per-unit numerator and denominator): ratio of sums per arm with
  the delta-method variance (units are the randomization unit, so clustered rows are handled).
- Relative lift (variant / control - 1) with a delta-method interval.
- Regression adjustment (``covariates=``, any metric kind, one or many covariates, from per-arm
  cross-products computed in the engine): CUPED y - theta'(x - mean x) with the pooled slope vector
  theta = Sxx^-1 Sxy (one covariate: cov(y, x) / var(x), the historical numbers), or
  ``adjustment='lin'`` (Lin 2013: arm-specific slopes, = OLS with treatment x centred covariates).
  NPS adjusts the +1/0/-1 scores; ratios adjust numerator and denominator means, then the delta method.
  ``variance_reduction`` reports how much variance it removed; ``raw_*`` columns show the unadjusted
  comparison beside it.
- Always-valid inference (``sequential=True``): normal-mixture asymptotic confidence sequences
  (Waudby-Smith et al. 2023) and always-valid p-values, see :func:`confidence_sequence`.
- Segments: :func:`heterogeneity` (Cochran's Q, I², tau²) per metric x variant across segment
  estimates; ``correction_family='metric'`` adjusts within each metric instead of over everything;
  :func:`segment_explorer` adds Benjamini-Hochberg q-values over every segment cell (a family per metric
  or over everything) and empirical-Bayes shrunken estimates (normal-normal, method-of-moments tau²,
  Morris intervals) beside the raw ones.
- Quantile metrics (``kind='quantile'``, or ``'median'`` / ``'p90'``): each arm's quantile from order
  statistics computed in the engine (a window per arm; only a few rows come back), a distribution-free
  standard error from the order-statistic interval with exact binomial coverage, and a normal interval
  for the difference between arms (Price & Bonett 2002).
- Decisions (:mod:`cxlib.experiments.decide`, codes in :mod:`cxlib.decisions`) are gated: a failed
  allocation check makes every row's ``decision`` "not interpretable"
  (segment rows too); a breached guardrail makes its rows "guardrail breached" and turns the same
  variant's wins on other metrics (same segment) into "blocked by guardrail": a breach vetoes shipping.
- ``lift_ci='fieller'``: Fieller's interval for the relative lift; ``cap=0.99``: winsorise mean metrics
  at an engine-computed quantile.
- Multiple comparisons: ``p_adjusted`` over the whole family of metrics x treatment variants
  (statsmodels ``multipletests``, Holm by default).
- ``prob_better``: posterior probability that the variant beats control in the metric's desired direction
  (flat prior, normal approximation of the difference).
- SRM: chi-square goodness of fit of unit counts against the planned allocation.
- Power: statsmodels ``NormalIndPower`` (sample size per arm, minimum detectable effect).

Examples
--------
>>> from cxlib import experiments
>>> res = experiments.compare("data/sample/experiment.csv", control="control",
...                           metrics={"converted": "proportion", "revenue": "mean"})  # doctest: +SKIP

The package, along its seams (each imports only the ones before it):

- :mod:`~cxlib.experiments.metric`: :class:`Metric` and the reading of ``metrics=``;
- :mod:`~cxlib.experiments.aggregate`: per-arm sufficient statistics in the engine;
- :mod:`~cxlib.experiments.decide`: the decision per comparison, the guardrail veto and the allocation
  (SRM) gate, each defined once;
- :mod:`~cxlib.experiments.estimate`: tests, intervals, CUPED / Lin, quantiles, confidence sequences;
- :mod:`~cxlib.experiments.comparison`: :func:`compare` and :func:`cumulative`;
- :mod:`~cxlib.experiments.segments`: heterogeneity and the segment explorer;
- :mod:`~cxlib.experiments.power`: sensitivity (the arithmetic is :mod:`cxlib.stats`');
- :mod:`~cxlib.experiments.heavy_tails`: when to compare a mean capped beside the raw one.
"""
from __future__ import annotations

from cxlib.decisions import NOT_INTERPRETABLE, NOT_MEASURED
from cxlib.experiments.aggregate import summary_statistics
from cxlib.experiments.comparison import compare, cumulative, settled
from cxlib.experiments.decide import SRMResult, decide, gate, srm
from cxlib.experiments.estimate import (ADJUSTMENTS, FAMILIES, LIFT_CIS, adjust_p, compare_summary,
                                        confidence_sequence, cuped_comparison, cuped_gain)
from cxlib.experiments.metric import CORRECTIONS, KINDS, Metric
from cxlib.experiments.power import days_needed, power_table
from cxlib.experiments.segments import heterogeneity, heterogeneity_intervals, segment_explorer
from cxlib.stats import minimum_detectable_effect, nps_sd, sample_size

from cxlib.experiments import heavy_tails  # noqa: E402,F401 (the page reads it as experiments.heavy_tails)

__all__ = ["Metric", "summary_statistics", "compare", "compare_summary", "cumulative", "srm", "SRMResult",
           "confidence_sequence", "heterogeneity", "segment_explorer",
           "sample_size", "nps_sd", "minimum_detectable_effect", "days_needed", "KINDS",
           "CORRECTIONS", "FAMILIES", "ADJUSTMENTS", "LIFT_CIS", "NOT_INTERPRETABLE", "NOT_MEASURED", "adjust_p",
           "decide", "gate", "power_table", "cuped_comparison", "cuped_gain", "heterogeneity_intervals", "settled"]
