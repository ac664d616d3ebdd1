# Frontdesk: `make demo` starts a helpdesk with demo data; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FRONTDESK := $(VENV)/bin/frontdesk
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
PLUGIN_PROJECTS := $(wildcard plugins/*/pyproject.toml channels/*/pyproject.toml)
PYTEST_ARGS ?=

.PHONY: demo test test-sqlite test-postgres install system-deps services bench clean

$(VENV)/.installed: pyproject.toml $(PLUGIN_PROJECTS) scripts/install-system-deps.sh
	bash scripts/install-system-deps.sh
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]" $(foreach p,$(PLUGIN_PROJECTS),-e ./$(dir $(p)))
	touch $@

install: $(VENV)/.installed

services:
	bash scripts/ensure-services.sh

demo: install
	$(FRONTDESK) init
	$(FRONTDESK) db upgrade
	$(FRONTDESK) demo load
	$(FRONTDESK) run --host 127.0.0.1 --port 5000

test: install services
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite:
	@echo "== test suite on SQLite"
	env -u FRONTDESK_TEST_DATABASE_URL $(PY) -m pytest $(PYTEST_ARGS)

test-postgres:
	@echo "== test suite on PostgreSQL ($(PG_URL))"
	FRONTDESK_TEST_DATABASE_URL=$(PG_URL) $(PY) -m pytest $(PYTEST_ARGS)

bench: install services
	for script in bench/*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) instance .pytest_cache
