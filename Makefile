# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Browser tests drive Debian's Chromium (never a Playwright download); the stamp is made once it is installed.
CHROMIUM := /usr/bin/chromium
BROWSER_STAMP := $(VENV)/.chromium
AXE := tests/browser/axe/node_modules/axe-core/axe.min.js

.PHONY: run test lint typecheck unit clean mutation

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Install Debian's chromium when missing (sudo -n when not root, so make never waits for a password).
# If that fails, warn and go on: outside CI the browser tests then skip, saying why; with CI=true they fail.
$(BROWSER_STAMP): | $(STAMP)
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO="sudo -n"; fi; \
		echo "installing Debian's chromium for the browser tests"; \
		( $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium \
		|| { $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y --no-install-recommends chromium; } ) \
		|| echo "WARNING: could not install chromium ($(CHROMIUM)): the browser tests will be skipped" \
			"(and fail with CI=true); install it with: sudo apt-get install chromium" >&2; \
	fi
	@if [ -x $(CHROMIUM) ]; then touch $@; fi

# axe-core for the accessibility checks of the browser tests, from the npm registry, as the lock file pins it.
# Without npm or the registry, warn and go on: the browser tests then fail, saying how to install it.
$(AXE): tests/browser/axe/package.json tests/browser/axe/package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --prefix tests/browser/axe --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "WARNING: npm is missing: axe-core cannot be installed for the browser tests;" \
			"install Node.js and npm (apt-get install npm)" >&2; \
	fi

run: $(STAMP)
	$(BIN)/custody init
	$(BIN)/custody demo --if-empty
	$(BIN)/custody verify
	$(BIN)/custody serve --host 127.0.0.1 --port 8000

lint: $(STAMP)
	$(BIN)/ruff check domain ledger projections api tests
	$(BIN)/ruff format --check domain ledger projections api tests

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck $(BROWSER_STAMP) $(AXE)
	$(BIN)/pytest -n 2 -q

# Mutation testing, not part of `make test`: mutmut mutates copies (under mutants/) of the modules listed in
# setup.cfg and runs the unit and verifier tests that cover each mutant, on SQLite, with one worker so a shared
# 2-core machine stays usable. MUTATION_SECONDS bounds the run; a later run resumes where it stopped.
MUTATION_SECONDS ?= 3600
mutation: $(STAMP)
	status=0; timeout $(MUTATION_SECONDS) $(BIN)/mutmut run --max-children 1 || status=$$?; \
		$(BIN)/mutmut results; exit $$status

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
