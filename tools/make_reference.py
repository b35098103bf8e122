"""Build every lab's reference answers from its solutions (deterministic: CPU, float64, fixed seeds).

    python -m tools.make_reference                 # rewrite checks/references/<lab>.npz for every lab
    python -m tools.make_reference --lab gan_pytorch   # one lab
    python -m tools.make_reference --hidden        # the hidden tests' files (instructors only; `make release` does it)

Every value the checks compare against comes from running the lab's solution
module here; nothing is typed in by hand. Which answers a task needs is its
spec's recipe (checks/core/specs.py), named by each lab (checks/labs/<lab>.py).
Keys: meta_* (where the file came from and its settings), then per task
`<task>_...` (e.g. discriminator_layer_input_0, bce_loss_output, minmax_digest).

Each task draws its inputs from its own generator, seeded from the task's name,
so adding a task never changes another task's answers.
"""

import argparse
import sys
import zlib

import nbformat
import numpy as np
import torch

from checks.core.answers import BATCH, WEIGHTS_SEED
from checks.core.specs import Solution
from checks.registry import LABS
from gan_assignment.provided.modules import PROJECT, load_module

INPUT_SEED = 0
# The hidden tests' settings: other weights, inputs and batch size than the public file,
# so an answer special-cased to the public values fails them. Change them each term;
# the files are made by `make release` and never committed or given to students.
HIDDEN = {"weights_seed": 20261, "input_seed": 977, "batch": 7}


def build_reference(lab, weights_seed=WEIGHTS_SEED, input_seed=INPUT_SEED, batch=BATCH, module=None):
    """All reference answers of `lab`, computed by its solution module (or by `module`, to forge one in tests)."""
    solution = Solution(module or load_module(lab.solution_file), nbformat.read(lab.solution_notebook, as_version=4))
    answers = {
        "meta_lab": np.array(lab.name),
        "meta_source": np.array(str(lab.solution_file.relative_to(PROJECT))),
        "meta_generated_by": np.array("python -m tools.make_reference"),
        "meta_torch_version": np.array(torch.__version__),
        "meta_weights_seed": np.int64(weights_seed),
        "meta_batch": np.int64(batch),
    }
    with torch.random.fork_rng(devices=[]):
        for task in lab.tasks:
            if task.spec is None:
                continue
            torch.manual_seed(0)   # anything the solution itself draws (default weights) is fixed too
            gen = torch.Generator().manual_seed(input_seed * 1_000_003 + zlib.crc32(task.name.encode()))
            answers.update(task.spec.answers(solution, task.name, gen, weights_seed, batch))
    return answers


def write_reference(lab, path, hidden=False):
    answers = build_reference(lab, **(HIDDEN if hidden else {}))
    np.savez_compressed(path, **answers)
    return answers


def main(argv=None):
    parser = argparse.ArgumentParser(description="Rebuild the reference answers from solutions/.")
    parser.add_argument("--lab", choices=sorted(LABS), default=None, help="one lab (default: every lab)")
    parser.add_argument("--out", default=None, help="where to write (with --lab only; default: the lab's file)")
    parser.add_argument("--hidden", action="store_true", help="the hidden tests' reference (other seeds and batch size)")
    args = parser.parse_args(argv)
    if args.out and not args.lab:
        parser.error("--out needs --lab")
    for lab in [LABS[args.lab]] if args.lab else LABS.values():
        out = args.out or (lab.hidden_reference_file if args.hidden else lab.reference_file)
        answers = write_reference(lab, out, hidden=args.hidden)
        print(f"wrote {len(answers)} reference answers of the {lab.name} lab to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
