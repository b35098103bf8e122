"""The discriminator as a feature extractor: the functions you implement.

This lab is optional. A discriminator is trained for one thing only: telling
real digits from generated ones. It never sees a label. Yet the DCGAN paper
(Radford et al., 2016, section 5.1) found that its inner features are good
enough to classify images with a *linear* model on top: the game taught D what
digits are made of. The notebook (notebooks/d_probe.ipynb) measures that with a
linear probe, the standard way of judging what a network has learned:

- freeze the trained D and read the features its last layer receives;
- train only a linear classifier on them, with 100, 1,000 and all labels;
- compare with the same probe on a randomly initialised D and on raw pixels.

You write the two pieces:

- discriminator_features: D's penultimate features, with D frozen;
- fit_linear_probe: the linear classifier's training, on fixed features.

Check your work with `make check LAB=d_probe` or the check cells of the notebook.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F  # noqa: F401  (you may want it)


def discriminator_features(D, images, batch_size=1000):
    """D's penultimate features: what its last layer (the nn.Linear that outputs the score) receives.

    For the classic DCGAN discriminator (build_dc_classifier) these are the
    1,024 numbers after the LeakyReLU that follows Linear(1024, 1024). Two ways:

    - a forward hook: find D's last nn.Linear (the last one in D.modules()),
      register a forward *pre*-hook on it that keeps its input
      (hook(module, args): args[0] is the input), run D, remove the hook;
    - slicing: when D is an nn.Sequential, D[:-1] is D without its last layer.

    D must stay frozen: a linear probe measures the features D has, so no
    gradient may reach D's parameters. Compute the features under
    torch.no_grad(); the tensor you return must not require gradients.
    Run D on `batch_size` images at a time (60,000 images at once would
    need gigabytes) and concatenate the results.

    Inputs:
    - D: a discriminator whose last layer is an nn.Linear.
    - images: a tensor (N, ...) of images D takes, e.g. (N, 1, 28, 28).
    - batch_size: images per forward pass.

    Returns:
    - A tensor (N, F) of features, one row per image, that does not require grad.
    """
    ### BEGIN SOLUTION
    last = [m for m in D.modules() if isinstance(m, nn.Linear)][-1]
    captured = []
    hook = last.register_forward_pre_hook(lambda module, args: captured.append(args[0].flatten(1)))
    try:
        with torch.no_grad():
            for chunk in images.split(batch_size):
                D(chunk)
    finally:
        hook.remove()   # a hook left behind would keep every later batch D sees
    return torch.cat(captured)
    ### END SOLUTION


def fit_linear_probe(probe, features, labels, steps=300, lr=0.01):
    """Train the linear classifier `probe` on fixed features: full-batch Adam on the cross-entropy.

    Make one optimizer, torch.optim.Adam(probe.parameters(), lr=lr), before
    the loop (Adam keeps running averages between steps). Then, `steps` times:
    - logits = probe(features), on ALL the features at once (full batch);
    - loss = F.cross_entropy(logits, labels): it takes raw logits and applies
      the softmax itself, so do not apply one first;
    - zero the gradients, backpropagate, step.

    Inputs:
    - probe: an nn.Linear(F, num_classes).
    - features: a tensor (N, F); fixed: it does not require grad.
    - labels: a tensor (N,) of class indices (int64).
    - steps: optimizer steps.
    - lr: Adam's learning rate.

    Returns:
    - A list of `steps` Python floats: the loss at each step, before its update.
    """
    ### BEGIN SOLUTION
    optimizer = torch.optim.Adam(probe.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = F.cross_entropy(probe(features), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
    ### END SOLUTION
