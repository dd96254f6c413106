"""Run every benchmark side by side and collect their tables into benchmarks/README.md.

Each ``benchmarks/bench_<name>.py`` is run in its own process (so peak memory is its own) and writes a
Markdown section to ``benchmarks/results/<name>.md``; this script then rebuilds the README's results
part from those files. Usage: ``make bench`` or ``python -m benchmarks.run [name ...]``.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
START, END = "<!-- results:start -->", "<!-- results:end -->"


def collect() -> str:
    parts = [p.read_text().strip() for p in sorted((HERE / "results").glob("*.md"))]
    return "\n\n".join(parts) if parts else "_No results yet: run `make bench`._"


def update_readme() -> None:
    readme = HERE / "README.md"
    text = readme.read_text()
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    readme.write_text(f"{head}{START}\n{collect()}\n{END}{tail}")


def main(argv: list[str]) -> int:
    names = argv or sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    failed = []
    for name in names:
        print(f"== benchmark {name}", flush=True)
        rc = subprocess.call([sys.executable, "-m", f"benchmarks.bench_{name}"], cwd=HERE.parent)
        if rc:
            failed.append(name)
    update_readme()
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
