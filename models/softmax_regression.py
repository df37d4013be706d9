"""Softmax regression for Fashion-MNIST, from scratch and concise (D2L 3.6 and 3.7).

The scratch model keeps the book's shape: a weight matrix W of shape (784, 10) drawn from
N(0, 0.01**2), a bias b of zeros, ``softmax`` and the indexing trick for cross-entropy. It
differs in one place, on purpose. The book computes ``softmax(O)`` and then
``-log(y_hat[range(n), y])``: ``exp`` overflows for logits above about 88 in float32, and once a
probability underflows to 0 its log is -inf. Here the loss works on the logits and takes the log
of the softmax as ``O - logsumexp(O)``, which is exact and never overflows (docs/autograd.md
works through an example). ``softmax`` is still there, with the max shifted out, for turning
logits into probabilities.
"""
from __future__ import annotations

import tinygrad_sm as tg
from tinygrad_sm import nn

NUM_INPUTS = 28 * 28
NUM_OUTPUTS = 10


def softmax(O: tg.Tensor) -> tg.Tensor:
    """Rows of logits to rows of probabilities: exp(O) / sum(exp(O)), with each row's max
    subtracted first so that exp never overflows (the result is the same)."""
    O_exp = (O - O.max(1, keepdims=True).detach()).exp()
    partition = O_exp.sum(1, keepdims=True)
    return O_exp / partition


def cross_entropy(O: tg.Tensor, y: tg.Tensor) -> tg.Tensor:
    """The mean over examples of -log softmax(O)[i, y_i] = logsumexp(O_i) - O[i, y_i].

    ``O[arange(n), y]`` picks each example's logit for its true class: the book's indexing
    trick, applied to the logits. Taking the log of the softmax this way is exact, where
    ``log(softmax(O))`` gives -inf once a probability underflows to 0.
    """
    return (O.logsumexp(1) - O[tg.arange(len(y), device=O.device), y]).mean()


class SoftmaxRegressionScratch(nn.Module):
    """O = X W + b on flattened images; the logits O go to ``cross_entropy``."""

    def __init__(self, num_inputs: int = NUM_INPUTS, num_outputs: int = NUM_OUTPUTS,
                 sigma: float = 0.01, device: str | None = None) -> None:
        super().__init__()
        self.W = nn.Parameter(tg.normal(0, sigma, (num_inputs, num_outputs), device=device))
        self.b = nn.Parameter(tg.zeros(num_outputs, device=device))

    def forward(self, X: tg.Tensor) -> tg.Tensor:
        return X.reshape(-1, self.W.shape[0]) @ self.W + self.b


def softmax_regression_concise(num_inputs: int = NUM_INPUTS, num_outputs: int = NUM_OUTPUTS,
                               sigma: float = 0.01, device: str | None = None) -> nn.Sequential:
    """Flatten, then one Linear layer; its weight drawn from N(0, sigma**2) and its bias zero,
    as the book initialises it. Train it with ``nn.CrossEntropyLoss``."""
    net = nn.Sequential(nn.Flatten(), nn.Linear(num_inputs, num_outputs, device=device))
    nn.init.normal_(net[1].weight, 0.0, sigma)
    nn.init.zeros_(net[1].bias)
    return net


def build(model: str, device: str | None = None) -> tuple[nn.Module, object]:
    """The model and its loss function, by name: ``"scratch"`` or ``"concise"``."""
    if model == "scratch":
        return SoftmaxRegressionScratch(device=device), cross_entropy
    if model == "concise":
        return softmax_regression_concise(device=device), nn.CrossEntropyLoss()
    raise ValueError(f"unknown model {model!r}: choose 'scratch' or 'concise'")
