"""Correct answers written differently from the solution pass their check."""

import pytest

from tests.conftest import SOLUTION_FILE, edit_function, replace_function

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
    assert result.passed, f"a correct {function} ({variant}) was rejected: {result.line()}"
