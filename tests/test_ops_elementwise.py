"""The elementwise ops' table: each op against NumPy (forward) and float64 central differences
(backward), through the checks in ``optable.py``, with broadcasting for the binary ops.

Below the table: second-order checks for a representative subset, the conventions at kinks and
ties (where central differences say nothing, so each is pinned by its own test), the numerics
(erf's accuracy, softplus and logaddexp at extreme inputs, ``where`` without NaN leaks), the
errors, and a cross-check of values and gradients against PyTorch where it is installed.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import strategies as st

import tinygrad_sm as tg
from optable import (ANY, AWAY_FROM_ZERO, HALVES, Op, POSITIVE, QUARTERS_OFF, away_from_steps,
                     binary, clamp_inputs, mod_inputs, softplus_inputs, table_tests, unary,
                     where_inputs, with_scalar)

# ------------------------------------------------------------------------- references

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _gelu(x: np.ndarray, approximate: str = "none") -> np.ndarray:
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))


def _softplus(x: np.ndarray, beta: float, threshold: float) -> np.ndarray:
    return np.where(beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta)


def _clamp_ours(*values: Any, bounds: dict[str, Any]) -> Any:
    """clamp with the bounds the strategy chose: numbers as they are, arrays by position."""
    kwargs = {k: v if isinstance(v, float) else values[v] for k, v in bounds.items()}
    return values[0].clamp(**kwargs)


def _clamp_ref(*values: Any, bounds: dict[str, Any]) -> np.ndarray:
    lo = bounds.get("min")
    hi = bounds.get("max")
    out = values[0]
    if lo is not None:
        out = np.maximum(out, lo if isinstance(lo, float) else values[lo])
    if hi is not None:
        out = np.minimum(out, hi if isinstance(hi, float) else values[hi])
    return out


def _step(how: str) -> Callable[..., Any]:
    return lambda x, **kw: getattr(x, how)(**kw)


# ------------------------------------------------------------------------- the table

OPS = [
    # selecting: maximum/minimum on two grids a quarter apart (no ties), where, clamp
    Op("maximum", lambda a, b: a.maximum(b), np.maximum, binary(HALVES, QUARTERS_OFF)),
    Op("minimum", lambda a, b: a.minimum(b), np.minimum, binary(QUARTERS_OFF, HALVES)),
    Op("where", lambda a, b, cond: tg.where(tg.tensor(cond, device=a.device), a, b),
       lambda a, b, cond: np.where(cond, a, b), where_inputs()),
    Op("clamp", _clamp_ours, _clamp_ref, clamp_inputs()),
    Op("hardtanh", lambda x: x.hardtanh(), lambda x: np.clip(x, -1, 1),
       unary(st.floats(-0.9, 0.9) | st.floats(1.1, 3) | st.floats(-3, -1.1))),
    # steps: gradient 0, away from the jumps
    Op("sign", _step("sign"), np.sign, away_from_steps("sign")),
    Op("floor", _step("floor"), np.floor, away_from_steps("floor")),
    Op("ceil", _step("ceil"), np.ceil, away_from_steps("ceil")),
    Op("trunc", _step("trunc"), np.trunc, away_from_steps("trunc")),
    Op("round", _step("round"), lambda x, decimals: np.round(x, decimals),
       away_from_steps("round")),
    Op("remainder %", lambda a, b: a % b, np.remainder, mod_inputs()),
    Op("fmod", lambda a, b: a.fmod(b), np.fmod, mod_inputs()),
    Op("scalar % tensor", lambda x, c: c % x, lambda x, c: c % x,
       with_scalar(st.floats(0.36, 0.45) | st.floats(-0.45, -0.36), [1.0, -1.0], "c")),
    # logarithms and exponentials
    Op("reciprocal", lambda x: x.reciprocal(), np.reciprocal, unary(AWAY_FROM_ZERO)),
    Op("log1p", lambda x: x.log1p(), np.log1p, unary(st.floats(-0.5, 3.0))),
    Op("expm1", lambda x: x.expm1(), np.expm1, unary()),
    Op("log2", lambda x: x.log2(), np.log2, unary(POSITIVE)),
    Op("log10", lambda x: x.log10(), np.log10, unary(POSITIVE)),
    Op("logaddexp", lambda a, b: a.logaddexp(b), np.logaddexp, binary()),
    # trigonometry
    Op("sin", lambda x: x.sin(), np.sin, unary()),
    Op("cos", lambda x: x.cos(), np.cos, unary()),
    Op("tan", lambda x: x.tan(), np.tan, unary(st.floats(-1.2, 1.2))),
    Op("arcsin", lambda x: x.arcsin(), np.arcsin, unary(st.floats(-0.9, 0.9))),
    Op("arccos", lambda x: x.acos(), np.arccos, unary(st.floats(-0.9, 0.9))),
    Op("arctan", lambda x: tg.atan(x), np.arctan, unary()),
    # the angle jumps from pi to -pi across y = 0 (for x < 0): y stays away from 0
    Op("arctan2", lambda a, b: a.arctan2(b), np.arctan2, binary(AWAY_FROM_ZERO, ANY)),
    Op("sinh", lambda x: x.sinh(), np.sinh, unary()),
    Op("cosh", lambda x: x.cosh(), np.cosh, unary()),
    Op("erf", lambda x: x.erf(), _erf, unary()),
    # activations
    Op("softplus", lambda x, beta, threshold: x.softplus(beta, threshold), _softplus,
       softplus_inputs()),
    Op("leaky_relu", lambda x, slope: x.leaky_relu(slope),
       lambda x, slope: np.where(x > 0, x, slope * x),
       with_scalar(AWAY_FROM_ZERO, [0.01, 0.2], "slope")),
    Op("elu", lambda x, alpha: x.elu(alpha),
       lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(x)),
       with_scalar(AWAY_FROM_ZERO, [1.0, 0.5], "alpha")),
    Op("gelu", lambda x, approximate: x.gelu(approximate), _gelu,
       with_scalar(ANY, ["none", "tanh"], "approximate")),
    Op("silu", lambda x: x.silu(), lambda x: x / (1 + np.exp(-x)), unary()),
]
SECOND_ORDER = ["maximum", "where", "clamp", "sin", "log1p", "softplus", "gelu", "logaddexp"]


test_op, test_op_second_order = table_tests(OPS, SECOND_ORDER)


# ------------------------------------------------------------------------- conventions

def _grads(fn: Callable[..., Any], *values: Any, device: str = "cpu") -> list[np.ndarray]:
    xs = [tg.tensor(v, dtype="float64", device=device, requires_grad=True) for v in values]
    fn(*xs).sum().backward()
    return [x.grad.numpy() for x in xs]


def test_maximum_and_minimum_split_ties_evenly(device: str) -> None:
    a, b = [1.0, 2.0, 3.0], [1.0, 1.0, 4.0]
    ga, gb = _grads(lambda x, y: x.maximum(y), a, b, device=device)
    np.testing.assert_array_equal(ga, [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(gb, [0.5, 0.0, 1.0])
    ga, gb = _grads(lambda x, y: x.minimum(y), a, b, device=device)
    np.testing.assert_array_equal(ga, [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(gb, [0.5, 1.0, 0.0])
    # broadcast: one b against three a's, tied with two: b gets 1/2 + 1/2 + 1
    (gb,) = _grads(lambda y: tg.tensor([2.0, 2.0, 0.0], dtype="float64", device=device)
                   .maximum(y), [2.0], device=device)
    np.testing.assert_array_equal(gb, [2.0])


def test_max_and_min_of_two_tensors_are_maximum_and_minimum(device: str) -> None:
    """torch.max(a, b) and a.max(b) with a tensor b: elementwise, not a reduction along b."""
    a = [[1.0, 5.0], [3.0, -2.0]]
    b = [0.0, 4.0]
    for ours, numpy in ((lambda x, y: tg.max(x, y), np.maximum),
                        (lambda x, y: x.max(y), np.maximum),
                        (lambda x, y: tg.min(x, y), np.minimum),
                        (lambda x, y: x.min(dim=y), np.minimum)):
        x, y = (tg.tensor(v, dtype="float64", device=device, requires_grad=True) for v in (a, b))
        out = ours(x, y)
        np.testing.assert_array_equal(out.numpy(), numpy(a, b))
        out.sum().backward()
        wins = numpy(a, b) == np.array(a)
        np.testing.assert_array_equal(x.grad.numpy(), wins)
        np.testing.assert_array_equal(y.grad.numpy(), (~wins).sum(0))
    assert tg.max(tg.tensor(a, device=device), 1).values.tolist() == [5.0, 3.0]  # an int: dim


def test_maximum_ties_sum_to_one_with_a_number(device: str) -> None:
    (g,) = _grads(lambda x: x.maximum(0.0) + tg.minimum(0.0, x), [0.0, 1.0, -1.0],
                  device=device)
    np.testing.assert_array_equal(g, [1.0, 1.0, 1.0])  # 1/2 + 1/2 at the tie


def test_clamp_gradient_is_one_on_the_bounds(device: str) -> None:
    """PyTorch's convention: the bounds count as inside (x == min or max gets gradient 1)."""
    (g,) = _grads(lambda x: x.clamp(-1.0, 1.0), [-2.0, -1.0, 0.0, 1.0, 2.0], device=device)
    np.testing.assert_array_equal(g, [0, 1, 1, 1, 0])
    (g,) = _grads(lambda x: x.clip(min=0.0), [-1.0, 0.0, 1.0], device=device)
    np.testing.assert_array_equal(g, [0, 1, 1])
    (g,) = _grads(lambda x: tg.clamp(x, max=0.0), [-1.0, 0.0, 1.0], device=device)
    np.testing.assert_array_equal(g, [1, 1, 0])


