"""Autograde every submission, write feedback and grades (`make autograde`).

    python -m tools.autograde [--course course] [-j WORKERS] [--lab LAB]

For each student folder under course/submitted/, and each lab (checks/registry.py)
the student submitted (submitted/<student>/<assignment>/; a required lab not
submitted is listed as "could not be graded"):

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
from checks.registry import CLASSIC, LABS, ROOT, points_for
from checks.runner import PASS
from checks.specs import read_table
from tools.course import hidden_reference_path, module_path, nbgrader


@dataclass
class Submission:
    student: str
    lab: object = CLASSIC                     # the registry's Lab this submission is for
    ungradable: str = ""                      # why it could not be graded at all
    problems: list = field(default_factory=list)
    results: dict = field(default_factory=dict)  # function -> (passed, status, message)
    earned: dict = field(default_factory=dict)   # autograded task -> points (registry.points_for)
    minmax: tuple = None                      # (status, message) of the lab's table task, if it has one
    coverage: tuple = None                    # (status, message) of the lab's weights task, if it has one
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


def read_minmax(notebook, reference, task):
    """(status, message) of the min-max answer, read as literal numbers (the cell is never run here)."""
    cell = next((c for c in notebook.cells
                 if c.metadata.get("nbgrader", {}).get("grade_id") == f"{task.name}_answer"), None)
    if cell is None:
        return "FAIL", "the min-max answer cell is missing"
    try:
        values = read_table([cell], task.spec.names)
    except (SyntaxError, ValueError) as e:
        return "FAIL", f"write {' and '.join(task.spec.names)} as lists of plain numbers ({e})"
    return minmax_status(*(values[n] for n in task.spec.names), reference)


def prepare(course, student, lab, time_limit):
    """Steps 1 and 2 for one student's submission of one lab (no database involved: safe to run in parallel)."""
    folder = course / "submitted" / student / lab.assignment
    sub = Submission(student, lab)
    source_dir = course / "source" / lab.assignment
    path = folder / lab.notebook
    if not path.exists():
        sub.ungradable = f"no {lab.notebook} in {folder.relative_to(course)}"
        return sub
    try:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
    except Exception as e:  # noqa: BLE001 - any reading error means the same to the instructor
        sub.ungradable = f"{lab.notebook} is not a valid notebook ({type(e).__name__}: {str(e).splitlines()[0][:120]})"
        return sub
    repaired = restore_metadata(notebook, nbformat.read(course / "release" / lab.assignment / lab.notebook, as_version=4))
    if repaired:
        shutil.copy(path, folder / f"{lab.notebook}.as-submitted")  # nothing the student sent is lost
        nbformat.write(notebook, path)
        sub.problems.append(f"nbgrader metadata of {repaired} cells was missing or edited; restored")

    reference = ReferenceAnswers(source_dir / "checks" / lab.reference_file.name)
    module = folder / module_path(lab)
    weights = any(t.kind == "weights" for t in lab.tasks)
    if module.exists():
        guarded = grade_file(module, {"visible": reference.path, "hidden": source_dir / hidden_reference_path(lab)},
                             time_limit=time_limit, weights=folder / WEIGHTS_FILE if weights else None, lab=lab)
    else:
        guarded = failed_report(["visible", "hidden"], f"no {module_path(lab)} in the submission",
                                coverage=weights, lab=lab)
    if guarded["error"]:
        sub.problems.append(guarded["error"])
    if guarded["tampered"]:
        sub.problems.append("TAMPERING: replaced " + ", ".join(guarded["tampered"][:5]))
    visible = {r["name"]: r for r in guarded["report"]["visible"]}
    hidden = {r["name"]: r for r in guarded["report"]["hidden"]}
    for name in lab.functions:
        v, h = visible[name], hidden[name]
        sub.earned[name] = points_for(lab.task(name), v["status"], h["status"])
        passed = sub.earned[name] == lab.task(name).points
        status = v["status"] if v["status"] != PASS else ("PASS" if passed else "FAIL (hidden test)")
        sub.results[name] = (passed, status, v["message"])
    coverage = guarded["coverage"]
    for task in lab.tasks:
        if task.kind == "table":
            sub.minmax = read_minmax(notebook, reference, task)
            sub.earned[task.name] = points_for(task, sub.minmax[0])
        elif task.kind == "weights":
            sub.coverage = (coverage["status"], coverage["message"])
            sub.earned[task.name] = points_for(task, sub.coverage[0])
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
                _merge(dbs[k], main_db, sub.student, sub.lab.assignment)
    shutil.rmtree(scratch)


