# cis-monitoring: the commands the README documents.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: venv test lint format check clean bench bench-smoke demo pack

## venv: create .venv and install the program, the policy pack and the test tools
venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt policy/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
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

## bench: program, policy pack and pattern-engine benchmarks (~10 min); table on stdout, JSON in benchmarks/results/
bench: venv
	$(BIN)/python -m benchmarks.run --out benchmarks/results/latest.json

## bench-smoke: the same benchmarks at the smallest sizes, one repetition, no goals (~15 s)
bench-smoke: venv
	$(BIN)/python -m benchmarks.run --smoke --out benchmarks/results/smoke.json

## demo: start an AWS emulator, set up a fake organization, deploy the local stack into it, audit it, stop
demo: venv
	$(BIN)/python -m local.demo

## pack: the self-contained policy pack (policy/ + vendored cis_core) in dist/policy-pack
pack: venv
	$(BIN)/python -m policy.build_pack --out dist/policy-pack

## check: lint + test (what CI runs)
check: lint test

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis dist
