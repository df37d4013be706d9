"""``torch.utils.data`` for tinygrad_sm: ``Dataset``, ``TensorDataset``, ``DataLoader`` and
``default_collate``, with PyTorch's signatures, so the book's data code runs unchanged::

    from tinygrad_sm.utils import data          # was: from torch.utils import data

    dataset = data.TensorDataset(features, labels)
    loader = data.DataLoader(dataset, batch_size=10, shuffle=True)
    X, y = next(iter(loader))                   # X: (10, 2), y: (10, 1)

How a batch is made depends on the dataset:

- **Whole arrays.** A dataset that keeps its examples as whole arrays (``TensorDataset``, and
  ``tinygrad_sm.vision.datasets.FashionMNIST``) hands them to the loader, which gathers each
  batch with one fancy-indexing operation per array, as ``tinygrad_sm.data.DataLoader`` does
  (that loader does the work). An epoch over 60,000 images is then a few hundred array
  operations, not 60,000 calls of ``dataset[i]``.
- **One example at a time.** Any other map-style dataset (an object with ``__getitem__(int)``
  and ``__len__``, such as a subclass of ``Dataset``) is read with ``dataset[i]`` for each
  index of the batch, and the examples are joined by ``collate_fn`` (``default_collate``), as
  PyTorch does.

Both ways give the same batches: a list with one Tensor per field of an example (``[X, y]``),
with the examples stacked along a new first axis.

Differences from PyTorch: ``num_workers`` is accepted and checked, but batches are always made
in this process (whole-array batches need no workers); ``sampler``, ``batch_sampler`` and the
worker options are not accepted; batches do not carry gradients back into the dataset's
tensors. Shuffling draws from the library's generator, which ``tinygrad_sm.manual_seed`` seeds.
Two keywords of our own: ``seed`` (a generator for this loader alone) and ``device`` (where the
batches go; by default where the dataset's tensors are, else ``$TINYGRAD_SM_DEVICE``, else
the CPU).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Callable, Iterator

import numpy as np

from .. import backend
from ..data.dataset import ArrayDataset
from ..data.dataset import DataLoader as _ArrayLoader
from ..tensor import Tensor, as_tensor, tensor

__all__ = ["Dataset", "TensorDataset", "DataLoader", "default_collate"]


class Dataset:
    """The base class of map-style datasets: subclass it and define ``__getitem__(index)``,
    which returns one example, and ``__len__()``, the number of examples.

    >>> class Squares(Dataset):
    ...     def __len__(self):
    ...         return 4
    ...     def __getitem__(self, i):
    ...         return float(i), i * i
    >>> x, y = next(iter(DataLoader(Squares(), batch_size=4)))
    >>> x.tolist(), y.tolist()
    ([0.0, 1.0, 2.0, 3.0], [0, 1, 4, 9])
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index)")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__()")


class TensorDataset(Dataset):
    """Examples held as equally long tensors: example ``i`` is ``tuple(t[i] for t in tensors)``.

    ``tensors`` is kept as given (the same tensors, not copies), as in PyTorch. A DataLoader
    gathers a batch from each tensor's whole array at once.
    """

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor, e.g. "
                             "TensorDataset(features, labels)")
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: argument {i} is a {type(t).__name__}, not a "
                                "Tensor; make it one with tinygrad_sm.tensor(...)")
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {i} is 0-d (shape ()), so it holds no "
                                 "examples; the first axis of each tensor indexes the examples")
        lengths = [t.shape[0] for t in tensors]
        if len(set(lengths)) != 1:
            raise ValueError(f"TensorDataset: the tensors hold different numbers of examples "
                             f"(first axes {lengths}); each needs one row per example")
        self.tensors: tuple[Tensor, ...] = tensors

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def _array_source(self) -> ArrayDataset | None:
        """The whole arrays a DataLoader gathers batches from (shared, not copied), or None when
        a subclass redefines ``__getitem__`` and so must be read one example at a time."""
        if type(self).__getitem__ is not TensorDataset.__getitem__:
            return None
        return ArrayDataset(*self.tensors)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{t.dtype}{tuple(t.shape)}" for t in self.tensors)
        return f"TensorDataset({shapes})"


