"""Correct answers written differently from the solution pass their check."""

import pytest

from tests.conftest import SOLUTION_FILE, edit_function, replace_function, shown

SOLUTION = SOLUTION_FILE.read_text()

VARIANTS = [
    ("sample_noise", "uniform_ on an empty tensor", '''
def sample_noise(batch_size, dim, seed=None):
    if seed is not None:
        torch.manual_seed(seed)
    return torch.empty(batch_size, dim).uniform_(-1, 1)
'''),
    ("sample_noise", "2 * rand - 1, the classic FloatTensor spelling", '''
def sample_noise(batch_size, dim, seed=None):
    if seed is not None:
        torch.manual_seed(seed)
    return 2 * torch.FloatTensor(batch_size, dim).uniform_() - 1
'''),
    ("discriminator", "nn.Flatten instead of our Flatten", None),
    ("discriminator", "an nn.Module subclass with functional activations", '''
def discriminator(seed=None):
    if seed is not None:
        torch.manual_seed(seed)

    class D(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 256)
            self.fc2 = nn.Linear(256, 256)
            self.out = nn.Linear(256, 1)

        def forward(self, x):
            x = x.view(x.size(0), -1)
            x = F.leaky_relu(self.fc1(x), 0.01)
            x = F.leaky_relu(self.fc2(x), negative_slope=0.01)
            return self.out(x)

    return D()
'''),
    ("generator", "layers registered in another order than they run", '''
def generator(noise_dim=NOISE_DIM, seed=None):
    if seed is not None:
        torch.manual_seed(seed)

    class G(nn.Module):
        def __init__(self):
            super().__init__()
            self.last = nn.Linear(1024, 784)
            self.first = nn.Linear(noise_dim, 1024)
            self.middle = nn.Linear(1024, 1024)

        def forward(self, z):
            return torch.tanh(self.last(torch.relu(self.middle(torch.relu(self.first(z))))))

    return G()
'''),
    ("bce_loss", "F.binary_cross_entropy_with_logits", '''
def bce_loss(input, target):
    return F.binary_cross_entropy_with_logits(input, target)
'''),
    ("bce_loss", "nn.BCEWithLogitsLoss", '''
def bce_loss(input, target):
    return nn.BCEWithLogitsLoss()(input, target)
'''),
    ("bce_loss", "the classic neg_abs formula", '''
def bce_loss(input, target):
    neg_abs = -input.abs()
    loss = input.clamp(min=0) - input * target + (1 + neg_abs.exp()).log()
    return loss.mean()
'''),
    ("discriminator_loss", "built-in BCE with flattened logits", '''
def discriminator_loss(logits_real, logits_fake):
    real, fake = logits_real.view(-1), logits_fake.view(-1)
    return (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
            + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
'''),
    ("generator_loss", "built-in BCE", '''
def generator_loss(logits_fake):
    return F.binary_cross_entropy_with_logits(logits_fake, torch.ones_like(logits_fake))
'''),
    ("get_optimizer", "literal numbers, torch.optim imported as optim", '''
def get_optimizer(model):
    import torch.optim as optim
    return optim.Adam(model.parameters(), lr=1e-3, betas=(0.5, 0.999))
'''),
    ("ls_discriminator_loss", "mse_loss", '''
def ls_discriminator_loss(scores_real, scores_fake):
    return 0.5 * F.mse_loss(scores_real, torch.ones_like(scores_real)) + 0.5 * F.mse_loss(scores_fake, torch.zeros_like(scores_fake))
'''),
    ("ls_generator_loss", "torch.mean of a squared difference", '''
def ls_generator_loss(scores_fake):
    return torch.mean((scores_fake - 1).pow(2)) / 2
'''),
    ("build_dc_classifier", "a Module subclass with view and F.max_pool2d", '''
def build_dc_classifier(batch_size):
    class C(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 5)
            self.conv2 = nn.Conv2d(32, 64, 5)
            self.fc1 = nn.Linear(1024, 1024)
            self.fc2 = nn.Linear(1024, 1)

        def forward(self, x):
            x = x.view(-1, 1, 28, 28)
            x = F.max_pool2d(F.leaky_relu(self.conv1(x), 0.01), 2)
            x = F.max_pool2d(F.leaky_relu(self.conv2(x), 0.01), 2)
            x = F.leaky_relu(self.fc1(torch.flatten(x, 1)), 0.01)
            return self.fc2(x)

    return C()
'''),
    ("build_dc_generator", "a BatchNorm2d subclass of the student's own", '''
def build_dc_generator(noise_dim=NOISE_DIM):
    class MyBatchNorm(nn.BatchNorm2d):
        pass

    return nn.Sequential(
        nn.Linear(noise_dim, 1024), nn.ReLU(), nn.BatchNorm1d(1024),
        nn.Linear(1024, 6272), nn.ReLU(), nn.BatchNorm1d(6272),
        Unflatten(-1, 128, 7, 7),
        nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.ReLU(), MyBatchNorm(64),
        nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh(), Flatten())
'''),
    ("build_dc_generator", "nn.Unflatten and a view at the end", '''
def build_dc_generator(noise_dim=NOISE_DIM):
    class G(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(
                nn.Linear(noise_dim, 1024), nn.ReLU(), nn.BatchNorm1d(1024),
                nn.Linear(1024, 6272), nn.ReLU(), nn.BatchNorm1d(6272),
                nn.Unflatten(1, (128, 7, 7)),
                nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.ReLU(), nn.BatchNorm2d(64),
                nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())

        def forward(self, z):
            return self.body(z).view(-1, 784)

    return G()
'''),
]


