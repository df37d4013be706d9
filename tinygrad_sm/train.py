"""One training loop for every model: ``Trainer.fit``, ``Trainer.evaluate`` and the metrics.

The loop is the book's: for each minibatch, forward, loss, ``zero_grad``, ``backward``, ``step``.
Around it the Trainer keeps a per-epoch history (train loss and accuracy, validation loss and
accuracy, seconds), shows a tqdm progress bar when tqdm is installed, and stops a run whose
loss stops being a finite number, instead of training on NaN.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterable

import numpy as np

from .autograd import no_grad
from .backend import to_device
from .tensor import Tensor


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


@dataclass
class EpochStats:
    """What one epoch of ``Trainer.fit`` measured. Accuracies are None for regression models,
    and the validation fields are None without a validation loader."""

    epoch: int
    train_loss: float
    train_acc: float | None
    val_loss: float | None
    val_acc: float | None
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        parts = [f"epoch {self.epoch:3d}", f"train loss {self.train_loss:.4f}"]
        if self.train_acc is not None:
            parts.append(f"train acc {self.train_acc:.3f}")
        if self.val_loss is not None:
            parts.append(f"val loss {self.val_loss:.4f}")
        if self.val_acc is not None:
            parts.append(f"val acc {self.val_acc:.3f}")
        parts.append(f"{self.seconds:.2f} s")
        return "  ".join(parts)


def correct_count(y_hat: Tensor, y: Tensor) -> int:
    """How many rows of ``y_hat`` (logits or probabilities) have their largest entry at ``y``."""
    return int((y_hat._array.argmax(axis=1) == y._array).sum())


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int) -> np.ndarray:
    """``counts[i, j]`` is the number of examples of class i predicted as class j."""
    y_true = np.asarray(y_true).astype(np.int64).ravel()
    y_pred = np.asarray(y_pred).astype(np.int64).ravel()
    return np.bincount(y_true * num_classes + y_pred,
                       minlength=num_classes * num_classes).reshape(num_classes, num_classes)


class Trainer:
    """Fit a model with a loss and an optimizer, keeping a history.

    ``loss_fn(y_hat, y)`` must return the mean loss over the batch (as ``CrossEntropyLoss`` and
    ``MSELoss`` do). ``optimizer`` needs ``zero_grad()`` and ``step()``. With
    ``classification=True`` the accuracy (argmax of ``y_hat`` along axis 1 against ``y``) is
    tracked too. ``progress=False`` hides the progress bar; ``log`` receives one line per epoch
    (``print`` by default, None for silence).
    """

    def __init__(self, model: Callable[[Tensor], Tensor], loss_fn: Callable[[Tensor, Tensor], Tensor],
                 optimizer: Any, classification: bool = True, progress: bool = True,
                 log: Callable[[str], Any] | None = print) -> None:
        self.model = model
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.classification = classification
        self.progress = progress
        self.log = log
        self.history: list[EpochStats] = []

    def _set_mode(self, training: bool) -> None:
        mode = getattr(self.model, "train" if training else "eval", None)
        if callable(mode):
            mode()

    def fit(self, train_loader: Iterable, epochs: int, val_loader: Iterable | None = None) -> list[EpochStats]:
        """Train for ``epochs`` epochs; returns (and extends) ``self.history``.

        Raises ``TrainingDiverged`` naming the epoch and batch if the loss becomes NaN or inf.
        """
        if not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
        first = len(self.history) + 1
        for epoch in range(first, first + epochs):
            start = time.perf_counter()
            train_loss, train_acc = self._train_epoch(train_loader, epoch, first + epochs - 1)
            seconds = time.perf_counter() - start
            val = self.evaluate(val_loader) if val_loader is not None else {}
            stats = EpochStats(epoch, train_loss, train_acc, val.get("loss"), val.get("accuracy"),
                               seconds)
            self.history.append(stats)
            if self.log is not None:
                self.log(str(stats))
        return self.history

    def _train_epoch(self, loader: Iterable, epoch: int, last_epoch: int) -> tuple[float, float | None]:
        self._set_mode(True)
        total_loss, total_correct, total_seen = 0.0, 0, 0
        bar = self._progress_bar(loader, f"epoch {epoch}/{last_epoch}")
        for batch, (X, y) in enumerate(bar, start=1):
            y_hat = self.model(X)
            loss = self.loss_fn(y_hat, y)
            value = loss.item()
            if not math.isfinite(value):  # checked before the step, so the weights stay finite
                raise TrainingDiverged(
                    f"training diverged in epoch {epoch}, batch {batch}: the loss is {value}; "
                    "lower the learning rate (e.g. --lr with a value 10 times smaller) and try again")
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            n = len(y)
            total_loss += value * n
            total_seen += n
            if self.classification:
                total_correct += correct_count(y_hat, y)
            if bar is not loader and batch % 20 == 0:
                bar.set_postfix(self._postfix(total_loss, total_correct, total_seen), refresh=False)
        if total_seen == 0:
            raise ValueError("the training loader yielded no batches; is the dataset empty, or "
                             "drop_last=True with fewer examples than one batch?")
        return total_loss / total_seen, (total_correct / total_seen if self.classification else None)

    def _postfix(self, loss: float, correct: int, seen: int) -> dict[str, str]:
        postfix = {"loss": f"{loss / seen:.4f}"}
        if self.classification:
            postfix["acc"] = f"{correct / seen:.3f}"
        return postfix

    def _progress_bar(self, loader: Iterable, description: str) -> Any:
        if not self.progress:
            return loader
        try:
            from tqdm.auto import tqdm
        except ImportError:  # the bar is a convenience; training goes on without it
            return loader
        return tqdm(loader, desc=description, leave=False, dynamic_ncols=True)

    @no_grad()
    def evaluate(self, loader: Iterable) -> dict[str, float]:
        """The mean loss (and accuracy, for classification) over ``loader``, without a graph."""
        self._set_mode(False)
        total_loss, total_correct, total_seen = 0.0, 0, 0
        for X, y in loader:
            y_hat = self.model(X)
            n = len(y)
            total_loss += self.loss_fn(y_hat, y).item() * n
            total_seen += n
            if self.classification:
                total_correct += correct_count(y_hat, y)
        if total_seen == 0:
            raise ValueError("the evaluation loader yielded no batches")
        result = {"loss": total_loss / total_seen}
        if self.classification:
            result["accuracy"] = total_correct / total_seen
        return result

    @no_grad()
    def predict(self, loader: Iterable) -> tuple[np.ndarray, np.ndarray]:
        """The true labels and the predicted classes (argmax along axis 1) over ``loader``, on
        the host."""
        self._set_mode(False)
        truth, predicted = [], []
        for X, y in loader:
            truth.append(to_device(y._array, "cpu"))
            predicted.append(to_device(self.model(X)._array.argmax(axis=1), "cpu"))
        return np.concatenate(truth), np.concatenate(predicted)

