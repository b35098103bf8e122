"""The student notebook in a real browser: JupyterLab as `make notebook` starts it, driven by headless Chromium.

The other notebook tests run the .ipynb headless and read its outputs as JSON; this one looks at what the
student actually sees: the verdict badge a check cell draws (HTML, not text), no stray True/False under it,
what nbgrader's Validate button reports, and that nbgrader's instructor tools are hidden.

It works on a throw-away copy of the student's desk (checks/, gan_assignment/, notebooks/gan_pytorch.ipynb):
JupyterLab autosaves the notebook it opens, Validate saves it first, and the test edits the student's module.
Screenshots of each step (and of a step that fails) go to $GAN_TEST_ARTEFACTS/browser/ (default:
outputs/test-artefacts/browser/), with the server's log and the Validate dialog's text.

Needs Debian's chromium and chromium-driver and the selenium package: skipped without them, except in CI.
"""

import shutil
import time

import nbformat
import pytest

from checks.runner import run_checks
from tests.browser import TEST_ARTEFACTS, JupyterLab, Notebook, chromium, require_browser
from tests.conftest import replace_function, student_desk
from tests.data import MNIST_TEST_SPLIT, mnist_stand_in, notebook_env

ARTEFACTS = TEST_ARTEFACTS / "browser"
NOTEBOOK = "notebooks/gan_pytorch.ipynb"
FIRST_CHECKS = 3     # how many check cells the test runs, from the top
WRONG_SAMPLE_NOISE = '''
def sample_noise(batch_size, dim, seed=None):
    if seed is not None:
        torch.manual_seed(seed)
    # wrong, the test's mistake: zeros, not uniform in [-1, 1] (fixed in JupyterLab's editor, by the last test)
    return torch.zeros(batch_size, dim)
'''
RELU_DISCRIMINATOR = '''
def discriminator(seed=None):
    if seed is not None:
        torch.manual_seed(seed)
    return nn.Sequential(Flatten(), nn.Linear(784, 256), nn.ReLU(),   # wrong: ReLU where LeakyReLU(0.01) belongs
                         nn.Linear(256, 256), nn.LeakyReLU(0.01), nn.Linear(256, 1))
'''
SUCCESS = "Success! Your notebook passes all the tests."   # what nbgrader's Validate dialog says when all pass
VALIDATE_TIMEOUT = 240   # Validate runs the whole notebook under nbgrader, in a fresh kernel


def code_cells(notebook_file):
    """{index in the notebook: source} of its code cells; the browser numbers cells the same way."""
    cells = nbformat.read(notebook_file, as_version=4).cells
    return {i: c.source for i, c in enumerate(cells) if c.cell_type == "code"}


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    """A copy of the student's desk (tests/conftest.py: student_desk): the browser may save and edit it. It has
    instructor folders too, as a clone of the whole project does: the file browser must not show them."""
    root = student_desk(tmp_path_factory.mktemp("desk"))
    for folder in ("solutions", "tests", "course"):
        (root / folder).mkdir()
        (root / folder / "answers.py").write_text("# the instructor's\n")
    (root / "checks" / "references" / "other_lab.hidden.npz").write_bytes(b"hidden")
    return root


@pytest.fixture(scope="module")
def notebook(desk, tmp_path_factory):
    """The desk's gan_pytorch.ipynb open in headless Chromium, its kernel idle; the server and browser stop afterwards."""
    require_browser()
    work = tmp_path_factory.mktemp("work")
    # The data cell trains nothing here: the MNIST stand-in only lets it load; without it the cell is not run.
    data_from = mnist_stand_in(work) if MNIST_TEST_SPLIT.is_dir() else work / "no-data"
    env = notebook_env(work, "mnist", data_from, GAN_IMPL="")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    for old in [*ARTEFACTS.glob("*.png"), *ARTEFACTS.glob("*.txt"), *ARTEFACTS.glob("*.log")]:
        old.unlink()
    lab = JupyterLab(desk, work / "jupyter", env)
    try:
        with lab, chromium() as driver:
            page = Notebook(driver, lab, NOTEBOOK, ARTEFACTS)
            with page.step("01_opened"):
                page.open()
            yield page
    finally:
        if lab.log_path.exists():
            shutil.copy(lab.log_path, ARTEFACTS / "jupyter.log")


