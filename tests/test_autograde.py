"""`make release` and `make autograde` on a synthetic class: every case gets its exact score and reason."""

import csv
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.data import mnist_stand_in
from tests.synthetic_class import CASES, COLLAPSE_CASES, make_class
from tools.autograde import Settings, autograde
from checks.registry import CLASSIC
from tools.course import hidden_reference_path, main as build_course, leaks

ASSIGNMENT = CLASSIC.assignment
GRADING = Settings(time_limit=30, import_limit=20, notebook_limit=300)   # shorter than a course's: tests wait on them


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """GAN_DATA_FROM and GAN_DATA_DIR for the coverage check's digit classifier (trained once, on real digits)."""
    folder = tmp_path_factory.mktemp("data")
    return {"GAN_DATA_FROM": str(mnist_stand_in(folder)), "GAN_DATA_DIR": str(folder / "torchvision")}


@pytest.fixture(scope="module")
def graded(tmp_path_factory, data):
    course = tmp_path_factory.mktemp("course")
    with pytest.MonkeyPatch.context() as env:   # the coverage check's digit classifier trains on real digits
        for name, value in data.items():
            env.setenv(name, value)
        assert build_course(["--course", str(course), "--cell-timeout", "15"]) == 0
        make_class(course)
        subs = autograde(course, workers=2, settings=GRADING)
    return course, {s.student: s for s in subs if s.lab is CLASSIC}, {s.student: s for s in subs if s.lab is not CLASSIC}


def test_release_holds_no_answers_and_no_hidden_tests(graded):
    course, _, _ = graded
    released = course / "release" / ASSIGNMENT
    assert leaks(released) == []
    assert not (released / hidden_reference_path(CLASSIC)).exists()
    assert (released / "checks" / "reference_answers.npz").exists()
    assert "raise NotImplementedError" in (released / "gan_assignment" / "gan_pytorch.py").read_text()


@pytest.mark.parametrize("case", [c for c in CASES if "ungradable" not in CASES[c]])
def test_each_submission_gets_its_exact_autograded_score_and_reason(graded, case):
    _, subs, _ = graded
    sub = subs[case]
    assert not sub.ungradable, sub.ungradable
    assert sum(sub.points.values()) == CASES[case]["points"], f"{case}: {sub.points} {sub.problems}"
    report = "; ".join(sub.problems)
    for words in CASES[case]["problems"]:
        assert words in report, f"{case}: the report should say {words!r}; it says {report!r}"
    if not CASES[case]["problems"]:
        assert not sub.problems, f"{case}: unexpected problems {sub.problems}"


def test_a_submission_that_cannot_be_graded_is_listed_with_the_reason(graded):
    course, subs, _ = graded
    assert "not a valid notebook" in subs["malformed_json"].ungradable
    rows = {r["student"]: r for r in csv.DictReader(open(course / "grades.csv")) if r["assignment"] == ASSIGNMENT}
    assert set(rows) == set(CASES)
    assert rows["malformed_json"]["status"] == "could not be graded" and rows["malformed_json"]["score"] == ""
    assert float(rows["solution"]["score"]) == CASES["solution"]["points"]  # free-text answers await a human


def test_feedback_names_what_is_missing_and_hides_the_hidden_tests(graded):
    course, _, _ = graded
    stub_feedback = (course / "feedback" / "untouched_stubs" / ASSIGNMENT / "GAN.html").read_text()
    assert "NOT IMPLEMENTED" in stub_feedback
    for student in ("solution", "partial", "untouched_stubs"):
        html = (course / "feedback" / student / ASSIGNMENT / "GAN.html").read_text()
        assert "hidden=True" not in html and "HIDDEN TESTS" not in html, f"hidden tests leak in {student}'s feedback"


@pytest.mark.parametrize("case", list(COLLAPSE_CASES))
def test_the_optional_lab_is_graded_in_its_own_assignment(graded, case):
    course, _, collapse = graded
    sub = collapse[case]
    assert not sub.ungradable, sub.ungradable
    assert sum(sub.points.values()) == COLLAPSE_CASES[case][1], f"{case}: {sub.points} {sub.problems}"
    rows = [r for r in csv.DictReader(open(course / "grades.csv")) if r["student"] == case]
    assert {r["assignment"] for r in rows} == {CLASSIC.assignment, sub.lab.assignment}
    assert (course / "feedback" / case / sub.lab.assignment / "ModeCollapse.html").exists()


# --- the same class on Gradescope ------------------------------------------------------------------------

GRADESCOPE_TOP = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
                  "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
GRADESCOPE_TEST = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format",
                   "tags", "visibility", "extra_data"}
VISIBILITIES = {"visible", "hidden", "after_due_date", "after_published"}


def gradescope_problems(results):
    """What in `results` does not follow Gradescope's documented results.json (empty when it all does)."""
    problems = [f"unknown top-level field {k!r}" for k in set(results) - GRADESCOPE_TOP]
    if not isinstance(results.get("score"), float) or results.get("visibility", "visible") not in VISIBILITIES:
        problems.append(f"score {results.get('score')!r} / visibility {results.get('visibility')!r}")
    for test in results.get("tests", []):
        problems += [f"{test.get('name')}: unknown field {k!r}" for k in set(test) - GRADESCOPE_TEST]
        if not (isinstance(test.get("name"), str) and isinstance(test.get("output"), str)
                and isinstance(test.get("score"), float) and isinstance(test.get("max_score"), float)
                and 0 <= test["score"] <= test["max_score"] and test.get("status") in ("passed", "failed")
                and test.get("visibility") in VISIBILITIES):
            problems.append(f"malformed test {test}")
    if results.get("tests") and abs(sum(t["score"] for t in results["tests"]) - results["score"]) > 1e-9:
        problems.append("the tests' scores do not add up to the score")
    return problems


