"""One house style for every figure: a colour-blind-safe palette and sizes that stay legible on a phone.

Palette (Okabe & Ito, "Color Universal Design"): blue ``GOOD`` (#0072B2) for good / win, vermillion ``BAD``
(#D55E00) for bad / loss, grey ``NEUTRAL`` for everything without a judgement, and the rest of the Okabe-Ito
colours (``CATEGORICAL``) for categories. Blue and vermillion differ in hue *and* lightness, so they stay
apart under deuteranopia and protanopia; figures still never rely on colour alone (markers, hatching,
direct labels carry the same meaning).

Size rule: an image W inches wide shown about 360 px wide on a 390 px phone renders an F-point font at
about ``F * 5 / W`` px. Every text must be at least 9 px there, so ``F >= 1.8 * W``. Default figures are
:data:`WIDTH` = 6.4 in wide with :data:`FONT` = 12 pt text (9.4 px on the phone); when a caller hands in a
wider figure, :func:`cxlib.plots._common.legible` raises every text of it to ``1.8 * W``.
"""
from __future__ import annotations

import matplotlib as mpl
import seaborn as sns

#: Colours used with meaning across figures (Okabe-Ito).
GOOD, BAD, NEUTRAL = "#0072B2", "#D55E00", "#6E6E6E"
#: Light grey for suppressed or "passive" elements.
LIGHT = "#BBBBBB"
#: Okabe-Ito colours for categories (black last but one; yellow last: weak on white).
CATEGORICAL = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442"]
#: Markers and line styles that go with :data:`CATEGORICAL`, so categories differ by shape too.
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
LINESTYLES = ["-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (3, 1)), (0, (1, 1)), (0, (8, 2))]

#: Default figure width in inches (<= 6.4 so 12 pt text stays >= 9 px on a phone).
WIDTH = 6.4
#: Base font size in points (every text), titles one point larger.
FONT = 12.0
TITLE = 13.0


def min_font(width: float) -> float:
    """Smallest font size (points) legible at 9 px when a ``width``-inch figure is shown 360 px wide."""
    import math

    return max(FONT, math.ceil(18 * float(width)) / 10)


def apply_style() -> None:
    """Set the seaborn theme and figure defaults used in every notebook."""
    sns.set_theme(context="notebook", style="whitegrid", palette=CATEGORICAL)
    mpl.rcParams.update({
        "figure.figsize": (WIDTH, 4.0), "figure.dpi": 100, "savefig.dpi": 150, "savefig.bbox": "tight",
        "font.size": FONT, "axes.titlesize": TITLE, "axes.titleweight": "bold", "axes.labelsize": FONT,
        "xtick.labelsize": FONT, "ytick.labelsize": FONT, "legend.fontsize": FONT,
        "legend.title_fontsize": FONT, "figure.titlesize": TITLE, "figure.titleweight": "bold",
        "axes.prop_cycle": mpl.cycler(color=CATEGORICAL), "hatch.linewidth": 1.0,
    })
