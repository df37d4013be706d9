"""Elementwise ops: the arithmetic operators and the functions applied to each element.

Binary ops (``Add``, ``Mul``, ...) take two inputs of shapes that broadcast together; each
returns the gradient in the output's shape, and the engine sums it down to each input's shape.
"""
from __future__ import annotations

import math

import numpy as np

from ..backend import array_module_of as _xp
from ..backend import copy_array, erf
from ..function import Function, is_grad_enabled


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
            # (x ** 2) is stepped down on the array, recording nothing; a nonzero number
            # (the usual x ** 2) cannot meet that case, and needs no mask.
            if not need_b and isinstance(b._array, np.generic) and b._array != 0:
                b_minus_1 = b._constant(b._array - 1)
            else:
                step = ((a._array != 0) | (b._array != 0)).astype(b.dtype)
                b_minus_1 = b - b._constant(step) if need_b else b._constant(b._array - step)
            ga = g * (a ** b_minus_1 * b)
        if need_b:
            # a**b * log(a), with log taken of 1 (giving 0) where a = 0 and b >= 0.
            at_zero = ((a._array == 0) & (b._array >= 0)).astype(a.dtype)
            gb = g * self.output() * (a + a._constant(at_zero)).log()
        return ga, gb


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
        return sigmoid_array(x)

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


class Clone(Function):
    """y = a copy of x in new memory;  dy/dx = 1."""

    saves_inputs = saves_output = False

    def forward(self, x):
        return copy_array(x)

    def backward(self, g):
        return (g,)


def _xp2(a, b):
    """The array module of a binary op: b's where a is a NumPy scalar, which is how a number
    meets a GPU tensor (``where(c, 0.0, x)``, ``2 % x``)."""
    return _xp(b) if isinstance(a, np.generic) else _xp(a)


# ---------------------------------------------------------------------------------------------
# Selecting and clamping. Their backward rules route the gradient with ``where`` rather than
# multiplying it by a 0/1 mask, so that an inf or NaN gradient arriving for an element never
# reaches the input that element did not come from (inf * 0 would be NaN there).
# ---------------------------------------------------------------------------------------------

def _routed(g, mask, share=None):
    """g where ``mask`` (a bool array) holds, exactly 0 elsewhere; times ``share`` if given."""
    zero = g._constant(_xp(g._array).zeros((), g.dtype))
    if share is not None:
        g = g * g._constant(share)
    return Where(mask)(g, zero)


class Where(Function):
    """z = a where cond, else b (cond: a bool array, fixed; all three broadcast together);
    dz/da = 1 where cond, else 0;  dz/db = the other way round.

    The gradient of the branch not taken is exactly 0, routed by ``where`` itself, so that an
    inf or NaN gradient of an element reaches only the branch it came from.
    """

    saves_inputs = saves_output = False  # the condition is kept as an array

    def __init__(self, cond):
        self.cond = cond

    def forward(self, a, b):
        return _xp2(a, b).where(self.cond, a, b)

    def backward(self, g):
        zero = g._constant(_xp(g._array).zeros((), g.dtype))
        need_a, need_b = self.needs_input_grad
        return (Where(self.cond)(g, zero) if need_a else None,
                Where(self.cond)(zero, g) if need_b else None)


class Maximum(Function):
    """z = max(a, b) elementwise;  dz/da = 1 where a > b, 1/2 where a = b, else 0 (dz/db the
    other way round): a tie splits the gradient evenly, as ``Max`` does, and as PyTorch does."""

    saves_inputs = saves_output = False  # the routes are kept as arrays

    def forward(self, a, b):
        out = _xp2(a, b).maximum(a, b)
        self.routes = _routes(a >= b, b >= a, out)
        return out

    def backward(self, g):
        return _route_pair(g, self.routes, self.needs_input_grad)


class Minimum(Function):
    """z = min(a, b) elementwise;  dz/da = 1 where a < b, 1/2 where a = b, else 0 (dz/db the
    other way round), ties split evenly as in ``Maximum``."""

    saves_inputs = saves_output = False

    def forward(self, a, b):
        out = _xp2(a, b).minimum(a, b)
        self.routes = _routes(a <= b, b <= a, out)
        return out

    def backward(self, g):
        return _route_pair(g, self.routes, self.needs_input_grad)


