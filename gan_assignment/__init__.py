"""GAN assignment package.

- `gan_assignment.gan_pytorch`: the functions you implement (the only file you edit).
- everything importable from here: helpers provided for you.
"""

from gan_assignment.config import NOISE_DIM
from gan_assignment.images import deprocess_img, preprocess_img, show_images
from gan_assignment.layers import Flatten, Unflatten, initialize_weights
from gan_assignment.training import run_a_gan
from gan_assignment.utils import call_classic, count_params, get_device, rel_error

__all__ = [
    "NOISE_DIM", "Flatten", "Unflatten", "initialize_weights", "preprocess_img",
    "deprocess_img", "rel_error", "count_params", "show_images", "run_a_gan", "get_device", "call_classic",
]
