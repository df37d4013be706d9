"""The layers of convolutional networks and the activations, each against ``torch.nn``.

For every layer: PyTorch's initialisation (distribution and order of draws), ``extra_repr``
as PyTorch prints it, and, with PyTorch's weights copied in, the same outputs and gradients.
Then the state that is not a parameter: ``register_buffer`` and batch normalisation's running
statistics, and the switch between training and evaluation (``train()``/``eval()``).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import tinygrad_sm as tg
from tinygrad_sm import nn, serialization


def _torch():
    return pytest.importorskip("torch")


def _copy_from_torch(ours: nn.Module, theirs: Any) -> None:
    """PyTorch's parameters, in order, into ours (same names, shapes and dtypes)."""
    pairs = list(zip(ours.named_parameters(), theirs.named_parameters()))
    assert [a for (a, _), _ in pairs] == [b for _, (b, _) in pairs]
    with tg.no_grad():
        for (_, p), (_, q) in pairs:
            p.copy_(tg.tensor(q.detach().numpy()))


def _check_against_torch(ours: nn.Module, theirs: Any, shape: tuple[int, ...],
                         dtype: str = "float64", seed: int = 0) -> None:
    """Same output, input gradient and parameter gradients for a random input and a random
    output gradient."""
    torch = _torch()
    theirs = theirs.to(getattr(torch, dtype))
    ours_params = list(ours.parameters())
    with tg.no_grad():
        for p in ours_params:
            p.data = p.data.astype(dtype)
    _copy_from_torch(ours, theirs)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    xo = tg.tensor(x, dtype=dtype, requires_grad=True)
    xt = torch.tensor(x, dtype=getattr(torch, dtype), requires_grad=True)
    y, ty = ours(xo), theirs(xt)
    tol = {"rtol": 1e-10, "atol": 1e-12} if dtype == "float64" else {"rtol": 1e-4, "atol": 1e-5}
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), **tol)
    g = rng.standard_normal(ty.shape)
    y.backward(tg.tensor(g, dtype=dtype))
    ty.backward(torch.tensor(g, dtype=getattr(torch, dtype)))
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), **tol, err_msg="input grad")
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), **tol, err_msg=name)


# ------------------------------------------------------------------------- Conv2d

CONV_ARGS = [
    ((1, 6, 5), {"padding": 2}),
    ((6, 16, 5), {}),
    ((4, 6, (3, 2)), {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2), "groups": 2}),
    ((3, 3, 3), {"groups": 3, "bias": False, "padding": "same"}),
    ((2, 4, 3), {"padding": "valid", "stride": 2}),
]


@pytest.mark.parametrize("args, kwargs", CONV_ARGS, ids=str)
def test_conv2d_matches_torch(args: tuple, kwargs: dict) -> None:
    torch = _torch()
    tg.manual_seed(0)
    ours, theirs = nn.Conv2d(*args, **kwargs), torch.nn.Conv2d(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert ours.weight.shape == tuple(theirs.weight.shape)
    assert ours.weight.dtype == np.float32
    _check_against_torch(ours, theirs, (2, args[0], 9, 8))


def test_conv2d_initialisation_is_torchs_kaiming_uniform() -> None:
    """U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias, fan_in = in/groups * kh * kw,
    drawn from the library's generator: the weight first, then the bias."""
    tg.manual_seed(3)
    conv = nn.Conv2d(6, 8, (3, 5), groups=2)
    fan_in = 3 * 3 * 5
    bound = 1 / math.sqrt(fan_in)
    w, b = conv.weight.numpy(), conv.bias.numpy()
    assert w.shape == (8, 3, 3, 5) and b.shape == (8,)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # Uniform: the spread fills the interval (a wrong fan-in would shrink or overflow it).
    assert np.abs(w).max() > 0.9 * bound and abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound
    gen = np.random.default_rng(3)
    expected_w = gen.uniform(-bound, bound, (8, 3, 3, 5)).astype(np.float32)
    expected_b = gen.uniform(-bound, bound, (8,)).astype(np.float32)
    np.testing.assert_array_equal(w, expected_w)
    np.testing.assert_array_equal(b, expected_b)
    tg.manual_seed(3)
    np.testing.assert_array_equal(nn.Conv2d(6, 8, (3, 5), groups=2).weight.numpy(), w)


def test_conv2d_layer_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="in_channels must be a positive int"):
        nn.Conv2d(0, 4, 3)
    with pytest.raises(ValueError, match="needs stride 1"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(NotImplementedError, match="padding_mode='reflect'"):
        nn.Conv2d(3, 4, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="kernel_size must be a positive"):
        nn.Conv2d(3, 4, (3, 0))


def test_conv2d_on_float64_and_device_arguments() -> None:
    conv = nn.Conv2d(2, 3, 3, dtype="float64", device="cpu")
    assert conv.weight.dtype == np.float64 and conv.bias.dtype == np.float64
    assert conv(tg.randn(1, 2, 5, 5, dtype="float64")).shape == (1, 3, 3, 3)


# ------------------------------------------------------------------------- pooling

POOLS = [
    ("MaxPool2d", (2,), {}),
    ("MaxPool2d", (3,), {"stride": 2, "padding": 1, "dilation": 1, "ceil_mode": True}),
    ("MaxPool2d", ((2, 3),), {"stride": (1, 2), "dilation": (2, 1)}),
    ("AvgPool2d", (2,), {}),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}),
    ("AvgPool2d", ((3, 2),), {"stride": 1, "ceil_mode": True, "divisor_override": 4}),
]


