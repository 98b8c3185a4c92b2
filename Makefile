# Boardroom: `make run` serves the demo on SQLite, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
WORKERS ?= 2
INSTANCE := $(or $(BOARDROOM_INSTANCE_PATH),instance)
STAMP := $(VENV)/.installed
JS_STAMP := tests/js/node_modules/.installed

.PHONY: run test venv install js migrate seed token openapi bench fuzz clean wrk

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv install: $(STAMP)

$(JS_STAMP): tests/js/package.json
	cd tests/js && (npm ci --no-audit --no-fund --silent || npm install --no-audit --no-fund --silent)
	touch $(JS_STAMP)

js: $(JS_STAMP)

migrate: $(STAMP)
	$(BIN)/flask --app wsgi db upgrade

run: $(STAMP) migrate
	$(BIN)/flask --app wsgi seed-demo --if-empty
	@$(BIN)/flask --app wsgi tokens create "make run $$(date +%Y-%m-%dT%H:%M)" --role coordinator | tail -n 1 > $(INSTANCE)/coordinator-token.txt
	@echo "Coordinator token (also in $(INSTANCE)/coordinator-token.txt):"
	@cat $(INSTANCE)/coordinator-token.txt
	@echo "API on http://127.0.0.1:$(PORT)/api/v1  docs on http://127.0.0.1:$(PORT)/docs"
	@echo "Processes (Procfile, under honcho): web = gunicorn (gunicorn.conf.py), worker = webhooks and invitation emails (in $(INSTANCE)/mail/ unless BOARDROOM_SMTP_URL is set)"
	PATH="$(CURDIR)/$(BIN):$$PATH" PORT=$(PORT) WEB_CONCURRENCY=$(WORKERS) \
		BOARDROOM_ENV=$${BOARDROOM_ENV:-development} exec $(BIN)/honcho start -f Procfile -p $(PORT)

wrk:
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null) || \
		echo "wrk could not be installed: the benchmark smoke test fails in CI and skips loudly elsewhere"

test: $(STAMP) $(JS_STAMP) wrk
	BOARDROOM_ENV=testing $(BIN)/python -m pytest $(PYTEST_ARGS)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "=== again on $$(echo $$TEST_DATABASE_URL | sed 's#//[^@]*@#//#')"; \
		BOARDROOM_ENV=testing BOARDROOM_TEST_DB=postgres $(BIN)/python -m pytest $(PYTEST_ARGS); \
	fi

openapi: $(STAMP)
	$(BIN)/flask --app wsgi openapi write openapi/openapi.json

bench: $(STAMP) wrk
	$(BIN)/python bench/run.py

# schemathesis with every check and phase against a live server, as a coordinator and as a partner
fuzz: $(STAMP)
	$(BIN)/python fuzz/run.py $(FUZZ_ARGS)

clean:
	rm -rf $(VENV) tests/js/node_modules
