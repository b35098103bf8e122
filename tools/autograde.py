"""Autograde every submission, write feedback and grades (`make autograde`).

    python -m tools.autograde [--course course] [-j WORKERS]

For each student folder under course/submitted/:

1. Check the submission: the notebook must be valid notebook JSON (else the
   student is listed as "could not be graded", never as 0); nbgrader cell
   metadata that was stripped or edited is restored from the source by cell id.
2. Grade the student's gan_pytorch.py in a guarded process (checks.isolated):
   visible and hidden tests, a time limit, tamper detection, and the digit
   coverage of the submitted DCGAN weights (dcgan_generator.pt). The min-max table is
   read from the answer cell as literal numbers, without running it. The result
   goes to grading_results.json beside the notebook, where the test cells read it.
3. Run `nbgrader autograde` (workers in parallel, each with its own copy of the
   SQLite gradebook, merged into the real one afterwards: SQLite is not safe for
   concurrent writers).
4. Compare nbgrader's scores with the guarded results; where they differ (a test
   cell redefined by the student, a crashed kernel), keep the guarded result and
   flag it.
5. `nbgrader generate_feedback`, then course/grades.csv and a summary table.
"""

import argparse
import ast
import csv
import json
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from checks.coverage import DATASET, WEIGHTS_FILE, ensure_classifier
from checks.isolated import TIME_LIMIT, failed_report, grade_file
from checks.minmax import minmax_status
from checks.reference import ReferenceAnswers
from checks.runner import PASS, STUDENT_FUNCTIONS
from tools.course import ASSIGNMENT, HIDDEN_REFERENCE, NOTEBOOK, STUDENT_MODULE, nbgrader
from tools.release import ROOT


@dataclass
class Submission:
    student: str
    ungradable: str = ""                      # why it could not be graded at all
    problems: list = field(default_factory=list)
    results: dict = field(default_factory=dict)  # function -> (passed, status, message)
    minmax: tuple = ("FAIL", "")
    coverage: tuple = ("FAIL", "")
    score: float = 0.0
    max_score: float = 0.0
    manual_pending: int = 0
    points: dict = field(default_factory=dict)


GRADING_FIELDS = ("grade", "solution", "locked", "grade_id", "points")


def restore_metadata(notebook, released):
    """Put the released notebook's nbgrader metadata back on submitted cells whose grading fields differ.

    Cells are matched by cell id. Returns how many cells were repaired. Deleted
    test cells are re-added by nbgrader itself.
    """
    by_id = {c.get("id"): c.metadata["nbgrader"] for c in released.cells if "nbgrader" in c.metadata}
    repaired = 0
    for cell in notebook.cells:
        wanted = by_id.get(cell.get("id"))
        have = cell.metadata.get("nbgrader", {})
        if wanted is not None and any(have.get(f) != wanted.get(f) for f in GRADING_FIELDS):
            cell.metadata["nbgrader"] = dict(wanted)
            repaired += 1
    return repaired


def read_minmax(notebook, reference):
    """(status, message) of the min-max answer, read as literal numbers (the cell is never run here)."""
    cell = next((c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "minmax_answer"), None)
    if cell is None:
        return "FAIL", "the min-max answer cell is missing"
    values = {}
    try:
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                if node.targets[0].id in ("x_values", "y_values"):
                    values[node.targets[0].id] = ast.literal_eval(node.value)
    except (SyntaxError, ValueError) as e:
        return "FAIL", f"write x_values and y_values as lists of plain numbers ({type(e).__name__})"
    if set(values) != {"x_values", "y_values"}:
        return "FAIL", "x_values and y_values must both be assigned in the answer cell"
    return minmax_status(values["x_values"], values["y_values"], reference)


def prepare(course, student, time_limit):
    """Steps 1 and 2 for one student (no database involved: safe to run in parallel)."""
    folder = course / "submitted" / student / ASSIGNMENT
    sub = Submission(student)
    source_dir = course / "source" / ASSIGNMENT
    path = folder / NOTEBOOK
    if not path.exists():
        sub.ungradable = f"no {NOTEBOOK} in {folder.relative_to(course)}"
        return sub
    try:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
    except Exception as e:  # noqa: BLE001 - any reading error means the same to the instructor
        sub.ungradable = f"{NOTEBOOK} is not a valid notebook ({type(e).__name__}: {str(e).splitlines()[0][:120]})"
        return sub
    repaired = restore_metadata(notebook, nbformat.read(course / "release" / ASSIGNMENT / NOTEBOOK, as_version=4))
    if repaired:
        shutil.copy(path, folder / f"{NOTEBOOK}.as-submitted")  # nothing the student sent is lost
        nbformat.write(notebook, path)
        sub.problems.append(f"nbgrader metadata of {repaired} cells was missing or edited; restored")

    reference = ReferenceAnswers(source_dir / "checks" / "reference_answers.npz")
    module = folder / STUDENT_MODULE
    if module.exists():
        guarded = grade_file(module, {"visible": reference.path, "hidden": source_dir / HIDDEN_REFERENCE},
                             time_limit=time_limit, weights=folder / WEIGHTS_FILE)
    else:
        guarded = failed_report(["visible", "hidden"], f"no {STUDENT_MODULE} in the submission", coverage=True)
    if guarded["error"]:
        sub.problems.append(guarded["error"])
    if guarded["tampered"]:
        sub.problems.append("TAMPERING: replaced " + ", ".join(guarded["tampered"][:5]))
    visible = {r["name"]: r for r in guarded["report"]["visible"]}
    hidden = {r["name"]: r for r in guarded["report"]["hidden"]}
    for name in STUDENT_FUNCTIONS:
        v, h = visible[name], hidden[name]
        passed = v["status"] == PASS and h["status"] == PASS
        status = v["status"] if v["status"] != PASS else ("PASS" if passed else "FAIL (hidden test)")
        sub.results[name] = (passed, status, v["message"])
    sub.minmax = read_minmax(notebook, reference)
    coverage = guarded["coverage"]
    sub.coverage = (coverage["status"], coverage["message"])
    (folder / "grading_results.json").write_text(json.dumps(guarded))  # what the test cells read
    return sub


