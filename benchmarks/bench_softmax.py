"""Seconds per epoch of softmax regression on the real Fashion-MNIST, ours against the floor.

    python benchmarks/bench_softmax.py           # full run: 1 warm-up + 7 timed epochs each
    python benchmarks/bench_softmax.py --quick   # 1 warm-up + 1 timed epoch each

Every contender does the same work per epoch: 60,000 training examples in a new random order,
batches of 256 gathered from the uint8 arrays and converted to float32 / 255 per batch, forward,
mean cross-entropy, backward, an SGD step with lr 0.1, and the running loss and accuracy summed
the way ``tinygrad_sm.train.Trainer`` does (``loss.item() * n`` and the argmax hits per batch).

Contenders:
  numpy          a NumPy loop with the gradients derived by hand: the floor for this work
  ours concise   ``softmax_regression_concise()`` + ``nn.CrossEntropyLoss`` + ``optim.SGD``,
                 trained by ``Trainer.fit(loader, 1)`` per timed epoch
  ours scratch   ``SoftmaxRegressionScratch`` + its ``cross_entropy`` + ``optim.SGD``, same Trainer
  ... jit        the same, with ``Trainer(..., jit=True)``: each step captured once, then replayed
  torch concise  ``nn.Flatten`` + ``nn.Linear``, ``nn.CrossEntropyLoss``, ``torch.optim.SGD``
  torch scratch  W and b with requires_grad, log-space cross-entropy, SGD under ``no_grad``

The epochs are interleaved (epoch 1 of each, then epoch 2 of each, ...) and the median is
reported, so noise from the shared machine falls on all contenders alike. Weights start from
N(0, 0.01**2) and zeros in every contender. The test accuracy after the timed epochs is printed
as a check that each contender really trained (about 0.8 or more after a few epochs).

The functions ``numpy_job`` and ``torch_job`` are reused by ``bench_memory.py``.
"""
from __future__ import annotations

import argparse
import math
import time
from typing import Any, Callable

from _common import (add_common_arguments, blas_threads, describe_machine, import_torch,
                     interleaved, median, print_table, profile, summary, threads_from_args,
                     verdict, warn_if_contended)

import numpy as np

BATCH_SIZE = 256
LR = 0.1
NUM_INPUTS = 28 * 28
NUM_CLASSES = 10
TARGET = 1.25  # ours <= 1.25 x the NumPy loop
JIT_TARGET = 1.1  # ours under jit <= 1.1 x the NumPy loop


def to_float(images: np.ndarray) -> np.ndarray:
    """A gathered uint8 batch as float32 in [0, 1], converted as ``images_to_float`` does."""
    x = images.astype(np.float32)
    x /= 255
    return x


# ------------------------------------------------------------------ NumPy, gradients by hand

