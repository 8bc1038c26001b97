# The two commands: `make run` and `make test`. Everything else is a helper they use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
# A second interpreter: make test VENV=.venv312 PYTHON=/path/to/python3.12
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
BENCH_ARGS ?=
HOST ?= 127.0.0.1
PORT ?= 8000
DEV_ENV := DEBUG=true

.PHONY: run test venv lint format migrations messages demo bench bench-http bench-race lighthouse clean

## run: build the venv, migrate, load the demo chain once, serve on http://127.0.0.1:8000
run: $(STAMP) .env
	$(DEV_ENV) $(PY) manage.py migrate --noinput
	$(DEV_ENV) $(PY) manage.py load_demo_data
	$(DEV_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

## test: build the venv if needed and run the whole suite (SQLite unless DATABASE_URL is set)
test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

venv: $(STAMP)

# A developer's own settings (git-ignored): DEBUG on and a random key, so that plain
# `.venv/bin/python manage.py …` works in this checkout too. Production writes its own (deploy/web.sh).
.env:
	@echo "Creating .env for development (DEBUG=true, a random DJANGOSECRETKEY); see .env.example"
	@printf 'DEBUG=true\nDJANGOSECRETKEY=%s\n' "$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" > $@

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

## lint: ruff, then the architecture contracts of pyproject.toml (import-linter)
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache --no-logo

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrations: $(STAMP)
	$(DEV_ENV) $(PY) manage.py makemigrations --check --dry-run

## messages: refresh the English catalogue after changing French source strings (needs gettext)
messages: $(STAMP)
	$(DEV_ENV) $(PY) manage.py makemessages --locale en --ignore '.venv/*' --no-obsolete
	$(DEV_ENV) $(PY) manage.py compilemessages --locale en --ignore '.venv/*'

demo: $(STAMP)
	$(DEV_ENV) $(PY) manage.py load_demo_data

bench: $(STAMP)
	$(DEV_ENV) $(PY) bench/availability.py

## bench-http: the site under load with production settings beside a minimal Django view (PostgreSQL,
## Redis and wrk on this machine; about 4 minutes): docs/performance.md. BENCH_ARGS=--requests 10000
bench-http: $(STAMP)
	$(PY) bench/http_bench.py $(BENCH_ARGS)

## bench-race: 200 customers at once through the real checkout of two Gunicorns, stock for 50 (PostgreSQL)
bench-race: $(STAMP)
	$(PY) bench/race.py $(BENCH_ARGS)

## lighthouse: Lighthouse (mobile) on the storefront's indexable pages, production settings (docs/lighthouse.md)
lighthouse: $(STAMP)
	$(PY) bench/lighthouse.py

clean:
	rm -rf $(VENV) staticfiles test-artifacts .pytest_cache
