"""Run the checks against any file that implements the student functions.

    python -m checks                          # gan_assignment/gan_pytorch.py, every function
    python -m checks bce_loss generator       # only these
    python -m checks --impl path/to/gan_pytorch.py

In a notebook: `from checks import check; check("sample_noise")`. The file is
read afresh on every run, so edits are checked without restarting anything.
Set GAN_IMPL=path/to/gan_pytorch.py to make that path the default everywhere
(the instructor notebook runs on the solutions so).
"""

import argparse
import importlib.util
import itertools
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import torch

from checks.functions import CHECKS
from checks.reference import REFERENCE_FILE, CheckFailure, ReferenceAnswers, describe_error, needs_gpu

ROOT = Path(__file__).resolve().parent.parent
STUDENT_FILE = ROOT / "gan_assignment" / "gan_pytorch.py"
STUDENT_FUNCTIONS = list(CHECKS)
TIME_LIMIT = 60  # seconds per function: far above a correct answer's, well below a student's patience

# A failure here often comes from the function it builds on.
BUILDS_ON = {"discriminator_loss": "bce_loss", "generator_loss": "bce_loss"}

PASS, FAIL, NOT_IMPLEMENTED = "PASS", "FAIL", "NOT IMPLEMENTED"

_module_ids = itertools.count()


class ImplementationImportError(Exception):
    """The student file could not be imported; the message says where and why."""


@dataclass
class Result:
    """One function's verdict. `notes`: advice on a passing function (what works beyond the classic
    contract, or does not), never a reason to fail."""
    name: str
    status: str
    message: str = ""
    seconds: float = 0.0
    notes: list = field(default_factory=list)

    @property
    def passed(self):
        return self.status == PASS

    def line(self):
        text = f"{self.status:<16} {self.name}"
        if self.message:
            first, *rest = self.message.splitlines()
            text += f": {first}" + "".join(f"\n{'':<17}{line}" for line in rest)
        for note in self.notes:
            text += f"\n{'':<17}note: {note}"
        return text


def load_impl(path):
    """Import the file at `path` as a fresh module (edits since the last run are seen)."""
    path = Path(path).resolve()
    if not path.is_file():
        raise ImplementationImportError(f"no such file: {path}")
    name = f"_gan_impl_{next(_module_ids)}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as e:
        raise ImplementationImportError(f"{path.name} line {e.lineno}: SyntaxError: {e.msg}") from None
    except BaseException as e:  # noqa: BLE001 - whatever the student's file raises at import
        if isinstance(e, KeyboardInterrupt):
            raise
        raise ImplementationImportError(f"importing {path.name} raised {describe_error(e, path)}") from None
    finally:
        sys.modules.pop(name, None)
    return module


def implementation_path():
    """The file being worked on: $GAN_IMPL if set (instructors run the solutions so), else the student file.

    A relative GAN_IMPL is taken from the current folder if it exists there, else
    from the project folder (a notebook's kernel runs in the notebook's folder).
    """
    path = Path(os.environ.get("GAN_IMPL") or STUDENT_FILE)
    if not path.is_absolute() and not path.exists():
        path = ROOT / path
    return path.resolve()


def student_module():
    """Import the student functions afresh from implementation_path(): the latest edits count."""
    return load_impl(implementation_path())


def run_checks(impl_path=None, names=None, reference=None, time_limit=TIME_LIMIT):
    """Check each function in `names` (default: all) of the file `impl_path`; return Results."""
    impl_path = impl_path or implementation_path()
    names = list(names or STUDENT_FUNCTIONS)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise ValueError(f"no check for {', '.join(unknown)}; the functions are: {', '.join(STUDENT_FUNCTIONS)}")
    ref = reference or ReferenceAnswers()
    impl_path = Path(impl_path).resolve()
    try:
        impl = load_impl(impl_path)
    except ImplementationImportError as e:
        return [Result(n, FAIL, f"could not import your file: {e}") for n in names]

    results = {}
    for name in names:
        results[name] = _run_one(name, impl, ref, impl_path, time_limit)
        dependency = BUILDS_ON.get(name)
        if results[name].status == FAIL and dependency:
            dep = results.get(dependency) or _run_one(dependency, impl, ref, impl_path, time_limit)
            if not dep.passed:
                results[name].message += f"\n(it probably uses {dependency}, which does not pass yet: fix that first)"
            elif dep.notes:
                results[name].message += (f"\n(if it uses {dependency}: {dependency} passes, with a note: "
                                          f"{dep.notes[0]})")
    return [results[n] for n in names]


