"""Saving and loading trained networks' weights (provided).

The classic notebook saves its trained DCGAN as `dcgan_generator.pt` (and the
discriminator as `dcgan_discriminator.pt`) beside the notebook: float16, half
the size of float32 and the same pictures. Students submit the generator; the
grader's coverage check and the labs on what the DCGAN learned load them back
into a network of the same architecture.

A weights file is a zip archive that `torch.load` unpacks. Before unpacking,
`load_weights` checks that what the archive would unpack to is no larger than
the network it is meant for (a file of 1 MB can be crafted to unpack to
gigabytes), and before converting anything, that every tensor has the shape
of the network's own (a tensor of a few bytes can claim gigabytes), so loading
a file never costs more memory than the network itself.
"""

import zipfile
from pathlib import Path

import torch

from gan_assignment.provided.config import NOISE_DIM
from gan_assignment.provided.utils import call_classic

WEIGHTS_FILE = "dcgan_generator.pt"
DISCRIMINATOR_FILE = "dcgan_discriminator.pt"
SLACK_BYTES = 1 << 20    # what an archive may hold beyond its tensors: names, the pickled index


class WeightsError(ValueError):
    """A weights file that cannot be used; the message says what to do."""


def save_half(model, path, **extra):
    """Save `model`'s weights in float16 (with `extra` entries beside them); returns the file's size in MB."""
    state = {k: (v.half() if v.is_floating_point() else v).cpu() for k, v in model.state_dict().items()}
    torch.save({**extra, "state_dict": state}, path)
    return Path(path).stat().st_size / 2 ** 20


def save_generator(G, path=WEIGHTS_FILE):
    """Save a trained generator's weights for the coverage check (float16: half the size, same samples)."""
    size = save_half(G, path, noise_dim=NOISE_DIM)
    print(f"Saved the generator's weights to {path} ({size:.1f} MB): submit this file with your notebook.")


def discriminator_path(generator_path):
    """Where the discriminator of the DCGAN saved at `generator_path` is: the same folder."""
    return Path(generator_path).with_name(DISCRIMINATOR_FILE)


def save_discriminator(D, generator_path):
    """Save a trained discriminator beside its generator (float16, like the generator)."""
    path = discriminator_path(generator_path)
    size = save_half(D, path)
    print(f"Saved the discriminator's weights to {path} ({size:.1f} MB): the optional labs on what the GAN "
          "learned use it.")


def missing_weights(path):
    """What to do when the saved generator at `path` is not there."""
    return (f"{Path(path).name} is missing: run the DCGAN training cell (it saves the trained generator there), "
            "then submit that file with your notebook")


def unpacked_bytes(path):
    """How many bytes the archive at `path` unpacks to (every member, as its own header says)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise WeightsError(f"{Path(path).name} is not a file torch.save wrote ({type(e).__name__}); train again "
                           "to rewrite it") from None


def load_weights(network, path, what="network"):
    """`network` with the weights saved at `path` loaded into it (float16 or float32 files alike).

    Raises WeightsError, saying what to do, for a missing, unreadable or oversized
    file, or one whose tensors do not fit `network` (its `what`, in the message).
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(missing_weights(path))
    limit = 4 * sum(t.numel() for t in network.state_dict().values()) + SLACK_BYTES   # float32 at most
    size = unpacked_bytes(path)
    if size > limit:
        raise WeightsError(f"{path.name} unpacks to {size / 2 ** 20:.0f} MB, more than a {what} of this "
                           f"architecture holds ({limit / 2 ** 20:.0f} MB at most): it was not saved from it")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        state = {str(k): v for k, v in saved["state_dict"].items()}
    except Exception as e:  # noqa: BLE001 - any unreadable file means the same to the student
        raise WeightsError(f"{path.name} cannot be read ({type(e).__name__}); train the DCGAN again to rewrite it")
    state = fitted(network, state)
    misfit = _misfit(network, state)
    if misfit:
        raise WeightsError(f"{path.name} does not fit your {what} (was it changed after training? train again): "
                           f"{misfit}")
    # Converted only now: a tensor whose shape was not checked could be a view of a few bytes that claims
    # gigabytes (stride 0), and .float() would make them real.
    network.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return network


def _misfit(network, state):
    """What keeps `state` from loading into `network` without making anything larger than the network's
    own tensors ('' when nothing does)."""
    wanted = network.state_dict()
    if set(state) != set(wanted):
        return f"it holds {len(state)} tensors, the network {len(wanted)}"
    for name, have in wanted.items():
        got = state[name]
        if not isinstance(got, torch.Tensor) or tuple(got.shape) != tuple(have.shape):
            shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
            return f"{name} has shape {shape}, the network's {tuple(have.shape)}"
        if got.is_floating_point() != have.is_floating_point() or got.is_complex():
            return f"{name} holds {got.dtype} values, the network {have.dtype}"
    return ""


def fitted(network, state):
    """`state` with `network`'s names: the same names, or the same tensors' shapes in the same order.

    (The grader loads a student's weights into the instructor's generator, whose
    layers may be named differently: an nn.Sequential numbers them, a class names them.)
    """
    wanted = network.state_dict()
    if set(state) == set(wanted):
        return state
    if [tuple(getattr(v, "shape", ())) for v in state.values()] == [tuple(v.shape) for v in wanted.values()]:
        return dict(zip(wanted, state.values()))
    return state   # load_state_dict says what does not fit


def load_generator(module, path, builder="build_dc_generator"):
    """`module.<builder>(NOISE_DIM)` (the classic DCGAN's generator by default) with the weights saved at `path`
    (raises WeightsError with what to do)."""
    return load_weights(getattr(module, builder)(NOISE_DIM), path, builder)


def load_discriminator(module, generator_path, batch_size):
    """`module`'s build_dc_classifier with the weights saved beside `generator_path`."""
    network = call_classic(module.build_dc_classifier, batch_size=batch_size)
    return load_weights(network, discriminator_path(generator_path), "build_dc_classifier")
