"""Milliseconds per forward + backward of LeNet's convolutions and pools, ours against PyTorch.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_conv.py --threads 1    # the reference run
    python benchmarks/bench_conv.py --quick                               # a smoke run
    python benchmarks/bench_conv.py --profile                             # + cProfile of ours
    python benchmarks/bench_conv.py --threads 1 --cpu-time     # on a busy machine (see below)

Every row runs the same computation in both frameworks on the same float32 data, a batch of
256 Fashion-MNIST-sized images (random values), and ends in ``.sum().backward()``:

  conv1             Conv2d(1, 6, 5, padding=2) on (256, 1, 28, 28); the input needs no gradient
  conv2             Conv2d(6, 16, 5) on (256, 6, 14, 14); the input needs its gradient too
  max_pool2d 2      on (256, 6, 28, 28), 2 x 2 windows, stride 2
  avg_pool2d 2      the same, averaging
  features, sigmoid+avg   conv1, sigmoid, avg pool, conv2, sigmoid, avg pool (the book's LeNet)
  features, relu+max      the same with ReLU and max pooling (the modern variant)
  LeNet step        the book's whole LeNet (features, then Linear 400-120-84-10 with sigmoids),
                    cross-entropy, backward and an SGD step: one training step, so an epoch of
                    Fashion-MNIST (60,000 images) costs 235 of them

The target: an epoch of LeNet at most 2x PyTorch's on the CPU, so "LeNet step" at most 2x.
Each contender is timed round-robin with its PyTorch twin (see ``_common.interleaved``); the
verdict compares the fastest runs, the least disturbed by other work on the machine.
``--cpu-time`` times each run by the CPU time of this process (``time.process_time``) rather
than the wall clock: with one thread on each side, time spent waiting for a CPU that other
processes hold is then left out, which steadies the figures on a shared machine.
"""
from __future__ import annotations

import argparse
import time
from typing import Any, Callable

from _common import (add_common_arguments, describe_machine, import_torch, interleaved, median,
                     print_table, profile, threads_from_args, verdict, warn_if_contended)

import numpy as np

import tinygrad_sm as tg
from tinygrad_sm import nn, optim
from tinygrad_sm.nn import functional as F

BATCH = 256
TARGET = 2.0  # ours <= 2 x PyTorch for a LeNet training step


def lenet(framework: Any, activation: str = "sigmoid", pool: str = "avg") -> Any:
    """The book's LeNet (d2l 7.6), written once for both frameworks' ``nn``."""
    act = {"sigmoid": framework.Sigmoid, "relu": framework.ReLU}[activation]
    pooling = {"avg": framework.AvgPool2d, "max": framework.MaxPool2d}[pool]
    return framework.Sequential(
        framework.Conv2d(1, 6, kernel_size=5, padding=2), act(), pooling(kernel_size=2, stride=2),
        framework.Conv2d(6, 16, kernel_size=5), act(), pooling(kernel_size=2, stride=2),
        framework.Flatten(),
        framework.Linear(16 * 5 * 5, 120), act(), framework.Linear(120, 84), act(),
        framework.Linear(84, 10))


def copy_weights(ours: Any, theirs: Any, torch: Any) -> None:
    """PyTorch's initial weights into ours, so both train the same model."""
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            p.data.copy_(tg.tensor(q.detach().numpy()))


