"""Tables of numbers answered in a notebook cell (the classic lab's min-max question), graded without
shipping the answer.

The reference file holds only a SHA-256 digest of the right table, so reading it
(or this file) does not reveal the values; a wrong table is reported as wrong
with the spec's hint, never with the right numbers. The answer cell is read,
never run: its values must be literal numbers, and anything else (a name, a
call, a number too large for a float, a cell of megabytes) is a wrong answer
with a message, never a crash of the grader.
"""

import ast
import hashlib
import math
from dataclasses import dataclass

import numpy as np

from checks.core.status import FAIL, NOT_ANSWERED, PASS

CELL_CAP = 100_000    # characters of an answer cell that are read; a longer cell is not an answer


@dataclass(frozen=True)
class Table:
    """A table of numbers answered in a notebook cell: only a digest of the right one is stored.

    - names: the variables the answer cell assigns, each a list of `length` numbers;
    - hint: what to say about a wrong table (never the right values);
    - title: what the student calls it ("min-max table").
    The right values are read from the solution notebook's answer cell, so no code
    that computes the answer is shipped.
    """
    names: tuple = ("x_values", "y_values")
    length: int = 6
    hint: str = "not right yet"
    title: str = "answer table"

    def required(self, key):
        return []    # graded from the notebook's answer cell, never by running code

    def answers(self, solution, key, gen, weights_seed, batch):
        values = read_table(solution.notebook.cells, self.names)
        return {f"{key}_digest": np.array(table_digest(key, [values[n] for n in self.names]))}

    def status(self, key, values, reference):
        """(status, message) of the student's `values` ({name: list}) against the digest in `reference`."""
        columns = [values.get(n) for n in self.names]
        if any(not isinstance(c, (list, tuple)) for c in columns):
            return FAIL, f"give {' and '.join(self.names)} as lists of {self.length} numbers"
        if any(v is None for c in columns for v in c):
            return NOT_ANSWERED, "replace every None with the value after that step"
        if any(len(c) != self.length for c in columns):
            return FAIL, (f"give exactly {self.length} values in each of {', '.join(self.names)} (one per step), "
                          f"not {', '.join(str(len(c)) for c in columns)}")
        try:
            numbers = [float(v) for c in columns for v in c]
        except (TypeError, ValueError, OverflowError):
            return FAIL, "every value must be a number (and not one too large for a float)"
        if not all(math.isfinite(v) for v in numbers):
            return FAIL, "every value must be a finite number"
        if table_digest(key, columns) == str(reference[f"{key}_digest"]):
            return PASS, ""
        return FAIL, self.hint


def table_digest(key, columns):
    """The digest of the table `key` with these columns of numbers (compared as numbers: 1 and 1.0 alike)."""
    text = ";".join(",".join(f"{float(v):g}" for v in column) for column in columns)
    return hashlib.sha256(f"gan-table/{key}/{text}".encode()).hexdigest()


def read_table(cells, names):
    """{name: list of numbers} assigned as literals in the answer cell among `cells` (nbformat cells).

    The answer cell is the first code cell that assigns all `names`; it is read,
    never run, and a name assigned twice keeps its last value (in a solution
    notebook, the answer after the student's placeholder). Raises ValueError
    with what is wrong.
    """
    for cell in cells:
        if cell.cell_type != "code" or len(cell.source) > CELL_CAP:
            continue
        try:
            tree = ast.parse(cell.source)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            continue
        assignments = [node for node in tree.body if isinstance(node, ast.Assign) and len(node.targets) == 1
                       and isinstance(node.targets[0], ast.Name) and node.targets[0].id in names]
        if {node.targets[0].id for node in assignments} != set(names):
            continue
        values = {}
        for node in assignments:
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                raise ValueError(f"{node.targets[0].id} must be a list of plain numbers, written out "
                                 "(no names, calls or arithmetic)") from None
        return values
    raise ValueError(f"no cell assigns {' and '.join(names)} as lists of plain numbers")
