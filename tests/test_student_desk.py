"""What a student sees at their desk: check cells, the Validate button, `make notebook`, Colab.

The real-browser view of the same things is tests/test_browser.py.
"""

import json
import os
import subprocess
import sys

import nbformat
import pytest

from checks.feedback import Feedback, NotPassing, fail_under_nbgrader
from checks.registry import LABS, MAIN
from gan_assignment.provided.modules import PROJECT as ROOT
from checks.core.status import FAIL, NOT_IMPLEMENTED, PASS, Result
from tests.conftest import SOLUTION_FILE, cpu_seconds, edit_function, replace_function, student_desk
from tools.run_notebook import run_notebook

NBGRADER = [sys.executable, "-m", "nbgrader"]


def desk(tmp_path, notebook=None, module=None):
    """A student's copy of the course (tests/conftest.py: student_desk) in tmp_path/course."""
    return student_desk(tmp_path / "course", notebook, module)


def validate(notebook, env):
    """nbgrader's Validate on `notebook` (what the button runs): (its report, with every run of spaces and
    line breaks made one space (nbgrader wraps lines), and the CPU seconds it took: tests/conftest.py)."""
    start = cpu_seconds()
    done = subprocess.run([*NBGRADER, "validate", notebook.name], cwd=notebook.parent, capture_output=True,
                          text=True, timeout=600, env={**os.environ, "GAN_QUICK": "1", **env})
    return " ".join((done.stdout + done.stderr).split()), cpu_seconds() - start


# --- what a check cell shows -----------------------------------------------------------------------

def test_a_verdict_in_a_notebook_is_a_coloured_badge_and_an_escaped_wrapped_message():
    message = "the values reaching Linear(256 -> 1) differ " + "because <x> & y " * 12 + "\n    yours applies: ReLU()"
    feedback = Feedback([Result("discriminator", FAIL, message), Result("bce_loss", PASS, notes=["works on (N,)"])])
    page = feedback._repr_html_()
    assert page.count('class="gan-check-badge') == 2 and ">FAIL</span>" in page and ">PASS</span>" in page
    assert "&lt;x&gt; &amp; y" in page and "<x>" not in page, "student text must be escaped, never run as HTML"
    text = feedback.text()
    assert all(len(line) <= 100 for line in text.splitlines()), text
    words = set(message.split())
    assert all(w in words | {"FAIL", "PASS", "discriminator:", "bce_loss", "note:", "works", "on", "(N,)"}
               for w in text.split()), "wrapping must never cut a word in two"
    assert "\n                     yours applies: ReLU()" in text, "a message's own line breaks and indents stay"


def test_a_network_that_differs_shows_a_table_of_what_the_reference_and_yours_apply(check_source):
    relu = edit_function(SOLUTION_FILE.read_text(), "discriminator", "nn.Linear(256, 256),\n        nn.LeakyReLU(0.01)",
                         "nn.Linear(256, 256),\n        nn.ReLU()")
    page = Feedback([check_source(relu, "discriminator")])._repr_html_()
    assert '<table class="gan-check-layers">' in page, page
    row = page.split("<th>yours applies</th></tr>")[1]
    assert ("<td>between Linear(256 -&gt; 256) and Linear(256 -&gt; 1)</td><td>LeakyReLU(negative_slope=0.01)</td>"
            "<td>ReLU()</td>") in row, row
    assert "reaching Linear(256 -&gt; 1) (your module [5], the 6th of your 6)" in page


FUNCTIONAL_D = '''
def discriminator(seed=None):
    if seed is not None:
        torch.manual_seed(seed)

    class D(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2, self.fc3 = nn.Linear(784, 256), nn.Linear(256, 256), nn.Linear(256, 1)

        def forward(self, x):
            x = F.leaky_relu(self.fc1(x.view(len(x), -1)), 0.01)
            x = F.relu(self.fc2(x), inplace=True)
            return torch.sigmoid(self.fc3(x))
    return D()
'''


