"""gradcheck and gradgradcheck themselves: they pass correct gradients, catch wrong ones, and say
which input, which element, and both values.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

import tinygrad_sm as tg
from tinygrad_sm import Function, gradcheck, gradgradcheck
from tinygrad_sm.gradcheck import GradcheckError


def leaf(values, dtype="float64"):
    return tg.tensor(values, dtype=dtype, requires_grad=True)


class WrongSquare(Function):
    """y = x**2 with a wrong backward: 3x instead of 2x."""

    def forward(self, x):
        return x * x

    def backward(self, g):
        return (g * 3 * self.inputs[0],)


class WrongSecondInput(Function):
    """z = a * b with the right gradient for a and a wrong one for b (it forgets g)."""

    def forward(self, a, b):
        return a * b

    def backward(self, g):
        a, b = self.inputs
        return g * b, a * 1.0


class SquareWithConstantBackward(Function):
    """y = x**2 whose backward is right (2x) but built from a constant copy of x, so it cannot
    be differentiated again: its second derivative comes out 0 instead of 2."""

    def forward(self, x):
        return x * x

    def backward(self, g):
        x = self.inputs[0]
        return (g * 2 * x._constant(x._array.copy()),)


def test_passes_a_correct_gradient():
    assert gradcheck(lambda x, w: (x @ w).tanh(), [leaf([[0.1, -0.4]]), leaf([[0.3], [0.7]])])
    assert gradgradcheck(lambda x: (x * x).exp().sum(), [leaf([0.2, -0.3])])


def test_failure_names_the_input_the_index_and_both_values():
    x = leaf([[1.0, -2.0], [0.5, 3.0]])
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: WrongSquare()(t).sum(), [x])
    message = str(info.value)
    # The output is weighted by a random w: analytic 3xw vs numeric 2xw, and the worst element
    # is the one with the largest |x|.
    found = re.fullmatch(r"gradcheck failed: input 0 \(shape \(2, 2\)\) at index \(1, 1\): "
                         r"analytic (\S+) vs numeric (\S+) \(difference .*, allowed .*\)", message)
    assert found, message
    analytic, numeric = float(found[1]), float(found[2])
    np.testing.assert_allclose(analytic / numeric, 1.5, rtol=1e-6)
    np.testing.assert_allclose(abs(numeric), 6 * abs(np.random.default_rng(0).standard_normal()),
                               rtol=1e-6)


def test_failure_names_the_right_input():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    with pytest.raises(GradcheckError, match=r"input 1 \(shape \(2,\)\) at index \(\d,\): "
                                             r"analytic .* vs numeric"):
        # weights != 1 make "forgets g" visible
        gradcheck(lambda s, t: WrongSecondInput()(s, t) * tg.tensor([2.0, -3.0], dtype="float64"),
                  [a, b])


def test_failure_without_raising():
    assert gradcheck(lambda t: WrongSquare()(t), [leaf([1.0])], raise_exception=False) is False


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable():
    x = leaf([0.5, -1.0])
    assert gradcheck(lambda t: SquareWithConstantBackward()(t), [x])  # first order is right
    with pytest.raises(GradcheckError, match="analytic 0 vs numeric"):
        gradgradcheck(lambda t: SquareWithConstantBackward()(t), [x])


def test_runs_in_float64_on_copies():
    """The check is done on float64 copies: the caller's float32 tensor is left as it was."""
    x = tg.tensor([0.3, 0.6], requires_grad=True)
    seen = []

    def f(t):
        seen.append(t.dtype)
        return t.exp()

    assert gradcheck(f, [x])
    assert set(seen) == {np.dtype("float64")}
    assert x.dtype == np.float32 and x.grad is None
    np.testing.assert_array_equal(x.numpy(), np.float32([0.3, 0.6]))


def test_non_contiguous_input():
    """A transposed (Fortran-ordered) input must still be perturbed in place, element by element."""
    data = np.asfortranarray(np.random.default_rng(0).standard_normal((3, 4)))
    assert not data.flags["C_CONTIGUOUS"]
    assert gradcheck(lambda t: (t * t).sum(0), [tg.tensor(data, requires_grad=True)])
    assert gradcheck(lambda t: t.exp(), [tg.tensor(data.T, requires_grad=True)])
    # and it still catches a wrong gradient on such an input
    assert not gradcheck(lambda t: WrongSquare()(t), [tg.tensor(data, requires_grad=True)],
                         raise_exception=False)


def test_only_inputs_that_require_grad_are_checked():
    x, c = leaf([1.0, 2.0]), tg.tensor([3.0, 4.0], dtype="float64")
    assert gradcheck(lambda a, b: a * b, [x, c])
    index = tg.tensor([1, 1, 0])  # integer inputs (indices) pass through unchanged
    assert gradcheck(lambda a, i: a[i], [x, index])


def test_several_outputs():
    assert gradcheck(lambda a: (a.exp(), a * a), [leaf([0.1, 0.2])])


def test_input_errors():
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda a: a * 2, [tg.tensor([1.0])])
    with pytest.raises(TypeError, match="must be Tensors, got ndarray"):
        gradcheck(lambda a: a * 2, [np.ones(2)])
