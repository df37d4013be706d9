"""Layers, with PyTorch's names, arguments, defaults and initialisation: ``Linear``,
``Sequential``, ``Flatten``, the activations (``ReLU``, ``LeakyReLU``, ``Sigmoid``, ``Tanh``,
``GELU``), and those of convolutional networks (``Conv2d``, ``MaxPool2d``, ``AvgPool2d``,
``BatchNorm1d``, ``BatchNorm2d``, ``Dropout``).

Each is a ``Module`` whose ``forward`` is a line or two of Tensor ops or one call of
``nn.functional`` (``Linear`` calls the fused ``F.linear``, ``Conv2d`` calls ``F.conv2d``);
``extra_repr`` gives the arguments shown by ``print(model)``, as PyTorch prints them.
Dropout and batch normalisation behave differently in training and evaluation: they follow
``self.training``, which ``model.train()`` and ``model.eval()`` set.
"""
from __future__ import annotations

import math
from typing import Any, Iterator

import numpy as np

from ..function import no_grad
from ..tensor import Tensor, ones, zeros
from . import functional as F
from . import init
from .module import Module, Parameter


class Linear(Module):
    """y = x @ weight.T + bias, with ``weight`` of shape (out_features, in_features) as in PyTorch.

    Both are initialised from U(-1/sqrt(in_features), 1/sqrt(in_features)), PyTorch's default,
    drawn from the library's generator so that ``manual_seed`` makes them repeatable (the
    weight is drawn first, then the bias). ``dtype`` defaults to float32.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype: Any = None, device: str | None = None) -> None:
        super().__init__()
        for what, n in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                raise ValueError(f"Linear: {what} must be a positive int, got {n!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        bound = 1.0 / math.sqrt(in_features)
        self.weight = _uniform_parameter((out_features, in_features), bound, dtype, device)
        self.bias = _uniform_parameter((out_features,), bound, dtype, device) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


def _uniform_parameter(shape: tuple[int, ...], bound: float, dtype: Any,
                       device: str | None) -> Parameter:
    """A parameter of ``shape`` drawn from U(-bound, bound)."""
    return init.uniform_(Parameter(zeros(shape, dtype=dtype, device=device)), -bound, bound)


class Sequential(Module):
    """Modules applied one after another: ``Sequential(Flatten(), Linear(784, 10))(x)``.

    They are registered as ``"0"``, ``"1"``, ..., so parameter names read ``"1.weight"``.
    Supports ``len``, iteration and indexing (a slice gives a new Sequential of the same
    modules).
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(f"Sequential: argument {i} is a {type(module).__name__}, not a "
                                "Module; pass layers such as nn.Linear(...) or nn.ReLU()")
            setattr(self, str(i), module)

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice) -> Module:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*modules[index])
        if not -len(modules) <= index < len(modules):
            raise IndexError(f"Sequential index {index} is out of range for {len(modules)} "
                             "modules")
        return modules[index]


class Flatten(Module):
    """Merge the axes from ``start_dim`` to ``end_dim`` into one; by default every axis but the
    batch axis, so images of shape (N, 1, 28, 28) become (N, 784)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        # Tensor.flatten wraps axes modulo ndim; a batch of the wrong rank should fail instead.
        start, end = self.start_dim, self.end_dim
        if not (-x.ndim <= start < x.ndim and -x.ndim <= end < x.ndim
                and start % x.ndim <= end % x.ndim):
            raise ValueError(f"Flatten(start_dim={start}, end_dim={end}) does not fit an input "
                             f"of shape {x.shape}")
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class ReLU(Module):
    """max(x, 0), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return x.relu()


# ---------------------------------------------------------------------------------------------
# Convolutional networks: convolution, pooling, batch normalisation, dropout, activations.
# ---------------------------------------------------------------------------------------------