@pytest.fixture(scope="module")
def gradescope_zip(tmp_path_factory):
    """`make gradescope`'s zip of the classic lab."""
    import zipfile

    from tools.gradescope import build

    return zipfile.ZipFile(build(CLASSIC, tmp_path_factory.mktemp("zip")))


def test_gradescope_grades_every_submission_as_make_autograde_does(graded, data, gradescope_zip, tmp_path,
                                                                     monkeypatch):
    """`make gradescope`'s zip, unpacked as Gradescope unpacks it, grades each submission of the synthetic class
    (its root moved to a temporary folder) with exactly make autograde's score, in a valid results.json."""
    import json
    import stat
    from concurrent.futures import ThreadPoolExecutor

    from tools.gradescope import run

    course, subs, _ = graded
    archive = gradescope_zip
    names = archive.namelist()
    assert {"setup.sh", "run_autograder"} <= set(names), names[:10]
    assert archive.getinfo("run_autograder").external_attr >> 16 & stat.S_IXUSR, "run_autograder must be executable"
    assert any(n.startswith("course/grader/gan/") for n in names), "the hidden reference travels in the zip"
    assert not any(n.startswith("course/release/") and "hidden" in n for n in names), "never in the release"
    for name, value in data.items():
        monkeypatch.setenv(name, value)

    def grade(student):
        root = tmp_path / "autograder" / student
        archive.extractall(root / "source")
        shutil.copytree(course / "submitted" / student / ASSIGNMENT, root / "submission")   # what they uploaded
        return student, run(root, CLASSIC, settings=GRADING)

    with ThreadPoolExecutor(2) as pool:
        results = dict(pool.map(grade, sorted(subs)))
    for student, sub in subs.items():
        verdict = results[student]
        assert gradescope_problems(verdict) == [], f"{student}: {gradescope_problems(verdict)}"
        on_disk = json.loads((tmp_path / "autograder" / student / "results" / "results.json").read_text())
        assert on_disk == verdict
        expected = 0.0 if sub.ungradable else sum(sub.points.values())
        assert verdict["score"] == expected, f"{student}: Gradescope {verdict['score']}, make autograde {expected}"
        if sub.ungradable:
            assert "Could not be graded" in verdict["output"], verdict["output"]
    hidden = [t for t in results["solution"]["tests"] if t["visibility"] != "visible"]
    assert hidden and all(t["visibility"] == "after_due_date" for t in hidden), "hidden tests wait for the due date"
    assert all(t["max_score"] == 0 for t in results["solution"]["tests"] if t["visibility"] == "visible"
               and t["name"].endswith("(make check)")), "a visible check alone earns nothing: visible and hidden do"


READS_THE_HIDDEN_ANSWERS = """
import pathlib
_found = [str(p) for p in pathlib.Path({root!r}).rglob("*hidden*") if p.is_file() and p.read_bytes()]
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="the fallback gives students' code a user of its own: needs root")
def test_gradescope_without_bubblewrap_keeps_the_hidden_answers_from_students_code(gradescope_zip, request):
    """Where bubblewrap cannot work (a container forbidding namespaces), students' code runs as a user of its own
    and the hidden reference answers are root's alone: a module that looks for them finds none, and still passes.
    Unsandboxed, the same module finds them: the test can fail."""
    from checks.sandbox import UserOnly
    from tools.gradescope import run

    # As on Gradescope, /autograder is open to every user; pytest's own tmp_path is not (0700).
    base = Path(tempfile.mkdtemp(prefix="autograder-"))
    os.chmod(base, 0o755)
    request.addfinalizer(lambda: shutil.rmtree(base, ignore_errors=True))

    def grade(settings, name):
        root = base / name
        gradescope_zip.extractall(root / "source")
        (root / "submission").mkdir()
        shutil.copy(root / "source" / "course" / "release" / ASSIGNMENT / CLASSIC.notebook, root / "submission")
        probe = READS_THE_HIDDEN_ANSWERS.format(root=str(base))
        spy = CLASSIC.solution_file.read_text().replace(
            "    ### BEGIN SOLUTION\n    if seed is not None:",
            "    ### BEGIN SOLUTION\n    if _found:\n        raise RuntimeError(f'LEAKED {_found[:1]}')\n"
            "    if seed is not None:", 1)
        assert "LEAKED" in spy, "the solution's first function changed: update this test"
        (root / "submission" / CLASSIC.student_file.name).write_text(spy + probe)
        return run(root, CLASSIC, settings=settings)

    guarded = grade(Settings(time_limit=30, import_limit=20, kind=UserOnly), "user_only")
    shown = " ".join(t["output"] for t in guarded["tests"])
    assert "LEAKED" not in shown, shown
    assert guarded["score"] == 16.0, f"the solution's functions all pass: {shown}"
    exposed = grade(Settings(time_limit=30, import_limit=20, sandboxed=False), "unsandboxed")
    assert "LEAKED" in " ".join(t["output"] for t in exposed["tests"]), "the probe must find them when unguarded"
