"""Check the inline question on min-max dynamics without shipping the answer.

The reference file holds only a SHA-256 digest of the correct table, so reading
it (or this file) does not reveal the values; a wrong table is reported as
wrong with a hint, never with the right numbers.
"""

import hashlib
import math

from checks.reference import ReferenceAnswers

STEPS = 6


def table_digest(x_values, y_values):
    """The digest of a table of x and y after each step (values compared as numbers)."""
    text = "x:" + ",".join(f"{float(v):g}" for v in x_values) + ";y:" + ",".join(f"{float(v):g}" for v in y_values)
    return hashlib.sha256(f"gan-minmax/{text}".encode()).hexdigest()


def minmax_status(x_values, y_values, reference=None):
    """(status, message) for the student's table: PASS, FAIL or NOT ANSWERED."""
    values = list(x_values) + list(y_values)
    if any(v is None for v in values):
        return "NOT ANSWERED", "replace every None with the value after that step"
    if len(x_values) != STEPS or len(y_values) != STEPS:
        return "FAIL", f"give exactly {STEPS} values of x and {STEPS} of y (one per step), not {len(x_values)} and {len(y_values)}"
    try:
        numbers = [float(v) for v in values]
    except (TypeError, ValueError):
        return "FAIL", "every value must be a number"
    if not all(math.isfinite(v) for v in numbers):
        return "FAIL", "every value must be a finite number"
    if reference is None:
        from checks.registry import CLASSIC

        reference = ReferenceAnswers(CLASSIC.reference_file)
    ref = reference
    if table_digest(x_values, y_values) == str(ref["minmax_digest"]):
        return "PASS", ""
    return "FAIL", ("not right yet. Each step: first y moves UP its gradient (y <- y + df/dy), "
                    "then x moves DOWN its gradient (x <- x - df/dx) using the new y; start from (1, 1)")


def check_minmax(x_values, y_values):
    """Show PASS, FAIL or NOT ANSWERED for the min-max table (under nbgrader, anything but PASS fails the cell)."""
    from checks.feedback import fail_under_nbgrader, show
    from checks.runner import Result

    status, message = minmax_status(x_values, y_values)
    fail_under_nbgrader(show([Result("min-max table", status, message)]))
