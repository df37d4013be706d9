"""The table of indexing ops (gather, take_along_dim, scatter_add, index_add, index_select,
masked_fill): each against NumPy (forward, float64 and float32) and float64 central
differences (backward), through the checks in ``optable.py``. Index arrays are drawn with
repeats and negative entries, so that gradients must add up where an index repeats.

Below the table: second-order checks, focused tests of one_hot, errors and edge cases
(inf and nan kept by masked_fill), and a cross-check of values and gradients against PyTorch.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_sm as tg
from optable import ANY, Op, arrays, check_against_torch, shapes, table_tests

# ------------------------------------------------------------------------- strategies


def index_arrays(shape: tuple[int, ...], n: int) -> st.SearchStrategy[np.ndarray]:
    """Indices into an axis of length n: negative ones too, and often repeated."""
    return hnp.arrays(np.int64, shape, elements=st.integers(-n, n - 1))


@st.composite
def gather_inputs(draw: Any) -> tuple:
    """gather: an index of x's rank, no longer than x off the axis, any length along it."""
    shape = draw(shapes(min_dims=1))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    a = axis % len(shape)
    index_shape = tuple(draw(st.integers(0, 4)) if d == a else draw(st.integers(1, n))
                        for d, n in enumerate(shape))
    index = draw(index_arrays(index_shape, shape[axis]))
    return (draw(arrays(shape)),), {"dim": axis, "index": index}


@st.composite
def take_along_inputs(draw: Any) -> tuple:
    """take_along_dim: index and tensor broadcast against each other off the axis."""
    shape = list(draw(shapes(min_dims=1)))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    index_shape = list(shape)
    index_shape[axis] = draw(st.integers(0, 4))
    for d in range(len(shape)):
        if d != axis % len(shape):
            which = draw(st.sampled_from(["same", "index 1", "tensor 1"]))
            if which == "index 1":
                index_shape[d] = 1
            elif which == "tensor 1":
                shape[d] = 1
    index = draw(index_arrays(tuple(index_shape), shape[axis]))
    return (draw(arrays(tuple(shape))),), {"dim": axis, "index": index}


@st.composite
def scatter_add_inputs(draw: Any) -> tuple:
    """scatter_add: src at least as long as the index on every axis (its rest is unused)."""
    shape = draw(shapes(min_dims=1))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    a = axis % len(shape)
    index_shape = tuple(draw(st.integers(0, 4)) if d == a else draw(st.integers(1, n))
                        for d, n in enumerate(shape))
    src_shape = tuple(n + draw(st.integers(0, 1)) for n in index_shape)
    index = draw(index_arrays(index_shape, shape[axis]))
    return (draw(arrays(shape)), draw(arrays(src_shape))), {"dim": axis, "index": index}


@st.composite
def index_add_inputs(draw: Any) -> tuple:
    shape = draw(shapes(min_dims=1))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    k = draw(st.integers(0, 5))
    index = draw(index_arrays((k,), shape[axis]))
    source_shape = list(shape)
    source_shape[axis] = k
    return ((draw(arrays(shape)), draw(arrays(tuple(source_shape)))),
            {"dim": axis, "index": index, "alpha": draw(st.sampled_from([1, 2.5, -1]))})


@st.composite
def index_select_inputs(draw: Any) -> tuple:
    shape = draw(shapes(min_dims=1))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    index = draw(index_arrays((draw(st.integers(0, 5)),), shape[axis]))
    return (draw(arrays(shape)),), {"dim": axis, "index": index}


@st.composite
def masked_fill_inputs(draw: Any) -> tuple:
    """A mask that broadcasts with x (and may make the result larger than x), and a value
    that is a number (kwarg) or a 0-d tensor (a second input, with a gradient)."""
    x_shape, mask_shape = draw(hnp.mutually_broadcastable_shapes(
        num_shapes=2, max_dims=3, max_side=4)).input_shapes
    mask = draw(hnp.arrays(np.bool_, mask_shape))
    x = draw(arrays(x_shape))
    if draw(st.booleans()):
        return (x,), {"mask": mask, "value": draw(st.sampled_from([0.0, -1.5, 2]))}
    return (x, draw(arrays((), ANY))), {"mask": mask}


# ------------------------------------------------------------------------- references

def _gather_ref(x: np.ndarray, dim: int, index: np.ndarray) -> np.ndarray:
    """torch.gather from its definition, one output element at a time."""
    out = np.empty(index.shape)
    for j in np.ndindex(*index.shape):
        position = list(j)
        position[dim] = index[j]
        out[j] = x[tuple(position)]
    return out


