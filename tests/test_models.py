"""The book's models end to end: linear regression on synthetic data, softmax regression on the
real Fashion-MNIST, and the main job's command line."""
import os
import re

import numpy as np
import pytest

import tinygrad_sm as tg
from tinygrad_sm.data import load_fashion_mnist, synthetic_data
from tinygrad_sm.data.fashion_mnist import FashionMNISTNotFoundError

from models import linear_regression, softmax_fashion, softmax_regression


def book_data():
    tg.manual_seed(0)
    return synthetic_data(tg.tensor(linear_regression.TRUE_W), linear_regression.TRUE_B, 1000)


@pytest.mark.parametrize("version", ["scratch", "concise"])
def test_linear_regression_recovers_w_and_b(version):
    features, labels = book_data()
    if version == "scratch":
        w, b = linear_regression.train_scratch(features, labels, log=None)
    else:
        net = linear_regression.train_concise(features, labels, log=None)
        w, b = net.weight.detach().T, net.bias.detach()
    w_error = np.abs(w.numpy().ravel() - linear_regression.TRUE_W).max()
    b_error = abs(b.item() - linear_regression.TRUE_B)
    assert w_error < 5e-3 and b_error < 5e-3, (version, w_error, b_error)


def test_linear_regression_script_prints_losses_and_errors(capsys):
    assert linear_regression.main(["--model", "scratch"]) == 0
    out = capsys.readouterr().out
    losses = [float(v) for v in re.findall(r"epoch \d, loss ([0-9.]+)", out)]
    assert len(losses) == 3 and losses[-1] < 1e-3
    assert "error in estimating w" in out and "error in estimating b" in out


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the naive version's overflow
def test_the_scratch_softmax_is_safe_where_the_naive_one_is_not():
    O = tg.tensor([[100.0, 0.0, -50.0], [-120.0, -130.0, -140.0]])
    naive = O.exp() / O.exp().sum(1, keepdims=True)  # the book's: overflows in float32
    assert not np.isfinite(naive.numpy()).all() or np.isnan(naive.numpy()).any()
    probs = softmax_regression.softmax(O).numpy()
    assert np.isfinite(probs).all() and np.allclose(probs.sum(1), 1)
    reference = np.exp(O.numpy().astype(np.float64) - O.numpy().max(1, keepdims=True))
    np.testing.assert_allclose(probs, reference / reference.sum(1, keepdims=True), rtol=1e-6, atol=1e-40)
    # cross-entropy of a confidently wrong prediction is large and finite, not inf
    loss = softmax_regression.cross_entropy(O, tg.tensor([2, 2]))
    assert loss.item() == pytest.approx((150.0 + (20.0 + np.log1p(np.exp(-10) + np.exp(-20)))) / 2, rel=1e-6)


@pytest.mark.parametrize("model", ["scratch", "concise"])
def test_both_softmax_models_have_the_books_shapes_and_init(model):
    tg.manual_seed(0)
    net, loss_fn = softmax_regression.build(model)
    params = dict(net.named_parameters())
    weight = params["W"] if model == "scratch" else params["1.weight"].T
    assert weight.shape == (784, 10)
    assert abs(float(weight._array.std()) - 0.01) < 1e-3
    bias = params["b"] if model == "scratch" else params["1.bias"]
    assert not bias.numpy().any()
    X, y = tg.rand(5, 1, 28, 28), np.array([0, 1, 2, 3, 9])
    loss = loss_fn(net(X), tg.tensor(y))
    loss.backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in net.parameters())
    # the same loss in float64 NumPy, from the same weights
    logits = X.numpy().reshape(5, 784).astype(np.float64) @ weight.numpy().astype(np.float64)
    log_probs = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    assert loss.item() == pytest.approx(-log_probs[np.arange(5), y].mean(), rel=1e-5)


def real_data_or_skip():
    try:
        return load_fashion_mnist(download=False)
    except FashionMNISTNotFoundError as e:
        if os.environ.get("TINYGRAD_SM_REQUIRE_DATA"):
            raise
        pytest.skip(f"Fashion-MNIST is not installed here ({e}); apt-get install dataset-fashion-mnist")


@pytest.mark.slow
def test_the_main_job_with_its_defaults_reaches_the_books_accuracy(tmp_path, capsys):
    real_data_or_skip()
    assert softmax_fashion.main(["--quiet", "--no-download", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    accuracy = float(re.search(r"test accuracy ([0-9.]+)", out).group(1))
    assert accuracy >= 0.82, out
    assert re.search(r"\d+\.\d+ s per epoch", out)
    for name in ("scratch.npz", "curves.png", "misclassified.png", "confusion.png"):
        assert (tmp_path / name).stat().st_size > 0, name

    # --eval-only reloads the checkpoint and gets the same accuracy
    assert softmax_fashion.main(["--eval-only", "--no-plots", "--no-download", "--out", str(tmp_path)]) == 0
    evaluated = float(re.search(r"test accuracy ([0-9.]+)", capsys.readouterr().out).group(1))
    assert evaluated == pytest.approx(accuracy, abs=1e-4)


@pytest.mark.slow
def test_the_concise_model_trains_too(tmp_path, capsys):
    real_data_or_skip()
    args = ["--model", "concise", "--epochs", "2", "--quiet", "--no-plots", "--no-download",
            "--out", str(tmp_path)]
    assert softmax_fashion.main(args) == 0
    accuracy = float(re.search(r"test accuracy ([0-9.]+)", capsys.readouterr().out).group(1))
    assert accuracy > 0.78


def test_the_main_job_explains_missing_data(tmp_path, capsys):
    code = softmax_fashion.main(["--data-dir", str(tmp_path), "--no-download", "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert str(tmp_path) in err and "train-images-idx3-ubyte" in err


def test_eval_only_with_the_wrong_model_names_the_fix(tmp_path, capsys):
    real_data_or_skip()
    tg.manual_seed(0)
    net, _ = softmax_regression.build("scratch")
    net.save(tmp_path / "scratch.npz")
    code = softmax_fashion.main(["--eval-only", "--model", "concise", "--checkpoint",
                                 str(tmp_path / "scratch.npz"), "--no-plots", "--no-download"])
    assert code == 2
    err = capsys.readouterr().err
    assert "1.weight" in err and "--model" in err


def test_bad_arguments_are_refused(capsys):
    with pytest.raises(SystemExit):
        softmax_fashion.main(["--lr", "-1"])
    assert "--lr must be positive" in capsys.readouterr().err


def test_the_main_job_explains_an_unusable_device(monkeypatch, capsys):
    from tinygrad_sm import backend
    monkeypatch.setattr(backend, "_cupy", None)
    monkeypatch.setitem(__import__("sys").modules, "cupy", None)  # as if CuPy were not installed
    assert softmax_fashion.main(["--device", "cuda", "--quiet"]) == 2
    assert "needs CuPy" in capsys.readouterr().err
