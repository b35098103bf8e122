"""The comparison core, where a verdict is decided: a student's values against the reference answers.

A check runs the student's code and hands every value it must compare to
`ref.expect(...)` as an Expectation (checks/core/answers.py). With the full
reference, `judge_one` decides at once. While autograding, the student's code
runs in a sandboxed worker with a BlindReference; the worker only returns its
Expectations, as plain arrays, and the grader's process calls `decide` here.
So nothing the worker prints or returns can claim a PASS:

- a PASS needs every answer its task requires (Network.required and friends,
  checks/core/specs.py) compared here, on all the reference's rows;
- tolerances and the kinds of comparison are this module's, never the worker's;
- messages from the worker are plain text: values are filled in here, with
  nothing but plain names.
A FAIL the worker reports stands: a student's code can only fail itself.

Labs hand in what only they know, through the reference they are judged with
(`ReferenceAnswers.judges` and `.hints`, from the lab's declaration: checks/labs/<lab>.py): judges
decide measurements that have no stored answer (a noise sample's statistics), and
hints say why a value may be off (a loss twice too large). This module imports no lab.
"""

import math
import re
import string
from dataclasses import dataclass

import numpy as np

from checks.core.status import FAIL, PASS

TOLERANCES = {"close": 1e-5, "value": 1e-5, "stable": 1e-6}   # comparisons with a reference answer
MESSAGE_CAP = 4000       # characters of a filled-in message


def relative_difference(got, expected):
    """max |got - expected| / max |expected|: 0 for equal arrays, ~1 for unrelated ones."""
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    scale = max(float(np.abs(expected).max()) if expected.size else 0.0, 1e-12)
    return float(np.abs(got - expected).max()) / scale if got.size else math.inf


# Keys of the answers (what a correct function computes), as opposed to inputs and settings.
ANSWER_KEY = re.compile(r"_(output|classic_output|extreme_output|layer_input_\d+|grad_[a-z_]+|step)$")


def is_answer(key):
    return bool(ANSWER_KEY.search(key)) and not key.startswith("meta_")


@dataclass
class Expectation:
    """One comparison of a student's value with a reference answer, as plain data.

    - key: the answer's key in the reference; arrays: {"got": the student's value}
      (or, for a judged measurement, {name: array} read by the judge `kind`);
    - rows: which rows of the answer to compare with (a repeated reference batch);
    - kind: "close" (arrays, relative error), "value" (one number), "stable"
      (one number, absolute error), or the name of a judge the lab handed in;
    - message: what to say if it differs: a template with {error}, {value}, {expected}, {hint};
      hint: ("name", *args) of a hint the lab handed in, which needs the expected value;
    - advice: a note template with {reason}: a difference here is a note, not a failure;
      block: advice expectations of one block give at most one note.
    """
    key: str
    arrays: dict
    kind: str = "close"
    message: str = "{key} differs from the reference (relative error {error:.1e})"
    rows: object = None
    hint: tuple = ()
    advice: str = None
    block: int = 0


class RelativeError(float):
    """A relative error that reads as words too: "9.8e-03 (about 1 % off: not a rounding difference)".

    "relative error 9.8e-03" alone reads as "almost right" to most students; the words say how far off
    that is compared with what float rounding could explain (the checks allow 1e-05).
    """

    def __format__(self, spec):
        number = format(float(self), spec)
        if not math.isfinite(self):
            return f"{number}: the values are not finite"
        percent = float(self) * 100
        if percent >= 30:
            return f"{number}: as large as the values themselves, a different computation"
        shown = f"{percent:.0f}" if percent >= 10 else f"{percent:.1g}"
        return f"{number}: about {shown} % off, not a rounding difference"


def fill(template, **values):
    """`template` with {name} and {name:spec} fields filled from `values`; any other field is left as text.

    (Templates come from the worker: no attribute or index lookups, nothing but the values given.)
    """
    out = []
    try:
        parsed = list(string.Formatter().parse(str(template)[:MESSAGE_CAP]))
    except ValueError:
        return str(template)[:MESSAGE_CAP]
    for text, name, spec, conversion in parsed:
        out.append(text)
        if name is None:
            continue
        # Only short format specs (".1e", ".6g"): a width of 10**9 would be a 1 GB string.
        if name in values and not conversion and len(spec or "") <= 6 and not any(c.isdigit() for c in
                                                                                  (spec or "").split(".")[0]):
            try:
                out.append(format(values[name], spec or ""))
                continue
            except (ValueError, TypeError):
                pass
        out.append("{" + name + (f":{spec}" if spec else "") + "}")
    return "".join(out)[:MESSAGE_CAP]


