"""The saliency lab's figures and measurements: where D looks (provided)."""

import matplotlib.pyplot as plt

from gan_assignment.provided.images import save_figure


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
    save_figure(fig, save_to)


def mass_inside(maps, images, threshold=0.5):
    """The share of the saliency that falls on the digit's own strokes (pixels brighter than `threshold`)."""
    maps = maps.reshape(len(maps), -1).detach().cpu().double()
    strokes = images.reshape(len(images), -1).cpu() > threshold
    return float(((maps * strokes).sum(1) / maps.sum(1).clamp_min(1e-12)).mean())
