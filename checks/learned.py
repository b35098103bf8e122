"""The checks of the three labs on what a trained GAN learned (checks/registry.py: D_PROBE, LATENT_WALKS,
SALIENCY), with the recipes of their reference answers.

Each spec says how its function is called and which answers the solution gives
(`answers`, run by tools/make_reference.py); each check calls the student's
function the same way on networks with fixed weights and hands every value to
`ref.expect`. Before comparing, a check looks at what the code did to things
that must not change (D's parameters and gradients, the caller's images, hooks
left behind) and at properties any correct answer has (a walk starts at z0,
a saliency is never negative): a FAIL found that way only ever fails the
student's own code. Nothing here computes a correct answer (these files are
released to students); the slips that need one to be recognised (the mean
score instead of the sum, a sigmoid on the score, a reversed direction, a
softmax before the cross-entropy) are named by hints the grader runs against
the reference answers (`*_hint`, registered in checks/verdict.py).
"""

import math
import warnings
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from checks.functions import _dtype_mismatch, _fail, _flat_params, run_in_float32_if_needed
from checks.reference import load_fixed_weights, param_layers, sampled

# torch.func.jvp (the forward-mode way to latent_saliency) makes PyTorch script a helper of its own the
# first time, which warns that torch.jit.script is deprecated: nothing a student wrote, or can act on.
warnings.filterwarnings("ignore", message="`torch.jit.script` is deprecated", category=FutureWarning)


def _float64(model, seed, dtype=torch.float64):
    load_fixed_weights(param_layers(model), seed)
    return model.to(dtype)


def digit_discriminator():
    """A small convolutional discriminator of (1, 28, 28) digits (not the classic one: checks hold no lab's answer)."""
    return nn.Sequential(nn.Conv2d(1, 8, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(8, 16, 4, 2, 1), nn.LeakyReLU(0.2),
                         nn.Flatten(), nn.Linear(16 * 7 * 7, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))


def colour_discriminator():
    """A small discriminator of 3-channel 8 x 8 images, shaped unlike the other (no hard-coded index fits both)."""
    return nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.LeakyReLU(0.2), nn.Flatten(),
                         nn.Linear(64, 9), nn.ReLU(), nn.Linear(9, 6), nn.LeakyReLU(0.2), nn.Linear(6, 1))


DISCRIMINATORS = {"digits": (digit_discriminator, (1, 28, 28)), "colour": (colour_discriminator, (3, 8, 8))}


def _discriminator(name, weights_seed, dtype=torch.float64):
    build, shape = DISCRIMINATORS[name]
    return _float64(build(), weights_seed + len(name), dtype), shape


def _any_dtype_mismatch(error):
    """PyTorch's dtype mismatches, those of matrix products and convolutions included (x.float(), torch.zeros(...)
    in the student's code meet the check's float64 networks there)."""
    return _dtype_mismatch(error) or "same dtype" in str(error) or "should be the same" in str(error)


def _in_float32_if_needed(run):
    """`run(dtype)` in float64, again in float32 after any dtype mismatch (run_in_float32_if_needed)."""
    return run_in_float32_if_needed(run, _any_dtype_mismatch)


def _tensor_result(value, function, expected_shape, what):
    if isinstance(value, tuple) and hasattr(value, "values") and hasattr(value, "indices"):
        _fail(f"{function} returned the pair (values, indices) that torch.max(x, dim) gives: keep its .values, "
              "or use x.amax(dim), which returns the values alone")
    if not isinstance(value, torch.Tensor):
        _fail(f"{function} returned {type(value).__name__}: it must return a tensor {what}")
    if tuple(value.shape) != tuple(expected_shape):
        _fail(f"{function} returned shape {tuple(value.shape)}; expected {tuple(expected_shape)}: {what}")
    return value.detach().double().cpu()


def _unchanged(model, before, function, what):
    if not torch.equal(before, _flat_params(model)):
        _fail(f"{function} changed {what}'s parameters: it must only read them")


def _has_gradients(model):
    return any(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in model.parameters())


