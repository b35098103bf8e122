"""Train a GAN from a notebook and show what it made (provided).

`train_and_report` wraps `run_a_gan`: it trains, then shows (and saves as PNG
under `out_dir`) the snapshots over time, the final samples large, the loss
curves with the values an ideal equilibrium would give, and the quality report
(FID, digit coverage, confidence; see gan_assignment.provided.quality) with its chart.
"""

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gan_assignment.provided.config import BATCH_SIZE, NOISE_DIM
from gan_assignment.provided.images import deprocess_img, save_figure, show_images
from gan_assignment.provided.quality import CLASS_NAMES, quality_report, show_class_shares
from gan_assignment.provided.training import draw_noise, run_a_gan

# At the equilibrium of a GAN the generator's distribution equals the data's
# and the best discriminator outputs probability 1/2 (score 1/2 for LS) everywhere.
# BCE, this assignment's convention (sum of the two means): D = -log(1/2) - log(1/2) = 2 ln 2, G = ln 2.
# LS: D = 0.5 (1/2 - 1)^2 + 0.5 (1/2)^2 = 0.25, G = 0.5 (1/2 - 1)^2 = 0.125.
# "bce_mean": D's loss is the MEAN of its two terms (PyTorch-GAN's convention): ln 2 for both.
EQUILIBRIUM = {"bce": (2 * math.log(2), math.log(2)), "ls": (0.25, 0.125), "bce_mean": (math.log(2), math.log(2))}


def tile(images, cols=None, pad=1):
    """Arrange (N, 784) images in [-1, 1] into one (rows*28, cols*28) array in [0, 1] (default: a square)."""
    images = deprocess_img(np.asarray(images, dtype=np.float32)).reshape(-1, 28, 28)
    cols = cols or math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / cols)
    out = np.ones((rows * (28 + pad) - pad, cols * (28 + pad) - pad), dtype=np.float32)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        out[r * (28 + pad):r * (28 + pad) + 28, c * (28 + pad):c * (28 + pad) + 28] = img
    return out


def show_snapshots(snapshots, iterations, title=None, save_to=None):
    """All snapshots in one figure, a 4x4 grid each, labelled with its iteration."""
    import matplotlib.pyplot as plt

    n = len(snapshots)
    cols = min(n, 6)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.7, rows * 1.9), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, snap, it in zip(axes.flat, snapshots, iterations):
        ax.imshow(tile(snap), cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"iter {it}", fontsize=9)
    if title:
        fig.suptitle(title)
    return save_figure(fig, save_to, tight_layout=True)


def plot_losses(history, equilibrium=None, title=None, save_to=None):
    """D and G loss per iteration (faint) with a moving average, and the equilibrium values dashed."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.5))
    for key, label, color in (("d_loss", "D loss", "tab:blue"), ("g_loss", "G loss", "tab:orange")):
        values = np.asarray(history[key], dtype=np.float64)
        ax.plot(values, color=color, alpha=0.25, linewidth=0.8)
        window = max(1, min(50, len(values) // 10))
        if len(values) >= window:
            smooth = np.convolve(values, np.ones(window) / window, mode="valid")
            ax.plot(np.arange(window - 1, len(values)), smooth, color=color, label=f"{label} (moving average)")
    if equilibrium:
        d_eq, g_eq = equilibrium
        ax.axhline(d_eq, color="tab:blue", linestyle="--", linewidth=1, label=f"D at equilibrium ({d_eq:.3f})")
        ax.axhline(g_eq, color="tab:orange", linestyle="--", linewidth=1, label=f"G at equilibrium ({g_eq:.3f})")
    # A few early spikes would squash the curves: show the range most values live in.
    values = np.concatenate([np.asarray(history[k], dtype=np.float64) for k in ("d_loss", "g_loss")])
    if len(values):
        top = max(np.percentile(values, 99.5), *(equilibrium or (0,))) * 1.15
        ax.set_ylim(0, top)
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8, loc="upper right")
    if title:
        ax.set_title(title)
    return save_figure(fig, save_to, tight_layout=True)


@dataclass
class Figures:
    """Where train_and_report saves its figures, and what its quality report measures.

    - out_dir: the folder of the PNG files (made if needed);
    - dataset: "mnist" or "fashion" (the quality report's classifier); another name skips the report;
    - quality: options for quality_report (e.g. num_samples=1000), or False to skip it.
    """
    out_dir: object
    dataset: str = "mnist"
    quality: object = None


def train_and_report(name, D, G, D_solver, G_solver, discriminator_loss, generator_loss, images, num_epochs,
                     loss_kind, figures, **trainer_options):
    """Train with run_a_gan, then show and save: snapshots, final samples, loss curves, quality.

    `images`: the training images, a tensor (N, 1, 28, 28) in [0, 1] (or a DataLoader). `figures`: a
    Figures (where they go, the data set, the quality report's options). Writes <out_dir>/<name>_snapshots.png,
    <name>_final.png, <name>_losses.png and <name>_classes.png. Every other keyword argument goes to run_a_gan
    (show_every=, batch_size=, noise_size=, device=, noise=, seed=, precision=, checkpoint=, ...); the final
    samples and the quality report use the same noise.
    Returns the history dict (losses, snapshot iterations, seconds, iterations per second, and 'quality': the
    report as a dict). Skipped (returns None) while nbgrader autogrades (NBGRADER_EXECUTION is set).
    """
    import matplotlib.pyplot as plt

    if os.environ.get("NBGRADER_EXECUTION"):
        print(f"{name}: training skipped while nbgrader runs the notebook (Validate, autograding).")
        return None
    out_dir = Path(figures.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    history = {}
    snapshots = run_a_gan(D, G, D_solver, G_solver, discriminator_loss, generator_loss, images,
                          num_epochs=num_epochs, history=history, **trainer_options)
    print(f"{name}: {len(history['d_loss'])} iterations in {history['seconds']:.1f} s "
          f"({history['iterations_per_second']:.1f} it/s) on {history['device']}, {history['precision']}")
    show_snapshots(snapshots, history["snapshot_iters"], title=f"{name}: samples during training",
                   save_to=out_dir / f"{name}_snapshots.png")
    plt.show()
    noise, noise_size = trainer_options.get("noise", "uniform"), trainer_options.get("noise_size", NOISE_DIM)
    with torch.no_grad():  # the final samples: 64 fresh ones, in training mode like the snapshots
        # drawn as one training-size batch (some generators take no other size), of which 64 are shown
        z = draw_noise(max(trainer_options.get("batch_size", BATCH_SIZE), 64), noise_size, noise,
                       device=next(G.parameters()).device)
        final = G(z)[:64].cpu()
    show_images(final, title=f"{name}: final samples", save_to=out_dir / f"{name}_final.png")
    plt.show()
    plot_losses(history, EQUILIBRIUM[loss_kind], title=f"{name}: losses", save_to=out_dir / f"{name}_losses.png")
    plt.show()
    if figures.quality is not False and figures.dataset in CLASS_NAMES:
        report = quality_report(G, figures.dataset, noise_size=noise_size, noise=noise, **(figures.quality or {}))
        print(report)
        show_class_shares(report, save_to=out_dir / f"{name}_classes.png")
        plt.show()
        history["quality"] = report.as_dict()
    return history
