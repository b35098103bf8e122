"""What D looks at: the functions you implement.

This lab is optional. A saliency map (Simonyan et al., 2014) asks a network
which pixels its answer depends on: the gradient of its output with respect to
each input pixel. Large where a small change of the pixel would change the
score a lot. The notebook (notebooks/saliency.ipynb) shows, beside each image:

- where the trained discriminator looks, on real and on generated digits;
- which pixels of G's image move when one latent coordinate moves.

You write:

- saliency_map: |d D(x) / d x|, the largest over the colour channels;
- latent_saliency: |d G(z) / d z_j| for one latent coordinate j.

Check your work with `make check LAB=saliency` or the check cells of the notebook.
"""

import torch


def saliency_map(D, images):
    """How much D's score for each image depends on each of its pixels.

        saliency[n, h, w] = max over channels c of | d score_n / d images[n, c, h, w] |

    The score is what D returns for the image (for the classic discriminator,
    a logit: use it as it is, no sigmoid). Take the gradient with respect to
    the images themselves: make a copy that requires grad
    (x = images.detach().clone().requires_grad_(True)), run D on it, and
    differentiate. Each score depends only on its own image, so the gradient
    of the SUM of the scores gives every image's gradient at once (the mean
    would divide each by N). torch.autograd.grad(total, x) returns it without
    leaving gradients in D's parameters.

    Inputs:
    - D: a discriminator, images (N, C, H, W) to scores (N, 1).
    - images: a tensor (N, C, H, W).

    Returns:
    - A tensor (N, H, W) of values >= 0.
    """
    # TODO: your code here (the docstring above says what to do).
    raise NotImplementedError("saliency_map is not implemented yet")


def latent_saliency(G, z, coordinate):
    """How much each pixel of G(z) moves when the latent coordinate `coordinate` of z moves.

        result[n, ...] = | d G(z)[n, ...] / d z[n, coordinate] |

    This is one column of G's Jacobian per sample, with the shape of G's
    images. Backpropagation gives rows of a Jacobian (one per output value:
    784 backward passes here); forward-mode differentiation gives a column in
    one pass: torch.func.jvp(G, (z,), (v,)) returns (G(z), J v), where v is a
    tensor like z that is 1 in column `coordinate` and 0 elsewhere. Leave G's
    mode as it is: the notebook passes G in eval mode (BatchNorm in training
    mode would mix the samples of a batch).

    Inputs:
    - G: a generator, noise (N, D) to images (N, ...).
    - z: a tensor (N, D) of noise vectors.
    - coordinate: which latent coordinate, 0 <= coordinate < D.

    Returns:
    - A tensor shaped like G(z), of values >= 0.
    """
    # TODO: your code here (the docstring above says what to do).
    raise NotImplementedError("latent_saliency is not implemented yet")
