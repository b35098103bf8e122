"""What the checks and the reference generator share.

- The reference answers file and a reader that records which keys were read.
- How each network is built for checking (noise_dim 4, as the classic tests).
- Fixed weights: every layer that has parameters gets values drawn from its own
  seeded generator, so a student's network and the solution's compute the same
  function when they have the same architecture, however the modules are
  written or ordered. The weights are too big to store, so they are redrawn
  here from their seed; a checksum in the reference file proves they match.
- A trace: the input reaching each layer, and the output, for a fixed batch.
  Comparing traces layer by layer tells *where* a network differs.
"""

from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

REFERENCE_FILE = Path(__file__).resolve().parent / "reference_answers.npz"
HIDDEN_REFERENCE_FILE = REFERENCE_FILE.with_name("hidden_reference.npz")  # instructors only: never released

# The public reference file's settings; the file records its own (meta_weights_seed,
# meta_batch), so a hidden reference made with other ones is checked the same way.
WEIGHTS_SEED = 231
BATCH = 5  # an odd batch size: catches networks that assume the training batch size

# name in the reference file -> (student function, keyword arguments)
NETWORKS = {
    "discriminator": ("discriminator", {}),
    "generator": ("generator", {"noise_dim": 4}),
    "dc_classifier": ("build_dc_classifier", {"batch_size": 128}),
    "dc_generator": ("build_dc_generator", {"noise_dim": 4}),
}

PARAM_LAYERS = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d, nn.BatchNorm1d, nn.BatchNorm2d)


class CheckFailure(AssertionError):
    """A check found a difference; the message tells the student what to fix."""


class ReferenceAnswers:
    """The reference file, read lazily; remembers every key a check asked for."""

    def __init__(self, path=REFERENCE_FILE):
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
    """A layer's type and weight shape, e.g. 'Linear(784 -> 256)' or 'Conv2d(1 -> 32, 5x5)'."""
    name = type(layer).__name__
    if isinstance(layer, nn.Linear):
        return f"{name}({layer.in_features} -> {layer.out_features})"
    if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
        k = "x".join(map(str, layer.kernel_size))
        return f"{name}({layer.in_channels} -> {layer.out_channels}, {k})"
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

    if isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
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


def trace(model, layers, x):
    """Run `model` on `x`; return (the input each of `layers` received, the output).

    Layers that never ran have None as input. Everything is returned as float64
    tensors, detached.
    """
    seen = [None] * len(layers)

    def hook(index):
        def record(_module, args):
            if seen[index] is None:
                seen[index] = args[0].detach().double().clone()
        return record

    handles = [layer.register_forward_pre_hook(hook(i)) for i, layer in enumerate(layers)]
    try:
        output = model(x)
    finally:
        for h in handles:
            h.remove()
    if not isinstance(output, torch.Tensor):
        raise CheckFailure(f"the network returned a {type(output).__name__}, not a tensor")
    return seen, output.detach().double()
