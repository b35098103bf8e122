# Every command of the README. Each target creates the virtual environment
# (.venv) first if it is missing or older than requirements.txt.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
COURSE ?= course
WORKERS ?= 1
# LAB=name limits check, refs, release and autograde to one lab (checks/registry.py lists them);
# IMPL=path checks another file of a lab (its lab is found from the file name, or LAB).
LAB_ARG  = $(if $(LAB),--lab $(LAB))
IMPL_ARG = $(if $(IMPL),--impl $(IMPL))

.PHONY: help setup train notebook demo check test test-slow bench stubs refs release autograde gradescope clean

help:  ## list the commands
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

setup: $(VENV)/.installed  ## create .venv and install requirements.txt

train: setup  ## the main job: run the instructor notebook on the solutions (LAB=name: that lab's); figures go to outputs/
	GAN_IMPL=$(CURDIR)/solutions GAN_WEIGHTS=$${GAN_WEIGHTS:-$(CURDIR)/outputs/dcgan_generator.pt} \
		$(PY) -m tools.run_notebook $(or $(LAB),classic)

# The student's JupyterLab: nbgrader's instructor tools (Create Assignment, Formgrader, Course List, the
# Nbgrader menu) are switched off for this session only, by a config folder of this project
# (tools/student_jupyter); the user's own Jupyter settings are not touched. Validate stays.
notebook: setup  ## open the student notebook in JupyterLab (NB=notebooks/Other.ipynb for another lab)
	JUPYTER_CONFIG_PATH=$(CURDIR)/tools/student_jupyter$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH} $(VENV)/bin/jupyter lab $(or $(NB),notebooks/GAN.ipynb) \
		$(if $(filter 0,$(shell id -u)),--allow-root)

demo: setup  ## run every check of every lab against the reference solutions
	GAN_IMPL=$(CURDIR)/solutions $(PY) -m checks $(LAB_ARG)

check: setup  ## check your functions in every lab (FN=name one function, LAB=name one lab, IMPL=path another file)
	$(PY) -m checks $(LAB_ARG) $(IMPL_ARG) $(FN)

test: setup  ## the project's tests
	$(PY) -m pytest

test-slow: setup  ## the long tests too (a full DCGAN schedule on real digits: about 20 min on 2 CPU cores)
	$(PY) -m pytest -m "slow or not slow"

bench: setup  ## time our trainer against the textbook loop (bench/speed-<device>.json) and update the README table
	$(PY) -m tools.bench $(BENCH)
	$(PY) -m tools.bench --readme

stubs: setup  ## regenerate every lab's student module and notebook from solutions/
	$(PY) -m tools.release

refs: setup  ## regenerate every lab's reference answers (checks/*.npz) from solutions/
	$(PY) -m tools.make_reference $(LAB_ARG)

release: setup  ## build the nbgrader course in $(COURSE)/ and release one assignment per lab (no answers, checked)
	$(PY) -m tools.course --course $(COURSE) $(LAB_ARG)

autograde: setup  ## grade $(COURSE)/submitted/*/<every lab>: grades.csv, feedback, summary (WORKERS=N in parallel)
	$(PY) -m tools.autograde --course $(COURSE) -j $(WORKERS) $(LAB_ARG)

gradescope: setup  ## build gradescope/<assignment>.zip, the Gradescope autograder of one lab (LAB=name, default classic)
	$(PY) -m tools.gradescope build --lab $(or $(LAB),classic)

clean:  ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
