"""`make autograde` against a hostile class (tests/hostile_class.py): each case gets exactly what it deserves,
nothing outside the grader's own output changes, no process outlives grading, and the hidden reference
reaches no kernel and no feedback page."""

import csv
import os
import sys

import pytest

from checks.registry import MAIN
from checks.sandbox import Limits, available
from tests.data import mnist_stand_in
from tests.hostile_class import CASES, MARKER, make_class
from tools.autograde import Settings, autograde, fingerprint
from tools.course import main as build_course

pytestmark = pytest.mark.skipif(not available(), reason="bubblewrap is not available: the grader refuses to grade")

ASSIGNMENT = MAIN.assignment
# Short limits: each is hit on purpose by some case.
GRADING = Settings(time_limit=30, import_limit=20, notebook_limit=120, limits=Limits(file_mb=64, processes=200))


def _survivors():
    """Processes of this Python still carrying the hostile marker (another checkout's test run is not ours)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read()
            if MARKER.encode() in command and command.startswith(sys.executable.encode()):
                found.append(pid)
        except OSError:
            pass
    return found


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    data = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GAN_DATA_FROM", str(mnist_stand_in(data)))
        env.setenv("GAN_DATA_DIR", str(data / "torchvision"))
        assert build_course(["--course", str(course), "--cell-timeout", "15", "--lab", "gan_pytorch"]) == 0
        students = make_class(course)
        untouchable = [course / "source", course / "release", course / "grader", course / "submitted"]
        before = fingerprint(untouchable)
        subs = autograde(course, workers=2, settings=GRADING, labs=[MAIN])
        after = fingerprint(untouchable)
    if os.environ.get("HOSTILE_TABLE"):   # the table of the closing note: case, deserved, got, reason
        with open(os.environ["HOSTILE_TABLE"], "w") as out:
            out.write("| case | deserved | got | seconds | reason in the summary |\n|---|---|---|---|---|\n")
            for case, spec in CASES.items():
                sub = next(s for s in subs if s.student == spec.get("student", case))
                got = sub.ungradable and "not graded" or sum(sub.points.values())
                reason = (sub.ungradable or "; ".join(sub.problems)).replace("|", "/")[:220]
                out.write(f"| {case} | {spec.get('points', 'not graded')} | {got} | {sub.seconds:.0f} | {reason} |\n")
    return course, students, {s.student: s for s in subs}, before, after


@pytest.mark.parametrize("case", [c for c in CASES if "ungradable" not in CASES[c]])
def test_each_hostile_case_gets_exactly_what_it_deserves(hostile, case):
    _, _, subs, _, _ = hostile
    sub = subs[case]
    assert not sub.ungradable, sub.ungradable
    report = "; ".join(sub.problems)
    assert sum(sub.points.values()) == CASES[case]["points"], f"{case}: {sub.points} {report}"
    for words in CASES[case].get("problems", []):
        assert words in report, f"{case}: the summary should say {words!r}; it says {report!r}"
    assert "TAMPERING" not in report


@pytest.mark.parametrize("case", [c for c in CASES if "ungradable" in CASES[c]])
def test_an_unusable_student_id_is_listed_and_stops_nobody_else(hostile, case):
    course, _, subs, _, _ = hostile
    shown = CASES[case]["student"]
    sub = subs[shown]
    assert CASES[case]["ungradable"] in sub.ungradable
    rows = list(csv.DictReader(open(course / "grades.csv")))
    assert {r["student"] for r in rows if r["status"] == "graded"} == \
        {c for c in CASES if "ungradable" not in CASES[c]}


def test_no_file_outside_the_graders_output_changed(hostile):
    _, _, _, before, after = hostile
    changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
    assert changed == [], f"grading changed files it must not touch: {changed[:10]}"


def test_no_process_outlives_grading(hostile):
    assert _survivors() == [], "a process started by a submission is still running after grading"


def test_the_hidden_reference_reaches_no_kernel_and_no_feedback(hostile):
    course, _, _, _, _ = hostile
    assert not list((course / "source" / ASSIGNMENT).rglob("*hidden*"))
    for student in ("hidden_reference_hunt", "vandal_module_and_cell"):
        html = (course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
        assert f"{MARKER} FOUND_HIDDEN /" not in html, f"{student}'s notebook found the hidden reference"


def test_a_cell_that_ignores_interrupts_still_leaves_feedback(hostile):
    course, _, _, _, _ = hostile
    assert (course / "feedback" / "cell_ignores_interrupts" / ASSIGNMENT / f"{ASSIGNMENT}.html").exists()

