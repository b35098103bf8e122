"""Run the checks against any file that implements a lab's student functions.

    python -m checks                          # every lab's student file, every function
    python -m checks bce_loss generator       # only these (the lab is found from the names)
    python -m checks --lab mode_collapse      # one lab
    python -m checks --impl path/to/gan_pytorch.py   # another file of a lab (the lab from its name or --lab)

In a notebook: `from checks import check; check("sample_noise")`. The file is
read afresh on every run, so edits are checked without restarting anything.
Set GAN_IMPL to a folder (every lab's module is taken from there: the
instructor notebooks run on solutions/ so) or to one file of a lab (gan_pytorch by default).
Which labs exist: checks/registry.py; their functions, checks and what they build on: checks/labs/<lab>.py.
"""

import argparse
import signal
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import torch

from checks.core.helpers import describe_error, needs_gpu
from checks.core.status import FAIL, NOT_IMPLEMENTED, PASS, CheckFailure, Result
from checks.feedback import Feedback, fail_under_nbgrader, show, validating
from checks.registry import LABS, MAIN, lab_of
from gan_assignment.provided import modules
from gan_assignment.provided.modules import ImplementationImportError, load_module

CHECK_TIME_LIMIT = 60   # seconds per function in `make check`: far above a correct answer's, below a student's patience


def implementation_path(lab=None):
    """The file being worked on for `lab` (a Lab or its name; default: the main lab): gan_assignment/<lab>.py, or
    where GAN_IMPL points (see gan_assignment.provided.modules.implementation_path)."""
    lab = lab or MAIN or next(iter(LABS.values()))
    return modules.implementation_path(lab if isinstance(lab, str) else lab.module)


def student_module(lab=None):
    """Import the student functions of `lab` (a Lab or its name; default: the main lab) afresh from
    implementation_path(lab): the latest edits count."""
    return load_module(implementation_path(lab))


def lab_for(names=None, impl_path=None, lab=None):
    """The lab meant: named (a Lab or its name), else the one holding `names`, else the one whose module
    `impl_path` is named after, else gan_pytorch, the main lab."""
    if lab is not None:
        return LABS[lab] if isinstance(lab, str) else lab
    if names:
        unknown = [n for n in names if _unknown(n)]
        if unknown:
            functions = ", ".join(f for lab in LABS.values() for f in lab.functions)
            raise ValueError(f"no check for {', '.join(unknown)}; the functions are: {functions}")
        labs = {lab_of(n).name for n in names}
        if len(labs) > 1:
            raise ValueError(f"{', '.join(names)} belong to different labs ({', '.join(sorted(labs))}): check them apart")
        return LABS[labs.pop()]
    if impl_path is not None and Path(impl_path).stem in LABS:
        return LABS[Path(impl_path).stem]
    return MAIN or next(iter(LABS.values()))   # a release of another lab holds that lab alone


def run_checks(impl_path=None, names=None, reference=None, time_limit=CHECK_TIME_LIMIT, lab=None):
    """Check each function in `names` (default: all of the lab's) of the file `impl_path`; return Results."""
    lab = lab_for(names, impl_path, lab)
    impl_path = impl_path or implementation_path(lab)
    names = list(names or lab.functions)
    unknown = [n for n in names if n not in lab.functions]
    if unknown:
        raise ValueError(f"no check for {', '.join(unknown)}; the functions are: {', '.join(lab.functions)}")
    ref = reference or lab.answers()
    impl_path = Path(impl_path).resolve()
    try:
        impl = load_module(impl_path)
    except ImplementationImportError as e:
        # One error, said once: the other functions refer to it.
        return [Result(n, FAIL, f"could not import your file: {e}" if i == 0 else
                       f"could not import your file (the error is under {names[0]})") for i, n in enumerate(names)]

    results = {}
    for name in names:
        task = lab.task(name)
        results[name] = run_one(task, impl, ref, impl_path, time_limit)
        for dependency in task.builds_on if results[name].status == FAIL else ():
            dep = results.get(dependency) or run_one(lab.task(dependency), impl, ref, impl_path, time_limit)
            results[name].message += dependency_message(dependency, dep.passed, dep.notes)
    return [results[n] for n in names]


def dependency_message(dependency, passed, notes):
    """What a failing function's message adds about a function it builds on."""
    if not passed:
        return f"\n(it probably uses {dependency}, which does not pass yet: fix that first)"
    if notes:
        return f"\n(if it uses {dependency}: {dependency} passes, with a note: {notes[0]})"
    return ""


def explain_dependencies(lab, results):
    """The same, for the grader's verdicts: `results` is {name: result dict} of all of `lab`'s functions."""
    for name, result in results.items():
        if result["status"] == FAIL:
            for dependency in lab.task(name).builds_on:
                if dependency in results:
                    dep = results[dependency]
                    result["message"] += dependency_message(dependency, dep["status"] == PASS, dep["notes"])


def _unknown(name):
    try:
        lab_of(name)
        return False
    except KeyError:
        return True


