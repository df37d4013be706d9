"""Datasets held as whole arrays, and a DataLoader that cuts them into minibatches.

A batch is gathered with one fancy-indexing operation per array (``images[indices]``),
never by looping over examples in Python, so an epoch over 60,000 images costs a few
hundred array operations rather than 60,000 function calls.
"""
from __future__ import annotations

import math
import operator
from itertools import repeat
from typing import TYPE_CHECKING, Any, Callable, Iterator, Protocol, Sequence

import numpy as np

from tinygrad_sm import backend, random

if TYPE_CHECKING:
    from tinygrad_sm.tensor import Tensor

Array = Any  # a numpy.ndarray on "cpu", a cupy.ndarray on "cuda"
Transform = Callable[..., Sequence[Array]]


class Dataset(Protocol):
    """What a DataLoader needs: a length, and a batch of examples for an array of indices."""

    def __len__(self) -> int: ...

    def __getitem__(self, indices: Array) -> Sequence[Array]: ...


class ArrayDataset:
    """Examples stored as equally long arrays (or tensors): ``dataset[indices]`` gathers a batch
    from each.

    ``transform``, when given, is applied to every gathered batch: it receives one argument
    per array and returns the converted tuple. It runs per batch on purpose: Fashion-MNIST's
    60,000 images are 47 MB as uint8 but would be 188 MB as float32, so they are stored as
    uint8 and converted a batch at a time. The transform gets NumPy arrays on "cpu" and CuPy
    arrays on "cuda", so write it with array methods (``astype``, ``reshape``, arithmetic).

    >>> ds = ArrayDataset(np.arange(10).reshape(5, 2), np.arange(5))
    >>> x, y = ds[np.array([4, 0])]
    >>> x.tolist(), y.tolist()
    ([[8, 9], [0, 1]], [4, 0])
    """

    def __init__(self, *arrays: Array, transform: Transform | None = None) -> None:
        if not arrays:
            raise ValueError("ArrayDataset needs at least one array")
        # Tensors are taken as their arrays (on their device), lists and tuples as NumPy arrays.
        arrays = tuple(np.asarray(a) if isinstance(a, (list, tuple)) else getattr(a, "_array", a)
                       for a in arrays)
        for i, array in enumerate(arrays):
            if getattr(array, "ndim", 0) == 0:
                raise ValueError(f"ArrayDataset: array {i} has no length (got {type(array).__name__} "
                                 f"with shape {getattr(array, 'shape', ())}); pass arrays whose first axis "
                                 "indexes the examples")
        lengths = [len(array) for array in arrays]
        if len(set(lengths)) != 1:
            raise ValueError(f"ArrayDataset: all arrays must have the same length (one row per example), "
                             f"got lengths {lengths}")
        self.arrays: tuple[Array, ...] = tuple(arrays)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, indices: Array) -> tuple[Array, ...]:
        batch = tuple(map(operator.itemgetter(indices), self.arrays))  # array[indices] for each
        if self.transform is not None:
            batch = tuple(self.transform(*batch))
        return batch

    def to(self, device: str) -> ArrayDataset:
        """The same dataset with its arrays on ``device`` (arrays already there are not copied)."""
        device = backend.check_device(device)
        return ArrayDataset(*(backend.to_device(a, device) for a in self.arrays), transform=self.transform)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{a.dtype}{tuple(a.shape)}" for a in self.arrays)
        return f"ArrayDataset({shapes}{', transform=' + repr(self.transform) if self.transform else ''})"


