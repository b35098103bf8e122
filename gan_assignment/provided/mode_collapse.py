"""Helpers for the mode-collapse lab (provided, not student work).

The lab trains one small GAN several times, changing one thing at a time. The
training itself is the course's one GAN step (`training.gan_step`: a D step,
then a G step); what differs from the classic lab is the book's conventions:
flat images in [0, 1], a discriminator that outputs probabilities, and the
noise each step feeds the generator.
"""

import math
from dataclasses import dataclass, field

import torch

from gan_assignment.provided.loop import TrainingLoop
from gan_assignment.provided.training import gan_step

IMAGE_DIM = 784


@dataclass
class Setup:
    """One configuration of the lab's GAN: what each cure switches."""
    name: str
    loss: str = "mse"           # "mse" or "bce" (gan_loss's kind)
    optimizer: str = "sgd"      # "sgd" or "adam" (make_optimizer's kind)
    improved: bool = False      # LayerNorm + LeakyReLU networks
    noise_dim: int = 1          # 1 uniform number, or 100 standard-normal ones
    normal_noise: bool = False

    def noise(self, n, generator=None):
        if self.normal_noise:
            return torch.randn(n, self.noise_dim, generator=generator)
        return torch.rand(n, self.noise_dim, generator=generator)


# The naive GAN, then one cure at a time, each keeping the ones before (the book's order).
STEPS = [
    Setup("naive: MSE, SGD"),
    Setup("+ BCE", loss="bce"),
    Setup("+ Adam", loss="bce", optimizer="adam"),
    Setup("+ LeakyReLU, LayerNorm", loss="bce", optimizer="adam", improved=True),
    Setup("+ 100 normal inputs", loss="bce", optimizer="adam", improved=True, noise_dim=100, normal_noise=True),
]

# The losses at the game's balance, D(x) = 1/2 for every image: (1/2 - 1)^2 = (1/2)^2 = 0.25 for MSE,
# -log(1/2) = ln 2 for BCE, for both the discriminator (the average of its two terms) and the generator.
EQUILIBRIUM = {"mse": 0.25, "bce": math.log(2)}


def flat_images(images):
    """Images (N, 1, 28, 28) or (N, 784) in [0, 1] as flat vectors (N, 784): the book's format."""
    return images.reshape(len(images), -1).float()


def train_discriminator_alone(D, optimizer, loss, images, steps, batch_size=32, seed=0):
    """The sanity check before any GAN: D learns to tell real images (target 1) from uniform noise (target 0).

    `loss(scores, target)`: e.g. lambda s, t: gan_loss(s, t, "mse"). Returns the loss per step.
    """
    gen = torch.Generator().manual_seed(seed)
    losses = []
    for step in range(steps):
        rows = torch.randint(len(images), (batch_size,), generator=gen)
        real, noise = images[rows], torch.rand(batch_size, IMAGE_DIM, generator=gen)
        optimizer.zero_grad(set_to_none=True)
        value = 0.5 * (loss(D(real), torch.ones(batch_size, 1)) + loss(D(noise), torch.zeros(batch_size, 1)))
        value.backward()
        optimizer.step()
        losses.append(float(value.detach()))
    return losses


@dataclass
class Run:
    setup: Setup
    G: object
    d_loss: list = field(default_factory=list)
    g_loss: list = field(default_factory=list)
    seconds: float = 0.0


def train(lab, setup, images, steps, batch_size=32, seed=0, progress=True):
    """Train a fresh GAN of configuration `setup`, built with the student's `lab` module, for `steps` steps.

    Each step is the course's gan_step, run by the course's training loop; the losses are
    gan_loss of the chosen kind: D's loss is the average of its real and fake terms, G's
    loss calls its fakes real.
    """
    torch.manual_seed(seed)   # every configuration starts from its own reproducible networks
    D = lab.make_discriminator(improved=setup.improved)
    G = lab.make_generator(setup.noise_dim, improved=setup.improved)
    D_opt, G_opt = lab.make_optimizer(D, setup.optimizer), lab.make_optimizer(G, setup.optimizer)

    def d_loss(real, fake):
        return 0.5 * (lab.gan_loss(real, torch.ones_like(real), setup.loss)
                      + lab.gan_loss(fake, torch.zeros_like(fake), setup.loss))

    def g_loss(fake):
        return lab.gan_loss(fake, torch.ones_like(fake), setup.loss)

    gen = torch.Generator().manual_seed(seed)

    def step(_):
        rows = torch.randint(len(images), (batch_size,), generator=gen)
        d, g = gan_step(D, G, D_opt, G_opt, d_loss, g_loss, images[rows], lambda n: setup.noise(n, gen))
        return {"d_loss": d, "g_loss": g}

    result = TrainingLoop({"D": D, "G": G, "D_solver": D_opt, "G_solver": G_opt}, steps, progress=progress,
                          desc=setup.name).run(step)
    return Run(setup, G, result.losses.get("d_loss", []), result.losses.get("g_loss", []), result.seconds)


def samples(run, n=64, seed=1):
    """n images (N, 784) in [0, 1] from a trained run's generator, on fixed noise."""
    with torch.no_grad():
        return run.G(run.setup.noise(n, torch.Generator().manual_seed(seed)))
