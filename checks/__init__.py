"""The checks of the course's labs: every student function against reference answers.

    make check                 # or: python -m checks
    from checks import check   # in a notebook: check("sample_noise")

Which labs exist: checks/registry.py; each lab's tasks: checks/labs/<lab>.py; how a check decides: checks/core/.
"""

from checks.coverage import check_dcgan_coverage
from checks.runner import check, check_minmax, check_table, implementation_path, require, run_checks, student_module
from gan_assignment.provided.weights import save_discriminator, save_generator

__all__ = ["check", "check_dcgan_coverage", "check_minmax", "check_table", "implementation_path", "require",
           "run_checks", "save_discriminator", "save_generator", "student_module"]
