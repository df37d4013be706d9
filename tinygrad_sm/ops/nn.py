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

    saves_output = False  # backward reads x and w

    def forward(self, x, w, b=None):
        out = x @ w.T
        if b is not None:
            out += b
        return out

    def backward(self, g):
        x, w = self.inputs[0], self.inputs[1]
        need = self.needs_input_grad
        grads = [g @ w if need[0] else None, g.T @ x if need[1] else None]
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

    # backward reads only its own arrays (the forward's log-probabilities), so writing to z
    # or to the loss afterwards changes nothing it needs
    saves_inputs = saves_output = False

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

    saves_output = False  # backward reads x and t

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


# Batch normalisation's backward asks whether it is being recorded (create_graph=True).
from ..function import is_grad_enabled  # noqa: E402


class BatchNorm(Function):
    """Batch normalisation with the batch's statistics, per channel (axis 1), over every other
    axis (n values per channel):

        mean = sum(x) / n,  var = sum((x - mean)**2) / n,  xhat = (x - mean) / sqrt(var + eps)
        y = xhat * weight + bias
        dx = weight / sqrt(var + eps) * (g - sum(g) / n - xhat * sum(g * xhat) / n)
        dweight = sum(g * xhat),  dbias = sum(g)

    (the two sums in dx are what the batch statistics add: x moves the mean and the variance
    that every other element of its channel is normalised by). One op instead of the dozen
    that the formula takes as Tensor ops, and their backward steps. ``weight`` and ``bias`` are
    optional inputs, after x. ``mean`` and ``var`` (C,) stay on the op for the running
    statistics (``nn.functional.batch_norm`` updates them).
    """

    saves_output = False  # backward reads x (through xhat, kept as an array) and the weight

    def __init__(self, eps: float, has_weight: bool, has_bias: bool) -> None:
        self.eps, self.has_weight, self.has_bias = eps, has_weight, has_bias

    def forward(self, x, *affine):
        xp, channels = _xp(x), x.shape[1]
        self.axes = (0,) + tuple(range(2, x.ndim))
        self.shape = (1, channels) + (1,) * (x.ndim - 2)
        self.count = x.size // channels
        mean = reduce_sum(x, self.axes, True, 1.0 / self.count)
        xhat = x - mean
        var = reduce_sum(xhat * xhat, self.axes, True, 1.0 / self.count)  # two passes: exact
        self.inv_std = 1 / xp.sqrt(var + self.eps)
        xhat *= self.inv_std
        self.xhat, self.mean, self.var = xhat, mean.reshape(-1), var.reshape(-1)
        out = xhat
        if self.has_weight:
            out = out * affine[0].reshape(self.shape)
        if self.has_bias:
            out = out + affine[-1].reshape(self.shape)
        return out if out is not xhat else out.copy()  # the output is not the saved xhat

    def backward(self, g):
        x = self.inputs[0]
        weight = self.inputs[1] if self.has_weight else None
        axes, n = self.axes, self.count
        if x.requires_grad and is_grad_enabled():
            # create_graph: xhat and 1/sqrt(var + eps) as recorded ops of x, so that dx and
            # dweight are themselves differentiable in x.
            centred = x - x.mean(axes, keepdims=True)
            inv_std = ((centred * centred).mean(axes, keepdims=True) + self.eps) ** -0.5
            xhat = centred * inv_std
        else:
            xhat, inv_std = x._constant(self.xhat), x._constant(self.inv_std)
        sum_g = g.sum(axes, keepdims=True)
        sum_gx = (g * xhat).sum(axes, keepdims=True)
        grads = []
        if self.needs_input_grad[0]:
            k = inv_std if weight is None else inv_std * weight.reshape(self.shape)
            grads.append(g * k - (xhat * (sum_gx * k * (1.0 / n)) + sum_g * k * (1.0 / n)))
        else:
            grads.append(None)
        if self.has_weight:
            grads.append(sum_gx.reshape(-1) if self.needs_input_grad[1] else None)
        if self.has_bias:
            grads.append(sum_g.reshape(-1) if self.needs_input_grad[-1] else None)
        return tuple(grads)
