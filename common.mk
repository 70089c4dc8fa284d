# The set-up and the targets that the kit and the student handout share; each Makefile includes it.
# Every target that runs Python first makes the environment: uv (installed with pip if it is
# missing), then `uv sync` from uv.lock on the machine's own Python. A second run does no set-up.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.8
VENV := .venv
TOOLS := .tools
STAMP := $(VENV)/.kit-synced-3
PY := $(VENV)/bin/python

# The kit never downloads an interpreter: uv must use the system Python.
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON_PREFERENCE := only-system
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Compile bytecode at install: many machines set PYTHONDONTWRITEBYTECODE, and every worker
# process of the grader would otherwise compile torch from source on each start.
export UV_COMPILE_BYTECODE := 1
export MPLBACKEND := Agg

UV := $(or $(shell command -v uv 2>/dev/null),$(TOOLS)/uv/bin/uv)
# The interpreter itself, not a launcher such as pyenv's shim, which uv would take for another
# interpreter on every sync and recreate the environment for.
SYSTEM_PYTHON := $(shell $(PYTHON) -c 'import sys; print(sys.executable)' 2>/dev/null)

SUBMISSION ?= exercises
OUT ?= reports/latest
SEED ?= 0
DEVICE ?= auto
ONLY ?=

.PHONY: help setup data train grade

help: ## list the targets
	@echo "d2l linear neural networks kit: make TARGET"
	@awk -F':.*## ' '/^[a-z-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: $(STAMP) ## create the environment (uv + locked packages on the system Python)

$(TOOLS)/uv/bin/uv:
	@test -n "$(SYSTEM_PYTHON)" || { echo "error: $(PYTHON) not found; install Python 3.10 or newer" >&2; exit 1; }
	@echo "Installing uv $(UV_VERSION) into $(TOOLS)/uv (once)"
	@$(SYSTEM_PYTHON) -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
		--target $(TOOLS)/uv uv==$(UV_VERSION) \
		|| { echo "error: could not install uv with pip; install uv (https://docs.astral.sh/uv/) and rerun" >&2; exit 1; }

$(STAMP): pyproject.toml uv.lock | $(UV)
	@test -n "$(SYSTEM_PYTHON)" || { echo "error: $(PYTHON) not found; install Python 3.10 or newer" >&2; exit 1; }
	@echo "Syncing $(VENV) from uv.lock with $(SYSTEM_PYTHON)"
	@$(UV) sync --frozen --python $(SYSTEM_PYTHON)
	@touch $@

data: $(STAMP) ## find or fetch the real Fashion-MNIST and verify it
	@$(PY) -m datasets

train: $(STAMP) ## train softmax regression from scratch on Fashion-MNIST (PACKAGE=exercises|solutions)
	@$(PY) -m grader.train --package $(PACKAGE)

grade: $(STAMP) ## grade exercises/ (SUBMISSION=dir|notebook.ipynb OUT=dir SEED=n DEVICE=auto|cpu|cuda ONLY=stub,check-id)
	@$(PY) -m grader $(SUBMISSION) --out $(OUT) --seed $(SEED) --device $(DEVICE) $(if $(ONLY),--only $(ONLY))
