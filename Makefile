# Two commands a new user types: `make example` and `make test`.
# Both create .venv and install the project (pinned) the first time.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: example test browser lint bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=24"
	@# jmespath-community replaced jmespath (both install the `jmespath` module): drop the old one first
	! $(BIN)/pip show -q jmespath 2>/dev/null || $(BIN)/pip uninstall -y -q jmespath jmespath-community
	$(BIN)/pip install -qq -c constraints.txt -e ".[dev,dask]"
	touch $(STAMP)

example: $(STAMP)
	rm -rf build/example && mkdir -p build && cp -r flows/examples build/example
	cd build/example && ../../$(BIN)/flowscript run --local order-report.flow.md
	@echo "--- build/example/out/report.txt"; cat build/example/out/report.txt; echo
	@echo "--- the execution log, now at the end of build/example/order-report.flow.md:"
	@sed -n '/^## Execution Log/,$$p' build/example/order-report.flow.md

# The browser test (tests/deploy/test_ui_screenshots.py) drives Debian's chromium with Playwright;
# installed from the distribution's packages when missing (never `playwright install`).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null || ! command -v apt-get >/dev/null || \
	  ($(SUDO) apt-get update -qq && \
	   $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# The layout's rules (import contracts) and the types are checked before the tests run.
test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	mkdir -p build/typecheck && ln -sfn ../.. build/typecheck/flowscript
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache .flowscript-state
