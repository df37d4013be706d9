"""Functions of tensors: the linear map, softmax, and the losses.

``huber_loss`` is a composition of Tensor ops, so its gradient comes from the ops' backward
rules with nothing written by hand. ``linear``, ``cross_entropy`` and ``mse_loss`` run on every
training batch, so each calls one fused op (``ops/nn.py``: a ``Function`` with its forward and
backward side by side) rather than a chain of small ones. Every loss checks its arguments first,
because a loss that silently broadcasts or wraps an index trains a wrong model without any error.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend, functions, tracing
from ..ops import MSE, CrossEntropy, LinearFunction
from ..ops import conv as _conv
from ..ops.nn import BatchNorm as _BatchNorm
from ..function import no_grad
from ..random import generator
from ..tensor import Tensor

REDUCTIONS = ("mean", "sum", "none")


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis``, computed without overflow (``Tensor.softmax``)."""
    return x.softmax(axis)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along ``axis``, exact even where softmax underflows to 0."""
    return x.log_softmax(axis)


# The activations, as torch.nn.functional names them: each is the Tensor method of its name.

def relu(x: Tensor) -> Tensor:
    return x.relu()


def sigmoid(x: Tensor) -> Tensor:
    return x.sigmoid()


def tanh(x: Tensor) -> Tensor:
    return x.tanh()


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return x.leaky_relu(negative_slope)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    return x.elu(alpha)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    return x.gelu(approximate)


def silu(x: Tensor) -> Tensor:
    return x.silu()


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return x.softplus(beta, threshold)


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return x.hardtanh(min_val, max_val)


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """int64 rows with a 1 at each label: ``tinygrad_sm.one_hot``."""
    return functions.one_hot(tensor, num_classes)


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
              "circular": "wrap"}


def pad(input: Tensor, pad: Any, mode: str = "constant", value: float = 0.0) -> Tensor:
    """PyTorch's ``F.pad``: ``pad`` lists (before, after) pairs from the LAST axis backwards,
    ``(left, right, top, bottom)`` for an image; ``Tensor.pad`` takes NumPy's pairs, first axis
    first. Modes: constant, reflect, replicate (NumPy's edge) and circular (NumPy's wrap)."""
    pad = tuple(pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: {pad} must hold (before, after) pairs for at most the "
                         f"{input.ndim} axes of a tensor of shape {input.shape}")
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode {mode!r} is not one of {sorted(_PAD_MODES)}")
    pairs = [(pad[i], pad[i + 1]) for i in range(0, len(pad), 2)][::-1]
    widths = [(0, 0)] * (input.ndim - len(pairs)) + pairs
    return input.pad(widths, value, mode=_PAD_MODES[mode])


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias over the last axis of ``x``, with ``weight`` of shape
    (out_features, in_features) as in PyTorch; ``x`` may have any leading axes."""
    if not isinstance(x, Tensor):
        x = Tensor(x, device=weight.device)
    if x.dtype.kind not in "fc":  # int or bool inputs take the weight's dtype, as x @ w.T would
        x = x.astype(weight.dtype)
    x_shape, w_shape = x._array.shape, weight._array.shape  # read once: this runs every step
    if len(w_shape) != 2 or not x_shape or x_shape[-1] != w_shape[1]:
        raise ValueError(f"linear: input of shape {x_shape} does not fit a weight of shape "
                         f"{w_shape}: the input's last axis must have weight.shape[1] = "
                         f"{w_shape[1] if len(w_shape) == 2 else '?'} features")
    params = (weight,) if bias is None else (weight, bias)
    for t in params:
        if t.device != x.device:
            raise RuntimeError(f"linear: the input is on {x.device!r} but a parameter is on "
                               f"{t.device!r}; move the model with model.to({x.device!r})")
    if bias is not None and bias._array.shape != (w_shape[0],):
        raise ValueError(f"linear: bias has shape {bias.shape}, expected ({w_shape[0]},)")
    if len(x_shape) == 2:
        return LinearFunction()(x, *params)
    out = LinearFunction()(x.reshape(-1, x_shape[-1]), *params)
    return out.reshape(x_shape[:-1] + (w_shape[0],))


