"""Numeric helpers used by the notebooks and the checks (provided)."""

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


def _as_numpy(x):
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().double().numpy()
    return np.asarray(x, dtype=np.float64)
