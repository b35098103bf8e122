"""Numeric helpers used by the notebooks and the checks (provided)."""

import inspect

import numpy as np
import torch


def rel_error(x, y):
    """Largest element-wise relative error between x and y (arrays, tensors or numbers).

    About 1e-7 or less means "the same up to floating-point rounding".
    """
    x = _as_numpy(x)
    y = _as_numpy(y)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def count_params(model):
    """Number of scalar parameters (weights and biases) in a PyTorch model."""
    return sum(p.numel() for p in model.parameters())


def get_device():
    """The best device on this machine: CUDA, then Apple's MPS, then the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def cpu_model_and_flags():
    """The CPU's model name and those of its flags that decide matrix-product speed (Linux; elsewhere none)."""
    name, flags = "unknown CPU", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and name == "unknown CPU":
                    name = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    return name, [f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16") if f in flags]


def native_bf16(device):
    """Whether `device` computes in bfloat16 in hardware: a CUDA GPU that supports it, or a CPU with
    AVX-512 BF16 or AMX. Elsewhere bf16 is emulated, and far slower than fp32."""
    device = torch.device(device)
    if device.type == "cuda":   # AMD GPUs, and NVIDIA's from Ampere (sm_80) on; a T4, Colab's free GPU, emulates it
        return torch.cuda.is_available() and (bool(torch.version.hip) or torch.cuda.get_device_capability(device) >= (8, 0))
    if device.type == "cpu":
        flags = cpu_model_and_flags()[1]
        return "avx512_bf16" in flags or "amx_bf16" in flags
    return False


def accepts(function, name):
    """True when `function` can be called with the keyword argument `name`."""
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):   # a builtin or other callable without a signature: assume it does
        return True
    return name in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


def call_classic(function, *args, seed=None, **kwargs):
    """Call a student function written against any year's classic API.

    The assignment's signatures changed over the years: 2017-2019 had
    `sample_noise(batch_size, dim)`, `discriminator()` and `build_dc_classifier()`;
    later years added `seed=` and `batch_size`. Keyword arguments the function
    does not take are left out, and a seed it does not take is applied with
    torch.manual_seed before the call (which is all a seed argument does).
    """
    kwargs = {k: v for k, v in kwargs.items() if accepts(function, k)}
    if seed is None:
        return function(*args, **kwargs)
    if accepts(function, "seed"):
        return function(*args, seed=seed, **kwargs)
    torch.random.manual_seed(seed)   # (worded unlike the solutions: a release must not contain their lines)
    return function(*args, **kwargs)


def _as_numpy(x):
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().double().numpy()
    return np.asarray(x, dtype=np.float64)
