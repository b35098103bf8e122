"""The checks of the conditional GAN lab (its LAB, at the end), with the recipes of their reference answers.

Networks are built by the student's function, given fixed weights (checks/core/networks.py) and fed fixed
inputs and labels; their outputs are compared with the solution's. Before that, the check asks what any
conditional network answers the same way: another label must change the output (else the labels are
ignored), and the first layer must take exactly the one-hot's size more than the unconditioned one. The
losses are computed on a small conditional discriminator with fixed weights; the same call with the real
labels in place of the fake ones must change D's loss (else the fakes are judged with the wrong labels).
"""

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from checks.core.device import expect_runs_on_any_device
from checks.core.helpers import fail, in_float32_if_needed
from checks.core.lab import Lab, Task
from checks.core.networks import load_fixed_weights, param_layers, sampled, signature

NUM_CLASSES = 10
NOISE_DIM = 4        # a small z for the generator's check: its first layer takes NOISE_DIM + 10 numbers


@dataclass(frozen=True)
class Conditional:
    """A conditional network: `takes` "noise" (a generator of flat images) or "images" (a discriminator);
    `first_in`: what its first layer takes, in words and numbers, for the one-hot size message."""
    function: str
    takes: str
    first_in: tuple

    def build(self, impl, dtype=torch.float64, weights_seed=None, layers=None, **kwargs):
        """The network, with the fixed weights of `weights_seed` given to its layers in the order of `layers`
        (the reference's signatures: registration order does not matter) or, for the solution, its own."""
        model = getattr(impl, self.function)(*((NOISE_DIM,) if self.takes == "noise" else ()), **kwargs)
        ordered = param_layers(model) if layers is None else _in_order(model, layers, self)
        checksum = load_fixed_weights(ordered, weights_seed) if weights_seed is not None else None
        return model.to(dtype), checksum

    def inputs(self, gen, batch):
        n = 2 * batch
        x = (torch.rand(n, NOISE_DIM, generator=gen, dtype=torch.float64) * 2 - 1 if self.takes == "noise" else
             torch.rand(n, 1, 28, 28, generator=gen, dtype=torch.float64) * 2 - 1)
        return x, torch.arange(n) % NUM_CLASSES

    def required(self, key):
        return [((f"{key}_output",), ("close",))]

    def answers(self, solution, key, gen, weights_seed, batch):
        model, checksum = self.build(solution.module, weights_seed=weights_seed)
        x, labels = self.inputs(gen, batch)
        with torch.no_grad():
            out = model(x, labels)
        return {f"{key}_input": x.numpy(), f"{key}_labels": labels.numpy(),
                f"{key}_layers": np.array([signature(layer) for layer in param_layers(model)]),
                f"{key}_weights_checksum": np.float64(checksum), f"{key}_output": sampled(out).numpy()}


def _in_order(model, expected, spec):
    """The model's weight layers in the reference's order, matched by type and shape; a clear failure if
    they differ (a first layer of the wrong width is named: the one-hot's size, or noise_dim hard-coded)."""
    by_signature = {}
    for layer in param_layers(model):
        by_signature.setdefault(signature(layer), []).append(layer)
    matched = [by_signature[s].pop(0) if by_signature.get(s) else None for s in expected]
    if None not in matched and not any(by_signature.values()):
        return matched
    words, right = spec.first_in
    extra = [signature(layer) for layers in by_signature.values() for layer in layers]
    first = expected[0]
    hint = ""
    if first not in [signature(layer) for layer in param_layers(model)]:
        hint = (f" The reference's first layer, {first}, takes {words} = {right}: is the one-hot of the wrong size "
                f"(F.one_hot(labels, num_classes) has num_classes columns)" + (
                    ", or noise_dim hard-coded instead of the argument?" if spec.takes == "noise" else "?"))
    fail(f"{spec.function}'s layers with weights differ from the docstring's: yours have {', '.join(extra) or 'fewer'} "
          f"where the reference has {', '.join(s for s, m in zip(expected, matched) if m is None) or 'none'}.{hint}")


