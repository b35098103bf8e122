"""Checks for the GAN assignment: every student function against reference answers.

    make check                 # or: python -m checks
    from checks import check   # in a notebook: check("sample_noise")
"""

from checks.coverage import check_dcgan_coverage, save_generator
from checks.minmax import check_minmax
from checks.runner import STUDENT_FUNCTIONS, check, implementation_path, require, run_checks, student_module

__all__ = ["STUDENT_FUNCTIONS", "check", "check_dcgan_coverage", "check_minmax", "implementation_path", "require",
           "run_checks", "save_generator", "student_module"]