def _scatter_add_ref(x: np.ndarray, src: np.ndarray, dim: int, index: np.ndarray) -> np.ndarray:
    """torch.scatter_add from its definition: out[.., index[j], ..] += src[j]."""
    out = x.copy()
    for j in np.ndindex(*index.shape):
        position = list(j)
        position[dim] = index[j]
        out[tuple(position)] += src[j]
    return out


def _index_add_ref(x: np.ndarray, source: np.ndarray, dim: int, index: np.ndarray,
                   alpha: float) -> np.ndarray:
    out = x.copy()
    dim = dim % x.ndim
    for i, k in enumerate(index):
        out[(slice(None),) * dim + (k,)] += alpha * np.take(source, i, axis=dim)
    return out


OPS = [
    Op("gather", lambda x, dim, index: x.gather(dim, tg.tensor(index)),
       lambda x, dim, index: _gather_ref(x, dim, index), gather_inputs()),
    Op("take_along_dim", lambda x, dim, index: tg.take_along_dim(x, index, dim),
       lambda x, dim, index: np.take_along_axis(x, index, dim), take_along_inputs()),
    Op("scatter_add", lambda x, src, dim, index: x.scatter_add(dim, tg.tensor(index), src),
       lambda x, src, dim, index: _scatter_add_ref(x, src, dim, index), scatter_add_inputs()),
    Op("index_add", lambda x, source, dim, index, alpha: tg.index_add(x, dim, index, source,
                                                                      alpha=alpha),
       lambda x, source, dim, index, alpha: _index_add_ref(x, source, dim, index, alpha),
       index_add_inputs()),
    Op("index_select", lambda x, dim, index: x.index_select(dim, tg.tensor(index)),
       lambda x, dim, index: np.take(x, index, axis=dim), index_select_inputs()),
    Op("masked_fill", lambda x, *v, mask, value=None: tg.masked_fill(
           x, tg.tensor(mask), v[0] if v else value),
       lambda x, *v, mask, value=None: np.where(mask, v[0] if v else value, x),
       masked_fill_inputs()),
]
SECOND_ORDER = ["gather", "scatter_add", "index_add", "masked_fill"]


test_op, test_op_second_order = table_tests(OPS, SECOND_ORDER)


# ------------------------------------------------------------------------- focused tests

def test_one_hot(device: str) -> None:
    labels = tg.tensor([[0, 2], [1, 1]], device=device)
    out = tg.one_hot(labels, 4)
    assert out.shape == (2, 2, 4) and out.dtype == np.int64 and not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), np.eye(4, dtype=np.int64)[labels.numpy()])
    assert tg.one_hot(tg.tensor([0, 3], device=device)).shape == (2, 4)  # inferred: max + 1
    assert tg.one_hot(tg.tensor(1, device=device), 3).tolist() == [0, 1, 0]
    assert tg.one_hot(tg.zeros(0, dtype="int64", device=device), 3).shape == (0, 3)


@pytest.mark.parametrize("make, kind, message", [
    (lambda: tg.one_hot(tg.tensor([0.0, 1.0])), TypeError, "integer labels"),
    (lambda: tg.one_hot(tg.tensor([0, 3]), 3), ValueError, "label 3 is outside 0 to 2"),
    (lambda: tg.one_hot(tg.tensor([-1, 0]), 3), ValueError, "label -1"),
    (lambda: tg.one_hot(tg.zeros(0, dtype="int64")), ValueError, "pass num_classes"),
    (lambda: tg.one_hot(tg.tensor([0]), -2), ValueError, "num_classes"),
])
def test_one_hot_errors(make: Any, kind: type, message: str) -> None:
    with pytest.raises(kind, match=message):
        make()


def test_masked_fill_keeps_inf_and_nan_elsewhere(device: str) -> None:
    """Filled by assignment: an inf or nan that is not masked stays exactly as it was, and a
    masked one is replaced (a mask multiply would give nan for inf * 0)."""
    x = tg.tensor([np.inf, -np.inf, np.nan, 1.0], device=device, requires_grad=True)
    mask = tg.tensor([False, True, False, True], device=device)
    out = x.masked_fill(mask, 0.0)
    np.testing.assert_array_equal(out.numpy(), [np.inf, 0.0, np.nan, 0.0])
    out.sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 1.0, 0.0]
    value = tg.tensor(2.0, device=device, requires_grad=True)
    x.masked_fill(mask, value).sum().backward()
    assert value.grad.item() == 2.0  # it fills two places


