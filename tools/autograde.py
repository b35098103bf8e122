"""Autograde every submission, write feedback and grades (`make autograde`).

    python -m tools.autograde [--course course] [-j WORKERS] [--lab LAB] [--unsafe-no-sandbox]

For each student folder under course/submitted/, and each lab (checks/registry.py)
the student submitted (submitted/<student>/<assignment>/; a required lab not
submitted is listed as "could not be graded"):

1. Take the submission in: the student id must be a plain name (letters,
   digits, `. _ @ + -`, not starting with `-`); the folder is copied into a
   fresh staging folder without following links (symbolic links, devices and
   pipes are refused, with the reason in the summary). Nothing is ever written
   into submitted/. The notebook must be valid notebook JSON (else "could not be
   graded", never 0); nbgrader cell metadata that was stripped or edited is
   restored in the staged copy from the release, by cell id.
2. Grade the functions (checks.isolated): the student's module runs in a
   sandboxed worker (checks/sandbox.py) against blind references, and this
   process decides every verdict against the visible and the hidden reference
   (course/grader/, which no sandbox can see). The min-max table is read from
   the answer cell as literal numbers; the DCGAN coverage check samples the
   submitted weights with the instructor's generator.
3. Run the notebook with `nbgrader autograde` for the feedback page, inside a
   sandbox that sees only a scratch copy of that one student's course: the
   release's files, a gradebook holding no other student, the staged submission
   and the grader's results (visible messages; only pass/fail of hidden tests).
   Its scores decide nothing: where its test cells disagree with step 2 (a test
   cell redefined by the student, a crashed kernel), the submission is flagged.
   If it cannot run to the end (an endless cell that ignores interrupts), the
   grades still stand and the feedback shows the notebook as submitted.
4. Write every grade into the gradebook from step 2 (free-text answers await a
   human), `nbgrader generate_feedback`, course/grades.csv, each submission's
   results/<assignment>/<student>.json (what `make report` reads) and a summary.
5. Check that nothing outside the grader's own output changed: the checks, the
   course's source/, release/, grader/ and submitted/ are hashed before and after.
"""

import argparse
import csv
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from checks.causes import cause_of
from checks.core.lab import points_for
from checks.core.status import FAIL, PASS
from checks.core.table import read_table
from checks.coverage import ensure_classifier
from checks.isolated import GRADING_TIME_LIMIT, IMPORT_LIMIT, failed_report, grade_file
from checks.registry import LABS
from checks.sandbox import INSTALL_HINT, Limits, Sandbox, available, remove, start, stop
from gan_assignment.provided.data import DataUnavailable
from gan_assignment.provided.modules import PROJECT
from tools.course import hidden_reference, instructor_module, module_path, nbgrader

STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}")
NOTEBOOK_LIMIT = 900            # seconds for one notebook's whole nbgrader run (each cell also has its own limit)
FILE_CAP = 200 * 2 ** 20        # bytes of one submitted file
SUBMISSION_CAP = 1024 * 2 ** 20  # bytes of one submission
ENTRIES_CAP = 5000              # files and folders in one submission


@dataclass
class Settings:
    """How grading runs: time limits and the sandbox (None: unsafe, no sandbox)."""
    time_limit: int = GRADING_TIME_LIMIT               # seconds per function
    import_limit: int = IMPORT_LIMIT           # seconds to import a student's module
    notebook_limit: int = NOTEBOOK_LIMIT       # seconds per notebook run
    limits: Limits = field(default_factory=Limits)
    sandboxed: bool = True
    kind: type = Sandbox                       # checks.sandbox.UserOnly where bubblewrap cannot work

    def sandbox(self, **kwargs):
        return self.kind(limits=self.limits, **kwargs) if self.sandboxed else None


