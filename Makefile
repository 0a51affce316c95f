# Everything a fresh machine with only Python 3.11 needs: `make run`, `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
# zh_Hans_CN (简体中文) is derived from zh_Hant_TW by `make i18n`, never edited by hand.
LOCALES := en zh_Hant_TW zh_Hans_CN
# Compiled catalogues are build output (ignored by git), made from the .po files when needed.
MO := $(LOCALES:%=locales/%/LC_MESSAGES/messages.mo)
# `button` is the engine's translated-button helper; tests/test_i18n.py extracts the same way.
EXTRACT := -F babel.cfg -k button -k N_ -c TRANSLATORS: --no-location --sort-output \
	--project=goldcard-helpdesk-bot

.PHONY: run test lint check bench i18n clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# setuptools' "Editable installation … be careful with folders …" box is a notice, not a
# problem, and read like an error: that one warning is ignored (by its text; others still show).
EDITABLE_NOTICE := PYTHONWARNINGS="ignore:Editable installation."

$(STAMP): pyproject.toml | $(BIN)/python
	$(EDITABLE_NOTICE) $(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(EDITABLE_NOTICE) $(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(STAMP)

run: $(STAMP) $(MO)
	$(BIN)/python -m bot main

test: $(TEST_STAMP) $(MO)
	$(BIN)/python -m ruff check bot tests bench
	$(BIN)/python -m ruff format --check bot tests bench
	$(BIN)/python -m bot check
	$(BIN)/python -m pytest

lint: $(TEST_STAMP)
	$(BIN)/python -m ruff check --fix bot tests bench
	$(BIN)/python -m ruff format bot tests bench

check: $(STAMP)
	$(BIN)/python -m bot check

bench: $(TEST_STAMP)
	$(BIN)/python bench/matcher.py
	$(BIN)/python bench/classifier.py
	$(BIN)/python bench/telegram.py
	$(BIN)/python bench/burst.py
	$(BIN)/python bench/reminders.py
	$(BIN)/python bench/learning.py

locales/%/LC_MESSAGES/messages.mo: locales/%/LC_MESSAGES/messages.po | $(STAMP)
	$(BIN)/pybabel -q compile -d locales -l $*

# After changing UI strings: extract them, merge into the English and Traditional catalogues
# (translate what is new, `make test` lists it), derive 简体中文 from the Traditional one
# (bot/simplified.py and its OVERRIDES), compile.
i18n: $(STAMP)
	$(BIN)/pybabel -q extract $(EXTRACT) -o locales/messages.pot .
	$(BIN)/pybabel -q update -i locales/messages.pot -d locales -l en --no-fuzzy-matching \
		--ignore-obsolete
	$(BIN)/pybabel -q update -i locales/messages.pot -d locales -l zh_Hant_TW \
		--no-fuzzy-matching --ignore-obsolete
	$(BIN)/python -c 'from bot.i18n import write_simplified_catalogue as w; w()'
	$(BIN)/pybabel compile -d locales --statistics

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
