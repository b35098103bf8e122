"""The latent_walks lab: slerp and the class-mean direction in G's noise space.

The checks look at properties any correct answer has (a walk starts at z0 and
ends at z1, slerp keeps the length of equal-length ends) and compare with the
reference answers; the slips that need an answer to be recognised (lerp for
slerp, a reversed direction) are named by `direction_hint` and by the messages
the grader fills in. Nothing here computes a correct answer.
"""

import math
from dataclasses import dataclass

import numpy as np
import torch

from checks.core.device import expect_runs_on_any_device
from checks.core.helpers import (fail, tensor_result)
from checks.core.lab import Lab, Task


@dataclass(frozen=True)
class Slerp:
    """slerp on pairs of vectors of different lengths: at random (about 90 degrees apart), close (about 11
    degrees: a loose switch to lerp shows), on one axis (cos(omega) exactly 1: the 0/0 needs its guard) and
    a vector and a multiple of it whose cosine rounds above 1 (arccos needs the clamp)."""
    dim: int = 8
    pairs: tuple = ("random", "near", "parallel", "scaled")

    def inputs(self, gen, batch):
        z0 = torch.randn(self.dim, generator=gen, dtype=torch.float64)
        bend = torch.randn(self.dim, generator=gen, dtype=torch.float64)
        bend -= (bend @ z0) / (z0 @ z0) * z0                       # orthogonal to z0 ...
        near = 1.7 * (z0 + 0.2 * z0.norm() / bend.norm() * bend)   # ... so omega = atan(0.2), 11.3 degrees
        axis = torch.zeros(self.dim, dtype=torch.float64)
        axis[batch % self.dim] = 1.0 + float(torch.rand((), generator=gen))
        return {"t": torch.linspace(0, 1, batch + 2, dtype=torch.float64),
                "random_z0": z0, "random_z1": 2 * torch.randn(self.dim, generator=gen, dtype=torch.float64),
                "near_z0": z0, "near_z1": near, "parallel_z0": axis, "parallel_z1": 2.5 * axis,
                **dict(zip(("scaled_z0", "scaled_z1"), _rounding_above_one(gen, self.dim)))}

    def required(self, key):
        return [((f"{key}_{pair}_output",), ("close",)) for pair in self.pairs]

    def answers(self, solution, key, gen, weights_seed, batch):
        values = self.inputs(gen, batch)
        answers = {f"{key}_{name}": v.numpy() for name, v in values.items()}
        for pair in self.pairs:
            answers[f"{key}_{pair}_output"] = solution.module.slerp(
                values[f"{pair}_z0"], values[f"{pair}_z1"], values["t"]).numpy()
        return answers


def _rounding_above_one(gen, dim):
    """A vector and a multiple of it whose cosine, computed the two usual ways, rounds to more than 1."""
    for _ in range(1000):
        z0 = torch.randn(dim, generator=gen, dtype=torch.float64)
        for k in (3.0, 5.0, 7.0, 0.3, 0.7):
            z1 = k * z0
            if torch.dot(z0 / z0.norm(), z1 / z1.norm()) > 1 and (z0 @ z1) / (z0.norm() * z1.norm()) > 1:
                return z0, z1
    raise RuntimeError("no pair found whose cosine rounds above 1")


PAIR_WORDS = {"random": "two vectors of different lengths",
              "near": "two vectors 11 degrees apart (too far apart for lerp to stand in for slerp)",
              "parallel": "two vectors that point the same way (omega = 0, the 0/0 case: return lerp there)",
              "scaled": "a vector and a multiple of it, whose cosine rounds to 1.0000000000000002 (clamp it to "
                        "[-1, 1] before arccos, then the 0/0 case: return lerp)"}


def check_slerp(impl, ref, task):
    key = task.name
    t = ref.tensor(f"{key}_t")
    for pair in task.spec.pairs:
        z0, z1 = ref.tensor(f"{key}_{pair}_z0"), ref.tensor(f"{key}_{pair}_z1")
        where = f"on {PAIR_WORDS[pair]}, "
        out = tensor_result(impl.slerp(z0, z1, t), "slerp", (len(t), len(z0)),
                             f"{where}one point of {len(z0)} numbers per fraction t, for {len(t)} fractions")
        if not torch.isfinite(out).all():
            fail(f"{where}your slerp gave {out[1, :3].tolist()}...: there the cosine is 1 (or rounds just above), "
                  "so arccos needs the cosine clamped to [-1, 1] and the formula is 0 / 0. Return lerp, "
                  "(1 - t) z0 + t z1, when sin(omega) is tiny (that is slerp's limit)")
        if not (torch.allclose(out[0], z0, rtol=1e-6, atol=1e-9) and torch.allclose(out[-1], z1, rtol=1e-6,
                                                                                        atol=1e-9)):
            unit = torch.allclose(out.norm(dim=1), torch.ones(len(out), dtype=out.dtype), rtol=1e-4)
            fail(f"{where}your walk does not start at z0 (t = 0) and end at z1 (t = 1)"
                  + (": its points all have length 1. Normalise only to compute the angle omega, then interpolate "
                     "z0 and z1 themselves" if unit else ". slerp(t) = sin((1 - t) omega) / sin(omega) z0 + "
                     "sin(t omega) / sin(omega) z1"))
        if pair in ("random", "near") and torch.allclose(out, (1 - t[:, None]) * z0 + t[:, None] * z1, rtol=1e-6,
                                                         atol=1e-9):
            fail(f"{where}that is lerp, the straight line (1 - t) z0 + t z1, which cuts through the inside of the "
                  "ball; slerp follows the arc: sin((1 - t) omega) / sin(omega) z0 + sin(t omega) / sin(omega) z1, "
                  "with cos(omega) = z0 . z1 / (|z0| |z1|)"
                  + (". Switch to lerp only where sin(omega) is tiny (below 1e-6, say)" if pair == "near" else ""))
        ref.expect(f"{key}_{pair}_output", out,
                   where + "your slerp differs from the reference (relative error {error:.1e}): omega is the angle "
                   "between z0 and z1, arccos of their normalised dot product clamped to [-1, 1]"
                   + ("; where sin(omega) is tiny, return lerp" if pair in ("parallel", "scaled") else ""))
    # The notebook walks on the training device (class_mean_direction, by contrast, gets CPU tensors: cpu_only).
    z0, z1 = ref.tensor(f"{key}_random_z0"), ref.tensor(f"{key}_random_z1")
    return expect_runs_on_any_device(impl, task, "slerp", lambda to: impl.slerp(to(z0), to(z1), to(t)))