def _nbgrader_autograde(course, sub, db):
    proc = nbgrader(course, "autograde", sub.lab.assignment, "--student", sub.student, "--force", db=db, check=False)
    if proc.returncode != 0:
        last = [line for line in proc.stderr.splitlines() if "ERROR" in line or "Error" in line][-1:] or ["?"]
        sub.ungradable = f"nbgrader autograde failed: {last[0][:200]}"


def _merge(worker_db, main_db, student, assignment):
    """Copy one student's autograde results from a worker's gradebook into the main one."""
    import warnings

    from nbgrader.api import Gradebook

    with warnings.catch_warnings(), Gradebook(f"sqlite:///{worker_db}") as src, \
            Gradebook(f"sqlite:///{main_db}") as dst:
        warnings.simplefilter("ignore")  # SQLAlchemy's notes on nbgrader's own session handling
        submitted = src.find_submission(assignment, student)
        dst.update_or_create_student(student)
        dst.update_or_create_submission(assignment, student, timestamp=submitted.timestamp)
        for nb in submitted.notebooks:
            for grade in nb.grades:
                target = dst.find_grade(grade.name, nb.name, assignment, student)
                target.auto_score, target.needs_manual_grade = grade.auto_score, grade.needs_manual_grade
            for comment in nb.comments:
                dst.find_comment(comment.name, nb.name, assignment, student).auto_comment = comment.auto_comment
            dst.find_submission_notebook(nb.name, assignment, student).flagged = nb.flagged
        dst.db.commit()


def enforce_guarded_results(course, sub):
    """Step 4: the gradebook gets the guarded result for every autograded test; differences are flagged."""
    from nbgrader.api import Gradebook

    lab, assignment = sub.lab, sub.lab.assignment
    notebook = Path(lab.notebook).stem
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        differed = []
        for name, points in sub.earned.items():
            grade = gb.find_grade(f"test_{name}", notebook, assignment, sub.student)
            if grade.auto_score != points:
                differed.append(name)
                grade.auto_score = float(points)
            sub.points[name] = float(points)
        if differed:
            gb.find_submission_notebook(notebook, assignment, sub.student).flagged = True
            sub.problems.append("test cells in the notebook disagreed with the guarded grading for "
                                f"{', '.join(differed)} (tampered test cells or a crashed kernel); "
                                "the guarded result counts")
        gb.db.commit()
        submission = gb.find_submission(assignment, sub.student)
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
        if sub.results and sub.minmax and sub.minmax[0] != PASS:
            sub.problems.append(f"min-max table {sub.minmax[0].lower()}")
        if sub.results and sub.coverage and sub.coverage[0] != PASS \
                and not any(sub.coverage[1] in p for p in sub.problems):
            sub.problems.append(f"trained DCGAN {sub.coverage[0].lower()}: {sub.coverage[1].split('. ')[0][:120]}")


def write_csv(path, subs):
    """One row per student and lab: status, score, the points of every graded task, and what went wrong."""
    names = list(dict.fromkeys(t.name for sub in subs for t in sub.lab.tasks if t.kind != "written"))
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["student", "assignment", "status", "score", "max_score", "answers_to_grade_by_hand",
                      *names, "problems"])
        for sub in subs:
            if sub.ungradable:
                out.writerow([sub.student, sub.lab.assignment, "could not be graded", "", "", "",
                              *[""] * len(names), sub.ungradable])
            else:
                out.writerow([sub.student, sub.lab.assignment, "graded", sub.score, sub.max_score, sub.manual_pending,
                              *[sub.points.get(n, "") for n in names], "; ".join(sub.problems)])