def _source(function, code):
    if code is None:  # the nn.Flatten variant is a one-word edit
        return edit_function(SOLUTION, function, "        Flatten(),", "        nn.Flatten(),")
    return replace_function(SOLUTION, function, code)


@pytest.mark.parametrize("function, variant, code", VARIANTS, ids=[f"{v[0]}: {v[1]}" for v in VARIANTS])
def test_correct_variant_passes(check_source, function, variant, code):
    result = check_source(_source(function, code), function)
    assert result.passed, f"a correct {function} ({variant}) was rejected: {shown(result)}"


# ---------------------------------------------------------------------------
# Every year's classic API: correct code written against the classic assignment's
# own helpers, signatures and callers passes, and what goes beyond the classic
# contract (flat input, other batch sizes, (N, 1) targets, 0-dim losses) is a note.
# ---------------------------------------------------------------------------

COURSE_HELPERS = '''
batch_size = 128
dtype = torch.FloatTensor


class Flatten(nn.Module):
    def forward(self, x):
        N, C, H, W = x.size()  # read in N, C, H, W
        return x.view(N, -1)


class Unflatten(nn.Module):
    def __init__(self, N=-1, C=128, H=7, W=7):
        super(Unflatten, self).__init__()
        self.N, self.C, self.H, self.W = N, C, H, W

    def forward(self, x):
        return x.view(self.N, self.C, self.H, self.W)
'''


def _with_course_helpers(source):
    """The solution with the classic course's own helpers defined in the file (shadowing ours)."""
    marker = "# ---------------------------------------------------------------------------\n# Random noise"
    assert source.count(marker) == 1
    return source.replace(marker, COURSE_HELPERS + "\n\n" + marker)


CLASSIC = [
    # function, pattern, code (None: the solution with the course's helpers), note the result must carry
    ("discriminator", "the course's Flatten, which unpacks N, C, H, W", None, "not on a flat batch"),
    ("build_dc_classifier", "Unflatten(batch_size, 1, 28, 28) with the course's view-based Unflatten", '''
def build_dc_classifier(batch_size):
    return nn.Sequential(
        Unflatten(batch_size, 1, 28, 28),
        nn.Conv2d(1, 32, kernel_size=5, stride=1), nn.LeakyReLU(0.01), nn.MaxPool2d(2, 2),
        nn.Conv2d(32, 64, kernel_size=5, stride=1), nn.LeakyReLU(0.01), nn.MaxPool2d(2, 2),
        Flatten(),
        nn.Linear(4 * 4 * 64, 4 * 4 * 64), nn.LeakyReLU(0.01),
        nn.Linear(4 * 4 * 64, 1),
    )
''', "cannot take a batch of"),
    ("build_dc_classifier", "2017-2019: build_dc_classifier() with the global batch_size baked in", '''
def build_dc_classifier():
    return nn.Sequential(
        Unflatten(batch_size, 1, 28, 28),
        nn.Conv2d(1, 32, kernel_size=5, stride=1), nn.LeakyReLU(0.01), nn.MaxPool2d(2, 2),
        nn.Conv2d(32, 64, kernel_size=5, stride=1), nn.LeakyReLU(0.01), nn.MaxPool2d(2, 2),
        Flatten(),
        nn.Linear(4 * 4 * 64, 4 * 4 * 64), nn.LeakyReLU(0.01),
        nn.Linear(4 * 4 * 64, 1),
    )
''', "works on batches of 128"),
    ("build_dc_classifier", "2022-2024: the network starts at Conv2d (images only)", '''
def build_dc_classifier(batch_size):
    return nn.Sequential(
        nn.Conv2d(1, 32, 5), nn.LeakyReLU(0.01), nn.MaxPool2d(2, 2),
        nn.Conv2d(32, 64, 5), nn.LeakyReLU(0.01), nn.MaxPool2d(2, 2),
        nn.Flatten(),
        nn.Linear(1024, 1024), nn.LeakyReLU(0.01),
        nn.Linear(1024, 1),
    )
''', "A Conv2d received a flat batch"),
    ("build_dc_generator", "Unflatten(batch_size, 128, 7, 7): generators only ever make batches of 128", '''
def build_dc_generator(noise_dim=NOISE_DIM):
    return nn.Sequential(
        nn.Linear(noise_dim, 1024), nn.ReLU(), nn.BatchNorm1d(1024),
        nn.Linear(1024, 7 * 7 * 128), nn.ReLU(), nn.BatchNorm1d(7 * 7 * 128),
        Unflatten(batch_size, 128, 7, 7),
        nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1), nn.ReLU(), nn.BatchNorm2d(64),
        nn.ConvTranspose2d(64, 1, 4, stride=2, padding=1), nn.Tanh(),
        Flatten(),
    )
''', "works on batches of 128"),
    ("bce_loss", "2022-2024's given body: BCEWithLogitsLoss on input.squeeze()", '''
def bce_loss(input, target):
    bce = nn.BCEWithLogitsLoss()
    return bce(input.squeeze(), target)
''', "shaped (5, 1) it fails"),
    ("ls_discriminator_loss", ".mean(dim=0): shape (1,) on (N, 1) scores", '''
def ls_discriminator_loss(scores_real, scores_fake):
    return 0.5 * ((scores_real - 1) ** 2).mean(dim=0) + 0.5 * (scores_fake ** 2).mean(dim=0)
''', "returns shape (1,)"),
    ("ls_generator_loss", ".mean(dim=0): shape (1,) on (N, 1) scores", '''
def ls_generator_loss(scores_fake):
    return 0.5 * ((scores_fake - 1) ** 2).mean(dim=0)
''', "returns shape (1,)"),
    ("sample_noise", "2017-2019: sample_noise(batch_size, dim), no seed", '''
def sample_noise(batch_size, dim):
    return torch.rand(batch_size, dim) * 2 - 1
''', "takes no seed argument"),
    ("discriminator", "2017-2019: discriminator(), no seed", '''
def discriminator():
    model = nn.Sequential(
        Flatten(),
        nn.Linear(784, 256), nn.LeakyReLU(0.01),
        nn.Linear(256, 256), nn.LeakyReLU(0.01),
        nn.Linear(256, 1),
    )
    return model
''', "takes no seed argument"),
    ("generator", "2017-2019: generator(noise_dim=NOISE_DIM), no seed, .type(dtype)", '''
def generator(noise_dim=NOISE_DIM):
    model = nn.Sequential(
        nn.Linear(noise_dim, 1024), nn.ReLU(),
        nn.Linear(1024, 1024), nn.ReLU(),
        nn.Linear(1024, 784), nn.Tanh(),
    )
    return model.type(dtype)
''', "takes no seed argument"),
]

