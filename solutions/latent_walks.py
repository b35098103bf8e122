"""Latent walks and vector arithmetic: the functions you implement.

This lab is optional. A generator maps every noise vector z to an image, so
the noise space is a map of everything G can draw. The notebook
(notebooks/latent_walks.ipynb) walks on that map:

- from one z to another in a straight line (lerp) and along the sphere
  (slerp), and shows what G draws on the way;
- from the digits the classifier calls "1" towards those it calls "7", by
  vector arithmetic on their mean noise vectors (the DCGAN paper's
  "smiling woman - neutral woman + neutral man", on digits);
- along one coordinate of z at a time.

You write (lerp is given):

- slerp: spherical interpolation between two noise vectors;
- class_mean_direction: the latent direction from one digit to another.

Check your work with `make check LAB=latent_walks` or the check cells of the notebook.
"""

import torch


def lerp(z0, z1, t):
    """Linear interpolation from z0 to z1 (provided): the straight line (1 - t) z0 + t z1.

    Inputs: z0, z1: tensors (D,); t: a tensor (T,) of fractions in [0, 1].
    Returns: a tensor (T, D).
    """
    fractions = t.to(z0.dtype).unsqueeze(1)
    return z0 + fractions * (z1 - z0)


def slerp(z0, z1, t):
    """Spherical linear interpolation from z0 to z1 (Shoemake, 1985; White, 2016 for GANs).

    A straight line between two noise vectors (lerp, (1 - t) z0 + t z1) cuts
    through the inside of the ball where the noise lives: its midpoint is
    shorter than any noise vector G was trained on. slerp walks along the arc
    instead. With omega the angle between z0 and z1,

        cos(omega) = z0 . z1 / (|z0| |z1|)          (clamp it to [-1, 1])
        slerp(t)   = sin((1 - t) omega) / sin(omega) * z0 + sin(t omega) / sin(omega) * z1

    slerp(0) = z0 and slerp(1) = z1. When z0 and z1 point the same way,
    sin(omega) is 0 and the formula is 0/0; its limit there is lerp, so
    return lerp(z0, z1, t) (above) when sin(omega) is tiny (below 1e-6, say).

    Inputs:
    - z0, z1: tensors (D,), two noise vectors.
    - t: a tensor (T,) of fractions in [0, 1].

    Returns:
    - A tensor (T, D): row i is the point at fraction t[i] of the way.

    Hint: t[:, None] is (T, 1) and broadcasts against (D,) vectors.
    """
    ### BEGIN SOLUTION
    t = t.to(z0.dtype)[:, None]
    cos = torch.dot(z0 / z0.norm(), z1 / z1.norm()).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    sin = torch.sin(omega)
    if sin.abs() < 1e-6:
        return lerp(z0, z1, t[:, 0])
    return torch.sin((1 - t) * omega) / sin * z0 + torch.sin(t * omega) / sin * z1
    ### END SOLUTION


def class_mean_direction(z, predicted, source, target):
    """The latent direction from digit `source` to digit `target`.

    The mean noise vector of the samples the classifier calls `target`, minus
    the mean noise vector of those it calls `source`: adding it to the noise
    of a "source" digit moves it towards a "target" digit.

    Inputs:
    - z: a tensor (N, D) of noise vectors.
    - predicted: a tensor (N,) of the classes the classifier gave G(z), int64.
    - source, target: two classes (e.g. 1 and 7).

    Returns:
    - A tensor (D,): mean of z[predicted == target] - mean of z[predicted == source].

    Raises:
    - ValueError, naming the class, when no sample is classified as `source`
      or as `target` (the mean of nothing is nan: say so instead).
    """
    ### BEGIN SOLUTION
    means = []
    for digit in (source, target):
        chosen = z[predicted == digit]
        if len(chosen) == 0:
            raise ValueError(f"no sample is classified as {digit}: draw more samples")
        means.append(chosen.mean(dim=0))
    return means[1] - means[0]
    ### END SOLUTION
