"""The ``d2l`` package of *Dive into Deep Learning*, for the book's linear networks chapter, on
tinygrad_sm. The book's ``from d2l import torch as d2l`` becomes::

    from tinygrad_sm import d2l

One module serves both editions of the book:

- the older edition (sections 3.1 to 3.7): ``synthetic_data``, ``linreg``, ``squared_loss``,
  ``sgd``, ``load_array``, ``get_fashion_mnist_labels``, ``show_images``,
  ``load_data_fashion_mnist``, ``accuracy``, ``evaluate_accuracy``, ``Accumulator``,
  ``train_epoch_ch3``, ``Animator``, ``train_ch3``, ``predict_ch3``, ``Timer``, and the
  plotting helpers ``use_svg_display``, ``set_figsize``, ``set_axes``, ``plot`` and ``plt``;
- the 2023 edition (chapters 3 and 4): ``HyperParameters``, ``ProgressBoard``, ``Module``,
  ``DataModule``, ``Trainer``, ``SyntheticRegressionData``, ``SGD``, ``FashionMNIST``,
  ``Classifier`` and ``add_to_class``.

Each does what the book says it does, with the book's signature; see docs/d2l.md for the few
places where it differs.

Plots. matplotlib is imported only when a plot is made (``d2l.plt`` is looked up lazily), so
the rest needs NumPy alone. In a Jupyter notebook the plots show and redraw live, as in the
book. In a script, where nothing would show them, each figure is written to a PNG file in
``$D2L_FIGURES`` (default: ``./d2l_figures``), named after the script
(``softmax-001-animator.png``), and its path printed once; a figure that keeps
changing (the training curves) is rewritten while it changes, at most once a second and
never for more than a tenth of the running time, and a last time when training ends. Figures drawn straight through ``d2l.plt`` (the book's
``d2l.plt.scatter(...)``) are written when the program ends, or when ``save_figures()`` is
called. ``display`` stands in for ``IPython.display``: the book's own ``Animator`` (older
edition, 3.6) runs with ``from tinygrad_sm.d2l import display`` in place of
``from IPython import display``.
"""
from __future__ import annotations

import atexit
import collections
import inspect
import os
import sys
import time
import weakref
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from . import backend, nn, optim
from .autograd import no_grad
from .data import fashion_mnist as _fashion_mnist
from .data.dataset import synthetic_data as _synthetic_data
from .nn import functional as F
from .tensor import Tensor, randn
from .utils import data
from .vision import datasets as _vision_datasets
from .vision import transforms

__all__ = [
    # plotting
    "plt", "display", "use_svg_display", "set_figsize", "set_axes", "plot", "show_images",
    "save_figures",
    # older edition
    "Timer", "synthetic_data", "linreg", "squared_loss", "sgd", "load_array",
    "get_fashion_mnist_labels", "get_dataloader_workers", "load_data_fashion_mnist", "accuracy",
    "evaluate_accuracy", "Accumulator", "train_epoch_ch3", "Animator", "train_ch3", "predict_ch3",
    # 2023 edition
    "add_to_class", "HyperParameters", "ProgressBoard", "Module", "DataModule", "Trainer",
    "SyntheticRegressionData", "SGD", "FashionMNIST", "Classifier",
    # devices and the small aliases the book's code uses
    "cpu", "gpu", "num_gpus", "try_gpu", "try_all_gpus",
    "numpy", "size", "reshape", "to", "reduce_sum", "reduce_mean", "argmax", "astype",
]

FIGURES_ENV = "D2L_FIGURES"
FIGURES_DIR = "d2l_figures"
REDRAW_SECONDS = 1.0  # in a script, a changing figure is rewritten at most this often,
REDRAW_SHARE = 0.1    # and so that writing it takes at most this share of the time


# =============================================================================================
# Plotting: a notebook shows figures; a script writes them to PNG files
# =============================================================================================

