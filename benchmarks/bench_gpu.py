"""Seconds per epoch of softmax regression on Fashion-MNIST on the GPU: ours (CuPy) vs PyTorch CUDA.

    python benchmarks/bench_gpu.py           # 1 warm-up + 5 timed epochs each
    python benchmarks/bench_gpu.py --quick   # 1 warm-up + 1 timed epoch each

The same work per epoch as ``bench_softmax.py`` (60,000 examples in a new order, batches of
256, float32 / 255 per batch, forward, cross-entropy, backward, SGD lr 0.1, running loss and
accuracy), with everything on device "cuda": ours through ``DataLoader(device="cuda")``, which
copies the uint8 arrays to the GPU once and gathers batches there, and PyTorch with the uint8
arrays copied to the GPU once and indexed there the same way.

GPU work is asynchronous, so each timed epoch starts and ends with a synchronisation
(``cupy.cuda.Device().synchronize()``, ``torch.cuda.synchronize()``). Both loops read the loss
back to the host every batch (``loss.item()``), as the Trainer does, which synchronises too.

Skips with a message when ``tinygrad_sm.cuda_available()`` is False (no CuPy or no GPU), and
leaves PyTorch out when it has no CUDA.
"""
from __future__ import annotations

import argparse
import time
from typing import Any, Callable

from _common import (add_common_arguments, describe_machine, import_torch, interleaved, median,
                     print_table, threads_from_args)

import tinygrad_sm as tg


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--epochs", type=int, default=None,
                        help="timed epochs (default 5, quick 1)")
    args = parser.parse_args(argv)
    epochs = args.epochs or (1 if args.quick else 5)

    if not tg.cuda_available():
        print("bench_gpu: skipped: tinygrad_sm.cuda_available() is False (CuPy is not installed "
              "or sees no GPU); run it on a machine with an NVIDIA GPU and "
              "pip install 'tinygrad_sm[cuda]'")
        return 0

    import cupy

    from bench_softmax import BATCH_SIZE, LR, Ours, TorchSoftmax
    from tinygrad_sm.data import load_fashion_mnist

    threads = threads_from_args(args.threads)
    torch = None if args.no_torch else import_torch(threads)
    if torch is not None and not torch.cuda.is_available():
        print(f"PyTorch: skipped (torch {torch.__version__} has no CUDA device)")
        torch = None
    device = cupy.cuda.Device()
    name = cupy.cuda.runtime.getDeviceProperties(device.id)["name"]
    name = name.decode() if isinstance(name, bytes) else name
    print(f"machine: {describe_machine(threads, torch)}; GPU {device.id}: {name}, "
          f"CuPy {cupy.__version__}")

    data = load_fashion_mnist(download=False)

    def synced(epoch: Callable[[], Any], sync: Callable[[], None]) -> Callable[[], float]:
        def run() -> float:
            sync()
            start = time.perf_counter()
            last[run] = epoch()
            sync()
            return time.perf_counter() - start
        return run

    last: dict[Any, tuple[float, float]] = {}
    contenders: dict[str, Callable[[], float]] = {}
    accuracy: dict[str, Callable[[], float]] = {}
    for kind in ("concise", "scratch"):
        ours = Ours(kind, data, device="cuda")
        contenders[f"ours {kind} (CuPy)"] = synced(ours.epoch, device.synchronize)
        accuracy[f"ours {kind} (CuPy)"] = ours.accuracy
    if torch is not None:
        train = tuple(torch.from_numpy(a).to("cuda")
                      for a in (data.train_images, data.train_labels))
        test = tuple(torch.from_numpy(a).to("cuda") for a in (data.test_images, data.test_labels))
        for kind in ("concise", "scratch"):
            model = TorchSoftmax(torch, kind, device="cuda")
            contenders[f"PyTorch {kind} (CUDA)"] = synced(lambda m=model: m.epoch(*train),
                                                          torch.cuda.synchronize)
            accuracy[f"PyTorch {kind} (CUDA)"] = lambda m=model: m.accuracy(*test)

    print(f"{len(contenders)} contenders: 1 warm-up epoch each (CuPy compiles its kernels "
          f"then), then {epochs} timed epoch(s) each, interleaved")
    interleaved(contenders, 1)
    times = interleaved(contenders, epochs)

    reference = "PyTorch concise (CUDA)" if torch is not None else "ours concise (CuPy)"
    ref_time = median(times[reference])
    rows = []
    for label, t in times.items():
        loss, train_acc = last[contenders[label]]
        rows.append([label, f"{median(t):.3f}", f"{min(t):.3f}", f"{median(t) / ref_time:.2f}",
                     f"{loss:.4f}", f"{accuracy[label]():.4f}"])
    print(f"\nsoftmax regression on the GPU, batch {BATCH_SIZE}, lr {LR}, {1 + epochs} epochs each")
    print_table(["contender", "s/epoch (median)", "min", f"x {reference}", "last train loss",
                 "test acc"], rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
