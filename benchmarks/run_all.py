"""Run every benchmark, one after the other, each in its own process.

    python benchmarks/run_all.py                 # full runs (a few minutes in all)
    python benchmarks/run_all.py --quick         # smoke runs (well under a minute)
    python benchmarks/run_all.py --threads 1     # passed on to every benchmark
    python benchmarks/run_all.py --all           # also the long ones: cost_curves, mlp_sweep

Options other than --quick, --only and --all are passed through unchanged (``--threads N``,
``--no-torch``). The long runs (``cost_curves``, up to 15 minutes; ``mlp_sweep``, about 11)
run only when asked for, by ``--all`` or ``--only``. Exits with status 1 if any benchmark
failed.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
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
    for name in args.only:
        command = [sys.executable, os.path.join(HERE, f"{name}.py")] + extra
        print(f"\n{'=' * 20} {name} {' '.join(extra)} {'=' * 20}", flush=True)
        start = time.perf_counter()
        status = subprocess.call(command, cwd=os.path.dirname(HERE))
        print(f"[{name}: exit status {status}, {time.perf_counter() - start:.1f} s]", flush=True)
        if status != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        return 1
    print("\nall benchmarks finished")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
