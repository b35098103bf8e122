"""The one-dimensional GAN of the theory lab (notebooks/gan_theory.ipynb), and its inference network.

Everything here is provided; the lab's student functions (gan_assignment/gan_theory.py)
are passed in where they are needed, so the same code runs the solutions and yours.

- The data: a mixture of Gaussians on the line (`Mixture`), its exact density on a grid.
- The game: small MLPs for G and D, trained by the student's `algorithm1_step`
  (`train_1d`), measured every few steps on the grid: p_g (a kernel density
  estimate from G's samples), D(x), D*(x), V(D, G), V(D*, G) and 2 JSD - log 4.
- The pictures: the paper's Figure 1 as a strip of frames and a GIF, the numbers
  of the theory over training, the two generator losses.
- The inference network: an encoder E(x) ~ z for a trained generator (`make_encoder`,
  `train_encoder`), and how well it recovers z.
"""

import math
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn

from gan_assignment.provided.images import save_figure
from gan_assignment.provided.loop import TrainingLoop
from gan_assignment.provided.training import draw_noise

LOG4 = math.log(4.0)
LN2 = math.log(2.0)             # the largest JSD (two densities that never overlap)
GRID = (-4.0, 4.0, 801)        # where densities are drawn and integrated: (low, high, points)
BANDWIDTH = 0.08               # of the Gaussian kernel that turns G's samples into a density
KDE_SAMPLES = 4000             # samples of G per density estimate
SLOPE = 0.2                    # LeakyReLU's negative slope in both 1-D networks
MIN_SHARE = 0.05               # a data mode counts as covered when this share of G's samples fall near it


@dataclass(frozen=True)
class Mixture:
    """A mixture of Gaussians on the line: the 'real data' of the 1-D game."""
    means: tuple = (-2.0, 0.0, 2.0)
    std: float = 0.25
    weights: tuple = None          # None: equal weights

    @property
    def probabilities(self):
        w = torch.tensor(self.weights or [1.0] * len(self.means), dtype=torch.float64)
        return w / w.sum()

    def density(self, x):
        """The exact density at the points x (a float64 tensor of x's shape)."""
        x = torch.as_tensor(x, dtype=torch.float64)
        means = torch.tensor(self.means, dtype=torch.float64)
        z = (x.unsqueeze(-1) - means) / self.std
        return (self.probabilities * torch.exp(-0.5 * z ** 2)).sum(-1) / (self.std * math.sqrt(2 * math.pi))

    def sample(self, n, generator=None):
        """n points (n, 1), float32."""
        modes = torch.multinomial(self.probabilities, n, replacement=True, generator=generator)
        means = torch.tensor(self.means, dtype=torch.float64)[modes]
        return (means + self.std * torch.randn(n, generator=generator, dtype=torch.float64)).float().unsqueeze(1)


def grid(low=GRID[0], high=GRID[1], points=GRID[2]):
    """Evenly spaced points (float64) where densities are evaluated and integrated."""
    return torch.linspace(low, high, points, dtype=torch.float64)


def kde(samples, x, bandwidth=BANDWIDTH):
    """A Gaussian kernel density estimate from `samples` (any shape) at the points x (float64)."""
    s = torch.as_tensor(samples, dtype=torch.float64).reshape(-1)
    z = (x.unsqueeze(-1) - s) / bandwidth
    return torch.exp(-0.5 * z ** 2).sum(-1) / (len(s) * bandwidth * math.sqrt(2 * math.pi))


def value(d, p_data, p_g, x):
    """V(D, G) = E_data[log D(x)] + E_g[log(1 - D(x))], by the trapezoidal rule on the grid x.

    `d`: D's probabilities at x. Where a density is 0 its term is 0 (0 * log 0 = 0). D is kept a hair
    inside (0, 1): where D* rounds to exactly 1, p_g is below 1e-16 of p_data and its term is nil, not -inf.
    """
    d = d.clamp(torch.nextafter(torch.tensor(0.0, dtype=d.dtype), torch.tensor(1.0, dtype=d.dtype)),
                torch.nextafter(torch.tensor(1.0, dtype=d.dtype), torch.tensor(0.0, dtype=d.dtype)))
    return float(torch.trapezoid(torch.xlogy(p_data, d) + torch.xlogy(p_g, 1 - d), x))


@contextmanager
def one_thread():
    """Run PyTorch on one thread inside: for networks this small, more threads only wait on each other
    (on a busy 2-core machine, 2 threads made the 1-D GAN thirty times slower)."""
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


