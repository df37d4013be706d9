"""Microseconds per SGD step of linear regression on the book's synthetic data.

    python benchmarks/bench_linear.py           # full run: 1 warm-up + 9 timed runs each
    python benchmarks/bench_linear.py --quick   # 1 warm-up + 2 timed runs each

The data: y = X w + b + noise, w = [2, -3.4], b = 4.2, 1000 examples (made once with
``tinygrad_sm.data.synthetic_data`` and shared by every contender). One run is the book's
training: 3 epochs of minibatches of 10 with lr 0.03, so 300 steps, from fresh parameters
(w ~ N(0, 0.01**2), b = 0). With batches of 10 the arithmetic is negligible, so this measures
the fixed cost of one step of each framework.

Every contender runs the same loop: a new random order per epoch, gather the batch, forward,
loss, backward, update. No loss value is read back per step (the scratch loop of the book does
not; the Trainer does, see the extra row).

  numpy            the gradients derived by hand (the floor): the leanest honest loop, with
                   in-place updates and nothing computed that nothing reads (no loss value)
  ours concise     nn.Linear + nn.MSELoss + optim.SGD over tinygrad_sm.data.DataLoader
  ours scratch     models.linear_regression: linreg, squared_loss(...).sum().backward(), sgd
  ... jit          the same step under tinygrad_sm.jit (captured once, then replayed)
  torch concise    nn.Linear + nn.MSELoss + torch.optim.SGD over the same permutation approach
  ours Trainer     (extra row) ours concise through Trainer.fit, which also keeps the loss
"""
from __future__ import annotations

import argparse
from typing import Any, Callable

from _common import (add_common_arguments, describe_machine, import_torch, interleaved, median,
                     print_table, profile, summary, threads_from_args, verdict, warn_if_contended)

import numpy as np

import tinygrad_sm as tg
from tinygrad_sm import nn, optim
from tinygrad_sm.data import ArrayDataset, DataLoader, synthetic_data
from tinygrad_sm.train import Trainer

from models.linear_regression import linreg, sgd, squared_loss

TRUE_W = np.array([2.0, -3.4], dtype=np.float32)
TRUE_B = 4.2
NUM_EXAMPLES, BATCH_SIZE, LR, EPOCHS = 1000, 10, 0.03, 3
STEPS = EPOCHS * NUM_EXAMPLES // BATCH_SIZE
TARGET = 3.0  # ours <= 3 x the NumPy loop
JIT_TARGET = 1.5  # ours under jit <= 1.5 x the NumPy loop

Result = tuple[np.ndarray, float]  # the recovered w (flattened) and b


def numpy_run(features: np.ndarray, labels: np.ndarray, seed: int) -> Result:
    """Half squared error, averaged over the batch: d/dw = X^T (Xw + b - y) / n, d/db = sum / n.
    Updates in place; no loss value, which nothing reads."""
    rng = np.random.default_rng(seed)
    w = rng.normal(0.0, 0.01, (2, 1)).astype(np.float32)
    b = np.zeros(1, dtype=np.float32)
    scale = np.float32(LR / BATCH_SIZE)
    for _ in range(EPOCHS):
        order = rng.permutation(NUM_EXAMPLES)
        for start in range(0, NUM_EXAMPLES, BATCH_SIZE):
            idx = order[start:start + BATCH_SIZE]
            X, y = features[idx], labels[idx]
            error = X @ w
            error += b
            error -= y
            grad_w = X.T @ error
            grad_w *= scale
            w -= grad_w
            grad_b = error.sum(axis=0)
            grad_b *= scale
            b -= grad_b
    return w.reshape(-1), float(b[0])


