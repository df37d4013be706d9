"""Linear algebra: matrix products."""
from __future__ import annotations

from ..function import Function


class MatMul(Function):
    """Z = A @ B over the last two axes (earlier axes broadcast);  dA = G @ B^T, dB = A^T @ G."""

    saves_output = False

    def forward(self, a, b):
        return a @ b

    def backward(self, g):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (g @ b.mT if need_a else None), (a.mT @ g if need_b else None)
