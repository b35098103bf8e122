"""MNIST (or Fashion-MNIST) through torchvision, with the classic split (provided).

Where the data lives, first match wins:
- the `data_dir` argument;
- the environment variable GAN_DATA_DIR;
- `data/` in the project folder.

torchvision downloads the files there on first use. Offline, copy the four
IDX files (`train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`,
`t10k-images-idx3-ubyte.gz`, `t10k-labels-idx1-ubyte.gz`, gzipped or not)
into any folder and pass it as `local_files` (or set GAN_DATA_FROM): they are
unpacked where torchvision looks, and nothing is downloaded.
"""

import gzip
import os
import shutil
from pathlib import Path

from gan_assignment.provided.config import BATCH_SIZE, NUM_TRAIN, NUM_VAL
from gan_assignment.provided.modules import PROJECT

DATASETS = {"mnist": "MNIST", "fashion": "FashionMNIST"}
IDX_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


class DataUnavailable(RuntimeError):
    """The data set is neither on disk nor downloadable; the message says what to do."""

    def _render_traceback_(self):  # IPython shows just the message, not a traceback
        return [f"DataUnavailable: {self}"]


def data_dir(path=None):
    return Path(path or os.environ.get("GAN_DATA_DIR") or PROJECT / "data")


def load_dataset(name="mnist", root=None, train=True, local_files=None):
    """The torchvision data set `name` ('mnist' or 'fashion'); images as (1, 28, 28) tensors in [0, 1]."""
    import torchvision
    import torchvision.transforms as T

    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    root = data_dir(root)
    cls = getattr(torchvision.datasets, DATASETS[name])
    local_files = local_files or os.environ.get("GAN_DATA_FROM")
    if local_files:
        _unpack_local_copy(Path(local_files), root / DATASETS[name] / "raw")
    try:
        return cls(str(root), train=train, download=True, transform=T.ToTensor())
    except Exception as e:  # noqa: BLE001 - torchvision raises several kinds when offline
        raw = root / DATASETS[name] / "raw"
        raise DataUnavailable(
            f"could not load {DATASETS[name]} from {raw} nor download it ({type(e).__name__}: {e}).\n"
            f"Offline? Copy the four IDX files ({', '.join(f + '.gz' for f in IDX_FILES)}) into a folder "
            "and set GAN_DATA_FROM=/that/folder (or pass local_files=...); or point GAN_DATA_DIR at a "
            f"folder that already holds {DATASETS[name]}/raw/.") from None


def _unpack_local_copy(source, raw):
    """Put the IDX files from `source` into torchvision's `raw` folder, uncompressed."""
    raw.mkdir(parents=True, exist_ok=True)
    for stem in IDX_FILES:
        target = raw / stem
        if target.exists():
            continue
        if (source / stem).exists():
            shutil.copyfile(source / stem, target)
        elif (source / f"{stem}.gz").exists():
            with gzip.open(source / f"{stem}.gz", "rb") as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
        else:
            raise DataUnavailable(f"{source} has no {stem} or {stem}.gz")


def dataset_tensors(dataset):
    """(images, labels) of a torchvision MNIST-style data set, or of a Subset of one, as whole tensors.

    images: float (N, 1, 28, 28) in [0, 1], exactly what ToTensor gives image by
    image, but read in one go from the data set's uint8 tensor; labels: int64 (N,).
    Returns None for a data set that is not of that kind (another transform, say).
    """
    import torch

    indices = None
    while isinstance(dataset, torch.utils.data.Subset):   # a Subset of a Subset of ...: compose the indices
        idx = torch.as_tensor(list(dataset.indices))
        indices = idx if indices is None else idx[indices]
        dataset = dataset.dataset
    data, targets = getattr(dataset, "data", None), getattr(dataset, "targets", None)
    transform = getattr(dataset, "transform", None)
    plain = transform is None or type(transform).__name__ == "ToTensor"
    if not (isinstance(data, torch.Tensor) and data.dtype == torch.uint8 and data.dim() == 3 and plain):
        return None
    labels = torch.as_tensor(targets) if targets is not None else torch.zeros(len(data), dtype=torch.long)
    if indices is not None:
        data, labels = data[indices], labels[indices]
    return data.unsqueeze(1).float() / 255, labels.long()


