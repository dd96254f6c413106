"""Decision codes of an experiment comparison: the one vocabulary the analysis writes in the
``decision`` column and the presentation layer turns into words.

Foundation (DESIGN.md, "Layers"): codes only, no rule and no sentence. The rules that pick a code
(significance, the guardrail veto, the allocation (SRM) gate) live once, in
:mod:`cxlib.experiments.decide`; the words for each code live in :mod:`cxlib.present`.

Examples
--------
>>> from cxlib.decisions import NOT_INTERPRETABLE, WIN
>>> WIN, NOT_INTERPRETABLE
('win', 'not interpretable')
"""
from __future__ import annotations

__all__ = ["WIN", "LOSS", "INCONCLUSIVE", "GUARDRAIL_BREACHED", "BLOCKED_BY_GUARDRAIL", "NOT_INTERPRETABLE",
           "NOT_MEASURED", "DECISIONS"]

#: The variant is better beyond noise on the metric (in its desired direction).
WIN = "win"
#: The variant is worse beyond noise.
LOSS = "loss"
#: Within noise: no call either way.
INCONCLUSIVE = "inconclusive"
#: A guardrail metric got worse beyond its margin (judged before the multiple-comparison adjustment).
GUARDRAIL_BREACHED = "guardrail breached"
#: A win of a variant that broke a guardrail in the same segment: a breach vetoes shipping.
BLOCKED_BY_GUARDRAIL = "blocked by guardrail"
#: Every comparison of an experiment whose allocation (sample-ratio) check failed.
NOT_INTERPRETABLE = "not interpretable"
#: The control or the variant has no measured unit for the metric: no estimate.
NOT_MEASURED = "not measured"

#: Every decision code, in the order a reader ranks them.
DECISIONS = (GUARDRAIL_BREACHED, BLOCKED_BY_GUARDRAIL, WIN, LOSS, INCONCLUSIVE, NOT_INTERPRETABLE, NOT_MEASURED)
