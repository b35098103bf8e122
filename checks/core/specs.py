"""How a task is called, and the recipe of its reference answers.

Each graded task of a lab (checks/labs/<lab>.py) may carry one of these
specs. The check reads the spec to call the student's function the way the
course's training loop calls it; `tools/make_reference.py` asks the same spec
for the reference answers, computed by running the solution. So the way a
function is called is written once, and the reference can never disagree with
the check about it.

Every `answers(solution, key, gen, weights_seed, batch)` returns {name: array}
with names starting with `key` (the task's name): `solution` is a Solution
(the lab's solution module and notebook), `gen` a torch.Generator for the
inputs, `weights_seed` and `batch` the file's settings (public or hidden).
"""

from dataclasses import dataclass

import numpy as np
import torch

from checks.core.networks import PARAM_LAYERS, load_fixed_weights, param_layers, sampled, signature, trace
from gan_assignment.provided.config import BATCH_SIZE, IMAGE_SIZE
from gan_assignment.provided.utils import call_classic
from gan_assignment.provided.weights import WEIGHTS_FILE

CLASSIC_BATCH = BATCH_SIZE   # what the classic training loop feeds every network
OPTIMIZER_STEPS = 2  # steps an optimizer takes in its check (the second one shows Adam's moments)


@dataclass
class Solution:
    """What reference answers are computed from: a lab's solution module and its notebook (nbformat)."""
    module: object
    notebook: object


