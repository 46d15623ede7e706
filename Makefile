# The targets a newcomer needs. `make run` and `make test` install everything themselves.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SYSTEM_STAMP := $(VENV)/.system-packages
PORT   ?= 8501
# Debian packages: PostgreSQL for the store tests, Chromium for the browser test, CJK fonts for
# PDFs and screenshots, poppler for reading PDFs back in tests.
APT_PACKAGES := postgresql chromium fonts-noto-cjk fonts-wqy-zenhei poppler-utils nginx-light

.PHONY: help setup system run test test-fast bench lint format clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(SYSTEM_STAMP):
	@mkdir -p $(VENV)
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
	@touch $@

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	@touch $@

system: $(SYSTEM_STAMP)  ## install the Debian packages (PostgreSQL, Chromium, CJK fonts)

setup: $(SYSTEM_STAMP) $(STAMP)  ## install everything (system packages, virtualenv, Python packages)

run: setup  ## start the app on the bundled data at http://localhost:8501
	$(PY) -m app_components.serve --server.headless true --server.port $(PORT)

test: setup  ## run the whole test suite (SQLite, PostgreSQL, Dask, browser)
	$(PY) -m pytest -q

test-fast: setup  ## the suite without the browser and PostgreSQL tests
	$(PY) -m pytest -q -m "not browser and not postgres"

bench: setup  ## run the benchmarks and print their figures
	$(PY) -m matcher bench

lint: setup  ## ruff checks
	$(VENV)/bin/ruff check matcher tests benchmarks scripts app.py app_pages app_components

format: setup
	$(VENV)/bin/ruff format matcher tests app.py app_pages app_components

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
