"""The checks that many labs share: networks, losses and optimisers (each lab's declaration, checks/labs/<lab>.py, says whose is whose).

Each `check_<what>(impl, ref, task)` calls the student's function `task.name`
from the module `impl` the way its spec (`task.spec`, checks/core/specs.py) says,
compares with the reference answers `ref`, and raises CheckFailure with a
message that says what to fix; it returns a list of notes (advice on a pass).
A NotImplementedError from the student's code is left to the runner, which
reports NOT IMPLEMENTED. Every comparison with a reference answer goes through
`ref.expect` (see checks/core/answers.py): while autograding, the grader's own
process decides it, never the process that runs the student's code.

Tolerances: networks and losses are evaluated in float64, so a correct answer
matches the reference to about 1e-12; differences from a real mistake are
1e-3 or more. The tolerances (checks/core/compare.py) sit far from both.
"""

import math
import re
from dataclasses import dataclass

import torch
import torch.nn as nn

from checks.core.compare import fill
from checks.core.device import expect_runs_on_any_device
from checks.core.helpers import (describe_error, dtype_mismatch, expect_seed_works, expect_tensor, fail, flat_params,
                                 unique)
from checks.core.networks import NetworkCrashed, load_fixed_weights, param_layers, sampled, signature, trace
from checks.core.specs import CLASSIC_BATCH, OPTIMIZER_STEPS, optimizer_steps, optimizer_test_model
from checks.core.status import CheckFailure
from checks.core.yours import applied_between, label as module_label
from gan_assignment.provided.utils import accepts, call_classic


# ---------------------------------------------------------------------------
# Networks
# ---------------------------------------------------------------------------

def check_network(impl, ref, task):
    """Check a network on what the classic training loop feeds it; return notes on anything beyond that.

    The contract: discriminators get images (N, 1, 28, 28), generators noise
    (N, noise_dim), in batches of the classic size (128); a builder that takes
    `batch_size` is fed exactly the batch size it was built for. Each network is
    also run on a small odd batch (the reference's), where every layer's input
    is compared: that says *where* a network differs. Flat image batches and
    batch sizes a network was not built for are advice, never a failure.
    """
    net = task.spec
    small, classic = ref.batch, CLASSIC_BATCH
    takes_batch = net.batch_size_arg and accepts(getattr(impl, net.function), "batch_size")
    built = {}

    def model_for(batch):
        key = batch if takes_batch else None
        if key not in built:
            built[key] = _build(impl, ref, task, batch if takes_batch else None)
        return built[key]

    notes = []
    try:
        _run_network(ref, task, model_for(small), small)
        working = small
    except NetworkCrashed as crash:
        try:
            _run_network(ref, task, model_for(classic), classic)
        except NetworkCrashed:
            fail(_crash_message(impl, net, model_for(small), small, crash))
        working = classic
        hint = _crash_hint(str(crash.error), *model_for(small)[:2], crash, small).lstrip(". ")
        notes.append(f"works on batches of {classic}, what the training loop feeds, but not on a batch of "
                     f"{small} ({_short(crash)}). {hint or 'Reshape with -1 for the batch dimension'}. "
                     "Fine for training; a network that takes any batch size is easier to test and sample from")
    else:
        try:
            _run_network(ref, task, model_for(classic), classic)
        except NetworkCrashed as crash:
            fail(_crash_message(impl, net, model_for(classic), classic, crash)
                  + f" (the training loop feeds batches of {classic})")

    # Advice: what goes beyond the classic contract.
    if takes_batch:
        other = classic if working == small else small
        note = (f"built with batch_size={working}, it cannot take a batch of {other} ({{reason}}): "
                "fine for the training loop, which always feeds batch_size images; "
                "Unflatten(-1, 1, 28, 28) would take any batch size")
        try:
            with ref.advice(note):
                _run_network(ref, task, model_for(working), other)
        except (NetworkCrashed, CheckFailure) as e:
            notes.append(fill(note, reason=_short(e)))
    if net.takes == "images" and net.flat_advice:
        note = ("works on images (N, 1, 28, 28), what the training loop feeds, but not on a flat batch "
                "(N, 784) ({reason}){cause} Taking both is optional: "
                + ("Unflatten(-1, 1, 28, 28) first would" if _has_conv(model_for(working)[1]) else
                   "nn.Flatten() or x.reshape(len(x), -1) would") + " do it")
        try:
            with ref.advice(fill(note, cause=".")):
                _run_network(ref, task, model_for(working), working, flat=True)
        except (NetworkCrashed, CheckFailure) as e:
            cause = _crash_hint(str(e.error), *model_for(working)[:2], e, working) \
                if isinstance(e, NetworkCrashed) else ""
            notes.append(fill(note, reason=_short(e), cause=cause or "."))
    if net.default_size:
        _expect_default_size(impl, ref, task)
    if net.seeded:
        notes += expect_seed_works(lambda seed: flat_params(net.build(impl, None, seed=seed)),
                                    net.call(seed=True), getattr(impl, net.function))
    model, x = model_for(working)[0], ref.tensor(f"{task.name}_input")[torch.arange(working) % ref.batch]
    notes += expect_runs_on_any_device(impl, task, net.call(working if takes_batch else None),
                                       lambda to: to(model)(to(x)))
    return notes


