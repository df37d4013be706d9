"""The neural-network ops: conv2d, max_pool2d, avg_pool2d, batch_norm and dropout.

The table (``OPS``) checks each op against a NumPy reference written the slow, obvious way (a
loop over output pixels), in float64 and float32, and its gradient by central differences
(``optable.check_op``); a subset also gets second-order checks. Below it: a grid of strides,
paddings, dilations and groups against PyTorch (values and gradients), PyTorch's tie rule for
max pooling, the running statistics of batch_norm over a few steps, dropout in training and
evaluation, and the argument errors.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st

import tinygrad_sm as tg
from tinygrad_sm import gradcheck, gradgradcheck
from tinygrad_sm.nn import functional as F
from optable import Op, arrays, table_tests

# ------------------------------------------------------------------------- NumPy references


def _pad(x: np.ndarray, top: int, bottom: int, left: int, right: int, value: float = 0.0):
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=value)


def _out_size(n: int, k: int, s: int, before: int, after: int, d: int, ceil: bool = False) -> int:
    span = d * (k - 1) + 1
    o = (math.ceil if ceil else math.floor)((n + before + after - span) / s) + 1
    if ceil and (o - 1) * s >= n + before:
        o -= 1
    return o


def ref_conv2d(x, w, b, stride, padding, dilation, groups):
    """y[n, o, p, q] = b[o] + sum_{c, i, j} w[o, c, i, j] x[n, g*C/G + c, p s + i d, q s + j d]."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = _pad(x, ph, ph, pw, pw)
    oh, ow = _out_size(h, kh, sh, ph, ph, dh), _out_size(wd, kw, sw, pw, pw, dw)
    out = np.zeros((n, o, oh, ow))
    og = o // groups
    for p in range(oh):
        for q in range(ow):
            patch = xp[:, :, p * sh:p * sh + dh * (kh - 1) + 1:dh, q * sw:q * sw + dw * (kw - 1) + 1:dw]
            for g in range(groups):
                out[:, g * og:(g + 1) * og, p, q] = np.einsum(
                    "ncij,ocij->no", patch[:, g * cg:(g + 1) * cg], w[g * og:(g + 1) * og])
    return out + (0 if b is None else b.reshape(1, -1, 1, 1))


def _windows(x, kernel, stride, padding, dilation, ceil, fill):
    """Each output pixel's window as a list of values (padding counted), row by row."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    n, c, h, w = x.shape
    oh = _out_size(h, kh, sh, ph, ph, dh, ceil)
    ow = _out_size(w, kw, sw, pw, pw, dw, ceil)
    big = _pad(x, ph, ph + kh * dh + sh, pw, pw + kw * dw + sw, fill)  # room for ceil mode
    for p in range(oh):
        for q in range(ow):
            yield p, q, big[:, :, p * sh:p * sh + dh * (kh - 1) + 1:dh,
                             q * sw:q * sw + dw * (kw - 1) + 1:dw], (oh, ow)


def ref_max_pool2d(x, kernel, stride, padding, dilation, ceil_mode):
    out = None
    for p, q, win, (oh, ow) in _windows(x, kernel, stride, padding, dilation, ceil_mode, -np.inf):
        out = np.zeros(x.shape[:2] + (oh, ow)) if out is None else out
        out[:, :, p, q] = win.max(axis=(2, 3))
    return out


def ref_avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad):
    """The divisor is counted pixel by pixel: inside the image, or inside the padded image."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    h, w = x.shape[2:]
    out = None
    for p, q, win, (oh, ow) in _windows(x, kernel, stride, padding, (1, 1), ceil_mode, 0.0):
        out = np.zeros(x.shape[:2] + (oh, ow)) if out is None else out
        rows = np.arange(p * sh - ph, p * sh - ph + kh)
        cols = np.arange(q * sw - pw, q * sw - pw + kw)
        if count_include_pad:
            count = ((rows < h + ph).sum()) * ((cols < w + pw).sum())
        else:
            count = ((rows >= 0) & (rows < h)).sum() * ((cols >= 0) & (cols < w)).sum()
        out[:, :, p, q] = win.sum(axis=(2, 3)) / count
    return out


