"""Generative adversarial networks on MNIST: the functions you implement.

This is the only file you edit. Each function below has a docstring that says
what to compute, the shapes going in and out, and (for networks) the
architecture layer by layer. Replace each `raise NotImplementedError(...)`
with your code, then check your work:

    make check                      # every function
    python -m checks sample_noise   # one function (works without make)

or run the check cell under each task in the notebook. The helpers you may use
(Flatten, Unflatten, ...) are imported below; they live in other modules of
the `gan_assignment` package so that this file holds only your work.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F  # noqa: F401  (you may want it)

from gan_assignment.provided.config import ADAM_BETAS, IMAGE_DIM, LEARNING_RATE, NOISE_DIM
from gan_assignment.provided.layers import Flatten, Unflatten  # noqa: F401


# ---------------------------------------------------------------------------
# Random noise
# ---------------------------------------------------------------------------

def sample_noise(batch_size, dim, seed=None):
    """Draw uniform random noise in [-1, 1]: the input z of a generator.

    Inputs:
    - batch_size: int, how many noise vectors to draw.
    - dim: int, the length of each noise vector.
    - seed: optional int. When it is given, call torch.manual_seed(seed) first,
      so that the same seed always gives the same noise.

    Returns:
    - A float tensor of shape (batch_size, dim), values uniform in [-1, 1].

    Hint: torch.rand draws uniformly from [0, 1). How do you stretch and shift
    that interval onto [-1, 1]?
    """
    # TODO: your code here (the docstring above says what to do).
    raise NotImplementedError("sample_noise is not implemented yet")


# ---------------------------------------------------------------------------
# Vanilla GAN: fully-connected discriminator and generator
# ---------------------------------------------------------------------------

def discriminator(seed=None):
    """Build the fully-connected discriminator D(x).

    D scores an image: a large positive output means "looks real", a large
    negative one "looks fake". The output is a raw score (a logit); the loss
    functions turn it into a probability, so do NOT end with a sigmoid.

    Architecture (an nn.Sequential is the simplest way to write it):
    - Flatten: (N, 1, 28, 28) -> (N, 784)
    - Linear(784, 256)
    - LeakyReLU with negative slope 0.01
    - Linear(256, 256)
    - LeakyReLU with negative slope 0.01
    - Linear(256, 1)

    Inputs:
    - seed: optional int. When it is given, call torch.manual_seed(seed)
      before creating the layers, so the initial weights are reproducible.

    Returns:
    - An nn.Module mapping images of shape (N, 1, 28, 28) or (N, 784) to
      scores of shape (N, 1). It has 267,009 parameters.
    """
    # TODO: your code here (the docstring above says what to do).
    raise NotImplementedError("discriminator is not implemented yet")


def generator(noise_dim=NOISE_DIM, seed=None):
    """Build the fully-connected generator G(z).

    G turns a noise vector into an image. Its last activation is Tanh, so
    pixel values land in [-1, 1], the same range as the real images after
    preprocessing.

    Architecture:
    - Linear(noise_dim, 1024)
    - ReLU
    - Linear(1024, 1024)
    - ReLU
    - Linear(1024, 784)
    - Tanh

    Inputs:
    - noise_dim: int, the length of the noise vectors z.
    - seed: optional int. When it is given, call torch.manual_seed(seed)
      before creating the layers.

    Returns:
    - An nn.Module mapping noise of shape (N, noise_dim) to images of shape
      (N, 784) with values in [-1, 1]. With noise_dim=4 it has 1,858,320
      parameters.
    """
    # TODO: your code here (the docstring above says what to do).
    raise NotImplementedError("generator is not implemented yet")


# ---------------------------------------------------------------------------
# GAN losses
# ---------------------------------------------------------------------------

def bce_loss(input, target):
    """Mean binary cross-entropy between logits and 0/1 targets, computed stably.

    With s = sigmoid(x) the probability that an input is real, the loss of one
    element is
        -[ z * log(s) + (1 - z) * log(1 - s) ]  =  log(1 + e^x) - z * x
    and bce_loss returns the mean over all elements.

    Computing sigmoid first and then log fails for large |x|: sigmoid(100)
    rounds to exactly 1.0 and log(1 - 1.0) = -inf. Your version must return the
    exact, finite loss even for logits like +-100 or +-1000. The identity
        log(1 + e^x) = max(x, 0) + log(1 + e^(-|x|))
    never exponentiates a large positive number. (You may also use PyTorch's
    own F.binary_cross_entropy_with_logits, which does the same.)

    Inputs:
    - input: float tensor of logits, shape (N,) or (N, 1).
    - target: float tensor of 0s and 1s with the same shape as input.

    Returns:
    - A scalar tensor (0 dimensions): the mean loss.
    """
    # TODO: your code here (the docstring above says what to do).
    raise NotImplementedError("bce_loss is not implemented yet")


def discriminator_loss(logits_real, logits_fake):
    """The discriminator's loss: real images should score 1, fake images 0.

    loss = bce_loss(logits_real, 1) + bce_loss(logits_fake, 0)

    that is, the SUM of the two mean losses (the classic assignment's
    convention). Build the targets with torch.ones_like / torch.zeros_like so
    they get the same shape, dtype and device as the logits.

    Inputs:
    - logits_real: D's scores on real images, shape (N,) or (N, 1).
    - logits_fake: D's scores on generated images, same shape.

    Returns:
    - A scalar tensor: the loss.
    """
    # TODO: your code here (the docstring above says what to do).
    raise NotImplementedError("discriminator_loss is not implemented yet")


def generator_loss(logits_fake):
    """The generator's non-saturating loss: it wants D to call its images real.

    loss = bce_loss(logits_fake, 1) = -mean(log D(G(z)))

    Minimising -log D(G(z)) rather than log(1 - D(G(z))) gives the generator
    strong gradients early in training, when D easily spots its fakes.

    Inputs:
    - logits_fake: D's scores on generated images, shape (N,) or (N, 1).

    Returns:
    - A scalar tensor: the loss.
    """
    # TODO: your code here (the docstring above says what to do).
    raise NotImplementedError("generator_loss is not implemented yet")


def get_optimizer(model):
    """An Adam optimiser for all of the model's parameters.

    Use learning rate 1e-3 and betas (0.5, 0.999) (LEARNING_RATE and
    ADAM_BETAS, imported above, hold these values).

    Inputs:
    - model: an nn.Module.

    Returns:
    - A torch.optim.Adam instance.
    """
    # TODO: your code here (the docstring above says what to do).
    raise NotImplementedError("get_optimizer is not implemented yet")


# ---------------------------------------------------------------------------
# Least-squares GAN
# ---------------------------------------------------------------------------

def ls_discriminator_loss(scores_real, scores_fake):
    """The Least-Squares GAN discriminator loss.

    loss = 0.5 * mean((D(x) - 1)^2) + 0.5 * mean(D(G(z))^2)

    Inputs:
    - scores_real: D's scores on real images, shape (N,) or (N, 1).
    - scores_fake: D's scores on generated images, same shape.

    Returns:
    - A scalar tensor: the loss.
    """
    # TODO: your code here (the docstring above says what to do).
    raise NotImplementedError("ls_discriminator_loss is not implemented yet")


def ls_generator_loss(scores_fake):
    """The Least-Squares GAN generator loss.

    loss = 0.5 * mean((D(G(z)) - 1)^2)

    Inputs:
    - scores_fake: D's scores on generated images, shape (N,) or (N, 1).

    Returns:
    - A scalar tensor: the loss.
    """
    # TODO: your code here (the docstring above says what to do).
    raise NotImplementedError("ls_generator_loss is not implemented yet")


# ---------------------------------------------------------------------------
# Deep convolutional GAN
# ---------------------------------------------------------------------------

def build_dc_classifier(batch_size):
    """Build the convolutional discriminator of the DCGAN.

    Architecture:
    - Unflatten to (N, 1, 28, 28) (use Unflatten(-1, 1, 28, 28), so any batch
      size works and already-shaped images pass through)
    - Conv2d(1, 32, kernel_size=5, stride=1)
    - LeakyReLU with negative slope 0.01
    - MaxPool2d(kernel_size=2, stride=2)
    - Conv2d(32, 64, kernel_size=5, stride=1)
    - LeakyReLU with negative slope 0.01
    - MaxPool2d(kernel_size=2, stride=2)
    - Flatten: (N, 64, 4, 4) -> (N, 1024)
    - Linear(1024, 1024)
    - LeakyReLU with negative slope 0.01
    - Linear(1024, 1)

    Inputs:
    - batch_size: kept for compatibility with the classic assignment; your
      network must work for any batch size, so do not build it into a reshape.

    Returns:
    - An nn.Module mapping images of shape (N, 1, 28, 28) or (N, 784) to
      scores of shape (N, 1). It has 1,102,721 parameters.
    """
    # TODO: your code here (the docstring above says what to do).
    raise NotImplementedError("build_dc_classifier is not implemented yet")


def build_dc_generator(noise_dim=NOISE_DIM):
    """Build the convolutional generator of the DCGAN.

    Architecture (note: each BatchNorm comes AFTER its ReLU):
    - Linear(noise_dim, 1024)
    - ReLU
    - BatchNorm1d(1024)
    - Linear(1024, 7 * 7 * 128)
    - ReLU
    - BatchNorm1d(7 * 7 * 128)
    - Unflatten to (N, 128, 7, 7)
    - ConvTranspose2d(128, 64, kernel_size=4, stride=2, padding=1): -> (N, 64, 14, 14)
    - ReLU
    - BatchNorm2d(64)
    - ConvTranspose2d(64, 1, kernel_size=4, stride=2, padding=1): -> (N, 1, 28, 28)
    - Tanh
    - Flatten: -> (N, 784)

    Inputs:
    - noise_dim: int, the length of the noise vectors z.

    Returns:
    - An nn.Module mapping noise of shape (N, noise_dim) to images of shape
      (N, 784) with values in [-1, 1]. With noise_dim=4 it has 6,580,801
      parameters.
    """
    # TODO: your code here (the docstring above says what to do).
    raise NotImplementedError("build_dc_generator is not implemented yet")
