# fairbeam: `make run` to try it, `make test` to prove it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export FAIRBEAM_VAR ?= var

.PHONY: install frontend run test lint typecheck pytest lock bench clean browser-deps transfer-deps bench-deps

install: $(STAMP) frontend

# Reinstalls only when the lock file or the project metadata changed.
$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

# The web portal: `npm ci` when the lock file changed, a build when a source changed.
NPM      ?= npm
FRONTEND := frontend
FRONTEND_SOURCES := $(shell find $(FRONTEND)/src $(FRONTEND)/public -type f 2>/dev/null) \
	$(wildcard $(FRONTEND)/index.html $(FRONTEND)/package.json $(FRONTEND)/tsconfig.json $(FRONTEND)/vite.config.ts)

frontend: $(FRONTEND)/dist/index.html

$(FRONTEND)/node_modules/.installed: $(FRONTEND)/package-lock.json
	cd $(FRONTEND) && $(NPM) ci --no-audit --no-fund --loglevel=error
	@touch $@

$(FRONTEND)/dist/index.html: $(FRONTEND)/node_modules/.installed $(FRONTEND_SOURCES)
	cd $(FRONTEND) && $(NPM) run build
	@touch $@

run: install
	$(BIN)/fairbeam db upgrade
	$(BIN)/fairbeam demo --if-empty
	$(BIN)/fairbeam serve

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy

# Two workers, each given whole test files: the tests wait on servers, browsers and the
# database for much of their time. `make test PYTEST_WORKERS=0` runs them in one process.
PYTEST_WORKERS ?= 2
pytest: install browser-deps transfer-deps
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile

test: lint typecheck browser-deps transfer-deps pytest

# The browser tests drive Debian's Chromium; installed only when it is missing.
CHROMIUM := /usr/bin/chromium
browser-deps: $(CHROMIUM)

$(CHROMIUM):
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

# The download tests check zips with Info-ZIP's unzip; bench/transfer.py compares with nginx.
UNZIP := /usr/bin/unzip
NGINX := /usr/sbin/nginx
transfer-deps: $(UNZIP)
bench-deps: $(NGINX)

$(UNZIP):
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y unzip

$(NGINX):
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y nginx

# Regenerate requirements.lock after changing dependencies in pyproject.toml.
lock: install
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

bench: install
	$(BIN)/python bench/catalogue.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache $(FRONTEND)/node_modules $(FRONTEND)/dist
