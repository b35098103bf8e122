"""The checks of the WGAN-GP lab (its LAB, at the end), with the recipes of their reference answers.

The penalty and the critic's loss are pinned on a small critic with fixed
weights and fixed real images, fakes and fractions: their value and the
gradient they send into the critic's weights. Before comparing, the check asks
the student's own function questions any correct penalty answers the same way,
which name the classic slips without an answer: the same images cut into other
channels must give the same penalty (else the norm is over the wrong dims), lambda = 10
must give ten times lambda = 1, real == fake == the interpolates must give the
same penalty (else it is taken at the real or fake images), and the penalty
must reach the critic's weights (else create_graph=True is missing). The slips
that need the answer (a missing square, a sum, a one-sided penalty) are named
by `penalty_hint` in the grader, from the per-example gradient norms stored in
the reference. Nothing here computes a gradient penalty: these files are
released to students; the norms are recovered from the solution's own
penalties (`_norms_from_solution`).
"""

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from checks.core.device import expect_runs_on_any_device
from checks.core.generic import check_loss
from checks.core.helpers import describe_error, fail, flat_params, in_float32_if_needed
from checks.core.lab import Lab, Task
from checks.core.networks import with_fixed_weights
from checks.core.specs import Loss

LAMBDA = 10.0
SHAPE = (2, 6, 6)      # two channels: a norm over the pixels of each channel differs from the right one
STEEP = 4.0            # the critic scaled so: gradient norms above 1 (the plain critic's are below 1)


def make_critic(weights_seed, dtype=torch.float64):
    """A small convolutional critic of (2, 6, 6) images: no Sigmoid, as WGAN-GP's critic."""
    critic = nn.Sequential(nn.Conv2d(2, 3, 3), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(3 * 4 * 4, 1))
    return with_fixed_weights(critic, weights_seed + 5, dtype)


FLAT = 8               # the flat examples (N, 8) the docstring allows as well as images


def make_flat_critic(weights_seed, dtype=torch.float64):
    """A small critic of flat vectors (N, 8): the penalty's docstring promises those too."""
    return with_fixed_weights(nn.Sequential(nn.Linear(FLAT, 6), nn.LeakyReLU(0.2), nn.Linear(6, 1)),
                              weights_seed + 6, dtype)


def _scalar(value, function):
    if not isinstance(value, torch.Tensor):
        fail(f"{function} returned {type(value).__name__}: return a scalar tensor (its graph is what trains the "
              "critic)")
    if value.numel() != 1:
        fail(f"{function} returned a tensor of shape {tuple(value.shape)}: it must be one number, a mean over "
              "the batch")
    return value.reshape(())


def _grads(value, critic):
    """The gradient `value` sends into the critic's weights, flattened (zeros where it sends none)."""
    critic.zero_grad(set_to_none=True)
    value.backward()
    return torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).detach().reshape(-1).double().cpu()
                      for p in critic.parameters()])


def _norms_from_solution(penalty, critic, real, fake, epsilon):
    """Each example's gradient norm n_i, from the solution's penalties alone: with lam = 1 one example gives
    (n_i - 1)^2, and the critic doubled gives (2 n_i - 1)^2; together they fix n_i >= 0."""
    norms = []
    for i in range(len(real)):
        one = slice(i, i + 1)
        p = penalty(critic, real[one], fake[one], epsilon[one], lam=1.0).item()
        q = penalty(lambda x: 2 * critic(x), real[one], fake[one], epsilon[one], lam=1.0).item()
        candidates = [n for n in (1 + math.sqrt(p), 1 - math.sqrt(p)) if n >= 0]
        norms.append(min(candidates, key=lambda n: abs((2 * n - 1) ** 2 - q)))
    return np.array(norms)


