"""The conditional GAN lab: labels ignored, shuffled or one-hot of the wrong size fail with the fix in the
message, the ways conditional networks are written in the wild pass, and the provided loop trains one."""

import pytest
import torch

from checks.registry import LABS

LAB = LABS["cgan"]
from gan_assignment.provided.modules import load_module
from tests.conftest import check_in_lab, edit_function, grade_guarded, replace_function, shown

SOLUTION = LAB.solution_file.read_text()

MISTAKES = [
    ("conditional_generator", "the labels never reach the network",
     ("return self.net(torch.cat([z, one_hot], dim=1))", "return self.net(torch.cat([z, 0 * one_hot], dim=1))"),
     "ignores the labels"),
    ("conditional_generator", "a one-hot one column too wide",
     [("one_hot = F.one_hot(labels, num_classes).to(z.dtype)", "one_hot = F.one_hot(labels, num_classes + 1).to(z.dtype)"),
      ("nn.Linear(noise_dim + num_classes, 1024)", "nn.Linear(noise_dim + num_classes + 1, 1024)")], "wrong size"),
    ("conditional_generator", "the one-hot first", ("torch.cat([z, one_hot], dim=1)", "torch.cat([one_hot, z], dim=1)"),
     "in the docstring's order"),
    ("conditional_discriminator", "the labels never reach the network",
     ("torch.cat([images.flatten(1), one_hot], dim=1)", "torch.cat([images.flatten(1), 0 * one_hot], dim=1)"),
     "ignores the labels"),
    ("conditional_dc_discriminator", "the label as one channel of value label / 9",
     [("nn.Conv2d(1 + num_classes, 32, 5)", "nn.Conv2d(2, 32, 5)"),
      ("maps = F.one_hot(labels, num_classes).to(images.dtype)[:, :, None, None].expand(-1, -1, 28, 28)",
       "maps = (labels.to(images.dtype) / 9)[:, None, None, None].expand(-1, 1, 28, 28)")], "wrong size"),
    ("cgan_discriminator_loss", "fakes judged with the real labels",
     ("logits_real, logits_fake = D(real, real_labels), D(fake, fake_labels)",
      "logits_real, logits_fake = D(real, real_labels), D(fake, real_labels)"), "judge each fake with the label G made it for"),
    ("cgan_discriminator_loss", "real images judged with the fake labels",
     ("logits_real, logits_fake = D(real, real_labels), D(fake, fake_labels)",
      "logits_real, logits_fake = D(real, fake_labels), D(fake, fake_labels)"), "judge each real image with its own label"),
    ("cgan_discriminator_loss", "the average of the two losses", ('''    return (F.binary_cross_entropy_with_logits(logits_real, torch.ones_like(logits_real))
            + F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake)))''', '''    return (F.binary_cross_entropy_with_logits(logits_real, torch.ones_like(logits_real))
            + F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake))) / 2'''), "AVERAGE"),
    ("cgan_discriminator_loss", "targets swapped", [("torch.ones_like(logits_real)", "torch.zeros_like(logits_real)"),
                                                    ("torch.zeros_like(logits_fake)", "torch.ones_like(logits_fake)")],
     "targets swapped"),
    ("cgan_generator_loss", "the saturating loss", ("return F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))",
                                                    "return -F.binary_cross_entropy_with_logits(logits, torch.zeros_like(logits))"),
     "saturating"),
    ("cgan_generator_loss", "the fakes detached", ("logits = D(fake, fake_labels)", "logits = D(fake.detach(), fake_labels)"),
     "do not detach the fakes"),
]

