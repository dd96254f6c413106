"""environment.yml and pyproject.toml describe the same environment; the layout is as designed."""
from __future__ import annotations

import re
import tomllib

import yaml

from cxlib.paths import PROJECT_ROOT

CONDA_TO_PYPI = {"python-duckdb": "duckdb"}


def _pyproject_pins() -> dict[str, str]:
    meta = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"])
    for extra in meta["optional-dependencies"].values():
        reqs += extra
    pins = {}
    for r in reqs:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^\]]*\])?==([^;\s]+)", r.strip())
        assert m, f"pyproject requirement {r!r} is not pinned with =="
        pins[m.group(1).lower()] = m.group(3)
    return pins


def _conda_pins() -> tuple[dict[str, str], list]:
    env = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text())
    pins, pip = {}, []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip += dep.get("pip", [])
            continue
        name, _, version = dep.partition("=")
        pins[CONDA_TO_PYPI.get(name, name).lower()] = version
    return pins, pip


def test_environment_yml_matches_pyproject_pins():
    py = _pyproject_pins()
    conda, pip = _conda_pins()
    assert "conda-forge" in yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text())["channels"]
    # every pinned Python package is in environment.yml at the same version, and nothing extra
    missing = sorted(set(py) - set(conda))
    assert not missing, f"in pyproject.toml but not environment.yml: {missing}"
    extra = sorted(set(conda) - set(py) - {"python", "pip", "openjdk"})
    assert not extra, f"in environment.yml but not pyproject.toml: {extra}"
    diff = {k: (py[k], conda[k]) for k in py if py[k] != conda[k]}
    assert not diff, f"version mismatch (pyproject, environment.yml): {diff}"
    assert any(p.startswith("-e") and "." in p for p in pip), "the pip section must install the package"


def test_ibis_and_sqlglot_pins_are_the_checked_combination():
    py = _pyproject_pins()
    assert py["ibis-framework"].startswith("12.")
    assert py["sqlglot"].startswith("28."), "ibis 12 breaks with sqlglot 30 (see DESIGN.md)"


def test_layout():
    for d in ["notebooks", "cxlib", "data", "reports", "tests", "benchmarks"]:
        assert (PROJECT_ROOT / d).is_dir(), d
    for f in ["environment.yml", "pyproject.toml", "Makefile", "README.md", ".ci/run", "data/README.md",
              "reports/README.md"]:
        assert (PROJECT_ROOT / f).is_file(), f
    readme = (PROJECT_ROOT / "README.md").read_text()
    first_block = re.search(r"```sh\n(.*?)```", readme, re.S).group(1)
    assert [ln.split("#")[0].strip() for ln in first_block.strip().splitlines()] == ["make report", "make test"]
    ci = (PROJECT_ROOT / ".ci/run").read_text()
    assert "make test" in ci


def test_make_docs_builds_the_api_reference_offline(tmp_path):
    """`make docs` (docs/build_api.py: pdoc, numpydoc docstrings) builds an index and a page per module."""
    import subprocess
    import sys

    r = subprocess.run([sys.executable, str(PROJECT_ROOT / "docs" / "build_api.py"), str(tmp_path / "api")],
                       capture_output=True, text=True, timeout=900, cwd=PROJECT_ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    api = tmp_path / "api"
    for page in ("index.html", "cxlib.html", "cxlib/metrics.html", "cxlib/stats.html", "cxlib/present.html",
                 "cxlib/reports.html", "cxlib/reports/run.html", "cxlib/pages/nps_drivers.html"):
        assert (api / page).is_file(), page
    metrics = (api / "cxlib" / "metrics.html").read_text(encoding="utf-8")
    assert "Net Promoter Score" in metrics and "Parameters" in metrics   # numpydoc sections rendered
    assert "cdn." not in (api / "cxlib" / "stats.html").read_text(encoding="utf-8")  # nothing from a CDN
    make = (PROJECT_ROOT / "Makefile").read_text()
    assert "docs/build_api.py docs/api" in make and "make docs" in make