# ---------------------------------------------------------------------------
# Lab 1: the discriminator's features and the linear probe
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Features:
    """discriminator_features on D's with fixed weights, fed in chunks of the reference's batch size."""
    networks: tuple = ("digits", "colour")

    def inputs(self, name, gen, batch):
        _, shape = DISCRIMINATORS[name]
        return torch.rand(3 * batch + 2, *shape, generator=gen, dtype=torch.float64) * 2 - 1   # chunks + a partial

    def required(self, key):
        return [((f"{key}_{name}_output",), ("close",)) for name in self.networks]

    def answers(self, solution, key, gen, weights_seed, batch):
        answers = {}
        for name in self.networks:
            D, _ = _discriminator(name, weights_seed)
            x = self.inputs(name, gen, batch)
            answers[f"{key}_{name}_input"] = x.numpy()
            answers[f"{key}_{name}_output"] = sampled(solution.module.discriminator_features(D, x, batch)).numpy()
        return answers


def check_discriminator_features(impl, ref, task):
    key, notes = task.name, []
    for name in task.spec.networks:
        def run(dtype):
            D, _ = _discriminator(name, ref.weights_seed, dtype)
            x = ref.tensor(f"{key}_{name}_input").to(dtype)
            before, mode, seen = _flat_params(D), D.training, []
            watch = D[0].register_forward_pre_hook(lambda module, args: seen.append(len(args[0])))
            try:
                features = impl.discriminator_features(D, x, ref.batch)
            finally:
                watch.remove()
            return D, x, before, mode, seen, features

        D, x, before, mode, seen, features = _in_float32_if_needed(run)
        last = D[-1]
        if not isinstance(features, torch.Tensor):
            _fail(f"discriminator_features returned {type(features).__name__}: return one tensor (N, F)")
        if features.requires_grad or _has_gradients(D):
            _fail("D is not frozen: " + ("the features you return carry D's graph, so training the probe on them "
                                         "backpropagates into D" if features.requires_grad else
                                         "D's parameters received gradients") +
                  ". A linear probe measures the features D has: compute them under torch.no_grad() "
                  "(or .detach() them)")
        _unchanged(D, before, "discriminator_features", "D")
        if last._forward_pre_hooks or last._forward_hooks or any(m._forward_hooks or m._forward_pre_hooks
                                                                 for m in D.modules()):
            _fail("discriminator_features left a hook registered on D: every later forward pass of D would run it. "
                  "Keep the handle register_forward_pre_hook returns and call handle.remove() (in a finally: block)")
        if D.training != mode:
            notes.append("discriminator_features changed D's mode (train/eval): leave it as it was given")
        features = _tensor_result(features, "discriminator_features", (len(x), last.in_features),
                                  f"one row of {last.in_features} features per image, what D's last Linear receives")
        with torch.no_grad():
            before_activation = D[:-2](x).double()
        if torch.allclose(features, before_activation):
            _fail("these are the outputs of the Linear before the last activation: the features are what D's LAST "
                  "layer receives, after that activation (D[:-1], or a pre-hook on the last nn.Linear)")
        ref.expect(f"{key}_{name}_output", sampled(features),
                   f"on a {name} discriminator with fixed weights, your features differ from the reference (relative "
                   "error {error:.1e}). They are the input of D's last layer, for every image, in order"
                   + (": with batch_size={}, are all chunks kept, the last partial one too?".format(ref.batch)))
        if seen and max(seen) > ref.batch:
            _fail(f"your features are right, but with batch_size={ref.batch} D ran on {max(seen)} images at once: run "
                  "it on batch_size images at a time (images.split(batch_size)) and concatenate; 50,000 images at "
                  "once need gigabytes")
    return notes


