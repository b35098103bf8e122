"""Make the student version of a file from the instructor's solution.

The solution marks each answer with nbgrader's own delimiters:

    ### BEGIN SOLUTION
    ...the answer...
    ### END SOLUTION

`strip_solutions` replaces every such region by a stub that raises
NotImplementedError, keeping the indentation, the signature and the docstring
around it. The same delimiters are used in the notebooks, so one mechanism
releases both.

    python -m tools.release            # rewrite gan_assignment/gan_pytorch.py
    python -m tools.release --check    # exit 1 if the committed stub is stale
"""

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTION_FILE = ROOT / "solutions" / "gan_pytorch.py"
STUDENT_FILE = ROOT / "gan_assignment" / "gan_pytorch.py"

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
_DEF = re.compile(r"^\s*def\s+(\w+)\s*\(")


class ReleaseError(ValueError):
    """The solution's markers are malformed (unbalanced, nested or misplaced)."""


def solution_regions(lines):
    """Yield (begin, end) line indices of each solution region, markers included."""
    begin = None
    for i, line in enumerate(lines):
        text = line.strip()
        if text == BEGIN:
            if begin is not None:
                raise ReleaseError(f"line {i + 1}: {BEGIN} inside another solution region")
            begin = i
        elif text == END:
            if begin is None:
                raise ReleaseError(f"line {i + 1}: {END} without a {BEGIN}")
            yield begin, i
            begin = None
    if begin is not None:
        raise ReleaseError(f"line {begin + 1}: {BEGIN} is never closed")


def _stub(indent, function):
    what = f"{function} is" if function else "this is"
    return [
        f"{indent}# TODO: your code here (the docstring above says what to do).\n",
        f'{indent}raise NotImplementedError("{what} not implemented yet")\n',
    ]


def strip_solutions(text):
    """Return `text` with every solution region replaced by a NotImplementedError stub."""
    lines = text.splitlines(keepends=True)
    out, last = [], 0
    for begin, end in solution_regions(lines):
        out.extend(lines[last:begin])
        indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
        function = next((m.group(1) for m in map(_DEF.match, reversed(lines[:begin])) if m), None)
        out.extend(_stub(indent, function))
        last = end + 1
    out.extend(lines[last:])
    return "".join(out)


def solution_lines(text):
    """The code lines inside solution regions (stripped, blank lines and comments left out)."""
    lines = text.splitlines()
    found = []
    for begin, end in solution_regions(lines):
        for line in lines[begin + 1:end]:
            code = line.strip()
            if code and not code.startswith("#"):
                found.append(code)
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the student file differs from what would be generated")
    args = parser.parse_args(argv)
    wanted = strip_solutions(SOLUTION_FILE.read_text())
    rel = STUDENT_FILE.relative_to(ROOT)
    if args.check:
        if STUDENT_FILE.read_text() != wanted:
            print(f"{rel} is out of date: run `make stubs`.", file=sys.stderr)
            return 1
        print(f"{rel} is up to date.")
        return 0
    STUDENT_FILE.write_text(wanted)
    print(f"wrote {rel} from {SOLUTION_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
