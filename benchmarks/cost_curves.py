"""Cost curves: seconds per training epoch against batch size, hidden width and data-set size,
ours side by side with a hand-written NumPy loop and with PyTorch on the CPU.

    python benchmarks/cost_curves.py --quick              # about 2 minutes on 2 CPUs
    python benchmarks/cost_curves.py                      # the full curves, under 15 minutes
    python benchmarks/cost_curves.py --out docs/images    # where the PNG and the table go
                                                          # (default runs/cost_curves)

Three curves, each varying one setting around the base point (an MLP 784-256-10, batch 256,
the 60,000 Fashion-MNIST training images):

  batch size     16 to 4096, with the base MLP
  hidden width   none (softmax regression, 784-10) and 16 to 4096 hidden ReLUs, at batch 256
  data-set size  1x to 8x the training set (by repetition), softmax regression at batch 256

The work per step is the same for every contender: gather the batch from the uint8 images,
convert it to float32 / 255, forward, mean cross-entropy, backward, an SGD step (lr 0.1), and
the batch's loss and number of correct predictions added up:

  numpy   the floor: the gradients derived by hand, written lean (updates in place with
          ``out=``, the softmax's buffers reused for its gradient, the learning rate folded into
          the gradient of the logits, nothing computed that nothing reads)
  ours    ``nn.Sequential`` (or the concise softmax regression), ``nn.CrossEntropyLoss``,
          ``optim.SGD``, driven by ``Trainer.fit`` over a ``DataLoader``: what the jobs run
  torch   the same in PyTorch (``torch.nn``, ``torch.optim.SGD``), its threads set to ours

Measuring on a shared, noisy machine:

* One BLAS thread for NumPy and one thread for PyTorch unless ``--threads`` says otherwise.
* The contenders run interleaved (numpy, ours, torch, numpy, ours, torch, ...) after a warm-up
  each, ``--repeats`` times, and each point reports the minimum over the repeats (the run least
  disturbed by other work); the table also gives the ratio of the medians.
* On the batch-size and hidden-width curves an epoch of the larger settings would take minutes,
  so each repeat times a slice of the epoch: the first ``steps`` batches of a random order of the
  whole training set, ``steps`` chosen so that the NumPy loop takes about ``--target`` seconds,
  and the time is scaled to the epoch's number of batches. The data-set-size curve times whole
  epochs, since what it asks is how an epoch grows with the data.

Writes ``cost_curves.png`` (seconds per epoch, and the ratio to NumPy, on each curve) and
``cost_curves.md`` (the table) into ``--out``. Without the real data set (``--synthetic``, or
when it is not found) random images of the same shape are used: the costs do not depend on
the pixel values.
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from typing import Any, Callable

from _common import describe_machine, import_torch, set_blas_threads, threads_from_args

import numpy as np

NUM_INPUTS, NUM_CLASSES, LR = 28 * 28, 10, 0.1
BASE_BATCH, BASE_HIDDEN = 256, 256

FULL = {"batch": [16, 32, 64, 128, 256, 512, 1024, 2048, 4096],
        "hidden": [0, 16, 64, 256, 1024, 4096],
        "data": [1, 2, 4, 8], "target": 0.5, "repeats": 5, "min_steps": 10}
QUICK = {"batch": [16, 64, 256, 1024, 4096], "hidden": [0, 64, 256, 1024, 4096],
         "data": [1, 2, 4, 8], "target": 0.12, "repeats": 3, "min_steps": 5}


# ------------------------------------------------------------------ the contenders

class Work:
    """What every contender trains on at one point: the images, the labels, and the order of
    the examples per repeat (a slice of an epoch, or a whole one)."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, batch: int, hidden: int,
                 steps: int | None, seed: int = 0) -> None:
        self.images, self.labels, self.batch, self.hidden = images, labels, batch, hidden
        self.n = len(labels)
        self.batches_per_epoch = math.ceil(self.n / batch)
        self.steps = self.batches_per_epoch if steps is None else min(steps, self.batches_per_epoch)
        self.rng = np.random.default_rng(seed)

    def order(self) -> np.ndarray:
        """The examples one repeat visits, in order: the first ``steps`` batches of a new random
        order of the whole set (every batch full but perhaps the epoch's last)."""
        return self.rng.permutation(self.n)[:self.steps * self.batch]


