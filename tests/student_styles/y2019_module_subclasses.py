"""Style: CS231n 2019 notebook, a student who prefers nn.Module subclasses.

Patterns: no-seed signatures (2017-2019); nn.Module subclasses with functional
activations (F.leaky_relu(x, 0.01), F.relu, torch.tanh); x.view(x.size(0), -1)
instead of a Flatten layer; x.view(-1, 1, 28, 28) / x.view(-1, 128, 7, 7)
reshapes inside forward; bce_loss via F.binary_cross_entropy_with_logits;
LS losses with F.mse_loss; torch.optim.Adam(model.parameters(), lr=1e-3,
betas=(0.5, 0.999)).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

NOISE_DIM = 96
batch_size = 128
dtype = torch.FloatTensor


def sample_noise(batch_size, dim):
    return 2 * torch.rand(batch_size, dim) - 1


class Discriminator(nn.Module):
    def __init__(self):
        super(Discriminator, self).__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 256)
        self.fc3 = nn.Linear(256, 1)

    def forward(self, x):
        x = x.view(x.size(0), -1)
        x = F.leaky_relu(self.fc1(x), 0.01)
        x = F.leaky_relu(self.fc2(x), 0.01)
        return self.fc3(x)


class Generator(nn.Module):
    def __init__(self, noise_dim):
        super(Generator, self).__init__()
        self.fc1 = nn.Linear(noise_dim, 1024)
        self.fc2 = nn.Linear(1024, 1024)
        self.fc3 = nn.Linear(1024, 784)

    def forward(self, z):
        h = F.relu(self.fc1(z))
        h = F.relu(self.fc2(h))
        return torch.tanh(self.fc3(h))


def discriminator():
    return Discriminator()


def generator(noise_dim=NOISE_DIM):
    return Generator(noise_dim)


def bce_loss(input, target):
    # PyTorch's built-in version uses the same max(x, 0) - x*z + log(1 + exp(-|x|)) trick
    return F.binary_cross_entropy_with_logits(input, target)


def discriminator_loss(logits_real, logits_fake):
    real_loss = bce_loss(logits_real, torch.ones_like(logits_real))
    fake_loss = bce_loss(logits_fake, torch.zeros_like(logits_fake))
    return real_loss + fake_loss


def generator_loss(logits_fake):
    return bce_loss(logits_fake, torch.ones_like(logits_fake))


def get_optimizer(model):
    return torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.5, 0.999))


def ls_discriminator_loss(scores_real, scores_fake):
    real_term = F.mse_loss(scores_real, torch.ones_like(scores_real))
    fake_term = F.mse_loss(scores_fake, torch.zeros_like(scores_fake))
    return 0.5 * real_term + 0.5 * fake_term


def ls_generator_loss(scores_fake):
    return 0.5 * F.mse_loss(scores_fake, torch.ones_like(scores_fake))


class DCClassifier(nn.Module):
    def __init__(self):
        super(DCClassifier, self).__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=5, stride=1)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=5, stride=1)
        self.fc1 = nn.Linear(4 * 4 * 64, 4 * 4 * 64)
        self.fc2 = nn.Linear(4 * 4 * 64, 1)

    def forward(self, x):
        x = x.view(-1, 1, 28, 28)
        x = F.max_pool2d(F.leaky_relu(self.conv1(x), 0.01), kernel_size=2, stride=2)
        x = F.max_pool2d(F.leaky_relu(self.conv2(x), 0.01), kernel_size=2, stride=2)
        x = x.view(x.size(0), -1)
        x = F.leaky_relu(self.fc1(x), 0.01)
        return self.fc2(x)


class DCGenerator(nn.Module):
    def __init__(self, noise_dim):
        super(DCGenerator, self).__init__()
        self.fc1 = nn.Linear(noise_dim, 1024)
        self.bn1 = nn.BatchNorm1d(1024)
        self.fc2 = nn.Linear(1024, 7 * 7 * 128)
        self.bn2 = nn.BatchNorm1d(7 * 7 * 128)
        self.deconv1 = nn.ConvTranspose2d(128, 64, kernel_size=4, stride=2, padding=1)
        self.bn3 = nn.BatchNorm2d(64)
        self.deconv2 = nn.ConvTranspose2d(64, 1, kernel_size=4, stride=2, padding=1)

    def forward(self, z):
        x = self.bn1(F.relu(self.fc1(z)))
        x = self.bn2(F.relu(self.fc2(x)))
        x = x.view(-1, 128, 7, 7)
        x = self.bn3(F.relu(self.deconv1(x)))
        x = torch.tanh(self.deconv2(x))
        return x.view(x.size(0), -1)


def build_dc_classifier():
    return DCClassifier()


def build_dc_generator(noise_dim=NOISE_DIM):
    return DCGenerator(noise_dim)
