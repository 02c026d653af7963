# The two commands a newcomer needs: `make demo` and `make test` (README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: install install-test demo test lint messages serve-only clean bench bench-smoke bench-province \
	screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

# Install, migrate the SQLite database under var/, load the demo county (idempotent),
# then run the background worker and the waitress server until Ctrl+C.
demo: install
	XUEJI_DEMO=1 $(BIN)/xueji migrate --noinput
	XUEJI_DEMO=1 $(BIN)/xueji demo
	@echo ""
	@echo "Open http://127.0.0.1:$(PORT)/ and log in with one of the logins above."
	@XUEJI_DEMO=1 $(BIN)/xueji worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	XUEJI_DEMO=1 $(BIN)/xueji serve --host 127.0.0.1 --port $(PORT)

# Lint, types, then the whole suite. XUEJI_TEST_DATABASE_URL=postgresql://... runs it on
# PostgreSQL; browser tests run when /usr/bin/chromium exists and are skipped visibly when not.
# PYTEST_ARGS="-n 2 --dist loadfile" runs it in two processes, as CI does (pytest-xdist).
test: install-test lint
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy src

# The benchmark suite (issue 9, bench/README.md): generates its data (cached under var/bench/
# and in PostgreSQL databases named xueji_bench_*), measures SQLite and PostgreSQL, prints one
# table and writes bench/results/latest.json. BENCH_ARGS="--check" fails on a missed goal;
# BENCH_ARGS="--only search,pages --db pg" measures a part. Not part of `make test`.
BENCH_ARGS ?=

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[bench]"
	touch $@

bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# Tiny sizes, a few minutes, run by CI so the suite cannot rot: bench/results/smoke.json.
bench-smoke: $(VENV)/.installed-bench
	$(BIN)/python -m bench.run --smoke $(BENCH_ARGS)

# Opt-in, about 90 minutes and 36 GB of disk the first time (the registry is built once and
# kept), then a minute: search and pages at 10,000,000 students on
# PostgreSQL (docs/scale.md).
bench-province: $(VENV)/.installed-bench
	$(BIN)/python -m bench.run --province $(BENCH_ARGS)

# The README's pictures: the screenshot tests photograph each role's main pages (chromium
# at /usr/bin/chromium) and render every printed form (poppler-utils) into var/screenshots/;
# scripts/screenshots.py copies the chosen ones, cropped and optimised, into docs/screenshots/.
# The old pictures are removed first, so a run that skipped (no chromium) copies nothing.
screenshots: install-test
	rm -rf var/screenshots
	$(BIN)/pytest -p no:cacheprovider tests/e2e/test_screenshots_browser.py tests/reports/test_form_images.py
	$(BIN)/python scripts/screenshots.py

# Refresh the translation catalogues after changing interface text (needs GNU gettext).
messages: install-test
	cd src/xueji && ../../$(BIN)/xueji makemessages -l zh_Hans -l en --no-obsolete --add-location file
	cd src/xueji && ../../$(BIN)/xueji compilemessages

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
