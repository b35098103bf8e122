"""A lab and its graded tasks, as each lab declares them (checks/labs/<lab>.py), and where points are decided.

A **lab** is one notebook and the student module it imports, released as one
nbgrader assignment. Everything of a lab carries the lab's one name:

    gan_assignment/<name>.py          the student's module (generated from solutions/<name>.py)
    gan_assignment/provided/<name>.py the lab's provided experiments and figures, if it has any
    notebooks/<name>.ipynb            the student's notebook (generated from solutions/<name>.ipynb)
    checks/labs/<name>.py             its checks and this declaration
    checks/references/<name>.npz      its reference answers (`make refs`)

A **task** is one graded thing in a lab:

- "function": a function the student writes, with its check and its spec (how
  it is called, and the recipe of its reference answers);
- "weights": a trained network submitted as a file (checks/coverage.py);
- "table": an answer table read from a notebook cell (checks/core/table.py);
- "written": a free-text answer, graded by hand.

**Where a score is decided**: `points_for` below. A task earns all its points when
its visible and hidden tests both pass, and nothing otherwise.
"""

from dataclasses import dataclass, field

from checks.core.answers import ReferenceAnswers
from checks.core.generic import GENERIC_HINTS
from checks.core.status import PASS
from gan_assignment.provided.modules import PROJECT   # the project, or a release, holding checks/ and gan_assignment/



@dataclass(frozen=True)
class Task:
    name: str
    points: int
    kind: str = "function"      # "function", "weights", "table" or "written"
    check: object = None        # check(impl, ref, task) -> notes; raises CheckFailure (functions only)
    spec: object = None         # how it is called and its reference answers (checks/core/specs.py)
    builds_on: tuple = ()       # tasks whose failure probably explains this one's
    cpu_only: bool = False      # the notebook runs it on the CPU only: no device probe (checks/core/device.py)


@dataclass(frozen=True, eq=False)
class Lab:
    name: str                   # the lab's one name (see the module docstring); `make check LAB=<name>`
    title: str
    tasks: tuple
    required: bool = False
    uses: tuple = ()            # other labs whose student functions this lab's notebook uses
    hints: dict = field(default_factory=dict)    # {name: hint(value, expected, ref, key, *args)}: why a value is off
    judges: dict = field(default_factory=dict)   # {kind: judge(arrays, ref) -> None or what to fix}: no stored answer

    @property
    def module(self):
        return self.name

    @property
    def assignment(self):
        """The nbgrader assignment id."""
        return self.name

    @property
    def notebook(self):
        return f"{self.name}.ipynb"

    @property
    def student_file(self):
        return PROJECT / "gan_assignment" / f"{self.name}.py"

    @property
    def solution_file(self):
        return PROJECT / "solutions" / f"{self.name}.py"

    @property
    def student_notebook(self):
        return PROJECT / "notebooks" / self.notebook

    @property
    def solution_notebook(self):
        return PROJECT / "solutions" / self.notebook

    @property
    def reference_file(self):
        """The public reference answers (released to students)."""
        return PROJECT / "checks" / "references" / f"{self.name}.npz"

    @property
    def hidden_reference_file(self):
        """Where `python -m tools.make_reference --hidden` writes the hidden tests' answers (instructors only, never
        released; `make release` writes them into course/grader/ instead)."""
        return PROJECT / "checks" / "references" / f"{self.name}.hidden.npz"

    def answers(self, path=None):
        """The reference answers at `path` (default: the public ones), judged with this lab's hints and judges."""
        return ReferenceAnswers(path or self.reference_file, judges=self.judges,
                                hints={**GENERIC_HINTS, **self.hints})

    @property
    def functions(self):
        """The names of the student functions, in the order the notebook introduces them."""
        return [t.name for t in self.tasks if t.kind == "function"]

    def task(self, name):
        found = [t for t in self.tasks if t.name == name]
        if not found:
            raise KeyError(f"{self.name} has no task {name!r}; its tasks are: {', '.join(t.name for t in self.tasks)}")
        return found[0]

    def tasks_of(self, kind):
        return [t for t in self.tasks if t.kind == kind]

    @property
    def max_points(self):
        return sum(t.points for t in self.tasks)


def points_for(task, visible, hidden=None):
    """The points `task` earns: all of them when the visible result and the hidden one (if any) pass.

    `visible`, `hidden`: the statuses ("PASS", "FAIL", "NOT IMPLEMENTED", ...).
    """
    passed = visible == PASS and (hidden is None or hidden == PASS)
    return task.points if passed else 0
