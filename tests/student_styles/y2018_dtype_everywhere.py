"""Style: CS231n 2018 notebook, a student who sprinkles .type(dtype) everywhere.

Patterns: no-seed signatures; module-level batch_size = 128 and
dtype = torch.FloatTensor used on every created tensor and on the models
(runs on CPU); course Flatten / Unflatten classes; classifier with
Unflatten(batch_size, 1, 28, 28), generator with Unflatten(batch_size, 128, 7, 7);
neg_abs bce_loss; targets torch.ones(logits.size()).type(dtype);
LS losses as 0.5 * ((x - 1) ** 2).mean().
"""
import torch
import torch.nn as nn
import torch.optim as optim

from gan_assignment.config import NOISE_DIM

batch_size = 128
dtype = torch.FloatTensor


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
    noise = (torch.rand(batch_size, dim).type(dtype) - 0.5) * 2
    return noise.type(dtype)


def discriminator():
    model = nn.Sequential(
        Flatten(),
        nn.Linear(784, 256),
        nn.LeakyReLU(0.01),
        nn.Linear(256, 256),
        nn.LeakyReLU(0.01),
        nn.Linear(256, 1)
    ).type(dtype)
    return model


def generator(noise_dim=NOISE_DIM):
    model = nn.Sequential(
        nn.Linear(noise_dim, 1024),
        nn.ReLU(),
        nn.Linear(1024, 1024),
        nn.ReLU(),
        nn.Linear(1024, 784),
        nn.Tanh()
    ).type(dtype)
    return model


def bce_loss(input, target):
    input = input.type(dtype)
    target = target.type(dtype)
    neg_abs = - input.abs()
    loss = input.clamp(min=0) - input * target + (1 + neg_abs.exp()).log()
    return loss.mean()


def discriminator_loss(logits_real, logits_fake):
    real_labels = torch.ones(logits_real.size()).type(dtype)
    fake_labels = torch.zeros(logits_fake.size()).type(dtype)
    loss = bce_loss(logits_real, real_labels) + bce_loss(logits_fake, fake_labels)
    return loss


def generator_loss(logits_fake):
    real_labels = torch.ones(logits_fake.size()).type(dtype)
    loss = bce_loss(logits_fake, real_labels)
    return loss


def get_optimizer(model):
    optimizer = optim.Adam(model.parameters(), lr=1e-3, betas=(0.5, 0.999))
    return optimizer


def ls_discriminator_loss(scores_real, scores_fake):
    ones = torch.ones(scores_real.size()).type(dtype)
    loss = 0.5 * ((scores_real - ones) ** 2).mean() + 0.5 * (scores_fake ** 2).mean()
    return loss


def ls_generator_loss(scores_fake):
    ones = torch.ones(scores_fake.size()).type(dtype)
    loss = 0.5 * ((scores_fake - ones) ** 2).mean()
    return loss


def build_dc_classifier():
    return nn.Sequential(
        Unflatten(batch_size, 1, 28, 28),
        nn.Conv2d(1, 32, kernel_size=5, stride=1),
        nn.LeakyReLU(0.01),
        nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Conv2d(32, 64, kernel_size=5, stride=1),
        nn.LeakyReLU(0.01),
        nn.MaxPool2d(kernel_size=2, stride=2),
        Flatten(),
        nn.Linear(64 * 4 * 4, 1024),
        nn.LeakyReLU(0.01),
        nn.Linear(1024, 1)
    ).type(dtype)


def build_dc_generator(noise_dim=NOISE_DIM):
    return nn.Sequential(
        nn.Linear(noise_dim, 1024),
        nn.ReLU(),
        nn.BatchNorm1d(1024),
        nn.Linear(1024, 7 * 7 * 128),
        nn.ReLU(),
        nn.BatchNorm1d(7 * 7 * 128),
        Unflatten(batch_size, 128, 7, 7),
        nn.ConvTranspose2d(128, 64, kernel_size=4, stride=2, padding=1),
        nn.ReLU(),
        nn.BatchNorm2d(64),
        nn.ConvTranspose2d(64, 1, kernel_size=4, stride=2, padding=1),
        nn.Tanh(),
        Flatten()
    ).type(dtype)
