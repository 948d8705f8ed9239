# Fullfölj: `make demo` builds and serves the demo, `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/fullfolj
export FULLFOLJ_DATA_DIR ?= $(CURDIR)/var
# Everything here is development (demo, tests, lint, benchmarks): demo mode, no SECRET_KEY needed.
export FULLFOLJ_DEMO ?= 1

.PHONY: install demo test test-sqlite test-postgres lint browser-deps pdf-deps saml-deps postgres bench messages compile-messages clean

install: $(BIN)/.installed

# The production extra (gunicorn) too: tests/test_deploy.py serves through it.
$(BIN)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev,production]"
	touch $@

demo: install pdf-deps
	PORT=$(PORT) PYTHONUNBUFFERED=1 $(BIN)/fullfolj demo

# Debian's Chromium (the network is closed to Playwright's own browser downloads), axe-core and
# Prism (the SS 12000 mock the exchange tests start); Pango and a font for WeasyPrint, which prints
# the åtgärdsprogram. One apt-get for whatever is missing.
PDF_MISSING = ldconfig -p | grep -q libpangoft2-1.0 || echo libpango-1.0-0 libpangoft2-1.0-0; \
	fc-list 2>/dev/null | grep -qi dejavu || echo fonts-dejavu-core fontconfig
browser-deps: node_modules/axe-core/axe.min.js
	@missing="$$($(PDF_MISSING); command -v chromium >/dev/null || echo chromium)"; \
	  [ -z "$$missing" ] || { apt-get update && apt-get install -y --no-install-recommends $$missing; }

pdf-deps:
	@missing="$$($(PDF_MISSING))"; \
	  [ -z "$$missing" ] || { apt-get update && apt-get install -y --no-install-recommends $$missing; }

# xmlsec1 signs and checks SAML messages for pysaml2 (single sign-on, and the test IdP).
saml-deps:
	@command -v xmlsec1 >/dev/null || { apt-get update && apt-get install -y --no-install-recommends xmlsec1; }

node_modules/axe-core/axe.min.js: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

postgres:
	@pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@pg_isready -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not reachable on 127.0.0.1:5432"; exit 1; }

lint: install
	$(BIN)/ruff check fullfolj tests conftest.py
	$(BIN)/ruff format --check fullfolj tests conftest.py
	$(BIN)/lint-imports
	FULLFOLJ_DEMO=1 $(BIN)/mypy fullfolj
	$(BIN)/fullfolj makemigrations --check --dry-run

test-sqlite: install browser-deps saml-deps
	env -u DATABASE_URL $(BIN)/pytest -p no:cacheprovider

test-postgres: install browser-deps saml-deps postgres
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -p no:cacheprovider

# The two databases' runs side by side: each waits on its database and browser about as much as it
# computes, so on two cores together they take little more than the longer one alone.
test: lint
	$(MAKE) --jobs=2 --output-sync=target test-sqlite test-postgres

# One Swedish catalogue per app (fullfolj/<app>/locale) and one for the project's templates and
# lib (fullfolj/locale): update them from the code, then translate what is new and compile.
# fullfolj/formats/locale holds our overrides of Django's own texts: kept by hand.
APPS_WITH_CATALOGUES = $(filter-out formats,$(patsubst fullfolj/%/locale,%,$(wildcard fullfolj/*/locale)))
messages: install
	for app in $(APPS_WITH_CATALOGUES); do \
	  (cd fullfolj/$$app && ../../$(BIN)/fullfolj makemessages -l sv --no-obsolete) || exit 1; done
	cd fullfolj && ../$(BIN)/fullfolj makemessages -l sv --no-obsolete $(addprefix --ignore=,$(APPS_WITH_CATALOGUES) formats)
	@echo "Translate the empty msgstr entries, then: make compile-messages"

compile-messages:
	for po in fullfolj/locale/sv/LC_MESSAGES/django.po fullfolj/*/locale/sv/LC_MESSAGES/django.po; do \
	  msgfmt --check -o $${po%.po}.mo $$po || exit 1; done

bench: install
	$(BIN)/fullfolj bench all --small

clean:
	rm -rf $(VENV) var node_modules
