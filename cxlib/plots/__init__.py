"""Seaborn/matplotlib figures, one function per figure: tidy result table in, ``ax=`` in, Axes out.

Plot functions take result tables from the analysis modules, never raw data. Each analysis has its own
submodule; everything is re-exported here, so notebooks call ``plots.retention_heatmap(...)``.

House rules (see :mod:`cxlib.plots.style`): phone-legible sizes (6.4 in wide, 12 pt text, so text is
>= 9 px when shown 360 px wide), the Okabe-Ito palette, meaning never carried by colour alone, human labels
(optional ``labels={value: label}``), and a plain-language description in ``fig.cx_alt`` that
:func:`show` puts into the output as alt text.
"""
from cxlib.plots._common import show  # noqa: F401
from cxlib.plots.style import apply_style  # noqa: F401
from cxlib.plots.cohorts import *  # noqa: F401,F403
from cxlib.plots.nps import *  # noqa: F401,F403
from cxlib.plots.experiments import *  # noqa: F401,F403
from cxlib.plots.scorecard import *  # noqa: F401,F403
from cxlib.plots.journey import *  # noqa: F401,F403
