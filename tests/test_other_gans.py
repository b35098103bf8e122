"""The BatchNorm MLP GAN and the paper's DCGAN labs: plausible mistakes fail with the fix in the message,
and correct solutions written the way their source code bases write them pass."""

import pytest

from checks.registry import LABS

DCGAN, MLP_GAN = LABS["dcgan"], LABS["mlp_gan"]
from checks.runner import run_checks
from tests.conftest import edit_function, replace_function, shown

LABS = {"mlp_gan": MLP_GAN, "dcgan": DCGAN}

MISTAKES = [
    # lab, function, what the student did, old text, new text, hint the message must contain
    ("mlp_gan", "mlp_generator", "momentum=0.8 (the trap)", "nn.BatchNorm1d(n_out, eps=BN_EPS)",
     "nn.BatchNorm1d(n_out, momentum=0.8)", "the 0.8 belongs to eps"),
    ("mlp_gan", "mlp_generator", "default eps", "nn.BatchNorm1d(n_out, eps=BN_EPS)", "nn.BatchNorm1d(n_out)",
     "expected eps=0.8"),
    ("mlp_gan", "mlp_generator", "eps right, momentum changed", "nn.BatchNorm1d(n_out, eps=BN_EPS)",
     "nn.BatchNorm1d(n_out, eps=BN_EPS, momentum=0.8)", "expected 0.1 (the default)"),
    ("mlp_gan", "mlp_generator", "BatchNorm in the first block too", "block(latent_dim, 128, normalize=False)",
     "block(latent_dim, 128)", "BatchNorm1d(128)"),
    ("mlp_gan", "mlp_generator", "LeakyReLU slope 0.01", "nn.LeakyReLU(SLOPE)", "nn.LeakyReLU(0.01)",
     "LeakyReLU(negative_slope=0.2)"),
    ("mlp_gan", "mlp_generator", "missing Tanh", "nn.Tanh(), ", "", "Tanh()"),
    ("mlp_gan", "mlp_generator", "latent size hard-coded", "block(latent_dim, 128", "block(LATENT_DIM, 128",
     "parameters, expected"),
    ("mlp_gan", "mlp_discriminator", "missing Sigmoid", ", nn.Sigmoid()", "", "Sigmoid()"),
    ("mlp_gan", "mlp_discriminator", "ReLU instead of LeakyReLU", "nn.Linear(IMAGE_DIM, 512), nn.LeakyReLU(SLOPE)",
     "nn.Linear(IMAGE_DIM, 512), nn.ReLU()", "LeakyReLU(negative_slope=0.2)"),
    ("mlp_gan", "mlp_discriminator_loss", "the classic sum instead of the average", "return (real + fake) / 2",
     "return real + fake", "twice the expected"),
    ("mlp_gan", "mlp_generator_loss", "target 0", "torch.ones_like(scores_fake)", "torch.zeros_like(scores_fake)",
     "target 1"),
    ("mlp_gan", "mlp_optimizer", "default betas", ", betas=BETAS", "", "betas"),

    ("dcgan", "dcgan_weights_init", "variance 0.02 instead of the std", "nn.init.normal_(m.weight, 0.0, INIT_STD)",
     "nn.init.normal_(m.weight, 0.0, INIT_STD ** 0.5)", "not the variance"),
    ("dcgan", "dcgan_weights_init", "std 0.2", "nn.init.normal_(m.weight, 0.0, INIT_STD)",
     "nn.init.normal_(m.weight, 0.0, 0.2)", "standard deviation 0.2"),
    ("dcgan", "dcgan_weights_init", "BatchNorm scales around 0", "nn.init.normal_(m.weight, 1.0, INIT_STD)",
     "nn.init.normal_(m.weight, 0.0, INIT_STD)", "around 1"),
    ("dcgan", "dcgan_weights_init", "BatchNorm left alone", "nn.init.normal_(m.weight, 1.0, INIT_STD)\n", "pass\n",
     "all exactly 1"),
    ("dcgan", "dcgan_weights_init", "only Conv2d, not ConvTranspose2d", "(nn.Conv2d, nn.ConvTranspose2d)",
     "nn.Conv2d", "recognise both Conv2d and ConvTranspose2d"),
    ("dcgan", "dcgan_weights_init", "xavier instead of N(0, 0.02)", "nn.init.normal_(m.weight, 0.0, INIT_STD)",
     "nn.init.xavier_normal_(m.weight)", "expected 0.02"),
    ("dcgan", "dcgan_generator", "BatchNorm on the output layer", "nn.ConvTranspose2d(128, 1, 4, 2, 1, bias=False), ",
     "nn.ConvTranspose2d(128, 1, 4, 2, 1, bias=False), nn.BatchNorm2d(1), ", "BatchNorm2d(1)"),
    ("dcgan", "dcgan_generator", "LeakyReLU in G", "nn.BatchNorm2d(256), nn.ReLU()",
     "nn.BatchNorm2d(256), nn.LeakyReLU(0.2)", "ReLU()"),
    ("dcgan", "dcgan_generator", "missing Tanh", "bias=False), nn.Tanh())", "bias=False))", "Tanh()"),
    ("dcgan", "dcgan_generator", "biases in the convolutions", "nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False)",
     "nn.ConvTranspose2d(256, 128, 4, 2, 1)", "bias=False"),
    ("dcgan", "dcgan_discriminator", "BatchNorm on the input layer", "nn.Conv2d(1, 64, 4, 2, 1, bias=False), ",
     "nn.Conv2d(1, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), ", "BatchNorm2d(64)"),
    ("dcgan", "dcgan_discriminator", "LeakyReLU slope 0.01", "nn.BatchNorm2d(128), nn.LeakyReLU(SLOPE)",
     "nn.BatchNorm2d(128), nn.LeakyReLU(0.01)", "LeakyReLU(negative_slope=0.2)"),
    ("dcgan", "dcgan_discriminator", "missing Sigmoid", "nn.Sigmoid(), ", "", "Sigmoid()"),
    ("dcgan", "dcgan64_discriminator", "ReLU instead of LeakyReLU", "nn.BatchNorm2d(c_out), nn.LeakyReLU(SLOPE)",
     "nn.BatchNorm2d(c_out), nn.ReLU()", "LeakyReLU(negative_slope=0.2)"),
    ("dcgan", "dcgan_generator", "noise fed to the first ConvTranspose2d unreshaped",
     "        Unflatten(C=noise_dim, H=1, W=1),\n", "", "reshape it to (N, 4, 1, 1)"),
    ("dcgan", "dcgan64_generator", "stride 1 on the first layer forgotten", "1 if i == 0 else 2, 0 if i == 0 else 1",
     "2, 1", "received shape"),
]


