# Handoff: `make demo` serves the portal locally, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test lint typecheck pytest screenshots serve install install-dev assets clean lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when pyproject.toml or the pinned versions change. constraints.txt pins every
# package to the versions tested together; `make lock` rewrites it from the virtualenv after a
# change to pyproject.toml.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@ $(VENV)/.installed

lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip freeze --exclude-editable > constraints.txt

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# plotly.js (and, for the browser tests, axe-core) come from installed packages, never a CDN.
assets: $(VENV)/.installed
	DJANGO_DEBUG=1 $(MANAGE) vendor_assets

demo: install assets
	DJANGO_DEBUG=1 $(MANAGE) migrate --noinput
	DJANGO_DEBUG=1 $(MANAGE) seed_demo
	@echo "Serving Handoff on http://$(HOST):$(PORT)/ (Ctrl-C to stop)"
	DJANGO_DEBUG=1 $(MANAGE) runserver $(HOST):$(PORT)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_DEBUG=1 $(MANAGE) makemigrations --check --dry-run

typecheck: install-dev
	DJANGO_DEBUG=1 $(BIN)/mypy portal registry feedback

pytest: install-dev assets
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

# Retake the README's screenshots (desktop and phone width) with the browser suite.
screenshots: install-dev assets
	HANDOFF_UPDATE_SCREENSHOTS=1 $(BIN)/pytest -q tests/e2e/test_accessibility.py -k screenshots

# Production-like: gunicorn + a Celery worker + beat, against DATABASE_URL and REDIS_URL.
serve: install assets
	$(MANAGE) migrate --noinput
	$(MANAGE) collectstatic --noinput
	$(BIN)/honcho start -f Procfile

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
