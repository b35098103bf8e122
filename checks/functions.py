"""One check per student function.

Each `check_<name>(impl, ref)` calls the student's function from the module
`impl`, compares with the reference answers `ref`, and raises CheckFailure
with a message that says what to fix. A NotImplementedError from the student's
code is left to the runner, which reports NOT IMPLEMENTED.

Tolerances: networks and losses are evaluated in float64, so a correct answer
matches the reference to about 1e-12; differences from a real mistake are
1e-3 or more. TOLERANCE sits far from both.
"""

import math

import torch
import torch.nn as nn

from checks.reference import NETWORKS, CheckFailure, load_fixed_weights, param_layers, signature, trace

TOLERANCE = 1e-5


def relative_difference(got, expected):
    """max |got - expected| / max |expected|: 0 for equal tensors, ~1 for unrelated ones."""
    got = torch.as_tensor(got, dtype=torch.float64)
    expected = torch.as_tensor(expected, dtype=torch.float64)
    scale = max(float(expected.abs().max()), 1e-12)
    return float((got - expected).abs().max()) / scale


def _fail(message):
    raise CheckFailure(message)


# ---------------------------------------------------------------------------
# Noise
# ---------------------------------------------------------------------------

def check_sample_noise(impl, ref):
    small = impl.sample_noise(5, 7)
    _expect_tensor(small, "sample_noise")
    if tuple(small.shape) != (5, 7):
        _fail(f"sample_noise(5, 7) returned shape {tuple(small.shape)}, expected (5, 7) = (batch_size, dim)")
    if not small.dtype.is_floating_point:
        _fail(f"sample_noise returned dtype {small.dtype}; noise must be floating point (torch.float32)")

    noise = impl.sample_noise(256, 1000).detach().double()
    if not torch.isfinite(noise).all():
        _fail("sample_noise returned inf or nan values")
    low, high = float(noise.min()), float(noise.max())
    if low < -1 or high > 1:
        _fail(f"values must lie in [-1, 1], but they span [{low:.3f}, {high:.3f}]"
              + (" (torch.randn draws from a normal distribution, not a uniform one)" if high > 1.5 else ""))
    if low > -0.99 or high < 0.99:
        _fail(f"values only span [{low:.3f}, {high:.3f}]; uniform noise in [-1, 1] covers the whole "
              "interval. torch.rand gives [0, 1): stretch and shift it onto [-1, 1]")
    shares = torch.histc(noise, bins=10, min=-1, max=1) / noise.numel()
    if (shares - 0.1).abs().max() > 0.01:
        _fail("values are not uniform over [-1, 1]: the share of values in each tenth of the interval "
              f"ranges from {float(shares.min()):.1%} to {float(shares.max()):.1%} (uniform gives 10% each)")

    _expect_seed_works(lambda seed: impl.sample_noise(4, 6, seed=seed), "sample_noise(4, 6, seed=...)")
    a, b = impl.sample_noise(4, 6), impl.sample_noise(4, 6)
    if torch.equal(a, b):
        _fail("two calls without a seed returned the same noise: only call torch.manual_seed when seed is not None")


# ---------------------------------------------------------------------------
# Networks
# ---------------------------------------------------------------------------

def check_discriminator(impl, ref):
    _check_network(impl, ref, "discriminator")
    _expect_seed_works(lambda seed: _flat_params(impl.discriminator(seed=seed)), "discriminator(seed=...)")


def check_generator(impl, ref):
    _check_network(impl, ref, "generator")
    _expect_default_size(impl, ref, "generator")
    _expect_seed_works(lambda seed: _flat_params(impl.generator(4, seed=seed)), "generator(4, seed=...)")


def check_build_dc_classifier(impl, ref):
    _check_network(impl, ref, "dc_classifier")


def check_build_dc_generator(impl, ref):
    _check_network(impl, ref, "dc_generator")
    _expect_default_size(impl, ref, "dc_generator")


def _check_network(impl, ref, name):
    function, kwargs = NETWORKS[name]
    call = f"{function}({', '.join(f'{k}={v}' for k, v in kwargs.items())})"
    model = getattr(impl, function)(**kwargs)
    if not isinstance(model, nn.Module):
        _fail(f"{call} must return an nn.Module (for example an nn.Sequential), got {type(model).__name__}")

    expected_layers = ref.strings(f"{name}_layers")
    got_count = sum(p.numel() for p in model.parameters())
    expected_count = int(ref[f"{name}_param_count"])
    layers = _match_layers(model, expected_layers, call, got_count, expected_count)

    checksum = load_fixed_weights(layers, ref.weights_seed)
    if not math.isclose(checksum, float(ref[f"{name}_weights_checksum"]), rel_tol=1e-9):
        raise RuntimeError("the fixed test weights differ from those the reference file was made with "
                           "(a different PyTorch random generator?); ask your instructor")
    model.double().train()

    x = ref.tensor(f"{name}_input")
    inputs = [x]
    if name in ("discriminator", "dc_classifier"):
        inputs.append(x.reshape(len(x), -1))  # flattened images must work too
    between = ref.strings(f"{name}_between")
    expected_out = ref.tensor(f"{name}_output")
    for x in inputs:
        shape = "x".join(map(str, x.shape))
        try:
            seen, out = trace(model, layers, x)
        except (RuntimeError, ValueError, TypeError, IndexError) as e:
            _fail(f"running {call} on a batch of shape ({shape}) raised {type(e).__name__}: {e}"
                  + (" (the network must work for any batch size N)" if "size" in str(e) or "shape" in str(e) else ""))
        _compare_layer_inputs(ref, name, expected_layers, between, seen, shape)
        _compare_output(name, expected_layers, between, out, expected_out, shape, ref.batch)


