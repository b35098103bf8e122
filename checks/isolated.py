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
  what it prints goes to a file whose size the sandbox caps;
- everything the worker hands back is verified, never trusted: report fields
  of the wrong type or size fail that function alone; a values file is read
  member by member, each array's size taken from its header before anything
  is loaded (ARRAYS_CAP, SUBMISSION_ARRAYS_CAP); figures judged without a
  stored answer are computed here from raw values (the lab's judges);
- each worker gets a fresh folder, deleted when it ends: what a dead worker
  wrote (to fill the sandbox's disk quota, or to be read later) reaches no one.
The coverage check of submitted weights (a lab's "weights" task) loads them into
the instructor's network (the student's builder passed its check: same
architecture), never into the student's code.
"""

import dataclasses
import json
import math
import os
import re
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
from checks.sandbox import remove, start, stop
from gan_assignment.provided.modules import PROJECT, ImplementationImportError, load_module

GRADING_TIME_LIMIT = 30   # seconds for one function (its visible and hidden checks) while grading: ~10 x a correct one's
IMPORT_LIMIT = 60   # seconds to start a worker and import the student's file
SLACK = 10          # seconds the worker's own alarm gets before this process kills it
OUTPUT_CAP = 32 * 2 ** 20      # bytes of report read from one worker
LINE_CAP = 2 ** 20             # bytes of one report line parsed (a correct one writes < 100 kB): json's objects
                               # cost many times the text they come from
# Bytes of values accepted from the worker, counted at 8 bytes a value at least (the comparison's float64
# copy): the largest check of a correct solution sends 14 MB (dcgan_weights_init), a whole submission
# about 40 MB (visible and hidden). They bound what one submission costs this process.
ARRAYS_CAP = 64 * 2 ** 20        # from one check
SUBMISSION_ARRAYS_CAP = 256 * 2 ** 20   # from a whole submission, restarted workers included
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
    inputs = Path(tempfile.mkdtemp(prefix="grading-"))   # this process's: each worker gets a copy
    try:
        (inputs / "submission").mkdir()
        (inputs / "refs").mkdir()
        shutil.copyfile(impl, inputs / "submission" / Path(impl).name)
        for label, ref in refs.items():
            BlindReference.of(ref).save(inputs / "refs" / f"{label}.npz")
        run = _WorkerRun(inputs, lab, list(refs), time_limit, sandbox, Path(kit or PROJECT), import_limit)
        raw = run.collect()
    finally:
        remove(inputs)
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

    def __init__(self, inputs, lab, labels, time_limit, sandbox, kit, import_limit):
        self.inputs, self.lab, self.labels, self.time_limit = inputs, lab, labels, time_limit
        self.work = None   # the folder of the worker running now
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

    def _fresh_work(self):
        """A new folder for one worker, holding copies of the inputs: nothing a dead worker wrote (files that
        fill the disk quota, or that a later worker would trust) reaches the next one."""
        work = Path(tempfile.mkdtemp(prefix="grading-worker-"))
        shutil.copytree(self.inputs, work, dirs_exist_ok=True)
        (work / "out").mkdir()
        return work

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
        self.work = self._fresh_work()
        read_fd, write_fd = os.pipe()
        try:
            proc = self._start(names, write_fd)
        except BaseException:
            os.close(read_fd)
            remove(self.work)
            raise
        finally:
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
                    where = expected[0][0] if ready else None
                    try:
                        proc.wait(timeout=SLACK)
                    except subprocess.TimeoutExpired:   # it closed its report and went on: it can say no more
                        stop(proc)
                        self.error = _death(None, ready, where, "") + "its report was closed (by your code?)"
                        break
                    self.error = _death(proc.returncode, ready, where, proc.disk_exceeded)
                    if _signal_of(proc.returncode) in (signal.SIGXFSZ, signal.SIGXCPU, signal.SIGKILL):
                        self.limits.append(_death_reason(proc.returncode, proc.disk_exceeded))
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
                    message = _parse(line) if len(line) <= LINE_CAP else None
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
            remove(self.work)   # whatever it left there, with whatever permissions
        return done, stopped

    def _raw(self, message):
        """What the worker reported for one function, or a FAIL saying why it cannot be used: everything in
        `message` and in its values file was written by a process the student's code ran in."""
        try:
            return self._read_raw(message)
        except FileNotFoundError:
            return Raw(FAIL, "the grading worker reported a pass without the values behind it (a report forged "
                             "by code in the submission?)")
        except RefusedValues as e:
            self.limits.append("size of the values returned")
            return Raw(FAIL, f"the values returned were refused: {e}")
        except Exception as e:  # noqa: BLE001 - a malformed report fails this function alone
            return Raw(FAIL, f"the worker's report could not be read ({type(e).__name__}: {str(e)[:200]})")

    def _read_raw(self, message):
        status = str(message.get("status", FAIL))
        notes = message.get("notes", [])
        seconds = float(message.get("seconds", 0.0) or 0.0)
        raw = Raw(status, _text(message.get("message", "")),
                  [_text(n) for n in (notes if isinstance(notes, list) else [])[:20]],
                  seconds if 0 <= seconds < 1e6 else 0.0)
        if status != PASS:
            return raw
        metas = message.get("expectations", [])
        if not isinstance(metas, list) or len(metas) > MAX_EXPECTATIONS:
            raise ValueError(f"expectations must be a list of at most {MAX_EXPECTATIONS}")
        arrays = self._load_arrays(self.work / "out" / f"{message['name']}.{message['label']}.npz", len(metas))
        for i, meta in enumerate(metas):
            got = arrays.get(i, {})
            rows = got.pop("__rows__", None)
            block = meta.get("block", 0)
            if not isinstance(block, int) or isinstance(block, bool) or not 0 <= block < MAX_EXPECTATIONS:
                raise ValueError(f"block {str(block)[:20]!r} is not a small whole number")
            raw.expectations.append(Expectation(
                key=_text(meta["key"]), arrays=got, kind=_text(meta["kind"]), message=_text(meta.get("message", "")),
                rows=rows, hint=tuple(h for h in meta.get("hint", [])[:10] if _plain_hint(h)),
                advice=_text(meta["advice"]) if meta.get("advice") else None, block=block))
        return raw

    def _load_arrays(self, path, count):
        """{i: {key: array}} from the .npz the worker wrote for `count` expectations, each member named
        "<i>.<key>.npy". Every member's size is read from its header before anything is loaded, and counted
        at 8 bytes a value at least (what the comparison's float64 copy costs), within ARRAYS_CAP for this
        check and SUBMISSION_ARRAYS_CAP for the whole submission (restarts included); anything else in the
        archive (another name, a pickled object, a compressed member, a huge index) is refused whole."""
        if not path.is_file() or path.is_symlink():
            raise FileNotFoundError(path.name)
        if path.stat().st_size > ARRAYS_CAP:
            raise RefusedValues(f"a file of {path.stat().st_size >> 20} MB")
        with open(path, "rb") as f, zipfile.ZipFile(_bounded_index(f)) as archive:
            members = archive.infolist()
            if len(members) > MAX_EXPECTATIONS:
                raise RefusedValues(f"{len(members)} arrays")
            planned, cost = [], 0
            for info in members:
                name = MEMBER.fullmatch(info.filename)
                if name is None or int(name["index"]) >= count:
                    raise RefusedValues(f"an archive member {info.filename[:60]!r} no check writes")
                if info.compress_type != zipfile.ZIP_STORED:
                    raise RefusedValues(f"a compressed archive member ({info.filename[:60]!r})")
                with archive.open(info) as member:
                    shape, dtype = _npy_header(member)
                cost += math.prod(shape) * max(dtype.itemsize, 8)
                planned.append((int(name["index"]), name["key"], info))
            if cost > ARRAYS_CAP or self.loaded + cost > SUBMISSION_ARRAYS_CAP:   # refused values cost nothing
                raise RefusedValues(f"they would take {cost >> 20} MB (the submission's so far: {self.loaded >> 20} MB)")
            self.loaded += cost
            arrays = {}
            for index, key, info in planned:
                with archive.open(info) as member:
                    arrays.setdefault(index, {})[key] = np.lib.format.read_array(member, allow_pickle=False)
        return arrays


class RefusedValues(ValueError):
    """Values from the worker that this process will not load (too large, or not what a check writes)."""


MEMBER = re.compile(r"(?P<index>\d{1,6})\.(?P<key>[A-Za-z_][A-Za-z0-9_]{0,63})\.npy")
MAX_EXPECTATIONS = 10_000


def _bounded_index(f):
    """`f` (an open .npz) after checking that its index is small: zipfile reads the whole central directory
    into memory, and a crafted one of hundreds of MB would cost gigabytes there."""
    f.seek(0, os.SEEK_END)
    size = f.tell()
    f.seek(max(0, size - (1 << 16) - 22))
    tail = f.read()
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or len(tail) - end < 22:
        raise RefusedValues("not an archive np.savez writes")
    if b"PK\x06\x07" in tail[:end]:   # a zip64 locator: zipfile would follow it to an index of any size
        raise RefusedValues("a zip64 archive (np.savez writes none this small)")
    index_size = int.from_bytes(tail[end + 12:end + 16], "little")
    if index_size > INDEX_CAP:
        raise RefusedValues(f"an archive index of {index_size >> 10} KB")
    f.seek(0)
    return f


INDEX_CAP = 1 << 20   # bytes of zip index: ~10,000 members (a check writes at most a few hundred)


def _npy_header(member):
    """(shape, dtype) of the .npy stream `member`, read from its header only; refuses objects."""
    version = np.lib.format.read_magic(member)
    if version not in ((1, 0), (2, 0), (3, 0)):
        raise RefusedValues("an array file of an unknown version")
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, _, dtype = read(member, max_header_size=10_000)
    if dtype.hasobject or not all(isinstance(n, int) and n >= 0 for n in shape) or len(shape) > 8:
        raise RefusedValues("an array of objects, or of an impossible shape")
    return shape, dtype


def _plain_hint(value):
    return isinstance(value, (str, int, float)) and not isinstance(value, bool) and len(str(value)) < 200


def _text(value):
    return str(value)[:MESSAGE_CAP]


def _parse(line):
    try:
        message = json.loads(line)
    except Exception:  # noqa: BLE001 - ValueError, UnicodeDecodeError, RecursionError: a line to ignore
        return None
    return message if isinstance(message, dict) else None


def _death(code, ready, name, disk=None):
    """What ended a worker, for the student: `disk` says what it wrote too much of; "" leaves the reason out."""
    where = f"while checking {name}" if name else "while importing your file"
    return f"the grading process ended {where}: " + ("" if disk == "" else _death_reason(code, disk))


def _death_reason(code, disk=None):
    number = _signal_of(code)
    if disk:
        return f"it wrote {disk} to its folder (the sandbox's disk limit)"
    if number == signal.SIGXFSZ:
        return "a file it wrote passed the size limit (printing in a loop?)"
    if number == signal.SIGXCPU:
        return "it used up its CPU time"
    if number == signal.SIGKILL:
        return "it was killed (out of memory?)"
    if number is not None:
        return f"it crashed ({signal.strsignal(number) or f'signal {number}'})"
    return f"it exited with status {code} (sys.exit or os._exit in your code?)"


def _signal_of(code):
    """The signal that ended a process with exit status `code`, or None: Python says -N; bubblewrap, whose
    child it was, exits with 128 + N."""
    if code is None:
        return None
    number = -code if code < 0 else code - 128 if 128 < code < 128 + 65 else None
    return number if number is not None and 0 < number < 65 else None


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