def _has_conv(layers):
    return any(isinstance(layer, nn.Conv2d) for layer in layers)


def _build(impl, ref, task, batch):
    """The student's network with the fixed test weights, in float64, training mode: (model, layers, call)."""
    name, net = task.name, task.spec
    call = net.call(batch)
    model = net.build(impl, batch)
    if not isinstance(model, nn.Module):
        fail(f"{call} must return an nn.Module (for example an nn.Sequential), got {type(model).__name__}")
    expected_layers = ref.strings(f"{name}_layers")
    got_count = sum(p.numel() for p in model.parameters())
    expected_count = int(ref[f"{name}_param_count"])
    layers = _match_layers(model, expected_layers, call, got_count, expected_count)
    checksum = load_fixed_weights(layers, ref.weights_seed)
    if not math.isclose(checksum, float(ref[f"{name}_weights_checksum"]), rel_tol=1e-9):
        raise RuntimeError("the fixed test weights differ from those the reference file was made with "
                           "(a different PyTorch random generator?); ask your instructor")
    if f"{name}_norms" in ref.keys():
        _expect_norm_settings(model, ref[f"{name}_norms"], call)
    model.double().train()
    return model, layers, call


def _expect_norm_settings(model, expected, call):
    """Every BatchNorm's eps and momentum as the solution's; says so when momentum got the value meant for eps."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for norm, (eps, momentum) in zip(norms, expected):
        shown = f"{call}'s {type(norm).__name__}({norm.num_features})"
        if not math.isclose(norm.eps, eps, rel_tol=1e-6):
            if norm.momentum is not None and math.isclose(norm.momentum, eps, rel_tol=1e-6):
                fail(f"{shown} has momentum={norm.momentum:g} and eps={norm.eps:g}: the {eps:g} belongs to eps. "
                      f"The original's BatchNorm1d(out_feat, {eps:g}) passes {eps:g} as the SECOND positional "
                      f"argument, and BatchNorm1d's second argument is eps, not momentum: write "
                      f"{type(norm).__name__}({norm.num_features}, eps={eps:g}) and leave momentum at its default")
            fail(f"{shown} has eps={norm.eps:g}, expected eps={eps:g} (eps is added to the variance before "
                  "dividing by its square root: it changes every value the layer computes)")
        if not math.isclose(norm.momentum if norm.momentum is not None else math.nan, momentum, rel_tol=1e-6) \
                and not (norm.momentum is None and math.isnan(momentum)):
            fail(f"{shown} has momentum={norm.momentum}, expected {momentum:g} (the default): momentum sets how "
                  "fast the running statistics used in eval mode follow the batches")


def _run_network(ref, task, built, batch, flat=False):
    """Run a built network on `batch` reference inputs and compare with the reference.

    Per-sample networks repeat the reference batch to any size and compare every
    layer's input; a network with batch statistics is compared layer by layer on
    the reference batch and by its output on the classic batch.
    Raises CheckFailure on a difference, NetworkCrashed if the network raises.
    """
    model, layers, call = built
    net = task.spec
    name = task.name
    rows = torch.arange(batch) % ref.batch
    x = ref.tensor(f"{name}_input")[rows]
    if flat:
        x = x.reshape(batch, -1)
    shape = "x".join(map(str, x.shape))
    ran = []
    seen, out = trace(model, layers, x, ran)
    expected_layers = ref.strings(f"{name}_layers")
    between = ref.strings(f"{name}_between")
    layerwise = net.per_sample or batch == ref.batch
    yours = Yours(model, layers, ran, seen, out)
    if layerwise:
        _compare_layer_inputs(ref, name, expected_layers, between, seen, shape, rows, yours)
    _compare_output(ref, name, net, expected_layers, between, out, shape, batch, rows if layerwise else None,
                    yours)


@dataclass
class Yours:
    """The student's network as it ran on the check's batch, to say what it did in their terms."""
    model: object
    layers: list   # their weight layers, in the reference's order
    ran: list      # (module, output) of every module without children, in running order
    seen: list     # the input each of `layers` received
    out: object    # the network's output

    def layer(self, i, expected):
        """'Linear(256 -> 256) (your module [3], the 4th of your 6)'."""
        return f"{expected} ({module_label(self.model, self.layers[i])})"

    def between(self, i):
        """What the student's network applied right before layer i (i = len(layers): before the output)."""
        if i == 0:
            return None
        after = self.layers[i] if i < len(self.layers) else None
        arrived = self.seen[i] if i < len(self.layers) else self.out
        return applied_between(self.ran, self.layers[i - 1], after, arrived)

    def side_by_side(self, reference, i):
        """The reference's and the student's steps in two aligned lines (theirs only when known)."""
        theirs = self.between(i)
        return (f"\n      the reference applies: {reference}"
                + (f"\n      yours applies:         {theirs}" if theirs else ""))


