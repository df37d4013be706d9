"""tinygrad_sm: a small, readable reverse-mode autograd engine over NumPy (CPU) and CuPy (GPU).

    >>> import tinygrad_sm as tg
    >>> x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x ** 3).sum().backward()
    >>> x.grad
    tensor([ 3., 12., 27.])

The names follow PyTorch, so that code written for it runs with ``import tinygrad_sm as torch``:
the dtypes (``tg.float32``, ``tg.long``), ``tg.device``, ``tg.cuda``, and the torch-level
functions (``tg.matmul``, ``tg.exp``, ... in ``functions.py``).
"""
import numpy as _np

from .autograd import Function, enable_grad, grad, is_grad_enabled, no_grad
from .debug import detect_anomaly
from .tensor import (Tensor, arange, as_tensor, from_numpy, full, full_like, normal, ones,
                     ones_like, rand, randn, tensor, zeros, zeros_like)
from .backend import cuda_available, device
from .functions import *  # noqa: F401,F403  (matmul, exp, ...: the torch-level functions)
from .functions import __all__ as _functions
from .gradcheck import gradcheck, gradgradcheck
from .jit import JitError, jit
from .random import manual_seed
from . import cuda, nn, optim, utils  # tg.cuda, tg.nn, tg.optim, tg.utils.data, as in torch

# The dtypes, by NumPy's names and PyTorch's (tg.float is float32 and tg.long int64, as in torch).
float16 = half = _np.dtype("float16")
float32 = float = _np.dtype("float32")  # noqa: A001
float64 = double = _np.dtype("float64")
int8 = _np.dtype("int8")
int16 = short = _np.dtype("int16")
int32 = int = _np.dtype("int32")  # noqa: A001
int64 = long = _np.dtype("int64")
uint8 = _np.dtype("uint8")
bool = bool_ = _np.dtype("bool")  # noqa: A001

__version__ = "0.1.0"

__all__ = [
    "Tensor", "tensor", "from_numpy", "as_tensor", "zeros", "ones", "zeros_like", "ones_like",
    "full", "full_like", "arange", "rand", "randn", "normal", "manual_seed", "grad", "no_grad",
    "enable_grad", "is_grad_enabled", "Function", "detect_anomaly", "jit", "JitError", "gradcheck",
    "gradgradcheck", "cuda_available", "device",
    "float16", "half", "float32", "float", "float64", "double", "int8", "int16", "short",
    "int32", "int", "int64", "long", "uint8", "bool", "bool_", "cuda", "nn", "optim", "utils",
    *_functions,
]
