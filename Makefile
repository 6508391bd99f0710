# The two commands of the README: `make serve` and `make test`.
# Both create .venv with the project and its test tools on first use.
# `make test` also builds the sdist and wheel and installs the wheel (not editable)
# into $(WHEEL_VENV): the end-to-end tests run the server from there, as users get it.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
WHEEL_VENV ?= .venv-wheel

.PHONY: serve test lint check clean dist install-wheel

$(BIN)/autoconfig: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "autoconfig needs Python 3.11 or newer; set PYTHON=python3.x")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

serve: $(BIN)/autoconfig
	$(BIN)/autoconfig serve --bind 127.0.0.1:8000 --domains domains

lint: $(BIN)/autoconfig
	$(BIN)/ruff check .
	$(BIN)/mypy

check: $(BIN)/autoconfig
	$(BIN)/autoconfig check domains

dist: $(BIN)/autoconfig
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*

install-wheel: dist
	rm -rf $(WHEEL_VENV)
	$(PYTHON) -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/python -m pip install --quiet "$$(ls dist/*.whl)[ldap]"

test: lint check install-wheel
	AUTOCONFIG_TEST_VENV=$(WHEEL_VENV) $(BIN)/python -m pytest

clean:
	rm -rf $(VENV) $(WHEEL_VENV) dist .pytest_cache .mypy_cache .ruff_cache