def test_hardtanh_gradient_is_zero_on_the_bounds(device: str) -> None:
    (g,) = _grads(lambda x: x.hardtanh(), [-2.0, -1.0, 0.0, 1.0, 2.0], device=device)
    np.testing.assert_array_equal(g, [0, 0, 1, 0, 0])


def test_clamp_with_min_above_max_gives_max(device: str) -> None:
    x = tg.tensor([-5.0, 0.0, 5.0], device=device)
    np.testing.assert_array_equal(x.clamp(2.0, 1.0).numpy(), [1.0, 1.0, 1.0])
    x, lo, hi = (tg.tensor(v, dtype="float64", device=device, requires_grad=True)
                 for v in ([0.0, 3.0], [2.0, 2.0], [1.0, 1.0]))
    x.clamp(lo, hi).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0])
    np.testing.assert_array_equal(lo.grad.numpy(), [0, 0])
    np.testing.assert_array_equal(hi.grad.numpy(), [1, 1])


def test_steps_have_zero_gradient_even_at_the_jumps(device: str) -> None:
    for how in ("sign", "floor", "ceil", "round", "trunc"):
        (g,) = _grads(lambda x: getattr(x, how)() * 3, [-1.0, -0.5, 0.0, 0.5, 2.0],
                      device=device)
        np.testing.assert_array_equal(g, np.zeros(5), err_msg=how)