def _routes(a_takes, b_takes, out):
    """Where the output's gradient goes to a and where to b, in the output's shape, and the
    share each takes: 1, or 1/2 where both do (a tie)."""
    xp = _xp(out)
    a_takes = xp.broadcast_to(a_takes, out.shape)
    b_takes = xp.broadcast_to(b_takes, out.shape)
    # 1/2 where both take it, else 1. Always made, rather than only where a tie is found:
    # looking would be a read of the values (a GPU synchronisation, and a branch that a jitted
    # step would freeze), and multiplying by 1 changes nothing.
    share = (1 - 0.5 * (a_takes & b_takes)).astype(out.dtype)
    return a_takes, b_takes, share


def _route_pair(g, routes, needs_input_grad):
    a_takes, b_takes, share = routes
    need_a, need_b = needs_input_grad
    return (_routed(g, a_takes, share) if need_a else None,
            _routed(g, b_takes, share) if need_b else None)


class Clamp(Function):
    """y = min(max(x, lo), hi), with either bound left out (``clamp``/``clip``, ``hardtanh``);
    when lo > hi every element is hi, as in PyTorch and NumPy.

    dy/dx = 1 where lo <= x <= hi, else 0: PyTorch's clamp, whose bounds count as inside.
    ``hardtanh`` (``inclusive=False``) takes only lo < x < hi, as PyTorch's hardtanh does.
    Bounds that are tensors get the rest, by PyTorch's rules: dy/dlo = 1 where x < lo < hi
    (or x < lo, without hi), dy/dhi = 1 where x > hi or hi < lo (or x > hi, without lo).
    The inputs are x, then lo if given, then hi if given.
    """

    saves_output = False  # the masks are made from the inputs in backward

    def __init__(self, has_min: bool, has_max: bool, inclusive: bool = True):
        self.has_min, self.has_max, self.inclusive = has_min, has_max, inclusive

    def forward(self, x, *bounds):
        xp = _xp(x)
        if self.has_min:
            x = xp.maximum(x, bounds[0])
        if self.has_max:
            x = xp.minimum(x, bounds[-1])
        return x

    def backward(self, g):
        x, *bounds = [t._array for t in self.inputs]
        lo = bounds[0] if self.has_min else None
        hi = bounds[-1] if self.has_max else None
        grads = []
        if self.needs_input_grad[0]:
            inside = True
            if lo is not None:
                inside = (x >= lo) if self.inclusive else (x > lo)
            if hi is not None:
                inside = inside & ((x <= hi) if self.inclusive else (x < hi))
            grads.append(_routed(g, inside))
        else:
            grads.append(None)
        if lo is not None:
            below = (x < lo) & (lo < hi) if hi is not None else (x < lo)
            grads.append(_routed(g, below) if self.needs_input_grad[1] else None)
        if hi is not None:
            above = (x > hi) | (hi < lo) if lo is not None else (x > hi)
            grads.append(_routed(g, above) if self.needs_input_grad[-1] else None)
        return tuple(grads)


class Step(Function):
    """y = sign(x), floor(x), ceil(x), round(x) or trunc(x): flat between jumps, so
    dy/dx = 0 (at a jump there is no derivative; 0 there too, as in PyTorch).

    ``round`` rounds halves to even (0.5 -> 0, 1.5 -> 2, 2.5 -> 2), as NumPy and PyTorch do,
    with ``decimals`` digits after the point.
    """

    saves_inputs = saves_output = False

    def __init__(self, how: str, decimals: int = 0):
        self.how, self.decimals = how, decimals

    def forward(self, x):
        if self.how == "round":
            return x.round(self.decimals)
        return getattr(_xp(x), self.how)(x)

    def backward(self, g):
        return (g._constant(_xp(g._array).zeros(g.shape, g.dtype)),)


class Remainder(Function):
    """z = a mod b with the sign of b (Python's ``%``, NumPy's ``remainder``, PyTorch's
    ``remainder``): z = a - b * floor(a / b);  dz/da = 1, dz/db = -floor(a / b)."""

    saves_inputs = saves_output = False  # the quotients are kept as an array

    def forward(self, a, b):
        self.quotient, out = _xp2(a, b).divmod(a, b)  # floor(a / b) and the remainder, together
        return out

    def backward(self, g):
        need_a, need_b = self.needs_input_grad
        return (g if need_a else None,
                -g * g._constant(self.quotient) if need_b else None)


