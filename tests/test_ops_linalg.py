"""The linear-algebra table: einsum (every kind of subscripts NumPy takes), tensordot, inner,
outer and dot against NumPy (forward) and float64 central differences (backward), through the
checks in ``optable.py``.

Below the table: second-order checks, the einsum cases that need care in backward (diagonals,
axes summed out of one operand, broadcasting), the parser's errors, and a cross-check against
PyTorch.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import strategies as st

import tinygrad_sm as tg
from optable import (EINSUM_SUBSCRIPTS, Op, arrays, dot_inputs, einsum_inputs, shapes, table_tests,
                     tensordot_inputs)
from tinygrad_sm import gradcheck, gradgradcheck

@st.composite
def outer_inputs(draw: Any) -> tuple:
    return tuple(draw(arrays(draw(shapes(1, 1)))) for _ in range(2)), {}


OPS = [
    Op("einsum", lambda *xs, subscripts: tg.einsum(subscripts, *xs),
       lambda *xs, subscripts: np.einsum(subscripts, *xs), einsum_inputs()),
    Op("tensordot", lambda a, b, dims: tg.tensordot(a, b, dims),
       lambda a, b, dims: np.tensordot(a, b, dims), tensordot_inputs()),
    Op("dot", lambda a, b: a.dot(b), np.dot, dot_inputs()),
    Op("inner", lambda a, b: tg.inner(a, b), np.inner, dot_inputs(inner=True)),
    Op("outer", lambda a, b: a.outer(b), np.outer, outer_inputs()),
]
test_op, test_op_second_order = table_tests(OPS, ["einsum", "tensordot"])


# ------------------------------------------------------------------------- einsum, always run

def _shapes_for(subscripts: str) -> list[tuple[int, ...]]:
    """Fixed lengths per label (i=2, j=3, ...) and (2, 1) for '...', so that every listed
    subscripts string is checked on every run, not only when hypothesis draws it."""
    sizes = {c: 2 + i % 3 for i, c in enumerate(sorted(set(subscripts) - set(".,->")))}
    out = []
    for sub in subscripts.split("->")[0].split(","):
        shape: list[int] = []
        for part in sub.replace("...", "."):
            shape.extend((2, 1) if part == "." else (sizes[part],))
        out.append(tuple(shape))
    return out


@pytest.mark.parametrize("subscripts", EINSUM_SUBSCRIPTS)
def test_einsum_every_kind_of_subscripts(subscripts: str, device: str) -> None:
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in _shapes_for(subscripts)]
    xs = [tg.tensor(a, dtype="float64", device=device, requires_grad=True) for a in arrays]
    out = tg.einsum(subscripts, *xs)
    expected = np.einsum(subscripts, *arrays)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)
    gradcheck(lambda *ts: tg.einsum(subscripts, *ts), xs)


def test_einsum_diagonal_gradient_lands_on_the_diagonal(device: str) -> None:
    a = tg.tensor(np.arange(9.0).reshape(3, 3), dtype="float64", device=device,
                  requires_grad=True)
    tg.einsum("ii->i", a).backward(tg.tensor([1.0, 2.0, 3.0], dtype="float64", device=device))
    np.testing.assert_array_equal(a.grad.numpy(), np.diag([1.0, 2.0, 3.0]))
    a.grad = None
    tg.einsum("ii", a).backward()  # the trace
    np.testing.assert_array_equal(a.grad.numpy(), np.eye(3))


def test_einsum_sum_over_one_operand_broadcasts_the_gradient(device: str) -> None:
    a = tg.tensor(np.ones((2, 3)), dtype="float64", device=device, requires_grad=True)
    tg.einsum("ij->i", a).backward(tg.tensor([1.0, 2.0], dtype="float64", device=device))
    np.testing.assert_array_equal(a.grad.numpy(), [[1, 1, 1], [2, 2, 2]])


def test_einsum_broadcasts_length_one_axes(device: str) -> None:
    a = tg.tensor(np.ones((1, 3)), dtype="float64", device=device, requires_grad=True)
    b = tg.tensor(np.arange(2.0).reshape(2, 1), dtype="float64", device=device,
                  requires_grad=True)
    out = tg.einsum("ij,ij->ij", a, b)
    assert out.shape == (2, 3)
    out.sum().backward()
    assert a.grad.shape == (1, 3) and b.grad.shape == (2, 1)
    np.testing.assert_array_equal(a.grad.numpy(), [[1, 1, 1]])
    np.testing.assert_array_equal(b.grad.numpy(), [[3], [3]])


def test_einsum_third_order_through_a_diagonal(device: str) -> None:
    x = tg.tensor(np.random.default_rng(1).standard_normal((3, 3)), dtype="float64",
                  device=device, requires_grad=True)
    gradgradcheck(lambda t: tg.einsum("ii,ij,jk->k", t, t, t), [x])


def test_einsum_forms_and_dtypes(device: str) -> None:
    a = tg.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
    assert tg.einsum("ij,jk", [a, a]).tolist() == (a @ a).tolist()  # a list, as torch takes
    assert tg.einsum("ij->ji", a).tolist() == a.T.tolist()
    ints = tg.tensor([[1, 2], [3, 4]], device=device)
    assert tg.einsum("ij,jk", ints, ints).dtype == np.int64
    assert tg.einsum("ij,jk", ints, a).dtype == np.float32
    assert tg.einsum("i,i", [1.0, 2.0], tg.tensor([3.0, 4.0], device=device)).item() == 11.0


@pytest.mark.parametrize("subscripts, shapes, message", [
    ("ij,jk", [(2, 3)], "names 2 operands"),
    ("ij", [(2, 3, 4)], "names 2"),
    ("ijk", [(2, 3)], "names 3"),
    ("i1", [(2, 3)], "invalid subscript '1'"),
    ("i.j", [(2, 3)], "'.'"),
    ("ij->ii", [(2, 3)], "twice"),
    ("ij->k", [(2, 3)], "'k' is not an axis"),
    ("ij-", [(2, 3)], "'->'"),
    ("ij,jk", [(2, 3), (4, 5)], "length 3 in one operand and 4"),
    ("ii", [(2, 3)], "diagonal"),
    ("...i->i", [(2, 3)], "add '...'"),
])
def test_einsum_errors(subscripts: str, shapes: list, message: str, device: str) -> None:
    xs = [tg.zeros(s, device=device) for s in shapes]
    with pytest.raises(ValueError, match=message):
        tg.einsum(subscripts, *xs)
    with pytest.raises(ValueError):  # NumPy rejects them too
        np.einsum(subscripts, *[np.zeros(s) for s in shapes])


def test_tensordot_dot_inner_outer_errors(device: str) -> None:
    a, b = tg.zeros((2, 3), device=device), tg.zeros((4, 5), device=device)
    with pytest.raises(ValueError, match="length 3"):
        tg.tensordot(a, b, 1)
    with pytest.raises(ValueError, match="dims=3"):
        tg.tensordot(a, b, 3)
    with pytest.raises(ValueError, match="pairs 2 axes with 1"):
        tg.tensordot(a, b, ([0, 1], [0]))
    with pytest.raises(ValueError, match="twice"):
        tg.tensordot(a, tg.zeros((3, 3), device=device), ([1, 1], [0, 1]))
    with pytest.raises(ValueError, match="do not align"):
        a.dot(b)
    with pytest.raises(ValueError, match="1-D"):
        a.outer(b)


# ------------------------------------------------------------------------- against PyTorch

_RNG = np.random.default_rng(5)


def _torch_cases() -> list[tuple[str, Callable, list[Any]]]:
    """(name, fn(lib, *tensors) for lib = tinygrad_sm and torch alike, inputs)."""
    m, n, v = _RNG.standard_normal((3, 4)), _RNG.standard_normal((4, 2)), _RNG.standard_normal(4)
    batch = _RNG.standard_normal((2, 3, 4))
    square = _RNG.standard_normal((3, 3))
    return [
        ("einsum matmul", lambda lib, a, b: lib.einsum("ij,jk->ik", a, b), [m, n]),
        ("einsum implicit", lambda lib, a, b: lib.einsum("ij,jk", a, b), [m, n]),
        ("einsum trace and diagonal", lambda lib, a: lib.einsum("ii", a) + lib.einsum("ii->i", a
                                                                                       ).sum(),
         [square]),
        ("einsum ellipsis batch", lambda lib, a, b: lib.einsum("...ij,jk->...ik", a, b),
         [batch, n]),
        ("einsum three operands", lambda lib, a, b, c: lib.einsum("ij,jk,k->i", a, b, c),
         [m, n, _RNG.standard_normal(2)]),
        ("einsum sum out of one", lambda lib, a: lib.einsum("ijk->j", a), [batch]),
        ("tensordot", lambda lib, a, b: lib.tensordot(a, b, dims=([1, 2], [1, 0])),
         [batch, _RNG.standard_normal((4, 3, 5))]),
        ("tensordot int", lambda lib, a, b: lib.tensordot(a, b, 1), [m, n]),
        ("outer", lambda lib, a, b: lib.outer(a, b), [v, _RNG.standard_normal(3)]),
        ("inner", lambda lib, a, b: lib.inner(a, b), [batch, m]),
        ("dot of vectors", lambda lib, a, b: lib.dot(a, b), [v, _RNG.standard_normal(4)]),
    ]


@pytest.mark.parametrize("case", _torch_cases(), ids=lambda case: case[0])
def test_against_pytorch(case: tuple) -> None:
    torch = pytest.importorskip("torch")
    name, fn, values = case
    ours = [tg.tensor(v, dtype="float64", requires_grad=True) for v in values]
    theirs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    out, expected = fn(tg, *ours), fn(torch, *theirs)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-14,
                               err_msg=f"{name}: values")
    weights = np.random.default_rng(0).standard_normal(tuple(expected.shape))
    (out * tg.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for i, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-14,
                                   err_msg=f"{name}: gradient of input {i}")


def test_dot_of_every_rank_matches_numpy(device: str) -> None:
    """np.dot's rules for every pair of ranks 0 to 3 (torch.dot takes vectors only)."""
    rng = np.random.default_rng(2)
    for sa in [(), (3,), (2, 3), (4, 2, 3)]:
        for sb in [(), (3,), (3, 2), (5, 3, 2)]:
            a, b = rng.standard_normal(sa), rng.standard_normal(sb)
            x, y = (tg.tensor(v, dtype="float64", device=device, requires_grad=True)
                    for v in (a, b))
            out = x.dot(y)
            expected = np.dot(a, b)
            assert out.shape == np.shape(expected), (sa, sb)
            np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-14)
            gradcheck(lambda s, t: s.dot(t), [x, y])
