"""What every lab's checks use, with public names: failing with a message, comparing parameters, running a
student's function in float32 when it made float32 tensors of its own, checking that seeds work, and
describing an error in the student's own terms.
"""

from contextlib import contextmanager

import torch

from checks.core.networks import changes_in_training_mode
from checks.core.status import CheckFailure
from gan_assignment.provided.modules import describe_error, needs_gpu  # noqa: F401 - the checks' vocabulary too
from gan_assignment.provided.utils import accepts


def fail(message):
    """Fail the check being run, with `message` (what to fix) for the student."""
    raise CheckFailure(message)


def expect_tensor(value, name):
    """Fail unless `name` returned a tensor."""
    if not isinstance(value, torch.Tensor):
        fail(f"{name} must return a torch.Tensor, got {type(value).__name__}")


def flat_params(model):
    """All of `model`'s parameters as one flat CPU tensor (detached): compare them before and after a call.
    (A network on the meta device, which has no values, gives an empty tensor: see checks/core/device.py.)"""
    return torch.cat([p.detach().reshape(-1).cpu() for p in model.parameters() if not p.is_meta] or [torch.empty(0)])


def unique(notes):
    """The notes in order, each once (several shapes or configurations may give the same advice)."""
    return list(dict.fromkeys(notes))


def dtype_mismatch(error):
    """True when `error` is PyTorch refusing to mix float32 and float64 in an elementwise operation."""
    text = str(error)
    return ("Found dtype" in text or "expected scalar type" in text) and ("Double" in text or "Float" in text)


def any_dtype_mismatch(error):
    """PyTorch's dtype mismatches, those of matrix products and convolutions included (x.float(), torch.zeros(...)
    in the student's code meet the check's float64 networks there)."""
    return dtype_mismatch(error) or "same dtype" in str(error) or "should be the same" in str(error)


def run_in_float32_if_needed(run, mismatch=dtype_mismatch):
    """`run(dtype)` in float64 (the reference's precision); again in float32 when it raised a dtype mismatch
    (`mismatch(error)`): the student's code made float32 tensors of its own, as training feeds them."""
    try:
        return run(torch.float64)
    except RuntimeError as e:
        if not mismatch(e):
            raise
        return run(torch.float32)


def in_float32_if_needed(run):
    """`run(dtype)` in float64, again in float32 after any dtype mismatch, matrix products' included."""
    return run_in_float32_if_needed(run, any_dtype_mismatch)


def tensor_result(value, function, expected_shape, what):
    """`value` as a float64 CPU tensor, after failing unless it is a tensor of `expected_shape` (`what` it holds)."""
    if isinstance(value, tuple) and hasattr(value, "values") and hasattr(value, "indices"):
        fail(f"{function} returned the pair (values, indices) that torch.max(x, dim) gives: keep its .values, "
             "or use x.amax(dim), which returns the values alone")
    if not isinstance(value, torch.Tensor):
        fail(f"{function} returned {type(value).__name__}: it must return a tensor {what}")
    if tuple(value.shape) != tuple(expected_shape):
        fail(f"{function} returned shape {tuple(value.shape)}; expected {tuple(expected_shape)}: {what}")
    return value.detach().double().cpu()


def expect_unchanged(model, before, function, what):
    """Fail when `function` changed the parameters of `model` (`what` it is) from `before` (flat_params)."""
    if not torch.equal(before, flat_params(model)):
        fail(f"{function} changed {what}'s parameters: it must only read them")


def has_gradients(model):
    """True when some parameter of `model` holds a non-zero gradient."""
    return any(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in model.parameters())


# The draws a seed check makes, in order: each seed twice (0 is a seed too: `if seed:` skips it), and another.
SEED_DRAWS = (("seed1", 1), ("seed1_again", 1), ("seed0", 0), ("seed0_again", 0), ("seed2", 2))


def judge_seeds(drawn, call, takes_seed):
    """Fail unless the SEED_DRAWS (`drawn(label)`) repeat for the same seed and differ between seeds."""
    fix = ("Call torch.manual_seed(seed) first when seed is not None" if takes_seed else
           "draw every random number from torch (torch.rand, nn layers), which torch.manual_seed controls, "
           "not from numpy or Python's random")
    for seed in (1, 0):
        if not torch.equal(drawn(f"seed{seed}"), drawn(f"seed{seed}_again")):
            fail(f"{call} is not reproducible: seed={seed} twice gave different results. {fix}"
                 + (". Note that seed=0 is a seed: test `seed is not None`, not `if seed`"
                    if seed == 0 and takes_seed else ""))
    if torch.equal(drawn("seed1"), drawn("seed2")):
        fail(f"{call} gave the same result for seeds 1 and 2: pass seed to torch.manual_seed")


def expect_seed_works(draw, call, function):
    """The same seed gives the same result, another seed another one; returns a note for a seed-less signature.

    A function without a `seed` argument (the 2017-2019 signatures) is called after
    torch.manual_seed(seed): this still proves it draws from torch's generator.
    """
    takes_seed = accepts(function, "seed")
    draws = {label: draw(seed) for label, seed in SEED_DRAWS}
    judge_seeds(draws.__getitem__, call, takes_seed)
    return [] if takes_seed else [seedless_note(function.__name__)]


def seedless_note(name):
    return (f"{name} takes no seed argument (the 2017-2019 signature): it was checked after "
            "torch.manual_seed(seed) instead")


@contextmanager
def rows_per_forward(module):
    """A list that gets, for each forward pass of `module` inside the block, how many rows it received: rules
    like "batch_size images at a time" or "all the features at once" are checked on it."""
    seen = []
    watch = module.register_forward_pre_hook(lambda _module, args: seen.append(len(args[0])))
    try:
        yield seen
    finally:
        watch.remove()


def network_state(model):
    """What a function given `model` must leave as it found it: each module's mode (train/eval), each
    parameter's requires_grad, and how many hooks are registered on its modules."""
    hooks = sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
                for m in model.modules())
    return [m.training for m in model.modules()], [p.requires_grad for p in model.parameters()], hooks


def expect_left_as_found(model, before, function, name):
    """Fail when `function` left a hook on `model` (`name` it is), or changed its mode where the mode changes
    what it computes (BatchNorm, Dropout); returns notes for changes that are harmless here.

    `before`: network_state(model) before the call.
    """
    modes, grads, hooks = network_state(model)
    if hooks > before[2]:
        fail(f"{function} left a hook registered on {name}: every later forward pass of {name} would run it. Keep "
             "the handle register_forward_(pre_)hook returns and call handle.remove() (in a finally: block)")
    notes = []
    if modes != before[0]:
        now = "training" if model.training else "eval"
        if changes_in_training_mode(model):
            fail(f"{function} put {name} in {now} mode and left it there. This {name} has BatchNorm and Dropout, "
                 f"which compute something else in each mode: the notebook passes its trained {name} in eval mode "
                 f"(BatchNorm's running statistics, no dropout). Leave {name}'s mode as the caller gave it: no "
                 f"{name}.train() or {name}.eval() inside")
        notes.append(f"{function} put {name} in {now} mode: leave its mode as it was given (the caller decides; "
                     "with BatchNorm or Dropout it changes what the network computes)")
    if grads != before[1]:
        notes.append(f"{function} switched requires_grad on {name}'s parameters and left it so: the caller's "
                     f"{name} is not yours to change. torch.no_grad() or torch.autograd.grad(..., inputs) need no "
                     "freezing")
    return notes
