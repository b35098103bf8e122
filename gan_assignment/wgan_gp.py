"""WGAN-GP: the functions you implement.

This lab is optional. The classic GAN's discriminator outputs a probability
and its loss is a cross-entropy; when real and fake images are easy to tell
apart, that loss saturates and G learns little. The Wasserstein GAN (Arjovsky
et al., 2017) replaces the discriminator by a **critic** that outputs any real
number, and trains it to estimate the Wasserstein-1 distance between the real
and the generated images:

    W = max over 1-Lipschitz critics f of  E[f(real)] - E[f(fake)].

WGAN-GP (Gulrajani et al., 2017) keeps the critic 1-Lipschitz with a
**gradient penalty**: the critic's gradient should have norm 1 on points
between real and fake images. The notebook (notebooks/wgan_gp.ipynb) trains it
with the paper's settings (5 critic steps per generator step, lambda = 10,
Adam lr 1e-4, betas (0.0, 0.9)), plots the estimate of W over training and
compares it with the classic DCGAN at equal wall time. You write:

- gradient_penalty: the penalty on interpolates between real and fake images;
- wgan_critic_loss: the critic's loss, penalty included;
- wgan_generator_loss: the generator's loss.

Check your work with `make check LAB=wgan_gp` or the check cells of the notebook.
"""

import torch


def gradient_penalty(critic, real, fake, epsilon, lam=10.0):
    """The gradient penalty of WGAN-GP (Gulrajani et al., 2017, Algorithm 1).

    For each example i, a point on the line between a real and a fake image:

        x_hat_i = epsilon_i * real_i + (1 - epsilon_i) * fake_i

    and the penalty is

        lam * mean over i of (|| grad of critic(x_hat_i) with respect to x_hat_i ||_2 - 1) ** 2

    where the norm is over ALL the values of one example (every channel and
    pixel: for (N, C, H, W) images, dims 1, 2 and 3 together), not over the batch.

    How, in PyTorch:
    - reshape epsilon to (N, 1, 1, 1) (or (N, 1) for flat images: as many
      dimensions as real has) so that it broadcasts over each example;
    - make x_hat a tensor that requires grad (x_hat.requires_grad_(True));
    - torch.autograd.grad(outputs=scores.sum(), inputs=x_hat, create_graph=True)
      gives the gradient of every example's score at once (each score depends
      only on its own example). create_graph=True keeps the graph of that
      gradient, so that the penalty itself can be backpropagated into the
      critic's weights: without it, the penalty is a constant to the optimizer
      and does nothing.

    Inputs:
    - critic: a network from images (N, ...) to scores (N, 1) (no sigmoid).
    - real, fake: tensors (N, ...) of the same shape; fake does not require grad.
    - epsilon: a tensor (N,) of fractions in [0, 1] (the caller draws them).
    - lam: the penalty's weight lambda (10 in the paper).

    Returns:
    - A scalar tensor, differentiable with respect to the critic's weights.
    """
    # TODO: your code here (the docstring above says what to do).
    raise NotImplementedError("gradient_penalty is not implemented yet")


def wgan_critic_loss(critic, real, fake, epsilon, lam=10.0):
    """The critic's loss in WGAN-GP: minimise it to make the critic a better distance estimate.

        loss = mean critic(fake) - mean critic(real) + gradient_penalty(critic, real, fake, epsilon, lam)

    The critic wants high scores for real images and low scores for fakes: the
    negative of the first two terms, mean critic(real) - mean critic(fake), is
    the critic's estimate of the Wasserstein distance (the notebook plots it).

    Inputs: as gradient_penalty (fake is detached: the critic's step does not train G).

    Returns:
    - A scalar tensor.
    """
    # TODO: your code here (the docstring above says what to do).
    raise NotImplementedError("wgan_critic_loss is not implemented yet")


def wgan_generator_loss(scores_fake):
    """The generator's loss in WGAN-GP: G wants the critic to score its fakes high.

        loss = -mean(scores_fake)

    Inputs:
    - scores_fake: a tensor (N,) or (N, 1) of the critic's scores of fake images.

    Returns:
    - A scalar tensor.
    """
    # TODO: your code here (the docstring above says what to do).
    raise NotImplementedError("wgan_generator_loss is not implemented yet")
