"""The d_probe lab: the discriminator as a feature extractor, and a linear probe on its features.

Each spec says how its function is called and which answers the solution gives
(`answers`, run by `make refs`); each check calls the student's function the same
way on small networks with fixed weights (checks/core/networks.py) and hands
every value to `ref.expect`. Before comparing, a check looks at what the code did
to things that must not change (D's parameters and gradients, the caller's images,
hooks left behind): a FAIL found that way only ever fails the student's own code.
Nothing here computes a correct answer (this file is released to students); the
slips that need one to be recognised (a softmax before the cross-entropy) are
named by `probe_hint`, which the grader runs against the reference answers.
"""

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from checks.core.device import expect_runs_on_any_device
from checks.core.helpers import (expect_left_as_found, expect_unchanged, fail, flat_params, has_gradients,
                                 in_float32_if_needed, network_state, rows_per_forward, tensor_result, unique)
from checks.core.lab import Lab, Task
from checks.core.networks import DISCRIMINATORS, sampled, test_discriminator, with_fixed_weights


@dataclass(frozen=True)
class Features:
    """discriminator_features on D's with fixed weights, fed in chunks of the reference's batch size."""
    networks: tuple = ("digits", "colour", "normed")   # normed: BatchNorm and Dropout, in eval mode

    def inputs(self, name, gen, batch):
        _, shape = DISCRIMINATORS[name]
        return torch.rand(3 * batch + 2, *shape, generator=gen, dtype=torch.float64) * 2 - 1   # chunks + a partial

    def required(self, key):
        return [((f"{key}_{name}_output",), ("close",)) for name in self.networks]

    def answers(self, solution, key, gen, weights_seed, batch):
        answers = {}
        for name in self.networks:
            D, _ = test_discriminator(name, weights_seed)
            x = self.inputs(name, gen, batch)
            answers[f"{key}_{name}_input"] = x.numpy()
            answers[f"{key}_{name}_output"] = sampled(solution.module.discriminator_features(D, x, batch)).numpy()
        return answers


def check_discriminator_features(impl, ref, task):
    key, notes = task.name, []
    for name in task.spec.networks:
        def run(dtype):
            D, _ = test_discriminator(name, ref.weights_seed, dtype)
            x = ref.tensor(f"{key}_{name}_input").to(dtype)
            before, state = flat_params(D), network_state(D)
            with rows_per_forward(D[0]) as seen:
                features = impl.discriminator_features(D, x, ref.batch)
            return D, x, before, state, seen, features

        D, x, before, state, seen, features = in_float32_if_needed(run)
        last = D[-1]
        if not isinstance(features, torch.Tensor):
            fail(f"discriminator_features returned {type(features).__name__}: return one tensor (N, F)")
        if features.requires_grad or has_gradients(D):
            fail("D is not frozen: " + ("the features you return carry D's graph, so training the probe on them "
                                         "backpropagates into D" if features.requires_grad else
                                         "D's parameters received gradients") +
                  ". A linear probe measures the features D has: compute them under torch.no_grad() "
                  "(or .detach() them)")
        expect_unchanged(D, before, "discriminator_features", "D")
        notes += expect_left_as_found(D, state, "discriminator_features", "D")
        features = tensor_result(features, "discriminator_features", (len(x), last.in_features),
                                  f"one row of {last.in_features} features per image, what D's last Linear receives")
        with torch.no_grad():
            before_activation = D[:-2](x).double()
        if torch.allclose(features, before_activation):
            fail("these are the outputs of the Linear before the last activation: the features are what D's LAST "
                  "layer receives, after that activation (D[:-1], or a pre-hook on the last nn.Linear)")
        ref.expect(f"{key}_{name}_output", sampled(features),
                   f"on a {name} discriminator with fixed weights, your features differ from the reference (relative "
                   "error {error:.1e}). They are the input of D's last layer, for every image, in order"
                   + (": with batch_size={}, are all chunks kept, the last partial one too?".format(ref.batch)))
        if seen and max(seen) > ref.batch:
            fail(f"your features are right, but with batch_size={ref.batch} D ran on {max(seen)} images at once: run "
                  "it on batch_size images at a time (images.split(batch_size)) and concatenate; 50,000 images at "
                  "once need gigabytes")
    D, x = test_discriminator("normed", ref.weights_seed)[0], ref.tensor(f"{key}_normed_input")
    notes += expect_runs_on_any_device(impl, task, "discriminator_features",
                                       lambda to: impl.discriminator_features(to(D), to(x), ref.batch))
    return unique(notes)


@dataclass(frozen=True)
class Probe:
    """fit_linear_probe from fixed weights on fixed features, a few full-batch Adam steps.

    `rows`: more than one minibatch of any usual size, so that training on minibatches shows."""
    rows: int = 257
    features: int = 6
    classes: int = 4
    steps: int = 3
    lr: float = 0.1

    def probe(self, weights_seed):
        return with_fixed_weights(nn.Linear(self.features, self.classes), weights_seed + 7)

    def required(self, key):
        return [((f"{key}_weights_output",), ("close",)), ((f"{key}_losses_output",), ("close",)),
                ((f"{key}_first_loss_output",), ("value",))]

    def answers(self, solution, key, gen, weights_seed, batch):
        n = self.rows
        x = torch.randn(n, self.features, generator=gen, dtype=torch.float64)
        y = torch.arange(n) % self.classes
        y = y[torch.randperm(n, generator=gen)]
        probe = self.probe(weights_seed)
        losses = solution.module.fit_linear_probe(probe, x, y, steps=self.steps, lr=self.lr)
        return {f"{key}_features": x.numpy(), f"{key}_labels": y.numpy(),
                f"{key}_weights_output": flat_params(probe).numpy(),
                f"{key}_losses_output": np.array(losses, dtype=np.float64),
                f"{key}_first_loss_output": np.float64(losses[0])}