@pytest.fixture(scope="module")
def references():
    return {name: lab.answers() for name, lab in LABS.items()}


def _check(tmp_path, references, lab, source, function):
    path = tmp_path / f"{LABS[lab].module}.py"
    path.write_text(source)
    [result] = run_checks(path, [function], reference=references[lab], lab=LABS[lab])
    return result


@pytest.mark.parametrize("lab, function, mistake, old, new, hint", MISTAKES, ids=[f"{m[1]}: {m[2]}" for m in MISTAKES])
def test_mistake_fails_with_a_helpful_message(tmp_path, references, lab, function, mistake, old, new, hint):
    source = edit_function(LABS[lab].solution_file.read_text(), function, old, new)
    result = _check(tmp_path, references, lab, source, function)
    assert result.status == "FAIL", f"{mistake!r} was not caught: {shown(result)}"
    assert hint in result.message, f"the message for {mistake!r} should mention {hint!r}; it says:\n{result.message}"


# Correct solutions as their code bases write them: PyTorch-GAN's gan.py (classes, a block() helper,
# BatchNorm1d(out_feat, 0.8) with eps positional, img.view), PyTorch's examples/dcgan/main.py (classes
# with self.main, weights_init by class name, output .view(-1, 1).squeeze(1)).
VARIANTS = [
    ("mlp_gan", "mlp_generator", "PyTorch-GAN's Generator class", '''
def mlp_generator(latent_dim=LATENT_DIM, seed=None):
    if seed is not None:
        torch.manual_seed(seed)

    class Generator(nn.Module):
        def __init__(self):
            super(Generator, self).__init__()

            def block(in_feat, out_feat, normalize=True):
                layers = [nn.Linear(in_feat, out_feat)]
                if normalize:
                    layers.append(nn.BatchNorm1d(out_feat, 0.8))
                layers.append(nn.LeakyReLU(0.2, inplace=True))
                return layers

            self.model = nn.Sequential(
                *block(latent_dim, 128, normalize=False),
                *block(128, 256),
                *block(256, 512),
                *block(512, 1024),
                nn.Linear(1024, int(np.prod(img_shape))),
                nn.Tanh()
            )

        def forward(self, z):
            img = self.model(z)
            img = img.view(img.size(0), *img_shape)
            return img

    import numpy as np
    img_shape = (1, 28, 28)
    return Generator()
'''),
    ("mlp_gan", "mlp_discriminator", "PyTorch-GAN's Discriminator class", '''
def mlp_discriminator(seed=None):
    if seed is not None:
        torch.manual_seed(seed)

    class Discriminator(nn.Module):
        def __init__(self):
            super(Discriminator, self).__init__()
            self.model = nn.Sequential(
                nn.Linear(784, 512),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Linear(512, 256),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Linear(256, 1),
                nn.Sigmoid(),
            )

        def forward(self, img):
            img_flat = img.view(img.size(0), -1)
            validity = self.model(img_flat)
            return validity

    return Discriminator()
'''),
    ("mlp_gan", "mlp_discriminator_loss", "nn.BCELoss and the original's Tensor switch", '''
Tensor = torch.cuda.FloatTensor if torch.cuda.is_available() else torch.FloatTensor


def mlp_discriminator_loss(scores_real, scores_fake):
    adversarial_loss = torch.nn.BCELoss()
    valid = Tensor(scores_real.size(0), 1).fill_(1.0).view(scores_real.shape)
    fake = Tensor(scores_fake.size(0), 1).fill_(0.0).view(scores_fake.shape)
    real_loss = adversarial_loss(scores_real, valid)
    fake_loss = adversarial_loss(scores_fake, fake)
    d_loss = (real_loss + fake_loss) / 2
    return d_loss
'''),
    ("dcgan", "dcgan_weights_init", "examples/dcgan's weights_init by class name", '''
def dcgan_weights_init(m):
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        m.weight.data.normal_(0.0, 0.02)
    elif classname.find('BatchNorm') != -1:
        m.weight.data.normal_(1.0, 0.02)
        m.bias.data.fill_(0)
'''),
    ("dcgan", "dcgan64_generator", "examples/dcgan's Generator class (input (N, nz, 1, 1))", '''
def dcgan64_generator(noise_dim=NOISE_DIM, seed=None):
    if seed is not None:
        torch.manual_seed(seed)
    nz, ngf, nc = noise_dim, 64, 3

    class Generator(nn.Module):
        def __init__(self):
            super(Generator, self).__init__()
            self.main = nn.Sequential(
                nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False),
                nn.BatchNorm2d(ngf * 8),
                nn.ReLU(True),
                nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ngf * 4),
                nn.ReLU(True),
                nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ngf * 2),
                nn.ReLU(True),
                nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ngf),
                nn.ReLU(True),
                nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
                nn.Tanh()
            )

        def forward(self, input):
            return self.main(input.view(input.size(0), nz, 1, 1))

    return Generator()
'''),
    ("dcgan", "dcgan64_discriminator", "examples/dcgan's Discriminator class (output (N,))", '''
def dcgan64_discriminator(seed=None):
    if seed is not None:
        torch.manual_seed(seed)
    ndf, nc = 64, 3

    class Discriminator(nn.Module):
        def __init__(self):
            super(Discriminator, self).__init__()
            self.main = nn.Sequential(
                nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ndf * 2),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ndf * 4),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ndf * 8),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),
                nn.Sigmoid()
            )

        def forward(self, input):
            output = self.main(input)
            return output.view(-1, 1).squeeze(1)

    return Discriminator()
'''),
]


