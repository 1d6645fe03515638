# cis-monitoring: the commands the README documents.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# LocalStack (the LocalStack test tier) lives in a venv of its own: it needs Python >= 3.13.
LOCALSTACK_VENV ?= .venv-localstack
LOCALSTACK_PYTHON ?=

.PHONY: venv localstack-venv test lint format check clean bench bench-smoke demo pack docs pack-config

## venv: create .venv and install the program, the policy pack and the test tools
venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt policy/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

## localstack-venv: LocalStack in .venv-localstack (~500 MB) for the LocalStack test tier; needs Python >= 3.13
##   (found as python3.N on PATH or in pyenv; or name one: make localstack-venv LOCALSTACK_PYTHON=/path/to/python3.13)
localstack-venv: $(LOCALSTACK_VENV)/.installed

$(LOCALSTACK_VENV)/.installed: requirements-localstack.txt constraints-localstack.txt
	@python=$$($(PYTHON) -m local.localstack find-python $(LOCALSTACK_PYTHON)) || exit 1; \
	echo "== LocalStack venv $(LOCALSTACK_VENV) on $$python"; \
	set -x; \
	"$$python" -m venv $(LOCALSTACK_VENV) && \
	$(LOCALSTACK_VENV)/bin/python -m pip install --quiet --upgrade pip && \
	$(LOCALSTACK_VENV)/bin/python -m pip install --quiet -r requirements-localstack.txt
	touch $@

## test: the whole test suite (unit, policy pack over gRPC, moto emulator; the LocalStack tier
##   runs when `make localstack-venv` was done, and is reported SKIPPED with the reason otherwise)
test: venv
	CIS_LOCALSTACK_VENV=$(abspath $(LOCALSTACK_VENV)) $(BIN)/python -m pytest

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

## pack: the self-contained policy pack (policy/ + vendored cis_monitoring.core) in dist/policy-pack
pack: venv
	$(BIN)/python -m policy.build_pack --out dist/policy-pack

## docs: regenerate the README's config reference and problem codes, and docs/stack-config.schema.json,
##   from the models (python -m cis_monitoring.spec.docs --check says whether they drifted)
docs: venv
	$(BIN)/python -m cis_monitoring.spec.docs --write

## pack-config: write policy/config/<stack>.json's topology (trails, required targets) from Pulumi.<stack>.yaml,
##   keeping its other keys; a test fails while a shipped pack config differs from its stack
PACK_CONFIG_STACKS ?= dev prod
pack-config: venv
	@for stack in $(PACK_CONFIG_STACKS); do \
		$(BIN)/python -m cis_monitoring pack-config --stack $$stack --out policy/config/$$stack.json || exit $$?; \
	done

## check: lint + test (what CI runs)
check: lint test

clean:
	rm -rf $(VENV) $(LOCALSTACK_VENV) .pytest_cache .ruff_cache .hypothesis dist