def check_conditional_network(impl, ref, task):
    spec, key = task.spec, task.name
    layers = ref.strings(f"{key}_layers")
    spec.build(impl, layers=layers)                      # fails first if the layers differ
    labels = torch.as_tensor(ref[f"{key}_labels"], dtype=torch.int64)

    def run(dtype):
        net, checksum = spec.build(impl, dtype, ref.weights_seed, layers)
        if not math.isclose(checksum, float(ref[f"{key}_weights_checksum"]), rel_tol=1e-9):
            raise RuntimeError(f"the fixed weights of {spec.function} differ from the reference's: the reference file "
                               "was made with another version of checks/core/networks.py (run `make refs`)")
        x = ref.tensor(f"{key}_input").to(dtype)
        with torch.no_grad():
            return net, x, net(x, labels), net(x, (labels + 1) % NUM_CLASSES)

    net, x, out, other = in_float32_if_needed(run)
    if not isinstance(out, torch.Tensor):
        fail(f"{spec.function}'s forward returned {type(out).__name__}: return a tensor")
    if torch.allclose(out.double(), other.double()):
        fail(f"{spec.function} ignores the labels: with every label changed its output is the same. Concatenate "
              "the one-hot labels to the input (F.one_hot(labels, num_classes)), as the docstring says")
    with torch.no_grad():
        for asked, why in ((torch.full_like(labels, 3), "a batch of 3s only (F.one_hot(labels) without "
                            "num_classes has as many columns as the largest label + 1: pass num_classes)"),):
            try:
                net(x, asked)
            except (RuntimeError, IndexError) as e:
                fail(f"{spec.function} fails on {why}: {type(e).__name__}: {str(e)[:200]}")
        try:
            twelve, _ = spec.build(impl, x.dtype, num_classes=12)
            twelve(x, torch.full_like(labels, 11))
        except (RuntimeError, IndexError) as e:
            fail(f"{spec.function}(num_classes=12) fails on the label 11 ({type(e).__name__}: {str(e)[:160]}): use "
                  "the num_classes argument everywhere instead of 10")
    if spec.takes == "images":
        with torch.no_grad():
            flat = net(x.flatten(1), labels)
        if not torch.allclose(flat.double(), out.double()):
            fail(f"{spec.function} gives other scores for the same images given flat (N, 784): reshape the "
                  "images first, whatever their shape")
    ref.expect(f"{key}_output", sampled(out.double().reshape(len(out), -1)),
               f"with fixed weights, {spec.function}'s output differs from the reference (relative error "
               "{error:.1e}): concatenate in the docstring's order (the input first, then the one-hot"
               + (", or the 10 label maps: map k all ones for the images of class k, zeros elsewhere" if "dc" in
                  spec.function else "") + "), each example with its own label, and check the activations (the "
               "generator ends with Tanh, the discriminators with a plain Linear: no sigmoid)")
    return expect_runs_on_any_device(impl, task, spec.function, lambda to: to(net)(to(x), to(labels)))


# ---------------------------------------------------------------------------
# The conditional losses, on a small conditional D with fixed weights
# ---------------------------------------------------------------------------

