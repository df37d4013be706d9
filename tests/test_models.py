"""The book's models end to end: linear regression on synthetic data, softmax regression on the
real Fashion-MNIST, and the main scripts' command lines: bad inputs, checkpoints, signals.

The command-line tests train on a tiny Fashion-MNIST look-alike (checksums off), so they take
well under a second each; only the tests marked slow use the real data set.
"""
import gzip
import http.server
import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

import tinygrad_sm as tg
from helpers import one_line_error, real_data_or_skip
from tinygrad_sm import serialization
from tinygrad_sm.data import fashion_mnist as fm
from tinygrad_sm.data import synthetic_data
from tinygrad_sm.data.idx import write_idx

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


def test_the_main_job_explains_an_unusable_device(monkeypatch, capsys):
    from tinygrad_sm import backend
    monkeypatch.setattr(backend, "_cupy", None)
    monkeypatch.setitem(__import__("sys").modules, "cupy", None)  # as if CuPy were not installed
    assert softmax_fashion.main(["--device", "cuda", "--quiet"]) == 2
    assert "needs CuPy" in capsys.readouterr().err


# ---------------------------------------------------------------------- the command lines

ROOT = Path(__file__).resolve().parents[1]


def write_tiny_set(directory: Path, n_train=64, n_test=32) -> Path:
    rng = np.random.default_rng(0)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {fm.TRAIN_IMAGES: rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              fm.TRAIN_LABELS: (np.arange(n_train) % 10).astype(np.uint8),
              fm.TEST_IMAGES: rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              fm.TEST_LABELS: (np.arange(n_test) % 10).astype(np.uint8)}
    for name, array in arrays.items():
        write_idx(directory / f"{name}.gz", array)
    return directory


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A tiny data set (checksums off), and the common arguments of a quick run on it."""
    monkeypatch.setattr(fm, "CHECKSUMS", {})
    data = write_tiny_set(tmp_path / "data")
    return ["--data-dir", str(data), "--no-download", "--quiet", "--no-plots", "--epochs", "1",
            "--batch-size", "16"]


def step_count(optimizer_file: Path) -> int:
    with np.load(optimizer_file) as npz:
        return int(npz["state.0.step"])


def test_checkpoint_resumes_with_its_optimizer_state_and_is_updated(tmp_path, tiny, capsys):
    checkpoint, state = tmp_path / "run" / "ck.npz", tmp_path / "run" / "ck.optimizer.npz"
    checkpoint.parent.mkdir()
    args = tiny + ["--optimizer", "adam", "--checkpoint", str(checkpoint), "--out", str(tmp_path / "out")]
    assert softmax_fashion.main(args) == 0
    assert "resuming" not in capsys.readouterr().out
    trained = dict(np.load(checkpoint))
    assert step_count(state) == 64 // 16
    # With a learning rate of 1e-12 an Adam step moves a weight by about 1e-12, so what comes out
    # is what was loaded, give or take 4 such steps; a fresh start would be 0.01 away.
    assert softmax_fashion.main(args + ["--lr", "1e-12"]) == 0
    assert f"resuming from {checkpoint}" in capsys.readouterr().out
    for name, value in np.load(checkpoint).items():
        assert np.abs(value - trained[name]).max() < 1e-10, name
    assert step_count(state) == 2 * 64 // 16  # the optimizer went on from its saved state
    with np.load(state) as npz:
        assert npz["hyperparameters.lr"] == 1e-12  # --lr given explicitly replaced the saved one
    assert sorted(os.listdir(checkpoint.parent)) == ["ck.npz", "ck.optimizer.npz"]


def test_resuming_with_another_optimizer_is_refused_and_the_checkpoint_kept(tmp_path, tiny, capsys):
    checkpoint = tmp_path / "ck.npz"
    assert softmax_fashion.main(tiny + ["--checkpoint", str(checkpoint)]) == 0
    before = checkpoint.read_bytes()
    capsys.readouterr()
    assert softmax_fashion.main(tiny + ["--checkpoint", str(checkpoint), "--optimizer", "adam"]) == 2
    message = one_line_error(capsys.readouterr().err)
    assert "ck.optimizer.npz" in message and "--optimizer" in message
    assert checkpoint.read_bytes() == before


@pytest.mark.parametrize("damage", ["garbage", "negative step"])
def test_a_bad_optimizer_state_is_a_one_line_error_when_resuming(tmp_path, tiny, capsys, damage):
    checkpoint, state = tmp_path / "ck.npz", tmp_path / "ck.optimizer.npz"
    assert softmax_fashion.main(tiny + ["--optimizer", "adam", "--checkpoint", str(checkpoint)]) == 0
    if damage == "garbage":
        state.write_bytes(b"garbage" * 100)
    else:
        arrays = dict(np.load(state))
        arrays["state.0.step"] = np.array(-1)
        np.savez(state, **arrays)
    before = checkpoint.read_bytes()
    capsys.readouterr()
    assert softmax_fashion.main(tiny + ["--optimizer", "adam", "--checkpoint", str(checkpoint)]) == 2
    assert str(state) in one_line_error(capsys.readouterr().err)
    assert checkpoint.read_bytes() == before


def test_a_weights_only_checkpoint_resumes_with_a_warning(tmp_path, tiny, capsys):
    checkpoint = tmp_path / "weights.npz"
    tg.manual_seed(3)
    softmax_regression.build("scratch")[0].save(checkpoint)
    assert softmax_fashion.main(tiny + ["--checkpoint", str(checkpoint)]) == 0
    captured = capsys.readouterr()
    assert "warning: no optimizer state at" in captured.err and "resuming from" in captured.out
    assert (tmp_path / "weights.optimizer.npz").exists()


def test_training_without_checkpoint_says_it_replaces_the_last_one(tmp_path, tiny, capsys):
    out = tmp_path / "out"
    assert softmax_fashion.main(tiny + ["--out", str(out)]) == 0
    assert "replaced" not in capsys.readouterr().out
    assert softmax_fashion.main(tiny + ["--out", str(out)]) == 0
    assert f"note: {out / 'scratch.npz'} is replaced when training ends" in capsys.readouterr().out
    assert sorted(os.listdir(out)) == ["scratch.npz", "scratch.optimizer.npz"]


def no_data_please(*args, **kwargs):
    raise AssertionError("the data was loaded before the outputs were checked")


@pytest.mark.parametrize("case", ["out under a file", "out is a file", "checkpoint in a missing folder",
                                  "checkpoint is a folder"])
def test_unusable_outputs_are_refused_before_any_work(tmp_path, tiny, monkeypatch, capsys, case):
    (tmp_path / "file").write_text("x")
    (tmp_path / "folder").mkdir()
    extra = {"out under a file": ["--out", str(tmp_path / "file" / "out")],
             "out is a file": ["--out", str(tmp_path / "file")],
             "checkpoint in a missing folder": ["--checkpoint", str(tmp_path / "missing" / "ck.npz")],
             "checkpoint is a folder": ["--checkpoint", str(tmp_path / "folder")]}[case]
    monkeypatch.setattr(softmax_fashion, "load_fashion_mnist", no_data_please)
    assert softmax_fashion.main(tiny + ["--out", str(tmp_path / "out")] + extra) == 2
    message = one_line_error(capsys.readouterr().err)
    assert extra[1] in message or str(Path(extra[1]).parent) in message
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_out_is_refused_before_any_work(tmp_path, tiny, monkeypatch, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    monkeypatch.setattr(softmax_fashion, "load_fashion_mnist", no_data_please)
    assert softmax_fashion.main(tiny + ["--out", str(locked / "out")]) == 2
    assert "is not writable" in one_line_error(capsys.readouterr().err)


def test_a_failed_save_keeps_the_trained_weights_elsewhere(tmp_path, tiny, monkeypatch, capsys):
    out = tmp_path / "out"
    real_commit = serialization._PendingFile.commit

    def disk_full_in_out(self):
        if self.path.startswith(str(out)):
            raise OSError(28, "No space left on device")
        real_commit(self)

    monkeypatch.setattr(serialization._PendingFile, "commit", disk_full_in_out)
    assert softmax_fashion.main(tiny + ["--out", str(out)]) == 1
    message = one_line_error(capsys.readouterr().err)
    fallback = re.search(r"saved it to (\S+) instead", message).group(1)
    try:
        assert "No space left on device" in message
        softmax_regression.build("scratch")[0].load(fallback)
    finally:
        for path in (fallback, softmax_fashion.optimizer_state_path(fallback)):
            if os.path.exists(path):
                os.unlink(path)
    assert os.listdir(out) == []  # no temporary file left behind either


# --- every bad input: one line, exit status 2

@pytest.mark.parametrize("argv", [
    ["--seed", "-1"], ["--seed", "1.5"], ["--epochs", "0"], ["--epochs", "x"], ["--lr", "-1"],
    ["--lr", "0"], ["--lr", "nan"], ["--lr", "inf"], ["--batch-size", "0"], ["--model", "mlp"],
    ["--device", "tpu"], ["--optimizer", "rmsprop"], ["--out", ""], ["--checkpoint", ""],
    ["--data-dir", ""], ["--frobnicate"], ["extra"], ["--epochs"],
], ids=lambda argv: " ".join(argv) or "empty")
def test_bad_arguments_are_one_line_errors(argv, capsys):
    assert softmax_fashion.main(argv) == 2
    message = one_line_error(capsys.readouterr().err)
    assert argv[0] in message or "unrecognized arguments" in message


@pytest.mark.parametrize("argv", [
    ["--seed", "-1"], ["--epochs", "0"], ["--lr", "nan"], ["--batch-size", "-3"],
    ["--num-examples", "0"], ["--model", "mlp"], ["--device", "tpu"], ["--frobnicate"],
], ids=" ".join)
def test_linear_regression_bad_arguments_are_one_line_errors(argv, capsys):
    assert linear_regression.main(argv) == 2
    message = one_line_error(capsys.readouterr().err)
    assert argv[0] in message or "unrecognized arguments" in message


def test_an_unusable_device_variable_is_a_one_line_error(monkeypatch, capsys):
    monkeypatch.setenv("TINYGRAD_SM_DEVICE", "tpu")
    assert softmax_fashion.main(["--no-plots", "--eval-only"]) == 2
    assert "tpu" in one_line_error(capsys.readouterr().err)
    assert linear_regression.main([]) == 2
    assert "tpu" in one_line_error(capsys.readouterr().err)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow on the way to divergence
@pytest.mark.parametrize("model", ["scratch", "concise"])
def test_linear_regression_that_diverges_is_a_one_line_error(capsys, model):
    assert linear_regression.main(["--model", model, "--lr", "10"]) == 1
    assert "diverged" in one_line_error(capsys.readouterr().err)


def npy_member(descr, shape, data=b"", version=(1, 0), pad_to=0):
    header = f"{{'descr': {descr!r}, 'fortran_order': False, 'shape': {shape!r}, }}".encode("latin1")
    header = header.ljust(max(pad_to, len(header) + 1) - 1) + b"\n"
    size = len(header).to_bytes(2 if version == (1, 0) else 4, "little")
    return b"\x93NUMPY" + bytes(version) + size + header + data


def scratch_members(**replace):
    members = {}
    tg.manual_seed(0)
    for name, value in softmax_regression.build("scratch")[0].state_dict().items():
        buffer = io.BytesIO()
        np.lib.format.write_array(buffer, value)
        members[f"{name}.npy"] = buffer.getvalue()
    members.update(replace)
    return members


def complex_checkpoint(path):
    np.savez(path, W=np.zeros((784, 10), complex), b=np.zeros(10, complex))


def zip_checkpoint(**replace):
    def write(path):
        with zipfile.ZipFile(path, "w") as zf:
            for name, data in scratch_members(**replace).items():
                zf.writestr(name, data)
    return write


BAD_CHECKPOINTS = {
    "complex dtype": complex_checkpoint,
    "giant header": zip_checkpoint(**{"W.npy": npy_member("<f4", (784, 10), bytes(31360), (2, 0), 100_000)}),
    "header declaring 4 GiB": zip_checkpoint(**{"W.npy": b"\x93NUMPY\x02\x00\xff\xff\xff\xff{"}),
    "2**38 floats in 500 bytes": zip_checkpoint(**{"W.npy": npy_member("<f4", (524288, 524288))}),
    "pickled objects": lambda path: np.savez(path, W=np.array([None] * 7840, dtype=object).reshape(784, 10),
                                             b=np.zeros(10)),
    "NaN weights": lambda path: np.savez(path, W=np.full((784, 10), np.nan, np.float32), b=np.zeros(10)),
    "wrong shape": lambda path: np.savez(path, W=np.zeros((10, 784)), b=np.zeros(10)),
    "another model's names": lambda path: np.savez(path, **{"1.weight": np.zeros((10, 784)), "1.bias": np.zeros(10)}),
    "an .npy file": lambda path: path.write_bytes(npy_member("<f4", (3,), bytes(12))),
    "empty": lambda path: path.write_bytes(b""),
    "garbage": lambda path: path.write_bytes(b"not a checkpoint" * 100),
    "truncated": lambda path: (zip_checkpoint()(path), path.write_bytes(path.read_bytes()[:5000])),
    "a folder": lambda path: path.mkdir(),
    "missing": lambda path: None,
}


@pytest.mark.parametrize("fault", list(BAD_CHECKPOINTS))
def test_every_bad_eval_only_checkpoint_is_a_one_line_error(tmp_path, monkeypatch, capsys, fault):
    path = tmp_path / "ck.npz"
    BAD_CHECKPOINTS[fault](path)
    monkeypatch.setattr(softmax_fashion, "load_fashion_mnist", no_data_please)  # found before the data
    assert softmax_fashion.main(["--eval-only", "--no-plots", "--checkpoint", str(path)]) == 2
    assert str(path) in one_line_error(capsys.readouterr().err)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may read anything")
def test_an_unreadable_checkpoint_is_a_one_line_error(tmp_path, capsys):
    path = tmp_path / "ck.npz"
    zip_checkpoint()(path)
    path.chmod(0)
    assert softmax_fashion.main(["--eval-only", "--no-plots", "--checkpoint", str(path)]) == 2
    assert "Permission denied" in one_line_error(capsys.readouterr().err)


def bomb(path):
    import zlib
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    header = b"\x00\x00\x08\x03" + np.array([64, 28, 28], dtype=">u4").tobytes()
    parts = [compressor.compress(header)] + [compressor.compress(bytes(1 << 20)) for _ in range(64)]
    path.write_bytes(b"".join(parts) + compressor.flush())


@pytest.mark.parametrize("fault", ["truncated", "gzip bomb", "labels out of range", "html page"])
def test_bad_data_files_are_one_line_errors(tmp_path, tiny, capsys, fault):
    data = Path(tiny[1])
    images = data / f"{fm.TRAIN_IMAGES}.gz"
    if fault == "truncated":
        images.write_bytes(images.read_bytes()[:-50])
    elif fault == "gzip bomb":
        bomb(images)
    elif fault == "labels out of range":
        write_idx(data / f"{fm.TEST_LABELS}.gz", np.full(32, 12, np.uint8))
    else:
        images.write_text("<html>Please log in</html>")
    assert softmax_fashion.main(tiny + ["--out", str(tmp_path / "out")]) == 2
    assert str(data) in one_line_error(capsys.readouterr().err)
    assert not (tmp_path / "out").exists()


def test_a_bad_download_url_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    monkeypatch.setattr(fm, "SYSTEM_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("FASHION_MNIST_URL", "ftp://mirror.example/fashion/")
    assert softmax_fashion.main(["--no-plots", "--quiet", "--out", str(tmp_path / "out")]) == 2
    assert "ftp://mirror.example/fashion/" in one_line_error(capsys.readouterr().err)


# --- signals: SIGTERM is handled like Ctrl-C

def run_script(code: str, env=None, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ, **(env or {})), **kwargs)


def test_sigterm_during_a_save_cleans_up_and_ends_by_the_signal(tmp_path, tiny):
    checkpoint = tmp_path / "ck.npz"
    assert softmax_fashion.main(tiny + ["--checkpoint", str(checkpoint)]) == 0
    before = {name: (tmp_path / name).read_bytes() for name in ("ck.npz", "ck.optimizer.npz")}
    # The child resumes from the checkpoint and receives SIGTERM in the middle of writing it.
    code = (
        "import os, runpy, signal, sys\n"
        "import numpy as np\n"
        "from tinygrad_sm.data import fashion_mnist as fm\n"
        "fm.CHECKSUMS = {}\n"
        "real_write = np.lib.format.write_array\n"
        "def write_then_terminate(f, array, **kwargs):\n"
        "    f.write(b'partial' * 1000)\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    real_write(f, array, **kwargs)\n"
        "np.lib.format.write_array = write_then_terminate\n"
        f"sys.argv = ['softmax_fashion.py'] + {tiny + ['--checkpoint', str(checkpoint)]!r}\n"
        "runpy.run_path('models/softmax_fashion.py', run_name='__main__')\n"
    )
    child = run_script(code)
    out, err = child.communicate(timeout=120)
    assert child.returncode == -signal.SIGTERM, err
    assert err.strip().endswith("interrupted by SIGTERM"), err
    assert "Traceback" not in err
    assert {name: (tmp_path / name).read_bytes() for name in before} == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == sorted(before)


def test_the_next_run_removes_what_a_killed_save_left(tmp_path, tiny):
    checkpoint = tmp_path / "ck.npz"
    assert softmax_fashion.main(tiny + ["--checkpoint", str(checkpoint)]) == 0
    dead = subprocess.Popen([sys.executable, "-c", "pass"])  # a process id that is gone now
    dead.wait()
    left = [tmp_path / f".ck.npz.{dead.pid}.0123abcd.tmp", tmp_path / f".ck.optimizer.npz.{dead.pid}.0123abcd.tmp"]
    for path in left:
        path.write_bytes(b"partial")
    # Even a run that only evaluates (and so saves nothing) clears them.
    assert softmax_fashion.main(tiny + ["--eval-only", "--checkpoint", str(checkpoint)]) == 0
    assert not any(path.exists() for path in left)


class Stalling(http.server.BaseHTTPRequestHandler):
    """Sends the first 1000 bytes of a gzip file, then waits until the test is over (until its
    subclass's ``released`` is set)."""
    released: threading.Event
    body = gzip.compress(np.random.default_rng(0).bytes(100_000))

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body[:1000])
        self.wfile.flush()
        self.released.wait(60)

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_during_a_download_leaves_no_temporary_file(tmp_path, signum):
    handler = type("StallingHere", (Stalling,), {"released": threading.Event()})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True).start()
    cache = tmp_path / "xdg" / "tinygrad_sm" / "fashion-mnist"
    code = (
        "import runpy, sys\n"
        "from tinygrad_sm.data import fashion_mnist as fm\n"
        f"fm.SYSTEM_DIR = {str(tmp_path / 'none')!r}\n"
        f"sys.argv = ['softmax_fashion.py', '--quiet', '--no-plots', '--out', {str(tmp_path / 'out')!r}]\n"
        "runpy.run_path('models/softmax_fashion.py', run_name='__main__')\n"
    )
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg"), "FASHION_MNIST_DIR": "",
           "FASHION_MNIST_URL": f"http://127.0.0.1:{httpd.server_address[1]}/"}
    child = run_script(code, env=env)
    try:
        deadline = time.monotonic() + 60
        while not (cache.exists() and any(p.name.endswith(".tmp") for p in cache.iterdir())):
            assert child.poll() is None and time.monotonic() < deadline, child.communicate()
            time.sleep(0.02)
        time.sleep(0.1)  # let it block in the read of the stalled body
        child.send_signal(signum)
        out, err = child.communicate(timeout=60)
    finally:
        handler.released.set()
        httpd.shutdown()
        httpd.server_close()
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signum, err
    assert err.strip().endswith(f"interrupted by {signal.Signals(signum).name}"), err
    assert list(cache.iterdir()) == []