def ours_concise_run(features: np.ndarray, labels: np.ndarray, seed: int,
                     use_jit: bool = False) -> Result:
    tg.manual_seed(seed)
    net = nn.Linear(2, 1)
    nn.init.normal_(net.weight, 0.0, 0.01)
    nn.init.zeros_(net.bias)
    loss_fn = nn.MSELoss()
    optimizer = optim.SGD(net.parameters(), lr=LR)
    loader = DataLoader(ArrayDataset(features, labels), BATCH_SIZE, shuffle=True, seed=seed)

    def step(X: tg.Tensor, y: tg.Tensor) -> None:
        loss = loss_fn(net(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    if use_jit:
        step = tg.jit(step)
    for _ in range(EPOCHS):
        for X, y in loader:
            step(X, y)
    return net.weight.numpy().reshape(-1), net.bias.item()


def ours_trainer_run(features: np.ndarray, labels: np.ndarray, seed: int) -> Result:
    tg.manual_seed(seed)
    net = nn.Linear(2, 1)
    nn.init.normal_(net.weight, 0.0, 0.01)
    nn.init.zeros_(net.bias)
    loader = DataLoader(ArrayDataset(features, labels), BATCH_SIZE, shuffle=True, seed=seed)
    trainer = Trainer(net, nn.MSELoss(), optim.SGD(net.parameters(), lr=LR),
                      classification=False, progress=False, log=None)
    trainer.fit(loader, EPOCHS)
    return net.weight.numpy().reshape(-1), net.bias.item()


def ours_scratch_run(features: np.ndarray, labels: np.ndarray, seed: int,
                     use_jit: bool = False) -> Result:
    tg.manual_seed(seed)
    w = tg.normal(0, 0.01, (2, 1), requires_grad=True)
    b = tg.zeros(1, requires_grad=True)
    loader = DataLoader(ArrayDataset(features, labels), BATCH_SIZE, shuffle=True, seed=seed)

    def step(X: tg.Tensor, y: tg.Tensor) -> None:
        loss = squared_loss(linreg(X, w, b), y)
        loss.sum().backward()
        sgd([w, b], LR, BATCH_SIZE)
    if use_jit:
        step = tg.jit(step)
    for _ in range(EPOCHS):
        for X, y in loader:
            step(X, y)
    return w.numpy().reshape(-1), b.item()


def make_torch_run(torch: Any) -> Callable[[np.ndarray, np.ndarray, int], Result]:
    def run(features: np.ndarray, labels: np.ndarray, seed: int) -> Result:
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        net = torch.nn.Linear(2, 1)
        torch.nn.init.normal_(net.weight, 0.0, 0.01)
        torch.nn.init.zeros_(net.bias)
        loss_fn = torch.nn.MSELoss()
        optimizer = torch.optim.SGD(net.parameters(), lr=LR)
        X_all, y_all = torch.from_numpy(features), torch.from_numpy(labels)
        for _ in range(EPOCHS):
            order = torch.from_numpy(rng.permutation(NUM_EXAMPLES))
            for start in range(0, NUM_EXAMPLES, BATCH_SIZE):
                idx = order[start:start + BATCH_SIZE]
                loss = loss_fn(net(X_all[idx]), y_all[idx])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        return net.weight.detach().numpy().reshape(-1), float(net.bias.item())
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--profile", action="store_true",
                        help="also run ours (concise, scratch) once under cProfile")
    args = parser.parse_args(argv)
    repeats = 2 if args.quick else 9

    threads = threads_from_args(args.threads)
    torch = None if args.no_torch else import_torch(threads)
    print(f"machine: {describe_machine(threads, torch)}")
    warn_if_contended(threads)

    tg.manual_seed(0)
    X, y = synthetic_data(tg.tensor(TRUE_W), TRUE_B, NUM_EXAMPLES)
    features, labels = X.numpy(), y.numpy()  # float32 (1000, 2) and (1000, 1)

    runs: dict[str, Callable[[np.ndarray, np.ndarray, int], Result]] = {
        "NumPy loop (floor)": numpy_run,
        "ours concise": ours_concise_run,
        "ours scratch": ours_scratch_run,
        "ours concise, jit": lambda f, l, s: ours_concise_run(f, l, s, use_jit=True),
        "ours scratch, jit": lambda f, l, s: ours_scratch_run(f, l, s, use_jit=True),
    }
    if torch is not None:
        runs["PyTorch concise"] = make_torch_run(torch)
    runs["ours concise via Trainer"] = ours_trainer_run

    results: dict[str, Result] = {}
    contenders = {}
    for name, run in runs.items():
        def timed(name: str = name, run: Callable = run) -> None:
            results[name] = run(features, labels, 0)
        contenders[name] = timed
    print(f"{len(contenders)} contenders: 1 warm-up run each, then {repeats} timed runs each "
          f"(interleaved); a run is {EPOCHS} epochs = {STEPS} steps")
    interleaved(contenders, 1)
    times = interleaved(contenders, repeats)

    floor = median(times["NumPy loop (floor)"]) / STEPS
    floor_min = min(times["NumPy loop (floor)"]) / STEPS
    rows = []
    for name, t in times.items():
        per_step = median(t) / STEPS
        w, b = results[name]
        w_error = np.abs(TRUE_W - w).max()
        rows.append([name, f"{per_step * 1e6:.1f}", f"{min(t) / STEPS * 1e6:.1f}",
                     f"{per_step / floor:.2f}", f"{min(t) / STEPS / floor_min:.2f}",
                     f"{w_error:.2e}", f"{abs(TRUE_B - b):.2e}"])
    print(f"\nlinear regression, {NUM_EXAMPLES} examples, batch {BATCH_SIZE}, lr {LR}, "
          f"{EPOCHS} epochs")
    print_table(["contender", "us/step (median)", "min", "x NumPy", "x NumPy (mins)",
                 "max |w error|", "|b error|"], rows)
    # The verdict compares the fastest runs, the least affected by other work on the machine.
    for name, workload, label in (
            ("NumPy loop (floor)", "concise", "NumPy"), ("ours concise", "concise", "ours eager"),
            ("ours concise, jit", "concise", "ours jit"), ("PyTorch concise", "concise", "PyTorch"),
            ("NumPy loop (floor)", "scratch", "NumPy"), ("ours scratch", "scratch", "ours eager"),
            ("ours scratch, jit", "scratch", "ours jit")):
        if name in times:
            summary(f"linear regression step, batch {BATCH_SIZE}, x NumPy ({workload})", label,
                    min(times[name]) / STEPS / floor_min, "x NumPy")
    for name in ("ours concise", "ours scratch", "ours concise, jit", "ours scratch, jit"):
        ratio = min(times[name]) / STEPS / floor_min
        target = JIT_TARGET if name.endswith("jit") else TARGET
        print(f"{name}: {ratio:.2f}x the NumPy loop comparing the fastest runs "
              f"({median(times[name]) / STEPS / floor:.2f}x comparing medians) -> "
              f"{verdict(ratio, target)}")
    if torch is not None:
        ratio = min(times["PyTorch concise"]) / STEPS / floor_min
        print(f"PyTorch concise: {ratio:.2f}x the NumPy loop; ours concise / PyTorch concise: "
              f"{min(times['ours concise']) / min(times['PyTorch concise']):.2f} (fastest runs)")
    if args.profile:
        for name in ("ours concise", "ours scratch"):
            profile(contenders[name], f"{name}, one run of {STEPS} steps")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