def to_float(images: np.ndarray) -> np.ndarray:
    x = images.astype(np.float32)
    x /= 255
    return x


class NumpyLoop:
    """Softmax regression (hidden = 0) or a one-hidden-layer ReLU MLP with hand-derived
    gradients. With Z the logits, P = softmax(Z) and Y the one-hot labels of a batch of n:

        loss = mean(logsumexp(Z) - Z[y]),   dZ = (P - Y) / n
        MLP:  H = relu(X W1^T + b1), Z = H W2^T + b2
              dW2 = dZ^T H, db2 = sum(dZ), dH = dZ W2 * (H > 0), dW1 = dH^T X, db1 = sum(dH)
        softmax regression:  Z = X W^T + b,  dW = dZ^T X,  db = sum(dZ)

    The learning rate is folded into dZ (lr / n instead of 1 / n), so each update is one
    in-place subtraction of a product written into a kept buffer."""

    def __init__(self, work: Work, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        sizes = [NUM_INPUTS] + ([work.hidden] if work.hidden else []) + [NUM_CLASSES]
        self.layers = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            bound = 1 / math.sqrt(fan_in)
            W = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)
            b = rng.uniform(-bound, bound, fan_out).astype(np.float32)
            self.layers.append((W, b, np.empty_like(W)))  # weight, bias, a buffer for dW
        self.work = work

    def run(self) -> tuple[float, int]:
        work = self.work
        order = work.order()
        total_loss, total_correct = 0.0, 0
        for start in range(0, len(order), work.batch):
            idx = order[start:start + work.batch]
            X, y = to_float(work.images[idx]).reshape(len(idx), NUM_INPUTS), work.labels[idx]
            n, rows = len(idx), np.arange(len(idx))
            if len(self.layers) == 2:
                (W1, b1, dW1), (W2, b2, dW2) = self.layers
                H = X @ W1.T
                H += b1
                np.maximum(H, 0, out=H)
                Z = H @ W2.T
                Z += b2
            else:
                (W, b, dW), = self.layers
                Z = X @ W.T
                Z += b
            total_correct += int((Z.argmax(axis=1) == y).sum())
            Z -= Z.max(axis=1, keepdims=True)
            picked = Z[rows, y]
            np.exp(Z, out=Z)  # Z now holds exp(Z - max): the softmax's numerators
            sums = Z.sum(axis=1)
            total_loss += float(np.log(sums).sum() - picked.sum())
            Z *= (LR / n) / sums[:, None]  # lr * (P - Y) / n, in place
            Z[rows, y] -= LR / n
            if len(self.layers) == 2:
                dH = Z @ W2
                dH *= H > 0
                np.matmul(Z.T, H, out=dW2)
                W2 -= dW2
                b2 -= Z.sum(axis=0)
                np.matmul(dH.T, X, out=dW1)
                W1 -= dW1
                b1 -= dH.sum(axis=0)
            else:
                np.matmul(Z.T, X, out=dW)
                W -= dW
                b -= Z.sum(axis=0)
        return total_loss, total_correct


class Prefix:
    """A dataset of the examples ``index`` of ``dataset``, in that order: one repeat's slice
    of an epoch, gathered from the whole set as a full epoch gathers."""

    def __init__(self, dataset: Any, index: np.ndarray) -> None:
        self.dataset, self.index = dataset, index

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, indices: Any) -> Any:
        return self.dataset[self.index[indices]]


