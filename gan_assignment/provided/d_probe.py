"""The d_probe lab's experiment: linear probes on the discriminator's features (provided).

A linear probe is a single linear layer trained on frozen features: its test
accuracy says how much of the digit's identity those features carry. The lab
compares probes on the trained discriminator's features, on a random
discriminator's and on raw pixels, with 100, 1,000 and all labels.
"""

import time

import matplotlib.pyplot as plt
import torch
import torch.nn as nn

from gan_assignment.provided.images import save_figure

LABEL_BUDGETS = (100, 1000, None)      # labelled training images per probe (None: all of them)
PROBE_STEPS, PROBE_LR = 300, 0.01      # full-batch Adam steps of every probe


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
    save_figure(fig, save_to)
