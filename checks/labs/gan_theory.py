"""The checks of the theory lab (its LAB, at the end), with the recipes of their reference answers.

Each spec below says how its function is called and which answers the
solution gives (`answers`, run by tools/make_reference.py); each check calls
the student's function the same way and hands every value to `ref.expect`.
Besides the comparisons, the checks look at what the code *does*, which needs
no answer: D* and JSD have properties any correct version has (symmetry, 1/2
where the densities are equal), and a training step is run with optimisers and
samplers that record the order of the steps and draws, so "the generator's step
is inside the k loop" is said in those words, not as a difference of numbers.
A FAIL found that way only ever fails the student's own code.
"""

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from checks.core.device import expect_runs_on_any_device
from checks.core.helpers import fail, flat_params, run_in_float32_if_needed
from checks.core.lab import Lab, Task
from checks.core.networks import load_fixed_weights, param_layers
from gan_assignment.provided import gan_theory as theory

LN2 = math.log(2.0)
# D* is compared where p_data + p_g is at least this: densities that matter. Below it (tails of
# 1e-300), any reasonable guard against 0/0 is fine; where both are exactly 0, D* must be 1/2.
DENSITY_FLOOR = 1e-6
PAIRS = {"mixtures": "two mixtures of Gaussians", "apart": "a narrow density far from a wide one",
         "empty": "two narrow densities, both exactly 0 far from them"}


def _as_number(value, name):
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            fail(f"{name} returned a tensor of shape {tuple(value.shape)}: it must be one number")
        return float(value.detach().cpu().reshape(()))
    try:
        return float(value)
    except (TypeError, ValueError):
        fail(f"{name} returned {type(value).__name__}: it must be a number (a float or a scalar tensor)")


# ---------------------------------------------------------------------------
# D* and the JS divergence: functions of densities on a grid
# ---------------------------------------------------------------------------

def _random_mixture(gen, modes, spread, std_low, std_high):
    means = tuple(float(v) for v in (torch.rand(modes, generator=gen, dtype=torch.float64) * 2 - 1) * spread)
    std = float(torch.rand((), generator=gen, dtype=torch.float64) * (std_high - std_low) + std_low)
    return theory.Mixture(means, std)


@dataclass(frozen=True)
class Densities:
    """A function of two densities on a grid, compared with the solution's value on fixed densities.

    `pairs`: names of the pairs of densities checked. "mixtures": two random mixtures;
    "apart": a narrow density whose far side underflows to exact zeros, against a wide
    one; "empty": densities with points where both are exactly 0 (D* only).
    """
    pairs: tuple
    grid_points: int = 401
    with_grid: bool = False       # the function takes the grid x as its third argument

    def inputs(self, gen, batch):
        x = theory.grid(-5.0, 5.0, self.grid_points + 2 * batch)   # the hidden file's grid differs
        values = {"x": x}
        for name in self.pairs:
            if name == "mixtures":
                p = _random_mixture(gen, 3, 2.5, 0.3, 0.6).density(x)
                q = _random_mixture(gen, 2, 2.5, 0.4, 0.8).density(x)
            elif name == "apart":
                p = theory.Mixture((-1.0 - float(torch.rand((), generator=gen)),), 0.05).density(x)
                q = theory.Mixture((1.0,), 0.7).density(x)
            else:   # "empty": two narrow densities, zero far from both
                p = theory.Mixture((-1.5,), 0.05).density(x)
                q = theory.Mixture((1.5 + float(torch.rand((), generator=gen)),), 0.05).density(x)
            values[f"{name}_p"], values[f"{name}_q"] = p, q
        return values

    def required(self, key):
        return [((f"{key}_{name}_output",), ("value",) if self.with_grid else ("close",)) for name in self.pairs]

    def answers(self, solution, key, gen, weights_seed, batch):
        values = self.inputs(gen, batch)
        answers = {f"{key}_{name}": v.numpy() for name, v in values.items() if name != "x" or self.with_grid}
        function = getattr(solution.module, key)
        for name in self.pairs:
            args = (values[f"{name}_p"], values[f"{name}_q"]) + ((values["x"],) if self.with_grid else ())
            out = function(*args)
            answers[f"{key}_{name}_output"] = np.float64(float(out)) if self.with_grid else \
                out[mattering(*args)].numpy()
        return answers


