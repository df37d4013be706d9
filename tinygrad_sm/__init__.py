"""tinygrad_sm: a small, readable reverse-mode autograd engine over NumPy (CPU) and CuPy (GPU).

    >>> import tinygrad_sm as tg
    >>> x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x ** 3).sum().backward()
    >>> x.grad
    tensor([ 3., 12., 27.])
"""
import numpy as _np

# tensor comes first: it imports the engine (autograd) and the ops once Tensor is defined.
from .tensor import (Tensor, arange, normal, ones, ones_like, rand, randn, tensor, zeros,  # isort: skip
                     zeros_like)
from .autograd import Function, enable_grad, grad, is_grad_enabled, no_grad
from .backend import cuda_available
from .gradcheck import gradcheck, gradgradcheck
from .random import manual_seed
from . import nn, optim  # noqa: E402  (tg.nn and tg.optim, as torch.nn and torch.optim)

float16 = _np.dtype("float16")
float32 = _np.dtype("float32")
float64 = _np.dtype("float64")
int32 = _np.dtype("int32")
int64 = _np.dtype("int64")
uint8 = _np.dtype("uint8")
bool_ = _np.dtype("bool")

__version__ = "0.1.0"

__all__ = [
    "Tensor", "tensor", "zeros", "ones", "zeros_like", "ones_like", "arange", "rand", "randn",
    "normal", "manual_seed", "grad", "no_grad", "enable_grad", "is_grad_enabled", "Function",
    "gradcheck", "gradgradcheck", "cuda_available", "float16", "float32", "float64", "int32",
    "int64", "uint8", "bool_", "nn", "optim",
]
