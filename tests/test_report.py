"""`make report`: the class at a glance. Common causes add up across students, similar submissions are found
(planted copies, and only they), and the page renders offline in a real browser.

The classes here are built without running `make autograde` (which tests/test_autograde.py runs, with a
report at its end): each student's record (results/<assignment>/<student>.json) is written from `make check`'s results of their module, in
the format autograde writes (tools/autograde.py: results_record).
"""

import ast
import csv
import html
import json
import shutil


from checks.causes import cause_of
from checks.registry import MAIN
from checks.runner import run_checks
from tests.conftest import ROOT, SOLUTION_FILE, edit_function
from tools import similarity
from tools.autograde import results_path
from tools.course import module_path
from tools.report import main as make_report, similar_pairs, submitted_modules

STYLES = ROOT / "tests" / "student_styles"
SOLUTION = SOLUTION_FILE.read_text()
STUB = (ROOT / "gan_assignment" / "gan_pytorch.py").read_text()


def new_course(tmp_path):
    """A course folder holding the release's template, as `make release` leaves it."""
    course = tmp_path / "course"
    template = course / "release" / MAIN.assignment / module_path(MAIN)
    template.parent.mkdir(parents=True)
    template.write_text(STUB)
    return course


def submit_module(course, student, source):
    module = course / "submitted" / student / MAIN.assignment / module_path(MAIN)
    module.parent.mkdir(parents=True)
    module.write_text(source)


CHECKED = ["discriminator", "bce_loss", "generator_loss"]   # the functions these classes are checked on (time)


def submit(course, student, source):
    """submitted/<student>/<assignment>/<module>, and the grader's record of it (from `make check`'s results
    of the CHECKED functions)."""
    submit_module(course, student, source)
    module = course / "submitted" / student / MAIN.assignment / module_path(MAIN)
    results = run_checks(module, CHECKED, reference=MAIN.answers())
    tasks = [{"name": r.name, "kind": "function", "points": MAIN.task(r.name).points,
              "earned": MAIN.task(r.name).points if r.passed else 0, "status": r.status, "message": r.message,
              "notes": r.notes, "cause": (c := cause_of(r.name, r.status, r.message)) and vars(c)} for r in results]
    record = {"student": student, "assignment": MAIN.assignment, "graded": True, "tasks": tasks,
              "score": sum(t["earned"] for t in tasks), "max_score": sum(t["points"] for t in tasks),
              "manual_pending": 0, "coverage": None, "limits": [], "error": None, "problems": [],
              "notebook_ran": True, "seconds": 1.0}
    target = results_path(course, MAIN.assignment, student)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(record))


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# ---------------------------------------------------------------------------
# Causes
# ---------------------------------------------------------------------------

RELU_FIRST = ("discriminator", "nn.Linear(IMAGE_DIM, 256),\n        nn.LeakyReLU(0.01)",
              "nn.Linear(IMAGE_DIM, 256),\n        nn.ReLU()")
RELU_SECOND = ("discriminator", "nn.Linear(256, 256),\n        nn.LeakyReLU(0.01)", "nn.Linear(256, 256),\n        nn.ReLU()")
TARGET_ZERO = ("generator_loss", "torch.ones_like(logits_fake)", "torch.zeros_like(logits_fake)")
SUM = ("bce_loss", "loss.mean()", "loss.sum()")


def test_the_three_shared_mistakes_top_the_causes_with_their_counts(tmp_path):
    """5 students put a ReLU where a LeakyReLU belongs (at two different layers: one cause), 3 give the
    generator target 0, 2 sum the cross-entropy; 2 are right. The page and causes.csv list exactly these."""
    course = new_course(tmp_path)
    class_ = [RELU_FIRST] * 3 + [RELU_SECOND] * 2 + [TARGET_ZERO] * 3 + [SUM] * 2 + [None] * 2
    for i, mistake in enumerate(class_):
        submit(course, f"s{i:02d}", edit_function(SOLUTION, *mistake) if mistake else SOLUTION)
    assert make_report(["--course", str(course), "--lab", MAIN.name]) == 0
    out = course / "reports" / MAIN.assignment
    causes = rows(out / "causes.csv")
    top = [(c["task"], int(c["students"])) for c in causes[:3]]
    assert top == [("discriminator", 5), ("generator_loss", 3), ("bce_loss", 2)], causes
    assert "ReLU() where the reference applies LeakyReLU" in causes[0]["title"]
    assert "target 1" in causes[1]["title"] and ".mean(), not .sum()" in causes[2]["title"], causes[1:3]
    assert all(c["cause"].startswith(f"{c['task']}:") for c in causes)
    page = (out / "index.html").read_text()
    assert html.escape(causes[0]["title"]) in page and "What went wrong most often" in page
    scores = rows(out / "scores.csv")
    assert len(scores) == len(class_) and {s["student"] for s in scores} == {f"s{i:02d}" for i in range(12)}
    assert [int(float(s["bce_loss"])) for s in scores] == [0 if m == SUM else 2 for m in class_]
    # A passage that most of a class shares counts as dictated by the specification: these twelve files are the
    # one solution with one slip each, so none of them is flagged (KNOWN=... finds a shared source).
    assert rows(out / "similarity.csv") == []


