"""The torch-level functions: ``tinygrad_sm.exp(x)`` is ``x.exp()``, and so on.

Code written for PyTorch calls ops as functions of the ``torch`` module (``torch.matmul(X, w)``,
``torch.exp(X)``); with ``import tinygrad_sm as torch`` these are they. Each one calls the
Tensor method of the same name, so the op, its gradient and its docstring live in one place.
A non-Tensor argument (a number, a list, an array) is made into a tensor first.

They take PyTorch's argument names (``dim``, ``keepdim``) as well as NumPy's (``axis``,
``keepdims``). One deliberate difference from the methods: ``max(x, dim)`` and ``min(x, dim)``
return the pair (values, indices), as ``torch.max`` does, where ``x.max(dim)`` gives the values
only, as NumPy's ``max`` does.
"""
from __future__ import annotations

import builtins
from collections import namedtuple
from typing import Any

from .tensor import Tensor, as_tensor

# Each block of functions below lists its names; __all__ (at the end) gathers them.
_CORE = ["matmul", "exp", "log", "sqrt", "abs", "relu", "sigmoid", "tanh", "softmax",
         "log_softmax", "logsumexp", "sum", "mean", "max", "min", "argmax", "argmin", "reshape",
         "flatten", "transpose", "squeeze", "unsqueeze", "clone", "numel", "is_tensor"]

# What torch.max(x, dim) and torch.min(x, dim) return: a named pair.
MaxMin = namedtuple("MaxMin", ["values", "indices"])


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else as_tensor(x)


def is_tensor(obj: Any) -> bool:
    """True for a ``Tensor`` (``Parameter`` included)."""
    return isinstance(obj, Tensor)


def matmul(input: Any, other: Any) -> Tensor:
    """``input @ other``, with NumPy's rules for 1-D and batched operands."""
    return _tensor(input) @ other


def exp(input: Any) -> Tensor:
    return _tensor(input).exp()


def log(input: Any) -> Tensor:
    return _tensor(input).log()


def sqrt(input: Any) -> Tensor:
    return _tensor(input).sqrt()


def abs(input: Any) -> Tensor:  # noqa: A001  (torch.abs)
    return _tensor(input).abs()


def relu(input: Any) -> Tensor:
    return _tensor(input).relu()


def sigmoid(input: Any) -> Tensor:
    return _tensor(input).sigmoid()


def tanh(input: Any) -> Tensor:
    return _tensor(input).tanh()


def softmax(input: Any, dim: int = -1, *, axis: int | None = None) -> Tensor:
    return _tensor(input).softmax(dim if axis is None else axis)


def log_softmax(input: Any, dim: int = -1, *, axis: int | None = None) -> Tensor:
    return _tensor(input).log_softmax(dim if axis is None else axis)


def logsumexp(input: Any, dim: Any = -1, keepdim: bool = False, *, axis: Any = None,
              keepdims: bool | None = None) -> Tensor:
    return _tensor(input).logsumexp(dim if axis is None else axis,
                                    keepdim if keepdims is None else keepdims)


def sum(input: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None,  # noqa: A001
        keepdims: bool | None = None) -> Tensor:
    return _tensor(input).sum(dim, keepdim, **_numpy_spelling(axis, keepdims))


def mean(input: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
         keepdims: bool | None = None) -> Tensor:
    return _tensor(input).mean(dim, keepdim, **_numpy_spelling(axis, keepdims))


def max(input: Any, dim: int | None = None, keepdim: bool = False) -> Any:  # noqa: A001
    """The largest element; with ``dim``, the pair ``(values, indices)`` along it."""
    x = _tensor(input)
    if dim is None:
        return x.max()
    return MaxMin(x.max(dim, keepdim), x.argmax(dim, keepdim))


def min(input: Any, dim: int | None = None, keepdim: bool = False) -> Any:  # noqa: A001
    """The smallest element; with ``dim``, the pair ``(values, indices)`` along it."""
    x = _tensor(input)
    if dim is None:
        return x.min()
    return MaxMin(x.min(dim, keepdim), x.argmin(dim, keepdim))


def argmax(input: Any, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return _tensor(input).argmax(dim, keepdim)


def argmin(input: Any, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return _tensor(input).argmin(dim, keepdim)


def reshape(input: Any, shape: Any) -> Tensor:
    return _tensor(input).reshape(shape)


def flatten(input: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    return _tensor(input).flatten(start_dim, end_dim)


def transpose(input: Any, dim0: int, dim1: int) -> Tensor:
    """``input`` with axes ``dim0`` and ``dim1`` swapped, as ``torch.transpose``."""
    x = _tensor(input)
    order = list(builtins.range(x.ndim))
    a, b = order[dim0], order[dim1]
    order[a], order[b] = b, a
    return x.transpose(order)


def squeeze(input: Any, dim: Any = None) -> Tensor:
    return _tensor(input).squeeze(dim)


def unsqueeze(input: Any, dim: int) -> Tensor:
    return _tensor(input).unsqueeze(dim)


def clone(input: Tensor) -> Tensor:
    return _tensor(input).clone()


def numel(input: Tensor) -> int:
    return _tensor(input).numel()


def _numpy_spelling(axis: Any, keepdims: bool | None) -> dict[str, Any]:
    """NumPy's ``axis``/``keepdims``, passed on as PyTorch's ``dim``/``keepdim`` keywords."""
    spelled: dict[str, Any] = {}
    if axis is not None:
        spelled["dim"] = axis
    if keepdims is not None:
        spelled["keepdim"] = keepdims
    return spelled


# ---------------------------------------------- joining, splitting, shapes, indexing
# (ops/shape.py, ops/index.py)

_SHAPES: list[str] = []


# ---------------------------------------------- elementwise, reductions, linear algebra
# (ops/elementwise.py, ops/reduce.py, ops/linalg.py)

_MATH: list[str] = []


__all__ = _CORE + _SHAPES + _MATH
