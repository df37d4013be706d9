"""One training loop for every model: ``Trainer.fit``, ``Trainer.evaluate`` and the metrics.

The loop is the book's: for each minibatch, forward, loss, ``zero_grad``, ``backward``, ``step``.
Around it the Trainer keeps a per-epoch history (train loss and accuracy, validation loss and
accuracy, seconds), shows a tqdm progress bar when tqdm is installed, and stops a run whose
loss stops being a finite number, instead of training on NaN.

Reading results back, a few times an epoch
------------------------------------------
On a GPU every op is queued and returns at once; only reading a value back to the host
(``loss.item()``, ``int(hits)``) makes the host wait until the GPU has caught up. A loop that
reads the loss at every batch therefore runs host and GPU in lockstep, each idle while the other
works. So the Trainer never reads inside a step: each batch's loss (and, for classification, its
number of correct predictions) stays on the device as a 0-d array, and every
``len(loader) / reads_per_epoch`` batches (10 reads an epoch by default, plus one at its end)
the pending values are stacked into one array and copied back in one go
(``backend.to_host``). The progress bar's loss and accuracy are refreshed at those reads, and
the divergence check runs there. On the CPU the same code runs; the reads are cheap there.

A diverging run
---------------
The check at a read sees every batch since the previous read, so it names the first batch whose
loss was not finite, and the interval it was found in. By then the steps of that interval have
run, possibly on NaN weights. So at every read whose losses are all finite the Trainer keeps a
copy of the parameters, the model's buffers and the optimizer's state (on their device: a
device-to-device copy, no read), and when a read finds a NaN or inf it puts that copy back
before raising ``TrainingDiverged``: the model and optimizer are then exactly as they were
after the last good read (or at the start of ``fit``), never silently NaN. The copy costs one
more set of parameters and optimizer state in memory; ``keep_last_good=False`` turns it off,
and then the message says that the weights may hold NaN.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterable

import numpy as np

from . import backend
from .jit import jit as _capture_and_replay
from .autograd import mark_written, no_grad
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
    """How many rows of ``y_hat`` (logits or probabilities) have their largest entry at ``y``.
    Reads the count back to the host (a synchronisation on a GPU); ``correct_hits`` does not."""
    return int(backend.to_host(correct_hits(y_hat, y)))


def correct_hits(y_hat: Tensor, y: Tensor) -> Any:
    """``correct_count`` as a 0-d integer array on ``y_hat``'s device, not read back."""
    return (y_hat._array.argmax(axis=1) == y._array).sum()


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int) -> np.ndarray:
    """``counts[i, j]`` is the number of examples of class i predicted as class j."""
    y_true = np.asarray(y_true).astype(np.int64).ravel()
    y_pred = np.asarray(y_pred).astype(np.int64).ravel()
    return np.bincount(y_true * num_classes + y_pred,
                       minlength=num_classes * num_classes).reshape(num_classes, num_classes)


class _Pending:
    """The per-batch results since the last read, still on the device: each batch's mean loss
    and number of correct predictions (0-d arrays), and its size (known on the host)."""

    def __init__(self, classification: bool) -> None:
        self.classification = classification
        self.losses: list[Any] = []
        self.hits: list[Any] = []
        self.sizes: list[int] = []

    def add(self, loss: Tensor, y_hat: Tensor, y: Tensor) -> None:
        self.add_counts(loss, correct_hits(y_hat, y) if self.classification else None, len(y))

    def add_counts(self, loss: Tensor, hits: Any, size: int) -> None:
        """One batch's mean loss, its number of correct predictions (a 0-d array, or None),
        and its size."""
        if loss.size != 1:
            raise ValueError(f"the loss function must return one number (the batch's mean loss), "
                             f"got a tensor of shape {loss.shape}; reduce it with .mean()")
        self.losses.append(loss._array.reshape(()) if loss.ndim else loss._array)
        if self.classification:
            self.hits.append(hits)
        self.sizes.append(size)

    def __len__(self) -> int:
        return len(self.sizes)

    def read(self) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """Copy every pending value back to the host in one transfer (one synchronisation on a
        GPU), empty the list, and return (losses, hits or None, sizes) as NumPy arrays."""
        parts = [backend.stack_scalars(self.losses)]
        if self.classification:
            parts.append(backend.stack_scalars(self.hits))
        xp = backend.array_module_of(parts[0])
        host = backend.to_host(xp.concatenate(parts) if len(parts) > 1 else parts[0])
        k = len(self.losses)
        losses, hits = host[:k], (host[k:] if self.classification else None)
        sizes = np.array(self.sizes, dtype=np.float64)
        self.losses, self.hits, self.sizes = [], [], []
        return losses, hits, sizes