def make_1d_generator(noise_dim=1, hidden=32, seed=None):
    """G: noise (N, noise_dim) -> points (N, 1): two hidden layers with LeakyReLU."""
    if seed is not None:
        torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(noise_dim, hidden), nn.LeakyReLU(SLOPE), nn.Linear(hidden, hidden),
                         nn.LeakyReLU(SLOPE), nn.Linear(hidden, 1))


def make_1d_discriminator(hidden=32, seed=None):
    """D: points (N, 1) -> probabilities (N, 1): two hidden layers with LeakyReLU, then a Sigmoid."""
    if seed is not None:
        torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(1, hidden), nn.LeakyReLU(SLOPE), nn.Linear(hidden, hidden),
                         nn.LeakyReLU(SLOPE), nn.Linear(hidden, 1), nn.Sigmoid())


@dataclass
class Setting:
    """One way of training the 1-D GAN."""
    name: str
    k: int = 1                  # D steps per iteration (Algorithm 1's k)
    g_steps: int = 1            # G steps per iteration
    saturating: bool = False    # the generator's loss: log(1 - D(G(z))) or -log D(G(z))


@dataclass
class Run:
    """What train_1d measured: a frame every `every` iterations, and the losses of every iteration."""
    setting: Setting
    iterations: list = field(default_factory=list)
    frames: list = field(default_factory=list)       # dicts: p_g, d, d_star (numpy arrays on the grid)
    v_d: list = field(default_factory=list)          # V(D, G), D as trained
    v_star: list = field(default_factory=list)       # V(D*, G) = C(G)
    jsd_bound: list = field(default_factory=list)    # 2 JSD(p_data || p_g) - log 4
    jsd: list = field(default_factory=list)
    d_loss: list = field(default_factory=list)
    g_loss: list = field(default_factory=list)
    seconds: float = 0.0
    samples: torch.Tensor = None                     # G's samples at the end
    modes_covered: int = 0
    G: nn.Module = None
    D: nn.Module = None


def train_1d(lab, setting, mixture=Mixture(), iterations=2000, every=100, batch_size=128, noise_dim=1,
             lr=1e-3, seed=0, x=None):
    """Train a fresh 1-D GAN with `lab.algorithm1_step` and measure the theory's quantities on the way.

    `lab`: the module with the student's functions (algorithm1_step, optimal_discriminator,
    js_divergence). Noise is uniform in [-1, 1]; both networks use Adam (lr, betas (0.5, 0.999)).
    Returns a Run.
    """
    x = grid() if x is None else x
    p_data = mixture.density(x)
    gen = torch.Generator().manual_seed(seed)
    G, D = make_1d_generator(noise_dim, seed=seed), make_1d_discriminator(seed=seed + 1)
    d_opt = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    g_opt = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    run = Run(setting, G=G, D=D)

    def sample_data(m):
        return mixture.sample(m, generator=gen)

    def sample_noise(m):
        return draw_noise(m, noise_dim, generator=gen)

    def measure(iteration):
        with torch.no_grad():
            samples = G(draw_noise(KDE_SAMPLES, noise_dim, generator=gen)).double()
            d = D(x.float().unsqueeze(1)).double().squeeze(1)
        p_g = kde(samples, x)
        d_star = lab.optimal_discriminator(p_data, p_g)
        jsd = float(lab.js_divergence(p_data, p_g, x))
        run.iterations.append(iteration)
        run.frames.append({"p_g": p_g.numpy(), "d": d.numpy(), "d_star": d_star.double().numpy()})
        run.v_d.append(value(d, p_data, p_g, x))
        run.v_star.append(value(d_star.double(), p_data, p_g, x))
        run.jsd.append(jsd)
        run.jsd_bound.append(2 * jsd - LOG4)
        run.samples = samples.float()

    def step(_):
        d_loss, g_loss = lab.algorithm1_step(D, G, d_opt, g_opt, sample_data, sample_noise, batch_size,
                                             k=setting.k, g_steps=setting.g_steps, saturating=setting.saturating)
        return {"d_loss": d_loss, "g_loss": g_loss}

    with one_thread():   # measured every `every` iterations, and at the end
        result = TrainingLoop({"D": D, "G": G, "D_solver": d_opt, "G_solver": g_opt}, iterations, show_every=every,
                              progress=False, desc=setting.name).run(step, on_show=measure)
        if not run.iterations or run.iterations[-1] != result.iterations:
            measure(result.iterations)
    run.d_loss, run.g_loss = result.losses.get("d_loss", []), result.losses.get("g_loss", [])
    run.seconds = result.seconds
    run.modes_covered = modes_covered(run.samples, mixture)
    return run