def mattering(p, q):
    """Where D* is compared: the points where p + q >= DENSITY_FLOOR."""
    return (p + q) >= DENSITY_FLOOR


def check_optimal_discriminator(impl, ref, task):
    f = impl.optimal_discriminator
    simple = f(torch.tensor([3.0, 1.0, 2.0, 0.0], dtype=torch.float64),
               torch.tensor([1.0, 3.0, 2.0, 5.0], dtype=torch.float64))
    if not isinstance(simple, torch.Tensor):
        fail(f"optimal_discriminator returned {type(simple).__name__}: it must return a tensor")
    if tuple(simple.shape) != (4,):
        fail(f"optimal_discriminator on densities of shape (4,) returned shape {tuple(simple.shape)}: "
              "D*(x) has one value per point, the shape of its inputs")
    got = simple.detach().double().cpu().tolist()
    if all(math.isclose(g, e, abs_tol=1e-9) for g, e in zip(got, (0.25, 0.75, 0.5, 1.0))):
        fail("your D* is 1 - D*: the densities are swapped. Where p_data is larger, D* must be above 1/2: "
              "D*(x) = p_data(x) / (p_data(x) + p_g(x))")
    if not all(math.isclose(g, e, abs_tol=1e-9) for g, e in zip(got, (0.75, 0.25, 0.5, 0.0))):
        close = all(math.isclose(g, e, abs_tol=1e-4) for g, e in zip(got, (0.75, 0.25, 0.5, 0.0)))
        fail(f"with p_data = [3, 1, 2, 0] and p_g = [1, 3, 2, 5], D* should be [0.75, 0.25, 0.5, 0], "
              f"yours is {[float(f'{g:.12g}') for g in got]}: D*(x) = p_data(x) / (p_data(x) + p_g(x))"
              + (". Yours is off by a hair: did you add a small epsilon? Only where both densities are "
                 "exactly 0 does D* need special care (1/2 there)" if close else ""))
    for name in task.spec.pairs:
        p, q = ref.tensor(f"{task.name}_{name}_p"), ref.tensor(f"{task.name}_{name}_q")
        out = f(p, q)
        if name == "empty":
            both = (p == 0) & (q == 0)
            values = out.detach().double().cpu()[both]
            if not torch.isfinite(values).all() or not torch.allclose(values, torch.full_like(values, 0.5)):
                fail(f"where both densities are 0 ({int(both.sum())} of the points checked), D* must be 1/2: "
                      f"D has nothing to tell them apart with. Yours gives {values[:3].tolist()}... "
                      "(0 / 0 is nan: use torch.where to put 1/2 there)")
        out = out.detach().double().cpu()
        if out.shape != p.shape:
            fail(f"on densities of shape {tuple(p.shape)}, optimal_discriminator returned shape {tuple(out.shape)}")
        ref.expect(f"{task.name}_{name}_output", out[mattering(p, q)],
                   f"on {PAIRS[name]}, your D* differs from the reference where the densities are not tiny "
                   f"(p_data + p_g >= {DENSITY_FLOOR:g}; relative error {{error:.1e}}). D*(x) = p_data(x) / "
                   "(p_data(x) + p_g(x)), exactly: no epsilon added")
    p, q = ref.tensor(f"{task.name}_empty_p"), ref.tensor(f"{task.name}_empty_q")
    # "Any shape", says the docstring: the same points as a grid of 3 rows must give the same values, in place.
    rows = (3, len(p) // 3)
    grid = f(p[:rows[0] * rows[1]].reshape(rows), q[:rows[0] * rows[1]].reshape(rows))
    if not isinstance(grid, torch.Tensor) or tuple(grid.shape) != rows or not torch.allclose(
            grid.detach().double().cpu().reshape(-1), f(p, q).detach().double().cpu()[:rows[0] * rows[1]],
            equal_nan=True):
        fail(f"on densities shaped {rows} (a grid of points: the docstring allows any shape), optimal_discriminator "
             f"returned {tuple(grid.shape) if isinstance(grid, torch.Tensor) else type(grid).__name__} or other values "
             "than on the same points in a row: compute elementwise (torch.where), without assuming one dimension")
    return []


def check_js_divergence(impl, ref, task):
    f, key = impl.js_divergence, task.name
    x = ref.tensor(f"{key}_x")
    p, q = ref.tensor(f"{key}_mixtures_p"), ref.tensor(f"{key}_mixtures_q")
    same = _as_number(f(p, p.clone(), x), "js_divergence")
    if not math.isfinite(same) or abs(same) > 1e-9:
        why = (": that is -log 2, so the mixture is missing its 1/2 - it is M = (p + q) / 2, with the 1/2"
               if math.isclose(same, -LN2, rel_tol=1e-3) else "")
        fail(f"JSD(p || p) must be 0 (a density does not diverge from itself); yours gives {same:.4g}{why}")
    forward, backward = _as_number(f(p, q, x), "js_divergence"), _as_number(f(q, p, x), "js_divergence")
    if not (math.isfinite(forward) and math.isfinite(backward)):
        fail(f"your JSD of two mixtures of Gaussians is {forward:.6g} for (p, q) and {backward:.6g} for (q, p): "
              "densities of 1e-300 in the tails make log(p / M) or a ratio like 1 - D* round to 0 or inf. "
              "Compute M = (p + q) / 2 and each term as torch.xlogy(p, p / M) (0 where p is 0)")
    if not math.isclose(forward, backward, rel_tol=1e-6, abs_tol=1e-12):
        fail(f"JSD is symmetric, but yours gives {forward:.6g} for (p, q) and {backward:.6g} for (q, p). "
              "Is it KL(p || q)? JSD compares each density with their mixture M = (p + q) / 2: "
              "1/2 KL(p || M) + 1/2 KL(q || M)")
    ref.expect(f"{key}_mixtures_output", forward,
               "on two mixtures of Gaussians, your JSD is {value:.6g}, expected {expected:.6g}. {hint}",
               kind="value", hint=("jsd",))
    p, q = ref.tensor(f"{key}_apart_p"), ref.tensor(f"{key}_apart_q")
    apart = _as_number(f(p, q, x), "js_divergence")
    if not math.isfinite(apart):
        fail(f"your JSD is {apart} for a density that is exactly 0 at some points: there p * log(p / M) is "
              "0 * log(0) = nan in floating point, but its limit is 0. Use torch.xlogy(p, p / m) - or "
              "torch.xlogy(p, p) - torch.xlogy(p, m) - which is 0 where p is 0")
    ref.expect(f"{key}_apart_output", apart,
               "on a density with exact zeros, your JSD is {value:.6g}, expected {expected:.6g}. {hint}",
               kind="value", hint=("jsd",))
    return []


def jsd_hint(value, expected, ref, key):
    """The likely slip behind a wrong JSD, recognised by how its value relates to the right one."""
    prefix = key[:-len("_output")]
    x = torch.tensor(ref[prefix.rsplit("_", 1)[0] + "_x"], dtype=torch.float64)
    p = torch.tensor(ref[f"{prefix}_p"], dtype=torch.float64)
    q = torch.tensor(ref[f"{prefix}_q"], dtype=torch.float64)
    dx = float(x[1] - x[0])
    if math.isclose(value, expected / LN2, rel_tol=1e-4):
        return "That is the JSD in bits: use the natural logarithm (torch.log), as the paper's -log 4 does."
    if math.isclose(value, expected - LN2, rel_tol=1e-3, abs_tol=1e-4):
        return "That is log 2 too little: the mixture is M = (p + q) / 2, with the 1/2."
    if math.isclose(value, 2 * expected, rel_tol=1e-4):
        return "That is twice the JSD: it is the AVERAGE of the two KL terms, 1/2 KL(p || M) + 1/2 KL(q || M)."
    if math.isclose(value, expected / dx, rel_tol=1e-3):
        return f"That is the sum without dx = {dx:.4g}: integrate (torch.trapezoid(y, x)), do not just add up."
    kl = float(torch.trapezoid(torch.xlogy(p, p) - torch.xlogy(p, q), x))
    if math.isclose(value, kl, rel_tol=1e-4):
        return "That is KL(p || q): JSD compares each density with the mixture M = (p + q) / 2."
    return ("JSD = 1/2 KL(p || M) + 1/2 KL(q || M) with M = (p + q) / 2, each KL integrated over x by the "
            "trapezoidal rule, natural logarithms.")


# ---------------------------------------------------------------------------
# Training steps: run with recording optimisers and samplers
# ---------------------------------------------------------------------------

class Recorder:
    """The optimisers' steps and the samplers' draws of a training step, in order.

    The samplers serve fixed minibatches, one per call (the n-th call of sample_noise
    always gets the n-th noise batch), so the result does not depend on whether data
    or noise is drawn first, only on how many of each.
    """

    def __init__(self, noise, data=None):
        self.noise, self.data = noise, data
        self.events, self.sizes = [], []
        self.calls = {"noise": 0, "data": 0}

    def sampler(self, kind):
        batches = self.noise if kind == "noise" else self.data

        def sample(m):
            self.sizes.append(m)
            i = self.calls[kind]
            self.calls[kind] += 1
            self.events.append(kind)
            batch = batches[i % len(batches)]
            return batch.clone() if m == len(batch) else batch[torch.arange(int(m)) % len(batch)].clone()
        return sample

    def watch(self, optimizer, label):
        original = optimizer.step

        def step(*args, **kwargs):
            self.events.append(label)
            return original(*args, **kwargs)
        optimizer.step = step
        return optimizer

    def steps(self):
        return "".join(e for e in self.events if e in ("D", "G"))


@dataclass(frozen=True)
class Algorithm1:
    """algorithm1_step in several settings, from fixed weights, with fixed minibatches and plain SGD.

    `settings`: ((label, k, g_steps, saturating, iterations), ...). The answers: D's and
    G's parameters after each iteration, and the two losses it returned.
    """
    settings: tuple = (("paper", 1, 1, False, 2), ("k3", 3, 1, False, 2), ("g3", 1, 3, False, 1),
                       ("saturating", 1, 1, True, 1))
    noise_dim: int = 2
    hidden: int = 6
    lr: float = 0.1

    def networks(self, weights_seed, dtype=torch.float64):
        G = theory.make_1d_generator(self.noise_dim, self.hidden)
        D = theory.make_1d_discriminator(self.hidden)
        load_fixed_weights(param_layers(G), weights_seed)
        load_fixed_weights(param_layers(D), weights_seed + 1)
        return D.to(dtype), G.to(dtype)

    def run(self, step, ref_arrays, key, setting, weights_seed, batch, dtype=torch.float64):
        """Run `step` as the check does; returns (recorder, (D params, G params) at the start,
        [(D params, G params, (d_loss, g_loss)) per iteration])."""
        label, k, g_steps, saturating, iterations = setting
        D, G = self.networks(weights_seed, dtype)
        recorder = Recorder([torch.as_tensor(b, dtype=dtype) for b in ref_arrays[f"{key}_{label}_noise"]],
                            [torch.as_tensor(b, dtype=dtype) for b in ref_arrays[f"{key}_{label}_data"]])
        d_opt = recorder.watch(torch.optim.SGD(D.parameters(), lr=self.lr), "D")
        g_opt = recorder.watch(torch.optim.SGD(G.parameters(), lr=self.lr), "G")
        start = (flat_params(D), flat_params(G))
        results = []
        for _ in range(iterations):
            losses = step(D, G, d_opt, g_opt, recorder.sampler("data"), recorder.sampler("noise"), batch,
                          k=k, g_steps=g_steps, saturating=saturating)
            results.append((flat_params(D), flat_params(G), losses))
        return recorder, start, results

    def required(self, key):
        return [((f"{key}_{label}_{what}{i}_output",), ("close",)) for label, _, _, _, iterations in self.settings
                for i in range(1, iterations + 1) for what in ("d", "g", "losses")]

    def answers(self, solution, key, gen, weights_seed, batch):
        answers = {}
        for setting in self.settings:
            label, k, g_steps, _, iterations = setting
            answers[f"{key}_{label}_noise"] = torch.rand(iterations * (k + g_steps), batch, self.noise_dim,
                                                         generator=gen, dtype=torch.float64).numpy() * 2 - 1
            answers[f"{key}_{label}_data"] = (torch.randn(iterations * k, batch, 1, generator=gen,
                                                          dtype=torch.float64) * 0.5 + 1.0).numpy()
            _, _, results = self.run(solution.module.algorithm1_step, answers, key, setting, weights_seed, batch)
            for i, (d, g, losses) in enumerate(results, start=1):
                answers[f"{key}_{label}_d{i}_output"] = d.numpy()
                answers[f"{key}_{label}_g{i}_output"] = g.numpy()
                answers[f"{key}_{label}_losses{i}_output"] = np.array([float(v) for v in losses])
        return answers


def check_algorithm1_step(impl, ref, task):
    spec, key = task.spec, task.name
    for setting in spec.settings:
        label, k, g_steps, saturating, iterations = setting
        call = f"algorithm1_step(..., batch_size={ref.batch}, k={k}, g_steps={g_steps}, saturating={saturating})"
        try:
            recorder, (start_d, start_g), results = run_in_float32_if_needed(
                lambda dtype: spec.run(impl.algorithm1_step, ref, key, setting, ref.weights_seed,
                                       ref.batch, dtype))
        except RuntimeError as e:
            if "does not require grad" in str(e):
                fail(f"{call} raised `{e}` in a second iteration: did the generator's step leave D frozen "
                      "(requires_grad_(False))? Turn it back on after G's step, or do not freeze D at all")
            raise
        _expect_structure(recorder, call, k, g_steps, iterations, ref.batch)
        for net, start, after, optimizer in (("D", start_d, results[0][0], "d_optimizer"),
                                             ("G", start_g, results[0][1], "g_optimizer")):
            if torch.equal(start, after):
                fail(f"after one iteration of {call}, {net}'s parameters have not changed at all: did {net}'s loss "
                      f"reach them? Call loss.backward() after {optimizer}.zero_grad() and before "
                      f"{optimizer}.step()" + (", and do not .detach() G(z) in G's own step" if net == "G" else ""))
        for i, (d, g, losses) in enumerate(results, start=1):
            when = "after one iteration" if i == 1 else "after a second iteration (the first one matched)"
            carry = {net: "" if i == 1 else (
                f" Something carried over from the first iteration: most often gradients left in {net}'s .grad "
                f"by the other network's step. Zero {net}'s gradients right before each backward pass of {net}'s "
                f"loss ({net.lower()}_optimizer.zero_grad())" + (", or turn D's gradients off during G's step."
                                                                    if net == "D" else ", or detach G(z) in D's step."))
                for net in ("D", "G")}
            try:
                pair = [float(v) for v in losses]
            except (TypeError, ValueError):
                pair = []
            if len(pair) != 2:
                fail(f"{call} returned {losses!r}: it must return (d_loss, g_loss), two numbers")
            ref.expect(f"{key}_{label}_d{i}_output", d,
                       f"{when} of {call}, D's parameters differ from the reference (relative error {{error:.1e}}). "
                       "D descends -(mean log D(x) + mean log(1 - D(G(z)))): the SUM of the two means, on a fresh "
                       "data and noise minibatch per step, with d_optimizer.zero_grad() before backward." + carry["D"])
            ref.expect(f"{key}_{label}_g{i}_output", g,
                       f"{when} of {call}, D's parameters match but G's differ (relative error {{error:.1e}}). "
                       f"G descends {'mean log(1 - D(G(z)))' if saturating else '-mean log D(G(z))'} on a fresh "
                       "noise minibatch, with g_optimizer.zero_grad() before backward (D's step adds gradients "
                       "to G unless it uses G(z).detach())." + carry["G"])
            ref.expect(f"{key}_{label}_losses{i}_output", torch.tensor(pair, dtype=torch.float64),
                       f"{when} of {call}, the parameters match but the losses returned differ (relative error "
                       "{error:.1e}): return (d_loss, g_loss) of the LAST D step and the LAST G step, each as "
                       "computed before its update (loss.item()).")
    return []


def _expect_structure(recorder, call, k, g_steps, iterations, batch):
    """What the step did, in order: Algorithm 1's structure, said in words when it is not."""
    expected = ("D" * k + "G" * g_steps) * iterations
    steps = recorder.steps()
    if steps != expected:
        shown = ", ".join(steps[:12]) + (", ..." if len(steps) > 12 else "")
        if steps.count("D") == k * iterations and steps.count("G") == g_steps * iterations * k and k > 1:
            reason = "the generator's step is inside the k loop: it must come after all k discriminator steps"
        elif steps.count("G") > g_steps * iterations:
            reason = ("the generator's step ran more often than g_steps times per iteration (is it inside the k "
                      "loop?); Algorithm 1 takes k discriminator steps, THEN the generator's step")
        elif steps.count("D") > k * iterations:
            reason = ("d_optimizer stepped in the generator's step: only g_optimizer.step() belongs there "
                      "(D does not change while G learns)")
        else:
            reason = f"Algorithm 1 steps D k={k} times, then G g_steps={g_steps} time(s)"
        fail(f"per call of {call}, your code stepped the optimisers in the order {shown or 'never'}; expected "
              f"{', '.join(expected[:len(expected) // iterations])}: {reason}")
    wrong_size = [m for m in recorder.sizes if m != batch]
    if wrong_size:
        fail(f"{call} drew a minibatch of {wrong_size[0]}: draw batch_size = m points (sample_data(batch_size)) "
              "and noise vectors (sample_noise(batch_size))")
    noise, data = recorder.calls["noise"], recorder.calls["data"]
    if data != k * iterations:
        fail(f"one call of {call} drew {data // iterations} data minibatches: Algorithm 1 draws one per "
              f"discriminator step ({k})")
    if noise != (k + g_steps) * iterations:
        reused = noise == k * iterations
        fail(f"one call of {call} drew {noise // iterations} noise minibatches; Algorithm 1 draws "
              f"{k + g_steps}: one per discriminator step and one per generator step"
              + (". The generator's step reuses the last D step's noise: draw a fresh minibatch "
                 "(sample_noise(batch_size)) for it" if reused else ""))


# ---------------------------------------------------------------------------
# The inference network's step
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class EncoderStep:
    """encoder_step from fixed weights, twice, with fixed noise and plain SGD; the answers are E's parameters
    and the losses it returned."""
    noise_dim: int = 3
    image_dim: int = 8
    steps: int = 2
    lr: float = 0.1

    def networks(self, weights_seed, dtype=torch.float64):
        E = theory.make_encoder(self.noise_dim, image_dim=self.image_dim, hidden=(6,))
        G = nn.Sequential(nn.Linear(self.noise_dim, self.image_dim), nn.Tanh())
        load_fixed_weights(param_layers(E), weights_seed + 2)
        load_fixed_weights(param_layers(G), weights_seed + 3)
        return E.to(dtype), G.to(dtype)

    def run(self, step, noise, weights_seed, batch, dtype=torch.float64, to=lambda thing: thing):
        E, G = map(to, self.networks(weights_seed, dtype))
        g_before = flat_params(G)
        recorder = Recorder([to(torch.as_tensor(b, dtype=dtype)) for b in noise])
        optimizer = torch.optim.SGD(E.parameters(), lr=self.lr)
        results = [(step(E, G, optimizer, recorder.sampler("noise"), batch), flat_params(E)) for _ in range(self.steps)]
        return recorder, results, (g_before, G)

    def required(self, key):
        return [((f"{key}_{what}{i}_output",), ("close",) if what == "e" else ("value",))
                for i in range(1, self.steps + 1) for what in ("loss", "e")]

    def answers(self, solution, key, gen, weights_seed, batch):
        noise = torch.rand(self.steps, batch, self.noise_dim, generator=gen, dtype=torch.float64) * 2 - 1
        answers = {f"{key}_noise": noise.numpy()}
        _, results, _ = self.run(solution.module.encoder_step, noise, weights_seed, batch)
        for i, (loss, e) in enumerate(results, start=1):
            answers[f"{key}_loss{i}_output"] = np.float64(float(loss))
            answers[f"{key}_e{i}_output"] = e.numpy()
        return answers


def check_encoder_step(impl, ref, task):
    spec, key = task.spec, task.name
    noise = ref[f"{key}_noise"]
    recorder, results, (g_before, G) = run_in_float32_if_needed(
        lambda dtype: spec.run(impl.encoder_step, noise, ref.weights_seed, ref.batch, dtype))
    if not torch.equal(g_before, flat_params(G)):
        fail("encoder_step changed the generator: G is trained already and stays fixed; only E's optimizer steps")
    if recorder.calls["noise"] != spec.steps or any(m != ref.batch for m in recorder.sizes):
        fail(f"encoder_step drew {recorder.calls['noise'] / spec.steps:g} noise minibatch(es) per step, of sizes "
              f"{sorted(set(recorder.sizes))}: draw one, sample_noise(batch_size)")
    for i, (loss, e) in enumerate(results, start=1):
        when = "in the first step" if i == 1 else "in a second step (the first matched: zero E's gradients first?)"
        ref.expect(f"{key}_loss{i}_output", _as_number(loss, "encoder_step"),
                   f"{when}, encoder_step returned the loss {{value:.6g}}, expected {{expected:.6g}}. {{hint}}",
                   kind="value", hint=("encoder", spec.noise_dim))
        ref.expect(f"{key}_e{i}_output", e,
                   f"{when}, E's parameters differ from the reference (relative error {{error:.1e}}): the loss is "
                   "F.mse_loss(E(G(z)), z) on one fresh noise minibatch; optimizer.zero_grad(), backward, "
                   "optimizer.step().")
    notes = []
    if any(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in G.parameters()):
        notes.append("G's gradients were computed but never used: make x = G(z) inside torch.no_grad() "
                     "(faster, and G stays untouched)")
    return notes + expect_runs_on_any_device(impl, task, "encoder_step", lambda to: spec.run(
        impl.encoder_step, noise, ref.weights_seed, ref.batch, to=to))


def encoder_hint(value, expected, ref, key, noise_dim):
    if math.isclose(value, expected * noise_dim, rel_tol=1e-4):
        return (f"That is {noise_dim} times too big: sum over the latent coordinates and mean over the batch. "
                "Average over every number instead: F.mse_loss(E(x), z).")
    return "The loss is the mean squared error between E(G(z)) and z: F.mse_loss(E(x), z), before the update."


LAB = Lab(
    name="gan_theory", title="The GAN paper's theory in one dimension, and an inference network",
    uses=("gan_pytorch",), hints={"jsd": jsd_hint, "encoder": encoder_hint}, tasks=(
        # The 1-D game trains on the CPU; the inference network on the trained DCGAN's device (a GPU, maybe).
        Task("optimal_discriminator", 2, check=check_optimal_discriminator, cpu_only=True,
             spec=Densities(("mixtures", "apart", "empty"))),
        Task("js_divergence", 2, check=check_js_divergence, cpu_only=True,
             spec=Densities(("mixtures", "apart"), with_grid=True)),
        Task("algorithm1_step", 3, check=check_algorithm1_step, cpu_only=True, spec=Algorithm1()),
        Task("encoder_step", 2, check=check_encoder_step, spec=EncoderStep()),
        Task("theory_question", 2, kind="written"),
    ))
