# Every command of the README. Each target creates the virtual environment
# (.venv) first if it is missing or older than requirements.txt.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
IMPL   ?= gan_assignment/gan_pytorch.py
COURSE ?= course
WORKERS ?= 1

.PHONY: help setup train notebook demo check test test-slow bench stubs refs release autograde clean

help:  ## list the commands
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

setup: $(VENV)/.installed  ## create .venv and install requirements.txt

train: setup  ## the main job: run the instructor notebook on the solutions; figures go to outputs/
	GAN_IMPL=$(CURDIR)/solutions GAN_WEIGHTS=$${GAN_WEIGHTS:-$(CURDIR)/outputs/dcgan_generator.pt} \
		$(PY) -m tools.run_notebook solutions/GAN.ipynb

notebook: setup  ## open the student notebook in JupyterLab
	$(VENV)/bin/jupyter lab notebooks/GAN.ipynb

demo: setup  ## run every check against the reference solutions
	$(PY) -m checks --impl solutions/gan_pytorch.py

check: setup  ## check your functions (IMPL=path/to/gan_pytorch.py checks another file)
	$(PY) -m checks --impl $(IMPL)

test: setup  ## the project's tests
	$(PY) -m pytest

test-slow: setup  ## the long tests too (a full DCGAN schedule on real digits: about 20 min on 2 CPU cores)
	$(PY) -m pytest -m "slow or not slow"

bench: setup  ## time our trainer against the textbook loop (bench/speed-<device>.json) and update the README table
	$(PY) -m tools.bench $(BENCH)
	$(PY) -m tools.bench --readme

stubs: setup  ## regenerate the student files (gan_pytorch.py, notebooks/GAN.ipynb) from solutions/
	$(PY) -m tools.release

refs: setup  ## regenerate checks/reference_answers.npz from solutions/
	$(PY) -m tools.make_reference

release: setup  ## build the nbgrader course in $(COURSE)/ and release the assignment (no answers, checked)
	$(PY) -m tools.course --course $(COURSE)

autograde: setup  ## grade $(COURSE)/submitted/*: grades.csv, feedback, summary (WORKERS=N in parallel)
	$(PY) -m tools.autograde --course $(COURSE) -j $(WORKERS)

clean:  ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