@dataclass(frozen=True)
class Penalty:
    """gradient_penalty or wgan_critic_loss on a fixed critic, images, fakes and fractions."""
    function: str = "gradient_penalty"

    def required(self, key):
        return [((f"{key}_output",), ("value",)), ((f"{key}_grad_output",), ("close",)),
                ((f"{key}_steep_output",), ("value",)), ((f"{key}_flat_output",), ("value",))]

    def hint_keys(self, key):
        """Answers only the grader's hints read (to name a wrong value's slip): never compared."""
        return (f"{key}_norms_output", f"{key}_distance_output")

    def answers(self, solution, key, gen, weights_seed, batch):
        real = torch.rand(batch, *SHAPE, generator=gen, dtype=torch.float64) * 2 - 1
        fake = torch.rand(batch, *SHAPE, generator=gen, dtype=torch.float64) * 2 - 1
        epsilon = torch.rand(batch, generator=gen, dtype=torch.float64)
        critic = make_critic(weights_seed)
        value = getattr(solution.module, self.function)(critic, real, fake, epsilon, LAMBDA)
        answers = {f"{key}_real": real.numpy(), f"{key}_fake": fake.numpy(), f"{key}_epsilon": epsilon.numpy(),
                   f"{key}_output": np.float64(value.item()), f"{key}_grad_output": _grads(value, critic).numpy(),
                   f"{key}_norms_output": _norms_from_solution(solution.module.gradient_penalty, critic, real, fake,
                                                               epsilon)}
        steep = getattr(solution.module, self.function)(steep_critic(critic), real, fake, epsilon, LAMBDA)
        answers[f"{key}_steep_output"] = np.float64(steep.item())
        with torch.no_grad():
            answers[f"{key}_distance_output"] = np.float64(critic(real).mean() - critic(fake).mean())
        flat = {"flat_real": torch.rand(batch, FLAT, generator=gen, dtype=torch.float64) * 2 - 1,
                "flat_fake": torch.rand(batch, FLAT, generator=gen, dtype=torch.float64) * 2 - 1}
        answers.update({f"{key}_{k}": v.numpy() for k, v in flat.items()})
        answers[f"{key}_flat_output"] = np.float64(getattr(solution.module, self.function)(
            make_flat_critic(weights_seed), flat["flat_real"], flat["flat_fake"], epsilon, LAMBDA).item())
        return answers


def expect_flat_inputs_work(impl, function, ref, key, dtype):
    """`function` (gradient_penalty or wgan_critic_loss) on flat examples (N, 8), which its docstring allows."""
    f = getattr(impl, function)
    critic = make_flat_critic(ref.weights_seed, dtype)
    real, fake, epsilon = [ref.tensor(f"{key}_{name}").to(dtype) for name in ("flat_real", "flat_fake", "epsilon")]
    fix = ("reshape epsilon to as many dimensions as real has (epsilon.view(-1, *[1] * (real.dim() - 1))), not a "
           "hard-coded view(-1, 1, 1, 1), and take each example's norm over all its values (.flatten(1))")
    try:
        value = _scalar(f(critic, real, fake, epsilon, LAMBDA), function)
    except (RuntimeError, ValueError, IndexError) as e:
        fail(f"{function} works on images but fails on flat examples (N, {FLAT}), which its docstring allows "
             f"({describe_error(e, impl.__file__)}): {fix}")
    ref.expect(f"{key}_flat_output", value.item(),
               f"on flat examples (N, {FLAT}), which the docstring allows as well as images, {function} returned "
               f"{{value:.6g}}, expected {{expected:.6g}} (right on images): {fix}", kind="value")


def expect_penalty_runs_on_any_device(impl, task, function, ref):
    critic, (real, fake, epsilon) = make_critic(ref.weights_seed), _inputs(ref, task.name, torch.float64)
    return expect_runs_on_any_device(impl, task, function, lambda to: getattr(impl, function)(
        to(critic), to(real), to(fake), to(epsilon), LAMBDA))


def steep_critic(critic):
    """The critic times STEEP: its gradient norms are above 1, where a one-sided penalty shows."""
    return nn.Sequential(critic, _Scale(STEEP))


