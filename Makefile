# Patolab: every target is a one-line wrapper. `make run` and `make test` work on a
# fresh clone with nothing but Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000
# Modules mypy checks strictly (STYLE.md rule 12); grow this list, never shrink it.
MYPY_STRICT := -p patolab.jobs -p patolab.core -p patolab.protocols.services -m patolab.protocols.selectors -m patolab.protocols.jobs -m patolab.protocols.documents -m patolab.protocols.slip -m patolab.accounts.services -m patolab.accounts.permissions -m patolab.reports.services -m patolab.reports.selectors -m patolab.reports.jobs -m patolab.reports.verification -p patolab.audit -m patolab.protocols.trail -m patolab.reports.resend -m patolab.reports.documents -m patolab.notifications.services -m patolab.notifications.emails -m patolab.notifications.tasks -p patolab.labels -p patolab.stats -p patolab.exports

.PHONY: install messages migrate run test lint fmt worker beat flower bench

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev,monitoring]'
	touch $(STAMP)

install: $(STAMP)

messages: install
	$(BIN)/python scripts/compile_messages.py

migrate: install
	$(BIN)/python manage.py migrate --noinput

run: messages migrate
	$(BIN)/python manage.py collectstatic --noinput -v 0
	$(BIN)/python manage.py setup_periodic_tasks
	$(BIN)/python manage.py seed_demo --force
	@$(BIN)/python scripts/banner.py
	PORT=$(PORT) $(BIN)/honcho --no-colour -f Procfile start

test: messages
	$(BIN)/python scripts/runtests.py $(ARGS)

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy $(MYPY_STRICT)

fmt: install
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

worker: install
	$(BIN)/celery -A config worker -Q pdf_generation,emails,bulk,default -l info

beat: install
	$(BIN)/celery -A config beat -l info --pidfile=

flower: install
	$(BIN)/celery -A config flower --max_tasks=10000 --port=5555

bench: install
	$(BIN)/python bench/run_all.py
