# Funnel: `make run` serves the demo shop, `make test` runs the test suite.
PYTHON ?= python3
PORT ?= 5000
HOST ?= 127.0.0.1
DEMO_PRODUCTS ?= 200
UV_VERSION := 0.13.9
# Test processes (pytest-xdist): one per core by default; TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= auto

VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app funnel

export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Every process the shop and its tests start (servers, workers, commands, pytest's rewritten
# test modules) imports compiled bytecode kept in __pycache__: where the environment turns
# writing it off, each one compiles about a thousand modules again (2 s of every start).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: install run worker beat test lint format stories e2e screenshots browser tools monitoring-tools deploy-tools monitoring audit bench bench-storefront bench-api bench-staff bench-reports bench-listings bench-checkout wrk clean

$(VENV)/.installed: pyproject.toml uv.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv sync --frozen --quiet
	touch $@

install: $(VENV)/.installed ## create the environment and install the locked dependencies

run: install ## migrate the SQLite database, load demo data when empty, serve the shop
	$(FLASK) db upgrade heads
	$(FLASK) demo --products $(DEMO_PRODUCTS) --if-empty
	FUNNEL_JOBS_IN_PROCESS=true FUNNEL_BASE_URL=$${FUNNEL_BASE_URL:-http://$(HOST):$(PORT)} \
		$(FLASK) run --host $(HOST) --port $(PORT)

worker: install ## a Celery worker for the jobs (needs FUNNEL_CELERY_BROKER_URL, as the web process)
	$(BIN)/celery -A funnel.worker worker --loglevel=INFO

beat: install ## Celery beat, which sends the periodic jobs (exactly one per shop)
	mkdir -p $${FUNNEL_INSTANCE_PATH:-instance}
	$(BIN)/celery -A funnel.worker beat --loglevel=INFO --schedule=$${FUNNEL_INSTANCE_PATH:-instance}/celerybeat-schedule

test: install ## the whole test suite (SQLite always; PostgreSQL/MariaDB when their URLs are set)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup

lint: install ## ruff (lint + format) and the import-linter contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

stories: install ## run the tests and print which user stories they prove
	$(BIN)/python -m tests.support.stories

browser: ## install Debian's Chromium for the browser tests (needs root)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium)

tools: ## install curl and jq, which the API guide's curl session uses (needs root)
	command -v curl >/dev/null && command -v jq >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends curl jq)

monitoring-tools: ## install Debian's Prometheus, whose promtool checks deploy/prometheus (needs root)
	command -v promtool >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus)

deploy-tools: ## install Debian's nginx and Apache, which the deployment tests run in front of gunicorn (needs root)
	command -v nginx >/dev/null && test -x /usr/sbin/apache2 || (apt-get update -qq && apt-get install -y -qq --no-install-recommends nginx apache2)

monitoring: monitoring-tools ## check the Prometheus config and alert rules, and run the rules' unit tests
	cd deploy/prometheus && promtool check config --syntax-only prometheus.yml && promtool check rules alerts.yml && promtool test rules alerts.test.yml

# The locked packages, as pip-audit reads them, and what it said (kept in the environment folder).
AUDIT_REQUIREMENTS := $(VENV)/audit-requirements.txt
AUDIT_REPORT := $(VENV)/audit-report.txt

audit: install ## bandit over src/, and pip-audit over the locked packages (needs PyPI's vulnerability data)
	$(BIN)/bandit -q -c pyproject.toml -r src
	$(BIN)/uv export --frozen --no-hashes --no-emit-project --all-groups --quiet -o $(AUDIT_REQUIREMENTS)
	@status=0; $(BIN)/pip-audit --no-deps --disable-pip --progress-spinner off --timeout 15 \
		-r $(AUDIT_REQUIREMENTS) > $(AUDIT_REPORT) 2>/dev/null || status=$$?; \
	cat $(AUDIT_REPORT); \
	unchecked=$$(grep -c 'could not be audited' $(AUDIT_REPORT)); \
	if [ "$$unchecked" -gt 0 ]; then \
		echo "audit: NOT CHECKED: $$unchecked locked packages could not be looked up in the vulnerability database (PyPI unreachable from here?): run make audit where PyPI is reachable."; \
	fi; \
	if [ $$status -ne 0 ] && grep -q 'known vulnerabilit' $(AUDIT_REPORT); then \
		echo "audit: known vulnerabilities found in locked packages (listed above): update them (docs/runbook.md)."; exit 1; \
	elif [ $$status -ne 0 ]; then echo "audit: pip-audit failed (exit $$status)"; exit $$status; \
	fi; \
	echo "audit: bandit found nothing; pip-audit found no known vulnerability in the packages it could look up."