@dataclass(frozen=True)
class Direction:
    """class_mean_direction for two pairs of digits, on fixed noise vectors and classes."""
    dim: int = 6
    pairs: tuple = ((1, 7), (8, 3))

    def required(self, key):
        return [((f"{key}_{a}_{b}{what}_output",), (kind,)) for a, b in self.pairs
                for what, kind in (("", "close"), ("_sum", "value"))]

    def answers(self, solution, key, gen, weights_seed, batch):
        n = 6 * batch
        z = torch.rand(n, self.dim, generator=gen, dtype=torch.float64) * 2 - 1
        predicted = torch.randint(0, 9, (n,), generator=gen)    # no 9: its mean does not exist
        for a, b in self.pairs:
            predicted[[a, b]] = torch.tensor([a, b])              # each digit of a pair at least once
        answers = {f"{key}_z": z.numpy(), f"{key}_predicted": predicted.numpy()}
        for a, b in self.pairs:
            direction = solution.module.class_mean_direction(z, predicted, a, b)
            answers[f"{key}_{a}_{b}_output"] = direction.numpy()
            answers[f"{key}_{a}_{b}_sum_output"] = np.float64(direction.sum())
        return answers


def check_class_mean_direction(impl, ref, task):
    key, notes = task.name, []
    z = ref.tensor(f"{key}_z")
    predicted = torch.as_tensor(ref[f"{key}_predicted"], dtype=torch.int64)
    for a, b in task.spec.pairs:
        z_before = z.clone()
        out = impl.class_mean_direction(z, predicted, a, b)
        if not torch.equal(z, z_before):
            fail("class_mean_direction changed z: compute the means without writing into it")
        out = tensor_result(out, "class_mean_direction", (z.shape[1],),
                             f"one direction of {z.shape[1]} numbers (the mean is over the samples, dim=0)")
        ref.expect(f"{key}_{a}_{b}_sum_output", float(out.sum()),
                   f"the numbers of your direction from {a} to {b} add up to {{value:.6g}}, expected "
                   f"{{expected:.6g}}. {{hint}}", kind="value", hint=("direction", a, b))
        ref.expect(f"{key}_{a}_{b}_output", out,
                   f"the direction from {a} to {b} differs from the reference (relative error {{error:.1e}}): the "
                   f"mean of z over the samples classified {b}, minus the mean over those classified {a}")
    for source, target in ((9, 1), (1, 9)):     # no sample is classified as 9
        call = f"class_mean_direction(z, predicted, {source}, {target})"
        try:
            out = impl.class_mean_direction(z, predicted, source, target)
        except ValueError as e:
            if "9" not in str(e) and not notes:
                notes.append(f"your ValueError says {str(e)!r}: name the class nobody was classified as (9 here), "
                             "so whoever reads it knows which digit is missing")
            continue
        except Exception as e:   # noqa: BLE001 - any other error is the student's to fix, said plainly
            fail(f"with no sample classified as 9, {call} raised {type(e).__name__} ({e}): raise ValueError "
                  "saying that no sample is classified as 9")
        fail(f"with no sample classified as 9, {call} returned {_describe(out)}: raise ValueError saying that no "
              "sample is classified as 9 (the mean of nothing is nan, which would silently spoil every picture "
              "after it)" + (" - check the target class too, not only the source" if source == 1 else ""))
    return notes


def direction_hint(value, expected, ref, key, source, target):
    if math.isclose(value, -expected, rel_tol=1e-6):
        return (f"That is the direction from {target} to {source}: it is the mean noise of the TARGET's samples "
                f"({target}) minus the mean of the SOURCE's ({source}), so that adding it turns a {source} into "
                f"a {target}.")
    return (f"It is the mean of z over the samples classified {target} minus the mean over those classified "
            f"{source}, each a mean over the samples (dim=0).")


def _describe(value):
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}" + (" holding nan" if torch.isnan(value).any() else "")
    return type(value).__name__


LAB = Lab(
    name="latent_walks", title="Latent walks and vector arithmetic", uses=("gan_pytorch",),
    hints={"direction": direction_hint}, tasks=(
        Task("slerp", 3, check=check_slerp, spec=Slerp()),
        Task("class_mean_direction", 2, check=check_class_mean_direction, cpu_only=True, spec=Direction()),
        Task("walks_question", 2, kind="written"),
    ))
