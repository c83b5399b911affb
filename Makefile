# cmlbridge: `make run` starts the local stack on moto, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAGE  ?= dev
PORT   ?= 8000

.PHONY: setup run test lint bench package clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

run: setup
	PORT=$(PORT) $(BIN)/python -m chalicelib.local

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: setup lint
	$(BIN)/python -m pytest -n 2 -q

bench: setup
	$(BIN)/python -m bench

# CloudFormation for a stage: Chalice's SAM template merged with infra/resources.json.
package: setup
	rm -rf build/$(STAGE)
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-eu-central-1} IMPORT_QUEUE_NAME=cmlbridge-$(STAGE)-import \
	  $(BIN)/chalice package --stage $(STAGE) --merge-template infra/resources.json build/$(STAGE)
	$(BIN)/cfn-lint build/$(STAGE)/sam.json

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache
