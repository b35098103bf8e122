"""Grade a student's file: the student's code runs in a worker process, and this process decides.

    grade_file(path, {"visible": reference, "hidden": reference}, sandbox=Sandbox(...))

The worker (`python -m checks.isolated`, in a bubblewrap sandbox while
autograding, see checks/sandbox.py) imports the student's module and runs the
checks against *blind* references: the inputs and settings, never the answers.
Every value a check compares is handed back as plain arrays (an Expectation);
this process holds the full references and decides each verdict
(checks/core/compare.py: decide). So:

- nothing the worker prints or returns can claim a PASS: a PASS needs the
  student's own outputs, gradients and optimizer steps on the hidden inputs to
  match answers the worker never sees;
- rebinding names in torch or in the checks (or `torch.set_default_dtype`)
  changes only what the worker computes, which is then judged like any answer;
- one function's endless loop, crash, `sys.exit()` or `os._exit()` fails that
  function only: each function has its own time limit, and a worker that dies
  is restarted for the functions after it, within a budget that grows with
  the number of functions;
- the worker's report is read a line at a time, up to OUTPUT_CAP bytes, and
  what it prints goes to a file whose size the sandbox caps.
The coverage check of submitted weights (a lab's "weights" task) loads them into
the instructor's network (the student's builder passed its check: same
architecture), never into the student's code.
"""

import dataclasses
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from checks.core.answers import BlindReference
from checks.core.compare import Expectation, decide
from checks.core.status import FAIL, PASS, Result
from checks.registry import LABS
from checks.runner import explain_dependencies, run_one
from checks.sandbox import start, stop
from gan_assignment.provided.modules import PROJECT, ImplementationImportError, load_module

GRADING_TIME_LIMIT = 30   # seconds for one function (its visible and hidden checks) while grading: ~10 x a correct one's
IMPORT_LIMIT = 60   # seconds to start a worker and import the student's file
SLACK = 10          # seconds the worker's own alarm gets before this process kills it
OUTPUT_CAP = 32 * 2 ** 20      # bytes of report read from one worker
ARRAYS_CAP = 256 * 2 ** 20     # bytes of arrays (unpacked) accepted from one check: a correct one sends < 20 MB
SUBMISSION_ARRAYS_CAP = 1024 * 2 ** 20   # the same for a whole submission, restarted workers included
MESSAGE_CAP = 4000             # characters of one message or note (as read; checks/core/compare.py caps what it fills)


@dataclass
class Raw:
    """What the worker reported for one function on one reference (not a verdict)."""
    status: str
    message: str = ""
    notes: list = field(default_factory=list)
    seconds: float = 0.0
    expectations: list = field(default_factory=list)


def grade_file(impl, references, lab, time_limit=GRADING_TIME_LIMIT, weights=None, builder=None, sandbox=None, kit=None,
               import_limit=IMPORT_LIMIT):
    """Grade the file `impl` of `lab` against each of `references` ({label: path of the full reference file}).

    `sandbox`: a checks.sandbox.Sandbox to run the worker in (autograding); None runs
    it as a plain child process (a student's own session). `kit`: the folder whose
    `checks` and `gan_assignment` packages the worker imports (default: this project).
    With `weights` (the file of the lab's "weights" task), its coverage check runs too,
    here: the weights are loaded into the network of `builder`, the file of the module
    whose builder makes it (the grader passes the instructor's; default: `impl`, which
    only a student's own session may use). `time_limit`: seconds per function;
    `import_limit`: seconds to import the file.
    Returns {"report": {label: [result dicts]}, "coverage": {status, message, report} or None,
    "error": str or None, "limits": [what limit was hit, ...]}.
    """
    refs = {label: lab.answers(path) for label, path in references.items()}
    with tempfile.TemporaryDirectory(prefix="grading-") as work:
        work = Path(work)
        for sub in ("submission", "refs", "out"):
            (work / sub).mkdir()
        shutil.copyfile(impl, work / "submission" / Path(impl).name)
        for label, ref in refs.items():
            BlindReference.of(ref).save(work / "refs" / f"{label}.npz")
        run = _WorkerRun(work, lab, list(refs), time_limit, sandbox, Path(kit or PROJECT), import_limit)
        raw = run.collect()
    report = _decide(lab, refs, raw)
    coverage = _coverage(lab, report, weights, builder or impl) if weights is not None else None
    return {"report": report, "coverage": coverage, "error": run.error, "limits": run.limits}


def _decide(lab, refs, raw):
    """Every function's verdict on every reference, decided here from the worker's raw reports."""
    report = {}
    for label, ref in refs.items():
        results = {}
        for name in lab.functions:
            r = raw[(name, label)]   # collect() fills in every function, reported or not
            status, message, notes = decide(lab.task(name), r.status, r.message, r.notes, r.expectations, ref)
            results[name] = {"name": name, "status": status, "message": message, "seconds": r.seconds,
                             "notes": notes}
        explain_dependencies(lab, results)
        report[label] = [results[n] for n in lab.functions]
    return report


def _coverage(lab, report, weights, builder):
    """The coverage check of the lab's "weights" task on the submitted `weights`, sampled by the network that the
    module at `builder` builds."""
    from checks.coverage import coverage_result   # the quality report's classifier: loaded only when graded

    task = lab.tasks_of("weights")[0]
    gate = [next((r for r in results if r["name"] == task.spec.builder), None) for results in report.values()]
    if not gate or any(r is None or r["status"] != PASS for r in gate):
        # Only the reference architecture may be graded: any other network could replay real digits.
        return {"status": FAIL, "message": f"{task.spec.builder} must pass its check first", "report": None}
    try:
        status, message, measured = coverage_result(load_module(builder), weights, task)
    except Exception as e:  # noqa: BLE001 - an unreadable or hostile weights file
        status, message, measured = FAIL, f"the saved generator could not be sampled ({type(e).__name__})", None
    return {"status": status, "message": message, "report": measured}


class _WorkerRun:
    """Workers over the lab's functions until each is reported, restarting after one that dies."""

    def __init__(self, work, lab, labels, time_limit, sandbox, kit, import_limit):
        self.work, self.lab, self.labels, self.time_limit = work, lab, labels, time_limit
        self.sandbox, self.kit, self.import_limit = sandbox, kit, import_limit
        self.error, self.limits, self.loaded = None, [], 0
        self.budget = 2 * import_limit + time_limit * len(lab.functions)

    def collect(self):
        raw, pending = {}, list(self.lab.functions)
        deadline = time.monotonic() + self.budget
        while pending:
            if time.monotonic() >= deadline:
                self._fail(raw, pending, f"grading ran out of its {self.budget} s budget before checking this")
                self.limits.append(f"time budget ({self.budget} s)")
                break
            done, stopped = self._one_worker(pending, raw, deadline)
            pending = [n for n in pending if n not in done]
            if stopped is None:
                break
            if stopped == "import":   # every function fails for the same reason: no use restarting
                self._fail(raw, pending, self.error)
                break
            # The worker died or hung in the middle of `stopped`: it fails, the others get a new worker.
            self._fail(raw, [stopped], self.error)
            pending = [n for n in pending if n != stopped]
        for key in [(n, label) for n in self.lab.functions for label in self.labels]:
            raw.setdefault(key, Raw(FAIL, self.error or "no report from the grading worker"))
        return raw

    def _fail(self, raw, names, reason):
        for name in names:
            for label in self.labels:
                raw.setdefault((name, label), Raw(FAIL, reason))

    def _start(self, names, fd):
        """A worker over `names`, reporting on the file descriptor `fd`."""
        per_check = max(1, self.time_limit // max(len(self.labels), 1))
        argv = [sys.executable, "-m", "checks.isolated", str(self.work), self.lab.name, ",".join(self.labels),
                str(per_check), str(fd), *names]
        sandbox = self.sandbox and dataclasses.replace(
            self.sandbox, read_only=[*self.sandbox.read_only, self.kit], writable=self.work, cwd=self.work,
            env={**self.sandbox.env, "PYTHONPATH": str(self.kit)})
        with open(self.work / "out" / "worker.log", "ab") as log:
            return start(sandbox, argv, {**_plain_env(), "PYTHONPATH": str(self.kit)}, stdin=subprocess.DEVNULL,
                         stdout=log, stderr=subprocess.STDOUT, pass_fds=(fd,), cwd=self.work)

    def _one_worker(self, names, raw, deadline):
        """Run one worker over `names`; returns (names reported, None or where it stopped:
        "import" or the function it was checking)."""
        read_fd, write_fd = os.pipe()
        proc = self._start(names, write_fd)
        os.close(write_fd)
        expected = [(n, label) for n in names for label in self.labels]
        done, ready, buffer, total = set(), False, b"", 0
        step_end = min(deadline, time.monotonic() + self.import_limit)
        stopped = None
        try:
            while expected:
                wait = step_end - time.monotonic()
                if wait <= 0:
                    stopped = "import" if not ready else expected[0][0]
                    self.error = (f"importing your file did not finish within {self.import_limit} s (an endless loop "
                                  "at import?)" if not ready else
                                  f"did not finish within {self.time_limit} s (an endless loop?)")
                    self.limits.append("time limit" + (" at import" if not ready else f" ({expected[0][0]})"))
                    break
                readable, _, _ = select.select([read_fd], [], [], wait)
                if not readable:
                    continue
                chunk = os.read(read_fd, 1 << 20)
                if not chunk:   # the worker ended (or closed the pipe)
                    stopped = "import" if not ready else expected[0][0]
                    proc.wait(timeout=30)
                    self.error = _death(proc.returncode, ready, expected[0][0] if ready else None)
                    if proc.returncode in (-signal.SIGXFSZ, -signal.SIGXCPU, -signal.SIGKILL):
                        self.limits.append(_death(proc.returncode, ready, None))
                    break
                total += len(chunk)
                if total > OUTPUT_CAP:
                    stopped = "import" if not ready else expected[0][0]
                    self.error = f"the grading worker wrote more than {OUTPUT_CAP >> 20} MB of report"
                    self.limits.append("report size")
                    break
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    message = _parse(line)
                    if message is None:
                        continue
                    if not ready:
                        if "import_error" in message:
                            stopped, self.error = "import", f"could not import your file: {message['import_error']}"
                            expected = []
                            break
                        ready = message.get("ready") is True
                        step_end = min(deadline, time.monotonic() + self.time_limit + SLACK)
                        continue
                    key = (message.get("name"), message.get("label"))
                    if not expected or key != expected[0]:
                        continue    # only the report the worker owes next counts
                    raw[key] = self._raw(message)
                    expected.pop(0)
                    if not any(n == key[0] for n, _ in expected):
                        done.add(key[0])
                        step_end = min(deadline, time.monotonic() + self.time_limit + SLACK)
        finally:
            os.close(read_fd)
            stop(proc)
        return done, stopped

    def _raw(self, message):
        try:
            status = str(message.get("status", FAIL))
            notes = message.get("notes", [])
            raw = Raw(status, _text(message.get("message", "")),
                      [_text(n) for n in (notes if isinstance(notes, list) else [])[:20]],
                      float(message.get("seconds", 0.0) or 0.0))
        except (TypeError, ValueError):
            return Raw(FAIL, "the grading worker's report could not be read")
        if status != PASS:
            return raw
        try:
            metas = list(message.get("expectations", []))[:10_000]
            arrays = self._load_arrays(self.work / "out" / f"{message['name']}.{message['label']}.npz", len(metas))
            for i, meta in enumerate(metas):
                got = {k.split(".", 1)[1]: v for k, v in arrays.items() if k.split(".", 1)[0] == str(i)}
                rows = got.pop("__rows__", None)
                raw.expectations.append(Expectation(
                    key=str(meta["key"]), arrays=got, kind=str(meta["kind"]), message=_text(meta.get("message", "")),
                    rows=rows, hint=tuple(h for h in meta.get("hint", []) if isinstance(h, (str, int, float))),
                    advice=_text(meta["advice"]) if meta.get("advice") else None, block=int(meta.get("block", 0))))
        except FileNotFoundError:
            return Raw(FAIL, "the grading worker reported a pass without the values behind it (a report forged "
                             "by code in the submission?)")
        except (OSError, KeyError, TypeError, ValueError, AttributeError, zipfile.BadZipFile) as e:
            return Raw(FAIL, f"the grading worker's values could not be read ({type(e).__name__}: {str(e)[:200]})")
        return raw

    def _load_arrays(self, path, count):
        """The arrays of an .npz the worker wrote: plain arrays of the `count` expectations only, within
        ARRAYS_CAP for this check and SUBMISSION_ARRAYS_CAP for the whole submission (restarts included)."""
        if not path.is_file() or path.is_symlink():
            raise FileNotFoundError(path.name)
        wanted = lambda name: name.split(".", 1)[0] in {str(i) for i in range(count)}   # noqa: E731
        with zipfile.ZipFile(path) as archive:
            size = sum(info.file_size for info in archive.infolist() if wanted(info.filename[:-len(".npy")]))
        self.loaded += size
        if size > ARRAYS_CAP or self.loaded > SUBMISSION_ARRAYS_CAP:
            self.limits.append("size of the values returned")
            raise ValueError(f"the values returned are too large ({size >> 20} MB)")
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files if wanted(k)}