def default_collate(batch: Sequence[Any]) -> Any:
    """Join a list of examples into one batch, by PyTorch's rules:

    - Tensors (all of one shape) are stacked along a new first axis; so are NumPy arrays;
    - Python floats become a float64 tensor, ints an int64 tensor (bools a bool tensor), NumPy
      scalars a tensor of their dtype;
    - strings stay a list;
    - a dict, a tuple or a list is joined field by field: ``[(x0, y0), (x1, y1)]`` becomes
      ``[stack(x0, x1), tensor([y0, y1])]`` (a list; a named tuple keeps its type).
    """
    if len(batch) == 0:
        raise ValueError("default_collate got an empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        shapes = {t.shape for t in batch}
        if len(shapes) != 1:
            raise ValueError(f"default_collate: cannot stack tensors of different shapes "
                             f"{sorted(shapes)}; make every example the same shape (e.g. with "
                             "transforms.Resize), or pass your own collate_fn")
        devices = {t.device for t in batch}
        if len(devices) != 1:
            raise ValueError(f"default_collate: the examples are on different devices "
                             f"{sorted(devices)}; put them on one")
        xp = backend.array_module(elem.device)
        return Tensor._wrap(xp.stack([t._array for t in batch]), elem.device)
    if isinstance(elem, (np.ndarray, np.generic)) and elem.dtype.kind not in "SUO":
        return as_tensor(np.stack([np.asarray(e) for e in batch]))
    if isinstance(elem, float):
        return tensor(batch, dtype=np.float64)
    if isinstance(elem, int):  # bool is an int too: a batch of bools is a bool tensor
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        return {key: default_collate([example[key] for example in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a named tuple keeps its type
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, Sequence):
        sizes = {len(example) for example in batch}
        if len(sizes) != 1:
            raise ValueError(f"default_collate: the examples have different numbers of fields "
                             f"{sorted(sizes)}; every example must have the same structure")
        return [default_collate(list(field)) for field in zip(*batch)]
    raise TypeError(f"default_collate: an example (or a field of one) is a "
                    f"{type(elem).__name__}; batches can be made of Tensors, NumPy arrays, "
                    "numbers, strings, and dicts, tuples or lists of them. Convert it in the "
                    "dataset or a transform (e.g. transforms.ToTensor()), or pass a collate_fn")


class DataLoader:
    """Iterate over ``dataset`` in minibatches of ``batch_size`` examples, as
    ``torch.utils.data.DataLoader``.

    Each pass (``for X, y in loader``) visits every example once, in a new random order when
    ``shuffle`` is true, else in order; the last batch is smaller unless ``drop_last``.
    ``len(loader)`` is the number of batches. See the module docstring for how batches are
    made, and for ``num_workers``, ``seed`` and ``device``.
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool | None = None, *,
                 num_workers: int = 0, collate_fn: Callable[[list[Any]], Any] | None = None,
                 pin_memory: bool = False, drop_last: bool = False, seed: int | None = None,
                 device: str | None = None) -> None:
        if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)) \
                or num_workers < 0:
            raise ValueError(f"num_workers must be a non-negative integer, got {num_workers!r}")
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(f"DataLoader needs a map-style dataset, with __getitem__(index) and "
                            f"__len__(); got a {type(dataset).__name__}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.num_workers = int(num_workers)  # accepted for PyTorch's sake; work stays here
        self.pin_memory = pin_memory  # nothing to pin: batches are made where they are used
        self.drop_last = drop_last
        self.collate_fn = default_collate if collate_fn is None else collate_fn
        source = None
        if self.collate_fn is default_collate and callable(getattr(dataset, "_array_source", None)):
            source = dataset._array_source()
        self._whole_arrays = source is not None
        if source is not None:
            if device is None and backend.device_of(source.arrays[0]) != "cpu":
                device = backend.device_of(source.arrays[0])  # stay where the tensors are
            self._loader = _ArrayLoader(source, batch_size, shuffle=self.shuffle,
                                        drop_last=drop_last, seed=seed, device=device)
        else:
            # The indices of each batch come from the same loader, run over the example
            # numbers 0..n-1; the examples are then read one by one.
            self._loader = _ArrayLoader(ArrayDataset(np.arange(len(dataset))), batch_size,
                                        shuffle=self.shuffle, drop_last=drop_last, seed=seed,
                                        device="cpu")
        # Per-example batches are moved only when asked to: their tensors are made where the
        # dataset and collate_fn make them.
        self._move_to = None if device is None or self._whole_arrays else backend.check_device(device)

    def __len__(self) -> int:
        """The number of batches in one pass."""
        return len(self._loader)

    def __iter__(self) -> Iterator[Any]:
        if self._whole_arrays:
            for batch in self._loader:
                yield list(batch)  # a list, as PyTorch's default_collate gives for tuples
            return
        for (indices,) in self._loader:
            examples = [self.dataset[i] for i in indices.numpy().tolist()]
            batch = self.collate_fn(examples)
            yield batch if self._move_to is None else _to_device(batch, self._move_to)

    def __repr__(self) -> str:
        how = "whole arrays" if self._whole_arrays else "one example at a time"
        return (f"DataLoader({self.dataset!r}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, batches made from {how})")


def _to_device(batch: Any, device: str) -> Any:
    """``batch`` with every Tensor in it (in lists, tuples and dicts too) moved to ``device``."""
    if isinstance(batch, Tensor):
        return batch.to(device)
    if isinstance(batch, Mapping):
        return {key: _to_device(value, device) for key, value in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(_to_device(value, device) for value in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to_device(value, device) for value in batch)
    return batch