def test_attention_style_mask_broadcasts(device: str) -> None:
    """scores.masked_fill(mask, -inf) with a (T, T) mask over (B, T, T) scores, then softmax:
    the masked weights are exactly 0 and the gradient is finite."""
    scores = tg.tensor(np.random.default_rng(0).standard_normal((2, 3, 3)), device=device,
                       requires_grad=True)
    mask = tg.tensor(np.triu(np.ones((3, 3), dtype=bool), 1), device=device)
    weights = scores.masked_fill(mask, -np.inf).softmax(-1)
    assert (weights.numpy()[:, mask.numpy()] == 0).all()
    (weights * tg.tensor(np.arange(18.0).reshape(2, 3, 3), device=device)).sum().backward()
    assert np.isfinite(scores.grad.numpy()).all()
    assert (scores.grad.numpy()[:, mask.numpy()] == 0).all()


def test_repeated_indices_add_up(device: str) -> None:
    x = tg.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    x.gather(0, tg.tensor([2, 2, 0, 2], device=device)).sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 3.0]
    out = tg.zeros(3, device=device).index_add(0, [1, 1, -1], tg.tensor([1.0, 2.0, 4.0],
                                                                       device=device))
    assert out.tolist() == [0.0, 3.0, 4.0]
    out = tg.zeros(2, 3, device=device).scatter_add(1, tg.tensor([[0, 0, 0]], device=device),
                                                     tg.ones(1, 3, device=device))
    assert out.tolist() == [[3.0, 0.0, 0.0], [0.0, 0.0, 0.0]]


def test_take_along_dim_with_argmax(device: str) -> None:
    x = tg.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], device=device)
    assert x.take_along_dim(x.argmax(1, keepdims=True), 1).tolist() == [[5.0], [7.0]]
    assert tg.take_along_axis(x, tg.tensor([[2], [1]], device=device), 1).tolist() \
        == [[2.0], [0.0]]
    assert tg.take_along_dim(x, tg.tensor([5, 0], device=device)).tolist() == [3.0, 1.0]


