"""Style: CS231n 2024 gan_pytorch.py, bce_loss imported from torch.nn.functional.

Patterns: seeded signatures; bce_loss bound at module level to
F.binary_cross_entropy_with_logits (as the 2024 starter code imports it);
torch.ones_like / zeros_like targets; nn.Flatten() and nn.Unflatten(1, (128, 7, 7))
in nn.Sequential; build_dc_classifier(batch_size) starting at nn.Conv2d with
positional conv arguments; LS losses written as 0.5 * ((x - 1) ** 2).mean();
torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.5, 0.999)).
"""
import torch
import torch.nn as nn
from torch.nn.functional import binary_cross_entropy_with_logits as bce_loss

NOISE_DIM = 96


def sample_noise(batch_size, dim, seed=None):
    """
    Generate a PyTorch Tensor of uniform random noise.
    """
    if seed is not None:
        torch.manual_seed(seed)

    noise = None
    ##############################################################################
    # TODO: Implement sample_noise.                                              #
    ##############################################################################
    noise = torch.rand(batch_size, dim) * 2 - 1
    return noise


def discriminator(seed=None):
    if seed is not None:
        torch.manual_seed(seed)

    model = None
    model = nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 256), nn.LeakyReLU(0.01),
        nn.Linear(256, 256), nn.LeakyReLU(0.01),
        nn.Linear(256, 1),
    )
    return model


def generator(noise_dim=NOISE_DIM, seed=None):
    if seed is not None:
        torch.manual_seed(seed)

    model = None
    model = nn.Sequential(
        nn.Linear(noise_dim, 1024), nn.ReLU(),
        nn.Linear(1024, 1024), nn.ReLU(),
        nn.Linear(1024, 784), nn.Tanh(),
    )
    return model


def discriminator_loss(logits_real, logits_fake):
    """
    Computes the discriminator loss.

    You should use the stable torch.nn.functional.binary_cross_entropy_with_logits
    loss rather than using a separate softmax function followed by the binary cross
    entropy loss.
    """
    loss = None
    real_loss = bce_loss(logits_real, torch.ones_like(logits_real), reduction="mean")
    fake_loss = bce_loss(logits_fake, torch.zeros_like(logits_fake), reduction="mean")
    loss = real_loss + fake_loss
    return loss


def generator_loss(logits_fake):
    """
    Computes the generator loss.
    """
    loss = None
    loss = bce_loss(logits_fake, torch.ones_like(logits_fake))
    return loss


def get_optimizer(model):
    optimizer = None
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.5, 0.999))
    return optimizer


def ls_discriminator_loss(scores_real, scores_fake):
    loss = None
    loss = 0.5 * ((scores_real - 1) ** 2).mean() + 0.5 * (scores_fake ** 2).mean()
    return loss


def ls_generator_loss(scores_fake):
    loss = None
    loss = 0.5 * ((scores_fake - 1) ** 2).mean()
    return loss


def build_dc_classifier(batch_size):
    """
    Build and return a PyTorch model for the DCGAN discriminator implementing
    the architecture above.
    """
    return nn.Sequential(
        nn.Conv2d(1, 32, 5, 1),
        nn.LeakyReLU(0.01),
        nn.MaxPool2d(2, 2),
        nn.Conv2d(32, 64, 5, 1),
        nn.LeakyReLU(0.01),
        nn.MaxPool2d(2, 2),
        nn.Flatten(),
        nn.Linear(4 * 4 * 64, 4 * 4 * 64),
        nn.LeakyReLU(0.01),
        nn.Linear(4 * 4 * 64, 1),
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
        nn.Linear(1024, 7 * 7 * 128),
        nn.ReLU(),
        nn.BatchNorm1d(7 * 7 * 128),
        nn.Unflatten(1, (128, 7, 7)),
        nn.ConvTranspose2d(128, 64, 4, 2, 1),
        nn.ReLU(),
        nn.BatchNorm2d(64),
        nn.ConvTranspose2d(64, 1, 4, 2, 1),
        nn.Tanh(),
        nn.Flatten(),
    )