class _Totals:
    """Host-side running sums of one pass over a loader."""

    def __init__(self) -> None:
        self.loss, self.correct, self.seen = 0.0, 0.0, 0

    def add(self, losses: np.ndarray, hits: np.ndarray | None, sizes: np.ndarray) -> None:
        self.loss += float(losses @ sizes)  # each batch's mean loss times its size
        if hits is not None:
            self.correct += float(hits.sum())
        self.seen += int(sizes.sum())


class Trainer:
    """Fit a model with a loss and an optimizer, keeping a history.

    ``loss_fn(y_hat, y)`` must return the mean loss over the batch (as ``CrossEntropyLoss`` and
    ``MSELoss`` do). ``optimizer`` needs ``zero_grad()`` and ``step()``. With
    ``classification=True`` the accuracy (argmax of ``y_hat`` along axis 1 against ``y``) is
    tracked too. ``progress=False`` hides the progress bar; ``log`` receives one line per epoch
    (``print`` by default, None for silence).

    ``reads_per_epoch`` (default 10) is how often per epoch the loss and accuracy are read back
    to the host, checked and shown (see the module docstring); an epoch's end is always a read.
    ``keep_last_good`` (default True) keeps a copy of the weights and optimizer state from the
    last read whose losses were finite, and restores it when training diverges.

    ``jit=True`` runs each training step through ``tinygrad_sm.jit``: captured once per batch
    shape, then replayed as plain array code, with the same results bit for bit (see
    docs/jit.md for what a captured step may not do).
    """

    def __init__(self, model: Callable[[Tensor], Tensor], loss_fn: Callable[[Tensor, Tensor], Tensor],
                 optimizer: Any, classification: bool = True, progress: bool = True,
                 log: Callable[[str], Any] | None = print, reads_per_epoch: int = 10,
                 keep_last_good: bool = True, jit: bool = False) -> None:
        if isinstance(reads_per_epoch, bool) or not isinstance(reads_per_epoch, int) \
                or reads_per_epoch < 1:
            raise ValueError(f"reads_per_epoch must be a positive integer, got {reads_per_epoch!r}")
        self.model = model
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.classification = classification
        self.progress = progress
        self.log = log
        self.reads_per_epoch = reads_per_epoch
        self.keep_last_good = keep_last_good
        self.history: list[EpochStats] = []
        self._good: _Snapshot | None = None
        self.jit = bool(jit)
        self._step = _capture_and_replay(self._train_step) if jit else self._train_step

    def _train_step(self, X: Tensor, y: Tensor) -> tuple[Tensor, Tensor | None]:
        """One step of the book's loop: forward, loss, zero_grad, backward, step; the batch's
        loss and its number of correct predictions (on the device)."""
        y_hat = self.model(X)
        loss = self.loss_fn(y_hat, y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        if not self.classification:
            return loss, None
        return loss, Tensor._wrap(correct_hits(y_hat, y), y_hat.device)

    def _set_mode(self, training: bool) -> None:
        mode = getattr(self.model, "train" if training else "eval", None)
        if callable(mode):
            mode()

    def fit(self, train_loader: Iterable, epochs: int, val_loader: Iterable | None = None) -> list[EpochStats]:
        """Train for ``epochs`` epochs; returns (and extends) ``self.history``.

        Raises ``TrainingDiverged`` naming the epoch, the first batch whose loss was NaN or inf,
        and the interval between two reads it was found in; the model and optimizer are then
        back at their state after the last good read (unless ``keep_last_good=False``).
        An epoch's seconds include waiting for the GPU, since the epoch ends with a read.
        """
        if not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
        first = len(self.history) + 1
        if self.keep_last_good:
            self._good = _Snapshot(self.model, self.optimizer, f"at the start of epoch {first}")
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
        self._good = None  # the copy is only needed while training
        return self.history

    def _read_interval(self, loader: Iterable) -> int:
        """Batches between two reads: about ``reads_per_epoch`` reads per epoch."""
        try:
            batches = len(loader)  # type: ignore[arg-type]
        except TypeError:  # a loader without a length: read every 50 batches
            return 50
        return max(1, math.ceil(batches / self.reads_per_epoch))

    def _train_epoch(self, loader: Iterable, epoch: int, last_epoch: int) -> tuple[float, float | None]:
        self._set_mode(True)
        every = self._read_interval(loader)
        pending, totals = _Pending(self.classification), _Totals()
        bar = self._progress_bar(loader, f"epoch {epoch}/{last_epoch}")
        last_read = 0
        for batch, (X, y) in enumerate(bar, start=1):
            loss, hits = self._step(X, y)
            # queued on the device; read below, every few batches
            pending.add_counts(loss, None if hits is None else hits._array, len(y))
            if batch - last_read == every:
                self._read(pending, totals, epoch, last_read, batch, bar)
                last_read = batch
        if len(pending):
            self._read(pending, totals, epoch, last_read, last_read + len(pending), bar)
        if totals.seen == 0:
            raise ValueError("the training loader yielded no batches; is the dataset empty, or "
                             "drop_last=True with fewer examples than one batch?")
        return (totals.loss / totals.seen,
                totals.correct / totals.seen if self.classification else None)

    def _read(self, pending: _Pending, totals: _Totals, epoch: int, after: int, upto: int,
              bar: Any) -> None:
        """Read the batches ``after + 1 .. upto`` back, check them, add them up."""
        losses, hits, sizes = pending.read()
        bad = np.flatnonzero(~np.isfinite(losses))
        if bad.size:
            self._diverged(epoch, after, upto, after + 1 + int(bad[0]), losses[bad[0]])
        totals.add(losses, hits, sizes)
        if self.keep_last_good:
            self._good = _Snapshot(self.model, self.optimizer,
                                   f"after batch {upto} of epoch {epoch}")
        if hasattr(bar, "set_postfix"):
            postfix = {"loss": f"{totals.loss / totals.seen:.4f}"}
            if self.classification:
                postfix["acc"] = f"{totals.correct / totals.seen:.3f}"
            bar.set_postfix(postfix, refresh=False)

    def _diverged(self, epoch: int, after: int, upto: int, batch: int, value: float) -> None:
        if self._good is not None:
            self._good.restore()
            state = (f"the model and optimizer are restored to their state {self._good.when}, "
                     "the last check where the loss was finite")
        else:
            state = (f"the weights are those after batch {upto} and may hold NaN or inf "
                     "(keep_last_good=False)")
        raise TrainingDiverged(
            f"training diverged in epoch {epoch}, batch {batch}: the loss is {value} (found "
            f"between batch {after} and batch {upto}, where the loss is checked); {state}; "
            "lower the learning rate (e.g. --lr with a value 10 times smaller) and try again")

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
        """The mean loss (and accuracy, for classification) over ``loader``, without a graph.
        The per-batch results stay on the device and are read back once, at the end."""
        self._set_mode(False)
        pending, totals = _Pending(self.classification), _Totals()
        for X, y in loader:
            y_hat = self.model(X)
            pending.add(self.loss_fn(y_hat, y), y_hat, y)
        if not len(pending):
            raise ValueError("the evaluation loader yielded no batches")
        totals.add(*pending.read())
        result = {"loss": totals.loss / totals.seen}
        if self.classification:
            result["accuracy"] = totals.correct / totals.seen
        return result

    @no_grad()
    def predict(self, loader: Iterable) -> tuple[np.ndarray, np.ndarray]:
        """The true labels and the predicted classes (argmax along axis 1) over ``loader``, on
        the host (gathered on the device and copied back once)."""
        self._set_mode(False)
        truth, predicted = [], []
        for X, y in loader:
            truth.append(y._array)
            predicted.append(self.model(X)._array.argmax(axis=1))
        if not truth:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        xp = backend.array_module_of(truth[0])
        both = backend.to_host(xp.stack([xp.concatenate(truth).astype(np.int64),
                                         xp.concatenate(predicted).astype(np.int64)]))
        return both[0], both[1]


class _Snapshot:
    """A copy of the trainable state (parameters, the model's buffers, the optimizer's state)
    on its own device, to go back to when training diverges. ``when`` says when it was taken."""

    def __init__(self, model: Any, optimizer: Any, when: str) -> None:
        self.when = when
        self.tensors = _trained_tensors(model, optimizer)
        self.arrays = [backend.copy_array(t._array) for t in self.tensors]
        state = getattr(optimizer, "state", None)
        self.optimizer = optimizer if isinstance(state, list) else None
        self.state = None if self.optimizer is None else [
            {name: (backend.copy_array(v) if hasattr(v, "shape") else v) for name, v in entry.items()}
            for entry in state]

    def restore(self) -> None:
        for t, array in zip(self.tensors, self.arrays):
            t._array[...] = array  # in place: the optimizer and the layers keep their references
            mark_written(t)
        if self.optimizer is not None:
            self.optimizer.state = self.state


def _trained_tensors(model: Any, optimizer: Any) -> list[Tensor]:
    """What a training step changes: the optimizer's parameters (else the model's), then the
    model's buffers (running statistics), each once."""
    found: dict[int, Tensor] = {}
    params = getattr(optimizer, "params", None)
    if params is None and callable(getattr(model, "parameters", None)):
        params = model.parameters()
    for t in list(params or []) + list(model.buffers() if callable(getattr(model, "buffers", None)) else []):
        if isinstance(t, Tensor):
            found.setdefault(id(t), t)
    return list(found.values())
