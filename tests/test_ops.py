"""Every differentiable op against NumPy (forward) and float64 central differences (backward).

``OPS`` is the table: one row per op with our function (on Tensors), the NumPy reference (on
float64 arrays), and a hypothesis strategy that draws the inputs and the op's arguments. One
property test runs every row: the forward pass matches NumPy in float64, stays float32 on
float32 inputs, and ``gradcheck`` passes. Shapes are small (at most 4 per axis, rank at most 3)
because a gradient check costs two forward passes per input element.

Inputs are drawn away from kinks and domain edges so that central differences are meaningful:
log, sqrt and the base of a power are >= 0.5, relu and abs inputs and division denominators are
at least 0.1 away from 0, and max/min inputs are distinct values 0.5 apart (no ties).

Below the table: the second-order checks (``gradgradcheck``) for a representative subset, the
broadcasting examples of the issue, the numerics of the softmax family at extreme inputs, and a
cross-check of a few composite functions against PyTorch where it is installed.
"""
from __future__ import annotations

import dataclasses
import itertools
import math
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_sm as tg
from tinygrad_sm import Tensor, gradcheck, gradgradcheck
from tinygrad_sm.gradcheck import GradcheckError

MAX_SIDE = 4
MAX_RANK = 3

# ------------------------------------------------------------------------- strategies

ANY = st.floats(-3.0, 3.0)
POSITIVE = st.floats(0.5, 3.0)  # log, sqrt, the base of a power
AWAY_FROM_ZERO = st.floats(0.1, 3.0) | st.floats(-3.0, -0.1)  # relu, abs, denominators
EXPONENT = st.floats(-2.0, 2.0)


def shapes(min_dims: int = 0, max_dims: int = MAX_RANK) -> st.SearchStrategy[tuple[int, ...]]:
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=MAX_SIDE)


def arrays(shape: tuple[int, ...], elements: st.SearchStrategy[float] = ANY) -> st.SearchStrategy:
    return hnp.arrays(np.float64, shape, elements=elements)


