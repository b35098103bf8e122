"""Style: CS231n 2018 notebook run on a GPU, dtype hard-coded to torch.cuda.FloatTensor.

Patterns: no-seed signatures; module-level batch_size = 128 and
dtype = torch.cuda.FloatTensor; .type(dtype) inside sample_noise and the
losses; course Flatten / Unflatten classes. Correct code, but it needs a
CUDA GPU: on a CPU-only machine the checker should fail it with a message
saying a GPU is required (test input, not part of the must-pass corpus).
"""
import torch
import torch.nn as nn
import torch.optim as optim

NOISE_DIM = 96
batch_size = 128
# dtype = torch.FloatTensor
dtype = torch.cuda.FloatTensor  ## UNCOMMENT THIS LINE IF YOU'RE ON A GPU!


class Flatten(nn.Module):
    def forward(self, x):
        N, C, H, W = x.size()  # read in N, C, H, W
        return x.view(N, -1)  # "flatten" the C * H * W values into a single vector per image


class Unflatten(nn.Module):
    def __init__(self, N=-1, C=128, H=7, W=7):
        super(Unflatten, self).__init__()
        self.N = N
        self.C = C
        self.H = H
        self.W = W

    def forward(self, x):
        return x.view(self.N, self.C, self.H, self.W)


def sample_noise(batch_size, dim):
    return (torch.rand(batch_size, dim) * 2 - 1).type(dtype)


def discriminator():
    return nn.Sequential(
        Flatten(),
        nn.Linear(784, 256),
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
        nn.Linear(1024, 784),
        nn.Tanh(),
    )


def bce_loss(input, target):
    neg_abs = - input.abs()
    loss = input.clamp(min=0) - input * target + (1 + neg_abs.exp()).log()
    return loss.mean()


def discriminator_loss(logits_real, logits_fake):
    N = logits_real.size()
    true_labels = torch.ones(N).type(dtype)
    fake_labels = torch.zeros(N).type(dtype)
    return bce_loss(logits_real.type(dtype), true_labels) + bce_loss(logits_fake.type(dtype), fake_labels)


def generator_loss(logits_fake):
    N = logits_fake.size()
    true_labels = torch.ones(N).type(dtype)
    return bce_loss(logits_fake.type(dtype), true_labels)


def get_optimizer(model):
    return optim.Adam(model.parameters(), lr=1e-3, betas=(0.5, 0.999))


def ls_discriminator_loss(scores_real, scores_fake):
    scores_real = scores_real.type(dtype)
    scores_fake = scores_fake.type(dtype)
    return 0.5 * torch.mean((scores_real - 1) ** 2) + 0.5 * torch.mean(scores_fake ** 2)


def ls_generator_loss(scores_fake):
    scores_fake = scores_fake.type(dtype)
    return 0.5 * torch.mean((scores_fake - 1) ** 2)


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
        nn.Linear(1024, 1024),
        nn.LeakyReLU(0.01),
        nn.Linear(1024, 1),
    )


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
        Flatten(),
    )
