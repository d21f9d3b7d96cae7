# The two commands: `make run` and `make test`. `make setup` installs without starting anything.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

.PHONY: setup run test lint test-postgres bench bench-certificates bench-course bench-quiz translations clean

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

run: setup
	$(FLASK) db upgrade
	$(FLASK) demo load
	$(FLASK) demo logins
	$(BIN)/python wsgi.py

lint: setup
	$(BIN)/ruff check .

test: setup lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The same suite against PostgreSQL: LMS_TEST_DATABASE_URL=postgresql+psycopg://user@host/db make test-postgres
test-postgres: setup
	@test -n "$(LMS_TEST_DATABASE_URL)" || (echo "Set LMS_TEST_DATABASE_URL" && exit 2)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/python -m bench.dashboard
bench-certificates: setup
	$(BIN)/python -m bench.certificates
bench-course: setup
	$(BIN)/python -m bench.course
bench-quiz: setup
	$(BIN)/python -m bench.quiz

translations: setup
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l -k Msg -w 120 -o lms/translations/messages.pot .
	$(BIN)/pybabel update -i lms/translations/messages.pot -d lms/translations --no-fuzzy-matching --ignore-obsolete -w 120

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache
