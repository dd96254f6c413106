"""Helpers shared by the figure modules: human labels, phone-legible layout, alt text and :func:`show`."""
from __future__ import annotations

import math
import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.text import Text

from cxlib.present.format import label
from cxlib.plots.style import FONT, TITLE, WIDTH, min_font

# --- human labels -------------------------------------------------------------------------------------

#: Column prefixes a figure leaves out of a name (driver ratings: ``drv_speed`` -> "Speed").
_PREFIXES = ("drv_",)


def human(value, labels: dict | None = None) -> str:
    """A readable label for a column name or category value: the one label rule,
    :func:`cxlib.present.format.label` (``labels`` wins), after a figure's own conventions: a missing value
    is "—", a timestamp its day, and the driver prefix ``drv_`` is left out.

    Examples
    --------
    >>> human("in_app"), human("drv_value_for_money"), human("clicks/sessions"), human("AMER")
    ('In-app', 'Value for money', 'Clicks per session', 'AMER')
    """
    if labels and value in labels:
        return str(labels[value])
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    s = str(value).strip()
    if labels and s in labels:
        return str(labels[s])
    for p in _PREFIXES:
        if s.startswith(p) and len(s) > len(p):
            s = s[len(p):]
    return label(s, labels)


def metric_name(name, labels: dict | None = None) -> str:
    return human(name, labels)


# --- numbers in words ------------------------------------------------------------------------------

def pct(v, digits: int = 0) -> str:
    return "—" if v is None or pd.isna(v) else f"{v:.{digits}%}"


def signed_pct(v) -> str:
    return "—" if v is None or pd.isna(v) else f"{v:+.1%}".replace("-", "−")


def points(v) -> str:
    return "—" if v is None or pd.isna(v) else f"{v:+.0f}".replace("-", "−")


def num(v, digits: int = 1) -> str:
    return "—" if v is None or pd.isna(v) else f"{v:,.{digits}f}"


def month(ts) -> str:
    return pd.Timestamp(ts).strftime("%b %Y")


def day(ts) -> str:
    return pd.Timestamp(ts).strftime("%-d %b %Y")


def duration_hours(h) -> str:
    """A duration in hours in words with a readable unit: 0.05 -> "3 min", 30 -> "30 h", 72 -> "3 days"."""
    if h is None or pd.isna(h):
        return "—"
    s = h * 3600
    if s < 60:
        return f"{s:.0f} s"
    if s < 3600:
        return f"{s / 60:.0f} min"
    if h < 48:
        return f"{h:.1f} h" if h < 10 else f"{h:.0f} h"
    return f"{h / 24:.0f} days"


def hours_formatter():
    return plt.FuncFormatter(lambda v, _: duration_hours(v) if v > 0 else "")


def share_formatter(signed: bool = False):
    def fmt(v, _=None):
        if abs(v) < 1e-12:
            return "0%"
        return (f"{v:+.0%}" if signed else f"{v:.0%}").replace("-", "−")

    return plt.FuncFormatter(fmt)


# --- driver scale ------------------------------------------------------------------------------------

def rating_scale(table: pd.DataFrame | None = None, scale=None, values=None) -> tuple[float, float]:
    """The rating scale ``(lo, hi)``: ``scale`` if given, else ``table.attrs['scale']``, else inferred from
    the values (averages or raw ratings): at most 5 -> 1-5, at most 7 -> 1-7, else 0-10 (1-10 when nothing
    is below 1)."""
    if scale is None and table is not None:
        scale = table.attrs.get("scale")
        if isinstance(scale, dict):  # per-driver scales: use them when they agree
            vals = {tuple(v) for v in scale.values()} if scale else set()
            scale = vals.pop() if len(vals) == 1 else None
    if scale is not None:
        lo, hi = scale
        return float(lo), float(hi)
    v = pd.to_numeric(pd.Series(values if values is not None else table["mean"]), errors="coerce").dropna()
    if v.empty:
        return 0.0, 10.0
    hi = v.max()
    lo = 0.0 if v.min() < 1 else 1.0
    if hi <= 5:
        return 1.0, 5.0
    if hi <= 7:
        return 1.0, 7.0
    return lo, 10.0


def scale_text(scale) -> str:
    lo, hi = scale
    return f"{lo:g}–{hi:g}"


# --- layout ------------------------------------------------------------------------------------------

