"""A synthetic class: one submission per case an autograder must survive, with its exact expected score.

    python -m tests.synthetic_class COURSE [--copies N]   # fill COURSE/submitted (after `make release`)

Each case starts from the released assignment and changes what a real student
might: the module (solution, stubs, broken, hostile) and the notebook.
"""

import argparse
import json
import shutil
import sys
from pathlib import Path

import nbformat
import numpy as np

from tests.conftest import SOLUTION_FILE, edit_function, function_span, replace_function
from checks.registry import LABS, MAIN

MODE_COLLAPSE = LABS["mode_collapse"]
from tools.course import module_path

SOLUTION = SOLUTION_FILE.read_text()
ASSIGNMENT, NOTEBOOK, STUDENT_MODULE = MAIN.assignment, MAIN.notebook, module_path(MAIN)
POINTS = {t.name: t.points for t in MAIN.tasks}
ALL = MAIN.functions
MINMAX = ([-1, -2, -1, 1, 2, 1], [2, 1, -1, -2, -1, 1])


def _stub_source(released):
    return (released / STUDENT_MODULE).read_text()


def answer_questions(notebook, minmax=MINMAX):
    """Fill the min-max table and both free-text answers, as a student would."""
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if grade_id == "minmax_answer":
            cell.source = f"x_values = {list(minmax[0])}\ny_values = {list(minmax[1])}\n"
        elif grade_id.startswith("inline_question"):
            cell.source = "No: the iterates circle around the optimum."
    return notebook


def graded_cell(notebook, grade_id):
    return next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


_MONKEYPATCH = '''

# A module that tries to force a pass when it is imported.
import checks.core.generic as _checks
import torch.nn.functional as _F
for _name in [n for n in dir(_checks) if n.startswith("check_")]:
    setattr(_checks, _name, lambda impl, ref, task: None)
import checks.core.compare as _compare
_compare.relative_difference = lambda got, expected: 0.0
_compare.judge_one = lambda expectation, ref: None
_compare.decide = lambda task, status, *rest: ("PASS", "", [])
_F.binary_cross_entropy_with_logits = lambda *a, **k: 0
'''

_CELL_PATCH = '''import checks.grading as _grading
_grading.grade = lambda *args, **kwargs: print("PASS")
'''