def cross_entropy(logits: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """The cross-entropy loss of unnormalised ``logits`` (N, C) against class indices (N,):

        loss_i = -log_softmax(logits)[i, target_i] = logsumexp(logits_i) - logits_i[target_i]

    then the ``reduction``: ``"mean"`` (the default), ``"sum"``, or ``"none"`` (the N losses).
    It is exact for any logits (no log of 0, no overflow), and one fused op (``CrossEntropy``),
    since it runs on every training step. ``target`` is a Tensor or array of integer labels in
    [0, C).
    """
    _check_reduction(reduction, "cross_entropy")
    if not isinstance(logits, Tensor):
        raise TypeError(f"cross_entropy: logits must be a Tensor, got {type(logits).__name__}")
    if logits.ndim != 2 or logits.size == 0:
        raise ValueError(f"cross_entropy expects logits of shape (N, C) with N, C >= 1, got shape "
                         f"{logits.shape}; flatten any extra axes first")
    return CrossEntropy(_class_labels(target, logits), reduction)(logits)


def _class_labels(target: Any, logits: Tensor) -> Any:
    """``target`` as an integer array on the logits' device, after checking it against them."""
    n, classes = logits.shape
    labels = target._array if isinstance(target, Tensor) else target
    if isinstance(labels, (list, tuple)):
        labels = np.asarray(labels)
    if not hasattr(labels, "dtype"):
        raise TypeError(f"cross_entropy: target must be a Tensor or an array of class indices, "
                        f"got {type(target).__name__}")
    if labels.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: target must hold integer class indices, got dtype "
                        f"{labels.dtype}; convert it with .astype('int64')")
    if labels.shape != (n,):
        raise ValueError(f"cross_entropy: target has shape {tuple(labels.shape)} but logits have "
                         f"shape {logits.shape}; expected one class index per row, shape ({n},)")
    # One min and one max per batch: a negative label would otherwise wrap around silently.
    tracing.require(labels.min() >= 0, _BadLabel(classes), labels)
    tracing.require(labels.max() < classes, _BadLabel(classes), labels)
    return backend.to_device(labels, logits.device)


class _BadLabel:
    """The error for a label outside [0, classes), naming the first one."""

    def __init__(self, classes: int) -> None:
        self.classes = classes

    def __call__(self, labels: Any) -> ValueError:
        host = backend.to_host(labels)
        i = int(np.flatnonzero((host < 0) | (host >= self.classes))[0])
        return ValueError(f"cross_entropy: target[{i}] = {int(host[i])} is not a class index "
                          f"in [0, {self.classes}) (the logits have {self.classes} classes)")


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """The squared error (input - target)**2, averaged by default (PyTorch's: no factor 1/2).
    One fused op (``MSE``), since it runs on every training step of a regression."""
    _check_reduction(reduction, "mse_loss")
    return MSE(reduction)(input, _same_shape_target(input, target, "mse_loss"))


def huber_loss(input: Tensor, target: Any, delta: float = 1.0, reduction: str = "mean") -> Tensor:
    """Squared error near 0 and absolute error beyond ``delta``, so outliers pull less:

        loss = 0.5 d**2                  where |d| < delta
               delta (|d| - 0.5 delta)   elsewhere,        with d = input - target.

    The two pieces meet with the same value and slope at |d| = delta. With c = min(|d|, delta),
    both are 0.5 c**2 + delta (|d| - c): one formula, so nothing is computed (and nothing can
    overflow to inf) on the side that does not apply.
    """
    _check_reduction(reduction, "huber_loss")
    if not delta > 0:
        raise ValueError(f"huber_loss needs delta > 0, got {delta}")
    abs_diff = (input - _same_shape_target(input, target, "huber_loss")).abs()
    clipped = delta - (delta - abs_diff).relu()  # min(|d|, delta)
    return _reduce(clipped * clipped * 0.5 + (abs_diff - clipped) * delta, reduction)