def make_cases(torch: Any) -> dict[str, tuple[Callable[[], None], Callable[[], None] | None]]:
    """Row name -> (ours, PyTorch's or None): functions that run one forward + backward."""
    rng = np.random.default_rng(0)
    images = rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32)
    maps1 = rng.standard_normal((BATCH, 6, 28, 28)).astype(np.float32)
    maps2 = rng.standard_normal((BATCH, 6, 14, 14)).astype(np.float32)
    labels = rng.integers(0, 10, BATCH)
    tg.manual_seed(0)
    conv1, conv2 = nn.Conv2d(1, 6, 5, padding=2), nn.Conv2d(6, 16, 5)
    x = tg.tensor(images)
    m1 = tg.tensor(maps1, requires_grad=True)
    m2 = tg.tensor(maps2, requires_grad=True)
    y = tg.tensor(labels)

    def features(act: str, pool: Callable) -> Callable[[], None]:
        def run() -> None:
            h = pool(getattr(conv1(x), act)(), 2)
            pool(getattr(conv2(h), act)(), 2).sum().backward()
        return run

    def training_step(model: Any, optimizer: Any, loss_fn: Any, x: Any, y: Any) -> Callable:
        def run() -> None:
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return run

    ours = {
        "conv1": lambda: conv1(x).sum().backward(),
        "conv2": lambda: conv2(m2).sum().backward(),
        "max_pool2d 2": lambda: F.max_pool2d(m1, 2).sum().backward(),
        "avg_pool2d 2": lambda: F.avg_pool2d(m1, 2).sum().backward(),
        "features, sigmoid+avg": features("sigmoid", F.avg_pool2d),
        "features, relu+max": features("relu", F.max_pool2d),
    }
    model = lenet(nn)
    ours["LeNet step"] = training_step(model, optim.SGD(model.parameters(), lr=0.9),
                                       nn.CrossEntropyLoss(), x, y)
    if torch is None:
        return {name: (fn, None) for name, fn in ours.items()}

    tF = torch.nn.functional
    torch.manual_seed(0)
    t_conv1, t_conv2 = torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.Conv2d(6, 16, 5)
    tx = torch.from_numpy(images)
    tm1 = torch.from_numpy(maps1).requires_grad_()
    tm2 = torch.from_numpy(maps2).requires_grad_()
    ty = torch.from_numpy(labels)

    def t_features(act: Callable, pool: Callable) -> Callable[[], None]:
        def run() -> None:
            h = pool(act(t_conv1(tx)), 2)
            pool(act(t_conv2(h)), 2).sum().backward()
        return run

    theirs = {
        "conv1": lambda: t_conv1(tx).sum().backward(),
        "conv2": lambda: t_conv2(tm2).sum().backward(),
        "max_pool2d 2": lambda: tF.max_pool2d(tm1, 2).sum().backward(),
        "avg_pool2d 2": lambda: tF.avg_pool2d(tm1, 2).sum().backward(),
        "features, sigmoid+avg": t_features(torch.sigmoid, tF.avg_pool2d),
        "features, relu+max": t_features(torch.relu, tF.max_pool2d),
    }
    t_model = lenet(torch.nn)
    copy_weights(model, t_model, torch)
    theirs["LeNet step"] = training_step(t_model, torch.optim.SGD(t_model.parameters(), lr=0.9),
                                         torch.nn.CrossEntropyLoss(), tx, ty)
    return {name: (fn, theirs[name]) for name, fn in ours.items()}


def cpu_timed(fn: Callable[[], None]) -> Callable[[], float]:
    """``fn``, returning the CPU time it took (``interleaved`` then uses that)."""
    def run() -> float:
        start = time.process_time()
        fn()
        return time.process_time() - start
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--profile", action="store_true",
                        help="also run ours (the features and a LeNet step) under cProfile")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time by this process's CPU time, not the wall clock (steadier "
                             "on a busy machine, with --threads 1)")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 15
    threads = threads_from_args(args.threads)
    torch = None if args.no_torch else import_torch(threads)
    print(f"machine: {describe_machine(threads, torch)}")
    warn_if_contended(threads)
    cases = make_cases(torch)
    print(f"batch {BATCH}, float32; {repeats} timed runs each after 2 warm-ups, ours and "
          f"PyTorch interleaved; times in ms of {'CPU' if args.cpu_time else 'wall-clock'} time")
    rows, ratios = [], {}
    for name, (ours, theirs) in cases.items():
        contenders = {"ours": ours} if theirs is None else {"ours": ours, "torch": theirs}
        if args.cpu_time:
            contenders = {who: cpu_timed(fn) for who, fn in contenders.items()}
        interleaved(contenders, 2)
        times = interleaved(contenders, repeats)
        row = [name, f"{median(times['ours']) * 1e3:.2f}", f"{min(times['ours']) * 1e3:.2f}"]
        if theirs is not None:
            ratios[name] = min(times["ours"]) / min(times["torch"])
            row += [f"{median(times['torch']) * 1e3:.2f}", f"{min(times['torch']) * 1e3:.2f}",
                    f"{median(times['ours']) / median(times['torch']):.2f}",
                    f"{ratios[name]:.2f}"]
        rows.append(row)
    headers = ["forward + backward", "ours (median)", "ours (min)"]
    if torch is not None:
        headers += ["torch (median)", "torch (min)", "ratio (medians)", "ratio (mins)"]
    print_table(headers, rows)
    if torch is not None:
        ratio = ratios["LeNet step"]
        print(f"LeNet step: ours / PyTorch = {ratio:.2f} comparing the fastest runs -> "
              f"{verdict(ratio, TARGET)}")
    if args.profile:
        for name in ("features, sigmoid+avg", "LeNet step"):
            run = cases[name][0]
            profile(lambda run=run: [run() for _ in range(5)], f"ours, {name}, 5 runs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