# ---------------------------------------------------------------------- the MLP job

from models import fashion_job, mlp_fashion  # noqa: E402


def test_the_mlp_has_the_books_layers_and_pytorchs_initialisation():
    tg.manual_seed(0)
    net, loss_fn = mlp_fashion.build()
    assert [type(m).__name__ for m in net] == ["Flatten", "Linear", "ReLU", "Linear"]
    assert [(name, p.shape) for name, p in net.named_parameters()] == [
        ("1.weight", (256, 784)), ("1.bias", (256,)), ("3.weight", (10, 256)), ("3.bias", (10,))]
    first = net[1].weight.numpy()
    assert np.abs(first).max() <= 1 / np.sqrt(784) and first.std() > 0.5 / np.sqrt(3 * 784)
    X, y = tg.rand(5, 1, 28, 28), tg.tensor([0, 1, 2, 3, 9])
    loss = loss_fn(net(X), y)
    loss.backward()
    assert net(X).shape == (5, 10) and all(p.grad is not None for p in net.parameters())
    # the same numbers by hand, in float64
    W1, b1, W2, b2 = (p.numpy().astype(np.float64) for p in net.parameters())
    hidden = np.maximum(X.numpy().reshape(5, 784) @ W1.T + b1, 0)
    logits = hidden @ W2.T + b2
    log_probs = logits - np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1, keepdims=True)) \
        - logits.max(1, keepdims=True)
    assert loss.item() == pytest.approx(-log_probs[np.arange(5), y.numpy()].mean(), rel=1e-5)


