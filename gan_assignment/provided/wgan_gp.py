"""Provided code of the WGAN-GP lab: its training loop, the classic DCGAN trained for the same time, the plots.

The networks are the classic lab's DCGAN (build_dc_classifier as the critic: it
has no Sigmoid and no BatchNorm, as WGAN-GP wants; build_dc_generator as G), so
the comparison with the classic DCGAN changes the loss and the training
schedule only. Nothing here is graded; the functions you write are in wgan_gp.py.
"""

import time

import matplotlib.pyplot as plt
import torch

from gan_assignment.provided.config import NOISE_DIM
from gan_assignment.provided.images import preprocess_img, save_figure
from gan_assignment.provided.training import draw_noise, progress_bar, run_a_gan

# The paper's settings (Gulrajani et al., 2017, Algorithm 1).
N_CRITIC = 5               # critic steps per generator step
LAMBDA = 10.0              # the gradient penalty's weight
LR, BETAS = 1e-4, (0.0, 0.9)
BATCH_SIZE = 64


def adam(model, lr=LR):
    return torch.optim.Adam(model.parameters(), lr=lr, betas=BETAS)


def train_wgan_gp(lab, critic, G, images, seconds, n_critic=N_CRITIC, lam=LAMBDA, batch_size=BATCH_SIZE,
                  device=None, seed=0, progress=True, max_iterations=None, lr=LR):
    """Train G against the critic with the student's losses (`lab`: the wgan_gp module) for `seconds` of wall time.

    `images`: (N, 1, 28, 28) in [0, 1]. One iteration is n_critic critic steps,
    each on a fresh real batch, fresh fakes and fresh interpolation fractions,
    then one generator step on fresh noise. Returns a history dict:
    'wasserstein' (the critic's estimate mean f(real) - mean f(fake) at its last
    step of each iteration), 'penalty', 'g_loss', 'iterations', 'seconds'.
    """
    device = device or torch.device("cpu")
    critic, G = critic.to(device).train(), G.to(device).train()
    data = preprocess_img(images).to(device)             # [-1, 1], as G's Tanh makes
    gen = torch.Generator(device="cpu").manual_seed(seed)
    c_opt, g_opt = adam(critic, lr), adam(G, lr)
    history = {"wasserstein": [], "penalty": [], "g_loss": []}

    def batch():
        return data[torch.randint(len(data), (batch_size,), generator=gen).to(device)]

    def noise():
        return draw_noise(batch_size, NOISE_DIM, generator=gen).to(device)

    bar = progress_bar(max_iterations, 0, enabled=progress)
    start = time.perf_counter()
    while time.perf_counter() - start < seconds and (max_iterations is None or
                                                     len(history["g_loss"]) < max_iterations):
        for _ in range(n_critic):
            real = batch()
            with torch.no_grad():
                fake = G(noise()).reshape(real.shape)
            epsilon = torch.rand(batch_size, generator=gen).to(device)
            loss = lab.wgan_critic_loss(critic, real, fake, epsilon, lam)
            c_opt.zero_grad(set_to_none=True)
            loss.backward()
            c_opt.step()
        with torch.no_grad():
            distance = float(critic(real).mean() - critic(fake).mean())
        history["wasserstein"].append(distance)
        history["penalty"].append(loss.item() + distance)       # the loss is -W + penalty
        for p in critic.parameters():                           # the critic stays fixed in G's step
            p.requires_grad_(False)
        g_loss = lab.wgan_generator_loss(critic(G(noise()).reshape(real.shape)))
        g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        g_opt.step()
        for p in critic.parameters():
            p.requires_grad_(True)
        history["g_loss"].append(g_loss.item())
        bar.update(1)
        if len(history["g_loss"]) % 10 == 0:
            bar.set_postfix(W=f"{distance:.3f}", GP=f"{history['penalty'][-1]:.3f}")
    bar.close()
    history["seconds"] = time.perf_counter() - start
    history["iterations"] = len(history["g_loss"])
    return history


def train_classic_for(gan, D, G, images, seconds, device=None, seed=0, batch_size=128):
    """The classic DCGAN (the classic lab's losses and optimiser) trained for about `seconds` of wall time.

    run_a_gan takes a number of iterations, so it runs in chunks: each chunk is sized
    from the speed the previous one measured, until the time is spent (the first
    chunk is short: its start-up cost would make a poor speed estimate). Returns
    the history: iterations, seconds (wall time, start-up included), losses.
    """
    done, spent, chunk, losses = 0, 0.0, 10, {"d_loss": [], "g_loss": []}
    d_opt, g_opt = gan.get_optimizer(D), gan.get_optimizer(G)   # one pair for all chunks: Adam keeps its state
    while spent < 0.97 * seconds:
        history, start = {}, time.perf_counter()
        run_a_gan(D, G, d_opt, g_opt, gan.discriminator_loss, gan.generator_loss,
                  images, num_iterations=chunk, batch_size=batch_size, device=device, history=history,
                  seed=seed + done, progress=done > 0, show_every=10 ** 9)
        took = time.perf_counter() - start
        done, spent = done + chunk, spent + took
        for key in losses:
            losses[key] += history.get(key, [])
        chunk = max(5, int(chunk / took * (seconds - spent)))   # the rest, at the speed just measured
    return {"iterations": done, "seconds": spent, **losses}


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
