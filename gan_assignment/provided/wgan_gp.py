"""Provided code of the WGAN-GP lab: its training loop, the classic DCGAN trained for the same time, the plots.

The networks are the classic lab's DCGAN (build_dc_classifier as the critic: it
has no Sigmoid and no BatchNorm, as WGAN-GP wants; build_dc_generator as G), so
the comparison with the classic DCGAN changes the loss and the training
schedule only. Nothing here is graded; the functions you write are in wgan_gp.py.
"""

from dataclasses import dataclass

import matplotlib.pyplot as plt
import torch

from gan_assignment.provided.config import NOISE_DIM
from gan_assignment.provided.images import preprocess_img, save_figure
from gan_assignment.provided.loop import TrainingLoop
from gan_assignment.provided.training import draw_noise, frozen, run_a_gan


@dataclass(frozen=True)
class Settings:
    """WGAN-GP's settings: the paper's (Gulrajani et al., 2017, Algorithm 1) by default."""
    n_critic: int = 5               # critic steps per generator step
    lam: float = 10.0               # the gradient penalty's weight
    lr: float = 1e-4
    betas: tuple = (0.0, 0.9)
    batch_size: int = 64


PAPER = Settings()
N_CRITIC, LAMBDA, BATCH_SIZE = PAPER.n_critic, PAPER.lam, PAPER.batch_size


def train_wgan_gp(lab, critic, G, images, seconds, settings=PAPER, device=None, seed=0, progress=True,
                  max_iterations=None):
    """Train G against the critic with the student's losses (`lab`: the wgan_gp module) for `seconds` of wall time
    (and at most `max_iterations` generator iterations), with the paper's `settings`.

    `images`: (N, 1, 28, 28) in [0, 1]. One iteration is n_critic critic steps,
    each on a fresh real batch, fresh fakes and fresh interpolation fractions,
    then one generator step on fresh noise. Returns a history dict:
    'wasserstein' (the critic's estimate mean f(real) - mean f(fake) at its last
    step of each iteration), 'penalty', 'g_loss', 'iterations', 'seconds'.
    """
    s, device = settings, device or torch.device("cpu")
    critic, G = critic.to(device).train(), G.to(device).train()
    data = preprocess_img(images).to(device)             # [-1, 1], as G's Tanh makes
    gen = torch.Generator(device="cpu").manual_seed(seed)
    c_opt, g_opt = (torch.optim.Adam(net.parameters(), lr=s.lr, betas=s.betas) for net in (critic, G))

    def batch():
        return data[torch.randint(len(data), (s.batch_size,), generator=gen).to(device)]

    def noise():
        return draw_noise(s.batch_size, NOISE_DIM, generator=gen).to(device)

    def step(_):
        for _ in range(s.n_critic):
            real = batch()
            with torch.no_grad():
                fake = G(noise()).reshape(real.shape)
            epsilon = torch.rand(s.batch_size, generator=gen).to(device)
            loss = lab.wgan_critic_loss(critic, real, fake, epsilon, s.lam)
            c_opt.zero_grad(set_to_none=True)
            loss.backward()
            c_opt.step()
        with torch.no_grad():   # the critic's estimate of the Wasserstein distance, after its last step
            estimate = critic(real).mean() - critic(fake).mean()
        with frozen(critic):                                  # the critic stays fixed in G's step
            g_loss = lab.wgan_generator_loss(critic(G(noise()).reshape(real.shape)))
        g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        g_opt.step()
        return {"wasserstein": estimate, "penalty": loss.detach() + estimate, "g_loss": g_loss}   # loss: -W + GP

    loop = TrainingLoop({"critic": critic, "G": G, "critic_solver": c_opt, "G_solver": g_opt}, max_iterations,
                        seconds=seconds, progress=progress, desc="WGAN-GP")
    result = loop.run(step)
    return {**result.losses, "iterations": result.iterations, "seconds": result.seconds, "stopped": result.stopped}


def train_classic_for(gan, D, G, images, seconds, device=None, seed=0, batch_size=128):
    """The classic DCGAN (the classic lab's losses and optimiser) trained for `seconds` of wall time, as WGAN-GP
    was. Returns the history: iterations, seconds, losses."""
    history = {}
    run_a_gan(D, G, gan.get_optimizer(D), gan.get_optimizer(G), gan.discriminator_loss, gan.generator_loss,
              images, batch_size=batch_size, num_epochs=None, seconds=seconds, device=device, history=history,
              seed=seed, show_every=None)
    return {"iterations": len(history["d_loss"]), "seconds": history["seconds"], "d_loss": history["d_loss"],
            "g_loss": history["g_loss"]}


def plot_wasserstein(history, save_to=None):
    """The critic's estimate of the Wasserstein distance, and the penalty, over training."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3))
    w = torch.tensor(history["wasserstein"])
    smooth = torch.nn.functional.avg_pool1d(w[None, None], 9, 1, 4, count_include_pad=False)[0, 0] if len(w) > 9 else w
    axes[0].plot(w, alpha=0.3, label="per iteration")
    axes[0].plot(smooth, label="moving average")
    axes[0].set(xlabel="generator iteration", ylabel="mean f(real) - mean f(fake)",
                title="The critic's estimate of the Wasserstein distance")
    axes[0].legend(fontsize=8)
    axes[1].plot(history["penalty"], color="tab:red")
    axes[1].set(xlabel="generator iteration", ylabel="gradient penalty", title="The penalty (lambda included)")
    save_figure(fig, save_to, tight_layout=True)
