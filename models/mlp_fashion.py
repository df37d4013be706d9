"""A multilayer perceptron on Fashion-MNIST (Dive into Deep Learning, 5.1-5.2).

    python models/mlp_fashion.py                          # the defaults: 10 epochs on the CPU
    python models/mlp_fashion.py --device cuda
    python models/mlp_fashion.py --eval-only --checkpoint runs/mlp_fashion/mlp.npz
    python models/mlp_fashion.py --checkpoint runs/mlp_fashion/mlp.npz --epochs 5

The network is the book's concise MLP: Flatten, Linear(784, 256), ReLU, Linear(256, 10), with
PyTorch's default initialisation (U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases),
trained with cross-entropy. One hidden layer of 256 ReLUs lifts the test accuracy from softmax
regression's 0.83-0.84 to 0.87-0.89 after 10 epochs (the Fashion-MNIST paper's MLP baseline is
0.871).

The command line, outputs and checkpoints are those of the main job, ``softmax_fashion.py``
(its docstring tells them; ``models/fashion_job.py`` holds the code both run): the training
curves, misclassified images and a confusion matrix in --out, the weights in OUT/mlp.npz and
the optimizer state next to them in OUT/mlp.optimizer.npz; ``--checkpoint PATH`` without
``--eval-only`` resumes from PATH and updates it; every bad input is one line ``error: ...``
with exit status 2.

The defaults (Adam, lr 3e-3, batch 256) are the best of a small sweep on a validation split,
``python benchmarks/mlp_sweep.py``, whose table is in docs/benchmarks.md ("MLP: the sweep behind
the defaults").
"""
from __future__ import annotations

import argparse
import os
import sys

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tinygrad_sm import nn
from tinygrad_sm.data import load_fashion_mnist

from models import cli, fashion_job

NUM_INPUTS = 28 * 28
NUM_HIDDENS = 256
NUM_OUTPUTS = 10
# The best of the sweep (benchmarks/mlp_sweep.py, docs/benchmarks.md).
DEFAULT_OPTIMIZER = "adam"
DEFAULT_LR = 3e-3
DEFAULT_BATCH_SIZE = 256


def mlp(num_inputs: int = NUM_INPUTS, num_hiddens: int = NUM_HIDDENS,
        num_outputs: int = NUM_OUTPUTS, device: str | None = None) -> nn.Sequential:
    """Flatten, Linear(num_inputs, num_hiddens), ReLU, Linear(num_hiddens, num_outputs): the
    book's concise MLP. It returns logits; train it with ``nn.CrossEntropyLoss``."""
    return nn.Sequential(nn.Flatten(), nn.Linear(num_inputs, num_hiddens, device=device),
                         nn.ReLU(), nn.Linear(num_hiddens, num_outputs, device=device))


def build(model: str = "mlp", device: str | None = None) -> tuple[nn.Module, nn.CrossEntropyLoss]:
    """The model and its loss function, by name (``"mlp"``: the only one)."""
    if model != "mlp":
        raise ValueError(f"unknown model {model!r}: this job has one model, 'mlp'")
    return mlp(device=device), nn.CrossEntropyLoss()


JOB = fashion_job.Job(
    name="mlp_fashion",
    description="Train a multilayer perceptron on Fashion-MNIST (Dive into Deep Learning, 5.2).",
    title="MLP (784-256-10) on Fashion-MNIST",
    models={"mlp": lambda device: build("mlp", device=device)},
    # Looked up when called, so that a test can replace this module's load_fashion_mnist.
    load_data=lambda *args, **kwargs: load_fashion_mnist(*args, **kwargs),
    default_lrs={DEFAULT_OPTIMIZER: DEFAULT_LR, "sgd": 0.1}, default_optimizer=DEFAULT_OPTIMIZER,
    default_batch_size=DEFAULT_BATCH_SIZE)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, checked: a bad value raises ``cli.InputError`` naming it."""
    return fashion_job.parse_args(JOB, argv)


def main(argv: list[str] | None = None) -> int:
    """Run the job; return the exit status (0, 1 when training fails, 2 for a bad input)."""
    return fashion_job.main(JOB, argv)


if __name__ == "__main__":
    cli.run(main)
