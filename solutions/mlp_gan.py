"""The BatchNorm MLP GAN (after PyTorch-GAN's `implementations/gan/gan.py`): the functions you implement.

This lab is optional. PyTorch-GAN's MLP GAN is one of the most copied GAN
programs there is; its notebook (notebooks/mlp_gan.ipynb) has you rebuild it,
train it, compare it with the classic assignment's fully-connected GAN after
the same number of images seen, and look at what BatchNorm does when you
sample in training mode and in evaluation mode. You write:

- mlp_generator and mlp_discriminator: the two networks;
- mlp_discriminator_loss and mlp_generator_loss: binary cross-entropy on D's
  probabilities, as the original computes it;
- mlp_optimizer: Adam as the original sets it.

Conventions (the original's): G takes standard-normal noise (N, 100) and
returns images (N, 1, 28, 28) in [-1, 1] (it ends with Tanh); D takes images
(N, 1, 28, 28) and returns the probability (N, 1) that each is real (it ends
with a Sigmoid). Check your work with `make check LAB=mlp_gan` or the check
cells of the notebook.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F  # noqa: F401  (you may want it)

LATENT_DIM = 100          # the original's latent size: standard-normal noise vectors of 100 numbers
IMAGE_SHAPE = (1, 28, 28)
IMAGE_DIM = 784
SLOPE = 0.2               # LeakyReLU's negative slope in both networks
BN_EPS = 0.8              # what the original's BatchNorm1d(out_feat, 0.8) sets (see mlp_generator)
LEARNING_RATE = 2e-4
BETAS = (0.5, 0.999)


def mlp_generator(latent_dim=LATENT_DIM, seed=None):
    """The generator G(z): standard-normal noise (N, latent_dim) in, images (N, 1, 28, 28) in [-1, 1] out.

    Four blocks, each Linear -> BatchNorm1d -> LeakyReLU(0.2), of widths 128,
    256, 512 and 1024; the first block has NO BatchNorm. Then a Linear layer to
    784 values, a Tanh, and a reshape to (N, 1, 28, 28):

    - Linear(latent_dim, 128), LeakyReLU(0.2)
    - Linear(128, 256), BatchNorm1d(256, eps=0.8), LeakyReLU(0.2)
    - Linear(256, 512), BatchNorm1d(512, eps=0.8), LeakyReLU(0.2)
    - Linear(512, 1024), BatchNorm1d(1024, eps=0.8), LeakyReLU(0.2)
    - Linear(1024, 784), Tanh, then reshape to (N, 1, 28, 28) (nn.Unflatten(1, (1, 28, 28)))

    The trap: the original writes `nn.BatchNorm1d(out_feat, 0.8)`. The second
    positional argument of BatchNorm1d is **eps** (added to the variance before
    dividing), not momentum, so the original's BatchNorm uses eps = 0.8 and the
    default momentum 0.1. Reproduce the original: eps=0.8, momentum left alone.

    Inputs:
    - latent_dim: the length of the noise vectors.
    - seed: optional int. When it is given, call torch.manual_seed(seed) first.

    Returns:
    - An nn.Module. With latent_dim=100 it has 1,510,032 parameters.
    """
    ### BEGIN SOLUTION
    if seed is not None:
        torch.manual_seed(seed)

    def block(n_in, n_out, normalize=True):
        layers = [nn.Linear(n_in, n_out)]
        if normalize:
            layers.append(nn.BatchNorm1d(n_out, eps=BN_EPS))
        layers.append(nn.LeakyReLU(SLOPE))
        return layers

    return nn.Sequential(
        *block(latent_dim, 128, normalize=False), *block(128, 256), *block(256, 512), *block(512, 1024),
        nn.Linear(1024, IMAGE_DIM), nn.Tanh(), nn.Unflatten(1, IMAGE_SHAPE))
    ### END SOLUTION


def mlp_discriminator(seed=None):
    """The discriminator D(x): images (N, 1, 28, 28) in, the probability (N, 1) that each is real out.

    - flatten the images to (N, 784)
    - Linear(784, 512), LeakyReLU(0.2)
    - Linear(512, 256), LeakyReLU(0.2)
    - Linear(256, 1), Sigmoid

    Inputs:
    - seed: optional int. When it is given, call torch.manual_seed(seed) first.

    Returns:
    - An nn.Module with 533,505 parameters.
    """
    ### BEGIN SOLUTION
    if seed is not None:
        torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(IMAGE_DIM, 512), nn.LeakyReLU(SLOPE),
                         nn.Linear(512, 256), nn.LeakyReLU(SLOPE), nn.Linear(256, 1), nn.Sigmoid())
    ### END SOLUTION


def mlp_discriminator_loss(scores_real, scores_fake):
    """D's loss, as the original computes it: the AVERAGE of two binary cross-entropies.

    BCE(p, t) = -mean(t * log(p) + (1 - t) * log(1 - p)) on probabilities p
    (nn.BCELoss, or F.binary_cross_entropy). Real images have target 1, fakes 0:

        loss = (BCE(scores_real, 1) + BCE(scores_fake, 0)) / 2

    (The classic assignment SUMS the two terms; the original halves them. Same
    gradient direction, half the size.)

    Inputs:
    - scores_real: D's probabilities on real images, shape (N,) or (N, 1).
    - scores_fake: D's probabilities on fake images, the same shape.

    Returns:
    - A scalar tensor.
    """
    ### BEGIN SOLUTION
    real = F.binary_cross_entropy(scores_real, torch.ones_like(scores_real))
    fake = F.binary_cross_entropy(scores_fake, torch.zeros_like(scores_fake))
    return (real + fake) / 2
    ### END SOLUTION


def mlp_generator_loss(scores_fake):
    """G's loss: BCE(scores_fake, 1), G wants its fakes called real (the non-saturating loss).

    Inputs:
    - scores_fake: D's probabilities on fake images, shape (N,) or (N, 1).

    Returns:
    - A scalar tensor.
    """
    ### BEGIN SOLUTION
    return F.binary_cross_entropy(scores_fake, torch.ones_like(scores_fake))
    ### END SOLUTION


def mlp_optimizer(model):
    """Adam over all of model's parameters with learning rate 2e-4 and betas (0.5, 0.999) (the original's)."""
    ### BEGIN SOLUTION
    return torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, betas=BETAS)
    ### END SOLUTION
