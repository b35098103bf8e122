"""Is my GAN good? A number instead of squinting at samples (provided).

    report = quality_report(G)          # 10,000 samples of the generator G
    print(report)                       # FID, coverage, confidence, in words
    show_class_shares(report)           # bar chart: how often each digit is drawn

A small convolutional classifier, trained once on the data set's training split
and cached next to the data, looks at 10,000 generated images and tells:

1. **FID** (Fréchet distance): fit a Gaussian to the classifier's 128 features
   (the ReLU output of its first fully-connected layer, just before the class
   scores) for 10,000 generated and for the 10,000 real test images, and measure
   the distance between the two Gaussians. 0 means the same statistics; lower is
   better. This is the FID of Heusel et al. (2017) with an MNIST classifier in
   place of Inception, so its values are only comparable to other values of
   this report, not to published FIDs.
2. **Coverage**: the share of generated images the classifier assigns to each
   class, how many classes get at least 5 % of them (10 for a healthy
   generator; 1 for a generator collapsed onto one digit), and the KL divergence
   of the shares from uniform (0 when all ten are equally frequent, ln 10 = 2.30
   when collapsed).
3. **Confidence**: the classifier's mean top-class probability; low values
   mean images that look like no digit in particular (blurry, noisy or mixed).
"""

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from gan_assignment.provided.config import BATCH_SIZE, NOISE_DIM
from gan_assignment.provided.data import data_dir, dataset_tensors, load_dataset
from gan_assignment.provided.images import save_figure
from gan_assignment.provided.training import draw_noise

NUM_SAMPLES = 10_000     # generated images per report (and real test images to compare with)
MIN_SHARE = 0.05         # a class counts as covered when at least this share of the samples fall in it
CLASS_NAMES = {
    "mnist": [str(d) for d in range(10)],
    "fashion": ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot"],
}
CLASSIFIER_EPOCHS = 4
TRUSTED_ACCURACY = 0.95  # below this test accuracy, the classifier's verdicts on samples are noise


class DigitClassifier(nn.Module):
    """Two 5x5 conv + max-pool stages and two linear layers (about 0.2 M parameters).

    Works on images in [-1, 1] (what generators output) of shape (N, 1, 28, 28) or (N, 784).
    """

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),     # 16 x 14 x 14
            nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),    # 32 x 7 x 7
            nn.Flatten(),
        )
        self.features = nn.Sequential(nn.Linear(32 * 7 * 7, 128), nn.ReLU())   # the FID layer
        self.head = nn.Linear(128, num_classes)

    def forward(self, x):
        return self.head(self.features(self.conv(x.reshape(-1, 1, 28, 28))))

    def features_and_logits(self, x):
        h = self.features(self.conv(x.reshape(-1, 1, 28, 28)))
        return h, self.head(h)


@dataclass
class QualityReport:
    """What quality_report measured; print it for a summary, show_class_shares(report) for the chart."""

    fid: float
    shares: list                 # share of the samples per class, in class order
    classes_covered: int         # classes with at least MIN_SHARE of the samples
    kl_from_uniform: float       # KL(shares || uniform), in nats: 0 (even) ... ln 10 (one class)
    mean_confidence: float       # mean top-class probability
    num_samples: int
    dataset: str = "mnist"
    classifier_accuracy: float = float("nan")
    class_names: list = field(default_factory=list)

    def __str__(self):
        names = self.class_names or [str(i) for i in range(len(self.shares))]
        missing = [n for n, s in zip(names, self.shares) if s < MIN_SHARE]
        lines = [
            f"FID {self.fid:.2f} (classifier features; lower is better)",
            f"coverage {self.classes_covered}/{len(self.shares)} classes with at least {MIN_SHARE:.0%} of the samples"
            + (f" (rare: {', '.join(missing)})" if missing else ""),
            f"KL from uniform {self.kl_from_uniform:.3f} nats (0 = all classes equally often, "
            f"{math.log(len(self.shares)):.2f} = one class only)",
            f"mean confidence {self.mean_confidence:.3f}",
        ]
        judge = f"the digit classifier judging them is {self.classifier_accuracy:.1%} accurate"
        if os.environ.get("GAN_QUICK", "") not in ("", "0"):
            lines.append(f"NOT MEANINGFUL: quick mode (GAN_QUICK) trains everything for a few steps only and "
                         f"{judge}; run without GAN_QUICK for numbers worth comparing")
        elif self.classifier_accuracy < TRUSTED_ACCURACY:
            lines.append(f"ROUGH: {judge}: small differences here mean nothing")
        return f"Quality of {self.num_samples} samples ({self.dataset}):\n  " + "\n  ".join(lines)

    def as_dict(self):
        return {k: getattr(self, k) for k in ("fid", "shares", "classes_covered", "kl_from_uniform",
                                              "mean_confidence", "num_samples", "dataset", "classifier_accuracy")}


# ---------------------------------------------------------------- the classifier

