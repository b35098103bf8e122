"""Finding and importing the file that holds a lab's functions (provided).

A notebook, `make check` and the command-line trainer all work on "your file"
of a lab: `gan_assignment/<lab>.py`, or, when the environment variable
GAN_IMPL is set, the file it names (instructors run the notebooks on the
solutions with GAN_IMPL=solutions). The file is imported afresh each time, so
an edit counts at once, with nothing to restart.
"""

import importlib
import importlib.abc
import importlib.util
import itertools
import os
import sys
import traceback
from pathlib import Path

import torch

PROJECT = Path(__file__).resolve().parent.parent.parent   # the folder holding gan_assignment/
_module_ids = itertools.count()


class ImplementationImportError(Exception):
    """The file could not be imported; the message says where and why."""


def implementation_path(module):
    """The file being worked on for the lab whose module is `module` (e.g. "gan_pytorch").

    GAN_IMPL, if set, may be a folder (the module is taken from it) or one file
    (used for the lab whose module has that file's name, and for gan_pytorch).
    A relative GAN_IMPL is taken from the current folder if it exists there, else
    from the project folder (a notebook's kernel runs in the notebook's folder).
    """
    student_file = PROJECT / "gan_assignment" / f"{module}.py"
    setting = os.environ.get("GAN_IMPL")
    if not setting:
        return student_file
    path = Path(setting)
    if not path.is_absolute() and not path.exists():
        path = PROJECT / path
    if path.is_dir():
        return (path / student_file.name).resolve()
    if module == "gan_pytorch" or path.stem == module:
        return path.resolve()
    return student_file


def load_module(path):
    """Import the file at `path` as a fresh module (edits since the last import are seen).

    Raises ImplementationImportError with the line and the reason when it cannot be imported.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise ImplementationImportError(f"no such file: {path}")
    name = f"_gan_impl_{next(_module_ids)}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as e:
        raise ImplementationImportError(f"{path.name} line {e.lineno}: SyntaxError: {e.msg}") from None
    except BaseException as e:  # noqa: BLE001 - whatever the student's file raises at import
        if isinstance(e, KeyboardInterrupt):
            raise
        raise ImplementationImportError(f"importing {path.name} raised {describe_error(e, path)}") from None
    finally:
        sys.modules.pop(name, None)
    return module


def needs_gpu(error):
    """True when `error` is PyTorch saying that CUDA is missing (code written for a GPU, run without one)."""
    text = str(error)
    return (not torch.cuda.is_available()
            and any(s in text for s in ("NVIDIA driver", "not compiled with CUDA", "No CUDA GPUs",
                                        "CUDA driver", "cuda.FloatTensor", "CUDA error")))


def where_in(error, path):
    """'gan_pytorch.py line 57: `code`', the last line of the file at `path` that `error` passed through (or None)."""
    path = Path(path).resolve()
    frames = [f for f in traceback.extract_tb(error.__traceback__) if Path(f.filename).resolve() == path]
    return f"{path.name} line {frames[-1].lineno}: `{(frames[-1].line or '').strip()}`" if frames else None


def describe_error(error, path):
    """'ValueError: msg (gan_pytorch.py line 57: `code`)', pointing into the file at `path` if possible.

    Code that needs a GPU, run where there is none, is said so in words.
    """
    where = where_in(error, path)
    if needs_gpu(error):
        return ("your code needs a GPU (CUDA) and this machine has none"
                + (f" ({where})" if where else "")
                + ". Create tensors on the CPU or on the device of the inputs (torch.ones_like(x), "
                "device=x.device) instead of torch.cuda.FloatTensor or .cuda(); the notebook moves the "
                "networks to the GPU when there is one")
    return f"{type(error).__name__}: {error}" + (f" ({where})" if where else "")


# Before gan_assignment/provided/ existed, the course's code was gan_assignment.config, .layers, ...: a student's
# file written against that layout (`from gan_assignment.config import NOISE_DIM`) still imports.
MOVED = ("config", "layers", "images", "utils", "data", "training", "quality", "report")


class MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports gan_assignment.<name> of MOVED as gan_assignment.provided.<name> (the same module object)."""

    def find_spec(self, fullname, path=None, target=None):
        package, _, name = fullname.rpartition(".")
        if package == "gan_assignment" and name in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return importlib.import_module(f"gan_assignment.provided.{spec.name.rpartition('.')[2]}")

    def exec_module(self, module):
        pass   # the provided module ran when it was imported


def keep_old_imports_working():
    """Install MovedModules once (gan_assignment/__init__.py does)."""
    if not any(isinstance(finder, MovedModules) for finder in sys.meta_path):
        sys.meta_path.append(MovedModules())
