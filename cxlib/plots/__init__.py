"""Seaborn figures, one function per figure: tidy result table in, ``ax=`` in, Axes out.

Plot functions take result tables from the analysis modules, never raw data. Each analysis has its own
submodule; everything is re-exported here, so notebooks call ``plots.cohort_heatmap(...)``.
"""
from cxlib.plots.style import apply_style  # noqa: F401
from cxlib.plots.cohorts import *  # noqa: F401,F403
from cxlib.plots.nps import *  # noqa: F401,F403
from cxlib.plots.experiments import *  # noqa: F401,F403
from cxlib.plots.scorecard import *  # noqa: F401,F403
