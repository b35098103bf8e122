"""Gradescope: build a lab's autograder zip (`make gradescope`), and grade one submission inside it.

    python -m tools.gradescope build [--lab gan_pytorch] [--out gradescope]   # gradescope/<lab>.zip
    python -m tools.gradescope run [--lab gan_pytorch] [--root /autograder]   # what run_autograder calls

Gradescope runs every submission in a fresh container of its own (its documented layout: the zip's
contents in /autograder/source, the student's upload in /autograder/submission, our verdict in
/autograder/results/results.json). The zip holds everything grading needs, and nothing of the machine
it was built on:

    setup.sh, run_autograder   Gradescope's two entry points (installed once into the image / run per submission)
    requirements.txt           the exact versions of the Python packages it was built and tested with
    course/release/<lab>/      what students were handed (stubs, checks, visible reference answers)
    course/grader/<lab>/       the hidden reference answers and the instructor's module (whose network samples
                               the submitted weights): never inside any student's sandbox
    checks/ gan_assignment/ tools/   this project's grader (this lab and the labs it uses only)

`run` grades exactly as `make autograde` does, with the same code (tools.autograde.prepare): the
student's module runs in the bubblewrap sandbox against blind references, the points and the pass
rule come from the lab's declaration (checks/labs/<lab>.py; points: checks/core/lab.py: points_for), the answer table is read from
the notebook and the coverage check runs when the weights file is uploaded. So a submission's
score here equals its score from `make autograde`. Whatever goes wrong, run_autograder leaves a
results.json: a task that cannot be graded fails alone, and an error of the grader itself is reported
as such, with 0 points for what could not be graded.

What students see: every function's visible check at once (its verdict and message, worth no points
by itself), and its scored test (visible and hidden checks together, all or nothing) after the due
date: `visibility: after_due_date` keeps the hidden tests' results hidden until then.
"""

import argparse
import importlib.metadata
import json
import os
import shutil
import stat
import sys
import tempfile
import time
import traceback
import zipfile
from pathlib import Path

from checks.core.lab import points_for
from checks.core.status import PASS
from checks.registry import LABS
from gan_assignment.provided.modules import PROJECT
from tools.course import copy_package, labs_in, module_path

STUDENT = "student"             # Gradescope grades one submission per container: one student id is enough
DEFAULT_ROOT = "/autograder"
# The Python packages grading needs, pinned at build time to the versions installed here (the ones tested).
PINNED = ("torch", "torchvision", "numpy", "matplotlib", "tqdm", "ipykernel", "nbformat", "nbclient", "nbconvert",
          "nbgrader", "jupyter_client", "pillow")

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (its Ubuntu base image).
set -euo pipefail
cd /autograder/source
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -q python3 python3-venv python3-pip bubblewrap >/dev/null
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install -q --upgrade pip
# PyTorch's CPU build (Gradescope's machines have no GPU; a tenth of the download), at the pinned versions.
/autograder/venv/bin/pip install -q -r requirements.txt --extra-index-url https://download.pytorch.org/whl/cpu
# The DCGAN coverage check's digit classifier: trained once here (MNIST is downloaded now), not per submission.
GAN_DATA_DIR=/autograder/source/data /autograder/venv/bin/python -c \\
    "from checks.coverage import ensure_classifier; ensure_classifier()"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission, as root; it writes results/results.json.
# GRADESCOPE_ROOT and GRADESCOPE_PYTHON let the project's tests run it elsewhere; Gradescope sets neither.
ROOT="${{GRADESCOPE_ROOT:-/autograder}}"
cd "$ROOT/source" || exit 0
GAN_DATA_DIR="$ROOT/source/data" "${{GRADESCOPE_PYTHON:-$ROOT/venv/bin/python}}" -m tools.gradescope run \\
    --lab {lab} --root "$ROOT"
# A grader that could not even start still leaves a results.json: the student sees a message, not an error page.
if [ ! -s "$ROOT/results/results.json" ]; then
    mkdir -p "$ROOT/results"
    echo '{{"score": 0.0, "output": "The autograder could not grade this submission (an error of the grader, not a verdict on your work): your instructor can see why. Please submit again later.", "tests": [], "visibility": "visible", "stdout_visibility": "hidden"}}' > "$ROOT/results/results.json"