def _text(value):
    return str(value)[:MESSAGE_CAP]


def _parse(line):
    try:
        message = json.loads(line)
    except Exception:  # noqa: BLE001 - ValueError, UnicodeDecodeError, RecursionError: a line to ignore
        return None
    return message if isinstance(message, dict) else None


def _death(code, ready, name):
    if code == -signal.SIGXFSZ:
        reason = "a file it wrote passed the size limit (printing in a loop?)"
    elif code == -signal.SIGXCPU:
        reason = "it used up its CPU time"
    elif code == -signal.SIGKILL:
        reason = "it was killed (out of memory?)"
    elif code is not None and code < 0:
        reason = f"it crashed ({signal.Signals(-code).name})" if -code in signal.valid_signals() else "it crashed"
    else:
        reason = f"it exited with status {code} (sys.exit or os._exit in your code?)"
    where = f"while checking {name}" if name else "while importing your file"
    return f"the grading process ended {where}: {reason}"


def _plain_env():
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("NBGRADER_EXECUTION", None)
    return env


def failed_report(labels, error, lab, coverage=False):
    """A report in grade_file's form where every function of `lab` (and the coverage check) failed for `error`."""
    failed = [{"name": n, "status": FAIL, "message": error, "seconds": 0.0, "notes": []} for n in lab.functions]
    return {"report": {label: failed for label in labels}, "error": error, "limits": [],
            "coverage": {"status": FAIL, "message": error, "report": None} if coverage else None}


# ---------------------------------------------------------------------------
# The worker: runs the student's code, reports values, decides nothing.
# ---------------------------------------------------------------------------

def _worker(work, lab_name, labels, per_check, fd, names):
    out = os.fdopen(fd, "w", buffering=1)
    write, dumps, save, exit_now = out.write, json.dumps, np.savez, os._exit   # bound before student code runs
    lab = LABS[lab_name]
    work = Path(work)
    refs = {label: BlindReference.load(work / "refs" / f"{label}.npz") for label in labels.split(",")}
    impl_path = next((work / "submission").glob("*.py"))
    try:
        impl = load_module(impl_path)
    except ImplementationImportError as e:
        write(dumps({"import_error": str(e)}) + "\n")
        exit_now(0)
    write(dumps({"ready": True}) + "\n")
    for name in names:
        for label, ref in refs.items():
            ref.take()
            try:
                result = run_one(lab.task(name), impl, ref, impl_path, per_check)
            except BaseException as e:  # noqa: BLE001 - whatever escaped the runner's own handling
                result = Result(name, FAIL, f"the check was stopped by {type(e).__name__}: {e}")
            metas, arrays = [], {}
            if result.passed:
                for i, e in enumerate(ref.take()):
                    for key, value in e.arrays.items():
                        arrays[f"{i}.{key}"] = value
                    if e.rows is not None:
                        arrays[f"{i}.__rows__"] = np.asarray(e.rows)
                    metas.append({"key": e.key, "kind": e.kind, "message": e.message, "hint": list(e.hint),
                                  "advice": e.advice, "block": e.block})
                save(work / "out" / f"{name}.{label}.npz", **arrays)
            write(dumps({"name": name, "label": label, "status": result.status, "message": result.message,
                         "notes": result.notes, "seconds": result.seconds, "expectations": metas}) + "\n")
    out.flush()
    exit_now(0)   # skip atexit handlers the student's code may have registered


if __name__ == "__main__":
    _worker(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6:])
