"""Every lab of the course: the one list.

Each lab declares itself, its tasks (a task's check, spec, points and what it
builds on), its hints and its judges in its own file, checks/labs/<name>.py, as
`LAB = Lab(...)` (checks/core/lab.py says what a Lab and a Task are). This file
only lists the labs, in the order the course takes them. Everything reads this
list and nothing else lists labs or tasks: the checks (`make check`), the
reference answers (`make refs`), the student files (`make stubs`), the nbgrader
course (`make release`), the autograder (`make autograde`), Gradescope
(`make gradescope`) and the tests' synthetic class.

**Adding a lab** named `toy` (nothing in the engine changes):

1. `solutions/toy.py`: the functions, each answer between nbgrader's solution
   markers (tools/release.py shows them), with a docstring the student learns from;
2. `solutions/toy.ipynb`: the notebook; a cell `check("name")` under each task,
   `require(...)` before anything that needs them;
3. `checks/labs/toy.py`: `LAB = Lab(name="toy", title=..., tasks=(Task(...), ...))`,
   with a spec and a check for each function (the generic ones of
   checks/core/generic.py, or your own) and any hints or judges of your own;
4. `"toy"` in LAB_NAMES below;

then `make stubs refs` writes gan_assignment/toy.py, notebooks/toy.ipynb and
checks/references/toy.npz. tests/test_toy_lab.py does exactly this. (The lab's
own experiments and figures, if it has any, go to gan_assignment/provided/toy.py;
a model in the MODELS table of gan_assignment/provided/train.py trains it from
the command line.)

**Where a score is decided**: `points_for` in checks/core/lab.py (all of a task's
points when its visible and hidden tests pass), from the verdicts that
checks/core/compare.py decides.

A student release holds only its own lab and the labs it uses: the labs listed
here whose file is present are the ones that exist.
"""

import importlib
from pathlib import Path


LAB_NAMES = ("gan_pytorch", "mode_collapse", "mlp_gan", "dcgan", "gan_theory", "d_probe", "latent_walks",
             "saliency", "wgan_gp", "cgan")
LABS_FOLDER = Path(__file__).resolve().parent / "labs"


def _gather(names):
    labs = {}
    for name in names:
        if not (LABS_FOLDER / f"{name}.py").is_file():
            continue   # a release holds only its own labs
        lab = importlib.import_module(f"checks.labs.{name}").LAB
        if lab.name != name:
            raise ValueError(f"checks/labs/{name}.py declares a lab named {lab.name!r}: a lab has one name")
        labs[name] = lab
    names = [t.name for lab in labs.values() for t in lab.tasks]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ValueError(f"task names must be unique across labs: {duplicated}")
    return labs


LABS = _gather(LAB_NAMES)
MAIN = LABS.get("gan_pytorch")   # the required lab, whose notebook the README's `make train` runs


def lab_of(task_name):
    """The lab that holds the task `task_name` (task names are unique across labs)."""
    for lab in LABS.values():
        if any(t.name == task_name for t in lab.tasks):
            return lab
    raise KeyError(f"no lab has a task {task_name!r}")
