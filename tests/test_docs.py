"""The README is a front door, and every command it and docs/ show exists as written.

Each command of a ```bash block is checked: a `make TARGET ...` runs `make -n` (the target exists and its
variables parse; nothing is executed), a `python -m MODULE` names a module that imports. The commands that
matter most run for real in other tests (tests/test_artifacts.py, tests/test_train_cli.py, ...)."""

import importlib.util
import re
import subprocess

import pytest

from tests.conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RELEASE_README = ROOT / "tools" / "release_files" / "README.md"


def commands(page):
    """The commands of the page's ```bash blocks (comments cut), as written."""
    blocks = re.findall(r"```bash\n(.*?)```", page.read_text(), re.S)
    return [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def test_the_readme_is_a_front_door():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 300, f"README.md has {len(lines)} lines: details go to docs/"
    first = commands(ROOT / "README.md")[:2]
    assert first == ["make train", "make test"], f"the two set-up commands come first: {first}"


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_command_exists_as_written(page):
    for command in commands(page):
        words = command.split()
        if words[0] == "make":
            done = subprocess.run(["make", "-n", *words[1:]], cwd=ROOT, capture_output=True, text=True)
            assert done.returncode == 0, f"{page.name}: `{command}` does not work:\n{done.stderr[-2000:]}"
        elif "-m" in words:
            module = words[words.index("-m") + 1]
            assert importlib.util.find_spec(module), f"{page.name}: `{command}`: no module {module}"
        else:
            pytest.fail(f"{page.name}: `{command}` is neither a make target nor a python -m command")


def test_the_release_readme_shows_only_its_makefiles_targets():
    targets = set(re.findall(r"^([a-z-]+):", (ROOT / "tools" / "release_files" / "Makefile").read_text(), re.M))
    for command in commands(RELEASE_README):
        assert command.split()[0] == "make" and command.split()[1] in targets, command


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_link_and_path_a_page_names_exists(page):
    text = page.read_text()
    for link in re.findall(r"\]\(([^)#]+)\)", text):
        if not link.startswith("http"):
            assert (page.parent / link).exists(), f"{page.name} links to {link}, which does not exist"
    for path in re.findall(r"`((?:gan_assignment|checks|tools|bench|solutions|tests)/[\w/.-]+\.(?:py|md))`", text):
        assert (ROOT / path).exists(), f"{page.name} names {path}, which does not exist"
