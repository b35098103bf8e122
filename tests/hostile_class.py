"""A hostile class: submissions built to cheat or break the grader, and careless ones, with their exact scores.

    python -m tests.hostile_class COURSE      # fill COURSE/submitted (after `make release`)

Every attack of the red-team report on the old grader has a case here. A case
starts from the released assignment, as tests/synthetic_class.py does, and
deserves what its code earns honestly: the stubs' cheats earn only the
min-max table's points; a careless correct solution loses only the function
it broke. Some cases also attack from a notebook cell, or with the folder
itself (links, student ids).
"""

import os
import shutil
import sys
from pathlib import Path

import nbformat

from tests.synthetic_class import ASSIGNMENT, NOTEBOOK, POINTS, SOLUTION, STUDENT_MODULE, answer_questions, graded_cell
from tests.conftest import edit_function

FUNCTIONS = sum(POINTS[n] for n in ("sample_noise", "discriminator", "generator", "bce_loss", "discriminator_loss",
                                    "generator_loss", "get_optimizer", "ls_discriminator_loss", "ls_generator_loss",
                                    "build_dc_classifier", "build_dc_generator"))
TABLE = POINTS["minmax"]
SOLVED = FUNCTIONS + TABLE          # a correct solution without trained weights
MARKER = "HOSTILE_MARKER_7f3a"      # text a hostile process carries, to find it if it survived grading

# --- forging a verdict with untouched stubs ------------------------------------------------------

_FORGE_LINES = '''
import json as _json, os as _os
_names = ["sample_noise", "discriminator", "generator", "bce_loss", "discriminator_loss", "generator_loss",
          "get_optimizer", "ls_discriminator_loss", "ls_generator_loss", "build_dc_classifier", "build_dc_generator"]
_lines = [_json.dumps({"ready": True})] + [
    _json.dumps({"name": n, "label": l, "status": "PASS", "message": "", "notes": [], "seconds": 0.0,
                 "expectations": []}) for n in _names for l in ("visible", "hidden")]
_text = "\\n".join(_lines) + "\\n"
print(_text)                                   # to stdout, as the old grader's report was
for _fd in range(3, 40):                       # and to every file descriptor the worker may report on
    try:
        _os.write(_fd, _text.encode())
    except OSError:
        pass
'''

_FRAME_WRITER = '''
import sys as _sys, json as _json
_frame = _sys._getframe()
while _frame is not None:                      # find the worker's own report writer and use it
    _write = _frame.f_locals.get("write")
    if callable(_write):
        _write(_json.dumps({"ready": True}) + "\\n")
        for _n in ["sample_noise", "discriminator", "generator", "bce_loss", "discriminator_loss", "generator_loss",
                   "get_optimizer", "ls_discriminator_loss", "ls_generator_loss", "build_dc_classifier",
                   "build_dc_generator"]:
            for _l in ("visible", "hidden"):
                _write(_json.dumps({"name": _n, "label": _l, "status": "PASS", "message": "", "notes": [],
                                    "seconds": 0, "expectations": []}) + "\\n")
        break
    _frame = _frame.f_back
'''

_CODE_SWAP = '''
import checks.core.generic as _f, checks.labs.gan_pytorch as _g
def _passes(impl, ref, task):
    return []
for _module in (_f, _g):
    for _name in dir(_module):
        if _name.startswith("check_"):
            getattr(_module, _name).__code__ = _passes.__code__    # the check's own code object, swapped in place
'''

_BUILTIN_PATCH = '''
import builtins as _b, torch as _t
_real_isinstance = _b.isinstance
_b.isinstance = lambda obj, cls: True if cls is NotImplementedError else _real_isinstance(obj, cls)
class _Never(BaseException):
    pass
_b.NotImplementedError = _Never                # a stub's raise is no longer "not implemented"
_t.equal = lambda a, b: False
'''

# --- values and reports built to crash or exhaust the grader's own process (found by a red-team pass)

_NOT_NUMBERS = '''
import numpy as _np
import checks.core.answers as _r
_record = _r.BlindReference._record
def _text_instead(self, e):
    e.arrays = {"got": _np.array("not a number")}
    e.rows = None if e.rows is None else _np.array(["x"] * len(e.rows))
    _record(self, e)
_r.BlindReference._record = _text_instead
def bce_loss(input, target):
    return (input * 0).sum()
'''

_HINT_AND_WIDTH = '''
import checks.core.answers as _r
_record = _r.BlindReference._record
def _bombs(self, e):
    e.hint = ("loss",)                            # a hint called with the wrong arguments
    e.message = "{error:100000000}{value:>999999999}"   # a 1 GB message from a 40-character template
    _record(self, e)
_r.BlindReference._record = _bombs
def bce_loss(input, target):
    return (input * 0).sum() + 1.0
'''

