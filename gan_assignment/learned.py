"""Provided code of the three labs on what a trained GAN learned: d_probe, latent_walks and saliency.

All three look inside one trained classic DCGAN (the classic lab's
build_dc_classifier and build_dc_generator): the one the classic notebook saved
(dcgan_generator.pt and dcgan_discriminator.pt beside it), or, when those files
are missing, one trained here with your classic-lab functions and kept in
outputs/learned/, so the three notebooks train it once between them.

Nothing here is graded; the functions you write are in d_probe.py,
latent_walks.py and saliency.py.
"""

import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn

from gan_assignment.config import BATCH_SIZE, NOISE_DIM
from gan_assignment.images import deprocess_img, preprocess_img
from gan_assignment.layers import initialize_weights
from gan_assignment.training import draw_noise, run_a_gan
from gan_assignment.utils import call_classic

DISCRIMINATOR_FILE = "dcgan_discriminator.pt"
LABEL_BUDGETS = (100, 1000, None)      # labelled training images per probe (None: all of them)
PROBE_STEPS, PROBE_LR = 300, 0.01      # full-batch Adam steps of every probe


# ---------------------------------------------------------------------------
# The trained classic DCGAN
# ---------------------------------------------------------------------------

def discriminator_path(generator_path):
    """Where the discriminator of the DCGAN saved at `generator_path` is: the same folder."""
    return Path(generator_path).with_name(DISCRIMINATOR_FILE)


def _save_half(model, path, **extra):
    """A network's weights in float16 (half the size, the same pictures), as checks.coverage.load_generator reads them."""
    state = {k: (v.half() if v.is_floating_point() else v).cpu() for k, v in model.state_dict().items()}
    torch.save({**extra, "state_dict": state}, path)


def save_discriminator(D, generator_path):
    """Save a trained discriminator beside its generator (float16, like the generator)."""
    path = discriminator_path(generator_path)
    _save_half(D, path)
    print(f"Saved the discriminator's weights to {path} ({path.stat().st_size / 2 ** 20:.1f} MB): the optional "
          "labs on what the GAN learned use it.")


def load_discriminator(gan, generator_path):
    """The student's build_dc_classifier with the weights saved beside `generator_path`."""
    saved = torch.load(discriminator_path(generator_path), map_location="cpu", weights_only=True)
    D = call_classic(gan.build_dc_classifier, batch_size=BATCH_SIZE)
    D.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in saved["state_dict"].items()})
    return D


def classic_dcgan(gan, weights, cache_dir, train_images, iterations, device=None, seed=231):
    """A trained classic DCGAN (D, G) in eval mode, and where it came from.

    - `weights`: the classic notebook's dcgan_generator.pt; used when the
      discriminator was saved beside it.
    - else `cache_dir`/<iterations>/: a DCGAN this function trained before;
    - else one trained now for `iterations` iterations with the student's
      classic functions (`gan`: the classic module) on `train_images` (N, 1, 28, 28)
      in [0, 1], then saved in the cache for the other labs.
    """
    from checks.coverage import load_generator

    cache = Path(cache_dir) / f"dcgan_{iterations}_iterations" / "dcgan_generator.pt"
    for path, source in ((Path(weights), "the classic notebook's DCGAN"), (cache, "the DCGAN trained earlier")):
        if path.exists() and discriminator_path(path).exists():
            try:
                D, G = load_discriminator(gan, path), load_generator(gan, path)
            except (ValueError, RuntimeError, KeyError) as e:
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
    _save_half(G, cache, noise_dim=NOISE_DIM)
    _save_half(D, discriminator_path(cache))
    return D.to(device).eval(), G.to(device).eval(), f"a DCGAN trained for {iterations} iterations"


def random_discriminator(gan, seed=0):
    """An untrained discriminator of the same architecture: the baseline a trained D must beat."""
    torch.manual_seed(seed)
    return call_classic(gan.build_dc_classifier, batch_size=BATCH_SIZE).apply(initialize_weights).eval()


@torch.no_grad()
def generate(G, z):
    """G's images for noise z, as (N, 1, 28, 28) in [0, 1]."""
    return deprocess_img(G(z)).reshape(len(z), 1, 28, 28).cpu()


# ---------------------------------------------------------------------------
# Lab 1: the linear probe
# ---------------------------------------------------------------------------

def balanced_subset(labels, n, seed=0):
    """Indices of n labelled examples, n / 10 of each class (all of them when n is None)."""
    if n is None:
        return torch.arange(len(labels))
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    classes = labels.unique()
    per_class = n // len(classes)
    chosen = [order[labels[order] == c][:per_class] for c in classes]
    return torch.cat(chosen).sort().values


def standardize(train, *others):
    """Each feature scaled to mean 0 and standard deviation 1 on `train`; the same scaling applied to `others`."""
    mean, std = train.mean(0), train.std(0).clamp_min(1e-6)
    return [(x - mean) / std for x in (train, *others)]


@torch.no_grad()
def accuracy(probe, features, labels):
    return float((probe(features).argmax(1) == labels).double().mean())