def test_round_halves_to_even(device: str) -> None:
    x = tg.tensor([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.25, 0.35], dtype="float64", device=device)
    np.testing.assert_array_equal(x.round().numpy(), [0, 2, 2, -0, -2, -2, 0, 0])
    np.testing.assert_array_equal(x.round(1).numpy(), np.round(x.numpy(), 1))
    np.testing.assert_array_equal(tg.round(tg.tensor([125, 135], device=device), -1).numpy(),
                                  [120, 140])


def test_steps_on_integers_and_bools_change_nothing(device: str) -> None:
    ints = tg.tensor([-2, 0, 3], device=device)
    for how in ("floor", "ceil", "round", "trunc"):
        out = getattr(ints, how)()
        assert out.dtype == np.int64 and out.tolist() == [-2, 0, 3], how
        assert out._array is not ints._array, f"{how} must give a copy"
    assert ints.sign().tolist() == [-1, 0, 1] and ints.sign().dtype == np.int64
    flags = tg.tensor([True, False], device=device)
    assert flags.sign().dtype == np.bool_ and flags.sign().tolist() == [True, False]


def test_mod_follows_python_and_fmod_follows_c(device: str) -> None:
    a = tg.tensor([-3.0, 3.0, -3.0, 3.0, 5.5], device=device)
    b = tg.tensor([2.0, -2.0, -2.0, 2.0, 2.0], device=device)
    assert (a % b).tolist() == [-3.0 % 2.0, 3.0 % -2.0, -3.0 % -2.0, 3.0 % 2.0, 5.5 % 2.0]
    assert a.fmod(b).tolist() == [math.fmod(-3, 2), math.fmod(3, -2), math.fmod(-3, -2),
                                  math.fmod(3, 2), math.fmod(5.5, 2)]
    assert (7 % tg.tensor([3, -3], device=device)).tolist() == [1, -2]
    assert (tg.tensor([7, -7], device=device) % 3).dtype == np.int64
    assert tg.remainder(-1.0, tg.tensor([3.0], device=device)).tolist() == [2.0]