class Ours:
    """The library's model, loss and SGD, trained by ``Trainer.fit`` for one pass over the
    repeat's examples (shuffled again by the DataLoader, which costs the same as the order)."""

    def __init__(self, work: Work, seed: int = 0) -> None:
        import tinygrad_sm as tg
        from tinygrad_sm import nn, optim
        from tinygrad_sm.data import ArrayDataset
        from tinygrad_sm.data.fashion_mnist import images_to_float
        from tinygrad_sm.train import Trainer

        tg.manual_seed(seed)
        layers = [nn.Flatten()]
        if work.hidden:
            layers += [nn.Linear(NUM_INPUTS, work.hidden), nn.ReLU(), nn.Linear(work.hidden, NUM_CLASSES)]
        else:
            layers += [nn.Linear(NUM_INPUTS, NUM_CLASSES)]
        self.model = nn.Sequential(*layers)
        # As many reads (and copies of the weights) per batch as in a whole epoch: 10 an epoch.
        reads = max(1, round(10 * work.steps / work.batches_per_epoch))
        self.trainer = Trainer(self.model, nn.CrossEntropyLoss(),
                               optim.SGD(self.model.parameters(), lr=LR), progress=False, log=None,
                               reads_per_epoch=reads)
        self.dataset = ArrayDataset(work.images, work.labels, transform=images_to_float)
        self.work = work

    def run(self) -> tuple[float, float]:
        from tinygrad_sm.data import DataLoader

        # A whole epoch is the dataset itself (the DataLoader draws its order); a slice, the
        # examples of this repeat's order.
        whole = self.work.steps == self.work.batches_per_epoch
        source = self.dataset if whole else Prefix(self.dataset, self.work.order())
        stats = self.trainer.fit(DataLoader(source, self.work.batch, shuffle=True, seed=0), 1)[-1]
        return stats.train_loss, stats.train_acc


class Torch:
    """The same model in PyTorch, on the CPU: gather from the uint8 tensor, convert, forward,
    ``CrossEntropyLoss``, backward, ``torch.optim.SGD``; loss and hits summed as tensors."""

    def __init__(self, torch: Any, work: Work, seed: int = 0) -> None:
        torch.manual_seed(seed)
        nn = torch.nn
        layers = [nn.Flatten()]
        if work.hidden:
            layers += [nn.Linear(NUM_INPUTS, work.hidden), nn.ReLU(), nn.Linear(work.hidden, NUM_CLASSES)]
        else:
            layers += [nn.Linear(NUM_INPUTS, NUM_CLASSES)]
        self.torch, self.model = torch, nn.Sequential(*layers)
        self.loss_fn = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=LR)
        self.images = torch.from_numpy(work.images)
        self.labels = torch.from_numpy(work.labels)
        self.work = work

    def run(self) -> tuple[float, float]:
        torch, work = self.torch, self.work
        order = torch.from_numpy(work.order())
        total_loss = torch.zeros(())
        total_correct = torch.zeros((), dtype=torch.int64)
        for start in range(0, len(order), work.batch):
            idx = order[start:start + work.batch]
            X = self.images[idx].to(torch.float32)
            X /= 255
            y = self.labels[idx]
            logits = self.model(X)
            loss = self.loss_fn(logits, y)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            total_loss += loss.detach() * len(idx)
            total_correct += (logits.argmax(1) == y).sum()
        return float(total_loss), int(total_correct)


# ------------------------------------------------------------------ measuring one point

def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(images: np.ndarray, labels: np.ndarray, batch: int, hidden: int, whole_epochs: bool,
            target: float, repeats: int, torch: Any, min_steps: int = 5) -> dict[str, Any]:
    """Seconds per epoch of each contender at one point: min and median over the repeats."""
    steps = None
    if not whole_epochs:
        # Calibrate on the NumPy loop: enough batches for about `target` seconds a repeat.
        probe = NumpyLoop(Work(images, labels, batch, hidden, steps=2))
        probe.run()  # warm-up
        per_step = timed(probe.run) / 2
        steps = max(min_steps, int(target / max(per_step, 1e-6)))
    contenders: dict[str, Any] = {}
    for name, make in (("numpy", NumpyLoop), ("ours", Ours)):
        contenders[name] = make(Work(images, labels, batch, hidden, steps))
    if torch is not None:
        contenders["torch"] = Torch(torch, Work(images, labels, batch, hidden, steps))
    work = contenders["numpy"].work
    scale = work.batches_per_epoch / work.steps  # a slice's time -> an epoch's
    for c in contenders.values():  # warm-up: first calls, allocations, caches
        c.run()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, c in contenders.items():
            times[name].append(timed(c.run) * scale)
    return {"steps": work.steps, "batches_per_epoch": work.batches_per_epoch,
            "min": {name: min(t) for name, t in times.items()},
            "median": {name: statistics.median(t) for name, t in times.items()}}


