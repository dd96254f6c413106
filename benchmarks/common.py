"""Shared benchmark plumbing: benchmark-size data (generated once, gitignored) and a timer.

Usage in ``benchmarks/bench_<name>.py``::

    from benchmarks.common import sample_data, best_of, write_results
    paths = sample_data(scale=40)            # ~1M events, Parquet, under benchmarks/data/scale-40/
    seconds = best_of(lambda: run_something(paths["events"]))
"""
from __future__ import annotations

import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"

#: Blocks of the sample design per size: one block is ~25k events, ~6k responses, 30k experiment units.
EVENTS_SCALES = {"1M events": 40, "10M events": 400}


def sample_data(scale: int, tables=("events", "subscriptions", "responses", "tickets", "experiment")) -> dict:
    """Parquet files of ``scale`` sample blocks (made by :func:`cxlib.sample.write_sample`, cached)."""
    from cxlib.sample import write_sample

    out = DATA / f"scale-{scale}"
    paths = {t: out / f"{t}.parquet" for t in tables}
    missing = tuple(t for t, p in paths.items() if not p.exists())
    if missing:
        write_sample(out, scale=scale, format="parquet", tables=missing)
    return paths


def best_of(fn, repeat: int = 3) -> float:
    """Best wall time of ``repeat`` runs, in seconds (the first run also warms caches)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def write_results(name: str, markdown: str) -> Path:
    """Write one benchmark's Markdown section to ``benchmarks/results/<name>.md``."""
    path = HERE / "results" / f"{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown.strip() + "\n")
    return path
