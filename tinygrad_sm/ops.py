"""Every differentiable op, one class each: the forward formula and its derivative side by side.

Read any one of them to see how autograd works. ``forward`` computes on raw arrays (NumPy or
CuPy: the methods used exist in both). ``backward`` gets ``g``, the gradient of the loss with
respect to the output, and returns the gradient with respect to each input by the chain rule,
written with Tensor ops so that it can itself be differentiated. Gradients come back in the
output's shape; the engine sums them down to each input's shape when broadcasting made them
differ (``Tensor.sum_to``).

The primitives are kept few. ``Tensor`` derives the rest from them: ``mean`` is a scaled
``Sum``, ``min`` is ``-max(-x)``, ``flatten`` is a ``reshape``, and 1-D ``@`` is a 2-D one with
reshapes around it.
"""
from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from .autograd import Function
from .backend import array_module_of as _xp
from .backend import copy_array, reduce_max, reduce_sum, scatter_add


# ----------------------------------------------------------------------- binary arithmetic

class Add(Function):
    """z = a + b;  dz/da = 1, dz/db = 1."""

    saves_inputs = saves_output = False

    def forward(self, a, b):
        return a + b

    def backward(self, g):
        return g, g


class Sub(Function):
    """z = a - b;  dz/da = 1, dz/db = -1."""

    saves_inputs = saves_output = False

    def forward(self, a, b):
        return a - b

    def backward(self, g):
        return g, (-g if self.needs_input_grad[1] else None)


class Mul(Function):
    """z = a * b;  dz/da = b, dz/db = a."""

    saves_output = False

    def forward(self, a, b):
        return a * b

    def backward(self, g):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (g * b if need_a else None), (g * a if need_b else None)


class Div(Function):
    """z = a / b;  dz/da = 1 / b, dz/db = -a / b**2."""

    saves_output = False

    def forward(self, a, b):
        return a / b

    def backward(self, g):
        a, b = self.inputs
        ga = g / b
        return ga, (-ga * a / b if self.needs_input_grad[1] else None)


class Pow(Function):
    """z = a ** b;  dz/da = b * a**(b-1), dz/db = a**b * log(a).

    At a base of 0 the formulas meet 0 * inf; the gradients there are PyTorch's: dz/da = 0
    where b = 0 (x**0 = 1 is flat), and dz/db = 0 where b >= 0 (a**b is 0 or 1 there).
    """

    def forward(self, a, b):
        return a ** b

    def backward(self, g):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        ga = gb = None
        if need_a:
            # b * a**(b-1), except where a = b = 0: there the exponent is not stepped down, so
            # that it gives 0 * 0**0 = 0 rather than 0 * 0**-1 = NaN. A constant exponent
            # (x ** 2) is stepped down on the array, recording nothing.
            step = ((a._array != 0) | (b._array != 0)).astype(b.dtype)
            b_minus_1 = b - b._constant(step) if need_b else b._constant(b._array - step)
            ga = g * (a ** b_minus_1 * b)
        if need_b:
            # a**b * log(a), with log taken of 1 (giving 0) where a = 0 and b >= 0.
            at_zero = ((a._array == 0) & (b._array >= 0)).astype(a.dtype)
            gb = g * self.output() * (a + a._constant(at_zero)).log()
        return ga, gb


class MatMul(Function):
    """Z = A @ B over the last two axes (earlier axes broadcast);  dA = G @ B^T, dB = A^T @ G."""

    saves_output = False

    def forward(self, a, b):
        return a @ b

    def backward(self, g):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (g @ b.mT if need_a else None), (a.mT @ g if need_b else None)


# ----------------------------------------------------------------------- elementwise

class Neg(Function):
    """y = -x;  dy/dx = -1."""

    saves_inputs = saves_output = False

    def forward(self, x):
        return -x

    def backward(self, g):
        return (-g,)


class Exp(Function):
    """y = e**x;  dy/dx = e**x = y."""

    saves_inputs = False

    def forward(self, x):
        return _xp(x).exp(x)

    def backward(self, g):
        return (g * self.output(),)


class Log(Function):
    """y = ln x;  dy/dx = 1 / x."""

    saves_output = False

    def forward(self, x):
        return _xp(x).log(x)

    def backward(self, g):
        return (g / self.inputs[0],)


class Sqrt(Function):
    """y = sqrt(x);  dy/dx = 1 / (2 sqrt(x)) = 1 / (2y)."""

    saves_inputs = False

    def forward(self, x):
        return _xp(x).sqrt(x)

    def backward(self, g):
        return (g / (self.output() * 2),)


class Abs(Function):
    """y = |x|;  dy/dx = sign(x) (0 at x = 0, as in PyTorch)."""

    saves_inputs = saves_output = False  # the signs are kept as an array

    def forward(self, x):
        self.sign = _xp(x).sign(x)
        return abs(x)

    def backward(self, g):
        return (g * self.inputs[0]._constant(self.sign),)


class ReLU(Function):
    """y = max(x, 0);  dy/dx = 1 where x > 0, else 0."""

    saves_inputs = saves_output = False  # the mask is kept as an array

    def forward(self, x):
        self.positive = (x > 0).astype(x.dtype)
        return x * self.positive

    def backward(self, g):
        return (g * self.inputs[0]._constant(self.positive),)


class Sigmoid(Function):
    """y = 1 / (1 + e**-x);  dy/dx = y (1 - y).

    Computed as e**x / (1 + e**x) for x < 0 so that e**-x never overflows.
    """

    saves_inputs = False

    def forward(self, x):
        xp = _xp(x)
        e = xp.exp(-abs(x))  # in (0, 1]: no overflow on either side
        return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)

    def backward(self, g):
        y = self.output()
        return (g * y * (1 - y),)


