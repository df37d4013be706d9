"""Initialisers that overwrite a tensor's values in place, as ``torch.nn.init`` does.

Each one draws from the library's generator (so ``manual_seed`` makes it repeatable), writes into
``t``'s memory keeping its dtype and device, records no graph, and returns ``t``:

    >>> import tinygrad_sm as tg
    >>> from tinygrad_sm import nn
    >>> w = nn.init.xavier_uniform_(nn.Parameter(tg.zeros(256, 784)))
    >>> bool(abs(w.numpy()).max() <= (6 / (256 + 784)) ** 0.5)
    True
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd import no_grad
from ..random import generator
from ..tensor import Tensor


def _check_float(t: Tensor, fn: str) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{fn} expects a Tensor, got {type(t).__name__}")
    if t.dtype.kind != "f":
        raise TypeError(f"{fn} fills floating-point tensors, but this one is {t.dtype}")


def _fill(t: Tensor, values: np.ndarray | float) -> Tensor:
    """Write host ``values`` into ``t`` in place (same memory, dtype and device), recording no
    graph, as an optimizer's update does."""
    with no_grad():
        return t.copy_(Tensor(values, dtype=t.dtype, device=t.device))


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill ``t`` with samples of N(mean, std**2)."""
    _check_float(t, "normal_")
    if not std >= 0:
        raise ValueError(f"normal_ needs std >= 0, got {std}")
    return _fill(t, generator().normal(mean, std, t.shape))


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill ``t`` with samples of U(a, b)."""
    _check_float(t, "uniform_")
    if not a <= b:
        raise ValueError(f"uniform_ needs a <= b, got a={a}, b={b}")
    return _fill(t, generator().uniform(a, b, t.shape))


def zeros_(t: Tensor) -> Tensor:
    """Fill ``t`` with zeros."""
    _check_float(t, "zeros_")
    return _fill(t, 0.0)


def xavier_uniform_(t: Tensor, gain: float = 1.0) -> Tensor:
    """Fill ``t`` from U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010).

    For a weight of shape (out, in, *k), fan_in = in * prod(k) and fan_out = out * prod(k), so a
    ``Linear`` weight (out_features, in_features) gets fan_in = in_features.
    """
    _check_float(t, "xavier_uniform_")
    if t.ndim < 2:
        raise ValueError(f"xavier_uniform_ needs a tensor with at least 2 dimensions (fan_out, "
                         f"fan_in, ...) to compute fan_in and fan_out, got shape {t.shape}")
    receptive_field = math.prod(t.shape[2:])
    fan_in, fan_out = t.shape[1] * receptive_field, t.shape[0] * receptive_field
    if fan_in + fan_out == 0:
        raise ValueError(f"xavier_uniform_ of an empty tensor (shape {t.shape})")
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -bound, bound)
