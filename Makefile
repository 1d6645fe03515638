# cis-monitoring: the commands the README documents.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: venv test lint format check clean

## venv: create .venv and install the program, the policy pack and the test tools
venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt policy/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

## test: the whole test suite (unit, policy pack over gRPC, AWS emulator)
test: venv
	$(BIN)/python -m pytest

## lint: ruff, as CI runs it
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## check: lint + test (what CI runs)
check: lint test

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
