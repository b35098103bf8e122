"""The GAN training loop (provided, not student work).

`run_a_gan` trains exactly as the classic assignment does; you pass it the
networks, optimisers and loss functions you wrote.
"""

import math
import os
import sys

import torch

from gan_assignment.config import BATCH_SIZE, IMAGE_SIZE, NOISE_DIM, SHOW_EVERY
from gan_assignment.images import preprocess_img
from gan_assignment.utils import get_device


def run_a_gan(D, G, D_solver, G_solver, discriminator_loss, generator_loss, loader_train,
              show_every=SHOW_EVERY, batch_size=BATCH_SIZE, noise_size=NOISE_DIM, num_epochs=10,
              device=None, history=None):
    """Train a GAN and return snapshots of what the generator makes.

    Per batch of real images: one discriminator step on the real batch (scaled
    to [-1, 1]) and a detached fake batch, then one generator step on fresh
    noise. Batches smaller than `batch_size` (the last one of an epoch) are
    skipped, as in the classic assignment.

    Inputs:
    - D, G: discriminator and generator (nn.Module); moved to `device`.
    - D_solver, G_solver: their optimisers (from get_optimizer).
    - discriminator_loss, generator_loss: your loss functions.
    - loader_train: yields (images, labels) with images (N, 1, 28, 28) in [0, 1].
    - show_every: keep a snapshot of 16 generated images every this many iterations.
    - batch_size, noise_size, num_epochs: as named.
    - device: torch.device to train on; default: CUDA, MPS or CPU, whichever exists.
    - history: optional dict; if given, it receives lists 'd_loss', 'g_loss'
      (one value per iteration) and 'snapshot_iters'.

    Returns:
    - A list of numpy arrays of shape (16, 784), one per snapshot, values in [-1, 1].
    """
    device = device or get_device()
    D.to(device).train()
    G.to(device).train()
    if history is None:
        history = {}
    history.update(d_loss=[], g_loss=[], snapshot_iters=[])
    d_losses, g_losses = [], []  # kept as tensors: reading .item() every step would sync the GPU

    snapshots = []
    iter_count = 0
    total = num_epochs * _full_batches(loader_train, batch_size)
    with _progress_bar(total) as bar:
        for _ in range(num_epochs):
            for x, _ in loader_train:
                if len(x) != batch_size:
                    continue
                real_data = preprocess_img(x.to(device))

                D_solver.zero_grad(set_to_none=True)
                logits_real = D(real_data)
                fake_images = G(_noise(batch_size, noise_size, device)).detach()
                logits_fake = D(fake_images.view(batch_size, 1, IMAGE_SIZE, IMAGE_SIZE))
                d_total_error = discriminator_loss(logits_real, logits_fake)
                d_total_error.backward()
                D_solver.step()

                G_solver.zero_grad(set_to_none=True)
                fake_images = G(_noise(batch_size, noise_size, device))
                gen_logits_fake = D(fake_images.view(batch_size, 1, IMAGE_SIZE, IMAGE_SIZE))
                g_error = generator_loss(gen_logits_fake)
                g_error.backward()
                G_solver.step()

                d_losses.append(d_total_error.detach())
                g_losses.append(g_error.detach())
                if iter_count % show_every == 0:
                    snapshots.append(fake_images[:16].detach().cpu().numpy())
                    history["snapshot_iters"].append(iter_count)
                    bar.set_postfix(D=f"{d_total_error.item():.3f}", G=f"{g_error.item():.3f}")
                iter_count += 1
                bar.update(1)

    history["d_loss"] = torch.stack(d_losses).cpu().tolist() if d_losses else []
    history["g_loss"] = torch.stack(g_losses).cpu().tolist() if g_losses else []
    return snapshots


def _progress_bar(total):
    # A widget in Jupyter, text elsewhere; GAN_PROGRESS=text forces text (headless notebook runs).
    if os.environ.get("GAN_PROGRESS") == "text":
        from tqdm import tqdm
        return tqdm(total=total, desc="training", unit="it", mininterval=2, file=sys.stderr)
    from tqdm.auto import tqdm
    return tqdm(total=total, desc="training", unit="it")


def _noise(batch_size, dim, device):
    # Uniform in [-1, 1], drawn directly on the training device.
    return torch.rand(batch_size, dim, device=device) * 2 - 1


def _full_batches(loader, batch_size):
    try:
        return len(loader.dataset) // batch_size
    except (AttributeError, TypeError):
        try:
            return len(loader)
        except TypeError:
            return math.inf
