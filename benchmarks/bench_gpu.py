"""Seconds per epoch on the GPU: ours (CuPy) against PyTorch CUDA, same model, same batches.

    python benchmarks/bench_gpu.py              # 1 warm-up + 5 timed epochs per contender
    python benchmarks/bench_gpu.py --quick      # 1 warm-up + 2 timed epochs
    python benchmarks/bench_gpu.py --out FILE   # also write the results as markdown
    python benchmarks/bench_gpu.py --device cpu --examples 2048 --epochs 1   # check the script

Workloads, each run by ours and by PyTorch in the same process, interleaved:

  softmax regression, batch 256, SGD lr 0.1           target: ours <= 1.5x PyTorch's epoch
      (the main job; concise, and the book's scratch model for information)
  MLP 784-256-10, batch 1024, Adam lr 1e-3            target: ours <= 1.2x PyTorch's epoch
      (the MLP job's optimizer; the same MLP with SGD lr 0.1 for information)

The same work per epoch for both: the 60,000 training images in a new order (drawn on the host,
copied to the GPU), each batch gathered on the GPU from the uint8 images already there and
converted to float32 / 255 there, forward, cross-entropy, backward, the optimizer's step, and
the batch's loss and correct predictions summed on the GPU, read back once at the end of the
epoch. Ours is ``Trainer.fit`` over ``DataLoader(device="cuda")`` (which copies the data set to
the GPU once; the Trainer reads back 10 times an epoch); PyTorch is the plain loop over tensors
already on the GPU, reading back once. Weights start as the jobs start them (N(0, 0.01**2) and
zeros for softmax regression, PyTorch's default uniform for the MLP).

GPU work is asynchronous, so each timed epoch starts and ends with a synchronisation. The first
epoch of each contender is a warm-up (CuPy compiles its kernels then; they are cached on disk
for later runs). Reported: the median and the minimum of the timed epochs, and the ratio of
the minima, ours / PyTorch, with PASS or MISS against the targets.

Without a GPU (``tinygrad_sm.cuda_available()`` False) it says so and exits with status 0.
Without PyTorch CUDA it times ours alone, and the targets cannot be judged. ``--device cpu``
runs the same code on the CPU, to check the script where there is no GPU (its figures then say
nothing about GPUs), and ``--examples N`` trains on the first N images only.
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from typing import Any, Callable

from _common import add_common_arguments, describe_machine, import_torch, print_table, threads_from_args

import numpy as np

import tinygrad_sm as tg

NUM_INPUTS, NUM_HIDDENS, NUM_CLASSES = 28 * 28, 256, 10
# (name, model, batch size, optimizer, lr, target ratio or None)
WORKLOADS = [
    ("softmax regression, batch 256, SGD", "softmax", 256, "sgd", 0.1, 1.5),
    ("softmax regression (scratch), batch 256, SGD", "scratch", 256, "sgd", 0.1, None),
    ("MLP 784-256-10, batch 1024, Adam", "mlp", 1024, "adam", 1e-3, 1.2),
    ("MLP 784-256-10, batch 1024, SGD", "mlp", 1024, "sgd", 0.1, None),
]


class Ours:
    """One workload trained by our Trainer on the GPU, one epoch per call."""

    def __init__(self, data: Any, model: str, batch: int, optimizer: str, lr: float,
                 device: str = "cuda") -> None:
        from tinygrad_sm.data import DataLoader
        from tinygrad_sm.train import Trainer

        from models.fashion_job import make_optimizer
        from models.mlp_fashion import build as build_mlp
        from models.softmax_regression import build as build_softmax

        tg.manual_seed(0)
        if model == "mlp":
            net, loss_fn = build_mlp("mlp", device=device)
        else:
            net, loss_fn = build_softmax("concise" if model == "softmax" else "scratch", device=device)
        self.train = DataLoader(data.train_dataset(), batch, shuffle=True, seed=0, device=device)
        self.test = DataLoader(data.test_dataset(), 1000, device=device)
        self.trainer = Trainer(net, loss_fn, make_optimizer(optimizer, list(net.parameters()), lr),
                               progress=False, log=None)

    def epoch(self) -> tuple[float, float]:
        stats = self.trainer.fit(self.train, 1)[-1]
        return stats.train_loss, stats.train_acc

    def accuracy(self) -> float:
        return self.trainer.evaluate(self.test)["accuracy"]


class Torch:
    """The same workload in PyTorch on CUDA, the data set on the GPU, results read back once an
    epoch."""

    def __init__(self, torch: Any, data: Any, model: str, batch: int, optimizer: str, lr: float,
                 device: str = "cuda") -> None:
        self.torch, self.batch, self.kind, self.device = torch, batch, model, device
        torch.manual_seed(0)
        nn = torch.nn
        self.rng = np.random.default_rng(0)
        if model == "mlp":
            self.net = nn.Sequential(nn.Flatten(), nn.Linear(NUM_INPUTS, NUM_HIDDENS), nn.ReLU(),
                                     nn.Linear(NUM_HIDDENS, NUM_CLASSES)).to(device)
            params = list(self.net.parameters())
        elif model == "softmax":
            self.net = nn.Sequential(nn.Flatten(), nn.Linear(NUM_INPUTS, NUM_CLASSES))
            nn.init.normal_(self.net[1].weight, 0.0, 0.01)
            nn.init.zeros_(self.net[1].bias)
            self.net = self.net.to(device)
            params = list(self.net.parameters())
        else:  # scratch: W (784, 10) and b, logsumexp minus the picked logit
            self.W = torch.normal(0.0, 0.01, (NUM_INPUTS, NUM_CLASSES), device=device).requires_grad_()
            self.b = torch.zeros(NUM_CLASSES, device=device, requires_grad=True)
            params = [self.W, self.b]
        self.loss_fn = nn.CrossEntropyLoss()
        self.optimizer = (torch.optim.SGD(params, lr=lr) if optimizer == "sgd"
                          else torch.optim.Adam(params, lr=lr))
        self.images = torch.from_numpy(data.train_images).to(device)
        self.labels = torch.from_numpy(data.train_labels).to(device)
        self.test_images = torch.from_numpy(data.test_images).to(device)
        self.test_labels = torch.from_numpy(data.test_labels).to(device)

    def forward(self, X: Any) -> Any:
        if self.kind == "scratch":
            return X.reshape(-1, NUM_INPUTS) @ self.W + self.b
        return self.net(X)

    def loss(self, logits: Any, y: Any) -> Any:
        if self.kind == "scratch":
            picked = logits[self.torch.arange(len(y), device=self.device), y]
            return (logits.logsumexp(1) - picked).mean()
        return self.loss_fn(logits, y)

    def epoch(self) -> tuple[float, float]:
        torch = self.torch
        n = len(self.labels)
        order = torch.from_numpy(self.rng.permutation(n)).to(self.device)
        total_loss = torch.zeros((), device=self.device)
        total_correct = torch.zeros((), dtype=torch.int64, device=self.device)
        for start in range(0, n, self.batch):
            idx = order[start:start + self.batch]
            X = self.images[idx].to(torch.float32)
            X /= 255
            y = self.labels[idx]
            logits = self.forward(X.reshape(len(idx), 1, 28, 28))
            loss = self.loss(logits, y)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            total_loss += loss.detach() * len(idx)
            total_correct += (logits.argmax(1) == y).sum()
        return float(total_loss) / n, int(total_correct) / n  # the one read of the epoch

    def accuracy(self) -> float:
        torch = self.torch
        correct = 0
        with torch.no_grad():
            for start in range(0, len(self.test_labels), 1000):
                X = self.test_images[start:start + 1000].to(torch.float32) / 255
                y = self.test_labels[start:start + 1000]
                correct += int((self.forward(X.reshape(len(y), 1, 28, 28)).argmax(1) == y).sum())
        return correct / len(self.test_labels)


def synced(epoch: Callable[[], Any], sync: Callable[[], None], last: dict, key: str) -> Callable[[], float]:
    def run() -> float:
        sync()
        start = time.perf_counter()
        last[key] = epoch()
        sync()
        return time.perf_counter() - start
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--epochs", type=int, default=None, help="timed epochs (default 5, quick 2)")
    parser.add_argument("--out", default=None, help="also write the results as markdown to this file")
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda",
                        help="cpu: run the same code on the CPU, to check the script")
    parser.add_argument("--examples", type=int, default=None,
                        help="train on the first N training images only (for checks)")
    args = parser.parse_args(argv)
    epochs = args.epochs or (2 if args.quick else 5)
    on_gpu = args.device == "cuda"

    if on_gpu and not tg.cuda_available():
        print("bench_gpu: skipped: tinygrad_sm.cuda_available() is False (CuPy is not installed "
              "or sees no GPU); run it on a machine with an NVIDIA GPU and "
              "pip install 'tinygrad_sm[cuda13]' (or [cuda] for CUDA 12)")
        return 0

    from tinygrad_sm.data import load_fashion_mnist

    threads = threads_from_args(args.threads)
    torch = None if args.no_torch else import_torch(threads)
    if on_gpu and torch is not None and not torch.cuda.is_available():
        print(f"PyTorch: skipped (torch {torch.__version__} has no CUDA device)")
        torch = None
    machine = describe_machine(threads, torch)
    if on_gpu:
        import cupy
        machine += f"; GPU: {tg.cuda.get_device_name()}, CuPy {cupy.__version__}"
        machine += f", PyTorch CUDA {torch.version.cuda}" if torch is not None else ""
        sync_ours, sync_torch = tg.cuda.synchronize, (torch.cuda.synchronize if torch else None)
    else:
        machine += "; on the CPU (--device cpu): a check of the script, not a GPU figure"
        sync_ours = sync_torch = lambda: None
    print(f"machine: {machine}")
    data = load_fashion_mnist(download=False)
    if args.examples:
        data = dataclasses.replace(data, train_images=data.train_images[:args.examples],
                                   train_labels=data.train_labels[:args.examples])

    last: dict[str, tuple[float, float]] = {}
    contenders: dict[str, Callable[[], float]] = {}
    accuracy: dict[str, Callable[[], float]] = {}
    for title, model, batch, optimizer, lr, _ in WORKLOADS:
        ours = Ours(data, model, batch, optimizer, lr, args.device)
        key = f"ours: {title}"
        contenders[key] = synced(ours.epoch, sync_ours, last, key)
        accuracy[key] = ours.accuracy
        if torch is not None:
            theirs = Torch(torch, data, model, batch, optimizer, lr, args.device)
            key = f"PyTorch: {title}"
            contenders[key] = synced(theirs.epoch, sync_torch, last, key)
            accuracy[key] = theirs.accuracy

    print(f"{len(contenders)} contenders: 1 warm-up epoch each (CuPy compiles its kernels then), "
          f"then {epochs} timed epoch(s) each, interleaved")
    for fn in contenders.values():
        fn()
    times: dict[str, list[float]] = {key: [] for key in contenders}
    for _ in range(epochs):
        for key, fn in contenders.items():
            times[key].append(fn())

    rows = []
    for key, t in times.items():
        loss, train_acc = last[key]
        rows.append([key, f"{statistics.median(t):.4f}", f"{min(t):.4f}", f"{loss:.4f}",
                     f"{train_acc:.4f}", f"{accuracy[key]():.4f}"])
    headers = ["contender", "s/epoch (median)", "s/epoch (min)", "last train loss", "train acc",
               "test acc"]
    print(f"\nseconds per epoch on {args.device}, {1 + epochs} epochs each ({epochs} timed)")
    print_table(headers, rows)

    verdicts = []
    for title, _, _, _, _, target in WORKLOADS:
        if torch is None:
            continue
        ours_t, theirs_t = times[f"ours: {title}"], times[f"PyTorch: {title}"]
        ratio = min(ours_t) / min(theirs_t)
        median_ratio = statistics.median(ours_t) / statistics.median(theirs_t)
        if target is None:
            verdict = "(no target)"
        else:
            verdict = ("PASS" if ratio <= target else "MISS") + f" (target <= {target:g}x)"
        verdicts.append((title, ratio, median_ratio, verdict))
        print(f"{title}: ours / PyTorch = {ratio:.2f} (fastest epochs), {median_ratio:.2f} (medians) "
              f"-> {verdict}")
    if torch is None:
        print("targets not judged: PyTorch CUDA is not available")

    if args.out:
        lines = [f"machine: {machine}", "", "| " + " | ".join(headers) + " |",
                 "|---|" + "---:|" * (len(headers) - 1)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        lines += ["", "| workload | ours / PyTorch (min) | (median) | verdict |", "|---|---:|---:|---|"]
        lines += [f"| {t} | {r:.2f} | {m:.2f} | {v} |" for t, r, m, v in verdicts]
        with open(args.out, "w") as f:
            f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