@pytest.fixture(scope="module")
def check_cells(notebook, desk):
    """Run the code cells from the top through the first few check cells, as a student would (Shift+Enter
    on each); returns {cell index: function name} of those check cells."""
    cells = code_cells(desk / NOTEBOOK)
    checks = {i: source.split('"')[1] for i, source in cells.items() if source.startswith('check("')}
    assert len(checks) >= FIRST_CHECKS, f"the notebook has {len(checks)} check cells: {checks}"
    last = sorted(checks)[FIRST_CHECKS - 1]
    with notebook.step("03_ran_cells"):
        for index, source in cells.items():
            if index > last:
                break
            if source.startswith("DATASET =") and not MNIST_TEST_SPLIT.is_dir():
                continue   # it would try to download MNIST; the check cells do not need it
            started = time.monotonic()
            shown = notebook.run(index, timeout=180)
            print(f"cell {index} ran in {time.monotonic() - started:.1f} s: {source.splitlines()[0][:60]}")
            if "implementation_path()" in source:   # the setup cell says which file the checks read
                mine = desk.resolve() / "gan_assignment" / "gan_pytorch.py"
                assert f"your code: {mine}" in shown, f"the notebook does not work on the test's copy:\n{shown}"
    return {i: name for i, name in checks.items() if i <= last}


def test_nbgraders_instructor_tools_are_hidden_and_validate_is_there(notebook):
    """tools/student_jupyter switches off nbgrader's menu (Formgrader, Course List), its Create Assignment side
    bar and the formgrader server extension. Each check below finds them in an instructor's JupyterLab."""
    with notebook.step("02_no_instructor_tools"):
        menus = [m.text for m in notebook.find("#jp-menu-panel .lm-MenuBar-item")]
        assert "File" in menus, f"the menu bar was not found where it used to be: {menus}"
        assert "Nbgrader" not in menus, f"the student sees nbgrader's instructor menu: {menus}"

        tabs = [f'{t.get_attribute("title")} ({t.get_attribute("data-id")})'
                for t in notebook.find(".jp-SideBar .lm-TabBar-tab")]
        assert any("Property Inspector" in t for t in tabs), f"the side bars were not found where they were: {tabs}"
        assert not [t for t in tabs if "nbgrader" in t.lower()], f"the student sees nbgrader's side bar tabs: {tabs}"

        categories, commands = notebook.command_palette()
        assert "Notebook Operations" in categories, f"the command palette was not read: {categories}"
        instructor = [c for c in commands if c.lower() in ("formgrader", "course list", "create assignment")]
        assert "nbgrader" not in categories and not instructor, (
            f"the command palette offers nbgrader's instructor tools: {instructor or categories}")

        assert notebook.find(".jp-NotebookPanel-toolbar jp-button.validate-button"), "no Validate button in the toolbar"
        status, body = notebook.lab.get("formgrader")
        assert status == 404, f"the formgrader server extension answers ({status}): {body[:300]}"


def test_each_check_cell_shows_a_not_implemented_badge_and_nothing_else(notebook, check_cells):
    with notebook.step("04_not_implemented"):
        for index, name in check_cells.items():
            shown = notebook.output_text(index)
            badges = notebook.badges(index)
            assert badges == ["NOT IMPLEMENTED"], (
                f'check("{name}") should show one NOT IMPLEMENTED badge for the stub; the badges were {badges} '
                f"and its output was:\n{shown}")
            assert name in shown and "Traceback" not in shown, f'check("{name}") showed:\n{shown}'
            stray = notebook.stray_outputs(index)
            assert not stray, f'check("{name}") shows more than its verdict: {stray}; its output was:\n{shown}'
        notebook.scroll_to(min(check_cells))


def test_a_wrong_function_shows_a_fail_badge_and_what_to_fix(notebook, check_cells, desk):
    # The wrong sample_noise stays in the desk's module: Validate, after this, fails it rather than calling it
    # not implemented.
    student_file = desk / "gan_assignment" / "gan_pytorch.py"
    student_file.write_text(replace_function(student_file.read_text(), "sample_noise", WRONG_SAMPLE_NOISE))
    [expected] = run_checks(student_file, ["sample_noise"])
    assert expected.status == "FAIL" and expected.message, expected
    [index] = [i for i, name in check_cells.items() if name == "sample_noise"]
    with notebook.step("05_fail"):
        shown = notebook.run(index)       # the checks re-read the file: no kernel restart
        assert notebook.badges(index) == ["FAIL"], f"after a wrong sample_noise its check cell showed:\n{shown}"
        messages = [notebook.text(m) for m in notebook.find(".gan-check-message", notebook.cell(index))]
        assert [" ".join(m.split()) for m in messages] == [" ".join(expected.message.split())], (
            f"the check cell should show what to fix, {expected.message!r}; it showed:\n{shown}")
        assert not notebook.stray_outputs(index), notebook.stray_outputs(index)


