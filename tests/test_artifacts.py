"""What users receive, tried the way they receive it.

Each artifact is built by its own command, copied or unpacked into an empty folder outside the repository,
and driven there by the commands its own README shows, with the repository out of reach (the working folder
elsewhere, no PYTHONPATH): the student release (`make release`) and the Colab package (`make colab`) here;
the Gradescope zip in tests/test_autograde.py; the student's JupyterLab in tests/test_browser.py.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import nbformat
import pytest

from checks.registry import LABS, MAIN
from tests.browser import free_port
from tests.conftest import ROOT
from tests.data import MNIST_TEST_SPLIT, mnist_stand_in, notebook_env
from tests.test_student_desk import fake_colab
from tools.course import labs_in, leaks
from tools.run_notebook import run_notebook

PYTHON = sys.executable     # the project's environment: installing from the network is not part of the test


def clean_env(**extra):
    """The environment of a command a user types: nothing of the repository on the path, no GAN_ settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "GAN_", "JUPYTER"))}
    return {**env, **extra}


def readme_commands(readme):
    """The commands of a README's ```bash blocks, as written (comments cut)."""
    blocks = re.findall(r"```bash\n(.*?)```", readme, re.S)
    return [line.split("#")[0].strip() for block in blocks for line in block.splitlines() if line.split("#")[0].strip()]


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """`make release`'s student release of the main lab, copied into an empty folder as a student receives it."""
    course = tmp_path_factory.mktemp("course")
    done = subprocess.run([PYTHON, "-m", "tools.course", "--course", str(course), "--lab", MAIN.name], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    desk = tmp_path_factory.mktemp("received") / "gan_pytorch"
    shutil.copytree(course / "release" / MAIN.assignment, desk)
    return desk


def make(desk, *args, timeout=300, **env):
    """`make ARGS` in the release, with the project's Python (PY=): what the README says, minus the install."""
    done = subprocess.run(["make", *args, f"PY={PYTHON}"], cwd=desk, capture_output=True, text=True,
                          timeout=timeout, env=clean_env(**env))
    return done.returncode, done.stdout + done.stderr


def test_the_release_holds_its_own_lab_only_and_no_answer(release):
    files = {str(p.relative_to(release)) for p in release.rglob("*") if p.is_file()}
    assert {"README.md", "Makefile", "requirements.txt", "gan_pytorch.ipynb", "gan_assignment/gan_pytorch.py",
            "checks/references/gan_pytorch.npz", "checks/labs/gan_pytorch.py"} <= files, sorted(files)
    others = [f for f in files if any(f"/{lab}." in f"/{Path(f).name}" for lab in ("mode_collapse", "wgan_gp", "cgan"))]
    assert not others, f"another lab's files in this lab's release: {others}"
    assert not [f for f in files if "hidden" in f or "__pycache__" in f or f.startswith("solutions")], sorted(files)
    assert leaks(release) == []
    needs = (release / "requirements.txt").read_text()
    assert "torch" in needs and "pytest" not in needs and "selenium" not in needs, needs


def test_every_command_of_the_releases_readme_works_there(release, tmp_path):
    """README.md's commands, run as written in the release folder (setup, which installs from the network, and
    notebook, a server, have tests of their own below)."""
    commands = readme_commands((release / "README.md").read_text())
    assert commands[0] == "make setup" and "make notebook" in commands, commands
    desk = tmp_path / "desk"
    shutil.copytree(release, desk)
    for command in commands:
        assert command.startswith("make "), f"the student README shows a command that is not make: {command}"
        if command in ("make setup", "make notebook"):
            continue
        code, out = make(desk, *command.split()[1:])
        if command.startswith("make check"):
            assert "NOT IMPLEMENTED" in out and "Traceback" not in out and "No rule" not in out, out
            assert f"Checking {desk / 'gan_assignment' / 'gan_pytorch.py'}" in out, out   # the release's own file
        else:
            assert code == 0, f"{command} failed:\n{out}"
    with zipfile.ZipFile(desk / "submission.zip") as handed_in:
        assert set(handed_in.namelist()) == {"gan_pytorch.ipynb", "gan_assignment/gan_pytorch.py"}
    assert "dcgan_generator.pt" in make(desk, "submission")[1], "a missing weights file is said"
    colab = desk / "colab" / "gan-course"
    assert (colab / "gan_pytorch.ipynb").is_file() and (colab / "gan_assignment" / "provided").is_dir()
    assert not [p for p in colab.rglob("*") if p.name in (".venv", "data", "__pycache__", "colab")]


def test_make_setup_would_install_the_requirements_into_its_own_environment(release):
    plan = subprocess.run(["make", "-n", "setup"], cwd=release, capture_output=True, text=True)
    assert plan.returncode == 0 and "-m venv .venv" in plan.stdout, plan.stdout + plan.stderr
    assert "pip install --quiet -r requirements.txt" in plan.stdout, plan.stdout


def test_make_notebook_opens_jupyterlab_on_the_notebook_and_the_students_file(release, tmp_path):
    """`make notebook` serves the release folder: its file browser lists the notebook and gan_assignment/, and
    gan_pytorch.py opens (the JupyterLab of an earlier version could not reach it)."""
    port, token = free_port(), "release-test-token"
    args = f"--no-browser --port={port} --ServerApp.port_retries=0 --IdentityProvider.token={token}"
    server = subprocess.Popen(["make", "notebook", f"PY={PYTHON}", f"JUPYTER_ARGS={args}"], cwd=release,
                              env=clean_env(HOME=str(tmp_path)), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              start_new_session=True)

    def get(path):
        request = urllib.request.Request(f"http://127.0.0.1:{port}/{path}", headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                top = get("api/contents/")
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.stdout.read().decode()[-3000:]
                time.sleep(0.5)
        names = {item["name"] for item in top["content"]}
        assert {"gan_pytorch.ipynb", "gan_assignment", "checks"} <= names, names
        module = get("api/contents/gan_assignment/gan_pytorch.py")
        assert module["type"] == "file" and "def sample_noise" in module["content"]
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


@pytest.mark.skipif(not MNIST_TEST_SPLIT.is_dir(), reason="needs the MNIST test split (../shared/data)")
def test_the_released_notebook_runs_from_top_to_bottom_where_it_was_received(release, tmp_path):
    """The release, with the student's finished module in it, runs its notebook headless in quick mode in its own
    folder: every check passes, the three GANs train, the weights are saved, and all of it with the release's own
    code (the notebook says which file it checks)."""
    desk = tmp_path / "desk"
    shutil.copytree(release, desk)
    shutil.copy(MAIN.solution_file, desk / "gan_assignment" / "gan_pytorch.py")
    env = notebook_env(tmp_path, "mnist", mnist_stand_in(tmp_path), GAN_WEIGHTS=str(desk / "dcgan_generator.pt"))
    saved = dict(os.environ)
    for name in [k for k in os.environ if k.startswith(("PYTHONPATH", "GAN_"))]:
        del os.environ[name]
    try:
        ran = run_notebook(desk / "gan_pytorch.ipynb", tmp_path / "ran.ipynb", timeout=600, env=env)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    shown = {i: "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in c.get("outputs", []))
             for i, c in enumerate(ran.cells) if c.cell_type == "code"}
    text = "\n".join(shown.values())
    assert f"your code: {desk / 'gan_assignment' / 'gan_pytorch.py'}" in text, text[:3000]
    checks = [shown[i] for i, c in enumerate(ran.cells) if c.cell_type == "code" and "\ngrade(" in c.source]
    assert len(checks) == len(MAIN.functions) and all(t.startswith("PASS") for t in checks), checks
    assert text.count("Quality of 1000 samples") == 3, "the three GANs trained, each with its quality report"
    assert "digits covered" in text and "Traceback" not in text, text[-5000:]
    assert (desk / "dcgan_generator.pt").is_file()


def test_the_colab_package_works_in_colab_from_the_package_itself(release, tmp_path):
    """`make colab` in the release, then the package as Colab sees it (its copy on Drive): the first cell mounts
    Drive, moves into the package and the checks run on the package's own files."""
    desk = tmp_path / "desk"
    shutil.copytree(release, desk)
    (desk / ".venv").mkdir()                    # what a student who ran `make setup` first has
    (desk / "data" / "MNIST").mkdir(parents=True)
    (desk / "data" / "MNIST" / "big.bin").write_bytes(b"0" * 1000)
    assert make(desk, "colab")[0] == 0
    drive = tmp_path / "drive" / "MyDrive" / "gan-course"
    shutil.copytree(desk / "colab" / "gan-course", drive)   # what the student drags onto Drive
    assert not (drive / ".venv").exists() and not (drive / "data").exists()
    env, content = fake_colab(tmp_path, drive)
    notebook = nbformat.read(drive / "gan_pytorch.ipynb", as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    notebook.cells = code[:2] + [next(c for c in code if '\ngrade("' in c.source)]   # the first test cell
    path = content / "gan_pytorch.ipynb"   # Colab runs the notebook from /content, not from the course folder
    nbformat.write(notebook, path)
    ran = run_notebook(path, tmp_path / "ran.ipynb", timeout=300, env=env)
    said = "".join(o.get("text", "") for c in ran.cells for o in c.outputs)
    assert f"Colab: working in {drive}" in said, said
    assert f"your code: {drive / 'gan_assignment' / 'gan_pytorch.py'}" in said, said
    assert "NOT IMPLEMENTED" in ran.cells[2].outputs[0].data["text/plain"]


def test_the_projects_colab_package_holds_the_students_files_and_nothing_of_the_instructors(tmp_path):
    from gan_assignment.provided.packaging import colab

    out = colab(ROOT, tmp_path / "gan-course")
    tops = {p.name for p in out.iterdir()}
    assert {"gan_assignment", "checks", "notebooks"} <= tops, tops
    assert not tops & {"solutions", "tests", "tools", "bench", "course", ".venv", "data", "outputs", ".git"}, tops
    assert not list(out.rglob("*.hidden.npz")) and not list(out.rglob("__pycache__"))


def test_make_release_builds_from_solutions_and_refuses_stale_student_files(tmp_path):
    """A half-solved stub in the working tree never ships: `make release` stops, names the file and the fix."""
    from tests.test_toy_lab import project_copy

    project = project_copy(tmp_path / "project")
    stub = project / "gan_assignment" / "mode_collapse.py"
    stub.write_text(stub.read_text().replace('raise NotImplementedError("diversity is not implemented yet")',
                                             "return images.std()", 1))
    done = subprocess.run([PYTHON, "-m", "tools.course", "--course", str(tmp_path / "course"), "--lab", "cgan"],
                          cwd=project, capture_output=True, text=True)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "gan_assignment/mode_collapse.py" in done.stderr and "make stubs" in done.stderr, done.stderr
    assert not (tmp_path / "course" / "release").exists(), "nothing is released"


@pytest.mark.parametrize("lab", list(LABS.values()), ids=list(LABS))
def test_each_releases_notebook_needs_only_what_its_release_holds(lab):
    """A release holds the provided code of its own lab and of the labs it uses, and no other lab's: its notebook
    may import nothing else (tools/course.py: copy_package), and may train only with the labs it declares it uses."""
    included = {other.name for other in labs_in(lab)}
    code = "\n".join(c.source for c in nbformat.read(lab.solution_notebook, as_version=4).cells if c.cell_type == "code")
    provided = set(re.findall(r"gan_assignment\.provided\.(\w+)", code))
    for names in re.findall(r"from gan_assignment\.provided import ([\w, ]+)", code):
        provided |= {n.strip() for n in names.split(",")}
    missing = sorted(m for m in provided if m in LABS and m not in included)
    assert not missing, f"{lab.notebook} imports gan_assignment.provided.{missing}, which its release does not hold"
    used = set(re.findall(r'student_module\("(\w+)"\)', code))
    assert used <= included, f"{lab.notebook} uses the labs {sorted(used - included)}: declare them in its Lab(uses=...)"