def test_the_mlp_defaults_are_the_sweeps_and_shown_in_help(capsys):
    args = mlp_fashion.parse_args([])
    assert (args.optimizer, args.lr, args.batch_size, args.model, args.epochs) == (
        mlp_fashion.DEFAULT_OPTIMIZER, None, mlp_fashion.DEFAULT_BATCH_SIZE, "mlp", 10)
    assert args.out == os.path.join("runs", "mlp_fashion")
    with pytest.raises(SystemExit):
        mlp_fashion.parse_args(["--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert f"{mlp_fashion.DEFAULT_LR} for {mlp_fashion.DEFAULT_OPTIMIZER}" in shown
    assert f"default {mlp_fashion.DEFAULT_OPTIMIZER}" in shown
    # the main job keeps the book's
    assert (softmax_fashion.parse_args([]).optimizer, softmax_fashion.JOB.default_lrs["sgd"]) == ("sgd", 0.1)


@pytest.mark.slow
def test_the_mlp_job_learns_in_one_epoch_on_the_real_data(tmp_path):
    real_data_or_skip()
    # One BLAS thread: on a busy 2-CPU machine two threads wait on each other (docs/benchmarks.md).
    done = subprocess.run([sys.executable, "models/mlp_fashion.py", "--epochs", "1", "--quiet",
                           "--no-download", "--out", str(tmp_path)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    assert done.returncode == 0, done.stderr
    accuracy = float(re.search(r"test accuracy ([0-9.]+)", done.stdout).group(1))
    assert accuracy >= 0.80, done.stdout
    for name in ("mlp.npz", "mlp.optimizer.npz", "curves.png", "misclassified.png", "confusion.png"):
        assert (tmp_path / name).stat().st_size > 0, name


def test_the_mlp_job_resumes_evaluates_and_keeps_its_optimizer_state(tmp_path, tiny, capsys):
    checkpoint = tmp_path / "mlp.npz"
    args = tiny + ["--checkpoint", str(checkpoint)]
    assert mlp_fashion.main(args) == 0
    assert step_count(tmp_path / "mlp.optimizer.npz") == 64 // 16  # Adam, the default
    assert mlp_fashion.main(args) == 0
    assert f"resuming from {checkpoint}" in capsys.readouterr().out
    assert step_count(tmp_path / "mlp.optimizer.npz") == 2 * 64 // 16
    assert mlp_fashion.main(tiny + ["--eval-only", "--checkpoint", str(checkpoint)]) == 0
    assert re.search(r"test accuracy [0-9.]+ +\(" + re.escape(str(checkpoint)), capsys.readouterr().out)
    # a softmax checkpoint is not an MLP's: one line, naming the file and the fix (there is no
    # other --model to pass)
    softmax_regression.build("scratch")[0].save(tmp_path / "softmax.npz")
    assert mlp_fashion.main(tiny + ["--eval-only", "--checkpoint", str(tmp_path / "softmax.npz")]) == 2
    message = one_line_error(capsys.readouterr().err)
    assert str(tmp_path / "softmax.npz") in message and "a checkpoint that mlp_fashion.py saved" in message


def test_each_optimizer_starts_from_its_own_learning_rate(tmp_path, tiny, capsys):
    loud = [a for a in tiny if a != "--quiet"] + ["--no-plots", "--out", str(tmp_path)]
    assert mlp_fashion.main(loud + ["--optimizer", "sgd"]) == 0
    assert "sgd lr 0.1" in capsys.readouterr().out
    assert mlp_fashion.main(loud) == 0
    assert f"adam lr {mlp_fashion.DEFAULT_LR}" in capsys.readouterr().out
    assert mlp_fashion.main(loud + ["--optimizer", "sgd", "--lr", "0.5"]) == 0
    assert "sgd lr 0.5" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [
    ["--model", "scratch"], ["--lr", "0"], ["--batch-size", "0"], ["--optimizer", "rmsprop"],
    ["--epochs", "x"], ["--out", ""], ["--device", "tpu"], ["--frobnicate"],
], ids=" ".join)
def test_mlp_bad_arguments_are_one_line_errors(argv, capsys):
    assert mlp_fashion.main(argv) == 2
    message = one_line_error(capsys.readouterr().err)
    assert argv[0] in message or "unrecognized arguments" in message


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_diverging_mlp_run_is_a_one_line_error_and_saves_nothing(tmp_path, tiny, capsys):
    assert mlp_fashion.main(tiny + ["--optimizer", "sgd", "--lr", "1e30", "--out", str(tmp_path)]) == 1
    message = one_line_error(capsys.readouterr().err)
    assert message.startswith("training diverged in epoch 1, batch ") and "lower the learning rate" in message
    assert not (tmp_path / "mlp.npz").exists()


def test_both_jobs_share_one_program():
    for job in (softmax_fashion, mlp_fashion):
        assert isinstance(job.JOB, fashion_job.Job) and job.main.__module__ == job.__name__
    assert softmax_fashion.optimizer_state_path is fashion_job.optimizer_state_path