def _in_notebook() -> bool:
    """True inside a Jupyter kernel (where figures display inline), False in a script or a
    terminal IPython. IPython is never imported here: a kernel has always imported it."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as pyplot
    except ImportError:
        raise ImportError("d2l's plots need matplotlib, which is not installed: pip install "
                          "matplotlib (or pip install 'tinygrad_sm[plot]')") from None
    return pyplot


class _FigureFiles:
    """Where a script's figures go: one PNG per figure, rewritten when the figure changes."""

    def __init__(self) -> None:
        self.paths: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
        self.saved_at: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()
        self.save_seconds: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()
        self.watched: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
        self.counts: dict[str, int] = {}  # figures written so far, per folder
        self.exit_hook = False

    def watch(self, figure: Any, name: str = "figure") -> None:
        """Remember ``figure``, to write it when the program ends (if it is still open)."""
        self.watched.setdefault(figure, name)
        if not self.exit_hook:
            atexit.register(_save_at_exit)
            self.exit_hook = True

    def show(self, figure: Any, name: str = "figure", now: bool = False) -> str:
        """Write ``figure`` to its PNG file: at once the first time, then at most once every
        ``REDRAW_SECONDS``, and at most ``REDRAW_SHARE`` of the time (``now`` skips the wait);
        a skipped change is written later by ``save_figures``."""
        self.watch(figure, name)
        last = self.saved_at.get(figure)
        wait = max(REDRAW_SECONDS, self.save_seconds.get(figure, 0.0) / REDRAW_SHARE)
        if now or last is None or time.monotonic() - last >= wait:
            self.save(figure)
        return self.paths[figure]

    def save(self, figure: Any) -> str:
        path = self.paths.get(figure)
        if path is None:
            directory = os.environ.get(FIGURES_ENV) or FIGURES_DIR
            os.makedirs(directory, exist_ok=True)
            number = self.counts[directory] = self.counts.get(directory, 0) + 1
            name = f"{_program_name()}-{number:03d}-{self.watched.get(figure, 'figure')}.png"
            path = os.path.join(directory, name)
            self.paths[figure] = path
            print(f"d2l: figure saved to {path}", flush=True)
        start = time.monotonic()
        figure.savefig(path, dpi=100, bbox_inches="tight")
        # savefig leaves the figure marked stale (it restores colours it changed); what is
        # saved is up to date, and any later change marks it stale again.
        figure.stale = False
        self.saved_at[figure] = end = time.monotonic()
        self.save_seconds[figure] = end - start
        return path

    def save_changed(self) -> list[str]:
        """Write every watched figure that is still open and is new or changed since written."""
        written = []
        still_open = _open_figures()
        for figure in list(self.watched.keys()):
            if id(figure) not in still_open:
                continue  # closed: the user is done with it
            if figure not in self.paths or figure.stale:
                written.append(self.save(figure))
        return written


_figure_files = _FigureFiles()


def _open_figures() -> set[int]:
    """The ids of the figures pyplot holds open (numbers would not do: pyplot reuses the
    number of a closed figure)."""
    if "matplotlib.pyplot" not in sys.modules:
        return set()
    from matplotlib._pylab_helpers import Gcf  # pyplot's own register of open figures
    return {id(manager.canvas.figure) for manager in Gcf.get_all_fig_managers()}


def _program_name() -> str:
    """The running script's name without ``.py`` (so two scripts' figures do not overwrite
    each other), or ``d2l`` when there is no script (an interpreter, ``python -m``)."""
    script = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    stem, extension = os.path.splitext(script)
    return stem if extension == ".py" and stem != "__main__" else "d2l"


def save_figures() -> list[str]:
    """In a script: write each open figure that d2l drew, or that was drawn through
    ``d2l.plt``, and that changed since it was last written; return the paths written.
    It runs by itself when the program ends. In a notebook it does nothing."""
    if _in_notebook():
        return []
    return _figure_files.save_changed()


def _save_at_exit() -> None:
    try:
        save_figures()
    except Exception as e:  # the program is over: say what was lost, without a traceback
        print(f"d2l: could not write the figures when the program ended ({type(e).__name__}: "
              f"{e}); set {FIGURES_ENV} to a folder you can write to", file=sys.stderr)


def _show(figure: Any, name: str, now: bool = False) -> None:
    """Show a figure that d2l drew: a notebook shows it by itself; a script writes it."""
    if not _in_notebook():
        _figure_files.show(figure, name, now)


class _ScriptPyplot:
    """``d2l.plt`` in a script: ``matplotlib.pyplot`` itself, except that each figure drawn
    through it is remembered, to be written to a PNG file (see ``save_figures``)."""

    def __init__(self, pyplot: Any) -> None:
        object.__setattr__(self, "_pyplot", pyplot)

    def __getattr__(self, name: str) -> Any:
        pyplot = self._pyplot
        value = getattr(pyplot, name)
        if not callable(value) or isinstance(value, type):
            return value

        def drawn_through_d2l(*args: Any, **kwargs: Any) -> Any:
            result = value(*args, **kwargs)
            if pyplot.get_fignums():  # the current figure is the one just drawn on
                _figure_files.watch(pyplot.gcf())
            return result

        drawn_through_d2l.__name__ = name
        drawn_through_d2l.__doc__ = value.__doc__
        return drawn_through_d2l

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._pyplot, name, value)

    def __repr__(self) -> str:
        return f"<matplotlib.pyplot, as d2l.plt in a script: figures go to ${FIGURES_ENV} or ./{FIGURES_DIR}>"


def __getattr__(name: str) -> Any:
    # ``d2l.plt`` is looked up here, on first use, so that importing d2l needs no matplotlib.
    if name == "plt":
        pyplot = _pyplot()
        return pyplot if _in_notebook() else _ScriptPyplot(pyplot)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Display:
    """A stand-in for ``IPython.display``, so that the book's ``from IPython import display``
    can be ``from tinygrad_sm.d2l import display``. In a notebook it is IPython's; in a script
    ``display(figure)`` writes the figure to its PNG file and ``clear_output`` does nothing."""

    def display(self, *objs: Any, **kwargs: Any) -> None:
        if _in_notebook():
            from IPython import display as ipython_display
            ipython_display.display(*objs, **kwargs)
            return
        for obj in objs:
            if hasattr(obj, "savefig"):
                _figure_files.show(obj, "figure")
            else:
                print(obj)

    def clear_output(self, wait: bool = False) -> None:
        if _in_notebook():
            from IPython import display as ipython_display
            ipython_display.clear_output(wait=wait)

    def set_matplotlib_formats(self, *formats: str, **kwargs: Any) -> None:
        if _in_notebook():
            _set_inline_formats(*formats, **kwargs)