def test_mod_gradients(device: str) -> None:
    ga, gb = _grads(lambda x, y: x % y, [-3.5, 3.5, 7.0], [2.0, 2.0, -3.0], device=device)
    np.testing.assert_array_equal(ga, [1, 1, 1])
    np.testing.assert_array_equal(gb, [-math.floor(-3.5 / 2), -math.floor(3.5 / 2),
                                       -math.floor(7 / -3)])
    ga, gb = _grads(lambda x, y: x.fmod(y), [-3.5, 3.5, 7.0], [2.0, 2.0, -3.0], device=device)
    np.testing.assert_array_equal(gb, [-math.trunc(-3.5 / 2), -math.trunc(3.5 / 2),
                                       -math.trunc(7 / -3)])


def test_leaky_relu_and_elu_at_zero(device: str) -> None:
    (g,) = _grads(lambda x: x.leaky_relu(), [0.0], device=device)
    assert g.tolist() == [0.01]
    (g,) = _grads(lambda x: x.elu(0.5), [0.0], device=device)
    assert g.tolist() == [0.5]


# ------------------------------------------------------------------------- where

def test_where_gradient_does_not_leak_nan_from_the_branch_not_taken(device: str) -> None:
    """where hands each branch exactly 0 where it was not taken, routed by where itself rather
    than by multiplying with a 0/1 mask: an inf or NaN gradient arriving for an element reaches
    only the branch it came from (a mask would give inf * 0 = NaN to the other)."""
    a = tg.tensor([1.0, 2.0, 3.0], dtype="float64", device=device, requires_grad=True)
    b = tg.tensor([4.0, 5.0, 6.0], dtype="float64", device=device, requires_grad=True)
    out = tg.where(tg.tensor([True, False, True], device=device), a, b)
    out.backward(tg.tensor([math.inf, math.nan, 1.0], dtype="float64", device=device))
    np.testing.assert_array_equal(a.grad.numpy(), [math.inf, 0.0, 1.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.0, math.nan, 0.0])


def test_where_with_a_safe_input_gives_exact_gradients(device: str) -> None:
    """A branch whose own backward divides by 0 where it is not taken (log at 0, sqrt of a
    negative number) still makes 0 * inf = NaN inside that branch's backward, in PyTorch
    too; the idiom is to give the branch a safe input there, with a second where. Its
    gradients are then exact, and the second order too."""
    x = tg.tensor([2.0, 0.0, -1.0], dtype="float64", device=device, requires_grad=True)
    positive = x > 0
    safe = tg.where(positive, x, 1.0)
    y = tg.where(positive, safe.log(), 0.0)
    (g,) = tg.grad(y.sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.numpy(), [0.5, 0.0, 0.0])
    (gg,) = tg.grad(g.sum(), x)
    np.testing.assert_array_equal(gg.numpy(), [-0.25, 0.0, 0.0])


