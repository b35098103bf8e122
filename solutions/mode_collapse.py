"""Mode collapse and its cures (after Tariq Rashid's "Make Your Own GAN"): the functions you implement.

This lab is optional. Its notebook (notebooks/mode_collapse.ipynb) first checks
that a discriminator can learn at all, then trains the book's naive GAN, which
collapses (its samples all look alike), and then cures it one change at a
time, measuring each step. You write the pieces it switches between:

- make_discriminator and make_generator: the naive networks and the improved
  ones (LayerNorm and LeakyReLU);
- gan_loss: the mean squared error of the book's first GAN, or binary cross-entropy;
- make_optimizer: SGD or Adam;
- diversity: how different a batch of samples is, the number that shows collapse.

Images here are flat vectors of 784 pixels in [0, 1] (the book's convention),
and D outputs a probability (it ends with a Sigmoid). Check your work with
`make check LAB=mode_collapse` or the check cells of the notebook.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F  # noqa: F401  (you may want it)

IMAGE_DIM = 784     # a flat 28 x 28 image
HIDDEN = 200        # the one hidden layer of both networks
SLOPE = 0.02        # LeakyReLU's negative slope in the improved networks


def make_discriminator(improved=False, seed=None):
    """The discriminator D(x): a flat image in, the probability that it is real out.

    Naive (improved=False), the book's first network:
    - Linear(784, 200)
    - Sigmoid
    - Linear(200, 1)
    - Sigmoid

    Improved (improved=True): normalise, then a LeakyReLU that keeps gradients
    flowing for negative inputs:
    - Linear(784, 200)
    - LayerNorm(200)
    - LeakyReLU with negative slope 0.02
    - Linear(200, 1)
    - Sigmoid

    Inputs:
    - improved: which of the two networks to build.
    - seed: optional int. When it is given, call torch.manual_seed(seed) first.

    Returns:
    - An nn.Module mapping images (N, 784) in [0, 1] to probabilities (N, 1).
      It has 157,201 parameters (naive) or 157,601 (improved).
    """
    ### BEGIN SOLUTION
    if seed is not None:
        torch.manual_seed(seed)
    if improved:
        return nn.Sequential(nn.Linear(IMAGE_DIM, HIDDEN), nn.LayerNorm(HIDDEN), nn.LeakyReLU(SLOPE),
                             nn.Linear(HIDDEN, 1), nn.Sigmoid())
    return nn.Sequential(nn.Linear(IMAGE_DIM, HIDDEN), nn.Sigmoid(), nn.Linear(HIDDEN, 1), nn.Sigmoid())
    ### END SOLUTION


def make_generator(noise_dim=1, improved=False, seed=None):
    """The generator G(z): a noise vector in, a flat image in [0, 1] out.

    Naive (improved=False), the book's first generator:
    - Linear(noise_dim, 200)
    - Sigmoid
    - Linear(200, 784)
    - Sigmoid

    Improved (improved=True):
    - Linear(noise_dim, 200)
    - LayerNorm(200)
    - LeakyReLU with negative slope 0.02
    - Linear(200, 784)
    - Sigmoid

    Inputs:
    - noise_dim: the length of the noise vectors (the book starts with 1: a
      single random number per image).
    - improved: which of the two networks to build.
    - seed: optional int. When it is given, call torch.manual_seed(seed) first.

    Returns:
    - An nn.Module mapping noise (N, noise_dim) to images (N, 784) in [0, 1].
      With noise_dim=4 it has 158,584 parameters (naive) or 158,984 (improved).
    """
    ### BEGIN SOLUTION
    if seed is not None:
        torch.manual_seed(seed)
    if improved:
        return nn.Sequential(nn.Linear(noise_dim, HIDDEN), nn.LayerNorm(HIDDEN), nn.LeakyReLU(SLOPE),
                             nn.Linear(HIDDEN, IMAGE_DIM), nn.Sigmoid())
    return nn.Sequential(nn.Linear(noise_dim, HIDDEN), nn.Sigmoid(), nn.Linear(HIDDEN, IMAGE_DIM), nn.Sigmoid())
    ### END SOLUTION


def gan_loss(scores, target, kind="mse"):
    """How far D's probabilities are from the targets, averaged over the batch.

    - kind="mse": the mean squared error, mean((scores - target)^2): the book's
      first choice.
    - kind="bce": the binary cross-entropy on probabilities,
      -mean(target * log(scores) + (1 - target) * log(1 - scores)).
      (nn.BCELoss computes exactly this.)

    Inputs:
    - scores: D's outputs, probabilities in (0, 1), shape (N,) or (N, 1).
    - target: 0s and 1s, the same shape as scores.
    - kind: "mse" or "bce".

    Returns:
    - A scalar tensor.
    """
    ### BEGIN SOLUTION
    if kind == "mse":
        return ((scores - target) ** 2).mean()
    if kind == "bce":
        return F.binary_cross_entropy(scores, target)
    raise ValueError(f"kind must be 'mse' or 'bce', not {kind!r}")
    ### END SOLUTION


def make_optimizer(model, kind="sgd"):
    """The optimiser for one network.

    - kind="sgd": plain stochastic gradient descent, learning rate 0.01 (the book's first choice).
    - kind="adam": Adam with learning rate 1e-4 and PyTorch's default betas.

    Returns:
    - A torch.optim optimiser over all of model's parameters.
    """
    ### BEGIN SOLUTION
    if kind == "sgd":
        return torch.optim.SGD(model.parameters(), lr=0.01)
    if kind == "adam":
        return torch.optim.Adam(model.parameters(), lr=1e-4)
    raise ValueError(f"kind must be 'sgd' or 'adam', not {kind!r}")
    ### END SOLUTION


def diversity(images):
    """How different the images of a batch are from one another: 0 when they are all the same.

    The mean Euclidean distance between two different images of the batch: for
    N images there are N * (N - 1) / 2 pairs i < j; average ||x_i - x_j|| over
    them (an image's distance to itself is not a pair). A collapsed generator
    scores near 0; real MNIST digits score about 10.

    Inputs:
    - images: a tensor (N, 784) or (N, 1, 28, 28), N >= 2.

    Returns:
    - A scalar tensor.

    Hint: torch.cdist(x, x) gives all N x N distances at once.
    """
    ### BEGIN SOLUTION
    x = images.reshape(len(images), -1)
    distances = torch.cdist(x, x)
    n = len(x)
    return distances.sum() / (n * (n - 1))   # the diagonal is 0; each pair is counted twice, over n(n-1) ordered pairs
    ### END SOLUTION