@pytest.mark.parametrize("name, args, kwargs", POOLS, ids=str)
def test_pools_match_torch(name: str, args: tuple, kwargs: dict) -> None:
    torch = _torch()
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    _check_against_torch(ours, theirs, (2, 3, 9, 8))


def test_max_pool2d_layer_returns_indices_as_torch() -> None:
    torch = _torch()
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6))
    values, indices = nn.MaxPool2d(2, return_indices=True)(tg.tensor(x))
    t_values, t_indices = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(values.numpy(), t_values.numpy())
    np.testing.assert_array_equal(indices.numpy(), t_indices.numpy())


# ------------------------------------------------------------------------- activations

ACTIVATIONS = [("Sigmoid", (), {}), ("Tanh", (), {}), ("LeakyReLU", (), {}),
               ("LeakyReLU", (0.2,), {}), ("GELU", (), {}), ("GELU", (), {"approximate": "tanh"})]


@pytest.mark.parametrize("name, args, kwargs", ACTIVATIONS, ids=str)
def test_activations_match_torch(name: str, args: tuple, kwargs: dict) -> None:
    torch = _torch()
    method = {"LeakyReLU": "leaky_relu", "GELU": "gelu"}.get(name)
    if method is not None and not hasattr(tg.Tensor, method):
        pytest.skip(f"Tensor.{method} is not in this build yet")
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    _check_against_torch(ours, theirs, (3, 4, 5))


def test_activation_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="approximate='fast'"):
        nn.GELU("fast")
    with pytest.raises(NotImplementedError, match="inplace"):
        nn.LeakyReLU(0.1, inplace=True)


# ------------------------------------------------------------------------- dropout

def test_dropout_follows_train_and_eval() -> None:
    torch = _torch()
    layer = nn.Dropout(0.25)
    assert repr(layer) == repr(torch.nn.Dropout(0.25))
    x = tg.ones(40, 50)
    tg.manual_seed(0)
    y = layer(x).numpy()
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.75)}
    model = nn.Sequential(nn.Linear(50, 50), layer)
    assert model.eval() is model and not layer.training
    assert layer(x) is x
    model.train()
    assert layer.training
    tg.manual_seed(0)
    np.testing.assert_array_equal(layer(x).numpy(), y)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


# ------------------------------------------------------------------------- batch norm

@pytest.mark.parametrize("name, shape", [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)),
                                         ("BatchNorm2d", (4, 3, 3, 2))], ids=str)
@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}, {"affine": False, "eps": 1e-3},
                                    {"bias": False},
                                    {"track_running_stats": False}, {"momentum": 0.5}], ids=str)
def test_batch_norm_layers_match_torch_over_training_and_evaluation(name: str, shape: tuple,
                                                                     kwargs: dict) -> None:
    """Three training steps (outputs, gradients, running statistics and the batch count), then
    evaluation, with PyTorch's layer alongside."""
    torch = _torch()
    ours = getattr(nn, name)(3, dtype="float64", **kwargs)
    theirs = getattr(torch.nn, name)(3, dtype=torch.float64, **kwargs)
    assert repr(ours) == repr(theirs)
    if ours.affine:  # something other than ones and zeros, to see them at work
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 1.5)
            if theirs.bias is not None:
                theirs.bias.uniform_(-1, 1)
        _copy_from_torch(ours, theirs)
    rng = np.random.default_rng(0)
    for mode in ("train", "train", "train", "eval", "eval"):
        ours.train(mode == "train")
        theirs.train(mode == "train")
        x = rng.standard_normal(shape) * 2 + 1
        xo, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, ty = ours(xo), theirs(xt)
        np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
        g = rng.standard_normal(shape)
        y.backward(tg.tensor(g))
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)
        for (n, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-12,
                                       err_msg=n)
        ours_buffers = dict(ours.named_buffers())
        theirs_buffers = dict(theirs.named_buffers())
        assert list(ours_buffers) == list(theirs_buffers)
        for n, t in theirs_buffers.items():
            np.testing.assert_allclose(ours_buffers[n].numpy(), t.numpy(), rtol=1e-12,
                                       err_msg=f"{n} after a {mode} step")
            assert ours_buffers[n].dtype == t.numpy().dtype


