"""`make release` and `make autograde` on a synthetic class: every case gets its exact score and reason."""

import csv

import pytest

from tests.data import mnist_stand_in
from tests.synthetic_class import CASES, COLLAPSE_CASES, make_class
from tools.autograde import Settings, autograde
from checks.registry import CLASSIC
from tools.course import hidden_reference_path, main as build_course, leaks

ASSIGNMENT = CLASSIC.assignment
GRADING = Settings(time_limit=30, import_limit=20, notebook_limit=300)   # shorter than a course's: tests wait on them


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    data = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as env:   # the coverage check's digit classifier trains on real digits
        env.setenv("GAN_DATA_FROM", str(mnist_stand_in(data)))
        env.setenv("GAN_DATA_DIR", str(data / "torchvision"))
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