@dataclass(frozen=True)
class Network:
    """How the checks build and feed one student network, as the course's code does.

    - function: the student's builder.
    - takes: "images" (discriminators: batches (N, 1, 28, 28), as the classic loop
      feeds them), "flat" (flat images (N, 784)) or "noise" (generators: (N, noise_dim)).
    - noise_dim: passed positionally to a generator builder (every year's callers do).
    - per_sample: each output row depends only on its own input row (no BatchNorm),
      so a reference batch can be repeated to any batch size.
    - batch_size_arg: the builder takes the batch size it will be fed
      (build_dc_classifier(batch_size)); each network is fed exactly that many.
    - kwargs: other keyword arguments of the builder (e.g. improved=True).
    - default_size: also count the parameters of the builder called with its defaults
      (a hard-coded noise size shows there).
    - low, high: the range of the reference inputs.
    - seeded: the builder takes `seed=` (or, in the 2017-2019 API, is seeded by
      torch.manual_seed): the same seed must give the same initial weights.
    - image_shape: the (C, H, W) of the images a discriminator takes.
    - makes: a generator's images (C, H, W): it may return them shaped so or flat
      (None: the classic generators, which return flat (N, 784) images).
    - norm_settings: pin every BatchNorm's eps and momentum to the solution's
      (eps changes what the network computes; momentum what it samples in eval mode).
    - flat_advice: a note when a discriminator cannot take flat (N, 784) images
      (the classic lab's callers differ on this; later labs feed images only).
    """
    function: str
    takes: str
    noise_dim: int = None
    per_sample: bool = True
    batch_size_arg: bool = False
    kwargs: tuple = ()
    default_size: bool = False
    low: float = -1.0
    high: float = 1.0
    seeded: bool = False
    image_shape: tuple = (1, IMAGE_SIZE, IMAGE_SIZE)
    makes: tuple = None
    norm_settings: bool = False
    flat_advice: bool = True

    def build(self, impl, batch, seed=None):
        """The student's network, called as every year's classic code calls it."""
        args = (self.noise_dim,) if self.takes == "noise" else ()
        kwargs = {"batch_size": batch} if self.batch_size_arg else {}
        return call_classic(getattr(impl, self.function), *args, seed=seed, **kwargs, **dict(self.kwargs))

    def input_shape(self, batch):
        return {"images": (batch, *self.image_shape), "flat": (batch, IMAGE_SIZE * IMAGE_SIZE),
                "noise": (batch, self.noise_dim)}[self.takes]

    def call(self, batch=None, seed=False):
        """How the check writes the call in its messages, e.g. 'generator(4)' or 'generator(4, seed=...)'."""
        args = [str(self.noise_dim)] if self.takes == "noise" else []
        args += [f"{k}={v!r}" for k, v in self.kwargs]
        if batch is not None:
            args.append(f"batch_size={batch}")
        if seed:
            args.append("seed=...")
        return f"{self.function}({', '.join(args)})"

    def required(self, key):
        """The answers a PASS must have been compared with, as ((keys, one of which), (kinds)) pairs:
        the output, on the reference batch or (with batch statistics) on the classic batch."""
        return [((f"{key}_output", f"{key}_classic_output"), ("close",))]

    def answers(self, solution, key, gen, weights_seed, batch):
        model = self.build(solution.module, batch)
        layers = param_layers(model)
        checksum = load_fixed_weights(layers, weights_seed)
        model.double().train()
        x = torch.rand(self.input_shape(batch), generator=gen, dtype=torch.float64) * (self.high - self.low) + self.low
        x = x.float().double()   # stored as float32: inputs that float32 holds exactly
        inputs, output = trace(model, layers, x)
        answers = {
            f"{key}_param_count": np.int64(sum(p.numel() for p in model.parameters())),
            f"{key}_layers": np.array([signature(layer) for layer in layers]),
            f"{key}_between": np.array(_between(model)),
            f"{key}_weights_checksum": np.float64(checksum),
            f"{key}_input": x.float().numpy(),
            f"{key}_output": sampled(output).numpy(),
            # what each layer receives per example (its stored values may be a sample: reference.sampled)
            f"{key}_layer_input_shapes": np.array(["x".join(map(str, t.shape[1:])) for t in inputs]),
        }
        for i, layer_input in enumerate(inputs):
            # float32 is plenty for locating a difference and halves the file
            answers[f"{key}_layer_input_{i}"] = sampled(layer_input).float().numpy()
        if not self.per_sample:
            # Batch statistics make each output depend on the whole batch: the output on the
            # classic batch (the reference batch repeated) is stored, as the training loop feeds it.
            # Equal input rows give equal output rows, so the first `batch` rows are all of it.
            rows = torch.arange(CLASSIC_BATCH) % batch
            answers[f"{key}_classic_output"] = sampled(trace(model, layers, x[rows])[1][:batch]).float().numpy()
        if self.norm_settings:
            answers[f"{key}_norms"] = np.array(norm_settings(model), dtype=np.float64).reshape(-1, 2)
        if self.default_size:
            default = call_classic(getattr(solution.module, self.function), **dict(self.kwargs))
            answers[f"{key}_default_param_count"] = np.int64(sum(p.numel() for p in default.parameters()))
        return answers


def norm_settings(model):
    """[(eps, momentum), ...] of every BatchNorm layer of `model`, in order."""
    return [(float(m.eps), float(m.momentum if m.momentum is not None else float("nan")))
            for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]


def _between(model):
    """What a flat nn.Sequential applies between its weight layers, as a student would write it."""
    between, segment = [], []
    for child in model.children():  # the solutions are flat nn.Sequential models
        if isinstance(child, PARAM_LAYERS):
            between.append(", ".join(segment))
            segment = []
        else:
            segment.append(repr(child).replace(", padding=0, dilation=1, ceil_mode=False", ""))
    between.append(", ".join(segment))
    return between