class Tanh(Function):
    """y = tanh x;  dy/dx = 1 - y**2."""

    saves_inputs = False

    def forward(self, x):
        return _xp(x).tanh(x)

    def backward(self, g):
        y = self.output()
        return (g * (1 - y * y),)


class Cast(Function):
    """y = x as another dtype;  the gradient is cast back to x's dtype."""

    saves_inputs = saves_output = False

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        return x.astype(self.dtype)

    def backward(self, g):
        return (g.astype(self.inputs[0].dtype),)


# ----------------------------------------------------------------------- reductions

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


# ----------------------------------------------------------------------- softmax family

class LogSumExp(Function):
    """y = log(sum(e**x)) over ``axis``, computed as m + log(sum(e**(x - m))) with m = max(x)
    so that nothing overflows;  dy/dx = e**(x - y) = softmax(x).

    The backward pass uses softmax(x) with the max shifted out rather than e**(x - y): y is
    rounded to x's precision, and at |x| ~ 1e4 in float32 that rounding (~5e-4) would be the
    error of every gradient entry. The forward pass has the shifted exponentials at hand, so it
    keeps their softmax for the backward pass (``Softmax(axis, known=...)``): recorded as a
    Softmax op of x, it can still be differentiated again.
    """

    saves_inputs = saves_output = False  # the softmax is kept as an array

    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        e, m = max_shifted_exp(x, self.axis, finite_shift=True)
        total = reduce_sum(e, self.axis, True)
        xp = _xp(x)
        with _quiet(xp):  # log(0) = -inf for a row of -inf, and inf / inf = NaN beside a +inf
            self.softmax = e / total
            out = m + xp.log(total)
        return out if self.keepdims else out.reshape(_reduced_shape(x.shape, self.axis))

    def backward(self, g):
        x = self.inputs[0]
        g = _as_kept(g, x.shape, self.axis, self.keepdims)
        return (g * Softmax(self.axis, known=self.softmax)(x),)


class Softmax(Function):
    """y = e**x / sum(e**x) along ``axis`` (an int, a tuple, or None for all), with the max
    subtracted first (exact, and no overflow);  dx = y * (g - sum(g * y)).

    ``known`` is y when the caller has computed it already: the op then only records itself.
    """

    saves_inputs = False

    def __init__(self, axis, known=None):
        self.axis, self.known = axis, known

    def forward(self, x):
        if self.known is not None:
            return self.known
        e, _ = max_shifted_exp(x, self.axis)
        return e / reduce_sum(e, self.axis, True)

    def backward(self, g):
        y = self.output()
        return (y * (g - (g * y).sum(self.axis, keepdims=True)),)


class LogSoftmax(Function):
    """y = x - logsumexp(x) along ``axis``;  dx = g - softmax(x) * sum(g), softmax(x) = e**y."""

    saves_inputs = False

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        return log_softmax_array(x, self.axis)

    def backward(self, g):
        y = self.output()
        return (g - y.exp() * g.sum(self.axis, keepdims=True),)


def log_softmax_array(x, axis):
    """x - logsumexp(x) along ``axis`` on a raw array: the max is shifted out first, so the
    exponentials never overflow and the result is exact (also used by the fused cross-entropy)."""
    e, m = max_shifted_exp(x, axis)
    xp = _xp(x)
    with _quiet(xp):  # log(0) = -inf where a whole row is -inf
        return (x - m) - xp.log(reduce_sum(e, axis, True))


def max_shifted_exp(x, axis, finite_shift=False):
    """(e**(x - m), m), with m the max of x along ``axis`` (kept as an axis of length 1): the
    largest exponent is e**0 = 1, so nothing overflows, and the shift cancels exactly in softmax
    and logsumexp. The softmax family starts here.

    An axis with no elements has m = -inf. ``finite_shift`` puts m = 0 where the max is not
    finite (a +inf, a row of -inf, or no elements): then logsumexp comes out as the exact
    +inf, -inf, -inf where x - m would be NaN. Softmax keeps the plain shift, and gives NaN
    for such rows, as PyTorch does.
    """
    xp = _xp(x)
    if x.size == 0:
        kept = [1 if axis is None or i == axis or (isinstance(axis, tuple) and i in axis) else n
                for i, n in enumerate(x.shape)]
        m = xp.full(tuple(kept), -np.inf, dtype=x.dtype)
    else:
        m = reduce_max(x, axis, True)
    if finite_shift:
        finite = xp.isfinite(m)
        if not finite.all():
            m = xp.where(finite, m, 0).astype(x.dtype)
    with _quiet(xp):  # inf - inf = NaN for a row holding +inf: the answer, as in PyTorch
        return xp.exp(x - m), m


def _quiet(xp):
    """A context in which the array module does not warn about inf and NaN arithmetic."""
    return xp.errstate(divide="ignore", invalid="ignore") if xp is np else contextlib.nullcontext()


# ----------------------------------------------------------------------- shape and indexing

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


class Clone(Function):
    """y = a copy of x in new memory;  dy/dx = 1."""

    saves_inputs = saves_output = False

    def forward(self, x):
        return copy_array(x)

    def backward(self, g):
        return (g,)


def _shares_memory(out: Any, x: Any) -> bool:
    """True when ``out`` is a view of ``x``'s memory (NumPy and CuPy set ``base`` on views)."""
    base = out.base
    return base is not None and (base is x or base is x.base)


def _is_basic_index(index: Any) -> bool:
    """True for indices made of ints, slices, None and Ellipsis only (no arrays, no masks)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) for p in parts)
