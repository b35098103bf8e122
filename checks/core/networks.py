"""Networks in the checks: fixed test weights, layer traces, and small networks of the checks' own.

- Fixed weights: every layer that has parameters gets values drawn from its own
  seeded generator, so a student's network and the solution's compute the same
  function when they have the same architecture, however the modules are
  written or ordered. The weights are too big to store, so they are redrawn
  here from their seed; a checksum in the reference file proves they match.
- A trace: the input reaching each layer, and the output, for a fixed batch.
  Comparing traces layer by layer tells *where* a network differs.
- Small test networks with fixed weights, never a lab's answer: the checks of
  functions that take a network (a discriminator's features, a saliency map)
  run them on these.
"""

import torch
import torch.nn as nn

from checks.core.status import CheckFailure

NORM_LAYERS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm)
PARAM_LAYERS = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d, *NORM_LAYERS)


# Values per example stored of a layer's input or a network's output: beyond this, an evenly spaced
# sample (every k-th value of the flattened example). A wrong layer changes nearly every value, so a
# sample finds it as surely as the whole, and a 64 x 64 network's reference stays small.
SAMPLE_LIMIT = 2048


def sampled(values):
    """`values` (N, ...) as (N, m): each example flattened, every k-th value kept, m <= SAMPLE_LIMIT."""
    flat = values.reshape(len(values), -1)
    stride = -(-flat.shape[1] // SAMPLE_LIMIT)   # ceil: the same k for the same size, here and in the check
    return flat[:, ::stride]


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


def trace(model, layers, x, ran=None):
    """Run `model` on `x`; return (the input each of `layers` received, the output).

    Layers that never ran have None as input. Everything is returned as float64
    CPU tensors, detached. `x` goes to the device of the model's parameters (a
    student's code may have moved them to the GPU). If the model raises,
    NetworkCrashed says which layer it had reached. `ran`, a list, receives
    (module, output) for every module without children, in the order they ran:
    what the student's network did between two layers, in their own terms.
    """
    seen = [None] * len(layers)
    reached = [None]

    def hook(index):
        def record(_module, args):
            reached[0] = index
            if seen[index] is None:
                seen[index] = args[0].detach().double().cpu().clone()
        return record

    def log(module, _args, output):
        if isinstance(output, torch.Tensor):
            ran.append((module, output.detach().double().cpu().clone()))   # clone: an in-place op may follow

    device = next((p.device for p in model.parameters()), x.device)
    handles = [layer.register_forward_pre_hook(hook(i)) for i, layer in enumerate(layers)]
    if ran is not None:
        handles += [m.register_forward_hook(log) for m in model.modules() if not list(m.children())]
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


def with_fixed_weights(model, seed, dtype=torch.float64):
    """`model` with the fixed weights of `seed` (and running statistics, for BatchNorm), in `dtype`."""
    load_fixed_weights(param_layers(model), seed)
    gen = torch.Generator().manual_seed(seed)
    for norm in (m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)):
        # Statistics unlike any batch's: in eval mode the layer computes something else than in training mode.
        norm.running_mean.copy_(torch.rand(norm.num_features, generator=gen) - 0.5)
        norm.running_var.copy_(torch.rand(norm.num_features, generator=gen) + 0.5)
    return model.to(dtype)


def digit_discriminator():
    """A small convolutional discriminator of (1, 28, 28) digits (not the classic one: checks hold no lab's answer)."""
    return nn.Sequential(nn.Conv2d(1, 8, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(8, 16, 4, 2, 1), nn.LeakyReLU(0.2),
                         nn.Flatten(), nn.Linear(16 * 7 * 7, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))


def colour_discriminator():
    """A small discriminator of 3-channel 8 x 8 images, shaped unlike the other (no hard-coded index fits both)."""
    return nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.LeakyReLU(0.2), nn.Flatten(),
                         nn.Linear(64, 9), nn.ReLU(), nn.Linear(9, 6), nn.LeakyReLU(0.2), nn.Linear(6, 1))


def normed_discriminator():
    """A discriminator with BatchNorm and Dropout, in eval mode: as the labs pass a trained network. Put in
    training mode, it computes something else (batch statistics, dropped features)."""
    return nn.Sequential(nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.BatchNorm2d(4), nn.LeakyReLU(0.2),
                         nn.Dropout(0.5), nn.Flatten(), nn.Linear(4 * 6 * 6, 10), nn.LeakyReLU(0.2),
                         nn.Linear(10, 1)).eval()


# The test discriminators by name, with the (C, H, W) of the images each takes.
DISCRIMINATORS = {"digits": (digit_discriminator, (1, 28, 28)), "colour": (colour_discriminator, (3, 8, 8)),
                  "normed": (normed_discriminator, (1, 12, 12))}


def changes_in_training_mode(model):
    """True when `model` computes something else in training mode than in eval mode (BatchNorm, Dropout)."""
    return any(isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.modules.dropout._DropoutNd)) for m in model.modules())


def test_discriminator(name, weights_seed, dtype=torch.float64):
    """The test discriminator `name` with its fixed weights, and the image shape it takes."""
    build, shape = DISCRIMINATORS[name]
    return with_fixed_weights(build(), weights_seed + len(name), dtype), shape