@dataclass(frozen=True)
class Loss:
    """A loss function of `args` (in order), checked on fixed values of both signs.

    - target_args: arguments that hold 0/1 targets (no gradient is checked for them).
    - kwargs: keyword arguments the check passes (e.g. kind="bce").
    - probabilities: the inputs are probabilities in (0, 1) rather than logits.
    - shapes: the input shapes the course's own callers pass (each must work);
      advice_shapes: shapes beyond that (a failure there is a note).
    - extreme: also check huge logits (a numerically stable BCE); extreme_hint: what to do about it.
    - hint: what to look at when the value is wrong.
    - function: the student's function (default: the task's name).
    """
    args: tuple
    target_args: tuple = ("target",)
    kwargs: tuple = ()
    probabilities: bool = False
    shapes: tuple = ("N", "N1")
    advice_shapes: tuple = ()
    extreme: bool = False
    extreme_hint: str = "build it from your bce_loss (or F.binary_cross_entropy_with_logits)"
    hint: str = None
    function: str = None

    def required(self, key):
        """The value, the gradient of every non-target argument and, if checked, the huge-logits value."""
        needed = [((f"{key}_output",), ("value",))]
        needed += [((f"{key}_grad_{a}",), ("close",)) for a in self.args if a not in self.target_args]
        return needed + ([((f"{key}_extreme_output",), ("stable",))] if self.extreme else [])

    def answers(self, solution, key, gen, weights_seed, batch):
        answers, values = {}, []
        for arg in self.args:
            if arg in self.target_args:
                value = (torch.arange(batch) % 2).double()[torch.randperm(batch, generator=gen)]
            elif self.probabilities:
                value = torch.rand(batch, generator=gen, dtype=torch.float64) * 0.9 + 0.05
            else:
                # both signs on every argument: a mistake that only touches one sign must show
                signs = torch.tensor([1.0, -1.0] * batch, dtype=torch.float64)[:batch]
                value = (torch.rand(batch, generator=gen, dtype=torch.float64) * 2.5 + 0.25) * signs
                value = value[torch.randperm(batch, generator=gen)]
            answers[f"{key}_{arg}"] = value.numpy()
            values.append(value.clone().requires_grad_(arg not in self.target_args))
        out = getattr(solution.module, self.function or key)(*values, **dict(self.kwargs))
        out.backward()
        answers[f"{key}_output"] = np.float64(out.item())
        for arg, tensor in zip(self.args, values):
            if tensor.requires_grad:
                answers[f"{key}_grad_{arg}"] = tensor.grad.numpy()
        if self.extreme:
            # Logits far beyond where a naive sigmoid-then-log breaks (both signs, with both targets).
            logits = torch.tensor([100.0, -100.0, 1000.0, -1000.0, 100.0, -100.0], dtype=torch.float64)
            target = torch.tensor([0.0, 1.0, 0.0, 1.0, 1.0, 0.0], dtype=torch.float64)
            extreme = [target if arg in self.target_args else logits.roll(i) for i, arg in enumerate(self.args)]
            for arg, value in zip(self.args, extreme):
                answers[f"{key}_extreme_{arg}"] = value.numpy()
            out = getattr(solution.module, self.function or key)(*extreme, **dict(self.kwargs))
            answers[f"{key}_extreme_output"] = np.float64(out.item())
        return answers


@dataclass(frozen=True)
class Optimizer:
    """An optimiser factory, called on a small model (kwargs: e.g. kind="adam"); its settings and the
    weights after OPTIMIZER_STEPS of its steps are the answers."""
    kwargs: tuple = ()
    function: str = None    # the student's function (default: the task's name)

    def required(self, key):
        """The weights after OPTIMIZER_STEPS steps from fixed weights and gradients."""
        return [((f"{key}_step",), ("close",))]

    def answers(self, solution, key, gen, weights_seed, batch):
        model = optimizer_test_model(weights_seed)
        optimizer = getattr(solution.module, self.function or key)(model, **dict(self.kwargs))
        group = optimizer.param_groups[0]
        answers = {f"{key}_class": np.array(type(optimizer).__name__), f"{key}_lr": np.float64(group["lr"])}
        if "betas" in group:
            answers.update({f"{key}_betas": np.array(group["betas"], dtype=np.float64),
                            f"{key}_eps": np.float64(group["eps"]),
                            f"{key}_weight_decay": np.float64(group["weight_decay"]),
                            f"{key}_amsgrad": np.bool_(group["amsgrad"])})
        else:
            answers.update({f"{key}_momentum": np.float64(group.get("momentum", 0.0)),
                            f"{key}_weight_decay": np.float64(group["weight_decay"])})
        # Then what it does: its steps on fixed gradients (the check repeats them with the student's).
        size = sum(p.numel() for p in model.parameters())
        gradients = torch.randn(OPTIMIZER_STEPS, size, generator=gen, dtype=torch.float64)
        answers[f"{key}_step_gradients"] = gradients.numpy()
        answers[f"{key}_step"] = optimizer_steps(model, optimizer, gradients).numpy()
        return answers