display = _Display()


def _set_inline_formats(*formats: str, **kwargs: Any) -> None:
    try:
        from matplotlib_inline import backend_inline
        backend_inline.set_matplotlib_formats(*formats, **kwargs)
    except ImportError:  # an older IPython keeps it in IPython.display
        from IPython import display as ipython_display
        ipython_display.set_matplotlib_formats(*formats, **kwargs)


def use_svg_display() -> None:
    """Draw a notebook's figures as SVG, which stays sharp when zoomed. In a script: nothing
    (figures are PNG files there)."""
    if _in_notebook():
        _set_inline_formats("svg")


def set_figsize(figsize: tuple[float, float] = (3.5, 2.5)) -> None:
    """Set the size of the figures matplotlib makes from now on (inches)."""
    use_svg_display()
    _pyplot().rcParams["figure.figsize"] = figsize


def set_axes(axes: Any, xlabel: str | None, ylabel: str | None, xlim: Any, ylim: Any,
             xscale: str, yscale: str, legend: Sequence[str] | None) -> None:
    """Label, scale and limit matplotlib ``axes``, add a legend (if given) and a grid."""
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_xscale(xscale)
    axes.set_yscale(yscale)
    axes.set_xlim(xlim)
    axes.set_ylim(ylim)
    if legend:
        axes.legend(legend)
    axes.grid()


def plot(X: Any, Y: Any = None, xlabel: str | None = None, ylabel: str | None = None,
         legend: Sequence[str] | None = None, xlim: Any = None, ylim: Any = None,
         xscale: str = "linear", yscale: str = "linear",
         fmts: Sequence[str] = ("-", "m--", "g-.", "r:"), figsize: tuple[float, float] = (3.5, 2.5),
         axes: Any = None) -> Any:
    """Plot one or more lines: ``plot(x, [y1, y2], legend=[...])``, or ``plot(y)`` against the
    index. ``X`` and ``Y`` are each one sequence (an array, a list of numbers, a 1-D tensor) or a
    list of them; one ``X`` serves every ``Y``. Returns the axes."""
    if legend is None:
        legend = []
    set_figsize(figsize)
    pyplot = _pyplot()
    if axes is None:
        # A notebook gets a fresh figure per cell anyway; a script needs one per plot.
        axes = pyplot.gca() if _in_notebook() else pyplot.figure(figsize=figsize).gca()

    def has_one_axis(values: Any) -> bool:
        return (hasattr(values, "ndim") and values.ndim == 1 or isinstance(values, list)
                and not hasattr(values[0], "__len__"))

    if has_one_axis(X):
        X = [X]
    if Y is None:
        X, Y = [[]] * len(X), X
    elif has_one_axis(Y):
        Y = [Y]
    if len(X) != len(Y):
        X = X * len(Y)
    axes.cla()
    for x, y, fmt in zip(X, Y, fmts):
        x, y = _plottable(x), _plottable(y)
        if len(x):
            axes.plot(x, y, fmt)
        else:
            axes.plot(y, fmt)
    set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend)
    _show(axes.figure, "plot", now=True)
    return axes


def _plottable(values: Any) -> Any:
    """A tensor as a NumPy array (matplotlib cannot read a GPU tensor); anything else as is."""
    return values.detach().numpy() if isinstance(values, Tensor) else values


def show_images(imgs: Any, num_rows: int, num_cols: int, titles: Sequence[str] | None = None,
                scale: float = 1.5) -> Any:
    """Show images (a tensor (n, h, w), or a list of arrays or tensors) in a grid of
    ``num_rows`` x ``num_cols``, each with its title; returns the flattened array of axes."""
    figure, grid = _pyplot().subplots(num_rows, num_cols, squeeze=False,
                                      figsize=(num_cols * scale, num_rows * scale))
    axes = grid.flatten()
    for i, img in enumerate(imgs):
        if i == len(axes):  # more images than cells: the grid decides
            break
        axes[i].imshow(_plottable(img))
        axes[i].xaxis.set_visible(False)
        axes[i].yaxis.set_visible(False)
        if titles:
            axes[i].set_title(titles[i])
    _show(figure, "images", now=True)
    return axes


# =============================================================================================
# The older edition: sections 3.1 to 3.7
# =============================================================================================

