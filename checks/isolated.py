"""Grade a student's file in a separate, guarded process (used for autograding).

The parent (`grade_file`) never imports the student's code. The child
(`python -m checks.isolated`) imports it and runs the checks against each
reference file it is given, then reports. Guards:

- time: the whole child has a time limit (an endless loop at import costs one
  timeout, not one per function); each function also has its own limit;
- tampering: before the student's module is imported, the child records which
  object every name in torch, numpy, math, builtins and the checks' own modules
  points to; if the student's code rebinds any of them (to fake a pass), every
  function fails and the report names what was replaced;
- forged reports: the child frames its report with a random token the parent
  sends on stdin, so text printed by the student's code cannot pose as one.

What this does not stop: code written to read the token or the hidden reference
from the child's own memory or disk. Autograding runs students' code as your
own user; run it in a container or as a separate user for exams (see README).
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIME_LIMIT = 120  # seconds for one whole submission: about 20 x a correct one's (5 x with the coverage check)
COVERAGE = "coverage"  # the child's argument naming the saved generator's weights
LAB = "lab"            # the child's argument naming the lab

GUARDED_MODULES = ["builtins", "math", "json", "numpy", "torch", "torch.nn", "torch.nn.functional",
                   "torch.optim", "torch.nn.init", "torch.autograd", "checks", "checks.functions",
                   "checks.reference", "checks.runner", "checks.minmax", "checks.registry", "checks.specs",
                   "gan_assignment.layers",
                   "gan_assignment.utils", "gan_assignment.quality", "checks.coverage"]
GUARDED_CLASSES = ["torch.Tensor", "torch.nn.Module", "torch.optim.Optimizer", "numpy.ndarray"]


def snapshot():
    """{owner: {attribute: fingerprint}} for the guarded modules, their classes and their dicts and lists.

    A fingerprint is the object's id, plus the ids of its items for a dict or list
    (so `CHECKS["bce_loss"] = fake` is seen, not only `CHECKS = fake`).
    """
    import importlib
    import inspect

    def fingerprint(value):
        if isinstance(value, dict):
            return id(value), tuple((repr(k), id(v)) for k, v in value.items())
        if isinstance(value, list):
            return id(value), tuple(id(v) for v in value)
        return id(value)

    found = {}
    for name in GUARDED_MODULES:
        module = importlib.import_module(name)
        found[name] = {k: fingerprint(v) for k, v in vars(module).items()}
        if name.startswith(("checks", "gan_assignment")):  # our own classes' methods too
            for cls_name, cls in vars(module).items():
                if inspect.isclass(cls) and cls.__module__ == name:
                    found[f"{name}.{cls_name}"] = {k: fingerprint(v) for k, v in vars(cls).items()}
    for path in GUARDED_CLASSES:
        module, _, cls = path.rpartition(".")
        found[path] = {k: fingerprint(v) for k, v in vars(getattr(importlib.import_module(module), cls)).items()}
    return found


def replaced(before, after):
    """Names whose object changed between two snapshots (new names are allowed)."""
    return sorted(f"{owner}.{name}" for owner, names in before.items()
                  for name, ident in names.items() if after.get(owner, {}).get(name, ident) != ident)


def _warm_up():
    """Do once what the checks do, so torch's lazy imports rebind their own names now, not later.

    (Creating the first optimiser imports torch._dynamo, which wraps torch.manual_seed.)
    """
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    optimizer = torch.optim.Adam(model.parameters())
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model(torch.rand(3, 2)).sum().backward()
    optimizer.step()


def _child(impl, references):
    """Run in the child: print one framed JSON report {label: [result, ...]} (and the coverage result)."""
    token = sys.stdin.readline().strip()
    sys.stdin.close()
    from checks.coverage import coverage_result
    from checks.reference import ReferenceAnswers
    from checks.runner import FAIL, PASS, load_impl, run_checks

    check_snapshot, check_replaced, write = snapshot, replaced, sys.__stdout__.write  # bound before student code runs
    weights = references.pop(COVERAGE, None)
    lab = references.pop(LAB, None)
    refs = {label: ReferenceAnswers(path) for label, path in references.items()}
    _warm_up()
    before = check_snapshot()
    report = {label: [r.__dict__ for r in run_checks(impl, reference=ref, lab=lab)] for label, ref in refs.items()}
    coverage = None
    if weights and any(r["name"] == "build_dc_generator" and r["status"] != PASS for r in report.get("visible", [])):
        # Only the reference architecture may be graded: any other function could replay real digits.
        coverage = {"status": FAIL, "message": "build_dc_generator must pass its check first", "report": None}
    elif weights:
        try:
            status, message, measured = coverage_result(load_impl(impl), weights)
        except Exception as e:  # noqa: BLE001 - whatever the student's generator raises
            status, message, measured = FAIL, f"your generator failed while sampling: {type(e).__name__}: {e}", None
        coverage = {"status": status, "message": message, "report": measured}
    changed = check_replaced(before, check_snapshot())
    if changed:
        shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
        refused = f"TAMPERING: your code replaced {shown}; grading refuses it"
        for results in report.values():
            for r in results:
                r.update(status=FAIL, message=refused)
        if coverage:
            coverage.update(status=FAIL, message=refused, report=None)
    write(f"\n{token}{json.dumps({'report': report, 'coverage': coverage, 'tampered': changed})}\n")
    sys.__stdout__.flush()
    os._exit(0)  # skip atexit handlers the student's code may have registered


def grade_file(impl, references, time_limit=TIME_LIMIT, weights=None, lab=None):
    """Grade the file `impl` of `lab` (a registry Lab; default: the classic lab) in a child process
    against each of `references` ({label: npz path}).

    With `weights` (a saved DCGAN generator, see checks.coverage), the child also
    runs the coverage check on it.
    Returns {"report": {label: [result dicts]}, "coverage": {status, message, report} or None,
    "tampered": [names], "error": str or None}.
    On a timeout, a crash or a missing report, everything fails with the reason.
    """
    from checks.registry import CLASSIC

    lab = lab or CLASSIC
    token = secrets.token_hex(16)
    arguments = {**references, LAB: lab.name}
    if weights is not None:
        from checks.coverage import ensure_classifier

        ensure_classifier()     # trained (once) here, outside the child's time limit
        arguments[COVERAGE] = weights
    command = [sys.executable, "-m", "checks.isolated", str(Path(impl).resolve()),
               *[f"{label}={path if label == LAB else Path(path).resolve()}" for label, path in arguments.items()]]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("NBGRADER_EXECUTION", None)
    error = None
    try:
        proc = subprocess.run(command, input=token + "\n", capture_output=True, text=True, timeout=time_limit,
                              cwd=Path(impl).resolve().parent, env=env)
        framed = [line for line in proc.stdout.splitlines() if line.startswith(token)]
        if framed:
            return {**json.loads(framed[-1][len(token):]), "error": None}
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        error = f"the grading process ended without a report (exit status {proc.returncode}): {tail[0][:300]}"
    except subprocess.TimeoutExpired:
        error = f"grading did not finish within {time_limit} s (an endless loop when your file is imported?)"
    return failed_report(references, error, coverage=weights is not None, lab=lab)


def failed_report(labels, error, coverage=False, lab=None):
    """A report in grade_file's form where every function of `lab` (and the coverage check) failed for `error`."""
    from checks.registry import CLASSIC
    from checks.runner import FAIL

    failed = [{"name": n, "status": FAIL, "message": error, "seconds": 0.0, "notes": []}
              for n in (lab or CLASSIC).functions]
    return {"report": {label: failed for label in labels}, "tampered": [], "error": error,
            "coverage": {"status": FAIL, "message": error, "report": None} if coverage else None}


if __name__ == "__main__":
    _child(sys.argv[1], dict(arg.split("=", 1) for arg in sys.argv[2:]))