def optimizer_steps(model, optimizer, gradients):
    """Step `optimizer` once per row of `gradients` (all of the model's gradients, flat); the weights after."""
    for step in gradients:
        offset = 0
        for p in model.parameters():
            p.grad = step[offset:offset + p.numel()].reshape(p.shape).clone()
            offset += p.numel()
        optimizer.step()
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def optimizer_test_model(weights_seed):
    """The small float64 model an optimizer is checked on, with the fixed weights of `weights_seed`."""
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)).double()
    load_fixed_weights(param_layers(model), weights_seed)
    return model


@dataclass(frozen=True)
class Judged:
    """Something random (sample_noise's draws, an initialisation's weights): no answer to compare with; the
    judge `judge` that the lab hands in (its Lab's `judges`) decides on what the check measured, stored as
    `<task>_<measured>`."""
    measured: str = "draws"
    judge: str = "noise"
    function: str = None

    def required(self, key):
        return [((f"{key}_{self.measured}",), (self.judge,))]

    def answers(self, solution, key, gen, weights_seed, batch):
        return {}


@dataclass(frozen=True)
class Variants:
    """One function checked in several configurations, e.g. {"naive": Network(...), "improved": Network(...)}.

    Each variant's answers are stored under `<task>_<label>_...`; the check runs
    each variant in turn.
    """
    specs: tuple    # ((label, spec), ...)

    def required(self, key):
        return [need for label, spec in self.specs for need in spec.required(f"{key}_{label}")]

    def answers(self, solution, key, gen, weights_seed, batch):
        answers = {}
        for label, spec in self.specs:
            answers.update(spec.answers(solution, f"{key}_{label}", gen, weights_seed, batch))
        return answers


@dataclass(frozen=True)
class Value:
    """A function of fixed random tensors whose value (a number) is the answer.

    `inputs`: ((argument, shape with "N" for the batch), ...), drawn uniformly in
    [low, high). The answer is stored with the inputs.
    """
    inputs: tuple
    low: float = 0.0
    high: float = 1.0

    def shapes(self, batch):
        return [tuple(batch if d == "N" else d for d in shape) for _, shape in self.inputs]

    def required(self, key):
        return [((f"{key}_output",), ("value",))]

    def answers(self, solution, key, gen, weights_seed, batch):
        values = [torch.rand(shape, generator=gen, dtype=torch.float64) * (self.high - self.low) + self.low
                  for shape in self.shapes(batch)]
        answers = {f"{key}_{name}": v.numpy() for (name, _), v in zip(self.inputs, values)}
        answers[f"{key}_output"] = np.float64(getattr(solution.module, key)(*values).item())
        return answers


@dataclass(frozen=True)
class Weights:
    """A trained network's weights, submitted as a file and graded by what the network then makes.

    - builder: the student function that builds the network. Only once it passes its own
      check are the weights graded, loaded into the instructor's network of that builder
      (any other network could replay stored digits instead of generating them).
    - file: the weights file the notebook saves and the student submits.
    - classes: how many classes the samples must cover (checks/coverage.py).
    """
    builder: str
    file: str = WEIGHTS_FILE
    classes: int = 10

    def required(self, key):
        return []    # graded from the submitted file, by the grader itself

    def answers(self, solution, key, gen, weights_seed, batch):
        return {}
