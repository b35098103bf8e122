"""A student's JupyterLab in a real browser: the server, headless Chromium, and the notebook as the student sees it.

    with JupyterLab(desk, state_folder, env) as lab, chromium() as driver:
        notebook = Notebook(driver, lab, "notebooks/gan_pytorch.ipynb", artefacts)
        notebook.open()
        notebook.run(3)                      # Shift+Enter on code cell 3, wait for its [n]:
        notebook.badges(3)                   # the verdict badges in its output area

The server is started the way `make notebook` starts it (JUPYTER_CONFIG_PATH=tools/student_jupyter, which
hides nbgrader's instructor tools), on a tmp copy of the student's desk: autosave and Validate write to the
notebook they open, and the user's own files must not change. Every wait says what the student would have
seen when it runs out.
"""

import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Screenshots and logs of the browser tests: $GAN_TEST_ARTEFACTS/<test>/ (default outputs/test-artefacts/<test>/).
TEST_ARTEFACTS = Path(os.environ.get("GAN_TEST_ARTEFACTS", ROOT / "outputs" / "test-artefacts"))
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL = "apt-get install chromium chromium-driver && .venv/bin/pip install selenium"
STUDENT_CONFIG = ROOT / "tools" / "student_jupyter"   # what `make notebook` puts on JUPYTER_CONFIG_PATH
START_TIMEOUT = 90       # seconds for JupyterLab to answer: the test machine has 2 slow cores
PROMPT = re.compile(r"^\[(\d+)\]:$")    # a code cell that has run: [12]: ([ ]: never ran, [*]: running)


