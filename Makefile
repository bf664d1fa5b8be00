# Two commands do all set-up on a fresh machine with Python 3.11:
#   make issue10   builds issue 10 into out/ (every edition, in English and in French)
#   make test      runs the whole test suite
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: issue10 test lint format bench clean constraints

# constraints.txt: the exact versions, the same on Python 3.11, 3.12 and 3.13 (same PDF bytes).
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test,dev]"
	touch $(STAMP)

issue10: $(STAMP)
	$(BIN)/newsletter build issues/issue-10.yaml --variant all --out out
	$(BIN)/newsletter build issues/issue-10.fr.yaml --variant all --out out

# On every core, a test file per worker at a time (its module fixtures are built once).
test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --dist loadfile

# ruff (lint and format) and mypy --strict; run by .ci/run before the tests.
lint: $(STAMP)
	$(BIN)/ruff check newsletter tests bench tools
	$(BIN)/ruff format --check newsletter tests bench tools
	$(BIN)/mypy --strict newsletter

format: $(STAMP)
	$(BIN)/ruff format newsletter tests bench tools
	$(BIN)/ruff check --fix newsletter tests bench tools

bench: $(STAMP)
	$(BIN)/python bench/bench_build.py

# After a change of dependencies: pip install the new ones into .venv, then write their versions.
constraints: $(STAMP)
	{ sed -n '/^#/p' constraints.txt; $(BIN)/pip freeze --all --exclude-editable | grep -v '^pip=='; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf $(VENV) out
