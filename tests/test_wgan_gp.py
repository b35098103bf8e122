"""The WGAN-GP lab: the gradient penalty's classic slips fail with the fix in the message, the ways the
penalty is written in the wild pass, and the penalty and the training loop do what the paper says."""

import dataclasses

import pytest
import torch

from checks.registry import LABS

LAB = LABS["wgan_gp"]
from gan_assignment.provided.modules import load_module
from tests.conftest import check_in_lab, edit_function, grade_guarded, replace_function, shown

SOLUTION = LAB.solution_file.read_text()

MISTAKES = [
    ("gradient_penalty", "the penalty on the real images", ("critic(x_hat).sum(), x_hat", "critic(real_).sum(), real_"),
     "at the real images"),
    ("gradient_penalty", "the penalty on the fake images", ("critic(x_hat).sum(), x_hat", "critic(fake_).sum(), fake_"),
     "at the fake images"),
    ("gradient_penalty", "real and fake swapped in the interpolation",
     ("weight * real + (1 - weight) * fake", "weight * fake + (1 - weight) * real"), "swapped"),
    ("gradient_penalty", "the square missing", ("((norms - 1) ** 2).mean()", "(norms - 1).abs().mean()"),
     "without the square"),
    ("gradient_penalty", "the norm over the channels only", ("gradient.flatten(1).norm(dim=1)",
                                                            "gradient.norm(dim=1)"), "cut into 4 channels"),
    ("gradient_penalty", "the norm over the whole batch", ("gradient.flatten(1).norm(dim=1)", "gradient.norm()"),
     "the whole batch's gradient"),
    ("gradient_penalty", "the squared norm", ("gradient.flatten(1).norm(dim=1)", "(gradient.flatten(1) ** 2).sum(1)"),
     "the squared norm"),
    ("gradient_penalty", "lambda forgotten", ("return lam * ((norms - 1) ** 2).mean()",
                                              "return ((norms - 1) ** 2).mean()"), "lam is not used"),
    ("gradient_penalty", "create_graph=True forgotten",
     ("torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)",
      "torch.autograd.grad(critic(x_hat).sum(), x_hat)"), "create_graph=True"),
    ("gradient_penalty", "the gradient of the mean score", ("critic(x_hat).sum()", "critic(x_hat).mean()"),
     "MEAN score"),
    ("gradient_penalty", "its own fractions drawn", ("weight = epsilon.reshape(", "weight = torch.rand_like(epsilon).reshape("),
     "use the epsilon you are given"),
    ("gradient_penalty", "a one-sided penalty", ("((norms - 1) ** 2).mean()", "((norms - 1).clamp(min=0) ** 2).mean()"),
     "one-sided"),
    ("gradient_penalty", "a mean over the batch missing", ("((norms - 1) ** 2).mean()", "((norms - 1) ** 2).sum()"),
     "a sum over the examples"),
    ("wgan_critic_loss", "the estimate's sign flipped", ("return -distance +", "return distance +"), "sign flipped"),
    ("wgan_critic_loss", "the penalty forgotten", ("return -distance + gradient_penalty(critic, real, fake, epsilon, lam)",
                                                   "return -distance"), "is the gradient penalty added"),
    ("gradient_penalty", "a one-sided penalty on norms below 1 only",
     ("((norms - 1) ** 2).mean()", "((1 - norms).clamp(min=0) ** 2).mean()"), "4 times steeper"),
    ("gradient_penalty", "epsilon reshaped in place", ("weight = epsilon.reshape(-1, *[1] * (real.dim() - 1))",
                                                       "weight = epsilon.unsqueeze_(1).unsqueeze_(2).unsqueeze_(3)"),
     "in place"),
    ("wgan_critic_loss", "lam not passed on", ("return -distance + gradient_penalty(critic, real, fake, epsilon, lam)",
                                               "return -distance + gradient_penalty(critic, real, fake, epsilon)"),
     "with lam passed on"),
    ("wgan_critic_loss", "the penalty's value only (.item())",
     ("return -distance + gradient_penalty(critic, real, fake, epsilon, lam)",
      "return -distance + gradient_penalty(critic, real, fake, epsilon, lam).item()"),
     "sends a different gradient"),
    ("wgan_generator_loss", "the critic's sign", ("return -scores_fake.mean()", "return scores_fake.mean()"),
     "-mean(scores_fake)"),
    ("wgan_generator_loss", "the classic non-saturating loss", ("return -scores_fake.mean()",
                                                                "return -torch.log(torch.sigmoid(scores_fake)).mean()"),
     "-mean(scores_fake)"),
]

