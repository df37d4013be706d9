"""Elementwise ops: the arithmetic operators and the functions applied to each element.

Binary ops (``Add``, ``Mul``, ...) take two inputs of shapes that broadcast together; each
returns the gradient in the output's shape, and the engine sums it down to each input's shape.
"""
from __future__ import annotations

from ..function import Function
from ..backend import array_module_of as _xp
from ..backend import copy_array


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


class Clone(Function):
    """y = a copy of x in new memory;  dy/dx = 1."""

    saves_inputs = saves_output = False

    def forward(self, x):
        return copy_array(x)

    def backward(self, g):
        return (g,)