def test_a_cause_names_the_slip_whatever_the_students_numbers():
    first = cause_of("bce_loss", "FAIL", "bce_loss(<input of shape (5,)>) returned 5.16569, expected 1.03314. Your "
                     "value is 5 times too large on a batch of 5: average with .mean(), not .sum().")
    other = cause_of("bce_loss", "FAIL", "bce_loss(<input of shape (7,)>) returned 7.2, expected 1.0286. Your value "
                     "is 7 times too large on a batch of 7: average with .mean(), not .sum().")
    assert first == other or (first.id == other.id)
    assert first.title.startswith("Your value is 5 times too large")
    assert cause_of("bce_loss", "PASS", "") is None
    assert cause_of("bce_loss", "NOT IMPLEMENTED", "x").id == "bce_loss:not-implemented"


# ---------------------------------------------------------------------------
# Similarity
# ---------------------------------------------------------------------------

class Renamer(ast.NodeTransformer):
    """A copier's disguise: every variable and argument gets another name."""
    KEEP = {"torch", "nn", "F", "np", "math", "optim", "range", "len", "super", "self", "print", "float", "int",
            "dtype", "NOISE_DIM", "Flatten", "Unflatten", "IMAGE_DIM"}

    def __init__(self):
        self.names = {}

    def new(self, name):
        if name in self.KEEP or name[0].isupper():
            return name
        return self.names.setdefault(name, f"{name[0]}{len(self.names)}x")

    def visit_Name(self, node):
        node.id = self.new(node.id)
        return node

    def visit_arg(self, node):
        node.arg = self.new(node.arg)
        return node


def disguised(source):
    """The classmate's file with every variable renamed, the functions in reverse order and new comments."""
    tree = ast.parse(source)
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    rest = [n for n in tree.body if n not in defs]
    tree.body = rest + defs[::-1]
    renamer = Renamer()
    # the functions the checks call, and their arguments (called by keyword), keep their names
    renamer.KEEP = Renamer.KEEP | {n.name for n in defs} | {a.arg for n in defs if isinstance(n, ast.FunctionDef)
                                                            for a in n.args.args + n.args.kwonlyargs}
    code = ast.unparse(renamer.visit(tree))
    return "\n".join(line + ("  # my own work" if line.startswith("def ") else "") for line in code.splitlines())


def lightly_edited(source):
    """A known solution with a comment, two names changed and a loss written slightly differently."""
    return ("# GAN assignment, my solution\n" + source.replace("logits_real", "real_logits")
            .replace("logits_fake", "fake_logits"))


def similarity_class(tmp_path):
    """The independent solutions of tests/student_styles as a class, one of them copied (disguised) by a classmate,
    and one held back as a known solution that a student submits lightly edited: (known folder, {student: source})."""
    known_file = STYLES / "y2024_functional_bce.py"
    known = tmp_path / "known"
    known.mkdir()
    shutil.copy(known_file, known / known_file.name)
    students = {p.stem: p.read_text() for p in sorted(STYLES.glob("*.py")) if p != known_file}
    students["copier"] = disguised(students["y2021_gan_pytorch_py"])
    students["from_github"] = lightly_edited(known_file.read_text())
    return known, students


def test_planted_copies_are_flagged_and_no_pair_of_independent_solutions(tmp_path):
    course, (known, students) = new_course(tmp_path), similarity_class(tmp_path)
    for student, source in students.items():
        submit_module(course, student, source)
    pairs, documents, common, _ = similar_pairs(course, MAIN, submitted_modules(course, MAIN, students), known)
    flagged = {frozenset((p.a, p.b)) for p in pairs}
    assert flagged == {frozenset(("copier", "y2021_gan_pytorch_py")),
                       frozenset(("from_github", "known:y2024_functional_bce.py"))}, pairs
    # The margins, on both sides of the threshold (calibration: docs/grading.md).
    everything, _ = similarity.compare([d for d in documents.values()], threshold=0.0)
    planted = {frozenset(("copier", "y2021_gan_pytorch_py")), frozenset(("from_github", "known:y2024_functional_bce.py"))}
    independent = max(p.similarity for p in everything if frozenset((p.a, p.b)) not in planted)
    copies = min(p.similarity for p in everything if frozenset((p.a, p.b)) in planted)
    assert independent <= similarity.THRESHOLD - 0.1 and copies >= similarity.THRESHOLD + 0.1, (independent, copies)


def test_the_template_alone_makes_no_one_alike(tmp_path):
    """Students who submit the untouched stub, or only the stub's skeleton, share nothing that counts."""
    course = new_course(tmp_path)
    students = [f"s{i}" for i in range(6)]
    for student in students:
        submit_module(course, student, STUB)
    pairs, documents, _, _ = similar_pairs(course, MAIN, submitted_modules(course, MAIN, students))
    assert pairs == [] and all(not d.hashes for d in documents.values())


