"""nbgrader's exchange, end to end: release, fetch, submit, collect, grade, release and fetch feedback.

One instructor and three students (ids ada, ben and cy, who hand in the synthetic
class's "solution", "partial" and "untouched_stubs") go through the whole course
round trip with nbgrader's own commands, as on a shared JupyterHub machine:

    instructor, in the course folder built by `make release`:
        nbgrader release_assignment gan
    each student, in their home folder:
        nbgrader fetch_assignment gan --course gan-course
        ... answer, train, save dcgan_generator.pt ...
        nbgrader submit gan --course gan-course
    instructor:
        nbgrader collect gan
        make autograde                (tools.autograde: gradebook, grades.csv, generate_feedback)
        nbgrader release_feedback gan
    each student:
        nbgrader fetch_feedback gan --course gan-course
        -> gan/feedback/<submission time>/GAN.html, headed "GAN (Score: X / Y)"

What the machine needs (nbgrader 0.9.6, nbgrader/exchange/default/):

- The exchange folder EXCHANGE (nbgrader's default: /usr/local/share/nbgrader/exchange),
  made once by an admin, mode 0777: `mkdir -p EXCHANGE && chmod 777 EXCHANGE`
  (release_assignment chmods it to 0777 itself if it can, and warns; the students'
  commands only check that it is writable), and named for everybody in the
  machine's /etc/jupyter/nbgrader_config.py: `c.Exchange.root = "EXCHANGE"`
  (here: base/etc-jupyter, on JUPYTER_CONFIG_PATH), or --Exchange.root=EXCHANGE
  on every command. With one container per user, EXCHANGE is a volume shared by all.
- release_assignment creates EXCHANGE/gan-course/ and outbound/ (0755: the
  instructor writes, everyone reads) and inbound/ (2733: anyone may drop a
  submission in, only the instructor can list it); release_feedback creates
  feedback/ (0711: a student opens only the file named by the hash of their own
  submission's secret, and can list nothing).
- The course id, gan-course, is in the course's nbgrader_config.py (tools/course.py)
  for the instructor; students pass --course gan-course.
- A student's id is their OS user name (JUPYTERHUB_USER when the user is "jovyan").
  Here all three are root, so submit gets `--student=ID` (CourseDirectory.student_id;
  no "+" or "*"); fetch_feedback finds the feedback by the submission's secret and
  needs no id. Collect takes the id from the submission's name (ID+gan+time+random)
  and warns when the folder's owner is another OS user (ExchangeCollect.check_owner):
  switched off here, where every owner is root; leave it on on a real hub.
- fetch_feedback looks for the student's submissions in their own cache
  ($JUPYTER_DATA_DIR/nbgrader_cache, under HOME): each student needs their own HOME,
  or one cache would hold, and fetch, everybody's feedback.
"""

import csv
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from checks.registry import MAIN
from tests.data import mnist_stand_in
from tests.synthetic_class import CASES, make_submission
from tools.autograde import Settings, autograde
from tools.course import COURSE_ID, main as build_course

ASSIGNMENT, NOTEBOOK = MAIN.assignment, MAIN.notebook
STUDENTS = {"ada": "solution", "ben": "partial", "cy": "untouched_stubs"}   # student id -> synthetic case
GRADING = Settings(time_limit=30, import_limit=20, notebook_limit=300)   # shorter than a course's: tests wait on them
TIMES = {}                                                                # step -> seconds, for the report


def nbgrader(who, cwd, *args, env=None):
    """Run `nbgrader *args` in `cwd` as `who` would; fail with what they would have seen."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    TIMES[f"{who}: nbgrader {args[0]}"] = time.perf_counter() - started
    assert proc.returncode == 0, (f"{who} ran `nbgrader {' '.join(args)}` in {cwd} and it failed "
                                  f"(exit {proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-4000:]}")
    return proc


def session(base, who):
    """The environment of `who`'s session: their own HOME (nbgrader's submission cache lives under it), the
    machine's Jupyter config (base/etc-jupyter stands in for /etc/jupyter) and none of ours; the venv's bin
    first on PATH (nbgrader runs alembic by name when it opens the gradebook)."""
    home = base / "home" / who
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "XDG_", "GAN_"))}
    return {**env, "HOME": str(home), "JUPYTER_CONFIG_PATH": str(base / "etc-jupyter"),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def complete(fetched, student, case, scratch):
    """Do in the fetched folder what the synthetic class's `case` does to a release (tests/synthetic_class.py)."""
    shutil.copytree(fetched, scratch / "release" / ASSIGNMENT)
    done = make_submission(scratch, student, case)
    shutil.rmtree(fetched)
    shutil.copytree(done, fetched)