@pytest.mark.parametrize("lab, function, variant, code", VARIANTS, ids=[f"{v[1]}: {v[2]}" for v in VARIANTS])
def test_correct_variant_passes(tmp_path, references, lab, function, variant, code):
    source = replace_function(LABS[lab].solution_file.read_text(), function, code)
    result = _check(tmp_path, references, lab, source, function)
    assert result.status == "PASS", f"{variant} should pass: {shown(result)}"


@pytest.mark.parametrize("lab, key, count", [
    ("mlp_gan", "mlp_generator_default_param_count", 1_510_032),     # the counts, latent 100
    ("mlp_gan", "mlp_discriminator_param_count", 533_505),
    ("dcgan", "dcgan_generator_default_param_count", 1_781_504),
    ("dcgan", "dcgan_discriminator_param_count", 138_624),
    ("dcgan", "dcgan64_generator_default_param_count", 3_576_704),   # PyTorch's examples/dcgan, nz=100
    ("dcgan", "dcgan64_discriminator_param_count", 2_765_568),
])
def test_parameter_counts(references, lab, key, count):
    assert int(references[lab][key]) == count


@pytest.mark.parametrize("lab", list(LABS))
def test_the_guarded_autograder_grades_the_lab(tmp_path, lab):
    """Visible and hidden tests as `make autograde` runs them (sandboxed worker, blind references): the
    solution passes everything, the released stubs nothing, and the eps/momentum trap fails with its message."""
    import numpy as np

    from checks.isolated import grade_file
    from checks.sandbox import Sandbox, available
    from tools.make_reference import HIDDEN, build_reference

    hidden = tmp_path / "hidden.npz"
    np.savez_compressed(hidden, **build_reference(LABS[lab], **HIDDEN))
    references = {"visible": LABS[lab].reference_file, "hidden": hidden}
    sandbox = Sandbox() if available() else None
    solution = grade_file(LABS[lab].solution_file, references, lab=LABS[lab], sandbox=sandbox)
    assert solution["error"] is None, solution
    for label, results in solution["report"].items():
        assert [r["status"] for r in results] == ["PASS"] * len(LABS[lab].functions), (label, results)
    stubs = grade_file(LABS[lab].student_file, references, lab=LABS[lab], sandbox=sandbox)
    assert {r["status"] for r in stubs["report"]["visible"]} == {"NOT IMPLEMENTED"}
    if lab == "mlp_gan":
        trap = tmp_path / "mlp_gan.py"
        trap.write_text(edit_function(LABS[lab].solution_file.read_text(), "mlp_generator",
                                      "nn.BatchNorm1d(n_out, eps=BN_EPS)", "nn.BatchNorm1d(n_out, momentum=0.8)"))
        graded = {r["name"]: r for r in grade_file(trap, references, lab=LABS[lab], sandbox=sandbox)["report"]["hidden"]}
        assert graded["mlp_generator"]["status"] == "FAIL" and "belongs to eps" in graded["mlp_generator"]["message"]