def test_where_forms(device: str) -> None:
    cond = tg.tensor([[True], [False]], device=device)
    x = tg.tensor([1.0, 2.0, 3.0], device=device)
    assert tg.where(cond, x, 0.0).tolist() == [[1, 2, 3], [0, 0, 0]]
    assert tg.where(cond, -1.0, x).tolist() == [[-1, -1, -1], [1, 2, 3]]
    assert x.where(x > 1.5, 9.0).tolist() == [9, 2, 3]
    assert tg.where(cond, x, 0.0).dtype == np.float32  # the number takes the tensor's dtype
    rows, cols = tg.where(tg.tensor([[True, False], [False, True]], device=device))
    assert rows.tolist() == [0, 1] and cols.tolist() == [0, 1]
    assert tg.where(np.array([True, False]), x[:2], x[1:]).tolist() == [1, 3]


def test_where_errors(device: str) -> None:
    x = tg.tensor([1.0, 2.0], device=device)
    with pytest.raises(TypeError, match="bool"):
        tg.where(tg.tensor([1, 0], device=device), x, x)
    with pytest.raises(ValueError, match=r"\(3,\)"):
        tg.where(tg.tensor([True, False, True], device=device), x, x)
    with pytest.raises(TypeError, match="condition alone"):
        tg.where(x > 0, x)


# ------------------------------------------------------------------------- numerics

def test_erf_is_accurate_to_float64_precision() -> None:
    """Against the C library's erf (math.erf, correct to an ulp) on a dense grid over every
    piece, both signs, near 0 and beyond 6."""
    x = np.concatenate([np.linspace(-6.5, 6.5, 26001), np.geomspace(1e-300, 1, 301),
                        [0.0, 5.999999, 6.0, 1e8]])
    x = np.concatenate([x, -x])
    ours = tg.tensor(x, dtype="float64").erf().numpy()
    exact = _erf(x)
    rel = np.abs(ours - exact) / np.maximum(np.abs(exact), 1e-300)
    assert rel.max() < 1e-15, f"relative error {rel.max():.3g} at x = {x[rel.argmax()]}"
    # float32 in, float32 out, within a few of its ulps
    x32 = x.astype(np.float32)
    ours32 = tg.tensor(x32).erf().numpy()
    assert ours32.dtype == np.float32
    exact32 = _erf(x32.astype(np.float64))
    ulps = np.abs(ours32 - exact32) / np.spacing(np.abs(exact32).astype(np.float32))
    assert ulps.max() <= 4
    assert np.isnan(tg.tensor([math.nan]).erf().item())
    assert tg.tensor([math.inf, -math.inf]).erf().tolist() == [1.0, -1.0]


def test_erf_of_integers_and_float16(device: str) -> None:
    assert tg.tensor([0, 1], device=device).erf().dtype == np.float32
    half = tg.tensor([0.5], dtype="float16", device=device).erf()
    assert half.dtype == np.float16 and abs(half.item() - math.erf(0.5)) < 1e-3


def test_softplus_is_stable_and_switches_to_x_above_the_threshold(device: str) -> None:
    x = tg.tensor([-1000.0, -30.0, 0.0, 19.0, 20.5, 1000.0], dtype="float64", device=device,
                  requires_grad=True)
    with np.errstate(over="raise"):
        y = x.softplus()
        y.sum().backward()
    np.testing.assert_allclose(y.numpy(), [0.0, math.log1p(math.exp(-30)), math.log(2),
                                           math.log1p(math.exp(19)), 20.5, 1000.0], rtol=1e-15)
    assert y.numpy()[4] == 20.5  # exactly x above the threshold
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 1 / (1 + math.exp(30)), 0.5,
                                                1 / (1 + math.exp(-19)), 1.0, 1.0], rtol=1e-15)


def test_logaddexp_is_stable(device: str) -> None:
    a = tg.tensor([1000.0, -1000.0, 0.0, -math.inf], dtype="float64", device=device,
                  requires_grad=True)
    b = tg.tensor([1000.0, -1001.0, -math.inf, 0.0], dtype="float64", device=device,
                  requires_grad=True)
    y = a.logaddexp(b)
    y.sum().backward()
    np.testing.assert_allclose(y.numpy(), [1000 + math.log(2), -1000 + math.log1p(math.exp(-1)),
                                           0.0, 0.0], rtol=1e-15)
    np.testing.assert_allclose(a.grad.numpy(), [0.5, 1 / (1 + math.exp(-1)), 1.0, 0.0])
    np.testing.assert_allclose(b.grad.numpy(), [0.5, 1 / (1 + math.exp(1)), 0.0, 1.0])


