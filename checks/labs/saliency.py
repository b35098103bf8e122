"""The saliency lab: where D looks (|d score / d image|), and which pixels one noise coordinate moves.

The checks run the student's functions on small networks with fixed weights
(checks/core/networks.py), check that D and the caller's images are left as they
were and that no hook stays behind, and compare with the reference answers; the
slips that need an answer to be recognised (the mean score instead of the sum, a
sigmoid on the score) are named by `saliency_hint`. Nothing here computes a
correct answer.
"""

import math
import warnings
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from checks.core.device import expect_runs_on_any_device
from checks.core.helpers import (expect_left_as_found, expect_unchanged, fail, flat_params, has_gradients,
                                 in_float32_if_needed, network_state, tensor_result, unique)
from checks.core.lab import Lab, Task
from checks.core.networks import sampled, test_discriminator, with_fixed_weights

# torch.func.jvp (the forward-mode way to latent_saliency) makes PyTorch script a helper of its own the
# first time, which warns that torch.jit.script is deprecated: nothing a student wrote, or can act on.
warnings.filterwarnings("ignore", message="`torch.jit.script` is deprecated", category=FutureWarning)


@dataclass(frozen=True)
class Saliency:
    """saliency_map on a discriminator of digits and on one of colour images, both with fixed weights."""
    networks: tuple = ("digits", "colour", "normed")   # normed: BatchNorm and Dropout, in eval mode

    def required(self, key):
        return [((f"{key}_{name}{what}_output",), (kind,)) for name in self.networks
                for what, kind in (("", "close"), ("_total", "value"))]

    def answers(self, solution, key, gen, weights_seed, batch):
        answers = {}
        for name in self.networks:
            D, shape = test_discriminator(name, weights_seed)
            x = torch.rand(batch, *shape, generator=gen, dtype=torch.float64) * 2 - 1
            maps = solution.module.saliency_map(D, x)
            answers[f"{key}_{name}_input"] = x.numpy()
            answers[f"{key}_{name}_output"] = sampled(maps).numpy()
            answers[f"{key}_{name}_total_output"] = np.float64(maps.sum())
        return answers


def check_saliency_map(impl, ref, task):
    key, notes = task.name, []
    for name in task.spec.networks:
        def run(dtype):
            D, _ = test_discriminator(name, ref.weights_seed, dtype)
            x = ref.tensor(f"{key}_{name}_input").to(dtype)
            state = network_state(D)
            return D, x, x.clone(), flat_params(D), state, impl.saliency_map(D, x)

        D, x, x_before, before, state, out = in_float32_if_needed(run)
        notes += expect_left_as_found(D, state, "saliency_map", "D")
        if not torch.equal(x.detach(), x_before):
            fail("saliency_map changed the images it was given: work on a copy, "
                  "x = images.detach().clone().requires_grad_(True)")
        if x.requires_grad:
            notes.append("saliency_map turned on requires_grad on the caller's images: work on a copy "
                         "(images.detach().clone().requires_grad_(True)) so the caller's tensor stays as it was")
        expect_unchanged(D, before, "saliency_map", "D")
        if has_gradients(D):
            notes.append("saliency_map left gradients in D's parameters (backward() fills every .grad): "
                         "torch.autograd.grad(total, x) computes only the input's gradient")
        n, c, h, w = x.shape
        if isinstance(out, torch.Tensor) and tuple(out.shape) == (n, c, h, w) and c > 1:
            fail(f"saliency_map returned shape {tuple(out.shape)}: take the largest value over the channels "
                  f"(dim 1), for a map (N, H, W) = {(n, h, w)}")
        if isinstance(out, torch.Tensor) and (out.dim() == 0 or out.shape[0] != n):
            fail(f"saliency_map returned shape {tuple(out.shape)}, not one map per image: is it a gradient with "
                  "respect to D's parameters? The saliency is the gradient of the scores with respect to the "
                  "input images")
        out = tensor_result(out, "saliency_map", (n, h, w), "one map (H, W) per image")
        if (out < 0).any():
            fail("your saliency map has negative values: it is the ABSOLUTE value of the gradient (.abs()), "
                  "then the largest over the channels")
        # The total first: its hint names the slip (the mean of the scores, a sigmoid), found by the grader.
        ref.expect(f"{key}_{name}_total_output", float(out.sum()),
                   f"on a {name} discriminator with fixed weights, your saliency maps add up to {{value:.6g}}, "
                   "expected {expected:.6g}. {hint}", kind="value", hint=("saliency", name))
        ref.expect(f"{key}_{name}_output", sampled(out),
                   f"on a {name} discriminator with fixed weights, your saliency differs from the reference "
                   "(relative error {error:.1e}): the absolute gradient of D's scores with respect to the input "
                   "images, the largest over the channels")
    D, x = test_discriminator("normed", ref.weights_seed)[0], ref.tensor(f"{key}_normed_input")
    notes += expect_runs_on_any_device(impl, task, "saliency_map", lambda to: impl.saliency_map(to(D), to(x)))
    return unique(notes)