class Fmod(Function):
    """z = a mod b with the sign of a (C's ``fmod``): z = a - b * trunc(a / b);
    dz/da = 1, dz/db = -trunc(a / b)."""

    saves_output = False

    def forward(self, a, b):
        return _xp2(a, b).fmod(a, b)

    def backward(self, g):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        quotient = _xp2(a._array, b._array).trunc(a._array / b._array) if need_b else None
        return (g if need_a else None,
                -g * g._constant(quotient) if need_b else None)


# ---------------------------------------------------------------------------------------------
# Functions of one variable: logarithms and exponentials, trigonometry, and the activations.
# ---------------------------------------------------------------------------------------------

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


class Reciprocal(Function):
    """y = 1 / x;  dy/dx = -1 / x**2 = -y**2."""

    saves_inputs = False

    def forward(self, x):
        return 1 / x

    def backward(self, g):
        y = self.output()
        return (-g * y * y,)


class Log1p(Function):
    """y = ln(1 + x), exact for tiny x (where 1 + x would round to 1);  dy/dx = 1 / (1 + x)."""

    saves_output = False

    def forward(self, x):
        return _xp(x).log1p(x)

    def backward(self, g):
        return (g / (self.inputs[0] + 1),)


class Expm1(Function):
    """y = e**x - 1, exact for tiny x;  dy/dx = e**x = y + 1."""

    saves_inputs = False

    def forward(self, x):
        return _xp(x).expm1(x)

    def backward(self, g):
        return (g * (self.output() + 1),)


class Log2(Function):
    """y = log2 x;  dy/dx = 1 / (x ln 2)."""

    saves_output = False

    def forward(self, x):
        return _xp(x).log2(x)

    def backward(self, g):
        return (g / (self.inputs[0] * _LN2),)


class Log10(Function):
    """y = log10 x;  dy/dx = 1 / (x ln 10)."""

    saves_output = False

    def forward(self, x):
        return _xp(x).log10(x)

    def backward(self, g):
        return (g / (self.inputs[0] * _LN10),)


class Sin(Function):
    """y = sin x;  dy/dx = cos x."""

    saves_output = False

    def forward(self, x):
        return _xp(x).sin(x)

    def backward(self, g):
        return (g * self.inputs[0].cos(),)


class Cos(Function):
    """y = cos x;  dy/dx = -sin x."""

    saves_output = False

    def forward(self, x):
        return _xp(x).cos(x)

    def backward(self, g):
        return (-g * self.inputs[0].sin(),)


class Tan(Function):
    """y = tan x;  dy/dx = 1 / cos(x)**2 = 1 + y**2."""

    saves_inputs = False

    def forward(self, x):
        return _xp(x).tan(x)

    def backward(self, g):
        y = self.output()
        return (g * (y * y + 1),)


class Arcsin(Function):
    """y = arcsin x, for -1 <= x <= 1;  dy/dx = 1 / sqrt(1 - x**2)."""

    saves_output = False

    def forward(self, x):
        return _xp(x).arcsin(x)

    def backward(self, g):
        x = self.inputs[0]
        return (g / (1 - x * x).sqrt(),)


class Arccos(Function):
    """y = arccos x, for -1 <= x <= 1;  dy/dx = -1 / sqrt(1 - x**2)."""

    saves_output = False

    def forward(self, x):
        return _xp(x).arccos(x)

    def backward(self, g):
        x = self.inputs[0]
        return (-g / (1 - x * x).sqrt(),)


class Arctan(Function):
    """y = arctan x;  dy/dx = 1 / (1 + x**2)."""

    saves_output = False

    def forward(self, x):
        return _xp(x).arctan(x)

    def backward(self, g):
        x = self.inputs[0]
        return (g / (x * x + 1),)


