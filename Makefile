# d2l linear neural networks kit. `make help` lists the targets.
PACKAGE ?= solutions
include common.mk

PYTEST_ARGS ?=
FORCE ?=
COURSE ?= course
STUDENT ?= dist/student
SUBMISSIONS ?=
JOBS ?=
TIMEOUT ?= 600
QUICK ?=
RELEASE_LANG ?= en
CLUSTER ?=
CLUSTER_CONFIG ?=
ROSTER ?=
# Dask, for class grading on a cluster: the `cluster` group of uv.lock, added to the environment on demand.
CLUSTER_STAMP := $(VENV)/.kit-cluster-synced
# grade-all writes to reports/class unless OUT is given on the command line.
CLASS_OUT := $(if $(filter command line environment,$(origin OUT)),$(OUT),reports/class)

.PHONY: test lint exercises check-exercises grade-all cluster-script gradescope gradescope-trial bench bench-cluster gpu-check release autograde clean

$(CLUSTER_STAMP): $(STAMP)
	@echo "Adding Dask to $(VENV) (the cluster group of uv.lock)"
	@$(UV) sync --frozen --group cluster --python $(SYSTEM_PYTHON)
	@touch $@

test: $(CLUSTER_STAMP) ## lint the code, then run the kit's test suite
	@$(PY) -m ruff check --quiet .
	@$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP) ## only the linter (ruff, configured in pyproject.toml)
	@$(PY) -m ruff check .

exercises: $(STAMP) ## regenerate exercises/ from solutions/ (RELEASE_LANG=en|zh|both; FORCE=1 also replaces edited files, keeping backups)
	@$(PY) -m grader.release.stubgen --lang $(RELEASE_LANG) $(if $(FORCE),--force)

check-exercises: $(STAMP) ## check that exercises/ is exactly what the generator produces
	@$(PY) -m grader.release.stubgen --check --lang $(RELEASE_LANG)

grade-all: $(STAMP) $(if $(CLUSTER),$(CLUSTER_STAMP)) ## grade a class: SUBMISSIONS=dir with one folder per student (JOBS=n TIMEOUT=s FORCE=1 OUT=dir; SEED=n for one seed instead of secret ones; CLUSTER=local|slurm|tcp://host:8786; ROSTER=class.csv)
	@test -n "$(SUBMISSIONS)" || { echo "error: name the class's folder: make grade-all SUBMISSIONS=path/to/folder (one subfolder per student)" >&2; exit 2; }
	@$(PY) -m grader.classroom.batch "$(SUBMISSIONS)" --out "$(CLASS_OUT)" --timeout $(TIMEOUT) --device $(DEVICE) $(if $(filter command line environment,$(origin SEED)),--seed $(SEED)) $(if $(JOBS),--jobs $(JOBS)) $(if $(FORCE),--force) $(if $(CLUSTER),--cluster $(CLUSTER)) $(if $(CLUSTER_CONFIG),--cluster-config $(CLUSTER_CONFIG)) $(if $(ROSTER),--roster "$(ROSTER)")

cluster-script: $(CLUSTER_STAMP) ## print the sbatch script that CLUSTER=slurm submits (CLUSTER_CONFIG=file, default cluster.yaml)
	@$(PY) -m grader.classroom.cluster $(if $(CLUSTER_CONFIG),$(CLUSTER_CONFIG))

gradescope: $(STAMP) ## build dist/gradescope/autograder.zip for Gradescope (in the last release's language, or RELEASE_LANG=en|zh|both)
	@$(PY) -m grader.classroom.gradescope build --out dist/gradescope $(if $(filter command line environment,$(origin RELEASE_LANG)),--lang $(RELEASE_LANG))

gradescope-trial: gradescope ## run the bundle as Gradescope would, setup.sh included, on SUBMISSION=folder|file.ipynb|file.py|file.zip in a simulated /autograder (TRIAL_ROOT=new folder)
	@$(PY) -m grader.classroom.gradescope_trial "$(SUBMISSION)" --zip dist/gradescope/autograder.zip $(if $(TRIAL_ROOT),--root "$(TRIAL_ROOT)")

bench: $(STAMP) ## measure the book's pipeline against the grader, grading times, class throughput, memory (QUICK=1: a smoke run)
	@$(PY) -m bench $(if $(QUICK),--quick) $(if $(BENCH_OUT),--out $(BENCH_OUT))

bench-cluster: $(CLUSTER_STAMP) ## measure what class grading costs on a Dask cluster and print the capacity plan (QUICK=1: a smoke run)
	@$(PY) -m bench.cluster $(if $(QUICK),--quick) $(if $(BENCH_OUT),--out $(BENCH_OUT))

gpu-check: $(STAMP) ## with an NVIDIA GPU: the CUDA path inside the sandbox, item by item (exit 1 if one fails)
	@$(PY) -m bench.gpu_check

release: $(STAMP) ## build the handout dist/student/ and the nbgrader course course/ (RELEASE_LANG=en|zh|both; FORCE=1 replaces edited files, with backups)
	@$(PY) -m grader.release --student $(STUDENT) --course $(COURSE) --lang $(RELEASE_LANG) $(if $(FORCE),--force)

autograde: $(STAMP) ## grade what changed in course/submitted/, then nbgrader autograde, feedback and export, cross-checked (JOBS=n TIMEOUT=s; FORCE=1 regrades everyone)
	@$(PY) -m grader.release.autograde --course $(COURSE) --timeout $(TIMEOUT) $(if $(JOBS),--jobs $(JOBS)) $(if $(FORCE),--force)

clean: ## remove the environment and generated reports (never exercises/ or solutions/)
	rm -rf $(VENV) $(TOOLS) reports dist bench/results.json bench/cluster.json .pytest_cache .ruff_cache