def test_batch_norm_checks_its_input_rank() -> None:
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input"):
        nn.BatchNorm2d(3)(tg.randn(2, 3, 4))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input"):
        nn.BatchNorm1d(3)(tg.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm2d(3, momentum=2)


def test_batch_norm_state_is_buffers_not_parameters() -> None:
    bn = nn.BatchNorm2d(4)
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var",
                                                  "num_batches_tracked"]
    assert bn.num_batches_tracked.dtype == np.int64 and not bn.running_mean.requires_grad
    model = nn.Sequential(nn.Conv2d(1, 4, 3), bn)
    assert [n for n, _ in model.named_buffers()] == ["1.running_mean", "1.running_var",
                                                     "1.num_batches_tracked"]
    model(tg.randn(2, 1, 5, 5)).sum().backward()
    assert bn.running_mean.grad is None and int(bn.num_batches_tracked.item()) == 1
    bn.reset_running_stats()
    assert bn.running_mean.tolist() == [0] * 4 and bn.running_var.tolist() == [1] * 4
    assert int(bn.num_batches_tracked.item()) == 0
    assert list(nn.BatchNorm1d(2, track_running_stats=False).named_buffers()) == []


def test_batch_norm_running_statistics_are_in_the_state_dict(tmp_path: Any) -> None:
    bn = nn.BatchNorm1d(2)
    bn(tg.randn(5, 2) * 3 + 1)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]
    bn.save(tmp_path / "bn.npz")
    fresh = nn.BatchNorm1d(2).load(tmp_path / "bn.npz")
    np.testing.assert_array_equal(fresh.running_mean.numpy(), bn.running_mean.numpy())


def _bn_net() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(),
                         nn.Linear(12, 4), nn.BatchNorm1d(4))


def _trained_bn_net() -> nn.Module:
    tg.manual_seed(0)
    net = _bn_net()
    for _ in range(3):  # moves the running statistics away from their start (0, 1, 0 batches)
        net(tg.randn(6, 1, 4, 4) * 2 + 0.5)
    return net


def test_a_batch_norm_model_round_trips_through_a_checkpoint(tmp_path: Any) -> None:
    net = _trained_bn_net()
    state = net.state_dict()
    assert list(state) == ["0.weight", "0.bias",
                           "1.weight", "1.bias", "1.running_mean", "1.running_var",
                           "1.num_batches_tracked",
                           "4.weight", "4.bias",
                           "5.weight", "5.bias", "5.running_mean", "5.running_var",
                           "5.num_batches_tracked"]  # PyTorch's keys, in PyTorch's order
    assert state["1.num_batches_tracked"].dtype == np.int64 and state["1.num_batches_tracked"] == 3
    net.save(tmp_path / "bn.npz")
    with np.load(tmp_path / "bn.npz") as npz:
        assert npz["5.num_batches_tracked"].dtype == np.int64

    tg.manual_seed(1)
    fresh = _bn_net()
    buffers = [t._array for t in fresh.buffers()]
    assert fresh.load(tmp_path / "bn.npz") is fresh
    assert [t._array for t in fresh.buffers()] == buffers  # written in place, as parameters are
    for name, value in fresh.state_dict().items():
        np.testing.assert_array_equal(value, state[name], err_msg=name)
        assert value.dtype == state[name].dtype, name
    x = tg.randn(5, 1, 4, 4)
    np.testing.assert_array_equal(fresh.eval()(x).numpy(), net.eval()(x).numpy())
    # and in training, the counts carry on from the saved ones
    fresh.train()(x)
    assert int(fresh[1].num_batches_tracked.item()) == 4


def test_the_state_dict_matches_pytorchs_keys_and_loads_into_torch() -> None:
    torch = _torch()
    net = _trained_bn_net()
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3), torch.nn.BatchNorm2d(3), torch.nn.ReLU(),
                                 torch.nn.Flatten(), torch.nn.Linear(12, 4), torch.nn.BatchNorm1d(4))
    assert list(net.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in net.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 1, 4, 4)).astype(np.float32)
    np.testing.assert_allclose(theirs.eval()(torch.from_numpy(x)).detach().numpy(),
                               net.eval()(tg.tensor(x)).numpy(), rtol=1e-5, atol=1e-5)


