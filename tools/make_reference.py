"""Build checks/reference_answers.npz from the solutions (deterministic: CPU, float64, fixed seeds).

    python -m tools.make_reference            # rewrite the reference file
    python -m tools.make_reference --out X    # write somewhere else (the drift test does)

Every value the checks compare against comes from running solutions/gan_pytorch.py
here; nothing is typed in by hand. Keys:

- meta_*: where the file came from.
- <net>_param_count, <net>_default_param_count, <net>_layers, <net>_between,
  <net>_weights_checksum, <net>_input, <net>_layer_input_<i>, <net>_output:
  each network with fixed weights on a fixed batch (see checks/reference.py).
- <loss>_<argument>, <loss>_output, <loss>_grad_<argument>: each loss on fixed
  inputs, with its gradient.
- optimizer_*: the settings of the optimiser get_optimizer returns.
- minmax_digest: a digest of the min-max table (the notebook's inline question).
"""

import argparse
import sys

import numpy as np
import torch
import torch.nn as nn

from checks.reference import (BATCH, CLASSIC_BATCH, HIDDEN_REFERENCE_FILE, NETWORKS, PARAM_LAYERS, REFERENCE_FILE,
                              WEIGHTS_SEED, load_fixed_weights, param_layers, signature, trace)
from checks.minmax import STEPS, table_digest
from checks.runner import load_impl
from tools.release import ROOT, SOLUTION_FILE

INPUT_SEED = 0
# The hidden tests' settings: other weights, inputs and batch size than the public file,
# so an answer special-cased to the public values fails them. Change them each term;
# the file is made by `make release` and never committed or given to students.
HIDDEN = {"weights_seed": 20261, "input_seed": 977, "batch": 7}

# Default-size networks are counted too: a hard-coded noise_dim shows there.
DEFAULT_SIZE_NETWORKS = ("generator", "dc_generator")

# loss -> its arguments, in order
LOSSES = {
    "bce_loss": ("input", "target"),
    "discriminator_loss": ("logits_real", "logits_fake"),
    "generator_loss": ("logits_fake",),
    "ls_discriminator_loss": ("scores_real", "scores_fake"),
    "ls_generator_loss": ("scores_fake",),
}

# Logits far beyond where a naive sigmoid-then-log breaks, with both targets.
EXTREME_LOGITS = [100.0, -100.0, 1000.0, -1000.0, 100.0, -100.0]
EXTREME_TARGETS = [0.0, 1.0, 0.0, 1.0, 1.0, 0.0]


def _describe(module):
    """A module as a student would write it: repr without the arguments left at their defaults."""
    return repr(module).replace(", padding=0, dilation=1, ceil_mode=False", "")


def network_answers(solution, name, gen, weights_seed, batch):
    net = NETWORKS[name]
    model = net.build(solution, batch)
    layers = param_layers(model)
    between, segment = [], []
    for child in model.children():  # the solutions are flat nn.Sequential models
        if isinstance(child, PARAM_LAYERS):
            between.append(", ".join(segment))
            segment = []
        else:
            segment.append(_describe(child))
    between.append(", ".join(segment))

    checksum = load_fixed_weights(layers, weights_seed)
    model.double().train()
    x = torch.rand(net.input_shape(batch), generator=gen, dtype=torch.float64) * 2 - 1
    inputs, output = trace(model, layers, x)

    answers = {
        f"{name}_param_count": np.int64(sum(p.numel() for p in model.parameters())),
        f"{name}_layers": np.array([signature(layer) for layer in layers]),
        f"{name}_between": np.array(between),
        f"{name}_weights_checksum": np.float64(checksum),
        f"{name}_input": x.numpy(),
        f"{name}_output": output.numpy(),
    }
    for i, layer_input in enumerate(inputs):
        # float32 is plenty for locating a difference and halves the file
        answers[f"{name}_layer_input_{i}"] = layer_input.float().numpy()
    if not net.per_sample:
        # Batch statistics make each output depend on the whole batch: the output on the
        # classic batch (the reference batch repeated) is stored, as the training loop feeds it.
        rows = torch.arange(CLASSIC_BATCH) % batch
        answers[f"{name}_classic_output"] = trace(model, layers, x[rows])[1].float().numpy()
    if name in DEFAULT_SIZE_NETWORKS:
        default = getattr(solution, net.function)()
        answers[f"{name}_default_param_count"] = np.int64(sum(p.numel() for p in default.parameters()))
    return answers


