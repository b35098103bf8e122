"""Checks for the GAN assignment: every student function against reference answers.

    make check                 # or: python -m checks
    from checks import check   # in a notebook: check("sample_noise")
"""

from checks.minmax import check_minmax
from checks.runner import STUDENT_FUNCTIONS, NotReady, check, require, run_checks, student_module

__all__ = ["STUDENT_FUNCTIONS", "NotReady", "check", "check_minmax", "require", "run_checks", "student_module"]
