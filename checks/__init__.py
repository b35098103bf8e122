"""Checks for the GAN assignment: every student function against reference answers.

    make check                 # or: python -m checks
    from checks import check   # in a notebook: check("sample_noise")
"""

from checks.runner import STUDENT_FUNCTIONS, check, run_checks

__all__ = ["STUDENT_FUNCTIONS", "check", "run_checks"]