class NumpySoftmax:
    """Softmax regression with hand-derived gradients.

    loss = mean_i(logsumexp(o_i) - o_i[y_i]) with o = X W + b, so
    d loss / d o = (softmax(o) - onehot(y)) / n, dW = X^T (d o), db = sum over the batch of d o.
    """

    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.W = rng.normal(0.0, 0.01, (NUM_INPUTS, NUM_CLASSES)).astype(np.float32)
        self.b = np.zeros(NUM_CLASSES, dtype=np.float32)
        self.rng = rng

    def epoch(self, images: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
        n_total = len(labels)
        order = self.rng.permutation(n_total)
        total_loss, total_correct, total_seen = 0.0, 0, 0
        for start in range(0, n_total, BATCH_SIZE):
            idx = order[start:start + BATCH_SIZE]
            X = to_float(images[idx]).reshape(len(idx), NUM_INPUTS)
            y = labels[idx]
            n = len(y)
            rows = np.arange(n)
            logits = X @ self.W + self.b
            shifted = logits - logits.max(axis=1, keepdims=True)
            exp = np.exp(shifted)
            sum_exp = exp.sum(axis=1, keepdims=True)
            loss = float(np.log(sum_exp[:, 0]).mean() - shifted[rows, y].mean())
            dlogits = exp / sum_exp           # softmax
            dlogits[rows, y] -= 1             # minus the one-hot
            dlogits /= n
            dW = X.T @ dlogits
            db = dlogits.sum(axis=0)
            self.W -= LR * dW
            self.b -= LR * db
            if not math.isfinite(loss):
                raise RuntimeError(f"NumPy loop diverged: loss {loss}")
            total_loss += loss * n
            total_seen += n
            total_correct += int((logits.argmax(axis=1) == y).sum())
        return total_loss / total_seen, total_correct / total_seen

    def accuracy(self, images: np.ndarray, labels: np.ndarray) -> float:
        """Test accuracy, in batches converted one at a time like the training data."""
        correct = 0
        for start in range(0, len(labels), BATCH_SIZE):
            X = to_float(images[start:start + BATCH_SIZE]).reshape(-1, NUM_INPUTS)
            y = labels[start:start + BATCH_SIZE]
            correct += int(((X @ self.W + self.b).argmax(axis=1) == y).sum())
        return correct / len(labels)


# ------------------------------------------------------------------ ours

class Ours:
    """One of our two models, trained by the shared Trainer one epoch per call."""

    def __init__(self, kind: str, data: Any, seed: int = 0, device: str = "cpu",
                 jit: bool = False) -> None:
        import tinygrad_sm as tg
        from tinygrad_sm import nn, optim
        from tinygrad_sm.data import DataLoader
        from tinygrad_sm.train import Trainer

        from models.softmax_regression import (SoftmaxRegressionScratch, cross_entropy,
                                               softmax_regression_concise)

        tg.manual_seed(seed)
        if kind == "concise":
            model, loss_fn = softmax_regression_concise(device=device), nn.CrossEntropyLoss()
        else:
            model, loss_fn = SoftmaxRegressionScratch(device=device), cross_entropy
        self.device = device
        self.train_loader = DataLoader(data.train_dataset(), BATCH_SIZE, shuffle=True, seed=seed,
                                       device=device)
        self.test_loader = DataLoader(data.test_dataset(), BATCH_SIZE, device=device)
        self.trainer = Trainer(model, loss_fn, optim.SGD(list(model.parameters()), lr=LR),
                               progress=False, log=None, jit=jit)

    def epoch(self) -> tuple[float, float]:
        stats = self.trainer.fit(self.train_loader, 1)[-1]
        return stats.train_loss, stats.train_acc

    def accuracy(self) -> float:
        return self.trainer.evaluate(self.test_loader)["accuracy"]


def phases(ours: Ours, epochs: int = 2) -> dict[str, float]:
    """Milliseconds per epoch in each phase of the Trainer's loop, written out with a clock
    between the phases (the same calls as ``Trainer._train_epoch``); the last of ``epochs``."""
    from tinygrad_sm.train import correct_hits

    trainer = ours.trainer
    model, loss_fn, optimizer = trainer.model, trainer.loss_fn, trainer.optimizer
    clock = time.perf_counter
    for _ in range(epochs):
        spent = dict.fromkeys(["loader", "forward", "loss", "zero_grad+backward", "step",
                               "queue loss+accuracy"], 0.0)
        batches = iter(ours.train_loader)
        while True:
            t0 = clock()
            try:
                X, y = next(batches)
            except StopIteration:
                break
            t1 = clock()
            y_hat = model(X)
            t2 = clock()
            loss = loss_fn(y_hat, y)
            t3 = clock()
            optimizer.zero_grad()
            loss.backward()
            t4 = clock()
            optimizer.step()
            t5 = clock()
            correct_hits(y_hat, y)  # kept on the device until a read, as the Trainer does
            t6 = clock()
            for key, a, b in zip(spent, (t0, t1, t2, t3, t4, t5), (t1, t2, t3, t4, t5, t6)):
                spent[key] += (b - a) * 1e3
    return spent


# ------------------------------------------------------------------ PyTorch

class TorchSoftmax:
    """PyTorch, concise (nn.Flatten + nn.Linear, nn.CrossEntropyLoss, optim.SGD) or scratch
    (W, b with requires_grad, log-space cross-entropy, SGD by hand under no_grad). Batches are
    gathered from the same uint8 arrays with a NumPy permutation, like the others."""

    def __init__(self, torch: Any, kind: str, seed: int = 0, device: str = "cpu") -> None:
        self.torch, self.kind, self.device = torch, kind, device
        torch.manual_seed(seed)
        self.rng = np.random.default_rng(seed)
        if kind == "concise":
            net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(NUM_INPUTS, NUM_CLASSES))
            torch.nn.init.normal_(net[1].weight, 0.0, 0.01)
            torch.nn.init.zeros_(net[1].bias)
            self.net = net.to(device)
            self.loss_fn = torch.nn.CrossEntropyLoss()
            self.optimizer = torch.optim.SGD(self.net.parameters(), lr=LR)
        else:
            self.W = torch.normal(0.0, 0.01, (NUM_INPUTS, NUM_CLASSES), device=device)
            self.W.requires_grad_()
            self.b = torch.zeros(NUM_CLASSES, device=device, requires_grad=True)

    def forward(self, X: Any) -> Any:
        if self.kind == "concise":
            return self.net(X)
        return X.reshape(-1, NUM_INPUTS) @ self.W + self.b

    def loss(self, logits: Any, y: Any) -> Any:
        if self.kind == "concise":
            return self.loss_fn(logits, y)
        log_probs = logits - logits.logsumexp(1, keepdim=True)
        return -log_probs[self.torch.arange(len(y), device=logits.device), y].mean()

    def step(self, loss: Any) -> None:
        if self.kind == "concise":
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            return
        loss.backward()
        with self.torch.no_grad():
            for p in (self.W, self.b):
                p -= LR * p.grad
                p.grad = None

    def batch(self, images: Any, labels: Any, idx: Any) -> tuple[Any, Any]:
        """Gather on the device the arrays live on, convert there."""
        X = images[idx].to(self.torch.float32)
        X /= 255
        return X.reshape(len(idx), 1, 28, 28), labels[idx]

    def epoch(self, images: Any, labels: Any) -> tuple[float, float]:
        """``images``/``labels`` are torch tensors sharing memory with the uint8/int64 arrays
        (or copies on the GPU)."""
        torch = self.torch
        n_total = len(labels)
        order = torch.from_numpy(self.rng.permutation(n_total)).to(self.device)
        total_loss, total_correct, total_seen = 0.0, 0, 0
        for start in range(0, n_total, BATCH_SIZE):
            X, y = self.batch(images, labels, order[start:start + BATCH_SIZE])
            logits = self.forward(X)
            loss = self.loss(logits, y)
            self.step(loss)
            value = loss.item()
            if not math.isfinite(value):
                raise RuntimeError(f"PyTorch loop diverged: loss {value}")
            n = len(y)
            total_loss += value * n
            total_seen += n
            total_correct += int((logits.argmax(1) == y).sum())
        return total_loss / total_seen, total_correct / total_seen

    def accuracy(self, images: Any, labels: Any) -> float:
        """Test accuracy, in batches converted one at a time like the training data."""
        correct = 0
        with self.torch.no_grad():
            for start in range(0, len(labels), BATCH_SIZE):
                X = images[start:start + BATCH_SIZE].to(self.torch.float32) / 255
                y = labels[start:start + BATCH_SIZE]
                correct += int((self.forward(X).argmax(1) == y).sum())
        return correct / len(labels)


