"""Functions of tensors: the linear map, softmax, and the losses.

``huber_loss`` is a composition of Tensor ops, so its gradient comes from the ops' backward
rules with nothing written by hand. ``linear``, ``cross_entropy`` and ``mse_loss`` run on every
training batch, so each calls one fused op (``ops/nn.py``: a ``Function`` with its forward and
backward side by side) rather than a chain of small ones. Every loss checks its arguments first,
because a loss that silently broadcasts or wraps an index trains a wrong model without any error.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend
from ..ops import MSE, CrossEntropy, LinearFunction
from ..tensor import Tensor

REDUCTIONS = ("mean", "sum", "none")


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis``, computed without overflow (``Tensor.softmax``)."""
    return x.softmax(axis)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along ``axis``, exact even where softmax underflows to 0."""
    return x.log_softmax(axis)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias over the last axis of ``x``, with ``weight`` of shape
    (out_features, in_features) as in PyTorch; ``x`` may have any leading axes."""
    if not isinstance(x, Tensor):
        x = Tensor(x, device=weight.device)
    if x.dtype.kind not in "fc":  # int or bool inputs take the weight's dtype, as x @ w.T would
        x = x.astype(weight.dtype)
    x_shape, w_shape = x._array.shape, weight._array.shape  # read once: this runs every step
    if len(w_shape) != 2 or not x_shape or x_shape[-1] != w_shape[1]:
        raise ValueError(f"linear: input of shape {x_shape} does not fit a weight of shape "
                         f"{w_shape}: the input's last axis must have weight.shape[1] = "
                         f"{w_shape[1] if len(w_shape) == 2 else '?'} features")
    params = (weight,) if bias is None else (weight, bias)
    for t in params:
        if t.device != x.device:
            raise RuntimeError(f"linear: the input is on {x.device!r} but a parameter is on "
                               f"{t.device!r}; move the model with model.to({x.device!r})")
    if bias is not None and bias._array.shape != (w_shape[0],):
        raise ValueError(f"linear: bias has shape {bias.shape}, expected ({w_shape[0]},)")
    if len(x_shape) == 2:
        return LinearFunction()(x, *params)
    out = LinearFunction()(x.reshape(-1, x_shape[-1]), *params)
    return out.reshape(x_shape[:-1] + (w_shape[0],))


def cross_entropy(logits: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """The cross-entropy loss of unnormalised ``logits`` (N, C) against class indices (N,):

        loss_i = -log_softmax(logits)[i, target_i] = logsumexp(logits_i) - logits_i[target_i]

    then the ``reduction``: ``"mean"`` (the default), ``"sum"``, or ``"none"`` (the N losses).
    It is exact for any logits (no log of 0, no overflow), and one fused op (``CrossEntropy``),
    since it runs on every training step. ``target`` is a Tensor or array of integer labels in
    [0, C).
    """
    _check_reduction(reduction, "cross_entropy")
    if not isinstance(logits, Tensor):
        raise TypeError(f"cross_entropy: logits must be a Tensor, got {type(logits).__name__}")
    if logits.ndim != 2 or logits.size == 0:
        raise ValueError(f"cross_entropy expects logits of shape (N, C) with N, C >= 1, got shape "
                         f"{logits.shape}; flatten any extra axes first")
    return CrossEntropy(_class_labels(target, logits), reduction)(logits)


def _class_labels(target: Any, logits: Tensor) -> Any:
    """``target`` as an integer array on the logits' device, after checking it against them."""
    n, classes = logits.shape
    labels = target._array if isinstance(target, Tensor) else target
    if isinstance(labels, (list, tuple)):
        labels = np.asarray(labels)
    if not hasattr(labels, "dtype"):
        raise TypeError(f"cross_entropy: target must be a Tensor or an array of class indices, "
                        f"got {type(target).__name__}")
    if labels.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: target must hold integer class indices, got dtype "
                        f"{labels.dtype}; convert it with .astype('int64')")
    if labels.shape != (n,):
        raise ValueError(f"cross_entropy: target has shape {tuple(labels.shape)} but logits have "
                         f"shape {logits.shape}; expected one class index per row, shape ({n},)")
    # One min and one max per batch: a negative label would otherwise wrap around silently.
    if labels.min() < 0 or labels.max() >= classes:
        host = backend.to_device(labels, "cpu")
        i = int(np.flatnonzero((host < 0) | (host >= classes))[0])
        raise ValueError(f"cross_entropy: target[{i}] = {int(host[i])} is not a class index in "
                         f"[0, {classes}) (the logits have {classes} classes)")
    return backend.to_device(labels, logits.device)


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """The squared error (input - target)**2, averaged by default (PyTorch's: no factor 1/2).
    One fused op (``MSE``), since it runs on every training step of a regression."""
    _check_reduction(reduction, "mse_loss")
    return MSE(reduction)(input, _same_shape_target(input, target, "mse_loss"))


def huber_loss(input: Tensor, target: Any, delta: float = 1.0, reduction: str = "mean") -> Tensor:
    """Squared error near 0 and absolute error beyond ``delta``, so outliers pull less:

        loss = 0.5 d**2                  where |d| < delta
               delta (|d| - 0.5 delta)   elsewhere,        with d = input - target.

    The two pieces meet with the same value and slope at |d| = delta. With c = min(|d|, delta),
    both are 0.5 c**2 + delta (|d| - c): one formula, so nothing is computed (and nothing can
    overflow to inf) on the side that does not apply.
    """
    _check_reduction(reduction, "huber_loss")
    if not delta > 0:
        raise ValueError(f"huber_loss needs delta > 0, got {delta}")
    abs_diff = (input - _same_shape_target(input, target, "huber_loss")).abs()
    clipped = delta - (delta - abs_diff).relu()  # min(|d|, delta)
    return _reduce(clipped * clipped * 0.5 + (abs_diff - clipped) * delta, reduction)


def _same_shape_target(input: Tensor, target: Any, fn: str) -> Tensor:
    """``target`` as a Tensor on the input's device, with exactly the input's shape."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}: input must be a Tensor, got {type(input).__name__}")
    if not isinstance(target, Tensor):
        target = Tensor(target, device=input.device)
    if target.dtype.kind not in "fc" and input.dtype.kind in "fc":
        target = target.astype(input.dtype)  # integer targets take the input's float dtype
    if target.shape != input.shape:
        raise ValueError(
            f"{fn}: input has shape {input.shape} but target has shape {target.shape}; they must "
            f"be equal, since broadcasting them (e.g. (N, 1) against (N,) gives (N, N)) would "
            f"compute a wrong loss silently; reshape the target with .reshape{input.shape}")
    return target


def _check_reduction(reduction: str, fn: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{fn}: reduction={reduction!r} is not valid; use one of "
                         f"{', '.join(repr(r) for r in REDUCTIONS)}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