def _crash_message(impl, net, built, batch, crash):
    """What happened when the network raised, and the likely cause in words."""
    model, layers, call = built
    shape = "x".join(map(str, net.input_shape(batch)))
    text = f"running {call} on a batch of shape ({shape}) raised {describe_error(crash.error, impl.__file__)}"
    if net.takes == "noise" and "conv" in str(crash.error).lower() and "input of size" in str(crash.error):
        return text + (f". The noise arrives flat, ({shape}), as the trainer draws it: reshape it to "
                       f"(N, {net.noise_dim}, 1, 1) before the first ConvTranspose2d (e.g. Unflatten(C={net.noise_dim}, "
                       "H=1, W=1) from gan_assignment.provided.layers, or z.view(len(z), -1, 1, 1) in forward)")
    return text + _crash_hint(str(crash.error), model, layers, crash, batch)


def _crash_hint(error, model, layers, crash, batch):
    baked = re.search(r"shape '\[(-?\d+),", error)
    if baked and int(baked.group(1)) not in (-1, batch):
        return (f". The batch size {baked.group(1)} is built into a reshape, so only batches of exactly that "
                "size fit: reshape with -1 for the batch dimension (Unflatten(-1, ...), x.view(-1, ...))")
    if "unpack" in error and "expected 4" in error:
        return (". A flat batch (N, 784) reached code that unpacks N, C, H, W = x.size(), which needs images "
                "(N, 1, 28, 28).")
    if "conv" in error.lower() and ("3D" in error or "4D" in error or "dimensions" in error):
        return ". A Conv2d received a flat batch: it needs images shaped (N, C, H, W)."
    if "mat1 and mat2" in error and crash.reached is not None:
        layer = layers[crash.reached]
        got = crash.seen[crash.reached]
        where = f"{signature(layer)} ({module_label(model, layer)})"
        if got is not None and got.dim() > 2 and isinstance(layer, nn.Linear):
            return (f". {where} received shape {tuple(got.shape)}: a Linear layer needs flat vectors, so "
                    "flatten the images to (N, 784) first (Flatten())")
        if got is not None and isinstance(layer, nn.Linear):
            return (f". {where} received {got.shape[-1]} features per example, but it takes "
                    f"{layer.in_features}: check the shapes between the layers")
    return ""


def _short(error):
    """The first line of an error, for a note."""
    text = str(error.error if isinstance(error, NetworkCrashed) else error).strip().splitlines()
    return (text[0][:160] if text else type(error).__name__)


