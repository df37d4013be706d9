"""Seconds per training epoch of LeNet on Fashion-MNIST, ours against PyTorch on the CPU.

    python benchmarks/bench_lenet.py                   # one epoch each, 1 thread each
    python benchmarks/bench_lenet.py --epochs 2        # more epochs: steadier figures
    python benchmarks/bench_lenet.py --quick           # a smoke run (a tenth of an epoch)
    python benchmarks/bench_lenet.py --profile         # + where our time goes

The network and the training are those of ``models/lenet_fashion.py`` (Conv2d(1, 6, 5,
padding=2), ReLU, MaxPool2d(2, 2), Conv2d(6, 16, 5), ReLU, MaxPool2d(2, 2), Flatten, Linear
400-120-84-10 with ReLUs; cross-entropy; Adam, lr 1e-3; its default batch size), written once
for both frameworks' ``nn``. PyTorch's initial weights are copied into ours, so both train the
same model from the same start on the same batches.

How it is measured, for a machine that other work shares:

- Data resident: the 60,000 training images are float32 arrays in memory for both, and each
  batch is gathered by indexing (``X[idx]``), in a new random order each epoch, the same for
  both.
- One thread each: NumPy's BLAS (``--threads``, default 1) and ``torch.set_num_threads``.
- Interleaved: the epoch is run in chunks of ``--chunk`` batches (default 10), ours then
  PyTorch's then ours..., with the order swapped every chunk, so a burst of other work lands on
  both alike; an epoch's time is the sum of its chunks.
- CPU time: each chunk is timed by this process's CPU time (``time.process_time``) as well as
  by the wall clock. With one thread on each side, CPU time leaves out the time spent waiting
  for a CPU that other processes hold, so the verdict uses it; both ratios are printed.
- A check that the work was done: after the timed epochs, each model's test accuracy (not timed).

The target: an epoch of ours at most 2x PyTorch's.
"""
from __future__ import annotations

import argparse
import math
import time
from typing import Any, Callable

from _common import (add_common_arguments, describe_machine, import_torch, print_table, profile,
                     threads_from_args, verdict, warn_if_contended)

import numpy as np

import tinygrad_sm as tg
from tinygrad_sm import nn
from tinygrad_sm.data import load_fashion_mnist
from tinygrad_sm.data.fashion_mnist import FashionMNISTNotFoundError

from models import lenet_fashion

TARGET = 2.0  # ours <= 2 x PyTorch for an epoch
LR = lenet_fashion.DEFAULT_LR


def lenet(framework: Any) -> Any:
    """``models/lenet_fashion.py``'s network, in either framework's ``nn``."""
    f = framework
    return f.Sequential(
        f.Conv2d(1, 6, kernel_size=5, padding=2), f.ReLU(), f.MaxPool2d(2, 2),
        f.Conv2d(6, 16, kernel_size=5), f.ReLU(), f.MaxPool2d(2, 2),
        f.Flatten(),
        f.Linear(16 * 5 * 5, 120), f.ReLU(), f.Linear(120, 84), f.ReLU(), f.Linear(84, 10))


