# The README's quick start is `make demo` and `make test`; everything else is optional.
# `make demo` ends with the figures: the files are summarised by ledger (`tally files` lists each).
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
YEAR ?= 2024
INBOX ?= warehouse/inbox-$(YEAR)
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench crash e2e clean

install: $(STAMP)
	@ls /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-wqy-zenhei; } || echo "warning: no CJK font (apt-get install fonts-wqy-zenhei): chart labels will show as boxes"
	@# The offline Data Docs test opens the docs in headless Chromium (it is skipped, saying so, without one).
	@{ command -v chromium || command -v chromium-browser || command -v google-chrome; } >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } || echo "warning: no Chromium (apt-get install chromium): the offline Data Docs test will be skipped"
	@# The lake's tests (tests/lake) start a throwaway PostgreSQL cluster: Debian's server.
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql; } || echo "warning: no PostgreSQL server (apt-get install postgresql): the lake's tests will be skipped"

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,sample]'
	@# pip compiles an installed package's bytecode, not an editable one's; where Python may not
	@# write it (PYTHONDONTWRITEBYTECODE), every tally process compiled ~120 modules (0.2 s).
	$(BIN)/python -m compileall -q flows >/dev/null
	touch $(STAMP)

demo: install
	rm -rf $(INBOX)
	$(BIN)/tally sample --year $(YEAR) --out-dir $(INBOX)
	$(BIN)/tally run --inbox $(INBOX) --warehouse warehouse/tally.duckdb
	$(BIN)/tally files --summary --warehouse warehouse/tally.duckdb
	$(BIN)/tally indicators --year $(YEAR) --warehouse warehouse/tally.duckdb

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) warehouse/*.duckdb warehouse/*.wal warehouse/inbox-* warehouse/docs

# Issue 7: 100k, 1M and 4M rows within BENCH_BUDGET_S (840 s), inboxes reused from BENCH_DIR
# (/tmp/tally-bench) while current; issue 16: the big-file shape at 1M and 4M and a mixed inbox
# at 4M in the same run; writes bench/results.md and .json. Knobs: bench/run.py.
bench: install
	$(BIN)/python -m compileall -q flows bench >/dev/null  # the sources as they are now, as installed
	$(BIN)/python -m bench.run

# Issue 17's crash test in full: a county load SIGKILLed in ten phases of its lake commit (`make
# test` runs three of them; each round is a Python process and two loads, ~10 s on two busy cores).
crash: install
	TALLY_CRASH_ROUNDS=10 $(BIN)/python -m pytest tests/lake/test_lake_crash_phases.py -p no:cacheprovider -q -s

# Render the HTML report in headless Chromium and check its screenshot (warehouse/e2e/); then
# render the Word report with LibreOffice to PDF and PNG pages (warehouse/e2e/docx/), in the
# Debian fonts that stand in for the 公文 fonts (tests/e2e/gongwen-fonts.conf).
e2e: install
	command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }
	$(BIN)/python tests/e2e/html_report_screenshot.py --out warehouse/e2e
	{ command -v soffice && command -v pdftoppm && fc-list | grep -q ukai && fc-list | grep -q uming; } >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libreoffice-writer-nogui poppler-utils fonts-arphic-ukai fonts-arphic-uming fonts-wqy-zenhei; }
	$(BIN)/python tests/e2e/docx_report_render.py --out warehouse/e2e/docx