def test_what_forward_applies_without_modules_is_named_from_the_values(check_source):
    """F.relu (in place, even) and torch.sigmoid in forward(): no module to list, so the values say what ran."""
    result = check_source(replace_function(SOLUTION_FILE.read_text(), "discriminator", FUNCTIONAL_D), "discriminator")
    assert "(your module fc3, the 3rd of your 3)" in result.message, result.message
    assert "yours applies:         ReLU() (in forward(): no module)" in result.message, result.message
    fixed = FUNCTIONAL_D.replace("F.relu(self.fc2(x), inplace=True)", "F.leaky_relu(self.fc2(x), 0.01)")
    result = check_source(replace_function(SOLUTION_FILE.read_text(), "discriminator", fixed), "discriminator")
    assert "yours applies:         Sigmoid() (in forward(): no module)" in result.message, result.message


def test_under_nbgrader_a_verdict_that_is_not_pass_fails_the_cell_and_says_why(monkeypatch):
    failing = Feedback([Result("bce_loss", NOT_IMPLEMENTED), Result("sample_noise", PASS)])
    fail_under_nbgrader(failing)   # a student's own session: shown, never raised
    monkeypatch.setenv("NBGRADER_EXECUTION", "validate")
    with pytest.raises(NotPassing) as raised:
        fail_under_nbgrader(failing)
    assert raised.value._render_traceback_() == ["NOT IMPLEMENTED  bce_loss"]
    fail_under_nbgrader(Feedback([Result("sample_noise", PASS)]))


def test_a_syntax_error_is_reported_once(tmp_path):
    broken = tmp_path / "gan_pytorch.py"
    broken.write_text("def sample_noise(batch_size, dim:\n")
    done = subprocess.run([sys.executable, "-m", "checks", "--impl", str(broken)], cwd=ROOT, capture_output=True,
                          text=True)
    assert done.stdout.count("SyntaxError") == 1, done.stdout
    assert "(the error is under sample_noise)" in done.stdout