def test_what_cannot_be_read_is_said_not_compared(tmp_path):
    course = new_course(tmp_path)
    for student, source in (("broken", "def f(:\n"), ("deep", "x = " + "(" * 5000 + ")" * 5000), ("ok", SOLUTION)):
        submit_module(course, student, source)
    _, documents, _, _ = similar_pairs(course, MAIN, submitted_modules(course, MAIN, ["broken", "deep", "ok"]))
    assert documents["broken"].error and documents["deep"].error and not documents["ok"].error


def test_links_odd_files_and_namesakes_are_handled(tmp_path):
    """A student's folder that links elsewhere is not read (it could make an innocent student look like a copy);
    known solutions that share a file name stay apart; a malformed notebook in KNOWN is skipped; a record of a
    student no longer in submitted/ is not shown."""
    course = new_course(tmp_path)
    outside = tmp_path / "outside" / "gan_assignment"
    outside.mkdir(parents=True)
    (outside / "gan_pytorch.py").write_text(SOLUTION)
    (course / "submitted" / "linker" / MAIN.assignment).mkdir(parents=True)
    (course / "submitted" / "linker" / MAIN.assignment / "gan_assignment").symlink_to(outside)
    submit_module(course, "honest", SOLUTION)
    known = tmp_path / "known"
    for folder, source in (("a", (STYLES / "y2021_gan_pytorch_py.py").read_text()),
                           ("b", (STYLES / "y2022_seeded_modules.py").read_text())):
        (known / folder).mkdir(parents=True)
        (known / folder / "gan_pytorch.py").write_text(source)
    (known / "broken.ipynb").write_text('{"cells": [{"cell_type": "code", "source": 5}]}')
    modules = submitted_modules(course, MAIN, ["linker", "honest"])
    _, documents, _, _ = similar_pairs(course, MAIN, modules, known)
    assert "linker" not in documents and "honest" in documents
    assert {"known:a/gan_pytorch.py", "known:b/gan_pytorch.py"} <= set(documents)
    submit(course, "gone", SOLUTION)
    shutil.rmtree(course / "submitted" / "gone")
    submit(course, "here", SOLUTION)
    assert make_report(["--course", str(course), "--lab", MAIN.name]) == 0
    assert [r["student"] for r in rows(course / "reports" / MAIN.assignment / "scores.csv")] == ["here"]


def test_submissions_graded_elsewhere_get_their_similarity(tmp_path):
    """A Gradescope export, unzipped: one folder per submission, the module somewhere inside."""
    _, students = similarity_class(tmp_path)
    export = tmp_path / "export"
    for i, (student, source) in enumerate(students.items()):
        module = export / f"submission_{1000 + i}" / ("gan_assignment" if i % 2 else "") / "gan_pytorch.py"
        module.parent.mkdir(parents=True, exist_ok=True)
        module.write_text(source)
    names = {f"submission_{1000 + i}": s for i, s in enumerate(students)}
    course = tmp_path / "course"   # no course: the template is this kit's stub
    assert make_report(["--course", str(course), "--lab", MAIN.name, "--exported", str(export)]) == 0
    out = course / "reports" / MAIN.assignment
    flagged = [{names[r["student_a"]], names[r["student_b"]]} for r in rows(out / "similarity.csv")]
    assert flagged == [{"copier", "y2021_gan_pytorch_py"}], flagged
    page = (out / "index.html").read_text()
    assert "graded elsewhere" in page and "<h2>Scores</h2>" not in page
    assert make_report(["--course", str(course), "--exported", str(export)]) == 2, "which lab? must be asked"


# ---------------------------------------------------------------------------
# The page, in a browser
# ---------------------------------------------------------------------------

def test_the_page_renders_offline_in_a_real_browser(tmp_path):
    from tests.browser import TEST_ARTEFACTS, chromium

    course, (known, students) = new_course(tmp_path), similarity_class(tmp_path)
    for student, source in students.items():
        submit(course, student, source)
    assert make_report(["--course", str(course), "--lab", MAIN.name, "--known", str(known)]) == 0
    page = course / "reports" / MAIN.assignment / "index.html"
    text = page.read_text()
    assert "http://" not in text and "https://" not in text and "<script" not in text, "the page must need no network"
    artefacts = TEST_ARTEFACTS / "report"
    artefacts.mkdir(parents=True, exist_ok=True)
    with chromium(width=1200, height=1600) as driver:
        driver.get(page.as_uri())
        assert driver.title.endswith(": the class")
        loaded = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert all(name.startswith("data:") for name in loaded), loaded
        images = driver.execute_script("return [...document.images].map(i => [i.naturalWidth, i.alt])")
        assert images and all(width > 0 for width, _ in images), images
        marks = driver.execute_script("return document.querySelectorAll('.pair mark').length")
        assert marks > 0, "the similar pair's shared passages must be highlighted"
        driver.save_screenshot(str(artefacts / "index.png"))