@dataclass
class Submission:
    student: str
    lab: object                               # the registry's Lab this submission is for
    ungradable: str = ""                      # why it could not be graded at all
    problems: list = field(default_factory=list)
    results: dict = field(default_factory=dict)  # function -> (passed, status, message)
    earned: dict = field(default_factory=dict)   # autograded task -> points (checks.core.lab.points_for)
    table: tuple = None                       # (status, message) of the lab's table task, if it has one
    coverage: tuple = None                    # (status, message) of the lab's weights task, if it has one
    written: dict = field(default_factory=dict)  # written task -> answered (changed from the release)?
    score: float = 0.0
    max_score: float = 0.0
    manual_pending: int = 0
    points: dict = field(default_factory=dict)
    staged: Path = None                       # the grader's copy of the submission
    guarded: dict = None                      # grade_file's report
    notebook_scores: dict = None              # what the notebook's own test cells scored (None: it did not run)
    seconds: float = 0.0


GRADING_FIELDS = ("grade", "solution", "locked", "grade_id", "points")


# ---------------------------------------------------------------------------
# 1. Taking a submission in
# ---------------------------------------------------------------------------

def valid_student_id(name):
    """A name nbgrader and a shell take literally: no glob characters, separators or leading '-'."""
    return bool(STUDENT_ID.fullmatch(name)) and name not in (".", "..")


def safe_copy(source, target, refused):
    """Copy the folder `source` into the new folder `target` without following links.

    Only regular files and folders are copied; anything else (symbolic links,
    devices, pipes, sockets) and anything beyond the size caps is left out, with
    a reason appended to `refused`.
    """
    target.mkdir(parents=True)
    total, entries = 0, 0
    stack = [(source, target)]
    while stack:
        src_dir, dst_dir = stack.pop()
        with os.scandir(src_dir) as listing:
            for entry in sorted(listing, key=lambda e: e.name):
                entries += 1
                relative = os.path.relpath(entry.path, source)
                info = entry.stat(follow_symlinks=False)
                if entries > ENTRIES_CAP:
                    refused.append(f"more than {ENTRIES_CAP} files: the rest was not read")
                    return
                if stat.S_ISLNK(info.st_mode):
                    refused.append(f"refused {relative}: a symbolic link (submit the file itself)")
                elif stat.S_ISDIR(info.st_mode):
                    (dst_dir / entry.name).mkdir()
                    stack.append((Path(entry.path), dst_dir / entry.name))
                elif not stat.S_ISREG(info.st_mode):
                    refused.append(f"refused {relative}: not a regular file")
                elif info.st_size > FILE_CAP or total + info.st_size > SUBMISSION_CAP:
                    refused.append(f"refused {relative}: too large ({info.st_size >> 20} MB)")
                else:
                    total += info.st_size
                    _copy_regular(entry.path, dst_dir / entry.name)


def _copy_regular(src, dst):
    """Copy one regular file, refusing a link swapped in since it was listed; the copy is a new file."""
    fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{src} is not a regular file")
        with os.fdopen(fd, "rb") as f_in, open(dst, "xb") as f_out:
            fd = None
            shutil.copyfileobj(f_in, f_out, 1 << 20)
    finally:
        if fd is not None:
            os.close(fd)


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


def read_table_answer(notebook, reference, task):
    """(status, message) of the answer table `task`, read as literal numbers (the cell is never run here)."""
    cell = next((c for c in notebook.cells
                 if c.metadata.get("nbgrader", {}).get("grade_id") == f"{task.name}_answer"), None)
    if cell is None:
        return FAIL, f"the {task.name} answer cell is missing"
    try:
        values = read_table([cell], task.spec.names)
    except ValueError as e:
        return FAIL, f"write {' and '.join(task.spec.names)} as lists of plain numbers ({e})"
    return task.spec.status(task.name, values, reference)


def answered(notebook, released, task):
    """True when the free-text answer of `task` differs from the released placeholder."""
    def source(nb):
        cell = next((c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == task.name), None)
        return None if cell is None else cell.source.strip()
    mine = source(notebook)
    return mine is not None and mine != source(released) and mine != ""


