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

.PHONY: help setup train notebook demo check test test-slow structure bench stubs refs release autograde report feedback gradescope submission colab clean

help:  ## list the commands
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

setup: $(VENV)/.installed  ## create .venv and install requirements.txt

train: setup  ## the main job: run a lab's instructor notebook on the solutions (LAB=name; default gan_pytorch); figures go to outputs/
	GAN_IMPL=$(CURDIR)/solutions GAN_WEIGHTS=$${GAN_WEIGHTS:-$(CURDIR)/outputs/dcgan_generator.pt} \
		$(PY) -m tools.run_notebook $(or $(LAB),gan_pytorch)

# The student's JupyterLab, rooted here so that the notebooks and gan_assignment/ are both in its file browser.
# tools/student_jupyter (for this session only; the user's own Jupyter settings are not touched) hides the
# instructor's folders (solutions/, course/, tests/, ...) from the file browser and nbgrader's instructor tools.
notebook: setup  ## open a lab's notebook in JupyterLab (LAB=name; default gan_pytorch)
	JUPYTER_CONFIG_PATH=$(CURDIR)/tools/student_jupyter$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH} \
		$(VENV)/bin/jupyter lab --ServerApp.root_dir=$(CURDIR) notebooks/$(or $(LAB),gan_pytorch).ipynb $(JUPYTER_ARGS) \
		$(if $(filter 0,$(shell id -u)),--allow-root)

demo: setup  ## run every check of every lab against the reference solutions
	GAN_IMPL=$(CURDIR)/solutions $(PY) -m checks $(LAB_ARG)

check: setup  ## check your functions in every lab (FN=name one function, LAB=name one lab, IMPL=path another file)
	$(PY) -m checks $(LAB_ARG) $(IMPL_ARG) $(FN)

test: setup  ## the project's tests
	$(PY) -m pytest

test-slow: setup  ## the long tests too (a full DCGAN schedule on real digits: about 20 min on 2 CPU cores)
	$(PY) -m pytest -m "slow or not slow"

structure: setup  ## the house rules: no import cycle, no private name across modules, short functions
	$(PY) -m tools.structure

bench: setup  ## time our trainer against the textbook loop (bench/speed-<device>.json) and update docs/performance.md
	$(PY) -m bench $(BENCH)
	$(PY) -m bench --tables

stubs: setup  ## regenerate every lab's student module and notebook from solutions/
	$(PY) -m tools.release

refs: setup  ## regenerate every lab's reference answers (checks/references/<lab>.npz) from solutions/
	$(PY) -m tools.make_reference $(LAB_ARG)

release: setup  ## build the nbgrader course in $(COURSE)/: one self-contained student release per lab (checked)
	$(PY) -m tools.course --course $(COURSE) $(LAB_ARG)

autograde: setup  ## grade $(COURSE)/submitted/*/<every lab>: grades.csv, feedback, summary (WORKERS=N in parallel)
	$(PY) -m tools.autograde --course $(COURSE) -j $(WORKERS) $(LAB_ARG)

report: setup  ## the class at a glance: $(COURSE)/reports/<lab>/index.html: scores, common causes, similar pairs (KNOWN=folder, EXPORTED=folder LAB=name)
	$(PY) -m tools.report --course $(COURSE) $(LAB_ARG) $(if $(KNOWN),--known $(KNOWN)) $(if $(EXPORTED),--exported $(EXPORTED))

feedback: setup  ## write the feedback pages again, after grading the written answers by hand in formgrader
	$(PY) -m tools.autograde --course $(COURSE) --feedback-only $(LAB_ARG)

gradescope: setup  ## build gradescope/<lab>.zip, the Gradescope autograder of one lab (LAB=name, default gan_pytorch)
	$(PY) -m tools.gradescope build --lab $(or $(LAB),gan_pytorch)

submission: setup  ## zip a lab's notebook, your module and your trained weights into submission.zip (LAB=name)
	$(PY) -m gan_assignment.provided.packaging submission notebooks/$(or $(LAB),gan_pytorch).ipynb \
		gan_assignment/$(or $(LAB),gan_pytorch).py $(if $(filter gan_pytorch,$(or $(LAB),gan_pytorch)),notebooks/dcgan_generator.pt)

colab: setup  ## copy what Google Colab needs to colab/gan-course (no .venv, no data/, no instructor files)
	$(PY) -m gan_assignment.provided.packaging colab

clean:  ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
