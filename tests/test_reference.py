"""The reference answers: reproducible from solutions/, exactly the keys the checks read,
and the conventions the issue pins (parameter counts, loss formulas) hold."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from checks.registry import LABS, MAIN
from checks.runner import run_checks
from gan_assignment.provided.modules import load_module
from tests.conftest import SOLUTION_FILE
from tools.make_reference import build_reference

MINMAX = ([-1, -2, -1, 1, 2, 1], [2, 1, -1, -2, -1, 1])   # the classic notebook's table, worked out by hand


@pytest.fixture(scope="module")
def solution():
    return load_module(SOLUTION_FILE)


@pytest.mark.parametrize("lab", list(LABS.values()), ids=list(LABS))
def test_reference_file_is_reproducible_from_the_solutions(lab):
    fresh = build_reference(lab)
    reference = lab.answers()
    committed = {k: reference[k] for k in reference.keys()}
    assert set(fresh) == set(committed), "keys changed: run `make refs`"
    drifted = []
    for key, value in fresh.items():
        if key == "meta_torch_version":
            continue
        old = committed[key]
        if value.dtype.kind in "fc":
            same = value.shape == old.shape and np.allclose(value, old, rtol=1e-10, atol=1e-12)
        else:
            same = np.array_equal(value, old)
        if not same:
            drifted.append(key)
    assert not drifted, f"reference answers drifted from solutions/ (run `make refs`): {drifted}"


@pytest.mark.parametrize("lab", list(LABS.values()), ids=list(LABS))
def test_reference_file_holds_exactly_what_the_checks_read(lab):
    ref = lab.answers()
    results = run_checks(lab.solution_file, reference=ref, lab=lab)
    assert all(r.passed for r in results)
    if lab is MAIN:
        values = dict(zip(("x_values", "y_values"), MINMAX))
        assert lab.task("minmax").spec.status("minmax", values, ref)[0] == "PASS"
    # answers a spec declares for its hints alone: read by the grader only when a value is wrong
    for_hints = {k for t in lab.tasks if hasattr(t.spec, "hint_keys") for k in t.spec.hint_keys(t.name)}
    assert for_hints <= ref.keys(), f"hint keys missing from the reference file: {sorted(for_hints - ref.keys())}"
    unread = {k for k in ref.keys() - ref.used - for_hints if not k.startswith("meta_")}
    assert not unread, f"dead keys in the reference file: {sorted(unread)}"


@pytest.mark.parametrize("key, count", [
    ("discriminator_param_count", 267_009),
    ("generator_param_count", 1_858_320),          # noise_dim 4
    ("build_dc_classifier_param_count", 1_102_721),
    ("build_dc_generator_param_count", 6_580_801),  # noise_dim 4
])
def test_parameter_counts_are_the_classic_ones(reference, key, count):
    assert int(reference[key]) == count


def test_optimizer_settings_are_the_classic_ones(reference):
    assert str(reference["get_optimizer_class"]) == "Adam"
    assert float(reference["get_optimizer_lr"]) == 1e-3
    assert tuple(reference["get_optimizer_betas"]) == (0.5, 0.999)


def _bce(x, target):
    return F.binary_cross_entropy_with_logits(x, target)  # mean over the batch


def test_loss_conventions_hold_exactly(solution):
    g = torch.Generator().manual_seed(5)
    real, fake = torch.randn(64, 1, generator=g, dtype=torch.float64), torch.randn(64, 1, generator=g, dtype=torch.float64)
    ones, zeros = torch.ones_like(real), torch.zeros_like(real)
    # the SUM of the two BCE means, not their average
    assert torch.allclose(solution.discriminator_loss(real, fake), _bce(real, ones) + _bce(fake, zeros), rtol=1e-12)
    # non-saturating generator loss
    assert torch.allclose(solution.generator_loss(fake), _bce(fake, ones), rtol=1e-12)
    # least squares, with the 0.5 factors, means over the batch
    assert torch.allclose(solution.ls_discriminator_loss(real, fake),
                          0.5 * ((real - 1) ** 2).mean() + 0.5 * (fake ** 2).mean(), rtol=1e-12)
    assert torch.allclose(solution.ls_generator_loss(fake), 0.5 * ((fake - 1) ** 2).mean(), rtol=1e-12)


def test_bce_is_exact_for_huge_logits(solution):
    x = torch.tensor([100.0, -100.0, 1e4, -1e4, 30.0])
    target = torch.tensor([0.0, 1.0, 0.0, 1.0, 1.0])
    loss = solution.bce_loss(x, target)
    assert torch.isfinite(loss)
    assert abs(float(loss) - (100 + 100 + 1e4 + 1e4 + 9.357623e-14) / 5) < 1e-3
