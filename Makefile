# MoodLens: `make run` starts everything on embedded defaults; `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: install setup setup-dev run test vendor lint i18n-compile i18n-update i18n-init i18n-check bench bench-load clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Stamps re-run an install step only when its inputs change.
$(VENV)/.runtime: $(BIN)/python requirements.txt requirements-nodeps.txt constraints.txt
	$(BIN)/pip install --quiet -r requirements.txt -c constraints.txt
	$(BIN)/pip install --quiet --no-deps -r requirements-nodeps.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $@

app/static/vendor/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	mkdir -p app/static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js app/static/vendor/htmx.min.js
	cp node_modules/htmx-ext-sse/dist/sse.js app/static/vendor/htmx-ext-sse.js
	test -f node_modules/axe-core/axe.min.js  # the browser tests' accessibility checks read it there (never served)
	touch $@

vendor: app/static/vendor/.installed

# Dependencies and htmx only: nothing starts the app (production needs its secrets for that).
install: $(VENV)/.runtime vendor

# Catalogues (docs/translations.md): the .mo files are build output, compiled from the .po.
I18N_EXTRACT := $(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l -k N_ --no-location --sort-output \
	--project MoodLens

i18n-compile: $(VENV)/.runtime
	$(BIN)/pybabel compile --statistics -d app/translations

# Re-extract every string of app/ and merge it into each shipped catalogue.
i18n-update: $(VENV)/.runtime
	$(I18N_EXTRACT) -o app/translations/messages.pot app
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -i app/translations/messages.pot -d app/translations
	rm app/translations/messages.pot

# A new language's catalogue: make i18n-init LOCALE=pt
i18n-init: $(VENV)/.runtime
	test -n "$(LOCALE)"
	$(I18N_EXTRACT) -o app/translations/messages.pot app
	$(BIN)/pybabel init -i app/translations/messages.pot -d app/translations -l $(LOCALE)
	rm app/translations/messages.pot

i18n-check: $(VENV)/.runtime
	$(BIN)/python scripts/check_translations.py

setup: install i18n-compile
	$(BIN)/flask db upgrade
	$(BIN)/flask ml convert

setup-dev: $(VENV)/.dev vendor i18n-compile

run: setup
	$(BIN)/flask demo seed
	$(BIN)/flask serve

test: setup-dev
	PYTEST_ARGS="$(PYTEST_ARGS)" scripts/run_tests.sh

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_translations.py

# Load benchmark (not part of `make test`): PostgreSQL and Redis on 127.0.0.1 (see README).
$(VENV)/.bench: $(VENV)/.dev requirements-bench.txt
	$(BIN)/pip install --quiet -r requirements-bench.txt -c constraints.txt
	touch $@

# The `fer` package's pipeline, timed beside ours. torch's build brings triton, which MoodLens's
# CPU benchmark never uses and which crashes on import on these machines: it is removed.
.venv-fer/.installed: requirements-bench-fer.txt
	$(PYTHON) -m venv .venv-fer
	.venv-fer/bin/pip install --quiet -r requirements-bench-fer.txt
	.venv-fer/bin/pip uninstall --quiet --yes triton
	touch $@

# Face-analysis and screening benchmarks (docs/benchmarks.md).
bench: $(VENV)/.bench .venv-fer/.installed vendor
	$(BIN)/flask ml convert
	$(BIN)/python bench/bench_face_analysis.py
	$(BIN)/python bench/bench_screening.py
	$(BIN)/python bench/bench_clip_paths.py

bench-load: $(VENV)/.bench vendor
	$(BIN)/python bench/load/run_load.py

clean:
	rm -rf $(VENV) .venv-fer node_modules app/static/vendor