fi
exit 0
"""


# ---------------------------------------------------------------------------
# Building the zip
# ---------------------------------------------------------------------------

def build(lab, out_dir):
    """Write out_dir/<lab>.zip for `lab`; returns its path."""
    from tools.course import main as build_course

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        course = Path(scratch) / "course"
        if build_course(["--course", str(course), "--lab", lab.name]) != 0:
            raise SystemExit(f"error: the {lab.name} release could not be built")
        kit = Path(scratch) / "kit"
        for package in ("checks", "gan_assignment"):
            copy_package(kit, package, labs_in(lab))
        target = out_dir / f"{lab.assignment}.zip"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            _add_script(archive, "setup.sh", SETUP_SH)
            _add_script(archive, "run_autograder", RUN_AUTOGRADER.format(lab=lab.name))
            archive.writestr("requirements.txt", pinned_requirements())
            for part in ("release", "grader"):
                _add_tree(archive, course / part / lab.assignment, f"course/{part}/{lab.assignment}")
            for package in ("checks", "gan_assignment"):
                _add_tree(archive, kit / package, package)
            for path in sorted((PROJECT / "tools").glob("*.py")):
                archive.write(path, f"tools/{path.name}")
    return target


def pinned_requirements():
    """requirements.txt for Gradescope's image: every package grading needs, at the version installed here."""
    lines = ["# Pinned by `make gradescope` to the versions the grader was built and tested with."]
    for name in PINNED:
        version = importlib.metadata.version(name).split("+")[0]   # 2.14.1+cu130 -> 2.14.1 (the CPU build's too)
        lines.append(f"{name}=={version}")
    return "\n".join(lines) + "\n"


def _add_script(archive, name, text):
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFREG | 0o755) << 16    # executable once unzipped
    archive.writestr(info, text)


def _add_tree(archive, folder, prefix):
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and not path.name.startswith("."):
            archive.write(path, f"{prefix}/{path.relative_to(folder)}")


# ---------------------------------------------------------------------------
# Grading one submission
# ---------------------------------------------------------------------------

def arrange(upload, folder, lab):
    """Lay the student's upload out as nbgrader's submitted/<student>/<assignment>/ folder.

    Students upload files (the notebook, their module, the weights) or a zip of their folder, which
    Gradescope unpacks; either way each file is found by its name, the shallowest one first.
    Links are never followed. Returns the names expected but not found.
    """
    wanted = {lab.notebook: Path(lab.notebook), f"{lab.module}.py": Path(module_path(lab))}
    for task in lab.tasks_of("weights"):
        wanted[task.spec.file] = Path(task.spec.file)
    found = {}
    for path in sorted(Path(upload).rglob("*"), key=lambda p: (len(p.parts), str(p))):
        if path.name in wanted and path.name not in found and path.is_file() and not path.is_symlink():
            found[path.name] = path
    folder.mkdir(parents=True)
    for name, path in found.items():
        (folder / wanted[name]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, folder / wanted[name])
    return [name for name in wanted if name not in found]


def results_json(sub, lab, missing, seconds):
    """Gradescope's results.json for a graded Submission of tools.autograde (see the module docstring)."""
    tests = []
    if sub.ungradable:
        upload = [lab.notebook, f"{lab.module}.py", *(t.spec.file for t in lab.tasks_of("weights"))]
        return {"score": 0.0, "execution_time": round(seconds), "output": (
            f"Could not be graded: {sub.ungradable}. Upload {', '.join(upload)}."),
            "tests": [], "visibility": "visible", "stdout_visibility": "hidden"}
    visible = {r["name"]: r for r in sub.guarded["report"]["visible"]}
    hidden = {r["name"]: r for r in sub.guarded["report"]["hidden"]}
    for task in lab.tasks:
        if task.kind == "function":
            v, h = visible[task.name], hidden[task.name]
            tests.append({"name": f"{task.name}: visible check", "score": 0.0, "max_score": 0.0,
                          "status": "passed" if v["status"] == PASS else "failed", "visibility": "visible",
                          "output": _verdict(v["status"], v["message"], v.get("notes", []))})
            earned = points_for(task, v["status"], h["status"])
            said = ("passes the visible check and the hidden test" if earned else
                    "fails the visible check (see above)" if v["status"] != PASS else
                    "passes the visible check but fails the hidden test (other weights, inputs and batch size): "
                    "is something hard-coded, or special-cased to the visible check?")
            tests.append({"name": task.name, "score": float(earned), "max_score": float(task.points),
                          "status": "passed" if earned else "failed", "visibility": "after_due_date",
                          "output": f"{task.name} {said}"})
        elif task.kind in ("table", "weights"):
            status, message = sub.table if task.kind == "table" else sub.coverage
            earned = points_for(task, status)
            tests.append({"name": task.name, "score": float(earned), "max_score": float(task.points),
                          "status": "passed" if earned else "failed", "visibility": "visible",
                          "output": _verdict(status, message, [])})
    by_hand = lab.tasks_of("written")
    notes = []
    if missing:
        notes.append(f"Not found in your upload: {', '.join(missing)}.")
    if by_hand:
        notes.append(f"{sum(t.points for t in by_hand)} more points ({', '.join(t.name for t in by_hand)}) are "
                     "written answers, graded by hand.")
    return {"score": float(sum(sub.earned.values())), "execution_time": round(seconds), "output": " ".join(notes),
            "tests": tests, "visibility": "visible", "stdout_visibility": "hidden",
            "extra_data": {"problems": sub.problems}}


