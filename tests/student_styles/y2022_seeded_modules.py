"""Style: CS231n 2022 gan_pytorch.py, written with nn.Module subclasses and seeds.

Patterns: seeded signatures (seed=None); nn.Module subclasses with functional
activations (F.leaky_relu(x, 0.01), F.relu, torch.tanh); nn.Flatten() and
nn.Unflatten(1, (128, 7, 7)) as members; x.view(x.size(0), -1);
build_dc_classifier(batch_size) expecting (N, 1, 28, 28) images (first layer is
the conv); classic neg_abs bce_loss; ones_like targets; LS losses with
.mean(dim=0); torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.5, 0.999)).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from gan_assignment.config import NOISE_DIM

dtype = torch.FloatTensor


def sample_noise(batch_size, dim, seed=None):
    if seed is not None:
        torch.manual_seed(seed)
    return torch.rand(batch_size, dim) * 2 - 1


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 256)
        self.fc3 = nn.Linear(256, 1)

    def forward(self, x):
        x = self.flatten(x)
        x = F.leaky_relu(self.fc1(x), 0.01)
        x = F.leaky_relu(self.fc2(x), 0.01)
        x = self.fc3(x)
        return x


class Generator(nn.Module):
    def __init__(self, noise_dim=NOISE_DIM):
        super().__init__()
        self.fc1 = nn.Linear(noise_dim, 1024)
        self.fc2 = nn.Linear(1024, 1024)
        self.fc3 = nn.Linear(1024, 784)

    def forward(self, z):
        x = F.relu(self.fc1(z))
        x = F.relu(self.fc2(x))
        x = torch.tanh(self.fc3(x))
        return x


def discriminator(seed=None):
    if seed is not None:
        torch.manual_seed(seed)
    model = Discriminator()
    return model


def generator(noise_dim=NOISE_DIM, seed=None):
    if seed is not None:
        torch.manual_seed(seed)
    model = Generator(noise_dim)
    return model


def bce_loss(input, target):
    neg_abs = -input.abs()
    loss = input.clamp(min=0) - input * target + (1 + neg_abs.exp()).log()
    return loss.mean()


def discriminator_loss(logits_real, logits_fake):
    real_loss = bce_loss(logits_real, torch.ones_like(logits_real))
    fake_loss = bce_loss(logits_fake, torch.zeros_like(logits_fake))
    return real_loss + fake_loss


def generator_loss(logits_fake):
    return bce_loss(logits_fake, torch.ones_like(logits_fake))


def get_optimizer(model):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.5, 0.999))
    return optimizer


def ls_discriminator_loss(scores_real, scores_fake):
    loss = 0.5 * ((scores_real - 1) ** 2).mean(dim=0) + 0.5 * (scores_fake ** 2).mean(dim=0)
    return loss


def ls_generator_loss(scores_fake):
    loss = 0.5 * ((scores_fake - 1) ** 2).mean(dim=0)
    return loss


class DCDiscriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 5, 1)
        self.conv2 = nn.Conv2d(32, 64, 5, 1)
        self.fc1 = nn.Linear(64 * 4 * 4, 1024)
        self.fc2 = nn.Linear(1024, 1)

    def forward(self, x):
        x = F.leaky_relu(self.conv1(x), 0.01)
        x = F.max_pool2d(x, 2, 2)
        x = F.leaky_relu(self.conv2(x), 0.01)
        x = F.max_pool2d(x, 2, 2)
        x = x.view(x.size(0), -1)
        x = F.leaky_relu(self.fc1(x), 0.01)
        return self.fc2(x)


class DCGenerator(nn.Module):
    def __init__(self, noise_dim=NOISE_DIM):
        super().__init__()
        self.fc1 = nn.Linear(noise_dim, 1024)
        self.bn1 = nn.BatchNorm1d(1024)
        self.fc2 = nn.Linear(1024, 7 * 7 * 128)
        self.bn2 = nn.BatchNorm1d(7 * 7 * 128)
        self.unflatten = nn.Unflatten(1, (128, 7, 7))
        self.deconv1 = nn.ConvTranspose2d(128, 64, 4, 2, 1)
        self.bn3 = nn.BatchNorm2d(64)
        self.deconv2 = nn.ConvTranspose2d(64, 1, 4, 2, 1)
        self.flatten = nn.Flatten()

    def forward(self, z):
        x = self.bn1(F.relu(self.fc1(z)))
        x = self.bn2(F.relu(self.fc2(x)))
        x = self.unflatten(x)
        x = self.bn3(F.relu(self.deconv1(x)))
        x = torch.tanh(self.deconv2(x))
        return self.flatten(x)


def build_dc_classifier(batch_size):
    return DCDiscriminator()


def build_dc_generator(noise_dim=NOISE_DIM):
    return DCGenerator(noise_dim)