def _match_layers(model, expected, call, got_count, expected_count):
    """The student's weight layers in the reference order; fails with both lists if they differ."""
    layers = param_layers(model)
    by_signature = {}
    for layer in layers:
        by_signature.setdefault(signature(layer), []).append(layer)
    matched = [by_signature[s].pop(0) if by_signature.get(s) else None for s in expected]
    if None in matched or len(layers) != len(expected) or got_count != expected_count:
        fail(f"{call} has {got_count:,} parameters, expected {expected_count:,}.\n"
              f"    your layers with weights: {', '.join(map(signature, layers)) or 'none'}\n"
              f"    expected:                 {', '.join(expected)}" + _bias_hint(layers, matched, got_count,
                                                                                   expected_count))
    return matched


def _bias_hint(layers, matched, got_count, expected_count):
    """When only the convolutions' biases make the difference: say so (the paper's DCGAN has none)."""
    if None in matched or len(layers) != len(matched):
        return ""
    biases = sum(layer.bias.numel() for layer in layers
                 if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)) and layer.bias is not None)
    if biases and got_count - expected_count == biases:
        return ("\n    The layers are right; the difference is your convolutions' biases. Create them with "
                "bias=False: a bias before BatchNorm is cancelled by it, and the reference has none.")
    return ""


def _compare_layer_inputs(ref, name, expected_layers, between, seen, shape, rows, yours):
    shapes = [tuple(int(d) for d in s.split("x")) for s in ref.strings(f"{name}_layer_input_shapes")]
    for i, got in enumerate(seen):
        layer = yours.layer(i, expected_layers[i])
        if got is None:
            fail(f"on input ({shape}), {layer} was never used in forward()")
        key = f"{name}_layer_input_{i}"
        expected_shape = (len(rows), *shapes[i])
        if got.numel() != math.prod(expected_shape):
            fail(f"on input ({shape}), {layer} received shape {tuple(got.shape)}, expected {expected_shape}")
        where = f"between {expected_layers[i - 1]} and {expected_layers[i]}" if i else \
            f"before {expected_layers[0]}"
        # float32 is what the reference stores of a layer's input: enough to locate a difference
        ref.expect(key, sampled(got.reshape(expected_shape)).float().numpy(),
                   f"on input ({shape}), the values reaching {layer} differ from the reference "
                   f"(relative error {{error:.1e}}).\n    {where}:"
                   + yours.side_by_side(between[i] or 'nothing', i), rows=rows)


def _compare_output(ref, name, net, expected_layers, between, out, shape, batch, rows, yours):
    """The output against the reference: on the reference batch (its `rows`), or, with rows None, on the
    classic batch (batch statistics tie every row to the whole batch, so only the output is stored)."""
    if net.takes in ("images", "flat"):
        ok_shapes = {(batch, 1), (batch,), (batch, 1, 1, 1)}
        wanted = f"({batch}, 1)"
    elif net.makes:
        ok_shapes = {(batch, *net.makes), (batch, math.prod(net.makes))}
        wanted = f"({batch}, {', '.join(map(str, net.makes))})"
    else:
        ok_shapes = {(batch, 784)}
        wanted = f"({batch}, 784): flatten the images at the end"
    if tuple(out.shape) not in ok_shapes:
        fail(f"on input ({shape}), the output has shape {tuple(out.shape)}, expected {wanted}")
    out = sampled(out)   # what the reference stores of each output (all of it, up to 2048 values)
    if rows is None:
        ref.expect(f"{name}_classic_output", out, rows=torch.arange(batch) % ref.batch, message=
                   f"on input ({shape}) the output differs from the reference (relative error {{error:.1e}}). This "
                   f"network only runs on batches of {batch}, where the checks compare the output alone: go through "
                   "your layers, their order and each activation against the docstring's list (a network that "
                   "takes any batch size gets a layer-by-layer diagnosis)")
    else:
        ref.expect(f"{name}_output", out,
                   "every layer receives the right values but the output differs (relative error {error:.1e}).\n"
                   f"    after {yours.layer(len(expected_layers) - 1, expected_layers[-1])}:"
                   + yours.side_by_side(between[-1] or 'nothing (return the raw scores, no sigmoid)',
                                        len(expected_layers)), rows=rows)


def _expect_default_size(impl, ref, task):
    function = task.spec.function
    count = sum(p.numel() for p in call_classic(getattr(impl, function), **dict(task.spec.kwargs)).parameters())
    expected = int(ref[f"{task.name}_default_param_count"])
    if count != expected:
        fail(f"{function}() with the default noise_dim has {count:,} parameters, expected {expected:,}: "
              "use the noise_dim argument, do not hard-code the noise size")


# ---------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------

