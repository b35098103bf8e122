"""Checks for the course's labs: every student function against reference answers.

    make check                 # or: python -m checks
    from checks import check   # in a notebook: check("sample_noise")

Which labs and tasks exist, with their checks and points: checks/registry.py.
"""

from checks.coverage import check_dcgan_coverage, save_generator
from checks.minmax import check_minmax
from checks.runner import check, implementation_path, require, run_checks, student_module

__all__ = ["check", "check_dcgan_coverage", "check_minmax", "implementation_path", "require",
           "run_checks", "save_generator", "student_module"]
