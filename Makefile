# The README's quick start is `make demo` and `make test`; everything else is optional.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
YEAR ?= 2024
INBOX ?= warehouse/inbox-$(YEAR)
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench e2e clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: install
	rm -rf $(INBOX)
	$(BIN)/tally sample --year $(YEAR) --out $(INBOX)
	$(BIN)/tally run --inbox $(INBOX) --warehouse warehouse/tally.duckdb
	$(BIN)/tally files --warehouse warehouse/tally.duckdb
	$(BIN)/tally indicators --year $(YEAR) --warehouse warehouse/tally.duckdb

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) warehouse/*.duckdb warehouse/*.wal warehouse/inbox-* warehouse/docs