# The callers of the squeeze-bodied bce_loss in 2022-2024: (N,) targets for (N, 1) logits.
CLASSIC_BCE_CALLERS = '''
def discriminator_loss(logits_real, logits_fake):
    N = logits_real.size(0)
    true_labels = torch.ones(N).type(dtype)
    return bce_loss(logits_real, true_labels) + bce_loss(logits_fake, 1 - true_labels)


def generator_loss(logits_fake):
    N = logits_fake.size(0)
    return bce_loss(logits_fake, torch.ones(N).type(dtype))
'''


def _classic_source(function, code):
    source = _with_course_helpers(SOLUTION)
    return source if code is None else replace_function(source, function, code)


@pytest.mark.parametrize("function, pattern, code, note", CLASSIC, ids=[f"{c[0]}: {c[1]}" for c in CLASSIC])
def test_classic_api_passes_with_a_note(check_source, function, pattern, code, note):
    result = check_source(_classic_source(function, code), function)
    assert result.passed, f"correct {function} ({pattern}) was rejected: {shown(result)}"
    assert any(note in n for n in result.notes), f"the PASS should carry a note with {note!r}: {shown(result)}"
    assert "note: " in shown(result)


def test_classic_bce_callers_pass_with_the_squeeze_body(check_source):
    source = _classic_source("bce_loss", CLASSIC[5][2])
    for name in ("discriminator_loss", "generator_loss"):
        source = replace_function(source, name, CLASSIC_BCE_CALLERS.split("\n\n\n")[name == "generator_loss"])
    for name in ("discriminator_loss", "generator_loss"):
        result = check_source(source, name)
        # the 2017-2023 `dtype` switch (torch.cuda.FloatTensor on a GPU) earns a note, never a failure
        assert result.passed and all("runs on a GPU only once your module-level dtype" in n for n in result.notes), \
            shown(result)


def test_squeeze_body_with_targets_shaped_like_the_logits_names_the_cause(check_source):
    """Our docstrings' callers (ones_like of (N, 1) logits) and the 2022 bce_loss do not fit together:
    the caller fails, and the message points at bce_loss's note rather than at the formula."""
    result = check_source(_classic_source("bce_loss", CLASSIC[5][2]), "discriminator_loss")
    assert result.status == "FAIL"
    assert "bce_loss passes, with a note" in result.message and "(N,) targets" in result.message, result.message


def test_the_solution_has_no_notes(check_source):
    from checks.runner import run_checks
    for result in run_checks(SOLUTION_FILE):
        assert result.passed and not result.notes, shown(result)
