"""The mode_collapse lab (after *Make Your Own GAN*): its tasks and checks.

The networks and losses are checked with the generic checks
(checks/core/generic.py), once per configuration: naive and improved networks,
MSE and BCE, SGD and Adam. `diversity` is checked by value on a fixed batch,
with hints for the likely slips (pairs of an image with itself counted,
squared distances).
"""

import dataclasses
import math

import torch

from checks.core.generic import check_loss, check_network, check_optimizer
from checks.core.helpers import expect_tensor, fail, unique
from checks.core.lab import Lab, Task
from checks.core.specs import Loss, Network, Optimizer, Value, Variants


def _variants(task):
    """The task once per configuration of its Variants spec: name `<task>_<label>`, that configuration's spec."""
    return [dataclasses.replace(task, name=f"{task.name}_{label}", spec=spec) for label, spec in task.spec.specs]


def check_network_variants(impl, ref, task):
    return unique(note for variant in _variants(task) for note in check_network(impl, ref, variant))


def check_loss_variants(impl, ref, task):
    return unique(note for variant in _variants(task) for note in check_loss(impl, ref, variant))


def check_optimizer_variants(impl, ref, task):
    for variant in _variants(task):
        check_optimizer(impl, ref, variant)
    return []


def check_diversity(impl, ref, task):
    images = ref.tensor(f"{task.name}_images")
    n = len(images)
    for shape in ((n, 784), (n, 1, 28, 28)):
        got = impl.diversity(images.reshape(shape))
        expect_tensor(got, "diversity")
        if got.numel() != 1:
            fail(f"diversity returned shape {tuple(got.shape)}: it must be one number (a scalar tensor)")
        ref.expect(f"{task.name}_output", got.detach().reshape(()),
                   f"on a batch of {n} images shaped {shape}, diversity returned {{value:.6g}}, expected "
                   "{expected:.6g}. {hint}", kind="value", hint=("diversity",))
    same = images[:1].repeat(5, 1)
    value = float(impl.diversity(same).detach().reshape(()))
    if abs(value) > 1e-4:
        fail(f"five copies of one image should have diversity 0 (they are all the same); yours gives {value:.4g}")
    return []


def diversity_hint(value, expected, ref, key):
    """Why a diversity value may be off: the likely slips, recognised by their values (the verdict's hint)."""
    images = ref.tensor(key[:-len("_output")] + "_images")
    n = len(images)
    x = images.reshape(n, -1)
    squared = torch.cdist(x, x) ** 2
    if math.isclose(value, expected * (n - 1) / n, rel_tol=1e-4):
        return (f"Your value is {n - 1}/{n} of the expected one: the N distances of each image to itself "
                "(0) were averaged in; average over the N * (N - 1) / 2 pairs of different images only.")
    if math.isclose(value, float(squared.sum()) / (n * (n - 1)), rel_tol=1e-4):
        return "That is the mean SQUARED distance: take the square root of each squared distance before averaging."
    if math.isclose(value, 2 * expected, rel_tol=1e-4):
        return "Your value is twice the expected one: is each pair counted twice but divided by the pairs once?"
    return "Average ||x_i - x_j|| over every pair of different images i < j (flatten each image first)."


def _improved(spec, **fields):
    """The naive and the improved configuration of a mode-collapse network."""
    return Variants(tuple((label, Network(kwargs=(("improved", improved),), **fields, **spec))
                          for label, improved in (("naive", False), ("improved", True))))


# The lab trains its small networks on the CPU (a GPU would not be faster): no device probe.
LAB = Lab(
    name="mode_collapse", title="Mode collapse and its cures (Make Your Own GAN)",
    hints={"diversity": diversity_hint}, tasks=(
        Task("make_discriminator", 2, check=check_network_variants, cpu_only=True,
             spec=_improved({"function": "make_discriminator"}, takes="flat", low=0.0, seeded=True)),
        Task("make_generator", 2, check=check_network_variants, cpu_only=True, spec=_improved(
            {"function": "make_generator"}, takes="noise", noise_dim=4, default_size=True, low=0.0, seeded=True)),
        Task("gan_loss", 2, check=check_loss_variants, cpu_only=True, spec=Variants(tuple(
            (kind, Loss(("scores", "target"), kwargs=(("kind", kind),), probabilities=True, function="gan_loss",
                        hint=hint))
            for kind, hint in (("mse", "the mean of (scores - target)^2"),
                               ("bce", "-mean(target * log(scores) + (1 - target) * log(1 - scores))"))))),
        Task("make_optimizer", 1, check=check_optimizer_variants, cpu_only=True, spec=Variants(tuple(
            (kind, Optimizer(kwargs=(("kind", kind),), function="make_optimizer")) for kind in ("sgd", "adam")))),
        Task("diversity", 2, check=check_diversity, cpu_only=True, spec=Value((("images", ("N", 784)),))),
        Task("equilibrium_question", 2, kind="written"),
    ))