def check_loss(impl, ref, task):
    """Value and gradient of a loss on fixed inputs; returns notes.

    The spec's `shapes` are what the course's callers pass (its test data: (N,);
    its training loop: D's output, (N, 1)); each must give the right value and
    gradient. Its `advice_shapes` go beyond that: a failure there is a note.
    A result of shape (1,) (e.g. from .mean(dim=0)) is accepted with a note.
    """
    spec = task.spec
    shape = {"N": (ref.batch,), "N1": (ref.batch, 1)}
    notes = []
    for s in spec.shapes:
        notes += _check_loss_at(impl, ref, task, shape[s])
    for s in spec.advice_shapes:
        # It runs, but computes the wrong thing: that is wrong whoever calls it.
        suffix = (f" (with every argument shaped {shape[s]}; on shape {shape[spec.shapes[0]]} it "
                  "is right: do (N, 1) and (N,) tensors broadcast to (N, N) somewhere?)")
        try:
            with ref.suffix(suffix):
                _check_loss_at(impl, ref, task, shape[s])
        except CheckFailure as e:
            raise CheckFailure(str(e) if str(e).endswith(suffix) else f"{e}{suffix}") from None
        except (RuntimeError, ValueError, TypeError, IndexError) as e:
            shown = _short(e).split(". ")[0]
            notes.append(f"with every argument shaped {shape[s]} it fails ({shown}). The classic callers pass "
                         "(N,) targets, so this passes; a loss that takes targets shaped like its input "
                         "(torch.ones_like(logits)) works with any caller")
    if spec.extreme:
        _expect_stable(impl, ref, task)
    notes += expect_runs_on_any_device(impl, task, spec.function or task.name, lambda to: _loss_on(impl, ref, task, to))
    return unique(notes)


def _loss_on(impl, ref, task, to):
    """The loss called on its first shape's arguments, in float32 as training feeds them, each passed through `to`."""
    spec = task.spec
    shape = {"N": (ref.batch,), "N1": (ref.batch, 1)}[spec.shapes[0]]
    args = [to(ref.tensor(f"{task.name}_{a}").float().reshape(shape).requires_grad_(a not in spec.target_args))
            for a in spec.args]
    return getattr(impl, spec.function or task.name)(*args, **dict(spec.kwargs))


def _expect_stable(impl, ref, task):
    """The exact loss, in float32 and float64, for logits of +-100 and +-1000."""
    key, spec = task.name, task.spec
    name = spec.function or key
    for dtype in (torch.float32, torch.float64):
        args = [ref.tensor(f"{key}_extreme_{a}").to(dtype) for a in spec.args]
        got, _ = _call_on_student_device(getattr(impl, name), args, dict(spec.kwargs))
        expect_tensor(got, name)
        value = got.detach().reshape(-1)[:1] if got.numel() == 1 else float("nan")
        shown = ", ".join(f"{a}={v.tolist()}" for a, v in zip(spec.args, args))
        ref.expect(f"{key}_extreme_output", value,
                   f"not numerically stable: for {shown} ({dtype}) {name} returned {{value}}, expected "
                   f"{{expected:.6g}}. Computing sigmoid and then log overflows for large |x|: {spec.extreme_hint}",
                   kind="stable")


def _check_loss_at(impl, ref, task, shape):
    key, spec = task.name, task.spec
    name = spec.function or key
    arg_names = spec.args
    args = [ref.tensor(f"{key}_{a}").reshape(shape).requires_grad_(a not in spec.target_args) for a in arg_names]
    call = f"{name}({', '.join([f'<{a} of shape {shape}>' for a in arg_names] + [f'{k}={v!r}' for k, v in spec.kwargs])})"
    got, args = _call_on_student_device(getattr(impl, name), args, dict(spec.kwargs))
    expect_tensor(got, name)
    notes = []
    if got.numel() != 1:
        fail(f"{call} returned shape {tuple(got.shape)}; a loss must be a single number (a scalar tensor): "
              "average over the batch with .mean()")
    if got.dim() != 0:
        notes.append(f"returns shape {tuple(got.shape)} rather than a 0-dim scalar; that works for backward() "
                     "and for training, and .mean() over all elements gives the usual 0-dim loss")
    ref.expect(f"{key}_output", got.detach().reshape(()), f"{call} returned {{value:.6g}}, expected "
               "{expected:.6g}. {hint}", kind="value", hint=("loss", spec.hint or "", ref.batch))
    if not got.requires_grad:
        fail(f"{name} returned a value without a gradient: keep the whole computation in torch "
              "(no .item(), .detach(), .numpy() or Python floats)")
    got.backward(torch.ones_like(got))
    for a, tensor in zip(arg_names, args):
        if a in spec.target_args:
            continue
        if tensor.grad is None:
            fail(f"{name} returned a value that does not depend on {a} through autograd: is {a} "
                  "detached, or replaced by a constant?")
        ref.expect(f"{key}_grad_{a}", tensor.grad.reshape(-1),
                   f"{name} has the right value but the wrong gradient with respect to {a} "
                   "(relative error {error:.1e}). Is part of the computation detached or constant?")
    return notes


