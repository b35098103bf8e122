"""Shared helpers: write variants of the solution file and check them."""

import ast
import resource
import shutil
from pathlib import Path

import pytest

from checks.registry import MAIN
from gan_assignment.provided.modules import PROJECT as ROOT
from checks.feedback import Feedback
from checks.runner import run_checks

SOLUTION_FILE = MAIN.solution_file    # the classic lab: most tests are about it
STUDENT_FILE = MAIN.student_file
STUDENT_NOTEBOOK = MAIN.student_notebook


def cpu_seconds():
    """CPU time (user + sys) used so far by this process and its finished children. Tests bound work with its
    differences, never with wall-clock time, which a loaded machine stretches (speed is promised in
    `make bench`)."""
    return sum(getattr(resource.getrusage(who), field) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for field in ("ru_utime", "ru_stime"))


def shown(result):
    """A Result as `make check` prints it (status, name, message, notes), for a test's failure message."""
    return Feedback([result]).text()


@pytest.fixture(scope="session")
def reference():
    return MAIN.answers()


def function_span(source, name):
    """(first, last) line index of the top-level function `name` in `source`."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node.lineno - 1, node.end_lineno
    raise KeyError(f"no function {name} in the solution")


def edit_function(source, name, old, new):
    """Replace `old` by `new` inside function `name`; `old` must occur there exactly once."""
    lines = source.splitlines(keepends=True)
    first, last = function_span(source, name)
    body = "".join(lines[first:last])
    assert body.count(old) == 1, f"the solution's {name} no longer contains {old!r} exactly once: update the test"
    return "".join(lines[:first]) + body.replace(old, new) + "".join(lines[last:])


def replace_function(source, name, code):
    """Replace the whole definition of function `name` by `code`."""
    lines = source.splitlines(keepends=True)
    first, last = function_span(source, name)
    return "".join(lines[:first]) + code.strip("\n") + "\n" + "".join(lines[last:])


@pytest.fixture
def check_source(tmp_path, reference):
    """check_source(source, name) -> the Result of checking function `name` of that source."""
    def run(source, name, time_limit=60):
        path = tmp_path / "gan_pytorch.py"
        path.write_text(source)
        [result] = run_checks(path, [name], reference=reference, time_limit=time_limit)
        return result
    return run


def check_in_lab(tmp_path, lab, reference, source, function):
    """The Result of checking `function` of `source`, saved as `lab`'s student module, against `reference`."""
    path = tmp_path / f"{lab.module}.py"
    path.write_text(source)
    [result] = run_checks(path, [function], reference=reference, lab=lab)
    return result


def grade_guarded(tmp_path, lab, wrong_source, function, hint):
    """A lab graded as `make autograde` grades it (sandboxed worker, blind visible and hidden references).

    The solution must pass every visible and hidden test, the stubs must be NOT IMPLEMENTED, and a
    submission holding `wrong_source` must fail `function`'s hidden test with `hint` in the message,
    while passing every function that does not build on it. Returns the graded hidden results of the wrong submission.
    """
    import numpy as np

    from checks.isolated import grade_file
    from checks.sandbox import Sandbox, available
    from tools.make_reference import HIDDEN, build_reference

    hidden = tmp_path / f"{lab.name}_hidden.npz"
    np.savez_compressed(hidden, **build_reference(lab, **HIDDEN))
    references = {"visible": lab.reference_file, "hidden": hidden}
    sandbox = Sandbox() if available() else None
    solution = grade_file(lab.solution_file, references, lab=lab, sandbox=sandbox)
    assert solution["error"] is None, solution
    for label, results in solution["report"].items():
        assert [r["status"] for r in results] == ["PASS"] * len(lab.functions), (lab.name, label, results)
    stubs = grade_file(lab.student_file, references, lab=lab, sandbox=sandbox)
    assert {r["status"] for r in stubs["report"]["visible"]} == {"NOT IMPLEMENTED"}
    wrong = tmp_path / f"{lab.name}_wrong" / f"{lab.module}.py"
    wrong.parent.mkdir()
    wrong.write_text(wrong_source)
    graded = {r["name"]: r for r in grade_file(wrong, references, lab=lab, sandbox=sandbox)["report"]["hidden"]}
    assert graded[function]["status"] == "FAIL" and hint in graded[function]["message"], graded[function]
    independent = [name for name in graded if name != function and function not in lab.task(name).builds_on]
    assert all(graded[name]["status"] == "PASS" for name in independent), graded
    return graded


def student_desk(root, notebook=None, module=None):
    """A student's copy of the course in the folder `root` (created): checks/, gan_assignment/ (with `module`
    as the classic lab's file, if given) and notebooks/<notebook> (default: the classic student notebook),
    laid out as a notebook's first cell expects (it walks up to the folder holding gan_assignment/)."""
    notebook = notebook or STUDENT_NOTEBOOK
    skip = shutil.ignore_patterns("__pycache__", "*.hidden.npz")
    for package in ("checks", "gan_assignment"):
        shutil.copytree(ROOT / package, Path(root) / package, ignore=skip)
    if module is not None:
        (Path(root) / "gan_assignment" / STUDENT_FILE.name).write_text(module)
    (Path(root) / "notebooks").mkdir()
    shutil.copy(notebook, Path(root) / "notebooks" / Path(notebook).name)
    return Path(root)
