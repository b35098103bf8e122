"""The student file is generated from the solutions, and nothing of the answers leaks into it."""

import ast

import pytest

from tests.conftest import SOLUTION_FILE, STUDENT_FILE
from tools.release import ReleaseError, solution_lines, strip_solutions
from checks.registry import MAIN

STUDENT_FUNCTIONS = MAIN.functions


def _functions(path):
    tree = ast.parse(path.read_text())
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}


def test_student_file_is_generated_from_solutions():
    assert STUDENT_FILE.read_text() == strip_solutions(SOLUTION_FILE.read_text()), (
        "gan_assignment/gan_pytorch.py differs from what tools/release.py generates: run `make stubs`")


def test_no_solution_line_reaches_the_student_file():
    student = STUDENT_FILE.read_text()
    stub_lines = {line.strip() for line in student.splitlines()}
    leaked = [line for line in solution_lines(SOLUTION_FILE.read_text()) if line in stub_lines and len(line) > 3]
    assert not leaked, f"solution lines found in the student file: {leaked}"
    assert "BEGIN SOLUTION" not in student and "END SOLUTION" not in student


def test_every_student_function_is_a_documented_stub_with_the_solutions_signature():
    solution, student = _functions(SOLUTION_FILE), _functions(STUDENT_FILE)
    assert set(STUDENT_FUNCTIONS) <= set(solution)
    for name in STUDENT_FUNCTIONS:
        stub = student[name]
        assert ast.unparse(stub.args) == ast.unparse(solution[name].args), f"{name}: signature changed"
        assert ast.get_docstring(stub) == ast.get_docstring(solution[name]), f"{name}: docstring changed"
        assert len(ast.get_docstring(stub)) > 150, f"{name}: the docstring should teach, it is too short"
        last = stub.body[-1]
        assert isinstance(last, ast.Raise) and "NotImplementedError" in ast.unparse(last), (
            f"{name}: the stub must raise NotImplementedError")


def test_student_file_holds_only_student_functions():
    assert set(_functions(STUDENT_FILE)) == set(STUDENT_FUNCTIONS), (
        "provided helpers belong in other modules of gan_assignment, not in the student's file")


def test_strip_keeps_indentation_and_names_the_function():
    source = "def f(x):\n    '''Doc.'''\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n"
    out = strip_solutions(source)
    assert "return x + 1" not in out
    assert '    raise NotImplementedError("f is not implemented yet")\n' in out
    namespace = {}
    exec(out, namespace)
    with pytest.raises(NotImplementedError, match="f is not implemented yet"):
        namespace["f"](1)


@pytest.mark.parametrize("source", [
    "### BEGIN SOLUTION\nx = 1\n",                                   # never closed
    "x = 1\n### END SOLUTION\n",                                     # closed without opening
    "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n",    # nested
])
def test_malformed_markers_are_refused(source):
    with pytest.raises(ReleaseError):
        strip_solutions(source)