class Timer:
    """Record running times: it starts when made; ``stop()`` returns the seconds since the last
    ``start()`` and keeps them in ``times``."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.start()

    def start(self) -> None:
        """Start the timer."""
        self.tik = time.perf_counter()

    def stop(self) -> float:
        """Stop the timer, record the time, and return it (seconds)."""
        self.times.append(time.perf_counter() - self.tik)
        return self.times[-1]

    def avg(self) -> float:
        """The average of the recorded times."""
        return sum(self.times) / len(self.times)

    def sum(self) -> float:
        """The sum of the recorded times."""
        return sum(self.times)

    def cumsum(self) -> list[float]:
        """The running totals of the recorded times."""
        return np.array(self.times).cumsum().tolist()


def synthetic_data(w: Any, b: Any, num_examples: int) -> tuple[Tensor, Tensor]:
    """Generate ``y = Xw + b + noise``: ``X`` (num_examples, len(w)) drawn from N(0, 1), noise
    from N(0, 0.01**2); ``y`` has shape (num_examples, 1). ``tinygrad_sm.manual_seed`` repeats it."""
    return _synthetic_data(w, b, num_examples)


def linreg(X: Tensor, w: Tensor, b: Tensor) -> Tensor:
    """The linear regression model: ``Xw + b``."""
    return X @ w + b


def squared_loss(y_hat: Tensor, y: Tensor) -> Tensor:
    """Squared loss per example, ``(y_hat - y)**2 / 2``, with ``y`` reshaped like ``y_hat``."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params: Iterable[Tensor], lr: float, batch_size: int) -> None:
    """Minibatch stochastic gradient descent: ``param -= lr * param.grad / batch_size``, in
    place, then the gradient is zeroed for the next minibatch."""
    with no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def load_array(data_arrays: Sequence[Tensor], batch_size: int, is_train: bool = True) -> data.DataLoader:
    """A data iterator over tensors: minibatches of ``batch_size``, shuffled when ``is_train``."""
    dataset = data.TensorDataset(*data_arrays)
    return data.DataLoader(dataset, batch_size, shuffle=is_train)


def get_fashion_mnist_labels(labels: Iterable[Any]) -> list[str]:
    """The text labels of Fashion-MNIST labels (ints, or a tensor of them)."""
    if isinstance(labels, Tensor):
        labels = labels.numpy().reshape(-1)
    return [_fashion_mnist.TEXT_LABELS[int(i)] for i in labels]


def get_dataloader_workers() -> int:
    """The book's number of loader processes. Here batches are made in-process, so it changes
    nothing; it is kept so that the book's calls run."""
    return 4


def load_data_fashion_mnist(batch_size: int, resize: int | Sequence[int] | None = None
                            ) -> tuple[data.DataLoader, data.DataLoader]:
    """Fashion-MNIST as ``(train_iter, test_iter)``: loaders over the 60,000 training images
    (shuffled) and the 10,000 test images, batches ``X`` float32 (B, 1, 28, 28) in [0, 1] (or
    resized to ``resize``) and ``y`` int64 (B,). The files are found as in
    ``tinygrad_sm.vision.datasets`` (``root="../data"`` first)."""
    to_images = transforms.Compose(([transforms.Resize(resize)] if resize else []) +
                                   [transforms.ToTensor()])

    def loader(train: bool) -> data.DataLoader:
        images = _vision_datasets.FashionMNIST(root="../data", train=train,
                                               transform=to_images, download=True)
        return data.DataLoader(images, batch_size, shuffle=train,
                               num_workers=get_dataloader_workers())
    return loader(True), loader(False)


def accuracy(y_hat: Tensor, y: Tensor) -> float:
    """The number of correct predictions: rows of ``y_hat`` (scores per class) whose largest
    entry is at ``y``, or, for a 1-D ``y_hat``, entries equal to ``y``."""
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


def evaluate_accuracy(net: Callable[[Tensor], Tensor], data_iter: Iterable[Any]) -> float:
    """The accuracy of ``net`` over a data set (a data iterator), without recording gradients;
    an ``nn.Module`` is put in evaluation mode first."""
    if isinstance(net, nn.Module):
        net.eval()
    metric = Accumulator(2)  # number of correct predictions, number of predictions
    with no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


class Accumulator:
    """Sums over ``n`` variables: ``add(a, b, ...)`` adds to each; ``acc[i]`` reads one."""

    def __init__(self, n: int) -> None:
        self.data = [0.0] * n

    def add(self, *args: Any) -> None:
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def reset(self) -> None:
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx: int) -> float:
        return self.data[idx]


def train_epoch_ch3(net: Callable[[Tensor], Tensor], train_iter: Iterable[Any],
                    loss: Callable[[Tensor, Tensor], Tensor], updater: Any) -> tuple[float, float]:
    """One epoch of training (chapter 3); returns (training loss, training accuracy).

    ``loss`` gives one value per example. With an ``optim.Optimizer`` as ``updater`` the mean
    loss is differentiated and ``updater.step()`` called; otherwise the summed loss is, and
    ``updater(batch_size)`` called (the from-scratch ``d2l.sgd``)."""
    if isinstance(net, nn.Module):
        net.train()
    built_in = isinstance(updater, optim.Optimizer)
    loss_sum, correct, seen = 0.0, 0.0, 0
    for X, y in train_iter:
        y_hat = net(X)
        losses = loss(y_hat, y)
        if built_in:
            updater.zero_grad()
            losses.mean().backward()
            updater.step()
        else:  # the from-scratch updater scales by the batch size itself
            losses.sum().backward()
            updater(X.shape[0])
        loss_sum += float(losses.sum())
        correct += accuracy(y_hat, y)
        seen += y.numel()
    return loss_sum / seen, correct / seen