_DEEP_JSON = '''
import os as _os, sys as _sys
_os.write(int(_sys.argv[5]), b"[" * 100000 + b"\\n")   # json.loads raises RecursionError on it
'''

_WRONG_TYPES = '''
import os as _os, sys as _sys, json as _json
_line = {"name": _sys.argv[6], "label": "visible", "status": "PASS", "seconds": "soon", "notes": 7,
         "expectations": "none"}
_os.write(int(_sys.argv[5]), (_json.dumps({"ready": True}) + "\\n" + _json.dumps(_line) + "\\n").encode())
_os._exit(0)
'''

_ARCHIVE_BOMB = '''
import os as _os, sys as _sys, json as _json
import numpy as _np
_fd, _work, _name = int(_sys.argv[5]), _sys.argv[1], _sys.argv[6]
if _name == "sample_noise":                       # the first worker only: a few MB that unpack to 300 MB
    _lines = [_json.dumps({"ready": True})]
    for _label in _sys.argv[3].split(","):
        _np.savez_compressed(f"{_work}/out/{_name}.{_label}.npz", **{"0.got": _np.zeros(300 * 2 ** 20, _np.uint8)})
        _lines.append(_json.dumps({"name": _name, "label": _label, "status": "PASS", "message": "", "notes": [],
                                   "seconds": 0, "expectations": [{"key": "sample_noise_draws", "kind": "noise"}]}))
    _os.write(_fd, ("\\n".join(_lines) + "\\n").encode())
    _os._exit(0)
'''

# --- round two (issue 30): values the worker hands back, the grader's memory, the sandbox's disk ---------
# Each attacks one correct function (ls_generator_loss, which nothing builds on) of an otherwise correct
# solution, so a grader that falls for it shows one point too many, and one that breaks shows collateral.

_SAVEZ_PATCH = """
import zipfile as _zip, numpy as _np
import numpy.lib._npyio_impl as _io
_real_savez = _io._savez
def _savez(file, *args, **kwargs):                # the worker bound np.savez; np.savez still calls this
    _real_savez(file, *args, **kwargs)
    if "ls_generator_loss" in str(file):
        with _zip.ZipFile(file, "a") as _z:
            _add(_z)
_io._savez = _savez
"""

_MEMBER_WITHOUT_NPY = _SAVEZ_PATCH + """
def _add(z):                                      # no ".npy", no dots: escaped the size cap, then crashed
    z.writestr("pad", b"\\0" * (60 * 2 ** 20))
"""

_UINT8_WITHIN_CAP = _SAVEZ_PATCH + """
import io as _bytes
def _add(z):                                      # 60 MB on disk, 480 MB once compared in float64
    buffer = _bytes.BytesIO()
    _np.lib.format.write_array(buffer, _np.zeros(60 * 2 ** 20, _np.uint8))
    z.writestr("0.pad.npy", buffer.getvalue())
"""

_INFINITE_BLOCK = """
import checks.core.answers as _r
_record = _r.BlindReference._record
def _infinite(self, e):
    if e.key.startswith("ls_generator_loss"):
        e.block = float("inf")                    # json writes Infinity where a whole number belongs
    _record(self, e)
_r.BlindReference._record = _infinite
"""

_IMPOSSIBLE_DRAWS = """
import torch as _torch
import checks.core.answers as _r
def sample_noise(batch_size, dim, seed=None):
    return _torch.zeros(batch_size, dim)
_record = _r.BlindReference._record
def _forged(self, e):                             # uniform noise, and seeded draws of one number each
    if e.key == "sample_noise_draws":
        e.arrays = dict(e.arrays, noise=(_torch.rand(256, 1000) * 2 - 1).numpy(),
                        **{k: _torch.tensor([float(i)]).numpy() for i, k in enumerate(
                            ["seed1", "seed1_again", "seed0", "seed0_again", "seed2", "unseeded", "unseeded_again"])})
        e.arrays["seed1_again"], e.arrays["seed0_again"] = e.arrays["seed1"], e.arrays["seed0"]
    _record(self, e)
_r.BlindReference._record = _forged
"""

_FILLS_TMP = """
def _fill(folder, files, size):
    import os
    written = 0
    for i in range(files):
        try:
            with open(os.path.join(folder, f"fill{i}-{os.getpid()}"), "wb") as f:
                f.write(b"x" * size)
            written += size
        except OSError:
            break
    return written
"""

