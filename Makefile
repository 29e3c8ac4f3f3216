# Parley's developer commands. `make help` lists them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.DEFAULT_GOAL := help
.PHONY: help run test lint format check bench clean translations

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Parley needs Python 3.11 or newer; set PYTHON=python3.x"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	@touch $@

run: $(VENV)/.installed ## start Parley on 127.0.0.1:8000 with its own Redis under ./var (Ctrl-C stops)
	$(BIN)/parley check flows/
	$(BIN)/parley serve

test: $(VENV)/.installed-test ## run the whole test suite
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-test ## ruff (lint and format) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.installed-test ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check: $(VENV)/.installed ## check every flow under flows/
	$(BIN)/parley check flows/

CATALOGS := web/console/translations
translations: $(VENV)/.installed ## extract the console's strings, update the Chinese catalog, compile it
	$(BIN)/pybabel extract -F web/console/babel.cfg --no-location --sort-output \
		-k _l --omit-header -o $(CATALOGS)/messages.pot .
	$(BIN)/pybabel update -i $(CATALOGS)/messages.pot -d $(CATALOGS) -l zh_Hans_CN \
		--no-fuzzy-matching --width 100
	$(BIN)/pybabel compile -d $(CATALOGS) --statistics

bench: $(VENV)/.installed-bench ## print the engine's speed targets, MET or MISSED (under a minute)
	$(BIN)/python bench/targets.py

clean: ## remove the virtualenv and runtime state
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
