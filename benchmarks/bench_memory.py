"""Peak memory (resident set size) of the main job and of its NumPy and PyTorch equivalents.

    python benchmarks/bench_memory.py           # 2 epochs per job, plus import-only baselines
    python benchmarks/bench_memory.py --quick   # 1 epoch, the main job without plots and NumPy

Each job runs as its own subprocess; its peak RSS is the ``ru_maxrss`` that ``os.wait4``
returns for that one child (KiB on Linux). ``resource.getrusage(RUSAGE_CHILDREN)`` would give
the largest peak of all children waited for so far, which hides a small job run after a big
one, so it is not used.

Jobs:
  main job             python models/softmax_fashion.py --quiet --no-plots --epochs 2 --out TMP
  main job with plots  the same without --no-plots (matplotlib is imported and three PNGs drawn)
  NumPy loop           bench_softmax.NumpySoftmax: load the data, train, test after each epoch
  PyTorch concise      bench_softmax.TorchSoftmax the same way (torch.nn.Linear, torch.optim.SGD)
  import-only rows     the interpreter with only numpy / tinygrad_sm / torch imported: the
                       fixed cost under each job
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time

from _common import REPO_ROOT, add_common_arguments, blas_threads, print_table

TARGET_MIB = 350.0
HERE = os.path.dirname(os.path.abspath(__file__))


def peak_rss(command: list[str], env: dict[str, str]) -> tuple[float, float, int, str]:
    """Run ``command``; return (peak RSS in MiB, seconds, exit status, the tail of its output)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as log:
        child = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log,
                                 stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        seconds = time.perf_counter() - start
        log.seek(0)
        tail = log.read().decode(errors="replace").strip().splitlines()[-3:]
    return usage.ru_maxrss / 1024, seconds, child.returncode, "\n".join(tail)


def child_job(kind: str, epochs: int) -> int:
    """Run inside a subprocess: one of the equivalents from bench_softmax."""
    sys.path.insert(0, HERE)
    import bench_softmax

    if kind == "numpy":
        accuracy = bench_softmax.numpy_job(epochs)
    else:
        accuracy = bench_softmax.torch_job(epochs, "concise")
    print(f"test accuracy {accuracy:.4f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs per job (default 2, quick 1)")
    parser.add_argument("--child", choices=["numpy", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    epochs = args.epochs or (1 if args.quick else 2)
    if args.child:
        return child_job(args.child, epochs)

    env = dict(os.environ)
    threads = args.threads if args.threads is not None else blas_threads()
    # Threads are set before each child starts, through the variables OpenBLAS and OpenMP read.
    env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = str(threads)
    env["MPLBACKEND"] = "Agg"
    python = sys.executable
    me = os.path.abspath(__file__)
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"{threads} BLAS/OpenMP threads per job; {epochs} epoch(s) per job")

    with tempfile.TemporaryDirectory(prefix="bench_memory_") as tmp:
        main_job = [python, "models/softmax_fashion.py", "--quiet", "--epochs", str(epochs),
                    "--out", tmp]
        jobs: list[tuple[str, list[str]]] = [
            ("main job (--no-plots)", main_job + ["--no-plots"]),
        ]
        if not args.quick:
            jobs.append(("main job with plots", main_job))
        jobs.append(("NumPy loop equivalent",
                     [python, me, "--child", "numpy", "--epochs", str(epochs)]))
        have_torch = importlib.util.find_spec("torch") is not None
        if not have_torch and not args.no_torch:
            print("PyTorch: skipped (torch is not installed)")
        if have_torch and not args.no_torch and not args.quick:
            jobs.append(("PyTorch concise equivalent",
                         [python, me, "--child", "torch", "--epochs", str(epochs)]))
        if not args.quick:
            jobs.append(("import numpy only", [python, "-c", "import numpy"]))
            jobs.append(("import tinygrad_sm only",
                         [python, "-c", "import tinygrad_sm, tinygrad_sm.nn, tinygrad_sm.optim"]))
            if have_torch and not args.no_torch:
                jobs.append(("import torch only", [python, "-c", "import torch"]))

        rows = []
        main_peak = None
        for name, command in jobs:
            mib, seconds, status, tail = peak_rss(command, env)
            if status != 0:
                print(f"{name}: FAILED with exit status {status}:\n{tail}")
                rows.append([name, "failed", f"{seconds:.1f}", ""])
                continue
            if name.startswith("main job (--no-plots)"):
                main_peak = mib
            last = tail.splitlines()[-1] if tail else ""
            rows.append([name, f"{mib:.1f}", f"{seconds:.1f}", last[:70]])

    print()
    print_table(["job", "peak RSS MiB", "wall s", "last line of output"], rows)
    if main_peak is not None:
        ok = main_peak <= TARGET_MIB
        print(f"main job: {main_peak:.1f} MiB -> {'meets' if ok else 'MISSES'} the target "
              f"(<= {TARGET_MIB:g} MiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