def modes_covered(samples, mixture=Mixture(), min_share=MIN_SHARE):
    """How many of the mixture's modes get at least `min_share` of the samples within 3 std of them."""
    s = torch.as_tensor(samples, dtype=torch.float64).reshape(-1)
    near = [((s - m).abs() < 3 * mixture.std).double().mean() for m in mixture.means]
    return int(sum(float(share) >= min_share for share in near))


def kde_floor(mixture=Mixture(), x=None, n=KDE_SAMPLES, seed=0, js_divergence=None):
    """The JSD between p_data and a density estimate from n REAL samples: what a perfect G would score,
    since the estimate's own blur and noise count as a difference."""
    x = grid() if x is None else x
    p_hat = kde(mixture.sample(n, generator=torch.Generator().manual_seed(seed)), x)
    return float(js_divergence(mixture.density(x), p_hat, x))


# ---------------------------------------------------------------------------
# Pictures
# ---------------------------------------------------------------------------

def draw_frame(ax, x, p_data, frame, iteration=None, legend=False):
    """One panel of the paper's Figure 1: p_data (black, dotted), p_g (green), D (blue, dashed), D* (grey)."""
    x = np.asarray(x)
    ax.plot(x, np.asarray(p_data), ":", color="black", label="p_data")
    ax.plot(x, frame["p_g"], color="green", label="p_g")
    ax.plot(x, frame["d"], "--", color="blue", label="D")
    ax.plot(x, frame["d_star"], color="grey", linewidth=0.8, alpha=0.7, label="D*")
    top = max(1.05, float(np.max(np.asarray(p_data))) * 1.1)
    ax.set_ylim(0, min(top, 3.0))
    ax.set_xlim(x[0], x[-1])
    ax.set_yticks([0, 0.5, 1])
    if iteration is not None:
        ax.set_title(f"iteration {iteration}", fontsize=9)
    if legend:
        ax.legend(fontsize=7, loc="upper left")


def figure1_strip(run, mixture=Mixture(), x=None, panels=5, save_to=None):
    """`panels` frames of a run, from the start to the end, side by side (the paper's Figure 1)."""
    import matplotlib.pyplot as plt

    x = grid() if x is None else x
    picks = np.unique(np.linspace(0, len(run.frames) - 1, panels).round().astype(int))
    fig, axes = plt.subplots(1, len(picks), figsize=(3 * len(picks), 2.6), sharey=True)
    for i, (ax, index) in enumerate(zip(np.atleast_1d(axes), picks)):
        draw_frame(ax, x, mixture.density(x), run.frames[index], run.iterations[index], legend=i == 0)
    fig.suptitle(f"{run.setting.name}: data (black), G (green), D (blue), D* (grey)", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, save_to)


def figure1_gif(run, path, mixture=Mixture(), x=None, fps=8):
    """Every frame of a run as an animated GIF at `path` (returns the path)."""
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation, PillowWriter

    x = grid() if x is None else x
    p_data = mixture.density(x)
    fig, ax = plt.subplots(figsize=(5, 3))

    def draw(i):
        ax.clear()
        draw_frame(ax, x, p_data, run.frames[i], run.iterations[i], legend=True)

    animation = FuncAnimation(fig, draw, frames=len(run.frames))
    animation.save(str(path), writer=PillowWriter(fps=fps))
    plt.close(fig)
    return path


