"""Ops that change only the shape: reshape, transpose, broadcast.

A reshape or a transpose gives a view of its input's memory where NumPy can: ``is_view`` then
tells the engine that a write to one is a write to both.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..backend import array_module_of as _xp


class Reshape(Function):
    """y = x with a new shape;  the gradient is reshaped back."""

    saves_inputs = saves_output = False

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        out = x.reshape(self.shape)
        self.is_view = _shares_memory(out, x)  # a reshape copies when the layout demands it
        return out

    def backward(self, g):
        return (g.reshape(self.inputs[0].shape),)


class Transpose(Function):
    """y = x with its axes permuted;  the gradient is permuted back by the inverse permutation."""

    saves_inputs = saves_output = False
    is_view = True

    def __init__(self, axes):
        self.axes = axes

    def forward(self, x):
        return x.transpose(self.axes)

    def backward(self, g):
        return (g.transpose(tuple(np.argsort(self.axes))),)


class BroadcastTo(Function):
    """y = x repeated along broadcast axes;  the gradient sums over them (``sum_to``)."""

    saves_inputs = saves_output = False

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        # A filled copy rather than numpy.broadcast_to's read-only view: for the small arrays of
        # a training step, the copy is quicker than broadcast_to's Python-level wrapper.
        out = _xp(x).empty(self.shape, dtype=x.dtype)
        out[...] = x
        return out

    def backward(self, g):
        return (g.sum_to(self.inputs[0].shape),)


def _shares_memory(out: Any, x: Any) -> bool:
    """True when ``out`` is a view of ``x``'s memory (NumPy and CuPy set ``base`` on views)."""
    base = out.base
    return base is not None and (base is x or base is x.base)
