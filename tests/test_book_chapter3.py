"""The book's own programs, run as they are printed with only their import lines changed.

tests/book/ holds the PyTorch code of *Dive into Deep Learning*'s linear networks chapter: the
older edition's sections 3.1, 3.2, 3.3, 3.5, 3.6 and 3.7, and the 2023 edition's sections 3.2,
3.3, 3.4 and 4.4. Each is run here as a script would run it (in a fresh folder, so that the book's
``root="../data"`` finds nothing and the data comes from the usual places), and its outcome is
checked: the weights it learns, the accuracy it reaches, the shapes the book shows.

The programs that read Fashion-MNIST skip where it is not installed, and fail instead when
TINYGRAD_SM_REQUIRE_DATA is set (as in CI).
"""
import random
import re
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import tinygrad_sm as tg
from helpers import real_data_or_skip
from tinygrad_sm import d2l

BOOK = Path(__file__).parent / "book"


@pytest.fixture
def fashion():
    real_data_or_skip(load=False)


@pytest.fixture
def run_book(tmp_path, monkeypatch):
    """Run a program of tests/book in a fresh folder; return its variables, the seconds it
    took and the folder its figures went to. Classes it changes in d2l (the 2023 edition adds
    methods to d2l.Trainer) are put back afterwards."""
    figures = tmp_path / "figures"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(d2l.FIGURES_ENV, str(figures))
    classes = [value for value in vars(d2l).values()
               if isinstance(value, type) and value.__module__ == d2l.__name__]
    saved = {cls: dict(vars(cls)) for cls in classes}

    def run(name):
        tg.manual_seed(0)
        random.seed(0)
        path = BOOK / name
        namespace = {"__name__": "__main__", "__file__": str(path)}
        start = time.perf_counter()
        exec(compile(path.read_text(), str(path), "exec"), namespace)
        seconds = time.perf_counter() - start
        d2l.save_figures()  # what a script writes when it ends
        return namespace, seconds, figures

    yield run
    for cls, attributes in saved.items():
        for name in set(vars(cls)) - set(attributes):
            delattr(cls, name)
        for name, value in attributes.items():
            if vars(cls).get(name) is not value and name not in ("__dict__", "__weakref__"):
                setattr(cls, name, value)
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")


def figure_names(folder):
    return sorted(p.name for p in folder.glob("*.png"))


def test_3_1_linear_regression(run_book):
    ns, seconds, figures = run_book("older_3_1_linear_regression.py")
    assert ns["c"].tolist() == [2.0] * 10000 and ns["d"].tolist() == [2.0] * 10000
    assert len(ns["timer"].times) == 2
    assert figure_names(figures) == ["d2l-001-plot.png"]


def test_3_2_linear_regression_from_scratch(run_book, capsys):
    ns, seconds, figures = run_book("older_3_2_linear_regression_scratch.py")
    w_error = np.abs(ns["true_w"].numpy() - ns["w"].detach().numpy().reshape(-1)).max()
    b_error = abs(ns["true_b"] - ns["b"].item())
    assert w_error < 5e-3 and b_error < 5e-3, (w_error, b_error)
    out = capsys.readouterr().out
    losses = [float(v) for v in re.findall(r"epoch \d, loss ([0-9.]+)", out)]
    assert len(losses) == 3 and losses[-1] < 1e-3
    assert "error in estimating w" in out and "error in estimating b" in out
    assert figure_names(figures) == ["d2l-001-figure.png"]  # the scatter plot


def test_3_3_linear_regression_concise(run_book, capsys):
    ns, seconds, _ = run_book("older_3_3_linear_regression_concise.py")
    w_error = np.abs(ns["true_w"].numpy() - ns["w"].numpy().reshape(-1)).max()
    b_error = abs(ns["true_b"] - ns["b"].item())
    assert w_error < 5e-3 and b_error < 5e-3, (w_error, b_error)
    X, y = next(iter(ns["data_iter"]))
    assert X.shape == (10, 2) and y.shape == (10, 1)
    losses = [float(v) for v in re.findall(r"epoch \d, loss ([0-9.]+)", capsys.readouterr().out)]
    assert len(losses) == 3 and losses[-1] < 1e-3


