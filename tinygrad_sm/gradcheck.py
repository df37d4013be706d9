"""Checking analytic gradients against central differences, in float64.

For a function ``f`` of some tensors, pick a fixed random weight ``v`` for every output element
and look at the scalar ``s = sum(v * f(x))``. Backward gives ``ds/dx`` for every input element at
once. The central difference ``(s(x + eps) - s(x - eps)) / (2 eps)``, one input element at a
time, estimates the same number with an error of order eps**2. In float64 the two agree to many
digits wherever ``f`` is smooth, so a disagreement means a wrong backward rule.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .autograd import grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with its central-difference estimate."""


def _float64_copies(inputs: Sequence[Tensor]) -> list[Tensor]:
    """Fresh float64 leaves with the inputs' values; integer inputs (indices) are kept as they are."""
    copies = []
    for t in inputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"gradcheck inputs must be Tensors, got {type(t).__name__}")
        if t.dtype.kind != "f":
            copies.append(t)
            continue
        # C order: the numeric pass perturbs elements through a flat view, and reshape(-1) of
        # a transposed (Fortran-ordered) array would be a copy, leaving the input untouched.
        copies.append(Tensor(t._array.astype(np.float64, order="C"),
                             requires_grad=t.requires_grad, device=t.device))
    return copies


def _as_tuple(out: Any) -> tuple[Tensor, ...]:
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def gradcheck(fn: Callable[..., Any], inputs: Tensor | Sequence[Tensor], *, eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, seed: int = 0,
              raise_exception: bool = True) -> bool:
    """Check the gradients of ``fn`` at ``inputs`` with respect to the inputs that require grad.

    ``fn`` takes the inputs and returns a Tensor or a tuple of Tensors. The check runs on float64
    copies of the floating-point inputs. An element passes when
    ``|analytic - numeric| <= atol + rtol * |numeric|``. On failure the worst element is reported,
    naming the input, the index, and both values: a ``GradcheckError`` is raised, or False is
    returned when ``raise_exception=False``.
    """
    xs = _float64_copies([inputs] if isinstance(inputs, Tensor) else list(inputs))
    checked = [i for i, x in enumerate(xs) if x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check; "
                         "create the inputs with requires_grad=True")
    rng = np.random.default_rng(seed)
    outputs = _as_tuple(fn(*xs))
    weights = [rng.standard_normal(out.shape) for out in outputs]

    # Analytic: one backward pass of sum(v * f) gives d/dx for every element of every input.
    tracked = [(out, Tensor(w, dtype=out.dtype, device=out.device))
               for out, w in zip(outputs, weights) if out.requires_grad]
    analytic: list[Any] = [None] * len(checked)
    if tracked:
        grads = grad([o for o, _ in tracked], [xs[i] for i in checked],
                     grad_outputs=[w for _, w in tracked], allow_unused=True)
        analytic = [None if g is None else np.asarray(g.numpy(), dtype=np.float64) for g in grads]

    def weighted_sum() -> float:
        return sum(float((np.asarray(out.detach().numpy(), dtype=np.float64) * w).sum())
                   for out, w in zip(_as_tuple(fn(*xs)), weights))

    # Numeric: perturb one element at a time, in place, and restore it exactly.
    worst = None
    for k, i in enumerate(checked):
        x = xs[i]
        flat = x._array.reshape(-1)
        for j in range(flat.size):
            original = flat[j].item()
            flat[j] = original + eps
            plus = weighted_sum()
            flat[j] = original - eps
            minus = weighted_sum()
            flat[j] = original
            numeric = (plus - minus) / (2 * eps)
            value = 0.0 if analytic[k] is None else float(analytic[k].reshape(-1)[j])
            excess = abs(value - numeric) - (atol + rtol * abs(numeric))
            if excess > 0 and (worst is None or excess > worst[0]):
                worst = (excess, i, np.unravel_index(j, x.shape), value, numeric, x.shape)
    if worst is None:
        return True
    _, i, index, value, numeric, shape = worst
    message = (f"gradcheck failed: input {i} (shape {shape}) at index {tuple(int(n) for n in index)}: "
               f"analytic {value:.10g} vs numeric {numeric:.10g} "
               f"(difference {abs(value - numeric):.3g}, allowed {atol + rtol * abs(numeric):.3g})")
    if raise_exception:
        raise GradcheckError(message)
    return False


def gradgradcheck(fn: Callable[..., Any], inputs: Tensor | Sequence[Tensor], *,
                  eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, seed: int = 0,
                  raise_exception: bool = True) -> bool:
    """Check second derivatives: ``gradcheck`` applied to the first-order gradient of ``fn``.

    The first-order gradient ``x -> d sum(v * fn(x)) / dx`` (built with ``create_graph=True``) is
    itself a function of the inputs, and its gradients come from backward through the backward
    pass; they are compared with central differences of it.
    """
    xs = _float64_copies([inputs] if isinstance(inputs, Tensor) else list(inputs))
    rng = np.random.default_rng(seed + 1)
    weights = [rng.standard_normal(out.shape) for out in _as_tuple(fn(*xs))]

    def first_derivative(*args: Tensor) -> tuple[Tensor, ...]:
        outs = _as_tuple(fn(*args))
        wanted = [a for a in args if a.requires_grad]
        pairs = [(o, Tensor(w, dtype=o.dtype, device=o.device))
                 for o, w in zip(outs, weights) if o.requires_grad]
        grads = grad([o for o, _ in pairs], wanted, grad_outputs=[w for _, w in pairs],
                     create_graph=True, allow_unused=True)
        # An input that the first derivative no longer depends on has a zero second derivative.
        return tuple(Tensor(a._array * 0) if g is None else g for a, g in zip(wanted, grads))

    return gradcheck(first_derivative, xs, eps=eps, atol=atol, rtol=rtol, seed=seed,
                     raise_exception=raise_exception)