@dataclass(frozen=True)
class Probe:
    """fit_linear_probe from fixed weights on fixed features, a few full-batch Adam steps."""
    features: int = 6
    classes: int = 4
    steps: int = 3
    lr: float = 0.1

    def probe(self, weights_seed):
        return _float64(nn.Linear(self.features, self.classes), weights_seed + 7)

    def required(self, key):
        return [((f"{key}_weights_output",), ("close",)), ((f"{key}_losses_output",), ("close",)),
                ((f"{key}_first_loss_output",), ("value",))]

    def answers(self, solution, key, gen, weights_seed, batch):
        n = 4 * batch
        x = torch.randn(n, self.features, generator=gen, dtype=torch.float64)
        y = torch.arange(n) % self.classes
        y = y[torch.randperm(n, generator=gen)]
        probe = self.probe(weights_seed)
        losses = solution.module.fit_linear_probe(probe, x, y, steps=self.steps, lr=self.lr)
        return {f"{key}_features": x.numpy(), f"{key}_labels": y.numpy(),
                f"{key}_weights_output": _flat_params(probe).numpy(),
                f"{key}_losses_output": np.array(losses, dtype=np.float64),
                f"{key}_first_loss_output": np.float64(losses[0])}


def check_fit_linear_probe(impl, ref, task):
    spec, key = task.spec, task.name
    x, y = ref.tensor(f"{key}_features"), torch.as_tensor(ref[f"{key}_labels"], dtype=torch.int64)
    call = f"fit_linear_probe(probe, features, labels, steps={spec.steps}, lr={spec.lr})"

    def run(dtype):
        probe, features = spec.probe(ref.weights_seed).to(dtype), x.to(dtype)
        start, given = _flat_params(probe), features.clone()
        return probe, start, features, given, impl.fit_linear_probe(probe, features, y, steps=spec.steps, lr=spec.lr)

    probe, start, x, x_before, losses = _in_float32_if_needed(run)
    if not torch.equal(x, x_before):
        _fail(f"{call} changed the features: they are D's, fixed; train only the probe")
    if isinstance(losses, torch.Tensor):
        losses = losses.detach().reshape(-1).tolist()
    try:
        losses = [float(v) for v in losses]
    except (TypeError, ValueError):
        _fail(f"{call} returned {type(losses).__name__}: return the list of the {spec.steps} losses (loss.item())")
    if len(losses) != spec.steps:
        _fail(f"{call} returned {len(losses)} losses: one per step, {spec.steps}")
    weights = _flat_params(probe)
    if torch.equal(start, weights):
        _fail(f"after {call} the probe's weights have not changed: make the optimizer over probe.parameters() and "
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
    return []


def probe_hint(value, expected, ref, key, features, classes):
    """The likely slip behind a wrong first loss of the probe, recomputed from the fixed probe."""
    prefix = key[:-len("_first_loss_output")]
    x = torch.tensor(ref[f"{prefix}_features"], dtype=torch.float64)
    y = torch.as_tensor(ref[f"{prefix}_labels"], dtype=torch.int64)
    probe = Probe(int(features), int(classes)).probe(int(ref["meta_weights_seed"]))
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


# ---------------------------------------------------------------------------
# Lab 2: slerp and the class-mean direction
# ---------------------------------------------------------------------------

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
        out = _tensor_result(impl.slerp(z0, z1, t), "slerp", (len(t), len(z0)),
                             f"{where}one point of {len(z0)} numbers per fraction t, for {len(t)} fractions")
        if not torch.isfinite(out).all():
            _fail(f"{where}your slerp gave {out[1, :3].tolist()}...: there the cosine is 1 (or rounds just above), "
                  "so arccos needs the cosine clamped to [-1, 1] and the formula is 0 / 0. Return lerp, "
                  "(1 - t) z0 + t z1, when sin(omega) is tiny (that is slerp's limit)")
        if not (torch.allclose(out[0], z0, rtol=1e-6, atol=1e-9) and torch.allclose(out[-1], z1, rtol=1e-6,
                                                                                        atol=1e-9)):
            unit = torch.allclose(out.norm(dim=1), torch.ones(len(out), dtype=out.dtype), rtol=1e-4)
            _fail(f"{where}your walk does not start at z0 (t = 0) and end at z1 (t = 1)"
                  + (": its points all have length 1. Normalise only to compute the angle omega, then interpolate "
                     "z0 and z1 themselves" if unit else ". slerp(t) = sin((1 - t) omega) / sin(omega) z0 + "
                     "sin(t omega) / sin(omega) z1"))
        if pair in ("random", "near") and torch.allclose(out, (1 - t[:, None]) * z0 + t[:, None] * z1, rtol=1e-6,
                                                         atol=1e-9):
            _fail(f"{where}that is lerp, the straight line (1 - t) z0 + t z1, which cuts through the inside of the "
                  "ball; slerp follows the arc: sin((1 - t) omega) / sin(omega) z0 + sin(t omega) / sin(omega) z1, "
                  "with cos(omega) = z0 . z1 / (|z0| |z1|)"
                  + (". Switch to lerp only where sin(omega) is tiny (below 1e-6, say)" if pair == "near" else ""))
        ref.expect(f"{key}_{pair}_output", out,
                   where + "your slerp differs from the reference (relative error {error:.1e}): omega is the angle "
                   "between z0 and z1, arccos of their normalised dot product clamped to [-1, 1]"
                   + ("; where sin(omega) is tiny, return lerp" if pair in ("parallel", "scaled") else ""))
    return []


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
            _fail("class_mean_direction changed z: compute the means without writing into it")
        out = _tensor_result(out, "class_mean_direction", (z.shape[1],),
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
            _fail(f"with no sample classified as 9, {call} raised {type(e).__name__} ({e}): raise ValueError "
                  "saying that no sample is classified as 9")
        _fail(f"with no sample classified as 9, {call} returned {_describe(out)}: raise ValueError saying that no "
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


# ---------------------------------------------------------------------------
# Lab 3: saliency
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Saliency:
    """saliency_map on a discriminator of digits and on one of colour images, both with fixed weights."""
    networks: tuple = ("digits", "colour")

    def required(self, key):
        return [((f"{key}_{name}{what}_output",), (kind,)) for name in self.networks
                for what, kind in (("", "close"), ("_total", "value"))]

    def answers(self, solution, key, gen, weights_seed, batch):
        answers = {}
        for name in self.networks:
            D, shape = _discriminator(name, weights_seed)
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
            D, _ = _discriminator(name, ref.weights_seed, dtype)
            x = ref.tensor(f"{key}_{name}_input").to(dtype)
            return D, x, x.clone(), _flat_params(D), impl.saliency_map(D, x)

        D, x, x_before, before, out = _in_float32_if_needed(run)
        _note_side_effects(notes, "saliency_map", D, "D")
        if not torch.equal(x.detach(), x_before):
            _fail("saliency_map changed the images it was given: work on a copy, "
                  "x = images.detach().clone().requires_grad_(True)")
        if x.requires_grad and not notes:
            notes.append("saliency_map turned on requires_grad on the caller's images: work on a copy "
                         "(images.detach().clone().requires_grad_(True)) so the caller's tensor stays as it was")
        _unchanged(D, before, "saliency_map", "D")
        if _has_gradients(D) and not any("D's parameters" in n for n in notes):
            notes.append("saliency_map left gradients in D's parameters (backward() fills every .grad): "
                         "torch.autograd.grad(total, x) computes only the input's gradient")
        n, c, h, w = x.shape
        if isinstance(out, torch.Tensor) and tuple(out.shape) == (n, c, h, w) and c > 1:
            _fail(f"saliency_map returned shape {tuple(out.shape)}: take the largest value over the channels "
                  f"(dim 1), for a map (N, H, W) = {(n, h, w)}")
        if isinstance(out, torch.Tensor) and (out.dim() == 0 or out.shape[0] != n):
            _fail(f"saliency_map returned shape {tuple(out.shape)}, not one map per image: is it a gradient with "
                  "respect to D's parameters? The saliency is the gradient of the scores with respect to the "
                  "input images")
        out = _tensor_result(out, "saliency_map", (n, h, w), "one map (H, W) per image")
        if (out < 0).any():
            _fail("your saliency map has negative values: it is the ABSOLUTE value of the gradient (.abs()), "
                  "then the largest over the channels")
        # The total first: its hint names the slip (the mean of the scores, a sigmoid), found by the grader.
        ref.expect(f"{key}_{name}_total_output", float(out.sum()),
                   f"on a {name} discriminator with fixed weights, your saliency maps add up to {{value:.6g}}, "
                   "expected {expected:.6g}. {hint}", kind="value", hint=("saliency", name))
        ref.expect(f"{key}_{name}_output", sampled(out),
                   f"on a {name} discriminator with fixed weights, your saliency differs from the reference "
                   "(relative error {error:.1e}): the absolute gradient of D's scores with respect to the input "
                   "images, the largest over the channels")
    return notes


def saliency_hint(value, expected, ref, key, name):
    """The likely slip behind wrong saliency totals, recomputed from the reference maps (grader side)."""
    prefix = key[:-len("_total_output")]
    x = torch.tensor(ref[f"{prefix}_input"], dtype=torch.float64)
    D, _ = _discriminator(str(name), int(ref["meta_weights_seed"]))
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
    """Two generators without BatchNorm: one making (1, 6, 6) images, one flat (N, 20) outputs."""
    return {"images": nn.Sequential(nn.Linear(4, 10), nn.Tanh(), nn.Linear(10, 36), nn.Tanh(),
                                    nn.Unflatten(1, (1, 6, 6))),
            "flat": nn.Sequential(nn.Linear(4, 12), nn.LeakyReLU(0.2), nn.Linear(12, 20))}


@dataclass(frozen=True)
class LatentSaliency:
    """latent_saliency on two small generators with fixed weights, for one latent coordinate each."""
    coordinates: tuple = (("images", 2), ("flat", 0))

    def generator(self, name, weights_seed):
        return _float64(small_generators()[name], weights_seed + 11 + len(name))

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
        def run(dtype):
            G = task.spec.generator(name, ref.weights_seed).to(dtype)
            z = ref.tensor(f"{key}_{name}_z").to(dtype)
            return G, z, z.clone(), _flat_params(G), impl.latent_saliency(G, z, coordinate)

        G, z, z_before, before, out = _in_float32_if_needed(run)
        _note_side_effects(notes, "latent_saliency", G, "G")
        if z.requires_grad and not any("caller's z" in n for n in notes):
            notes.append("latent_saliency turned on requires_grad on the caller's z: work on a copy")
        if not torch.equal(z.detach(), z_before):
            _fail("latent_saliency changed z: work on a copy, or build the direction as a new tensor")
        _unchanged(G, before, "latent_saliency", "G")
        with torch.no_grad():
            shape = tuple(G(z).shape)
        if isinstance(out, torch.Tensor) and tuple(out.shape) == tuple(z.shape) != shape:
            _fail(f"latent_saliency returned shape {tuple(out.shape)}, the shape of z: that is a gradient with "
                  "respect to z of one number (the summed image?). The result is how every PIXEL changes with one "
                  f"coordinate z[:, {coordinate}]: shaped like G(z), {shape}")
        out = _tensor_result(out, "latent_saliency", shape, "one value per pixel of G(z)")
        if (out < 0).any():
            _fail("your result has negative values: it is the ABSOLUTE change of each pixel (.abs())")
        ref.expect(f"{key}_{name}_output", out,
                   f"for coordinate {coordinate} of a generator with fixed weights, your result differs from the "
                   "reference (relative error {error:.1e}): |d G(z) / d z[:, j]| for each pixel, e.g. "
                   "torch.func.jvp(G, (z,), (v,)) with v one-hot in column j")
    return notes


def _note_side_effects(notes, function, network, name):
    """Notes (not failures) when the function changed the network's mode or switched off its gradients."""
    if not network.training and not any(f"{name}'s mode" in n for n in notes):
        notes.append(f"{function} put {name} in eval mode: leave its mode as it was given (the caller decides)")
    if not all(p.requires_grad for p in network.parameters()) and not any("requires_grad" in n and name in n
                                                                          for n in notes):
        notes.append(f"{function} switched off requires_grad on {name}'s parameters and left it off: "
                     "torch.autograd.grad(..., x) needs no freezing")
