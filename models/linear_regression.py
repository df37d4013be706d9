"""Linear regression on the book's synthetic data, from scratch and concise (D2L 3.2 and 3.3).

    python models/linear_regression.py              # both versions
    python models/linear_regression.py --model scratch

The data: y = X w + b + noise with w = [2, -3.4], b = 4.2, noise ~ N(0, 0.01**2), 1000
examples. Both versions train for 3 epochs of minibatches of 10 with learning rate 0.03 and
print the loss after each epoch and the errors in the recovered w and b.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Callable

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tinygrad_sm as tg
from tinygrad_sm import nn, optim
from tinygrad_sm.backend import usable_device
from tinygrad_sm.data import ArrayDataset, DataLoader, synthetic_data
from tinygrad_sm.train import Trainer, TrainingDiverged

from models import cli

TRUE_W = [2.0, -3.4]
TRUE_B = 4.2


# ------------------------------------------------------------------ from scratch (D2L 3.2)

def linreg(X: tg.Tensor, w: tg.Tensor, b: tg.Tensor) -> tg.Tensor:
    """The linear regression model: X w + b."""
    return X @ w + b


def squared_loss(y_hat: tg.Tensor, y: tg.Tensor) -> tg.Tensor:
    """Half the squared error of each example (not reduced)."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params: list[tg.Tensor], lr: float, batch_size: int) -> None:
    """Minibatch stochastic gradient descent, as the book writes it: the loss was summed over
    the batch, so the step divides by the batch size. The update is in place, outside the
    graph, and the gradients are zeroed for the next batch."""
    with tg.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def train_scratch(features: tg.Tensor, labels: tg.Tensor, lr: float = 0.03, epochs: int = 3,
                  batch_size: int = 10, log: Callable[[str], object] | None = print,
                  ) -> tuple[tg.Tensor, tg.Tensor]:
    """The book's loop, written out: forward, summed loss, backward, sgd. Returns (w, b)."""
    w = tg.normal(0, 0.01, (2, 1), requires_grad=True, device=features.device)
    b = tg.zeros(1, requires_grad=True, device=features.device)
    loader = DataLoader(ArrayDataset(features, labels), batch_size, shuffle=True,
                        device=features.device)
    for epoch in range(epochs):
        for X, y in loader:
            loss = squared_loss(linreg(X, w, b), y)
            loss.sum().backward()
            sgd([w, b], lr, batch_size)
        with tg.no_grad():
            train_loss = squared_loss(linreg(features, w, b), labels).mean()
        if log is not None:
            log(f"epoch {epoch + 1}, loss {train_loss.item():.6f}")
    return w, b


# ------------------------------------------------------------------ concise (D2L 3.3)

def train_concise(features: tg.Tensor, labels: tg.Tensor, lr: float = 0.03, epochs: int = 3,
                  batch_size: int = 10, log: Callable[[str], object] | None = print,
                  ) -> nn.Linear:
    """nn.Linear, MSELoss and optim.SGD, trained by the shared Trainer. Returns the layer."""
    net = nn.Linear(2, 1, device=features.device)
    nn.init.normal_(net.weight, 0.0, 0.01)
    nn.init.zeros_(net.bias)
    loader = DataLoader(ArrayDataset(features, labels), batch_size, shuffle=True,
                        device=features.device)
    trainer = Trainer(net, nn.MSELoss(), optim.SGD(net.parameters(), lr=lr),
                      classification=False, progress=False, log=log)
    trainer.fit(loader, epochs)
    return net


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, checked: a bad value raises ``cli.InputError`` naming it."""
    parser = cli.ArgumentParser(prog="linear_regression.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=["scratch", "concise", "both"], default="both")
    parser.add_argument("--epochs", type=cli.positive_int, default=3)
    parser.add_argument("--lr", type=cli.positive_float, default=0.03)
    parser.add_argument("--batch-size", type=cli.positive_int, default=10)
    parser.add_argument("--num-examples", type=cli.positive_int, default=1000)
    parser.add_argument("--seed", type=cli.non_negative_int, default=0)
    parser.add_argument("--device", choices=["cpu", "cuda"], default=None,
                        help="default: $TINYGRAD_SM_DEVICE, else cpu")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen versions; return the exit status (0, 1 when training diverges, 2 for a
    bad argument)."""
    try:
        args = parse_args(argv)
        try:
            device = usable_device(args.device)
        except (ValueError, RuntimeError) as e:
            raise cli.InputError(e) from None
        tg.manual_seed(args.seed)
        try:
            features, labels = synthetic_data(tg.tensor(TRUE_W), TRUE_B, args.num_examples, device=device)
        except MemoryError:
            raise cli.InputError(f"--num-examples {args.num_examples} needs more memory than there "
                                 "is; pick a smaller number") from None
    except cli.InputError as e:
        return cli.fail(e)
    diverged = (f"training diverged (lr {args.lr}): the estimates are not finite; lower the "
                "learning rate (e.g. --lr with a value 10 times smaller) and try again")
    true_w = tg.tensor(TRUE_W, device=features.device)
    if args.model in ("scratch", "both"):
        print("from scratch:")
        w, b = train_scratch(features, labels, args.lr, args.epochs, args.batch_size)
        if not (np.isfinite(w.numpy()).all() and np.isfinite(b.numpy()).all()):
            return cli.fail(diverged, status=1)
        print(f"error in estimating w: {(true_w - w.detach().reshape(true_w.shape)).tolist()}")
        print(f"error in estimating b: {TRUE_B - b.item():.6f}")
    if args.model in ("concise", "both"):
        print("concise:")
        try:
            net = train_concise(features, labels, args.lr, args.epochs, args.batch_size)
        except TrainingDiverged as e:
            return cli.fail(e, status=1)
        print(f"error in estimating w: {(true_w - net.weight.detach().reshape(true_w.shape)).tolist()}")
        print(f"error in estimating b: {TRUE_B - net.bias.item():.6f}")
    return 0


if __name__ == "__main__":
    cli.run(main)
