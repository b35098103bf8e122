"""The DCGAN of the paper (Radford, Metz and Chintala, 2016): the functions you implement.

This lab is optional. The classic assignment's DCGAN borrows the paper's name
but not its rules; here you follow them, first on MNIST (28 x 28, one
channel), then at the paper's own size (64 x 64, colour) on any folder of
images you like: faces, anime heads, your holiday photos
(notebooks/dcgan.ipynb, or `python -m gan_assignment.provided.train dcgan64 --images FOLDER`).

The paper's architecture guidelines:
- no pooling: strided convolutions in D, strided transposed convolutions in G;
- BatchNorm in both networks, except on D's input layer and G's output layer;
- no hidden fully-connected layers;
- ReLU in G (Tanh on its output), LeakyReLU with slope 0.2 in D (a Sigmoid on its output);
- weights drawn from a normal distribution with mean 0 and standard deviation 0.02.
Every convolution has bias=False (a bias before BatchNorm is cancelled by it;
the paper's code has none). Training: Adam, learning rate 2e-4, beta1 0.5,
batches of 128, standard-normal noise of 100 numbers.

You write the weight initialisation and the two pairs of networks. The losses
and the optimiser (provided below) are the paper's. Check your work with
`make check LAB=dcgan` or the check cells of the notebook.
"""

import torch
import torch.nn as nn

from gan_assignment.provided.layers import Unflatten  # reshapes (N, noise_dim) noise to (N, noise_dim, 1, 1)

NOISE_DIM = 100
SLOPE = 0.2
INIT_STD = 0.02
LEARNING_RATE = 2e-4
BETAS = (0.5, 0.999)
BATCH_SIZE = 128


def dcgan_weights_init(m):
    """Initialise one module as the paper does; use it as `model.apply(dcgan_weights_init)`.

    model.apply(f) calls f on every module of the model (itself included), so
    this function looks at one module `m` and acts on its kind:
    - Conv2d and ConvTranspose2d: weights from a normal distribution with mean 0
      and standard deviation 0.02 (nn.init.normal_);
    - BatchNorm2d: weights (the scales) from a normal distribution with mean 1
      and standard deviation 0.02, biases 0;
    - anything else: leave it alone.

    Returns nothing: it changes m's parameters in place.
    """
    ### BEGIN SOLUTION
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, INIT_STD)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, INIT_STD)
        nn.init.constant_(m.bias, 0.0)
    ### END SOLUTION


def dcgan_generator(noise_dim=NOISE_DIM, seed=None):
    """The paper's generator, sized for MNIST: noise (N, noise_dim) in, images (N, 1, 28, 28) in [-1, 1] out.

    - reshape the noise to (N, noise_dim, 1, 1) (gan_assignment.provided.layers.Unflatten(C=noise_dim, H=1, W=1))
    - ConvTranspose2d(noise_dim, 256, kernel 7, stride 1, padding 0), BatchNorm2d(256), ReLU  -> 256 x 7 x 7
    - ConvTranspose2d(256, 128, kernel 4, stride 2, padding 1), BatchNorm2d(128), ReLU        -> 128 x 14 x 14
    - ConvTranspose2d(128, 1, kernel 4, stride 2, padding 1), Tanh                           -> 1 x 28 x 28
    Every convolution with bias=False; no BatchNorm on the output layer.

    Inputs:
    - noise_dim: the length of the noise vectors.
    - seed: optional int. When it is given, call torch.manual_seed(seed) first.

    Returns:
    - An nn.Module. With noise_dim=100 it has 1,781,504 parameters.
    """
    ### BEGIN SOLUTION
    if seed is not None:
        torch.manual_seed(seed)
    return nn.Sequential(
        Unflatten(C=noise_dim, H=1, W=1),
        nn.ConvTranspose2d(noise_dim, 256, 7, 1, 0, bias=False), nn.BatchNorm2d(256), nn.ReLU(),
        nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
        nn.ConvTranspose2d(128, 1, 4, 2, 1, bias=False), nn.Tanh())
    ### END SOLUTION


def dcgan_discriminator(seed=None):
    """The paper's discriminator, sized for MNIST: images (N, 1, 28, 28) in, probabilities (N, 1) out.

    - Conv2d(1, 64, kernel 4, stride 2, padding 1), LeakyReLU(0.2)                 -> 64 x 14 x 14
    - Conv2d(64, 128, kernel 4, stride 2, padding 1), BatchNorm2d(128), LeakyReLU(0.2) -> 128 x 7 x 7
    - Conv2d(128, 1, kernel 7, stride 1, padding 0), Sigmoid                       -> 1 x 1 x 1
    - flatten to (N, 1)
    Every convolution with bias=False; no BatchNorm on the input layer.

    Inputs:
    - seed: optional int. When it is given, call torch.manual_seed(seed) first.

    Returns:
    - An nn.Module with 138,624 parameters.
    """
    ### BEGIN SOLUTION
    if seed is not None:
        torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 64, 4, 2, 1, bias=False), nn.LeakyReLU(SLOPE),
        nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(SLOPE),
        nn.Conv2d(128, 1, 7, 1, 0, bias=False), nn.Sigmoid(), nn.Flatten())
    ### END SOLUTION


