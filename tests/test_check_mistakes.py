"""Plausible student mistakes fail their check, with a message that points at the fix.

Each case edits one function of the solution (the edit must apply exactly once,
so the test breaks loudly if the solution changes) and asserts the check FAILs
with a message containing the given hint.
"""

import pytest
import torch

from tests.conftest import SOLUTION_FILE, edit_function, shown

SOLUTION = SOLUTION_FILE.read_text()

SEED = "    if seed is not None:\n        torch.manual_seed(seed)\n"

MISTAKES = [
    # function, what the student did, old text, new text, hint the message must contain
    ("sample_noise", "noise in [0, 1)", "torch.rand(batch_size, dim) * 2 - 1", "torch.rand(batch_size, dim)",
     "only span"),
    ("sample_noise", "noise in [-0.5, 0.5]", "torch.rand(batch_size, dim) * 2 - 1", "torch.rand(batch_size, dim) - 0.5",
     "only span"),
    ("sample_noise", "normal noise", "torch.rand(batch_size, dim) * 2 - 1", "torch.randn(batch_size, dim)",
     "normal distribution"),
    ("sample_noise", "normal noise clipped to [-1, 1]", "torch.rand(batch_size, dim) * 2 - 1",
     "torch.randn(batch_size, dim).clamp(-1, 1)", "not uniform"),
    ("sample_noise", "seed ignored", SEED, "", "not reproducible"),
    ("sample_noise", "seeded even without a seed", SEED, "    torch.manual_seed(seed or 0)\n", "without a seed"),
    ("sample_noise", "`if seed:` skips seed=0", SEED, "    if seed:\n        torch.manual_seed(seed)\n",
     "seed=0 is a seed"),
    ("sample_noise", "one noise vector repeated in every row", "return torch.rand(batch_size, dim) * 2 - 1",
     "return (torch.rand(1, dim) * 2 - 1).repeat(batch_size, 1)", "identical"),
    ("sample_noise", "shape transposed", "torch.rand(batch_size, dim)", "torch.rand(dim, batch_size)",
     "expected (5, 7)"),

    ("discriminator", "LeakyReLU slope 0.2", "nn.Linear(IMAGE_DIM, 256),\n        nn.LeakyReLU(0.01)",
     "nn.Linear(IMAGE_DIM, 256),\n        nn.LeakyReLU(0.2)",
     "the reference applies: LeakyReLU(negative_slope=0.01)\n      yours applies:         LeakyReLU(negative_slope=0.2)"),
    ("discriminator", "ReLU instead of LeakyReLU", "nn.Linear(256, 256),\n        nn.LeakyReLU(0.01)",
     "nn.Linear(256, 256),\n        nn.ReLU()",
     "the reference applies: LeakyReLU(negative_slope=0.01)\n      yours applies:         ReLU()"),
    ("discriminator", "sigmoid at the end", "nn.Linear(256, 1),", "nn.Linear(256, 1), nn.Sigmoid(),",
     "no sigmoid)\n      yours applies:         Sigmoid()"),
    ("discriminator", "missing activation between layers", "nn.Linear(256, 256),\n        nn.LeakyReLU(0.01),",
     "nn.Linear(256, 256),",
     "reaching Linear(256 -> 1) (your module [4], the 5th of your 5)"),
    ("discriminator", "hidden layer too small", "nn.Linear(256, 256)", "nn.Linear(256, 128)",
     "parameters, expected 267,009"),
    ("discriminator", "seed ignored", SEED, "", "not reproducible"),
    ("discriminator", "no Flatten before the first Linear", "        Flatten(),\n", "",
     "a Linear layer needs flat vectors"),

    ("generator", "missing Tanh", "nn.Tanh(),", "", "Tanh()"),
    ("generator", "sigmoid instead of Tanh", "nn.Tanh(),", "nn.Sigmoid(),",
     "the reference applies: Tanh()\n      yours applies:         Sigmoid()"),
    ("generator", "missing ReLU between layers", "nn.Linear(1024, 1024),\n        nn.ReLU(),",
     "nn.Linear(1024, 1024),", "ReLU()"),
    ("generator", "LeakyReLU instead of ReLU", "nn.Linear(noise_dim, 1024),\n        nn.ReLU(),",
     "nn.Linear(noise_dim, 1024),\n        nn.LeakyReLU(0.01),", "ReLU()"),
    ("generator", "noise size hard-coded", "nn.Linear(noise_dim, 1024)", "nn.Linear(NOISE_DIM, 1024)",
     "expected 1,858,320"),
    ("generator", "seed ignored", SEED, "", "not reproducible"),

    ("bce_loss", "naive sigmoid then log",
     "loss = input.clamp(min=0) - input * target + torch.log1p(torch.exp(-input.abs()))",
     "s = torch.sigmoid(input)\n    loss = -(target * torch.log(s) + (1 - target) * torch.log(1 - s))",
     "not numerically stable"),
    ("bce_loss", "BCELoss on sigmoid (clamps the log at -100)",
     "loss = input.clamp(min=0) - input * target + torch.log1p(torch.exp(-input.abs()))",
     "loss = F.binary_cross_entropy(torch.sigmoid(input), target, reduction='none')",
     "not numerically stable"),
    ("bce_loss", "sum instead of mean", "loss.mean()", "loss.sum()", "not .sum()"),
    ("bce_loss", "no reduction", "return loss.mean()", "return loss", "scalar tensor"),
    ("bce_loss", "leaves the autograd graph", "return loss.mean()", "return torch.tensor(loss.mean().item())",
     "without a gradient"),

    ("discriminator_loss", "swapped labels", "bce_loss(logits_real, torch.ones_like(logits_real))",
     "bce_loss(logits_real, torch.zeros_like(logits_real))", "target 1"),
    ("discriminator_loss", "average of the two losses", "return loss_real + loss_fake",
     "return (loss_real + loss_fake) / 2", "half the expected"),
    ("discriminator_loss", "only the real term", "return loss_real + loss_fake", "return loss_real",
     "SUM of the two"),

    ("generator_loss", "BCE on a sigmoid (PyTorch clamps its log at -100)",
     "return bce_loss(logits_fake, torch.ones_like(logits_fake))",
     "return F.binary_cross_entropy(torch.sigmoid(logits_fake), torch.ones_like(logits_fake))", "not numerically stable"),
    ("discriminator_loss", "log(sigmoid) written inline",
     "    loss_real = bce_loss(logits_real, torch.ones_like(logits_real))\n"
     "    loss_fake = bce_loss(logits_fake, torch.zeros_like(logits_fake))\n",
     "    loss_real = -torch.log(torch.sigmoid(logits_real)).mean()\n"
     "    loss_fake = -torch.log(1 - torch.sigmoid(logits_fake)).mean()\n", "not numerically stable"),
    ("discriminator_loss", "the fake logits detached", "bce_loss(logits_fake, torch.zeros_like(logits_fake))",
     "bce_loss(logits_fake.detach(), torch.zeros_like(logits_fake))", "does not depend on logits_fake"),
    ("bce_loss", "right on (N,) but broadcast to (N, N) on (N, 1)", "input * target", "input * target.view(-1)",
     "broadcast to (N, N)"),
    ("get_optimizer", "maximize=True", "betas=ADAM_BETAS)", "betas=ADAM_BETAS, maximize=True)", "maximize=True"),
    ("generator_loss", "saturating loss log(1 - D(G(z)))", "return bce_loss(logits_fake, torch.ones_like(logits_fake))",
     "return -bce_loss(logits_fake, torch.zeros_like(logits_fake))", "never negative"),
    ("generator_loss", "target 0", "torch.ones_like(logits_fake)", "torch.zeros_like(logits_fake)", "target 1"),

    ("get_optimizer", "wrong learning rate", "lr=LEARNING_RATE", "lr=2e-4", "lr is 0.0002, expected 0.001"),
    ("get_optimizer", "default betas", ", betas=ADAM_BETAS", "", "betas"),
    ("get_optimizer", "SGD", "torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, betas=ADAM_BETAS)",
     "torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)", "torch.optim.Adam"),
    ("get_optimizer", "only some parameters", "model.parameters()", "list(model.parameters())[:1]",
     "all the model's parameters"),

    ("ls_discriminator_loss", "missing 0.5", "return 0.5 * ((scores_real - 1) ** 2).mean() + 0.5 * (scores_fake ** 2).mean()",
     "return ((scores_real - 1) ** 2).mean() + (scores_fake ** 2).mean()", "factor 0.5"),
    ("ls_discriminator_loss", "sum instead of mean", "((scores_real - 1) ** 2).mean() + 0.5 * (scores_fake ** 2).mean()",
     "((scores_real - 1) ** 2).sum() + 0.5 * (scores_fake ** 2).sum()", "not .sum()"),
    ("ls_discriminator_loss", "swapped targets", "((scores_real - 1) ** 2).mean() + 0.5 * (scores_fake ** 2).mean()",
     "(scores_real ** 2).mean() + 0.5 * ((scores_fake - 1) ** 2).mean()", "0.5 times a mean"),
    ("ls_generator_loss", "missing 0.5", "0.5 * ((scores_fake - 1) ** 2).mean()", "((scores_fake - 1) ** 2).mean()",
     "factor 0.5"),
    ("ls_generator_loss", "target 0", "((scores_fake - 1) ** 2)", "(scores_fake ** 2)", "Check the formula"),

    ("build_dc_classifier", "average pooling", "nn.LeakyReLU(0.01),\n        nn.MaxPool2d(kernel_size=2, stride=2),\n        Flatten()",
     "nn.LeakyReLU(0.01),\n        nn.AvgPool2d(kernel_size=2, stride=2),\n        Flatten()", "MaxPool2d"),
    ("build_dc_classifier", "LeakyReLU slope 0.2", "nn.Linear(64 * 4 * 4, 1024),\n        nn.LeakyReLU(0.01)",
     "nn.Linear(64 * 4 * 4, 1024),\n        nn.LeakyReLU(0.2)", "LeakyReLU(negative_slope=0.01)"),
    ("build_dc_classifier", "ReLU instead of LeakyReLU", "nn.Conv2d(1, 32, kernel_size=5, stride=1),\n        nn.LeakyReLU(0.01)",
     "nn.Conv2d(1, 32, kernel_size=5, stride=1),\n        nn.ReLU()", "LeakyReLU(negative_slope=0.01)"),
    ("build_dc_classifier", "sigmoid at the end", "nn.Linear(1024, 1),", "nn.Linear(1024, 1), nn.Sigmoid(),",
     "no sigmoid"),

    ("build_dc_generator", "BatchNorm before ReLU", "nn.ReLU(),\n        nn.BatchNorm1d(1024),",
     "nn.BatchNorm1d(1024),\n        nn.ReLU(),", "applies: ReLU()"),
    ("build_dc_generator", "BatchNorm2d before ReLU", "nn.ReLU(),\n        nn.BatchNorm2d(64),",
     "nn.BatchNorm2d(64),\n        nn.ReLU(),", "applies: ReLU()"),
    ("build_dc_generator", "missing Tanh", "nn.Tanh(),", "", "Tanh()"),
    ("build_dc_generator", "no final flatten", "        Flatten(),\n", "", "flatten the images"),
    ("build_dc_generator", "noise size hard-coded", "nn.Linear(noise_dim, 1024)", "nn.Linear(NOISE_DIM, 1024)",
     "expected 6,580,801"),
]