class Conv2d(Module):
    """A 2-D convolution over images (N, C, H, W) (``F.conv2d``), with PyTorch's arguments:
    ``weight`` (out_channels, in_channels / groups, kh, kw) and ``bias`` (out_channels,).

    Both are initialised as PyTorch does (``kaiming_uniform_`` with a = sqrt(5), which comes to
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_channels / groups * kh * kw, and the
    same bound for the bias), drawn from the library's generator, weight first.
    ``padding`` is an int, a pair, ``"valid"`` or ``"same"``; only ``padding_mode="zeros"``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__()
        fn = "Conv2d"
        for what, n in (("in_channels", in_channels), ("out_channels", out_channels),
                        ("groups", groups)):
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                raise ValueError(f"{fn}: {what} must be a positive int, got {n!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{fn}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must both be divisible by groups ({groups})")
        if padding_mode != "zeros":
            raise NotImplementedError(f"{fn}: padding_mode={padding_mode!r} is not supported; "
                                      "only 'zeros'")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = F._pair(kernel_size, "kernel_size", fn)
        self.stride = F._pair(stride, "stride", fn)
        self.dilation = F._pair(dilation, "dilation", fn)
        # Checked now, as PyTorch does, so that a bad layer fails where it is built.
        F._conv_padding(padding, self.stride, self.dilation, self.kernel_size, fn)
        self.padding = padding if isinstance(padding, str) else \
            F._pair(padding, "padding", fn, minimum=0)
        self.groups, self.padding_mode = int(groups), padding_mode
        fan_in = in_channels // groups * self.kernel_size[0] * self.kernel_size[1]
        bound = 1.0 / math.sqrt(fan_in)
        self.weight = _uniform_parameter((out_channels, in_channels // groups) + self.kernel_size,
                                         bound, dtype, device)
        self.bias = _uniform_parameter((out_channels,), bound, dtype, device) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class MaxPool2d(Module):
    """The largest element of each window (``F.max_pool2d``); ``stride`` defaults to
    ``kernel_size``."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x: Tensor) -> Any:
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """The mean of each window (``F.avg_pool2d``); ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _BatchNorm(Module):
    """Batch normalisation per channel (``F.batch_norm``), with PyTorch's arguments and state.

    ``weight`` (ones) and ``bias`` (zeros) are parameters when ``affine`` (``bias=False``
    leaves out the bias, as in recent PyTorch). With
    ``track_running_stats``, the buffers ``running_mean`` (zeros), ``running_var`` (ones) and
    ``num_batches_tracked`` (an int64 count) are updated in training and used in evaluation
    (``model.eval()``); without, every batch is normalised by its own statistics.
    ``momentum=None`` makes the running statistics a plain average over all batches so far.
    """

    _ranks: tuple[int, ...] = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 device: str | None = None, dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__()
        name = type(self).__name__
        if isinstance(num_features, bool) or not isinstance(num_features, (int, np.integer)) \
                or num_features < 1:
            raise ValueError(f"{name}: num_features must be a positive int, got {num_features!r}")
        if not eps > 0:
            raise ValueError(f"{name}: eps must be > 0, got {eps!r}")
        if momentum is not None and not 0 <= momentum <= 1:
            raise ValueError(f"{name}: momentum must be in [0, 1] or None, got {momentum!r}")
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(ones(num_features, dtype=dtype, device=device))
            self.bias = Parameter(zeros(num_features, dtype=dtype, device=device)) if bias else None
        else:
            self.weight = self.bias = None
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var", ones(num_features, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked",
                                 zeros((), dtype=np.int64, device=device))
        else:
            for buffer in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(buffer, None)

    def reset_running_stats(self) -> None:
        """Running statistics back to mean 0, variance 1, no batches (in place)."""
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def forward(self, x: Tensor) -> Tensor:
        if isinstance(x, Tensor) and x.ndim not in self._ranks:
            ranks = " or ".join(f"{r}D" for r in self._ranks)
            raise ValueError(f"{type(self).__name__}: expected {ranks} input (got {x.ndim}D "
                             f"input of shape {x.shape})")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            with no_grad():
                self.num_batches_tracked += 1
            if self.momentum is None:  # the running statistics average every batch alike
                factor = 1.0 / int(self.num_batches_tracked.item())
        # Batch statistics in training, and in evaluation too when no running ones are kept.
        use_batch = self.training or self.running_mean is None
        keep = not self.training or self.track_running_stats
        return F.batch_norm(x, self.running_mean if keep else None,
                            self.running_var if keep else None, self.weight, self.bias,
                            use_batch, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, per channel C (see ``_BatchNorm``)."""

    _ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of images (N, C, H, W), per channel C (see ``_BatchNorm``)."""

    _ranks = (4,)


class Dropout(Module):
    """Zero each element with probability ``p`` in training and scale the rest by 1 / (1 - p)
    (``F.dropout``); the identity in evaluation (``model.eval()``)."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) \
                or not 0 <= p <= 1:
            raise ValueError(f"Dropout: probability p has to be between 0 and 1, but got {p!r}")
        self.p, self.inplace = p, inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class LeakyReLU(Module):
    """x where x >= 0, else negative_slope * x (``Tensor.leaky_relu``)."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        if inplace:
            raise NotImplementedError("LeakyReLU: inplace=True is not supported; use "
                                      "inplace=False (the default)")
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, x: Tensor) -> Tensor:
        return x.leaky_relu(self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """1 / (1 + exp(-x)), elementwise, computed without overflow."""

    def forward(self, x: Tensor) -> Tensor:
        return x.sigmoid()


class Tanh(Module):
    """tanh(x), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return x.tanh()


class GELU(Module):
    """x * Phi(x), Phi the standard normal CDF (``approximate="none"``), or its tanh
    approximation (``approximate="tanh"``), elementwise (``Tensor.gelu``)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate={approximate!r} is not valid; use 'none' or "
                             "'tanh'")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return x.gelu(approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"
