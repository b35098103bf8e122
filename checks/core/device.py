"""Would the student's function run on a GPU? Checked without one, on PyTorch's `meta` device.

Students train on GPUs (Colab, a lab machine) while the checks run on a CPU, so
a function that creates a tensor on the CPU (`torch.ones(scores.size())`,
`torch.eye(10)[labels]`, `torch.zeros(z.shape)`) and mixes it with its inputs
passes every value check here and then crashes in the notebook. A `meta`
tensor has a shape, a dtype and a device but no values: PyTorch computes
shapes on it and refuses to mix it with a CPU tensor, exactly as CUDA refuses.
So `expect_runs_on_any_device` calls the function once more with its inputs
(and networks) moved to `meta`; on a machine with a GPU, on the GPU too.

Only a device error fails. Code the meta device cannot run for other reasons
(`.item()`, a boolean mask: values it does not have) says nothing either way,
and the probe is skipped (recorded in SKIPPED, for the tests and the curious).
A branch on a value (`if sin(omega).abs() < 1e-6:`) takes its `else` side on
meta and a value read (`loss.item()`) is 0, so the code after a guard or a log
line is probed as well.

The 2017-2023 course code switched devices with a module-level setting,
`dtype = torch.FloatTensor  # torch.cuda.FloatTensor on a GPU` (or
`device = torch.device("cpu")`): a student who follows it sets it to the GPU
when they train on one. When the first run fails, such settings are switched
to the probe's device and the call tried again: if that runs, the check passes
with a note recommending code that needs no switch.
"""

import copy
from contextlib import contextmanager

import torch
import torch.nn as nn
from torch.overrides import TorchFunctionMode

from checks.core.helpers import fail
from gan_assignment.provided.modules import where_in

PROBE = torch.device("meta")

# PyTorch's own words when tensors of two devices meet (CUDA's and meta's), and ours (_Strict).
DEVICE_ERRORS = ("not on the expected device", "to be on the same device", "expected device", "same device as",
                 "on the same device", "device type tensor to numpy")

LEGACY_CPU_TYPES = tuple(getattr(torch, name) for name in (
    "FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor", "IntTensor", "ShortTensor",
    "CharTensor", "ByteTensor", "BoolTensor"))

SKIPPED = []   # (function, why) of every probe that could not decide


def probe_devices():
    """The devices a function is tried on: meta always, and the GPU when this machine has one."""
    return [PROBE] + ([torch.device("cuda")] if torch.cuda.is_available() else [])


def expect_runs_on_any_device(impl, task, function, call):
    """Fail when `function` of the student's module `impl` mixes the CPU with the device of its inputs.

    `call(to)` calls the function the way the check does, with every tensor and
    network it passes wrapped in `to(...)`, which moves it to the probe device.
    Returns notes (a module-level device switch was needed). A task whose notebook
    runs it on the CPU only (`task.cpu_only`) is not probed: there, CPU tensors are right.
    """
    notes = []
    if task.cpu_only:
        return notes
    for device in probe_devices():
        error = _device_error(call, device)
        if error is None:
            continue
        switches = _switches(impl)
        if switches:
            with _switched(impl, switches, device):
                retried = _device_error(call, device)
            if retried is None:
                notes.append(_switch_note(switches))
                continue
        fail(_message(impl, function, error, device))
    return notes


def _device_error(call, device):
    """The device error that `call` raises on `device`, or None (it ran, or failed for another reason)."""
    try:
        with _Strict(device):
            call(lambda thing: _moved(thing, device))
    except (Exception, SystemExit) as e:  # noqa: BLE001 - only a device error decides; the rest is meta's lack of values
        if isinstance(e, (RuntimeError, TypeError, ValueError)) and any(words in str(e) for words in DEVICE_ERRORS):
            return e
        # an assert on values, 1 / x.item(), a sys.exit() on a value: meta has no values to say anything with
        SKIPPED.append((getattr(call, "__qualname__", "?"), f"{type(e).__name__}: {str(e)[:200]}"))
    return None


def _moved(thing, device):
    """A copy of a tensor (requires_grad kept) or network on `device`; anything else as it is."""
    if isinstance(thing, torch.Tensor):
        return thing.detach().to(device).requires_grad_(thing.requires_grad)
    if isinstance(thing, nn.Module):
        return copy.deepcopy(thing).to(device)
    return thing


