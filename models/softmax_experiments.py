"""The book's exercises on linear and softmax regression, answered by running them.

    python models/softmax_experiments.py --out docs       # the full run, a few minutes on 2 cores
    python models/softmax_experiments.py --quick --out /tmp/exercises   # a small run, seconds

Six experiments, from the exercises of *Dive into Deep Learning* 4.4 (softmax regression from
scratch, 2023 edition), 3.6 (the same in the older edition), and 3.2 and 3.3 of the older edition
(linear regression from scratch and concise):

1. the naive softmax exp(x) / sum(exp(x)) against the stable one, at inputs of 100 and below -100;
2. cross-entropy written by its definition (the log of a probability) against the fused
   ``cross_entropy`` of the logits: same numbers, where they differ, and the time per call;
3. the validation loss against the learning rate;
4. the training and validation loss, and the time per epoch, against the minibatch size;
5. linear regression started from w = 0 (and all weights equal), against a hidden layer;
6. Huber loss in place of squared loss, on clean data and with outliers.

The script writes ``OUT/exercises.md`` and its figures in ``OUT/images/exercises/``. Fashion-MNIST
is found as ``softmax_fashion.py`` finds it (``--data-dir``, ``$FASHION_MNIST_DIR``, the cache,
``/usr/share/datasets/fashion-mnist``, else a download unless ``--no-download``). ``--quick``
runs every experiment on a small subset with fewer settings; it checks that the whole pipeline
works, and its numbers are not the page's.
"""
from __future__ import annotations

import argparse
import math
import os
import re
import sys
import time
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tinygrad_sm as tg
from tinygrad_sm import nn, optim
from tinygrad_sm.data import ArrayDataset, DataLoader, load_fashion_mnist, synthetic_data
from tinygrad_sm.data.fashion_mnist import FashionMNIST, FashionMNISTError, FashionMNISTNotFoundError
from tinygrad_sm.data.fashion_mnist import images_to_float
from tinygrad_sm.nn import functional as F
from tinygrad_sm.train import Trainer, TrainingDiverged

from benchmarks._common import blas_threads, set_blas_threads
from models import cli
from models.linear_regression import TRUE_B, TRUE_W, linreg, sgd, squared_loss
from models.softmax_regression import softmax_regression_concise

IMAGE_DIR = os.path.join("images", "exercises")  # relative to --out, as the page links them
COMMAND = "python models/softmax_experiments.py --out docs"
QUICK_COMMAND = "python models/softmax_experiments.py --quick --out OUT"


@dataclass(frozen=True)
class Settings:
    """How big each experiment is. ``FULL`` makes the page; ``QUICK`` only checks the pipeline."""

    name: str
    train_size: int          # Fashion-MNIST training examples used (of the 50,000 not held out)
    val_size: int            # held-out validation examples (taken from the training set)
    ce_epochs: int           # epochs of each cross-entropy variant (experiment 2)
    ce_timing_repeats: int   # rounds of the timing loop; the fastest round counts
    lrs: tuple[float, ...]   # the learning-rate sweep (experiment 3)
    lr_epochs: int
    batch_sizes: tuple[int, ...]  # the minibatch-size sweep (experiment 4)
    bs_train_size: int
    bs_epochs: int
    bs_lr: float
    regression_examples: int  # synthetic linear-regression data (experiments 5 and 6)
    mlp_epochs: int
    huber_epochs: int


FULL = Settings(
    name="full", train_size=50_000, val_size=10_000, ce_epochs=3, ce_timing_repeats=7,
    lrs=(0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0), lr_epochs=10,
    batch_sizes=(1, 4, 16, 64, 256, 1024, 4096), bs_train_size=50_000, bs_epochs=1, bs_lr=0.1,
    regression_examples=1000, mlp_epochs=10, huber_epochs=10)
QUICK = Settings(
    name="quick", train_size=2000, val_size=1000, ce_epochs=1, ce_timing_repeats=2,
    lrs=(0.01, 0.1, 1.0), lr_epochs=1,
    batch_sizes=(8, 64, 512), bs_train_size=1000, bs_epochs=1, bs_lr=0.1,
    regression_examples=1000, mlp_epochs=3, huber_epochs=3)

BOOK_LR, BOOK_BATCH = 0.1, 256  # the book's settings for softmax regression
HELD_OUT = 10_000  # training images set aside for validation (the first of a seeded permutation)


# ================================================================== helpers

def figure(ncols: int = 1, width: float = 5.2, height: float = 3.6) -> tuple[Any, list[Any]]:
    """A matplotlib Figure with ``ncols`` axes side by side. matplotlib is imported here, on
    first use, and through ``Figure`` rather than pyplot, so no global backend state changes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height), layout="constrained")
    axes = fig.subplots(1, ncols)
    return fig, list(np.atleast_1d(axes))


def save(fig: Any, out: str, name: str) -> str:
    """Write ``fig`` as OUT/images/exercises/NAME.png; return the page's link to it."""
    link = f"{IMAGE_DIR}/{name}.png".replace(os.sep, "/")
    fig.savefig(os.path.join(out, IMAGE_DIR, f"{name}.png"), dpi=100)
    return link


def plain_ticks(ax: Any, axis: str, values: list[float] | None = None) -> None:
    """Label a log axis with plain numbers (0.5, 1, 2, 5 ...) instead of powers of ten: at
    ``values`` when given, else at 1-2-5 steps covering the data."""
    from matplotlib.ticker import NullLocator

    lo, hi = (ax.get_ylim() if axis == "y" else ax.get_xlim())
    if values is None:
        values = [m * 10.0 ** e for e in range(-6, 7) for m in (1, 2, 5) if lo <= m * 10.0 ** e <= hi]
    setter = ax.set_yticks if axis == "y" else ax.set_xticks
    setter(values, [f"{v:g}" for v in values])
    (ax.yaxis if axis == "y" else ax.xaxis).set_minor_locator(NullLocator())


def fmt(x: float, digits: int = 4) -> str:
    """A number for the page: ``inf``/``nan`` spelt out, others with ``digits`` significant."""
    if not math.isfinite(x):
        return str(x)
    return f"{x:.{digits}g}"


