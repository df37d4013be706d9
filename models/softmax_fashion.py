"""Softmax regression on Fashion-MNIST: the main job (D2L 3.6 and 3.7).

    python models/softmax_fashion.py                      # the book's settings, on the CPU
    python models/softmax_fashion.py --device cuda --model concise
    python models/softmax_fashion.py --eval-only --checkpoint runs/softmax_fashion/scratch.npz
    python models/softmax_fashion.py --checkpoint runs/softmax_fashion/scratch.npz --epochs 5

Trains, prints a line per epoch and a final summary (test accuracy, seconds per epoch), and
writes into --out: the training curves, a grid of misclassified test images, a confusion matrix
and a checkpoint: the weights (MODEL.npz) and, next to them, the optimizer's state
(MODEL.optimizer.npz), saved together.

Checkpoints are never overwritten by surprise:

- ``--eval-only`` loads the checkpoint (``--checkpoint``, default OUT/MODEL.npz) and evaluates it.
- ``--checkpoint PATH`` without ``--eval-only`` *resumes* from PATH when it exists: the weights
  and the optimizer state are loaded, training runs ``--epochs`` more epochs, and PATH is then
  updated with the result. (``--lr`` given explicitly replaces the saved learning rate; the
  shuffling starts again from ``--seed``.) When PATH does not exist, training starts afresh and
  saves there.
- Without ``--checkpoint``, training starts afresh and saves OUT/MODEL.npz, replacing a previous
  run's, as it replaces its plots; the script says so when it starts, and how to resume instead.

Every bad argument or input file (checkpoint, data, output folder) ends in one line
``error: ...`` with exit status 2, and the output locations are checked before any work.

``mlp_fashion.py`` is the same program around a multilayer perceptron: both are a ``Job``
of ``models/fashion_job.py``, where this behaviour is written once.
"""
from __future__ import annotations

import argparse
import os
import sys

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tinygrad_sm.data import load_fashion_mnist

from models import cli, fashion_job
from models.fashion_job import optimizer_state_path  # noqa: F401  (part of this script's API)
from models.softmax_regression import build

DEFAULT_LR = 0.1

JOB = fashion_job.Job(
    name="softmax_fashion",
    description="Train softmax regression on Fashion-MNIST (Dive into Deep Learning, 3.6-3.7).",
    title="softmax regression on Fashion-MNIST",
    models={"scratch": lambda device: build("scratch", device=device),
            "concise": lambda device: build("concise", device=device)},
    # Looked up when called, so that a test can replace this module's load_fashion_mnist.
    load_data=lambda *args, **kwargs: load_fashion_mnist(*args, **kwargs),
    default_lrs={"sgd": DEFAULT_LR, "adam": 0.01}, default_optimizer="sgd", default_batch_size=256)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, checked: a bad value raises ``cli.InputError`` naming it."""
    return fashion_job.parse_args(JOB, argv)


def main(argv: list[str] | None = None) -> int:
    """Run the job; return the exit status (0, 1 when training fails, 2 for a bad input)."""
    return fashion_job.main(JOB, argv)


if __name__ == "__main__":
    cli.run(main)