def test_a_network_that_differs_shows_what_the_reference_and_yours_apply_side_by_side(notebook, check_cells, desk):
    student_file = desk / "gan_assignment" / "gan_pytorch.py"
    student_file.write_text(replace_function(student_file.read_text(), "discriminator", RELU_DISCRIMINATOR))
    [index] = [i for i, name in check_cells.items() if name == "discriminator"]
    with notebook.step("05_fail_network"):
        shown = notebook.run(index)
        assert notebook.badges(index) == ["FAIL"], f"after a ReLU discriminator its check cell showed:\n{shown}"
        tables = notebook.find("table.gan-check-layers", notebook.cell(index))
        assert len(tables) == 1, f"the FAIL should show one table of what the layers apply; it showed:\n{shown}"
        rows = [[notebook.text(td) for td in notebook.find("td", row)] for row in notebook.find("tr", tables[0])][1:]
        assert rows == [["between Linear(784 -> 256) and Linear(256 -> 256)", "LeakyReLU(negative_slope=0.01)",
                         "ReLU()"]], rows
        assert "your module [3], the 4th of your 6" in shown and "about 1 % off" in " ".join(shown.split()), shown


def test_validate_does_not_pass_a_notebook_whose_functions_fail(notebook):
    """nbgrader's Validate button: save, run the notebook in a fresh kernel under nbgrader, show a dialog."""
    with notebook.step("06_validate"):
        [button] = notebook.find(".jp-NotebookPanel:not(.lm-mod-hidden) jp-button.validate-button")
        button.click()
        started = time.monotonic()
        notebook.wait(VALIDATE_TIMEOUT, lambda d: notebook.find(".jp-Dialog"),
                      lambda: f"no dialog {VALIDATE_TIMEOUT} s after a click on Validate; the button read "
                              f"{button.text!r}")
        [dialog] = notebook.find(".jp-Dialog")
        title = notebook.text(notebook.find(".jp-Dialog-header", dialog)[0])
        text = notebook.text(notebook.find(".jp-Dialog-body", dialog)[0])
        (ARTEFACTS / "validate.txt").write_text(f"{title}\n\n{text}\n")
        print(f"Validate answered in {time.monotonic() - started:.0f} s: {title}\n{text}")
        notebook.screenshot("06_validate_dialog")
        assert title == "Validation Results", f"Validate showed {title!r}:\n{text}"
        assert "Traceback" not in text and "KeyboardInterrupt" not in text, f"Validate showed a traceback:\n{text}"
        assert SUCCESS not in text, f"Validate passed a notebook whose functions fail (the stubs):\n{text}"
        assert 'check("sample_noise")' in text, f"Validate does not say that check(\"sample_noise\") fails:\n{text}"

        [ok] = notebook.find(".jp-Dialog-button.jp-mod-accept", dialog)
        ok.click()
        notebook.wait(10, lambda d: not notebook.find(".jp-Dialog"), lambda: "the Validate dialog did not close on OK")


def test_the_student_edits_their_file_in_jupyterlab_and_the_check_turns_from_fail_to_pass(notebook, check_cells, desk):
    """As `make notebook` opens it, JupyterLab's file browser shows the notebooks and gan_assignment/ side by side
    (not the instructor's folders): the student opens gan_pytorch.py there, fixes sample_noise in the editor,
    saves, runs the check cell again and sees PASS. (Earlier tests left the wrong sample_noise in the file.)"""
    student_file = desk / "gan_assignment" / "gan_pytorch.py"
    [index] = [i for i, name in check_cells.items() if name == "sample_noise"]
    with notebook.step("07_fail_before_the_edit"):
        notebook.run(index)
        assert notebook.badges(index) == ["FAIL"], notebook.output_text(index)
    with notebook.step("08_file_browser"):
        notebook.open_in_file_browser()   # the top folder: what a student sees first
        shown = notebook.listing()
        assert {"gan_assignment", "notebooks", "checks"} <= set(shown), shown
        assert not {"solutions", "tests", "course"} & set(shown), f"instructor folders in the student's view: {shown}"
        notebook.open_in_file_browser("checks", "references")
        assert "gan_pytorch.npz" in notebook.listing() and "other_lab.hidden.npz" not in notebook.listing()
    with notebook.step("09_edited_in_jupyterlab"):
        notebook.open_in_file_browser("gan_assignment", "gan_pytorch.py", file=True)
        notebook.double_click_word_in_editor("return torch.zeros(batch_size, dim)", "zeros")
        notebook.type_keys("rand")
        from selenium.webdriver.common.keys import Keys
        notebook.type_keys(Keys.END, " * 2 - 1")
        notebook.save()
        notebook.wait(20, lambda d: "return torch.rand(batch_size, dim) * 2 - 1" in student_file.read_text(),
                      lambda: "the edit did not reach the file on disk:\n" + student_file.read_text()[:3000])
    with notebook.step("10_pass_after_the_edit"):
        notebook.select_tab("gan_pytorch.ipynb")
        shown = notebook.run(index)       # the checks re-read the file: no kernel restart
        assert notebook.badges(index) == ["PASS"], f"after the fix, the check cell showed:\n{shown}"
