"""Converting, showing and saving MNIST images and figures (provided)."""

import math
from pathlib import Path

import numpy as np
import torch


def preprocess_img(x):
    """Map pixel values from [0, 1] (what torchvision gives) to [-1, 1] (what Tanh outputs)."""
    return 2 * x - 1.0


def deprocess_img(x):
    """Map pixel values from [-1, 1] back to [0, 1] for display."""
    return (x + 1.0) / 2.0


def show_images(images, title=None, save_to=None):
    """Show a square grid of 28x28 images and return the matplotlib figure.

    images: tensor or array of shape (N, 784), (N, 28, 28) or (N, 1, 28, 28),
        or colour images (N, 3, H, W), with values in [-1, 1] (generator output)
        or [0, 1] (real data).
    title: optional text above the grid.
    save_to: optional path; the grid is also written there as a PNG.
    """
    import matplotlib.pyplot as plt  # imported here: importing this module stays cheap

    if isinstance(images, torch.Tensor):
        images = images.detach().cpu().float().numpy()
    images = np.asarray(images, dtype=np.float32)
    colour = images.ndim == 4 and images.shape[1] == 3
    if colour:
        images = images.transpose(0, 2, 3, 1)   # matplotlib wants (H, W, 3)
    else:
        images = images.reshape(len(images), -1)
    if images.min() < 0:  # generator output lives in [-1, 1]
        images = deprocess_img(images)
    images = np.clip(images, 0.0, 1.0)
    side = images.shape[1] if colour else int(math.isqrt(images.shape[1]))
    cols = math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / cols)

    # The grid fills the figure; a title gets a band of its own above it (matplotlib's default margins
    # would leave a blank gap between the title and the images).
    band = 0.4 if title else 0.0
    height = rows * 0.9 + band
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.9, height), squeeze=False,
                             gridspec_kw={"wspace": 0.05, "hspace": 0.05, "left": 0.01, "right": 0.99,
                                          "bottom": 0.01, "top": 1 - (band + 0.05) / height})
    for ax in axes.flat:
        ax.axis("off")
    for ax, img in zip(axes.flat, images):
        ax.imshow(img if colour else img.reshape(side, side), cmap=None if colour else "gray", vmin=0.0, vmax=1.0)
    if title:
        fig.suptitle(title, y=1 - band / 2 / height, va="center")
    return save_figure(fig, save_to)


def save_figure(fig, save_to=None, tight_layout=False):
    """Lay `fig` out (with `tight_layout`) and, when `save_to` is given, save it there as a PNG (its folder made
    if needed): every figure a notebook shows is also kept on disk. Returns the figure."""
    if tight_layout:
        fig.tight_layout()
    if save_to is not None:
        Path(save_to).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(save_to, dpi=100, bbox_inches="tight")
    return fig


def save_grid(images, path, nrow=8):
    """Write images (N, C, H, W) in [-1, 1] as one PNG grid of `nrow` columns (for training logs)."""
    from torchvision.utils import save_image

    images = torch.as_tensor(images).detach().float().cpu()
    save_image(deprocess_img(images).clamp(0, 1), path, nrow=nrow, padding=2, pad_value=1.0)
