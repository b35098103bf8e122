"""Working in Google Colab: the notebook's first cell calls `setup_colab` there, and only there.

Colab starts every notebook in /content, with the course folder on Google Drive
and without some of what a local `make setup` installs. `setup_colab(folder)`:

1. checks that `folder` (on the mounted Drive) holds the course (gan_assignment/, checks/);
2. installs with pip the packages the course needs that Colab lacks (nothing, usually);
3. moves into the notebook's folder there, so the rest of the notebook works as it does locally
   (it finds the course by walking up from the current folder) and what it saves
   (dcgan_generator.pt, figures) lands on Drive, where it outlives the Colab session.

Only the standard library is used here: this runs before anything is installed, so the
cell loads this file by its path (runpy), not by importing the package.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

# What the notebooks import, as (module, pip package). nbgrader, pytest and jupyter are the instructor's
# and the tests' (Colab is its own Jupyter).
NEEDED = [("torch", "torch"), ("torchvision", "torchvision"), ("numpy", "numpy"), ("matplotlib", "matplotlib"),
          ("tqdm", "tqdm")]


def missing_packages(needed=None):
    """The pip packages of `needed` (default: NEEDED) whose module cannot be imported here."""
    return [package for module, package in needed or NEEDED if importlib.util.find_spec(module) is None]


def pip_install(packages):
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *packages], check=True)


def setup_colab(folder, notebook_dir="notebooks", install=pip_install):
    """Make a Colab session work like a local one, from the course `folder` on the mounted Drive."""
    folder = Path(folder)
    if not (folder / "gan_assignment").is_dir() or not (folder / "checks").is_dir():
        raise FileNotFoundError(
            f"{folder} does not hold the course (gan_assignment/ and checks/). Upload the course folder to your "
            "Google Drive (`make colab` copies it to colab/gan-course), then set COURSE in this cell to where it "
            "is (your README's 'Google Colab' section).")
    missing = missing_packages()
    if missing:
        print(f"Installing what Colab lacks: {', '.join(missing)}", flush=True)
        install(missing)
    work = folder / notebook_dir if (folder / notebook_dir).is_dir() else folder
    os.chdir(work)
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    print(f"Colab: working in {work} (on your Drive: your edits and saved files stay there)"
          + ("" if missing else "; nothing to install"))
    return work
