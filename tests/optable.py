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