def require_browser():
    """Selenium's webdriver module; skip (fail in CI, which must run the browser test) when it cannot run."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    try:
        from selenium import webdriver
    except ImportError:
        missing.append("the selenium package")
        webdriver = None
    if missing:
        message = f"the browser test needs {', '.join(missing)}: {INSTALL}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return webdriver


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterLab:
    """`jupyter lab` serving `root` on 127.0.0.1, on a free port with a random token, stopped on exit.

    It runs as `make notebook` runs it: JUPYTER_CONFIG_PATH starts with tools/student_jupyter. Its workspace
    and user settings go to folders under `state` so that nothing is written to the user's ~/.jupyter (and
    the user's own settings cannot change what the test sees). Its log is `state`/jupyter.log.
    """

    def __init__(self, root, state, env=None):
        self.root, self.state = Path(root), Path(state)
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.log_path = self.state / "jupyter.log"
        self.env = {**os.environ, **(env or {})}
        config_path = os.environ.get("JUPYTER_CONFIG_PATH")
        self.env["JUPYTER_CONFIG_PATH"] = str(STUDENT_CONFIG) + (f"{os.pathsep}{config_path}" if config_path else "")
        self.process = None

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def url(self, path):
        """The browser's address of `path` ("lab/tree/notebooks/gan_pytorch.ipynb"), logged in by the token."""
        return f"{self.base}/{path}?token={self.token}"

    def get(self, path):
        """(HTTP status, body) of GET `path` on the server, with the token."""
        request = urllib.request.Request(f"{self.base}/{path}", headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")

    def log(self, tail=6000):
        return self.log_path.read_text(errors="replace")[-tail:] if self.log_path.exists() else "(no log)"

    def __enter__(self):
        self.state.mkdir(parents=True, exist_ok=True)
        # No "Would you like to get notified about official Jupyter news?" toast over the screenshots.
        notification = self.state / "user-settings" / "@jupyterlab" / "apputils-extension"
        notification.mkdir(parents=True, exist_ok=True)
        (notification / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
        command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
                   "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
                   f"--ServerApp.root_dir={self.root}", f"--LabApp.workspaces_dir={self.state / 'workspaces'}",
                   f"--LabApp.user_settings_dir={self.state / 'user-settings'}"]
        if os.geteuid() == 0:
            command.append("--allow-root")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, cwd=self.root, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            self._wait_until_it_answers()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_until_it_answers(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"JupyterLab exited with status {self.process.returncode} before it answered; "
                            f"its log:\n{self.log()}")
            try:
                if self.get("api/status")[0] == 200:
                    return
            except OSError:   # not listening yet
                pass
            time.sleep(0.5)
        pytest.fail(f"JupyterLab did not answer on {self.base}/api/status within {START_TIMEOUT} s; "
                    f"its log:\n{self.log()}")

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.terminate()    # the server shuts its kernels down on SIGTERM
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def chromium(width=1400, height=1000):
    """Headless Chromium driven by Selenium 4; quit on exit."""
    webdriver = require_browser()
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={width},{height}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


class Notebook:
    """One notebook open in JupyterLab, seen and driven as a student would: click a cell, Shift+Enter, read.

    Cells are numbered as in the .ipynb file (markdown cells count): JupyterLab draws every cell, in order
    (its default windowing mode, "contentVisibility", keeps off-screen cells in the page).
    """

    def __init__(self, driver, lab, path, artefacts):
        self.driver, self.lab, self.path, self.artefacts = driver, lab, path, Path(artefacts)
        self.artefacts.mkdir(parents=True, exist_ok=True)

    def open(self, timeout=90):
        """Open the notebook in JupyterLab; wait until its cells show and its kernel is idle."""
        self.driver.get(self.lab.url(f"lab/tree/{self.path}"))
        self.wait(timeout, lambda d: self.cells() and self.kernel_status() == "idle",
                  lambda: f"{self.path} did not open with an idle kernel within {timeout} s: the kernel status was "
                          f"{self.kernel_status()!r} and the page showed:\n{self.page_text()}")

    # -- waiting and looking -------------------------------------------------------------------------

    def wait(self, timeout, condition, message):
        """Wait until condition(driver) is true; else fail with message() (what the student would see)."""
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.support.ui import WebDriverWait

        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.25).until(condition)
        except TimeoutException:
            pytest.fail(message())

    def find(self, selector, within=None):
        from selenium.webdriver.common.by import By

        return (within or self.driver).find_elements(By.CSS_SELECTOR, selector)

    def page_text(self, limit=3000):
        return self.driver.find_element("tag name", "body").text[:limit]

    def kernel_status(self):
        """The notebook toolbar's kernel status: "idle", "busy", "starting", ... (None before it shows)."""
        found = self.find(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator")
        return found[0].get_attribute("data-status") if found else None

    def cells(self):
        return self.find(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")

    def cell(self, index):
        return self.cells()[index]

    def prompt(self, index):
        """The code cell's input prompt: "[ ]:" never ran, "[*]:" running, "[3]:" ran third."""
        [prompt] = self.find(".jp-InputPrompt", self.cell(index))
        return prompt.get_attribute("textContent").strip()

    def output_text(self, index):
        """What the cell's output area shows, as text ("" when empty)."""
        return "\n".join(self.text(o) for o in self.find(".jp-OutputArea-output", self.cell(index)))

    def text(self, element):
        """An element's text as shown: scrolled into view first (off-screen cells are not laid out)."""
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'nearest'});", element)
        return element.text

    def scroll_to(self, index):
        """Scroll cell `index` to the top of the notebook, for a screenshot."""
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'start'});", self.cell(index))

    def badges(self, index):
        """The verdict badges (.gan-check-badge) in the cell's output area, as their texts."""
        return [self.text(b) for b in self.find(".jp-OutputArea .gan-check-badge", self.cell(index))]

    def stray_outputs(self, index):
        """What a check cell must not show: a returned value (JupyterLab marks it with an output prompt [n]:,
        where the classic notebook wrote Out[n]:; displayed output has an empty prompt) or a line True/False."""
        cell = self.cell(index)
        stray = [f"a returned value, prompt {p.get_attribute('textContent').strip()!r}"
                 for p in self.find(".jp-OutputPrompt", cell) if p.get_attribute("textContent").strip()]
        stray += [f"output {t!r}" for t in (self.text(o).strip() for o in self.find(".jp-OutputArea-output", cell))
                  if t in ("True", "False")]
        return stray

    # -- doing ----------------------------------------------------------------------------------------

    def run(self, index, timeout=120):
        """Select code cell `index` (a click on its prompt: command mode) and press Shift+Enter, as a student
        does; wait until its prompt shows a new [n]:. Returns the cell's output text."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys

        before = self.prompt(index)
        previous = int(PROMPT.match(before).group(1)) if PROMPT.match(before) else 0
        [prompt] = self.find(".jp-InputPrompt", self.cell(index))
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", prompt)
        prompt.click()
        self.wait(10, lambda d: "jp-mod-selected" in self.cell(index).get_attribute("class"),
                  lambda: f"a click on the prompt of cell {index} did not select it")
        ActionChains(self.driver).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()

        def ran(_):
            match = PROMPT.match(self.prompt(index))
            return match and int(match.group(1)) > previous

        self.wait(timeout, ran, lambda: f"cell {index} had not finished after {timeout} s: its prompt showed "
                                        f"{self.prompt(index)!r} and its output was:\n{self.output_text(index)}")
        return self.output_text(index)

    def command_palette(self):
        """(categories, command labels) that JupyterLab's command palette lists, opened with Ctrl+Shift+C as a
        student would and closed again with Escape: every command a plugin registers for the palette."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys

        keys = ActionChains(self.driver).key_down(Keys.CONTROL).key_down(Keys.SHIFT).send_keys("c")
        keys.key_up(Keys.SHIFT).key_up(Keys.CONTROL).perform()
        self.wait(10, lambda d: any(i.is_displayed() for i in self.find(".lm-CommandPalette-input")),
                  lambda: "Ctrl+Shift+C did not open the command palette")
        self.wait(10, lambda d: self.find(".lm-CommandPalette-item"), lambda: "the command palette stayed empty")
        def texts(selector):
            return [e.get_attribute("textContent").strip() for e in self.find(selector)]

        found = texts(".lm-CommandPalette-header"), texts(".lm-CommandPalette-itemLabel")
        ActionChains(self.driver).send_keys(Keys.ESCAPE).perform()
        self.wait(10, lambda d: not any(i.is_displayed() for i in self.find(".lm-CommandPalette-input")),
                  lambda: "Escape did not close the command palette")
        return found

    # -- the file browser and the editor ------------------------------------------------------------------

    def listing(self):
        """The names the file browser shows in the folder it is in (read in one go: the listing redraws itself)."""
        return self.driver.execute_script(
            "return [...document.querySelectorAll('.jp-DirListing-content .jp-DirListing-itemText')]"
            ".map(e => e.textContent.trim());")

    def open_in_file_browser(self, *path, file=False):
        """Go to the file browser's top folder (its home icon), then double-click each name of `path` in turn, as a
        student does: folders open in the file browser; with file=True the last name is a file, which opens in an
        editor tab."""
        [home] = self.find(".jp-FileBrowser .jp-BreadCrumbs-home")
        home.click()
        find_item = ("return [...document.querySelectorAll('.jp-DirListing-content .jp-DirListing-item')]"
                     ".find(e => e.querySelector('.jp-DirListing-itemText').textContent.trim() === arguments[0]);")
        for name in path:
            self.wait(20, lambda d: name in self.listing(),
                      lambda: f"the file browser does not show {name!r}; it shows {self.listing()}")
            self.wait(10, lambda d: self._double_click(self.driver.execute_script(find_item, name)),
                      lambda: f"{name!r} could not be double-clicked in the file browser")
        if file:
            self.wait(30, lambda d: self.find(".jp-FileEditor:not(.lm-mod-hidden) .cm-content"),
                      lambda: f"{'/'.join(path)} did not open in an editor; the page showed:\n{self.page_text()}")
        else:
            self.wait(20, lambda d: self.listing() and not (path and path[-1] in self.listing()),
                      lambda: f"{'/'.join(path) or 'the top folder'} did not open; the listing: {self.listing()}")

    def _double_click(self, element):
        """Double-click `element`; False if it was redrawn meanwhile (the caller waits and tries again)."""
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.common.action_chains import ActionChains

        try:
            ActionChains(self.driver).double_click(element).perform()
            return True
        except StaleElementReferenceException:
            return False

    def double_click_word_in_editor(self, line_text, word):
        """Double-click `word` on the first line of the open editor that contains `line_text` (it selects the word)."""
        from selenium.webdriver.common.actions.action_builder import ActionBuilder

        point = self.driver.execute_script("""
            const [lineText, word] = arguments;
            const line = [...document.querySelectorAll('.jp-FileEditor:not(.lm-mod-hidden) .cm-line')]
                .find(l => l.textContent.includes(lineText));
            if (!line) return null;
            line.scrollIntoView({block: 'center'});
            const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                const at = node.textContent.indexOf(word);
                if (at >= 0) {
                    const range = document.createRange();
                    range.setStart(node, at);
                    range.setEnd(node, at + word.length);
                    const box = range.getBoundingClientRect();
                    return [Math.round(box.left + box.width / 2), Math.round(box.top + box.height / 2)];
                }
            }
            return null;""", line_text, word)
        assert point, f"no line with {line_text!r} and {word!r} in the editor"
        actions = ActionBuilder(self.driver)
        actions.pointer_action.move_to_location(*point)
        actions.pointer_action.double_click()
        actions.perform()

    def type_keys(self, *keys):
        """Type into whatever has the focus, as a keyboard does (Keys.END and the like included)."""
        from selenium.webdriver.common.action_chains import ActionChains

        ActionChains(self.driver).send_keys(*keys).perform()

    def save(self):
        """Ctrl+S: JupyterLab saves the document in the current tab."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys

        ActionChains(self.driver).key_down(Keys.CONTROL).send_keys("s").key_up(Keys.CONTROL).perform()

    def select_tab(self, label):
        """Click the main area's tab whose label is `label` (a notebook or a file)."""
        tabs = [t for t in self.find(".lm-DockPanel-tabBar .lm-TabBar-tab")
                if t.get_attribute("textContent").strip() == label]
        assert tabs, f"no tab {label!r}: {[t.get_attribute('textContent') for t in self.find('.lm-TabBar-tab')]}"
        tabs[0].click()

    def screenshot(self, name):
        """Save the browser window as `name`.png among the test's artefacts; returns its path."""
        path = self.artefacts / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    @contextmanager
    def step(self, name):
        """A step of the test: its screenshot is saved when it ends, `name`.png, or `name`_FAILED.png."""
        try:
            yield
        except BaseException:
            with suppress(Exception):   # a browser that died must not hide why the step failed
                self.screenshot(f"{name}_FAILED")
            raise
        self.screenshot(name)