def table(header: list[str], rows: list[list[str]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def best_of(fns: dict[str, Callable[[], object]], repeats: int, min_seconds: float = 0.05
            ) -> dict[str, float]:
    """Seconds per call of each function, side by side: the calls are timed in rounds that
    visit every function in turn (so a busy spell on the machine hits them all alike), each
    round runs enough calls to last ``min_seconds``, and the fastest round counts."""
    number = {}
    for name, fn in fns.items():
        fn()  # warm up
        start, n = time.perf_counter(), 0
        while time.perf_counter() - start < min_seconds / 5:
            fn()
            n += 1
        number[name] = max(1, round(n * 5))
    best = {name: math.inf for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(number[name]):
                fn()
            best[name] = min(best[name], (time.perf_counter() - start) / number[name])
    return best


class FashionSplits:
    """Fashion-MNIST's 60,000 training images split once, by a seeded permutation, into a
    training part and a held-out validation part. The learning rate and the batch size are
    chosen on the validation part, so the test set stays untouched, as it should."""

    def __init__(self, data: FashionMNIST, settings: Settings, seed: int) -> None:
        order = np.random.default_rng(seed).permutation(len(data.train_labels))
        self.val_index = order[:min(settings.val_size, HELD_OUT)]
        self.train_index = order[HELD_OUT:HELD_OUT + settings.train_size]
        self.data = data

    def dataset(self, index: np.ndarray) -> ArrayDataset:
        return ArrayDataset(self.data.train_images[index], self.data.train_labels[index],
                            transform=images_to_float)

    def train(self, size: int | None = None) -> ArrayDataset:
        return self.dataset(self.train_index[:size])

    def val(self) -> ArrayDataset:
        return self.dataset(self.val_index)


def diverged_where(e: TrainingDiverged) -> str:
    """Where a run diverged, from the Trainer's message: "epoch 1, batch 12: the loss is nan"."""
    m = re.search(r"epoch (\d+), batch (\d+)\D.*?the loss is (\S+?)[;,. ]", str(e) + " ")
    return f"epoch {m[1]}, batch {m[2]}: the loss is {m[3]}" if m else str(e).split(";")[0]


def softmax_model(seed: int) -> nn.Module:
    """The book's concise softmax regression (Flatten, Linear(784, 10) with N(0, 0.01**2)
    weights), seeded so that every setting of a sweep starts from the same weights."""
    tg.manual_seed(seed)
    return softmax_regression_concise()


# ================================================================== 1. naive and stable softmax

def naive_softmax(X: tg.Tensor) -> tg.Tensor:
    """The book's first softmax, by the definition: exp(X) / sum(exp(X)) along each row."""
    X_exp = X.exp()
    return X_exp / X_exp.sum(1, keepdims=True)


def reference_softmax(x: np.ndarray) -> np.ndarray:
    """The exact answer, for comparison: float64, with the max subtracted."""
    e = np.exp(np.asarray(x, np.float64) - np.max(x, axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


SOFTMAX_CASES = {
    "ordinary inputs": [2.0, 1.0, 0.0],
    "an input of 100": [100.0, 99.0, 98.0],
    "100 next to small inputs": [100.0, 0.0, -50.0],
    "largest just below -100": [-101.0, -102.0, -103.0],
    "largest below -104": [-110.0, -111.0, -112.0],
}


def exp_softmax(settings: Settings, out: str) -> dict[str, Any]:
    """Exercise 4.4.1 (3.6.1): where exp(x) / sum(exp(x)) breaks in float32, and the fix."""
    rows = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the naive version's overflow, shown below
        for case, x in SOFTMAX_CASES.items():
            X = tg.tensor([x])  # float32, as every tensor made from Python floats
            rows[case] = {"x": x, "naive": naive_softmax(X).numpy()[0].tolist(),
                          "stable": F.softmax(X, axis=1).numpy()[0].tolist(),
                          "exact": reference_softmax(x).tolist()}
        # The sweep for the figure: rows [c, c - 1, c - 2] for many c. Subtracting a constant
        # does not change a softmax, so the exact first entry is the same for every c.
        shifts = np.linspace(-130.0, 130.0, 1041)
        X = tg.tensor(shifts[:, None] - np.arange(3.0)[None, :], dtype=tg.float32)
        naive = naive_softmax(X).numpy()[:, 0].astype(np.float64)
        stable = F.softmax(X, axis=1).numpy()[:, 0].astype(np.float64)
    exact = reference_softmax(np.array([0.0, -1.0, -2.0]))[0]
    naive_ok = np.isfinite(naive)
    result = {
        "cases": rows, "exact_first": float(exact),
        # the range of c where the naive one gives a number at all, and where it is within 1e-6
        "naive_finite_range": [float(shifts[naive_ok].min()), float(shifts[naive_ok].max())],
        "naive_accurate_range": _range_where(shifts, np.abs(naive - exact) <= 1e-6 * exact),
        "stable_max_rel_error": float(np.max(np.abs(stable - exact)) / exact),
    }
    fig, (ax1, ax2) = figure(2)
    ax1.plot(shifts, np.where(naive_ok, naive, np.nan), label="naive exp(x)/sum exp(x)", lw=2)
    ax1.plot(shifts, stable, "--", label="stable (max subtracted)", lw=1.5)
    for x in shifts[~naive_ok][:: max(1, (~naive_ok).sum() // 40)]:
        ax1.axvline(x, color="tab:red", alpha=0.08, lw=3)
    ax1.set(xlabel="c, the largest input of the row [c, c-1, c-2]",
            ylabel="first probability (exact: %.4f)" % exact,
            title="float32 softmax; red: naive gives NaN")
    ax1.legend(loc="lower center", fontsize=8)
    rel = np.abs(naive - exact) / exact
    ax2.semilogy(shifts, np.where(naive_ok, np.maximum(rel, 1e-9), np.nan), label="naive")
    ax2.semilogy(shifts, np.maximum(np.abs(stable - exact) / exact, 1e-9), label="stable")
    ax2.set(xlabel="c", ylabel="relative error (floored at 1e-9)", title="error of each against float64")
    ax2.legend(fontsize=8)
    result["figure"] = save(fig, out, "softmax_stability")
    return result


def _range_where(x: np.ndarray, mask: np.ndarray) -> list[float]:
    """The longest run of consecutive ``x`` where ``mask`` holds, as [first, last]."""
    best, start = (math.nan, math.nan), None
    for i, ok in enumerate(list(mask) + [False]):
        if ok and start is None:
            start = i
        elif not ok and start is not None:
            if math.isnan(best[0]) or i - 1 - start > np.searchsorted(x, best[1]) - np.searchsorted(x, best[0]):
                best = (float(x[start]), float(x[i - 1]))
            start = None
    return list(best)


def section_softmax(r: dict[str, Any]) -> str:
    rows = []
    for case, v in r["cases"].items():
        rows.append([case, "`" + str([fmt(a, 4) for a in v["x"]]).replace("'", "") + "`",
                     ", ".join(fmt(a, 4) for a in v["naive"]),
                     ", ".join(fmt(a, 4) for a in v["stable"]),
                     ", ".join(fmt(a, 4) for a in v["exact"])])
    lo, hi = r["naive_finite_range"]
    alo, ahi = r["naive_accurate_range"]
    return f"""## 1. The naive softmax against the stable one

*4.4, exercise 1 (3.6, exercises 1 and 3): does `softmax` still work when an input is 100, or
when the largest input is below -100? Fix it by looking at each value relative to the largest.*

**What was measured.** The book's first softmax, `X_exp = X.exp(); X_exp / X_exp.sum(1,
keepdims=True)`, against tinygrad_sm's `softmax` (`nn.functional.softmax`, `Tensor.softmax`),
which subtracts each row's largest value before `exp`. Both in float32, the default dtype, on
one row each; "exact" is float64 NumPy with the max subtracted.

{table(["case", "input row", "naive", "stable", "exact"], rows)}

![The naive and the stable softmax of the row c, c-1, c-2 as c runs from -130 to 130]({r["figure"]})

The figure feeds both versions the row `[c, c-1, c-2]`. Subtracting a constant from every input leaves
a softmax unchanged, so the right first probability is {r["exact_first"]:.4f} for every `c`.

**Conclusion.**

- **An input of 100.** `exp(100)` is about 2.7e43, beyond float32's largest number (3.4e38),
  so it becomes `inf`. A row with one `inf` gives `inf / inf = nan` there and `x / inf = 0`
  elsewhere. The naive softmax gives a number at all only for `c` from {fmt(lo)} to {fmt(hi)}:
  `exp` overflows just above 88.7.
- **Largest input below -100.** Here `exp` underflows. Below about -87.3 its results are
  *subnormal*: float32 keeps fewer and fewer digits for them, so the naive answer is wrong
  before it fails. `[-101, -102, -103]` gives 0.667, 0.267, 0.067 instead of 0.665, 0.245,
  0.090. Below about -103.9 every `exp` is exactly 0, and `0 / 0 = nan`. The naive result
  agrees with the exact one to a relative 1e-6 only for `c` from {fmt(alo)} to {fmt(ahi)}.
- **The fix** is to subtract each row's maximum first:
  `softmax(x) = exp(x - max x) / sum(exp(x - max x))`. The largest exponent is then
  `exp(0) = 1`, so nothing overflows, and the sum is at least 1, so it is never 0. Small
  probabilities may still underflow to 0, but only where the true value is below float32's
  range. Over the whole sweep, the stable version's largest relative error is
  {r["stable_max_rel_error"]:.1e}. tinygrad_sm's `softmax`, `log_softmax`, `logsumexp` and
  `cross_entropy` all work this way.
"""


# ================================================================== 2. cross-entropy

def ce_definition(y_hat: tg.Tensor, y: tg.Tensor) -> tg.Tensor:
    """4.4's exercise: the loss by its definition, -sum_j y_j log y_hat_j, with y one-hot."""
    Y = tg.one_hot(y, y_hat.shape[1]).astype(y_hat.dtype)
    return -(Y * y_hat.log()).sum(1)


def ce_indexing(y_hat: tg.Tensor, y: tg.Tensor) -> tg.Tensor:
    """The book's first version: -log of the probability of the true class, picked by indexing."""
    return -y_hat[tg.arange(len(y)), y].log()


# Each takes logits O and labels y and returns the N per-example losses. The first two start
# from probabilities y_hat = softmax(O), with the stable softmax, so that only their log differs.
CE_VARIANTS: dict[str, Callable[[tg.Tensor, tg.Tensor], tg.Tensor]] = {
    "definition: -sum y log softmax": lambda O, y: ce_definition(F.softmax(O, axis=1), y),
    "book: -log softmax[i, y_i]": lambda O, y: ce_indexing(F.softmax(O, axis=1), y),
    "fused: F.cross_entropy": lambda O, y: F.cross_entropy(O, y, reduction="none"),
}


def exp_cross_entropy(splits: FashionSplits, settings: Settings, seed: int, out: str) -> dict[str, Any]:
    """Exercise 4.4.2 (3.6.2-3): cross-entropy through the log of a probability, or fused."""
    val_loader = DataLoader(splits.val(), 1000)
    result: dict[str, Any] = {"training": {}, "large_lr": {}}

    # (a) Try each in the book's training, at its learning rate and at a 10 times larger one:
    # the same initial weights and the same shuffling for every run.
    probe_net = None
    for name, loss in CE_VARIANTS.items():
        for lr, key in ((BOOK_LR, "training"), (1.0, "large_lr")):
            net = softmax_model(seed)
            trainer = Trainer(net, lambda O, y, loss=loss: loss(O, y).mean(),
                              optim.SGD(net.parameters(), lr=lr), progress=False, log=None)
            train_loader = DataLoader(splits.train(), BOOK_BATCH, shuffle=True, seed=seed)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    history = trainer.fit(train_loader, settings.ce_epochs, val_loader)
                last = history[-1]
                if lr == BOOK_LR and name.startswith("fused"):
                    probe_net = net  # the model whose logits are probed below
                result[key][name] = {"val_loss": last.val_loss, "val_acc": last.val_acc,
                                     "seconds_per_epoch": float(np.mean([h.seconds for h in history])),
                                     "diverged": None}
            except TrainingDiverged as e:
                result[key][name] = {"val_loss": math.nan, "val_acc": math.nan,
                                     "seconds_per_epoch": math.nan, "diverged": diverged_where(e)}
    if probe_net is None:
        raise RuntimeError(f"the fused loss diverged at the book's learning rate {BOOK_LR}: "
                           f"{result['training']}; there are no logits to probe")
    X, y = next(iter(DataLoader(splits.val(), len(splits.val_index))))
    with tg.no_grad():
        logits = probe_net(X)

    # (b) The same numbers? Each variant against float64, and the gradients against each other.
    O64 = logits.numpy().astype(np.float64)
    lse = O64.max(1) + np.log(np.exp(O64 - O64.max(1, keepdims=True)).sum(1))
    exact = lse - O64[np.arange(len(O64)), y.numpy()]
    agreement = {}
    for name, loss in CE_VARIANTS.items():
        O = logits.detach().requires_grad_()
        values = loss(O, y)
        values.mean().backward()
        agreement[name] = {"max_abs_error": float(np.max(np.abs(values.numpy() - exact))),
                           "mean_loss": float(values.numpy().mean()), "grad": O.grad.numpy()}
    fused_grad = agreement["fused: F.cross_entropy"]["grad"]
    for name, v in agreement.items():
        v["grad_max_diff"] = float(np.max(np.abs(v.pop("grad") - fused_grad)))
    result["agreement"] = agreement
    result["exact_mean_loss"] = float(exact.mean())

    # (c) Where they differ: the same logits made more confident, O * scale (as a model whose
    # weights kept growing would make them). Count the examples whose loss is not finite.
    scales = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]
    broken: dict[str, list[float]] = {name: [] for name in CE_VARIANTS}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for scale in scales:
            O = logits * scale
            for name, loss in CE_VARIANTS.items():
                values = loss(O, y).numpy()
                broken[name].append(float(np.mean(~np.isfinite(values))))
    p_true = F.softmax(logits * scales[-1], axis=1).numpy()[np.arange(len(y)), y.numpy()]
    result["scales"], result["nonfinite_fraction"] = scales, broken
    result["zero_true_prob_at_max_scale"] = float(np.mean(p_true == 0))

    # (d) Time per call, forward and forward + backward, at the book's batch and at many classes.
    timings = {}
    rng = np.random.default_rng(seed)
    for n, classes in ((BOOK_BATCH, 10), (BOOK_BATCH, 1000)):
        O_np = rng.normal(0, 3, (n, classes)).astype(np.float32)
        labels = tg.tensor(rng.integers(0, classes, n))
        O_fixed = tg.tensor(O_np)
        O_grad = tg.tensor(O_np, requires_grad=True)

        def forward(loss=None):
            with tg.no_grad():
                loss(O_fixed, labels).mean()

        def both(loss=None):
            loss(O_grad, labels).mean().backward()
            O_grad.grad = None

        fns = {}
        for name, loss in CE_VARIANTS.items():
            fns[("forward", name)] = lambda loss=loss: forward(loss)
            fns[("forward+backward", name)] = lambda loss=loss: both(loss)
        seconds = best_of(fns, settings.ce_timing_repeats)
        timings[f"{n}x{classes}"] = {f"{kind}|{name}": s for (kind, name), s in seconds.items()}
    result["timings"] = timings

    fig, (ax1, ax2) = figure(2)
    for (name, fractions), marker in zip(broken.items(), "os^"):
        ax1.semilogx(scales, [100 * f for f in fractions], marker=marker, label=name.split(":")[0])
    ax1.set(xlabel="logits multiplied by (log scale)", ylabel="% of losses that are inf or nan",
            title="cross-entropy of ever more confident logits")
    plain_ticks(ax1, "x", scales)
    ax1.legend(fontsize=8)
    names = list(CE_VARIANTS)
    width = 0.8 / len(names)
    shapes = list(timings)
    for i, name in enumerate(names):
        seconds = [timings[s][f"forward+backward|{name}"] for s in shapes]
        ratios = [t / timings[s][f"forward+backward|{names[-1]}"] for t, s in zip(seconds, shapes)]
        bars = ax2.bar(np.arange(len(shapes)) + (i - 1) * width, ratios, width, label=name.split(":")[0])
        ax2.bar_label(bars, [f"{1e6 * t:.0f} µs" for t in seconds], fontsize=7)
    ax2.axhline(1.0, color="gray", lw=0.8)
    ax2.set_xticks(np.arange(len(shapes)), [f"logits {s}" for s in shapes])
    ax2.set(ylabel="time per call / fused's time", title="forward + backward, time per call")
    ax2.margins(y=0.15)
    ax2.legend(fontsize=8)
    result["figure"] = save(fig, out, "cross_entropy")
    return result


def section_cross_entropy(r: dict[str, Any], settings: Settings, splits: FashionSplits) -> str:
    names = list(CE_VARIANTS)
    short = {name: name.split(":")[0] for name in names}
    agree_rows = [[f"`{name.split(': ')[1]}`", f"{v['mean_loss']:.6f}", f"{v['max_abs_error']:.1e}",
                   f"{v['grad_max_diff']:.1e}"] for name, v in r["agreement"].items()]
    train_rows = []
    for name in names:
        a, b = r["training"][name], r["large_lr"][name]
        large = (f"stopped: {b['diverged']}" if b["diverged"]
                 else f"val loss {b['val_loss']:.4f}, val acc {b['val_acc']:.3f}")
        train_rows.append([short[name], f"{a['val_loss']:.4f}", f"{a['val_acc']:.3f}",
                           f"{a['seconds_per_epoch']:.2f}", large])
    scale_rows = [[fmt(s)] + [f"{100 * r['nonfinite_fraction'][name][i]:.1f}%" for name in names]
                  for i, s in enumerate(r["scales"])]
    time_rows = []
    for shape, t in r["timings"].items():
        for kind in ("forward", "forward+backward"):
            fused = t[f"{kind}|{names[2]}"]
            time_rows.append([shape, kind] + [f"{1e6 * t[f'{kind}|{name}']:.0f} ({t[f'{kind}|{name}'] / fused:.1f}x)"
                                              for name in names])
    t10, t1000 = r["timings"][f"{BOOK_BATCH}x10"], r["timings"][f"{BOOK_BATCH}x1000"]
    fb = "forward+backward"
    slow_def_10 = t10[f"{fb}|{names[0]}"] / t10[f"{fb}|{names[2]}"]
    slow_def_1000 = t1000[f"{fb}|{names[0]}"] / t1000[f"{fb}|{names[2]}"]
    slow_book_10 = t10[f"{fb}|{names[1]}"] / t10[f"{fb}|{names[2]}"]
    slow_book_1000 = t1000[f"{fb}|{names[1]}"] / t1000[f"{fb}|{names[2]}"]
    fused_fastest_10 = slow_def_10 > 1 and slow_book_10 > 1
    if slow_book_1000 < 0.95:
        book_1000 = (f"takes {slow_book_1000:.1f}x the fused time: a little faster. Both are "
                     "dominated by `exp` over all N x C logits, and the fused op makes two more "
                     "passes over them: its forward forms the whole log-softmax matrix, and its "
                     "backward takes `exp` of it again")
    elif slow_book_1000 <= 1.05:
        book_1000 = (f"takes {slow_book_1000:.1f}x the fused time, about the same: both are "
                     "dominated by `exp` over all N x C logits")
    else:
        book_1000 = f"takes {slow_book_1000:.1f}x the fused time"
    worst_def = max(v["max_abs_error"] for k, v in r["agreement"].items() if not k.startswith("fused"))
    book_large = r["large_lr"][names[1]]
    return f"""## 2. Cross-entropy through the log of a probability, or fused

*4.4, exercise 2 (3.6, exercises 2 and 3): implement cross-entropy by its definition
`-sum_j y_j log ŷ_j`. Try it out. Why is it slower? Should you use it? What must you be careful
of (the domain of the logarithm)?*

**What was measured.** Three ways to compute the loss from logits `O` and labels `y`:

- **definition:** `-(one_hot(y) * log(softmax(O))).sum(1)`, the exercise's formula;
- **book:** `-log(softmax(O)[range(n), y])`, the book's first `cross_entropy`, which picks the
  true class by indexing;
- **fused:** `nn.functional.cross_entropy(O, y)`, which is `logsumexp(O) - O[range(n), y]`
  forward and `(softmax(O) - one_hot(y)) / n` backward, in a single op.

The first two use the *stable* softmax, so the only thing that differs is the `log` of a
probability. The data is Fashion-MNIST: {len(splits.train_index):,} training images, and
{len(splits.val_index):,} images held out of the training set for validation. The model is the
book's concise softmax regression. Each variant trained for {settings.ce_epochs} epoch(s) at
batch size {BOOK_BATCH}, with the same seed and the same shuffling; the losses below were
computed on the held-out images, from the logits of the model trained with the fused loss.

**Same numbers?** On the logits of the trained model, yes:

{table(["loss", "mean over validation", "largest error per example (vs float64)", "largest gradient difference (vs fused)"], agree_rows)}

All three train alike at the book's learning rate of {BOOK_LR}. At a learning rate of 1 the
weights grow until some probability underflows, and the two log-of-probability forms break:

{table(["loss", f"val loss, lr {BOOK_LR}", f"val acc, lr {BOOK_LR}", "s per epoch", "lr 1"], train_rows)}

**Where they differ.** The same validation logits were multiplied by a growing factor. This is
what a model whose weights keep growing produces. The table gives the share of examples whose
loss comes out `inf` or `nan`:

{table(["logits x"] + [short[n] for n in names], scale_rows)}

![Share of non-finite losses as the logits grow, and time per call]({r["figure"]})

At x{fmt(r["scales"][-1])}, the true class's probability underflows to exactly 0 for
{100 * r["zero_true_prob_at_max_scale"]:.1f}% of the examples. For those, `-log 0 = inf`.
These are the examples the model gets confidently wrong, and their true loss is large but
finite: fused gives it.

The definition form fails sooner and on many more examples. It also takes the log of every
*wrong* class's probability. Once any of them is 0, `y_j log ŷ_j` is `0 * -inf = nan`, even
for an example the model gets right.

The gradient breaks even before the loss does. The backward pass of `log` divides by `ŷ`.
Once `ŷ` is below about 3e-39, `1/ŷ` overflows float32 and the gradient becomes `nan`. The
loss still looks fine then: `-log(1e-42)` is only about 97. This is why the book's loss at learning rate 1 {"stopped with a `nan` loss: the step before had a finite loss and a `nan` gradient" if book_large["diverged"] and "nan" in book_large["diverged"] else "broke" if book_large["diverged"] else "did not break in this run"}.

**Time per call.** Each variant was timed side by side, the fastest of {settings.ce_timing_repeats} rounds.
Times are in µs, with the ratio to fused in brackets:

{table(["logits", "pass"] + [short[n] for n in names], time_rows)}

**Conclusions.**

- *The same numbers?* Yes, for ordinary logits: the largest difference per example was
  {worst_def:.0e}, which is float32 rounding. They differ once a probability underflows:
  there the log-of-probability forms give `inf` or `nan` and fused gives the right value.
- *Why slower?* The definition form computes `log` for all C probabilities of every example,
  multiplies by an N x C one-hot matrix and sums it. That is O(N·C) work and several graph
  nodes, where indexing reads N numbers. Forward and backward, it took
  {slow_def_10:.1f}x the fused time with 10 classes and {slow_def_1000:.1f}x with 1000. The
  book's indexing form took {slow_book_10:.1f}x the fused time with 10 classes. It is a chain
  of small ops (exp, sum, divide, index, log, mean), each a graph node with its own backward,
  and at 10 classes that overhead is most of the cost. With 1000 classes it
  {book_1000}.
- *Should you use it?* Not for training. Use the loss of the logits (`F.cross_entropy`,
  `nn.CrossEntropyLoss`), which is exact for any logits{" and the fastest at the book's 10 classes" if fused_fastest_10 else ""}. The sum over
  classes makes sense only when the labels are not one class each: soft or smoothed labels,
  or a distillation teacher's probabilities. Even then, compute it as
  `-(p * log_softmax(O)).sum(1)`, never with `log(softmax(O))`.
- *Careful of:* the domain of `log`. `log 0 = -inf`, and its gradient `1/ŷ` overflows even
  earlier. Adding a small epsilon, `log(ŷ + 1e-12)`, hides the problem and biases the loss.
  Taking the log of the softmax as `O - logsumexp(O)` avoids it exactly.
"""


# ================================================================== 3. learning rate

def exp_learning_rate(splits: FashionSplits, settings: Settings, seed: int, out: str) -> dict[str, Any]:
    """Exercise 4.4.5.1: the validation loss as the learning rate changes."""
    val_loader = DataLoader(splits.val(), 1000)
    runs = {}
    for lr in settings.lrs:
        net = softmax_model(seed)
        trainer = Trainer(net, nn.CrossEntropyLoss(), optim.SGD(net.parameters(), lr=lr),
                          progress=False, log=None)
        try:
            history = trainer.fit(DataLoader(splits.train(), BOOK_BATCH, shuffle=True, seed=seed),
                                  settings.lr_epochs, val_loader)
            runs[lr] = {"val_loss": [h.val_loss for h in history], "val_acc": [h.val_acc for h in history],
                        "train_loss": [h.train_loss for h in history], "diverged": None}
        except TrainingDiverged as e:
            runs[lr] = {"val_loss": [math.nan], "val_acc": [math.nan], "train_loss": [math.nan],
                        "diverged": diverged_where(e)}
    lrs = list(runs)
    final = [runs[lr]["val_loss"][-1] for lr in lrs]
    best = lrs[int(np.nanargmin(final))]
    fig, (ax1, ax2) = figure(2)
    ax1.semilogx(lrs, final, "o-", label=f"validation loss after {settings.lr_epochs} epoch(s)")
    ax1.semilogx(lrs, [runs[lr]["train_loss"][-1] for lr in lrs], "s--",
                 label="training loss, mean over the last epoch")
    ax1.axvline(best, color="gray", lw=0.8)
    ax1.set(xlabel="learning rate (log scale)", ylabel="cross-entropy (log scale)", yscale="log",
            title=f"softmax regression, batch {BOOK_BATCH}")
    plain_ticks(ax1, "x", lrs)
    plain_ticks(ax1, "y")
    ax1.legend(fontsize=8)
    from matplotlib import colormaps

    colors = colormaps["viridis"](np.linspace(0, 0.9, len(lrs)))
    for lr, color in zip(lrs, colors):
        v = runs[lr]["val_loss"]
        ax2.plot(range(1, len(v) + 1), v, "o-", color=color, ms=3, label=f"lr {lr:g}")
    ax2.set(xlabel="epoch", ylabel="validation loss (log scale)", yscale="log",
            title="validation loss per epoch")
    plain_ticks(ax2, "y")
    ax2.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return {"runs": runs, "best_lr": best, "figure": save(fig, out, "learning_rate")}


def section_learning_rate(r: dict[str, Any], settings: Settings, splits: FashionSplits) -> str:
    runs = r["runs"]
    rows = [[f"{lr:g}", fmt(v["val_loss"][-1]), fmt(v["val_acc"][-1], 3), fmt(v["train_loss"][-1]),
             v["diverged"] or ""] for lr, v in runs.items()]
    lrs = list(runs)
    best = r["best_lr"]
    smallest, largest = lrs[0], lrs[-1]
    best_loss = runs[best]["val_loss"][-1]
    good_factor = 1.25
    good = [lr for lr in lrs if runs[lr]["val_loss"][-1] <= good_factor * best_loss]
    finals = [runs[lr]["val_loss"][-1] for lr in lrs]
    i_best = lrs.index(best)
    u_shaped = (all(a >= b for a, b in zip(finals[:i_best], finals[1:i_best + 1]))
                and all(a <= b for a, b in zip(finals[i_best:], finals[i_best + 1:])))
    shape = ("The curve is U-shaped: the loss falls as the rate grows, up to the best rate, and "
             "rises beyond it." if u_shaped else
             "The curve falls, then rises, though not smoothly: read the table for the details.")

    def per_epoch(lr: float) -> str:
        return " → ".join(fmt(v, 3) for v in runs[lr]["val_loss"])

    epochs_note = ("The book trains for 10 epochs, and so does this sweep." if settings.lr_epochs >= 10
                   else f"The book trains for 10 epochs; here it is {settings.lr_epochs}, so that "
                        "the sweep fits in the script's time.")
    best_acc = max(lrs, key=lambda lr: runs[lr]["val_acc"][-1] if math.isfinite(runs[lr]["val_acc"][-1]) else -1)
    if best_acc != best:
        acc_note = (f"\n\nThe highest *accuracy*, {runs[best_acc]['val_acc'][-1]:.3f}, came at learning rate "
                    f"{best_acc:g}, where the loss is {fmt(runs[best_acc]['val_loss'][-1])}. The loss and "
                    "the accuracy need not agree. A large learning rate makes the weights, and so "
                    "the logits, large: the model is overconfident, and cross-entropy charges "
                    "each confident mistake heavily, while the accuracy counts only which class "
                    "is on top. The loss is the smoother guide, and the one SGD minimises.")
    else:
        acc_note = ""
    big = runs[largest]
    if math.isfinite(big["val_acc"][-1]) and big["val_acc"][-1] >= runs[best]["val_acc"][-1] - 0.06:
        accuracy_note = (f"Yet its accuracy, {big['val_acc'][-1]:.3f}, is close to the best "
                         f"({runs[best]['val_acc'][-1]:.3f}). The large steps make the weights, "
                         "and so the logits, large: the model is overconfident. The examples it "
                         "gets wrong it gets wrong with near certainty, and cross-entropy charges "
                         "them heavily. The loss shows a bad learning rate before the accuracy "
                         "does.")
    else:
        accuracy_note = (f"Its accuracy suffers too ({fmt(big['val_acc'][-1], 3)}, against "
                         f"{runs[best]['val_acc'][-1]:.3f} at the best rate).")
    return f"""## 3. Validation loss against the learning rate

*4.4, exercise 5.1: plot how the validation loss changes as you change the learning rate.*

**What was measured.** The book's softmax regression (concise form, N(0, 0.01²) weights, the
same seed for every run) was trained with minibatch SGD at batch size {BOOK_BATCH} for
{settings.lr_epochs} epochs on {len(splits.train_index):,} Fashion-MNIST training images. The
learning rate was swept log-spaced from {smallest:g} to {largest:g}. The validation loss is on
{len(splits.val_index):,} images held out of the training set. {epochs_note} Every learning rate
gets the same budget of steps.

{table(["learning rate", "validation loss", "validation accuracy", "training loss (last epoch)", "note"], rows)}

![Validation loss against the learning rate, and per epoch]({r["figure"]})

**Conclusion.** {shape} The lowest validation loss after {settings.lr_epochs} epochs came
at a learning rate of **{best:g}** (loss {fmt(runs[best]["val_loss"][-1])}, accuracy
{fmt(runs[best]["val_acc"][-1], 3)}). Within a factor of {good_factor:g} of the best loss:
learning rates {", ".join(f"{lr:g}" for lr in good)}.

- *Too small* ({smallest:g}): every step is tiny. After {settings.lr_epochs} epochs the loss
  is {fmt(runs[smallest]["val_loss"][-1])}, against ln 10 = 2.303 for a uniform guess, and it
  is still falling epoch by epoch ({per_epoch(smallest)}). The rate is not wrong, only slow:
  it needs many more epochs.
- *Too large* ({largest:g}): the steps overshoot. The loss per epoch went
  {per_epoch(largest)}, ending {fmt(runs[largest]["val_loss"][-1] / runs[best]["val_loss"][-1], 2)}
  times the best. {accuracy_note}{acc_note}

The fused loss keeps every run finite, even at the largest rates. Section 2 shows what the
log-of-probability losses do there: they stop with `inf` or `nan`.
"""


# ================================================================== 4. minibatch size

def exp_batch_size(splits: FashionSplits, settings: Settings, seed: int, out: str) -> dict[str, Any]:
    """Exercise 4.4.5.2: training and validation loss (and seconds) against the batch size."""
    train_set = splits.train(settings.bs_train_size)
    val_loader = DataLoader(splits.val(), 1000)
    train_eval_loader = DataLoader(train_set, 1000)
    runs = {}
    for batch_size in settings.batch_sizes:
        net = softmax_model(seed)
        trainer = Trainer(net, nn.CrossEntropyLoss(), optim.SGD(net.parameters(), lr=settings.bs_lr),
                          progress=False, log=None)
        loader = DataLoader(train_set, batch_size, shuffle=True, seed=seed)
        history = trainer.fit(loader, settings.bs_epochs)
        train = trainer.evaluate(train_eval_loader)
        val = trainer.evaluate(val_loader)
        seconds = float(min(h.seconds for h in history))  # the least disturbed epoch
        runs[batch_size] = {"train_loss": train["loss"], "val_loss": val["loss"], "val_acc": val["accuracy"],
                            "seconds_per_epoch": seconds, "steps": len(loader) * settings.bs_epochs,
                            "us_per_example": 1e6 * seconds / len(train_set)}
    sizes = list(runs)
    fig, (ax1, ax2) = figure(2)
    ax1.semilogx(sizes, [runs[b]["train_loss"] for b in sizes], "s--", base=2, label="training loss")
    ax1.semilogx(sizes, [runs[b]["val_loss"] for b in sizes], "o-", base=2, label="validation loss")
    plain_ticks(ax1, "x", sizes)
    ax1.set(xlabel="minibatch size (log scale)", ylabel="cross-entropy after training",
            title=f"{settings.bs_epochs} epoch(s) at lr {settings.bs_lr:g}")
    ax1.legend(fontsize=8)
    ax2.loglog(sizes, [runs[b]["seconds_per_epoch"] for b in sizes], "o-")
    plain_ticks(ax2, "x", sizes)
    plain_ticks(ax2, "y")
    ax2.set(xlabel="minibatch size (log scale)", ylabel="seconds per epoch (log scale)",
            title=f"time per epoch of {len(train_set):,} images")
    return {"runs": runs, "train_size": len(train_set), "figure": save(fig, out, "batch_size")}


def section_batch_size(r: dict[str, Any], settings: Settings, splits: FashionSplits) -> str:
    runs = r["runs"]
    rows = [[str(b), str(v["steps"]), f"{v['train_loss']:.4f}", f"{v['val_loss']:.4f}", f"{v['val_acc']:.3f}",
             f"{v['seconds_per_epoch']:.2f}", f"{v['us_per_example']:.1f}"] for b, v in runs.items()]
    sizes = list(runs)
    best = min(sizes, key=lambda b: runs[b]["val_loss"])
    best_loss = runs[best]["val_loss"]
    good = [b for b in sizes if runs[b]["val_loss"] <= 1.25 * best_loss]
    too_small = [b for b in sizes if b < min(good)]
    too_large = [b for b in sizes if b > max(good)]
    fastest = min(sizes, key=lambda b: runs[b]["seconds_per_epoch"])
    small, large = sizes[0], sizes[-1]
    gap = max(abs(v["val_loss"] - v["train_loss"]) / v["train_loss"] for v in runs.values())
    subset = ("the whole training part" if r["train_size"] == len(splits.train_index)
              else f"a subset of {r['train_size']:,} images, to keep the run short")
    small_text = (f"Batch sizes below {min(good)} cost: batch {small} reaches only "
                  f"{runs[small]['val_loss']:.4f}. Each step follows one example or a few, so the "
                  "steps are noisy, and at a fixed learning rate the noise does not average away. "
                  "Lowering the learning rate with the batch size would remove it."
                  if too_small else
                  f"Even batch {small} is within that range here.")
    large_text = (f"From batch {too_large[0]} up, the loss is clearly worse: with the epochs "
                  f"fixed, batch {large} makes only {runs[large]['steps']} steps and reaches "
                  f"{runs[large]['val_loss']:.4f}. Averaging more examples makes each step more "
                  "accurate, but not longer, so fewer steps get less far. Large batches need a "
                  "larger learning rate or more epochs."
                  if too_large else
                  f"Even batch {large} is within that range here.")
    return f"""## 4. Training and validation loss against the minibatch size

*4.4, exercise 5.2: do the validation and training loss change as you change the minibatch
size? How large or small do you need to go before you see an effect?*

**What was measured.** The same model was trained for {settings.bs_epochs} epoch(s) at a fixed
learning rate of {settings.bs_lr:g}, with the batch size swept from {small} to {large}. Each run
starts from the same weights and uses {subset}: {r["train_size"]:,} images, so batch size 1
makes {r["train_size"] * settings.bs_epochs:,} steps. Both losses were computed after training,
over those training images and over the {len(splits.val_index):,} held-out images. The time is
the training loop's wall-clock time per epoch, without the evaluation.

{table(["batch size", "SGD steps", "training loss", "validation loss", "validation accuracy", "s per epoch", "µs per example"], rows)}

![Loss and time per epoch against the minibatch size]({r["figure"]})

**Conclusions.**

- *Yes, both losses change with the batch size, and they move together.* Training and
  validation loss differ by at most {100 * gap:.0f}% at any size. A linear model with 7,850
  parameters hardly overfits, so the batch size changes how far the optimisation gets, not the
  gap between the two.
- *The middle is flat.* The lowest validation loss came at batch size **{best}**
  ({best_loss:.4f}). Batch sizes {", ".join(str(b) for b in good)} all come within 25% of it.
  The book's 256 is in this range.
- *Small batches:* {small_text}
- *Large batches:* {large_text}
- *Time:* small batches waste the machine. Every step pays the same Python and graph
  overhead, whatever its size. Batch {small} costs {runs[small]["us_per_example"]:.0f} µs per
  example, against {runs[fastest]["us_per_example"]:.1f} µs at batch {fastest}, the fastest
  here. Once a batch holds a few hundred examples, the matrix products dominate and the time
  per epoch hardly changes.
"""


# ================================================================== 5. w = 0 in linear regression

def train_linreg(features: tg.Tensor, labels: tg.Tensor, w0: list[float], b0: float, epochs: int,
                 seed: int, lr: float = 0.03, batch_size: int = 10) -> dict[str, Any]:
    """The book's from-scratch loop (3.2) from a given start; the full-data loss after each step."""
    w = tg.tensor(np.array(w0, np.float32).reshape(-1, 1), requires_grad=True)
    b = tg.tensor(np.array([b0], np.float32), requires_grad=True)
    # The gradient at the start, over all the data: where each weight first moves, and why.
    squared_loss(linreg(features, w, b), labels).mean().backward()
    first_grad = w.grad.numpy().ravel().tolist()
    w.grad, b.grad = None, None
    losses = []
    for epoch in range(epochs):
        for X, y in DataLoader(ArrayDataset(features, labels), batch_size, shuffle=True, seed=seed + epoch):
            squared_loss(linreg(X, w, b), y).sum().backward()
            sgd([w, b], lr, batch_size)
            with tg.no_grad():
                losses.append(squared_loss(linreg(features, w, b), labels).mean().item())
    return {"w": w.numpy().ravel().tolist(), "b": b.item(), "first_grad": first_grad, "losses": losses}


def train_mlp(features: tg.Tensor, labels: tg.Tensor, init: str, epochs: int, seed: int,
              hidden: int = 8, lr: float = 0.03, batch_size: int = 10) -> dict[str, Any]:
    """A hidden layer of ReLUs, 2 -> hidden -> 1, trained like the linear model from three
    starts: "random" (the layers' default), "zero", or "equal" (every weight 0.5, biases 0)."""
    tg.manual_seed(seed)
    net = nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, 1))
    if init != "random":
        for p in net.parameters():
            nn.init.zeros_(p)
        if init == "equal":
            for layer in (net[0], net[2]):
                with tg.no_grad():
                    layer.weight.fill_(0.5)
    optimizer = optim.SGD(net.parameters(), lr=lr)
    losses = []
    for epoch in range(epochs):
        for X, y in DataLoader(ArrayDataset(features, labels), batch_size, shuffle=True, seed=seed + epoch):
            loss = squared_loss(net(X), y).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with tg.no_grad():
            losses.append(squared_loss(net(features), labels).mean().item())
    # Each hidden unit is a row: its input weights, its bias, its output weight.
    units = np.concatenate([net[0].weight.numpy(), net[0].bias.numpy()[:, None], net[2].weight.numpy().T], 1)
    spread = float(np.max(units.max(0) - units.min(0)))
    distinct = len(np.unique(np.round(units, 4), axis=0))
    return {"losses": losses, "spread": spread, "distinct_units": distinct, "hidden": hidden}


def exp_zero_init(settings: Settings, seed: int, out: str) -> dict[str, Any]:
    """Older 3.2, exercise 1: would w = 0 still work? And all weights equal?"""
    tg.manual_seed(seed)
    features, labels = synthetic_data(tg.tensor(TRUE_W), TRUE_B, settings.regression_examples)
    rng = np.random.default_rng(seed)
    starts = {"random, N(0, 0.01²) (the book)": (rng.normal(0, 0.01, 2).tolist(), 0.0),
              "w = 0, b = 0": ([0.0, 0.0], 0.0),
              "all equal, w = b = 1": ([1.0, 1.0], 1.0)}
    linear = {name: train_linreg(features, labels, w0, b0, 3, seed) for name, (w0, b0) in starts.items()}
    mlp = {init: train_mlp(features, labels, init, settings.mlp_epochs, seed)
           for init in ("random", "zero", "equal")}
    fig, (ax1, ax2) = figure(2)
    for (name, r), style in zip(linear.items(), ("-", "--", ":")):
        ax1.semilogy(np.arange(1, len(r["losses"]) + 1), r["losses"], style, lw=2, label=name)
    ax1.set(xlabel="SGD step (batch 10, lr 0.03)", ylabel="loss over all the data",
            title="linear regression: every start converges")
    ax1.legend(fontsize=8)
    for init, r in mlp.items():
        ax2.semilogy(np.arange(1, len(r["losses"]) + 1), r["losses"], "o-",
                     label=f"{init}: {r['distinct_units']} distinct unit(s) of {r['hidden']}")
    ax2.set(xlabel="epoch", ylabel="loss over all the data", title="one hidden layer of 8 ReLUs")
    ax2.legend(fontsize=8)
    return {"linear": linear, "mlp": mlp, "figure": save(fig, out, "zero_init"),
            "n": settings.regression_examples, "mlp_epochs": settings.mlp_epochs}


def section_zero_init(r: dict[str, Any]) -> str:
    rows = []
    for name, v in r["linear"].items():
        w_err = np.abs(np.array(v["w"]) - TRUE_W)
        rows.append([name, ", ".join(f"{g:.3f}" for g in v["first_grad"]), f"{v['losses'][-1]:.2e}",
                     ", ".join(f"{x:.4f}" for x in v["w"]), f"{v['b']:.4f}",
                     f"{w_err.max():.1e}", f"{abs(v['b'] - TRUE_B):.1e}"])
    mlp_rows = [[init, f"{v['losses'][-1]:.4g}", f"{v['distinct_units']} of {v['hidden']}", f"{v['spread']:.3g}"]
                for init, v in r["mlp"].items()]
    zero = r["linear"]["w = 0, b = 0"]
    return f"""## 5. Starting linear regression from w = 0

*3.2 (older edition), exercise 1: what would happen if we initialised the weights to zero?
Would the algorithm still work?*

**What was measured.** The book's synthetic data: {r["n"]:,} examples of `y = X w + b + noise`
with w = {TRUE_W}, b = {TRUE_B}, noise N(0, 0.01²), made by `tinygrad_sm.data.synthetic_data`.
The book's from-scratch loop (`linreg`, `squared_loss`, `sgd`) was run for 3 epochs, batch 10,
learning rate 0.03, from three starts, with the same shuffling for each. "Gradient at the
start" is the gradient of the mean loss over all the data with respect to w, before the first
step.

{table(["start", "gradient at the start", "final loss", "w", "b", "largest error in w", "error in b"], rows)}

For contrast, a network with one hidden layer: 2 inputs, 8 ReLU units, 1 output. It was fit to
the same data with the same loss, batch and learning rate, for {r["mlp_epochs"]} epochs. "Distinct
units" counts the hidden units that differ: their input weights, bias and output weight,
rounded to 4 decimals.

{table(["start", "final loss", "distinct hidden units", "largest spread of a weight across the units"], mlp_rows)}

![Loss per step of linear regression from three starts, and of the hidden-layer network]({r["figure"]})

**Conclusion.** For linear regression, starting from zero works: from w = 0 it recovers w =
[{", ".join(f"{x:.4f}" for x in zero["w"])}] and b = {zero["b"]:.4f}, as well as from the
book's random start. That start is so close to 0 (standard deviation 0.01) that its run is
almost the same as the zero start's. All equal weights work too. Two reasons:

- *The loss is convex* in (w, b): a bowl with one minimum, so every start reaches it.
- *Each weight's gradient is different,* even when the weights are equal. The gradient for
  weight j is `mean((ŷ - y) · x_j)`, and the inputs x_j differ. At w = 0 it is
  [{", ".join(f"{g:.3f}" for g in zero["first_grad"])}]: roughly `-w_true`, since the inputs
  are independent with variance 1. So the first step already moves the two weights apart and
  toward their true values.

The random start is not needed here. Symmetry matters once there is a hidden layer. Hidden
units that start equal compute the same thing, receive the same gradient, and stay equal
forever, so the layer is one unit wide however many it has. This is what the second table
shows:

- all-equal weights leave {r["mlp"]["equal"]["distinct_units"]} distinct unit of 8, and the
  loss ends at {r["mlp"]["equal"]["losses"][-1]:.3g};
- all-zero weights are worse still: the ReLUs output 0, and every weight gradient is 0, so
  only the output bias learns and the network predicts the mean
  (loss {r["mlp"]["zero"]["losses"][-1]:.3g});
- the random start gives {r["mlp"]["random"]["distinct_units"]} different units and a loss of
  {r["mlp"]["random"]["losses"][-1]:.3g}.

Randomness breaks the symmetry. Linear regression has none to break, because each weight is
tied to its own input.
"""


# ================================================================== 6. Huber loss

def huber(y_hat: tg.Tensor, y: tg.Tensor) -> tg.Tensor:
    """``nn.functional.huber_loss`` with delta 1: 0.5 d² for |d| < 1, |d| - 0.5 beyond."""
    return F.huber_loss(y_hat, y, delta=1.0)


def half_squared(y_hat: tg.Tensor, y: tg.Tensor) -> tg.Tensor:
    """The book's squared loss, 0.5 d², averaged: Huber's loss with delta = infinity."""
    return squared_loss(y_hat, y).mean()


def fit_regression(features: tg.Tensor, labels: tg.Tensor, loss_fn: Callable[[tg.Tensor, tg.Tensor], tg.Tensor],
                   epochs: int, seed: int, lr: float = 0.03, batch_size: int = 10) -> dict[str, Any]:
    """The book's concise linear regression (3.3): nn.Linear(2, 1), optim.SGD; the errors in w
    and b after every step."""
    tg.manual_seed(seed)
    net = nn.Linear(2, 1)
    nn.init.normal_(net.weight, 0.0, 0.01)
    nn.init.zeros_(net.bias)
    optimizer = optim.SGD(net.parameters(), lr=lr)
    w_err, b_err = [], []
    for epoch in range(epochs):
        for X, y in DataLoader(ArrayDataset(features, labels), batch_size, shuffle=True, seed=seed + epoch):
            loss = loss_fn(net(X), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            w_err.append(float(np.max(np.abs(net.weight.numpy().ravel() - TRUE_W))))
            b_err.append(abs(net.bias.item() - TRUE_B))
    return {"w": net.weight.numpy().ravel().tolist(), "b": net.bias.item(), "w_err": w_err, "b_err": b_err,
            "steps_per_epoch": len(w_err) // epochs}


def exp_huber(settings: Settings, seed: int, out: str) -> dict[str, Any]:
    """Older 3.3, exercise 2: replace the squared loss by Huber's loss."""
    tg.manual_seed(seed)
    features, labels = synthetic_data(tg.tensor(TRUE_W), TRUE_B, settings.regression_examples)
    # Outliers: 5% of the labels, chosen at random, read 20 too high (a sensor glitch, say).
    rng = np.random.default_rng(seed)
    bad = rng.choice(len(labels), size=len(labels) // 20, replace=False)
    corrupted = labels.numpy().copy()
    corrupted[bad] += 20.0
    datasets = {"clean": labels, "5% outliers": tg.tensor(corrupted)}
    losses = {"squared": half_squared, "Huber": huber}
    runs = {(data, loss): fit_regression(features, y, fn, settings.huber_epochs, seed)
            for data, y in datasets.items() for loss, fn in losses.items()}
    # Least squares in closed form, the minimum the squared loss heads for on each data set.
    X1 = np.concatenate([features.numpy().astype(np.float64), np.ones((len(labels), 1))], 1)
    lstsq = {data: np.linalg.lstsq(X1, y.numpy().astype(np.float64).ravel(), rcond=None)[0].tolist()
             for data, y in datasets.items()}
    fig, axes = figure(2)
    for ax, data in zip(axes, datasets):
        for (d, loss), r in runs.items():
            if d != data:
                continue
            steps = np.arange(1, len(r["w_err"]) + 1)
            err = np.maximum(np.array(r["w_err"]), np.array(r["b_err"]))
            ax.semilogy(steps, err, label=f"{loss} loss")
        if data != "clean":
            ax.axhline(len(bad) / (len(labels) - len(bad)), color="gray", ls=":",
                       label="Huber's bias: outliers x delta / good points")
        ax.set(xlabel="SGD step (batch 10, lr 0.03)", ylabel="largest error in w and b",
               title={"clean": "clean data"}.get(data, f"data with {data}"))
        ax.legend(fontsize=8)
    return {"runs": runs, "lstsq": lstsq, "outliers": len(bad), "n": len(labels),
            "epochs": settings.huber_epochs, "figure": save(fig, out, "huber")}


def steps_to(errors: list[float], threshold: float) -> int | None:
    """The first step after which the error stays below ``threshold`` (None if it never does)."""
    above = [i for i, e in enumerate(errors) if e >= threshold]
    if not above:
        return 1
    return above[-1] + 2 if above[-1] + 1 < len(errors) else None


def section_huber(r: dict[str, Any]) -> str:
    rows = []
    for (data, loss), v in r["runs"].items():
        err = np.maximum(v["w_err"], v["b_err"])
        s = steps_to(list(err), 0.01)
        rows.append([data, loss, ", ".join(f"{x:.4f}" for x in v["w"]), f"{v['b']:.4f}",
                     f"{max(v['w_err'][-1], v['b_err'][-1]):.1e}", str(s) if s else "never"])
    ls = r["lstsq"]
    clean_sq, clean_h = r["runs"][("clean", "squared")], r["runs"][("clean", "Huber")]
    out_sq, out_h = r["runs"][("5% outliers", "squared")], r["runs"][("5% outliers", "Huber")]
    s_sq = steps_to(list(np.maximum(clean_sq["w_err"], clean_sq["b_err"])), 0.01)
    s_h = steps_to(list(np.maximum(clean_h["w_err"], clean_h["b_err"])), 0.01)
    never_note = (" This is why its error never settled below 0.01 here."
                  if steps_to(list(np.maximum(out_h["w_err"], out_h["b_err"])), 0.01) is None else "")
    return f"""## 6. Huber's loss in place of the squared loss

*3.3 (older edition), exercise 2: replace the loss by Huber's loss.*

**What was measured.** The book's concise linear regression, `nn.Linear(2, 1)` with `optim.SGD`
(learning rate 0.03, batch 10), trained for {r["epochs"]} epochs with one of two losses:

- the book's squared loss `0.5 d²`, with d = ŷ - y;
- `nn.functional.huber_loss` with delta 1 (`nn.HuberLoss()`): `0.5 d²` for |d| < 1 and
  `|d| - 0.5` beyond.

Both losses are averaged over the batch. They are identical for |d| < 1. Beyond that, Huber's
gradient is capped at ±1, where the squared loss's gradient grows with d.

The data is the book's synthetic data ({r["n"]:,} examples, w = {TRUE_W}, b = {TRUE_B}),
first clean, then with {r["outliers"]} labels ({100 * r["outliers"] / r["n"]:.0f}%, chosen at
random) raised by 20. "Steps to 0.01" counts the SGD steps until the largest error in w and b
falls below 0.01 and stays there. Each epoch has {clean_sq["steps_per_epoch"]} steps.

{table(["data", "loss", "w", "b", "final largest error", "steps to 0.01"], rows)}

Least squares in closed form gives w = [{ls["clean"][0]:.4f}, {ls["clean"][1]:.4f}], b = {ls["clean"][2]:.4f}
on the clean data, and w = [{ls["5% outliers"][0]:.4f}, {ls["5% outliers"][1]:.4f}],
b = {ls["5% outliers"][2]:.4f} with the outliers. The squared loss heads for these values.

![Error in w and b per step, squared against Huber loss, on clean data and with outliers]({r["figure"]})

**Conclusions.**

- *Clean data: both recover w and b,* to {max(clean_sq["w_err"][-1], clean_sq["b_err"][-1]):.0e}
  (squared) and {max(clean_h["w_err"][-1], clean_h["b_err"][-1]):.0e} (Huber). Huber is slower
  to start: it took {s_h or "more than all the"} steps to get within 0.01, against {s_sq} for
  the squared loss. At the start the residuals are several units large (b starts at 0, 4.2 from
  its value), so Huber's gradient is capped at 1 per example and each step moves at most
  `lr · 1`. The squared loss's step grows with the error. Once every residual is below delta,
  the two losses are the same and converge at the same rate.
- *With outliers, Huber shines.* The squared loss is pulled toward the outliers: b ends at
  {out_sq["b"]:.3f}, off by {out_sq["b_err"][-1]:.2f}. That is the least-squares answer, about
  5% x 20 = 1 too high, plus the noise of every batch that holds an outlier, which jolts the
  estimate. Huber's b ends at {out_h["b"]:.3f}, off by {out_h["b_err"][-1]:.3f}, and its w is
  within {out_h["w_err"][-1]:.0e}. Each outlier pulls with a force of at most delta = 1, so
  {r["outliers"]} outliers cannot outweigh {r["n"] - r["outliers"]} good points.
- *Huber is not entirely unbiased.* The outliers still pull, with delta each, and at the
  minimum the good points must pull back as hard. Their mean residual is then
  {r["outliers"]} x 1 / {r["n"] - r["outliers"]} = {r["outliers"] / (r["n"] - r["outliers"]):.3f},
  which is about the error left in b. A smaller delta makes this smaller; a loss that ignores
  large errors altogether (a *redescending* one, such as Tukey's) removes it.{never_note}
- *Choosing delta:* it sets what counts as large. It should sit above the normal noise
  (here 0.01) and below the size of the errors to be ignored (here 20). With no outliers, the
  squared loss is the right choice: it is the maximum-likelihood loss for Gaussian noise, and
  it starts faster.
"""


# ================================================================== the page

def run(out: str, settings: Settings, seed: int, data: FashionMNIST, threads: int = 1,
        log: Callable[[str], object] = print) -> dict[str, Any]:
    """Run every experiment, write OUT/exercises.md and its figures; return the numbers."""
    os.makedirs(os.path.join(out, IMAGE_DIR), exist_ok=True)
    start = time.perf_counter()
    splits = FashionSplits(data, settings, seed)
    results: dict[str, Any] = {}
    sections = []
    steps = [
        ("softmax", "1. naive and stable softmax", lambda: exp_softmax(settings, out),
         lambda r: section_softmax(r)),
        ("cross_entropy", "2. cross-entropy", lambda: exp_cross_entropy(splits, settings, seed, out),
         lambda r: section_cross_entropy(r, settings, splits)),
        ("learning_rate", "3. learning rate", lambda: exp_learning_rate(splits, settings, seed, out),
         lambda r: section_learning_rate(r, settings, splits)),
        ("batch_size", "4. minibatch size", lambda: exp_batch_size(splits, settings, seed, out),
         lambda r: section_batch_size(r, settings, splits)),
        ("zero_init", "5. w = 0", lambda: exp_zero_init(settings, seed, out), section_zero_init),
        ("huber", "6. Huber loss", lambda: exp_huber(settings, seed, out), section_huber),
    ]
    timings = {}
    for key, title, experiment, section in steps:
        t0 = time.perf_counter()
        results[key] = experiment()
        sections.append(section(results[key]))
        timings[key] = time.perf_counter() - t0
        log(f"{title}: {timings[key]:.1f} s")
    total = time.perf_counter() - start
    results["seconds"], results["total_seconds"] = timings, total
    page = header(settings, seed, total, timings, threads) + "\n" + "\n".join(sections)
    with open(os.path.join(out, "exercises.md"), "w", encoding="utf-8") as f:
        f.write(page)
    return results


def header(settings: Settings, seed: int, total: float, timings: dict[str, float], threads: int) -> str:
    quick = settings.name == "quick"
    cores = os.cpu_count() or 1
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan
    per = ", ".join(f"{k.replace('_', ' ')} {v:.0f} s" for k, v in timings.items())
    note = ("\n> **This page was made with `--quick`:** small subsets and few settings, to check\n"
            "> that the pipeline runs. Its numbers are not meaningful, and some conclusions may not\n"
            "> hold for them. Run the full command for the real page.\n") if quick else ""
    return f"""# Exercises of linear and softmax regression, answered by experiment
{note}
This page answers exercises from *Dive into Deep Learning* by running them on tinygrad_sm:
sections 4.4 (softmax regression from scratch) and 3.6 of the older edition, and 3.2 and 3.3
of the older edition (linear regression from scratch and concise). Every number and figure
below was produced by one command, and running it again remakes the page:

```
{QUICK_COMMAND if quick else COMMAND}
```

This run used seed {seed} and {threads} BLAS thread(s) (`--threads`). It took {total:.0f} s on
{cores} CPU core(s) ({per}); the load average at the end was {load:.1f}. `--quick` runs a much
smaller version in seconds, which the tests use.

The Fashion-MNIST experiments (2 to 4) hold out {settings.val_size:,} of the 60,000 training
images as a validation set and train on {settings.train_size:,} of the rest; the test set is not
used. The book trains for 10 epochs. To keep the script within a few minutes on two cores,
the runs here train for {settings.ce_epochs} epoch(s) in section 2, {settings.lr_epochs} in
section 3 and {settings.bs_epochs} in section 4 (on {settings.bs_train_size:,} images there,
since batch size 1 is slow). Each section says what it used.

Timings are wall-clock times on a shared machine, so they vary from run to run. Compare the
numbers within one table, not across pages. The cross-entropy timings take the fastest of
several rounds, which is the most repeatable figure. NumPy's BLAS runs on one thread by
default. On a machine busy with other work, several BLAS threads stall each other, and an
epoch can take several times as long, erratically.

Contents: [1. naive and stable softmax](#1-the-naive-softmax-against-the-stable-one) ·
[2. cross-entropy](#2-cross-entropy-through-the-log-of-a-probability-or-fused) ·
[3. learning rate](#3-validation-loss-against-the-learning-rate) ·
[4. minibatch size](#4-training-and-validation-loss-against-the-minibatch-size) ·
[5. w = 0](#5-starting-linear-regression-from-w--0) ·
[6. Huber loss](#6-hubers-loss-in-place-of-the-squared-loss)
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, checked: a bad value raises ``cli.InputError`` naming it."""
    parser = cli.ArgumentParser(prog="softmax_experiments.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=cli.path_argument, default="docs",
                        help="folder for exercises.md and images/exercises/ (default: docs)")
    parser.add_argument("--quick", action="store_true", help="a much smaller run, in seconds")
    parser.add_argument("--seed", type=cli.non_negative_int, default=0)
    parser.add_argument("--data-dir", type=cli.path_argument, default=None,
                        help="a folder with the four Fashion-MNIST files (default: looked for as "
                             "softmax_fashion.py looks for it)")
    parser.add_argument("--no-download", action="store_true", help="never download Fashion-MNIST")
    parser.add_argument("--threads", type=cli.positive_int, default=1,
                        help="NumPy's BLAS threads during the run (default 1, for steady timings)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the experiments and write the page; return the exit status (0, or 2 for a bad
    argument, missing data, or no matplotlib)."""
    try:
        args = parse_args(argv)
        problem = cli.output_dir_problem(args.out, "--out")
        if problem:
            raise cli.InputError(problem)
        try:
            import matplotlib  # noqa: F401  (only checked here; the figures import it when drawn)
        except ImportError:
            raise cli.InputError("the figures need matplotlib, which is not installed; "
                                 "pip install matplotlib (or pip install -e '.[models]')") from None
        try:
            data = load_fashion_mnist(args.data_dir, download=not args.no_download)
        except (FashionMNISTNotFoundError, FashionMNISTError) as e:
            raise cli.InputError(cli.error_text(e)) from None
    except cli.InputError as e:
        return cli.fail(e)
    settings = QUICK if args.quick else FULL
    threads_before = blas_threads()
    if not set_blas_threads(args.threads):
        print(f"warning: could not set NumPy's BLAS threads to {args.threads}; it uses "
              f"{threads_before}. Set OPENBLAS_NUM_THREADS before starting Python instead.",
              file=sys.stderr)
    try:
        results = run(args.out, settings, args.seed, data, blas_threads())
    finally:  # a caller in the same process (a test) gets its thread count back
        set_blas_threads(threads_before)
    print(f"wrote {os.path.join(args.out, 'exercises.md')} and {len(os.listdir(os.path.join(args.out, IMAGE_DIR)))} "
          f"figures in {results['total_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    cli.run(main)
