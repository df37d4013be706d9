"""LeNet on Fashion-MNIST (models/lenet_fashion.py): the network, a short run on the real data
that must learn, the command line's error conventions, and its checkpoints.

The real-data tests train on a subset for one epoch (seconds), and skip where Fashion-MNIST is
not installed, unless ``TINYGRAD_SM_REQUIRE_DATA`` is set (as in CI): then they fail. The
command-line tests that train use a tiny look-alike data set (checksums off).
"""
import re

import numpy as np
import pytest

import tinygrad_sm as tg
from helpers import one_line_error, real_data_or_skip
from tinygrad_sm import nn, optim
from tinygrad_sm.data import ArrayDataset, DataLoader
from tinygrad_sm.data import fashion_mnist as fm
from tinygrad_sm.data.fashion_mnist import images_to_float
from tinygrad_sm.data.idx import write_idx
from tinygrad_sm.train import Trainer

from models import lenet_fashion

# The short real-data run: one epoch on the first 12,000 training images. An epoch of the job's
# defaults (batch 128, lr 1e-3) on so few images is 94 steps, too few to learn much; 375 steps
# of 32 images with lr 3e-3 cost about as much and reach about 0.8.
SUBSET, BATCH, LR = 12000, 32, 3e-3


@pytest.fixture(scope="module")
def real_data():
    return real_data_or_skip()


@pytest.fixture(scope="module")
def trained(real_data):
    """LeNet after one epoch of Adam on the first ``SUBSET`` training images, and its Trainer."""
    tg.manual_seed(0)
    model, loss_fn = lenet_fashion.build("lenet")
    optimizer = optim.Adam(model.parameters(), lr=LR)
    subset = ArrayDataset(real_data.train_images[:SUBSET], real_data.train_labels[:SUBSET],
                          transform=images_to_float)
    trainer = Trainer(model, loss_fn, optimizer, progress=False, log=None)
    trainer.fit(DataLoader(subset, BATCH, shuffle=True, seed=0), 1)
    return model, trainer


def test_lenet_has_the_layers_and_shapes_of_the_book():
    tg.manual_seed(0)
    model, loss_fn = lenet_fashion.build("lenet")
    shapes = {name: p.shape for name, p in model.named_parameters()}
    assert shapes == {"0.weight": (6, 1, 5, 5), "0.bias": (6,), "3.weight": (16, 6, 5, 5),
                      "3.bias": (16,), "7.weight": (120, 400), "7.bias": (120,),
                      "9.weight": (84, 120), "9.bias": (84,), "11.weight": (10, 84),
                      "11.bias": (10,)}
    assert sum(p.numel() for p in model.parameters()) == 61706
    x = tg.rand(3, 1, 28, 28)
    assert model(x).shape == (3, 10)
    loss_fn(model(x), tg.tensor([0, 4, 9])).backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in model.parameters())
    with pytest.raises(ValueError, match="unknown model 'alexnet': this job has one model, 'lenet'"):
        lenet_fashion.build("alexnet")


def test_lenet_matches_pytorchs_network():
    torch = pytest.importorskip("torch")
    tn = torch.nn
    theirs = tn.Sequential(tn.Conv2d(1, 6, 5, padding=2), tn.ReLU(), tn.MaxPool2d(2, 2),
                           tn.Conv2d(6, 16, 5), tn.ReLU(), tn.MaxPool2d(2, 2), tn.Flatten(),
                           tn.Linear(400, 120), tn.ReLU(), tn.Linear(120, 84), tn.ReLU(),
                           tn.Linear(84, 10))
    ours, _ = lenet_fashion.build("lenet")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).random((4, 1, 28, 28), dtype=np.float32)
    np.testing.assert_allclose(ours(tg.tensor(x)).numpy(),
                               theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-4, atol=1e-5)


def test_lenet_learns_in_one_epoch_on_a_fifth_of_the_real_data(trained, real_data):
    model, trainer = trained
    assert trainer.history[0].train_acc > 0.5
    test = ArrayDataset(real_data.test_images[:2000], real_data.test_labels[:2000],
                        transform=images_to_float)
    accuracy = trainer.evaluate(DataLoader(test, 500))["accuracy"]
    assert accuracy >= 0.75, accuracy