def test_a_wrong_buffer_is_refused_and_nothing_changes(tmp_path: Any) -> None:
    net = _trained_bn_net()
    target = _bn_net()
    before = target.state_dict()

    def unchanged() -> None:
        for name, value in target.state_dict().items():
            np.testing.assert_array_equal(value, before[name], err_msg=name)

    wrong_shape = {**net.state_dict(), "1.running_var": np.ones(4, np.float32)}
    with pytest.raises(ValueError, match=r"'1.running_var' has shape \(4,\) in the state but "
                                         r"\(3,\) in the model"):
        target.load_state_dict(wrong_shape)
    unchanged()
    serialization.save_npz(tmp_path / "bad.npz", wrong_shape)
    with pytest.raises(ValueError, match=r"bad.npz.*'1.running_var' has shape \(4,\) in the "
                                         r"checkpoint"):
        target.load(tmp_path / "bad.npz")
    unchanged()

    missing = {k: v for k, v in net.state_dict().items() if k != "5.num_batches_tracked"}
    with pytest.raises(KeyError, match=r"missing keys \['5.num_batches_tracked'\]"):
        target.load_state_dict(missing)  # e.g. a checkpoint of parameters only
    with pytest.raises(TypeError, match=r"'1.num_batches_tracked' has dtype float64 in the state, "
                                        r"but the buffer is int64; expected integers"):
        target.load_state_dict({**net.state_dict(), "1.num_batches_tracked": np.array(3.7)})
    with pytest.raises(ValueError, match=r"'1.num_batches_tracked' holds values outside the "
                                         r"range of int64"):
        target.load_state_dict({**net.state_dict(), "1.num_batches_tracked": np.array(2**64 - 1,
                                                                                      np.uint64)})
    with pytest.raises(ValueError, match=r"'5.running_mean' holds NaN or inf"):
        target.load_state_dict({**net.state_dict(), "5.running_mean": np.full(4, np.nan, np.float32)})
    unchanged()
    target.load_state_dict({**net.state_dict(), "1.num_batches_tracked": np.array(3, np.int32)})
    assert target[1].num_batches_tracked.dtype == np.int64
    assert int(target[1].num_batches_tracked.item()) == 3


def test_the_state_leaves_out_non_persistent_none_and_shared_buffers() -> None:
    m = WithBuffer()  # scale; total; scratch (not persistent); nothing (None)
    assert list(m.state_dict()) == ["scale", "total"]
    outer = nn.Sequential(m, m, nn.Linear(2, 2))
    outer[2].register_buffer("shared", m.total)
    assert list(outer.state_dict()) == ["0.scale", "0.total", "2.weight", "2.bias"]
    m.total = None  # a buffer set to None leaves the state, as in PyTorch
    assert list(m.state_dict()) == ["scale"]


# ------------------------------------------------------------------------- register_buffer

class WithBuffer(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(tg.ones(2))
        self.register_buffer("total", tg.zeros(2))
        self.register_buffer("scratch", tg.zeros(1), persistent=False)
        self.register_buffer("nothing", None)

    def forward(self, x):
        with tg.no_grad():
            self.total += x.detach()
        return x * self.scale


def test_register_buffer_registers_in_order_and_moves_with_the_module() -> None:
    m = WithBuffer()
    assert [n for n, _ in m.named_buffers()] == ["total", "scratch"]  # None is skipped
    assert [n for n, _ in m.named_parameters()] == ["scale"]
    assert list(m.buffers())[0] is m.total
    m(tg.tensor([1.0, 2.0]))
    m(tg.tensor([1.0, 2.0]))
    assert m.total.tolist() == [2.0, 4.0]
    m.total = tg.tensor([5.0, 5.0])  # assignment replaces the buffer, registered still
    assert dict(m.named_buffers())["total"] is m.total
    buffer = m.total
    assert m.to("cpu") is m and m.total is buffer  # moved in place
    del m.total
    assert [n for n, _ in m.named_buffers()] == ["scratch"]


def test_register_buffer_errors() -> None:
    m = WithBuffer()
    with pytest.raises(KeyError, match="already has an attribute 'scale'"):
        m.register_buffer("scale", tg.zeros(1))
    with pytest.raises(KeyError, match="without '.'"):
        m.register_buffer("a.b", tg.zeros(1))
    with pytest.raises(TypeError, match="must be a Tensor"):
        m.register_buffer("c", np.zeros(1))
    with pytest.raises(TypeError, match="must be a Tensor"):
        m.register_buffer("d", nn.Parameter(tg.zeros(1)))
    with pytest.raises(TypeError, match="holds a buffer"):
        m.total = 3.0
