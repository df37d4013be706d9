"""The softmax family: logsumexp, softmax and log-softmax, exact and overflow-free.

Each starts from ``max_shifted_exp``: e**(x - max(x)), whose largest element is 1.
"""
from __future__ import annotations

import contextlib

import numpy as np

from ..function import Function
from ..backend import array_module_of as _xp
from ..backend import reduce_max, reduce_sum
from .reduce import _as_kept, _reduced_shape


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
    if finite_shift:  # no branch on the values: a jitted step replays this unchanged
        m = xp.where(xp.isfinite(m), m, 0).astype(x.dtype, copy=False)
    with _quiet(xp):  # inf - inf = NaN for a row holding +inf: the answer, as in PyTorch
        return xp.exp(x - m), m


def _quiet(xp):
    """A context in which the array module does not warn about inf and NaN arithmetic."""
    return xp.errstate(divide="ignore", invalid="ignore") if xp is np else contextlib.nullcontext()
