"""Heavy tails in experiment means: moved to :mod:`cxlib.experiments.heavy_tails` (the experiments
package); this name stays importable for callers that use ``cxlib.heavy_tails``.

Examples
--------
>>> from cxlib import heavy_tails
>>> heavy_tails.RULE_QUANTILE
0.999
"""
from cxlib.experiments.heavy_tails import (COLUMNS, RULE_QUANTILE, RULE_SHIFT, cap_for, capped_metrics, check,  # noqa: F401
                                           compare_capped, parse_cap)

__all__ = ["check", "cap_for", "capped_metrics", "compare_capped", "parse_cap", "RULE_QUANTILE", "RULE_SHIFT"]
