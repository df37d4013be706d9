"""Vision data sets with torchvision's interface: ``FashionMNIST``.

    from tinygrad_sm import vision as torchvision       # was: import torchvision
    from tinygrad_sm.vision import transforms

    mnist_train = torchvision.datasets.FashionMNIST(
        root="../data", train=True, transform=transforms.ToTensor(), download=True)
    len(mnist_train)            # 60000
    x, y = mnist_train[0]       # x: float32 Tensor (1, 28, 28) in [0, 1]; y: int

The files are read by ``tinygrad_sm.data.fashion_mnist`` (checked by SHA-256), from the first
of these places that holds all four:

1. ``root`` itself, or ``root/FashionMNIST/raw`` (where torchvision keeps them);
2. ``$FASHION_MNIST_DIR``; the cache (``~/.cache/tinygrad_sm/fashion-mnist``);
   ``/usr/share/datasets/fashion-mnist`` (the Debian/Ubuntu package ``dataset-fashion-mnist``);
3. with ``download=True``, a download into the cache (not into ``root``).

So the book's ``root="../data"`` finds a copy anywhere on the machine. Both splits are read
at once and kept for the next data set made from the same files, so the book's two calls
(train and test) and its reloads read the files once.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..data import fashion_mnist as _fm
from ..data.dataset import ArrayDataset
from ..tensor import Tensor, from_numpy
from ..utils.data import Dataset
from .transforms import supports_batch

__all__ = ["FashionMNIST"]

# The files last loaded: {"key": (directory, file sizes and times), "data": the arrays}.
_last_loaded: dict[str, Any] = {}


def _complete(directory: Path) -> bool:
    return not _fm.find_files(directory)[1]


def load(root: str | os.PathLike | None, download: bool) -> _fm.FashionMNIST:
    """Both splits of Fashion-MNIST as NumPy arrays, found as the module docstring says."""
    candidates = [] if root is None else [Path(root).expanduser(),
                                          Path(root).expanduser() / "FashionMNIST" / "raw"]
    directory = next((d for d in candidates if _complete(d)), None)
    if directory is None:
        try:
            directory = _fm.locate_fashion_mnist(None, download=download)
        except _fm.FashionMNISTNotFoundError as e:
            looked = " and ".join(str(d) for d in candidates)
            raise _fm.FashionMNISTNotFoundError(
                (f"Fashion-MNIST is not in root ({looked}).\n" if candidates else "") + str(e)
            ) from None
    files = sorted(_fm.find_files(directory)[0].values())
    key = (str(directory.resolve()), [(str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files])
    if _last_loaded.get("key") != key:
        _last_loaded.clear()  # the old arrays go before the new ones are read
        _last_loaded.update(key=key, data=_fm.load_fashion_mnist(directory, download=False))
    return _last_loaded["data"]


class FashionMNIST(Dataset):
    """Fashion-MNIST as torchvision's ``datasets.FashionMNIST``: 60,000 training or 10,000
    test examples (``train``), each ``(image, label)``.

    ``dataset[i]`` gives ``(transform(image), target_transform(label))``, where the image is a
    uint8 NumPy array (28, 28) (torchvision gives a PIL image of it) and the label an int in
    0..9; with ``transform=transforms.ToTensor()`` the image is a float32 Tensor (1, 28, 28)
    in [0, 1]. ``data`` (uint8, (N, 28, 28)) and ``targets`` (int64, (N,)) are the whole split
    as Tensors, and ``classes`` the class names.

    A ``DataLoader`` over it gathers a whole batch from these arrays at once and applies the
    transform's ``batch`` (see ``transforms``), unless the transform works on one example only
    (``transforms.Lambda``, your own function) or there is a ``target_transform``: then it reads
    the examples one at a time, which is slower but gives the same batches.
    """

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]

    def __init__(self, root: str | os.PathLike | None, train: bool = True,
                 transform: Callable[[Any], Any] | None = None,
                 target_transform: Callable[[int], Any] | None = None,
                 download: bool = False) -> None:
        for name, fn in (("transform", transform), ("target_transform", target_transform)):
            if fn is not None and not callable(fn):
                raise TypeError(f"FashionMNIST: {name} must be callable (e.g. "
                                f"transforms.ToTensor()), got a {type(fn).__name__}")
        self.root = root
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        loaded = load(root, download)
        self._images: np.ndarray = loaded.train_images if self.train else loaded.test_images
        self._labels: np.ndarray = loaded.train_labels if self.train else loaded.test_labels
        self.source: Path = loaded.source

    @property
    def data(self) -> Tensor:
        """All images of the split, uint8 (N, 28, 28), sharing the loaded array."""
        return from_numpy(self._images)

    @property
    def targets(self) -> Tensor:
        """All labels of the split, int64 (N,), sharing the loaded array."""
        return from_numpy(self._labels)

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    def __len__(self) -> int:
        return len(self._labels)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"FashionMNIST indices are ints, got {type(index).__name__}; "
                            "use a DataLoader to get batches")
        image = self._images[index].copy()  # a copy, so the example cannot change the data set
        target: Any = int(self._labels[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def _array_source(self) -> ArrayDataset | None:
        """The whole arrays a DataLoader gathers batches from, with the transform applied per
        batch; None when the transforms work on one example only."""
        if self.target_transform is not None or not supports_batch(self.transform):
            return None
        if self.transform is None:
            return ArrayDataset(self._images, self._labels)
        batch_transform = self.transform.batch
        return ArrayDataset(self._images, self._labels,
                            transform=lambda images, labels: (batch_transform(images), labels))

    def __repr__(self) -> str:
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}",
                 f"    Root location: {self.root}", f"    Split: {'Train' if self.train else 'Test'}",
                 f"    Read from: {self.source}"]
        if self.transform is not None:
            lines.append("    Transform: " + repr(self.transform).replace("\n", "\n    "))
        return "\n".join(lines)