VARIANTS = [
    ("gradient_penalty", "the common style: alpha of shape (N, 1, ...), grad_outputs, view and norm(2)", '''
def gradient_penalty(critic, real, fake, epsilon, lam=10.0):
    alpha = epsilon.view(-1, *([1] * (real.dim() - 1)))
    interpolates = (alpha * real + ((1 - alpha) * fake)).requires_grad_(True)
    d_interpolates = critic(interpolates)
    gradients = torch.autograd.grad(outputs=d_interpolates, inputs=interpolates,
                                    grad_outputs=torch.ones_like(d_interpolates),
                                    create_graph=True, retain_graph=True, only_inputs=True)[0]
    gradients = gradients.view(gradients.size(0), -1)
    return ((gradients.norm(2, dim=1) - 1) ** 2).mean() * lam
'''),
    ("gradient_penalty", "a stabilised norm, expand_as, torch.lerp", '''
def gradient_penalty(critic, real, fake, epsilon, lam=10.0):
    eps = epsilon.view(-1, *[1] * (real.dim() - 1)).expand_as(real)
    x = torch.lerp(fake, real, eps).detach()
    x.requires_grad = True
    g = torch.autograd.grad(critic(x).sum(), x, create_graph=True)[0]
    norm = torch.sqrt(torch.sum(g.reshape(len(g), -1) ** 2, dim=1) + 1e-12)
    return lam * torch.mean((norm - 1.0) ** 2)
'''),
    ("gradient_penalty", "float32 inside", '''
def gradient_penalty(critic, real, fake, epsilon, lam=10.0):
    e = epsilon.float().reshape(len(epsilon), *[1] * (real.dim() - 1))
    x = (e * real.float() + (1 - e) * fake.float()).requires_grad_()
    (g,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return lam * (g.flatten(1).norm(dim=1) - 1).pow(2).mean()
'''),
    ("wgan_critic_loss", "a single expression with torch.mean", '''
def wgan_critic_loss(critic, real, fake, epsilon, lam=10.0):
    return torch.mean(critic(fake)) - torch.mean(critic(real)) + gradient_penalty(critic, real, fake, epsilon, lam=lam)
'''),
    ("wgan_generator_loss", "torch.mean with a minus", '''
def wgan_generator_loss(scores_fake):
    return -torch.mean(scores_fake)
'''),
]


@pytest.fixture(scope="module")
def reference():
    return LAB.answers()


def _source(function, change):
    if isinstance(change, tuple):
        old, new = change
        source = SOLUTION
        if "real_" in new or "fake_" in new:   # the penalty taken at a copy of the real or fake images
            which = "real_" if "real_" in new else "fake_"
            source = edit_function(source, function, "    (gradient,)",
                                   f"    {which} = {which[:-1]}.detach().clone().requires_grad_(True)\n    (gradient,)")
        return edit_function(source, function, old, new)
    return replace_function(SOLUTION, function, change)


def _check(tmp_path, reference, source, function):
    return check_in_lab(tmp_path, LAB, reference, source, function)


@pytest.mark.parametrize("function, mistake, change, hint", MISTAKES, ids=[f"{m[0]}: {m[1]}" for m in MISTAKES])
def test_mistake_fails_with_a_helpful_message(tmp_path, reference, function, mistake, change, hint):
    result = _check(tmp_path, reference, _source(function, change), function)
    assert result.status == "FAIL", f"{mistake} should fail: {shown(result)}"
    assert hint in result.message, f"{mistake}: the message should say {hint!r}, it says: {result.message}"


@pytest.mark.parametrize("function, variant, code", VARIANTS, ids=[f"{v[0]}: {v[1]}" for v in VARIANTS])
def test_correct_variant_passes(tmp_path, reference, function, variant, code):
    result = _check(tmp_path, reference, _source(function, code), function)
    assert result.status == "PASS", f"{variant}: {shown(result)}"


def test_the_guarded_autograder_grades_the_lab(tmp_path):
    """Visible and hidden tests as `make autograde` runs them (sandboxed worker, blind references)."""
    grade_guarded(tmp_path, LAB, _source("gradient_penalty", ("((norms - 1) ** 2).mean()", "(norms - 1).abs().mean()")),
                  "gradient_penalty", "without the square")


# ---------------------------------------------------------------------------
# What the lab shows, with the solutions
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def solution():
    return load_module(LAB.solution_file)


def test_a_one_lipschitz_linear_critic_pays_no_penalty_and_a_steeper_one_pays_lambda_times_the_excess(solution):
    real, fake, epsilon = torch.rand(16, 1, 28, 28), torch.rand(16, 1, 28, 28), torch.rand(16)
    for slope in (1.0, 3.0):
        w = torch.randn(784)
        w *= slope / w.norm()
        penalty = solution.gradient_penalty(lambda x: x.flatten(1) @ w, real, fake, epsilon)
        assert penalty.item() == pytest.approx(10 * (slope - 1) ** 2, abs=1e-4)


def test_wgan_gp_training_lowers_the_critics_wasserstein_estimate_as_g_catches_up(solution):
    """On a toy problem (real: bright 2 x 2 'images'; G starts dark) the estimate of W falls as G learns.

    The paper's lr of 1e-4 would take G thousands of steps to cross the gap; lr 1e-2 makes it a test."""
    from gan_assignment.provided import wgan_gp as wgan
    from gan_assignment.provided.config import NOISE_DIM

    torch.manual_seed(0)
    images = torch.rand(512, 1, 2, 2) * 0.2 + 0.7
    critic = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 32), torch.nn.LeakyReLU(0.2),
                                 torch.nn.Linear(32, 1))
    G = torch.nn.Sequential(torch.nn.Linear(NOISE_DIM, 4), torch.nn.Tanh())
    with torch.no_grad():
        G[0].bias.fill_(-2.0)                                     # G starts with dark images
    history = wgan.train_wgan_gp(solution, critic, G, images, seconds=120, progress=False, max_iterations=600,
                                  settings=dataclasses.replace(wgan.PAPER, lr=1e-2))
    early, late = history["wasserstein"][10:30], history["wasserstein"][-20:]
    assert history["iterations"] == 600
    assert sum(late) / len(late) < 0.3 * sum(early) / len(early), (early, late)
    with torch.no_grad():
        made = G(torch.rand(256, NOISE_DIM) * 2 - 1).mean()
    assert abs(float(made) - float(images.mean() * 2 - 1)) < 0.2, "G's images should be about as bright as the data"
