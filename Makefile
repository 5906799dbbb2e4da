# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Re-install when a requirements file changes.
RUN_STAMP := $(VENV)/.run-$(shell cat requirements.txt | md5sum | cut -c1-12)
DEV_STAMP := $(VENV)/.dev-$(shell cat requirements.txt requirements-dev.txt | md5sum | cut -c1-12)

.PHONY: run test test-sqlite test-postgres bench lint demo messages clean help

help:
	@echo "make run    - install, migrate, load demo data, start broker + Celery worker + beat + web on :$(PORT)"
	@echo "make test   - install and run the whole test suite (TEST_POSTGRES=1: on PostgreSQL too)"
	@echo "make bench  - run the benchmarks and print their figures"
	@echo "make lint   - ruff check, and vulture (unused code, 80% confidence)"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed (found $(PYTHON))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): $(BIN)/python requirements.txt
	$(BIN)/pip install --quiet -r requirements.txt
	@rm -f $(VENV)/.run-*; touch $@

$(DEV_STAMP): $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@rm -f $(VENV)/.dev-* $(VENV)/.run-*; touch $@ $(RUN_STAMP)

messages: $(RUN_STAMP)
	@if command -v msgfmt >/dev/null; then $(BIN)/python manage.py compilemessages --ignore=.venv -v 0; fi

run: $(RUN_STAMP) messages
	$(BIN)/python manage.py migrate --no-input -v 0
	$(BIN)/python manage.py collectstatic --no-input -v 0
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py index_talks
	$(BIN)/python manage.py flag_members -v 0
	$(BIN)/python manage.py serve --port $(PORT)

test: $(DEV_STAMP) messages
	@bash .ci/install-browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	@if [ "$${TEST_POSTGRES:-}" = "1" ] || [ "$${CI:-}" = "true" ]; then $(MAKE) --no-print-directory test-postgres; fi

test-postgres: $(DEV_STAMP)
	bash .ci/with-postgres $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(DEV_STAMP)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/vulture community shares importer config .ci/vulture_whitelist.py --min-confidence 80 --exclude "*/migrations/*"

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