def _call_on_student_device(function, args, kwargs=None):
    """Call a loss on CPU arguments; if the student's code makes its own tensors on the GPU, on GPU arguments.

    (Code written for a GPU, with `dtype = torch.cuda.FloatTensor`, mixes devices on
    CPU inputs; the classic loop feeds it GPU tensors, so the check does too.)
    Returns (result, the arguments used): their .grad is what the gradient check reads.
    """
    try:
        return function(*args, **(kwargs or {})), args
    except RuntimeError as e:
        if dtype_mismatch(e) and any(a.dtype == torch.float64 for a in args):
            # Targets made as float32 constants (torch.ones(N, 1), the original PyTorch-GAN's
            # Tensor(N, 1).fill_(1.0)) meet the checks' float64 values; training feeds float32.
            single = [a.detach().float().requires_grad_(a.requires_grad) for a in args]
            return _call_on_student_device(function, single, kwargs)
        if not (torch.cuda.is_available() and "same device" in str(e)):
            raise
    moved = [a.detach().cuda().requires_grad_(a.requires_grad) for a in args]
    return function(*moved, **(kwargs or {})), moved


def loss_hint(value, expected, ref, key, hint, batch):
    """Why a loss's value may be off, from how it compares with the expected one (the verdict's hint)."""
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


# The hints of these checks, which every lab hands to the comparison core (Lab.answers).
GENERIC_HINTS = {"loss": loss_hint}


# ---------------------------------------------------------------------------
# Optimizer
# ---------------------------------------------------------------------------

def check_optimizer(impl, ref, task):
    key = task.name
    name = task.spec.function or key
    model = optimizer_test_model(ref.weights_seed)
    optimizer = getattr(impl, name)(model, **dict(task.spec.kwargs))
    expected_class = str(ref[f"{key}_class"])
    if type(optimizer).__name__ != expected_class or not isinstance(optimizer, torch.optim.Optimizer):
        fail(f"{name} must return torch.optim.{expected_class}, got {type(optimizer).__name__}")
    given = [p for group in optimizer.param_groups for p in group["params"]]
    if {id(p) for p in given} != {id(p) for p in model.parameters()} or len(given) != len(list(model.parameters())):
        fail(f"the optimizer must update all the model's parameters (pass model.parameters()): it holds "
              f"{len(given)} parameter tensors, the model has {len(list(model.parameters()))}")
    for group in optimizer.param_groups:
        if group.get("maximize"):
            fail("the optimizer has maximize=True: it would climb the loss instead of descending it")
        _expect_settings(ref, key, group)
    # What counts is what it does: the same steps from the same weights and gradients as the reference's.
    weights = optimizer_steps(model, optimizer, ref.tensor(f"{key}_step_gradients")[:OPTIMIZER_STEPS])
    ref.expect(f"{key}_step", weights,
               f"after {OPTIMIZER_STEPS} steps of {name}'s optimizer, the weights differ from the reference's "
               "(relative error {error:.1e}): check the optimizer's settings against the docstring")


def _expect_settings(ref, key, group):
    settings = [k for k in ("lr", "betas", "eps", "weight_decay", "amsgrad", "momentum") if f"{key}_{k}" in ref.keys()]
    for setting in settings:
        expected = ref[f"{key}_{setting}"]
        expected = tuple(float(b) for b in expected) if setting == "betas" else expected.item()
        got = tuple(float(b) for b in group[setting]) if setting == "betas" else group.get(setting, 0.0)
        if got != expected:
            fail(f"the optimizer's {setting} is {got}, expected {expected}")