@pytest.mark.parametrize("function, mistake, old, new, hint", MISTAKES, ids=[f"{m[0]}: {m[1]}" for m in MISTAKES])
def test_mistake_fails_with_a_helpful_message(check_source, function, mistake, old, new, hint):
    result = check_source(edit_function(SOLUTION, function, old, new), function)
    assert result.status == "FAIL", f"{mistake!r} was not caught: {shown(result)}"
    assert hint in result.message, f"the message for {mistake!r} should mention {hint!r}; it says:\n{result.message}"


GPU_ONLY = [
    # function, what the student wrote for a GPU, old text, new text
    ("sample_noise", "dtype = torch.cuda.FloatTensor", "return torch.rand(batch_size, dim) * 2 - 1",
     "return (torch.rand(batch_size, dim) * 2 - 1).type(torch.cuda.FloatTensor)"),
    ("generator_loss", "targets made with device='cuda'", "torch.ones_like(logits_fake)",
     "torch.ones(logits_fake.shape, device='cuda')"),
    ("discriminator", "the network moved with .cuda()", "        nn.Linear(256, 1),\n    )",
     "        nn.Linear(256, 1),\n    ).cuda()"),
]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU: such code runs")
@pytest.mark.parametrize("function, what, old, new", GPU_ONLY, ids=[f"{g[0]}: {g[1]}" for g in GPU_ONLY])
def test_code_that_needs_a_gpu_says_so_in_one_line(check_source, function, what, old, new):
    result = check_source(edit_function(SOLUTION, function, old, new), function)
    assert result.status == "FAIL"
    assert result.message.startswith("your code needs a GPU (CUDA) and this machine has none"), result.message
    assert "gan_pytorch.py line" in result.message and "cuda" in result.message, result.message
    assert "\n" not in result.message and "Traceback" not in result.message
