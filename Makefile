# Two commands do all the set-up: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
DEMO_CUSTOMERS ?= 1000
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck messages bench clean chromium nginx restore

$(BIN)/python:
	@echo "==> Creating the virtual environment $(VENV) (a few seconds)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when the pinned dependencies change.
$(STAMP): pyproject.toml | $(BIN)/python
	@echo "==> Installing the pinned dependencies into $(VENV): about 3 minutes the first time, silent meanwhile..."
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)
	@echo "==> Dependencies installed."

install: $(STAMP)

.env:
	@echo "DEBUG=true" > .env
	@echo "SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" >> .env
	@echo "Wrote .env for local development (DEBUG on, random SECRET_KEY)."

# The owner's user name and password come last, in a box, right before the server starts.
run: install .env
	@echo "==> Migrating the database (under a minute the first time)..."
	@$(BIN)/python manage.py migrate --no-input --verbosity 0
	@echo "==> Demo data, when the register is empty (a few seconds)..."
	@$(BIN)/python manage.py seed_demo --customers $(DEMO_CUSTOMERS) --if-empty
	@$(BIN)/python manage.py create_owner --login-url http://127.0.0.1:$(PORT)/admin/
	@echo "==> Starting the server on http://127.0.0.1:$(PORT)/ (stop it with Ctrl-C)..."
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# The browser journeys drive Debian's Chromium (Playwright's download does not work here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }

# tests/test_deploy.py runs `nginx -t` on the reference proxy configuration (deploy/nginx/):
# Debian's nginx package unpacked into the venv, never installed or started as a service.
NGINX := $(VENV)/nginx/usr/sbin/nginx
$(NGINX): | $(BIN)/python
	@echo "Unpacking Debian's nginx into $(VENV)/nginx for the deploy tests..."
	rm -rf $(VENV)/nginx-deb && mkdir -p $(VENV)/nginx-deb
	cd $(VENV)/nginx-deb && { apt-get download -qq nginx 2>/dev/null || \
	  { if [ "$$(id -u)" = 0 ]; then apt-get update -qq; else sudo apt-get update -qq; fi; apt-get download -qq nginx; }; }
	dpkg-deb -x $(VENV)/nginx-deb/nginx_*.deb $(VENV)/nginx
	rm -rf $(VENV)/nginx-deb

nginx: $(NGINX)

# Honours DATABASE_URL: SQLite by default, PostgreSQL when it names one.
# Skip the browser journeys locally with: make test PYTEST_ARGS='-m "not browser"'
# (then Chromium is not installed).
test: install nginx $(if $(findstring not browser,$(PYTEST_ARGS)),,chromium)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The checks CI runs before the tests. They read no .env and touch no database.
CHECK_ENV := DJANGO_READ_DOT_ENV=0 SECRET_KEY=checks-only-not-a-secret DATABASE_URL=sqlite://:memory:

lint: install
	$(BIN)/ruff check .
	$(CHECK_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	$(CHECK_ENV) $(BIN)/mypy

typecheck: install
	$(CHECK_ENV) $(BIN)/mypy

messages: install .env
	$(BIN)/python manage.py makemessages -l fi -l en --no-obsolete --no-location
	$(BIN)/python manage.py compilemessages --ignore=.venv

# Benchmarks (not part of make test): on DATABASE_URL, default a SQLite file in /tmp.
# BENCH_CUSTOMERS sets the size (default 100,000 customers with 5 orders each).
bench: install
	$(BIN)/python tests/benchmarks/run.py

# Restores a backup (pg_dump --format=custom) into the database DATABASE_URL names, all or
# nothing, then gathers the planner's statistics, which pg_restore leaves empty: without
# them retention and label exports run 15-30 times slower until autovacuum gets there.
restore:
	@test -n "$(DUMP)" || { echo "Usage: DATABASE_URL=postgres://... make restore DUMP=kehobalanssi-YYYY-MM-DD.dump"; exit 2; }
	@test -n "$$DATABASE_URL" || { echo "make restore: DATABASE_URL names the database to restore into"; exit 2; }
	pg_restore --clean --if-exists --single-transaction --exit-on-error --dbname="$$DATABASE_URL" "$(DUMP)"
	vacuumdb --analyze-only --dbname="$$DATABASE_URL"

clean:
	rm -rf $(VENV) staticfiles