# ---------------------------------------------------------------------------
# 2. Grading the functions, the table and the weights
# ---------------------------------------------------------------------------

def prepare(course, student, lab, staging, settings):
    """Steps 1 and 2 for one student's submission of one lab (no database involved: safe in parallel)."""
    start = time.perf_counter()
    sub = Submission(student, lab)
    folder = course / "submitted" / student / lab.assignment
    sub.staged = staging / student / lab.assignment
    refused = []
    try:
        safe_copy(folder, sub.staged, refused)
    except OSError as e:
        sub.ungradable = f"the submission could not be read ({type(e).__name__}: {e})"
        return sub
    sub.problems += refused
    path = sub.staged / lab.notebook
    if not path.is_file():
        sub.ungradable = f"no {lab.notebook} in submitted/{student}/{lab.assignment}"
        return sub
    try:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
    except Exception as e:  # noqa: BLE001 - any reading error means the same to the instructor
        sub.ungradable = f"{lab.notebook} is not a valid notebook ({type(e).__name__}: {str(e).splitlines()[0][:120]})"
        return sub
    released = nbformat.read(course / "release" / lab.assignment / lab.notebook, as_version=4)
    repaired = restore_metadata(notebook, released)
    if repaired:
        nbformat.write(notebook, path)   # the staged copy: submitted/ keeps what the student sent
        sub.problems.append(f"nbgrader metadata of {repaired} cells was missing or edited; restored")

    visible = course / "release" / lab.assignment / "checks" / "references" / lab.reference_file.name
    reference = lab.answers(visible)
    module = sub.staged / module_path(lab)
    weights = lab.tasks_of("weights")
    if module.is_file():
        sub.guarded = grade_file(module, {"visible": visible, "hidden": hidden_reference(course, lab)}, lab,
                                 time_limit=settings.time_limit, import_limit=settings.import_limit,
                                 sandbox=settings.sandbox(), kit=course / "release" / lab.assignment,
                                 weights=(sub.staged / weights[0].spec.file) if weights else None,
                                 builder=instructor_module(course, lab))
    else:
        sub.guarded = failed_report(["visible", "hidden"], f"no {module_path(lab)} in the submission", lab,
                                    coverage=bool(weights))
    if sub.guarded["error"]:
        sub.problems.append(sub.guarded["error"])
    if sub.guarded.get("limits"):
        sub.problems.append("limits hit: " + ", ".join(dict.fromkeys(sub.guarded["limits"])))
    visible = {r["name"]: r for r in sub.guarded["report"]["visible"]}
    hidden = {r["name"]: r for r in sub.guarded["report"]["hidden"]}
    for name in lab.functions:
        v, h = visible[name], hidden[name]
        sub.earned[name] = points_for(lab.task(name), v["status"], h["status"])
        passed = sub.earned[name] == lab.task(name).points
        status = v["status"] if v["status"] != PASS else (PASS if passed else f"{FAIL} (hidden test)")
        sub.results[name] = (passed, status, v["message"])
    coverage = sub.guarded["coverage"]
    for task in lab.tasks:
        if task.kind == "table":
            sub.table = read_table_answer(notebook, reference, task)
            sub.earned[task.name] = points_for(task, sub.table[0])
        elif task.kind == "weights":
            sub.coverage = (coverage["status"], coverage["message"])
            sub.earned[task.name] = points_for(task, sub.coverage[0])
        elif task.kind == "written":
            sub.written[task.name] = answered(notebook, released, task)
    sub.seconds = time.perf_counter() - start
    return sub


def kernel_results(guarded):
    """What the notebook's test cells may read: visible results; of the hidden tests, pass or fail only."""
    hidden = [{"name": r["name"], "status": r["status"], "message": "", "notes": []}
              for r in guarded["report"].get("hidden", [])]
    coverage = guarded.get("coverage")
    return {"report": {"visible": guarded["report"]["visible"], "hidden": hidden},
            "coverage": coverage and {"status": coverage["status"], "message": coverage["message"], "report": None}}