def _match_layers(model, expected, call, got_count, expected_count):
    """The student's weight layers in the reference order; fails with both lists if they differ."""
    layers = param_layers(model)
    by_signature = {}
    for layer in layers:
        by_signature.setdefault(signature(layer), []).append(layer)
    matched = [by_signature[s].pop(0) if by_signature.get(s) else None for s in expected]
    if None in matched or len(layers) != len(expected) or got_count != expected_count:
        _fail(f"{call} has {got_count:,} parameters, expected {expected_count:,}.\n"
              f"    your layers with weights: {', '.join(map(signature, layers)) or 'none'}\n"
              f"    expected:                 {', '.join(expected)}")
    return matched


def _compare_layer_inputs(ref, name, expected_layers, between, seen, shape):
    for i, got in enumerate(seen):
        layer = f"layer {i + 1} of {len(expected_layers)} ({expected_layers[i]})"
        if got is None:
            _fail(f"on input ({shape}), {layer} was never used in forward()")
        expected = torch.from_numpy(ref[f"{name}_layer_input_{i}"]).double()
        if got.numel() != expected.numel():
            _fail(f"on input ({shape}), {layer} received shape {tuple(got.shape)}, expected "
                  f"{tuple(expected.shape)}")
        error = relative_difference(got.reshape(expected.shape), expected)
        if error > TOLERANCE:
            where = f"between {expected_layers[i - 1]} and {expected_layers[i]}" if i else \
                f"before {expected_layers[0]}"
            _fail(f"on input ({shape}), the values reaching {layer} differ from the reference "
                  f"(relative error {error:.1e}).\n    {where} the reference applies: {between[i] or 'nothing'}")


def _compare_output(name, expected_layers, between, out, expected, shape, batch):
    if name in ("discriminator", "dc_classifier"):
        ok_shapes = {(batch, 1), (batch,)}
        wanted = f"({batch}, 1)"
    else:
        ok_shapes = {(batch, 784)}
        wanted = f"({batch}, 784): flatten the images at the end"
    if tuple(out.shape) not in ok_shapes:
        _fail(f"on input ({shape}), the output has shape {tuple(out.shape)}, expected {wanted}")
    error = relative_difference(out.reshape(expected.shape), expected)
    if error > TOLERANCE:
        _fail(f"every layer receives the right values but the output differs (relative error {error:.1e}).\n"
              f"    after {expected_layers[-1]} the reference applies: "
              f"{between[-1] or 'nothing (return the raw scores, no sigmoid)'}")


def _expect_default_size(impl, ref, name):
    function = NETWORKS[name][0]
    count = sum(p.numel() for p in getattr(impl, function)().parameters())
    expected = int(ref[f"{name}_default_param_count"])
    if count != expected:
        _fail(f"{function}() with the default noise_dim has {count:,} parameters, expected {expected:,}: "
              "use the noise_dim argument, do not hard-code the noise size")


def _flat_params(model):
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


# ---------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------

def check_bce_loss(impl, ref):
    _check_loss(impl, ref, "bce_loss", ("input", "target"))
    for dtype in (torch.float32, torch.float64):
        x = ref.tensor("bce_loss_extreme_input").to(dtype)
        target = ref.tensor("bce_loss_extreme_target").to(dtype)
        got = impl.bce_loss(x, target)
        expected = float(ref["bce_loss_extreme_output"])
        value = float(got.detach())
        if not math.isfinite(value) or abs(value - expected) > 1e-6 * abs(expected):
            _fail(f"not numerically stable: for logits {x.tolist()} and targets {target.tolist()} "
                  f"({dtype}) bce_loss returned {value}, expected {expected:.6g}. Computing sigmoid and "
                  "then log overflows for large |x|; use the identity in the docstring")


def check_discriminator_loss(impl, ref):
    _check_loss(impl, ref, "discriminator_loss", ("logits_real", "logits_fake"),
                hint="real images have target 1 and fake images target 0, and the loss is the SUM "
                     "of the two mean losses")


def check_generator_loss(impl, ref):
    _check_loss(impl, ref, "generator_loss", ("logits_fake",),
                hint="the generator wants its fakes called real: use target 1 (the non-saturating loss)")


def check_ls_discriminator_loss(impl, ref):
    _check_loss(impl, ref, "ls_discriminator_loss", ("scores_real", "scores_fake"),
                hint="each of the two terms is 0.5 times a mean over the batch")


