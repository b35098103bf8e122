"""What the nbgrader test cells call.

    grade("sample_noise")                 # visible test: the same check as `make check`
    grade("sample_noise", hidden=True)    # hidden test: other weights, inputs and batch size
    grade_table("minmax", x_values=x_values, y_values=y_values)   # an answer table (checks/core/table.py)
    grade_weights("dcgan_coverage")       # the saved DCGAN generator draws all ten digits

Each shows its verdict as a check cell does (a badge, and what to fix). Under nbgrader (its Validate
button, autograding) a verdict that is not PASS raises GradeFailure instead, so the test cell scores 0;
in a student's own session it does not, so "Run All" goes on to the end, as it does in the repository's
student notebook.

While autograding, these cells only *show* results: `make autograde` decides
every grade in its own process before the notebook runs (tools/autograde.py)
and leaves the results in grading_results.json beside the notebook (visible
messages; of the hidden tests, pass or fail only). Nothing here runs the
student's code then, and what the cells print or score counts for nothing. In
an ordinary session (no hidden reference) the checks run at the first call,
in a child process, and are reused.
"""

import json
from pathlib import Path

from checks.core.status import PASS, Result
from checks.feedback import autograding, show, validating, wrap
from checks.isolated import grade_file
from checks.registry import lab_of
from checks.runner import implementation_path

RESULTS_FILE = "grading_results.json"

_cache = {}


class GradeFailure(AssertionError):
    """A graded test failed; IPython shows just the message."""

    def _render_traceback_(self):
        lines = wrap(str(self), width=80).splitlines()   # nbgrader cuts lines at 90 characters
        return [f"FAILED: {line}" if i == 0 else line for i, line in enumerate(lines)]


def references(lab):
    """{label: reference file} for the tests this environment can run (hidden only where the file exists)."""
    found = {"visible": lab.reference_file}
    if lab.hidden_reference_file.exists():
        found["hidden"] = lab.hidden_reference_file
    return found


def grading_results(lab, weights=None):
    """The guarded results of `lab`: from grading_results.json while autograding, else computed once and cached.

    `weights`: the lab's saved weights file, when its coverage check is wanted too.
    """
    # Autograding: the grades were decided before the notebook ran. Validating (the student's
    # Validate button) runs the checks here, like an ordinary session: the verdict must be the truth.
    if autograding():
        if not Path(RESULTS_FILE).exists():
            raise GradeFailure(f"{RESULTS_FILE} is missing: grade with `make autograde`, which decides the grades")
        return json.loads(Path(RESULTS_FILE).read_text())
    impl = Path(implementation_path(lab))
    key = tuple((str(p), p.stat().st_mtime if p.exists() else None) for p in map(Path, filter(None, [impl, weights])))
    if key not in _cache:
        _cache.clear()
        _cache[key] = grade_file(impl, references(lab), lab, weights=weights)
    return _cache[key]


def verdict(name, status, message="", notes=()):
    """Show the verdict; under nbgrader, a verdict that is not PASS raises GradeFailure (the cell scores 0)."""
    if status != PASS and validating():
        raise GradeFailure(f"{name}: {status}" + (f": {message}" if message else ""))
    show([Result(name, status, message, notes=list(notes))])


def grade(name, hidden=False):
    """The test of the function `name`: its visible check, or (hidden=True) its hidden test."""
    label = "hidden" if hidden else "visible"
    report = grading_results(lab_of(name))["report"]
    if label not in report:
        raise GradeFailure(f"the {label} tests cannot run here (their reference file is missing)")
    result = next(r for r in report[label] if r["name"] == name)
    if hidden:  # never show the hidden values: they would let an answer be special-cased to them
        verdict(f"{name} (hidden test)", result["status"], "" if result["status"] == PASS else (
            "fails a hidden test (other weights, inputs and batch size than the visible check). Is something "
            "hard-coded, or special-cased to the visible test?"))
    else:
        verdict(name, result["status"], result["message"], result.get("notes", []) if result["status"] == PASS else ())


def grade_weights(name):
    """The test of the lab's saved weights (the "weights" task `name`: the DCGAN generator draws every class;
    see checks.coverage)."""
    from checks.coverage import not_measurable_here

    lab = lab_of(name)
    weights = lab.task(name).spec.file
    reason = None if autograding() else not_measurable_here(weights)
    coverage = {"status": "FAIL", "message": reason} if reason else \
        grading_results(lab, weights=weights).get("coverage") or \
        {"status": "FAIL", "message": "the coverage check did not run: grade again with the saved generator"}
    verdict("trained DCGAN", coverage["status"], coverage["message"])


def grade_table(name, **values):
    """The test of the answer table `name` (the min-max table)."""
    lab = lab_of(name)
    spec = lab.task(name).spec
    verdict(spec.title, *spec.status(name, values, lab.answers()))
