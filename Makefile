# Three commands: `make run` (train, evaluate, export: executes the notebooks), `make test`, and
# `make lab` (JupyterLab on notebooks/). Each creates .venv and installs the project first if needed.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
BUILD := build/notebooks
INSTALL_LOG := build/install.log
KERNEL := lenet-keras

.PHONY: install run test lab lint benchmark bundle clean

install: $(STAMP)

# pip's and setuptools' output goes to build/install.log, shown only if the install fails. The kernelspec
# goes into the venv (--sys-prefix), so the venv's Jupyter offers it and the notebooks' metadata names it.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "lenet-keras needs Python 3.11; set PYTHON=/path/to/python3.11")'
	@mkdir -p build
	@echo "Installing the project into $(VENV) (log: $(INSTALL_LOG))"
	@{ test -x $(BIN)/python || $(PYTHON) -m venv $(VENV); } > $(INSTALL_LOG) 2>&1 \
		&& $(BIN)/python -m pip install --upgrade pip >> $(INSTALL_LOG) 2>&1 \
		&& $(BIN)/python -m pip install -e ".[train,dev]" >> $(INSTALL_LOG) 2>&1 \
		&& $(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python ($(KERNEL))" >> $(INSTALL_LOG) 2>&1 \
		|| { tail -n 60 $(INSTALL_LOG); echo "Installing failed; the whole log: $(INSTALL_LOG)"; exit 1; }
	@touch $(STAMP)

# Execute the notebooks in order, headless, showing each one's name, training epochs and a summary;
# executed copies, HTML and each notebook's nbconvert log go to build/notebooks.
run: install
	@$(BIN)/python -m lenet_keras.run_notebooks $(NOTEBOOKS) --output-dir $(BUILD)

# JupyterLab on notebooks/, with the project's kernel (Jupyter refuses root unless told, as in containers).
lab: install
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks --MappingKernelManager.default_kernel_name=$(KERNEL) \
		$(if $(filter 0,$(shell id -u)),--allow-root)

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .

benchmark: install
	$(BIN)/lenet-keras benchmark --out build/benchmark

# After a retrain has replaced saved_models/: put its int8 model into the package, as `predict`'s default
# (tests/test_export.py checks that the two files are the same bytes). Copied, then renamed, so never half a file.
BUNDLED := lenet_keras/runtime/lenet5_int8.tflite
bundle:
	cp saved_models/lenet5_int8.tflite $(BUNDLED).tmp && mv $(BUNDLED).tmp $(BUNDLED)

clean:
	rm -rf build .pytest_cache
