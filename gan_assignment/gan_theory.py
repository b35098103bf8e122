"""The GAN paper's theory in one dimension, and its inference network: the functions you implement.

This lab is optional. Goodfellow et al. (2014) prove three things about the
game between D and G:

- for a fixed G, the best discriminator is D*(x) = p_data(x) / (p_data(x) + p_g(x));
- at that D*, the value of the game is C(G) = -log 4 + 2 * JSD(p_data || p_g);
- so the global optimum is p_g = p_data, where C(G) = -log 4 and D* = 1/2 everywhere.

On the real line every density can be computed on a grid of points, so the
notebook (notebooks/gan_theory.ipynb) watches all of it happen in seconds. You
write the three pieces of the theory and the paper's training algorithm:

- optimal_discriminator: D* from the two densities;
- js_divergence: the Jensen-Shannon divergence, by numerical integration;
- algorithm1_step: one iteration of the paper's Algorithm 1 (k steps of D, then G);
- encoder_step: one training step of an inference network E(x) ~ z, the
  paper's second extension, for a trained generator of digits.

Logarithms are natural logarithms throughout (the paper's -log 4 is -1.386).
Check your work with `make check LAB=gan_theory` or the check cells of the notebook.
"""

import torch
import torch.nn.functional as F  # noqa: F401  (you may want it)


def optimal_discriminator(p_data, p_g):
    """The best discriminator for a fixed generator: D*(x) = p_data(x) / (p_data(x) + p_g(x)).

    D* is 1 where only real data can be, 0 where only generated samples can
    be, and 1/2 where the two densities are equal. Where both densities are 0
    (far from everything) the formula is 0/0: D has nothing to go on there, so
    return 1/2.

    Inputs:
    - p_data: a tensor of the data density at some points x (any shape), >= 0.
    - p_g: the generator's density at the same points, same shape, >= 0.

    Returns:
    - A tensor of D*(x), the same shape, every value in [0, 1].

    Hint: torch.where(condition, a, b) picks between two tensors elementwise.
    """
    # TODO: your code here (the docstring above says what to do).
    raise NotImplementedError("optimal_discriminator is not implemented yet")


def js_divergence(p, q, x):
    """The Jensen-Shannon divergence JSD(p || q) of two densities on the line, in nats.

        M   = (p + q) / 2                        (the mixture of the two)
        JSD = 1/2 KL(p || M) + 1/2 KL(q || M)
        KL(p || M) = integral of p(x) * log(p(x) / M(x)) dx

    Integrate with the trapezoidal rule over the grid x (torch.trapezoid(y, x)).
    Where a density is 0, its term p * log(p / M) is 0 (the limit of t log t
    as t -> 0); computing it as written gives 0 * log(0) = nan there.
    torch.xlogy(a, b) computes a * log(b) and is 0 where a is 0.

    JSD is 0 when p = q and at most log 2 (when they never overlap).

    Inputs:
    - p, q: tensors (n,) of two densities at the points x, >= 0, each
      integrating to about 1 over x.
    - x: a tensor (n,) of increasing, evenly spaced points.

    Returns:
    - A scalar tensor (or a Python float).
    """
    # TODO: your code here (the docstring above says what to do).
    raise NotImplementedError("js_divergence is not implemented yet")


def algorithm1_step(D, G, d_optimizer, g_optimizer, sample_data, sample_noise, batch_size, k=1, g_steps=1,
                    saturating=False):
    """One iteration of the paper's Algorithm 1: k steps of the discriminator, then the generator's step.

    For each of the k discriminator steps:
    - draw a minibatch of m = batch_size noise vectors z (sample_noise(m)) and
      one of m data points x (sample_data(m));
    - update D by ascending (1/m) sum [log D(x) + log(1 - D(G(z)))], i.e.
      descend the loss  -(mean log D(x) + mean log(1 - D(G(z)))):
      the SUM of the two means. G does not change here: use G(z).detach().
    Then the generator's step (g_steps times; Algorithm 1 has g_steps=1):
    - draw a fresh minibatch of m noise vectors;
    - update G by descending  mean log(1 - D(G(z)))  when saturating=True
      (the loss the theory is written with), else  -mean log D(G(z))  (the
      non-saturating loss the paper recommends in practice).
      D does not change here: only g_optimizer steps.

    Before each backward pass, zero the gradients of the network you are about
    to update (optimizer.zero_grad()): PyTorch adds new gradients to old ones.

    Inputs:
    - D: a network from points (m, 1) to probabilities (m, 1) (it ends with a Sigmoid).
    - G: a network from noise (m, noise_dim) to points (m, 1).
    - d_optimizer, g_optimizer: the optimisers of D's and G's parameters.
    - sample_data, sample_noise: functions of m returning a minibatch of real
      points (m, 1) or of noise (m, noise_dim).
    - batch_size: m.
    - k: discriminator steps per iteration (the paper used k = 1).
    - g_steps: generator steps per iteration.
    - saturating: which generator loss, see above.

    Returns:
    - (d_loss, g_loss): Python floats, D's loss at its last step and G's loss
      at its last step (each as computed before that step's update).
    """
    # TODO: your code here (the docstring above says what to do).
    raise NotImplementedError("algorithm1_step is not implemented yet")


def encoder_step(E, G, optimizer, sample_noise, batch_size):
    """One training step of the inference network E, which learns to recover z from x = G(z).

    - draw a minibatch of m = batch_size noise vectors z (sample_noise(m));
    - make their images x = G(z) without tracking gradients (torch.no_grad()):
      G is trained already and stays fixed;
    - the loss is the mean squared error between E(x) and z, averaged over every
      number of the minibatch (F.mse_loss(E(x), z));
    - zero E's gradients, backpropagate, and take one optimizer step.

    Inputs:
    - E: a network from images (the shape G makes) to noise (m, noise_dim).
    - G: the trained generator, noise (m, noise_dim) to images.
    - optimizer: the optimiser of E's parameters.
    - sample_noise: a function of m returning noise (m, noise_dim).
    - batch_size: m.

    Returns:
    - The loss, a Python float (before the update).
    """
    # TODO: your code here (the docstring above says what to do).
    raise NotImplementedError("encoder_step is not implemented yet")
