# The two commands a newcomer needs (see README):
#   make run    install, migrate, load the demo hall, serve it on http://127.0.0.1:5000
#   make test   install everything the tests need, start PostgreSQL, run the whole suite

PYTHON ?= python3
# the suite's workers (pytest-xdist): each has its own SQLite files and PostgreSQL schema
TEST_WORKERS ?= 2
VENV   := .venv
BIN    := $(VENV)/bin
export FLASK_APP := app

.PHONY: run test deps test-deps fonts assets services bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

deps: $(BIN)/python fonts
	$(BIN)/pip install --quiet -r requirements.txt

# the printed notices embed a Chinese TrueType font (engine/notices.py)
fonts:
	@test -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei)

test-deps: $(BIN)/python fonts
	$(BIN)/pip install --quiet -r requirements-test.txt
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk)
	@command -v pdftotext >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils)

services:
	scripts/ensure-postgres.sh

# bpmn-js (viewer, modeler, properties panel) from npm, built into webapp/static/vendor
assets:
	@command -v npm >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm)
	npm ci --no-audit --no-fund --silent
	node scripts/build-assets.mjs

run: deps assets
	$(BIN)/flask db upgrade
	$(BIN)/flask demo
	$(BIN)/flask run --host 127.0.0.1 --port 5000

test: test-deps assets services
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

bench: deps
	$(BIN)/python bench/run.py $(BENCH_ARGS)

lint: test-deps
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