def loss_answers(solution, name, gen, batch):
    answers, args = {}, []
    for arg in LOSSES[name]:
        if arg == "target":
            values = (torch.arange(batch) % 2).double()[torch.randperm(batch, generator=gen)]
        else:
            # both signs on every argument: a mistake that only touches one sign must show
            signs = torch.tensor([1.0, -1.0] * batch, dtype=torch.float64)[:batch]
            values = (torch.rand(batch, generator=gen, dtype=torch.float64) * 2.5 + 0.25) * signs
            values = values[torch.randperm(batch, generator=gen)]
        answers[f"{name}_{arg}"] = values.numpy()
        args.append(values.clone().requires_grad_(arg != "target"))
    out = getattr(solution, name)(*args)
    out.backward()
    answers[f"{name}_output"] = np.float64(out.item())
    for arg, tensor in zip(LOSSES[name], args):
        if tensor.requires_grad:
            answers[f"{name}_grad_{arg}"] = tensor.grad.numpy()
    return answers


def minmax_trajectory(steps=STEPS):
    """x and y after each step of alternating updates on f(x, y) = x * y from (1, 1), step size 1:
    y ascends first (df/dy = x), then x descends with the new y (df/dx = y)."""
    x, y, xs, ys = 1, 1, [], []
    for _ in range(steps):
        y = y + x
        x = x - y
        xs.append(x)
        ys.append(y)
    return xs, ys


def build_reference(solution, weights_seed=WEIGHTS_SEED, input_seed=INPUT_SEED, batch=BATCH):
    """All reference answers, computed by the module `solution`."""
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(input_seed)
    answers = {
        "meta_source": np.array(str(SOLUTION_FILE.relative_to(ROOT))),
        "meta_generated_by": np.array("python -m tools.make_reference"),
        "meta_torch_version": np.array(torch.__version__),
        "meta_weights_seed": np.int64(weights_seed),
        "meta_batch": np.int64(batch),
    }
    with torch.random.fork_rng(devices=[]):
        for name in NETWORKS:
            answers.update(network_answers(solution, name, gen, weights_seed, batch))
        for name in LOSSES:
            answers.update(loss_answers(solution, name, gen, batch))

    x = torch.tensor(EXTREME_LOGITS, dtype=torch.float64)
    answers["bce_loss_extreme_input"] = x.numpy()
    answers["bce_loss_extreme_target"] = np.array(EXTREME_TARGETS)
    answers["bce_loss_extreme_output"] = np.float64(
        solution.bce_loss(x, torch.tensor(EXTREME_TARGETS, dtype=torch.float64)).item())

    answers["minmax_digest"] = np.array(table_digest(*minmax_trajectory()))

    optimizer = solution.get_optimizer(nn.Linear(3, 2))
    group = optimizer.param_groups[0]
    answers.update({
        "optimizer_class": np.array(type(optimizer).__name__),
        "optimizer_lr": np.float64(group["lr"]),
        "optimizer_betas": np.array(group["betas"], dtype=np.float64),
        "optimizer_eps": np.float64(group["eps"]),
        "optimizer_weight_decay": np.float64(group["weight_decay"]),
        "optimizer_amsgrad": np.bool_(group["amsgrad"]),
    })
    return answers


def main(argv=None):
    parser = argparse.ArgumentParser(description="Rebuild the reference answers from solutions/.")
    parser.add_argument("--out", default=None, help="where to write (default: checks/reference_answers.npz, "
                        "or checks/hidden_reference.npz with --hidden)")
    parser.add_argument("--hidden", action="store_true", help="the hidden tests' reference (other seeds and batch size)")
    args = parser.parse_args(argv)
    settings = HIDDEN if args.hidden else {}
    args.out = args.out or str(HIDDEN_REFERENCE_FILE if args.hidden else REFERENCE_FILE)
    answers = build_reference(load_impl(SOLUTION_FILE), **settings)
    np.savez_compressed(args.out, **answers)
    print(f"wrote {len(answers)} reference answers to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
