"""What the checks and the reference generator share.

- The reference answers file and a reader that records which keys were read.
- Fixed weights: every layer that has parameters gets values drawn from its own
  seeded generator, so a student's network and the solution's compute the same
  function when they have the same architecture, however the modules are
  written or ordered. The weights are too big to store, so they are redrawn
  here from their seed; a checksum in the reference file proves they match.
- A trace: the input reaching each layer, and the output, for a fixed batch.
  Comparing traces layer by layer tells *where* a network differs.
"""

import traceback
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn


# The public reference files' settings; the file records its own (meta_weights_seed,
# meta_batch), so a hidden reference made with other ones is checked the same way.
WEIGHTS_SEED = 231
BATCH = 5  # an odd batch size: catches networks that assume the training batch size

NORM_LAYERS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm)
PARAM_LAYERS = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d, *NORM_LAYERS)


class CheckFailure(AssertionError):
    """A check found a difference; the message tells the student what to fix."""


class ReferenceAnswers:
    """The reference file, read lazily; remembers every key a check asked for."""

    def __init__(self, path):
        self.path = Path(path)
        with np.load(self.path, allow_pickle=False) as data:
            self._arrays = {k: data[k] for k in data.files}
        self.used = set()

    def keys(self):
        return set(self._arrays)

    @property
    def weights_seed(self):
        return int(self["meta_weights_seed"])

    @property
    def batch(self):
        return int(self["meta_batch"])

    def __getitem__(self, key):
        self.used.add(key)
        return self._arrays[key]

    def tensor(self, key, requires_grad=False):
        """The array under `key` as a float64 tensor (a fresh copy each time)."""
        return torch.tensor(self[key], dtype=torch.float64, requires_grad=requires_grad)

    def strings(self, key):
        return [str(s) for s in self[key]]


def param_layers(model):
    """The modules of `model` that own weights, in registration order."""
    return [m for m in model.modules() if isinstance(m, PARAM_LAYERS)]


def signature(layer):
    """A layer's type and weight shape, e.g. 'Linear(784 -> 256)' or 'Conv2d(1 -> 32, 5x5)'.

    The type is the PyTorch class it is (a subclass of BatchNorm2d counts as BatchNorm2d).
    """
    name = next(kind.__name__ for kind in PARAM_LAYERS if isinstance(layer, kind))
    if isinstance(layer, nn.Linear):
        return f"{name}({layer.in_features} -> {layer.out_features})"
    if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
        k = "x".join(map(str, layer.kernel_size))
        return f"{name}({layer.in_channels} -> {layer.out_channels}, {k})"
    if isinstance(layer, nn.LayerNorm):
        return f"{name}({', '.join(map(str, layer.normalized_shape))})"
    return f"{name}({layer.num_features})"


def fixed_weights(layer, index, seed):
    """Deterministic values for every parameter of `layer`, the `index`-th of its network.

    Weights are uniform with variance 1/fan_in (activations keep their scale
    through the network), biases are small and of both signs (so activations
    see negative inputs and a wrong slope shows), BatchNorm scales are around 1.
    """
    g = torch.Generator().manual_seed(seed * 1000 + index)

    def uniform(shape, low, high):
        return torch.rand(shape, generator=g, dtype=torch.float64) * (high - low) + low

    if isinstance(layer, NORM_LAYERS):
        return {"weight": uniform(layer.weight.shape, 0.5, 1.5),
                "bias": uniform(layer.bias.shape, -0.5, 0.5)}
    fan_in = layer.weight[0].numel() if not isinstance(layer, nn.ConvTranspose2d) \
        else layer.weight.shape[0] * layer.weight[0, 0].numel() // 4  # stride 2: a quarter of the taps
    bound = (3.0 / fan_in) ** 0.5
    values = {"weight": uniform(layer.weight.shape, -bound, bound)}
    if layer.bias is not None:
        values["bias"] = uniform(layer.bias.shape, -0.2, 0.2)
    return values


def load_fixed_weights(layers, seed):
    """Overwrite the parameters of `layers` (in reference order) with the fixed weights for `seed`.

    Returns the sum of all values written: the checksum stored in the reference file.
    """
    total = 0.0
    with torch.no_grad():
        for index, layer in enumerate(layers):
            for name, value in fixed_weights(layer, index, seed).items():
                getattr(layer, name).copy_(value)
                total += float(value.sum())
    return total


class NetworkCrashed(Exception):
    """The student's network raised while running; `reached` is the last layer it got to (or None)."""

    def __init__(self, error, reached, seen):
        super().__init__(str(error))
        self.error, self.reached, self.seen = error, reached, seen


def trace(model, layers, x):
    """Run `model` on `x`; return (the input each of `layers` received, the output).

    Layers that never ran have None as input. Everything is returned as float64
    CPU tensors, detached. `x` goes to the device of the model's parameters (a
    student's code may have moved them to the GPU). If the model raises,
    NetworkCrashed says which layer it had reached.
    """
    seen = [None] * len(layers)
    reached = [None]

    def hook(index):
        def record(_module, args):
            reached[0] = index
            if seen[index] is None:
                seen[index] = args[0].detach().double().cpu().clone()
        return record

    device = next((p.device for p in model.parameters()), x.device)
    handles = [layer.register_forward_pre_hook(hook(i)) for i, layer in enumerate(layers)]
    try:
        output = model(x.to(device))
    except (RuntimeError, ValueError, TypeError, IndexError, AttributeError, AssertionError) as e:
        raise NetworkCrashed(e, reached[0], seen) from e
    finally:
        for h in handles:
            h.remove()
    if not isinstance(output, torch.Tensor):
        raise CheckFailure(f"the network returned a {type(output).__name__}, not a tensor")
    return seen, output.detach().double().cpu()


def needs_gpu(error):
    """True when `error` is PyTorch saying that CUDA is missing (code written for a GPU, run without one)."""
    text = str(error)
    return (not torch.cuda.is_available()
            and any(s in text for s in ("NVIDIA driver", "not compiled with CUDA", "No CUDA GPUs",
                                        "CUDA driver", "cuda.FloatTensor", "CUDA error")))


def describe_error(error, path):
    """'ValueError: msg (gan_pytorch.py line 57: `code`)', pointing into the file at `path` if possible.

    Code that needs a GPU, run where there is none, is said so in words.
    """
    path = Path(path).resolve()
    frames = [f for f in traceback.extract_tb(error.__traceback__) if Path(f.filename).resolve() == path]
    where = f"{path.name} line {frames[-1].lineno}: `{(frames[-1].line or '').strip()}`" if frames else None
    if needs_gpu(error):
        return ("your code needs a GPU (CUDA) and this machine has none"
                + (f" ({where})" if where else "")
                + ". Create tensors on the CPU or on the device of the inputs (torch.ones_like(x), "
                "device=x.device) instead of torch.cuda.FloatTensor or .cuda(); the notebook moves the "
                "networks to the GPU when there is one")
    return f"{type(error).__name__}: {error}" + (f" ({where})" if where else "")
