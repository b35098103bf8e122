"""Style: CS231n 2019 notebook, a student who computes sizes with numpy/math and writes own helpers.

Patterns: no-seed signatures; module-level batch_size = 128 and
dtype = torch.FloatTensor; own Flatten using x.view(x.size(0), -1) and the
course Unflatten(N=-1, C=128, H=7, W=7); classifier starting with
Unflatten(-1, 1, 28, 28), generator with Unflatten(-1, 128, 7, 7); noise via
torch.empty(...).uniform_(-1, 1); stable bce via torch.log1p(torch.exp(-|x|));
targets from torch.full(logits.shape, 1.0), made on the CPU (right on a CPU only: the
checks say so, tests/test_student_styles.py: CPU_ONLY); LS losses as torch.mean(...) / 2;
optimizer arguments passed positionally.
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

NOISE_DIM = 96
batch_size = 128
dtype = torch.FloatTensor

IMG_SHAPE = (1, 28, 28)
IMG_FLAT = int(np.prod(IMG_SHAPE))          # 784
CONV_OUT = 64 * int(math.pow(4, 2))          # 64 * 4 * 4 = 1024


class Flatten(nn.Module):
    def forward(self, x):
        return x.view(x.size(0), -1)


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
    return torch.empty(batch_size, dim).uniform_(-1, 1)


def discriminator():
    return nn.Sequential(
        Flatten(),
        nn.Linear(IMG_FLAT, 256),
        nn.LeakyReLU(0.01),
        nn.Linear(256, 256),
        nn.LeakyReLU(0.01),
        nn.Linear(256, 1),
    )


def generator(noise_dim=NOISE_DIM):
    return nn.Sequential(
        nn.Linear(noise_dim, 1024),
        nn.ReLU(),
        nn.Linear(1024, 1024),
        nn.ReLU(),
        nn.Linear(1024, IMG_FLAT),
        nn.Tanh(),
    )


def bce_loss(input, target):
    # log(1 + e^x) - z*x  ==  max(x, 0) - z*x + log(1 + e^-|x|)
    loss = torch.relu(input) - input * target + torch.log1p(torch.exp(-torch.abs(input)))
    return torch.mean(loss)


def discriminator_loss(logits_real, logits_fake):
    ones = torch.full(logits_real.shape, 1.0)
    zeros = torch.full(logits_fake.shape, 0.0)
    return bce_loss(logits_real, ones) + bce_loss(logits_fake, zeros)


def generator_loss(logits_fake):
    ones = torch.full(logits_fake.shape, 1.0)
    return bce_loss(logits_fake, ones)


def get_optimizer(model):
    return optim.Adam(model.parameters(), 1e-3, (0.5, 0.999))


def ls_discriminator_loss(scores_real, scores_fake):
    return torch.mean((scores_real - 1) ** 2) / 2 + torch.mean(scores_fake ** 2) / 2


def ls_generator_loss(scores_fake):
    return torch.mean((scores_fake - 1) ** 2) / 2


def build_dc_classifier():
    return nn.Sequential(
        Unflatten(-1, 1, 28, 28),
        nn.Conv2d(1, 32, kernel_size=5, stride=1),
        nn.LeakyReLU(0.01),
        nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Conv2d(32, 64, kernel_size=5, stride=1),
        nn.LeakyReLU(0.01),
        nn.MaxPool2d(kernel_size=2, stride=2),
        Flatten(),
        nn.Linear(CONV_OUT, CONV_OUT),
        nn.LeakyReLU(0.01),
        nn.Linear(CONV_OUT, 1),
    )


def build_dc_generator(noise_dim=NOISE_DIM):
    return nn.Sequential(
        nn.Linear(noise_dim, 1024),
        nn.ReLU(),
        nn.BatchNorm1d(1024),
        nn.Linear(1024, 7 * 7 * 128),
        nn.ReLU(),
        nn.BatchNorm1d(7 * 7 * 128),
        Unflatten(-1, 128, 7, 7),
        nn.ConvTranspose2d(128, 64, kernel_size=4, stride=2, padding=1),
        nn.ReLU(),
        nn.BatchNorm2d(64),
        nn.ConvTranspose2d(64, 1, kernel_size=4, stride=2, padding=1),
        nn.Tanh(),
        Flatten(),
    )