def run_one(task, impl, ref, impl_path, time_limit):
    """The Result of `task`'s check on the module `impl` (its file: `impl_path`) against `ref`, within `time_limit` s.

    Whatever the student's code does (raise, loop forever, call sys.exit) ends as this task's FAIL or
    NOT IMPLEMENTED, never as an exception here."""
    name = task.name
    if not callable(getattr(impl, name, None)):
        return Result(name, FAIL, f"your file has no function named {name}")
    start = time.perf_counter()
    notes = []
    try:
        # The student's seeds must not leak into the notebook's random state, and vice versa; and one
        # function that switches autograd off for good must not fail the checks after it.
        with torch.random.fork_rng(devices=[]), torch.enable_grad(), _time_limit(time_limit):
            torch.manual_seed(0)
            notes = task.check(impl, ref, task) or []
        status, message = PASS, ""
    except NotImplementedError as e:
        status, message = NOT_IMPLEMENTED, "" if str(e) == f"{name} is not implemented yet" else str(e)
    except CheckFailure as e:
        status, message = FAIL, str(e)
    except _TimeUp:
        status, message = FAIL, f"did not finish within {time_limit} s (an endless loop?)"
    except SystemExit as e:   # exit() in one function fails that function, not the whole run
        status, message = FAIL, (f"called sys.exit({e.code!r}) (or exit()): a function must return its result; "
                                 "nothing in it may end the program")
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
    """Check the named functions (default: all of the classic lab) and show the verdicts.

    Meant for notebooks: `check("sample_noise")` shows a PASS / FAIL / NOT IMPLEMENTED badge
    and what to fix, and returns nothing (a returned True/False would print under it). Under
    nbgrader (its Validate button) a function that does not pass also fails the cell.
    """
    fail_under_nbgrader(show(run_checks(impl, names or None)))


def require(*names, impl=None):
    """True when all the named functions pass; otherwise print which do not, and return False.

    Training cells start with `if require(...):`, so "Run All" never stops on them.
    While nbgrader autogrades, training is skipped: grading needs none of it.
    """
    if validating():
        print("Training is skipped while nbgrader runs the notebook (Validate, autograding).")
        return False
    failing = [r for r in run_checks(impl, names) if not r.passed]
    if failing:
        print("This cell trains once these functions pass their checks:\n"
              + "\n".join(f"  {r.status:<16} {r.name}" for r in failing))
    return not failing


def check_table(name, **values):
    """Show PASS, FAIL or NOT ANSWERED for the answer table `name` (under nbgrader, anything but PASS fails the
    cell): its `values` ({variable: list of numbers}) against the digest of the right table."""
    lab = lab_of(name)
    status, message = lab.task(name).spec.status(name, values, lab.answers())
    fail_under_nbgrader(show([Result(lab.task(name).spec.title, status, message)]))


def check_minmax(x_values, y_values):
    """The classic lab's min-max table (inline question 1): check_table("minmax", ...)."""
    check_table("minmax", x_values=x_values, y_values=y_values)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m checks",
        description="Check the course's functions against the reference answers.")
    parser.add_argument("functions", nargs="*", metavar="FUNCTION",
                        help="which functions to check (default: all): "
                             + "; ".join(f"{lab.name}: {', '.join(lab.functions)}" for lab in LABS.values()))
    parser.add_argument("--lab", choices=sorted(LABS), default=None, help="check one lab (default: every lab)")
    parser.add_argument("--impl", default=None,
                        help="the file to check (default: $GAN_IMPL, else the lab's file in gan_assignment/)")
    args = parser.parse_args(argv)

    try:
        if args.functions or args.impl or args.lab:
            labs = [lab_for(args.functions, args.impl, args.lab)]
        else:
            labs = list(LABS.values())
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    failed = False
    for index, lab in enumerate(labs):
        impl = Path(args.impl) if args.impl else implementation_path(lab)
        if not impl.is_file():
            print(f"error: {impl} does not exist", file=sys.stderr)
            return 2
        if not lab.reference_file.is_file():
            print(f"error: the reference answers {lab.reference_file} are missing", file=sys.stderr)
            return 2
        try:
            results = run_checks(impl, args.functions or None, lab=lab)
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        print(("\n" if index else "") + f"Checking {impl}" + ("" if len(labs) == 1 else
              f"  ({lab.name} lab{'' if lab.required else ', optional'})"))
        print(Feedback(results).text())
        counts = {s: sum(r.status == s for r in results) for s in (PASS, FAIL, NOT_IMPLEMENTED)}
        print(f"\n{counts[PASS]} of {len(results)} functions pass"
              f" ({counts[FAIL]} fail, {counts[NOT_IMPLEMENTED]} not implemented)")
        # An optional lab not started yet is no failure; a failing function always is.
        untouched_optional = not lab.required and counts[NOT_IMPLEMENTED] == len(results) and len(labs) > 1
        failed |= counts[PASS] != len(results) and not untouched_optional
    return 1 if failed else 0
