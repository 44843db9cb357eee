# Two commands: `make run` (train, evaluate, export: executes the notebooks) and `make test`.
# Both create .venv and install the project first if needed.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
BUILD := build/notebooks

.PHONY: install run test lint benchmark clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "lenet-keras needs Python 3.11; set PYTHON=/path/to/python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Execute the notebooks in order, headless; executed copies and HTML go to build/notebooks.
run: install
	mkdir -p $(BUILD)
	@for nb in $(NOTEBOOKS); do \
		echo "== $$nb"; \
		$(BIN)/jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=3600 \
			--output-dir $(BUILD) "$$nb" || exit 1; \
		$(BIN)/jupyter nbconvert --to html --output-dir $(BUILD) "$(BUILD)/$$(basename $$nb)" >/dev/null 2>&1 || exit 1; \
	done
	@echo "Executed notebooks and HTML: $(BUILD)/; model, metrics and exports: saved_models/"

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .

benchmark: install
	$(BIN)/lenet-keras benchmark --out build/benchmark

clean:
	rm -rf build .pytest_cache
