"""What only a GPU can show: data really on the device, copies between devices, CuPy's kernels.

Every test here is skipped, with the reason, unless ``tinygrad_sm.cuda_available()``. The op
table, the engine and the tensor tests also run on "cuda" through the ``device`` fixture.
"""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_sm as tg
from tinygrad_sm import backend

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(
    not tg.cuda_available(),
    reason="device 'cuda' needs CuPy and an NVIDIA GPU, and tinygrad_sm.cuda_available() "
           "is False here")]


def test_data_lives_on_the_gpu():
    cupy = backend.array_module("cuda")
    x = tg.tensor([1.0, 2.0], device="cuda")
    assert isinstance(x._array, cupy.ndarray) and x.device == "cuda"
    assert isinstance((x * 2).exp()._array, cupy.ndarray)
    assert tg.tensor(cupy.ones(2)).device == "cuda"  # a CuPy array brings its device along


def test_round_trip_between_devices():
    host = np.arange(6, dtype=np.float32).reshape(2, 3)
    x = tg.tensor(host, requires_grad=True)
    gpu = x.to("cuda")
    assert gpu.device == "cuda" and gpu.requires_grad and gpu.is_leaf
    back = gpu.cpu()
    assert isinstance(back._array, np.ndarray)
    np.testing.assert_array_equal(back.numpy(), host)
    assert gpu.tolist() == host.tolist()
    assert gpu.sum().item() == 15.0


def test_results_and_gradients_match_the_cpu():
    rng = np.random.default_rng(0)
    W, X = rng.standard_normal((4, 3)), rng.standard_normal((5, 4))
    labels = np.array([0, 2, 1, 1, 0])
    results = {}
    for device in ("cpu", "cuda"):
        w = tg.tensor(W, device=device, requires_grad=True)
        logits = tg.tensor(X, device=device) @ w
        loss = -logits.log_softmax()[tg.arange(5, device=device), tg.tensor(labels, device=device)]
        loss.mean().backward()
        results[device] = (loss.numpy(), w.grad.numpy(), w.grad.device)
    np.testing.assert_allclose(results["cuda"][0], results["cpu"][0], rtol=1e-5)
    np.testing.assert_allclose(results["cuda"][1], results["cpu"][1], rtol=1e-5)
    assert results["cuda"][2] == "cuda"


def test_repeated_indices_add_up_on_the_gpu():
    x = tg.tensor([1.0, 2.0, 3.0], device="cuda", requires_grad=True)
    x[tg.tensor([0, 0, 2, 0], device="cuda")].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


def test_mixing_real_devices():
    with pytest.raises(RuntimeError, match="tensors on different devices"):
        tg.ones(2) + tg.ones(2, device="cuda")


def test_no_implicit_copy_to_numpy():
    x = tg.ones(2, device="cuda")
    with pytest.raises(TypeError, match="cannot become a NumPy array implicitly"):
        np.asarray(x)
    assert isinstance(x.numpy(), np.ndarray)


def test_same_seed_same_values_on_both_devices():
    tg.manual_seed(7)
    on_cpu = tg.randn(3, 2).numpy()
    tg.manual_seed(7)
    on_gpu = tg.randn(3, 2, device="cuda").numpy()
    np.testing.assert_array_equal(on_cpu, on_gpu)
