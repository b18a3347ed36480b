# Two commands: `make run` (whole system on embedded defaults) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean system-deps prod-smoke

$(STAMP): pyproject.toml nlu/_speedups.c
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/wuye db upgrade
	$(BIN)/wuye serve --demo

system-deps:
	bash scripts/ensure-system-deps.sh

test: system-deps $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# PostgreSQL + Redis + gunicorn (2 workers) + `wuye worker` + nginx on loopback.
prod-smoke: system-deps $(STAMP)
	$(BIN)/python -m pytest -q -m prod_stack tests/wuye/test_production.py

lint: $(STAMP)
	$(BIN)/ruff check .

# -P: the bench folder must not shadow the packages (bench/nlu.py vs nlu/).
bench: $(STAMP)
	$(BIN)/python -P bench/nlu.py
	$(BIN)/python -P bench/webhook.py
	$(BIN)/python -P bench/startup.py

clean:
	rm -rf $(VENV) var .pytest_cache
