"""The machinery of the op tables: strategies that draw inputs, the ``Op`` row, and the checks
that every row goes through.

Each ``tests/test_ops*.py`` file holds a table, ``OPS``: one ``Op`` per op, with our function
(on Tensors), the NumPy reference (on float64 arrays), and a hypothesis strategy that draws the
inputs and the op's arguments. ``check_op`` runs one row: the forward pass matches NumPy in
float64, stays float32 on float32 inputs, and ``gradcheck`` passes (float64 central
differences). ``check_second_order`` runs ``gradgradcheck``. Shapes are small (at most 4 per
axis, rank at most 3) because a gradient check costs two forward passes per input element.

Inputs are drawn away from kinks and domain edges so that central differences are meaningful:
log, sqrt and the base of a power are >= 0.5, relu and abs inputs and division denominators are
at least 0.1 away from 0, and max/min inputs are distinct values 0.5 apart (no ties).
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


# ------------------------------------------------------------------------- rows and checks

@dataclasses.dataclass(frozen=True)
class Op:
    """One row of the table: ``ours(*tensors, **kwargs)`` should equal
    ``ref(*arrays, **kwargs)``."""

    name: str
    ours: Callable[..., Tensor]
    ref: Callable[..., np.ndarray]
    draw: st.SearchStrategy
    eps: float = 1e-6  # the central-difference step


def _describe(op: Op, arrays: tuple[np.ndarray, ...], kwargs: dict[str, Any]) -> str:
    """The culprit, for failure messages: the op, the input shapes, the arguments, the values."""
    values = "\n".join(f"  input {i}: {np.array2string(a, precision=17)}"
                       for i, a in enumerate(arrays))
    return (f"op {op.name!r}, input shapes {[a.shape for a in arrays]}, arguments {kwargs}\n"
            f"{values}")


def _tensors(arrays: tuple[np.ndarray, ...], device: str, dtype: Any = None,
             requires_grad: bool = False) -> list[Tensor]:
    return [Tensor(a, dtype=dtype, device=device, requires_grad=requires_grad) for a in arrays]


def check_op(op: Op, data: st.DataObject, device: str) -> None:
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


def check_second_order(op: Op, data: st.DataObject, device: str) -> None:
    """Backward through the backward pass (create_graph=True) matches central differences of
    the first derivative: the backward rules are themselves differentiable."""
    arrays, kwargs = data.draw(op.draw, label="inputs and arguments")
    inputs = _tensors(arrays, device, requires_grad=True)
    try:
        gradgradcheck(lambda *xs: op.ours(*xs, **kwargs), inputs, eps=op.eps)
    except GradcheckError as e:
        pytest.fail(f"second order: {e}\n{_describe(op, arrays, kwargs)}")


def table_tests(ops: list[Op], second_order: list[str] | None = None,
                examples: int | None = None, second_order_examples: int | None = None
                ) -> tuple[Callable[..., None], Callable[..., None]]:
    """The two property tests of a table, for its file to collect (``test_op,
    test_op_second_order = table_tests(OPS, [...])``): ``check_op`` on every row, and
    ``check_second_order`` on the rows named in ``second_order`` (all of them when None).
    ``examples`` sets hypothesis's examples per row (default: the profile's); second order
    costs more, and runs half as many unless told."""
    by_name = {op.name: op for op in ops}
    chosen = ops if second_order is None else [by_name[name] for name in second_order]
    per_row = settings.default.max_examples if examples is None else examples
    per_second = (max(3, settings.default.max_examples // 2) if second_order_examples is None
                  else second_order_examples)

    @pytest.mark.parametrize("op", ops, ids=lambda op: op.name)
    @settings(max_examples=per_row)
    @given(data=st.data())
    def test_op(op: Op, data: st.DataObject, device: str) -> None:
        check_op(op, data, device)

    @pytest.mark.parametrize("op", chosen, ids=lambda op: op.name)
    @settings(max_examples=per_second)
    @given(data=st.data())
    def test_op_second_order(op: Op, data: st.DataObject, device: str) -> None:
        check_second_order(op, data, device)

    return test_op, test_op_second_order


# ------------------------------------------------------------------------- against PyTorch

def check_against_torch(fn: Callable[..., Any], arrays: list[np.ndarray], seed: int = 0) -> None:
    """``fn(lib, *tensors)``, written once for ``lib = tinygrad_sm`` and ``lib = torch``, gives
    the same values (one tensor, or a tuple of them) and the same gradients for the float
    arrays in ``arrays``, in float64. The gradient is of ``sum(w * out)`` with fixed random
    weights ``w``, so that every output element counts with its own weight."""
    torch = pytest.importorskip("torch")
    import tinygrad_sm as tg

    results = {}
    for lib in (tg, torch):
        xs = [lib.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
        out = fn(lib, *xs)
        outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
        rng = np.random.default_rng(seed)
        total = 0
        for o in outs:
            if str(o.dtype).endswith("float64"):  # integer outputs carry no gradient
                total = total + (o * lib.tensor(rng.standard_normal(tuple(o.shape)))).sum()
        leaves = [x for x in xs if x.requires_grad]
        if leaves and not isinstance(total, int):
            total.backward()
        results[lib.__name__] = ([o.detach().numpy() for o in outs],
                                 [x.grad.numpy() if x.grad is not None else None
                                  for x in leaves])
    (ours, our_grads), (theirs, their_grads) = results["tinygrad_sm"], results["torch"]
    assert len(ours) == len(theirs), f"{len(ours)} outputs, PyTorch gives {len(theirs)}"
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a.shape == b.shape, f"output {i}: shape {a.shape}, PyTorch's {b.shape}"
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=f"output {i}")
    for i, (a, b) in enumerate(zip(our_grads, their_grads)):
        assert (a is None) == (b is None), f"input {i}: gradient {a}, PyTorch's {b}"
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12,
                                       err_msg=f"gradient of input {i}")


# ------------------------------------------------------------------------- elementwise, reductions,
# linear algebra: strategies that keep each op's inputs away from its kinks and jumps

HALVES = st.integers(-6, 6).map(lambda k: k * 0.5)
QUARTERS_OFF = st.integers(-6, 5).map(lambda k: k * 0.5 + 0.25)  # never within 0.25 of HALVES


@st.composite
def broadcastable(draw: Any, n: int) -> list[tuple[int, ...]]:
    """n shapes that broadcast together, often of different ranks."""
    return list(draw(hnp.mutually_broadcastable_shapes(
        num_shapes=n, max_dims=MAX_RANK, max_side=MAX_SIDE)).input_shapes)


@st.composite
def where_inputs(draw: Any) -> tuple:
    """A bool condition and two values, all three of shapes that broadcast together."""
    c_shape, a_shape, b_shape = draw(broadcastable(3))
    cond = draw(hnp.arrays(np.bool_, c_shape))
    return (draw(arrays(a_shape)), draw(arrays(b_shape))), {"cond": cond}


@st.composite
def clamp_inputs(draw: Any) -> tuple:
    """x and bounds on three grids 1/8 apart (no element sits on a bound, and min never equals
    max), each bound left out, a number, or an array that broadcasts with x; min > max too."""
    lows = st.integers(-6, 6).map(lambda k: k * 0.5)
    highs = st.integers(-6, 6).map(lambda k: k * 0.5 + 0.125)
    x_shape, lo_shape, hi_shape = draw(broadcastable(3))
    x = draw(arrays(x_shape, QUARTERS_OFF))
    kinds = draw(st.sampled_from([("number", None), (None, "number"), ("number", "number"),
                                  ("array", None), (None, "array"), ("array", "array"),
                                  ("number", "array")]))
    values, bounds = [x], {}
    for name, kind, shape, grid in (("min", kinds[0], lo_shape, lows),
                                    ("max", kinds[1], hi_shape, highs)):
        if kind == "number":
            bounds[name] = draw(grid)
        elif kind == "array":
            values.append(draw(arrays(shape, grid)))
            bounds[name] = len(values) - 1  # the position of the bound among the inputs
    return tuple(values), {"bounds": bounds}


@st.composite
def away_from_steps(draw: Any, how: str) -> tuple:
    """Inputs at least 0.1 from the jumps of floor/ceil/trunc (the integers), of round (the
    halves, scaled by 10**decimals) and of sign (0)."""
    shape = draw(shapes())
    whole = hnp.arrays(np.float64, shape, elements=st.integers(-3, 3).map(float))
    if how == "round":
        decimals = draw(st.sampled_from([0, 1, -1]))
        part = draw(arrays(shape, st.floats(-0.4, 0.4)))
        return ((draw(whole) + part) / 10.0 ** decimals,), {"decimals": decimals}
    if how == "sign":
        return (draw(arrays(shape, AWAY_FROM_ZERO)),), {}
    return (draw(whole) + draw(arrays(shape, st.floats(0.1, 0.9))),), {}


@st.composite
def mod_inputs(draw: Any) -> tuple:
    """a and b with a / b at least 0.1 from an integer (where floor and trunc jump): one of the
    two is built as the other times (or over) such a quotient, so it has the broadcast shape,
    and the other may be smaller."""
    small, big = draw(broadcastable(2))
    shape = np.broadcast_shapes(small, big)
    whole = draw(hnp.arrays(np.float64, shape, elements=st.integers(-3, 3).map(float)))
    quotient = whole + draw(arrays(shape, st.floats(0.1, 0.9)))
    divisor = draw(arrays(small, st.floats(0.5, 2.0) | st.floats(-2.0, -0.5)))
    if draw(st.booleans()):
        return (quotient * divisor, divisor), {}  # a has the broadcast shape
    numerator = draw(arrays(small, st.floats(0.5, 2.0) | st.floats(-2.0, -0.5)))
    return (numerator, numerator / quotient), {}  # b has it


@st.composite
def softplus_inputs(draw: Any) -> tuple:
    """beta and threshold, and x with beta x at least 0.05 from the threshold (where softplus
    switches to x, a jump of about e**-threshold)."""
    beta = draw(st.sampled_from([1.0, 2.0, 0.5]))
    threshold = draw(st.sampled_from([20.0, 1.0, 2.5]))
    x = draw(arrays(draw(shapes()), ANY.filter(lambda v: abs(v * beta - threshold) > 0.05)))
    return (x,), {"beta": beta, "threshold": threshold}


@st.composite
def with_zeros(draw: Any, min_dims: int = 0) -> np.ndarray:
    """An array that often has exact zeros (one, or several): products and running products
    must be differentiated without dividing by them. The other elements are at least 0.1 from
    0: the second derivative of y / x (the gradient where there is no zero, as in PyTorch)
    cancels terms of size y / x**2, which is no longer a few ulps for x near 1e-50."""
    x = draw(arrays(draw(shapes(min_dims)), st.floats(0.1, 2.0) | st.floats(-2.0, -0.1)))
    if x.size and draw(st.booleans()):
        flat = x.reshape(-1)
        for i in draw(st.lists(st.integers(0, flat.size - 1), min_size=1, max_size=3)):
            flat[i] = 0.0
    return x


@st.composite
def prod_inputs(draw: Any) -> tuple:
    x = draw(with_zeros())
    return (x,), {"axis": draw(axes(x.ndim)), "keepdims": draw(st.booleans())}


@st.composite
def scan_inputs(draw: Any, zeros: bool = False) -> tuple:
    """cumsum and cumprod: one axis (maybe negative), or None (the flattened input)."""
    x = draw(with_zeros()) if zeros else draw(arrays(draw(shapes())))
    choices = [None] + list(range(-x.ndim, x.ndim))
    return (x,), {"axis": draw(st.sampled_from(choices))}


@st.composite
def var_inputs(draw: Any, distinct: bool = False) -> tuple:
    """var and std: axes, keepdims and a correction of 0, 1 or 2 (by either name) that leaves
    at least one degree of freedom. std has a kink where it is 0 (all elements equal): for it,
    ``distinct`` values 0.5 apart."""
    (x,), kwargs = draw(reduction(distinct=distinct))
    axis = kwargs["axis"]
    axes_ = range(x.ndim) if axis is None else ([axis] if isinstance(axis, int) else axis)
    count = math.prod(x.shape[a] for a in axes_)
    correction = draw(st.sampled_from([c for c in (0, 1, 2) if c < count]))
    kwargs["name"] = draw(st.sampled_from(["correction", "ddof"]))
    kwargs["correction"] = correction
    return (x,), kwargs


@st.composite
def norm_inputs(draw: Any) -> tuple:
    """p-norms with their kinks avoided: distinct magnitudes 0.5 apart with random signs (no
    tie for max |x|, none at 0)."""
    p = draw(st.sampled_from([2, "fro", 1, math.inf, -math.inf, 3, 1.5, -1]))
    shape = draw(shapes())
    size = math.prod(shape)
    order = np.array(draw(st.permutations(range(size))), dtype=np.float64)
    signs = np.array(draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=size, max_size=size)))
    x = ((order + 1) * 0.5 * signs).reshape(shape)
    return (x,), {"p": p, "axis": draw(axes(x.ndim)), "keepdims": draw(st.booleans())}


EINSUM_SUBSCRIPTS = [
    "ij,jk->ik", "ij,jk", "ii", "ii->i", "ij->", "ij->j", "...ij,...jk->...ik", "i,i", "i,j->ij",
    "iij->j", "iii->i", "bij,bjk->bik", "ij,ij->ij", "i...i", "ba", "Ab", ",ij->ij",
    "ij,jk,kl->il", "ii,i->i", "ijk->kji", "i...,j...->ij...", "...", "ij,ik", "ii,jj",
]


@st.composite
def einsum_inputs(draw: Any) -> tuple:
    """Subscripts from a list that covers NumPy's cases (implicit output, '...', diagonals,
    sums over one operand, three operands), with a length drawn for each label; a label
    shared between operands sometimes has length 1 in one of them, to broadcast."""
    subscripts = draw(st.sampled_from(EINSUM_SUBSCRIPTS))
    operands = subscripts.split("->")[0].split(",")
    sizes = {c: draw(st.integers(1, 3)) for c in subscripts if c.isalpha()}
    ellipsis = draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    arrays_ = []
    for sub in operands:
        shape = []
        for part in sub.replace("...", "."):
            if part == ".":
                shape.extend(ellipsis[draw(st.integers(0, len(ellipsis))):])
            elif sub.count(part) == 1 and draw(st.integers(0, 4)) == 0:
                shape.append(1)  # broadcasts against the other operands' length
            else:
                shape.append(sizes[part])
        arrays_.append(draw(arrays(tuple(shape))))
    return tuple(arrays_), {"subscripts": subscripts}


@st.composite
def tensordot_inputs(draw: Any) -> tuple:
    """dims as an int (the last n axes against the first n) or as two lists of axes, in any
    order and maybe negative."""
    n_a, n_b = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    a_shape = draw(hnp.array_shapes(min_dims=n_a, max_dims=n_a, min_side=1, max_side=3))
    b_shape = list(draw(hnp.array_shapes(min_dims=n_b, max_dims=n_b, min_side=1, max_side=3)))
    if draw(st.booleans()):
        k = draw(st.integers(0, min(n_a, n_b)))
        b_shape[:k] = a_shape[n_a - k:]
        dims: Any = k
    else:
        k = draw(st.integers(0, min(n_a, n_b)))
        left = draw(st.permutations(range(n_a)))[:k]
        right = draw(st.permutations(range(n_b)))[:k]
        for i, j in zip(left, right):
            b_shape[j] = a_shape[i]
        dims = ([i - n_a if draw(st.booleans()) else i for i in left], list(right))
    return (draw(arrays(a_shape)), draw(arrays(tuple(b_shape)))), {"dims": dims}


@st.composite
def dot_inputs(draw: Any, inner: bool = False) -> tuple:
    """Operands of every rank from 0 to 3 that ``numpy.dot`` (or ``numpy.inner``) accepts."""
    n_a, n_b = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    a_shape = list(draw(hnp.array_shapes(min_dims=n_a, max_dims=n_a, min_side=1, max_side=3)))
    b_shape = list(draw(hnp.array_shapes(min_dims=n_b, max_dims=n_b, min_side=1, max_side=3)))
    if n_a and n_b:
        b_shape[-1 if inner or n_b == 1 else -2] = a_shape[-1]
    return (draw(arrays(tuple(a_shape))), draw(arrays(tuple(b_shape)))), {}
