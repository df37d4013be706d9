"""The Trainer, the metrics and the plots."""
import math
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


# ---------------------------------------------------------------------- reads and divergence

HOST_READS = ("item", "numpy", "tolist", "__float__", "__int__", "__bool__", "__format__")


@pytest.fixture
def reads(monkeypatch):
    """Count the Trainer's reads back to the host (``backend.to_host``), and every call of a
    Tensor method that reads values back (which the Trainer must not make)."""
    from tinygrad_sm import backend
    counted = {"to_host": 0, "tensor": []}
    real_to_host = backend.to_host

    def to_host(array):
        counted["to_host"] += 1
        return real_to_host(array)

    monkeypatch.setattr(backend, "to_host", to_host)
    for name in HOST_READS:
        def wrapped(self, *args, _name=name, _real=getattr(tg.Tensor, name), **kwargs):
            counted["tensor"].append(_name)
            return _real(self, *args, **kwargs)
        monkeypatch.setattr(tg.Tensor, name, wrapped)
    return counted


@pytest.mark.parametrize("progress", [False, True], ids=["quiet", "progress bar"])
@pytest.mark.parametrize("n, reads_per_epoch", [(240, 10), (244, 10), (240, 3), (8, 10)])
def test_loss_and_accuracy_are_read_back_a_few_times_an_epoch(reads, progress, n, reads_per_epoch):
    X, y = blobs(n)
    net = nn.Linear(2, 3)
    trainer = Trainer(net, nn.CrossEntropyLoss(), optim.SGD(net.parameters(), lr=0.1),
                      progress=progress, log=None, reads_per_epoch=reads_per_epoch)
    loader = DataLoader(ArrayDataset(X, y), 4, shuffle=True, seed=0)  # 60 or 61 batches, or 2
    history = trainer.fit(loader, 2, val_loader=DataLoader(ArrayDataset(X, y), 64))
    batches = len(loader)
    expected = math.ceil(batches / math.ceil(batches / reads_per_epoch))  # the last may be short
    assert expected <= reads_per_epoch
    assert reads["to_host"] == 2 * (expected + 1)  # + one read per evaluation
    assert reads["tensor"] == []
    # what was read adds up to the same figures as one read per batch would
    reference = Trainer(net, nn.CrossEntropyLoss(), None, progress=False)
    assert history[-1].val_loss == pytest.approx(reference.evaluate(DataLoader(ArrayDataset(X, y), 1))["loss"],
                                                 rel=1e-5)
    assert 0 < history[-1].train_acc <= 1


def test_training_figures_are_the_per_batch_averages(reads):
    X, y = blobs(50)
    net = nn.Linear(2, 3)
    trainer = Trainer(net, nn.CrossEntropyLoss(), optim.SGD(net.parameters(), lr=0.0 + 1e-12),
                      progress=False, log=None)
    stats = trainer.fit(DataLoader(ArrayDataset(X, y), 16), 1)[0]  # batches of 16, 16, 16, 2
    logits = X @ net.weight.numpy().T + net.bias.numpy()  # lr 1e-12: the weights barely move
    shifted = logits - logits.max(1, keepdims=True)
    losses = np.log(np.exp(shifted).sum(1)) - shifted[np.arange(50), y]
    assert stats.train_loss == pytest.approx(losses.mean(), rel=1e-5)
    assert stats.train_acc == pytest.approx((logits.argmax(1) == y).mean())


def diverging_regression(bad_batch=13, size=10, n=200):
    """Regression data whose batch ``bad_batch`` (of ``size``, in order) makes the loss inf."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 2)).astype(np.float32)
    y = X @ np.array([[2.0], [-3.4]], np.float32)
    X[(bad_batch - 1) * size:bad_batch * size] = 1e20  # squared: inf in float32
    return X, y


def regression_trainer(**kwargs):
    tg.manual_seed(0)
    net = nn.Linear(2, 1)
    opt = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    return net, opt, Trainer(net, nn.MSELoss(), opt, classification=False, progress=False,
                             log=None, **kwargs)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow that makes the inf
def test_a_diverging_run_names_the_batch_and_interval_and_restores_the_last_good_state():
    X, y = diverging_regression(bad_batch=13)
    net, opt, trainer = regression_trainer(reads_per_epoch=4)  # reads after batches 5, 10, 15, 20
    with pytest.raises(TrainingDiverged) as info:
        trainer.fit(DataLoader(ArrayDataset(X, y), 10), 3)
    message = str(info.value)
    assert message.startswith("training diverged in epoch 1, batch 13: the loss is inf "
                              "(found between batch 10 and batch 15"), message
    assert "restored to their state after batch 10 of epoch 1" in message
    assert "lower the learning rate" in message and "\n" not in message
    # The model and the optimizer are exactly those of a run that stopped after batch 10.
    ref_net, ref_opt, reference = regression_trainer()
    reference.fit(DataLoader(ArrayDataset(X[:100], y[:100]), 10), 1)
    for p, q in zip(net.parameters(), ref_net.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    for mine, theirs in zip(opt.state, ref_opt.state):
        np.testing.assert_array_equal(mine["momentum_buffer"], theirs["momentum_buffer"])
    assert trainer.history == []
    # and training can go on from there, on good data
    trainer.fit(DataLoader(ArrayDataset(X[:100], y[:100]), 10), 1)
    assert np.isfinite(net.weight.numpy()).all() and np.isfinite(trainer.history[-1].train_loss)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_in_the_first_interval_goes_back_to_the_start_of_fit():
    X, y = diverging_regression(bad_batch=2)
    net, opt, trainer = regression_trainer(reads_per_epoch=4)
    start = [p.numpy().copy() for p in net.parameters()]
    with pytest.raises(TrainingDiverged, match=r"epoch 1, batch 2: .*between batch 0 and batch 5.*"
                                               r"restored to their state at the start of epoch 1"):
        trainer.fit(DataLoader(ArrayDataset(X, y), 10), 1)
    for p, before in zip(net.parameters(), start):
        np.testing.assert_array_equal(p.numpy(), before)
    assert opt.state == [{}, {}]  # as before the first step


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_without_keep_last_good_the_message_says_the_weights_may_be_nan():
    X, y = diverging_regression(bad_batch=3)
    net, _, trainer = regression_trainer(reads_per_epoch=4, keep_last_good=False)
    with pytest.raises(TrainingDiverged, match=r"batch 3: .*the weights are those after batch 5 "
                                               r"and may hold NaN or inf \(keep_last_good=False\)"):
        trainer.fit(DataLoader(ArrayDataset(X, y), 10), 1)
    assert not np.isfinite(net.weight.numpy()).all()  # what the message warns of


def test_bad_reads_per_epoch_and_losses_that_are_not_one_number():
    with pytest.raises(ValueError, match="reads_per_epoch must be a positive integer, got 0"):
        Trainer(nn.Linear(2, 1), nn.MSELoss(), None, reads_per_epoch=0)
    X, y = blobs(8)
    net = nn.Linear(2, 3)
    trainer = Trainer(net, lambda y_hat, y: nn.functional.cross_entropy(y_hat, y, reduction="none"),
                      optim.SGD(net.parameters(), lr=0.1), progress=False, log=None)
    with pytest.raises(ValueError, match=r"must return one number .* shape \(4,\); reduce it with .mean\(\)"):
        trainer.evaluate(DataLoader(ArrayDataset(X, y), 4))  # (fit: backward refuses it first)


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
