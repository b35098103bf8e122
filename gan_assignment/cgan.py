"""A conditional GAN: the functions you implement.

This lab is optional. The classic GAN draws a random digit: you cannot ask it
for a 7. A conditional GAN (Mirza and Osindero, 2014) gives both networks the
label: G(z, y) draws a digit of class y, and D(x, y) judges whether x is a
real image OF CLASS y. A sharp 3 shown to D with the label 7 is a fake, so G
must learn to draw what it is asked for. The notebook
(notebooks/cgan.ipynb) trains one on MNIST, draws a 10 x 10 grid with
one row per digit, and lets the quality report's classifier confirm each row.

The label enters as a one-hot vector: for the fully-connected networks it is
concatenated to the input; for the convolutional discriminator it becomes 10
"label maps", constant images (1 in the map of the label, 0 in the others)
stacked as extra channels. You write:

- conditional_generator, conditional_discriminator, conditional_dc_discriminator;
- cgan_discriminator_loss, cgan_generator_loss.

Check your work with `make check LAB=cgan` or the check cells of the notebook.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

NUM_CLASSES = 10


def conditional_generator(noise_dim=96, num_classes=NUM_CLASSES):
    """The classic fully-connected generator, conditioned on the label.

    forward(z, labels):
    - one-hot the labels: F.one_hot(labels, num_classes), as z's dtype: (N, num_classes);
    - concatenate [z, one_hot] along dim 1 (z first): (N, noise_dim + num_classes);
    - Linear(noise_dim + num_classes, 1024), ReLU,
      Linear(1024, 1024), ReLU,
      Linear(1024, 784), Tanh.

    Inputs:
    - noise_dim: the length of z; num_classes: how many labels.

    Returns:
    - An nn.Module whose forward(z, labels) maps z (N, noise_dim) and labels
      (N,) int64 to flat images (N, 784) in [-1, 1].
    """
    # TODO: your code here (the docstring above says what to do).
    raise NotImplementedError("conditional_generator is not implemented yet")


def conditional_discriminator(num_classes=NUM_CLASSES):
    """The classic fully-connected discriminator, conditioned on the label.

    forward(images, labels):
    - flatten the images to (N, 784) and one-hot the labels (as the images' dtype);
    - concatenate [flat images, one_hot] along dim 1 (images first): (N, 784 + num_classes);
    - Linear(784 + num_classes, 256), LeakyReLU(0.01),
      Linear(256, 256), LeakyReLU(0.01),
      Linear(256, 1): a logit, no sigmoid.

    Returns:
    - An nn.Module whose forward(images, labels) maps images (N, 1, 28, 28) or
      (N, 784) and labels (N,) int64 to scores (N, 1).
    """
    # TODO: your code here (the docstring above says what to do).
    raise NotImplementedError("conditional_discriminator is not implemented yet")


def conditional_dc_discriminator(num_classes=NUM_CLASSES):
    """The classic DCGAN discriminator, conditioned by label maps.

    forward(images, labels):
    - reshape the images to (N, 1, 28, 28);
    - label maps: the one-hot labels (as the images' dtype) as (N, num_classes, 1, 1),
      expanded to (N, num_classes, 28, 28): map k is all ones for the images of
      class k and all zeros for the others;
    - concatenate [images, maps] along dim 1 (images first): (N, 1 + num_classes, 28, 28);
    - then the classic build_dc_classifier's layers, with 1 + num_classes input channels:
      Conv2d(1 + num_classes, 32, 5), LeakyReLU(0.01), MaxPool2d(2, 2),
      Conv2d(32, 64, 5), LeakyReLU(0.01), MaxPool2d(2, 2),
      Flatten, Linear(1024, 1024), LeakyReLU(0.01), Linear(1024, 1).

    Returns:
    - An nn.Module whose forward(images, labels) maps images (N, 1, 28, 28) or
      (N, 784) and labels (N,) int64 to scores (N, 1).
    """
    # TODO: your code here (the docstring above says what to do).
    raise NotImplementedError("conditional_dc_discriminator is not implemented yet")


def cgan_discriminator_loss(D, real, real_labels, fake, fake_labels):
    """The conditional discriminator's loss: real images with their labels are real, fakes with theirs are fake.

        loss = BCE(D(real, real_labels), 1) + BCE(D(fake, fake_labels), 0)

    the SUM of the two mean binary cross-entropies on D's logits
    (F.binary_cross_entropy_with_logits). Each fake is judged with the label
    G made it for (fake_labels): judged with another label, a perfect 7 would
    count as a failed 3 and G could not learn what the labels mean.

    Inputs:
    - D: a conditional discriminator, D(images, labels) -> logits (N, 1).
    - real, real_labels: a batch of real images and their labels (N,).
    - fake, fake_labels: G's images (detached) and the labels G was given.

    Returns:
    - A scalar tensor.
    """
    # TODO: your code here (the docstring above says what to do).
    raise NotImplementedError("cgan_discriminator_loss is not implemented yet")


def cgan_generator_loss(D, fake, fake_labels):
    """The conditional generator's loss: G wants its fakes called real for the labels it was given.

        loss = BCE(D(fake, fake_labels), 1)     (the non-saturating loss)

    Inputs:
    - D: a conditional discriminator.
    - fake, fake_labels: G's images (not detached: G learns through them) and their labels.

    Returns:
    - A scalar tensor.
    """
    # TODO: your code here (the docstring above says what to do).
    raise NotImplementedError("cgan_generator_loss is not implemented yet")