class Arctan2(Function):
    """z = arctan2(a, b), the angle of the point (b, a) (a is the y coordinate, as in NumPy
    and PyTorch);  dz/da = b / (a**2 + b**2), dz/db = -a / (a**2 + b**2)."""

    saves_output = False

    def forward(self, a, b):
        return _xp2(a, b).arctan2(a, b)

    def backward(self, g):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        g_over_r2 = g / (a * a + b * b)
        return (g_over_r2 * b if need_a else None, -g_over_r2 * a if need_b else None)


class Sinh(Function):
    """y = sinh x;  dy/dx = cosh x."""

    saves_output = False

    def forward(self, x):
        return _xp(x).sinh(x)

    def backward(self, g):
        return (g * self.inputs[0].cosh(),)


class Cosh(Function):
    """y = cosh x;  dy/dx = sinh x."""

    saves_output = False

    def forward(self, x):
        return _xp(x).cosh(x)

    def backward(self, g):
        return (g * self.inputs[0].sinh(),)


class Erf(Function):
    """y = erf x = 2/sqrt(pi) * (the integral of e**(-t**2) from 0 to x);
    dy/dx = 2/sqrt(pi) * e**(-x**2). (``backend.erf`` says how it is computed.)"""

    saves_output = False

    def forward(self, x):
        return erf(x)

    def backward(self, g):
        x = self.inputs[0]
        return (g * (x * x * -1.0).exp() * _TWO_OVER_SQRT_PI,)


_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


class SqrtFlatAtZero(Function):
    """y = sqrt(x) for x >= 0;  dy/dx = 1 / (2y), except 0 at x = 0 where that is infinite.

    The square root of a sum of squares (``std``, the 2-norm) then has gradient 0 at its
    minimum, where every square is 0, as PyTorch's ``std`` and ``norm`` do, instead of
    0 * inf = NaN.
    """

    saves_inputs = False

    def forward(self, x):
        return _xp(x).sqrt(x)

    def backward(self, g):
        y = self.output()
        zero = y._array == 0
        one = y._constant(_xp(zero).ones((), y.dtype))
        y_or_1 = Where(zero)(one, y)  # a finite slope to compute where it is not used
        return (_routed(g / (y_or_1 * 2), ~zero),)


def sigmoid_array(x):
    """1 / (1 + e**-x) without overflow: as e**x / (1 + e**x) for x < 0."""
    xp = _xp(x)
    e = xp.exp(-abs(x))  # in (0, 1]: no overflow on either side
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


class Softplus(Function):
    """y = ln(1 + e**(beta x)) / beta, and y = x where beta x > threshold, as in PyTorch
    (there the two differ by less than e**-threshold / beta);  dy/dx = sigmoid(beta x),
    and 1 above the threshold.

    Computed as (max(beta x, 0) + ln(1 + e**-|beta x|)) / beta, which never overflows.
    """

    saves_output = False

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        xp = _xp(x)
        bx = x * self.beta if self.beta != 1 else x
        soft = xp.maximum(bx, 0) + xp.log1p(xp.exp(-abs(bx)))
        if self.beta != 1:
            soft = soft / self.beta
        return xp.where(bx > self.threshold, x, soft).astype(x.dtype, copy=False)

    def backward(self, g):
        x = self.inputs[0]
        bx = x * self.beta if self.beta != 1 else x
        return (Where(bx._array > self.threshold)(g, g * bx.sigmoid()),)


class LeakyReLU(Function):
    """y = x where x > 0, else slope * x;  dy/dx = 1 where x > 0, else slope (at 0 too, as
    in PyTorch)."""

    saves_inputs = saves_output = False  # the slopes are kept as an array

    def __init__(self, negative_slope: float = 0.01):
        self.negative_slope = negative_slope

    def forward(self, x):
        self.slopes = _xp(x).where(x > 0, 1.0, self.negative_slope).astype(x.dtype)
        return x * self.slopes

    def backward(self, g):
        return (g * g._constant(self.slopes),)


class ELU(Function):
    """y = x where x > 0, else alpha (e**x - 1);  dy/dx = 1 where x > 0, else alpha e**x,
    which is y + alpha (alpha at 0, as in PyTorch)."""

    saves_inputs = False  # backward reads the output, and the mask kept as an array

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha

    def forward(self, x):
        xp = _xp(x)
        self.positive = x > 0
        # expm1 of min(x, 0): the branch not taken must not overflow either
        negative = self.alpha * xp.expm1(xp.minimum(x, 0))
        return xp.where(self.positive, x, negative).astype(x.dtype, copy=False)

    def backward(self, g):
        return (Where(self.positive)(g, g * (self.output() + self.alpha)),)