class Animator:
    """Plot data points as they come, one line per value: ``add(x, [y1, y2, ...])``.

    In a notebook the figure redraws in place; in a script it is a PNG file, rewritten as
    points come (see ``_FigureFiles.show``) and when ``save_figures`` runs."""

    def __init__(self, xlabel: str | None = None, ylabel: str | None = None,
                 legend: Sequence[str] | None = None, xlim: Any = None, ylim: Any = None,
                 xscale: str = "linear", yscale: str = "linear",
                 fmts: Sequence[str] = ("-", "m--", "g-.", "r:"), nrows: int = 1, ncols: int = 1,
                 figsize: tuple[float, float] = (3.5, 2.5)) -> None:
        if legend is None:
            legend = []
        use_svg_display()
        self.fig, self.axes = _pyplot().subplots(nrows, ncols, figsize=figsize)
        if nrows * ncols == 1:
            self.axes = [self.axes]
        # A function, so that the axes are set up again after every clearing.
        self.config_axes = lambda: set_axes(self.axes[0], xlabel, ylabel, xlim, ylim, xscale,
                                            yscale, legend)
        self.X: list[list[Any]] | None = None
        self.Y: list[list[Any]] | None = None
        self.fmts = fmts

    def add(self, x: Any, y: Any) -> None:
        """Add one point to each line: ``y`` holds one value per line (or is one number), ``x``
        one value for all of them or one per line. A None leaves that line without a point."""
        ys = y if hasattr(y, "__len__") else [y]
        xs = x if hasattr(x, "__len__") else [x] * len(ys)
        if not self.X or not self.Y:  # the first call fixes the number of lines
            self.X, self.Y = [[] for _ in ys], [[] for _ in ys]
        for line, (a, b) in enumerate(zip(xs, ys)):
            if a is None or b is None:
                continue
            self.X[line].append(a)
            self.Y[line].append(b)
        ax = self.axes[0]
        ax.cla()  # redrawn whole, every line with its format
        for line_x, line_y, fmt in zip(self.X, self.Y, self.fmts):
            ax.plot(line_x, line_y, fmt)
        self.config_axes()
        if _in_notebook():
            display.display(self.fig)
            display.clear_output(wait=True)
        else:
            _figure_files.show(self.fig, "animator")


def train_ch3(net: Callable[[Tensor], Tensor], train_iter: Iterable[Any],
              test_iter: Iterable[Any], loss: Callable[[Tensor, Tensor], Tensor],
              num_epochs: int, updater: Any) -> None:
    """Train ``net`` for ``num_epochs`` (chapter 3), plotting the training loss and accuracy and
    the test accuracy after each epoch. Ends with the book's checks that training worked:
    training loss below 0.5, training and test accuracy above 0.7."""
    animator = Animator(xlabel="epoch", xlim=[1, num_epochs], ylim=[0.3, 0.9],
                        legend=["train loss", "train acc", "test acc"])
    for epoch in range(num_epochs):
        train_metrics = train_epoch_ch3(net, train_iter, loss, updater)
        test_acc = evaluate_accuracy(net, test_iter)
        animator.add(epoch + 1, train_metrics + (test_acc,))
    _show(animator.fig, "animator", now=True)
    train_loss, train_acc = train_metrics
    assert train_loss < 0.5, train_loss
    assert train_acc <= 1 and train_acc > 0.7, train_acc
    assert test_acc <= 1 and test_acc > 0.7, test_acc


def predict_ch3(net: Callable[[Tensor], Tensor], test_iter: Iterable[Any], n: int = 6) -> None:
    """Show the first ``n`` images of the first test batch, titled with their true label and
    the predicted one."""
    for X, y in test_iter:
        break
    trues = get_fashion_mnist_labels(y)
    preds = get_fashion_mnist_labels(net(X).argmax(axis=1))
    titles = [true + "\n" + pred for true, pred in zip(trues, preds)]
    show_images(X[0:n].reshape((n, 28, 28)), 1, n, titles=titles[0:n])


# =============================================================================================
# The 2023 edition: the object-oriented design of chapter 3, used from chapter 4 on
# =============================================================================================