def test_elu_and_gelu_do_not_overflow_on_the_branch_not_taken(device: str) -> None:
    x = tg.tensor([-1000.0, 1000.0], dtype="float64", device=device, requires_grad=True)
    with np.errstate(over="raise", invalid="raise"):
        (x.elu() + x.gelu() + x.gelu("tanh") + x.silu()).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 4.0], atol=1e-300)


def test_integer_inputs_become_float32(device: str) -> None:
    ints = tg.tensor([1, 2], device=device)
    for name in ("sin", "cos", "tan", "arctan", "sinh", "cosh", "log1p", "expm1", "log2",
                 "log10", "reciprocal", "erf", "softplus", "gelu", "silu", "elu", "leaky_relu"):
        assert getattr(ints, name)().dtype == np.float32, name
    assert tg.clamp(ints, 0.5, 1.5).tolist() == [1.0, 1.5]  # a float bound makes floats
    assert tg.clamp(ints, 0, 1).dtype == np.int64


def test_float32_stays_float32(device: str) -> None:
    x = tg.tensor([0.5, -0.25], device=device, requires_grad=True)
    for fn in (lambda t: t.maximum(0.0), lambda t: t.clamp(-0.3, 0.3), lambda t: t % 0.2,
               lambda t: t.arctan2(1.0), lambda t: t.logaddexp(0.0), lambda t: t.hardtanh()):
        y = fn(x)
        assert y.dtype == np.float32
        x.grad = None
        y.sum().backward()
        assert x.grad.dtype == np.float32


def test_errors(device: str) -> None:
    x = tg.tensor([1.0], device=device)
    with pytest.raises(ValueError, match="min or max"):
        x.clamp()
    with pytest.raises(ValueError, match="approximate"):
        x.gelu("erf")
    with pytest.raises(ValueError, match="min_val"):
        x.hardtanh(1.0, -1.0)


# ------------------------------------------------------------------------- against PyTorch

