"""Run every benchmark, one after the other, each in its own process.

    python benchmarks/run_all.py                 # full runs (a few minutes in all)
    python benchmarks/run_all.py --quick         # smoke runs (well under a minute)
    python benchmarks/run_all.py --threads 1     # passed on to every benchmark
    python benchmarks/run_all.py --all           # also the long ones: cost_curves, mlp_sweep

Options other than --quick, --only and --all are passed through unchanged (``--threads N``,
``--no-torch``). The long runs (``cost_curves``, up to 15 minutes; ``mlp_sweep``, about 11)
run only when asked for, by ``--all`` or ``--only``. Exits with status 1 if any benchmark
failed.

At the end it prints one table of the headline figures that the benchmarks reported in this
run (the lines they print as ``SUMMARY``): for each workload, the hand-written NumPy loop, ours
eager, ours under ``tinygrad_sm.jit`` and PyTorch CPU, each from the fastest of its repeats,
with the targets. docs/benchmarks.md and the README quote this table.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _common import SUMMARY, print_table  # noqa: E402

COLUMNS = ("NumPy", "ours eager", "ours jit", "PyTorch")
# workload (as a benchmark names it, up to its first comma) -> (column, target, how to compare)
TARGETS = {
    "6-op graph on 4x4": [("ours eager", 0.5, "x PyTorch"), ("ours jit", 1.5, "us/op")],
    "softmax regression epoch": [("ours eager", 1.25, "x NumPy"), ("ours jit", 1.1, "x NumPy")],
    "linear regression step": [("ours eager", 3.0, "x NumPy"), ("ours jit", 1.5, "x NumPy")],
}
BENCHMARKS = ("bench_engine", "bench_linear", "bench_softmax", "bench_memory", "bench_gpu")
LONG = ("cost_curves", "mlp_sweep")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke runs")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS + LONG, default=None,
                        help="run only these")
    parser.add_argument("--all", action="store_true", help="also the long runs: " + ", ".join(LONG))
    args, passthrough = parser.parse_known_args(argv)
    if args.only is None:
        args.only = list(BENCHMARKS) + (list(LONG) if args.all else [])
    extra = (["--quick"] if args.quick else []) + passthrough

    failed = []
    figures: dict[str, dict[str, str]] = {}
    for name in args.only:
        command = [sys.executable, os.path.join(HERE, f"{name}.py")] + extra
        print(f"\n{'=' * 20} {name} {' '.join(extra)} {'=' * 20}", flush=True)
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=os.path.dirname(HERE), stdout=subprocess.PIPE,
                                   text=True, bufsize=1)
        for line in process.stdout:  # shown as it comes, and the summary lines kept
            print(line, end="", flush=True)
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 5 and parts[0] == SUMMARY:
                figures.setdefault(parts[1], {})[parts[2]] = f"{float(parts[3]):.2f}"
        status = process.wait()
        print(f"[{name}: exit status {status}, {time.perf_counter() - start:.1f} s]", flush=True)
        if status != 0:
            failed.append(name)
    if figures:
        print_summary(figures)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        return 1
    print("\nall benchmarks finished")
    return 0


def print_summary(figures: dict[str, dict[str, str]]) -> None:
    """The headline table: one row per workload, one column per contender, then the targets."""
    print("\n" + "=" * 30 + " summary of this run " + "=" * 30)
    print_table(["workload"] + list(COLUMNS),
                [[workload] + [row.get(c, "-") for c in COLUMNS]
                 for workload, row in figures.items()])
    for workload, row in figures.items():
        for column, target, how in TARGETS.get(workload.split(",")[0], []):
            value = row.get(column)
            if value is None:
                continue
            if how == "x PyTorch":
                if "PyTorch" not in row:
                    continue
                value = f"{float(value) / float(row['PyTorch']):.2f}"
            met = "meets" if float(value) <= target else "MISSES"
            print(f"{workload}: {column} {value} {how} -> {met} the target (<= {target:g})")


if __name__ == "__main__":
    raise SystemExit(main())
