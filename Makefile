# The two commands a newcomer needs: `make demo` and `make test` (README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: install install-test demo test lint messages serve-only clean

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
test: install-test lint
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy src

# Refresh the translation catalogues after changing interface text (needs GNU gettext).
messages: install-test
	cd src/xueji && ../../$(BIN)/xueji makemessages -l zh_Hans -l en --no-obsolete --add-location file
	cd src/xueji && ../../$(BIN)/xueji compilemessages

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
