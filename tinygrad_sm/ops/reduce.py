"""Reductions: sums (and means, a scaled sum) and maxima over some axes.

Their backward rules share one step: the output's gradient lacks the reduced axes, so it is
reshaped as if ``keepdims=True`` and then broadcast back over them (``_as_kept``).
"""
from __future__ import annotations

from ..function import Function
from ..backend import reduce_max, reduce_sum


def _reduced_shape(shape: tuple[int, ...], axis: tuple[int, ...] | None) -> tuple[int, ...]:
    """The shape of a reduction with keepdims=False: reduced axes are gone."""
    if axis is None:
        return ()
    return tuple(n for i, n in enumerate(shape) if i not in axis)


def _as_kept(g, shape, axis, keepdims):
    """The gradient of a reduction over ``axis``, shaped as if keepdims=True so that it
    broadcasts back over the input's ``shape`` (a 0-d one, from axis=None, already does)."""
    if keepdims or axis is None:
        return g
    return g.reshape(tuple(1 if i in axis else n for i, n in enumerate(shape)))


class Sum(Function):
    """y = scale * (sum of x over ``axis``): scale is 1 for ``sum`` and 1/n for ``mean``;
    each x gets scale times the gradient of the sum it went into."""

    saves_inputs = saves_output = False

    def __init__(self, axis, keepdims, scale=1.0):
        self.axis, self.keepdims, self.scale = axis, keepdims, scale

    def forward(self, x):
        return reduce_sum(x, self.axis, self.keepdims, self.scale)

    def backward(self, g):
        x = self.inputs[0]
        g = _as_kept(g, x.shape, self.axis, self.keepdims)
        if self.scale != 1.0:
            g = g * self.scale
        return (g.broadcast_to(x.shape),)


class Max(Function):
    """y = max of x over ``axis``;  the gradient goes to the maximal entries, split evenly
    between ties (``Tensor.min`` is this op on -x)."""

    saves_inputs = saves_output = False  # the winners are kept as an array

    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        out = reduce_max(x, self.axis, True)
        winners = (x == out).astype(x.dtype)
        self.share = winners / reduce_sum(winners, self.axis, True)
        return out if self.keepdims else out.reshape(_reduced_shape(x.shape, self.axis))

    def backward(self, g):
        x = self.inputs[0]
        return (_as_kept(g, x.shape, self.axis, self.keepdims) * x._constant(self.share),)