# ---------------------------------------------------------------------------
# 3. Running the notebook for the feedback, sandboxed
# ---------------------------------------------------------------------------

def template_gradebook(course, folder):
    """A copy of the gradebook with the assignments and no student: what a notebook's sandbox gets."""
    import warnings

    from nbgrader.api import Gradebook

    path = folder / "template.db"
    shutil.copy(course / "gradebook.db", path)
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{path}") as gb:
        warnings.simplefilter("ignore")
        for student in [s.id for s in gb.students]:
            gb.remove_student(student)
    return path


def run_notebook(course, sub, template, scratch_root, settings):
    """`nbgrader autograde` of one staged submission in a sandboxed scratch course; the autograded
    notebook goes to course/autograded/<student>/<assignment>/. Sets sub.notebook_scores."""
    lab, student = sub.lab, sub.student
    scratch = Path(tempfile.mkdtemp(prefix=f"{student}-", dir=scratch_root))
    shutil.copy(course / "nbgrader_config.py", scratch / "nbgrader_config.py")
    shutil.copy(template, scratch / "gradebook.db")
    shutil.copytree(course / "release" / lab.assignment, scratch / "source" / lab.assignment,
                    ignore=shutil.ignore_patterns("*.ipynb", "__pycache__"))
    submitted = scratch / "submitted" / student / lab.assignment
    shutil.copytree(sub.staged, submitted)
    (submitted / "grading_results.json").write_text(json.dumps(kernel_results(sub.guarded)))
    command = [sys.executable, "-m", "nbgrader", "autograde", lab.assignment, "--student", student, "--force"]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    log = scratch / "nbgrader.log"
    with open(log, "wb") as out:
        proc = start(settings.sandbox(writable=scratch, cwd=scratch), command, env, cwd=scratch,
                     stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        try:
            code = proc.wait(timeout=settings.notebook_limit)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            stop(proc)
    if proc.disk_exceeded:
        sub.problems.append(f"limits hit: the notebook run wrote {proc.disk_exceeded} (the sandbox's disk limit)")
    autograded = scratch / "autograded" / student / lab.assignment / lab.notebook
    target = course / "autograded" / student / lab.assignment
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name in ("timestamp.txt", "submission_secret.txt"):   # nbgrader release_feedback reads them in feedback/
        if (sub.staged / name).is_file() and not (sub.staged / name).is_symlink():
            _copy_regular(sub.staged / name, target / name)
    if code == 0 and autograded.is_file() and not autograded.is_symlink():
        _copy_regular(autograded, target / lab.notebook)
        sub.notebook_scores = _notebook_scores(scratch / "gradebook.db", lab, student)
    else:
        reason = (f"did not finish within {settings.notebook_limit} s" if code is None else
                  f"failed: {_last_error(log)}")
        sub.problems.append(f"the notebook run for the feedback {reason}; the grades do not depend on it, and "
                            "the feedback shows the notebook as submitted")
        _copy_regular(sub.staged / lab.notebook, target / lab.notebook)
    remove(scratch)


def _last_error(log):
    """The most telling line of nbgrader's log: a timeout or a dead kernel if there was one, else the last error."""
    lines = [line.strip() for line in log.read_bytes()[-50000:].decode("utf-8", "replace").splitlines()]
    for words in (("Timeout", "timed out"), ("Kernel died", "DeadKernel"), ("Error", "ERROR")):
        found = [line for line in lines if any(w in line for w in words) and "Please see" not in line]
        if found:
            return found[-1][:200]
    return "?"


def _plain_tables(db):
    """True when the database the sandbox wrote holds tables and indexes only: no view or trigger that could
    run endlessly (or do anything) when the grader reads it."""
    import sqlite3

    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as connection:
            connection.set_progress_handler(lambda: 1, 10_000_000)   # stop any statement that runs too long
            kinds = {kind for (kind,) in connection.execute("SELECT type FROM sqlite_master")}
    except sqlite3.Error:
        return False
    return kinds <= {"table", "index"}


def _notebook_scores(db, lab, student):
    """{task: points} the notebook's own test cells scored in the scratch gradebook (untrusted: compared only)."""
    import warnings

    from nbgrader.api import Gradebook

    scores = {}
    if not _plain_tables(db):
        return None
    try:
        with warnings.catch_warnings(), Gradebook(f"sqlite:///{db}") as gb:
            warnings.simplefilter("ignore")
            for task in lab.tasks:
                if task.kind != "written":
                    grade = gb.find_grade(f"test_{task.name}", Path(lab.notebook).stem, lab.assignment, student)
                    scores[task.name] = float(grade.auto_score or 0)
    except Exception:  # noqa: BLE001 - a gradebook the sandbox broke: nothing to compare
        return None
    return scores


# ---------------------------------------------------------------------------
# 4. The gradebook, feedback and reports
# ---------------------------------------------------------------------------

def record(course, sub):
    """Write the grader's results for `sub` into the course's gradebook (the only writer, one at a time)."""
    import warnings

    from nbgrader.api import Gradebook
    from nbgrader.utils import parse_utc

    lab, notebook = sub.lab, Path(sub.lab.notebook).stem
    timestamp = None
    stamp = sub.staged / "timestamp.txt"
    if stamp.is_file():
        try:
            timestamp = parse_utc(stamp.read_text()[:100].strip())
        except (ValueError, OverflowError):
            sub.problems.append("timestamp.txt could not be read")
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        warnings.simplefilter("ignore")
        gb.update_or_create_student(sub.student)
        gb.update_or_create_submission(lab.assignment, sub.student, **({"timestamp": timestamp} if timestamp else {}))
        for task in lab.tasks:
            if task.kind == "written":
                grade = gb.find_grade(task.name, notebook, lab.assignment, sub.student)
                if grade.manual_score is None:
                    grade.auto_score = None if sub.written[task.name] else 0.0
                    grade.needs_manual_grade = sub.written[task.name]
                continue
            grade = gb.find_grade(f"test_{task.name}", notebook, lab.assignment, sub.student)
            grade.auto_score, grade.needs_manual_grade = float(sub.earned[task.name]), False
            sub.points[task.name] = float(sub.earned[task.name])
        differed = [n for n, p in (sub.notebook_scores or {}).items() if p != sub.earned.get(n)]
        if differed:
            sub.problems.append("test cells in the notebook disagreed with the guarded grading for "
                                f"{', '.join(differed)} (tampered test cells or a crashed kernel); "
                                "the guarded result counts")
        gb.find_submission_notebook(notebook, lab.assignment, sub.student).flagged = bool(differed)
        gb.db.commit()
        submission = gb.find_submission(lab.assignment, sub.student)
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
            brief = f"{name} ({reason[:90]})" if status == FAIL and reason and not said else name
            failing.setdefault(status, []).append(brief)
        sub.problems += [f"{status.lower()}: {', '.join(names)}" for status, names in failing.items()]
        if sub.results and sub.table and sub.table[0] != PASS:
            sub.problems.append(f"{sub.lab.tasks_of('table')[0].spec.title} {sub.table[0].lower()}")
        if sub.results and sub.coverage and sub.coverage[0] != PASS \
                and not any(sub.coverage[1] in p for p in sub.problems):
            sub.problems.append(f"trained DCGAN {sub.coverage[0].lower()}: {sub.coverage[1].split('. ')[0][:120]}")


# nbgrader's feedback page lists every graded cell as "Test cell" or "Written response"; ours names the task.
CONTENTS_ENTRY = re.compile(r'<a href="#(test_)?(\w+)">(Test cell|Written response)</a>')


def write_feedback(course, lab):
    """nbgrader's feedback pages of `lab` for every graded student (feedback/<student>/<lab>/<lab>.html), their
    contents lists naming each task ("bce_loss", "inline_question_2 (written)") where nbgrader writes "Test cell"."""
    nbgrader(course, "generate_feedback", lab.assignment, "--force", check=False)
    for page in (course / "feedback").glob(f"*/{lab.assignment}/*.html"):
        if page.is_symlink() or not page.is_file():
            continue
        text = page.read_text(errors="replace")
        named = CONTENTS_ENTRY.sub(lambda m: f'<a href="#{m.group(1) or ""}{m.group(2)}">{m.group(2)}'
                                             f'{" (written)" if m.group(3) == "Written response" else ""}</a>', text)
        if named != text:
            page.write_text(named)


def results_path(course, assignment, student):
    """Where the grader's record of one submission goes (what `make report` reads). Not under autograded/:
    nbgrader's generate_feedback copies every file there into the students' feedback, and the record holds
    the hidden tests' messages."""
    return Path(course) / "results" / assignment / f"{student}.json"



def results_record(sub):
    """Everything the grader decided about `sub`, as plain data: per task its status, points, message (the
    hidden test's where only that one failed: this is for instructors) and cause (checks/causes.py)."""
    if sub.ungradable:
        return {"student": sub.student, "assignment": sub.lab.assignment, "graded": False, "reason": sub.ungradable}
    hidden = {r["name"]: r for r in (sub.guarded or {}).get("report", {}).get("hidden", [])}
    tasks = []
    for task in sub.lab.tasks:
        notes = []
        if task.kind == "function":
            passed, status, message = sub.results[task.name]
            if status.startswith(FAIL) and status != FAIL:      # passed its visible test, failed the hidden one
                status, message = FAIL, hidden.get(task.name, {}).get("message") or message
            visible = next((r for r in sub.guarded["report"]["visible"] if r["name"] == task.name), {})
            notes = visible.get("notes", [])
        elif task.kind == "table":
            status, message = sub.table
        elif task.kind == "weights":
            status, message = sub.coverage
        else:
            status, message = ("answered" if sub.written.get(task.name) else "not answered"), ""
        cause = cause_of(task.name, status, message) if task.kind != "written" else None
        tasks.append({"name": task.name, "kind": task.kind, "points": task.points,
                      "earned": sub.points.get(task.name), "status": status, "message": message, "notes": notes,
                      "cause": cause and {"id": cause.id, "title": cause.title}})
    coverage = (sub.guarded or {}).get("coverage")
    return {"student": sub.student, "assignment": sub.lab.assignment, "graded": True, "score": sub.score,
            "max_score": sub.max_score, "manual_pending": sub.manual_pending, "tasks": tasks,
            "coverage": coverage and {"status": coverage["status"], "report": coverage.get("report")},
            "limits": list(dict.fromkeys((sub.guarded or {}).get("limits") or [])),
            "error": (sub.guarded or {}).get("error"), "problems": sub.problems,
            "notebook_ran": sub.notebook_scores is not None, "seconds": round(sub.seconds, 2)}


def write_results(course, sub):
    """results/<assignment>/<student>.json for `sub` (a new file: a link in its place is replaced). A record that
    cannot be written is said, and the others are still written."""
    target = results_path(course, sub.lab.assignment, sub.student)
    fresh = target.with_name(f".{target.name}.{os.getpid()}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fresh.unlink(missing_ok=True)
        with open(fresh, "x") as f:
            json.dump(results_record(sub), f, indent=1)
        os.replace(fresh, target)
    except (OSError, TypeError, ValueError, KeyError) as e:
        fresh.unlink(missing_ok=True)
        print(f"warning: {target} could not be written ({type(e).__name__}: {e}); make report will miss "
              f"{sub.student}", file=sys.stderr)


def write_csv(path, subs):
    """One row per student and lab: status, score, the points of every graded task, and what went wrong.

    Written as a new file (an existing grades.csv, or a link in its place, is replaced, never written through).
    """
    names = list(dict.fromkeys(t.name for sub in subs for t in sub.lab.tasks if t.kind != "written"))
    fresh = path.with_name(f".{path.name}.{os.getpid()}")
    with open(fresh, "x", newline="") as f:
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
    os.replace(fresh, path)


def print_summary(subs, settings):
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
    if not settings.sandboxed:
        print("\nWARNING: graded WITHOUT a sandbox (--unsafe-no-sandbox): students' code ran as your user, "
              "with your files in reach. Grade exams only in the sandbox.")


def coverage_classifier():
    """Train the coverage check's classifier before grading starts; stop with what to do when MNIST is missing."""
    try:
        ensure_classifier()
    except DataUnavailable as e:
        raise SystemExit(f"error: the DCGAN coverage check needs its digit classifier: {e}") from None


def submissions(course, labs):
    """(student, lab) for every lab folder submitted; unusable ids, and required labs not submitted, are listed
    as ungradable."""
    found, missing = [], []
    for entry in sorted(os.scandir(course / "submitted"), key=lambda e: e.name):
        if not entry.is_dir(follow_symlinks=False):
            continue
        student = entry.name
        if not valid_student_id(student):
            shown = student.encode("unicode_escape").decode()[:80]
            missing.append(Submission(shown, labs[0], ungradable=(
                "not a usable student id: letters, digits and . _ @ + - only, not starting with - (rename the "
                "folder to the student's id)")))
            continue
        for lab in labs:
            folder = course / "submitted" / student / lab.assignment
            if folder.is_dir() and not folder.is_symlink():
                found.append((student, lab))
            elif folder.is_symlink():
                missing.append(Submission(student, lab, ungradable=f"{lab.assignment}/ is a symbolic link: refused"))
            elif lab.required:
                missing.append(Submission(student, lab, ungradable=f"no {lab.assignment}/ folder was submitted"))
    return found, missing


def fingerprint(folders):
    """{path: sha256} of every file under `folders` (links by their target's name): what grading must not change."""
    found = {}
    for folder in folders:
        for dirpath, dirs, files in os.walk(folder):
            dirs[:] = [d for d in dirs if d != "__pycache__"]   # Python's own caches of the grader's imports
            for name in sorted(dirs + files):
                path = os.path.join(dirpath, name)
                if os.path.islink(path):
                    found[path] = "link:" + os.readlink(path)
                elif os.path.isfile(path):
                    digest = hashlib.sha256()
                    with open(path, "rb") as f:
                        for block in iter(lambda: f.read(1 << 20), b""):
                            digest.update(block)
                    found[path] = digest.hexdigest()
    return found


def changed_files(before, after):
    return sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))


