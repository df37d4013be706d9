"""The losses as modules, for code that builds its loss like a layer: ``loss_fn(logits, y)``.

Each calls the function of the same name in ``nn.functional``; the reduction is checked when the
module is built, so a typo fails before training starts.
"""
from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from . import functional as F
from .module import Module


class CrossEntropyLoss(Module):
    """``F.cross_entropy``: logits (N, C) against integer class labels (N,)."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        F._check_reduction(reduction, "CrossEntropyLoss")
        self.reduction = reduction

    def forward(self, logits: Tensor, target: Any) -> Tensor:
        return F.cross_entropy(logits, target, self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(Module):
    """``F.mse_loss``: the mean squared error (no factor 1/2), input and target of one shape."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        F._check_reduction(reduction, "MSELoss")
        self.reduction = reduction

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.mse_loss(input, target, self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class HuberLoss(Module):
    """``F.huber_loss``: squared error below ``delta``, absolute error above it."""

    def __init__(self, delta: float = 1.0, reduction: str = "mean") -> None:
        super().__init__()
        F._check_reduction(reduction, "HuberLoss")
        if not delta > 0:
            raise ValueError(f"HuberLoss needs delta > 0, got {delta}")
        self.delta, self.reduction = delta, reduction

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.huber_loss(input, target, self.delta, self.reduction)

    def extra_repr(self) -> str:
        return f"delta={self.delta}, reduction={self.reduction!r}"
