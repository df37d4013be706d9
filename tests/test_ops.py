"""The core ops' table: every op against NumPy (forward) and float64 central differences
(backward), through the checks in ``optable.py`` (which explains the table and its input
strategies).

Below the table: the second-order checks (``gradgradcheck``) for a representative subset, the
broadcasting examples of the issue, the numerics of the softmax family at extreme inputs, and a
cross-check of a few composite functions against PyTorch where it is installed.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pytest

import tinygrad_sm as tg
from tinygrad_sm import gradcheck
from optable import (ANY, AWAY_FROM_ZERO, EXPONENT, Op, POSITIVE, _tensors, along_axis,
                     basic_index_inputs, binary, broadcast_to_inputs, flatten_inputs,
                     integer_array_index_inputs, mask_inputs, matmul_inputs, pick_inputs, reduction,
                     reshape_inputs, table_tests, transpose_inputs, unary, with_scalar)

# ------------------------------------------------------------------------- the table

def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x)  # the inputs are small: the naive formula is a fine reference
    return e / e.sum(axis=axis, keepdims=True)


def _flatten_shape(shape: tuple[int, ...], start: int, end: int) -> tuple[int, ...]:
    end = end % len(shape)
    return shape[:start] + (-1,) + shape[end + 1:]


def _cast_round_trip(x: Any) -> Any:
    """float64 -> float32 -> float64 (or float32 -> float32 -> float32): both casts' backward."""
    return (x.astype("float32") * 2).astype(x.dtype)


OPS = [
    # binary arithmetic, with broadcasting between different ranks
    Op("add", lambda a, b: a + b, np.add, binary()),
    Op("sub", lambda a, b: a - b, np.subtract, binary()),
    Op("mul", lambda a, b: a * b, np.multiply, binary()),
    Op("div", lambda a, b: a / b, np.divide, binary(b=AWAY_FROM_ZERO)),
    Op("scalar - tensor", lambda x, c: c - x, lambda x, c: c - x,
       with_scalar(ANY, [0, 1.5, -2], "c")),
    Op("scalar / tensor", lambda x, c: c / x, lambda x, c: c / x,
       with_scalar(AWAY_FROM_ZERO, [1, 2.5, -0.5], "c")),
    Op("pow tensor**scalar", lambda x, p: x ** p, lambda x, p: x ** p,
       with_scalar(POSITIVE, [2, 3, 0.5, -1, -1.5, 1.7], "p")),
    Op("pow scalar**tensor", lambda x, base: base ** x, lambda x, base: base ** x,
       with_scalar(ANY, [2, 0.5, math.e, 3.0], "base")),
    Op("pow tensor**tensor", lambda a, b: a ** b, np.power, binary(POSITIVE, EXPONENT)),
    Op("matmul", lambda a, b: a @ b, np.matmul, matmul_inputs()),
    # elementwise
    Op("neg", lambda x: -x, np.negative, unary()),
    Op("exp", lambda x: x.exp(), np.exp, unary()),
    Op("log", lambda x: x.log(), np.log, unary(POSITIVE)),
    Op("sqrt", lambda x: x.sqrt(), np.sqrt, unary(POSITIVE)),
    Op("abs", lambda x: abs(x), np.abs, unary(AWAY_FROM_ZERO)),
    Op("relu", lambda x: x.relu(), lambda x: np.maximum(x, 0), unary(AWAY_FROM_ZERO)),
    Op("sigmoid", lambda x: x.sigmoid(), _sigmoid, unary()),
    Op("tanh", lambda x: x.tanh(), np.tanh, unary()),
    # reductions: axis None, an int or a tuple, positional as in X.sum(0, keepdims=True)
    Op("sum", lambda x, axis, keepdims: x.sum(axis, keepdims=keepdims),
       lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims), reduction()),
    Op("mean", lambda x, axis, keepdims: x.mean(axis, keepdims=keepdims),
       lambda x, axis, keepdims: np.mean(x, axis=axis, keepdims=keepdims), reduction()),
    Op("max", lambda x, axis, keepdims: x.max(axis, keepdims=keepdims),
       lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims), reduction(True)),
    Op("min", lambda x, axis, keepdims: x.min(axis, keepdims=keepdims),
       lambda x, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims), reduction(True)),
    # the softmax family
    Op("softmax", lambda x, axis: x.softmax(axis), _softmax, along_axis()),
    Op("log_softmax", lambda x, axis: x.log_softmax(axis),
       lambda x, axis: np.log(_softmax(x, axis)), along_axis()),
    Op("logsumexp", lambda x, axis, keepdims: x.logsumexp(axis, keepdims=keepdims),
       lambda x, axis, keepdims: np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims)),
       reduction()),
    # shape
    Op("reshape", lambda x, shape: x.reshape(shape), lambda x, shape: x.reshape(shape),
       reshape_inputs()),
    # two axes are swapped, as in torch.transpose; more are permuted, as in numpy.transpose
    Op("transpose", lambda x, axes: x.T if axes is None else x.transpose(*axes),
       lambda x, axes: np.swapaxes(x, *axes) if axes and len(axes) == 2 else
       np.transpose(x, axes), transpose_inputs()),
    Op("flatten", lambda x, start_dim, end_dim: x.flatten(start_dim, end_dim),
       lambda x, start_dim, end_dim: x.reshape(_flatten_shape(x.shape, start_dim, end_dim)),
       flatten_inputs()),
    Op("broadcast_to", lambda x, shape: x.broadcast_to(shape), np.broadcast_to,
       broadcast_to_inputs()),
    # indexing
    Op("getitem basic", lambda x, index: x[index], lambda x, index: x[index],
       basic_index_inputs()),
    Op("getitem integer arrays",
       lambda x, index, as_tensors: x[tuple(tg.tensor(i) for i in index) if as_tensors else index],
       lambda x, index, as_tensors: x[index], integer_array_index_inputs()),
    Op("getitem mask", lambda x, mask, as_tensor: x[tg.tensor(mask) if as_tensor else mask],
       lambda x, mask, as_tensor: x[mask], mask_inputs()),
    Op("getitem [arange(n), y]", lambda x, labels: x[tg.arange(len(labels)), tg.tensor(labels)],
       lambda x, labels: x[np.arange(len(labels)), labels], pick_inputs()),
    # dtype: float32 rounding makes a 1e-6 step meaningless, and the function is linear
    Op("astype", _cast_round_trip, _cast_round_trip, unary(), eps=1e-3),
]
OPS_BY_NAME = {op.name: op for op in OPS}