# ------------------------------------------------------------------ output

def label(axis: str, value: int) -> str:
    if axis == "hidden":
        return "none (softmax)" if value == 0 else str(value)
    return f"{value}x" if axis == "data" else str(value)


AXES = {"batch": "batch size (MLP 784-256-10)", "hidden": "hidden width (batch 256)",
        "data": "data-set size (softmax regression, batch 256)"}


def markdown(points: list[dict[str, Any]], has_torch: bool) -> str:
    lines = []
    header = ["curve", "setting", "batches timed / epoch", "NumPy s/epoch", "ours s/epoch"]
    header += ["PyTorch s/epoch"] if has_torch else []
    header += ["ours / NumPy (min)", "ours / NumPy (median)"]
    header += ["PyTorch / NumPy (min)", "ours / PyTorch (min)"] if has_torch else []
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * 2 + "---:|" * (len(header) - 2))
    for p in points:
        lo, mid = p["min"], p["median"]
        row = [AXES[p["axis"]].split(" (")[0], label(p["axis"], p["value"]),
               f"{p['steps']} / {p['batches_per_epoch']}", f"{lo['numpy']:.3f}", f"{lo['ours']:.3f}"]
        row += [f"{lo['torch']:.3f}"] if has_torch else []
        row += [f"**{lo['ours'] / lo['numpy']:.2f}**", f"{mid['ours'] / mid['numpy']:.2f}"]
        if has_torch:
            row += [f"{lo['torch'] / lo['numpy']:.2f}", f"{lo['ours'] / lo['torch']:.2f}"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def plot(points: list[dict[str, Any]], has_torch: bool, path: str) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    axes_used = [a for a in AXES if any(p["axis"] == a for p in points)]
    figure = Figure(figsize=(5 * len(axes_used), 7.5))
    FigureCanvasAgg(figure)
    names = ["numpy", "ours"] + (["torch"] if has_torch else [])
    styles = {"numpy": ("NumPy loop (floor)", "k", "o"), "ours": ("ours", "tab:blue", "s"),
              "torch": ("PyTorch CPU", "tab:orange", "^")}
    for column, axis in enumerate(axes_used):
        rows = [p for p in points if p["axis"] == axis]
        xs = list(range(len(rows)))
        top = figure.add_subplot(2, len(axes_used), column + 1)
        bottom = figure.add_subplot(2, len(axes_used), len(axes_used) + column + 1)
        for name in names:
            text, color, marker = styles[name]
            top.plot(xs, [p["min"][name] for p in rows], marker=marker, color=color, label=text)
            if name != "numpy":
                bottom.plot(xs, [p["min"][name] / p["min"]["numpy"] for p in rows], marker=marker,
                            color=color, label=f"{text} / NumPy")
        top.set_yscale("log")
        top.set_title(AXES[axis])
        top.set_ylabel("seconds per epoch (min of repeats)")
        bottom.axhline(1.0, color="k", linewidth=0.8)
        bottom.set_ylabel("x the NumPy loop")
        for ax in (top, bottom):
            ax.set_xticks(xs)
            ax.set_xticklabels([label(axis, p["value"]).replace(" (softmax)", "") for p in rows])
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    return path


# ------------------------------------------------------------------ main

def load_images(synthetic: bool, examples: int | None) -> tuple[np.ndarray, np.ndarray, str]:
    if not synthetic:
        from tinygrad_sm.data import load_fashion_mnist
        from tinygrad_sm.data.fashion_mnist import FashionMNISTNotFoundError
        try:
            data = load_fashion_mnist(download=False)
            images, labels, what = data.train_images, data.train_labels, "Fashion-MNIST"
        except FashionMNISTNotFoundError:
            print("Fashion-MNIST not found: random images of the same shape instead")
            synthetic = True
    if synthetic:
        rng = np.random.default_rng(0)
        images = rng.integers(0, 256, (60_000, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, NUM_CLASSES, 60_000).astype(np.int64)
        what = "random images"
    if examples is not None:
        images, labels = images[:examples], labels[:examples]
    return images, labels, f"{what}, {len(labels)} examples"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer points and repeats (~2 min)")
    parser.add_argument("--out", default=os.path.join("runs", "cost_curves"),
                        help="folder for cost_curves.png and cost_curves.md (default runs/cost_curves)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS / PyTorch threads (default 1)")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats per point")
    parser.add_argument("--target", type=float, default=None,
                        help="seconds of the NumPy loop per repeat on the sliced curves")
    parser.add_argument("--batch-sizes", type=int, nargs="*", default=None)
    parser.add_argument("--hidden", type=int, nargs="*", default=None, help="0 = softmax regression")
    parser.add_argument("--data-scales", type=int, nargs="*", default=None)
    parser.add_argument("--examples", type=int, default=None,
                        help="use only the first N training examples (for smoke tests)")
    parser.add_argument("--synthetic", action="store_true", help="random images, not the data set")
    parser.add_argument("--no-plot", action="store_true", help="write the table only")
    args = parser.parse_args(argv)
    settings = dict(QUICK if args.quick else FULL)
    for key, value in (("batch", args.batch_sizes), ("hidden", args.hidden), ("data", args.data_scales),
                       ("target", args.target), ("repeats", args.repeats)):
        if value is not None:
            settings[key] = value

    if not set_blas_threads(args.threads):
        print(f"warning: could not set NumPy's BLAS threads to {args.threads}; set "
              "OPENBLAS_NUM_THREADS before starting Python instead")
    threads = threads_from_args(None)
    torch = None if args.no_torch else import_torch(threads)
    images, labels, what = load_images(args.synthetic, args.examples)
    print(f"machine: {describe_machine(threads, torch)}")
    print(f"data: {what}; {settings['repeats']} repeats per point, interleaved; minimum reported")
    os.makedirs(args.out, exist_ok=True)

    plan = ([("batch", b, BASE_HIDDEN, b, False) for b in settings["batch"]]
            + [("hidden", h, h, BASE_BATCH, False) for h in settings["hidden"]]
            + [("data", k, 0, BASE_BATCH, True) for k in settings["data"]])
    points = []
    start = time.perf_counter()
    for axis, value, hidden, batch, whole in plan:
        if axis == "data":
            data = (np.concatenate([images] * value), np.concatenate([labels] * value)) if value > 1 \
                else (images, labels)
        else:
            data = (images, labels)
        point = measure(*data, batch, hidden, whole, settings["target"], settings["repeats"], torch,
                        settings["min_steps"])
        point.update(axis=axis, value=value)
        points.append(point)
        lo = point["min"]
        print(f"  {axis:6s} {label(axis, value):>14s}: numpy {lo['numpy']:.3f}  ours {lo['ours']:.3f}"
              + (f"  torch {lo['torch']:.3f}" if "torch" in lo else "")
              + f"  s/epoch -> ours/numpy {lo['ours'] / lo['numpy']:.2f}  "
              f"[{time.perf_counter() - start:.0f} s]", flush=True)
    table = markdown(points, torch is not None)
    with open(os.path.join(args.out, "cost_curves.md"), "w") as f:
        f.write(table + "\n")
    print("\n" + table)
    if not args.no_plot:
        try:
            print("\nwrote " + plot(points, torch is not None, os.path.join(args.out, "cost_curves.png")))
        except ImportError:
            print("matplotlib is not installed: no plot (pip install matplotlib)")
    print(f"{len(points)} points in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