_CLOSES_REPORT = """
import os as _os, sys as _sys, time as _time
if len(_sys.argv) > 5 and _sys.argv[5].isdigit():   # the worker's report pipe: closed, then silence
    _os.close(int(_sys.argv[5]))
    _time.sleep(120)
"""

_LS_G_FILLS = "    _fill(FOLDER, FILES, SIZE)\n" + "    return 0.5 * ((scores_fake - 1) ** 2)"

# --- reaching outside the submission --------------------------------------------------------------

_VANDAL = f'''
import os as _os
def _vandalize():
    """Append to every file of the grader's, the course's and other students' that can be found."""
    wanted = ("gan_pytorch.py", "gradebook.db", "grades.csv", "registry.py", "generic.py", "compare.py",
              "gan_pytorch.hidden.npz")
    seen = 0
    for top in ("/", _os.path.expanduser("~"), _os.getcwd(), "/tmp", "/work"):
        for folder, dirs, files in _os.walk(top):
            dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev", "usr", "lib", "lib64", "bin", "sbin")]
            for name in files:
                if name in wanted:
                    path = _os.path.join(folder, name)
                    if _os.path.abspath(path) == _os.path.abspath(__file__):
                        continue
                    try:
                        with open(path, "a") as f:
                            f.write("\\n# {MARKER}\\n")
                    except OSError:
                        pass
                    if name.endswith(".hidden.npz"):
                        print("{MARKER} FOUND_HIDDEN", path)
            seen += 1
            if seen > 20000:
                return
_vandalize()
'''

_DETACHED = f'''
import os as _os, sys as _sys
if _os.fork() == 0:                            # a grandchild in its own session, meant to outlive grading
    _os.setsid()
    if _os.fork() == 0:
        _os.execv(_sys.executable, [_sys.executable, "-c",
                  "import time, os\\n# {MARKER}\\nfor _ in range(120):\\n    time.sleep(1)\\n"
                  "    for top in ('/tmp', os.getcwd()):\\n        pass\\n"])
    _os._exit(0)
'''

_HIDDEN_HUNT_CELL = f'''import os
for top in ("/", os.path.expanduser("~"), os.getcwd(), "..", "../..", "/tmp"):
    for folder, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev", "usr")]
        for name in files:
            if "hidden" in name and name.endswith(".npz"):
                print("{MARKER} FOUND_HIDDEN", os.path.join(folder, name))
print(open("grading_results.json").read()[:20000] if os.path.exists("grading_results.json") else "")
'''

_SIGINT_CELL = '''import signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
while True:
    pass'''


_LS_D = "    return 0.5 * ((scores_real - 1) ** 2)"    # the first line of the solutions' LSGAN losses
_LS_G = "    return 0.5 * ((scores_fake - 1) ** 2)"


def _break(function, old, new, prelude=""):
    return lambda stub: edit_function(SOLUTION, function, old, new) + prelude