class _Scale(nn.Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return self.factor * x


def _inputs(ref, key, dtype):
    return [ref.tensor(f"{key}_{name}").to(dtype) for name in ("real", "fake", "epsilon")]


def check_gradient_penalty(impl, ref, task):
    key, f = task.name, impl.gradient_penalty

    def run(dtype):
        critic = make_critic(ref.weights_seed, dtype)
        real, fake, epsilon = _inputs(ref, key, dtype)
        return critic, real, fake, epsilon, f(critic, real, fake, epsilon, LAMBDA)

    critic, real, fake, epsilon, value = in_float32_if_needed(run)
    notes = []
    if not torch.equal(epsilon, ref.tensor(f"{key}_epsilon").to(epsilon.dtype)) or epsilon.dim() != 1:
        fail("gradient_penalty changed the epsilon it was given in place (unsqueeze_, resize_ ...): use "
              "epsilon.reshape(...) or epsilon.view(...), which return a new tensor")
    if any(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in critic.parameters()):
        notes.append("gradient_penalty left gradients in the critic's .grad (backward() fills them): take the "
                     "gradient with torch.autograd.grad(..., create_graph=True), which fills nothing; a training "
                     "loop that zeroes gradients before the forward pass would add these to its step")
    value = _scalar(value, "gradient_penalty")
    if not value.requires_grad:
        fail("your penalty does not depend on the critic's weights, so the optimizer cannot use it: take the "
              "gradient with torch.autograd.grad(..., create_graph=True), which keeps the graph of the gradient "
              "itself (and do not .detach() or .item() it)")

    def again(*args, lam=LAMBDA):
        return _scalar(f(*args, lam), "gradient_penalty").item()

    p = value.item()
    if not math.isclose(again(critic, real, fake, epsilon), p, rel_tol=1e-9, abs_tol=1e-12):
        fail("two calls with the same inputs gave different penalties: use the epsilon you are given, do not "
              "draw your own fractions")
    p1 = again(critic, real, fake, epsilon, lam=1.0)
    if not math.isclose(p, LAMBDA * p1, rel_tol=1e-6, abs_tol=1e-12):
        fail("with lam=10 your penalty is {:.6g}, with lam=1 {:.6g}: it must be lam times the mean of "
              "(||grad|| - 1)^2{}".format(p, p1, " (lam is not used)" if math.isclose(p, p1, rel_tol=1e-9) else ""))
    # With real == fake == some images c, any interpolation is c itself: the penalty at c, however it is written.
    weight = epsilon.reshape(-1, 1, 1, 1)
    places = {"on the interpolates": weight * real + (1 - weight) * fake, "at the real images": real,
              "at the fake images": fake,
              "on points with real and fake swapped, epsilon * fake + (1 - epsilon) * real": weight * fake + (
                  1 - weight) * real}
    taken = [where for where, c in places.items() if math.isclose(again(critic, c, c, epsilon), p, rel_tol=1e-6,
                                                                   abs_tol=1e-12)]
    if "on the interpolates" not in taken:
        fail(f"your penalty is taken {taken[0] if taken else 'somewhere else'}: it belongs on the interpolates "
              "x_hat = epsilon * real + (1 - epsilon) * fake, one fraction epsilon_i per example, with the epsilon "
              "you are given (do not draw your own)")
    # The same images cut into 4 channels of 3 x 6 (the critic puts them back): a norm over every value of
    # each example does not change; a norm over the channels, or over the pixels of each channel, does.
    recut = nn.Sequential(nn.Unflatten(1, SHAPE), critic)
    recut[0] = nn.Sequential(nn.Flatten(), nn.Unflatten(1, SHAPE))
    shape = (len(real), 4, 3, 6)
    if not math.isclose(again(recut, real.reshape(shape), fake.reshape(shape), epsilon), p, rel_tol=1e-6,
                        abs_tol=1e-12):
        fail("the same images cut into 4 channels of 3 x 6 pixels (the critic puts them back together) change "
              "your penalty: the norm must be over ALL the values of each example at once "
              "(gradient.flatten(1).norm(dim=1)), not over the channels or over each channel's pixels")
    ref.expect(f"{key}_output", p, "your penalty is {value:.6g}, expected {expected:.6g}. {hint}", kind="value",
               hint=("penalty",))
    ref.expect(f"{key}_steep_output", again(steep_critic(critic), real, fake, epsilon),
               f"for a critic {STEEP:g} times steeper (gradient norms above 1), your penalty is {{value:.6g}}, expected "
               "{expected:.6g}: WGAN-GP penalises norms above 1 as well as below, (||grad|| - 1) ** 2 both ways",
               kind="value")
    ref.expect(f"{key}_grad_output", _grads(value, critic),
               "your penalty's value is right, but the gradient it sends into the critic's weights differs "
               "(relative error {error:.1e}): keep the whole computation differentiable (create_graph=True)")
    expect_flat_inputs_work(impl, "gradient_penalty", ref, key, real.dtype)
    return notes + expect_penalty_runs_on_any_device(impl, task, "gradient_penalty", ref)


def penalty_hint(value, expected, ref, key):
    """The likely slip behind a wrong penalty, from the per-example gradient norms of the reference."""
    n = np.asarray(ref[key[:-len("_output")] + "_norms_output"], dtype=np.float64)
    slips = {
        "the penalty without the square: it is (||grad|| - 1) ** 2": LAMBDA * np.mean(np.abs(n - 1)),
        "a sum over the examples: take their mean": LAMBDA * np.sum((n - 1) ** 2),
        "the squared norm: ||grad||_2 is the square root of the sum of squares (.norm())":
            LAMBDA * np.mean((n ** 2 - 1) ** 2),
        "a one-sided penalty, max(0, ||grad|| - 1) ** 2: WGAN-GP penalises norms below 1 too":
            LAMBDA * np.mean(np.maximum(n - 1, 0) ** 2),
        "the norm of the whole batch's gradient: take one norm per example (dims 1, 2, 3)":
            LAMBDA * (np.sqrt(np.sum(n ** 2)) - 1) ** 2,
        f"the gradient of the MEAN score, {len(n)} times too small: differentiate the sum of the scores":
            LAMBDA * np.mean((n / len(n) - 1) ** 2),
    }
    for slip, slipped in slips.items():
        if math.isclose(value, slipped, rel_tol=1e-5):
            return f"That is {slip}."
    return "The penalty is lam * mean over the examples of (||grad of critic(x_hat)|| - 1) ** 2."


def check_wgan_critic_loss(impl, ref, task):
    key = task.name

    def run(dtype):
        critic = make_critic(ref.weights_seed, dtype)
        real, fake, epsilon = _inputs(ref, key, dtype)
        return critic, impl.wgan_critic_loss(critic, real, fake, epsilon, LAMBDA)

    critic, value = in_float32_if_needed(run)
    value = _scalar(value, "wgan_critic_loss")
    before = flat_params(critic)
    real, fake, epsilon = _inputs(ref, key, value.dtype)
    losses = {lam: impl.wgan_critic_loss(critic, real, fake, epsilon, lam).item() for lam in (0.0, 1.0, LAMBDA)}
    if math.isclose(losses[LAMBDA], losses[1.0], rel_tol=1e-9, abs_tol=1e-12):
        fail("your critic loss is the same for lam=0, 1 and 10: is the gradient penalty added, with lam passed on "
              "(gradient_penalty(critic, real, fake, epsilon, lam))?" if math.isclose(losses[0.0], losses[1.0],
                                                                                      rel_tol=1e-9, abs_tol=1e-12)
              else "your critic loss is the same for lam=1 and lam=10: pass lam on to gradient_penalty(..., lam)")
    if not math.isclose(losses[LAMBDA] - losses[0.0], LAMBDA * (losses[1.0] - losses[0.0]), rel_tol=1e-6,
                        abs_tol=1e-12):
        fail("your critic loss does not grow with lam as lam times the penalty: the loss is mean critic(fake) - "
              "mean critic(real) + gradient_penalty(critic, real, fake, epsilon, lam), with the lam given")
    ref.expect(f"{key}_output", value.item(), "your critic loss is {value:.6g}, expected {expected:.6g}. {hint}",
               kind="value", hint=("critic",))
    if not value.requires_grad:
        fail("your critic loss does not depend on the critic's weights: return the tensor, not .item()")
    ref.expect(f"{key}_grad_output", _grads(value, critic),
               "your critic loss has the right value but sends a different gradient into the critic (relative "
               "error {error:.1e}): is the penalty's gradient taken with create_graph=True?")
    if not torch.equal(before, flat_params(critic)):
        fail("wgan_critic_loss changed the critic's weights: it returns the loss; the training loop steps")
    ref.expect(f"{key}_steep_output", impl.wgan_critic_loss(steep_critic(critic), real, fake, epsilon, LAMBDA).item(),
               f"for a critic {STEEP:g} times steeper, your critic loss is {{value:.6g}}, expected {{expected:.6g}}: "
               "the penalty is (||grad|| - 1) ** 2 whichever side of 1 the norm is", kind="value")
    expect_flat_inputs_work(impl, "wgan_critic_loss", ref, key, real.dtype)
    return expect_penalty_runs_on_any_device(impl, task, "wgan_critic_loss", ref)


def critic_hint(value, expected, ref, key):
    prefix = key[:-len("_output")]
    distance = float(ref[f"{prefix}_distance_output"])
    penalty = expected + distance
    slips = {
        "the Wasserstein estimate's sign flipped: the critic MINIMISES mean f(fake) - mean f(real) "
        "(it wants real images scored high)": distance + penalty,
        "the loss without the gradient penalty": -distance,
        "the penalty without lambda: pass lam on to gradient_penalty": -distance + penalty / LAMBDA,
    }
    for slip, slipped in slips.items():
        if math.isclose(value, slipped, rel_tol=1e-6, abs_tol=1e-12):
            return f"That is {slip}."
    return "The loss is mean critic(fake) - mean critic(real) + gradient_penalty(critic, real, fake, epsilon, lam)."


LAB = Lab(
    name="wgan_gp", title="WGAN-GP: a critic, the gradient penalty and a Wasserstein estimate", uses=("gan_pytorch",),
    hints={"penalty": penalty_hint, "critic": critic_hint}, tasks=(
        Task("gradient_penalty", 3, check=check_gradient_penalty, spec=Penalty()),
        Task("wgan_critic_loss", 2, check=check_wgan_critic_loss, builds_on=("gradient_penalty",),
             spec=Penalty("wgan_critic_loss")),
        Task("wgan_generator_loss", 1, check=check_loss, spec=Loss(
            ("scores_fake",), target_args=(), hint="G wants the critic to score its fakes high: -mean(scores_fake)")),
        Task("wgan_question", 2, kind="written"),
    ))