def autograde_with_nbgrader(course, subs, workers):
    """Step 3: nbgrader autograde, `workers` at a time, each worker on its own gradebook copy."""
    main_db = course / "gradebook.db"
    if workers <= 1:
        for sub in subs:
            _nbgrader_autograde(course, sub, None)
        return
    scratch = course / ".autograde"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    chunks = [subs[k::workers] for k in range(workers)]
    dbs = [scratch / f"worker{k}.db" for k in range(workers)]
    for db in dbs:
        shutil.copy(main_db, db)
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda k: [_nbgrader_autograde(course, s, dbs[k]) for s in chunks[k]], range(workers)))
    for k, chunk in enumerate(chunks):  # one writer at a time
        for sub in chunk:
            if not sub.ungradable:
                _merge(dbs[k], main_db, sub.student)
    shutil.rmtree(scratch)


def _nbgrader_autograde(course, sub, db):
    proc = nbgrader(course, "autograde", ASSIGNMENT, "--student", sub.student, "--force", db=db, check=False)
    if proc.returncode != 0:
        last = [line for line in proc.stderr.splitlines() if "ERROR" in line or "Error" in line][-1:] or ["?"]
        sub.ungradable = f"nbgrader autograde failed: {last[0][:200]}"


def _merge(worker_db, main_db, student):
    """Copy one student's autograde results from a worker's gradebook into the main one."""
    import warnings

    from nbgrader.api import Gradebook

    with warnings.catch_warnings(), Gradebook(f"sqlite:///{worker_db}") as src, \
            Gradebook(f"sqlite:///{main_db}") as dst:
        warnings.simplefilter("ignore")  # SQLAlchemy's notes on nbgrader's own session handling
        submitted = src.find_submission(ASSIGNMENT, student)
        dst.update_or_create_student(student)
        dst.update_or_create_submission(ASSIGNMENT, student, timestamp=submitted.timestamp)
        for nb in submitted.notebooks:
            for grade in nb.grades:
                target = dst.find_grade(grade.name, nb.name, ASSIGNMENT, student)
                target.auto_score, target.needs_manual_grade = grade.auto_score, grade.needs_manual_grade
            for comment in nb.comments:
                dst.find_comment(comment.name, nb.name, ASSIGNMENT, student).auto_comment = comment.auto_comment
            dst.find_submission_notebook(nb.name, ASSIGNMENT, student).flagged = nb.flagged
        dst.db.commit()


def enforce_guarded_results(course, sub):
    """Step 4: the gradebook gets the guarded result for every autograded test; differences are flagged."""
    from nbgrader.api import Gradebook

    notebook = Path(NOTEBOOK).stem
    expected = {f"test_{n}": passed for n, (passed, _, _) in sub.results.items()}
    expected["test_minmax"] = sub.minmax[0] == PASS
    expected["test_dcgan_coverage"] = sub.coverage[0] == PASS
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        differed = []
        for grade_id, passed in expected.items():
            grade = gb.find_grade(grade_id, notebook, ASSIGNMENT, sub.student)
            want = grade.max_score if passed else 0.0
            if grade.auto_score != want:
                differed.append(grade_id[len("test_"):])
                grade.auto_score = want
            sub.points[grade_id[len("test_"):]] = want
        if differed:
            gb.find_submission_notebook(notebook, ASSIGNMENT, sub.student).flagged = True
            sub.problems.append("test cells in the notebook disagreed with the guarded grading for "
                                f"{', '.join(differed)} (tampered test cells or a crashed kernel); "
                                "the guarded result counts")
        gb.db.commit()
        submission = gb.find_submission(ASSIGNMENT, sub.student)
        sub.score, sub.max_score = submission.score, submission.max_score
        sub.manual_pending = sum(1 for nb in submission.notebooks for g in nb.grades
                                 if g.needs_manual_grade and g.manual_score is None)


