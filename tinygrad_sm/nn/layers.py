"""Layers: ``Linear``, ``Sequential``, ``Flatten`` and ``ReLU``, with PyTorch's names and defaults.

Each is a ``Module`` whose ``forward`` is a line or two of Tensor ops (``Linear`` calls the
fused ``F.linear``); ``extra_repr`` gives the arguments shown by ``print(model)``.
"""
from __future__ import annotations

import math
from typing import Any, Iterator

import numpy as np

from ..tensor import Tensor, zeros
from . import functional as F
from . import init
from .module import Module, Parameter


class Linear(Module):
    """y = x @ weight.T + bias, with ``weight`` of shape (out_features, in_features) as in PyTorch.

    Both are initialised from U(-1/sqrt(in_features), 1/sqrt(in_features)), PyTorch's default,
    drawn from the library's generator so that ``manual_seed`` makes them repeatable (the
    weight is drawn first, then the bias). ``dtype`` defaults to float32.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype: Any = None, device: str | None = None) -> None:
        super().__init__()
        for what, n in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                raise ValueError(f"Linear: {what} must be a positive int, got {n!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        bound = 1.0 / math.sqrt(in_features)
        self.weight = _uniform_parameter((out_features, in_features), bound, dtype, device)
        self.bias = _uniform_parameter((out_features,), bound, dtype, device) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


def _uniform_parameter(shape: tuple[int, ...], bound: float, dtype: Any,
                       device: str | None) -> Parameter:
    """A parameter of ``shape`` drawn from U(-bound, bound)."""
    return init.uniform_(Parameter(zeros(shape, dtype=dtype, device=device)), -bound, bound)


class Sequential(Module):
    """Modules applied one after another: ``Sequential(Flatten(), Linear(784, 10))(x)``.

    They are registered as ``"0"``, ``"1"``, ..., so parameter names read ``"1.weight"``.
    Supports ``len``, iteration and indexing (a slice gives a new Sequential of the same
    modules).
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(f"Sequential: argument {i} is a {type(module).__name__}, not a "
                                "Module; pass layers such as nn.Linear(...) or nn.ReLU()")
            setattr(self, str(i), module)

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice) -> Module:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*modules[index])
        if not -len(modules) <= index < len(modules):
            raise IndexError(f"Sequential index {index} is out of range for {len(modules)} "
                             "modules")
        return modules[index]


class Flatten(Module):
    """Merge the axes from ``start_dim`` to ``end_dim`` into one; by default every axis but the
    batch axis, so images of shape (N, 1, 28, 28) become (N, 784)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        # Tensor.flatten wraps axes modulo ndim; a batch of the wrong rank should fail instead.
        start, end = self.start_dim, self.end_dim
        if not (-x.ndim <= start < x.ndim and -x.ndim <= end < x.ndim
                and start % x.ndim <= end % x.ndim):
            raise ValueError(f"Flatten(start_dim={start}, end_dim={end}) does not fit an input "
                             f"of shape {x.shape}")
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class ReLU(Module):
    """max(x, 0), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return x.relu()