def autograde(course, workers=1, settings=None, labs=None):
    """Grade every submission under course/submitted (every lab, or `labs`); return the Submissions."""
    settings = settings or Settings()
    course = Path(course).resolve()
    labs = list(labs or LABS.values())
    if settings.sandboxed and not available():
        raise SystemExit("error: students' code must run in a sandbox, and bubblewrap is not available here: "
                         f"{INSTALL_HINT}. To grade anyway, as your own user with your files in reach, pass "
                         "--unsafe-no-sandbox (never for exams).")
    guarded_folders = [course / "source", course / "release", course / "grader", course / "submitted", PROJECT / "checks"]
    before = fingerprint(guarded_folders)
    found, missing = submissions(course, labs)
    start = time.perf_counter()
    if any(lab.tasks_of("weights") for _, lab in found):
        coverage_classifier()
    work = Path(tempfile.mkdtemp(prefix="autograde-"))
    try:
        staging = work / "staging"
        staging.mkdir()
        template = template_gradebook(course, work)
        scratch = work / "scratch"
        scratch.mkdir()

        def grade_one(pair):
            try:
                sub = prepare(course, pair[0], pair[1], staging, settings)
                if not sub.ungradable:
                    begun = time.perf_counter()
                    run_notebook(course, sub, template, scratch, settings)
                    sub.seconds += time.perf_counter() - begun
            except Exception as e:  # noqa: BLE001 - one odd submission never stops the run for the others
                sub = Submission(pair[0], pair[1], ungradable=f"grading failed: {type(e).__name__}: {str(e)[:200]}")
            return sub

        with ThreadPoolExecutor(max(1, workers)) as pool:
            subs = list(pool.map(grade_one, found)) + missing
        for sub in subs:
            if not sub.ungradable:
                record(course, sub)
    finally:
        remove(work)
    summarize(subs)
    done = [s for s in subs if not s.ungradable]
    for lab in labs:
        if any(s.lab is lab for s in done):
            write_feedback(course, lab)
    write_csv(course / "grades.csv", subs)
    for sub in subs:
        if valid_student_id(sub.student):   # an unusable id names no folder (grades.csv lists it)
            write_results(course, sub)
    seconds = time.perf_counter() - start
    print_summary(subs, settings)
    print(f"\n{len(done)} graded, {len(subs) - len(done)} not, in {seconds:.0f} s "
          f"({60 * len(subs) / max(seconds, 1e-9):.1f} submissions/min, {workers} worker(s); "
          f"{'sandboxed' if settings.sandboxed else 'NOT sandboxed'}).")
    print(f"Grades: {course / 'grades.csv'}   Feedback: {course / 'feedback'}/<student>/<assignment>/   "
          "The class at a glance: make report")
    changed = changed_files(before, fingerprint(guarded_folders))
    if changed:
        print(f"\nINTEGRITY ERROR: {len(changed)} files changed while grading, which nothing may change:\n  "
              + "\n  ".join(changed[:20]), file=sys.stderr)
        raise IntegrityError(changed)
    return subs


