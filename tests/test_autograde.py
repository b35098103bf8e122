"""`make release` and `make autograde` on a synthetic class: every case gets its exact score and reason."""

import csv
import json
import os
import shutil
import stat
import tempfile
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.data import mnist_stand_in
from tests.synthetic_class import CASES, COLLAPSE_CASES, make_class
from tools.autograde import Settings, autograde
from checks.registry import MAIN
from tools.course import main as build_course, leaks

ASSIGNMENT = MAIN.assignment
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
    return course, {s.student: s for s in subs if s.lab is MAIN}, {s.student: s for s in subs if s.lab is not MAIN}


def test_release_holds_no_answers_and_no_hidden_tests(graded):
    course, _, _ = graded
    released = course / "release" / ASSIGNMENT
    assert leaks(released) == []
    assert not list(released.rglob("*hidden*")), "no hidden reference answers in the release"
    assert (released / "checks" / "references" / "gan_pytorch.npz").exists()
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
    stub_feedback = (course / "feedback" / "untouched_stubs" / ASSIGNMENT / "gan_pytorch.html").read_text()
    assert "NOT IMPLEMENTED" in stub_feedback
    for student in ("solution", "partial", "untouched_stubs"):
        html = (course / "feedback" / student / ASSIGNMENT / "gan_pytorch.html").read_text()
        assert "hidden=True" not in html and "HIDDEN TESTS" not in html, f"hidden tests leak in {student}'s feedback"


def test_the_feedback_pages_contents_list_names_each_task(graded):
    """nbgrader's feedback page lists every graded cell as "Test cell" (thirteen times, for this lab): the
    contents list names the task instead, so a student sees at once which function lost points."""
    course, _, _ = graded
    html = (course / "feedback" / "partial" / ASSIGNMENT / "gan_pytorch.html").read_text()
    contents = html[html.index('<div id="toc">'):html.index("</ol>", html.index('<div id="toc">'))]
    assert "Test cell" not in contents and "Written response<" not in contents, contents
    for task in MAIN.tasks:
        assert f">{task.name}" in contents, f"the contents list should name {task.name}: {contents}"


def test_make_report_shows_the_graded_class(graded):
    """`make report` after `make autograde`: each student's record (results/<assignment>/<student>.json) holds their grade, and the class page
    lists every student, the failures by cause, and who needs a human's look (a limit hit, not graded)."""
    from tools.autograde import results_path
    from tools.report import main as make_report

    course, subs, collapse = graded
    assert make_report(["--course", str(course)]) == 0
    out = course / "reports" / ASSIGNMENT
    for student, sub in subs.items():
        record = json.loads(results_path(course, ASSIGNMENT, student).read_text())
        assert record["graded"] == (not sub.ungradable), student
        if not sub.ungradable:
            assert record["score"] == sub.score and {t["name"]: t["earned"] for t in record["tasks"]} == {
                t.name: sub.points.get(t.name) for t in MAIN.tasks}, student
    scores = {r["student"]: r for r in csv.DictReader(open(out / "scores.csv"))}
    assert set(scores) == set(subs)
    page = (out / "index.html").read_text()
    look = page[page.index("<h2>Look at these</h2>"):page.index("<h2>Similar submissions</h2>")]
    for student, sub in subs.items():
        if sub.ungradable or (sub.guarded or {}).get("limits"):
            assert f"<td>{student}</td>" in look, f"{student} hit a limit or was not graded: the page must say so"
    causes = list(csv.DictReader(open(out / "causes.csv")))
    assert causes and all(int(c["students"]) >= 1 and c["example_message"] for c in causes)
    assert any(c["task"] == "bce_loss" and "mean" in c["title"] for c in causes), causes   # edited_reference's slip
    assert (out / "similarity.csv").read_text().startswith("student_a,student_b,similarity")
    assert (course / "reports" / next(iter(collapse.values())).lab.assignment / "index.html").is_file()