def test_check_cells_show_one_badge_and_no_stray_true_or_false(tmp_path):
    """The stub notebook's check cells: one rich verdict each, no `Out[n]: False` under it."""
    root = desk(tmp_path)
    notebook = nbformat.read(root / "notebooks" / "gan_pytorch.ipynb", as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    checks = [c for c in code if c.source.startswith("check(")][:3]
    notebook.cells = code[:2] + checks   # the Colab cell, the set-up cell, three check cells
    path = root / "notebooks" / "first_checks.ipynb"
    nbformat.write(notebook, path)
    ran = run_notebook(path, tmp_path / "ran.ipynb", timeout=300, env={"GAN_IMPL": ""})
    for cell in ran.cells[2:]:
        kinds = [o.output_type for o in cell.outputs]
        assert kinds == ["display_data"], f"{cell.source}: one display, no returned value; got {kinds}"
        shown = cell.outputs[0].data
        assert 'class="gan-check-badge gan-check-not-implemented"' in shown["text/html"], shown["text/html"]
        assert shown["text/plain"].startswith("NOT IMPLEMENTED"), "the text version is the terminal's line"
    assert "Loading PyTorch" in "".join(o.get("text", "") for o in ran.cells[1].outputs), \
        "the slow first cell says what it is doing"


# --- the Validate button -----------------------------------------------------------------------------

def test_validate_fails_while_functions_fail_and_never_trains_or_times_out(tmp_path):
    root = desk(tmp_path)
    report, seconds = validate(root / "notebooks" / "gan_pytorch.ipynb", {"GAN_DATA_DIR": str(tmp_path / "data")})
    assert "VALIDATION FAILED ON 13 CELL(S)" in report, report[-3000:]
    assert "Success!" not in report and "Traceback" not in report and "KeyboardInterrupt" not in report, report
    for function in MAIN.functions:
        assert f"NOT IMPLEMENTED {function}" in report, f"the report should name {function}"
    assert "dcgan_generator.pt is missing: run the DCGAN training cell" in report
    assert "NOT ANSWERED min-max table" in report
    assert seconds < 240, f"Validate took {seconds:.0f} CPU s: it must never train anything"


@pytest.mark.parametrize("lab", [lab for lab in LABS.values() if lab is not MAIN],
                         ids=[name for name in LABS if name != MAIN.name])
def test_validate_fails_on_every_lab_notebook_with_its_stubs_without_training(tmp_path, lab):
    root = desk(tmp_path, notebook=lab.student_notebook)
    report, seconds = validate(root / "notebooks" / lab.notebook, {"GAN_DATA_DIR": str(tmp_path / "data")})
    assert "VALIDATION FAILED" in report and "Success!" not in report, report[-3000:]
    assert "Traceback" not in report and "KeyboardInterrupt" not in report and "Timeout" not in report, report
    for function in lab.functions:
        assert f"NOT IMPLEMENTED {function}" in report, f"Validate on {lab.notebook} should name {function}"
    assert seconds < 240, f"Validate on {lab.notebook} took {seconds:.0f} CPU s: it must never train anything"


def test_validate_on_a_finished_notebook_flags_only_what_is_missing(tmp_path):
    """All functions right, no trained DCGAN yet: Validate names the weights file and the table, nothing else.
    With weights but no digit classifier cached, the coverage cell fails at once instead of training one."""
    root = desk(tmp_path, module=SOLUTION_FILE.read_text())
    notebook = root / "notebooks" / "gan_pytorch.ipynb"
    report, _ = validate(notebook, {"GAN_DATA_DIR": str(tmp_path / "data")})
    assert "VALIDATION FAILED ON 2 CELL(S)" in report, report[-3000:]
    assert "dcgan_generator.pt is missing" in report and "min-max table" in report

    (notebook.parent / "dcgan_generator.pt").write_bytes(b"not trained yet")
    report, seconds = validate(notebook, {"GAN_DATA_DIR": str(tmp_path / "empty-data")})
    assert "cannot be measured during validation: the digit classifier" in report, report[-3000:]
    assert seconds < 240, f"Validate took {seconds:.0f} CPU s: it must never train anything"


def test_validate_on_the_released_notebook_tells_the_truth(tmp_path):
    """The nbgrader release (what a course hands out): its test cells run the checks while validating."""
    course = tmp_path / "course"
    subprocess.run([sys.executable, "-m", "tools.course", "--course", str(course), "--lab", "gan_pytorch"], cwd=ROOT,
                   check=True, capture_output=True)
    released = course / "release" / MAIN.assignment
    wrong = edit_function(SOLUTION_FILE.read_text(), "bce_loss", "return loss.mean()", "return loss.sum()")
    (released / "gan_assignment" / "gan_pytorch.py").write_text(wrong)
    report, seconds = validate(released / MAIN.notebook, {"GAN_DATA_DIR": str(tmp_path / "data")})
    assert "VALIDATION FAILED" in report and "Traceback" not in report and "KeyboardInterrupt" not in report, report
    assert "grading_results.json" not in report, "validating must run the checks, not ask for the grader's file"
    failed = report.split("The following cell failed: ")[1:]
    named = [name for name in MAIN.functions if any(f'grade("{name}")' in cell for cell in failed)]
    assert named == ["bce_loss", "discriminator_loss", "generator_loss"], \
        f"bce_loss is wrong, and the two losses built on it with it; Validate flagged {named}"
    assert "it probably uses bce_loss, which does not pass yet" in report
    assert "FAILED: bce_loss: FAIL" in report and ".mean(), not .sum()" in report, report
    assert seconds < 240, f"Validate took {seconds:.0f} CPU s: it must never train anything"


# --- make notebook: the student's JupyterLab -----------------------------------------------------------

def test_make_notebook_hides_the_instructor_tools_for_that_session_only():
    makefile = (ROOT / "Makefile").read_text()
    assert "JUPYTER_CONFIG_PATH=$(CURDIR)/tools/student_jupyter" in makefile
    env = {**os.environ, "JUPYTER_CONFIG_PATH": str(ROOT / "tools" / "student_jupyter")}
    listed = subprocess.run([sys.executable, "-m", "jupyter", "labextension", "list"], env=env,
                            capture_output=True, text=True)
    disabled = (listed.stdout + listed.stderr).split("Disabled extensions:")[-1]
    for plugin in ("create-assignment", "formgrader", "course-list", "menu"):
        assert f"@jupyter/nbgrader:{plugin}" in disabled, f"{plugin} should be off for students:\n{listed.stdout}"
    assert "@jupyter/nbgrader:validate-assignment" not in disabled, "students keep the Validate button"
    server = json.loads((ROOT / "tools" / "student_jupyter" / "jupyter_server_config.json").read_text())
    assert server["ServerApp"]["jpserver_extensions"] == {"nbgrader.server_extensions.formgrader": False,
                                                          "nbgrader.server_extensions.course_list": False}


# --- Google Colab, simulated -------------------------------------------------------------------------

def fake_colab(tmp_path, course):
    """A kernel that looks like Colab's: google.colab imported at start-up, drive.mount recorded."""
    fake = tmp_path / "fake-colab"
    (fake / "google" / "colab").mkdir(parents=True)
    (fake / "google" / "colab" / "__init__.py").write_text("")
    (fake / "google" / "colab" / "drive.py").write_text(
        "import os\n"
        "def mount(mountpoint):\n"
        f"    open({str(tmp_path / 'mounted.txt')!r}, 'w').write(mountpoint)\n")
    startup = tmp_path / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-colab.py").write_text("import google.colab\n")   # Colab's kernels start with it imported
    content = tmp_path / "content"   # where Colab starts a notebook: nowhere near the course
    content.mkdir()
    return {"PYTHONPATH": f"{fake}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", "IPYTHONDIR": str(tmp_path / "ipython"),
            "GAN_COLAB_FOLDER": str(course), "GAN_IMPL": ""}, content


def test_in_colab_the_first_cell_mounts_drive_and_the_notebook_then_works_as_locally(tmp_path):
    course = desk(tmp_path)
    env, content = fake_colab(tmp_path, course)
    notebook = nbformat.read(course / "notebooks" / "gan_pytorch.ipynb", as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    notebook.cells = code[:2] + [next(c for c in code if c.source.startswith("check("))]
    path = content / "gan_pytorch.ipynb"   # Colab runs the notebook from /content, not from the course folder
    nbformat.write(notebook, path)
    ran = run_notebook(path, tmp_path / "ran.ipynb", timeout=300, env=env)
    assert (tmp_path / "mounted.txt").read_text() == "/content/drive"
    said = "".join(o.get("text", "") for c in ran.cells for o in c.outputs)
    assert f"Colab: working in {course / 'notebooks'}" in said and "nothing to install" in said, said
    assert f"your code: {course / 'gan_assignment' / 'gan_pytorch.py'}" in said, said
    assert "NOT IMPLEMENTED" in ran.cells[2].outputs[0].data["text/plain"]


def test_outside_colab_the_colab_cell_does_nothing(tmp_path):
    cell = next(c for c in nbformat.read(MAIN.student_notebook, as_version=4).cells if c.cell_type == "code")
    assert "google.colab" in cell.source
    scope = {}
    exec(cell.source, scope)   # noqa: S102 - our own notebook's cell
    assert "COURSE" not in scope


def test_colab_setup_installs_only_what_is_missing_and_explains_a_wrong_folder(tmp_path, monkeypatch):
    from gan_assignment.provided import colab

    installed = []
    monkeypatch.setattr(colab, "NEEDED", [("numpy", "numpy"), ("surely_not_a_module_x9", "some-package")])
    monkeypatch.setattr(sys, "path", list(sys.path))
    course = desk(tmp_path)
    here = os.getcwd()
    try:
        work = colab.setup_colab(course, install=installed.extend)
        assert installed == ["some-package"] and work == course / "notebooks" and os.getcwd() == str(work)
    finally:
        os.chdir(here)
    with pytest.raises(FileNotFoundError, match="Upload the course folder to your Google Drive"):
        colab.setup_colab(tmp_path / "not-the-course", install=installed.extend)


@pytest.mark.parametrize("lab", LABS.values(), ids=list(LABS))
def test_every_notebook_opens_with_the_colab_cell(lab):
    cells = [c for c in nbformat.read(lab.student_notebook, as_version=4).cells if c.cell_type == "code"]
    assert 'if "google.colab" in sys.modules:' in cells[0].source, f"{lab.notebook}: the Colab cell comes first"
