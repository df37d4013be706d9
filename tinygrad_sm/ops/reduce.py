"""Reductions and scans: sums (and means, a scaled sum), maxima and products over some axes,
and the running sums and products along one axis.

The reductions' backward rules share one step: the output's gradient lacks the reduced axes,
so it is reshaped as if ``keepdims=True`` and then broadcast back over them (``_as_kept``).
``var``, ``std`` and ``norm`` are built from these in ``Tensor`` (two passes: the mean, then
the squares of the differences from it).
"""
from __future__ import annotations

from ..function import Function, is_grad_enabled
from ..backend import array_module_of as _xp
from ..backend import reduce_max, reduce_sum
from .elementwise import Where


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


class Prod(Function):
    """y = the product of x over ``axis``;  dy/dx_i = the product of the other elements
    (of x_i's group): y / x_i when no element is 0.

    With zeros, y / x_i would divide by 0, so the products of the others are made without
    division, as (the product of those before x_i) * (the product of those after it), two
    running products: at a single 0 that is the product of the rest, and with two or more
    zeros it is 0 for every element. Both are exact, and differentiable again.
    """

    saves_inputs = saves_output = True

    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.has_zero = bool((x == 0).any())
        return _xp(x).prod(x, axis=self.axis, keepdims=self.keepdims)

    def backward(self, g):
        x = self.inputs[0]
        g = _as_kept(g, x.shape, self.axis, self.keepdims)
        if not self.has_zero:
            return (g * _as_kept(self.output(), x.shape, self.axis, self.keepdims) / x,)
        return (g * _products_of_others(x, self.axis),)


def _products_of_others(x, axis):
    """For each element of x, the product of the other elements of its group along ``axis``
    (a tuple, or None for all), without dividing: the reduced axes are moved to the end and
    flattened into one, where the running products from the left and from the right, each
    leaving the element itself out, are multiplied."""
    axes = tuple(range(x.ndim)) if axis is None else axis
    order = [i for i in range(x.ndim) if i not in axes] + list(axes)
    moved = x.permute(order) if order != list(range(x.ndim)) else x
    lead = moved.shape[:x.ndim - len(axes)]
    flat = moved.reshape(lead + (-1,))
    before = _exclusive_cumprod(flat)
    after = _exclusive_cumprod(flat[..., ::-1])[..., ::-1]
    others = (before * after).reshape(moved.shape)
    if moved is x:
        return others
    return others.permute([order.index(i) for i in range(x.ndim)])


def _exclusive_cumprod(t):
    """The running product along the last axis that leaves each element out:
    (1, t0, t0 t1, ...), the running product of t shifted one place right, with 1 first."""
    n = t.shape[-1]
    xp = _xp(t._array)
    shifted = t[..., xp.maximum(xp.arange(n) - 1, 0)]  # (t0, t0, t1, ..., t_{n-2})
    first = xp.arange(n) == 0
    one = t._constant(xp.ones((), t.dtype))
    return Cumprod(t.ndim - 1)(Where(first)(one, shifted))


class Cumsum(Function):
    """y_i = x_0 + ... + x_i along ``axis`` (``reverse=True``: y_i = x_i + ... + x_n-1);
    dy/dx is the running sum of the gradient taken the other way: dL/dx_k = sum of g_i over
    i >= k, a reversed running sum (and the other way round for ``reverse``)."""

    saves_inputs = saves_output = False

    def __init__(self, axis: int, reverse: bool = False):
        self.axis, self.reverse = axis, reverse

    def forward(self, x):
        xp = _xp(x)
        if self.reverse:
            return xp.flip(xp.cumsum(xp.flip(x, self.axis), self.axis), self.axis)
        return xp.cumsum(x, self.axis)

    def backward(self, g):
        return (Cumsum(self.axis, not self.reverse)(g),)


class Cumprod(Function):
    """y_i = x_0 * ... * x_i along ``axis``;  dL/dx_k = sum over i >= k of g_i * (the product
    of x_0..x_i without x_k).

    With no zeros that is (the reversed running sum of g * y)_k / x_k. With zeros the division
    fails, and only the elements up to the first 0 of a row have a gradient: before it the
    formula above holds (the later terms are 0 on both sides), at it the products leave that
    0 out, and after it every product contains it. When the gradient is to be differentiated
    again (``create_graph=True``), the products without x_k are made for every k explicitly,
    n running products of length n, as PyTorch does.
    """

    def __init__(self, axis: int):
        self.axis = axis

    def forward(self, x):
        self.has_zero = bool((x == 0).any())
        return _xp(x).cumprod(x, self.axis)

    def backward(self, g):
        x, y = self.inputs[0], self.output()
        if not self.has_zero:
            return (Cumsum(self.axis, reverse=True)(g * y) / x,)
        if is_grad_enabled():
            return (_cumprod_grad_differentiable(x, g, self.axis),)
        return (g._constant(_cumprod_grad_with_zeros(x._array, y._array, g._array, self.axis)),)


def _cumprod_grad_with_zeros(x, y, g, axis):
    """Cumprod's gradient for an x with zeros, on arrays (see ``Cumprod``): O(n) per row."""
    xp = _xp(x)
    x, y, g = (xp.moveaxis(a, axis, -1) for a in (x, y, xp.broadcast_to(g, y.shape)))
    n = x.shape[-1]
    position = xp.arange(n)
    is_zero = x == 0
    first_zero = xp.where(is_zero.any(-1), is_zero.argmax(-1), n)[..., None]
    before, at = position < first_zero, position == first_zero

    def reversed_cumsum(a):
        return xp.flip(xp.cumsum(xp.flip(a, -1), -1), -1)

    # before the first zero: sum_{i >= k} g_i y_i / x_k, where x_k is not 0
    grad = xp.where(before, reversed_cumsum(g * y) / xp.where(before, x, 1), 0)
    # at it: sum_{i >= z} g_i * (the running product with x_z taken as 1)
    without_zero = xp.cumprod(xp.where(at, 1, x), -1)
    grad = grad + xp.where(at, reversed_cumsum(g * without_zero), 0)
    return xp.moveaxis(grad.astype(x.dtype, copy=False), -1, axis)


def _cumprod_grad_differentiable(x, g, axis):
    """Cumprod's gradient with Tensor ops, for create_graph: for each k, the running product
    of x with x_k replaced by 1 (an extra leading axis of length n holds the n of them),
    times g, summed over i >= k."""
    nd = x.ndim
    order = [i for i in range(nd) if i != axis] + [axis]
    inverse = [order.index(i) for i in range(nd)]
    moved = x.permute(order)  # (..., n)
    g = g.broadcast_to(x.shape).permute(order)
    n = moved.shape[-1]
    xp = _xp(x._array)
    k = xp.arange(n).reshape((n,) + (1,) * nd)  # the new leading axis, against the last
    i = xp.arange(n).reshape((1,) * nd + (n,))
    one = x._constant(xp.ones((), x.dtype))
    zero = x._constant(xp.zeros((), x.dtype))
    without_k = Where(i == k)(one, moved.reshape((1,) + moved.shape))  # (n, ..., n)
    terms = Where(i >= k)(Cumprod(nd)(without_k) * g.reshape((1,) + g.shape), zero)
    grad = terms.sum(nd)  # (n, ...): k first
    grad = grad.permute(list(range(1, nd)) + [0])  # (..., n)
    return grad.permute(inverse)