def probe_experiment(sources, train_labels, test_labels, fit_linear_probe, budgets=LABEL_BUDGETS,
                     steps=PROBE_STEPS, lr=PROBE_LR, seed=0):
    """Test accuracy of a linear probe per feature source and label budget.

    `sources`: {name: (train features (N, F), test features (M, F))}.
    `fit_linear_probe`: the student's function. Returns {name: {budget: accuracy}}
    and prints a table as it goes.
    """
    names = {n: f"{n:,} labels" if n else f"all {len(train_labels):,}" for n in budgets}
    print(f"{'features':<22}{'dims':>6}" + "".join(f"{names[n]:>14}" for n in budgets) + f"{'seconds':>9}")
    results = {}
    for name, (train, test) in sources.items():
        start, row = time.perf_counter(), {}
        for n in budgets:
            chosen = balanced_subset(train_labels, n, seed)
            x_train, x_test = standardize(train[chosen].float(), test.float())
            torch.manual_seed(seed)
            probe = nn.Linear(x_train.shape[1], int(train_labels.max()) + 1)
            fit_linear_probe(probe, x_train, train_labels[chosen], steps=steps, lr=lr)
            row[n] = accuracy(probe, x_test, test_labels)
        results[name] = row
        print(f"{name:<22}{train.shape[1]:>6}" + "".join(f"{row[n]:>14.1%}" for n in budgets)
              + f"{time.perf_counter() - start:>9.1f}")
    return results


def plot_probe(results, num_train, save_to=None):
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, row in results.items():
        counts = [n or num_train for n in row]
        ax.plot(counts, [100 * a for a in row.values()], "o-", label=name)
    ax.set(xscale="log", xlabel="labelled training images", ylabel="test accuracy (%)",
           title="A linear probe on each set of features")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    _save(fig, save_to)


# ---------------------------------------------------------------------------
# Lab 2: latent walks
# ---------------------------------------------------------------------------

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
    _save(fig, save_to)


def plot_norms(paths, t, noise_norms, save_to=None):
    """|z| along each path, against the norms of the noise G was trained on."""
    fig, ax = plt.subplots(figsize=(6, 3))
    low, high = np.percentile(noise_norms, [1, 99])
    ax.axhspan(low, high, color="grey", alpha=0.2, label="98% of training noise")
    for name, path in paths.items():
        ax.plot(t, path.norm(dim=1).cpu(), label=name)
    ax.set(xlabel="t", ylabel="|z|", title="How long the noise vector is along the walk")
    ax.legend(fontsize=8)
    _save(fig, save_to)


@torch.no_grad()
def classify_samples(G, classifier, n, seed=0, device=None):
    """n noise vectors, G's images of them and the classes the quality classifier gives those images."""
    gen = torch.Generator().manual_seed(seed)
    z = draw_noise(n, NOISE_DIM, generator=gen).to(device)
    images = generate(G, z)
    predicted = classifier(preprocess_img(images).to(next(classifier.parameters()).device)).argmax(1).cpu()
    return z, images, predicted


@torch.no_grad()
def share_classified(G, classifier, z, digit):
    """The share of G(z) the classifier calls `digit`."""
    images = preprocess_img(generate(G, z)).to(next(classifier.parameters()).device)
    return float((classifier(images).argmax(1).cpu() == digit).double().mean())


def coordinate_sweep(G, z, coordinate, values):
    """G's images as coordinate `coordinate` of each noise vector in z (K, D) takes each of `values`."""
    rows = []
    for zi in z:
        path = zi.repeat(len(values), 1)
        path[:, coordinate] = torch.as_tensor(values, dtype=path.dtype, device=path.device)
        rows.append(generate(G, path))
    return rows


# ---------------------------------------------------------------------------
# Lab 3: saliency
# ---------------------------------------------------------------------------

def show_saliency(images, maps, title=None, labels=None, save_to=None):
    """Each image (top row) above its saliency map (bottom row, brighter: more salient)."""
    n = len(images)
    fig, axes = plt.subplots(2, n, figsize=(n * 0.9 + 0.4, 2.2), squeeze=False)
    for i in range(n):
        axes[0, i].imshow(images[i].reshape(28, 28).cpu(), cmap="gray", vmin=0, vmax=1)
        heat = maps[i].reshape(28, 28).detach().cpu()
        axes[1, i].imshow(heat / heat.max().clamp_min(1e-12), cmap="inferno", vmin=0, vmax=1)
        if labels is not None:
            axes[0, i].set_title(labels[i], fontsize=7)
        for ax in axes[:, i]:
            ax.set_xticks([])
            ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    _save(fig, save_to)


def mass_inside(maps, images, threshold=0.5):
    """The share of the saliency that falls on the digit's own strokes (pixels brighter than `threshold`)."""
    maps = maps.reshape(len(maps), -1).detach().cpu().double()
    strokes = images.reshape(len(images), -1).cpu() > threshold
    return float(((maps * strokes).sum(1) / maps.sum(1).clamp_min(1e-12)).mean())


def _save(fig, save_to):
    if save_to is not None:
        Path(save_to).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(save_to, bbox_inches="tight")