_GELU_TANH_SCALE = math.sqrt(2 / math.pi)
_GELU_TANH_CUBIC = 0.044715


class GELU(Function):
    """y = x * Phi(x), Phi the standard normal CDF, Phi(x) = (1 + erf(x / sqrt 2)) / 2;
    dy/dx = Phi(x) + x phi(x), phi(x) = e**(-x**2 / 2) / sqrt(2 pi) the normal density.

    ``approximate="tanh"`` is the older approximation Phi(x) ~ (1 + tanh(u)) / 2 with
    u = sqrt(2/pi) (x + 0.044715 x**3), whose derivative is
    (1 + t) / 2 + x (1 - t**2) sqrt(2/pi) (1 + 3 * 0.044715 x**2) / 2, t = tanh u.
    Both are PyTorch's formulas, so the values match it to rounding.

    Forward keeps Phi (or t) for backward: erf costs far more than the rest. Only when the
    gradient is to be differentiated again does backward recompute them as Tensor ops.
    """

    saves_output = False

    def __init__(self, approximate: str = "none"):
        self.approximate = approximate

    def forward(self, x):
        if self.approximate == "tanh":
            self.t = _xp(x).tanh(_GELU_TANH_SCALE * (x + _GELU_TANH_CUBIC * x * x * x))
            return (0.5 * x * (1 + self.t)).astype(x.dtype, copy=False)
        self.cdf = (0.5 * (1 + erf(x * math.sqrt(0.5)))).astype(x.dtype, copy=False)
        return x * self.cdf

    def backward(self, g):
        x = self.inputs[0]
        if not is_grad_enabled():  # first order: from the kept arrays
            a, xp = x._array, _xp(x._array)
            if self.approximate == "tanh":
                du = _GELU_TANH_SCALE * (1 + 3 * _GELU_TANH_CUBIC * a * a)
                slope = 0.5 * (1 + self.t) + 0.5 * a * (1 - self.t * self.t) * du
            else:
                slope = self.cdf + a * xp.exp(-0.5 * a * a) * (1 / math.sqrt(2 * math.pi))
            return (g * x._constant(slope.astype(a.dtype, copy=False)),)
        if self.approximate == "tanh":
            t = ((x + x * x * x * _GELU_TANH_CUBIC) * _GELU_TANH_SCALE).tanh()
            du = (x * x * (3 * _GELU_TANH_CUBIC) + 1) * _GELU_TANH_SCALE
            return (g * ((t + 1) * 0.5 + x * (1 - t * t) * du * 0.5),)
        cdf = (Erf()(x * math.sqrt(0.5)) + 1) * 0.5
        pdf = (x * x * -0.5).exp() * (1 / math.sqrt(2 * math.pi))
        return (g * (cdf + x * pdf),)


class SiLU(Function):
    """y = x sigmoid(x) (also called swish);  dy/dx = s (1 + x (1 - s)), s = sigmoid(x).
    Forward keeps s for a first-order backward."""

    saves_output = False

    def forward(self, x):
        self.s = sigmoid_array(x)
        return x * self.s

    def backward(self, g):
        x = self.inputs[0]
        if not is_grad_enabled():
            a, s = x._array, self.s
            return (g * x._constant(s * (1 + a * (1 - s))),)
        s = x.sigmoid()
        return (g * s * (x * (1 - s) + 1),)


class LogAddExp(Function):
    """z = ln(e**a + e**b), without overflow (NumPy's ``logaddexp``);
    dz/da = e**(a - z), dz/db = e**(b - z) (each at most 1: they are the two softmax weights)."""

    def forward(self, a, b):
        return _xp2(a, b).logaddexp(a, b)

    def backward(self, g):
        a, b = self.inputs
        z = self.output()
        need_a, need_b = self.needs_input_grad
        return (g * (a - z).exp() if need_a else None, g * (b - z).exp() if need_b else None)