SECOND_ORDER = ["add", "mul", "div", "pow tensor**scalar", "pow scalar**tensor",
                "pow tensor**tensor", "matmul", "exp", "log", "tanh", "sigmoid", "sum", "mean",
                "softmax", "log_softmax", "logsumexp", "getitem basic", "getitem integer arrays"]


test_op, test_op_second_order = table_tests(OPS, SECOND_ORDER)


# ------------------------------------------------------------------------- broadcasting

BINARY = ["add", "sub", "mul", "div", "pow tensor**tensor"]
SHAPE_PAIRS = [((3, 1, 4), (4,)), ((3, 1, 4), (2, 1)), ((4,), (3, 1, 4)), ((2, 1), (3, 1, 4)),
               ((), (2, 3)), ((2, 3), ()), ((2, 3), (1,)), ((1, 3), (2, 1))]


@pytest.mark.parametrize("shapes_", SHAPE_PAIRS, ids=str)
@pytest.mark.parametrize("name", BINARY)
def test_binary_broadcasting_between_ranks(name: str, shapes_: tuple, device: str) -> None:
    """The issue's examples, always run: each input's gradient has its own shape, summed
    over the axes that broadcasting added or stretched."""
    op = OPS_BY_NAME[name]
    rng = np.random.default_rng(0)
    a = rng.uniform(0.5, 2.0, shapes_[0])
    b = rng.uniform(0.5, 2.0, shapes_[1])
    x, y = _tensors((a, b), device, requires_grad=True)
    out = op.ours(x, y)
    assert out.shape == np.broadcast_shapes(a.shape, b.shape)
    out.sum().backward()
    assert x.grad.shape == a.shape and y.grad.shape == b.shape
    gradcheck(op.ours, [x, y])


MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                 ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((5, 2, 3), (1, 3, 4)),
                 ((3,), (5, 3, 4)), ((5, 2, 3), (3,))]


@pytest.mark.parametrize("shapes_", MATMUL_SHAPES, ids=str)
def test_matmul_of_every_rank(shapes_: tuple, device: str) -> None:
    """1-D, 2-D and batched operands in every combination, always run: NumPy's result shape,
    and each gradient in its own operand's shape."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(shapes_[0]), rng.standard_normal(shapes_[1])
    x, y = _tensors((a, b), device, requires_grad=True)
    out = x @ y
    np.testing.assert_allclose(out.numpy(), a @ b, rtol=1e-12)
    gradcheck(lambda s, t: s @ t, [x, y])


# ------------------------------------------------------------------------- numerics

def _stable_logsumexp(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """A float64 reference that does not overflow, computed differently from ours."""
    return np.logaddexp.reduce(np.asarray(x, dtype=np.float64), axis=axis)


def _stable_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return np.exp(x - np.expand_dims(_stable_logsumexp(x, axis), axis))


HUGE_LOGITS = [[1e4, -1e4, 0.0], [1e4, 1e4 - 1, 1e4 - 2], [-1e4, -1e4, -1e4 + 3]]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_family_is_finite_at_logits_of_1e4(dtype: str, device: str) -> None:
    x = tg.tensor(HUGE_LOGITS, dtype=dtype, device=device, requires_grad=True)
    expected = {"softmax": _stable_softmax(HUGE_LOGITS),
                "log_softmax": np.subtract(HUGE_LOGITS, _stable_logsumexp(HUGE_LOGITS)[:, None]),
                "logsumexp": _stable_logsumexp(HUGE_LOGITS)}
    weights = np.random.default_rng(0).standard_normal((3, 3))
    for name, want in expected.items():
        x.grad = None
        y = getattr(x, name)()
        values = y.numpy()
        assert np.isfinite(values).all(), f"{name} at 1e4: {values}"
        np.testing.assert_allclose(values, want, rtol=1e-6, err_msg=name)
        w = weights[:, 0] if name == "logsumexp" else weights
        (y * tg.tensor(w, dtype=dtype, device=device)).sum().backward()
        assert x.grad.dtype == np.dtype(dtype)
        assert np.isfinite(x.grad.numpy()).all(), f"gradient of {name} at 1e4: {x.grad}"
    # d logsumexp / dx = softmax, exactly, even here
    x.grad = None
    x.logsumexp().sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), expected["softmax"], rtol=1e-6, atol=1e-30)


def _naive_softmax(x: np.ndarray) -> np.ndarray:
    """The book's first version, exp(x) / sum(exp(x)): correct math, broken numerics."""
    with np.errstate(over="ignore", invalid="ignore", under="ignore", divide="ignore"):
        e = np.exp(x)
        return e / e.sum(axis=-1, keepdims=True)


def test_softmax_of_100_where_the_naive_formula_overflows(device: str) -> None:
    """The book's exercise: exp(100) overflows float32 (its largest value is about 3.4e38 =
    e**88.7), so the naive formula gives inf/inf = nan; shifting by the max gives the answer."""
    for row in ([100.0], [100.0, 99.0, 0.0], [100.0, 100.0]):
        x32 = np.array([row], dtype=np.float32)
        assert np.isnan(_naive_softmax(x32)).any(), "the naive formula should break here"
        ours = tg.tensor(x32, device=device).softmax().numpy()
        # atol: e**-100 is a float32 subnormal, with only a few significant bits
        np.testing.assert_allclose(ours, _stable_softmax(x32), rtol=1e-6, atol=1e-40)
        np.testing.assert_allclose(ours.sum(), 1.0, rtol=1e-6)