def saliency_hint(value, expected, ref, key, name):
    """The likely slip behind wrong saliency totals, recomputed from the reference maps (grader side)."""
    prefix = key[:-len("_total_output")]
    x = torch.tensor(ref[f"{prefix}_input"], dtype=torch.float64)
    D, _ = test_discriminator(str(name), int(ref["meta_weights_seed"]))
    per_image = torch.tensor(ref[f"{prefix}_output"], dtype=torch.float64).sum(1)   # not sampled at these sizes
    with torch.no_grad():
        p = torch.sigmoid(D(x).reshape(-1))
    if math.isclose(value, expected / len(x), rel_tol=1e-5):
        return (f"That is the reference divided by the batch size ({len(x)}): the gradient of the MEAN score. "
                "Differentiate the SUM of the scores: each score depends only on its own image.")
    if math.isclose(value, float((per_image * p * (1 - p)).sum()), rel_tol=1e-5):
        return "That is the gradient of sigmoid(score): use the score as D returns it, a logit, no sigmoid."
    return ("The saliency is |d score / d image|, the largest over the channels, for each image; the scores "
            "as D returns them.")


def small_generators():
    """Three small generators: one making (1, 6, 6) images, one flat (N, 20) outputs, and one with BatchNorm
    in eval mode (as the notebook passes its trained G: BatchNorm in training mode mixes a batch's samples)."""
    return {"images": nn.Sequential(nn.Linear(4, 10), nn.Tanh(), nn.Linear(10, 36), nn.Tanh(),
                                    nn.Unflatten(1, (1, 6, 6))),
            "flat": nn.Sequential(nn.Linear(4, 12), nn.LeakyReLU(0.2), nn.Linear(12, 20)),
            "normed": nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 16), nn.Tanh(),
                                    nn.Unflatten(1, (1, 4, 4))).eval()}


@dataclass(frozen=True)
class LatentSaliency:
    """latent_saliency on two small generators with fixed weights, for one latent coordinate each."""
    coordinates: tuple = (("images", 2), ("flat", 0), ("normed", 1))

    def generator(self, name, weights_seed):
        return with_fixed_weights(small_generators()[name], weights_seed + 11 + len(name))

    def required(self, key):
        return [((f"{key}_{name}_output",), ("close",)) for name, _ in self.coordinates]

    def answers(self, solution, key, gen, weights_seed, batch):
        answers = {}
        for name, coordinate in self.coordinates:
            z = torch.rand(batch, 4, generator=gen, dtype=torch.float64) * 2 - 1
            answers[f"{key}_{name}_z"] = z.numpy()
            answers[f"{key}_{name}_output"] = solution.module.latent_saliency(
                self.generator(name, weights_seed), z, coordinate).numpy()
        return answers


def check_latent_saliency(impl, ref, task):
    key, notes = task.name, []
    for name, coordinate in task.spec.coordinates:
        given = []

        def run(dtype):
            G = task.spec.generator(name, ref.weights_seed).to(dtype)
            z = ref.tensor(f"{key}_{name}_z").to(dtype)
            state = network_state(G)
            given[:] = [G, state]
            return G, z, z.clone(), flat_params(G), state, impl.latent_saliency(G, z, coordinate)

        try:
            G, z, z_before, before, state, out = in_float32_if_needed(run)
        except RuntimeError:
            expect_left_as_found(*given, "latent_saliency", "G")   # torch.func.jvp refuses BatchNorm in training mode
            raise
        notes += expect_left_as_found(G, state, "latent_saliency", "G")
        if z.requires_grad:
            notes.append("latent_saliency turned on requires_grad on the caller's z: work on a copy")
        if not torch.equal(z.detach(), z_before):
            fail("latent_saliency changed z: work on a copy, or build the direction as a new tensor")
        expect_unchanged(G, before, "latent_saliency", "G")
        with torch.no_grad():
            shape = tuple(G(z).shape)
        if isinstance(out, torch.Tensor) and tuple(out.shape) == tuple(z.shape) != shape:
            fail(f"latent_saliency returned shape {tuple(out.shape)}, the shape of z: that is a gradient with "
                  "respect to z of one number (the summed image?). The result is how every PIXEL changes with one "
                  f"coordinate z[:, {coordinate}]: shaped like G(z), {shape}")
        out = tensor_result(out, "latent_saliency", shape, "one value per pixel of G(z)")
        if (out < 0).any():
            fail("your result has negative values: it is the ABSOLUTE change of each pixel (.abs())")
        ref.expect(f"{key}_{name}_output", out,
                   f"for coordinate {coordinate} of a generator with fixed weights, your result differs from the "
                   "reference (relative error {error:.1e}): |d G(z) / d z[:, j]| for each pixel, e.g. "
                   "torch.func.jvp(G, (z,), (v,)) with v one-hot in column j")
    G, z = task.spec.generator("normed", ref.weights_seed), ref.tensor(f"{key}_normed_z")
    notes += expect_runs_on_any_device(impl, task, "latent_saliency", lambda to: impl.latent_saliency(to(G), to(z), 1))
    return unique(notes)


LAB = Lab(
    name="saliency", title="What D looks at: saliency maps", uses=("gan_pytorch",),
    hints={"saliency": saliency_hint}, tasks=(
        Task("saliency_map", 3, check=check_saliency_map, spec=Saliency()),
        Task("latent_saliency", 2, check=check_latent_saliency, spec=LatentSaliency()),
        Task("saliency_question", 2, kind="written"),
    ))
