"""Make the student version of a file from the instructor's solution.

The solution marks each answer with nbgrader's own delimiters:

    ### BEGIN SOLUTION
    ...the answer...
    ### END SOLUTION

`strip_solutions` replaces every such region by a stub that raises
NotImplementedError, keeping the indentation, the signature and the docstring
around it. The same delimiters are used in the notebooks, so one mechanism
releases both.

In notebooks, a region in a code cell outside any function becomes
`# YOUR CODE HERE` (the student edits the lines around it), and a region in a
markdown cell becomes an answer placeholder. Outputs are cleared.

    python -m tools.release            # rewrite every lab's student files (checks/registry.py lists the labs)
    python -m tools.release --check    # exit 1 if a committed student file is stale
"""

import argparse
import ast
import re
import sys

from checks.registry import LABS
from gan_assignment.provided.modules import PROJECT

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
_DEF = re.compile(r"^\s*def\s+(\w+)\s*\(")


# What a graded cell of a notebook calls, for each kind of task (checks/registry.py).
GRADED_CALLS = {"check": "function", "check_dcgan_coverage": "weights", "check_minmax": "table"}


class ReleaseError(ValueError):
    """The solution's markers are malformed (unbalanced, nested or misplaced)."""


def solution_regions(lines):
    """Yield (begin, end) line indices of each solution region, markers included."""
    begin = None
    for i, line in enumerate(lines):
        text = line.strip()
        if text == BEGIN:
            if begin is not None:
                raise ReleaseError(f"line {i + 1}: {BEGIN} inside another solution region")
            begin = i
        elif text == END:
            if begin is None:
                raise ReleaseError(f"line {i + 1}: {END} without a {BEGIN}")
            yield begin, i
            begin = None
    if begin is not None:
        raise ReleaseError(f"line {begin + 1}: {BEGIN} is never closed")


MARKDOWN_STUB = "*Write your answer here.*\n"


def _stub(indent, function, markdown):
    if markdown:
        return [MARKDOWN_STUB]
    if function is None:
        return [f"{indent}# YOUR CODE HERE\n"]
    return [
        f"{indent}# TODO: your code here (the docstring above says what to do).\n",
        f'{indent}raise NotImplementedError("{function} is not implemented yet")\n',
    ]


def strip_solutions(text, markdown=False):
    """Return `text` with every solution region replaced by a stub.

    Inside a function the stub raises NotImplementedError; elsewhere it is a
    `# YOUR CODE HERE` comment, or (markdown=True) an answer placeholder.
    """
    lines = text.splitlines(keepends=True)
    out, last = [], 0
    for begin, end in solution_regions(lines):
        out.extend(lines[last:begin])
        indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
        function = _enclosing_function(lines[:begin], indent)
        out.extend(_stub(indent, function, markdown))
        last = end + 1
    out.extend(lines[last:])
    return "".join(out)


def _enclosing_function(lines_before, indent):
    """The name of the innermost `def` above that the region is indented under, if any."""
    for line in reversed(lines_before):
        match = _DEF.match(line)
        if match and len(line) - len(line.lstrip()) < len(indent):
            return match.group(1)
    return None


def nbgrader_meta(grade_id, grade=False, solution=False, locked=False, points=None):
    """nbgrader's metadata of one cell (schema 3)."""
    meta = {"grade": grade, "solution": solution, "locked": locked, "grade_id": grade_id, "schema_version": 3}
    if points is not None:
        meta["points"] = points
    return meta


def graded_task(cell, lab):
    """The task of `lab` a cell tests (a check("name"), check_minmax or check_dcgan_coverage cell), or None."""
    graded = graded_call(cell)
    if not graded:
        return None
    kind, name = graded
    return lab.task(name) if name else next(t for t in lab.tasks if t.kind == kind)


def graded_call(cell):
    """The kind of task a code cell tests and the task it names, e.g. ("function", "bce_loss"), or None."""
    if cell.cell_type != "code":
        return None
    try:
        tree = ast.parse(cell.source)
    except SyntaxError:
        return None
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
             and node.func.id in GRADED_CALLS]
    if len(tree.body) != 1 or len(calls) != 1:
        return None
    call = calls[0]
    kind = GRADED_CALLS[call.func.id]
    if kind == "function":
        if len(call.args) != 1 or not isinstance(call.args[0], ast.Constant):
            return None
        return kind, call.args[0].value
    return kind, None


def release_notebook(notebook, lab=None):
    """The student version of an nbformat notebook (a new object; outputs cleared).

    With `lab`, each check cell becomes an nbgrader test cell worth its task's points, so that
    nbgrader's Validate button judges the notebook by its checks (a notebook without test cells
    "passes all the tests" whatever it holds). The cells stay editable: this copy is the student's.
    """
    import copy

    student = copy.deepcopy(notebook)
    for cell in student.cells:
        cell.source = strip_solutions(cell.source, markdown=cell.cell_type == "markdown")
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        task = graded_task(cell, lab) if lab else None
        if task:
            cell.metadata["nbgrader"] = nbgrader_meta(f"check_{task.name}", grade=True, points=task.points)
    return student


def student_notebook_text(lab):
    """The text of `lab`'s student notebook, as generated from its solution notebook."""
    import nbformat

    notebook = nbformat.read(lab.solution_notebook, as_version=4)
    return nbformat.writes(release_notebook(notebook, lab)) + "\n"


def student_versions():
    """{student file: its wanted text}, for every file made from a solution, in every lab."""
    versions = {}
    for lab in LABS.values():
        versions[lab.student_file] = strip_solutions(lab.solution_file.read_text())
        versions[lab.student_notebook] = student_notebook_text(lab)
    return versions


def stale_student_files():
    """The student files (relative paths) that differ from what solutions/ generates (empty when all agree)."""
    return [str(path.relative_to(PROJECT)) for path, wanted in student_versions().items()
            if not path.exists() or path.read_text() != wanted]


def solution_lines(text):
    """The code lines inside solution regions (stripped, blank lines and comments left out)."""
    lines = text.splitlines()
    found = []
    for begin, end in solution_regions(lines):
        for line in lines[begin + 1:end]:
            code = line.strip()
            if code and not code.startswith("#"):
                found.append(code)
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the student file differs from what would be generated")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_student_files()
        for rel in stale:
            print(f"{rel} is out of date: run `make stubs`.", file=sys.stderr)
        return 1 if stale else 0
    for path, wanted in student_versions().items():
        path.write_text(wanted)
        print(f"wrote {path.relative_to(PROJECT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