def test_softmax_of_inputs_all_below_minus_100(device: str) -> None:
    """The book's exercise: exp(-120) underflows float32 to 0 (its smallest value is about
    1.4e-45 = e**-103), so the naive formula gives 0/0 = nan; ours is exact."""
    x32 = np.array([[-120.0, -121.0, -125.0], [-101.0, -102.0, -300.0]], dtype=np.float32)
    assert np.isnan(_naive_softmax(x32[:1])).all()
    x = tg.tensor(x32, device=device, requires_grad=True)
    np.testing.assert_allclose(x.softmax().numpy(), _stable_softmax(x32), rtol=1e-6, atol=1e-40)
    np.testing.assert_allclose(x.log_softmax().numpy(), np.log(_stable_softmax(x32)), rtol=1e-6)
    np.testing.assert_allclose(x.logsumexp().numpy(), _stable_logsumexp(x32), rtol=1e-6)
    x.log_softmax()[:, 0].sum().backward()
    expected = -_stable_softmax(x32)
    expected[:, 0] += 1
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-5, atol=1e-7)


def test_sigmoid_saturates_without_overflow(device: str) -> None:
    x = tg.tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0], device=device, requires_grad=True)
    with np.errstate(over="raise"):
        y = x.sigmoid()
        y.sum().backward()
    np.testing.assert_allclose(y.numpy(), [0.0, 1.9287499e-22, 0.5, 1.0, 1.0], rtol=1e-6)
    assert np.isfinite(x.grad.numpy()).all()


# ------------------------------------------------------------------------- against PyTorch

def _composites(tensor: Callable) -> dict[str, Callable]:
    """Composite functions written once, for tinygrad_sm and torch alike (``tensor`` makes the
    index tensors)."""
    def softmax_regression_loss(W, b, X, y):
        logits = X @ W + b
        logp = logits.log_softmax(-1)
        return -logp[tensor(np.arange(len(y))), tensor(y)].mean()

    def mlp(W1, b1, W2, X):
        h = (X @ W1 + b1).relu()
        return ((h @ W2).tanh() ** 2).sum()

    def normalized_attention(Q, K, V):
        scores = (Q @ K.T) / 2.0
        return (scores.softmax(-1) @ V).sigmoid().mean()

    def broadcast_mix(a, c, X, y):
        out = (a * X - c).exp() / (1 + (a - X) ** 2)
        return out.sum() + (X.sqrt() * c).logsumexp(0).max() - y.sum()

    return {"softmax regression loss": softmax_regression_loss, "mlp": mlp,
            "normalized attention": normalized_attention, "broadcast mix": broadcast_mix}


def _composite_inputs(name: str, rng: np.random.Generator) -> tuple[list, list]:
    """(differentiable inputs, constant inputs) for each composite."""
    if name == "softmax regression loss":
        return ([rng.standard_normal((4, 3)), rng.standard_normal(3)],
                [rng.standard_normal((5, 4)), np.array([0, 2, 2, 1, 0])])
    if name == "mlp":
        return ([rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal((4, 2))],
                [rng.standard_normal((5, 3))])
    if name == "normalized attention":
        return [rng.standard_normal((3, 4)), rng.standard_normal((5, 4)),
                rng.standard_normal((5, 2))], []
    return ([rng.standard_normal((1, 3)), rng.standard_normal(3)],
            [rng.uniform(0.5, 2, (4, 3)), rng.standard_normal(2)])


@pytest.mark.parametrize("name", ["softmax regression loss", "mlp", "normalized attention",
                                  "broadcast mix"])
def test_composite_gradients_match_pytorch(name: str) -> None:
    torch = pytest.importorskip("torch")
    params, constants = _composite_inputs(name, np.random.default_rng(1))

    ours_params = [tg.tensor(p, requires_grad=True) for p in params]
    ours_constants = [tg.tensor(c) for c in constants]
    ours = _composites(tg.tensor)[name](*ours_params, *ours_constants)
    ours.backward()

    torch_params = [torch.tensor(p, requires_grad=True) for p in params]
    torch_constants = [torch.tensor(c) for c in constants]
    theirs = _composites(torch.as_tensor)[name](*torch_params, *torch_constants)
    theirs.backward()

    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-10)
    for i, (p, q) in enumerate(zip(ours_params, torch_params)):
        assert p.grad.dtype == np.float64
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=f"{name}: gradient of parameter {i}")