def dcgan64_generator(noise_dim=NOISE_DIM, seed=None):
    """The paper's 64 x 64 generator: noise (N, noise_dim) in, colour images (N, 3, 64, 64) in [-1, 1] out.

    Four transposed convolutions of kernel 4 double the size each time while
    the channels halve (512 -> 256 -> 128 -> 64), then one makes 3 channels:
    - reshape the noise to (N, noise_dim, 1, 1)
    - ConvTranspose2d(noise_dim, 512, 4, stride 1, padding 0), BatchNorm2d(512), ReLU -> 512 x 4 x 4
    - ConvTranspose2d(512, 256, 4, stride 2, padding 1), BatchNorm2d(256), ReLU       -> 256 x 8 x 8
    - ConvTranspose2d(256, 128, 4, stride 2, padding 1), BatchNorm2d(128), ReLU       -> 128 x 16 x 16
    - ConvTranspose2d(128, 64, 4, stride 2, padding 1), BatchNorm2d(64), ReLU         -> 64 x 32 x 32
    - ConvTranspose2d(64, 3, 4, stride 2, padding 1), Tanh                            -> 3 x 64 x 64
    Every convolution with bias=False.

    Returns:
    - An nn.Module. With noise_dim=100 it has 3,576,704 parameters.
    """
    ### BEGIN SOLUTION
    if seed is not None:
        torch.manual_seed(seed)
    layers = [Unflatten(C=noise_dim, H=1, W=1)]
    channels = [noise_dim, 512, 256, 128, 64]
    for i, (c_in, c_out) in enumerate(zip(channels, channels[1:])):
        layers += [nn.ConvTranspose2d(c_in, c_out, 4, 1 if i == 0 else 2, 0 if i == 0 else 1, bias=False),
                   nn.BatchNorm2d(c_out), nn.ReLU()]
    return nn.Sequential(*layers, nn.ConvTranspose2d(64, 3, 4, 2, 1, bias=False), nn.Tanh())
    ### END SOLUTION


def dcgan64_discriminator(seed=None):
    """The paper's 64 x 64 discriminator: colour images (N, 3, 64, 64) in, probabilities (N, 1) out.

    The mirror image of the generator: four convolutions of kernel 4, stride 2,
    padding 1 halve the size while the channels double (64 -> 128 -> 256 -> 512),
    then one 4 x 4 convolution gives one number per image:
    - Conv2d(3, 64, 4, 2, 1), LeakyReLU(0.2)                           -> 64 x 32 x 32
    - Conv2d(64, 128, 4, 2, 1), BatchNorm2d(128), LeakyReLU(0.2)       -> 128 x 16 x 16
    - Conv2d(128, 256, 4, 2, 1), BatchNorm2d(256), LeakyReLU(0.2)      -> 256 x 8 x 8
    - Conv2d(256, 512, 4, 2, 1), BatchNorm2d(512), LeakyReLU(0.2)      -> 512 x 4 x 4
    - Conv2d(512, 1, 4, 1, 0), Sigmoid, flatten to (N, 1)
    Every convolution with bias=False; no BatchNorm on the input layer.

    Returns:
    - An nn.Module with 2,765,568 parameters.
    """
    ### BEGIN SOLUTION
    if seed is not None:
        torch.manual_seed(seed)
    layers = [nn.Conv2d(3, 64, 4, 2, 1, bias=False), nn.LeakyReLU(SLOPE)]
    channels = [64, 128, 256, 512]
    for c_in, c_out in zip(channels, channels[1:]):
        layers += [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.LeakyReLU(SLOPE)]
    return nn.Sequential(*layers, nn.Conv2d(512, 1, 4, 1, 0, bias=False), nn.Sigmoid(), nn.Flatten())
    ### END SOLUTION


# ---------------------------------------------------------------------------
# Provided: the paper's losses and optimiser (not graded).
# ---------------------------------------------------------------------------

_bce = nn.BCELoss()   # the paper's code: criterion = nn.BCELoss(), on D's probabilities


def discriminator_loss(scores_real, scores_fake):
    """BCE(D(x), 1) + BCE(D(G(z)), 0) on D's probabilities (the paper's code sums the two)."""
    real_target, fake_target = torch.full_like(scores_real, 1.0), torch.full_like(scores_fake, 0.0)
    return _bce(scores_real, real_target) + _bce(scores_fake, fake_target)


def generator_loss(scores_fake):
    """BCE(D(G(z)), 1): the non-saturating generator loss."""
    return _bce(scores_fake, torch.full_like(scores_fake, 1.0))


def make_optimizer(model):
    """Adam with the paper's settings: learning rate 2e-4, betas (0.5, 0.999)."""
    adam = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, betas=BETAS)
    return adam
