# Lendgraph — `make run` to try it, `make test` to test it, `make check` before you push.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
CHECK_DB := sqlite:///var/alembic-check.db

.PHONY: install run test fuzz check lint format typecheck imports migrations-check schema-check schema bench bench-payments bench-billing bench-scoring bench-sign-in chaos clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install ## migrate, load demo data once, start the CBS and scoring simulators, serve GraphiQL
	$(BIN)/lendgraph migrate
	$(BIN)/lendgraph demo
	@echo "GraphiQL: http://127.0.0.1:8000/graphql  (Ctrl-C to stop)"
	@$(BIN)/lendgraph simulate all --cbs-port 8093 --scoring-port 8094 & sims=$$!; \
	  trap 'kill $$sims 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/lendgraph scoring register --wait 20 && \
	  $(BIN)/lendgraph serve --host 127.0.0.1 --port 8000

test: install ## the whole suite (PostgreSQL and Redis tests skip locally if absent; fail in CI)
	$(BIN)/pytest

FUZZ_EXAMPLES ?= 2500
fuzz: install ## Schemathesis over the API as each role, SQLite and PostgreSQL, FUZZ_EXAMPLES per role
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -m fuzz -p no:cacheprovider tests/api/test_fuzzing.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install
	$(BIN)/mypy

imports: install
	$(BIN)/lint-imports

migrations-check: install ## the models and the migrations agree
	@mkdir -p var && rm -f var/alembic-check.db*
	$(BIN)/alembic -x url=$(CHECK_DB) upgrade head
	$(BIN)/alembic -x url=$(CHECK_DB) check

schema-check: install ## the committed schema.graphql is what the code serves
	@mkdir -p var
	$(BIN)/lendgraph export-schema > var/schema.graphql
	diff -u schema.graphql var/schema.graphql

schema: install ## refresh schema.graphql after an intended schema change
	$(BIN)/lendgraph export-schema > schema.graphql

check: lint typecheck imports migrations-check schema-check test

bench: install
	$(BIN)/python bench/graphql_throughput.py

bench-payments: install ## makePayment over HTTP on PostgreSQL, next to pgbench
	$(BIN)/python bench/payments.py

bench-billing: install ## one business day closed over 100,000 loans on PostgreSQL by worker processes
	$(BIN)/python bench/billing.py

chaos: install ## faults under load on private PostgreSQL/Redis: payments kept, events missed, stuck messages, recovery
	$(BIN)/python bench/faults.py

bench-scoring: install ## apply -> decided latency of external scoring, against a running `make run`
	$(BIN)/python bench/scoring.py

bench-sign-in: install ## signed-in latency while anonymous clients hammer sign-in (PostgreSQL, Redis)
	$(BIN)/python bench/sign_in_abuse.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