def ref_batch_norm(x, weight, bias, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    xhat = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + eps)
    return xhat * weight.reshape(shape) + bias.reshape(shape)


# ------------------------------------------------------------------------- strategies

small = st.integers(1, 3)


@st.composite
def conv_inputs(draw: Any) -> tuple:
    groups = draw(st.sampled_from([1, 1, 2]))
    c, o = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kh, kw = draw(small), draw(small)
    stride, dilation = (draw(small), draw(small)), (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    # The input is at least as large as the dilated kernel, minus the padding.
    h = max(1, dilation[0] * (kh - 1) + 1 - 2 * padding[0]) + draw(st.integers(0, 2))
    w = max(1, dilation[1] * (kw - 1) + 1 - 2 * padding[1]) + draw(st.integers(0, 2))
    n = draw(st.integers(1, 2))
    x, weight = draw(arrays((n, c, h, w))), draw(arrays((o, c // groups, kh, kw)))
    with_bias = draw(st.booleans())
    args = (x, weight, draw(arrays((o,)))) if with_bias else (x, weight)
    return args, {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}


@st.composite
def pool_inputs(draw: Any, max_pool: bool) -> tuple:
    kernel = (draw(small), draw(small))
    stride = (draw(small), draw(small))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if max_pool else (1, 1)
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)  # PyTorch's limit
    h, w = (d * (k - 1) + 1 + draw(st.integers(0, 3)) for k, d in zip(kernel, dilation))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), h, w)
    if max_pool:  # distinct values 0.5 apart: no ties, so the max is differentiable
        size = math.prod(shape)
        x = (np.array(draw(st.permutations(range(size))), dtype=np.float64) * 0.5).reshape(shape)
        kwargs = {"dilation": dilation}
    else:
        x = draw(arrays(shape))
        kwargs = {"count_include_pad": draw(st.booleans())}
    kwargs.update(kernel_size=kernel, stride=stride, padding=padding,
                  ceil_mode=draw(st.booleans()))
    return (x,), kwargs


@st.composite
def batch_norm_inputs(draw: Any) -> tuple:
    shape = draw(st.sampled_from([(3, 2), (2, 3, 2), (2, 2, 2, 3), (4, 1)]))
    c = shape[1]
    x = draw(arrays(shape))
    # A spread-out batch: with nearly equal values, 1/sqrt(var + eps) changes too fast for
    # central differences to follow.
    x = x + np.arange(x.size).reshape(shape) * 0.7
    return (x, draw(arrays((c,))), draw(arrays((c,)))), {}


OPS = [
    Op("conv2d", lambda x, w, b=None, **k: F.conv2d(x, w, b, **k),
       lambda x, w, b=None, **k: ref_conv2d(x, w, b, **k), conv_inputs()),
    Op("max_pool2d", lambda x, **k: F.max_pool2d(x, **k),
       lambda x, kernel_size, stride, padding, dilation, ceil_mode: ref_max_pool2d(
           x, kernel_size, stride, padding, dilation, ceil_mode), pool_inputs(True)),
    Op("avg_pool2d", lambda x, **k: F.avg_pool2d(x, **k),
       lambda x, kernel_size, stride, padding, ceil_mode, count_include_pad: ref_avg_pool2d(
           x, kernel_size, stride, padding, ceil_mode, count_include_pad), pool_inputs(False)),
    Op("batch_norm (training)",
       lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
       ref_batch_norm, batch_norm_inputs()),
]
# Convolutions and pools cost more per example: fewer of them, every row second order too.
test_op, test_op_second_order = table_tests(
    OPS, None, examples=max(5, settings.default.max_examples // 2),
    second_order_examples=max(3, settings.default.max_examples // 10))


# ------------------------------------------------------------------------- against PyTorch

CONV_CASES = [  # (N, C, H, W), out_channels, kernel, stride, padding, dilation, groups
    ((2, 3, 7, 6), 4, 3, 1, 0, 1, 1),
    ((2, 3, 7, 6), 4, 3, 1, 1, 1, 1),
    ((2, 3, 7, 6), 4, (3, 2), (2, 1), (1, 0), 1, 1),
    ((1, 4, 8, 8), 6, 3, 2, 1, 2, 2),
    ((2, 4, 6, 7), 4, (2, 3), 1, (0, 2), (2, 1), 4),  # depthwise
    ((1, 2, 5, 5), 2, 5, 1, 0, 1, 1),  # a kernel as large as the image
    ((2, 1, 9, 9), 3, 4, 3, 2, 1, 1),  # stride leaves the last rows unread
    ((2, 2, 6, 6), 3, 1, 1, 0, 1, 1),  # 1 x 1
    ((1, 3, 6, 5), 2, (4, 3), 1, "same", (1, 2), 1),  # 'same' with an even kernel
    ((1, 3, 6, 5), 2, 3, 1, "valid", 1, 1),
]


def _torch_pair(torch: Any, *arrays: np.ndarray):
    return [torch.tensor(a, requires_grad=True) for a in arrays]


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # PyTorch's note on its own speed
@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv2d_matches_torch(case: tuple, device: str) -> None:
    torch = pytest.importorskip("torch")
    shape, out_channels, kernel, stride, padding, dilation, groups = case
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    w = rng.standard_normal((out_channels, shape[1] // groups, kh, kw))
    b = rng.standard_normal(out_channels)
    ours = [tg.tensor(a, device=device, requires_grad=True) for a in (x, w, b)]
    theirs = _torch_pair(torch, x, w, b)
    y = F.conv2d(*ours, stride=stride, padding=padding, dilation=dilation, groups=groups)
    ty = torch.nn.functional.conv2d(*theirs, stride=stride, padding=padding, dilation=dilation,
                                    groups=groups)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(ty.shape)
    y.backward(tg.tensor(g, device=device))
    ty.backward(torch.tensor(g))
    for name, a, t in zip(("input", "weight", "bias"), ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=f"gradient of the {name}")


def test_conv2d_second_derivatives_match_torch() -> None:
    """d/dx and d/dw of a function of the first-order gradients (create_graph=True)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 4, 6, 5)), rng.standard_normal((4, 2, 3, 2))
    kwargs = {"stride": (2, 1), "padding": 1, "dilation": (1, 2), "groups": 2}
    ours = [tg.tensor(a, requires_grad=True) for a in (x, w)]
    theirs = _torch_pair(torch, x, w)
    gx, gw = tg.grad((F.conv2d(*ours, **kwargs) ** 2).sum(), ours, create_graph=True)
    tgx, tgw = torch.autograd.grad((torch.nn.functional.conv2d(*theirs, **kwargs) ** 2).sum(),
                                   theirs, create_graph=True)
    ((gx * gx).sum() + (gw ** 3).sum()).backward()
    ((tgx * tgx).sum() + (tgw ** 3).sum()).backward()
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-9)


POOL_CASES = [  # kernel, stride, padding, dilation, ceil_mode
    (2, None, 0, 1, False), (3, 2, 1, 1, False), (3, 2, 1, 1, True), (3, 1, 1, 2, False),
    ((2, 3), (1, 2), (1, 1), 1, True), (2, 3, 0, 1, True), (4, 1, 2, 1, False),
]


@pytest.mark.parametrize("case", POOL_CASES, ids=str)
def test_max_pool2d_matches_torch(case: tuple, device: str) -> None:
    torch = pytest.importorskip("torch")
    kernel, stride, padding, dilation, ceil_mode = case
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 8))
    ours, (theirs,) = tg.tensor(x, device=device, requires_grad=True), _torch_pair(torch, x)
    y, idx = F.max_pool2d(ours, kernel, stride, padding, dilation, ceil_mode, return_indices=True)
    ty, tidx = torch.nn.functional.max_pool2d(theirs, kernel, stride, padding, dilation,
                                              ceil_mode, return_indices=True)
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    assert idx.dtype == np.int64
    g = np.random.default_rng(1).standard_normal(ty.shape)
    y.backward(tg.tensor(g, device=device))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("case", [c for c in POOL_CASES if c[3] == 1], ids=str)
def test_avg_pool2d_matches_torch(case: tuple, count_include_pad: bool, device: str) -> None:
    torch = pytest.importorskip("torch")
    kernel, stride, padding, _, ceil_mode = case
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 8))
    ours, (theirs,) = tg.tensor(x, device=device, requires_grad=True), _torch_pair(torch, x)
    y = F.avg_pool2d(ours, kernel, stride, padding, ceil_mode, count_include_pad)
    ty = torch.nn.functional.avg_pool2d(theirs, kernel, stride, padding, ceil_mode,
                                        count_include_pad)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-15)
    g = np.random.default_rng(1).standard_normal(ty.shape)
    y.backward(tg.tensor(g, device=device))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_avg_pool2d_divisor_override_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 5))
    ours, (theirs,) = tg.tensor(x, requires_grad=True), _torch_pair(torch, x)
    y = F.avg_pool2d(ours, 3, 2, 1, divisor_override=5)
    ty = torch.nn.functional.avg_pool2d(theirs, 3, 2, 1, divisor_override=5)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d"])
def test_pool_second_derivatives_match_torch(name: str) -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).standard_normal((2, 2, 6, 5))
    ours, (theirs,) = tg.tensor(x, requires_grad=True), _torch_pair(torch, x)
    y = getattr(F, name)(ours, 3, 2, 1) ** 3  # overlapping windows: gradients add up
    ty = getattr(torch.nn.functional, name)(theirs, 3, 2, 1) ** 3
    (gx,) = tg.grad(y.sum(), ours, create_graph=True)
    (tgx,) = torch.autograd.grad(ty.sum(), theirs, create_graph=True)
    (gx ** 2).sum().backward()
    (tgx ** 2).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_max_pool2d_ties_send_the_gradient_to_the_first_maximum_as_torch() -> None:
    """Every window ties: the gradient goes to the first element of each window, row by row,
    exactly as PyTorch's (and not split evenly, as ``Tensor.max`` does)."""
    torch = pytest.importorskip("torch")
    x = np.ones((1, 1, 4, 6))
    x[0, 0, 2:, 2:] = 2.0  # windows of 2s: ties among the larger values too
    for kernel, stride in ((2, 2), (3, 1)):
        ours, (theirs,) = tg.tensor(x, requires_grad=True), _torch_pair(torch, x)
        F.max_pool2d(ours, kernel, stride).sum().backward()
        torch.nn.functional.max_pool2d(theirs, kernel, stride).sum().backward()
        np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    expected = np.zeros((4, 6))
    expected[0::2, 0::2] = 1  # 2 x 2 windows, each one's top-left element
    ours = tg.tensor(x, requires_grad=True)
    F.max_pool2d(ours, 2).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy()[0, 0], expected)


def test_max_pool2d_nan_wins_as_in_torch() -> None:
    torch = pytest.importorskip("torch")
    x = np.arange(32.0).reshape(1, 2, 4, 4)
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = np.nan  # two NaNs in one window: the last one wins
    x[0, 1, 3, 3] = np.nan
    ours, (theirs,) = tg.tensor(x, requires_grad=True), _torch_pair(torch, x)
    y, idx = F.max_pool2d(ours, 2, return_indices=True)
    ty, tidx = torch.nn.functional.max_pool2d(theirs, 2, return_indices=True)
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())  # NaN where torch has NaN
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


# ------------------------------------------------------------------------- layouts and shapes

def test_results_do_not_depend_on_the_input_layout() -> None:
    """A transposed (non-contiguous) input, a batch-last one (what these ops return), and a
    contiguous one give the same values and gradients."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2, 6, 5))
    w = tg.tensor(rng.standard_normal((4, 2, 3, 3)))
    layouts = {"contiguous": x, "batch-last": np.ascontiguousarray(x.transpose(1, 2, 3, 0))
               .transpose(3, 0, 1, 2), "W-H swapped": np.ascontiguousarray(x.transpose(0, 1, 3, 2))
               .transpose(0, 1, 3, 2)}
    results = {}
    for name, array in layouts.items():
        t = tg.from_numpy(array).requires_grad_()
        y = F.max_pool2d(F.conv2d(t, w, padding=1), 2, 1) + F.avg_pool2d(t, 2, 1).sum()
        y.sum().backward()
        results[name] = (y.numpy(), t.grad.numpy())
    for name, (y, g) in results.items():
        np.testing.assert_allclose(y, results["contiguous"][0], rtol=1e-13, err_msg=name)
        np.testing.assert_allclose(g, results["contiguous"][1], rtol=1e-13, err_msg=name)


def test_one_image_of_three_axes(device: str) -> None:
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.standard_normal((2, 5, 5)), device=device)
    w = tg.tensor(rng.standard_normal((3, 2, 3, 3)), device=device)
    y = F.conv2d(x, w, padding=1)
    assert y.shape == (3, 5, 5)
    np.testing.assert_allclose(y.numpy(), F.conv2d(x.unsqueeze(0), w, padding=1).numpy()[0])
    assert F.max_pool2d(x, 2).shape == (2, 2, 2)
    values, indices = F.max_pool2d(x, 2, return_indices=True)
    assert values.shape == indices.shape == (2, 2, 2)
    assert F.avg_pool2d(x, 2).shape == (2, 2, 2)


def test_float32_stays_float32_and_matches_float64(device: str) -> None:
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((4, 3, 9, 9)), rng.standard_normal((5, 3, 3, 3)), np.ones(5)
    y64 = F.conv2d(*(tg.tensor(a, device=device) for a in (x, w, b)), padding=1)
    y32 = F.conv2d(*(tg.tensor(a, dtype="float32", device=device) for a in (x, w, b)),
                   padding=1)
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32.numpy(), y64.numpy(), rtol=1e-5, atol=1e-5)


def test_conv_weight_gradient_is_checked_against_in_place_changes() -> None:
    """The columns kept for the weight gradient are the input's values: changing the input in
    place before backward must raise, not give a stale gradient."""
    x = tg.randn(2, 1, 5, 5)
    w = tg.randn(2, 1, 3, 3, requires_grad=True)
    y = F.conv2d(x, w)
    x += 1
    with pytest.raises(RuntimeError, match="in-place"):
        y.sum().backward()


# ------------------------------------------------------------------------- batch_norm

@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (4, 3, 3, 2)], ids=str)
def test_batch_norm_training_and_running_statistics_match_torch(shape: tuple, device: str) -> None:
    """Three training steps (values, gradients, running statistics), then evaluation."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    c = shape[1]
    w, b = rng.standard_normal(c), rng.standard_normal(c)
    ours = [tg.tensor(a, device=device, requires_grad=True) for a in (w, b)]
    theirs = _torch_pair(torch, w, b)
    mean, var = tg.zeros(c, dtype="float64", device=device), tg.ones(c, dtype="float64",
                                                                         device=device)
    t_mean, t_var = torch.zeros(c, dtype=torch.float64), torch.ones(c, dtype=torch.float64)
    versions = []
    for step in range(3):
        x = rng.standard_normal(shape) * (step + 1) + step
        xo, (xt,) = tg.tensor(x, device=device, requires_grad=True), _torch_pair(torch, x)
        y = F.batch_norm(xo, mean, var, *ours, training=True, momentum=0.3)
        ty = torch.nn.functional.batch_norm(xt, t_mean, t_var, *theirs, training=True,
                                            momentum=0.3)
        np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
        g = rng.standard_normal(shape)
        y.backward(tg.tensor(g, device=device))
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(mean.numpy(), t_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(var.numpy(), t_var.numpy(), rtol=1e-12)
        versions.append(tg.autograd.version_of(mean))
    for a, t in zip(ours, theirs):  # accumulated over the three steps
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert versions == sorted(set(versions)), "each update is an in-place write, counted"
    x = rng.standard_normal(shape)
    y = F.batch_norm(tg.tensor(x, device=device), mean, var, *ours, training=False)
    ty = torch.nn.functional.batch_norm(torch.tensor(x), t_mean, t_var, *theirs, training=False)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mean.numpy(), t_mean.numpy(), rtol=1e-12)  # untouched in eval


def test_batch_norm_without_affine_and_gradients_in_evaluation() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 2, 3))
    ours, (theirs,) = tg.tensor(x, requires_grad=True), _torch_pair(torch, x)
    y = F.batch_norm(ours, None, None, training=True, eps=1e-3)
    ty = torch.nn.functional.batch_norm(theirs, None, None, training=True, eps=1e-3)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    (y ** 3).sum().backward()
    (ty ** 3).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-9, atol=1e-12)
    mean, var, w = tg.tensor([0.5, -1.0], dtype="float64"), tg.tensor([2.0, 0.5], dtype="float64"), \
        tg.tensor([1.5, -0.5], dtype="float64", requires_grad=True)
    gradcheck(lambda x, w: F.batch_norm(x, mean, var, w, None, training=False),
              [tg.tensor(x, requires_grad=True), w])


def test_batch_norm_second_derivatives_match_torch() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((4, 2, 3)), rng.standard_normal(2), rng.standard_normal(2)
    ours = [tg.tensor(a, requires_grad=True) for a in (x, w, b)]
    theirs = _torch_pair(torch, x, w, b)
    grads = tg.grad((F.batch_norm(ours[0], None, None, *ours[1:], training=True) ** 3).sum(),
                    ours, create_graph=True)
    t_grads = torch.autograd.grad((torch.nn.functional.batch_norm(
        theirs[0], None, None, *theirs[1:], training=True) ** 3).sum(), theirs, create_graph=True)
    sum((g ** 2).sum() for g in grads).backward()
    sum((g ** 2).sum() for g in t_grads).backward()
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_batch_norm_errors() -> None:
    x = tg.randn(4, 3, 2)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(tg.randn(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match=r"weight has shape \(2,\).*3 channels"):
        F.batch_norm(x, None, None, tg.ones(2), training=True)
    with pytest.raises(ValueError, match="running_mean and running_var"):
        F.batch_norm(x, None, None, training=False)
    with pytest.raises(ValueError, match="both"):
        F.batch_norm(x, tg.zeros(3), None, training=True)
    with pytest.raises(ValueError, match="batch and a channel axis"):
        F.batch_norm(tg.randn(4), None, None, training=True)


# ------------------------------------------------------------------------- dropout

def test_dropout_in_training_zeroes_and_rescales(device: str) -> None:
    tg.manual_seed(0)
    x = tg.ones(100, 100, device=device, requires_grad=True)
    y = F.dropout(x, 0.3)
    values = y.numpy()
    kept = values != 0
    np.testing.assert_allclose(values[kept], 1 / 0.7, rtol=1e-6)  # inverted dropout
    assert abs(kept.mean() - 0.7) < 0.025  # 10,000 draws: the standard deviation is 0.0046
    (y * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * values, rtol=1e-6)  # dy/dx is the mask


def test_dropout_mask_is_repeated_by_manual_seed_and_differs_otherwise(device: str) -> None:
    x = tg.ones(50, 40, device=device)
    tg.manual_seed(7)
    first, second = F.dropout(x).numpy(), F.dropout(x).numpy()
    tg.manual_seed(7)
    np.testing.assert_array_equal(F.dropout(x).numpy(), first)
    assert (first != second).any()


def test_dropout_evaluation_p0_p1_and_inplace(device: str) -> None:
    x = tg.randn(6, 7, device=device, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    y = F.dropout(x, 1.0)
    np.testing.assert_array_equal(y.numpy(), np.zeros((6, 7)))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((6, 7)))
    z = tg.ones(30, 30, device=device)
    tg.manual_seed(1)
    out = F.dropout(z, 0.5, inplace=True)
    assert out is z and set(np.unique(z.numpy())) == {0.0, 2.0}
    tg.manual_seed(1)
    np.testing.assert_array_equal(F.dropout(tg.ones(30, 30, device=device), 0.5).numpy(),
                                  z.numpy())


@pytest.mark.parametrize("p", [-0.1, 1.5, True, "0.5"])
def test_dropout_refuses_a_bad_probability(p: Any) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(tg.ones(3), p)


# ------------------------------------------------------------------------- argument errors

@pytest.mark.parametrize("call, error, match", [
    (lambda x, w: F.conv2d(x, w[:, :2]), ValueError, r"3 channels.*expects 2"),
    (lambda x, w: F.conv2d(x, w[:, :1], groups=3), ValueError, "divisible by groups"),
    (lambda x, w: F.conv2d(x, w.reshape(4, 27)), ValueError, "weight must be 4-D"),
    (lambda x, w: F.conv2d(x[0, 0], w), ValueError, "4-D input"),
    (lambda x, w: F.conv2d(x, w, tg.zeros(3)), ValueError, r"bias has shape \(3,\)"),
    (lambda x, w: F.conv2d(x, w, stride=0), ValueError, "stride must be a positive int"),
    (lambda x, w: F.conv2d(x, w, padding=-1), ValueError, "padding must be a non-negative"),
    (lambda x, w: F.conv2d(x, w, padding="full"), ValueError, "'valid', 'same'"),
    (lambda x, w: F.conv2d(x, w, stride=2, padding="same"), ValueError, "needs stride 1"),
    (lambda x, w: F.conv2d(x, w, dilation=4), ValueError, "larger than the padded input"),
    (lambda x, w: F.conv2d(x.astype("float64"), w), TypeError, "float64 but weight is float32"),
    (lambda x, w: F.conv2d(x.astype("int64"), w), TypeError, "floating-point"),
    (lambda x, w: F.max_pool2d(x, 2, padding=2), ValueError, "at most half"),
    (lambda x, w: F.max_pool2d(x, 2, padding=2, dilation=3), ValueError, "at most half"),
    (lambda x, w: F.max_pool2d(x, 9), ValueError, "larger than the padded input"),
    (lambda x, w: F.avg_pool2d(x, (2, 0)), ValueError, "kernel_size must be a positive"),
    (lambda x, w: F.avg_pool2d(x, 2, divisor_override=0), ValueError, "divisor_override"),
])
def test_conv_and_pool_errors_name_the_problem(call: Any, error: type, match: str) -> None:
    x, w = tg.randn(2, 3, 6, 6), tg.randn(4, 3, 3, 3)
    with pytest.raises(error, match=match):
        call(x, w)


def test_gradcheck_of_a_small_conv_net() -> None:
    """conv -> max pool -> conv -> avg pool, composed, float64 central differences."""
    rng = np.random.default_rng(5)
    x = tg.tensor(rng.standard_normal((2, 2, 7, 7)), requires_grad=True)
    w1 = tg.tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    w2 = tg.tensor(rng.standard_normal((2, 3, 2, 2)), requires_grad=True)

    def net(x, w1, w2):
        h = F.max_pool2d(F.conv2d(x, w1, padding=1).tanh(), 2)
        return F.avg_pool2d(F.conv2d(h, w2, padding=1), 2, 1)

    gradcheck(net, [x, w1, w2])
    gradgradcheck(net, [x, w1, w2])