def judge_one(expectation, ref):
    """None when the student's value agrees with the reference (or passes its judge), else what to say.

    `ref`: the reference answers, carrying the lab's `judges` and `hints` (checks/core/answers.py)."""
    e = expectation
    if e.kind in ref.judges:
        return ref.judges[e.kind](e.arrays, ref)
    if e.kind not in TOLERANCES:
        return f"the grading worker reported an unknown comparison {e.kind!r} for {e.key}"
    tolerance = TOLERANCES[e.kind]
    expected = np.asarray(ref[e.key], dtype=np.float64)
    got = np.asarray(e.arrays.get("got", np.array(np.nan)))
    if got.dtype.kind not in "biuf" or (e.rows is not None and (expected.ndim == 0 or _index(e.rows) is None)):
        return f"{e.key}: the grading worker returned something that is not numbers"
    got = got.astype(np.float64)
    if e.rows is not None:
        expected = expected[_index(e.rows) % max(len(expected), 1)]
    value = float(got.reshape(-1)[0]) if got.size == 1 else math.nan
    if e.kind == "close":
        if got.size != expected.size:
            return f"{e.key}: got {got.size} values, expected {expected.size}"
        error = RelativeError(relative_difference(got.reshape(expected.shape), expected))
        ok = error <= tolerance
    else:
        expected = float(expected.reshape(-1)[0])
        error = abs(value - expected)
        ok = math.isfinite(value) and (math.isclose(value, expected, rel_tol=tolerance, abs_tol=1e-12)
                                       if e.kind == "value" else error <= tolerance * abs(expected))
    if ok:
        return None
    hint = ""
    if e.hint and e.hint[0] in ref.hints and e.kind != "close":
        try:
            hint = ref.hints[e.hint[0]](value, expected, ref, e.key, *e.hint[1:])
        except Exception:  # noqa: BLE001 - hint arguments come from the worker: a bad one costs the hint only
            hint = ""
    return fill(e.message, error=error, value=value, expected=expected, hint=hint, key=e.key)


def _index(rows):
    """`rows` as an integer index array, or None if it is not one."""
    rows = np.asarray(rows)
    return rows.astype(np.int64).reshape(-1) if rows.dtype.kind in "iu" else None


def _valid(expectation, ref, required):
    """An expectation the grader can use: a known kind, about an answer of this reference (or a judged
    measurement this task requires)."""
    e = expectation
    if e.kind in ref.judges:
        return any(e.key in keys and e.kind in kinds for keys, kinds in required)
    return e.kind in TOLERANCES and is_answer(e.key) and e.key in ref.keys()


def _covers(expectation, ref):
    """Compared on every row of the answer (a subset of rows cannot stand for the whole batch)."""
    e = expectation
    if e.rows is None or e.kind in ref.judges:
        return True
    if np.ndim(ref[e.key]) == 0 or _index(e.rows) is None:
        return False
    size = len(ref[e.key])
    return set((_index(e.rows) % max(size, 1)).tolist()) >= set(range(size))


def decide(task, status, message, notes, expectations, ref):
    """The grader's verdict on one task from the worker's report: (status, message, notes).

    `status`, `message`, `notes`: what the worker's check said; `expectations`: what it
    recorded. The worker can only make its verdict worse, never better; values the
    grader cannot use fail this task alone.
    """
    try:
        return _decide(task, status, message, notes, expectations, ref)
    except Exception as e:  # noqa: BLE001 - whatever the worker's values make go wrong here
        return FAIL, f"grading refused the values the worker reported ({type(e).__name__})", []


def _decide(task, status, message, notes, expectations, ref):
    if status != PASS:
        return status, message, []
    required = task.spec.required(task.name) if task.spec is not None else []
    for e in expectations:
        if not _valid(e, ref, required):
            return FAIL, f"grading refused a value the worker reported for {e.key} ({e.kind})", []
    for keys, kinds in required:
        if not any(e.key in keys and e.kind in kinds and e.advice is None and _covers(e, ref) for e in expectations):
            return FAIL, (f"the check did not get as far as comparing {' or '.join(keys)} with the reference "
                          "(did grading stop early, or was the check changed?)"), []
    notes, advised = list(notes), set()
    for e in expectations:
        if e.advice and e.block in advised:
            continue
        failure = judge_one(e, ref)
        if failure is None:
            continue
        if e.advice:
            advised.add(e.block)
            notes.append(fill(e.advice, reason=failure.strip().splitlines()[0][:160]))
            continue
        return FAIL, failure, []
    return PASS, "", list(dict.fromkeys(notes))