def add_to_class(Class: type) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A decorator that adds the function it decorates to ``Class`` as a method of the same
    name, so a class can be written in several notebook cells::

        @d2l.add_to_class(SoftmaxRegressionScratch)
        def forward(self, X): ...
    """
    def wrapper(obj: Callable[..., Any]) -> Callable[..., Any]:
        setattr(Class, obj.__name__, obj)
        return obj
    return wrapper


class HyperParameters:
    """The base class of classes whose ``__init__`` arguments are kept as attributes."""

    def save_hyperparameters(self, ignore: Sequence[str] = ()) -> None:
        """Keep the arguments of the calling function (``__init__``) as attributes of self, and
        all of them in ``self.hparams``, except self, those in ``ignore`` and names starting
        with ``_``. It reads the caller's arguments from its frame, as the book's does, but
        takes only the arguments, not other local variables."""
        frame = inspect.currentframe()
        caller = frame.f_back if frame is not None else None
        try:
            if caller is None:
                raise RuntimeError("save_hyperparameters cannot see its caller's arguments on "
                                   "this Python (no frame introspection); assign them yourself: "
                                   "self.lr = lr, ...")
            info = inspect.getargvalues(caller)
            names = list(info.args)
            names += [n for n in (info.varargs, info.keywords) if n]
            skip = set(ignore) | {"self"}
            self.hparams = {name: info.locals[name] for name in names
                            if name not in skip and not name.startswith("_")
                            and name in info.locals and info.locals[name] is not self}
        finally:
            del frame, caller  # a frame kept alive would keep every local variable alive
        for name, value in self.hparams.items():
            setattr(self, name, value)


class ProgressBoard(HyperParameters):
    """A board that plots data points as they come: ``draw(x, y, label, every_n)`` adds a point
    to the line ``label``, averaging every ``every_n`` points into one."""

    def __init__(self, xlabel: str | None = None, ylabel: str | None = None, xlim: Any = None,
                 ylim: Any = None, xscale: str = "linear", yscale: str = "linear",
                 ls: Sequence[str] = ("-", "--", "-.", ":"),
                 colors: Sequence[str] = ("C0", "C1", "C2", "C3"), fig: Any = None,
                 axes: Any = None, figsize: tuple[float, float] = (3.5, 2.5),
                 display: bool = True) -> None:
        self.save_hyperparameters()

    def draw(self, x: float, y: float, label: str, every_n: int = 1) -> None:
        Point = collections.namedtuple("Point", ["x", "y"])
        if not hasattr(self, "raw_points"):
            self.raw_points: dict[str, list[Any]] = collections.OrderedDict()
            self.data: dict[str, list[Any]] = collections.OrderedDict()
        if label not in self.raw_points:
            self.raw_points[label] = []
            self.data[label] = []
        points = self.raw_points[label]
        line = self.data[label]
        points.append(Point(x, y))
        if len(points) != every_n:
            return
        line.append(Point(sum(p.x for p in points) / len(points),
                          sum(p.y for p in points) / len(points)))
        points.clear()
        if not self.display:
            return
        use_svg_display()
        if self.fig is None:
            self.fig = _pyplot().figure(figsize=self.figsize)
        axes = self.axes if self.axes else self.fig.gca()
        axes.cla()  # drawn afresh each time, rather than stacking copies of the lines
        plt_lines, labels = [], []
        for (k, v), ls, color in zip(self.data.items(), self.ls, self.colors):
            plt_lines.append(axes.plot([p.x for p in v], [p.y for p in v],
                                       linestyle=ls, color=color)[0])
            labels.append(k)
        if self.xlim:
            axes.set_xlim(self.xlim)
        if self.ylim:
            axes.set_ylim(self.ylim)
        axes.set_xlabel(self.xlabel)
        axes.set_ylabel(self.ylabel)
        axes.set_xscale(self.xscale)
        axes.set_yscale(self.yscale)
        axes.legend(plt_lines, labels)
        if _in_notebook():
            display.display(self.fig)
            display.clear_output(wait=True)
        else:
            _figure_files.show(self.fig, "progress")


class Module(nn.Module, HyperParameters):
    """The base class of models (2023 edition): an ``nn.Module`` that also knows its loss, its
    optimizer, and how to take a training or a validation step, for ``Trainer.fit``."""

    def __init__(self, plot_train_per_epoch: int = 2, plot_valid_per_epoch: int = 1) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.board = ProgressBoard()

    def loss(self, y_hat: Tensor, y: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define loss(y_hat, y)")

    def forward(self, X: Tensor) -> Tensor:
        assert hasattr(self, "net"), "Neural network is defined"
        return self.net(X)

    def plot(self, key: str, value: Any, train: bool) -> None:
        """Plot a point of ``key`` (``"loss"``, ``"acc"``) on the board: twice per epoch for
        training, once for validation, each the mean of the batches since the last one."""
        assert hasattr(self, "trainer"), "Trainer is not inited"
        self.board.xlabel = "epoch"
        if train:
            x = self.trainer.train_batch_idx / self.trainer.num_train_batches
            n = self.trainer.num_train_batches / self.plot_train_per_epoch
        else:
            x = self.trainer.epoch + 1
            n = self.trainer.num_val_batches / self.plot_valid_per_epoch
        value = value.item() if isinstance(value, Tensor) else float(value)
        # max(1, ...): with fewer batches than points per epoch, plot every batch.
        self.board.draw(x, value, ("train_" if train else "val_") + key, every_n=max(1, int(n)))

    def training_step(self, batch: Sequence[Tensor]) -> Tensor:
        l = self.loss(self(*batch[:-1]), batch[-1])  # noqa: E741
        self.plot("loss", l, train=True)
        return l

    def validation_step(self, batch: Sequence[Tensor]) -> None:
        l = self.loss(self(*batch[:-1]), batch[-1])  # noqa: E741
        self.plot("loss", l, train=False)

    def configure_optimizers(self) -> Any:
        return optim.SGD(self.parameters(), lr=self.lr)

    def apply_init(self, inputs: Sequence[Tensor], init: Callable[[Any], None] | None = None) -> None:
        self.forward(*inputs)
        if init is not None:
            self.net.apply(init)


class DataModule(HyperParameters):
    """The base class of data (2023 edition): ``train_dataloader()`` and ``val_dataloader()``
    come from ``get_dataloader(train)``, which a subclass defines."""

    def __init__(self, root: str = "../data", num_workers: int = 4) -> None:
        self.save_hyperparameters()

    def get_dataloader(self, train: bool) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define get_dataloader(train)")

    def train_dataloader(self) -> Any:
        return self.get_dataloader(train=True)

    def val_dataloader(self) -> Any:
        return self.get_dataloader(train=False)

    def get_tensorloader(self, tensors: Sequence[Tensor], train: bool,
                         indices: Any = slice(0, None)) -> data.DataLoader:
        tensors = tuple(a[indices] for a in tensors)
        dataset = data.TensorDataset(*tensors)
        return data.DataLoader(dataset, self.batch_size, shuffle=train)


class Trainer(HyperParameters):
    """Train a ``Module`` on a ``DataModule``: ``Trainer(max_epochs=10).fit(model, data)``.

    Each epoch runs ``model.training_step`` on every training batch (then ``zero_grad``,
    ``backward`` and ``step``), then ``model.validation_step`` on every validation batch.
    ``num_gpus=1`` trains on the GPU where there is one; ``gradient_clip_val`` clips the
    gradients' overall norm."""

    def __init__(self, max_epochs: int, num_gpus: int = 0, gradient_clip_val: float = 0) -> None:
        self.save_hyperparameters()
        self.gpus = [gpu(i) for i in range(min(num_gpus, _num_gpus()))]

    def prepare_data(self, data: DataModule) -> None:
        self.train_dataloader = data.train_dataloader()
        self.val_dataloader = data.val_dataloader()
        self.num_train_batches = len(self.train_dataloader)
        self.num_val_batches = len(self.val_dataloader) if self.val_dataloader is not None else 0

    def prepare_model(self, model: Module) -> None:
        model.trainer = self
        model.board.xlim = [0, self.max_epochs]
        if self.gpus:
            model.to(self.gpus[0])
        self.model = model

    def prepare_batch(self, batch: Sequence[Tensor]) -> Sequence[Tensor]:
        if self.gpus:
            batch = [a.to(self.gpus[0]) for a in batch]
        return batch

    def fit(self, model: Module, data: DataModule) -> None:
        self.prepare_data(data)
        self.prepare_model(model)
        self.optim = model.configure_optimizers()
        self.epoch = self.train_batch_idx = self.val_batch_idx = 0  # counted across epochs
        for epoch in range(self.max_epochs):
            self.epoch = epoch
            self.fit_epoch()
        board = getattr(model, "board", None)
        if getattr(board, "fig", None) is not None:
            _show(board.fig, "progress", now=True)

    def fit_epoch(self) -> None:
        """A step per training batch (counted in ``train_batch_idx``), then, when there is
        validation data, ``validation_step`` per validation batch without recording."""
        self.model.train()
        for batch in self.train_dataloader:
            self._step(self.model.training_step(self.prepare_batch(batch)))
        if self.val_dataloader is not None:
            self.model.eval()
            with no_grad():
                for batch in self.val_dataloader:
                    self.model.validation_step(self.prepare_batch(batch))
                    self.val_batch_idx += 1

    def _step(self, loss: Tensor) -> None:
        """The gradient of ``loss``, clipped when ``gradient_clip_val`` says so, and the update.
        The book runs backward and the update inside no_grad; so does this."""
        self.optim.zero_grad()
        with no_grad():
            loss.backward()
            if self.gradient_clip_val > 0:
                self.clip_gradients(self.gradient_clip_val, self.model)
            self.optim.step()
        self.train_batch_idx += 1

    def clip_gradients(self, grad_clip_val: float, model: Module) -> None:
        """Scale all gradients down together when their overall norm exceeds ``grad_clip_val``."""
        params = [p for p in model.parameters() if p.requires_grad]
        norm = sum((p.grad ** 2).sum() for p in params) ** 0.5
        if norm > grad_clip_val:
            for param in params:
                param.grad *= grad_clip_val / norm