@pytest.mark.parametrize("case", list(COLLAPSE_CASES))
def test_the_optional_lab_is_graded_in_its_own_assignment(graded, case):
    course, _, collapse = graded
    sub = collapse[case]
    assert not sub.ungradable, sub.ungradable
    assert sum(sub.points.values()) == COLLAPSE_CASES[case][1], f"{case}: {sub.points} {sub.problems}"
    rows = [r for r in csv.DictReader(open(course / "grades.csv")) if r["student"] == case]
    assert {r["assignment"] for r in rows} == {MAIN.assignment, sub.lab.assignment}
    assert (course / "feedback" / case / sub.lab.assignment / "mode_collapse.html").exists()


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
    """`make gradescope`'s zip of the main lab."""
    import zipfile

    from tools.gradescope import build

    return zipfile.ZipFile(build(MAIN, tmp_path_factory.mktemp("zip")))


# A correct, an untouched and a half-done student; one whose trained DCGAN is graded by the coverage check (it
# fails: untrained); a monkeypatching module, and a notebook that is not JSON.
GRADESCOPE_CASES = ("solution", "untouched_stubs", "partial", "untrained_dcgan", "monkeypatching_module",
                    "malformed_json")


def run_autograder(archive, submission, classifiers, root):
    """Gradescope's run, as Gradescope runs it: the zip unpacked into root/source (an empty folder outside the
    repository), the upload in root/submission, `run_autograder` started from elsewhere with no PYTHONPATH, so
    only the zip's own code can be imported. The image's digit classifier (setup.sh trains it) is copied in.
    Returns results.json as a dict, and which `checks` package that Python imports there."""
    import json
    import subprocess
    import sys

    archive.extractall(root / "source")
    shutil.copytree(classifiers, root / "source" / "data" / "classifiers")
    shutil.copytree(submission, root / "submission")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "GAN_"))}
    env.update(GRADESCOPE_ROOT=str(root), GRADESCOPE_PYTHON=sys.executable)
    script = root / "source" / "run_autograder"
    where = subprocess.run([sys.executable, "-c", "import checks; print(checks.__file__)"], cwd=root / "source",
                           env=env, capture_output=True, text=True).stdout.strip()
    proc = subprocess.run(["bash", str(script)], cwd=root.parent, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads((root / "results" / "results.json").read_text()), where, proc.stdout + proc.stderr


def run_autograders(archive, course, students, classifiers):
    """{student: run_autograder's answer} for each of `students` of `course`, two at a time, each in an empty
    folder of its own, deleted afterwards."""
    from concurrent.futures import ThreadPoolExecutor

    def grade(student):
        root = Path(tempfile.mkdtemp(prefix="gradescope-")) / "autograder"
        try:
            return student, run_autograder(archive, course / "submitted" / student / ASSIGNMENT, classifiers, root)
        finally:
            shutil.rmtree(root.parent, ignore_errors=True)

    with ThreadPoolExecutor(2) as pool:
        return dict(pool.map(grade, students))


def test_gradescope_zip_unzipped_alone_grades_as_make_autograde_does(graded, data, gradescope_zip, tmp_path):
    """`make gradescope`'s zip, unpacked into an empty folder and run by its own run_autograder with the repository
    out of reach, grades each submission with exactly make autograde's score, coverage included, in a valid
    results.json, and says nothing of the machine that built it."""
    course, subs, _ = graded
    archive = gradescope_zip
    names = archive.namelist()
    assert {"setup.sh", "run_autograder", "requirements.txt"} <= set(names), names[:10]
    assert archive.getinfo("run_autograder").external_attr >> 16 & stat.S_IXUSR, "run_autograder must be executable"
    assert any(n.startswith(f"course/grader/{ASSIGNMENT}/") and n.endswith(".hidden.npz") for n in names), \
        "the hidden reference travels in the zip"
    assert f"course/grader/{ASSIGNMENT}/{MAIN.module}.py" in names, "the instructor's generator travels in the zip"
    assert not any(n.startswith("course/release/") and "hidden" in n for n in names), "never in the release"
    assert not any(n.startswith("solutions/") for n in names)
    setup = archive.read("setup.sh").decode()
    assert setup.index("apt-get update") < setup.index("apt-get install"), "Gradescope's image needs an update first"
    pins = archive.read("requirements.txt").decode().split()
    assert any(p.startswith("torch==") for p in pins) and not any(">=" in p for p in pins), pins
    results = run_autograders(archive, course, GRADESCOPE_CASES, Path(data["GAN_DATA_DIR"]) / "classifiers")
    for student in GRADESCOPE_CASES:
        sub, (verdict, imported, log) = subs[student], results[student]
        assert str(ROOT) not in imported and imported.endswith("source/checks/__init__.py"), imported
        assert gradescope_problems(verdict) == [], f"{student}: {gradescope_problems(verdict)}"
        expected = 0.0 if sub.ungradable else sum(sub.points.values())
        assert verdict["score"] == expected, f"{student}: Gradescope {verdict['score']}, make autograde {expected}\n{log}"
        shown = json.dumps(verdict)
        for internal in ("/tmp/", "/autograder", str(ROOT), "Traceback", "ImportError", "no such file"):
            assert internal not in shown, f"{student}: {internal!r} in what the student sees: {shown[:2000]}"
        assert "make check" not in shown, "Gradescope students have no `make check`"
        if sub.ungradable:
            assert "Could not be graded" in verdict["output"], verdict["output"]
    coverage = next(t for t in results["untrained_dcgan"][0]["tests"] if t["name"] == "dcgan_coverage")
    assert "digits covered" in coverage["output"] and coverage["status"] == "failed", coverage
    solution = results["solution"][0]["tests"]
    hidden = [t for t in solution if t["visibility"] != "visible"]
    assert hidden and all(t["visibility"] == "after_due_date" for t in hidden), "hidden tests wait for the due date"
    assert all(t["max_score"] == 0 for t in solution if t["name"].endswith(": visible check")), \
        "a visible check alone earns nothing: visible and hidden do"


def test_gradescope_always_leaves_a_results_json(gradescope_zip, tmp_path):
    """Whatever stops the grader (here: no Python where run_autograder expects it), Gradescope gets a results.json
    that says so, never an autograder failure page."""
    import json
    import subprocess

    root = tmp_path / "autograder"
    gradescope_zip.extractall(root / "source")
    (root / "submission").mkdir()
    env = {**os.environ, "GRADESCOPE_ROOT": str(root), "GRADESCOPE_PYTHON": str(tmp_path / "no-python")}
    proc = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True)
    assert proc.returncode == 0
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 0.0 and "could not grade" in results["output"] and gradescope_problems(results) == []


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
        shutil.copy(root / "source" / "course" / "release" / ASSIGNMENT / MAIN.notebook, root / "submission")
        probe = READS_THE_HIDDEN_ANSWERS.format(root=str(base))
        spy = MAIN.solution_file.read_text().replace(
            "    ### BEGIN SOLUTION\n    if seed is not None:",
            "    ### BEGIN SOLUTION\n    if _found:\n        raise RuntimeError(f'LEAKED {_found[:1]}')\n"
            "    if seed is not None:", 1)
        assert "LEAKED" in spy, "the solution's first function changed: update this test"
        (root / "submission" / MAIN.student_file.name).write_text(spy + probe)
        return run(root, MAIN, settings=settings)

    guarded = grade(Settings(time_limit=30, import_limit=20, kind=UserOnly), "user_only")
    shown = " ".join(t["output"] for t in guarded["tests"])
    assert "LEAKED" not in shown, shown
    assert guarded["score"] == 16.0, f"the solution's functions all pass: {shown}"
    exposed = grade(Settings(time_limit=30, import_limit=20, sandboxed=False), "unsandboxed")
    assert "LEAKED" in " ".join(t["output"] for t in exposed["tests"]), "the probe must find them when unguarded"