class DataLoader:
    """Iterate over a dataset in minibatches, yielding a tuple of Tensors per batch.

    Each epoch (each ``for batch in loader``) draws one permutation of ``range(len(dataset))``
    (or takes them in order when ``shuffle`` is false) and slices it into batches of
    ``batch_size`` indices, so every example is seen exactly once per epoch. The last, smaller
    batch is yielded too unless ``drop_last``.

    Shuffling draws from ``numpy.random.default_rng(seed)`` when ``seed`` is given: a new order
    every epoch, and the same sequence of orders on every run. Without a seed it draws from the
    library's generator, which ``tinygrad_sm.random.manual_seed`` seeds.

    On ``device="cuda"`` a dataset with a ``to(device)`` method (like ``ArrayDataset``) is copied
    to the GPU once, here, so that batches are gathered there and no per-batch host-to-GPU copy
    is needed. Other datasets are indexed on the host and each batch is moved.
    """

    def __init__(self, dataset: Dataset, batch_size: int, shuffle: bool = False, drop_last: bool = False,
                 seed: int | None = None, device: str | None = None) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.device = backend.check_device(device)
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None
        # Where batches are gathered from: on the GPU, a copy made once rather than one per batch.
        self._gather_on_device = self.device != "cpu" and hasattr(dataset, "to")
        self._source = dataset.to(self.device) if self._gather_on_device else dataset

    def __len__(self) -> int:
        """The number of batches in one epoch."""
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        from tinygrad_sm.tensor import Tensor  # here, not at the top: tensor.py need not import data

        n = len(self.dataset)
        if self.shuffle:
            # Looked up per epoch, so a manual_seed() call after the loader was built still counts.
            rng = self._rng if self._rng is not None else random.generator()
            order = rng.permutation(n)
        else:
            order = np.arange(n)
        if self._gather_on_device:
            # Drawn on the host (the same order on every device), sent to the GPU once per epoch.
            order = backend.to_device(order, self.device)
        stop = n - n % self.batch_size if self.drop_last else n
        wrap, device = Tensor._wrap, self.device
        for start in range(0, stop, self.batch_size):
            batch = self._source[order[start:start + self.batch_size]]
            if self._gather_on_device or device == "cpu" and all(
                    map(isinstance, batch, repeat(np.ndarray))):
                # Fresh gathers already on the device: wrapped as they are, without the checks
                # of Tensor(...), which would keep them as they are too. (map, not a generator:
                # this runs once per batch.)
                yield tuple(map(wrap, batch, repeat(device)))
            else:
                yield tuple(Tensor(array, device=device) for array in batch)

    def __repr__(self) -> str:
        return (f"DataLoader({self.dataset!r}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, seed={self.seed}, device={self.device!r})")


def to_numpy(value: Any) -> np.ndarray:
    """A NumPy array from a list, a scalar, a NumPy/CuPy array or a Tensor."""
    from tinygrad_sm.tensor import Tensor

    if isinstance(value, Tensor):
        value = value._array
    if backend.device_of(value) == "cuda":
        value = backend.to_device(value, "cpu")
    return np.asarray(value)


def synthetic_data(w: Any, b: Any, num_examples: int, device: str | None = None) -> tuple[Tensor, Tensor]:
    """Make a linear-regression dataset: y = X w + b + noise (the book's ``synthetic_data``).

    X has shape (num_examples, len(w)) with entries drawn from N(0, 1); the noise is drawn from
    N(0, 0.01**2) (standard deviation 0.01); y has shape (num_examples, 1). Both are returned
    as float32 Tensors. ``w`` may be a list, an array or a Tensor; ``b`` a number or a
    one-element array/Tensor. Draws from the library generator, so ``manual_seed`` repeats it.
    """
    from tinygrad_sm.tensor import Tensor

    w = to_numpy(w).astype(np.float64).reshape(-1)
    b_array = to_numpy(b).astype(np.float64)
    if b_array.size != 1:
        raise ValueError(f"synthetic_data: b must be a single number, got shape {b_array.shape}")
    if isinstance(num_examples, bool) or not isinstance(num_examples, (int, np.integer)) or num_examples < 0:
        raise ValueError(f"synthetic_data: num_examples must be a non-negative integer, got {num_examples!r}")
    rng = random.generator()
    X = rng.standard_normal((int(num_examples), len(w)))
    y = X @ w + b_array.item() + rng.normal(0.0, 0.01, size=int(num_examples))
    return (Tensor(X.astype(np.float32), device=device),
            Tensor(y.reshape(-1, 1).astype(np.float32), device=device))
