"""One house style for every figure (colour-blind-safe palette, readable sizes)."""
from __future__ import annotations

import matplotlib as mpl
import seaborn as sns

#: Colours used with meaning across figures.
GOOD, BAD, NEUTRAL = "#1b9e77", "#d95f02", "#7570b3"


def apply_style() -> None:
    """Set the seaborn theme and figure defaults used in every notebook."""
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    mpl.rcParams.update({"figure.figsize": (8, 4.5), "figure.dpi": 100, "savefig.bbox": "tight",
                         "axes.titleweight": "bold", "axes.titlesize": 12})
