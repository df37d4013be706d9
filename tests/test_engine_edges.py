"""The engine at its edges: each case here once gave a silent wrong answer or a poor error.

Low-precision sums, what a custom ``Function.backward`` may return, gradients that two leaves
shared, infinite and empty inputs to the softmax family, repeated axes, powers at 0, complex
tensors, the dtype of true division, 0-d and empty tensors, and the gradient conventions at
kinks (max ties, abs and relu at 0). Where PyTorch is installed, the answers are checked
against it.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_sm as tg
from tinygrad_sm import Function, gradcheck
from tinygrad_sm.nn import functional as F

INF = math.inf


def leaf(values, dtype="float64"):
    return tg.tensor(values, dtype=dtype, requires_grad=True)


# ------------------------------------------------------------------ float16 reductions

def test_float16_mean_over_a_long_axis_is_exact():
    x = tg.ones(4096, 8, dtype="float16")
    assert x.mean(0).tolist() == [1.0] * 8 and x.mean(0).dtype == np.float16


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
def test_float16_mean_of_more_ones_than_float16_can_count():
    x = tg.ones(70_000, dtype="float16")
    assert float(x.mean()) == 1.0
    assert float(x.sum()) == INF  # the sum itself is 70,000: past float16's 65,504, as in PyTorch


def test_float16_sum_keeps_growing_past_2048():
    x = tg.ones(4096, 3, dtype="float16")
    assert x.sum(0).tolist() == [4096.0] * 3


def test_float16_gradients_of_mean_and_sum():
    x = tg.ones(4096, dtype="float16", requires_grad=True)
    x.mean().backward()
    assert x.grad.dtype == np.float16
    np.testing.assert_allclose(x.grad.numpy().astype(np.float64), 1 / 4096, rtol=1e-3)


# ------------------------------------------------------------------ custom backward, checked

class Returns(Function):
    """y = 2x + z, whose backward returns whatever the test asks for."""

    saves_inputs = saves_output = False

    def __init__(self, result):
        self.result = result

    def forward(self, x, z):
        return 2 * x + z

    def backward(self, g):
        return self.result(g)


def _returning(result):
    x, z = leaf([[1.0, 2.0], [3.0, 4.0]]), leaf([1.0, 1.0])
    return Returns(result)(x, z).sum(), x, z


def test_a_backward_that_returns_a_bare_tensor_is_an_error():
    y, _, _ = _returning(lambda g: g * 2)
    with pytest.raises(TypeError, match=r"Returns\.backward returned a Tensor.*tuple"):
        y.backward()


def test_a_backward_that_returns_too_few_gradients_is_an_error():
    y, _, _ = _returning(lambda g: (g * 2,))
    with pytest.raises(ValueError, match=r"Returns\.backward returned 1 gradient for 2 inputs"):
        y.backward()


def test_a_gradient_of_the_wrong_shape_is_an_error():
    y, _, _ = _returning(lambda g: (g.sum(0), g))
    with pytest.raises(ValueError, match=r"Returns\.backward returned a gradient of shape "
                                         r"\(2,\) for input 0 of shape \(2, 2\)"):
        y.backward()
    y, _, _ = _returning(lambda g: (g, g[:, :1] * tg.ones(2, 3, dtype="float64")))
    with pytest.raises(ValueError, match=r"shape \(2, 3\) for input 1 of shape \(2,\)"):
        y.backward()


def test_a_gradient_that_is_not_a_tensor_is_an_error():
    y, _, _ = _returning(lambda g: (g.numpy(), None))
    with pytest.raises(TypeError, match=r"Returns\.backward returned a ndarray for input 0"):
        y.backward()


def test_broadcast_gradients_are_still_summed_down():
    y, x, z = _returning(lambda g: (g * 2, g))  # z's (2,) gradient comes as (2, 2)
    y.backward()
    assert x.grad.tolist() == [[2.0, 2.0], [2.0, 2.0]] and z.grad.tolist() == [2.0, 2.0]


def test_gradcheck_reports_a_broken_backward_instead_of_crashing():
    def f(x, z):
        return Returns(lambda g: (g * 2,))(x, z)
    with pytest.raises(ValueError, match="returned 1 gradient for 2 inputs"):
        gradcheck(f, [leaf([1.0, 2.0]), leaf([3.0, 4.0])])


# ------------------------------------------------------------------ leaves own their gradients

def test_with_create_graph_each_leaf_owns_its_gradient():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward(create_graph=True)
    assert a.grad is not b.grad
    with tg.no_grad():
        a.grad *= 0.5  # clipping one must not change the other
    assert b.grad.tolist() == [1.0, 1.0] and a.grad.tolist() == [0.5, 0.5]
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    ((x * w).sum() + (x + w).sum()).backward(create_graph=True)
    assert x.grad.grad_fn is not None and x.grad.tolist() == [4.0, 5.0]
    (ggx,) = tg.grad(x.grad.sum(), w)  # still differentiable after the copy
    assert ggx.tolist() == [1.0, 1.0]


# ------------------------------------------------------------------ infinite inputs

ROWS = [[INF, 0.0, 1.0], [-INF, -INF, -INF], [-INF, 0.0, 1.0], [INF, INF, 1.0]]


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_logsumexp_of_infinite_rows(row):
    expected = {(INF, 0.0, 1.0): INF, (-INF,) * 3: -INF, (INF, INF, 1.0): INF}
    value = float(tg.tensor([row]).logsumexp(1)[0])
    want = expected.get(tuple(row), math.log(math.e ** 0 + math.e ** 1))
    assert value == pytest.approx(want)


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_softmax_family_of_infinite_rows_matches_torch(row):
    torch = pytest.importorskip("torch")
    x, xt = tg.tensor([row]), torch.tensor([row])
    pairs = [(x.logsumexp(1), torch.logsumexp(xt, 1)), (x.softmax(1), torch.softmax(xt, 1)),
             (x.log_softmax(1), torch.log_softmax(xt, 1)),
             (F.cross_entropy(x, tg.tensor([1])),
              torch.nn.functional.cross_entropy(xt, torch.tensor([1])))]
    for ours, theirs in pairs:  # the same infs and NaNs, the finite values to float32 rounding
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_logsumexp_gradient_of_infinite_rows_matches_torch(row):
    torch = pytest.importorskip("torch")
    x = tg.tensor([row], requires_grad=True)
    x.logsumexp(1).sum().backward()
    xt = torch.tensor([row], requires_grad=True)
    torch.logsumexp(xt, 1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-6)


# ------------------------------------------------------------------ axes

def test_flatten_with_start_after_end_raises():
    x = tg.zeros(2, 3, 4)
    with pytest.raises(ValueError, match="start_dim 2 comes after end_dim 1"):
        x.flatten(2, 1)
    assert x.flatten(1, 1).shape == (2, 3, 4) and x.flatten(-2, -1).shape == (2, 12)


@pytest.mark.parametrize("axis", [(1, 1), (1, -2), (0, 2, -3)])
def test_repeated_axes_raise(axis):
    x = tg.ones(2, 3, 4)
    for reduce in (x.sum, x.mean, x.max, x.min, x.logsumexp):
        with pytest.raises(ValueError, match="appears more than once"):
            reduce(axis)


# ------------------------------------------------------------------ powers at 0

@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # 0 ** -0.5 = inf
def test_power_gradients_at_a_base_of_zero_match_torch():
    torch = pytest.importorskip("torch")
    base = [0.0, 0.0, 0.0, 2.0, 0.0]
    exponent = [2.0, 0.0, 1.0, 0.0, 0.5]
    a, b = leaf(base), leaf(exponent)
    (a ** b).sum().backward()
    at = torch.tensor(base, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(exponent, dtype=torch.float64, requires_grad=True)
    (at ** bt).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), at.grad.numpy())
    np.testing.assert_array_equal(b.grad.numpy(), bt.grad.numpy())
    assert b.grad.tolist()[:3] == [0.0, 0.0, 0.0] and a.grad.tolist()[1] == 0.0


def test_power_gradients_at_zero_without_torch():
    a, b = leaf([0.0]), leaf([0.0])
    (a ** b).sum().backward()
    assert a.grad.tolist() == [0.0] and b.grad.tolist() == [0.0]
    a, b = leaf([0.0]), leaf([3.0])
    (a ** b).sum().backward()
    assert a.grad.tolist() == [0.0] and b.grad.tolist() == [0.0]


def test_power_away_from_zero_still_passes_gradcheck():
    assert gradcheck(lambda a, b: a ** b, [leaf([0.5, 1.5, 2.0]), leaf([-1.5, 0.0, 2.5])])


# ------------------------------------------------------------------ complex tensors

def test_complex_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="complex.*do not support autograd"):
        tg.tensor([1 + 2j], requires_grad=True)
    z = tg.tensor([1 + 2j])
    with pytest.raises(TypeError, match="complex.*do not support autograd"):
        z.requires_grad_()
    x = leaf([1.0, 2.0])
    with pytest.raises(TypeError, match="complex.*do not support autograd"):
        x * z
    with pytest.raises(TypeError, match="complex.*do not support autograd"):
        x.astype("complex128")
    assert (z * 2).tolist() == [2 + 4j]  # without gradients, complex arithmetic is fine


# ------------------------------------------------------------------ true division

def test_true_division_of_integers_gives_the_default_float():
    i = tg.tensor([1, 2, 3])
    assert (i / i).dtype == np.float32 and (i / 2).dtype == np.float32
    assert (2 / i).dtype == np.float32 and (tg.tensor([True]) / 2).dtype == np.float32
    np.testing.assert_allclose((i / 2).numpy(), [0.5, 1.0, 1.5])
    assert (tg.ones(2, dtype="float64") / i[:2]).dtype == np.float64


def test_mse_loss_with_an_integer_target_stays_float32():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    loss = F.mse_loss(x, tg.tensor([1, 3]))
    assert loss.dtype == np.float32 and float(loss) == 0.5
    loss.backward()
    assert x.grad.dtype == np.float32


# ------------------------------------------------------------------ 0-d and empty tensors

def test_zero_dimensional_tensors_take_dim_0_and_minus_1_as_pytorch_does():
    x = tg.tensor(2.0, requires_grad=True)
    assert float(x.softmax()) == 1.0 and float(x.log_softmax()) == 0.0
    assert float(x.logsumexp()) == 2.0 and float(x.sum(0)) == 2.0 and float(x.mean(-1)) == 2.0
    assert x.sum(0).shape == () and x.softmax(0).shape == ()
    x.logsumexp(0).backward()
    assert x.grad.tolist() == 1.0
    with pytest.raises(np.exceptions.AxisError, match="a 0-d tensor takes only 0 or -1"):
        x.sum(1)


def test_empty_softmax_family_matches_torch():
    x = tg.zeros(0)
    assert x.softmax().shape == (0,) and x.log_softmax().shape == (0,)
    assert float(x.logsumexp()) == -INF
    y = tg.zeros(2, 0)
    assert y.logsumexp(1).tolist() == [-INF, -INF] and y.softmax(1).shape == (2, 0)


def test_indexing_with_an_empty_list_selects_nothing():
    x = tg.ones(3, 4, requires_grad=True)
    picked = x[[]]
    assert picked.shape == (0, 4)
    (picked.sum() + x.sum()).backward()
    assert x.grad.tolist() == [[1.0] * 4] * 3
    assert x[tg.tensor([], dtype="int64")].shape == (0, 4)


# ------------------------------------------------------------------ conventions at kinks

def test_max_splits_the_gradient_evenly_between_ties():
    x = leaf([1.0, 3.0, 3.0, 2.0])
    x.max().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5, 0.0]
    y = leaf([[5.0, 5.0, 5.0], [1.0, 2.0, 2.0]])
    y.max(1).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [[1 / 3] * 3, [0.0, 0.5, 0.5]])
    z = leaf([2.0, 2.0])
    z.min().backward()
    assert z.grad.tolist() == [0.5, 0.5]


def test_abs_and_relu_have_slope_zero_at_zero():
    x = leaf([-1.0, 0.0, 2.0])
    x.abs().sum().backward()
    assert x.grad.tolist() == [-1.0, 0.0, 1.0]
    y = leaf([-1.0, 0.0, 2.0])
    y.relu().sum().backward()
    assert y.grad.tolist() == [0.0, 0.0, 1.0]
