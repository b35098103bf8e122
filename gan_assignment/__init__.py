"""The course's Python package.

- `gan_assignment/<lab>.py`: the functions you write, one file per lab
  (`gan_pytorch.py` for the main assignment). These are the only files you edit.
- `gan_assignment/provided/`: the course's own code (the training loop, data,
  figures, the quality report, each lab's experiments). Read it, use it, leave it.

Helpers you may use in your code are importable from here:
`from gan_assignment import Flatten, Unflatten, initialize_weights, ...`.
`python -m gan_assignment --list` lists the models you can train from the command line.
"""

from gan_assignment.provided.config import NOISE_DIM
from gan_assignment.provided.images import deprocess_img, preprocess_img, show_images
from gan_assignment.provided.layers import Flatten, Unflatten, initialize_weights
from gan_assignment.provided.training import run_a_gan
from gan_assignment.provided.modules import keep_old_imports_working
from gan_assignment.provided.utils import call_classic, count_params, get_device, rel_error

keep_old_imports_working()   # files written when gan_assignment.config and the like were here still import

__all__ = [
    "NOISE_DIM", "Flatten", "Unflatten", "initialize_weights", "preprocess_img",
    "deprocess_img", "rel_error", "count_params", "show_images", "run_a_gan", "get_device", "call_classic",
]