def train_classifier(images, labels, epochs=CLASSIFIER_EPOCHS, batch_size=128, seed=0, device=None, log=print):
    """Train a DigitClassifier on images (N, 1, 28, 28) in [0, 1] with integer labels; returns it in eval mode.

    Adam, with random shifts of up to 2 pixels so that it judges shapes, not
    positions (generated digits are not always centred like MNIST's).
    """
    device = torch.device(device or "cpu")
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):   # the same classifier every time, and the caller's RNG untouched
        torch.random.manual_seed(seed)
        model = DigitClassifier().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=2e-3, total_steps=epochs * math.ceil(len(images) / batch_size))
    x_all, y_all = (images * 2 - 1).to(device), labels.to(device)
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(images), generator=gen).to(device)
        start = time.perf_counter()
        for b in range(0, len(images), batch_size):
            idx = order[b:b + batch_size]
            x = _random_shift(x_all[idx], gen)
            loss = F.cross_entropy(model(x), y_all[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
        if log:
            log(f"  classifier epoch {epoch + 1}/{epochs}: loss {loss.item():.3f} ({time.perf_counter() - start:.0f} s)")
    return model.eval()


def _random_shift(x, gen, max_shift=2):
    """Shift the whole batch by the same random (dy, dx) in [-2, 2], filling with background (-1)."""
    dy, dx = (int(v) for v in torch.randint(-max_shift, max_shift + 1, (2,), generator=gen))
    padded = F.pad(x, (max_shift,) * 4, value=-1.0)
    return padded[..., max_shift + dy:max_shift + dy + 28, max_shift + dx:max_shift + dx + 28]


@torch.no_grad()
def classify(model, images, batch_size=1000):
    """(features (N, 128), probabilities (N, 10)) of images in [-1, 1], in float64 on the CPU."""
    device = next(model.parameters()).device
    feats, probs = [], []
    for b in range(0, len(images), batch_size):
        h, logits = model.features_and_logits(images[b:b + batch_size].to(device, torch.float32))
        feats.append(h.double().cpu())
        probs.append(F.softmax(logits.double(), dim=1).cpu())
    return torch.cat(feats), torch.cat(probs)


def classifier_path(dataset="mnist", root=None, max_images=None, epochs=CLASSIFIER_EPOCHS):
    budget = "" if (max_images, epochs) == (None, CLASSIFIER_EPOCHS) else f"-{max_images or 'all'}x{epochs}"
    return data_dir(root) / "classifiers" / f"{dataset}{budget}.pt"


def get_classifier(dataset="mnist", root=None, device=None, log=print, max_images=None, epochs=CLASSIFIER_EPOCHS):
    """The cached classifier for `dataset` and its reference statistics; trained first if there is none.

    Returns (model, info) with info holding 'accuracy' (on the test split), and
    'real_mu', 'real_sigma' (feature statistics of the test images, for FID).
    max_images, epochs: a smaller training budget (quick runs); cached separately.
    """
    path = classifier_path(dataset, root, max_images, epochs)
    if path.exists():
        saved = torch.load(path, map_location="cpu", weights_only=False)
        model = DigitClassifier()
        model.load_state_dict(saved.pop("state_dict"))
        return model.eval().to(device or "cpu"), saved
    train_x, train_y = _load_split(dataset, root, train=True)
    train_x, train_y = train_x[:max_images], train_y[:max_images]
    test_x, test_y = _load_split(dataset, root, train=False)
    if log:
        log(f"Training the {dataset} quality classifier on {len(train_x)} images (once; cached in {path}) ...")
    model = train_classifier(train_x, train_y, epochs=epochs, device=device, log=log)
    info = reference_statistics(model, test_x * 2 - 1, test_y)
    info["trained_on"] = f"{dataset} training split ({len(train_x)} images)"
    save_classifier(model, info, path)
    if log:
        log(f"  test accuracy {info['accuracy']:.2%}")
    return model, info


def reference_statistics(model, real_images, real_labels):
    """Test accuracy and feature mean/covariance of real images in [-1, 1] (N, 1, 28, 28)."""
    feats, probs = classify(model, real_images)
    accuracy = float((probs.argmax(1) == real_labels.cpu()).double().mean())
    mu, sigma = _gaussian(feats)
    return {"accuracy": accuracy, "real_mu": mu, "real_sigma": sigma, "num_real": len(real_images)}


def save_classifier(model, info, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"state_dict": {k: v.cpu() for k, v in model.state_dict().items()}, **info}, tmp)
    os.replace(tmp, path)


def _load_split(dataset, root, train):
    return dataset_tensors(load_dataset(dataset, root=root, train=train))


# ---------------------------------------------------------------- the report

def quality_report(G, dataset="mnist", num_samples=NUM_SAMPLES, noise_size=NOISE_DIM, seed=0,
                   root=None, device=None, classifier=None, noise="uniform", **classifier_budget):
    """Sample `num_samples` images from the generator G and measure them (see the module docstring).

    G is left untouched: it runs on a copy, in training mode in batches of
    BATCH_SIZE (BatchNorm uses batch statistics, as while training), on fixed
    noise drawn from `seed` (`noise`: "uniform" in [-1, 1] or "normal", as G was trained),
    so two calls give the same report.
    `classifier` is an optional (model, info) pair from get_classifier; otherwise the
    cached one is used (max_images=, epochs= pick a smaller one, for quick runs).
    """
    images = generate(G, num_samples, noise_size=noise_size, seed=seed, noise=noise)
    classifier = classifier or get_classifier(dataset, root=root, device=device, **classifier_budget)
    return measure(images, dataset=dataset, classifier=classifier)


@torch.no_grad()
def generate(G, num_samples=NUM_SAMPLES, noise_size=NOISE_DIM, seed=0, batch_size=BATCH_SIZE, noise="uniform"):
    """num_samples images (N, 1, 28, 28) in [-1, 1], on the CPU, from a copy of G (see quality_report)."""
    import copy

    G = copy.deepcopy(G).train()
    device = next(iter([*G.parameters(), *G.buffers()]), torch.empty(0)).device
    gen = torch.Generator().manual_seed(seed)
    out = []
    for b in range(0, num_samples, batch_size):
        # Always a full batch, as in training (some generators only take batches of batch_size);
        # the last one is trimmed.
        z = draw_noise(batch_size, noise_size, noise, generator=gen)
        out.append(G(z.to(device)).float().reshape(-1, 1, 28, 28)[:num_samples - b].cpu())
    return torch.cat(out)


def measure(images, dataset="mnist", root=None, device=None, classifier=None):
    """The QualityReport of any images (N, 1, 28, 28) or (N, 784) in [-1, 1]: generated, real or noise."""
    model, info = classifier or get_classifier(dataset, root=root, device=device)
    feats, probs = classify(model, torch.as_tensor(images).reshape(-1, 1, 28, 28))
    mu, sigma = _gaussian(feats)
    counts = np.bincount(probs.argmax(1).numpy(), minlength=probs.shape[1])
    shares = counts / counts.sum()
    nonzero = shares > 0
    kl = float(np.sum(shares[nonzero] * np.log(shares[nonzero] * len(shares))))
    return QualityReport(
        fid=frechet_distance(mu, sigma, info["real_mu"], info["real_sigma"]),
        shares=[float(s) for s in shares],
        classes_covered=int((shares >= MIN_SHARE).sum()),
        kl_from_uniform=kl,
        mean_confidence=float(probs.max(1).values.mean()),
        num_samples=len(feats),
        dataset=dataset,
        classifier_accuracy=float(info.get("accuracy", float("nan"))),
        class_names=CLASS_NAMES.get(dataset, []),
    )


def _gaussian(feats):
    x = np.asarray(feats, dtype=np.float64)
    return x.mean(axis=0), np.cov(x, rowvar=False)


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)), the Fréchet distance between two Gaussians.

    tr((S1 S2)^(1/2)) is computed as the sum of the square roots of the eigenvalues
    of S1^(1/2) S2 S1^(1/2), a symmetric matrix with the same eigenvalues: stable,
    and no scipy needed.
    """
    mu1, mu2 = np.asarray(mu1, dtype=np.float64), np.asarray(mu2, dtype=np.float64)
    sigma1, sigma2 = np.asarray(sigma1, dtype=np.float64), np.asarray(sigma2, dtype=np.float64)
    w, v = np.linalg.eigh(sigma1)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    middle = root1 @ sigma2 @ root1
    eig = np.linalg.eigvalsh((middle + middle.T) / 2)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.sqrt(np.clip(eig, 0, None)).sum())


def show_class_shares(report, title=None, save_to=None):
    """Bar chart of the share of samples per class, with the 5 % coverage line and the uniform 10 %."""
    import matplotlib.pyplot as plt

    names = report.class_names or [str(i) for i in range(len(report.shares))]
    fig, ax = plt.subplots(figsize=(8, 3))
    colors = ["tab:blue" if s >= MIN_SHARE else "tab:red" for s in report.shares]
    ax.bar(range(len(names)), [100 * s for s in report.shares], color=colors)
    ax.axhline(100 / len(names), color="grey", linestyle="--", linewidth=1, label="uniform")
    ax.axhline(100 * MIN_SHARE, color="tab:red", linestyle=":", linewidth=1, label=f"covered ({MIN_SHARE:.0%})")
    ax.set_xticks(range(len(names)), names, fontsize=8)
    ax.set_ylabel("% of samples")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))   # beside the bars, never over one
    ax.set_title(title or f"FID {report.fid:.1f}, {report.classes_covered}/{len(names)} classes covered, "
                          f"confidence {report.mean_confidence:.2f}", fontsize=10)
    return save_figure(fig, save_to, tight_layout=True)