def print_summary(subs):
    graded = [s for s in subs if not s.ungradable]
    several = len({s.lab.name for s in subs}) > 1
    label = {id(s): f"{s.student} ({s.lab.assignment})" if several else s.student for s in subs}
    width = max([len(label[id(s)]) for s in subs] + [7])
    print(f"\n{'student':<{width}}  {'score':>6}  {'max':>4}  problems found")
    for sub in graded:
        note = "; ".join(sub.problems) or "none"
        if sub.manual_pending:
            note += f" (+{sub.manual_pending} answers to grade by hand)"
        print(f"{label[id(sub)]:<{width}}  {sub.score:>6.1f}  {sub.max_score:>4.0f}  {note}")
    bad = [s for s in subs if s.ungradable]
    if bad:
        print(f"\nCould not be graded ({len(bad)}): fix or ask for a new submission, then run again.")
        for sub in bad:
            print(f"  {label[id(sub)]}: {sub.ungradable}")


def _coverage_classifier():
    """Train the coverage check's classifier before grading starts; stop with a clear error without MNIST."""
    from gan_assignment.data import DataUnavailable

    try:
        ensure_classifier()
    except DataUnavailable as e:
        raise SystemExit(f"error: the DCGAN coverage check needs the {DATASET} data set: {e}") from None


def submissions(course, labs):
    """(student, lab) for every lab folder submitted; a required lab not submitted is listed as ungradable."""
    found, missing = [], []
    for student in sorted(p.name for p in (course / "submitted").iterdir() if p.is_dir()):
        for lab in labs:
            if (course / "submitted" / student / lab.assignment).is_dir():
                found.append((student, lab))
            elif lab.required:
                missing.append(Submission(student, lab, ungradable=f"no {lab.assignment}/ folder was submitted"))
    return found, missing


def autograde(course, workers=1, time_limit=TIME_LIMIT, labs=None):
    """Grade every submission under course/submitted (every lab, or `labs`); return the Submissions."""
    course = Path(course).resolve()
    labs = list(labs or LABS.values())
    found, missing = submissions(course, labs)
    start = time.perf_counter()
    if any(t.kind == "weights" for _, lab in found for t in lab.tasks):
        _coverage_classifier()
    with ThreadPoolExecutor(max(1, workers)) as pool:
        subs = list(pool.map(lambda pair: prepare(course, pair[0], pair[1], time_limit), found)) + missing
    gradable = [s for s in subs if not s.ungradable]
    autograde_with_nbgrader(course, gradable, workers)
    for sub in subs:
        if not sub.ungradable:
            enforce_guarded_results(course, sub)
    summarize(subs)
    done = [s for s in subs if not s.ungradable]
    for lab in labs:
        if any(s.lab is lab for s in done):
            nbgrader(course, "generate_feedback", lab.assignment, "--force", check=False)
    write_csv(course / "grades.csv", subs)
    seconds = time.perf_counter() - start
    print_summary(subs)
    print(f"\n{len(done)} graded, {len(subs) - len(done)} not, in {seconds:.0f} s "
          f"({60 * len(subs) / max(seconds, 1e-9):.1f} submissions/min, {workers} worker(s)).")
    print(f"Grades: {course / 'grades.csv'}   Feedback: {course / 'feedback'}/<student>/<assignment>/")
    return subs


def main(argv=None):
    parser = argparse.ArgumentParser(description="Autograde every submission of every lab.")
    parser.add_argument("--course", default=str(ROOT / "course"), help="the course folder (default: %(default)s)")
    parser.add_argument("--lab", choices=sorted(LABS), default=None, help="grade one lab (default: every lab)")
    parser.add_argument("-j", "--workers", type=int, default=1, help="submissions graded at once (default: 1)")
    parser.add_argument("--time-limit", type=int, default=TIME_LIMIT,
                        help="seconds allowed to grade one student's functions (default: %(default)s)")
    args = parser.parse_args(argv)
    course = Path(args.course)
    if not (course / "submitted").is_dir():
        print(f"error: {course / 'submitted'} does not exist: run `make release`, then collect submissions "
              "into submitted/<student>/<assignment>/", file=sys.stderr)
        return 2
    subs = autograde(course, args.workers, args.time_limit, labs=[LABS[args.lab]] if args.lab else None)
    return 1 if any(s.ungradable for s in subs) else 0


if __name__ == "__main__":
    sys.exit(main())
