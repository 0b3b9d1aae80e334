# Two commands for a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install dev run serve test lint migrate graphiql browser demo schema manifest

GRAPHIQL := server/graphiql/node_modules/.installed

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install -q -c constraints.txt -e .
	touch $@

$(VENV)/.dev: $(VENV)/.runtime
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $@

# GraphiQL's assets come from the npm registry at build time; without npm the explorer
# falls back to loading them from a CDN.
$(GRAPHIQL): server/graphiql/package.json server/graphiql/package-lock.json
	@if command -v npm >/dev/null; then \
		cd server/graphiql && npm ci --no-audit --no-fund --silent && touch node_modules/.installed; \
	else echo "npm not found: GraphiQL will load from a CDN"; fi

graphiql: $(GRAPHIQL)

# The explorer test drives Debian's Chromium; installed when missing and possible. Elsewhere
# that test is skipped; with CI=true a Chromium that cannot be installed stops the run here, with
# apt's own words.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		(apt-get install -y -q chromium >.browser-install.log 2>&1 || \
		 (apt-get update -q >>.browser-install.log 2>&1 && apt-get install -y -q chromium >>.browser-install.log 2>&1)) ; } || \
		if [ "$$CI" = true ]; then \
			echo "chromium could not be installed, and CI=true requires it (tests/test_explorer.py):" >&2; \
			tail -n 20 .browser-install.log >&2 2>/dev/null || echo "not root, or no apt-get: install Debian's chromium package" >&2; \
			exit 1; \
		else echo "chromium not installed: the browser test will be skipped"; fi
	@rm -f .browser-install.log

## A virtualenv with what the server needs and the `ephemera` command (.venv/bin/ephemera).
install: $(VENV)/.runtime

## The same, plus what the tests and benchmarks need.
dev: $(VENV)/.dev

## Install what the server needs and start it on the embedded default (SQLite, no services).
run: $(VENV)/.runtime $(GRAPHIQL)
	$(BIN)/ephemera serve

## Start the server as the environment configures it (the deploy command; no GraphiQL build).
serve: $(VENV)/.runtime
	$(BIN)/ephemera serve

## Install everything and run lint, types and the whole test suite, over TEST_WORKERS pytest-xdist
## workers (one per core here; TEST_WORKERS=0 runs it in one process).
TEST_WORKERS ?= 2
test: $(VENV)/.dev $(GRAPHIQL) browser lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

## Apply migrations to DATABASE_URL (the deploy step for PostgreSQL).
migrate: $(VENV)/.runtime
	$(BIN)/ephemera migrate

## Fill the configured database (DATABASE_URL, default the embedded SQLite) with a demo world;
## it refuses a production one unless run as `.venv/bin/ephemera demo --force`.
demo: $(VENV)/.runtime
	$(BIN)/ephemera demo

## Write the served schema's SDL to schema.graphql (commit it: tests fail when it differs).
schema: $(VENV)/.runtime
	$(BIN)/python -m strawberry export-schema schema --output schema.graphql

## Build a trusted-documents manifest from a folder of .graphql files:
## make manifest DOCUMENTS=path/to/graphql MANIFEST=trusted-documents.json
DOCUMENTS ?= graphql
MANIFEST ?= trusted-documents.json
manifest: $(VENV)/.runtime
	$(BIN)/python -m server.trusted $(DOCUMENTS) > $(MANIFEST).tmp && mv $(MANIFEST).tmp $(MANIFEST)