def _verdict(status, message, notes):
    return f"{status}" + (f": {message}" if message else "") + "".join(f"\nnote: {n}" for n in notes)


def run(root, lab, settings=None):
    """Grade root/submission with the zip in root/source; write root/results/results.json; return that dict."""
    from checks.sandbox import UserOnly, available
    from tools.autograde import Settings, coverage_classifier, prepare

    start = time.perf_counter()
    root = Path(root)
    if settings is None:
        settings = Settings() if available() else Settings(kind=UserOnly) if os.geteuid() == 0 else \
            Settings(sandboxed=False)
    if settings.kind is UserOnly:   # Gradescope shows stdout to the instructor only (stdout_visibility: hidden)
        print("note: bubblewrap cannot make a sandbox in this container: students' code runs as a user of its "
              "own, and the hidden reference answers are readable by root only")
    elif not settings.sandboxed:
        print("warning: no sandbox: students' code runs as this grader's user and could read the hidden answers")
    # Whatever runs students' code, the hidden answers are root's alone (a sandbox does not see them anyway).
    os.chmod(root / "source" / "course" / "grader", 0o700)
    with tempfile.TemporaryDirectory() as scratch:
        os.chmod(scratch, 0o711)   # the worker (another user) reaches the release copy in it, not the grader copy
        course = Path(scratch) / "course"
        for part in ("release", "grader"):   # a copy: what a student's code could do to it stays in this scratch
            shutil.copytree(root / "source" / "course" / part / lab.assignment, course / part / lab.assignment)
        os.chmod(course / "grader", 0o700)
        missing = arrange(root / "submission", course / "submitted" / STUDENT / lab.assignment, lab)
        if any(t.spec.file not in missing for t in lab.tasks_of("weights")):
            try:   # setup.sh trained it into the image; this only trains one if it is not there
                coverage_classifier()
            except SystemExit as e:   # no classifier, no MNIST: the coverage task fails alone
                print(f"warning: {e}")
        sub = prepare(course, STUDENT, lab, Path(scratch) / "staging", settings)
        results = results_json(sub, lab, missing, time.perf_counter() - start)
    (root / "results").mkdir(parents=True, exist_ok=True)
    (root / "results" / "results.json").write_text(json.dumps(results, indent=2))
    print(f"{lab.assignment}: {results['score']:g} points in {time.perf_counter() - start:.1f} s"
          + (f"; problems: {'; '.join(sub.problems)}" if sub.problems else ""))
    return results


def internal_error(root, error):
    """Write the results.json of a submission the grader itself failed on (never a missing file); stdout, which
    only instructors see, gets the traceback."""
    traceback.print_exception(type(error), error, error.__traceback__)
    results = {"score": 0.0, "output": (
        f"The autograder failed on this submission with an error of its own ({type(error).__name__}), not a "
        "verdict on your work: nothing could be graded. Your instructor sees the details; submit again later or "
        "ask them."), "tests": [], "visibility": "visible", "stdout_visibility": "hidden"}
    (Path(root) / "results").mkdir(parents=True, exist_ok=True)
    (Path(root) / "results" / "results.json").write_text(json.dumps(results, indent=2))
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    making = commands.add_parser("build", help="write the autograder zip to upload to Gradescope")
    making.add_argument("--lab", choices=sorted(LABS), default="gan_pytorch")
    making.add_argument("--out", default=str(PROJECT / "gradescope"), help="folder for <lab>.zip")
    grading = commands.add_parser("run", help="grade one submission (Gradescope's run_autograder calls this)")
    grading.add_argument("--lab", choices=sorted(LABS), default="gan_pytorch")
    grading.add_argument("--root", default=os.environ.get("GRADESCOPE_ROOT", DEFAULT_ROOT),
                         help="Gradescope's folder, holding source/ and submission/ (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.command == "build":
        path = build(LABS[args.lab], args.out)
        print(f"Wrote {path} ({path.stat().st_size / 2 ** 20:.1f} MB): upload it as the assignment's autograder "
              "(Gradescope: Configure Autograder -> Zip file upload; base image Ubuntu)")
        return 0
    try:
        run(args.root, LABS[args.lab])
    except BaseException as e:  # noqa: BLE001 - whatever stops the grader, Gradescope gets a results.json
        if isinstance(e, KeyboardInterrupt):
            raise
        internal_error(args.root, e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
