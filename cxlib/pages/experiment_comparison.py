"""The experiment comparison page, computed: every result ``notebooks/experiment_comparison.ipynb``
shows, and which inputs it can use.

One function per section; each returns a small dataclass of DataFrames and codes (no words:
:mod:`cxlib.present.experiment_comparison` turns them into sentences and tables).

- :func:`setup`: the inputs the page can use (:func:`cxlib.pages.resolve`), the metrics it compares
  (:class:`cxlib.experiments.Metric`), the primary metric and the display labels.
- :func:`comparison`: every metric for every variant against control, with its allocation (SRM) check.
- :func:`heavy_tails`: which mean metrics are compared capped beside the raw comparison.
- :func:`cuped`: how much the pre-period covariates narrowed the intervals.
- :func:`segments`: the comparison within each segment, Cochran's Q and the segment explorer.
- :func:`over_time`: the primary metric day by day, with its always-valid interval.
- :func:`quantiles`: quantile metrics (median, p95 ...) compared between arms.
- :func:`power`: the smallest lift each proportion metric could see.

Each result is computed once per :class:`Setup` and, when :func:`setup` was given ``publish``, published
once under the page's table names (the golden files: ``results``, ``srm``, ``heavy_tails``, ``cuped``,
``results_by_segment``, ``segment_heterogeneity``, ``segment_explorer``, ``cumulative``, ``quantiles``,
``power``).

Examples
--------
>>> from cxlib.pages import experiment_comparison as page
>>> s = page.setup({"experiment": "data/sample/experiment.csv"})  # doctest: +SKIP
>>> page.comparison(s).result[["metric", "variant", "decision"]]  # doctest: +SKIP
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import pandas as pd

from cxlib import data as cxdata
from cxlib import experiments, sources
from cxlib.experiments import Metric
from cxlib.pages.inputs import Inputs, resolve
from cxlib.pages.once import once, published

__all__ = ["Setup", "Comparison", "HeavyTails", "Cuped", "Segments", "OverTime", "Quantiles", "setup",
           "comparison", "heavy_tails", "cuped", "segments", "over_time", "quantiles", "power", "DEFAULTS"]

#: The page's parameters and their defaults (the notebook's parameters cell), used when a name is absent.
DEFAULTS: dict[str, Any] = {
    "experiment": "data/sample/experiment.csv", "unit": "unit_id", "variant": "variant", "control": "control",
    "metrics": {"converted": "proportion", "revenue": "mean", "csat": "mean", "nps": "nps"},
    "ratios": {"clicks": "sessions"}, "primary": None, "guardrails": ["csat", "nps"],
    "covariates": {"revenue": "pre_revenue"}, "segment": "device", "time": "exposure_time", "allocation": None,
    "alpha": 0.05, "correction": "holm", "quantiles": {"revenue": ["p95"]}, "lower_is_better": [],
    "fdr": 0.05, "fdr_family": "metric", "as_of": None, "cap": "auto",
}


@dataclass
class Setup:
    """The inputs the page runs with.

    ``values``: every parameter (after :func:`cxlib.pages.resolve`); ``inputs``: the resolution (its notes
    go to "About the data"); ``table``: the experiment table; ``labels``: display names from its layout;
    ``metrics``: the compared metrics (guardrails and covariates set); ``primary``: the primary metric's
    name; ``quantile_metrics``: the quantile metrics; ``segment`` / ``time``: the segment and exposure
    time columns when the table has them (else None); ``segment_missing``: why there is no segment
    section (None, ``'not_given'`` or ``'not_in_data'``).
    """

    values: dict
    inputs: Inputs
    table: Any
    labels: dict
    metrics: list
    primary: str
    quantile_metrics: list
    segment: str | None
    segment_missing: str | None
    time: str | None
    publish: Callable | None = None
    results: dict = field(default_factory=dict, repr=False)

    def __getattr__(self, name):  # the parameters read as attributes: setup.control, setup.alpha ...
        values = self.__dict__.get("values") or {}
        if name in values:
            return values[name]
        raise AttributeError(name)

    def options(self) -> dict:
        """The keyword arguments every comparison of the page shares."""
        v = self.values
        return dict(unit=v["unit"], variant=v["variant"], control=v["control"], alpha=v["alpha"],
                    correction=v["correction"], expected=v["allocation"], as_of=v["as_of"])


def _once(s: Setup, key: str, compute: Callable, publish_as: str | None = None):
    """``compute()`` once per setup, published under ``publish_as`` the first time."""
    return once(s, key, lambda s: published(s, compute(), publish_as) if publish_as else compute())


def setup(values: Mapping[str, Any], *, publish: Callable | None = None, given: set | None = None) -> Setup:
    """The page's inputs from its parameters (a notebook passes ``globals()``): resolved
    (:func:`cxlib.pages.resolve`: demo tables beside the user's left out, sample-column defaults skipped),
    the table read, the metrics built and the optional columns checked. ``publish`` (e.g.
    :func:`cxlib.reports.publish`) publishes each section's tables when first computed.

    Examples
    --------
    >>> s = setup({"experiment": "data/sample/experiment.csv"})  # doctest: +SKIP
    >>> s.primary  # doctest: +SKIP
    'converted'
    """
    base = {**DEFAULTS, **{k: values[k] for k in DEFAULTS if k in values}}
    inputs = resolve("experiment_comparison", base, given=given)
    v = {**base, **inputs.values}
    table = cxdata.as_table(v["experiment"])
    labels = sources.metadata(table)["labels"]
    guard, cov = v["guardrails"] or [], v["covariates"] or {}
    ms = [Metric(col, kind, covariate=cov.get(col), guardrail=col in guard) for col, kind in (v["metrics"] or {}).items()]
    ms += [Metric(num, "ratio", denominator=den, guardrail=num in guard) for num, den in (v["ratios"] or {}).items()]
    if not ms:
        raise cxdata.CXDataError("no metrics given: metrics={'converted': 'proportion', ...}")
    primary = next((m.name for m in ms if v["primary"] in (m.name, m.column)), ms[0].name)
    lower = set(v["lower_is_better"] or [])
    qms = [Metric(col, q, direction="decrease" if col in lower else "increase")
           for col, qs in (v["quantiles"] or {}).items() for q in ([qs] if isinstance(qs, str) else qs)]
    seg = v["segment"] or None
    missing = "not_given" if not seg else ("not_in_data" if seg not in table.columns else None)
    time = v["time"] if v["time"] and v["time"] in table.columns else None
    return Setup(values=v, inputs=inputs, table=table, labels=labels, metrics=ms, primary=primary,
                 quantile_metrics=qms, segment=seg if missing is None else None, segment_missing=missing,
                 time=time, publish=publish)


@dataclass
class Comparison:
    """Every metric for every variant against control (``result``, gated on the allocation check) and
    that check (``check``, an :class:`cxlib.experiments.SRMResult`)."""

    result: pd.DataFrame
    check: Any


def comparison(s: Setup) -> Comparison:
    """The page's main comparison (published as ``results`` and ``srm``)."""
    result = _once(s, "results", lambda: experiments.compare(s.table, metrics=s.metrics, **s.options()), "results")
    check = result.attrs["srm"]  # compare's own check: a mismatch already gated every decision
    _once(s, "srm", lambda: check.table, "srm")
    return Comparison(result, check)


@dataclass
class HeavyTails:
    """``check``: :func:`cxlib.experiments.heavy_tails.check` (published as ``heavy_tails``); ``capped``:
    the capped comparison of the metrics it caps (None when nothing is capped); ``result``: the raw one."""

    check: pd.DataFrame
    capped: pd.DataFrame | None
    result: pd.DataFrame


def heavy_tails(s: Setup) -> HeavyTails:
    """Which mean metrics have a heavy tail, and their capped comparison beside the raw one."""
    o = s.options()
    ht = experiments.heavy_tails
    tails = _once(s, "heavy_tails", lambda: ht.check(s.table, unit=o["unit"], variant=o["variant"],
                                                     control=o["control"], metrics=s.metrics, cap=s.cap,
                                                     as_of=o["as_of"]), "heavy_tails")
    capped = _once(s, "capped", lambda: ht.compare_capped(s.table, tails, metrics=s.metrics, **o))
    return HeavyTails(tails, capped, comparison(s).result)


@dataclass
class Cuped:
    """``given``: a metric has a covariate; ``comparison``: :func:`cxlib.experiments.cuped_comparison`
    (published as ``cuped``); ``gain``: :func:`cxlib.experiments.cuped_gain` (None when not given)."""

    given: bool
    comparison: pd.DataFrame | None = None
    gain: pd.DataFrame | None = None


def cuped(s: Setup) -> Cuped:
    """The CUPED rows beside the same comparison without covariates."""
    plain_ms = [Metric(m.column, m.kind) for m in s.metrics if m.covariate]
    if not plain_ms:
        return Cuped(False)
    result = comparison(s).result

    def both():
        plain = experiments.compare(s.table, metrics=plain_ms, **{**s.options(), "correction": "none",
                                                                  "expected": None})
        return experiments.cuped_comparison(result[result["cuped"]], plain)

    table = _once(s, "cuped", both, "cuped")
    return Cuped(True, table, experiments.cuped_gain(table))


@dataclass
class Segments:
    """The comparison within each segment. ``missing``: None, ``'not_given'`` or ``'not_in_data'`` (then
    every frame is None); ``result``: every metric by segment (published as ``results_by_segment``);
    ``shown``: its primary and guardrail rows; ``heterogeneity``: Cochran's Q of the primary metric with
    the pooled interval (:func:`cxlib.experiments.heterogeneity_intervals`; the plain test is published
    as ``segment_heterogeneity``); ``explored`` / ``explored_shown``: the segment explorer (published as
    ``segment_explorer``) and its primary and guardrail rows."""

    segment: str | None
    missing: str | None
    result: pd.DataFrame | None = None
    shown: pd.DataFrame | None = None
    heterogeneity: pd.DataFrame | None = None
    explored: pd.DataFrame | None = None
    explored_shown: pd.DataFrame | None = None


def segments(s: Setup) -> Segments:
    """The primary metric and the guardrails within each segment (when the segment column is there)."""
    if s.segment is None:
        return Segments(s.values["segment"] or None, s.segment_missing)
    by = _once(s, "results_by_segment", lambda: experiments.compare(s.table, metrics=s.metrics, by=s.segment,
                                                                   **s.options()), "results_by_segment")
    het = _once(s, "segment_heterogeneity", lambda: experiments.heterogeneity(by, metric=s.primary),
                "segment_heterogeneity")
    explored = _once(s, "segment_explorer", lambda: experiments.segment_explorer(by, q=s.fdr, family=s.fdr_family),
                     "segment_explorer")
    return Segments(s.segment, None, by, _primary_and_guardrails(by, s.primary),
                    experiments.heterogeneity_intervals(het, alpha=s.alpha), explored,
                    _primary_and_guardrails(explored, s.primary))


def _primary_and_guardrails(result: pd.DataFrame, primary: str) -> pd.DataFrame:
    """The rows of the primary metric and of the guardrails (what the segment tables show)."""
    return result[(result["metric"] == primary) | result["guardrail"]]


@dataclass
class OverTime:
    """The primary metric day by day. ``given``: the table has the exposure time column; ``result``:
    :func:`cxlib.experiments.cumulative` with ``sequential=True`` (published as ``cumulative``);
    ``settled``: :func:`cxlib.experiments.settled` of it; ``days``: its number of days."""

    given: bool
    result: pd.DataFrame | None = None
    settled: pd.DataFrame | None = None
    days: int | None = None


def over_time(s: Setup) -> OverTime:
    """How the estimate of the primary metric settled, with its always-valid interval."""
    if s.time is None:
        return OverTime(False)
    first = next(m for m in s.metrics if m.name == s.primary)
    o = s.options()
    got = _once(s, "cumulative", lambda: experiments.cumulative(
        s.table, time=s.time, unit=o["unit"], variant=o["variant"], control=o["control"], metric=first,
        alpha=o["alpha"], sequential=True, as_of=o["as_of"]), "cumulative")
    return OverTime(True, got, experiments.settled(got), int(got["period"].nunique()))


@dataclass
class Quantiles:
    """Quantile metrics compared between arms. ``given``: the page has quantile metrics; ``result``: their
    comparison (published as ``quantiles``)."""

    given: bool
    result: pd.DataFrame | None = None


def quantiles(s: Setup) -> Quantiles:
    """The median / high percentiles of the quantile metrics, per arm and their differences."""
    if not s.quantile_metrics:
        return Quantiles(False)
    got = _once(s, "quantiles", lambda: experiments.compare(s.table, metrics=s.quantile_metrics, **s.options()),
                "quantiles")
    return Quantiles(True, got)


def power(s: Setup) -> pd.DataFrame:
    """:func:`cxlib.experiments.power_table` of the main comparison, with the days of data when the
    table has exposure times (published as ``power``)."""
    days = over_time(s).days
    return _once(s, "power", lambda: experiments.power_table(comparison(s).result, days=days, alpha=s.alpha),
                 "power")