def _same_shape_target(input: Tensor, target: Any, fn: str) -> Tensor:
    """``target`` as a Tensor on the input's device, with exactly the input's shape."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}: input must be a Tensor, got {type(input).__name__}")
    if not isinstance(target, Tensor):
        target = Tensor(target, device=input.device)
    if target.dtype.kind not in "fc" and input.dtype.kind in "fc":
        target = target.astype(input.dtype)  # integer targets take the input's float dtype
    if target.shape != input.shape:
        raise ValueError(
            f"{fn}: input has shape {input.shape} but target has shape {target.shape}; they must "
            f"be equal, since broadcasting them (e.g. (N, 1) against (N,) gives (N, N)) would "
            f"compute a wrong loss silently; reshape the target with .reshape{input.shape}")
    return target


def _check_reduction(reduction: str, fn: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{fn}: reduction={reduction!r} is not valid; use one of "
                         f"{', '.join(repr(r) for r in REDUCTIONS)}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


# ---------------------------------------------------------------------------------------------
# Convolution, pooling, dropout and batch normalisation: the ops of convolutional networks.
# Each checks its arguments, then calls the ops of ops/conv.py and ops/nn.py. Shapes follow
# PyTorch: images (N, C, H, W), or one image (C, H, W); weights (out, in / groups, kh, kw).
# ---------------------------------------------------------------------------------------------

def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """The 2-D convolution (a cross-correlation, as in PyTorch) of ``input`` (N, C, H, W) with
    ``weight`` (O, C / groups, kh, kw), plus ``bias`` (O,):

        y[n, o, p, q] = bias[o] + sum over c, i, j of
                        weight[o, c, i, j] * x[n, c, p*stride + i*dilation, q*stride + j*dilation]

    where x is ``input`` with ``padding`` zeros on each side and c runs over the C / groups
    input channels of o's group (``groups`` splits the channels into that many independent
    convolutions). The output is (N, O, OH, OW), OH = (H + 2 padding - dilation (kh - 1) - 1)
    // stride + 1. ``stride``, ``padding`` and ``dilation`` are an int or an (h, w) pair;
    ``padding`` may also be ``"valid"`` (none) or ``"same"`` (the output keeps H and W; stride
    1 only; an even kernel puts the extra row and column at the bottom and right, as PyTorch).
    A 3-D ``input`` (C, H, W) is one image and gives a 3-D output.
    """
    fn = "conv2d"
    _check_tensor(input, "input", fn)
    _check_tensor(weight, "weight", fn)
    if weight.ndim != 4:
        raise ValueError(f"{fn}: weight must be 4-D (out_channels, in_channels / groups, kh, kw), "
                         f"got shape {weight.shape}")
    x, unbatched = _batched_image(input, fn)
    params = [weight] if bias is None else [weight, bias]
    for name, t in zip(("weight", "bias"), params):
        _check_tensor(t, name, fn)
        _check_same(x, t, name, fn)
    groups = _positive_int(groups, "groups", fn)
    out_channels, per_group, kh, kw = weight.shape
    channels = x.shape[1]
    if out_channels % groups:
        raise ValueError(f"{fn}: out_channels = weight.shape[0] = {out_channels} must be divisible "
                         f"by groups = {groups}")
    if per_group * groups != channels:
        raise ValueError(f"{fn}: input of shape {tuple(input.shape)} has {channels} channels, but "
                         f"weight of shape {weight.shape} with groups={groups} expects "
                         f"{per_group * groups} (weight.shape[1] * groups); check in_channels")
    if bias is not None and bias.shape != (out_channels,):
        raise ValueError(f"{fn}: bias has shape {bias.shape}, expected ({out_channels},) (one per "
                         "output channel)")
    stride = _pair(stride, "stride", fn)
    dilation = _pair(dilation, "dilation", fn)
    pads = _conv_padding(padding, stride, dilation, (kh, kw), fn)
    window = _conv.Window(x.shape[2:], (kh, kw), stride, pads, dilation)
    _check_window_fits(window, x, fn)
    geometry = _conv.ConvGeometry(window, groups, x.shape, weight.shape)
    out = _conv.Conv2d(geometry)(x, *params)
    return out.squeeze(0) if unbatched else out


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """The largest element of each ``kernel_size`` window of ``input`` (N, C, H, W), sliding by
    ``stride`` (default: ``kernel_size``, windows side by side) over the image padded with
    ``padding`` times -inf on each side (at most half the window), windows ``dilation`` apart.
    ``ceil_mode`` rounds the output size up, keeping a last partial window.

    The gradient goes to the element that won each window; among ties, to the first (row by
    row), as in PyTorch. ``return_indices=True`` also returns each winner's flattened position
    h * W + w in its image, as int64. A 3-D ``input`` (C, H, W) is one image.
    """
    fn = "max_pool2d"
    window, x, unbatched = _pool_window(input, kernel_size, stride, padding, dilation, ceil_mode,
                                        fn)
    op = _conv.MaxPool2d(window)
    out = op(x)
    if unbatched:
        out = out.squeeze(0)
    if not return_indices:
        return out
    indices = Tensor._wrap(op.indices(), out.device)
    return out, (indices.squeeze(0) if unbatched else indices)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """The mean of each ``kernel_size`` window of ``input`` (N, C, H, W), sliding by ``stride``
    (default: ``kernel_size``) over the image padded with ``padding`` zeros on each side (at
    most half the window). The padding zeros count in each window's size when
    ``count_include_pad`` (the default), else only the pixels inside the image do;
    ``divisor_override`` divides every window's sum by that number instead. ``ceil_mode``
    rounds the output size up, as in PyTorch. A 3-D ``input`` (C, H, W) is one image.
    """
    fn = "avg_pool2d"
    window, x, unbatched = _pool_window(input, kernel_size, stride, padding, 1, ceil_mode, fn)
    if divisor_override is not None:
        divisor_override = _positive_int(divisor_override, "divisor_override", fn)
    scale = _conv.avg_pool_scale(window, bool(count_include_pad), divisor_override, x._xp,
                                 x.dtype)
    out = _conv.AvgPool2d(window, scale)(x)
    return out.squeeze(0) if unbatched else out


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Inverted dropout: in training, each element is zeroed with probability ``p`` and the others
    are scaled by 1 / (1 - p), so that the expected value is unchanged and evaluation needs no
    rescaling; with ``training=False``, ``input`` itself. ``p=1`` gives zeros.

    The mask is drawn from the library's generator (on the host, for every device), so
    ``manual_seed`` repeats it. ``inplace=True`` multiplies ``input`` by the mask in place.
    """
    fn = "dropout"
    _check_tensor(input, "input", fn)
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) \
            or not 0 <= p <= 1:
        raise ValueError(f"{fn}: probability p has to be between 0 and 1, but got {p!r}")
    if input.dtype.kind != "f":
        raise TypeError(f"{fn} needs a floating-point input, got {input.dtype}; convert it with "
                        ".astype('float32')")
    if not training or p == 0:
        return input
    keep = 1.0 - float(p)
    kept = generator().random(input.shape, dtype=np.float32) < keep
    mask = backend.to_device(kept, input.device).astype(input.dtype)
    if keep > 0:  # scaled so that the expected output is the input
        mask *= mask.dtype.type(1.0 / keep)
    mask = Tensor._wrap(mask, input.device)
    return input.mul_(mask) if inplace else input * mask


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalisation over every axis of ``input`` but the channels (axis 1): for (N, C),
    (N, C, L) and (N, C, H, W) inputs alike,

        y = (x - mean) / sqrt(var + eps) * weight + bias        (per channel)

    In training, mean and var are the batch's (var the biased variance, dividing by the n
    values per channel), and ``running_mean`` and ``running_var`` (when given) are updated in
    place, without recording a graph: running = (1 - momentum) running + momentum batch, with
    the unbiased variance (dividing by n - 1) for ``running_var``, as PyTorch does. Otherwise
    the running statistics are used and left alone. ``weight`` and ``bias`` (C,) are optional.
    The training-mode gradient is exact (one fused op, ``ops.BatchNorm``), second order included.
    """
    fn = "batch_norm"
    _check_tensor(input, "input", fn)
    if input.ndim < 2:
        raise ValueError(f"{fn}: input must have a batch and a channel axis, (N, C, ...), got "
                         f"shape {input.shape}")
    if input.dtype.kind != "f":
        raise TypeError(f"{fn} needs a floating-point input, got {input.dtype}")
    channels = input.shape[1]
    named = {"running_mean": running_mean, "running_var": running_var, "weight": weight,
             "bias": bias}
    for name, t in named.items():
        if t is None:
            continue
        _check_tensor(t, name, fn)
        if t.shape != (channels,):
            raise ValueError(f"{fn}: {name} has shape {t.shape}, but the input of shape "
                             f"{input.shape} has {channels} channels: expected ({channels},)")
        if t.device != input.device:
            raise RuntimeError(f"{fn}: the input is on {input.device!r} but {name} is on "
                               f"{t.device!r}; move the model with model.to({input.device!r})")
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{fn}: pass both running_mean and running_var, or neither")
    shape = (1, channels) + (1,) * (input.ndim - 2)
    if not training:
        if running_mean is None:
            raise ValueError(f"{fn}: evaluation (training=False) normalises with running_mean "
                             "and running_var, which are None; pass them, or training=True to "
                             "use the batch's statistics")
        # y = x * scale + shift: one product and one sum over the input, as PyTorch computes it.
        scale = Tensor._wrap(1.0 / input._xp.sqrt(running_var._array + eps), input.device)
        if weight is not None:
            scale = scale * weight
        shift = -running_mean * scale
        if bias is not None:
            shift = shift + bias
        return input * scale.astype(input.dtype).reshape(shape) + \
            shift.astype(input.dtype).reshape(shape)
    count = input.size // channels
    if count <= 1:
        raise ValueError(f"{fn}: expected more than 1 value per channel when training, got input "
                         f"of shape {input.shape}; use a larger batch, or evaluation mode")
    op = _BatchNorm(eps, weight is not None, bias is not None)
    out = op(input, *[t for t in (weight, bias) if t is not None])
    if running_mean is not None:
        with no_grad():
            mean = Tensor._wrap(op.mean, input.device)
            var = Tensor._wrap(op.var * (count / (count - 1)), input.device)
            running_mean.copy_(running_mean * (1 - momentum) + mean * momentum)
            running_var.copy_(running_var * (1 - momentum) + var * momentum)
    return out


def _check_tensor(t: Any, name: str, fn: str) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{fn}: {name} must be a Tensor, got {type(t).__name__}")


def _check_same(x: Tensor, t: Tensor, name: str, fn: str) -> None:
    """``t`` (a weight or bias) on x's device with x's dtype, as PyTorch requires."""
    if t.device != x.device:
        raise RuntimeError(f"{fn}: the input is on {x.device!r} but {name} is on {t.device!r}; "
                           f"move the model with model.to({x.device!r})")
    if t.dtype != x.dtype:
        raise TypeError(f"{fn}: the input is {x.dtype} but {name} is {t.dtype}; they must be the "
                        f"same: convert the input with .astype({str(t.dtype)!r})")


def _batched_image(input: Tensor, fn: str) -> tuple[Tensor, bool]:
    """``input`` as (N, C, H, W), and whether it was one (C, H, W) image."""
    if input.ndim not in (3, 4):
        raise ValueError(f"{fn}: expected a 4-D input (N, C, H, W) or a 3-D one (C, H, W), got "
                         f"shape {input.shape}")
    if input.dtype.kind != "f":
        raise TypeError(f"{fn} needs a floating-point input, got {input.dtype}; convert it with "
                        ".astype('float32')")
    if input.ndim == 3:
        return input.unsqueeze(0), True
    return input, False


def _pair(value: Any, name: str, fn: str, minimum: int = 1) -> tuple[int, int]:
    """An int or a pair of ints, each >= ``minimum``, as (h, w)."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, (int, np.integer))
                             or v < minimum for v in pair):
        kind = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{fn}: {name} must be a {kind} int or a pair of them (h, w), got "
                         f"{value!r}")
    return int(pair[0]), int(pair[1])


