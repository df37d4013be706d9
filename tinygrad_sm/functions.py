"""The torch-level functions: ``tinygrad_sm.exp(x)`` is ``x.exp()``, and so on.

Code written for PyTorch calls ops as functions of the ``torch`` module (``torch.matmul(X, w)``,
``torch.exp(X)``); with ``import tinygrad_sm as torch`` these are they. Each one calls the
Tensor method of the same name, so the op, its gradient and its docstring live in one place.
A non-Tensor argument (a number, a list, an array) is made into a tensor first.

They take PyTorch's argument names (``dim``, ``keepdim``) as well as NumPy's (``axis``,
``keepdims``). One deliberate difference from the methods: ``max(x, dim)`` and ``min(x, dim)``
return the pair (values, indices), as ``torch.max`` does, where ``x.max(dim)`` gives the values
only, as NumPy's ``max`` does.
"""
from __future__ import annotations

import builtins
from collections import namedtuple
from typing import Any

import numpy as _np

from . import debug
from .ops.index import one_hot_array as _one_hot_array
from .ops.linalg import einsum_tensors as _einsum_tensors
from .ops.shape import Cat as _Cat
from .tensor import Tensor, _single_axis, as_tensor

# Each block of functions below lists its names; __all__ (at the end) gathers them.
_CORE = ["matmul", "exp", "log", "sqrt", "abs", "relu", "sigmoid", "tanh", "softmax",
         "log_softmax", "logsumexp", "sum", "mean", "max", "min", "argmax", "argmin", "reshape",
         "flatten", "transpose", "squeeze", "unsqueeze", "clone", "numel", "is_tensor", "trace"]

# What torch.max(x, dim) and torch.min(x, dim) return: a named pair.
MaxMin = namedtuple("MaxMin", ["values", "indices"])


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else as_tensor(x)


def trace(input: Any = None) -> Any:
    """Two things share PyTorch's name ``trace``, told apart by the argument:

    * ``trace(x)``: the sum of the diagonal of the matrix ``x``, as ``torch.trace(x)``
      (``x.trace()``);
    * ``trace()``: ``with tg.trace() as t: ...`` records every step of the backward passes run
      inside, for watching the chain rule work (``tinygrad_sm.debug.trace``).
    """
    if input is None:
        return debug.trace()
    return _tensor(input).trace()


def is_tensor(obj: Any) -> bool:
    """True for a ``Tensor`` (``Parameter`` included)."""
    return isinstance(obj, Tensor)


def matmul(input: Any, other: Any) -> Tensor:
    """``input @ other``, with NumPy's rules for 1-D and batched operands."""
    return _tensor(input) @ other


def exp(input: Any) -> Tensor:
    return _tensor(input).exp()


def log(input: Any) -> Tensor:
    return _tensor(input).log()


def sqrt(input: Any) -> Tensor:
    return _tensor(input).sqrt()


def abs(input: Any) -> Tensor:  # noqa: A001  (torch.abs)
    return _tensor(input).abs()


def relu(input: Any) -> Tensor:
    return _tensor(input).relu()


def sigmoid(input: Any) -> Tensor:
    return _tensor(input).sigmoid()


def tanh(input: Any) -> Tensor:
    return _tensor(input).tanh()


def softmax(input: Any, dim: int = -1, *, axis: int | None = None) -> Tensor:
    return _tensor(input).softmax(dim if axis is None else axis)


def log_softmax(input: Any, dim: int = -1, *, axis: int | None = None) -> Tensor:
    return _tensor(input).log_softmax(dim if axis is None else axis)


def logsumexp(input: Any, dim: Any = -1, keepdim: bool = False, *, axis: Any = None,
              keepdims: bool | None = None) -> Tensor:
    return _tensor(input).logsumexp(dim if axis is None else axis,
                                    keepdim if keepdims is None else keepdims)


def sum(input: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None,  # noqa: A001
        keepdims: bool | None = None) -> Tensor:
    return _tensor(input).sum(dim, keepdim, **_numpy_spelling(axis, keepdims))


def mean(input: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
         keepdims: bool | None = None) -> Tensor:
    return _tensor(input).mean(dim, keepdim, **_numpy_spelling(axis, keepdims))