# Each case: how to change module and notebook, and what must come out.
#   module(stub, solution) -> module text; notebook(nb) -> nb (or None: the file is written by `raw`)
#   points: autograded points expected (functions + minmax); problems: words the report must contain
CASES = {
    "solution": dict(module=lambda stub: SOLUTION, points=sum(POINTS[n] for n in ALL) + POINTS["minmax"],
                     problems=["dcgan_generator.pt is missing"]),
    "untrained_dcgan": dict(module=lambda stub: SOLUTION, weights="untrained",
                            points=sum(POINTS[n] for n in ALL) + POINTS["minmax"],
                            problems=["trained DCGAN fail", "digits covered"]),
    "replay_generator": dict(module=lambda stub: _replaying(), weights="replay",
                             points=sum(POINTS[n] for n in ALL) - POINTS["build_dc_generator"] + POINTS["minmax"],
                             problems=["build_dc_generator must pass its check first"]),
    "untouched_stubs": dict(module=lambda stub: stub, answered=False, points=0,
                            problems=["not implemented: sample_noise", "build_dc_generator", "min-max table not answered"]),
    "partial": dict(module=lambda stub: _partial(stub),
        points=POINTS["sample_noise"] + POINTS["bce_loss"] + POINTS["generator_loss"] + POINTS["minmax"],
        problems=["not implemented: discriminator"]),
    "exception_inside": dict(
        module=lambda stub: edit_function(SOLUTION, "get_optimizer", "    return torch.optim.Adam(",
                                          "    raise ValueError('oops')\n    return torch.optim.Adam("),
        points=sum(POINTS[n] for n in ALL) - POINTS["get_optimizer"] + POINTS["minmax"],
        problems=["ValueError: oops"]),
    "wrong_shapes": dict(
        module=lambda stub: edit_function(SOLUTION, "build_dc_generator", "        Flatten(),\n", ""),
        points=sum(POINTS[n] for n in ALL) - POINTS["build_dc_generator"] + POINTS["minmax"],
        problems=["fail: build_dc_generator"]),
    "endless_loop_in_cell": dict(module=lambda stub: SOLUTION, extra_cell="while True:\n    pass",
                                 points=sum(POINTS[n] for n in ALL) + POINTS["minmax"],
                                 problems=["dcgan_generator.pt is missing"]),
    "endless_loop_at_import": dict(module=lambda stub: "while True:\n    pass\n" + SOLUTION,
                                   points=POINTS["minmax"], problems=["did not finish within"]),
    "malformed_json": dict(module=lambda stub: SOLUTION, raw=lambda text: text[: len(text) // 2],
                           ungradable="not a valid notebook"),
    "stripped_metadata": dict(module=lambda stub: SOLUTION, strip=True,
                              points=sum(POINTS[n] for n in ALL) + POINTS["minmax"],
                              problems=["metadata of"]),
    "edited_test_cells": dict(module=lambda stub: stub, edit_tests=True, points=POINTS["minmax"],
                              problems=["not implemented: sample_noise"]),
    "edited_reference": dict(module=lambda stub: edit_function(SOLUTION, "bce_loss", "loss.mean()", "loss.sum()"),
                             fake_reference=True,
                             points=sum(POINTS[n] for n in ALL) - POINTS["bce_loss"] - POINTS["discriminator_loss"]
                             - POINTS["generator_loss"] + POINTS["minmax"],
                             problems=["fail: bce_loss"]),
    "monkeypatching_module": dict(module=lambda stub: stub + _MONKEYPATCH, points=POINTS["minmax"],
                                  problems=["not implemented: sample_noise"]),
    "redefined_grading_in_a_cell": dict(module=lambda stub: stub, extra_cell=_CELL_PATCH, points=POINTS["minmax"],
                                        problems=["disagreed with the guarded grading"]),
    "no_module": dict(module=None, points=POINTS["minmax"], problems=["no gan_assignment/gan_pytorch.py"]),
}

_REPLAY = '''
def build_dc_generator(noise_dim=NOISE_DIM):
    """Not a generator: replays stored real digits, picked by the noise."""
    class Replay(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("digits", torch.zeros(1000, 784))
        def forward(self, z):
            pick = ((z[:, 0] + 1) / 2 * len(self.digits)).long().clamp(0, len(self.digits) - 1)
            return self.digits[pick]
    return Replay()
'''


def _replaying():
    """The solution with a build_dc_generator that replays real digits instead of generating them."""
    return replace_function(SOLUTION, "build_dc_generator", _REPLAY.strip("\n") + "\n")


def _weights(kind, folder):
    """dcgan_generator.pt as the notebook would save it: an untrained DCGAN, or stored real digits."""
    import torch

    from gan_assignment.provided.weights import WEIGHTS_FILE, save_generator
    from gan_assignment.provided.modules import load_module
    from gan_assignment.provided.layers import initialize_weights

    if kind == "untrained":
        torch.manual_seed(0)
        G = load_module(SOLUTION_FILE).build_dc_generator().apply(initialize_weights)
    else:
        module = load_module(folder / STUDENT_MODULE)
        G = module.build_dc_generator()
        G.digits.uniform_(-1, 1)    # the real test would need real digits; the gate must refuse it anyway
    save_generator(G, folder / WEIGHTS_FILE)


def _partial(stub):
    """The stubs with three functions answered from the solution."""
    lines = SOLUTION.splitlines(keepends=True)
    for name in ("sample_noise", "bce_loss", "generator_loss"):
        first, last = function_span(SOLUTION, name)
        stub = replace_function(stub, name, "".join(lines[first:last]))
    return stub


def make_submission(course, student, case):
    """Write submitted/<student>/gan for `case` (a key of CASES)."""
    spec = CASES[case]
    released = course / "release" / ASSIGNMENT
    folder = course / "submitted" / student / ASSIGNMENT
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(released, folder)
    (folder.parent / "timestamp.txt").write_text("2026-11-20 12:00:00.000000 UTC")

    module = folder / STUDENT_MODULE
    if spec["module"] is None:
        module.unlink()
    else:
        module.write_text(spec["module"](_stub_source(released)))

    notebook = nbformat.read(folder / NOTEBOOK, as_version=4)
    if spec.get("answered", True):
        answer_questions(notebook)
    if "extra_cell" in spec:  # a cell of the student's own, just before the first test cell
        index = notebook.cells.index(graded_cell(notebook, "test_sample_noise"))
        notebook.cells.insert(index, nbformat.v4.new_code_cell(spec["extra_cell"]))
    if spec.get("edit_tests"):  # one test cell gutted, another deleted
        graded_cell(notebook, "test_sample_noise").source = "pass"
        notebook.cells.remove(graded_cell(notebook, "test_generator"))
    if spec.get("strip"):
        for cell in notebook.cells:
            cell.metadata.pop("nbgrader", None)
    text = nbformat.writes(notebook)
    if "raw" in spec:
        text = spec["raw"](text)
    (folder / NOTEBOOK).write_text(text)

    if "weights" in spec:
        _weights(spec["weights"], folder)
    if spec.get("fake_reference"):  # answers regenerated from the student's own (wrong) code
        from gan_assignment.provided.modules import load_module
        from tools.make_reference import build_reference
        np.savez_compressed(folder / "checks" / "references" / MAIN.reference_file.name,
                            **build_reference(MAIN, module=load_module(module)))
        (folder / "grading_results.json").write_text(json.dumps({"forged": True}))
    return folder


# The optional mode-collapse lab, submitted by some students: case -> (which functions are answered, points).
COLLAPSE_CASES = {
    "solution": (MODE_COLLAPSE.functions, sum(t.points for t in MODE_COLLAPSE.tasks if t.kind == "function")),
    "partial": (["diversity"], MODE_COLLAPSE.task("diversity").points),
    "untouched_stubs": ([], 0),
}


def make_collapse_submission(course, student, case):
    """Write submitted/<student>/mode_collapse: the release, with the functions of `case` answered."""
    answered, _ = COLLAPSE_CASES[case]
    released = course / "release" / MODE_COLLAPSE.assignment
    folder = course / "submitted" / student / MODE_COLLAPSE.assignment
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(released, folder)
    module = folder / module_path(MODE_COLLAPSE)
    source, solution = module.read_text(), MODE_COLLAPSE.solution_file.read_text()
    lines = solution.splitlines(keepends=True)
    for name in answered:
        first, last = function_span(solution, name)
        source = replace_function(source, name, "".join(lines[first:last]))
    module.write_text(source)
    return folder


def make_class(course, copies=1):
    """Every case, `copies` times; returns {student: case}. Some students also submit the optional lab."""
    students = {}
    for k in range(copies):
        for case in CASES:
            student = f"{case}" if copies == 1 else f"{case}_{k:02d}"
            make_submission(course, student, case)
            if case in COLLAPSE_CASES:
                make_collapse_submission(course, student, case)
            students[student] = case
    return students


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("course")
    parser.add_argument("--copies", type=int, default=1)
    args = parser.parse_args(argv)
    students = make_class(Path(args.course).resolve(), args.copies)
    print(f"{len(students)} synthetic submissions in {args.course}/submitted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
