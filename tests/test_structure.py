"""The house rules hold (tools/structure.py, `make structure`), and the checker finds each kind of breach."""

import subprocess
import sys

from tests.conftest import ROOT
from tools.structure import problems


def test_the_house_rules_hold():
    """`python -m tools.structure`, as `make structure` runs it: in a process of its own (CPython 3.11's
    ast.parse can raise SystemError in a process where earlier code hit the recursion limit)."""
    done = subprocess.run([sys.executable, "-m", "tools.structure"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, "house rules broken (run `make structure`):\n" + done.stdout + done.stderr


def test_the_checker_finds_every_kind_of_breach(tmp_path):
    files = {
        "gan_assignment/__init__.py": "",
        "gan_assignment/mine.py": "from checks.engine import judge\n",            # the student package -> grader
        "checks/__init__.py": "",
        "checks/engine.py": "def judge():\n    from checks.labs import LAB\n",      # a cycle, through a late import
        "checks/labs.py": "from checks.engine import judge\nfrom checks.engine import _secret\nLAB = 1\n",
        "tools/__init__.py": "",
        "tools/long.py": "def long(a, b, c, d, e, f, g, h, i, j, k, l, m):\n" + "    x = 1\n" * 80,
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = "\n".join(problems(tmp_path))
    assert "gan_assignment/mine.py:1: the student package imports the grader (checks.engine)" in found, found
    assert "import cycle: checks.engine <-> checks.labs" in found, found
    assert "imports the private name _secret from checks.engine" in found, found
    assert "long is 81 lines long" in found and "long takes 13 parameters" in found, found
