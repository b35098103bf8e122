"""Style: CS231n 2023 gan_pytorch.py, a student who trains on Colab GPUs and writes device-aware code.

Patterns: seeded signatures; build_dc_classifier(batch_size) starting at
nn.Conv2d; course bce_loss (nn.BCEWithLogitsLoss on input.squeeze()); (N,)
targets torch.ones(N, device=logits_real.device); course Flatten
(N, C, H, W = x.size()) / Unflatten(N=-1, ...) classes defined in the file;
generator with Unflatten(-1, 128, 7, 7); LeakyReLU(negative_slope=0.01);
LS losses as torch.mean(torch.square(x - 1)) / 2 style; sample_noise with
torch.rand(...).mul(2).sub(1).
"""
import torch
import torch.nn as nn
import torch.optim as optim

NOISE_DIM = 96

dtype = torch.FloatTensor
# dtype = torch.cuda.FloatTensor ## UNCOMMENT THIS LINE IF YOU'RE ON A GPU!


def sample_noise(batch_size, dim, seed=None):
    if seed is not None:
        torch.manual_seed(seed)
    return torch.rand(batch_size, dim).mul(2).sub(1)


def discriminator(seed=None):
    if seed is not None:
        torch.manual_seed(seed)
    model = nn.Sequential(
        Flatten(),
        nn.Linear(28 * 28, 256),
        nn.LeakyReLU(negative_slope=0.01),
        nn.Linear(256, 256),
        nn.LeakyReLU(negative_slope=0.01),
        nn.Linear(256, 1),
    )
    return model


def generator(noise_dim=NOISE_DIM, seed=None):
    if seed is not None:
        torch.manual_seed(seed)
    hidden_dim = 1024
    model = nn.Sequential(
        nn.Linear(noise_dim, hidden_dim),
        nn.ReLU(),
        nn.Linear(hidden_dim, hidden_dim),
        nn.ReLU(),
        nn.Linear(hidden_dim, 28 * 28),
        nn.Tanh(),
    )
    return model


def bce_loss(input, target):
    """
    Numerically stable version of the binary cross-entropy loss function in PyTorch.
    """
    bce = nn.BCEWithLogitsLoss()
    return bce(input.squeeze(), target)


def discriminator_loss(logits_real, logits_fake):
    N = logits_real.shape[0]
    device = logits_real.device
    real_labels = torch.ones(N, device=device)
    fake_labels = torch.zeros(N, device=device)
    loss_real = bce_loss(logits_real, real_labels)
    loss_fake = bce_loss(logits_fake, fake_labels)
    return loss_real + loss_fake


def generator_loss(logits_fake):
    N = logits_fake.shape[0]
    real_labels = torch.ones(N, device=logits_fake.device)
    return bce_loss(logits_fake, real_labels)


def get_optimizer(model):
    return optim.Adam(model.parameters(), lr=1e-3, betas=(0.5, 0.999))


def ls_discriminator_loss(scores_real, scores_fake):
    real_part = torch.mean(torch.square(scores_real - 1)) / 2
    fake_part = torch.mean(torch.square(scores_fake)) / 2
    return real_part + fake_part


def ls_generator_loss(scores_fake):
    return torch.mean(torch.square(scores_fake - 1)) / 2


def build_dc_classifier(batch_size):
    model = nn.Sequential(
        nn.Conv2d(in_channels=1, out_channels=32, kernel_size=5, stride=1),
        nn.LeakyReLU(negative_slope=0.01),
        nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Conv2d(in_channels=32, out_channels=64, kernel_size=5, stride=1),
        nn.LeakyReLU(negative_slope=0.01),
        nn.MaxPool2d(kernel_size=2, stride=2),
        Flatten(),
        nn.Linear(in_features=1024, out_features=1024),
        nn.LeakyReLU(negative_slope=0.01),
        nn.Linear(in_features=1024, out_features=1),
    )
    return model


def build_dc_generator(noise_dim=NOISE_DIM):
    model = nn.Sequential(
        nn.Linear(noise_dim, 1024),
        nn.ReLU(),
        nn.BatchNorm1d(1024),
        nn.Linear(1024, 7 * 7 * 128),
        nn.ReLU(),
        nn.BatchNorm1d(7 * 7 * 128),
        Unflatten(-1, 128, 7, 7),
        nn.ConvTranspose2d(in_channels=128, out_channels=64, kernel_size=4, stride=2, padding=1),
        nn.ReLU(),
        nn.BatchNorm2d(num_features=64),
        nn.ConvTranspose2d(in_channels=64, out_channels=1, kernel_size=4, stride=2, padding=1),
        nn.Tanh(),
        Flatten(),
    )
    return model


class Flatten(nn.Module):
    def forward(self, x):
        N, C, H, W = x.size()  # read in N, C, H, W
        return x.view(N, -1)  # "flatten" the C * H * W values into a single vector per image


class Unflatten(nn.Module):
    """
    An Unflatten module receives an input of shape (N, C*H*W) and reshapes it
    to produce an output of shape (N, C, H, W).
    """
    def __init__(self, N=-1, C=128, H=7, W=7):
        super(Unflatten, self).__init__()
        self.N = N
        self.C = C
        self.H = H
        self.W = W

    def forward(self, x):
        return x.view(self.N, self.C, self.H, self.W)
