"""What one training iteration's arithmetic costs on this machine: its floor.

Nearly all of a GAN iteration's arithmetic is in matrix products and
convolutions (forward and backward). This module records those operations as
one iteration really runs them (their shapes, memory layouts and dtypes, bf16
included when autocast is on), then replays each one alone, on random tensors
of the same kind, and times it. Summed, that is the time the iteration would
take if it did nothing but its matrix products at the speed this machine runs
them: the floor. Its rate (FLOP / floor time) is "the machine's rate at the
model's own shapes", which small or thin products never reach as fast as one
big square product does.

    calls = record(lambda: step())          # the products of one call of step()
    floor = replay(calls)                   # Floor(flop=..., seconds=...)
    peak_rate(torch.bfloat16)               # a large square product, for comparison
"""

import time
from collections import Counter
from dataclasses import dataclass

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode, flop_registry


@dataclass(frozen=True)
class TensorSpec:
    """Shape, strides (memory layout), dtype and device of a tensor: enough to make another like it."""
    shape: tuple
    stride: tuple
    dtype: torch.dtype
    device: str

    def make(self):
        # Filled as a flat buffer, then viewed with the strides: an expanded tensor (stride 0) shares its elements.
        size = 1 + sum((n - 1) * st for n, st in zip(self.shape, self.stride)) if all(self.shape) else 0
        base = torch.empty(size, dtype=self.dtype, device=self.device)
        base = base.normal_() if base.is_floating_point() else base.zero_()
        return base.as_strided(self.shape, self.stride)


def _spec(x):
    if isinstance(x, torch.Tensor):
        return TensorSpec(tuple(x.shape), tuple(x.stride()), x.dtype, str(x.device))
    return tuple(_spec(v) for v in x) if isinstance(x, (list, tuple)) else x


def _make(x):
    if isinstance(x, TensorSpec):
        return x.make()
    return [_make(v) for v in x] if isinstance(x, tuple) and any(isinstance(v, TensorSpec) for v in x) else x


class _Recorder(TorchDispatchMode):
    """Notes every operation that has a FLOP formula (matrix products, convolutions) as it runs."""

    def __init__(self):
        super().__init__()
        self.calls = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func.overloadpacket in flop_registry:
            self.calls[(func, tuple(_spec(a) for a in args), tuple(sorted((k, _spec(v)) for k, v in kwargs.items())))] += 1
        return func(*args, **kwargs)


def record(step):
    """The matrix products and convolutions `step()` runs: {(op, args, kwargs): how many times}."""
    recorder = _Recorder()
    with recorder:
        step()
    return recorder.calls


@dataclass
class Floor:
    flop: float          # floating-point operations of the recorded products (multiply and add: 2 each)
    seconds: float       # their summed time, each run alone

    @property
    def rate(self):
        """FLOP per second at these shapes."""
        return self.flop / self.seconds


def replay(calls, min_seconds=0.05, device_sync=None):
    """Time each recorded call alone (best of repeated runs, after a warm-up) and sum: the floor."""
    flop = seconds = 0.0
    for (func, args, kwargs), count in calls.items():
        real_args = [_make(a) for a in args]
        kwargs = {k: _make(v) for k, v in kwargs}
        with FlopCounterMode(display=False) as counter:
            func(*real_args, **kwargs)
        flop += counter.get_total_flops() * count
        seconds += _best_time(lambda: func(*real_args, **kwargs), min_seconds, device_sync) * count
    return Floor(flop, seconds)


def _best_time(fn, min_seconds, device_sync):
    sync = device_sync or (lambda: None)
    fn()                                     # warm-up: kernel choice, caches
    sync()
    best, spent, runs = float("inf"), 0.0, 0
    while spent < min_seconds or runs < 3:
        start = time.perf_counter()
        fn()
        sync()
        took = time.perf_counter() - start
        best, spent, runs = min(best, took), spent + took, runs + 1
    return best


def peak_rate(dtype=torch.float32, device="cpu", n=2048, min_seconds=0.3):
    """FLOP per second of one large square matrix product (n x n @ n x n): the machine's headline rate."""
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    sync = torch.cuda.synchronize if torch.device(device).type == "cuda" else None
    return 2 * n ** 3 / _best_time(lambda: a @ b, min_seconds, sync)
