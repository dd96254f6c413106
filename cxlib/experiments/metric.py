"""The metrics of an experiment: :class:`Metric` (its kind, ratio denominator, covariates, guardrail,
direction, quantile) and the one reading of a ``metrics=`` / ``covariates=`` argument (:func:`_normalize`).

Examples
--------
>>> from cxlib.experiments.metric import Metric
>>> Metric("revenue", "p90").name
'revenue p90'
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from cxlib import data as cxdata

__all__ = ["Metric", "KINDS", "CORRECTIONS"]

KINDS = ("proportion", "mean", "nps", "ratio", "quantile")
CORRECTIONS = ("holm", "bonferroni", "fdr_bh", "none")


@dataclass(frozen=True)
class Metric:
    """One metric of an experiment.

    Parameters
    ----------
    column : str
        The metric column (for ratios the numerator).
    kind : {'proportion', 'mean', 'nps', 'ratio', 'quantile'}
        'quantile' compares a quantile of the metric between arms (``quantile=0.5`` the median, 0.9 the
        p90: e.g. support response times); ``'median'`` and ``'p90'`` (any ``'pNN'``) are short for it.
    denominator : str, optional
        Denominator column of a ratio metric (required for ``kind='ratio'``).
    covariate : str or list of str, optional
        Pre-period covariate(s) for regression adjustment (CUPED with a covariate vector, or Lin's
        estimator): any metric kind, including NPS (the +1/0/-1 scores are adjusted) and ratios (numerator
        and denominator are adjusted, then the delta method).
    guardrail : bool
        A metric that must not get worse (its harm is flagged, it is not a success metric).
    direction : {'increase', 'decrease'}
        Which way is better.
    margin : float
        Non-inferiority margin of a guardrail, in the metric's units (NPS points for 'nps'): a breach is
        harm significantly beyond it; ``non_inferior`` says the interval rules out harm larger than it.
    label : str, optional
        Name in results (default: the column, ``numerator/denominator``, or ``column median`` /
        ``column p90`` for quantiles).
    quantile : float, optional
        The quantile of a 'quantile' metric (default 0.5).
    """

    column: str
    kind: str = "mean"
    denominator: str | None = None
    covariate: str | tuple | None = None
    guardrail: bool = False
    direction: str = "increase"
    label: str | None = None
    margin: float = 0.0
    quantile: float | None = None

    def __post_init__(self):
        kind = str(self.kind).lower()
        if kind == "median" or re.fullmatch(r"p\d+(\.\d+)?", kind):
            q = 0.5 if kind == "median" else float(kind[1:]) / 100
            object.__setattr__(self, "kind", "quantile")
            object.__setattr__(self, "quantile", q if self.quantile is None else self.quantile)
        if self.kind == "quantile":
            q = 0.5 if self.quantile is None else self.quantile
            if not 0 < float(q) < 1:
                raise cxdata.CXDataError(f"metric {self.column!r}: quantile must be between 0 and 1 (0.5 the "
                                         f"median, 0.9 the p90), not {q!r}.")
            object.__setattr__(self, "quantile", float(q))
        if isinstance(self.covariate, (list, tuple)):
            cov = tuple(dict.fromkeys(str(c) for c in self.covariate))
            # one covariate is stored as a plain name: the same summary columns and numbers as always
            object.__setattr__(self, "covariate", cov[0] if len(cov) == 1 else (cov or None))
        if self.kind not in KINDS:
            raise cxdata.CXDataError(f"metric {self.column!r}: kind must be one of {', '.join(KINDS)}, "
                                     f"not {self.kind!r}.")
        if self.kind == "ratio" and not self.denominator:
            raise cxdata.CXDataError(f"ratio metric {self.column!r} needs denominator= (e.g. sessions).")
        if self.direction not in ("increase", "decrease"):
            raise cxdata.CXDataError(f"metric {self.column!r}: direction must be 'increase' or 'decrease'.")
        if self.kind == "quantile" and self.covariate:
            raise cxdata.CXDataError(f"metric {self.column!r}: quantile metrics take no covariates (regression "
                                     "adjustment is for means, proportions, NPS and ratios).")

    @property
    def covariates(self) -> tuple:
        """The covariate columns as a tuple (empty without adjustment)."""
        if not self.covariate:
            return ()
        return (self.covariate,) if isinstance(self.covariate, str) else tuple(self.covariate)

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        if self.kind == "quantile":
            return f"{self.column} {'median' if self.quantile == 0.5 else f'p{100 * self.quantile:g}'}"
        return f"{self.column}/{self.denominator}" if self.kind == "ratio" else self.column


def _normalize(metrics, covariates=None) -> list[Metric]:
    if isinstance(metrics, Metric):
        metrics = [metrics]
    if isinstance(metrics, dict):
        metrics = [Metric(col, kind) for col, kind in metrics.items()]
    out = []
    cov = covariates or {}
    for m in metrics:
        if isinstance(m, str):
            m = Metric(m)
        if isinstance(cov, (str, list, tuple)) and m.kind in ("mean", "proportion") and m.covariate is None:
            m = Metric(**{**m.__dict__, "covariate": cov})
        elif isinstance(cov, dict) and m.covariate is None and m.kind != "quantile" and (m.name in cov or m.column in cov):
            m = Metric(**{**m.__dict__, "covariate": cov[m.name] if m.name in cov else cov[m.column]})
        for x in m.covariates:
            if x in (m.column, m.denominator):
                raise cxdata.CXDataError(f"metric {m.name!r}: the covariate {x!r} is the metric itself; use a "
                                         "pre-period column.")
        out.append(m)
    if not out:
        raise cxdata.CXDataError("no metrics given: metrics={'converted': 'proportion', ...}")
    return out
