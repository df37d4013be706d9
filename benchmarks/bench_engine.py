"""Engine overhead: the cost of recording and differentiating tiny ops.

    python benchmarks/bench_engine.py          # full run (about 30 s)
    python benchmarks/bench_engine.py --quick  # smoke run

1. Forward + backward of ``((x*2+1).exp().log()*x).sum()`` on a 4x4 float32 tensor that
   requires grad (``x.grad`` reset every iteration). Six ops (mul, add, exp, log, mul, sum):
   on a 4x4 tensor the arithmetic is nothing, so this is the per-op bookkeeping of the engine.
   Ours (eager, and the same step under ``tinygrad_sm.jit``) against PyTorch CPU, with NumPy
   doing the forward pass alone as the floor.
2. A chain of 100,000 ops (``y = y * 1.0``) and its backward: the engine's graph walk is
   iterative, so this must work, and its cost per op should match the small case.
"""
from __future__ import annotations

import argparse
import time

from _common import (add_common_arguments, describe_machine, import_torch, interleaved, median,
                     print_table, summary, threads_from_args, warn_if_contended)

import numpy as np

import tinygrad_sm as tg

N_OPS = 6
TORCH_RATIO_TARGET = 0.5  # eager: at most half of PyTorch's time per op
JIT_TARGET_US_PER_OP = 1.5  # jit: where JAX's jit(step) stands


def make_autograd(x, iterations: int):
    """The timed loop for ours and for PyTorch alike: both spell the graph and backward the same."""
    def run() -> float:
        start = time.perf_counter()
        for _ in range(iterations):
            x.grad = None
            y = ((x * 2 + 1).exp().log() * x).sum()
            y.backward()
        return (time.perf_counter() - start) / iterations
    return run


def make_jit(x, iterations: int):
    """The same step under tinygrad_sm.jit: captured in the warm-up, replayed when timed."""
    def step() -> None:
        x.grad = None
        ((x * 2 + 1).exp().log() * x).sum().backward()
    replay = tg.jit(step)

    def run() -> float:
        start = time.perf_counter()
        for _ in range(iterations):
            replay()
        return (time.perf_counter() - start) / iterations
    return run


def make_numpy(x0: np.ndarray, iterations: int):
    def run() -> float:
        x = x0
        start = time.perf_counter()
        for _ in range(iterations):
            np.sum(np.log(np.exp(x * 2 + 1)) * x)
        return (time.perf_counter() - start) / iterations
    return run


def check_gradients(torch, x0: np.ndarray) -> str:
    """Ours and PyTorch must agree on the gradient, or the timing compares different work."""
    x = tg.tensor(x0, requires_grad=True)
    ((x * 2 + 1).exp().log() * x).sum().backward()
    xt = torch.tensor(x0, requires_grad=True)
    ((xt * 2 + 1).exp().log() * xt).sum().backward()
    error = float(np.abs(x.grad.numpy() - xt.grad.numpy()).max())
    return f"gradients agree with PyTorch (max abs difference {error:.2e})"


def chain(n: int, torch=None) -> tuple[float, float]:
    """Seconds to build a chain of ``n`` multiplications and to run its backward."""
    if torch is None:
        x = tg.tensor(1.0, requires_grad=True)
    else:
        x = torch.tensor(1.0, requires_grad=True)
    start = time.perf_counter()
    y = x
    for _ in range(n):
        y = y * 1.0
    built = time.perf_counter()
    y.backward()
    done = time.perf_counter()
    assert float(x.grad) == 1.0, f"chain gradient is {float(x.grad)}, expected 1.0"
    return built - start, done - built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    args = parser.parse_args(argv)

    iterations, repeats = (200, 3) if args.quick else (2000, 7)
    chain_ops, chain_repeats = (10_000, 1) if args.quick else (100_000, 3)

    threads = threads_from_args(args.threads)
    torch = None if args.no_torch else import_torch(threads)
    print(f"machine: {describe_machine(threads, torch)}")
    warn_if_contended(threads)
    x0 = np.random.default_rng(0).random((4, 4), dtype=np.float32)

    contenders = {"ours (fwd+bwd)": make_autograd(tg.tensor(x0, requires_grad=True), iterations),
                  "ours, jit (fwd+bwd)": make_jit(tg.tensor(x0, requires_grad=True), iterations),
                  "NumPy (fwd only, floor)": make_numpy(x0, iterations)}
    if torch is not None:
        contenders["PyTorch CPU (fwd+bwd)"] = make_autograd(torch.tensor(x0, requires_grad=True),
                                                          iterations)
    for fn in contenders.values():  # warm-up
        fn()
    times = interleaved(contenders, repeats)
    us = {name: median(t) * 1e6 for name, t in times.items()}

    print(f"\n((x*2+1).exp().log()*x).sum() on 4x4 float32, {N_OPS} ops; median of {repeats} "
          f"repeats of {iterations} iterations (min in brackets)")
    ours = us["ours (fwd+bwd)"]
    rows = []
    for name, value in us.items():
        best = min(times[name]) * 1e6
        rows.append([name, f"{value:.1f} [{best:.1f}]", f"{value / N_OPS:.2f}",
                     f"{ours / value:.2f}"])
    print_table(["contender", "us/iter", "us/op", "ours/this"], rows)
    workload = "6-op graph on 4x4, us per op (fwd+bwd)"
    for name, label in (("NumPy (fwd only, floor)", "NumPy"), ("ours (fwd+bwd)", "ours eager"),
                        ("ours, jit (fwd+bwd)", "ours jit"), ("PyTorch CPU (fwd+bwd)", "PyTorch")):
        if name in times:
            summary(workload, label, min(times[name]) * 1e6 / N_OPS, "us/op")
    jitted = min(times["ours, jit (fwd+bwd)"]) * 1e6 / N_OPS
    print(f"ours, jit: {jitted:.2f} us per op (fastest repeat) -> "
          f"{'meets' if jitted <= JIT_TARGET_US_PER_OP else 'MISSES'} the target "
          f"(<= {JIT_TARGET_US_PER_OP:g} us per op)")
    if torch is not None:
        ratio = min(times["ours (fwd+bwd)"]) / min(times["PyTorch CPU (fwd+bwd)"])
        print(f"ours / PyTorch: {ratio:.2f} (fastest repeats) -> "
              f"{'meets' if ratio <= TORCH_RATIO_TARGET else 'MISSES'} the target "
              f"(<= {TORCH_RATIO_TARGET:g}); ours / NumPy forward: "
              f"{ours / us['NumPy (fwd only, floor)']:.2f}")
        print(check_gradients(torch, x0))

    print(f"\nchain of {chain_ops:,} ops (y = y * 1.0) on a scalar; median of {chain_repeats}")
    rows = []
    for label, lib in [("ours", None)] + ([("PyTorch CPU", torch)] if torch is not None else []):
        results = [chain(chain_ops, lib) for _ in range(chain_repeats)]
        build = median([r[0] for r in results])
        back = median([r[1] for r in results])
        rows.append([label, f"{build:.3f}", f"{back:.3f}", f"{back / chain_ops * 1e6:.2f}"])
    print_table(["contender", "build s", "backward s", "backward us/op"], rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
