"""Helpers shared by the benchmark scripts: thread counts, interleaved timing, tables.

The machine the benchmarks run on is shared and noisy, so every script times its contenders
side by side in one process, round-robin (A, B, C, A, B, C, ...), and reports the median of
the repeats: a burst of load from elsewhere then hits every contender alike instead of
landing on one of them.
"""
from __future__ import annotations

import ctypes
import os
import platform
import statistics
import sys
import time
from typing import Any, Callable, Sequence

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:  # run as a script: make the repository importable
    sys.path.insert(0, REPO_ROOT)

import numpy as np  # noqa: E402


def _openblas_function(verb: str) -> Callable[..., int] | None:
    """``openblas_{verb}_num_threads`` from the OpenBLAS NumPy loaded, found in
    /proc/self/maps (NumPy's wheels rename the symbols with a ``scipy_`` prefix)."""
    try:
        with open("/proc/self/maps") as maps:
            libs = sorted({line.split()[-1] for line in maps if "openblas" in line.lower()})
        for path in libs:
            lib = ctypes.CDLL(path)
            for name in (f"scipy_openblas_{verb}_num_threads64_", f"openblas_{verb}_num_threads64_",
                         f"openblas_{verb}_num_threads"):
                fn = getattr(lib, name, None)
                if fn is not None:
                    return fn
    except OSError:
        pass
    return None


def set_blas_threads(threads: int) -> bool:
    """Set NumPy's BLAS thread count at run time; False when the library cannot be reached."""
    fn = _openblas_function("set")
    if fn is None:
        return False
    fn(int(threads))
    return True


def blas_threads() -> int:
    """How many threads NumPy's BLAS uses.

    Asked of the OpenBLAS library NumPy loaded; when that is not possible, the environment
    variables OpenBLAS reads, else the CPUs this process may use.
    """
    fn = _openblas_function("get")
    if fn is not None:
        return int(fn())
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def threads_from_args(requested: int | None) -> int:
    """Apply ``--threads`` (when given) to NumPy's BLAS and return the count NumPy now uses;
    the same count is then given to PyTorch."""
    if requested is not None and not set_blas_threads(requested):
        print(f"warning: could not set NumPy's BLAS threads to {requested}; set "
              "OPENBLAS_NUM_THREADS before starting Python instead")
    return blas_threads()


def add_common_arguments(parser: Any) -> None:
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS threads for NumPy and PyTorch alike (default: NumPy's own, "
                             "usually one per CPU)")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")


def import_torch(threads: int) -> Any:
    """PyTorch with ``threads`` intra-op threads, or None (with a message) when it is missing."""
    try:
        import torch
    except ImportError as e:
        print(f"PyTorch: skipped (import torch failed: {e})")
        return None
    torch.set_num_threads(threads)
    return torch


def describe_machine(threads: int, torch: Any = None) -> str:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    parts = [f"{cpus} CPUs", f"Python {platform.python_version()}", f"NumPy {np.__version__}",
             f"BLAS threads {threads}"]
    if torch is not None:
        parts.append(f"torch {torch.__version__} ({torch.get_num_threads()} threads)")
    if hasattr(os, "getloadavg"):  # other work on the machine skews every timing
        parts.append("load average %.2f" % os.getloadavg()[0])
    return ", ".join(parts)


def warn_if_contended(threads: int) -> None:
    """Say so when other work is running: with more than one BLAS thread, OpenBLAS's threads
    wait on each other, and one of them descheduled by another process stalls every matrix
    product (epochs 5 to 10 times slower were seen on a 2-CPU machine), which hides what is
    being compared."""
    if not hasattr(os, "getloadavg"):
        return
    load = os.getloadavg()[0]
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    # The 1-minute load average also counts this benchmark's own recent work (up to one CPU).
    if threads > 1 and load > 1.5:
        print(f"warning: load average {load:.2f} with {threads} BLAS threads on {cpus} CPUs: "
              "other processes will stall the BLAS threads; --threads 1 gives steadier figures")
    elif load > cpus - 1 + 0.5:
        print(f"warning: load average {load:.2f} on {cpus} CPUs: other processes are competing "
              "for the CPUs, so compare the ratios of the fastest runs (the 'mins' column)")


def interleaved(contenders: dict[str, Callable[[], float | None]], repeats: int
                ) -> dict[str, list[float]]:
    """Call each contender ``repeats`` times, round-robin, and return their times.

    A contender returns the time it measured itself (seconds), or None to be timed here as a
    whole call.
    """
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            start = time.perf_counter()
            measured = fn()
            elapsed = time.perf_counter() - start
            times[name].append(elapsed if measured is None else measured)
    return times


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain-text table: the first column left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(row, widths)))

    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print(line(row))


def verdict(ratio: float, target: float) -> str:
    outcome = "meets" if ratio <= target else "MISSES"
    return f"{outcome} target (<= {target:g}x)"


def profile(fn: Callable[[], Any], title: str, top: int = 20) -> None:
    """Run ``fn`` once under cProfile and print the ``top`` entries by own time (tottime)."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    fn()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    print(f"\n--- cProfile: {title} (top {top} by tottime) ---")
    # Skip pstats' header lines up to the table.
    text = out.getvalue()
    print(text[text.index("ncalls"):].rstrip() if "ncalls" in text else text)


# The headline figures of each benchmark, as lines that run_all.py gathers into one table:
# SUMMARY <tab> workload <tab> contender <tab> value <tab> what the value is.
SUMMARY = "SUMMARY"


def summary(workload: str, contender: str, value: float, unit: str) -> None:
    print(f"{SUMMARY}\t{workload}\t{contender}\t{value:.4g}\t{unit}", flush=True)
