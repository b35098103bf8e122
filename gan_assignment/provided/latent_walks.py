"""The latent_walks lab's figures and measurements: walks, norms and digit arithmetic in G's noise space (provided)."""

import matplotlib.pyplot as plt
import numpy as np
import torch

from gan_assignment.provided.config import NOISE_DIM
from gan_assignment.provided.images import preprocess_img, save_figure
from gan_assignment.provided.trained_dcgan import generate
from gan_assignment.provided.training import draw_noise


def plot_norms(paths, t, noise_norms, save_to=None):
    """|z| along each path, against the norms of the noise G was trained on."""
    fig, ax = plt.subplots(figsize=(6, 3))
    low, high = np.percentile(noise_norms, [1, 99])
    ax.axhspan(low, high, color="grey", alpha=0.2, label="98% of training noise")
    for name, path in paths.items():
        ax.plot(t, path.norm(dim=1).cpu(), label=name)
    ax.set(xlabel="t", ylabel="|z|", title="How long the noise vector is along the walk")
    ax.legend(fontsize=8)
    save_figure(fig, save_to)


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
