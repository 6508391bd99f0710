# The two commands of the README: `make serve` and `make test`.
# Both create .venv with the project and its test tools on first use.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: serve test lint check clean

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

test: lint check
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