def test_in_place_forms_follow_pytorch(device: str) -> None:
    x = tg.zeros(2, 3, device=device)
    assert x.masked_fill_(tg.tensor([True, False, True], device=device), 1.0) is x
    assert x.tolist() == [[1, 0, 1], [1, 0, 1]]
    x.index_add_(0, [1], tg.ones(1, 3, device=device))
    x.scatter_add_(1, tg.tensor([[2]], device=device), tg.ones(1, 1, device=device))
    assert x.tolist() == [[1, 0, 2], [2, 1, 2]]
    leaf = tg.zeros(3, device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        leaf.masked_fill_(tg.tensor([True, False, False], device=device), 1.0)
    with pytest.raises(ValueError, match="does not fit in place"):
        tg.zeros(3, device=device).masked_fill_(tg.ones(2, 3, dtype="bool", device=device), 1.0)
    # Inside a graph, the write is recorded: the gradient flows around the filled places.
    w = tg.ones(3, device=device, requires_grad=True)
    y = w * 2
    y.masked_fill_(tg.tensor([False, True, False], device=device), 0.0)
    y.sum().backward()
    assert w.grad.tolist() == [2.0, 0.0, 2.0]


ERRORS = [
    (lambda: tg.ones(2, 3).gather(1, tg.tensor([0, 1])), ValueError, "same number of dim"),
    (lambda: tg.ones(2, 3).gather(1, tg.tensor([[3]])), IndexError, "index 3 is out of range"),
    (lambda: tg.ones(2, 3).gather(1, tg.tensor([[-4]])), IndexError, "valid: -3 to 2"),
    (lambda: tg.ones(2, 3).gather(1, tg.tensor([[0.0]])), TypeError, "integers"),
    (lambda: tg.ones(2, 3).gather(0, tg.zeros(1, 4, dtype="int64")), ValueError, "longer"),
    (lambda: tg.ones(2, 3).gather(2, tg.zeros(1, 1, dtype="int64")), np.exceptions.AxisError,
     "out of range"),
    (lambda: tg.tensor(1.0).gather(0, tg.tensor(0)), ValueError, "at least 1 dimension"),
    (lambda: tg.ones(2, 3).take_along_dim(tg.zeros(3, 1, dtype="int64"), 1), ValueError,
     "do not broadcast"),
    (lambda: tg.ones(2, 3).scatter_add(1, tg.zeros(2, 2, dtype="int64"), tg.ones(2, 1)),
     ValueError, "longer"),
    (lambda: tg.ones(2, 3).scatter_add(1, tg.zeros(2, 1, dtype="int64"), tg.ones(2)),
     ValueError, "same number of dimensions"),
    (lambda: tg.ones(2, 3).index_add(1, [0, 1], tg.ones(2, 3)), ValueError, r"need \(2, 2\)"),
    (lambda: tg.ones(2, 3).index_add(1, [[0]], tg.ones(2, 1)), ValueError, "must be 1-D"),
    (lambda: tg.ones(2, 3).index_select(0, [2]), IndexError, "out of range"),
    (lambda: tg.ones(2, 3).masked_fill(tg.ones(2, 3), 0.0), TypeError, "must be bool"),
    (lambda: tg.ones(2, 3).masked_fill(tg.ones(4, dtype="bool"), 0.0), ValueError,
     "does not broadcast"),
    (lambda: tg.ones(2, 3).masked_fill(tg.ones(3, dtype="bool"), tg.ones(3)), ValueError,
     "must be 0-d"),
    (lambda: tg.ones(2, 3).masked_fill(tg.ones(3, dtype="bool"), "x"), TypeError, "number"),
]


@pytest.mark.parametrize("case", range(len(ERRORS)))
def test_errors_name_the_problem(case: int) -> None:
    make, kind, message = ERRORS[case]
    with pytest.raises(kind, match=message):
        make()


# ------------------------------------------------------------------------- against PyTorch

TORCH_CASES: dict[str, tuple[Any, list[tuple[int, ...]]]] = {
    "gather": (lambda lib, a: lib.gather(a, 1, lib.tensor([[0, 0], [2, 1]])), [(2, 3)]),
    "gather dim 0": (lambda lib, a: a.gather(0, lib.tensor([[1, 0, 1]])), [(2, 3)]),
    "take_along_dim": (lambda lib, a: lib.take_along_dim(a, lib.tensor([[0], [2]]), 1),
                       [(2, 3)]),
    "take_along_dim broadcast": (
        lambda lib, a: lib.take_along_dim(a, lib.tensor([[[0, 2, 2]]]), 2), [(2, 3, 4)]),
    "take_along_dim flat": (lambda lib, a: lib.take_along_dim(a, lib.tensor([5, 0, 5])),
                            [(2, 3)]),
    # src no larger than index: PyTorch 2.13's backward fails for a larger one (ours takes
    # its leading part, as PyTorch's forward does).
    "scatter_add": (lambda lib, a, s: a.scatter_add(1, lib.tensor([[0, 0], [2, 0]]), s),
                    [(2, 3), (2, 2)]),
    "scatter_add dim 0": (lambda lib, a, s: lib.scatter_add(a, 0, lib.tensor([[1, 1, 0]]), s),
                          [(2, 3), (1, 3)]),
    "index_add": (lambda lib, a, s: a.index_add(0, lib.tensor([0, 2, 0]), s, alpha=2),
                  [(3, 2), (3, 2)]),
    "index_select": (lambda lib, a: lib.index_select(a, 1, lib.tensor([2, 0, 2])), [(2, 3)]),
    "masked_fill": (lambda lib, a: a.masked_fill(lib.tensor([[True, False, True]]), -1.0),
                    [(2, 3)]),
    "masked_fill tensor value": (
        lambda lib, a, v: lib.masked_fill(a, lib.tensor([True, False, True]), v),
        [(2, 3), ()]),
    "one_hot": (lambda lib, a: (lib.nn.functional.one_hot if lib.__name__ == "torch"
                                else lib.one_hot)(lib.tensor([[0, 3], [2, 2]]), 5), [(1,)]),
}


@pytest.mark.parametrize("name", TORCH_CASES)
def test_matches_pytorch(name: str) -> None:
    fn, input_shapes = TORCH_CASES[name]
    rng = np.random.default_rng(len(name))
    check_against_torch(fn, [rng.standard_normal(s) for s in input_shapes])


# ------------------------------------------------------------------ the GPU's range check

@pytest.mark.parametrize("index", [
    (np.arange(4), np.array([0, 2, 1, 2])), (np.arange(4), np.array([0, 3])),
    (Ellipsis, np.array([4])), (Ellipsis, np.array([5])), (slice(None), None, np.array([-4])),
    (None, np.array([3]), 1), (np.ones((4, 3), bool), np.array([4])),
    (np.ones((4, 3), bool), np.array([7])), np.array([4]), np.array([[-5]]),
    (1, slice(1, 2), np.array([-5, 4])), (np.array(3),), (np.array(-4), np.int64(2)),
], ids=repr)
def test_the_range_check_of_integer_indices_agrees_with_numpy(index):
    """What the tensors on a GPU call, since CuPy wraps a wrong index around: it must refuse
    exactly the indices that NumPy refuses."""
    from tinygrad_sm.ops.index import check_integer_parts
    x = np.zeros((4, 3, 5))
    try:
        x[index]
    except IndexError:
        with pytest.raises(IndexError, match="out of range for an axis of length"):
            check_integer_parts(index, x.shape)
    else:
        check_integer_parts(index, x.shape)