class SyntheticRegressionData(DataModule):
    """Data for linear regression: ``y = Xw + b + noise``, with ``num_train`` training and
    ``num_val`` validation examples, ``X`` and the noise drawn from normal distributions."""

    def __init__(self, w: Tensor, b: float, noise: float = 0.01, num_train: int = 1000,
                 num_val: int = 1000, batch_size: int = 32) -> None:
        super().__init__()
        self.save_hyperparameters()
        n = num_train + num_val
        self.X = randn(n, len(w))
        noise = randn(n, 1) * noise
        self.y = self.X @ w.reshape((-1, 1)) + b + noise

    def get_dataloader(self, train: bool) -> data.DataLoader:
        i = slice(0, self.num_train) if train else slice(self.num_train, None)
        return self.get_tensorloader((self.X, self.y), train, i)


class SGD(HyperParameters):
    """Minibatch stochastic gradient descent, written out (2023 edition): ``step()`` does
    ``param -= lr * param.grad`` in place for each parameter."""

    def __init__(self, params: Sequence[Tensor], lr: float) -> None:
        self.save_hyperparameters()

    def step(self) -> None:
        for param in self.params:
            param -= self.lr * param.grad

    def zero_grad(self) -> None:
        for param in self.params:
            if param.grad is not None:
                param.grad.zero_()