class IntegrityError(RuntimeError):
    """Files that grading must never change did change (listed)."""


def main(argv=None):
    parser = argparse.ArgumentParser(description="Autograde every submission of every lab.")
    parser.add_argument("--course", default=str(PROJECT / "course"), help="the course folder (default: %(default)s)")
    parser.add_argument("--lab", choices=sorted(LABS), default=None, help="grade one lab (default: every lab)")
    parser.add_argument("-j", "--workers", type=int, default=1, help="submissions graded at once (default: 1)")
    parser.add_argument("--time-limit", type=int, default=GRADING_TIME_LIMIT,
                        help="seconds allowed to check one function (default: %(default)s)")
    parser.add_argument("--notebook-time-limit", type=int, default=NOTEBOOK_LIMIT,
                        help="seconds allowed to run one notebook for its feedback (default: %(default)s)")
    parser.add_argument("--memory-gb", type=float, default=Limits.memory_gb,
                        help="memory (address space) per sandboxed process (default: %(default)s)")
    parser.add_argument("--feedback-only", action="store_true",
                        help="only write the feedback pages again (after grading the written answers by hand)")
    parser.add_argument("--unsafe-no-sandbox", action="store_true",
                        help="run students' code without bubblewrap, as your own user (never for exams)")
    args = parser.parse_args(argv)
    course = Path(args.course)
    if not (course / "submitted").is_dir():
        print(f"error: {course / 'submitted'} does not exist: run `make release`, then collect submissions "
              "into submitted/<student>/<assignment>/", file=sys.stderr)
        return 2
    labs = [LABS[args.lab]] if args.lab else list(LABS.values())
    if args.feedback_only:
        for lab in labs:
            write_feedback(course, lab)
        print(f"Feedback: {course / 'feedback'}/<student>/<assignment>/")
        return 0
    settings = Settings(time_limit=args.time_limit, notebook_limit=args.notebook_time_limit,
                        limits=Limits(memory_gb=args.memory_gb), sandboxed=not args.unsafe_no_sandbox)
    try:
        subs = autograde(course, args.workers, settings, labs=labs)
    except IntegrityError:
        return 3
    return 1 if any(s.ungradable for s in subs) else 0


if __name__ == "__main__":
    sys.exit(main())