# Branches on a meta tensor's value (`if sin.abs() < 1e-6:`) take the `else` side, and a value read for a log
# (`loss.item()`) is 0, at most this many times: enough for the code after a guard or a log line to run on meta
# too, and a bound on a loop that waits for a value to change.
MAX_BRANCHES = 1000
VALUE_READS = {torch.Tensor.__bool__: False, torch.Tensor.item: 0.0, torch.Tensor.__float__: 0.0}


class _Strict(TorchFunctionMode):
    """Refuses what CUDA refuses but the meta device lets through: forward-mode AD (torch.func.jvp) with a
    tangent on another device than its primal. And lets a branch on a meta value go on (False)."""

    def __init__(self, device):
        super().__init__()
        self.device = device
        self.branches = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in VALUE_READS and args and isinstance(args[0], torch.Tensor) and args[0].is_meta:
            self.branches += 1
            if self.branches > MAX_BRANCHES:
                raise NotImplementedError("the code keeps reading values the meta device does not have")
            return VALUE_READS[func]
        if getattr(func, "__name__", "") == "_make_dual":
            primal, tangent = args[0], args[1]
            if primal.device != tangent.device:
                raise RuntimeError(f"the tangent is on device {tangent.device}, not on the same device as "
                                   f"the primal ({primal.device})")
        return func(*args, **(kwargs or {}))


# ---------------------------------------------------------------------------
# The 2017-2023 module-level device switches
# ---------------------------------------------------------------------------

def _switches(impl):
    """{name: value} of the module's globals that decide a device: dtype = torch.FloatTensor,
    device = torch.device("cpu") or "cpu"."""
    found = {}
    for name, value in vars(impl).items():
        if name.startswith("__"):
            continue
        if any(value is t for t in LEGACY_CPU_TYPES) or (isinstance(value, torch.device) and value.type == "cpu") \
                or (isinstance(value, str) and value == "cpu" and "device" in name.lower()):
            found[name] = value
    return found


@contextmanager
def _switched(impl, switches, device):
    """The module's switches set to `device`, as the student sets them on a GPU; put back afterwards."""
    for name, value in switches.items():
        setattr(impl, name, _LegacyType(value, device) if any(value is t for t in LEGACY_CPU_TYPES) else
                (device if isinstance(value, torch.device) else str(device)))
    try:
        with _LegacyTypes():
            yield
    finally:
        for name, value in switches.items():
            setattr(impl, name, value)


class _LegacyType:
    """torch.FloatTensor as it would be on `device` (torch.cuda.FloatTensor on a GPU): callable like it, and
    understood by .type() (see _LegacyTypes)."""

    def __init__(self, legacy, device):
        self.dtype, self.device = legacy.dtype, device

    def __call__(self, *args):
        if len(args) == 1 and not isinstance(args[0], int):
            return torch.as_tensor(args[0], dtype=self.dtype, device=self.device)
        return torch.empty(args, dtype=self.dtype, device=self.device)


class _LegacyTypes(TorchFunctionMode):
    """x.type(dtype) with dtype a switched _LegacyType: x on its device, in its dtype."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        target = args[1] if len(args) > 1 else (kwargs or {}).get("dtype")
        if func is torch.Tensor.type and isinstance(target, _LegacyType):   # nn.Module.type comes here per tensor
            return args[0].to(target.device, target.dtype)
        return func(*args, **(kwargs or {}))


def _switch_note(switches):
    shown = ", ".join(f"{name} = {_shown(value)}" for name, value in switches.items())
    return (f"runs on a GPU only once your module-level {shown} is switched to the GPU (the 2017-2023 course "
            "code's switch): creating tensors on the inputs' device (torch.ones_like(x), device=x.device) needs "
            "no switch and runs anywhere")


def _shown(value):
    return f"torch.{value.__name__}" if isinstance(value, type) else repr(value)


def _message(impl, function, error, device):
    where = where_in(error, impl.__file__)
    at = f" at {where}" if where else ""
    if "numpy" in str(error):
        return (f"{function} calls .numpy() on a tensor{at}: on a GPU that raises (a GPU tensor is not in the "
                "computer's memory). Keep the computation in torch (torch.* functions work on any device)")
    shown = "PyTorch's 'meta' device (how the checks stand in for a GPU)" if device == PROBE else str(device)
    return (f"{function} mixes devices: given its inputs on another device than the CPU ({shown}), as when "
            f"training on a GPU, it met a tensor on the CPU{at}. PyTorch said: {str(error).splitlines()[0][:160]}. "
            "Create the tensors your code makes on the device of its inputs: torch.ones_like(x), "
            "torch.zeros(n, device=x.device), x.new_ones(n), or .to(x.device); it then runs on a CPU and on a GPU "
            "alike")
