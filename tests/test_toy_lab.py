"""Adding a lab is what checks/registry.py says it is: three files of its own and its name in
LAB_NAMES, no edit to the engine.

The test does it, in a copy of the project: a toy lab with two graded functions (a network and a loss), its
notebook, its checks file and its registry entry; then `make stubs refs` (tools.release, tools.make_reference)
makes its student module, student notebook and reference answers; `make check` runs its checks, and `make
release` and `make autograde` (tools.course, tools.autograde) release it and grade a submission of it.
"""

import csv
import shutil
import subprocess
import sys

import nbformat
import pytest

from checks.sandbox import available
from tests.conftest import ROOT

SOLUTION = '''"""The toy lab: two functions, to show how a lab is added."""

import torch
import torch.nn as nn


def toy_net(noise_dim):
    """A tiny generator: Linear(noise_dim -> 8), ReLU, Linear(8 -> 4), Tanh; it makes (N, 4) outputs."""
    ### BEGIN SOLUTION
    return nn.Sequential(nn.Linear(noise_dim, 8), nn.ReLU(), nn.Linear(8, 4), nn.Tanh())
    ### END SOLUTION


def toy_loss(scores, target):
    """The mean squared difference between scores and targets (both (N,) or (N, 1)): a scalar tensor."""
    ### BEGIN SOLUTION
    return ((scores.reshape(-1) - target.reshape(-1)) ** 2).mean()
    ### END SOLUTION
'''

CHECKS = '''"""The toy lab's tasks: both checked by the generic checks."""

from checks.core.generic import check_loss, check_network
from checks.core.lab import Lab, Task
from checks.core.specs import Loss, Network

LAB = Lab(name="toy", title="A toy lab", tasks=(
    Task("toy_net", 2, check=check_network, spec=Network("toy_net", "noise", noise_dim=4, makes=(1, 2, 2))),
    Task("toy_loss", 1, check=check_loss, spec=Loss(("scores", "target"), hint="the mean of the squared differences")),
))
'''

SETUP_CELL = '''import sys
from pathlib import Path

ROOT = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "gan_assignment").is_dir())
sys.path.insert(0, str(ROOT))
from checks import check'''


def toy_notebook():
    cells = [nbformat.v4.new_markdown_cell("# A toy lab"), nbformat.v4.new_code_cell(SETUP_CELL),
             nbformat.v4.new_markdown_cell("Write `toy_net` in `gan_assignment/toy.py`."),
             nbformat.v4.new_code_cell('check("toy_net")'),
             nbformat.v4.new_markdown_cell("Write `toy_loss`."), nbformat.v4.new_code_cell('check("toy_loss")')]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def project_copy(target):
    """The project's files (tracked and new ones, as a fresh clone plus the work in progress) in `target`."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    for name in listed:
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    return target


def run(folder, *args, env=None):
    proc = subprocess.run([sys.executable, *args], cwd=folder, capture_output=True, text=True, env=env)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A copy of the project with the toy lab added by the documented route."""
    folder = project_copy(tmp_path_factory.mktemp("project"))
    (folder / "solutions" / "toy.py").write_text(SOLUTION)
    nbformat.write(toy_notebook(), folder / "solutions" / "toy.ipynb")
    (folder / "checks" / "labs" / "toy.py").write_text(CHECKS)
    registry = folder / "checks" / "registry.py"
    text = registry.read_text()
    assert '"wgan_gp", "cgan")' in text, "LAB_NAMES changed: update this test"
    registry.write_text(text.replace('"wgan_gp", "cgan")', '"wgan_gp", "cgan", "toy")'))
    for command in (["-m", "tools.release"], ["-m", "tools.make_reference", "--lab", "toy"]):   # make stubs refs
        code, out = run(folder, *command)
        assert code == 0, out
    return folder


def test_the_documented_route_makes_the_student_files_and_the_reference(project):
    stub = (project / "gan_assignment" / "toy.py").read_text()
    assert 'raise NotImplementedError("toy_net is not implemented yet")' in stub
    assert (project / "notebooks" / "toy.ipynb").is_file() and (project / "checks" / "references" / "toy.npz").is_file()


def test_its_checks_run_in_make_check(project):
    code, out = run(project, "-m", "checks", "--lab", "toy")
    assert code == 1 and "NOT IMPLEMENTED  toy_net" in out and "0 of 2 functions pass" in out, out
    code, out = run(project, "-m", "checks", "--lab", "toy", "--impl", "solutions/toy.py")
    assert code == 0 and "2 of 2 functions pass" in out, out
    wrong = project / "wrong" / "toy.py"
    wrong.parent.mkdir()
    wrong.write_text(SOLUTION.replace("nn.ReLU()", "nn.Sigmoid()").replace(".mean()", ".sum()"))
    code, out = run(project, "-m", "checks", "--impl", str(wrong))
    assert code == 1 and "FAIL             toy_net" in out and "Sigmoid" in out, out
    assert "FAIL             toy_loss" in out and "times too large" in out, out   # the generic loss hint


@pytest.mark.skipif(not available(), reason="make autograde needs bubblewrap (.ci/run installs it)")
def test_it_is_released_and_autograded(project):
    course = project / "course"
    code, out = run(project, "-m", "tools.course", "--course", str(course), "--lab", "toy")
    assert code == 0 and "Released toy" in out, out
    released = course / "release" / "toy"
    assert {p.name for p in (released / "checks" / "labs").glob("*.py")} == {"__init__.py", "toy.py"}
    for student, module in (("finished", SOLUTION), ("started", None)):
        folder = course / "submitted" / student / "toy"
        shutil.copytree(released, folder)
        if module:
            (folder / "gan_assignment" / "toy.py").write_text(module)
    code, out = run(project, "-m", "tools.autograde", "--course", str(course), "--lab", "toy")
    assert code == 0, out
    rows = {r["student"]: r for r in csv.DictReader(open(course / "grades.csv"))}
    assert float(rows["finished"]["score"]) == 3.0 and float(rows["started"]["score"]) == 0.0, rows
    assert "not implemented: toy_net, toy_loss" in rows["started"]["problems"], rows["started"]