def plot_theory_numbers(run, floor=None, save_to=None):
    """V(D, G), V(D*, G) and 2 JSD - log 4 over training, with the optimum -log 4."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot(run.iterations, run.v_d, color="blue", label="V(D, G): D as trained")
    ax.plot(run.iterations, run.v_star, color="grey", linewidth=3, alpha=0.5, label="V(D*, G) = C(G)")
    ax.plot(run.iterations, run.jsd_bound, "--", color="black", label="2 JSD(p_data || p_g) - log 4")
    ax.axhline(-LOG4, color="red", linewidth=1, label="-log 4 = -1.386 (the optimum)")
    if floor is not None:
        ax.axhline(2 * floor - LOG4, color="red", linestyle=":", linewidth=1,
                   label="what a perfect G scores here (density estimate's blur)")
    ax.set(xlabel="iteration", ylabel="value (nats)", title=f"{run.setting.name}: the value of the game")
    ax.legend(fontsize=8)
    return save_figure(fig, save_to)


def plot_generator_losses(save_to=None):
    """The two generator losses as functions of D(G(z)): where G starts (D(G(z)) near 0) one is flat."""
    import matplotlib.pyplot as plt

    d = np.linspace(1e-3, 1 - 1e-3, 500)
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.plot(d, np.log(1 - d), label="saturating: log(1 - D(G(z)))")
    ax.plot(d, -np.log(d), label="non-saturating: -log D(G(z))")
    ax.axvspan(0, 0.1, color="grey", alpha=0.15, label="early training: D rejects G's samples")
    ax.set(xlabel="D(G(z))", ylabel="generator's loss", ylim=(-5, 5))
    ax.legend(fontsize=8)
    return save_figure(fig, save_to)


def generator_gradient_at_start(lab, mixture=Mixture(), d_steps=1000, batch_size=128, noise_dim=1, seed=0):
    """The size of G's gradient at the start, for each loss, after D has learned to reject G's samples.

    D is trained alone for `d_steps` steps (G fixed), as in early training when D wins easily.
    Returns {"D(G(z))": mean score of the fakes, "saturating": |grad|, "non-saturating": |grad|}.
    """
    gen = torch.Generator().manual_seed(seed)
    G, D = make_1d_generator(noise_dim, seed=seed), make_1d_discriminator(seed=seed + 1)
    d_opt = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
    frozen_g = torch.optim.SGD(G.parameters(), lr=0.0)       # G's "step" changes nothing
    with one_thread():
        for _ in range(d_steps):
            lab.algorithm1_step(D, G, d_opt, frozen_g, lambda m: mixture.sample(m, generator=gen),
                                lambda m: draw_noise(m, noise_dim, generator=gen), batch_size, k=1)
    z = draw_noise(1024, noise_dim, generator=gen)
    result = {}
    for name, saturating in (("saturating", True), ("non-saturating", False)):
        G.zero_grad()
        scores = D(G(z))
        loss = torch.log(1 - scores).mean() if saturating else -torch.log(scores).mean()
        loss.backward()
        result[name] = float(torch.sqrt(sum((p.grad ** 2).sum() for p in G.parameters())))
        result["D(G(z))"] = scores.mean().item()
    return result


# ---------------------------------------------------------------------------
# The inference network
# ---------------------------------------------------------------------------

def make_encoder(noise_dim, image_dim=784, hidden=(512, 256), seed=None):
    """E: images (N, ...) -> noise (N, noise_dim) in (-1, 1): an MLP on the flattened image, Tanh at the end
    (the classic generators' noise is uniform in [-1, 1])."""
    if seed is not None:
        torch.manual_seed(seed)
    layers, width = [nn.Flatten()], image_dim
    for size in hidden:
        layers += [nn.Linear(width, size), nn.LeakyReLU(SLOPE)]
        width = size
    return nn.Sequential(*layers, nn.Linear(width, noise_dim), nn.Tanh())


def train_encoder(lab, E, G, noise_dim, steps=2000, batch_size=128, lr=1e-3, seed=0, progress=True):
    """Train E with the student's `lab.encoder_step` on fresh uniform noise; returns the losses."""
    gen = torch.Generator().manual_seed(seed)
    device = next(G.parameters()).device
    optimizer = torch.optim.Adam(E.parameters(), lr=lr)
    G.eval()   # a classic DCGAN generator has BatchNorm: use its running statistics, and never update them

    def sample_noise(m):
        return draw_noise(m, noise_dim, generator=gen).to(device)   # drawn on the CPU: the same noise anywhere

    def step(_):
        return {"loss": lab.encoder_step(E, G, optimizer, sample_noise, batch_size)}

    return TrainingLoop({"E": E, "E_solver": optimizer}, steps, progress=progress, desc="encoder").run(step).losses["loss"]


def recovery_error(E, G, noise_dim, n=2000, seed=1):
    """The mean squared error of E(G(z)) against z, per latent coordinate (numpy (noise_dim,)), on fresh z."""
    gen = torch.Generator().manual_seed(seed)
    device = next(G.parameters()).device
    z = draw_noise(n, noise_dim, generator=gen).to(device)
    with torch.no_grad():
        return ((E(G(z)) - z) ** 2).mean(0).cpu().numpy()


def show_pairs(top, bottom, labels=("x", "G(E(x))"), title=None, save_to=None):
    """Two rows of images, each image of `top` above its counterpart in `bottom` (values in [-1, 1])."""
    import matplotlib.pyplot as plt

    n = len(top)
    fig, axes = plt.subplots(2, n, figsize=(1.1 * n, 2.6))
    for row, (images, label) in enumerate(zip((top, bottom), labels)):
        for col in range(n):
            ax = axes[row, col]
            ax.imshow(images[col].detach().cpu().reshape(28, 28).numpy(), cmap="gray", vmin=-1, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row, 0].set_ylabel(label, fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    return save_figure(fig, save_to)
