"""Provided code of the conditional GAN lab: its training loop, the 10 x 10 grid and the per-class accuracy.

Nothing here is graded; the functions you write are in cgan.py.
"""


import matplotlib.pyplot as plt
import torch

from gan_assignment.provided.config import BATCH_SIZE, NOISE_DIM
from gan_assignment.provided.images import deprocess_img, preprocess_img, save_figure
from gan_assignment.provided.loop import TrainingLoop
from gan_assignment.provided.training import draw_noise

NUM_CLASSES = 10
LR, BETAS = 1e-3, (0.5, 0.999)       # the classic lab's get_optimizer


def train_cgan(lab, D, G, images, labels, iterations, batch_size=BATCH_SIZE, device=None, seed=0, progress=True,
               noise_dim=NOISE_DIM):
    """Train a conditional GAN with the student's losses (`lab`: the cgan module).

    `images` (N, 1, 28, 28) in [0, 1] and their `labels` (N,): batches are taken in
    order, epoch after epoch, as in the classic lab. Each iteration: one D step on
    the real batch with its labels and on fakes made for random labels, then one G
    step on fresh noise and fresh random labels. Returns the history (losses per
    iteration, iterations, seconds).
    """
    device = device or torch.device("cpu")
    D, G = D.to(device).train(), G.to(device).train()
    data, targets = preprocess_img(images).to(device), labels.to(device)
    gen = torch.Generator().manual_seed(seed)
    d_opt = torch.optim.Adam(D.parameters(), lr=LR, betas=BETAS)
    g_opt = torch.optim.Adam(G.parameters(), lr=LR, betas=BETAS)
    batches = max(1, len(data) // batch_size)

    def noise_and_labels(n):
        return (draw_noise(n, noise_dim, generator=gen).to(device),
                torch.randint(NUM_CLASSES, (n,), generator=gen).to(device))

    def step(it):
        first = (it % batches) * batch_size
        real, real_labels = data[first:first + batch_size], targets[first:first + batch_size]
        z, fake_labels = noise_and_labels(len(real))
        with torch.no_grad():
            fake = G(z, fake_labels).reshape(real.shape)
        d_loss = lab.cgan_discriminator_loss(D, real, real_labels, fake, fake_labels)
        d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        d_opt.step()
        z, fake_labels = noise_and_labels(len(real))
        g_loss = lab.cgan_generator_loss(D, G(z, fake_labels).reshape(real.shape), fake_labels)
        g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        g_opt.step()
        return {"d_loss": d_loss, "g_loss": g_loss}

    result = TrainingLoop({"D": D, "G": G, "D_solver": d_opt, "G_solver": g_opt}, iterations,
                          progress=progress, desc="conditional GAN").run(step)
    return {**result.losses, "iterations": result.iterations, "seconds": result.seconds, "stopped": result.stopped}


@torch.no_grad()
def digit_rows(G, per_class, seed=0, device=None):
    """per_class samples of each digit: images (10 * per_class, 1, 28, 28) in [0, 1], row k = label k."""
    gen = torch.Generator().manual_seed(seed)
    labels = torch.arange(NUM_CLASSES).repeat_interleave(per_class)
    z = draw_noise(len(labels), NOISE_DIM, generator=gen)
    was_training = G.training
    G.eval()
    images = deprocess_img(G(z.to(device), labels.to(device))).reshape(-1, 1, 28, 28).cpu()
    G.train(was_training)
    return images, labels


def show_grid(images, per_row=NUM_CLASSES, title=None, save_to=None):
    """A grid with one row per digit, the label at the left."""
    rows = len(images) // per_row
    fig, axes = plt.subplots(rows, per_row, figsize=(per_row * 0.6 + 0.5, rows * 0.6 + 0.4), squeeze=False)
    for r in range(rows):
        for c in range(per_row):
            ax = axes[r, c]
            ax.imshow(images[r * per_row + c].reshape(28, 28), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(str(r), rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title, fontsize=10)
    save_figure(fig, save_to, tight_layout=True)


@torch.no_grad()
def per_class_accuracy(images, labels, classifier):
    """The share of the images made for each label that the classifier calls that label: a list of 10."""
    model = classifier[0] if isinstance(classifier, tuple) else classifier
    device = next(model.parameters()).device
    predicted = model(preprocess_img(images).to(device)).argmax(1).cpu()
    return [float((predicted[labels == k] == k).double().mean()) for k in range(NUM_CLASSES)]


def accuracy_table(results):
    """Print {name: per-class accuracies} as a table, one column per digit and the mean."""
    print(f"{'made for digit':<22}" + "".join(f"{k:>6}" for k in range(NUM_CLASSES)) + f"{'mean':>8}")
    for name, row in results.items():
        print(f"{name:<22}" + "".join(f"{a:>6.0%}" for a in row) + f"{sum(row) / len(row):>8.1%}")