# case -> how to build it and what it deserves:
#   module(stub) -> text (None: no module), cell: code of a cell of the student's own, folder(path, course):
#   anything done to the submitted folder, student: the folder's name if not the case's,
#   table: the source of its min-max answer cell, points: the autograded points it deserves, problems: words
#   the summary must say,
#   ungradable: words of the reason it cannot be graded.
CASES = {
    # a verdict forged from inside the student's process, with untouched stubs
    # (a forged report may take the place of the worker's own: the verdict is the same, the reason less precise)
    "forged_report_lines": dict(module=lambda stub: stub + _FORGE_LINES, points=TABLE, problems=["sample_noise"]),
    "report_writer_from_frame": dict(module=lambda stub: stub + _FRAME_WRITER, points=TABLE,
                                     problems=["sample_noise"]),
    "checks_code_swapped": dict(module=lambda stub: stub + _CODE_SWAP, points=TABLE,
                                problems=["did not get as far as comparing"]),
    "builtins_patched": dict(module=lambda stub: stub + _BUILTIN_PATCH, points=TABLE, problems=["sample_noise"]),
    # values and reports that would crash or exhaust the grader's process: each fails its own functions only
    "values_not_numbers": dict(module=lambda stub: stub + _NOT_NUMBERS, points=TABLE,
                               problems=["not numbers"]),
    "hint_and_width_bombs": dict(module=lambda stub: stub + _HINT_AND_WIDTH, points=TABLE,
                                 problems=["{error:100000000}{value:>999999999}"]),
    "deep_json_on_report_pipe": dict(module=lambda stub: stub + _DEEP_JSON, points=TABLE,
                                     problems=["not implemented: sample_noise"]),
    "report_fields_of_wrong_types": dict(module=lambda stub: stub + _WRONG_TYPES, points=TABLE,
                                         problems=["could not be read"]),
    "values_archive_bomb": dict(module=lambda stub: stub + _ARCHIVE_BOMB, points=TABLE,
                                problems=["size of the values returned"]),
    # round two: values, memory and disk (the fixture also bounds the grader's memory and the host's disk)
    "npz_member_without_npy": dict(module=lambda stub: SOLUTION + _MEMBER_WITHOUT_NPY,
                                   points=SOLVED - POINTS["ls_generator_loss"], problems=["no check writes"]),
    "npz_uint8_within_file_cap": dict(module=lambda stub: SOLUTION + _UINT8_WITHIN_CAP,
                                      points=SOLVED - POINTS["ls_generator_loss"], problems=["would take 480 MB"]),
    "report_infinity_for_a_number": dict(module=lambda stub: SOLUTION + _INFINITE_BLOCK,
                                         points=SOLVED - POINTS["ls_generator_loss"], problems=["not a small whole"]),
    "noise_zeros_with_impossible_draws": dict(module=lambda stub: SOLUTION + _IMPOSSIBLE_DRAWS,
                                              points=SOLVED - POINTS["sample_noise"], problems=["expected (4, 6)"]),
    "weights_that_inflate": dict(module=lambda stub: SOLUTION, folder="weights_bomb", points=SOLVED,
                                 problems=[]),
    "table_number_too_large": dict(module=lambda stub: SOLUTION, table="x_values = [0x" + "f" * 1100
                                   + ", 1, 1, 1, 1, 1]\ny_values = [1, 1, 1, 1, 1, 1]\n",
                                   points=SOLVED - TABLE, problems=[]),
    "fills_its_tmp": dict(module=_break("ls_generator_loss", _LS_G, _LS_G_FILLS.replace("FOLDER", "'/tmp'")
                                        .replace("FILES", "40").replace("SIZE", "50 * 2 ** 20"), prelude=_FILLS_TMP),
                          points=SOLVED, problems=[]),
    "fills_its_folder": dict(module=_break("ls_generator_loss", _LS_G, _LS_G_FILLS.replace("FOLDER", "'.'")
                                           .replace("FILES", "100").replace("SIZE", "50 * 2 ** 20"), prelude=_FILLS_TMP),
                             points=SOLVED - POINTS["ls_generator_loss"], problems=["disk limit"]),
    "many_small_files": dict(module=_break("ls_generator_loss", _LS_G, _LS_G_FILLS.replace("FOLDER", "'.'")
                                           .replace("FILES", "50_000").replace("SIZE", "1"), prelude=_FILLS_TMP),
                             points=SOLVED - POINTS["ls_generator_loss"], problems=["20000 files"]),
    # found by a red-team helper: a report pipe closed early, a death by a real-time signal, autograd left off
    "closes_its_report_and_waits": dict(module=lambda stub: stub + _CLOSES_REPORT, points=TABLE,
                                        problems=["while importing your file"]),
    "dies_by_a_realtime_signal": dict(module=_break("ls_generator_loss", _LS_G,
                                                    "    import os\n    os.kill(os.getpid(), 40)\n" + _LS_G),
                                      points=SOLVED - POINTS["ls_generator_loss"], problems=["crashed"]),
    "autograd_switched_off_in_one_function": dict(
        module=_break("sample_noise", "    return ", "    torch.set_grad_enabled(False)\n    return "),
        points=SOLVED, problems=[]),
    # global state is graded on its effects, never called tampering
    "default_dtype_float64": dict(module=lambda stub: SOLUTION + "\ntorch.set_default_dtype(torch.float64)\n",
                                  points=SOLVED, problems=[]),
    # other people's files, and processes left behind
    "vandal_module_and_cell": dict(module=lambda stub: stub + _VANDAL, cell=_VANDAL, points=TABLE,
                                   problems=["not implemented"]),
    "detached_process": dict(module=lambda stub: SOLUTION + _DETACHED, cell=_DETACHED, points=SOLVED),
    "hidden_reference_hunt": dict(module=lambda stub: stub, cell=_HIDDEN_HUNT_CELL, points=TABLE,
                                  problems=["not implemented"]),
    # paths from the submission
    "module_links_to_solution": dict(module=None, folder="link_module", points=TABLE,
                                     problems=["refused gan_assignment/gan_pytorch.py: a symbolic link"]),
    "results_file_links_to_peer": dict(module=lambda stub: stub, folder="link_results", points=TABLE,
                                       problems=["refused grading_results.json: a symbolic link"]),
    "fifo_in_submission": dict(module=lambda stub: SOLUTION, folder="fifo", points=SOLVED,
                               problems=["refused notes.fifo: not a regular file"]),
    "dash_help": dict(module=lambda stub: SOLUTION, student="--help", ungradable="not a usable student id"),
    "glob_star": dict(module=lambda stub: SOLUTION, student="*", ungradable="not a usable student id"),
    # careless, not cheating: one function's mistake costs that function only
    "sys_exit_in_one_function": dict(module=_break("get_optimizer", "    return torch.optim.Adam(",
                                                   "    import sys\n    sys.exit(1)\n    return torch.optim.Adam("),
                                     points=SOLVED - POINTS["get_optimizer"], problems=["sys.exit"]),
    "os_exit_in_one_function": dict(module=_break("ls_generator_loss", _LS_G, "    import os\n    os._exit(3)\n" + _LS_G),
                                    points=SOLVED - POINTS["ls_generator_loss"], problems=["exited with status 3"]),
    "endless_loop_in_one_function": dict(module=_break("ls_discriminator_loss", _LS_D,
                                                       "    while True:\n        pass\n" + _LS_D),
                                         points=SOLVED - POINTS["ls_discriminator_loss"],
                                         problems=["did not finish within"]),
    "cell_ignores_interrupts": dict(module=lambda stub: SOLUTION, cell=_SIGINT_CELL, points=SOLVED,
                                    problems=["the notebook run for the feedback"]),
    # resources
    "floods_output_in_one_function": dict(
        module=_break("generator", "    return nn.Sequential(", "    while True:\n        print('x' * 100000)\n"
                      "    return nn.Sequential("),
        points=SOLVED - POINTS["generator"], problems=["File too large"]),
    "memory_hog_in_one_function": dict(
        module=_break("discriminator", "    return nn.Sequential(",
                      "    hog = torch.ones(40 * 2 ** 30, dtype=torch.uint8)\n    return nn.Sequential("),
        points=SOLVED - POINTS["discriminator"], problems=["fail: discriminator"]),
    "fork_bomb_in_one_function": dict(
        module=_break("ls_discriminator_loss", _LS_D,
                      "    import os, time\n    while True:\n        try:\n            os.fork()\n"
                      "        except OSError:\n            time.sleep(0.5)\n" + _LS_D),
        points=SOLVED - POINTS["ls_discriminator_loss"], problems=["ls_discriminator_loss"]),
}