def load_data(data_dir: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """Fashion-MNIST as float32 images (N, 1, 28, 28) in [0, 1] and int64 labels; random images
    of the same sizes where the data set is not installed (the timings hold, the accuracies
    then mean nothing)."""
    try:
        data = load_fashion_mnist(data_dir, download=False)
    except FashionMNISTNotFoundError:
        rng = np.random.default_rng(0)
        return (rng.random((60000, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 60000),
                rng.random((10000, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 10000),
                "random images (Fashion-MNIST is not installed)")

    def images(a: np.ndarray) -> np.ndarray:
        return (a.astype(np.float32) / 255).reshape(-1, 1, 28, 28)

    return (images(data.train_images), data.train_labels.astype(np.int64),
            images(data.test_images), data.test_labels.astype(np.int64), "Fashion-MNIST")


class Contender:
    """One framework's model, Adam optimizer and resident data, and its training step.

    ``framework`` is ``tinygrad_sm`` or ``torch``: the code below is the same for both.
    """

    def __init__(self, name: str, framework: Any, model: Any, X: np.ndarray, y: np.ndarray) -> None:
        self.name, self.framework, self.model = name, framework, model
        self.opt = framework.optim.Adam(model.parameters(), lr=LR)
        self.loss_fn = framework.nn.CrossEntropyLoss()
        self.images, self.labels = framework.from_numpy(X), framework.from_numpy(y)  # shared
        self.cpu = self.wall = 0.0  # seconds, summed over the chunks run

    def index(self, idx: np.ndarray) -> Any:
        return self.framework.from_numpy(idx)

    def step(self, idx: np.ndarray) -> None:
        i = self.index(idx)
        loss = self.loss_fn(self.model(self.images[i]), self.labels[i])
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()

    def run(self, batches: list[np.ndarray]) -> None:
        cpu, wall = time.process_time(), time.perf_counter()
        for idx in batches:
            self.step(idx)
        self.cpu += time.process_time() - cpu
        self.wall += time.perf_counter() - wall

    def accuracy(self, Xt: np.ndarray, yt: np.ndarray) -> float:
        self.model.eval()
        with self.framework.no_grad():
            hits = sum(int((self.model(self.framework.from_numpy(Xt[i:i + 1000])).argmax(1)
                            .numpy() == yt[i:i + 1000]).sum()) for i in range(0, len(yt), 1000))
        self.model.train()
        return hits / len(yt)


def make_contenders(torch: Any, X: np.ndarray, y: np.ndarray) -> list[Contender]:
    """Ours, and PyTorch's when it is there, with PyTorch's initial weights copied into ours
    so that both train the same model."""
    ours = lenet(nn)
    if torch is None:
        return [Contender("ours", tg, ours, X, y)]
    torch.manual_seed(0)
    theirs = lenet(torch.nn)
    with tg.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            p.copy_(tg.tensor(q.detach().numpy()))
    return [Contender("ours", tg, ours, X, y), Contender("torch", torch, theirs, X, y)]


def run_epochs(contenders: list[Contender], n: int, batch_size: int, epochs: int, chunk: int,
               limit: int | None) -> int:
    """Train every contender for ``epochs`` epochs, interleaved by chunks; return the number of
    batches per epoch that ran (``limit`` cuts an epoch short, for --quick)."""
    rng = np.random.default_rng(0)
    batches_run = 0
    for epoch in range(epochs):
        order = rng.permutation(n)
        batches = [order[i:i + batch_size] for i in range(0, n, batch_size)][:limit]
        batches_run = len(batches)
        for k, start in enumerate(range(0, len(batches), chunk)):
            turn = contenders if k % 2 == 0 else contenders[::-1]
            for c in turn:
                c.run(batches[start:start + chunk])
    return batches_run


def phases(contenders: list[Contender], idx: np.ndarray, repeats: int) -> None:
    """CPU milliseconds of each phase of one training step (the fastest of ``repeats``)."""
    results: dict[str, dict[str, float]] = {}
    for c in contenders:
        best: dict[str, float] = {}
        for _ in range(repeats):
            clock = [time.process_time()]

            def lap(phase: str) -> None:
                now = time.process_time()
                best[phase] = min(best.get(phase, math.inf), now - clock[0])
                clock[0] = now

            i = c.index(idx)
            xb, yb = c.images[i], c.labels[i]
            lap("gather the batch")
            loss = c.loss_fn(c.model(xb), yb)
            lap("forward + loss")
            c.opt.zero_grad()
            loss.backward()
            lap("backward")
            c.opt.step()
            lap("Adam step")
        results[c.name] = best
    rows = []
    for phase, t in results["ours"].items():
        row = [phase, f"{t * 1e3:.2f}"]
        if "torch" in results:
            theirs = results["torch"][phase]
            row += [f"{theirs * 1e3:.2f}", f"{t / theirs:.2f}" if theirs > 0 else "-"]
        rows.append(row)
    headers = ["phase of a step", "ours (ms)"] + (["torch (ms)", "ratio"] if "torch" in results else [])
    print_table(headers, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.set_defaults(threads=1)
    parser.add_argument("--epochs", type=int, default=1, help="timed epochs (default 1)")
    parser.add_argument("--batch-size", type=int, default=lenet_fashion.DEFAULT_BATCH_SIZE)
    parser.add_argument("--chunk", type=int, default=10,
                        help="batches per turn when interleaving (default 10)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--profile", action="store_true",
                        help="also time the phases of a step, and run ours under cProfile")
    args = parser.parse_args(argv)
    threads = threads_from_args(args.threads)
    torch = None if args.no_torch else import_torch(threads)
    print(f"machine: {describe_machine(threads, torch)}")
    warn_if_contended(threads)
    X, y, Xt, yt, source = load_data(args.data_dir)
    limit = math.ceil(len(y) / args.batch_size / 10) if args.quick else None

    contenders = make_contenders(torch, X, y)
    for c in contenders:  # warm-up: a few steps each, not timed (then the clocks start at 0)
        c.run([np.arange(args.batch_size)] * 3)
        c.cpu = c.wall = 0.0
    epochs = 1 if args.quick else args.epochs
    print(f"{source}, batch {args.batch_size}, Adam lr {LR}, float32; {epochs} epoch(s) each, "
          f"interleaved in chunks of {args.chunk} batches; times in seconds per epoch")
    batches = run_epochs(contenders, len(y), args.batch_size, epochs, args.chunk, limit)
    if args.quick:
        print(f"(--quick: {batches} batches of each epoch; the times are scaled to a whole epoch)")
        scale = math.ceil(len(y) / args.batch_size) / batches
    else:
        scale = 1.0
    rows = []
    for c in contenders:
        rows.append([c.name, f"{c.cpu * scale / epochs:.2f}", f"{c.wall * scale / epochs:.2f}",
                     f"{c.accuracy(Xt, yt):.4f}"])
    print_table(["framework", "CPU s / epoch", "wall s / epoch", "test accuracy"], rows)
    if torch is not None:
        ours_c, torch_c = contenders
        cpu_ratio, wall_ratio = ours_c.cpu / torch_c.cpu, ours_c.wall / torch_c.wall
        print(f"LeNet epoch: ours / PyTorch = {cpu_ratio:.2f} by CPU time ({wall_ratio:.2f} by "
              f"the wall clock) -> {verdict(cpu_ratio, TARGET)}")
    if args.profile:
        idx = np.random.default_rng(1).permutation(len(y))[:args.batch_size]
        phases(contenders, idx, repeats=5 if args.quick else 20)
        c = contenders[0]
        profile(lambda: c.run([idx] * 20), "ours, 20 training steps", top=25)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
