# Two commands matter: `make run` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup run test lint types contracts unit lock bench

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	rm -f $(VENV)/.installed-* && $(PYTHON) -m venv $(VENV) && $(BIN)/pip install -q uv==0.13.9 && $(BIN)/uv pip install -q --python $(BIN)/python -r requirements.lock && $(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e . && touch $(STAMP)

run: setup
	$(BIN)/callscope serve --demo

test: lint types contracts unit

lint: setup
	$(BIN)/ruff check src tests bench && $(BIN)/ruff format --check src tests bench

types: setup
	$(BIN)/mypy

contracts: setup
	$(BIN)/lint-imports

unit: setup
	$(BIN)/pytest --cov=callscope --cov-report=term:skip-covered

lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

bench: setup
	$(BIN)/python bench/records.py
