"""Pictures of a training run, saved as PNG: the curves, misclassified images, a confusion matrix.

matplotlib is imported only when a plot is asked for, and only its object-oriented API is used
(a ``Figure`` drawn by the Agg canvas), so plotting never changes the backend of a notebook or
a program that uses pyplot itself.
"""
from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np


def _figure(width: float, height: float) -> Any:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plots need matplotlib, which is not installed: pip install matplotlib "
                          "(or pip install 'tinygrad_sm[plot]'), or run without plots") from None
    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Any, path: str | os.PathLike) -> str:
    path = os.fspath(path)
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    figure.savefig(path, dpi=100, bbox_inches="tight")
    return path


def plot_history(history: Sequence[Any], path: str | os.PathLike, title: str | None = None) -> str:
    """The book's Animator, drawn once at the end: loss and accuracy per epoch, train and
    validation. ``history`` is ``Trainer.history`` (EpochStats) or a list of dicts."""
    rows = [h.as_dict() if hasattr(h, "as_dict") else dict(h) for h in history]
    if not rows:
        raise ValueError("plot_history needs at least one epoch of history")
    epochs = [r["epoch"] for r in rows]
    figure = _figure(7, 4)
    axes = figure.subplots()
    for key, label, style in [("train_loss", "train loss", "-"), ("val_loss", "val loss", "--"),
                              ("train_acc", "train acc", "-."), ("val_acc", "val acc", ":")]:
        values = [r.get(key) for r in rows]
        if all(v is not None for v in values):
            axes.plot(epochs, values, style, marker="o", markersize=3, label=label)
    axes.set_xlabel("epoch")
    axes.grid(True, alpha=0.3)
    axes.legend()
    if title:
        axes.set_title(title)
    return _save(figure, path)


def plot_misclassified(images: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray,
                       path: str | os.PathLike, class_names: Sequence[str] | None = None,
                       count: int = 18, columns: int = 6) -> str:
    """A grid of the first ``count`` misclassified images, titled "true / predicted", as in the
    book's prediction section. ``images`` has shape (N, H, W) or (N, 1, H, W)."""
    images = np.asarray(images)
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    if not len(images) == len(y_true) == len(y_pred):
        raise ValueError(f"plot_misclassified: {len(images)} images, {len(y_true)} labels and "
                         f"{len(y_pred)} predictions; they must be the same number")
    wrong = np.flatnonzero(y_true != y_pred)[:count]
    name = (lambda i: class_names[int(i)]) if class_names is not None else str
    rows = max(1, -(-len(wrong) // columns))
    figure = _figure(1.6 * columns, 1.9 * rows)
    for k, i in enumerate(wrong):
        axes = figure.add_subplot(rows, columns, k + 1)
        axes.imshow(images[i].reshape(images.shape[-2:]), cmap="gray_r")
        axes.set_title(f"{name(y_true[i])}\n{name(y_pred[i])}", fontsize=8)
        axes.axis("off")
    figure.suptitle(f"misclassified ({len(wrong)} shown): true / predicted", fontsize=10)
    return _save(figure, path)


def plot_confusion_matrix(counts: np.ndarray, path: str | os.PathLike,
                          class_names: Sequence[str] | None = None) -> str:
    """The confusion matrix (rows: true class, columns: predicted), with the counts written in."""
    counts = np.asarray(counts)
    n = counts.shape[0]
    names = list(class_names) if class_names is not None else [str(i) for i in range(n)]
    figure = _figure(1 + 0.6 * n, 0.6 * n)
    axes = figure.subplots()
    image = axes.imshow(counts, cmap="Blues")
    figure.colorbar(image, ax=axes, fraction=0.046)
    axes.set_xticks(range(n), names, rotation=45, ha="right", fontsize=8)
    axes.set_yticks(range(n), names, fontsize=8)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    threshold = counts.max() / 2 if counts.size else 0
    for i in range(n):
        for j in range(n):
            axes.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=7,
                      color="white" if counts[i, j] > threshold else "black")
    return _save(figure, path)
