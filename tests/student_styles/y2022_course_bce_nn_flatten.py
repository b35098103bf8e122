"""Style: CS231n 2022 gan_pytorch.py with the course-given bce_loss, nn.Sequential.

Patterns: seeded signatures; build_dc_classifier(batch_size) starting directly
at nn.Conv2d; course bce_loss (bce = nn.BCEWithLogitsLoss();
bce(input.squeeze(), target)); (N,) targets
true_labels = torch.ones(logits_real.size(0)).type(dtype); nn.Flatten() and
nn.Unflatten(1, (128, 7, 7)); LS losses with F.mse_loss and the 0.5 factors;
hyper-parameters imported from gan_assignment.config.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

from gan_assignment.config import ADAM_BETAS, IMAGE_DIM, LEARNING_RATE, NOISE_DIM

dtype = torch.FloatTensor


def sample_noise(batch_size, dim, seed=None):
    if seed is not None:
        torch.manual_seed(seed)
    noise = torch.rand(batch_size, dim) * 2 - 1
    return noise


def discriminator(seed=None):
    if seed is not None:
        torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Flatten(),
        nn.Linear(IMAGE_DIM, 256),
        nn.LeakyReLU(0.01),
        nn.Linear(256, 256),
        nn.LeakyReLU(0.01),
        nn.Linear(256, 1),
    )
    return model


def generator(noise_dim=NOISE_DIM, seed=None):
    if seed is not None:
        torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Linear(noise_dim, 1024),
        nn.ReLU(),
        nn.Linear(1024, 1024),
        nn.ReLU(),
        nn.Linear(1024, IMAGE_DIM),
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
    loss = None
    true_labels = torch.ones(logits_real.size(0)).type(dtype)
    false_labels = torch.zeros(logits_fake.size(0)).type(dtype)
    loss = bce_loss(logits_real, true_labels) + bce_loss(logits_fake, false_labels)
    return loss


def generator_loss(logits_fake):
    loss = None
    true_labels = torch.ones(logits_fake.size(0)).type(dtype)
    loss = bce_loss(logits_fake, true_labels)
    return loss


def get_optimizer(model):
    optimizer = optim.Adam(model.parameters(), lr=LEARNING_RATE, betas=ADAM_BETAS)
    return optimizer


def ls_discriminator_loss(scores_real, scores_fake):
    loss = 0.5 * F.mse_loss(scores_real, torch.ones_like(scores_real)) \
        + 0.5 * F.mse_loss(scores_fake, torch.zeros_like(scores_fake))
    return loss


def ls_generator_loss(scores_fake):
    loss = 0.5 * F.mse_loss(scores_fake, torch.ones_like(scores_fake))
    return loss


def build_dc_classifier(batch_size):
    return nn.Sequential(
        nn.Conv2d(1, 32, kernel_size=5, stride=1),
        nn.LeakyReLU(0.01),
        nn.MaxPool2d(2, 2),
        nn.Conv2d(32, 64, kernel_size=5, stride=1),
        nn.LeakyReLU(0.01),
        nn.MaxPool2d(2, 2),
        nn.Flatten(),
        nn.Linear(4 * 4 * 64, 4 * 4 * 64),
        nn.LeakyReLU(0.01),
        nn.Linear(4 * 4 * 64, 1),
    )


def build_dc_generator(noise_dim=NOISE_DIM):
    return nn.Sequential(
        nn.Linear(noise_dim, 1024),
        nn.ReLU(),
        nn.BatchNorm1d(1024),
        nn.Linear(1024, 7 * 7 * 128),
        nn.ReLU(),
        nn.BatchNorm1d(7 * 7 * 128),
        nn.Unflatten(1, (128, 7, 7)),
        nn.ConvTranspose2d(128, 64, kernel_size=4, stride=2, padding=1),
        nn.ReLU(),
        nn.BatchNorm2d(64),
        nn.ConvTranspose2d(64, 1, kernel_size=4, stride=2, padding=1),
        nn.Tanh(),
        nn.Flatten(),
    )