def classic_split(dataset, num_train=NUM_TRAIN, num_val=NUM_VAL):
    """The classic split as two image tensors (N, 1, 28, 28) in [0, 1]: the first `num_train` images
    for training, the next `num_val` held out. run_a_gan trains on such a tensor directly."""
    images, _ = dataset_tensors(dataset)
    num_train = min(num_train, len(images))
    return images[:num_train], images[num_train:num_train + num_val]


def classic_loaders(dataset, batch_size=BATCH_SIZE, num_train=NUM_TRAIN, num_val=NUM_VAL):
    """The classic split: the first `num_train` images for training, the next `num_val` held out.

    Returns (loader_train, loader_val). Like the classic assignment, batches come
    in a fixed order (no shuffling), so runs are comparable.
    """
    from torch.utils.data import DataLoader, Subset

    num_train = min(num_train, len(dataset))
    train = Subset(dataset, range(num_train))
    val = Subset(dataset, range(num_train, min(num_train + num_val, len(dataset))))
    return (DataLoader(train, batch_size=batch_size, shuffle=False),
            DataLoader(val, batch_size=batch_size, shuffle=False))


IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


def load_image_folder(folder, size=64, limit=None, progress=True):
    """Every image under `folder` as one uint8 tensor (N, 3, size, size), for run_a_gan.

    Works with torchvision's ImageFolder layout (one subfolder per class) and with
    a flat folder alike: every image file below `folder` is taken, in sorted order.
    Each is converted to RGB, resized so its shorter side is `size`, and
    centre-cropped to size x size (the DCGAN paper's preprocessing). Files that
    are not readable images are skipped and counted. `limit`: at most this many.
    Raises DataUnavailable when the folder holds no image.
    """
    import numpy as np
    import torch
    import torchvision.transforms as T
    from PIL import Image, UnidentifiedImageError
    from tqdm.auto import tqdm

    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DataUnavailable(f"{folder} is not a folder: point --images at a folder of images "
                              "(flat, or one subfolder per class)")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())[:limit]
    if not files:
        raise DataUnavailable(f"{folder} holds no image files ({', '.join(sorted(IMAGE_SUFFIXES))})")
    resize = T.Compose([T.Resize(size), T.CenterCrop(size)])
    images, skipped = [], 0
    for path in tqdm(files, desc=f"reading {folder.name}", unit="img", disable=not progress, mininterval=2):
        try:
            with Image.open(path) as img:
                pixels = np.asarray(resize(img.convert("RGB")), dtype=np.uint8)
        except (OSError, UnidentifiedImageError, ValueError):
            skipped += 1
            continue
        images.append(torch.from_numpy(pixels.copy()).permute(2, 0, 1))
    if not images:
        raise DataUnavailable(f"none of the {len(files)} image files in {folder} could be read")
    if skipped and progress:
        print(f"skipped {skipped} unreadable file(s) of {len(files)} in {folder}")
    return torch.stack(images)


def as_colour(images, size=64, tint=False, seed=0):
    """MNIST-style images (N, 1, 28, 28) in [0, 1] as uint8 colour images (N, 3, size, size): a stand-in for
    a folder of photos. The same pictures, resized; with tint=True each in a colour of its own."""
    import torch
    import torch.nn.functional as F

    big = F.interpolate(images.float(), size=(size, size), mode="bilinear", align_corners=False).clamp(0, 1)
    colour = big.expand(-1, 3, -1, -1)
    if tint:
        hues = torch.rand(len(images), 3, 1, 1, generator=torch.Generator().manual_seed(seed)) * 0.7 + 0.3
        colour = colour * hues
    return (colour * 255).round().to(torch.uint8).contiguous()
