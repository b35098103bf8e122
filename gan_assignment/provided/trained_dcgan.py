"""The trained classic DCGAN that the three labs on what a GAN learned look inside (provided).

d_probe, latent_walks and saliency all study one trained classic DCGAN (the
gan_pytorch lab's build_dc_classifier and build_dc_generator): the one the
classic notebook saved (dcgan_generator.pt and dcgan_discriminator.pt beside
it), or, when those files are missing, one trained here with your gan_pytorch
functions and kept in outputs/learned/, so the three notebooks train it once
between them. Each lab's own figures and experiments are in the provided module
of its name (d_probe.py, latent_walks.py, saliency.py); the functions you write
are in gan_assignment/<lab>.py.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from gan_assignment.provided.config import BATCH_SIZE, NOISE_DIM
from gan_assignment.provided.images import deprocess_img, save_figure
from gan_assignment.provided.layers import initialize_weights
from gan_assignment.provided.training import draw_noise, run_a_gan
from gan_assignment.provided.utils import call_classic
from gan_assignment.provided.weights import (WeightsError, discriminator_path, load_discriminator, load_generator,
                                             save_half)


def classic_dcgan(gan, weights, cache_dir, train_images, iterations, device=None, seed=231):
    """A trained classic DCGAN (D, G) in eval mode, and where it came from.

    - `weights`: the classic notebook's dcgan_generator.pt; used when the
      discriminator was saved beside it.
    - else `cache_dir`/<iterations>/: a DCGAN this function trained before;
    - else one trained now for `iterations` iterations with the student's
      classic functions (`gan`: the classic module) on `train_images` (N, 1, 28, 28)
      in [0, 1], then saved in the cache for the other labs.
    """
    cache = Path(cache_dir) / f"dcgan_{iterations}_iterations" / "dcgan_generator.pt"
    for path, source in ((Path(weights), "the classic notebook's DCGAN"), (cache, "the DCGAN trained earlier")):
        if path.exists() and discriminator_path(path).exists():
            try:
                D, G = load_discriminator(gan, path, BATCH_SIZE), load_generator(gan, path)
            except (WeightsError, RuntimeError, KeyError) as e:
                print(f"{path.parent}: cannot use its weights ({e}); trying the next source")
                continue
            print(f"{source}, from {path.parent}")
            return D.to(device).eval(), G.to(device).eval(), source
    print(f"No saved DCGAN with its discriminator: training the classic DCGAN for {iterations} iterations "
          f"(kept in {cache.parent} for the other labs)")
    torch.manual_seed(seed)
    D = call_classic(gan.build_dc_classifier, batch_size=BATCH_SIZE).apply(initialize_weights)
    G = gan.build_dc_generator(NOISE_DIM).apply(initialize_weights)
    history = {}
    run_a_gan(D, G, gan.get_optimizer(D), gan.get_optimizer(G), gan.discriminator_loss, gan.generator_loss,
              train_images, num_iterations=iterations, batch_size=BATCH_SIZE, device=device, history=history,
              seed=seed)
    print(f"{len(history['d_loss'])} iterations in {history['seconds']:.0f} s")
    cache.parent.mkdir(parents=True, exist_ok=True)
    save_half(G, cache, noise_dim=NOISE_DIM)
    save_half(D, discriminator_path(cache))
    return D.to(device).eval(), G.to(device).eval(), f"a DCGAN trained for {iterations} iterations"


def random_discriminator(gan, seed=0):
    """An untrained discriminator of the same architecture: the baseline a trained D must beat."""
    torch.manual_seed(seed)
    return call_classic(gan.build_dc_classifier, batch_size=BATCH_SIZE).apply(initialize_weights).eval()


@torch.no_grad()
def generate(G, z):
    """G's images for noise z, as (N, 1, 28, 28) in [0, 1]."""
    return deprocess_img(G(z)).reshape(len(z), 1, 28, 28).cpu()



def show_rows(rows, title=None, save_to=None):
    """Image strips one above the other: `rows` is [(label, images (T, 1, 28, 28) in [0, 1]), ...]."""
    columns = max(len(images) for _, images in rows)
    fig, axes = plt.subplots(len(rows), columns, figsize=(columns * 0.8 + 1.6, len(rows) * 0.85 + 0.4),
                             squeeze=False)
    for r, (label, images) in enumerate(rows):
        for c in range(columns):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if c < len(images):
                ax.imshow(images[c].reshape(28, 28), cmap="gray", vmin=0, vmax=1)
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save_figure(fig, save_to)


def latent_sensitivity(G, noise_dim, n=256, seed=2):
    """How much G's images change when one latent coordinate moves from -1 to +1 (the others random):
    the root-mean-square pixel change, per coordinate (numpy (noise_dim,)). A coordinate G ignores
    cannot be recovered by any encoder."""
    gen = torch.Generator().manual_seed(seed)
    device = next(G.parameters()).device
    z = draw_noise(n, noise_dim, generator=gen)
    change = []
    with torch.no_grad():
        for i in range(noise_dim):
            low, high = z.clone(), z.clone()
            low[:, i], high[:, i] = -1.0, 1.0
            diff = G(high.to(device)) - G(low.to(device))
            change.append(float(diff.pow(2).mean().sqrt()))
    return np.array(change)