def _run_one(name, impl, ref, impl_path, time_limit):
    if not callable(getattr(impl, name, None)):
        return Result(name, FAIL, f"your file has no function named {name}")
    start = time.perf_counter()
    notes = []
    try:
        # The student's seeds must not leak into the notebook's random state, and vice versa.
        with torch.random.fork_rng(devices=[]), _time_limit(time_limit):
            torch.manual_seed(0)
            notes = CHECKS[name](impl, ref) or []
        status, message = PASS, ""
    except NotImplementedError as e:
        status, message = NOT_IMPLEMENTED, "" if str(e) == f"{name} is not implemented yet" else str(e)
    except CheckFailure as e:
        status, message = FAIL, str(e)
    except _TimeUp:
        status, message = FAIL, f"did not finish within {time_limit} s (an endless loop?)"
    except Exception as e:  # noqa: BLE001 - a crash in student code is a failure to report, not to raise
        status, message = FAIL, ("" if needs_gpu(e) else "raised ") + describe_error(e, impl_path)
    return Result(name, status, message, time.perf_counter() - start, notes)


class _TimeUp(BaseException):
    """Raised by the alarm; a BaseException so student code's `except Exception` cannot swallow it."""


@contextmanager
def _time_limit(seconds):
    # SIGALRM exists only on Unix and works only in the main thread; elsewhere there is no limit.
    if not seconds or not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def alarm(_signum, _frame):
        raise _TimeUp()

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check(*names, impl=None):
    """Check the named functions (default: all) and print one line each; True if all pass.

    Meant for notebooks: `check("sample_noise")`.
    """
    results = run_checks(impl, names or None)
    for result in results:
        print(result.line())
    return all(r.passed for r in results)


def require(*names, impl=None):
    """True when all the named functions pass; otherwise print which do not, and return False.

    Training cells start with `if require(...):`, so "Run All" never stops on them.
    While nbgrader autogrades, training is skipped: grading needs none of it.
    """
    if os.environ.get("NBGRADER_EXECUTION"):
        print("Training is skipped while autograding.")
        return False
    failing = [r for r in run_checks(impl, names) if not r.passed]
    if failing:
        print("This cell trains once these functions pass their checks:\n"
              + "\n".join(f"  {r.status:<16} {r.name}" for r in failing))
    return not failing


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m checks",
        description="Check the GAN assignment's functions against the reference answers.")
    parser.add_argument("functions", nargs="*", metavar="FUNCTION",
                        help=f"which functions to check (default: all): {', '.join(STUDENT_FUNCTIONS)}")
    parser.add_argument("--impl", default=None,
                        help="the file to check (default: $GAN_IMPL, else gan_assignment/gan_pytorch.py)")
    args = parser.parse_args(argv)

    impl = Path(args.impl) if args.impl else implementation_path()
    if not impl.is_file():
        print(f"error: {impl} does not exist", file=sys.stderr)
        return 2
    if not REFERENCE_FILE.is_file():
        print(f"error: the reference answers {REFERENCE_FILE} are missing", file=sys.stderr)
        return 2
    try:
        results = run_checks(impl, args.functions or None)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    print(f"Checking {impl}")
    for result in results:
        print(result.line())
    counts = {s: sum(r.status == s for r in results) for s in (PASS, FAIL, NOT_IMPLEMENTED)}
    print(f"\n{counts[PASS]} of {len(results)} functions pass"
          f" ({counts[FAIL]} fail, {counts[NOT_IMPLEMENTED]} not implemented)")
    return 0 if counts[PASS] == len(results) else 1
