# Complex Cases. `make run` starts the demo; `make test` runs the suite. `make help` lists the rest.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
ASSETS := static_build/.built
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_PEOPLE ?= 12000

.DEFAULT_GOAL := help
.PHONY: help install assets run demo test test-postgres test-clock-ahead check lint format typecheck migrations-check bench worker beat clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP) $(ASSETS) ## Create .venv, install Python and front-end dependencies, build assets

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

# The .map files go too: the minified files name them (sourceMappingURL), and the production static
# storage (hashed names, a manifest) refuses to collect a file whose references do not resolve.
$(ASSETS): node_modules/.package-lock.json complexcases/core/static_src/init.js Makefile
	rm -rf static_build && mkdir -p static_build/govuk static_build/moj static_build/vendor
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.{css,js}{,.map} static_build/govuk/
	cp -r node_modules/govuk-frontend/dist/govuk/assets static_build/govuk/assets
	cp node_modules/@ministryofjustice/frontend/moj/moj-frontend.min.{css,js}{,.map} static_build/moj/
	cp -r node_modules/@ministryofjustice/frontend/moj/assets static_build/moj/assets
	cp node_modules/axe-core/axe.min.js static_build/vendor/
	cp complexcases/core/static_src/init.js static_build/init.js
	touch $(ASSETS)

assets: $(ASSETS) ## Copy GOV.UK and MoJ Frontend assets into static files

run: install ## Start the demo on http://127.0.0.1:8000 (embedded SQLite, synthetic East of England data)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo_setup --people $(DEMO_PEOPLE)
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install ## Run the test suite (SQLite unless DATABASE_URL is set)
	$(BIN)/pytest -p no:cacheprovider

test-postgres: install ## Run the test suite against PostgreSQL on 127.0.0.1:5432
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/complexcases} $(BIN)/pytest -p no:cacheprovider

CLOCK_AHEAD_DAYS ?= 400 1096
test-clock-ahead: install ## Run the non-browser suite with the clock moved ahead (400 days, 3 years)
	set -e; for days in $(CLOCK_AHEAD_DAYS); do \
	  echo "--- the clock moved $$days days ahead"; \
	  $(BIN)/pytest -p no:cacheprovider -m "not browser" --clock-shift-days $$days; \
	done

lint: install ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install ## Format the code with ruff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install ## mypy with django-stubs
	$(BIN)/mypy complexcases config bench

migrations-check: install ## Fail if models and migrations disagree
	$(PY) manage.py makemigrations --check --dry-run

check: lint typecheck migrations-check test ## What CI runs: lint, types, migrations check, tests

bench: install ## Benchmark import and screening of a national extract (set DATABASE_URL for PostgreSQL)
	$(PY) bench/screening.py

worker: install ## Celery worker (production: set CELERY_BROKER_URL)
	$(BIN)/celery -A config worker --loglevel=INFO

beat: install ## Celery beat scheduler
	$(BIN)/celery -A config beat --loglevel=INFO

clean: ## Remove the virtual environment, node_modules, built assets and the demo database
	rm -rf $(VENV) node_modules static_build staticfiles var
