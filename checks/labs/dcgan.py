"""The dcgan lab (the DCGAN paper's networks): its tasks, and the check of its weight initialisation
(its networks use the generic network check).

An initialisation is random, so there is no answer to compare with: the check
applies the student's function to a test network shaped like the paper's, and
the grader judges the weights it made (`judge_init` computes their statistics):
each convolution's weights must have mean 0 and standard deviation 0.02, each
BatchNorm's scales mean 1 and standard deviation 0.02 and its biases 0. The
tolerances allow for the sampling noise of each layer's size (thousands to
hundreds of thousands of weights), and nothing more.
"""

import math

import numpy as np
import torch
import torch.nn as nn

from checks.core.generic import check_network
from checks.core.helpers import fail
from checks.core.lab import Lab, Task
from checks.core.specs import Judged, Network

INIT_STD = 0.02


def init_test_network():
    """A network with every kind of layer the paper initialises (sizes of its 64 x 64 networks)."""
    network = nn.Sequential(
        nn.ConvTranspose2d(100, 512, 4, 1, 0, bias=False), nn.BatchNorm2d(512), nn.ReLU(),
        nn.Conv2d(512, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
        nn.Conv2d(128, 1, 4, 1, 0, bias=False), nn.Sigmoid())
    return network


def check_weights_init(impl, ref, task):
    name = task.spec.function or task.name
    init = getattr(impl, name)
    model = _seeded_test_network(ref.weights_seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(ref.weights_seed + 1)   # the initialisation's own draws, the same at every run
        result = model.apply(init)
    if result is not model:
        fail(f"model.apply({name}) did not return the model: {name} must not replace or return modules")
    # The weights themselves, not statistics of them: the grader computes the statistics from values it
    # can check against its own copy of the network (shapes, and what the initialisation changed).
    values = {}
    for i, layer in enumerate(_initialised(model)):
        values[f"w{i}"] = layer.weight.detach().float().cpu().numpy()
        if isinstance(layer, nn.BatchNorm2d):
            values[f"b{i}"] = layer.bias.detach().float().cpu().numpy()
    ref.expect(f"{task.name}_statistics", values, "", kind="init")
    return []


def _seeded_test_network(seed):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return init_test_network()


def _initialised(model):
    """The layers the paper initialises, in order."""
    return [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.BatchNorm2d))]


def judge_init(arrays, ref):
    """The verdict on the weights check_weights_init recorded: None, or what to fix.

    Every figure is computed here, from weights whose shapes must be those of this
    grader's own copy of the test network (built from the same seed, so it also
    knows which values the initialisation changed)."""
    layers = _initialised(_seeded_test_network(ref.weights_seed))
    rows = []
    for i, layer in enumerate(layers):
        got = [arrays.get(f"w{i}")] + ([arrays.get(f"b{i}")] if isinstance(layer, nn.BatchNorm2d) else [])
        wanted = [layer.weight] + ([layer.bias] if isinstance(layer, nn.BatchNorm2d) else [])
        if any(g is None or np.shape(g) != tuple(w.shape) or np.asarray(g).dtype.kind != "f"
               for g, w in zip(got, wanted)):
            return "the initialised weights could not be judged (missing, or not the test network's shapes)"
        w = np.asarray(got[0], dtype=np.float64)
        changed = float(np.mean(w != layer.weight.detach().double().numpy()))
        bias = float(np.abs(np.asarray(got[1], dtype=np.float64)).max()) if len(got) > 1 else 0.0
        rows.append((int(isinstance(layer, nn.BatchNorm2d)), float(w.mean()), float(w.std(ddof=1)), w.size,
                     changed, bias))
    if not np.isfinite(np.array(rows, dtype=np.float64)).all():
        return "the initialised weights hold inf or nan values: draw them from a normal distribution"
    for kind, mean, std, count, changed, bias in rows:
        what = "ConvTranspose2d/Conv2d weights" if kind == 0 else "BatchNorm2d weights (its scales)"
        target = 0.0 if kind == 0 else 1.0
        if kind == 1 and std < 1e-12 and abs(mean - 1) < 1e-12:
            return ("the BatchNorm2d weights (its scales) are all exactly 1, PyTorch's default: draw them from a "
                    "normal distribution with mean 1 and std 0.02 (nn.init.normal_(m.weight, 1.0, 0.02)); "
                    "is BatchNorm2d recognised (isinstance(m, nn.BatchNorm2d))?")
        if changed < 0.99:
            fix = ("recognise both Conv2d and ConvTranspose2d (isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)), "
                   "or 'Conv' in type(m).__name__)" if kind == 0 else
                   "recognise BatchNorm2d (isinstance(m, nn.BatchNorm2d), or 'BatchNorm' in type(m).__name__)")
            return f"the {what} were left as PyTorch made them: {fix}, and draw their weights anew"
        # Sampling noise of `count` draws: the mean wobbles by 0.02/sqrt(n), the std by 0.02/sqrt(2n).
        slack_mean = max(5 * INIT_STD / math.sqrt(count), 1e-4)
        slack_std = max(6 * INIT_STD / math.sqrt(2 * count), 2e-4)
        if abs(std - INIT_STD) > slack_std:
            hint = ""
            if math.isclose(std, math.sqrt(INIT_STD), rel_tol=0.05):
                hint = " That is sqrt(0.02): 0.02 is the standard deviation, not the variance."
            elif std < 1e-9:
                hint = " They are all the same value: draw them from a normal distribution (nn.init.normal_)."
            return (f"the {what} have standard deviation {std:.3g}, expected {INIT_STD} (a normal distribution "
                    f"with mean {target:g} and std {INIT_STD}).{hint}")
        if abs(mean - target) > slack_mean:
            hint = (" BatchNorm's weights are scales: drawn around 0, they switch the channels off. Draw them "
                    "around 1: nn.init.normal_(m.weight, 1.0, 0.02)." if kind == 1 and abs(mean) < 0.01 else "")
            return f"the {what} have mean {mean:.3g}, expected {target:g}.{hint}"
        if kind == 1 and bias > 1e-12:
            return f"the BatchNorm2d biases must start at 0 (nn.init.zeros_(m.bias)); the largest is {bias:.3g}"
    return None


def _dcgan_networks(prefix, image_shape):
    """The paper's generator and discriminator at one image size, as two tasks."""
    return (
        Task(f"{prefix}_generator", 2, check=check_network, spec=Network(
            f"{prefix}_generator", "noise", noise_dim=4, per_sample=False, default_size=True, seeded=True,
            makes=image_shape, norm_settings=True)),
        Task(f"{prefix}_discriminator", 2, check=check_network, spec=Network(
            f"{prefix}_discriminator", "images", per_sample=False, seeded=True, image_shape=image_shape,
            flat_advice=False, norm_settings=True)),
    )


LAB = Lab(
    name="dcgan", title="The DCGAN of the paper, on MNIST and on your own 64x64 images", uses=("gan_pytorch",),
    judges={"init": judge_init}, tasks=(
        Task("dcgan_weights_init", 2, check=check_weights_init, spec=Judged("statistics", "init")),
        *_dcgan_networks("dcgan", (1, 28, 28)),
        *_dcgan_networks("dcgan64", (3, 64, 64)),
        Task("guidelines_question", 2, kind="written"),
    ))
