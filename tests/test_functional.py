"""nn.functional and the loss modules: values and gradients against float64 NumPy references,
central differences (gradcheck), PyTorch where it is installed, and the argument checks."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_sm as tg
from tinygrad_sm import nn
from tinygrad_sm.gradcheck import gradcheck, gradgradcheck
from tinygrad_sm.nn import functional as F

REDUCE = {"mean": np.mean, "sum": np.sum, "none": lambda v: v}


def ce_reference(logits, labels):
    """Per-row losses and d(loss_i)/d(logits_i) = softmax - onehot, in float64."""
    z = np.asarray(logits, dtype=np.float64)
    m = z.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(z - m).sum(axis=1))
    losses = lse - z[np.arange(len(z)), labels]
    grad = np.exp(z - lse[:, None])
    grad[np.arange(len(z)), labels] -= 1
    return losses, grad


def huber_reference(d, delta):
    a = np.abs(d)
    return np.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))


def sample(shape, seed=0, scale=1.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


# ---------------------------------------------------------------------- softmax wrappers

def test_softmax_and_log_softmax_wrap_the_tensor_methods():
    x = tg.tensor(sample((3, 4)))
    np.testing.assert_array_equal(F.softmax(x).numpy(), x.softmax(-1).numpy())
    np.testing.assert_array_equal(F.log_softmax(x, axis=0).numpy(), x.log_softmax(0).numpy())
    np.testing.assert_allclose(F.softmax(x, axis=1).numpy().sum(1), 1.0)


# ---------------------------------------------------------------------- cross_entropy

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_value_and_gradient_match_reference(device, dtype, reduction):
    n, c = 7, 5
    raw = sample((n, c), scale=3.0)
    labels = np.array([0, 4, 2, 2, 1, 3, 0])
    logits = tg.tensor(raw, dtype=dtype, device=device, requires_grad=True)
    loss = F.cross_entropy(logits, labels, reduction=reduction)
    losses, grad = ce_reference(raw, labels)
    tol = 1e-6 if dtype == "float32" else 1e-12
    assert loss.dtype == dtype and loss.shape == ((n,) if reduction == "none" else ())
    np.testing.assert_allclose(loss.numpy(), REDUCE[reduction](losses), rtol=tol, atol=tol)
    weights = np.arange(1.0, n + 1)  # a different gradient for each row under "none"
    loss.backward(tg.tensor(weights, dtype=dtype, device=device) if reduction == "none" else None)
    expected = {"mean": grad / n, "sum": grad, "none": grad * weights[:, None]}[reduction]
    assert logits.grad.dtype == dtype
    np.testing.assert_allclose(logits.grad.numpy(), expected, rtol=tol, atol=tol)


def test_cross_entropy_is_exact_for_huge_logits():
    logits = tg.tensor([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0]], requires_grad=True)
    loss = F.cross_entropy(logits, np.array([2, 1]), reduction="none")
    np.testing.assert_allclose(loss.numpy(), [2000.0, np.log(3.0)], rtol=1e-6)
    loss.sum().backward()
    assert np.isfinite(logits.grad.numpy()).all()
    np.testing.assert_allclose(logits.grad.numpy()[0], [1.0, 0.0, -1.0], atol=1e-6)


@given(n=st.integers(1, 6), c=st.integers(1, 6), scale=st.sampled_from([0.1, 1.0, 30.0]),
       seed=st.integers(0, 2**16))
def test_cross_entropy_property_against_reference(n, c, scale, seed):
    rng = np.random.default_rng(seed)
    raw = rng.standard_normal((n, c)) * scale
    labels = rng.integers(0, c, n)
    logits = tg.tensor(raw, requires_grad=True)
    loss = F.cross_entropy(logits, labels)
    losses, grad = ce_reference(raw, labels)
    np.testing.assert_allclose(loss.item(), losses.mean(), rtol=1e-12, atol=1e-12)
    loss.backward()
    np.testing.assert_allclose(logits.grad.numpy(), grad / n, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_gradcheck_and_second_derivatives(reduction):
    logits = tg.tensor(sample((4, 3), seed=1), requires_grad=True)
    labels = tg.tensor([2, 0, 1, 2])
    assert gradcheck(lambda z: F.cross_entropy(z, labels, reduction), [logits])
    assert gradgradcheck(lambda z: F.cross_entropy(z, labels, reduction), [logits])


@pytest.mark.parametrize("make", [
    lambda y: tg.tensor(y), lambda y: y.astype(np.int32), lambda y: y.astype(np.uint8),
    lambda y: y.tolist()], ids=["tensor", "int32", "uint8", "list"])
def test_cross_entropy_accepts_integer_labels_of_any_kind(make):
    labels = np.array([1, 0, 2])
    logits = tg.tensor(sample((3, 3)))
    np.testing.assert_allclose(F.cross_entropy(logits, make(labels)).item(),
                               ce_reference(sample((3, 3)), labels)[0].mean(), rtol=1e-6)


@pytest.mark.parametrize("bad, position", [(5, 2), (-1, 1)])
def test_cross_entropy_label_out_of_range_names_value_and_position(bad, position):
    labels = np.array([0, 1, 2, 3])
    labels[position] = bad
    with pytest.raises(ValueError, match=rf"target\[{position}\] = {bad} is not a class index in "
                                         r"\[0, 5\) \(the logits have 5 classes\)"):
        F.cross_entropy(tg.zeros(4, 5), labels)


def test_cross_entropy_float_labels_name_the_fix():
    with pytest.raises(TypeError, match=r"integer class indices, got dtype float32; convert it "
                                        r"with \.astype\('int64'\)"):
        F.cross_entropy(tg.zeros(2, 3), tg.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="got dtype bool"):
        F.cross_entropy(tg.zeros(2, 3), np.array([True, False]))


def test_cross_entropy_shape_errors_name_both_shapes():
    with pytest.raises(ValueError, match=r"target has shape \(4, 1\) but logits have shape "
                                         r"\(4, 3\); expected .* shape \(4,\)"):
        F.cross_entropy(tg.zeros(4, 3), np.zeros((4, 1), dtype=np.int64))
    with pytest.raises(ValueError, match=r"target has shape \(5,\) but logits have shape \(4, 3\)"):
        F.cross_entropy(tg.zeros(4, 3), np.zeros(5, dtype=np.int64))
    with pytest.raises(ValueError, match=r"logits of shape \(N, C\).*got shape \(3,\)"):
        F.cross_entropy(tg.zeros(3), np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match=r"got shape \(0, 3\)"):
        F.cross_entropy(tg.zeros(0, 3), np.zeros(0, dtype=np.int64))


def test_cross_entropy_bad_reduction_names_the_valid_ones():
    with pytest.raises(ValueError, match=r"reduction='avg' is not valid; use one of 'mean', "
                                         r"'sum', 'none'"):
        F.cross_entropy(tg.zeros(2, 3), np.array([0, 1]), reduction="avg")


def test_cross_entropy_against_torch():
    torch = pytest.importorskip("torch")
    raw = sample((6, 4), seed=3, scale=2.0)
    labels = np.array([3, 0, 1, 1, 2, 0])
    for reduction in ("mean", "sum", "none"):
        ours = tg.tensor(raw, requires_grad=True)
        theirs = torch.tensor(raw, requires_grad=True)
        a = F.cross_entropy(ours, labels, reduction)
        b = torch.nn.functional.cross_entropy(theirs, torch.tensor(labels), reduction=reduction)
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-12)
        a.sum().backward()
        b.sum().backward()
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------------- mse_loss

@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_value_and_gradient(device, reduction):
    x_raw, y_raw = sample((5, 2), seed=1), sample((5, 2), seed=2)
    x = tg.tensor(x_raw, device=device, requires_grad=True)
    loss = F.mse_loss(x, tg.tensor(y_raw, device=device), reduction)
    np.testing.assert_allclose(loss.numpy(), REDUCE[reduction]((x_raw - y_raw) ** 2), rtol=1e-12)
    loss.sum().backward()
    scale = 1 / x_raw.size if reduction == "mean" else 1.0
    np.testing.assert_allclose(x.grad.numpy(), 2 * (x_raw - y_raw) * scale, rtol=1e-12)


def test_mse_loss_gradcheck_both_arguments_and_float32():
    x = tg.tensor(sample((3, 2), seed=4), requires_grad=True)
    y = tg.tensor(sample((3, 2), seed=5), requires_grad=True)
    assert gradcheck(F.mse_loss, [x, y])
    loss = F.mse_loss(tg.ones(4, 1), np.zeros((4, 1), dtype=np.float32))
    assert loss.dtype == np.float32 and loss.item() == 1.0


def test_mse_loss_refuses_silent_broadcast():
    with pytest.raises(ValueError, match=r"input has shape \(4, 1\) but target has shape \(4,\); "
                                         r"they must be equal.*\.reshape\(4, 1\)"):
        F.mse_loss(tg.zeros(4, 1), tg.zeros(4))


def test_mse_loss_bad_reduction():
    with pytest.raises(ValueError, match="'mean', 'sum', 'none'"):
        F.mse_loss(tg.zeros(2), tg.zeros(2), reduction="max")


# ---------------------------------------------------------------------- huber_loss

@pytest.mark.parametrize("delta", [1.0, 0.3, 2.5])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_huber_loss_values_on_both_pieces(delta, reduction):
    d = np.array([-4.0, -1.2, -0.25, 0.0, 0.1, 0.9, 1.7, 5.0])
    target = np.linspace(-1, 1, d.size)
    x = tg.tensor(target + d)
    loss = F.huber_loss(x, tg.tensor(target), delta=delta, reduction=reduction)
    np.testing.assert_allclose(loss.numpy(), REDUCE[reduction](huber_reference(d, delta)),
                               rtol=1e-12, atol=1e-15)


def test_huber_loss_gradient_is_clipped_difference():
    d = np.array([-3.0, -0.5, 0.0, 0.25, 2.0])
    x = tg.tensor(d, requires_grad=True)
    F.huber_loss(x, tg.zeros(5), delta=1.0, reduction="sum").backward()
    np.testing.assert_allclose(x.grad.numpy(), np.clip(d, -1.0, 1.0))


def test_huber_loss_gradcheck_away_from_the_kink():
    rng = np.random.default_rng(6)
    d = rng.choice([-1, 1], 8) * rng.uniform(0.05, 0.8, 8)  # |d| < delta = 1 ...
    d[::2] *= 4.0                                           # ... and |d| > delta
    x = tg.tensor(d, requires_grad=True)
    y = tg.tensor(np.zeros(8), requires_grad=True)
    assert gradcheck(lambda x, y: F.huber_loss(x, y, delta=1.0), [x, y])
    assert gradcheck(lambda x, y: F.huber_loss(x, y, 0.5, "none"), [x, y])


def test_huber_loss_stays_float32():
    loss = F.huber_loss(tg.tensor([0.1, 3.0]), tg.zeros(2))
    assert loss.dtype == np.float32


def test_huber_loss_errors():
    with pytest.raises(ValueError, match="delta > 0, got 0"):
        F.huber_loss(tg.zeros(2), tg.zeros(2), delta=0)
    with pytest.raises(ValueError, match=r"input has shape \(3,\) but target has shape \(3, 1\)"):
        F.huber_loss(tg.zeros(3), tg.zeros(3, 1))


def test_mse_and_huber_against_torch():
    torch = pytest.importorskip("torch")
    x, y = sample((6, 3), seed=7, scale=2.0), sample((6, 3), seed=8)
    for delta in (0.5, 1.0, 3.0):
        ours = tg.tensor(x, requires_grad=True)
        theirs = torch.tensor(x, requires_grad=True)
        a = F.huber_loss(ours, tg.tensor(y), delta=delta)
        b = torch.nn.functional.huber_loss(theirs, torch.tensor(y), delta=delta)
        a.backward()
        b.backward()
        np.testing.assert_allclose(a.item(), b.item(), rtol=1e-12)
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)
    a = F.mse_loss(tg.tensor(x), tg.tensor(y))
    b = torch.nn.functional.mse_loss(torch.tensor(x), torch.tensor(y))
    np.testing.assert_allclose(a.item(), b.item(), rtol=1e-12)


# ---------------------------------------------------------------------- loss modules

def test_loss_modules_call_the_functions():
    logits, labels = tg.tensor(sample((4, 3))), np.array([0, 2, 1, 1])
    x, y = tg.tensor(sample((4, 2), seed=1)), tg.tensor(sample((4, 2), seed=2))
    assert nn.CrossEntropyLoss()(logits, labels).item() == F.cross_entropy(logits, labels).item()
    assert nn.CrossEntropyLoss("none")(logits, labels).shape == (4,)
    assert nn.MSELoss("sum")(x, y).item() == F.mse_loss(x, y, "sum").item()
    assert nn.HuberLoss(0.5)(x, y).item() == F.huber_loss(x, y, 0.5).item()
    assert list(nn.MSELoss().parameters()) == []


def test_loss_modules_check_arguments_when_built():
    with pytest.raises(ValueError, match="CrossEntropyLoss: reduction='avg'"):
        nn.CrossEntropyLoss("avg")
    with pytest.raises(ValueError, match="MSELoss"):
        nn.MSELoss(reduction=None)
    with pytest.raises(ValueError, match="delta > 0"):
        nn.HuberLoss(delta=-1.0)


def test_loss_module_repr():
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss(reduction='mean')"
    assert repr(nn.HuberLoss(2.0, "sum")) == "HuberLoss(delta=2.0, reduction='sum')"