def check_ls_generator_loss(impl, ref):
    _check_loss(impl, ref, "ls_generator_loss", ("scores_fake",),
                hint="the loss is 0.5 times a mean over the batch")


def _check_loss(impl, ref, name, arg_names, hint=None):
    """Value and gradient of a loss on fixed inputs, shaped (N,) and (N, 1)."""
    expected = float(ref[f"{name}_output"])
    for shape in ((ref.batch,), (ref.batch, 1)):
        args = [ref.tensor(f"{name}_{a}").reshape(shape).requires_grad_(a != "target") for a in arg_names]
        call = f"{name}({', '.join(f'<{a} of shape {shape}>' for a in arg_names)})"
        got = getattr(impl, name)(*args)
        _expect_tensor(got, name)
        if got.dim() != 0:
            _fail(f"{call} returned shape {tuple(got.shape)}; a loss must be a scalar tensor (shape ()): "
                  "average over the batch with .mean()")
        value = float(got.detach())
        if not math.isclose(value, expected, rel_tol=TOLERANCE, abs_tol=1e-12):
            _fail(f"{call} returned {value:.6g}, expected {expected:.6g}. " + _loss_hint(value, expected, hint, ref.batch))
        if not got.requires_grad:
            _fail(f"{name} returned a value without a gradient: keep the whole computation in torch "
                  "(no .item(), .detach(), .numpy() or Python floats)")
        got.backward()
        for a, tensor in zip(arg_names, args):
            if a == "target":
                continue
            error = relative_difference(tensor.grad.reshape(-1), ref[f"{name}_grad_{a}"])
            if error > TOLERANCE:
                _fail(f"{name} has the right value but the wrong gradient with respect to {a} "
                      f"(relative error {error:.1e}). Is part of the computation detached or constant?")


def _loss_hint(value, expected, hint, batch):
    if expected != 0:
        ratio = value / expected
        if math.isclose(ratio, batch, rel_tol=1e-4):
            return f"Your value is {batch} times too large on a batch of {batch}: average with .mean(), not .sum()."
        if math.isclose(ratio, 2, rel_tol=1e-4):
            return "Your value is twice the expected one: is a factor 0.5 missing?"
        if math.isclose(ratio, 0.5, rel_tol=1e-4):
            return "Your value is half the expected one: check the 0.5 factors (and sum, not average, two losses)."
    if value < 0 < expected:
        return "A loss built from cross-entropies is never negative: check the signs and targets."
    return f"Check the formula in the docstring{': ' + hint if hint else ''}."


# ---------------------------------------------------------------------------
# Optimizer
# ---------------------------------------------------------------------------

def check_get_optimizer(impl, ref):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    optimizer = impl.get_optimizer(model)
    expected_class = str(ref["optimizer_class"])
    if type(optimizer).__name__ != expected_class or not isinstance(optimizer, torch.optim.Optimizer):
        _fail(f"get_optimizer must return torch.optim.{expected_class}, got {type(optimizer).__name__}")
    given = [p for group in optimizer.param_groups for p in group["params"]]
    if {id(p) for p in given} != {id(p) for p in model.parameters()} or len(given) != len(list(model.parameters())):
        _fail(f"the optimizer must update all the model's parameters (pass model.parameters()): it holds "
              f"{len(given)} parameter tensors, the model has {len(list(model.parameters()))}")
    group = optimizer.param_groups[0]
    for key, expected in (("lr", float(ref["optimizer_lr"])),
                          ("betas", tuple(float(b) for b in ref["optimizer_betas"])),
                          ("eps", float(ref["optimizer_eps"])),
                          ("weight_decay", float(ref["optimizer_weight_decay"])),
                          ("amsgrad", bool(ref["optimizer_amsgrad"]))):
        got = tuple(float(b) for b in group[key]) if key == "betas" else group[key]
        if got != expected:
            _fail(f"the optimizer's {key} is {got}, expected {expected}")


# ---------------------------------------------------------------------------

def _expect_tensor(value, name):
    if not isinstance(value, torch.Tensor):
        _fail(f"{name} must return a torch.Tensor, got {type(value).__name__}")


def _expect_seed_works(draw, call):
    first, again, other = draw(1), draw(1), draw(2)
    if not torch.equal(first, again):
        _fail(f"{call} is not reproducible: the same seed gave different results. "
              "Call torch.manual_seed(seed) first when seed is not None")
    if torch.equal(first, other):
        _fail(f"{call} gave the same result for seeds 1 and 2: pass seed to torch.manual_seed")


CHECKS = {
    "sample_noise": check_sample_noise,
    "discriminator": check_discriminator,
    "generator": check_generator,
    "bce_loss": check_bce_loss,
    "discriminator_loss": check_discriminator_loss,
    "generator_loss": check_generator_loss,
    "get_optimizer": check_get_optimizer,
    "ls_discriminator_loss": check_ls_discriminator_loss,
    "ls_generator_loss": check_ls_generator_loss,
    "build_dc_classifier": check_build_dc_classifier,
    "build_dc_generator": check_build_dc_generator,
}