def check_fit_linear_probe(impl, ref, task):
    spec, key = task.spec, task.name
    x, y = ref.tensor(f"{key}_features"), torch.as_tensor(ref[f"{key}_labels"], dtype=torch.int64)
    call = f"fit_linear_probe(probe, features, labels, steps={spec.steps}, lr={spec.lr})"

    def run(dtype):
        probe, features = spec.probe(ref.weights_seed).to(dtype), x.to(dtype)
        start, given = flat_params(probe), features.clone()
        with rows_per_forward(probe) as seen:
            losses = impl.fit_linear_probe(probe, features, y, steps=spec.steps, lr=spec.lr)
        return probe, start, features, given, seen, losses

    probe, start, x, x_before, seen, losses = in_float32_if_needed(run)
    if not torch.equal(x, x_before):
        fail(f"{call} changed the features: they are D's, fixed; train only the probe")
    if seen and min(seen) < len(x):
        fail(f"{call} ran the probe on {min(seen)} of the {len(x)} features at once: the probe trains full-batch, "
              "logits = probe(features) on ALL the features at every step (no minibatches, no DataLoader)")
    if isinstance(losses, torch.Tensor):
        losses = losses.detach().reshape(-1).tolist()
    try:
        losses = [float(v) for v in losses]
    except (TypeError, ValueError):
        fail(f"{call} returned {type(losses).__name__}: return the list of the {spec.steps} losses (loss.item())")
    if len(losses) != spec.steps:
        fail(f"{call} returned {len(losses)} losses: one per step, {spec.steps}")
    weights = flat_params(probe)
    if torch.equal(start, weights):
        fail(f"after {call} the probe's weights have not changed: make the optimizer over probe.parameters() and "
              "call optimizer.step() after loss.backward()")
    ref.expect(f"{key}_first_loss_output", losses[0],
               "the loss at the first step is {value:.6g}, expected {expected:.6g}. {hint}", kind="value",
               hint=("probe", spec.features, spec.classes))
    ref.expect(f"{key}_losses_output", torch.tensor(losses, dtype=torch.float64),
               "the first loss matches but the later ones differ (relative error {error:.1e}): an update differs. "
               "Make ONE torch.optim.Adam(probe.parameters(), lr=lr) before the loop, with the lr given and nothing "
               "else (a new one each step forgets Adam's running averages); call optimizer.zero_grad() before each "
               "backward (gradients add up otherwise); use all the features at every step")
    ref.expect(f"{key}_weights_output", weights,
               f"the losses match but the probe's weights after {spec.steps} steps differ (relative error "
               "{error:.1e}): return the loss computed BEFORE each update, and make every update, the last one "
               "too, with plain Adam(probe.parameters(), lr=lr) (no weight decay, no amsgrad)")
    return expect_runs_on_any_device(impl, task, "fit_linear_probe", lambda to: impl.fit_linear_probe(
        to(spec.probe(ref.weights_seed).to(x.dtype)), to(x), to(y), steps=spec.steps, lr=spec.lr))


def probe_hint(value, expected, ref, key, features, classes):
    """The likely slip behind a wrong first loss of the probe, recomputed from the fixed probe."""
    prefix = key[:-len("_first_loss_output")]
    x = torch.tensor(ref[f"{prefix}_features"], dtype=torch.float64)
    y = torch.as_tensor(ref[f"{prefix}_labels"], dtype=torch.int64)
    probe = Probe(features=int(features), classes=int(classes)).probe(int(ref["meta_weights_seed"]))
    with torch.no_grad():
        logits = probe(x)
        slips = {
            "softmax applied before F.cross_entropy: it takes raw logits and applies the softmax itself":
                F.cross_entropy(F.softmax(logits, 1), y),
            "the mean squared error against one-hot labels: a classifier's loss is F.cross_entropy":
                F.mse_loss(logits, F.one_hot(y, int(classes)).double()),
            "the loss summed over the examples: F.cross_entropy averages them (reduction='mean')":
                F.cross_entropy(logits, y, reduction="sum"),
        }
    for slip, slipped in slips.items():
        if math.isclose(value, float(slipped), rel_tol=1e-5):
            return f"That is {slip}."
    return ("The loss is F.cross_entropy(probe(features), labels), on all the features, before the first update; "
            "train the probe as it is given (do not re-initialise it).")


LAB = Lab(
    name="d_probe", title="The discriminator as a feature extractor: a linear probe", uses=("gan_pytorch",),
    hints={"probe": probe_hint}, tasks=(
        Task("discriminator_features", 3, check=check_discriminator_features, spec=Features()),
        Task("fit_linear_probe", 3, check=check_fit_linear_probe, spec=Probe()),
        Task("probe_question", 2, kind="written"),
    ))