def _torch_cases() -> list[tuple[str, Callable, Callable, list[Any]]]:
    """(name, ours(tg, *tensors), theirs(torch, *tensors), inputs): each written once per
    library, including the conventions at ties, bounds and thresholds."""
    edges = [-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0]
    grid = np.array(edges)
    rng = np.random.default_rng(7)
    mixed = rng.standard_normal((3, 4)) * 2
    return [
        ("maximum ties", lambda tg_, a, b: a.maximum(b),
         lambda t, a, b: t.maximum(a, b), [grid, np.array(edges[::-1])]),
        ("minimum broadcast", lambda tg_, a, b: tg_.minimum(a, b),
         lambda t, a, b: t.minimum(a, b), [mixed, np.array([0.0, 1.0, -1.0, 0.5])]),
        ("max(a, b)", lambda tg_, a, b: tg_.max(a, b), lambda t, a, b: t.max(a, b),
         [grid, np.zeros(7)]),
        ("where", lambda tg_, a, b: tg_.where(a > 0, a, b), lambda t, a, b: t.where(a > 0, a, b),
         [mixed, mixed[0]]),
        ("clamp bounds", lambda tg_, x: x.clamp(-1.0, 1.0), lambda t, x: x.clamp(-1.0, 1.0),
         [grid]),
        ("clamp tensor bounds", lambda tg_, x, lo, hi: x.clamp(lo, hi),
         lambda t, x, lo, hi: x.clamp(lo, hi),
         [np.array([-2.0, -1.0, 0.0, 1.0, 2.0, 3.0]), np.array([-1.0, -1, -1, 1, 2.5, 4]),
          np.array([1.0, 1, 1, 1, 2, 3.5])]),
        ("clamp min only", lambda tg_, x, lo: x.clamp(min=lo), lambda t, x, lo: x.clamp(min=lo),
         [grid, np.array([0.0])]),
        ("hardtanh", lambda tg_, x: x.hardtanh(), lambda t, x: t.nn.functional.hardtanh(x),
         [grid]),
        ("round floor ceil sign trunc", lambda tg_, x: x.round() + x.floor() * 2 + x.ceil() * 3
         + x.sign() * 4 + x.trunc() * 5 + x,
         lambda t, x: x.round() + x.floor() * 2 + x.ceil() * 3 + x.sign() * 4 + x.trunc() * 5 + x,
         [np.array([-2.5, -1.5, -0.5, 0.0, 0.5, 1.5, 2.5, 0.7])]),
        ("remainder", lambda tg_, a, b: a % b, lambda t, a, b: a % b,
         [np.array([-3.5, 3.5, 7.0, -7.0]), np.array([2.0, -2.0, 3.0, 3.0])]),
        ("fmod", lambda tg_, a, b: a.fmod(b), lambda t, a, b: a.fmod(b),
         [np.array([-3.5, 3.5, 7.0, -7.0]), np.array([2.0, -2.0, 3.0, 3.0])]),
        ("logs and exps", lambda tg_, x: x.log1p() + x.expm1() + x.log2() + x.log10()
         + x.reciprocal(), lambda t, x: x.log1p() + x.expm1() + x.log2() + x.log10()
         + x.reciprocal(), [np.array([1e-12, 0.3, 2.0, 5.0])]),
        ("trigonometry", lambda tg_, x: x.sin() + x.cos() + x.tan() + x.asin() + x.acos()
         + x.atan() + x.sinh() + x.cosh(), lambda t, x: x.sin() + x.cos() + x.tan() + x.asin()
         + x.acos() + x.atan() + x.sinh() + x.cosh(), [np.array([-0.9, -0.3, 0.0, 0.4, 0.8])]),
        ("atan2", lambda tg_, a, b: tg_.atan2(a, b), lambda t, a, b: t.atan2(a, b),
         [mixed, np.array([1.0, -1.0, 0.5, -2.0])]),
        ("erf", lambda tg_, x: x.erf(), lambda t, x: x.erf(), [mixed]),
        ("softplus", lambda tg_, x: x.softplus() + x.softplus(2.0, 3.0),
         lambda t, x: t.nn.functional.softplus(x) + t.nn.functional.softplus(x, 2.0, 3.0),
         [np.array([-30.0, -1.0, 0.0, 1.2, 1.6, 19.0, 20.0, 21.0])]),
        ("leaky_relu elu", lambda tg_, x: x.leaky_relu() + x.leaky_relu(0.3) + x.elu()
         + x.elu(0.7), lambda t, x: t.nn.functional.leaky_relu(x)
         + t.nn.functional.leaky_relu(x, 0.3) + t.nn.functional.elu(x)
         + t.nn.functional.elu(x, 0.7), [grid]),
        ("gelu silu", lambda tg_, x: x.gelu() + x.gelu("tanh") * 2 + x.silu() * 3,
         lambda t, x: t.nn.functional.gelu(x) + t.nn.functional.gelu(x, approximate="tanh") * 2
         + t.nn.functional.silu(x) * 3, [np.concatenate([grid, [-8.0, 8.0, 3.3]])]),
        ("logaddexp", lambda tg_, a, b: a.logaddexp(b), lambda t, a, b: t.logaddexp(a, b),
         [mixed, np.array([0.0, 50.0, -50.0, 1.0])]),
    ]


@pytest.mark.parametrize("case", _torch_cases(), ids=lambda case: case[0])
def test_against_pytorch(case: tuple) -> None:
    torch = pytest.importorskip("torch")
    name, ours_fn, theirs_fn, values = case
    rng = np.random.default_rng(0)
    ours = [tg.tensor(v, dtype="float64", requires_grad=True) for v in values]
    theirs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    out, expected = ours_fn(tg, *ours), theirs_fn(torch, *theirs)
    weights = rng.standard_normal(tuple(expected.shape))
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-13, atol=1e-15,
                               err_msg=f"{name}: values")
    (out * tg.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for i, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-13, atol=1e-15,
                                   err_msg=f"{name}: gradient of input {i}")
