"""The sweep behind the defaults of ``models/mlp_fashion.py``: optimizer, learning rate, batch size.

    python benchmarks/mlp_sweep.py --threads 1            # the full grid: 12 runs of 10 epochs
    python benchmarks/mlp_sweep.py --quick                # 3 runs of 1 epoch, a smoke test
    python benchmarks/mlp_sweep.py --out sweep.md         # also write the table as markdown

Every run trains the job's MLP (Flatten, Linear(784, 256), ReLU, Linear(256, 10)) from the same
seed, with the job's Trainer, on 50,000 of the 60,000 training images, and is scored on the other
10,000 (a validation split drawn once with seed 0): the test set plays no part in choosing the
defaults, so the test accuracy that the job then reports is not tuned to it. The runs are ranked
by the validation accuracy after the last epoch (the job reports the last epoch, not the best).

Grid: SGD with lr 0.03, 0.1, 0.3 and Adam with lr 3e-4, 1e-3, 3e-3, each at batch 64 and 256.
"""
from __future__ import annotations

import argparse
import time
from typing import Any

from _common import add_common_arguments, describe_machine, threads_from_args

import numpy as np

VALIDATION = 10_000
GRID = [(opt, lr, batch) for opt, lrs in (("sgd", (0.03, 0.1, 0.3)), ("adam", (3e-4, 1e-3, 3e-3)))
        for lr in lrs for batch in (64, 256)]
QUICK_GRID = [("sgd", 0.1, 256), ("adam", 1e-3, 256), ("adam", 1e-3, 64)]


def split(data: Any, seed: int = 0) -> tuple[Any, Any]:
    """(train, validation) ``ArrayDataset``s: a seeded permutation of the training set, its last
    ``VALIDATION`` examples held out."""
    from tinygrad_sm.data import ArrayDataset
    from tinygrad_sm.data.fashion_mnist import images_to_float

    order = np.random.default_rng(seed).permutation(len(data.train_labels))
    train, val = order[:-VALIDATION], order[-VALIDATION:]
    return tuple(ArrayDataset(data.train_images[i], data.train_labels[i], transform=images_to_float)
                 for i in (train, val))


def run(config: tuple[str, float, int], train: Any, val: Any, epochs: int,
        device: str = "cpu") -> dict[str, Any]:
    """Train one configuration; the validation accuracy after each epoch, and the time."""
    import tinygrad_sm as tg
    from tinygrad_sm.data import DataLoader
    from tinygrad_sm.train import Trainer, TrainingDiverged

    from models.fashion_job import make_optimizer
    from models.mlp_fashion import build

    opt, lr, batch = config
    tg.manual_seed(0)
    model, loss_fn = build("mlp", device=device)
    trainer = Trainer(model, loss_fn, make_optimizer(opt, list(model.parameters()), lr),
                      progress=False, log=None)
    result: dict[str, Any] = {"optimizer": opt, "lr": lr, "batch": batch, "diverged": None}
    try:
        history = trainer.fit(DataLoader(train, batch, shuffle=True, seed=0, device=device), epochs,
                              val_loader=DataLoader(val, 1000, device=device))
    except TrainingDiverged as e:
        result.update(val_acc=[float("nan")], val_loss=float("nan"), train_loss=float("nan"),
                      seconds=float("nan"), diverged=str(e).split(";")[0])
        return result
    result.update(val_acc=[h.val_acc for h in history], val_loss=history[-1].val_loss,
                  train_loss=history[-1].train_loss,
                  seconds=float(np.median([h.seconds for h in history])))
    return result


def table(results: list[dict[str, Any]], epochs: int) -> str:
    """The results as a markdown table, best first (by the last epoch's validation accuracy)."""
    ranked = sorted(results, key=lambda r: (-np.nan_to_num(r["val_acc"][-1], nan=-1.0),
                                            np.nan_to_num(r["val_loss"], nan=np.inf)))
    lines = [f"| rank | optimizer | lr | batch | val acc after {epochs} epoch(s) | best epoch (val acc) "
             "| val loss | train loss | s/epoch (median) |",
             "|---:|---|---:|---:|---:|---|---:|---:|---:|"]
    for rank, r in enumerate(ranked, 1):
        if r["diverged"]:
            lines.append(f"| {rank} | {r['optimizer']} | {r['lr']:g} | {r['batch']} | diverged "
                         f"| {r['diverged']} | | | |")
            continue
        best = int(np.argmax(r["val_acc"]))
        lines.append(f"| {rank} | {r['optimizer']} | {r['lr']:g} | {r['batch']} | "
                     f"**{r['val_acc'][-1]:.4f}** | {best + 1} ({r['val_acc'][best]:.4f}) | "
                     f"{r['val_loss']:.4f} | {r['train_loss']:.4f} | {r['seconds']:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--epochs", type=int, default=None, help="epochs per run (default 10, quick 1)")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--out", default=None, help="also write the markdown table to this file")
    args = parser.parse_args(argv)
    epochs = args.epochs or (1 if args.quick else 10)
    grid = QUICK_GRID if args.quick else GRID

    from tinygrad_sm.backend import usable_device
    from tinygrad_sm.data import load_fashion_mnist

    threads = threads_from_args(args.threads)
    device = usable_device(args.device)
    print(f"machine: {describe_machine(threads)}; device {device}")
    train, val = split(load_fashion_mnist(download=False))
    print(f"{len(grid)} runs of {epochs} epoch(s): {len(train)} training and {len(val)} "
          "validation examples (the test set is not used)")
    results = []
    start = time.perf_counter()
    for config in grid:
        r = run(config, train, val, epochs, device)
        results.append(r)
        print(f"  {config[0]:4s} lr {config[1]:<6g} batch {config[2]:4d}: "
              + (f"diverged ({r['diverged']})" if r["diverged"] else
                 f"val acc {r['val_acc'][-1]:.4f}, {r['seconds']:.2f} s/epoch"), flush=True)
    text = table(results, epochs)
    print(f"\n{text}\n\n{len(grid)} runs in {time.perf_counter() - start:.0f} s")
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