class TinyConditionalD(nn.Module):
    """A small conditional discriminator of flat 'images' (N, 4): Linear on [x, one_hot(labels)]."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4 + NUM_CLASSES, 5), nn.LeakyReLU(0.2), nn.Linear(5, 1))

    def forward(self, x, labels):
        return self.net(torch.cat([x, F.one_hot(labels, NUM_CLASSES).to(x.dtype)], dim=1))


def _tiny_d(weights_seed, dtype=torch.float64):
    D = TinyConditionalD()
    load_fixed_weights(param_layers(D), weights_seed + 3)
    return D.to(dtype)


@dataclass(frozen=True)
class ConditionalLoss:
    """cgan_discriminator_loss or cgan_generator_loss on fixed batches and labels (fake labels differ from real)."""
    function: str

    def required(self, key):
        return [((f"{key}_output",), ("value",)), ((f"{key}_grad_output",), ("close",))]

    def call(self, f, D, x):
        if self.function == "cgan_discriminator_loss":
            return f(D, x["real"], x["real_labels"], x["fake"], x["fake_labels"])
        return f(D, x["fake"], x["fake_labels"])

    def answers(self, solution, key, gen, weights_seed, batch):
        n = 2 * batch
        x = {"real": torch.rand(n, 4, generator=gen, dtype=torch.float64) * 2 - 1,
             "fake": torch.rand(n, 4, generator=gen, dtype=torch.float64) * 2 - 1,
             "real_labels": torch.arange(n) % NUM_CLASSES, "fake_labels": (torch.arange(n) * 3 + 1) % NUM_CLASSES}
        x["fake"].requires_grad_(True)
        D = _tiny_d(weights_seed)
        loss = self.call(getattr(solution.module, self.function), D, x)
        target = x["fake"] if self.function == "cgan_generator_loss" else None
        grad = _gradient(loss, D, target)
        return {**{f"{key}_{k}": v.detach().numpy() for k, v in x.items()}, f"{key}_output": np.float64(loss.item()),
                f"{key}_grad_output": grad.numpy()}


def _gradient(loss, D, fake=None):
    """What a step learns from the loss: D's weights' gradient, or (generator loss) the gradient at the fakes."""
    D.zero_grad(set_to_none=True)
    if fake is not None:   # no gradient at all when the loss was cut off from the fakes (detached): zeros
        grad = torch.autograd.grad(loss, fake, allow_unused=True)[0] if loss.requires_grad else None
        return (grad if grad is not None else torch.zeros_like(fake)).detach().reshape(-1).double()
    loss.backward()
    return torch.cat([p.grad.detach().reshape(-1).double() for p in D.parameters()])


def check_conditional_loss(impl, ref, task):
    spec, key = task.spec, task.name
    f = getattr(impl, spec.function)

    def inputs(dtype):
        x = {k: (ref.tensor(f"{key}_{k}").to(dtype) if k in ("real", "fake") else
                 torch.as_tensor(ref[f"{key}_{k}"], dtype=torch.int64)) for k in ("real", "fake", "real_labels",
                                                                                "fake_labels")}
        x["fake"].requires_grad_(spec.function == "cgan_generator_loss")
        return x

    def run(dtype):
        D, x = _tiny_d(ref.weights_seed, dtype), inputs(dtype)
        return D, x, spec.call(f, D, x)

    D, x, loss = in_float32_if_needed(run)
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        fail(f"{spec.function} must return a scalar tensor (the mean over the batch), not "
              f"{type(loss).__name__ if not isinstance(loss, torch.Tensor) else tuple(loss.shape)}")
    value = loss.item()
    if spec.function == "cgan_discriminator_loss":
        real_labels = {**x, "fake_labels": x["real_labels"]}
        fake_labels = {**x, "real_labels": x["fake_labels"]}
        if math.isclose(spec.call(f, D, real_labels).item(), value, rel_tol=1e-9):
            fail("your D loss does not change when the fakes' labels are replaced by the real ones: D must judge "
                  "each fake with the label G made it for, D(fake, fake_labels); with the real batch's labels, a "
                  "good 7 made for the label 7 is judged as a 3")
        if math.isclose(spec.call(f, D, fake_labels).item(), value, rel_tol=1e-9):
            fail("your D loss does not change when the real images' labels are replaced: judge each real image "
                  "with its own label, D(real, real_labels)")
    ref.expect(f"{key}_output", value, "your loss is {value:.6g}, expected {expected:.6g}. {hint}", kind="value",
               hint=("cgan", spec.function))
    ref.expect(f"{key}_grad_output",
               _gradient(loss, D, x["fake"] if spec.function == "cgan_generator_loss" else None),
               "your loss has the right value but a different gradient (relative error {error:.1e}): "
               + ("do not detach the fakes in G's loss: G learns through them" if spec.function ==
                  "cgan_generator_loss" else "keep the loss a tensor of D's outputs (no .item() inside)"))
    D, x = _tiny_d(ref.weights_seed), inputs(torch.float64)
    return expect_runs_on_any_device(impl, task, spec.function, lambda to: spec.call(f, to(D), {k: to(v) for k, v in x.items()}))


def cgan_hint(value, expected, ref, key, function):
    """The likely slip behind a wrong conditional loss, recomputed from the fixed small D's logits."""
    prefix = key[:-len("_output")]
    D = _tiny_d(int(ref["meta_weights_seed"]))
    x = {k: torch.as_tensor(ref[f"{prefix}_{k}"]) for k in ("real", "fake", "real_labels", "fake_labels")}
    with torch.no_grad():
        real, fake = D(x["real"].double(), x["real_labels"].long()), D(x["fake"].double(), x["fake_labels"].long())

    def bce(logits, target):
        return float(F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target)))

    if function == "cgan_discriminator_loss":
        slips = {"the AVERAGE of the two BCEs: the loss is their SUM": (bce(real, 1) + bce(fake, 0)) / 2,
                 "the targets swapped: real images have target 1, fakes 0": bce(real, 0) + bce(fake, 1),
                 "BCE on sigmoid(D(x)) as if D's outputs were logits twice over: D returns logits, use "
                 "F.binary_cross_entropy_with_logits on them": bce(torch.sigmoid(real), 1) + bce(torch.sigmoid(fake), 0)}
    else:
        slips = {"the saturating loss -BCE(D(fake), 0): use the non-saturating BCE(D(fake), 1)": -bce(fake, 0),
                 "the target 0: G wants its fakes called real, target 1": bce(fake, 0)}
    for slip, slipped in slips.items():
        if math.isclose(value, slipped, rel_tol=1e-6):
            return f"That is {slip}."
    return ("Use F.binary_cross_entropy_with_logits on D's logits (a mean over the batch), and judge each image "
            "with its own label: the real images with real_labels, the fakes with fake_labels, in their order.")


LAB = Lab(
    name="cgan", title="A conditional GAN: ask for a digit, get that digit", hints={"cgan": cgan_hint}, tasks=(
        Task("conditional_generator", 2, check=check_conditional_network, spec=Conditional(
            "conditional_generator", "noise", ("noise_dim + num_classes", NOISE_DIM + NUM_CLASSES))),
        Task("conditional_discriminator", 2, check=check_conditional_network, spec=Conditional(
            "conditional_discriminator", "images", ("784 pixels + num_classes", 784 + NUM_CLASSES))),
        Task("conditional_dc_discriminator", 2, check=check_conditional_network, spec=Conditional(
            "conditional_dc_discriminator", "images", ("1 image channel + num_classes label maps",
                                                       1 + NUM_CLASSES))),
        Task("cgan_discriminator_loss", 2, check=check_conditional_loss,
             spec=ConditionalLoss("cgan_discriminator_loss")),
        Task("cgan_generator_loss", 1, check=check_conditional_loss, spec=ConditionalLoss("cgan_generator_loss")),
        Task("cgan_question", 2, kind="written"),
    ))