def make_submission(course, case):
    """Write submitted/<student>/gan for `case`; returns the student id."""
    spec = CASES[case]
    student = spec.get("student", case)
    released = course / "release" / ASSIGNMENT
    folder = course / "submitted" / student / ASSIGNMENT
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(released, folder)
    module = folder / STUDENT_MODULE
    if spec["module"] is None:
        module.unlink()
    else:
        module.write_text(spec["module"](module.read_text()))
    notebook = answer_questions(nbformat.read(folder / NOTEBOOK, as_version=4))
    if "table" in spec:
        graded_cell(notebook, "minmax_answer").source = spec["table"]
    if "cell" in spec:   # a cell of the student's own, just before the first test cell
        index = notebook.cells.index(graded_cell(notebook, "test_sample_noise"))
        notebook.cells.insert(index, nbformat.v4.new_code_cell(spec["cell"]))
    nbformat.write(notebook, folder / NOTEBOOK)
    if spec.get("folder") == "link_module":
        module.symlink_to(course / "source" / ASSIGNMENT / STUDENT_MODULE)
    elif spec.get("folder") == "link_results":
        peer = course / "submitted" / "default_dtype_float64" / ASSIGNMENT / STUDENT_MODULE
        (folder / "grading_results.json").symlink_to(peer)
    elif spec.get("folder") == "fifo":
        os.mkfifo(folder / "notes.fifo")
    elif spec.get("folder") == "weights_bomb":
        _inflating_weights(folder / "dcgan_generator.pt")
    return student


def _inflating_weights(path):
    """A 13 MB generator file whose first tensor, a view of one float16 number (stride 0), claims 1 GiB."""
    import torch

    from gan_assignment.provided.modules import load_module
    from tests.conftest import SOLUTION_FILE

    state = {k: v.half() for k, v in load_module(SOLUTION_FILE).build_dc_generator(96).state_dict().items()}
    first = next(iter(state))
    state[first] = torch.zeros(1, dtype=torch.float16).as_strided((2 ** 29,), (0,))
    torch.save({"state_dict": state, "noise_dim": 96}, path)


def make_class(course):
    """Every case; returns {student id: case}."""
    return {make_submission(course, case): case for case in CASES}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    students = make_class(Path(argv[0]).resolve())
    print(f"{len(students)} hostile submissions in {argv[0]}/submitted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
