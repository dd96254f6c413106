# cx-workbook: `make report` and `make test` do all the set-up on a fresh machine (Python 3.11+, make).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Everything the suite needs: the package, dev tools and the Spark extra (Spark tests run in CI).
EXTRAS ?= dev,spark

.PHONY: help setup report test lab sample notebooks bench docs clean

help:
	@echo "make report     run every notebook on the sample data into reports/<today>/"
	@echo "make test       run the whole test suite"
	@echo "make lab        JupyterLab on notebooks/ with the project's kernel"
	@echo "make sample     regenerate data/sample/ from the seeded generator"
	@echo "make notebooks  re-execute the committed notebooks in place (outputs on sample data)"
	@echo "make bench      run the benchmarks (writes benchmarks/README.md tables)"
	@echo "make docs       build the API reference from the docstrings into docs/api/ (offline)"

# Re-install only when pyproject.toml changes (the stamp is older than it).
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (cx-workbook)" >/dev/null
	@touch $(STAMP)

setup: $(STAMP)

report: $(STAMP)
	$(BIN)/cx run

test: $(STAMP)
	$(BIN)/python -m pytest

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks

sample: $(STAMP)
	$(BIN)/cx sample --out data/sample

notebooks: $(STAMP)
	$(BIN)/cx notebooks

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

# The API reference (numpydoc docstrings) as static HTML, no network: open docs/api/index.html.
# (pdoc --docformat numpy, with every module named: cxlib's __all__ would hide its submodules.)
docs: $(STAMP)
	rm -rf docs/api
	$(BIN)/python docs/build_api.py docs/api

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
