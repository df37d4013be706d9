"""The reductions' and scans' table: prod, var, std, norm, cumsum and cumprod against NumPy
(forward) and float64 central differences (backward), through the checks in ``optable.py``.

Below the table: second-order checks, the conventions that central differences cannot pin
(the gradient of prod and cumprod at zeros, of std and norm at 0, PyTorch's correction=1 for
var against NumPy's ddof=0), all/any, the errors, and a cross-check against PyTorch.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pytest

import tinygrad_sm as tg
from optable import Op, norm_inputs, prod_inputs, scan_inputs, table_tests, var_inputs

# ------------------------------------------------------------------------- references


def _norm_ref(x: np.ndarray, p: Any, axis: Any, keepdims: bool) -> np.ndarray:
    a = np.abs(x)
    if p in (2, "fro"):
        return np.sqrt(np.sum(a * a, axis=axis, keepdims=keepdims))
    if p == math.inf:
        return np.max(a, axis=axis, keepdims=keepdims)
    if p == -math.inf:
        return np.min(a, axis=axis, keepdims=keepdims)
    return np.sum(a ** p, axis=axis, keepdims=keepdims) ** (1 / p)


def _var_ours(x: Any, axis: Any, keepdims: bool, name: str, correction: int,
              std: bool = False) -> Any:
    return (x.std if std else x.var)(axis, keepdims=keepdims, **{name: correction})


def _var_ref(x: np.ndarray, axis: Any, keepdims: bool, name: str, correction: int,
             std: bool = False) -> np.ndarray:
    return (np.std if std else np.var)(x, axis=axis, keepdims=keepdims, ddof=correction)


def _scan(how: str) -> Callable[..., Any]:
    return lambda x, axis: getattr(x, how)(axis)


# ------------------------------------------------------------------------- the table

OPS = [
    # prod: the inputs often hold one or several exact zeros
    Op("prod", lambda x, axis, keepdims: x.prod(axis, keepdims=keepdims),
       lambda x, axis, keepdims: np.prod(x, axis=axis, keepdims=keepdims), prod_inputs()),
    Op("var", _var_ours, _var_ref, var_inputs()),
    Op("std", lambda x, **kw: _var_ours(x, std=True, **kw),
       lambda x, **kw: _var_ref(x, std=True, **kw), var_inputs(distinct=True)),
    Op("norm", lambda x, p, axis, keepdims: x.norm(p, axis, keepdims), _norm_ref, norm_inputs()),
    Op("cumsum", _scan("cumsum"), lambda x, axis: np.cumsum(x, axis), scan_inputs()),
    Op("cumprod", _scan("cumprod"), lambda x, axis: np.cumprod(x, axis),
       scan_inputs(zeros=True)),
]
SECOND_ORDER = ["prod", "var", "cumsum", "norm", "cumprod"]


test_op, test_op_second_order = table_tests(OPS, SECOND_ORDER)


# ------------------------------------------------------------------------- conventions

def _leaf(values: Any, device: str) -> tg.Tensor:
    return tg.tensor(values, dtype="float64", device=device, requires_grad=True)


@pytest.mark.parametrize("values, expected", [
    ([2.0, 3.0, 4.0], [12.0, 8.0, 6.0]),
    ([2.0, 0.0, 3.0, 4.0], [0.0, 24.0, 0.0, 0.0]),  # one zero: the product of the others
    ([2.0, 0.0, 3.0, 0.0], [0.0, 0.0, 0.0, 0.0]),  # two zeros: 0 everywhere
    ([0.0], [1.0]),
])
def test_prod_gradient_at_zeros(values: list, expected: list, device: str) -> None:
    x = _leaf(values, device)
    with np.errstate(divide="raise", invalid="raise"):  # no division by the zeros
        x.prod().backward()
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_prod_gradient_at_zeros_along_an_axis(device: str) -> None:
    x = _leaf([[0.0, 2.0, 0.0], [1.0, 0.0, 3.0], [1.0, 2.0, 3.0]], device)
    x.prod(1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0, 0], [0, 3, 0], [6, 3, 2]])
    x.grad = None
    x.prod(0, keepdims=True).sum().backward()  # one zero in each column
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 0, 9], [0, 4, 0], [0, 0, 0]])


def test_prod_second_derivative_with_two_zeros(device: str) -> None:
    """With two zeros the gradient is 0, but its derivative is not: d2/dx0 dx1 of x0 x1 x2 at
    x0 = x1 = 0 is x2. The products without division are differentiable, so it comes out."""
    x = _leaf([0.0, 0.0, 5.0], device)
    (g,) = tg.grad(x.prod(), x, create_graph=True)
    np.testing.assert_array_equal(g.numpy(), [0, 0, 0])
    (h0,) = tg.grad(g[0], x)
    np.testing.assert_array_equal(h0.numpy(), [0, 5, 0])


def test_cumprod_gradient_at_zeros(device: str) -> None:
    """Only the elements up to a row's first zero have a gradient; at the zero, the products
    that leave it out: for x = (2, 0, 3, 0, 5) and g = (1, ..., 5), 2*2 + 3*(2*3) = 22."""
    x = _leaf([2.0, 0.0, 3.0, 0.0, 5.0], device)
    weights = tg.tensor([1.0, 2.0, 3.0, 4.0, 5.0], dtype="float64", device=device)
    with np.errstate(divide="raise", invalid="raise"):
        (x.cumprod(0) * weights).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 22.0, 0.0, 0.0, 0.0])


def test_var_defaults_to_pytorch_correction_not_numpy_ddof(device: str) -> None:
    data = np.array([1.0, 2.0, 4.0, 7.0])
    x = tg.tensor(data, dtype="float64", device=device)
    assert x.var().item() == pytest.approx(np.var(data, ddof=1), rel=1e-15)
    assert x.var(ddof=0).item() == pytest.approx(np.var(data), rel=1e-15)
    assert x.var(correction=0).item() == x.var(unbiased=False).item() == x.var(ddof=0).item()
    assert tg.std(x, ddof=2).item() == pytest.approx(np.std(data, ddof=2), rel=1e-15)
    with pytest.raises(TypeError, match="ddof"):
        x.var(ddof=0, correction=1)


def test_var_is_two_pass_and_exact_far_from_zero(device: str) -> None:
    """E[x^2] - E[x]^2 loses every digit here (1e8 squared is 1e16, past float64's 16 digits);
    two passes keep them."""
    data = 1e8 + np.array([1.0, 2.0, 3.0, 4.0])
    x = tg.tensor(data, dtype="float64", device=device)
    assert x.var(correction=0).item() == 1.25


def test_var_without_degrees_of_freedom_warns(device: str) -> None:
    x = _leaf([3.0], device)
    with pytest.warns(RuntimeWarning, match="degrees of freedom"):
        v = x.var()
    assert math.isnan(v.item())


def test_std_and_norm_have_gradient_zero_at_zero(device: str) -> None:
    """PyTorch's convention where sqrt's slope is infinite: 0, not 0 * inf = NaN."""
    x = _leaf([3.0, 3.0, 3.0], device)
    x.std().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 0])
    z = _leaf([[0.0, 0.0], [3.0, 4.0]], device)
    z.norm(dim=1).sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), [[0, 0], [0.6, 0.8]], rtol=1e-15)
    for p in (2, 3, 1.5):
        z.grad = None
        z.norm(p, dim=1).sum().backward()
        assert np.isfinite(z.grad.numpy()).all() and (z.grad.numpy()[0] == 0).all(), p


def test_norm_kinds(device: str) -> None:
    data = np.array([[3.0, -4.0, 0.0], [1.0, 1.0, -1.0]])
    x = tg.tensor(data, dtype="float64", device=device)
    assert x.norm().item() == pytest.approx(np.sqrt((data ** 2).sum()), rel=1e-15)
    np.testing.assert_allclose(x.norm(1, 1).numpy(), [7, 3])
    np.testing.assert_allclose(x.norm(math.inf, 1).numpy(), [4, 1])
    np.testing.assert_allclose(x.norm(-math.inf, 1).numpy(), [0, 1])
    np.testing.assert_allclose(x.norm(0, 1).numpy(), [2, 3])
    np.testing.assert_allclose(tg.norm(x, "fro", axis=0, keepdims=True).numpy(),
                               np.linalg.norm(data, axis=0, keepdims=True), rtol=1e-15)
    with pytest.raises(ValueError, match="nuc"):
        x.norm("nuc")


def test_norm_inf_splits_ties(device: str) -> None:
    x = _leaf([1.0, -1.0, 0.5], device)
    x.norm(math.inf).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.5, -0.5, 0.0])


def test_cumsum_and_cumprod_shapes(device: str) -> None:
    x = tg.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
    assert x.cumsum().tolist() == [1, 3, 6, 10]  # flattened, as NumPy, with no axis
    assert x.cumsum(0).tolist() == [[1, 2], [4, 6]]
    assert tg.cumsum(x, dim=-1).tolist() == [[1, 3], [3, 7]]
    assert x.cumprod(axis=1).tolist() == [[1, 2], [3, 12]]
    scalar = tg.tensor(5.0, device=device)
    assert scalar.cumsum(0).shape == () and scalar.cumsum().shape == (1,)
    assert tg.tensor([1, 2, 3], device=device).cumsum().dtype == np.int64
    assert x.cumsum(0, dtype="float64").dtype == np.float64


def test_reductions_of_integers(device: str) -> None:
    ints = tg.tensor([1, 2, 3, 4], device=device)
    assert ints.prod().item() == 24 and ints.prod().dtype == np.int64
    assert ints.var().dtype == np.float32 and ints.var().item() == pytest.approx(5 / 3)
    assert ints.norm().dtype == np.float32


def test_all_and_any(device: str) -> None:
    x = tg.tensor([[1.0, 0.0], [2.0, 3.0]], device=device, requires_grad=True)
    assert x.all().item() is False and x.any().item() is True
    assert x.all(1).tolist() == [False, True] and x.any(0).tolist() == [True, True]
    assert tg.all(x > -1, dim=0, keepdim=True).shape == (1, 2)
    assert tg.any(x, axis=(0, 1)).dtype == np.bool_
    assert not x.all().requires_grad


def test_errors(device: str) -> None:
    x = tg.tensor([[1.0, 2.0]], device=device)
    with pytest.raises(np.exceptions.AxisError):
        x.prod(2)
    with pytest.raises(TypeError):
        x.cumsum((0, 1))
    with pytest.raises(ValueError, match="p="):
        x.norm("max")


# ------------------------------------------------------------------------- against PyTorch

_ZEROS = np.array([[2.0, 0.0, 3.0, 0.0], [1.0, 2.0, 0.0, 4.0], [1.5, -2.0, 0.5, 3.0]])
_PLAIN = np.random.default_rng(3).standard_normal((3, 4))


def _torch_cases() -> list[tuple[str, Callable, Callable, list[Any]]]:
    return [
        ("prod all, with zeros", lambda x: x.prod(), lambda x: x.prod(), [_ZEROS[1:2]]),
        ("prod dim, with zeros", lambda x: x.prod(1), lambda x: x.prod(1), [_ZEROS]),
        ("prod dim 0", lambda x: x.prod(0, keepdim=True), lambda x: x.prod(0, keepdim=True),
         [_PLAIN]),
        ("cumprod with zeros", lambda x: x.cumprod(1), lambda x: x.cumprod(1), [_ZEROS]),
        ("cumprod dim 0", lambda x: x.cumprod(0), lambda x: x.cumprod(0), [_PLAIN]),
        ("cumsum", lambda x: x.cumsum(1) + x.cumsum(0), lambda x: x.cumsum(1) + x.cumsum(0),
         [_PLAIN]),
        ("var std default", lambda x: x.var() + x.std(), lambda x: x.var() + x.std(), [_PLAIN]),
        ("var std dim correction", lambda x: x.var(1, correction=0) + x.std(dim=0, keepdim=True
                                                                             ).sum(),
         lambda x: x.var(1, correction=0) + x.std(dim=0, keepdim=True).sum(), [_PLAIN]),
        ("std of a constant", lambda x: x.std(1), lambda x: x.std(1),
         [np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 3.0]])]),
        ("norm 2 with a zero row", lambda x: x.norm(dim=1), lambda x: x.norm(dim=1),
         [np.array([[0.0, 0.0], [3.0, 4.0]])]),
        ("norm kinds", lambda x: x.norm(1) + x.norm(float("inf")) + x.norm(-float("inf"))
         + x.norm(3) + x.norm("fro"), lambda x: x.norm(1) + x.norm(float("inf"))
         + x.norm(-float("inf")) + x.norm(3) + x.norm("fro"), [_PLAIN]),
        ("norm inf with ties", lambda x: x.norm(float("inf")), lambda x: x.norm(float("inf")),
         [np.array([1.0, -1.0, 0.5])]),
    ]


@pytest.mark.parametrize("case", _torch_cases(), ids=lambda case: case[0])
def test_against_pytorch(case: tuple) -> None:
    torch = pytest.importorskip("torch")
    name, ours_fn, theirs_fn, values = case
    ours = [tg.tensor(v, dtype="float64", requires_grad=True) for v in values]
    theirs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    out, expected = ours_fn(*ours), theirs_fn(*theirs)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-13, atol=1e-15,
                               err_msg=f"{name}: values")
    weights = np.random.default_rng(0).standard_normal(tuple(expected.shape))
    (out * tg.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for i, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-13, atol=1e-15,
                                   err_msg=f"{name}: gradient of input {i}")