def _positive_int(value: Any, name: str, fn: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{fn}: {name} must be a positive int, got {value!r}")
    return int(value)


def _conv_padding(padding: Any, stride: tuple[int, int], dilation: tuple[int, int],
                  kernel: tuple[int, int], fn: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """((top, bottom), (left, right)) from an int, a pair, ``"valid"`` or ``"same"``."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding != "same":
            raise ValueError(f"{fn}: padding={padding!r} is not valid; use 'valid', 'same', an "
                             "int or a pair of ints")
        if stride != (1, 1):
            raise ValueError(f"{fn}: padding='same' needs stride 1 (got stride={stride}); pad "
                             "explicitly with an int for strided convolutions")
        # The output keeps the input's size: d (k - 1) padding in all, the odd one after.
        totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
        return (totals[0] // 2, totals[0] - totals[0] // 2), (totals[1] // 2,
                                                               totals[1] - totals[1] // 2)
    ph, pw = _pair(padding, "padding", fn, minimum=0)
    return (ph, ph), (pw, pw)


def _check_window_fits(window: Any, x: Tensor, fn: str) -> None:
    if min(window.out) < 1:
        (top, bottom), (left, right) = window.padding
        span = tuple(d * (k - 1) + 1 for k, d in zip(window.kernel, window.dilation))
        raise ValueError(
            f"{fn}: the window (kernel with dilation: {span[0]} x {span[1]}) is larger than the "
            f"padded input ({x.shape[2] + top + bottom} x {x.shape[3] + left + right}, from an "
            f"input of shape {x.shape}); use a smaller kernel or more padding")


def _pool_window(input: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
                 ceil_mode: bool, fn: str) -> tuple[Any, Tensor, bool]:
    """The checked window of a pooling op, the input as (N, C, H, W), and whether it was 3-D."""
    _check_tensor(input, "input", fn)
    x, unbatched = _batched_image(input, fn)
    kernel = _pair(kernel_size, "kernel_size", fn)
    stride = kernel if stride is None or stride == [] or stride == () else \
        _pair(stride, "stride", fn)
    dilation = _pair(dilation, "dilation", fn)
    pads = _pair(padding, "padding", fn, minimum=0)
    for p, k in zip(pads, kernel):
        if p > k // 2:  # PyTorch's rule: else a window could hold nothing but padding
            raise ValueError(f"{fn}: padding should be at most half of kernel_size, but got "
                             f"padding={padding} and kernel_size={kernel_size}")
    window = _conv.Window(x.shape[2:], kernel, stride, ((pads[0], pads[0]), (pads[1], pads[1])),
                          dilation, bool(ceil_mode))
    _check_window_fits(window, x, fn)
    return window, x, unbatched
