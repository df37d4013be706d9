"""Watching the engine: ``trace()``, ``detect_anomaly()``, and a core whose import order does
not matter."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_sm as tg
from tinygrad_sm import debug, nn

HERE = os.path.basename(__file__)
CORE_MODULES = ["function", "autograd", "tensor", "ops", "debug", "gradcheck", "functions",
                "nn", "optim"]


@pytest.mark.parametrize("first", CORE_MODULES)
def test_each_core_module_can_be_imported_first(first):
    """Each module imports what it needs itself: with the package's __init__ kept out of the
    way, importing any one of them first works, and then the rest do."""
    package = os.path.dirname(os.path.dirname(tg.__file__))
    script = (
        "import importlib, sys, types\n"
        f"stub = types.ModuleType('tinygrad_sm'); stub.__path__ = [{tg.__path__[0]!r}]\n"
        "sys.modules['tinygrad_sm'] = stub\n"
        f"order = [{first!r}] + [m for m in {CORE_MODULES!r} if m != {first!r}]\n"
        "mods = {m: importlib.import_module('tinygrad_sm.' + m) for m in order}\n"
        "t = mods['tensor'].tensor([1.0, 2.0], requires_grad=True)\n"
        "(t * t).sum().backward()\n"
        "assert t.grad.tolist() == [2.0, 4.0]\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=package, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr


# ------------------------------------------------------------------ trace()

def test_trace_shows_the_chain_rule_adding_up_three_gradients():
    with tg.trace() as t:
        x = tg.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = ((x + x) * x).sum()
        y.backward()
    ops = [r.op for r in t.records]
    assert ops == ["Sum", "Mul", "Add", "leaf"]
    total, mul, add, leaf = t.records
    assert mul.input_shapes == [(3,), (3,)] and mul.output_shape == (3,)
    assert mul.grad_norm == pytest.approx(np.sqrt(3))
    assert mul.sent == [pytest.approx(np.linalg.norm([1, -2, 3])),
                        pytest.approx(np.linalg.norm([2, -4, 6]))]
    assert leaf.where == "3 gradients arrived, added up"
    assert leaf.grad_norm == pytest.approx(np.linalg.norm([4, -8, 12]))
    assert all(r.where.startswith(f"tests/{HERE}:") or r.where.startswith(HERE)
               for r in t.records[:3]), [r.where for r in t.records]
    table = str(t)
    assert "Mul" in table and "3 gradients arrived" in table and "|grad in|" in table


def test_a_trace_of_backward_alone_does_not_know_where_ops_were_made():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).sum()
    with tg.trace() as t:
        y.backward()
    assert [r.where for r in t.records[:2]] == ["?", "?"]


def test_trace_of_the_softmax_regression_loss():
    tg.manual_seed(0)
    net = nn.Linear(4, 3)
    X = tg.randn(5, 4)
    y = tg.tensor([0, 1, 2, 1, 0])
    with tg.trace() as t:
        loss = nn.functional.cross_entropy(net(X), y)
        loss.backward()
    assert [r.op for r in t.records] == ["CrossEntropy", "LinearFunction", "leaf", "leaf"]
    assert t.records[1].input_shapes == [(5, 4), (3, 4), (3,)]


def test_no_trace_no_records_and_the_flag_is_off_again():
    assert not debug.state.active
    with tg.trace():
        assert debug.state.active
    assert not debug.state.active
    x = tg.tensor([1.0], requires_grad=True)
    (x * 2).backward()
    assert not hasattr((x * 2).grad_fn, "where")  # nothing noted outside a block


# ------------------------------------------------------------------ detect_anomaly()

def test_anomaly_in_the_forward_pass_names_the_op_and_the_line():
    x = tg.tensor([1.0, 0.0], requires_grad=True)
    with tg.detect_anomaly():
        with pytest.raises(RuntimeError) as info:
            with np.errstate(divide="ignore"):
                x.log()  # log(0) = -inf
    message = str(info.value)
    assert "forward pass of Log" in message and "inf" in message and HERE in message


def test_anomaly_in_the_backward_pass_names_the_op_and_where_it_was_made():
    x = tg.tensor([0.0, 4.0], requires_grad=True)
    with tg.detect_anomaly():
        y = x.sqrt()  # fine forward; its gradient 1 / (2 sqrt(x)) is inf at 0
        with pytest.raises(RuntimeError) as info:
            with np.errstate(divide="ignore"):
                y.sum().backward()
    message = str(info.value)
    assert "backward pass of Sqrt" in message and "inf" in message
    assert f"{HERE}:" in message and "input 0" in message


def test_nan_from_the_backward_pass_is_found_too():
    x = tg.tensor([-1.0], requires_grad=True)
    with tg.detect_anomaly():
        with np.errstate(invalid="ignore"):
            y = (x * 0).sqrt() * 0  # forward: 0; backward: 0 * inf = NaN in Sqrt
            with pytest.raises(RuntimeError, match="NaN"):
                y.sum().backward()


def test_outside_the_block_nothing_is_checked():
    x = tg.tensor([0.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        x.log().sum().backward()  # -inf forward, inf gradient: no error
    assert x.grad.tolist() == [float("inf")]


# ------------------------------------------------------------------ graph pictures

def _softmax_regression_loss():
    tg.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    X, y = tg.randn(8, 3, 4), tg.tensor([0, 1, 2, 1, 0, 2, 2, 1])
    return net, nn.functional.cross_entropy(net(X), y)


def test_to_dot_shows_ops_leaves_parameters_and_gradients():
    from tinygrad_sm import viz
    net, loss = _softmax_regression_loss()
    before = viz.to_dot(loss, params=dict(net.named_parameters()))
    assert before.startswith("digraph autograd {") and before.rstrip().endswith("}")
    # Flatten's reshape of X records nothing: X requires no grad, so it arrives as (8, 12)
    for text in ("CrossEntropy", "LinearFunction", "1.weight", "1.bias", "(3, 12) float32",
                 "() float32", "input\\n(8, 12) float32"):
        assert text in before, text
    assert "|grad|" not in before
    with tg.trace() as t:
        loss.backward(retain_graph=True)
    after = viz.to_dot(loss, params=dict(net.named_parameters()), trace=t)
    weight_norm = float(np.linalg.norm(net[1].weight.grad.numpy()))
    assert f"|grad| = {weight_norm:.4g}" in after
    assert '|grad| = 1"' in after  # the loss's own gradient, dloss/dloss = 1
    assert after.count("->") == before.count("->") == 4


def test_to_dot_refuses_a_released_graph():
    from tinygrad_sm import viz
    _, loss = _softmax_regression_loss()
    loss.backward()
    with pytest.raises(RuntimeError, match="released by backward.*retain_graph=True"):
        viz.to_dot(loss)


@pytest.mark.parametrize("suffix", ["svg", "png"])
def test_render_draws_the_softmax_regression_graph(tmp_path, suffix):
    from tinygrad_sm import viz
    if viz.shutil.which("dot") is None:
        if os.environ.get("CI"):
            pytest.fail("Graphviz's dot is missing; .ci/run installs the graphviz package")
        pytest.skip("Graphviz's dot is not installed")
    net, loss = _softmax_regression_loss()
    path = viz.render(loss, tmp_path / f"graph.{suffix}", params=dict(net.named_parameters()))
    data = open(path, "rb").read()
    if suffix == "svg":
        assert b"<svg" in data and b"CrossEntropy" in data and b"1.weight" in data
    else:
        assert data.startswith(b"\x89PNG") and len(data) > 2000


def test_render_without_dot_names_the_package(tmp_path, monkeypatch):
    from tinygrad_sm import viz
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    _, loss = _softmax_regression_loss()
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        viz.render(loss, tmp_path / "g.svg")
    with pytest.raises(ValueError, match=".svg, .png or .pdf"):
        viz.render(loss, tmp_path / "g.jpg")
