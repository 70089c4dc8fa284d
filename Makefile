# d2l linear neural networks kit. `make help` lists the targets.
# Every target that runs Python first makes the environment: uv (installed with pip if it is
# missing), then `uv sync` from uv.lock on the machine's own Python. A second run does no set-up.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.8
VENV := .venv
TOOLS := .tools
STAMP := $(VENV)/.kit-synced-2
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
SYSTEM_PYTHON := $(shell command -v $(PYTHON) 2>/dev/null)

PYTEST_ARGS ?=
FORCE ?=
PACKAGE ?= solutions
SUBMISSION ?= exercises
OUT ?= reports/latest
SEED ?= 0
DEVICE ?= auto
ONLY ?=
COURSE ?= course
STUDENT ?= dist/student
SUBMISSIONS ?=
JOBS ?=
TIMEOUT ?= 600
QUICK ?=
# grade-all writes to reports/class unless OUT is given on the command line.
CLASS_OUT := $(if $(filter command line environment,$(origin OUT)),$(OUT),reports/class)

.PHONY: help setup test data exercises check-exercises train grade grade-all gradescope bench release autograde clean

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

test: $(STAMP) ## run the kit's test suite
	@$(PY) -m pytest $(PYTEST_ARGS)

data: $(STAMP) ## find or fetch the real Fashion-MNIST and verify it
	@$(PY) -m datasets

exercises: $(STAMP) ## regenerate exercises/ from solutions/ (FORCE=1 also replaces edited files, keeping backups)
	@$(PY) -m grader.stubgen $(if $(FORCE),--force)

check-exercises: $(STAMP) ## check that exercises/ is exactly what the generator produces
	@$(PY) -m grader.stubgen --check

train: $(STAMP) ## train softmax regression on Fashion-MNIST (PACKAGE=exercises trains your code)
	@$(PY) -m $(PACKAGE)

grade: $(STAMP) ## grade exercises/ (SUBMISSION=dir|notebook.ipynb OUT=dir SEED=n DEVICE=auto|cpu|cuda ONLY=stub,stub)
	@$(PY) -m grader $(SUBMISSION) --out $(OUT) --seed $(SEED) --device $(DEVICE) $(if $(ONLY),--only $(ONLY))

grade-all: $(STAMP) ## grade a class: SUBMISSIONS=dir with one folder per student (JOBS=n TIMEOUT=s FORCE=1 OUT=dir)
	@test -n "$(SUBMISSIONS)" || { echo "error: name the class's folder: make grade-all SUBMISSIONS=path/to/folder (one subfolder per student)" >&2; exit 2; }
	@$(PY) -m grader.batch "$(SUBMISSIONS)" --out "$(CLASS_OUT)" --timeout $(TIMEOUT) --seed $(SEED) --device $(DEVICE) $(if $(JOBS),--jobs $(JOBS)) $(if $(FORCE),--force)

gradescope: $(STAMP) ## build dist/gradescope/autograder.zip for Gradescope
	@$(PY) -m grader.gradescope build --out dist/gradescope

bench: $(STAMP) ## measure the book's pipeline against the grader, grading times, class throughput, memory (QUICK=1: a smoke run)
	@$(PY) -m bench $(if $(QUICK),--quick) $(if $(BENCH_OUT),--out $(BENCH_OUT))

release: $(STAMP) ## build the handout dist/student/ and the nbgrader course course/ (FORCE=1 replaces edited files, with backups)
	@$(PY) -m grader.release --student $(STUDENT) --course $(COURSE) $(if $(FORCE),--force)

autograde: $(STAMP) ## nbgrader autograde, feedback and export for course/submitted/, cross-checked (FORCE=1 regrades)
	@$(PY) -m grader.autograde --course $(COURSE) $(if $(FORCE),--force)

clean: ## remove the environment and generated reports (never exercises/ or solutions/)
	rm -rf $(VENV) $(TOOLS) reports dist bench/results.json .pytest_cache
