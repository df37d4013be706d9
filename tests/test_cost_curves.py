"""benchmarks/cost_curves.py: its machinery on tiny settings (seconds), and that its NumPy floor
computes the same training step as the library."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_sm as tg
from tinygrad_sm import nn, optim

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import cost_curves  # noqa: E402


def tiny_images(n=512, seed=1):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, n).astype(np.int64))


@pytest.mark.parametrize("hidden", [0, 16], ids=["softmax regression", "MLP"])
def test_the_numpy_floor_takes_the_librarys_sgd_step(hidden):
    images, labels = tiny_images()
    work = cost_curves.Work(images, labels, batch=32, hidden=hidden, steps=2, seed=3)
    floor = cost_curves.NumpyLoop(work, seed=0)
    # The library's model with the floor's starting weights.
    layers = [nn.Flatten()]
    linears = [nn.Linear(W.shape[1], W.shape[0]) for W, _, _ in floor.layers]
    layers += [linears[0], nn.ReLU(), linears[1]] if hidden else linears
    model = nn.Sequential(*layers)
    for linear, (W, b, _) in zip(linears, floor.layers):
        linear.weight.data.copy_(tg.tensor(W))
        linear.bias.data.copy_(tg.tensor(b))
    opt = optim.SGD(model.parameters(), lr=cost_curves.LR)
    order = np.random.default_rng(3).permutation(len(labels))[:2 * 32]  # the order the floor draws
    total_loss, total_correct = floor.run()
    losses, correct = [], 0
    for start in (0, 32):
        idx = order[start:start + 32]
        X = tg.tensor(cost_curves.to_float(images[idx])).reshape(32, 1, 28, 28)
        logits = model(X)
        loss = nn.functional.cross_entropy(logits, tg.tensor(labels[idx]))
        correct += int((logits.numpy().argmax(1) == labels[idx]).sum())
        losses.append(loss.item() * 32)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert total_loss == pytest.approx(sum(losses), rel=1e-5)
    assert total_correct == correct
    for linear, (W, b, _) in zip(linears, floor.layers):
        np.testing.assert_allclose(W, linear.weight.numpy(), rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(b, linear.bias.numpy(), rtol=1e-5, atol=1e-7)


def test_a_slice_of_an_epoch_is_scaled_to_the_epoch():
    images, labels = tiny_images(1000)
    work = cost_curves.Work(images, labels, batch=64, hidden=0, steps=4)
    assert (work.batches_per_epoch, work.steps, len(work.order())) == (math.ceil(1000 / 64), 4, 256)
    whole = cost_curves.Work(images, labels, batch=64, hidden=0, steps=None)
    assert whole.steps == whole.batches_per_epoch and sorted(whole.order()) == list(range(1000))
    point = cost_curves.measure(images, labels, 64, 0, False, target=0.001, repeats=2, torch=None,
                                min_steps=3)
    assert point["batches_per_epoch"] == 16 and 3 <= point["steps"] <= 16
    assert set(point["min"]) == {"numpy", "ours"}
    assert all(0 < point["min"][k] <= point["median"][k] for k in point["min"])


def test_quick_machinery_on_tiny_settings_writes_the_table_and_the_plot(tmp_path, capsys):
    args = ["--synthetic", "--examples", "512", "--batch-sizes", "64", "--hidden", "0", "16",
            "--data-scales", "1", "2", "--repeats", "1", "--target", "0.005", "--out", str(tmp_path)]
    try:  # PyTorch is optional: without it the table has no PyTorch columns
        import torch  # noqa: F401
        has_torch = True
    except ImportError:
        has_torch = False
    if not has_torch:
        args.append("--no-torch")
    pytest.importorskip("matplotlib")
    assert cost_curves.main(args) == 0
    out = capsys.readouterr().out
    assert "1 repeats per point" in out and "BLAS threads 1" in out
    table = (tmp_path / "cost_curves.md").read_text().splitlines()
    rows = [line for line in table[2:] if line.startswith("| ")]
    assert [row.split(" | ")[:2] for row in rows] == [
        ["| batch size", "64"], ["| hidden width", "none (softmax)"], ["| hidden width", "16"],
        ["| data-set size", "1x"], ["| data-set size", "2x"]]
    for row in rows:
        cells = row.strip("| ").split(" | ")
        ratio = float(cells[6 if has_torch else 5].strip("*"))
        assert ratio > 0
    assert (tmp_path / "cost_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    whole = [row for row in rows if "data-set size" in row]
    assert "2 / 2" in whole[0] and "4 / 4" in whole[1]  # whole epochs of 512 and 1024, batch 256