def max(input: Any, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """The largest element; with ``dim``, the pair ``(values, indices)`` along it; with a
    tensor in place of ``dim``, the elementwise ``maximum`` of the two, as ``torch.max``."""
    x = _tensor(input)
    if isinstance(dim, Tensor):
        return x.maximum(dim)
    if dim is None:
        return x.max()
    return MaxMin(x.max(dim, keepdim), x.argmax(dim, keepdim))


def min(input: Any, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """The smallest element; with ``dim``, the pair ``(values, indices)`` along it; with a
    tensor in place of ``dim``, the elementwise ``minimum`` of the two, as ``torch.min``."""
    x = _tensor(input)
    if isinstance(dim, Tensor):
        return x.minimum(dim)
    if dim is None:
        return x.min()
    return MaxMin(x.min(dim, keepdim), x.argmin(dim, keepdim))


def argmax(input: Any, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return _tensor(input).argmax(dim, keepdim)


def argmin(input: Any, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return _tensor(input).argmin(dim, keepdim)


def reshape(input: Any, shape: Any) -> Tensor:
    return _tensor(input).reshape(shape)


def flatten(input: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    return _tensor(input).flatten(start_dim, end_dim)


def transpose(input: Any, dim0: int, dim1: int) -> Tensor:
    """``input`` with axes ``dim0`` and ``dim1`` swapped, as ``torch.transpose``."""
    return _tensor(input).swapaxes(dim0, dim1)


def squeeze(input: Any, dim: Any = None) -> Tensor:
    return _tensor(input).squeeze(dim)


def unsqueeze(input: Any, dim: int) -> Tensor:
    return _tensor(input).unsqueeze(dim)


def clone(input: Tensor) -> Tensor:
    return _tensor(input).clone()


def numel(input: Tensor) -> int:
    return _tensor(input).numel()


def _numpy_spelling(axis: Any, keepdims: bool | None) -> dict[str, Any]:
    """NumPy's ``axis``/``keepdims``, passed on as PyTorch's ``dim``/``keepdim`` keywords."""
    spelled: dict[str, Any] = {}
    if axis is not None:
        spelled["dim"] = axis
    if keepdims is not None:
        spelled["keepdim"] = keepdims
    return spelled


# ---------------------------------------------- joining, splitting, shapes, indexing
# (ops/shape.py, ops/index.py)

# cat, stack and one_hot have no Tensor method (they take a list, or make integers), so this
# block reaches their op and helpers directly.


# trace is not in this list: it is defined above, since the name serves both the sum of a
# diagonal and the backward-step recorder (debug.py).
_SHAPES: list[str] = [
    "cat", "concatenate", "concat", "stack", "split", "chunk", "array_split", "tensor_split",
    "unbind", "expand_dims", "tile", "repeat_interleave", "flip", "roll", "pad", "moveaxis",
    "movedim", "permute", "swapaxes", "swapdims", "diag", "diagonal", "diag_embed",
    "triu", "tril", "gather", "take_along_dim", "take_along_axis", "scatter_add", "index_add",
    "index_select", "masked_fill", "one_hot",
]


def _joinable(tensors: Any, what: str) -> list[Tensor]:
    """A list of tensors to join: on one device, in the dtype that ``+`` would give them."""
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{what} takes a list or tuple of tensors, got "
                        f"{type(tensors).__name__}: {what}([a, b]), not {what}(a, b)")
    if not tensors:
        raise ValueError(f"{what} needs at least one tensor, got an empty {type(tensors).__name__}")
    ts = [_tensor(t) for t in tensors]
    for t in ts[1:]:
        if t.device != ts[0].device:
            raise RuntimeError(f"{what}: tensors on {ts[0].device!r} and {t.device!r}; move them "
                               f"to one device first (.to({ts[0].device!r}))")
    dtypes = [t.dtype for t in ts]
    if builtins.any(d != dtypes[0] for d in dtypes):
        floats = [d for d in dtypes if d.kind in "fc"]
        # As for binary ops: an integer tensor joining a float one takes the float's dtype.
        dtype = _np.result_type(*floats) if floats else _np.result_type(*dtypes)
        ts = [t.astype(dtype) for t in ts]
    return ts


def cat(tensors: Any, dim: int = 0, *, axis: int | None = None) -> Tensor:
    """The tensors joined along an existing axis ``dim`` (``axis``), as ``torch.cat`` and
    ``numpy.concatenate``: their shapes must agree except along it. Each tensor's gradient is
    its own slice of the output's. Mixed dtypes are promoted as ``+`` promotes them.

        >>> tg.cat([tg.zeros(2, 3), tg.ones(1, 3)]).shape
        (3, 3)
    """
    ts = _joinable(tensors, "cat")
    shape = ts[0].shape
    if len(shape) == 0:
        raise ValueError("cat joins along an existing axis, and a 0-d tensor has none; use "
                         "stack, which adds one")
    a = _single_axis(dim if axis is None else axis, len(shape))
    for i, t in enumerate(ts):
        if t.ndim != len(shape) or t.shape[:a] + t.shape[a + 1:] != shape[:a] + shape[a + 1:]:
            raise ValueError(f"cat along axis {a}: tensor {i} has shape {t.shape}, tensor 0 has "
                             f"{shape}; the shapes must agree except along axis {a}")
    return _Cat(a)(*ts)


concatenate = concat = cat


def stack(tensors: Any, dim: int = 0, *, axis: int | None = None) -> Tensor:
    """The tensors, all of one shape, joined along a new axis ``dim`` (``axis``), as
    ``torch.stack`` and ``numpy.stack``: n tensors of shape (3,) stack into (n, 3) with
    ``dim=0`` and into (3, n) with ``dim=1``. The inverse of ``unbind``."""
    ts = _joinable(tensors, "stack")
    for i, t in enumerate(ts):
        if t.shape != ts[0].shape:
            raise ValueError(f"stack: tensor {i} has shape {t.shape}, tensor 0 has "
                             f"{ts[0].shape}; stacked tensors must all have the same shape")
    a = _single_axis(dim if axis is None else axis, ts[0].ndim + 1)
    return _Cat(a)(*[t.unsqueeze(a) for t in ts])


def split(tensor: Any, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """``tensor.split(...)``: PyTorch's ``split`` (lengths of pieces; NumPy's ``split`` is
    ``array_split``)."""
    return _tensor(tensor).split(split_size_or_sections, dim)


def chunk(input: Any, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    return _tensor(input).chunk(chunks, dim)


def array_split(ary: Any, indices_or_sections: Any, axis: int = 0) -> tuple[Tensor, ...]:
    """NumPy's ``array_split`` (and ``split`` with sections that divide the axis evenly)."""
    return _tensor(ary).array_split(indices_or_sections, axis)


def tensor_split(input: Any, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """``torch.tensor_split``: NumPy's ``array_split`` under PyTorch's name."""
    return _tensor(input).array_split(indices_or_sections, dim)


def unbind(input: Any, dim: int = 0) -> tuple[Tensor, ...]:
    return _tensor(input).unbind(dim)


def expand_dims(a: Any, axis: Any) -> Tensor:
    return _tensor(a).expand_dims(axis)


def tile(input: Any, dims: Any) -> Tensor:
    """``numpy.tile`` and ``torch.tile`` (= ``Tensor.repeat``); there is deliberately no
    ``tinygrad_sm.repeat``: NumPy's ``repeat`` is ``repeat_interleave``."""
    return _tensor(input).tile(dims)


def repeat_interleave(input: Any, repeats: Any, dim: int | None = None) -> Tensor:
    return _tensor(input).repeat_interleave(repeats, dim)


def flip(input: Any, dims: Any = None, *, axis: Any = None) -> Tensor:
    return _tensor(input).flip(dims=dims, axis=axis)


def roll(input: Any, shifts: Any, dims: Any = None, *, axis: Any = None) -> Tensor:
    return _tensor(input).roll(shifts, dims, axis=axis)


def pad(input: Any, pad_width: Any, value: Any = 0, *, mode: str = "constant") -> Tensor:
    """NumPy's ``pad``: ``pad_width`` first axis first (PyTorch's ``F.pad`` goes last axis
    first)."""
    return _tensor(input).pad(pad_width, value, mode=mode)


def moveaxis(input: Any, source: Any, destination: Any) -> Tensor:
    return _tensor(input).moveaxis(source, destination)


movedim = moveaxis


def permute(input: Any, dims: Any) -> Tensor:
    return _tensor(input).permute(dims)


def swapaxes(input: Any, axis0: int, axis1: int) -> Tensor:
    return _tensor(input).swapaxes(axis0, axis1)


swapdims = swapaxes


def diag(input: Any, diagonal: int = 0) -> Tensor:
    return _tensor(input).diag(diagonal)


def diagonal(input: Any, offset: int = 0, dim1: int = 0, dim2: int = 1, *,
             axis1: int | None = None, axis2: int | None = None) -> Tensor:
    return _tensor(input).diagonal(offset, dim1, dim2, axis1=axis1, axis2=axis2)


def diag_embed(input: Any, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    return _tensor(input).diag_embed(offset, dim1, dim2)


def triu(input: Any, diagonal: int = 0, *, k: int | None = None) -> Tensor:
    return _tensor(input).triu(diagonal, k=k)


def tril(input: Any, diagonal: int = 0, *, k: int | None = None) -> Tensor:
    return _tensor(input).tril(diagonal, k=k)


def gather(input: Any, dim: int, index: Any) -> Tensor:
    return _tensor(input).gather(dim, index)


def take_along_dim(input: Any, indices: Any, dim: int | None = None) -> Tensor:
    return _tensor(input).take_along_dim(indices, dim)


def take_along_axis(arr: Any, indices: Any, axis: int | None = -1) -> Tensor:
    """NumPy's ``take_along_axis`` (its default axis, -1, included); ``take_along_dim``."""
    return _tensor(arr).take_along_dim(indices, axis)


def scatter_add(input: Any, dim: int, index: Any, src: Any) -> Tensor:
    return _tensor(input).scatter_add(dim, index, src)


def index_add(input: Any, dim: int, index: Any, source: Any, *, alpha: float = 1) -> Tensor:
    return _tensor(input).index_add(dim, index, source, alpha=alpha)


def index_select(input: Any, dim: int, index: Any) -> Tensor:
    return _tensor(input).index_select(dim, index)


def masked_fill(input: Any, mask: Any, value: Any) -> Tensor:
    return _tensor(input).masked_fill(mask, value)


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """int64 rows with a 1 at each label and 0 elsewhere: shape ``tensor.shape +
    (num_classes,)``, as ``torch.nn.functional.one_hot``. ``num_classes=-1`` takes the largest
    label + 1. Labels are integers, so there is no gradient.

        >>> tg.one_hot(tg.tensor([0, 2]), 3)
        tensor([[1, 0, 0],
                [0, 0, 1]])
    """
    labels = _tensor(tensor)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot needs integer labels, got dtype {labels.dtype}; convert them "
                        "with .astype('int64')")
    if num_classes == -1:
        if labels.size == 0:
            raise ValueError("one_hot cannot infer num_classes from no labels; pass num_classes")
        num_classes = int(labels._array.max()) + 1
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 0:
        raise ValueError(f"one_hot: num_classes must be a non-negative int or -1, got "
                         f"{num_classes!r}")
    if labels.size:
        low, high = int(labels._array.min()), int(labels._array.max())
        if low < 0 or high >= num_classes:
            raise ValueError(f"one_hot: label {low if low < 0 else high} is outside 0 to "
                             f"{num_classes - 1} (num_classes={num_classes})")
    return Tensor._wrap(_one_hot_array(labels._array, num_classes), labels.device)


# ---------------------------------------------- elementwise, reductions, linear algebra
# (ops/elementwise.py, ops/reduce.py, ops/linalg.py)

# Several of these names (all, any, round, pow-like max/min) are Python builtins too: this
# module's own code reaches the builtins as builtins.all, builtins.any, ...


_MATH: list[str] = [
    "maximum", "minimum", "where", "clamp", "clip", "sign", "floor", "ceil", "round", "trunc",
    "remainder", "fmod", "reciprocal", "log1p", "expm1", "log2", "log10", "sin", "cos", "tan",
    "arcsin", "arccos", "arctan", "asin", "acos", "atan", "arctan2", "atan2", "sinh", "cosh",
    "erf", "softplus", "leaky_relu", "elu", "gelu", "silu", "hardtanh", "logaddexp", "prod",
    "var", "std", "cumsum", "cumprod", "norm", "all", "any", "einsum", "tensordot", "outer",
    "inner", "dot",
]


def _pair(input: Any, other: Any) -> tuple[Tensor, Any]:
    """The first tensor of a binary function: ``input``, or ``other``'s kind of tensor when
    only ``other`` is one (``tg.maximum(0.0, x)`` is on x's device, in x's dtype)."""
    if isinstance(input, Tensor) or not isinstance(other, Tensor):
        return _tensor(input), other
    a, b = other._operands(input)
    return b, a


def maximum(input: Any, other: Any) -> Tensor:
    """The larger of the two, elementwise (ties split the gradient evenly)."""
    a, b = _pair(input, other)
    return a.maximum(b)


def minimum(input: Any, other: Any) -> Tensor:
    """The smaller of the two, elementwise (ties split the gradient evenly)."""
    a, b = _pair(input, other)
    return a.minimum(b)


def where(condition: Any, input: Any = None, other: Any = None) -> Any:
    """``input`` where ``condition`` holds, else ``other`` (broadcasting), as ``torch.where``
    and ``numpy.where``; either may be a number. With the condition alone, the indices where
    it holds, one tensor per axis (``torch.where(c)``, ``numpy.nonzero``)."""
    if input is None and other is None:
        cond = _tensor(condition)
        return tuple(as_tensor(i, device=cond.device) for i in cond._xp.nonzero(cond._array))
    if input is None or other is None:
        raise TypeError("where takes a condition alone, or a condition and two values: "
                        "where(condition, input, other)")
    a, b = _pair(input, other)
    return a.where(condition, b)


def clamp(input: Any, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """Each element limited to [min, max] (either may be left out); gradient 1 inside,
    bounds included, as in PyTorch."""
    return _tensor(input).clamp(min, max)


clip = clamp


def sign(input: Any) -> Tensor:
    return _tensor(input).sign()


def floor(input: Any) -> Tensor:
    return _tensor(input).floor()


def ceil(input: Any) -> Tensor:
    return _tensor(input).ceil()


def round(input: Any, decimals: int = 0) -> Tensor:  # noqa: A001
    """Halves to even, as ``torch.round`` and ``numpy.round``."""
    return _tensor(input).round(decimals)


def trunc(input: Any) -> Tensor:
    return _tensor(input).trunc()


def remainder(input: Any, other: Any) -> Tensor:
    """``input % other``: the sign of ``other``, as Python's ``%``."""
    a, b = _pair(input, other)
    return a.remainder(b)


def fmod(input: Any, other: Any) -> Tensor:
    """The remainder with the sign of ``input``, as C's ``fmod``."""
    a, b = _pair(input, other)
    return a.fmod(b)


def reciprocal(input: Any) -> Tensor:
    return _tensor(input).reciprocal()


def log1p(input: Any) -> Tensor:
    return _tensor(input).log1p()


def expm1(input: Any) -> Tensor:
    return _tensor(input).expm1()


def log2(input: Any) -> Tensor:
    return _tensor(input).log2()


def log10(input: Any) -> Tensor:
    return _tensor(input).log10()


def sin(input: Any) -> Tensor:
    return _tensor(input).sin()


def cos(input: Any) -> Tensor:
    return _tensor(input).cos()


def tan(input: Any) -> Tensor:
    return _tensor(input).tan()


def arcsin(input: Any) -> Tensor:
    return _tensor(input).arcsin()


def arccos(input: Any) -> Tensor:
    return _tensor(input).arccos()


def arctan(input: Any) -> Tensor:
    return _tensor(input).arctan()


asin, acos, atan = arcsin, arccos, arctan


def arctan2(input: Any, other: Any) -> Tensor:
    """The angle of the point (other, input): ``input`` is the y coordinate."""
    a, b = _pair(input, other)
    return a.arctan2(b)


atan2 = arctan2


def sinh(input: Any) -> Tensor:
    return _tensor(input).sinh()


def cosh(input: Any) -> Tensor:
    return _tensor(input).cosh()


def erf(input: Any) -> Tensor:
    return _tensor(input).erf()


def softplus(input: Any, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return _tensor(input).softplus(beta, threshold)


def leaky_relu(input: Any, negative_slope: float = 0.01) -> Tensor:
    return _tensor(input).leaky_relu(negative_slope)


def elu(input: Any, alpha: float = 1.0) -> Tensor:
    return _tensor(input).elu(alpha)


def gelu(input: Any, approximate: str = "none") -> Tensor:
    return _tensor(input).gelu(approximate)


def silu(input: Any) -> Tensor:
    return _tensor(input).silu()


def hardtanh(input: Any, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return _tensor(input).hardtanh(min_val, max_val)


def logaddexp(input: Any, other: Any) -> Tensor:
    a, b = _pair(input, other)
    return a.logaddexp(b)


def prod(input: Any, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
         axis: Any = None, keepdims: bool | None = None) -> Tensor:
    return _tensor(input).prod(dim, keepdim, dtype=dtype, **_numpy_spelling(axis, keepdims))


def var(input: Any, dim: Any = None, *, correction: float | None = None, keepdim: bool = False,
        ddof: float | None = None, unbiased: bool | None = None, axis: Any = None,
        keepdims: bool | None = None) -> Tensor:
    """The variance, with ``correction=1`` (unbiased) by default as in PyTorch; ``ddof`` is
    NumPy's name for ``correction`` (NumPy's default is 0)."""
    return _tensor(input).var(dim, correction=correction, ddof=ddof, unbiased=unbiased,
                              keepdims=keepdim, **_numpy_spelling(axis, keepdims))


def std(input: Any, dim: Any = None, *, correction: float | None = None, keepdim: bool = False,
        ddof: float | None = None, unbiased: bool | None = None, axis: Any = None,
        keepdims: bool | None = None) -> Tensor:
    """sqrt(var), with ``var``'s arguments."""
    return _tensor(input).std(dim, correction=correction, ddof=ddof, unbiased=unbiased,
                              keepdims=keepdim, **_numpy_spelling(axis, keepdims))


def cumsum(input: Any, dim: int | None = None, *, dtype: Any = None,
           axis: int | None = None) -> Tensor:
    return _tensor(input).cumsum(dim, dtype=dtype, axis=axis)


def cumprod(input: Any, dim: int | None = None, *, dtype: Any = None,
            axis: int | None = None) -> Tensor:
    return _tensor(input).cumprod(dim, dtype=dtype, axis=axis)


def norm(input: Any, p: Any = "fro", dim: Any = None, keepdim: bool = False, *,
         axis: Any = None, keepdims: bool | None = None) -> Tensor:
    """The vector p-norm over ``dim`` (all elements by default), as ``torch.norm``."""
    return _tensor(input).norm(p, dim, keepdim, axis=axis, keepdims=keepdims)


def all(input: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None,  # noqa: A001
        keepdims: bool | None = None) -> Tensor:
    return _tensor(input).all(dim, keepdim, **_numpy_spelling(axis, keepdims))


def any(input: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None,  # noqa: A001
        keepdims: bool | None = None) -> Tensor:
    return _tensor(input).any(dim, keepdim, **_numpy_spelling(axis, keepdims))


def einsum(subscripts: str, *operands: Any) -> Tensor:
    """Einstein summation, with every subscript NumPy takes: ``einsum("ij,jk->ik", a, b)`` is
    a @ b, ``einsum("ii", a)`` the trace, ``einsum("...ij->...ji", a)`` a transpose; without
    ``->`` the output is the labels that appear once, in alphabetical order. Axes of length 1
    broadcast. The operands may also come as one list, as ``torch.einsum`` allows."""
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum takes the subscripts string first, got "
                        f"{type(subscripts).__name__}: einsum('ij,jk->ik', a, b)")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum needs at least one operand")
    first = builtins.next((t for t in operands if isinstance(t, Tensor)), None)
    tensors = [t if isinstance(t, Tensor) else
               (as_tensor(t) if first is None else first._operands(t)[1]) for t in operands]
    for i, t in enumerate(tensors):
        if t.device != tensors[0].device:
            raise RuntimeError(f"einsum: operand {i} is on {t.device!r} but operand 0 is on "
                               f"{tensors[0].device!r}; move them to one device")
    if builtins.any(t.dtype.kind in "fc" for t in tensors):  # ints meeting floats become floats
        floats = [t.dtype for t in tensors if t.dtype.kind in "fc"]
        dtype = _np.result_type(*floats)
        tensors = [t if t.dtype.kind in "fc" else t.astype(dtype) for t in tensors]
    return _einsum_tensors(subscripts, tensors)


def tensordot(a: Any, b: Any, dims: Any = 2) -> Tensor:
    """Sums of products over pairs of axes, as ``torch.tensordot`` (``numpy.tensordot``'s
    ``axes`` is ``dims``)."""
    x, y = _pair(a, b)
    return x.tensordot(y, dims)


def outer(input: Any, vec2: Any) -> Tensor:
    a, b = _pair(input, vec2)
    return a.outer(b)


def inner(input: Any, other: Any) -> Tensor:
    a, b = _pair(input, other)
    return a.inner(b)


def dot(input: Any, other: Any) -> Tensor:
    """By ``numpy.dot``'s rules, for operands of any rank (``torch.dot`` takes vectors only)."""
    a, b = _pair(input, other)
    return a.dot(b)


__all__ = _CORE + _SHAPES + _MATH
