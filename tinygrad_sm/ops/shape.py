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
        return (g.permute(tuple(np.argsort(self.axes))),)


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


# ---------------------------------------------------------------------------------------------
# Joining, reordering and padding. Splitting needs no op of its own: each piece is a slice,
# ``GetItem``, a view of the input.
# ---------------------------------------------------------------------------------------------

class Cat(Function):
    """y = [x1, x2, ...] joined along ``axis``;  dxi = the slice of g where xi sits."""

    saves_inputs = saves_output = False

    def __init__(self, axis: int):
        self.axis = axis

    def forward(self, *xs):
        self.sizes = [x.shape[self.axis] for x in xs]
        return _xp(xs[0]).concatenate(xs, axis=self.axis)

    def backward(self, g):
        lead = (slice(None),) * self.axis
        grads, start = [], 0
        for size, need in zip(self.sizes, self.needs_input_grad):
            grads.append(g[lead + (slice(start, start + size),)] if need else None)
            start += size
        return tuple(grads)


class Flip(Function):
    """y = x with the order of its elements reversed along ``axes``;  dx = g flipped the same
    way (a flip is its own inverse). A view: NumPy and CuPy flip by striding backwards."""

    saves_inputs = saves_output = False

    def __init__(self, axes: tuple[int, ...]):
        self.axes = axes

    def forward(self, x):
        out = x[tuple(slice(None, None, -1) if i in self.axes else slice(None)
                      for i in range(x.ndim))]
        self.is_view = _shares_memory(out, x)
        return out

    def backward(self, g):
        return (Flip(self.axes)(g),)


class Roll(Function):
    """y = x shifted cyclically by ``shifts`` along ``axes`` (all elements, flattened, if None):
    what falls off one end comes back at the other;  dx = g rolled back by ``-shifts``."""

    saves_inputs = saves_output = False

    def __init__(self, shifts: int | tuple[int, ...], axes: int | tuple[int, ...] | None):
        self.shifts, self.axes = shifts, axes

    def forward(self, x):
        return _xp(x).roll(x, self.shifts, self.axes)

    def backward(self, g):
        back = tuple(-s for s in self.shifts) if isinstance(self.shifts, tuple) else -self.shifts
        return (Roll(back, self.axes)(g),)


class Pad(Function):
    """y = x with ``value`` added around it: ``widths[i] = (before, after)`` elements on each
    side of axis i;  dx = the middle of g, where x sits (the padding depends on no input)."""

    saves_inputs = saves_output = False

    def __init__(self, widths: tuple[tuple[int, int], ...], value: Any):
        self.widths, self.value = widths, value

    def forward(self, x):
        shape = tuple(n + before + after for n, (before, after) in zip(x.shape, self.widths))
        out = _xp(x).full(shape, self.value, dtype=x.dtype)
        out[self._middle(x.shape)] = x
        return out

    def backward(self, g):
        return (g[self._middle(self.inputs[0].shape)],)

    def _middle(self, shape: tuple[int, ...]) -> tuple[slice, ...]:
        return tuple(slice(before, before + n) for n, (before, _) in zip(shape, self.widths))


def pad_index(n: int, before: int, after: int, mode: str) -> np.ndarray:
    """For the non-constant modes of ``pad``: which element of an axis of length ``n`` each of
    the ``before + n + after`` positions of the padded axis copies, as NumPy's ``pad`` does.

    ``edge`` repeats the end elements; ``wrap`` continues periodically (period n);
    ``reflect`` mirrors about the end elements (period 2(n - 1): 0 1 2 | 1 0 1 2 1 ...) and
    ``symmetric`` mirrors about the ends themselves, repeating them (period 2n: 0 1 2 | 2 1 0 ...).
    Padding by an index turns the gradient into a scatter-add: an element copied k times gets
    the sum of k gradients.
    """
    p = np.arange(-before, n + after)
    if mode == "edge" or (mode == "reflect" and n == 1):
        return np.clip(p, 0, n - 1)
    if mode == "wrap":
        return p % n
    if mode == "reflect":
        m = p % (2 * (n - 1))
        return np.where(m < n, m, 2 * (n - 1) - m)
    m = p % (2 * n)  # symmetric
    return np.where(m < n, m, 2 * n - 1 - m)


# ---------------------------------------------------------------------------------------------
# Matrix views: the diagonal and the triangles.
# ---------------------------------------------------------------------------------------------

class Diagonal(Function):
    """y[..., i] = x[..., i, i + offset] over the axes (axis1, axis2), which are removed and
    replaced by one last axis (the diagonal);  dx = zeros with g on that diagonal (DiagEmbed).

    A view: NumPy's is read-only (writing into it raises), CuPy's is writable.
    """

    saves_inputs = saves_output = False

    def __init__(self, offset: int, axis1: int, axis2: int):
        self.offset, self.axis1, self.axis2 = offset, axis1, axis2

    def forward(self, x):
        out = _xp(x).diagonal(x, self.offset, self.axis1, self.axis2)
        self.is_view = _shares_memory(out, x)
        return out

    def backward(self, g):
        shape = self.inputs[0].shape
        return (DiagEmbed(shape, self.offset, self.axis1, self.axis2)(g),)


class DiagEmbed(Function):
    """y = zeros(shape) with d on its diagonal over the axes (axis1, axis2): the adjoint of
    ``Diagonal``, so ``Diagonal(...)(y)`` gives d back;  dd = the diagonal of g."""

    saves_inputs = saves_output = False

    def __init__(self, shape: tuple[int, ...], offset: int, axis1: int, axis2: int):
        self.shape, self.offset, self.axis1, self.axis2 = shape, offset, axis1, axis2

    def forward(self, d):
        xp = _xp(d)
        out = xp.zeros(self.shape, dtype=d.dtype)
        # The diagonal's element i sits at (i + rows, i + cols) in the (axis1, axis2) plane.
        i = xp.arange(d.shape[-1])
        rows, cols = max(-self.offset, 0), max(self.offset, 0)
        plane_last = xp.moveaxis(out, (self.axis1, self.axis2), (-2, -1))  # a writable view
        plane_last[..., i + rows, i + cols] = d
        return out

    def backward(self, g):
        return (Diagonal(self.offset, self.axis1, self.axis2)(g),)


def diagonal_length(n1: int, n2: int, offset: int) -> int:
    """The number of elements on diagonal ``offset`` of an n1-by-n2 matrix."""
    return max(0, min(n1 - max(-offset, 0), n2 - max(offset, 0)))


class Tri(Function):
    """triu and tril over the last two axes: y[..., i, j] = x[..., i, j] where j - i >= k
    (``upper``) or j - i <= k (lower), else 0;  dx = g with the same zeros (a projection is
    its own adjoint). Selected with ``where``, not multiplied by a mask: inf * 0 would be nan."""

    saves_inputs = saves_output = False

    def __init__(self, k: int, upper: bool):
        self.k, self.upper = k, upper

    def forward(self, x):
        xp = _xp(x)
        n, m = x.shape[-2:]
        # tri(n, m, k) is True where j - i <= k.
        keep = xp.tri(n, m, self.k - 1 if self.upper else self.k, dtype=bool)
        if self.upper:
            keep = ~keep
        return xp.where(keep, x, xp.zeros((), dtype=x.dtype))

    def backward(self, g):
        return (Tri(self.k, self.upper)(g),)
