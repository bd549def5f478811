# Two set-up commands (README "Quick start"):
#   make labs   -> creates .venv if missing, installs the kit, opens the labs in JupyterLab
#   make test   -> creates .venv if missing, installs the kit with test extras, runs every test
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: labs test install tools bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[lab,test]'
	touch $(STAMP)

install: $(STAMP)

labs: $(STAMP)
	$(VENV)/bin/jupyter lab labs/

tools:
	bash scripts/ensure-tools.sh

test: $(STAMP) tools
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) benchmarks/import_time.py

clean:
	rm -rf $(VENV) .pytest_cache
