"""The cause of a check's verdict, with a stable identifier, so that causes add up across a class.

Each FAIL message names its cause in words: "yours applies ReLU() where the
reference applies LeakyReLU(negative_slope=0.01)", "Your value is 5 times too
large on a batch of 5: average with .mean()". Two students with the same slip
get the same message up to their numbers, lines and layer positions. So a
cause's identifier is the task and a digest of the message with those taken
out (`template`): the same slip gives the same identifier in every submission,
in every run, and needs no list of causes kept apart from the checks that
write the messages. Its title is the sentence of the message that says the
slip (`title`). `make report` counts students per cause (tools/report.py).
"""

import hashlib
import re
from dataclasses import dataclass

from checks.core.status import FAIL, NOT_IMPLEMENTED, PASS

# What differs between two students with the same slip: where in their file or network it is, how far off.
_PER_STUDENT = [
    (re.compile(r"\([^()]*(?:relative error|your module|line \d+)[^()]*\)"), ""),   # (relative error 2.2e-01: ...)
    (re.compile(r"\b[\w.]+\.py line \d+: `[^`]*`"), "<line>"),                     # gan_pytorch.py line 57: `code`
    (re.compile(r"`[^`]*`"), "`…`"),
    (re.compile(r"^on input \([^)]*\),? ?"), ""),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "0x#"),                                     # memory addresses in reprs
    (re.compile(r"inplace=True"), ""),                                                 # ReLU(inplace=True) is ReLU()
    (re.compile(r"\b\d+(?:x\d+)+\b"), "#"),                                           # shapes 128x100
    (re.compile(r"\[[-+0-9.,e\s]*\]"), "[#]"),                                     # lists of numbers
    (re.compile(r"(?<![\w.])[-+]?(?:\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?(?:st|nd|rd|th)?|nan|inf)(?![\w])"), "#"),
    (re.compile(r"\s+"), " "),
]


# A network's difference, as checks/core/generic.py writes it: one line each, anchored (no backtracking across lines).
_SIDE_BY_SIDE = re.compile(r"^\s*((?:between|after|before) [^\n]*?):\n[ \t]*the reference applies:[ \t]*([^\n]*)\n"
                           r"[ \t]*yours applies:[ \t]*([^\n]*)", re.M)


@dataclass(frozen=True)
class Cause:
    id: str       # "<task>:<8 hex digits>", or "<task>:not-implemented", ...
    title: str    # the slip, in one line


def template(message):
    """`message` without what differs between students who made the same slip (numbers, lines, positions)."""
    text = message or ""
    for pattern, replacement in _PER_STUDENT:
        text = pattern.sub(replacement, text)
    return text.strip()


def title(message, limit=150):
    """The sentence of `message` that names the slip: what a network applies instead of the reference's, the
    hint after a wrong value, or else the message's first sentence."""
    text = message or ""
    applies = _SIDE_BY_SIDE.search(text)
    if applies:
        where, reference, yours = (applies.group(i).strip() for i in (1, 2, 3))
        where = re.sub(r" \(your module [^()\n]*\)", "", where)
        return _short(f"{where}: {yours or 'other layers'} where the reference applies {reference}", limit)
    hint = re.search(r"returned .*?, expected [-+\d.e]*\d\. (\S.+)", text.split("\n")[0])
    if hint and hint.group(1).strip():
        return _short(hint.group(1).strip(), limit)
    first = text.strip().split("\n")[0]
    return _short(re.split(r"(?<=[a-z)\]])\. ", first)[0], limit)


def _short(text, limit):
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def cause_of(task, status, message):
    """The Cause of `task`'s verdict `status` with `message`; None for a PASS."""
    if status == PASS:
        return None
    if status != FAIL and not status.startswith(FAIL):
        word = "not-implemented" if status == NOT_IMPLEMENTED else re.sub(r"\W+", "-", status.lower()).strip("-")
        return Cause(f"{task}:{word}", status.lower() if status != NOT_IMPLEMENTED else "not implemented")
    digest = hashlib.sha1(template(message).encode()).hexdigest()[:8]
    return Cause(f"{task}:{digest}", title(message))