def files(folder):
    """{relative path: content} of the files under `folder`."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """Step 1, the instructor: build the course (classic lab) and release it to a fresh exchange."""
    base = tmp_path_factory.mktemp("exchange_test")
    course, exchange = base / "course", base / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)                     # what an admin does once: `mkdir -p EXCHANGE && chmod 777 EXCHANGE`
    (base / "etc-jupyter").mkdir()            # and the machine's /etc/jupyter/nbgrader_config.py
    (base / "etc-jupyter" / "nbgrader_config.py").write_text(f"c = get_config()\nc.Exchange.root = {str(exchange)!r}\n")
    started = time.perf_counter()
    assert build_course(["--course", str(course), "--lab", MAIN.name, "--cell-timeout", "15"]) == 0
    TIMES["instructor: make release"] = time.perf_counter() - started
    proc = nbgrader("instructor", course, "release_assignment", ASSIGNMENT, env=session(base, "instructor"))
    return base, course, exchange, proc


def each_student(step):
    """{student: step(student, case)}, the students working at the same time, as a class does."""
    with ThreadPoolExecutor(len(STUDENTS)) as pool:
        return dict(zip(STUDENTS, pool.map(step, STUDENTS, STUDENTS.values())))


@pytest.fixture(scope="module")
def submitted(released):
    """Step 2, each student in their own home: fetch, complete as the synthetic class does, submit."""
    base = released[0]

    def work(student, case):
        env = session(base, student)
        home = Path(env["HOME"])
        fetched = nbgrader(student, home, "fetch_assignment", ASSIGNMENT, "--course", COURSE_ID, env=env)
        folder = home / ASSIGNMENT
        assert (folder / NOTEBOOK).is_file(), (f"{student} fetched the assignment but finds no {NOTEBOOK} in "
                                               f"{folder}:\n{fetched.stderr}")
        complete(folder, student, case, base / "scratch" / student)
        return home, nbgrader(student, home, "submit", ASSIGNMENT, "--course", COURSE_ID, f"--student={student}",
                              env=env)

    done = each_student(work)
    return {s: home for s, (home, _) in done.items()}, {s: proc for s, (_, proc) in done.items()}


@pytest.fixture(scope="module")
def graded(released, submitted, tmp_path_factory):
    """Step 3, the instructor: collect, autograde (grades and course/feedback/), release the feedback."""
    base, course, exchange, _ = released
    env = session(base, "instructor")
    collected = nbgrader("instructor", course, "collect", ASSIGNMENT, "--ExchangeCollect.check_owner=False", env=env)
    data = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as patch:   # the coverage check's digit classifier trains on real digits
        patch.setenv("GAN_DATA_FROM", str(mnist_stand_in(data)))
        patch.setenv("GAN_DATA_DIR", str(data / "torchvision"))
        started = time.perf_counter()
        subs = {s.student: s for s in autograde(course, workers=2, settings=GRADING, labs=[MAIN])}
        TIMES["instructor: make autograde"] = time.perf_counter() - started
    for student in STUDENTS:
        feedback = course / "feedback" / student / ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")
        assert feedback.is_file(), (f"after `make autograde` the instructor finds no {feedback} to release; "
                                    f"collect said:\n{collected.stderr}\ngrading said: {subs[student].problems}")
        for name in ("timestamp.txt", "submission_secret.txt"):
            assert (feedback.parent / name).is_file(), (
                f"{feedback.parent} has no {name}: `nbgrader release_feedback` reads it there (generate_feedback "
                f"copies it from autograded/{student}/{ASSIGNMENT}/, where tools/autograde.py must put it)")
        TIMES[f"grading {student}'s submission"] = subs[student].seconds
    released_feedback = nbgrader("instructor", course, "release_feedback", ASSIGNMENT, env=env)
    return collected, subs, released_feedback


@pytest.fixture(scope="module")
def feedback(released, submitted, graded):
    """Step 4, each student: fetch their feedback."""
    base = released[0]
    homes, _ = submitted
    return each_student(lambda student, case: nbgrader(student, homes[student], "fetch_feedback", ASSIGNMENT,
                                                       "--course", COURSE_ID, env=session(base, student)))


def test_release_puts_the_assignment_in_the_exchange_with_a_shared_machines_permissions(released):
    _, course, exchange, proc = released
    assert "WARNING" not in proc.stderr, f"the instructor's release warned:\n{proc.stderr}"
    outbound = exchange / COURSE_ID / "outbound" / ASSIGNMENT
    files = sorted(str(p.relative_to(outbound)) for p in outbound.rglob("*") if p.is_file())
    wanted = sorted(str(p.relative_to(course / "release" / ASSIGNMENT))
                    for p in (course / "release" / ASSIGNMENT).rglob("*") if p.is_file())
    assert files == wanted, f"the exchange's outbound/{ASSIGNMENT} is not the release:\n{proc.stderr}"
    assert mode(exchange) == 0o777
    assert mode(exchange / COURSE_ID / "outbound") == 0o755, "students must read, not write, the released assignment"
    assert mode(exchange / COURSE_ID / "inbound") == 0o2733, "students must drop submissions in, never list them"


def test_each_student_fetches_the_release_and_submits_under_their_own_id(released, submitted):
    _, course, exchange, _ = released
    homes, outputs = submitted
    inbound = sorted(p.name.split("+")[0] for p in (exchange / COURSE_ID / "inbound").iterdir())
    assert inbound == sorted(STUDENTS), f"the exchange's inbound holds {inbound}"
    for student, home in homes.items():
        said = outputs[student].stderr
        assert f"Submitted as: {COURSE_ID} {ASSIGNMENT}" in said, f"{student}'s submit said:\n{said}"
        assert "WARNING" not in said, f"{student}'s submit warned (a missing or extra notebook?):\n{said}"
        cache = list((home / ".local" / "share" / "jupyter" / "nbgrader_cache" / COURSE_ID).iterdir())
        assert [c.name.split("+")[0] for c in cache] == [student], f"{student}'s submission cache: {cache}"


def test_collect_puts_each_submission_under_the_students_id(released, submitted, graded):
    _, course, _, _ = released
    homes, _ = submitted
    collected, _, _ = graded
    for student in STUDENTS:
        folder, mine = course / "submitted" / student / ASSIGNMENT, homes[student] / ASSIGNMENT
        assert (folder / NOTEBOOK).is_file(), f"collect did not bring {student}'s submission:\n{collected.stderr}"
        assert (folder / "timestamp.txt").is_file() and (folder / "submission_secret.txt").is_file()
        sent = {name: data for name, data in files(mine).items() if not name.startswith("feedback/")}
        got = files(folder)
        for name in ("timestamp.txt", "submission_secret.txt"):   # added by submit
            got.pop(name)
        differ = sorted(name for name in set(sent) | set(got) if sent.get(name) != got.get(name))
        assert not differ, f"{student}'s collected submission differs from their folder in {differ}"


def test_every_collected_submission_gets_the_synthetic_class_score(released, graded):
    _, course, _, _ = released
    _, subs, _ = graded
    rows = {r["student"]: r for r in csv.DictReader(open(course / "grades.csv"))}
    for student, case in STUDENTS.items():
        sub = subs[student]
        assert not sub.ungradable, f"{student}: {sub.ungradable}"
        assert sum(sub.points.values()) == CASES[case]["points"], f"{student} ({case}): {sub.points} {sub.problems}"
        assert float(rows[student]["score"]) == CASES[case]["points"], rows[student]


def test_each_student_fetches_their_own_feedback_with_their_score(released, submitted, graded, feedback):
    _, course, _, _ = released
    homes, _ = submitted
    _, _, released_feedback = graded
    for student, case in STUDENTS.items():
        said = feedback[student].stderr
        pages = list((homes[student] / ASSIGNMENT / "feedback").glob("*/*.html"))
        assert len(pages) == 1, (f"{student} fetched {pages} as feedback; fetch_feedback said:\n{said}\n"
                                 f"the instructor's release_feedback said:\n{released_feedback.stderr}")
        page = pages[0]
        submitted_at = (course / "submitted" / student / ASSIGNMENT / "timestamp.txt").read_text().strip()
        assert page.parent.name == submitted_at and page.name == NOTEBOOK.replace(".ipynb", ".html"), page
        html = page.read_text()
        score = re.search(r"\(Score: ([\d.]+) / ([\d.]+)\)", html)
        assert score, f"{student}'s feedback page {page} shows no score"
        assert (float(score[1]), float(score[2])) == (CASES[case]["points"], MAIN.max_points), (
            f"{student} ({case}) sees Score: {score[1]} / {score[2]} in {page}, "
            f"expected {CASES[case]['points']} / {MAIN.max_points}")
        assert "HIDDEN TESTS" not in html and "hidden=True" not in html, f"hidden tests leak into {page}"
    assert mode(released[2] / COURSE_ID / "feedback") == 0o711, \
        "students must open only their own feedback file, never list the others"
    stubs = next(s for s, c in STUDENTS.items() if c == "untouched_stubs")
    assert "NOT IMPLEMENTED" in next((homes[stubs] / ASSIGNMENT / "feedback").glob("*/*.html")).read_text()


def test_timings(feedback):
    """Not a check: the wall time of each step (pytest -s shows it)."""
    for step, seconds in TIMES.items():
        print(f"{seconds:7.1f} s  {step}")