e2e: install ## only the browser tests
	$(BIN)/pytest -m e2e

screenshots: install ## the staff and storefront pages (and the storefront on a phone) as PNG files in docs/screenshots (browser)
	FUNNEL_SCREENSHOTS=docs/screenshots $(BIN)/pytest -m e2e tests/e2e/test_staff_accessibility.py \
		tests/e2e/test_phone.py::test_every_storefront_page_fits_a_phone_and_has_no_serious_accessibility_violation

# The storefront against bare Flask: SQLite, and PostgreSQL in a scratch database when BENCH_POSTGRESQL is a server's URL.
STOREFRONT_BENCH = $(BIN)/python -m bench.storefront $(if $(BENCH_POSTGRESQL),--postgresql $(BENCH_POSTGRESQL))

bench: install wrk ## storefront pages and API throughput with wrk, and the staff lists, written to bench/results.md (QUICK=1: only the storefront against bare Flask, 1,000 and 10,000 products, 3 s a measure)
ifdef QUICK
	$(STOREFRONT_BENCH) --sizes 1000 10000 --seconds 3
else
	$(STOREFRONT_BENCH)
	$(BIN)/python -m bench.pages --products $(or $(BENCH_PRODUCTS),10000)
	$(BIN)/python -m bench.api --products $(or $(BENCH_PRODUCTS),10000)
	$(BIN)/python -m bench.staff_lists --products $(or $(BENCH_PRODUCTS),10000)
	$(BIN)/python -m bench.reports $(if $(BENCH_POSTGRESQL),--postgresql $(BENCH_POSTGRESQL))
	$(BIN)/python -m bench.listings
	$(BIN)/python -m bench.funnel_cost
	$(BIN)/python -m bench.checkout $(if $(BENCH_POSTGRESQL),--postgresql $(BENCH_POSTGRESQL))
endif

bench-storefront: install wrk ## only the storefront pages against bare Flask at 1,000, 10,000 and 100,000 products (BENCH_SIZES to choose)
	$(STOREFRONT_BENCH) $(if $(BENCH_SIZES),--sizes $(BENCH_SIZES))

bench-checkout: install wrk ## only add to cart (form and API) and the whole API checkout with 32 buyers
	$(BIN)/python -m bench.checkout $(if $(BENCH_POSTGRESQL),--postgresql $(BENCH_POSTGRESQL))

bench-funnel: install wrk ## only what counting a product view in the funnel costs the product page
	$(BIN)/python -m bench.funnel_cost

bench-staff: install ## only the staff lists in a shop of 10,000 products and 100,000 orders
	$(BIN)/python -m bench.staff_lists --products $(or $(BENCH_PRODUCTS),10000)

bench-reports: install ## only the reports over 90 days of a shop with a year of past (1,000,000 events, 100,000 orders)
	$(BIN)/python -m bench.reports $(if $(BENCH_POSTGRESQL),--postgresql $(BENCH_POSTGRESQL))

bench-listings: install ## only the category page and search at 1,000 and 100,000 products, in process
	$(BIN)/python -m bench.listings

bench-api: install wrk ## only the API's throughput (its section of bench/results.md)
	$(BIN)/python -m bench.api --products $(or $(BENCH_PRODUCTS),10000)

wrk: ## install Debian's wrk for the benchmarks (needs root)
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends wrk)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