def test_3_5_the_image_classification_dataset(fashion, run_book, capsys):
    ns, seconds, figures = run_book("older_3_5_image_classification_dataset.py")
    assert (len(ns["mnist_train"]), len(ns["mnist_test"])) == (60000, 10000)
    assert ns["mnist_train"][0][0].shape == (1, 28, 28)
    X, y = ns["X"], ns["y"]  # the first batch of load_data_fashion_mnist(32, resize=64)
    assert X.shape == (32, 1, 64, 64) and X.dtype == np.float32
    assert y.shape == (32,) and y.dtype == np.int64
    assert "(32, 1, 64, 64) float32 (32,) int64" in capsys.readouterr().out
    assert ns["timer"].times[0] < 5  # one pass over the 60,000 training images
    assert figure_names(figures) == ["d2l-001-figure.png"]  # the book's 2 x 9 images


def test_3_6_softmax_regression_from_scratch(fashion, run_book):
    ns, seconds, figures = run_book("older_3_6_softmax_regression_scratch.py")
    # train_ch3 ran its 10 epochs and passed the book's own checks; now the test accuracy:
    accuracy = ns["evaluate_accuracy"](ns["net"], ns["test_iter"])
    assert accuracy >= 0.80, accuracy
    print(f"3.6 from scratch: test accuracy {accuracy:.4f} in {seconds:.1f} s")
    assert figure_names(figures) == ["d2l-001-figure.png", "d2l-002-images.png"]


def test_3_7_softmax_regression_concise(fashion, run_book):
    ns, seconds, figures = run_book("older_3_7_softmax_regression_concise.py")
    accuracy = d2l.evaluate_accuracy(ns["net"], ns["test_iter"])
    assert accuracy >= 0.80, accuracy
    print(f"3.7 concise: test accuracy {accuracy:.4f} in {seconds:.1f} s")
    assert figure_names(figures) == ["d2l-001-animator.png"]


def test_2023_3_2_object_oriented_design(run_book, capsys):
    ns, seconds, figures = run_book("ed2023_3_2_object_oriented_design.py")
    out = capsys.readouterr().out
    assert 'Class attribute "b" is 1' in out and "self.a = 1 self.b = 2" in out
    assert "There is no self.c = True" in out
    board = ns["board"]
    assert [len(board.data["sin"]), len(board.data["cos"])] == [50, 10]
    first = board.data["sin"][0]  # each point is the mean of every_n = 2 points
    assert first.x == pytest.approx(0.05) and first.y == pytest.approx((np.sin(0) + np.sin(0.1)) / 2)
    assert figure_names(figures) == ["d2l-001-progress.png"]


def test_2023_3_3_synthetic_regression_data(run_book, capsys):
    ns, seconds, _ = run_book("ed2023_3_3_synthetic_regression_data.py")
    data = ns["data"]
    assert data.X.shape == (2000, 2) and data.y.shape == (2000, 1)
    assert ns["X"].shape == (32, 2) and ns["y"].shape == (32, 1)
    assert len(data.train_dataloader()) == 32 and len(data.val_dataloader()) == 32
    assert capsys.readouterr().out.count("X shape: (32, 2)") == 2


def test_2023_3_4_linear_regression_from_scratch(run_book, capsys):
    ns, seconds, figures = run_book("ed2023_3_4_linear_regression_scratch.py")
    model, data = ns["model"], ns["data"]
    w_error = np.abs(data.w.numpy() - model.w.detach().numpy().reshape(-1))
    b_error = abs(data.b - model.b.item())
    # Three epochs of plain SGD at lr 0.03 leave errors of about 0.1 to 0.2, as the book shows.
    assert w_error.max() < 0.4 and b_error < 0.4, (w_error, b_error)
    val = [p.y for p in model.board.data["val_loss"]]
    assert len(val) == 3 and val[-1] < val[0] / 10
    assert "error in estimating w" in capsys.readouterr().out
    assert figure_names(figures) == ["d2l-001-progress.png"]


def test_2023_4_4_softmax_regression_from_scratch(fashion, run_book):
    ns, seconds, figures = run_book("ed2023_4_4_softmax_regression_scratch.py")
    model, data = ns["model"], ns["data"]
    assert ns["preds"].shape[0] == ns["X"].shape[0] and ns["X"].shape[1:] == (1, 28, 28)
    with tg.no_grad():
        correct = sum(float(model.accuracy(model(X), y, averaged=False).sum())
                      for X, y in data.val_dataloader())
    accuracy = correct / len(data.val)
    assert accuracy >= 0.80, accuracy
    assert model.board.data["val_acc"][-1].y >= 0.80
    print(f"4.4 (2023) from scratch: validation accuracy {accuracy:.4f} in {seconds:.1f} s")
    assert figure_names(figures) == ["d2l-001-progress.png", "d2l-002-images.png"]
