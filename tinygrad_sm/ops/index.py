"""Indexing: reading ``x[index]``, its adjoint (adding into zeros at ``index``), and writing
``x[index] = v``, the recorded form of every in-place op.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..backend import array_module_of as _xp
from ..backend import copy_array, scatter_add
from .shape import _shares_memory


class GetItem(Function):
    """y = x[index];  the gradient is scattered back into zeros of x's shape, adding where an
    index repeats (``IndexAdd``)."""

    saves_inputs = saves_output = False

    def __init__(self, index):
        self.index = index

    def forward(self, x):
        out = x[self.index]
        self.is_view = _shares_memory(out, x)  # basic indexing gives a view, the rest copies
        return out

    def backward(self, g):
        return (IndexAdd(self.inputs[0].shape, self.index)(g),)


class IndexAdd(Function):
    """y = zeros(shape) with y[index] += x, once per occurrence of each index;  the adjoint of
    ``GetItem``, whose backward it is: dx = g[index]."""

    saves_inputs = saves_output = False

    def __init__(self, shape, index):
        self.shape, self.index = shape, index

    def forward(self, x):
        out = _xp(x).zeros(self.shape, dtype=x.dtype)
        if _is_basic_index(self.index):
            out[self.index] = x  # basic indices cannot repeat an element
        else:
            scatter_add(out, self.index, x)
        return out

    def backward(self, g):
        return (GetItem(self.index)(g),)


class SetItem(Function):
    """y = x with y[index] = v: how an in-place op is recorded in a graph (``Tensor._write``);
    dx = g with zeros at index (those elements were overwritten), dv = g[index]."""

    saves_inputs = saves_output = False

    def __init__(self, index):
        self.index = index

    def forward(self, x, v):
        out = copy_array(x)
        out[self.index] = v
        return out

    def backward(self, g):
        need_x, need_v = self.needs_input_grad
        gx = SetItem(self.index)(g, g._constant(g.dtype.type(0))) if need_x else None
        return gx, (GetItem(self.index)(g) if need_v else None)


def _is_basic_index(index: Any) -> bool:
    """True for indices made of ints, slices, None and Ellipsis only (no arrays, no masks)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) for p in parts)


# ---------------------------------------------------------------------------------------------
# Index helpers of gather, scatter_add, index_add, index_select and one_hot. These ops are
# GetItem and IndexAdd with a full integer-array index, so they need no Function of their own:
# x.gather(1, idx) is x[arange(n)[:, None], idx], and its gradient adds up over repeats.
# ---------------------------------------------------------------------------------------------

def along_axis_index(index: Any, axis: int, lengths: tuple[int, ...]) -> tuple[Any, ...]:
    """The integer-array index that picks ``index`` along ``axis`` and walks the other axes:
    ``(arange(lengths[0])[:, None, ...], ..., index, ..., arange(lengths[-1]))``, each arange
    shaped to broadcast against ``index`` along its own axis.

    With ``lengths = index.shape`` it is PyTorch's ``gather``: ``out[i][j] = x[i][index[i][j]]``
    for ``axis=1``. With the input's own lengths it is NumPy's ``take_along_axis``, where an
    axis of length 1 in ``index`` broadcasts.
    """
    xp = _xp(index)
    parts = []
    for d, n in enumerate(lengths):
        if d == axis:
            parts.append(index)
        else:
            shape = [1] * len(lengths)
            shape[d] = n
            parts.append(xp.arange(n).reshape(shape))
    return tuple(parts)


def check_index_array(index: Any, n: int, what: str) -> None:
    """Raise unless ``index`` holds integers in [-n, n): an index along an axis of length n
    (negative ones count from the end). CuPy would wrap a wrong index around silently."""
    if index.dtype.kind not in "iu":
        raise TypeError(f"{what}: the index must hold integers, got dtype {index.dtype}; "
                        "convert it with .astype('int64')")
    if index.size:
        low, high = int(index.min()), int(index.max())
        if low < -n or high >= n:
            bad = low if low < -n else high
            raise IndexError(f"{what}: index {bad} is out of range for an axis of length {n} "
                             f"(valid: {-n} to {n - 1})")


def check_integer_parts(index: Any, shape: tuple[int, ...]) -> None:
    """Raise unless every integer array in ``index`` (``x[rows, labels]``) lies within the axis
    it indexes. NumPy checks this itself; CuPy wraps a wrong index around silently, so the
    tensors on a GPU call this (reading two numbers back per array)."""
    parts = index if isinstance(index, tuple) else (index,)
    consumed = [0 if p is None or p is Ellipsis else
                p.ndim if getattr(p, "dtype", None) is not None and p.dtype == bool else 1
                for p in parts]
    axis = 0
    for part, used in zip(parts, consumed):
        if part is Ellipsis:
            axis += len(shape) - sum(consumed)
        elif hasattr(part, "dtype") and part.dtype.kind in "iu" and axis < len(shape):
            check_index_array(part, shape[axis], "indexing")
        axis += used


def one_hot_array(labels: Any, num_classes: int) -> Any:
    """int64 array of shape ``labels.shape + (num_classes,)``: 1 at each label, 0 elsewhere."""
    xp = _xp(labels)
    return (labels[..., None] == xp.arange(num_classes)).astype(np.int64)
