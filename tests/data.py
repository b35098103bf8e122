"""Real data for offline tests: never committed, found beside the project or installed by .ci/run."""

import os
from pathlib import Path

import pytest

from tests.conftest import ROOT

MNIST_TEST_SPLIT = ROOT.parent / "shared" / "data" / "mnist-test"       # the real MNIST test split
FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")                # Debian's dataset-fashion-mnist


def require_data(path, how):
    """`path` if it holds data; otherwise fail in CI (it must be there) and skip elsewhere."""
    if path.is_dir() and any(path.glob("*-ubyte*")):
        return path
    message = f"{path} is missing: {how}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def mnist_stand_in(tmp_path):
    """A folder of MNIST IDX files where the real test split stands in for the training split.

    torchvision's MNIST wants all four files; offline we only have the 10,000 test
    digits, which is plenty for quick runs on real handwriting.
    """
    source = require_data(MNIST_TEST_SPLIT, "the shared MNIST test split (../shared/data) is not beside the project")
    folder = tmp_path / "mnist-idx"
    folder.mkdir()
    for kind in ("images-idx3", "labels-idx1"):
        for split in ("train", "t10k"):
            (folder / f"{split}-{kind}-ubyte.gz").symlink_to(source / f"t10k-{kind}-ubyte.gz")
    return folder


def image_folder(tmp_path, count=48):
    """A small folder of colour photos in torchvision's ImageFolder layout, made from Fashion-MNIST.

    No face data set is reachable offline, so the 64 x 64 DCGAN trains on Fashion-MNIST images,
    enlarged, each tinted with a colour of its own and saved as non-square PNGs in two class
    subfolders (so resizing and centre-cropping are exercised), plus one file that is not an image.
    """
    from PIL import Image

    from gan_assignment.provided.data import as_colour, dataset_tensors, load_dataset

    source = require_data(FASHION_MNIST, "apt-get install dataset-fashion-mnist")
    images, _ = dataset_tensors(load_dataset("fashion", root=tmp_path / "data", train=False, local_files=source))
    colour = as_colour(images[:count], size=96, tint=True)
    folder = tmp_path / "photos"
    for i, img in enumerate(colour):
        sub = folder / ("tops" if i % 2 else "shoes")
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img.permute(1, 2, 0).numpy()[:, 12:84]).save(sub / f"{i:03d}.png")   # 96 x 72
    (folder / "notes.jpg").write_text("not an image")
    return folder


def notebook_env(tmp_path, dataset, data_from, **extra):
    """The environment a notebook test runs a notebook in: quick mode, `dataset` from the IDX files in
    `data_from`, and every file it writes under `tmp_path` (GAN_IMPL and the rest in `extra`)."""
    return {"GAN_QUICK": "1", "GAN_DATASET": dataset, "GAN_DATA_FROM": str(data_from),
            "GAN_DATA_DIR": str(tmp_path / "data"), "GAN_OUTPUT_DIR": str(tmp_path / "outputs"),
            "GAN_WEIGHTS": str(tmp_path / "dcgan_generator.pt"), **extra}