def test_eval_only_reloads_the_checkpoint_and_gets_the_same_accuracy(trained, real_data, tmp_path,
                                                                    capsys):
    model, trainer = trained
    expected = trainer.evaluate(DataLoader(real_data.test_dataset(), 1000))["accuracy"]
    model.save(tmp_path / "lenet.npz")
    code = lenet_fashion.main(["--eval-only", "--checkpoint", str(tmp_path / "lenet.npz"),
                               "--no-plots", "--no-download", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert float(re.search(r"test accuracy ([0-9.]+)", out).group(1)) == pytest.approx(expected, abs=1e-4)


# ---------------------------------------------------------------------- the command line

@pytest.mark.parametrize("argv, names", [
    (["--batch-size", "0"], ["--batch-size", "'0'"]),
    (["--lr", "nan"], ["--lr", "'nan'"]),
    (["--epochs", "two"], ["--epochs", "'two'"]),
    (["--optimizer", "rmsprop"], ["--optimizer", "'rmsprop'"]),
    (["--model", "alexnet"], ["--model", "'alexnet'"]),
    (["--learning-rate", "0.1"], ["--learning-rate"]),
])
def test_bad_arguments_are_one_line_errors(argv, names, capsys):
    assert lenet_fashion.main(argv) == 2
    message = one_line_error(capsys.readouterr().err)
    for name in names:
        assert name in message, message
    assert "lenet_fashion.py --help" in message


def test_missing_data_and_a_missing_checkpoint_are_one_line_errors(tmp_path, capsys):
    assert lenet_fashion.main(["--data-dir", str(tmp_path), "--no-download", "--quiet",
                               "--no-plots"]) == 2
    err = one_line_error(capsys.readouterr().err)  # the data module's two lines, joined
    assert str(tmp_path) in err and "train-images-idx3-ubyte" in err
    missing = tmp_path / "nothing.npz"
    assert lenet_fashion.main(["--eval-only", "--checkpoint", str(missing), "--no-plots"]) == 2
    assert f"no checkpoint at {str(missing)!r}" in one_line_error(capsys.readouterr().err)


def test_a_checkpoint_of_another_model_is_refused_with_the_fix(tmp_path, capsys):
    tg.manual_seed(0)
    nn.Sequential(nn.Flatten(), nn.Linear(784, 10)).save(tmp_path / "softmax.npz")
    assert lenet_fashion.main(["--eval-only", "--checkpoint", str(tmp_path / "softmax.npz"),
                               "--no-plots"]) == 2
    message = one_line_error(capsys.readouterr().err)
    assert "softmax.npz" in message and "missing keys" in message and "'0.weight'" in message


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A tiny Fashion-MNIST look-alike (checksums off) and the arguments of a quick run on it."""
    monkeypatch.setattr(fm, "CHECKSUMS", {})
    rng = np.random.default_rng(0)
    directory = tmp_path / "data"
    directory.mkdir()
    for name, n in ((fm.TRAIN_IMAGES, 64), (fm.TEST_IMAGES, 32)):
        write_idx(directory / f"{name}.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
    for name, n in ((fm.TRAIN_LABELS, 64), (fm.TEST_LABELS, 32)):
        write_idx(directory / f"{name}.gz", (np.arange(n) % 10).astype(np.uint8))
    return ["--data-dir", str(directory), "--no-download", "--quiet", "--epochs", "1",
            "--batch-size", "16"]


def test_training_saves_plots_and_a_checkpoint_that_eval_only_and_resuming_read(tiny, tmp_path, capsys):
    out = tmp_path / "out"
    assert lenet_fashion.main(tiny + ["--out", str(out)]) == 0
    trained = float(re.search(r"test accuracy ([0-9.]+)", capsys.readouterr().out).group(1))
    for name in ("lenet.npz", "lenet.optimizer.npz", "curves.png", "misclassified.png",
                 "confusion.png"):
        assert (out / name).stat().st_size > 0, name
    with np.load(out / "lenet.optimizer.npz") as npz:
        assert int(npz["state.0.step"]) == 4  # 64 examples in batches of 16: Adam's 4 steps

    assert lenet_fashion.main(tiny + ["--out", str(out), "--eval-only", "--no-plots"]) == 0
    evaluated = float(re.search(r"test accuracy ([0-9.]+)", capsys.readouterr().out).group(1))
    assert evaluated == pytest.approx(trained, abs=1e-6)

    checkpoint = out / "lenet.npz"
    assert lenet_fashion.main(tiny + ["--no-plots", "--checkpoint", str(checkpoint)]) == 0
    assert f"resuming from {checkpoint}" in capsys.readouterr().out
    with np.load(out / "lenet.optimizer.npz") as npz:
        assert int(npz["state.0.step"]) == 8  # carried on from the saved state
