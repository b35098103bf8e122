"""Style: CS231n 2018 GANs-PyTorch.ipynb (PyTorch 0.4 era), cells copied into one file.

Patterns: no-seed signatures; module-level batch_size = 128 and
dtype = torch.FloatTensor; course Flatten (N, C, H, W = x.size(); x.view(N, -1))
and Unflatten; classifier starting with Unflatten(batch_size, 1, 28, 28) but
generator using Unflatten(-1, 128, 7, 7); noise via torch.Tensor(...).uniform_;
classic neg_abs bce_loss; ones_like / zeros_like targets; LS losses with
.mean(dim=0) (shape (1,) on (N, 1) scores); optimizer built from local
constants.
"""
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

NOISE_DIM = 96
batch_size = 128
dtype = torch.FloatTensor
# dtype = torch.cuda.FloatTensor  # uncomment on a GPU

learning_rate = 1e-3
beta1, beta2 = 0.5, 0.999


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


def sample_noise(batch_size, dim):
    # uniform_ fills the tensor in place with U(-1, 1) samples
    noise = torch.Tensor(batch_size, dim).uniform_(-1, 1)
    return noise


def discriminator():
    in_dim = int(np.prod([1, 28, 28]))
    model = nn.Sequential(
        Flatten(),
        nn.Linear(in_dim, 256),
        nn.LeakyReLU(negative_slope=0.01),
        nn.Linear(256, 256),
        nn.LeakyReLU(negative_slope=0.01),
        nn.Linear(256, 1),
    )
    return model


def generator(noise_dim=NOISE_DIM):
    model = nn.Sequential(
        nn.Linear(noise_dim, 1024),
        nn.ReLU(inplace=True),
        nn.Linear(1024, 1024),
        nn.ReLU(inplace=True),
        nn.Linear(1024, 28 * 28),
        nn.Tanh(),
    )
    return model


def bce_loss(input, target):
    neg_abs = -input.abs()
    loss = input.clamp(min=0) - input * target + (1 + neg_abs.exp()).log()
    return loss.mean()


def discriminator_loss(logits_real, logits_fake):
    loss = None
    loss_real = bce_loss(logits_real, torch.ones_like(logits_real))
    loss_fake = bce_loss(logits_fake, torch.zeros_like(logits_fake))
    loss = loss_real + loss_fake
    return loss


def generator_loss(logits_fake):
    loss = None
    loss = bce_loss(logits_fake, torch.ones_like(logits_fake))
    return loss


def get_optimizer(model):
    optimizer = None
    optimizer = optim.Adam(model.parameters(), lr=learning_rate, betas=(beta1, beta2))
    return optimizer


def ls_discriminator_loss(scores_real, scores_fake):
    loss = 0.5 * ((scores_real - 1) ** 2).mean(dim=0) + 0.5 * (scores_fake ** 2).mean(dim=0)
    return loss


def ls_generator_loss(scores_fake):
    loss = 0.5 * ((scores_fake - 1) ** 2).mean(dim=0)
    return loss


def build_dc_classifier():
    """
    Build and return a PyTorch model for the DCGAN discriminator implementing
    the architecture above.
    """
    return nn.Sequential(
        Unflatten(batch_size, 1, 28, 28),
        nn.Conv2d(1, 32, 5, 1),
        nn.LeakyReLU(0.01),
        nn.MaxPool2d(2, 2),
        nn.Conv2d(32, 64, 5, 1),
        nn.LeakyReLU(0.01),
        nn.MaxPool2d(2, 2),
        Flatten(),
        nn.Linear(1024, 1024),
        nn.LeakyReLU(0.01),
        nn.Linear(1024, 1),
    )


def build_dc_generator(noise_dim=NOISE_DIM):
    """
    Build and return a PyTorch model implementing the DCGAN generator using
    the architecture described above.
    """
    return nn.Sequential(
        nn.Linear(noise_dim, 1024),
        nn.ReLU(),
        nn.BatchNorm1d(1024),
        nn.Linear(1024, 6272),
        nn.ReLU(),
        nn.BatchNorm1d(6272),
        Unflatten(-1, 128, 7, 7),
        nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1),
        nn.ReLU(),
        nn.BatchNorm2d(64),
        nn.ConvTranspose2d(64, 1, 4, stride=2, padding=1),
        nn.Tanh(),
        Flatten(),
    )