def new_ax(ax, height: float, width: float = WIDTH):
    """``ax`` or a new phone-sized Axes (constrained layout keeps every text inside the figure)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(width, height), layout="constrained")
    return ax


def wrap(text: str, fig, size: float = FONT, share: float = 0.95) -> str:
    """Wrap ``text`` to the width of ``fig`` at font ``size`` (about 0.6 em per character)."""
    width = fig.get_figwidth() * share * 72 / (0.6 * max(size, min_font(fig.get_figwidth())))
    return "\n".join(textwrap.wrap(str(text), max(int(width), 16))) if text else ""


def title(ax, text: str) -> None:
    ax.set_title(wrap(text, ax.figure, TITLE), loc="left")


def xlabel(ax, text: str) -> None:
    ax.set_xlabel(wrap(text, ax.figure))


def ylabel(ax, text: str, share: float = 0.6) -> None:
    ax.set_ylabel(wrap(text, ax.figure, share=share))


def legible(fig) -> None:
    """Raise every text of ``fig`` (tick labels included, also those drawn later) to the phone minimum."""
    floor = min_font(fig.get_figwidth())
    for a in fig.axes:
        a.tick_params(axis="both", which="both", labelsize=max(floor, FONT))
    for t in fig.findobj(Text):
        if t.get_fontsize() < floor:
            t.set_fontsize(floor)


def fit_texts(fig) -> None:
    """Wrap every Axes title and x-axis label to the width of its Axes once the layout is known
    (constrained layout does not make room for a title or label wider than its Axes)."""
    engine = fig.get_layout_engine()
    if engine is None:
        return
    engine.execute(fig)
    renderer = fig.canvas.get_renderer()
    wrapped = False
    for a in fig.axes:
        room = a.get_window_extent(renderer).width
        for t in (a.title, a._left_title, a._right_title, a.xaxis.label):
            words = t.get_text().replace("\n", " ")
            if not words or t.get_window_extent(renderer).width <= room:
                continue
            chars = len(words)
            wrapped = True
            while chars > 12:
                t.set_text(textwrap.fill(words, chars))
                if t.get_window_extent(renderer).width <= room:
                    break
                chars -= 3
    suptitle = getattr(fig, "_suptitle", None)
    if suptitle is not None and suptitle.get_text():
        words, chars = suptitle.get_text().replace("\n", " "), len(suptitle.get_text())
        while chars > 12 and suptitle.get_window_extent(renderer).width > fig.bbox.width * 0.98:
            chars -= 3
            wrapped = True
            suptitle.set_text(textwrap.fill(words, chars))
    if wrapped:  # make room for the wrapped lines (unchanged texts: the layout above stands)
        engine.execute(fig)


def finish(ax, alt: str):
    """Make ``ax``'s figure legible, record the alt text on the Axes and the figure, return ``ax``."""
    fig = ax.figure if hasattr(ax, "figure") else ax
    legible(fig)
    fit_texts(fig)
    ax.cx_alt = alt
    parts = [getattr(a, "cx_alt", None) for a in fig.axes]
    fig.cx_alt = " ".join(dict.fromkeys(p for p in parts if p)) or alt
    return ax


def direct_labels(ax, items, *, min_gap_pt: float | None = None, dx: float = 6) -> None:
    """Write each ``(x, y, text, color)`` next to its point at the right end of a line, nudged apart
    vertically so labels do not overlap."""
    items = [i for i in items if pd.notna(i[1])]
    if not items:
        return
    fig = ax.figure
    size = max(FONT, min_font(fig.get_figwidth()))
    gap = (min_gap_pt or size * 1.25) * fig.dpi / 72
    disp = [ax.transData.transform((_num_x(ax, x), y))[1] for x, y, *_ in items]
    order = np.argsort(disp)
    placed = []
    for k in order:
        y = disp[k]
        if placed and y - placed[-1] < gap:
            y = placed[-1] + gap
        placed.append(y)
    for k, y in zip(order, placed):
        x, y0, text, color = items[k]
        off = (y - disp[k]) * 72 / fig.dpi
        ax.annotate(text, (x, y0), xytext=(dx, off), textcoords="offset points", va="center", ha="left",
                    color=color, fontsize=size, annotation_clip=False)


def _num_x(ax, x):
    if isinstance(x, (pd.Timestamp, np.datetime64)):
        import matplotlib.dates as mdates

        return mdates.date2num(pd.Timestamp(x))
    return x


# --- display -----------------------------------------------------------------------------------------

def _figure_of(obj):
    if hasattr(obj, "savefig"):
        return obj
    if hasattr(obj, "figure"):
        return obj.figure
    arr = np.asarray(obj, dtype=object).ravel()
    if arr.size and hasattr(arr[0], "figure"):
        return arr[0].figure
    raise TypeError(f"show() takes a matplotlib Figure or Axes, not {type(obj).__name__}")


def show(obj, *, alt: str | None = None):
    """Display a figure as a PNG with its alt text, once.

    ``obj`` is an Axes, an array of Axes or a Figure (None: nothing is shown). In IPython the figure is rendered at 150 dpi
    (tight bounding box), displayed at its natural width at 100 dpi with ``alt`` (default: the figure's
    ``cx_alt``) in the output metadata (``cx_alt`` and ``image/png`` -> ``alt``, which nbconvert writes as
    the ``<img alt>``), and closed so the inline backend does not show it a second time. Outside IPython
    the figure is returned unchanged.
    """
    import io
    import struct

    if obj is None:  # a figure function had nothing to draw
        return None
    fig = _figure_of(obj)
    text = alt or getattr(fig, "cx_alt", None) or ""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of the notebooks
        return fig
    if get_ipython() is None:
        return fig
    from IPython.display import Image, display

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, bbox_inches="tight")
    png = buf.getvalue()
    px = struct.unpack(">I", png[16:20])[0]
    width = int(round(px * 100 / 150))
    display(Image(data=png, width=width), metadata={"cx_alt": text, "image/png": {"width": width, "alt": text}})
    plt.close(fig)
    return None