VARIANTS = [
    ("conditional_generator", "torch.eye one-hot, a Sequential built in __init__ with a loop", '''
def conditional_generator(noise_dim=96, num_classes=10):
    class CondG(nn.Module):
        def __init__(self):
            super().__init__()
            sizes = [noise_dim + num_classes, 1024, 1024]
            layers = []
            for a, b in zip(sizes, sizes[1:]):
                layers += [nn.Linear(a, b), nn.ReLU(inplace=True)]
            self.model = nn.Sequential(*layers, nn.Linear(1024, 784), nn.Tanh())
            self.register_buffer("eye", torch.eye(num_classes))

        def forward(self, noise, labels):
            return self.model(torch.cat((noise, self.eye[labels].to(noise.dtype)), -1))
    return CondG()
'''),
    ("conditional_discriminator", "view, float one-hot (type promotion), nn.LeakyReLU(negative_slope=...)", '''
def conditional_discriminator(num_classes=10):
    class CondD(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784 + num_classes, 256)
            self.fc2 = nn.Linear(256, 256)
            self.out = nn.Linear(256, 1)
            self.act = nn.LeakyReLU(negative_slope=0.01)

        def forward(self, img, y):
            h = torch.cat((img.reshape(img.size(0), -1), F.one_hot(y, num_classes).float()), -1)
            return self.out(self.act(self.fc2(self.act(self.fc1(h.to(img.dtype))))))
    return CondD()
'''),
    ("conditional_dc_discriminator", "label maps by scatter into zeros", '''
def conditional_dc_discriminator(num_classes=10):
    class CondDC(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(1 + num_classes, 32, 5), nn.LeakyReLU(0.01), nn.MaxPool2d(2),
                                          nn.Conv2d(32, 64, 5), nn.LeakyReLU(0.01), nn.MaxPool2d(2))
            self.head = nn.Sequential(nn.Linear(1024, 1024), nn.LeakyReLU(0.01), nn.Linear(1024, 1))

        def forward(self, x, labels):
            x = x.view(-1, 1, 28, 28)
            maps = torch.zeros(len(x), num_classes, 28, 28, dtype=x.dtype, device=x.device)
            maps[torch.arange(len(x)), labels] = 1
            return self.head(self.features(torch.cat([x, maps], 1)).flatten(1))
    return CondDC()
'''),
    ("cgan_discriminator_loss", "nn.BCEWithLogitsLoss and ones((N, 1))", '''
def cgan_discriminator_loss(D, real, real_labels, fake, fake_labels):
    bce = nn.BCEWithLogitsLoss()
    n = real.shape[0]
    return bce(D(real, real_labels), torch.ones(n, 1, dtype=real.dtype, device=real.device)) + bce(
        D(fake, fake_labels), torch.zeros(n, 1, dtype=real.dtype, device=real.device))
'''),
    ("cgan_generator_loss", "softplus", '''
def cgan_generator_loss(D, fake, fake_labels):
    return F.softplus(-D(fake, fake_labels)).mean()
'''),
]


@pytest.fixture(scope="module")
def reference():
    return LAB.answers()


def _source(function, change):
    if isinstance(change, str):
        return replace_function(SOLUTION, function, change)
    source = SOLUTION
    for old, new in (change if isinstance(change, list) else [change]):
        source = edit_function(source, function, old, new)
    return source


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
    grade_guarded(tmp_path, LAB, _source("cgan_discriminator_loss", (
        "logits_real, logits_fake = D(real, real_labels), D(fake, fake_labels)",
        "logits_real, logits_fake = D(real, real_labels), D(fake, real_labels)")),
        "cgan_discriminator_loss", "the label G made it for")


def test_a_conditional_gan_learns_to_draw_the_class_it_is_asked_for():
    """Two 'classes' of images (bright top half / bright bottom half): after training, G draws each on demand.
    (After 300 iterations G still draws the top half for both labels: conditioning is learned after the images.)"""
    from gan_assignment.provided import cgan as conditional

    lab = load_module(LAB.solution_file)
    torch.manual_seed(0)
    labels = torch.arange(1024) % 2
    images = torch.zeros(1024, 1, 28, 28)
    images[labels == 0, :, :14] = 1.0
    images[labels == 1, :, 14:] = 1.0
    G, D = lab.conditional_generator(8, num_classes=10), lab.conditional_discriminator()
    history = conditional.train_cgan(lab, D, G, images, labels, 1000, batch_size=64, progress=False, noise_dim=8)
    with torch.no_grad():
        z = torch.rand(64, 8) * 2 - 1
        top = G(z, torch.zeros(64, dtype=torch.long)).reshape(64, 28, 28)
        bottom = G(z, torch.ones(64, dtype=torch.long)).reshape(64, 28, 28)
    assert top[:, :14].mean() > top[:, 14:].mean() + 0.5 and bottom[:, 14:].mean() > bottom[:, :14].mean() + 0.5
    assert history["iterations"] == 1000