def summarize(subs):
    """Problems worth an instructor's eye, for each submission: what failed, and why (briefly)."""
    for sub in subs:
        failing = {}
        for name, (passed, status, message) in sub.results.items():
            if passed:
                continue
            reason = (message or "").splitlines()[0] if message else ""
            said = any(reason and reason in p for p in sub.problems)  # e.g. one timeout explains them all
            brief = f"{name} ({reason[:90]})" if status == "FAIL" and reason and not said else name
            failing.setdefault(status, []).append(brief)
        sub.problems += [f"{status.lower()}: {', '.join(names)}" for status, names in failing.items()]
        if sub.results and sub.minmax[0] != PASS:
            sub.problems.append(f"min-max table {sub.minmax[0].lower()}")
        if sub.results and sub.coverage[0] != PASS and not any(sub.coverage[1] in p for p in sub.problems):
            sub.problems.append(f"trained DCGAN {sub.coverage[0].lower()}: {sub.coverage[1].split('. ')[0][:120]}")


def write_csv(path, subs):
    names = list(STUDENT_FUNCTIONS) + ["dcgan_coverage", "minmax"]
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["student", "status", "score", "max_score", "answers_to_grade_by_hand", *names, "problems"])
        for sub in subs:
            if sub.ungradable:
                out.writerow([sub.student, "could not be graded", "", "", "", *[""] * len(names), sub.ungradable])
            else:
                out.writerow([sub.student, "graded", sub.score, sub.max_score, sub.manual_pending,
                              *[sub.points.get(n, "") for n in names], "; ".join(sub.problems)])


def print_summary(subs):
    graded = [s for s in subs if not s.ungradable]
    width = max([len(s.student) for s in subs] + [7])
    print(f"\n{'student':<{width}}  {'score':>6}  {'max':>4}  problems found")
    for sub in graded:
        note = "; ".join(sub.problems) or "none"
        if sub.manual_pending:
            note += f" (+{sub.manual_pending} answers to grade by hand)"
        print(f"{sub.student:<{width}}  {sub.score:>6.1f}  {sub.max_score:>4.0f}  {note}")
    bad = [s for s in subs if s.ungradable]
    if bad:
        print(f"\nCould not be graded ({len(bad)}): fix or ask for a new submission, then run again.")
        for sub in bad:
            print(f"  {sub.student}: {sub.ungradable}")


def _coverage_classifier():
    """Train the coverage check's classifier before grading starts; stop with a clear error without MNIST."""
    from gan_assignment.data import DataUnavailable

    try:
        ensure_classifier()
    except DataUnavailable as e:
        raise SystemExit(f"error: the DCGAN coverage check needs the {DATASET} data set: {e}") from None


def autograde(course, workers=1, time_limit=TIME_LIMIT):
    """Grade every submission under course/submitted; return the Submissions."""
    course = Path(course).resolve()
    students = sorted(p.name for p in (course / "submitted").iterdir() if p.is_dir())
    start = time.perf_counter()
    _coverage_classifier()
    with ThreadPoolExecutor(max(1, workers)) as pool:
        subs = list(pool.map(lambda s: prepare(course, s, time_limit), students))
    gradable = [s for s in subs if not s.ungradable]
    autograde_with_nbgrader(course, gradable, workers)
    for sub in subs:
        if not sub.ungradable:
            enforce_guarded_results(course, sub)
    summarize(subs)
    done = [s for s in subs if not s.ungradable]
    if done:
        nbgrader(course, "generate_feedback", ASSIGNMENT, "--force", check=False)
    write_csv(course / "grades.csv", subs)
    seconds = time.perf_counter() - start
    print_summary(subs)
    print(f"\n{len(done)} graded, {len(subs) - len(done)} not, in {seconds:.0f} s "
          f"({60 * len(subs) / max(seconds, 1e-9):.1f} submissions/min, {workers} worker(s)).")
    print(f"Grades: {course / 'grades.csv'}   Feedback: {course / 'feedback'}/<student>/{ASSIGNMENT}/")
    return subs


def main(argv=None):
    parser = argparse.ArgumentParser(description="Autograde every submission of the GAN assignment.")
    parser.add_argument("--course", default=str(ROOT / "course"), help="the course folder (default: %(default)s)")
    parser.add_argument("-j", "--workers", type=int, default=1, help="submissions graded at once (default: 1)")
    parser.add_argument("--time-limit", type=int, default=TIME_LIMIT,
                        help="seconds allowed to grade one student's functions (default: %(default)s)")
    args = parser.parse_args(argv)
    course = Path(args.course)
    if not (course / "submitted").is_dir():
        print(f"error: {course / 'submitted'} does not exist: run `make release`, then collect submissions "
              "into submitted/<student>/gan/", file=sys.stderr)
        return 2
    subs = autograde(course, args.workers, args.time_limit)
    return 1 if any(s.ungradable for s in subs) else 0


if __name__ == "__main__":
    sys.exit(main())