# ------------------------------------------------------------------ jobs for bench_memory

def numpy_job(epochs: int) -> float:
    """Load the data and train the NumPy loop for ``epochs``, testing after each: the NumPy
    equivalent of ``models/softmax_fashion.py``. Returns the final test accuracy."""
    from tinygrad_sm.data import load_fashion_mnist

    data = load_fashion_mnist(download=False)
    model = NumpySoftmax()
    for _ in range(epochs):
        model.epoch(data.train_images, data.train_labels)
        accuracy = model.accuracy(data.test_images, data.test_labels)
    return accuracy


def torch_job(epochs: int, kind: str = "concise") -> float:
    """The PyTorch equivalent of ``models/softmax_fashion.py`` (concise model by default)."""
    import torch

    from tinygrad_sm.data import load_fashion_mnist

    torch.set_num_threads(blas_threads())
    data = load_fashion_mnist(download=False)
    model = TorchSoftmax(torch, kind)
    train = torch.from_numpy(data.train_images), torch.from_numpy(data.train_labels)
    test = torch.from_numpy(data.test_images), torch.from_numpy(data.test_labels)
    for _ in range(epochs):
        model.epoch(*train)
        accuracy = model.accuracy(*test)
    return accuracy


# ------------------------------------------------------------------ the benchmark

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--profile", action="store_true",
                        help="also run one epoch of ours (concise, scratch) under cProfile, and "
                             "time the phases of the training loop")
    parser.add_argument("--epochs", type=int, default=None,
                        help="timed epochs (default 7, quick 1)")
    args = parser.parse_args(argv)
    epochs = args.epochs or (1 if args.quick else 7)

    from tinygrad_sm.data import load_fashion_mnist

    threads = threads_from_args(args.threads)
    torch = None if args.no_torch else import_torch(threads)
    print(f"machine: {describe_machine(threads, torch)}")
    warn_if_contended(threads)
    start = time.perf_counter()
    data = load_fashion_mnist(download=False)
    print(f"data: {data!r}, loaded in {time.perf_counter() - start:.2f} s")
    train = data.train_images, data.train_labels
    test = data.test_images, data.test_labels

    contenders: dict[str, Callable[[], Any]] = {}
    accuracy: dict[str, Callable[[], float]] = {}
    last: dict[str, tuple[float, float]] = {}

    def add(name: str, epoch: Callable[[], tuple[float, float]], acc: Callable[[], float]) -> None:
        def run() -> None:
            last[name] = epoch()
        contenders[name] = run
        accuracy[name] = acc

    ref = NumpySoftmax()
    add("NumPy loop (floor)", lambda: ref.epoch(*train), lambda: ref.accuracy(*test))
    ours_models = {kind: Ours(kind, data) for kind in ("concise", "scratch")}
    for kind, ours in ours_models.items():
        add(f"ours {kind}", ours.epoch, ours.accuracy)
    for kind in ("concise", "scratch"):
        jitted = Ours(kind, data, jit=True)
        add(f"ours {kind}, jit", jitted.epoch, jitted.accuracy)
    if torch is not None:
        train_t = tuple(torch.from_numpy(a) for a in train)
        test_t = tuple(torch.from_numpy(a) for a in test)
        for kind in ("concise", "scratch"):
            model = TorchSoftmax(torch, kind)
            add(f"PyTorch {kind}", lambda m=model: m.epoch(*train_t),
                lambda m=model: m.accuracy(*test_t))

    print(f"{len(contenders)} contenders: 1 warm-up epoch each, then {epochs} timed epoch(s) each, "
          "interleaved")
    interleaved(contenders, 1)
    times = interleaved(contenders, epochs)

    floor, floor_min = median(times["NumPy loop (floor)"]), min(times["NumPy loop (floor)"])
    rows = []
    for name, t in times.items():
        loss, train_acc = last[name]
        rows.append([name, f"{median(t):.3f}", f"{min(t):.3f}", f"{median(t) / floor:.2f}",
                     f"{min(t) / floor_min:.2f}", f"{loss:.4f}", f"{train_acc:.3f}",
                     f"{accuracy[name]():.4f}"])
    print(f"\nsoftmax regression, Fashion-MNIST, batch {BATCH_SIZE}, lr {LR}, "
          f"{1 + epochs} epochs each ({epochs} timed)")
    print_table(["contender", "s/epoch (median)", "min", "x NumPy", "x NumPy (mins)",
                 "last train loss", "train acc", "test acc"], rows)
    # The verdict compares the fastest epochs: on a shared machine bursts of other work inflate
    # some epochs of one contender and not another, and the minimum is the least affected.
    for kind in ("concise", "scratch"):
        for name, label in (("NumPy loop (floor)", "NumPy"), (f"ours {kind}", "ours eager"),
                            (f"ours {kind}, jit", "ours jit"), (f"PyTorch {kind}", "PyTorch")):
            if name in times:
                summary(f"softmax regression epoch, batch {BATCH_SIZE}, x NumPy ({kind})", label,
                        min(times[name]) / floor_min, "x NumPy")
    for name in ("ours concise", "ours scratch", "ours concise, jit", "ours scratch, jit"):
        ratio = min(times[name]) / floor_min
        target = JIT_TARGET if name.endswith("jit") else TARGET
        print(f"{name}: {ratio:.2f}x the NumPy loop comparing the fastest epochs "
              f"({median(times[name]) / floor:.2f}x comparing medians) -> {verdict(ratio, target)}")
    if torch is not None:
        for name in ("concise", "scratch"):
            ours_t, torch_t = times[f"ours {name}"], times[f"PyTorch {name}"]
            print(f"ours {name} / PyTorch {name}: {min(ours_t) / min(torch_t):.2f} "
                  f"(fastest epochs), {median(ours_t) / median(torch_t):.2f} (medians)")
    if args.profile:
        for name in ("ours concise", "ours scratch"):
            profile(contenders[name], f"{name}, one epoch")
        spent = {kind: phases(ours) for kind, ours in ours_models.items()}
        print("\n--- ours: milliseconds per epoch in each phase of the training loop ---")
        print_table(["phase"] + [f"ours {kind}" for kind in spent],
                    [[key] + [f"{spent[kind][key]:.1f}" for kind in spent]
                     for key in spent["concise"]]
                    + [["total"] + [f"{sum(spent[kind].values()):.1f}" for kind in spent]])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