class FashionMNIST(DataModule):
    """The Fashion-MNIST data set (2023 edition): ``train`` and ``val`` hold the 60,000 training
    and 10,000 test images, resized to ``resize``; the loaders give batches of ``batch_size``."""

    def __init__(self, batch_size: int = 64, resize: tuple[int, int] = (28, 28)) -> None:
        super().__init__()
        self.save_hyperparameters()
        trans = transforms.Compose([transforms.Resize(resize), transforms.ToTensor()])
        self.train = _vision_datasets.FashionMNIST(root=self.root, train=True, transform=trans,
                                                   download=True)
        self.val = _vision_datasets.FashionMNIST(root=self.root, train=False, transform=trans,
                                                 download=True)

    def text_labels(self, indices: Iterable[Any]) -> list[str]:
        """The text labels of label indices."""
        return get_fashion_mnist_labels(indices)

    def get_dataloader(self, train: bool) -> data.DataLoader:
        dataset = self.train if train else self.val
        return data.DataLoader(dataset, self.batch_size, shuffle=train,
                               num_workers=self.num_workers)

    def visualize(self, batch: Sequence[Tensor], nrows: int = 1, ncols: int = 8,
                  labels: Sequence[str] = ()) -> None:
        X, y = batch
        if not labels:
            labels = self.text_labels(y)
        show_images(X.squeeze(1), nrows, ncols, titles=labels)


class Classifier(Module):
    """The base class of classification models (2023 edition): cross-entropy loss, and
    validation that plots both the loss and the accuracy."""

    def validation_step(self, batch: Sequence[Tensor]) -> None:
        Y_hat = self(*batch[:-1])
        self.plot("loss", self.loss(Y_hat, batch[-1]), train=False)
        self.plot("acc", self.accuracy(Y_hat, batch[-1]), train=False)

    def accuracy(self, Y_hat: Tensor, Y: Tensor, averaged: bool = True) -> Tensor:
        """The fraction of correct predictions (or, not averaged, 1.0 or 0.0 per example)."""
        Y_hat = Y_hat.reshape((-1, Y_hat.shape[-1]))
        preds = Y_hat.argmax(axis=1).type(Y.dtype)
        compare = (preds == Y.reshape(-1)).type(np.float32)
        return compare.mean() if averaged else compare

    def loss(self, Y_hat: Tensor, Y: Tensor, averaged: bool = True) -> Tensor:
        Y_hat = Y_hat.reshape((-1, Y_hat.shape[-1]))
        Y = Y.reshape((-1,))
        return F.cross_entropy(Y_hat, Y, reduction="mean" if averaged else "none")


# =============================================================================================
# Devices, and the small aliases that the book's d2l defines
# =============================================================================================

def cpu() -> backend.device:
    """The CPU device."""
    return backend.device("cpu")


def gpu(i: int = 0) -> backend.device:
    """The ``i``-th GPU (tinygrad_sm uses one: ``i`` must be 0)."""
    return backend.device("cuda", i)


def num_gpus() -> int:
    """How many GPUs tinygrad_sm can use: 1 with CuPy and a GPU, else 0."""
    return 1 if backend.cuda_available() else 0


_num_gpus = num_gpus  # for Trainer.__init__, whose argument num_gpus hides the function


def try_gpu(i: int = 0) -> backend.device:
    """The ``i``-th GPU if there is one, else the CPU."""
    return gpu(i) if _num_gpus() >= i + 1 else cpu()


def try_all_gpus() -> list[backend.device]:
    """All GPUs (here at most one), or ``[cpu()]`` when there is none."""
    return [gpu(i) for i in range(_num_gpus())] or [cpu()]


def numpy(x: Tensor, *args: Any, **kwargs: Any) -> np.ndarray:
    return x.detach().numpy(*args, **kwargs)


def size(x: Tensor, *args: Any, **kwargs: Any) -> int:
    return x.numel(*args, **kwargs)


def reshape(x: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    return x.reshape(*args, **kwargs)


def to(x: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    return x.to(*args, **kwargs)


def reduce_sum(x: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    return x.sum(*args, **kwargs)


def reduce_mean(x: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    return x.mean(*args, **kwargs)


def argmax(x: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    return x.argmax(*args, **kwargs)


def astype(x: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    return x.type(*args, **kwargs)
