"""The Trainer, the metrics and the plots."""
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_sm as tg
from tinygrad_sm import nn, optim
from tinygrad_sm.data import ArrayDataset, DataLoader
from tinygrad_sm.train import EpochStats, Trainer, TrainingDiverged, confusion_matrix


def blobs(n=240, seed=0):
    """Three well separated Gaussian blobs in 2-D: any working classifier gets them right."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centers = np.array([[4.0, 0.0], [-4.0, 0.0], [0.0, 4.0]], np.float32)
    X = (centers[y] + rng.standard_normal((n, 2))).astype(np.float32)
    return X, y.astype(np.int64)


def make_trainer(lr=0.1, log=None):
    tg.manual_seed(0)
    net = nn.Linear(2, 3)
    return Trainer(net, nn.CrossEntropyLoss(), optim.SGD(net.parameters(), lr=lr),
                   progress=False, log=log)


def test_fit_records_a_history_and_learns():
    X, y = blobs()
    loader = DataLoader(ArrayDataset(X, y), 32, shuffle=True, seed=0)
    lines = []
    trainer = make_trainer(log=lines.append)
    history = trainer.fit(loader, 3, val_loader=DataLoader(ArrayDataset(X, y), 64))
    assert [h.epoch for h in history] == [1, 2, 3]
    assert all(isinstance(h, EpochStats) and h.seconds > 0 for h in history)
    assert history[-1].train_loss < history[0].train_loss
    assert history[-1].val_acc > 0.95
    assert len(lines) == 3 and "epoch   3" in lines[-1] and "val acc" in lines[-1]
    # fit again: the history goes on from epoch 4
    trainer.fit(loader, 1)
    assert trainer.history[-1].epoch == 4 and trainer.history[-1].val_loss is None


def test_evaluate_matches_a_hand_computation():
    X, y = blobs(50)
    trainer = make_trainer()
    result = trainer.evaluate(DataLoader(ArrayDataset(X, y), 16))
    logits = X.astype(np.float64) @ trainer.model.weight._array.T.astype(np.float64) + trainer.model.bias._array
    log_probs = logits - np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1, keepdims=True)) \
        - logits.max(1, keepdims=True)
    assert result["loss"] == pytest.approx(-log_probs[np.arange(50), y].mean(), rel=1e-5)
    assert result["accuracy"] == pytest.approx((logits.argmax(1) == y).mean())
    assert tg.is_grad_enabled()  # evaluate ran under no_grad and restored the mode


def test_predict_returns_host_arrays():
    X, y = blobs(40)
    trainer = make_trainer()
    truth, predicted = trainer.predict(DataLoader(ArrayDataset(X, y), 16))
    assert truth.tolist() == y.tolist() and predicted.shape == (40,)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow that makes the NaN
def test_a_diverging_run_stops_naming_the_epoch_and_the_fix():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 2)).astype(np.float32) * 100
    y = X @ np.array([[2.0], [-3.4]], np.float32)
    net = nn.Linear(2, 1)
    trainer = Trainer(net, nn.MSELoss(), optim.SGD(net.parameters(), lr=10.0),
                      classification=False, progress=False, log=None)
    with pytest.raises(TrainingDiverged, match=r"epoch 1, batch \d+: the loss is (nan|inf).*lower the learning rate"):
        trainer.fit(DataLoader(ArrayDataset(X, y), 10), 5)
    # the step that would have used the NaN loss never ran
    assert np.isfinite(net.weight.numpy()).all() and np.isfinite(net.bias.numpy()).all()


def test_fit_rejects_bad_epochs_and_empty_loaders():
    trainer = make_trainer()
    with pytest.raises(ValueError, match="epochs must be a positive integer, got 0"):
        trainer.fit([], 0)
    with pytest.raises(ValueError, match="yielded no batches"):
        trainer.fit([], 1)


def test_confusion_matrix_counts_pairs():
    counts = confusion_matrix([0, 1, 1, 2], [0, 2, 1, 2], 3)
    assert counts.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]


def test_the_core_imports_neither_tqdm_nor_matplotlib():
    code = ("import sys, numpy as np, tinygrad_sm as tg\n"
            "from tinygrad_sm import nn, optim, train, plot, data\n"
            "net = nn.Linear(2, 1)\n"
            "t = train.Trainer(net, nn.MSELoss(), optim.SGD(net.parameters(), lr=0.1), classification=False, progress=False, log=None)\n"
            "X = np.ones((4, 2), np.float32); t.fit(data.DataLoader(data.ArrayDataset(X, X[:, :1]), 2), 1)\n"
            "print('tqdm' in sys.modules, 'matplotlib' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_plots_are_written_as_png(tmp_path):
    pytest.importorskip("matplotlib")
    from tinygrad_sm import plot
    history = [EpochStats(1, 0.9, 0.7, 0.8, 0.72, 1.0), EpochStats(2, 0.6, 0.8, 0.65, 0.79, 1.0)]
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (30, 28, 28), dtype=np.uint8)
    y_true, y_pred = rng.integers(0, 10, 30), rng.integers(0, 10, 30)
    paths = [plot.plot_history(history, tmp_path / "curves.png"),
             plot.plot_misclassified(images, y_true, y_pred, tmp_path / "sub" / "wrong.png",
                                     [str(i) for i in range(10)]),
             plot.plot_confusion_matrix(confusion_matrix(y_true, y_pred, 10), tmp_path / "cm.png")]
    for path in paths:
        with open(path, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_a_missing_matplotlib_gives_a_clear_error(monkeypatch, tmp_path):
    from tinygrad_sm import plot
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    with pytest.raises(ImportError, match="plots need matplotlib.*pip install matplotlib"):
        plot.plot_history([EpochStats(1, 1.0, None, None, None, 1.0)], tmp_path / "c.png")
