"""LeNet on Fashion-MNIST: a convolutional network, trained as the main job is (D2L 7.6).

    python models/lenet_fashion.py                          # Adam, lr 1e-3, batch 128, 10 epochs
    python models/lenet_fashion.py --device cuda
    python models/lenet_fashion.py --eval-only --checkpoint runs/lenet_fashion/lenet.npz
    python models/lenet_fashion.py --checkpoint runs/lenet_fashion/lenet.npz --epochs 5

The network is the modern variant of the book's LeNet-5, with ReLU and max pooling in place of
sigmoids and average pooling (which train far more slowly):

    Conv2d(1, 6, 5, padding=2), ReLU, MaxPool2d(2, 2)       (N, 1, 28, 28) -> (N, 6, 14, 14)
    Conv2d(6, 16, 5), ReLU, MaxPool2d(2, 2)                 -> (N, 16, 5, 5)
    Flatten, Linear(400, 120), ReLU, Linear(120, 84), ReLU, Linear(84, 10)

With the defaults (Adam, lr 1e-3, batch 128) it reaches about 0.89 test accuracy after 10
epochs (softmax regression, the main job, about 0.83). ``--optimizer sgd`` starts
from lr 0.1 instead.

The command line, outputs and checkpoints are those of the main job, ``softmax_fashion.py``
(its docstring tells them; ``models/fashion_job.py`` holds the code they all run): a line per
epoch and a summary; the training curves, misclassified test images and a confusion matrix in
--out; the weights in OUT/lenet.npz and the optimizer state next to them in
OUT/lenet.optimizer.npz; ``--eval-only`` evaluates a checkpoint, and ``--checkpoint PATH``
without it resumes from PATH and updates it. Every bad input is one line ``error: ...`` with
exit status 2, checked before any work.
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

# Adam's usual step size; 10 epochs of it reach 0.89 (docs/benchmarks.md, "LeNet").
DEFAULT_OPTIMIZER = "adam"
DEFAULT_LR = 1e-3
DEFAULT_BATCH_SIZE = 128


def lenet(device: str | None = None) -> nn.Sequential:
    """LeNet-5 with ReLU and max pooling, for 28 x 28 images with one channel and 10 classes.

    The first convolution pads by 2 so that its 5 x 5 windows see the whole 28 x 28 image, as
    LeNet's 32 x 32 input did; after the second one and the pooling, 16 maps of 5 x 5 remain,
    400 features for the classifier. Weights are drawn as PyTorch's layers draw them.
    """
    model = nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))
    return model if device is None else model.to(device)


def build(model: str = "lenet", device: str | None = None) -> tuple[nn.Module, nn.CrossEntropyLoss]:
    """The model and its loss function, by name (``"lenet"``: the only one)."""
    if model != "lenet":
        raise ValueError(f"unknown model {model!r}: this job has one model, 'lenet'")
    return lenet(device), nn.CrossEntropyLoss()


JOB = fashion_job.Job(
    name="lenet_fashion",
    description="Train LeNet on Fashion-MNIST (Dive into Deep Learning, 7.6).",
    title="LeNet on Fashion-MNIST",
    models={"lenet": lambda device: build("lenet", device=device)},
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
