"""The fused ops of a training step: a linear layer, cross-entropy and the squared error.

Each could be written as a chain of the small ops (a transpose, a matmul and a broadcast add;
a log-softmax, an indexing and a mean), and each would then record that many nodes and run
that many backward steps. They run on every training batch, so each is one op with its
forward and backward side by side. ``nn.functional`` checks their arguments and calls them.
"""
from __future__ import annotations

from typing import Any

from ..function import Function
from ..backend import array_module_of as _xp
from ..backend import reduce_sum
from .reduce import Sum
from .softmax import Softmax, log_softmax_array


class LinearFunction(Function):
    """Y = X W^T + b for X (N, in), W (out, in), b (out,);
    dX = G W,  dW = G^T X,  db = sum of G over the batch.

    One op instead of a transpose, a matmul and a broadcast add (and their three backward
    steps): a linear layer runs on every batch.
    """

    def forward(self, x, w, b=None):
        out = x @ w.T
        if b is not None:
            out += b
        return out

    def backward(self, g):
        x, w = self.inputs[0], self.inputs[1]
        need = self.needs_input_grad
        # dW as (X^T G)^T: the same numbers as G^T X, but BLAS runs this layout faster.
        grads = [g @ w if need[0] else None, (x.T @ g).T if need[1] else None]
        if len(self.inputs) == 3:
            grads.append(Sum((0,), False)(g) if need[2] else None)  # g.sum(0), axis known good
        return tuple(grads)


class CrossEntropy(Function):
    """loss_i = -log_softmax(z)[i, t_i], then a reduction;  dz_i = (softmax(z_i) - onehot(t_i)) g_i.

    Forward goes through log-softmax with the row maximum shifted out. In backward, g_i is the
    gradient reaching loss_i: g / N for the mean, g for the sum, g[i] for ``"none"``. Fusing the
    steps keeps the backward to one subtraction and one product, instead of undoing a
    log-softmax, an indexing, and a mean one op at a time.
    """

    def __init__(self, labels: Any, reduction: str) -> None:
        self.labels, self.reduction = labels, reduction

    def forward(self, z):
        xp = _xp(z)
        self.rows = xp.arange(z.shape[0])
        self.log_probs = log_softmax_array(z, 1)
        losses = -self.log_probs[self.rows, self.labels]
        if self.reduction == "none":
            return losses
        return reduce_sum(losses, None, False, 1.0 / z.shape[0] if self.reduction == "mean" else 1.0)

    def backward(self, g):
        z = self.inputs[0]
        if self.reduction == "none":
            g = g.reshape(-1, 1)
        elif self.reduction == "mean":
            g = g * (1.0 / z.shape[0])
        xp = _xp(z._array)
        onehot = xp.zeros_like(z._array)
        onehot[self.rows, self.labels] = 1
        # The forward's log-probabilities give softmax(z) at no extra pass; recorded as a
        # Softmax op of z, it stays differentiable for create_graph=True.
        probs = Softmax(1, known=xp.exp(self.log_probs))(z)
        return ((probs - z._constant(onehot)) * g,)


class MSE(Function):
    """loss = sum or mean of d**2 (or each d**2), d = x - t;  dx = 2 d g', dt = -2 d g', where g'
    is the gradient reaching each d**2 (g / n for the mean).

    One op instead of a subtraction, a product and a reduction, and their backward steps.
    """

    def __init__(self, reduction: str) -> None:
        self.reduction = reduction

    def forward(self, x, t):
        d = x - t
        squares = d * d
        if self.reduction == "none":
            return squares
        return reduce_sum(squares, None, False, 1.0 / d.size if self.reduction == "mean" else 1.0)

    def backward(self, g):
        x, t = self.inputs
        scale = 2.0 / x.size if self.reduction == "mean" else 2.0
        gd = (x - t) * (g * scale)  # differentiable in x and t, so create_graph works too
        return (gd if self.needs_input_grad[0] else None), (-gd if self.needs_input_grad[1] else None)
