"""The gan_pytorch lab (the classic CS231n assignment): its tasks, and the check of sample_noise.

Its networks, losses and optimiser are checked by the generic checks
(checks/core/generic.py) from the specs below; sample_noise draws random
numbers, so there is no answer to compare with: the check records the draws and
`judge_noise` (handed to the comparison core as the judge "noise") decides.
"""

import torch

from checks.core.generic import check_loss, check_network, check_optimizer
from checks.core.helpers import SEED_DRAWS, expect_tensor, fail, judge_seeds, seedless_note
from checks.core.lab import Lab, Task
from checks.core.specs import Judged, Loss, Network, Optimizer, Weights
from checks.core.status import CheckFailure
from checks.core.table import Table
from gan_assignment.provided.utils import accepts, call_classic

MINMAX_HINT = ("not right yet. Each step: first y moves UP its gradient (y <- y + df/dy), then x moves DOWN its "
               "gradient (x <- x - df/dx) using the new y; start from (1, 1)")


def check_sample_noise(impl, ref, task):
    small = impl.sample_noise(5, 7)
    expect_tensor(small, "sample_noise")
    small = small.cpu()  # noise made on the GPU is fine
    if tuple(small.shape) != (5, 7):
        fail(f"sample_noise(5, 7) returned shape {tuple(small.shape)}, expected (5, 7) = (batch_size, dim)")
    if not small.dtype.is_floating_point:
        fail(f"sample_noise returned dtype {small.dtype}; noise must be floating point (torch.float32)")

    takes_seed = accepts(impl.sample_noise, "seed")
    draws = {"noise": impl.sample_noise(256, 1000), "takes_seed": takes_seed}
    for label, seed in SEED_DRAWS:
        draws[label] = call_classic(impl.sample_noise, 4, 6, seed=seed)
    draws["unseeded"], draws["unseeded_again"] = impl.sample_noise(4, 6), impl.sample_noise(4, 6)
    for label, value in draws.items():
        if label != "takes_seed":
            expect_tensor(value, f"sample_noise ({label})")
    ref.expect("sample_noise_draws", draws, "", kind="noise")
    return [] if takes_seed else [seedless_note("sample_noise")]


def judge_noise(draws, ref=None):
    """The verdict on sample_noise's draws (plain arrays, see check_sample_noise): None or what to fix.
    (`ref`, the reference answers, holds nothing a random draw could be compared with.)"""
    try:
        _judge_noise({k: torch.as_tensor(v) for k, v in draws.items()})
    except CheckFailure as e:
        return str(e)
    except (KeyError, TypeError, ValueError, RuntimeError) as e:  # draws that no check of ours made
        return f"sample_noise's draws could not be judged ({type(e).__name__}: {e})"
    return None


def _judge_noise(draws):
    noise = draws["noise"].double()
    if tuple(noise.shape) != (256, 1000):
        fail(f"sample_noise(256, 1000) returned shape {tuple(noise.shape)}, expected (256, 1000)")
    for label in [label for label, _ in SEED_DRAWS] + ["unseeded", "unseeded_again"]:
        if tuple(draws[label].shape) != (4, 6) or not draws[label].dtype.is_floating_point:
            fail(f"sample_noise(4, 6) returned shape {tuple(draws[label].shape)} ({label}), expected (4, 6)")
    if not torch.isfinite(noise).all():
        fail("sample_noise returned inf or nan values")
    low, high = float(noise.min()), float(noise.max())
    if low < -1 or high > 1:
        fail(f"values must lie in [-1, 1], but they span [{low:.3f}, {high:.3f}]"
              + (" (torch.randn draws from a normal distribution, not a uniform one)" if high > 1.5 else ""))
    if low > -0.99 or high < 0.99:
        fail(f"values only span [{low:.3f}, {high:.3f}]; uniform noise in [-1, 1] covers the whole "
              "interval. torch.rand gives [0, 1): stretch and shift it onto [-1, 1]")
    if len(torch.unique(noise, dim=0)) < len(noise):
        fail("some of the 256 noise vectors are identical: draw every vector (every row) independently")
    if float(noise.std(dim=1).min()) < 0.3:
        fail("within a noise vector all values are (nearly) the same: draw each of the dim values independently")
    shares = torch.histc(noise, bins=10, min=-1, max=1) / noise.numel()
    if (shares - 0.1).abs().max() > 0.01:
        fail("values are not uniform over [-1, 1]: the share of values in each tenth of the interval "
              f"ranges from {float(shares.min()):.1%} to {float(shares.max()):.1%} (uniform gives 10% each)")

    judge_seeds(lambda label: draws[label], "sample_noise(4, 6, seed=...)", bool(draws["takes_seed"]))
    if torch.equal(draws["unseeded"], draws["unseeded_again"]):
        fail("two calls without a seed returned the same noise: only call torch.manual_seed when seed is not None")


LAB = Lab(
    name="gan_pytorch", title="GANs on MNIST: vanilla GAN, LSGAN and DCGAN", required=True,
    judges={"noise": judge_noise}, tasks=(
        Task("sample_noise", 1, check=check_sample_noise, spec=Judged()),
        Task("discriminator", 2, check=check_network, spec=Network("discriminator", "images", seeded=True)),
        Task("generator", 2, check=check_network,
             spec=Network("generator", "noise", noise_dim=4, default_size=True, seeded=True)),
        Task("bce_loss", 2, check=check_loss,
             # the classic callers pass (N,) logits and targets; (N, 1) targets are advice
             spec=Loss(("input", "target"), shapes=("N",), advice_shapes=("N1",), extreme=True,
                       extreme_hint="use the identity in the docstring")),
        Task("discriminator_loss", 1, check=check_loss, builds_on=("bce_loss",), spec=Loss(
            ("logits_real", "logits_fake"), extreme=True,
            hint="real images have target 1 and fake images target 0, and the loss is the SUM of the two mean losses")),
        Task("generator_loss", 1, check=check_loss, builds_on=("bce_loss",), spec=Loss(
            ("logits_fake",), extreme=True, hint="the generator wants its fakes called real: use target 1 (the non-saturating loss)")),
        Task("get_optimizer", 1, check=check_optimizer, spec=Optimizer()),
        Task("ls_discriminator_loss", 1, check=check_loss, spec=Loss(
            ("scores_real", "scores_fake"), hint="each of the two terms is 0.5 times a mean over the batch")),
        Task("ls_generator_loss", 1, check=check_loss, spec=Loss(
            ("scores_fake",), hint="the loss is 0.5 times a mean over the batch")),
        Task("build_dc_classifier", 2, check=check_network,
             spec=Network("build_dc_classifier", "images", batch_size_arg=True)),
        Task("build_dc_generator", 2, check=check_network,
             spec=Network("build_dc_generator", "noise", noise_dim=4, per_sample=False, default_size=True)),
        Task("dcgan_coverage", 2, kind="weights", builds_on=("build_dc_generator",),
             spec=Weights(builder="build_dc_generator", classes=10)),
        Task("minmax", 2, kind="table", spec=Table(("x_values", "y_values"), length=6, hint=MINMAX_HINT, title="min-max table")),
        Task("inline_question_2", 2, kind="written"),
        Task("inline_question_3", 2, kind="written"),
    ))