@st.composite
def distinct_arrays(draw: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Values 0.5 apart in a random order: no ties, so max and min are differentiable, and a
    perturbation of 1e-6 cannot change which element is largest."""
    size = math.prod(shape)
    order = draw(st.permutations(range(size)))
    return (np.array(order, dtype=np.float64) * 0.5 - size / 4).reshape(shape)


@st.composite
def unary(draw: Any, elements: st.SearchStrategy[float] = ANY, min_dims: int = 0) -> tuple:
    x = draw(arrays(draw(shapes(min_dims)), elements))
    return (x,), {}


@st.composite
def binary(draw: Any, a: st.SearchStrategy[float] = ANY,
           b: st.SearchStrategy[float] = ANY) -> tuple:
    """Two arrays whose shapes broadcast together, often of different ranks: (3, 1, 4) with (4,)."""
    a_shape, b_shape = draw(hnp.mutually_broadcastable_shapes(
        num_shapes=2, max_dims=MAX_RANK, max_side=MAX_SIDE)).input_shapes
    return (draw(arrays(a_shape, a)), draw(arrays(b_shape, b))), {}


@st.composite
def with_scalar(draw: Any, elements: st.SearchStrategy[float], scalars: list[float],
                name: str) -> tuple:
    (x,), _ = draw(unary(elements))
    return (x,), {name: draw(st.sampled_from(scalars))}


@st.composite
def matmul_inputs(draw: Any) -> tuple:
    """1-D, 2-D and batched operands, with batch axes that broadcast (1 against b)."""
    n, k, m, b = (draw(st.integers(1, MAX_SIDE)) for _ in range(4))
    left = {1: (k,), 2: (n, k), 3: (b, n, k)}[draw(st.integers(1, 3))]
    batch = draw(st.sampled_from([b, 1]))
    right = {1: (k,), 2: (k, m), 3: (batch, k, m)}[draw(st.integers(1, 3))]
    return (draw(arrays(left)), draw(arrays(right))), {}


@st.composite
def axes(draw: Any, ndim: int, allow_none: bool = True, allow_tuple: bool = True) -> Any:
    """None, an int (maybe negative), or a tuple of distinct axes (maybe negative)."""
    kinds = ["int"] + ["tuple"] * allow_tuple + ["none"] * allow_none
    kind = draw(st.sampled_from(kinds)) if ndim else "none"
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(a - ndim if draw(st.booleans()) else a for a in chosen)


@st.composite
def reduction(draw: Any, distinct: bool = False, allow_tuple: bool = True,
              allow_none: bool = True) -> tuple:
    shape = draw(shapes(min_dims=0 if allow_none else 1))
    x = draw(distinct_arrays(shape) if distinct else arrays(shape))
    axis = draw(axes(len(shape), allow_none=allow_none, allow_tuple=allow_tuple))
    return (x,), {"axis": axis, "keepdims": draw(st.booleans())}


@st.composite
def along_axis(draw: Any) -> tuple:
    """softmax and log_softmax: an input of rank >= 1 and one axis."""
    shape = draw(shapes(min_dims=1))
    return (draw(arrays(shape)),), {"axis": draw(st.integers(-len(shape), len(shape) - 1))}


@st.composite
def reshape_inputs(draw: Any) -> tuple:
    shape = draw(shapes())
    size = math.prod(shape)
    d = draw(st.sampled_from([d for d in range(1, size + 1) if size % d == 0]))
    targets = [(size,), (-1,), (d, size // d), (d, -1), (-1, d), (1, d, size // d), shape[::-1]]
    return (draw(arrays(shape)),), {"shape": draw(st.sampled_from(targets))}


@st.composite
def transpose_inputs(draw: Any) -> tuple:
    """No axes (reverse them all, as .T) or any permutation, 3-cycles included: the backward
    pass must apply the inverse permutation, which differs from the permutation only for those."""
    shape = draw(shapes())
    orders = [None] + list(itertools.permutations(range(len(shape))))
    return (draw(arrays(shape)),), {"axes": draw(st.sampled_from(orders))}


@st.composite
def flatten_inputs(draw: Any) -> tuple:
    shape = draw(shapes(min_dims=1))
    start = draw(st.integers(0, len(shape) - 1))
    end = draw(st.integers(start, len(shape) - 1))
    # Sometimes count the end from the back, as flatten(1, -1) does.
    end = end - len(shape) if draw(st.booleans()) else end
    return (draw(arrays(shape)),), {"start_dim": start, "end_dim": end}


@st.composite
def broadcast_to_inputs(draw: Any) -> tuple:
    """A target shape and an input that broadcasts to it: a suffix of it with some 1s."""
    target = draw(shapes())
    rank = draw(st.integers(0, len(target)))
    shape = tuple(1 if draw(st.booleans()) else n for n in target[len(target) - rank:])
    return (draw(arrays(shape)),), {"shape": target}


@st.composite
def basic_index_inputs(draw: Any) -> tuple:
    """Ints (negative too), slices (with steps), None and Ellipsis."""
    shape = draw(shapes(min_dims=1))
    index = draw(hnp.basic_indices(shape, max_dims=4, allow_newaxis=True, allow_ellipsis=True))
    return (draw(arrays(shape)),), {"index": index}


@st.composite
def integer_array_index_inputs(draw: Any) -> tuple:
    """One integer array per axis, which may repeat an element: its gradient must add up."""
    shape = draw(shapes(min_dims=1))
    index = draw(hnp.integer_array_indices(
        shape, result_shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=5)))
    return (draw(arrays(shape)),), {"index": index, "as_tensors": draw(st.booleans())}


@st.composite
def mask_inputs(draw: Any) -> tuple:
    """A boolean mask over the leading axes (all of them, or fewer)."""
    shape = draw(shapes(min_dims=1))
    mask_shape = shape[:draw(st.integers(1, len(shape)))]
    mask = draw(hnp.arrays(np.bool_, mask_shape))
    return (draw(arrays(shape)),), {"mask": mask, "as_tensor": draw(st.booleans())}


@st.composite
def pick_inputs(draw: Any) -> tuple:
    """y_hat[arange(n), y]: the predicted probability of each example's label."""
    n, classes = draw(st.integers(1, MAX_SIDE)), draw(st.integers(1, MAX_SIDE))
    labels = np.array(draw(st.lists(st.integers(0, classes - 1), min_size=n, max_size=n)))
    return (draw(arrays((n, classes))),), {"labels": labels}


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


@dataclasses.dataclass(frozen=True)
class Op:
    """One row of the table: ``ours(*tensors, **kwargs)`` should equal
    ``ref(*arrays, **kwargs)``."""

    name: str
    ours: Callable[..., Tensor]
    ref: Callable[..., np.ndarray]
    draw: st.SearchStrategy
    eps: float = 1e-6  # the central-difference step


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
    Op("transpose", lambda x, axes: x.T if axes is None else x.transpose(*axes),
       lambda x, axes: np.transpose(x, axes), transpose_inputs()),
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


def _describe(op: Op, arrays: tuple[np.ndarray, ...], kwargs: dict[str, Any]) -> str:
    """The culprit, for failure messages: the op, the input shapes, the arguments, the values."""
    values = "\n".join(f"  input {i}: {np.array2string(a, precision=17)}"
                       for i, a in enumerate(arrays))
    return (f"op {op.name!r}, input shapes {[a.shape for a in arrays]}, arguments {kwargs}\n"
            f"{values}")


def _tensors(arrays: tuple[np.ndarray, ...], device: str, dtype: Any = None,
             requires_grad: bool = False) -> list[Tensor]:
    return [Tensor(a, dtype=dtype, device=device, requires_grad=requires_grad) for a in arrays]


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
@given(data=st.data())
def test_op(op: Op, data: st.DataObject, device: str) -> None:
    """Forward matches NumPy (float64, and float32 stays float32); gradcheck passes."""
    arrays, kwargs = data.draw(op.draw, label="inputs and arguments")
    where = _describe(op, arrays, kwargs)
    expected = op.ref(*arrays, **kwargs)

    out = op.ours(*_tensors(arrays, device), **kwargs)
    assert out.shape == expected.shape, f"shape {out.shape} != NumPy's {expected.shape}\n{where}"
    assert out.dtype == np.float64, f"dtype {out.dtype} from float64 inputs\n{where}"
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12,
                               err_msg=f"forward (float64) differs from NumPy\n{where}")

    out32 = op.ours(*_tensors(arrays, device, dtype="float32"), **kwargs)
    assert out32.dtype == np.float32, f"dtype {out32.dtype} from float32 inputs\n{where}"
    np.testing.assert_allclose(out32.numpy(), expected, rtol=1e-4, atol=1e-4,
                               err_msg=f"forward (float32) differs from NumPy\n{where}")

    inputs = _tensors(arrays, device, requires_grad=True)
    try:
        gradcheck(lambda *xs: op.ours(*xs, **kwargs), inputs, eps=op.eps)
    except GradcheckError as e:
        pytest.fail(f"{e}\n{where}")


# ------------------------------------------------------------------------- second order

SECOND_ORDER = ["add", "mul", "div", "pow tensor**scalar", "pow scalar**tensor",
                "pow tensor**tensor", "matmul", "exp", "log", "tanh", "sigmoid", "sum", "mean",
                "softmax", "log_softmax", "logsumexp", "getitem basic", "getitem integer arrays"]


@pytest.mark.parametrize("op", [OPS_BY_NAME[name] for name in SECOND_ORDER],
                         ids=lambda op: op.name)
@settings(max_examples=max(3, settings.default.max_examples // 2))
@given(data=st.data())
def test_op_second_order(op: Op, data: st.DataObject, device: str) -> None:
    """Backward through the backward pass (create_graph=True) matches central differences of
    the first derivative: the backward rules are themselves differentiable."""
    arrays, kwargs = data.draw(op.draw, label="inputs and arguments")
    inputs = _tensors(arrays, device, requires_grad=True)
    try:
        gradgradcheck(lambda *xs: op.ours(*xs, **kwargs), inputs, eps=op.eps)
    except GradcheckError as e:
        pytest.fail(f"second order: {e}\n{_describe(op, arrays, kwargs)}")


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
