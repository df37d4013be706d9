"""The Tensor: an array (NumPy on ``"cpu"``, CuPy on ``"cuda"``) that remembers how it was made.

A tensor made by an op on tensors that require grad keeps that op in ``grad_fn``; the op keeps
its inputs. ``loss.backward()`` follows those links back from ``loss`` and fills the ``.grad`` of
every leaf (a tensor made directly, with ``requires_grad=True``). The ops themselves live in
the ``ops/`` package and the backward loop in ``autograd.py``; this file holds the
user-facing surface.

dtype rules
-----------
* The default dtype is float32. ``dtype=`` accepts a NumPy dtype, a type or a name
  (``np.float64``, ``"float64"``).
* From Python numbers or lists: floats become float32, ints int64, bools bool.
* From a NumPy or CuPy array: its dtype is kept (a float64 array gives a float64 tensor).
* Tensor with tensor: NumPy's promotion (float32 with float64 gives float64), except that an
  integer or bool tensor meeting a floating-point one takes the float's dtype (int64 with
  float32 gives float32, where NumPy would give float64).
* Tensor with a Python number (or a NumPy scalar): the tensor's dtype wins when the number's
  kind (bool < int < float) fits in it, so ``x * 2.5`` stays float32 and ``labels + 1`` stays
  int64; otherwise the number's default dtype is used (``int_tensor * 2.5`` is float32,
  ``bool_tensor + 1`` is int64).
* Gradients have their tensor's dtype, whatever the dtypes along the way.
* Only floating-point tensors can require grad; integer and bool tensors (labels, masks) never do.
"""
from __future__ import annotations

import math
import operator
import weakref
from typing import Any, Iterable, Iterator

import numpy as np

# By module, not by name: autograd.py imports this module too, and the names are looked up
# when an op runs, by which time both modules are complete, whichever was imported first.
from . import autograd as _autograd
from . import backend, ops, tracing
from .function import UNWRITTEN as _UNWRITTEN  # every new tensor's version: see function.Version
from .random import generator

DEFAULT_DTYPE = np.dtype(np.float32)
_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
_DEFAULT_FOR_KIND = {"b": np.dtype(bool), "i": np.dtype(np.int64), "f": DEFAULT_DTYPE}
_NUMBER_KIND = {bool: "b", int: "i", float: "f"}
_new = object.__new__


def to_dtype(dtype: Any) -> np.dtype:
    """A NumPy dtype from a dtype, a type such as ``np.float32`` or ``float``, or a name."""
    try:
        result = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}: use a NumPy dtype or a name such as "
                        "'float32', 'float64', 'int64' or 'bool'") from None
    if result.kind not in _KIND_RANK:
        raise TypeError(f"dtype {result} is not supported: tensors hold numbers or bools")
    return result


def _to_array(data: Any, dtype: np.dtype | None, device: str) -> Any:
    """``data`` as an array on ``device``, following the dtype rules in the module docstring."""
    if isinstance(data, np.generic):
        data = np.asarray(data)
    if isinstance(data, np.ndarray) or backend.device_of(data) == "cuda":
        array = data
    else:
        array = np.asarray(data)
        if dtype is None:
            dtype = _DEFAULT_FOR_KIND.get(array.dtype.kind, array.dtype)
    if array.dtype.kind not in _KIND_RANK:
        raise TypeError(f"cannot make a tensor from {type(data).__name__} data of dtype "
                        f"{array.dtype}: expected numbers, bools, or nested lists of them")
    array = backend.to_device(array, device)
    if dtype is not None and array.dtype != dtype:
        array = array.astype(dtype)
    return array


def _normalize_axis(axis: int | Iterable[int] | None, ndim: int) -> tuple[int, ...] | None:
    """``axis`` as a sorted tuple of distinct non-negative ints, or None for all axes.

    A 0-d tensor takes 0 and -1, as in PyTorch, and has no axes to reduce: they give ().
    """
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    if ndim == 0:
        for a in axes:
            if a not in (0, -1):
                raise np.exceptions.AxisError(f"axis {a} is out of range: a 0-d tensor takes "
                                              "only 0 or -1 as an axis")
        return ()
    result = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(
                f"axis {a} is out of range for a tensor of {ndim} dimensions "
                f"(valid: {-ndim} to {ndim - 1})")
        result.append(int(a) % ndim)
    if len(set(result)) != len(result):
        raise ValueError(f"axis {axis}: an axis appears more than once (counting negative "
                         "axes from the end); name each axis once")
    return tuple(sorted(result))


def _varargs(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Arguments given as ``f(2, 3)`` or as one tuple or list, ``f((2, 3))``, as a tuple."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return args


def _single_axis(axis: Any, ndim: int) -> int:
    """One axis as a non-negative int, for ops that work along exactly one axis (of a tensor
    with at least one; callers handle 0-d tensors first)."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"expected one axis as an int, got {axis!r}")
    return _normalize_axis(axis, max(ndim, 1))[0]


_NUMBERS: dict[tuple[Any, ...], Tensor] = {}


def _number(value: Any, dtype: np.dtype, device: str) -> Tensor:
    """``value`` as a 0-d tensor of ``dtype`` that requires no grad, for ``x * 2``.

    The same numbers come back on every step (a learning rate, a batch size, the 2 of a
    square), so they are kept: making one costs more than the arithmetic on a small tensor.
    Such a tensor is never written to. Zero is not kept: 0.0 and -0.0 are equal keys.
    """
    key = (type(value), value, dtype, device)
    number = _NUMBERS.get(key)
    if number is None:
        number = Tensor._wrap(dtype.type(value), device)
        if value != 0:
            if len(_NUMBERS) >= 1024:  # a bound, for code that uses ever new numbers
                _NUMBERS.clear()
            _NUMBERS[key] = number
    return number


def _axis_args(axis: Any, keepdims: bool, dim: Any, keepdim: bool | None) -> tuple[Any, bool]:
    """``axis`` and ``keepdims`` from NumPy's spelling or PyTorch's (``dim``, ``keepdim``)."""
    if dim is not None:
        if axis is not None:
            raise TypeError(f"got both axis={axis!r} and dim={dim!r}: they are the same "
                            "argument; pass one")
        axis = dim
    return axis, bool(keepdims if keepdim is None else keepdim)


_COMPLEX_AUTOGRAD = ("complex tensors do not support autograd here: their gradients need "
                     "conventions this library does not implement; work on the real and "
                     "imaginary parts as two real tensors instead")


def _true_division(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """Operands for ``a / b``: integers and bools are divided as the default float (float32),
    as in PyTorch, where NumPy would give float64."""
    if a._array.dtype.kind in "fc" or b._array.dtype.kind in "fc":
        return a, b
    return a.astype(DEFAULT_DTYPE), b.astype(DEFAULT_DTYPE)


def _promote(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """Two tensors of different dtypes, ready for a binary op.

    An integer or bool tensor meeting a floating-point one is cast to the float's dtype (it never
    requires grad, so the cast records nothing): ``labels * x`` and ``int_tensor * 2.5`` are
    float32, where NumPy would promote int64 with float32 to float64. Any other pair is left to
    NumPy's promotion inside the op (float32 with float64 gives float64).
    """
    if "c" in (a.dtype.kind, b.dtype.kind) and (a.requires_grad or b.requires_grad) \
            and _autograd.is_grad_enabled():
        raise TypeError(_COMPLEX_AUTOGRAD)
    a_float, b_float = a.dtype.kind in "fc", b.dtype.kind in "fc"
    if a_float and not b_float:
        return a, Tensor._wrap(b._array.astype(a.dtype), b.device)
    if b_float and not a_float:
        return Tensor._wrap(a._array.astype(b.dtype), a.device), b
    return a, b


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    ``Tensor(data, requires_grad=False, dtype=None, device=None)`` makes a leaf from a number, a
    (nested) list, or a NumPy/CuPy array. ``device`` defaults to the array's own device, else to
    ``$TINYGRAD_SM_DEVICE``, else ``"cpu"``. See the module docstring for the dtype rules.
    The tensor owns a copy of the data, as ``torch.Tensor(ndarray)`` does, so that in-place ops
    never write into the caller's array; ``from_numpy`` and ``as_tensor`` share the array instead.

    Attributes: ``grad`` (a Tensor or None), ``requires_grad``, ``grad_fn`` (the op that made it,
    None for leaves), ``device``, and the properties ``data`` (the same memory as a tensor cut
    from the graph, as in PyTorch), ``shape``, ``ndim``, ``dtype``, ``size``, ``is_leaf``, ``T``.
    ``numpy()`` gives the array. In-place ops (``+=``, ``x[i] = v``, ``zero_()``, ...) follow
    PyTorch's rules; see "In-place ops" below.
    """

    __slots__ = ("_array", "grad", "requires_grad", "grad_fn", "device", "_version", "__weakref__")
    # NumPy should hand ``array * tensor`` to Tensor.__rmul__ rather than loop over the tensor.
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None,
                 device: str | None = None) -> None:
        source = data._array if isinstance(data, Tensor) else data
        if device is None and backend.device_of(source) == "cuda":
            device = "cuda"
        self.device = backend.check_device(device)
        array = _to_array(source, None if dtype is None else to_dtype(dtype), self.device)
        # A tensor owns its memory, as torch.Tensor(ndarray) does: in-place ops and optimizers
        # write into it, and must never write into the caller's array. from_numpy() and
        # as_tensor() share instead.
        self._array = backend.copy_array(array) if array is source else array
        self.grad: Tensor | None = None
        self.grad_fn = None
        self.requires_grad = False
        self._version = _UNWRITTEN  # the Version of its memory, made on first need
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _wrap(data: Any, device: str) -> Tensor:
        """A tensor around an existing array, with no checks: the fast path every op takes."""
        t = _new(Tensor)
        t._array = data
        t.device = device
        t.grad = None
        t.requires_grad = False
        t.grad_fn = None
        t._version = _UNWRITTEN
        return t

    def _constant(self, array: Any) -> Tensor:
        """An array of this tensor's device as a tensor that carries no gradient."""
        return Tensor._wrap(array, self.device)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place (floating-point tensors only) and return self."""
        if requires_grad and self.dtype.kind == "c":
            raise TypeError(_COMPLEX_AUTOGRAD)
        if requires_grad and self.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require grad, but this one is {self.dtype}; "
                "convert it first with .astype('float32') or make it with dtype='float32'")
        self.requires_grad = bool(requires_grad)
        return self

    # ------------------------------------------------------------------ attributes

    @property
    def shape(self) -> tuple[int, ...]:
        return self._array.shape

    @property
    def ndim(self) -> int:
        return self._array.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._array.dtype

    @property
    def size(self) -> int:
        """The number of elements (PyTorch's ``numel()``)."""
        return self._array.size

    def numel(self) -> int:
        return self._array.size

    @property
    def is_leaf(self) -> bool:
        """True for tensors made directly rather than by an op that recorded a graph."""
        return self.grad_fn is None

    @property
    def _xp(self) -> Any:
        return backend.array_module(self.device)

    @property
    def T(self) -> Tensor:
        """The tensor with its axes reversed (the transpose, for a matrix)."""
        return ops.Transpose(tuple(range(self.ndim - 1, -1, -1)))(self)

    @property
    def mT(self) -> Tensor:
        """The tensor with its last two axes swapped (a batch of matrices transposed)."""
        if self.ndim < 2:
            raise ValueError(f"mT needs at least 2 dimensions, got shape {self.shape}")
        return ops.Transpose(tuple(range(self.ndim - 2)) + (self.ndim - 1, self.ndim - 2))(self)

    # ------------------------------------------------------------------ operators

    def _operands(self, other: Any) -> tuple[Tensor, Tensor]:
        """``self`` and ``other`` as two tensors on one device, with dtypes that follow the rules
        in the module docstring. Every binary op and comparison goes through here."""
        if isinstance(other, Tensor):
            if other.device != self.device:
                raise RuntimeError(
                    f"tensors on different devices: {self.device!r} and {other.device!r}; move "
                    f"one with .to({self.device!r}) or .to({other.device!r}) before combining them")
        else:
            kind = _NUMBER_KIND.get(type(other))
            if kind is None and isinstance(other, (np.bool_, np.integer, np.floating)):
                kind = other.dtype.kind  # NumPy scalars count as numbers too
            if kind is None:
                other = Tensor(other, device=self.device)
            elif _KIND_RANK[kind] <= _KIND_RANK[self._array.dtype.kind]:
                # A number takes the tensor's dtype when its kind fits (x * 2.5 stays float32).
                return self, _number(other, self._array.dtype, self.device)
            else:
                dtype = _DEFAULT_FOR_KIND[kind] if kind in _DEFAULT_FOR_KIND else other.dtype
                other = _number(other, dtype, self.device)
        if other._array.dtype is self._array.dtype:  # the common case: nothing to promote
            return self, other
        return _promote(self, other)

    def __add__(self, other: Any) -> Tensor:
        return ops.Add()(*self._operands(other))

    def __radd__(self, other: Any) -> Tensor:
        a, b = self._operands(other)
        return ops.Add()(b, a)

    def __sub__(self, other: Any) -> Tensor:
        return ops.Sub()(*self._operands(other))

    def __rsub__(self, other: Any) -> Tensor:
        a, b = self._operands(other)
        return ops.Sub()(b, a)

    def __mul__(self, other: Any) -> Tensor:
        return ops.Mul()(*self._operands(other))

    def __rmul__(self, other: Any) -> Tensor:
        a, b = self._operands(other)
        return ops.Mul()(b, a)

    def __truediv__(self, other: Any) -> Tensor:
        return ops.Div()(*_true_division(*self._operands(other)))

    def __rtruediv__(self, other: Any) -> Tensor:
        a, b = _true_division(*self._operands(other))
        return ops.Div()(b, a)

    def __pow__(self, exponent: Any) -> Tensor:
        return ops.Pow()(*self._operands(exponent))

    def __rpow__(self, base: Any) -> Tensor:
        a, b = self._operands(base)
        return ops.Pow()(b, a)

    def __neg__(self) -> Tensor:
        return ops.Neg()(self)

    def __matmul__(self, other: Any) -> Tensor:
        """Matrix product with NumPy's rules: 1-D operands are treated as a row (left) or a
        column (right) vector, and that axis is dropped from the result."""
        left, right = self._operands(other)
        a_shape, b_shape = left._array.shape, right._array.shape
        if len(a_shape) >= 2 and len(b_shape) >= 2 and a_shape[-1] == b_shape[-2]:
            return ops.MatMul()(left, right)  # the common case, with nothing to check or reshape
        if left.ndim == 0 or right.ndim == 0:
            raise ValueError(f"matmul needs at least 1-D operands, got shapes {left.shape} and "
                             f"{right.shape}; use * to multiply by a scalar")
        a = left.reshape(1, -1) if left.ndim == 1 else left
        b = right.reshape(-1, 1) if right.ndim == 1 else right
        if a.shape[-1] != b.shape[-2]:
            raise ValueError(f"matmul shapes {left.shape} and {right.shape} do not align: "
                             f"{a.shape[-1]} (last axis of the left) != {b.shape[-2]} "
                             "(second-to-last axis of the right)")
        out = ops.MatMul()(a, b)
        if left.ndim == 1:
            out = out.reshape(out.shape[:-2] + out.shape[-1:])
        if right.ndim == 1:
            out = out.reshape(out.shape[:-1])
        return out

    def __rmatmul__(self, other: Any) -> Tensor:
        a, b = self._operands(other)
        return b @ a

    def __abs__(self) -> Tensor:
        return self.abs()

    # Comparisons give bool tensors, which carry no gradient.
    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        if other is None or isinstance(other, str):
            return NotImplemented
        a, b = self._operands(other)
        return Tensor._wrap(a._array == b._array, self.device)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        if other is None or isinstance(other, str):
            return NotImplemented
        a, b = self._operands(other)
        return Tensor._wrap(a._array != b._array, self.device)

    def __lt__(self, other: Any) -> Tensor:
        a, b = self._operands(other)
        return Tensor._wrap(a._array < b._array, self.device)

    def __le__(self, other: Any) -> Tensor:
        a, b = self._operands(other)
        return Tensor._wrap(a._array <= b._array, self.device)

    def __gt__(self, other: Any) -> Tensor:
        a, b = self._operands(other)
        return Tensor._wrap(a._array > b._array, self.device)

    def __ge__(self, other: Any) -> Tensor:
        a, b = self._operands(other)
        return Tensor._wrap(a._array >= b._array, self.device)

    # Tensors are used as dict keys (the engine's gradient table, optimizer state) by identity.
    __hash__ = object.__hash__

    # ------------------------------------------------------------------ in-place ops
    #
    # Every in-place op ends in _write(index, value), self[index] = value, and follows PyTorch:
    # * Outside a graph (grad mode off, or neither side requires grad) it writes into self's
    #   memory and counts a new version of it (autograd.mark_written). The book's
    #   ``with no_grad(): param -= lr * param.grad / batch_size`` takes this path.
    # * On a leaf that requires grad, under grad mode, it raises: backward needs its value.
    # * Inside a graph it is recorded as an op, SetItem, so that gradients flow through the
    #   write. self then stands for the new value; its earlier value, and the op that made it,
    #   move to a new tensor, which the ops recorded before the write still see
    #   (autograd.record_replacement).
    # A saved value changed in place any other way makes backward raise (autograd._check_saved).

    def __iadd__(self, other: Any) -> Tensor:
        return self._update(ops.Add, operator.iadd, other)

    def __isub__(self, other: Any) -> Tensor:
        return self._update(ops.Sub, operator.isub, other)

    def __imul__(self, other: Any) -> Tensor:
        return self._update(ops.Mul, operator.imul, other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._update(ops.Div, operator.itruediv, other)

    add_, sub_, mul_, div_ = __iadd__, __isub__, __imul__, __itruediv__

    def __setitem__(self, index: Any, value: Any) -> None:
        """``x[index] = value``, with NumPy's indexing; ``value`` broadcasts to ``x[index]``."""
        self._write(self._index(index), self._value(value))

    def zero_(self) -> Tensor:
        """Set every element to 0, in place; return self."""
        return self.fill_(0)

    def fill_(self, value: Any) -> Tensor:
        """Set every element to ``value`` (a number or a one-element tensor), in place."""
        return self._write(Ellipsis, self._value(value))

    def copy_(self, src: Any) -> Tensor:
        """Copy ``src``'s values into this tensor's memory (``src`` broadcasts to its shape)."""
        if isinstance(src, Tensor) and src.device != self.device:
            src = src.to(self.device)
        return self._write(Ellipsis, self._value(src))

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        """Fill with samples of N(mean, std**2), in place (the library's generator)."""
        if not std >= 0:
            raise ValueError(f"normal_ needs std >= 0, got {std}")
        return self.copy_(Tensor(generator().normal(mean, std, self.shape), dtype=self.dtype))

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
        """Fill with samples of U(a, b), in place (the library's generator)."""
        if not a <= b:
            raise ValueError(f"uniform_ needs a <= b, got a={a}, b={b}")
        return self.copy_(Tensor(generator().uniform(a, b, self.shape), dtype=self.dtype))

    def _value(self, value: Any) -> Tensor:
        """A value to write into this tensor, as a tensor on its device."""
        if isinstance(value, Tensor):
            if value.device != self.device:
                raise RuntimeError(f"cannot write a {value.device!r} tensor into a "
                                   f"{self.device!r} tensor; move it with .to({self.device!r})")
            return value
        return self._operands(value)[1] if isinstance(value, (bool, int, float)) else \
            Tensor(value, dtype=self.dtype, device=self.device)

    def _update(self, op: type, inplace: Any, other: Any) -> Tensor:
        """``self op= other`` (``+=``, ``-=``, ``*=``, ``/=``), in self's memory."""
        a, b = self._operands(other)
        if a is not self or b.dtype is not self.dtype or self.dtype.kind not in "fc":
            result = np.result_type(a.dtype, b.dtype)  # the dtype that x + y would have
            if op is ops.Div and result.kind not in "fc":  # true division of integers
                result = DEFAULT_DTYPE
            if a is not self or not np.can_cast(result, self.dtype, "same_kind"):
                raise TypeError(f"an in-place op on a {self.dtype} tensor cannot store its "
                                f"result, which would be {result}: use an out-of-place op "
                                "(x = x + y), or convert x first with .astype()")
        if b.shape != self.shape and np.broadcast_shapes(self.shape, b.shape) != self.shape:
            raise ValueError(f"an in-place op on a tensor of shape {self.shape} cannot take an "
                             f"operand of shape {b.shape}: the result would have shape "
                             f"{np.broadcast_shapes(self.shape, b.shape)}; use an out-of-place "
                             "op (x = x + y)")
        if self._records_write(b):
            return self._write(Ellipsis, op()(self, b))
        inplace(self._mutable_array(), b._array)
        _autograd.mark_written(self)
        return self

    def _records_write(self, value: Tensor) -> bool:
        """Whether a write of ``value`` into self must be recorded in the graph."""
        return _autograd.is_grad_enabled() and (self.requires_grad or value.requires_grad)

    def _write(self, index: Any, value: Tensor) -> Tensor:
        """``self[index] = value`` in self's memory: where every in-place op ends. See above."""
        if tracing.capture.active is not None:  # tinygrad_sm.jit records the write
            tracing.capture.active.lift(self)
        if not self._records_write(value):
            self._mutable_array()[index] = value._array
            _autograd.mark_written(self)
            return self
        if self.grad_fn is None and self.requires_grad:
            raise RuntimeError(
                f"a leaf tensor that requires grad (shape {self.shape}) cannot be changed in "
                "place while grad mode is on: backward needs its value. Update parameters "
                "inside `with tinygrad_sm.no_grad():`, as optimizers do, or through .data "
                "(w.data -= lr * w.grad)")
        if self._version.aliased:
            raise RuntimeError(
                f"this tensor (shape {self.shape}) shares its memory with another (a view, "
                "detach() or .data), so an in-place op on it cannot be recorded in the graph: "
                "the other would change without knowing. Write into a copy (x = x.clone()) "
                "or use an out-of-place op")
        result = ops.SetItem(index)(self, value)
        earlier = Tensor._wrap(backend.copy_array(self._array), self.device)
        earlier.requires_grad, earlier.grad_fn = self.requires_grad, self.grad_fn
        if self._version.count:
            earlier._version = _autograd.Version(self._version.count)
        if self.grad_fn is not None:
            self.grad_fn.output = weakref.ref(earlier)
        self._mutable_array()[...] = result._array
        _autograd.record_replacement(self, earlier, _autograd.mark_written(self))
        self.grad_fn, self.requires_grad = result.grad_fn, True
        self.grad_fn.output = weakref.ref(self)
        return self

    def _mutable_array(self) -> Any:
        """The array, made writable first if it is a NumPy scalar (what 0-d results are)."""
        array = self._array
        if isinstance(array, np.generic):
            array = self._array = np.array(array)
        return array

    # ------------------------------------------------------------------ elementwise

    def exp(self) -> Tensor:
        return ops.Exp()(self)

    def log(self) -> Tensor:
        """The natural logarithm."""
        return ops.Log()(self)

    def sqrt(self) -> Tensor:
        return ops.Sqrt()(self)

    def abs(self) -> Tensor:
        return ops.Abs()(self)

    def relu(self) -> Tensor:
        return ops.ReLU()(self)

    def sigmoid(self) -> Tensor:
        return ops.Sigmoid()(self)

    def tanh(self) -> Tensor:
        return ops.Tanh()(self)

    # The functions below take real numbers: integer and bool tensors are computed as the
    # default float (float32), as in PyTorch (torch.sin of an int64 tensor is float32).

    def _floating(self) -> Tensor:
        return self if self.dtype.kind in "fc" else self.astype(DEFAULT_DTYPE)

    def reciprocal(self) -> Tensor:
        """1 / x."""
        return ops.Reciprocal()(self._floating())

    def log1p(self) -> Tensor:
        """log(1 + x), exact where x is so small that 1 + x rounds to 1."""
        return ops.Log1p()(self._floating())

    def expm1(self) -> Tensor:
        """exp(x) - 1, exact where x is so small that exp(x) rounds to 1."""
        return ops.Expm1()(self._floating())

    def log2(self) -> Tensor:
        return ops.Log2()(self._floating())

    def log10(self) -> Tensor:
        return ops.Log10()(self._floating())

    def sin(self) -> Tensor:
        return ops.Sin()(self._floating())

    def cos(self) -> Tensor:
        return ops.Cos()(self._floating())

    def tan(self) -> Tensor:
        return ops.Tan()(self._floating())

    def arcsin(self) -> Tensor:
        """The inverse sine, in [-pi/2, pi/2] (NaN outside -1 <= x <= 1); also ``asin``."""
        return ops.Arcsin()(self._floating())

    def arccos(self) -> Tensor:
        """The inverse cosine, in [0, pi] (NaN outside -1 <= x <= 1); also ``acos``."""
        return ops.Arccos()(self._floating())

    def arctan(self) -> Tensor:
        """The inverse tangent, in (-pi/2, pi/2); also ``atan``."""
        return ops.Arctan()(self._floating())

    def arctan2(self, other: Any) -> Tensor:
        """The angle of the point (other, self) in (-pi, pi]: self is the y coordinate, as in
        ``numpy.arctan2(y, x)`` and ``torch.atan2``; also ``atan2``. Broadcasts."""
        a, b = self._floating()._operands(other)
        return ops.Arctan2()(a, b._floating())

    asin, acos, atan, atan2 = arcsin, arccos, arctan, arctan2

    def sinh(self) -> Tensor:
        return ops.Sinh()(self._floating())

    def cosh(self) -> Tensor:
        return ops.Cosh()(self._floating())

    def erf(self) -> Tensor:
        """The error function, 2/sqrt(pi) times the integral of exp(-t**2) from 0 to x."""
        return ops.Erf()(self._floating())

    def logaddexp(self, other: Any) -> Tensor:
        """log(exp(x) + exp(other)) without overflow, as ``numpy.logaddexp``. Broadcasts."""
        a, b = self._floating()._operands(other)
        return ops.LogAddExp()(a, b._floating())

    # Steps: their gradient is 0 everywhere (it does not exist at the jumps). On integer and
    # bool tensors they change nothing and give a copy, as in PyTorch.

    def sign(self) -> Tensor:
        """-1, 0 or 1 as x is negative, zero or positive (NaN for NaN)."""
        if self.dtype.kind == "b":
            return self._copy()
        if self.dtype.kind not in "fc":
            return Tensor._wrap(self._xp.sign(self._array), self.device)
        return ops.Step("sign")(self)

    def floor(self) -> Tensor:
        return self._copy() if self.dtype.kind not in "fc" else ops.Step("floor")(self)

    def ceil(self) -> Tensor:
        return self._copy() if self.dtype.kind not in "fc" else ops.Step("ceil")(self)

    def trunc(self) -> Tensor:
        """Rounded toward 0."""
        return self._copy() if self.dtype.kind not in "fc" else ops.Step("trunc")(self)

    def round(self, decimals: int = 0) -> Tensor:
        """Rounded to ``decimals`` digits after the point, halves to even (0.5 -> 0, 1.5 -> 2,
        2.5 -> 2), as NumPy and PyTorch round. Negative ``decimals`` round to tens, hundreds."""
        if self.dtype.kind not in "fc":
            return Tensor._wrap(self._array.round(decimals), self.device)
        return ops.Step("round", decimals)(self)

    def _copy(self) -> Tensor:
        return Tensor._wrap(backend.copy_array(self._array), self.device)

    def remainder(self, other: Any) -> Tensor:
        """x mod other with the sign of ``other``: x - other * floor(x / other), as Python's
        ``%``, ``numpy.remainder`` and ``torch.remainder`` (``-3 % 2`` is 1). Broadcasts."""
        return ops.Remainder()(*self._operands(other))

    def fmod(self, other: Any) -> Tensor:
        """x mod other with the sign of x: x - other * trunc(x / other), as C's ``fmod``,
        ``numpy.fmod`` and ``torch.fmod`` (``fmod(-3, 2)`` is -1). Broadcasts."""
        return ops.Fmod()(*self._operands(other))

    # The operator % is remainder; it sits here with its op rather than with + - * /.
    def __mod__(self, other: Any) -> Tensor:
        return self.remainder(other)

    def __rmod__(self, other: Any) -> Tensor:
        a, b = self._operands(other)
        return ops.Remainder()(b, a)

    def __imod__(self, other: Any) -> Tensor:
        return self._update(ops.Remainder, operator.imod, other)

    def __floordiv__(self, other: Any) -> Tensor:
        """x // other, rounded down as Python and NumPy do (``torch.floor_divide``). Integers
        stay integers. Like PyTorch's, the result carries no gradient: it is a step function."""
        a, b = self._operands(other)
        return Tensor._wrap(a._array // b._array, self.device)

    def __rfloordiv__(self, other: Any) -> Tensor:
        a, b = self._operands(other)
        return Tensor._wrap(b._array // a._array, self.device)

    def maximum(self, other: Any) -> Tensor:
        """The larger of x and ``other``, elementwise (broadcasting). A tie splits the
        gradient evenly between the two, as ``max`` does; NaN wins, as in NumPy."""
        return ops.Maximum()(*self._operands(other))

    def minimum(self, other: Any) -> Tensor:
        """The smaller of x and ``other``, elementwise; ties split the gradient evenly."""
        return ops.Minimum()(*self._operands(other))

    def where(self, condition: Any, other: Any) -> Tensor:
        """x where ``condition`` (a bool tensor) holds, else ``other``, as PyTorch's
        ``x.where(condition, other)``; ``tinygrad_sm.where(condition, x, other)`` is the same.
        The three broadcast together. The branch not taken gets a gradient of exactly 0 (an
        inf or NaN gradient arriving for an element never reaches the other branch)."""
        a, b = self._operands(other)
        return ops.Where(self._condition(condition, a.shape, b.shape))(a, b)

    def _condition(self, condition: Any, *shapes: tuple[int, ...]) -> Any:
        """``where``'s condition as a bool array on this tensor's device, checked."""
        if isinstance(condition, Tensor):
            if condition.device != self.device:
                raise RuntimeError(f"where: the condition is on {condition.device!r} but the "
                                   f"values are on {self.device!r}; move it with "
                                   f".to({self.device!r})")
            cond = condition._array
        else:
            cond = backend.to_device(np.asarray(condition) if isinstance(condition, (list, bool))
                                     else condition, self.device)
        if cond.dtype != np.bool_:
            raise TypeError(f"where: the condition must be a bool tensor, got dtype {cond.dtype}; "
                            "make one with a comparison (x > 0) or .astype('bool')")
        try:
            np.broadcast_shapes(cond.shape, *shapes)
        except ValueError:
            raise ValueError(f"where: the condition's shape {cond.shape} and the values' shapes "
                             f"{', '.join(map(str, shapes))} do not broadcast together") from None
        return cond

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 (torch's names)
        """Each element limited to [min, max]; either bound may be left out, and either may be
        a tensor that broadcasts. Also ``clip``. Where min > max every element is max.

        The gradient is PyTorch's: 1 where min <= x <= max (the bounds count as inside), else
        0; tensor bounds get the gradient of the elements they replace."""
        if min is None and max is None:
            raise ValueError("clamp needs min or max (or both); with neither it would change "
                             "nothing")
        x, bounds = self, []
        for bound in (min, max):
            if bound is not None:
                x, bound = x._operands(bound)
                bounds.append(bound)
        return ops.Clamp(min is not None, max is not None)(x, *bounds)

    clip = clamp

    def hardtanh(self, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
        """clamp(x, min_val, max_val), but with gradient 1 only strictly inside (PyTorch's
        hardtanh: its gradient at the bounds is 0, where clamp's is 1)."""
        if min_val > max_val:
            raise ValueError(f"hardtanh: min_val {min_val} is greater than max_val {max_val}")
        x, lo = self._floating()._operands(min_val)
        x, hi = x._operands(max_val)
        return ops.Clamp(True, True, inclusive=False)(x, lo, hi)

    def softplus(self, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
        """log(1 + exp(beta x)) / beta, a smooth relu, without overflow; x itself where
        beta x > threshold, as in PyTorch. Its gradient is sigmoid(beta x)."""
        return ops.Softplus(beta, threshold)(self._floating())

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        """x where x > 0, else negative_slope * x."""
        return ops.LeakyReLU(negative_slope)(self._floating())

    def elu(self, alpha: float = 1.0) -> Tensor:
        """x where x > 0, else alpha * (exp(x) - 1)."""
        return ops.ELU(alpha)(self._floating())

    def gelu(self, approximate: str = "none") -> Tensor:
        """x * Phi(x), Phi the standard normal CDF, exactly (through erf); with
        ``approximate="tanh"``, PyTorch's tanh approximation of it."""
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu: approximate={approximate!r}; use 'none' (exact) or 'tanh'")
        return ops.GELU(approximate)(self._floating())

    def silu(self) -> Tensor:
        """x * sigmoid(x) (also called swish)."""
        return ops.SiLU()(self._floating())

    # ------------------------------------------------------------------ reductions

    # Each takes NumPy's spelling, ``axis``/``keepdims``, or PyTorch's, ``dim``/``keepdim``.

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, *,
            dim: Any = None, keepdim: bool | None = None) -> Tensor:
        """The sum over ``axis`` (an int, a tuple, or None for all), as in NumPy."""
        if dim is not None or keepdim is not None:
            axis, keepdims = _axis_args(axis, keepdims, dim, keepdim)
        return ops.Sum(_normalize_axis(axis, self.ndim), keepdims)(self)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, *,
             dim: Any = None, keepdim: bool | None = None) -> Tensor:
        """The mean over ``axis``. Integer tensors are averaged as float32; the mean of no
        elements is NaN, as in NumPy."""
        if dim is not None or keepdim is not None:
            axis, keepdims = _axis_args(axis, keepdims, dim, keepdim)
        axes = _normalize_axis(axis, self.ndim)
        count = self.size if axes is None else math.prod(self.shape[a] for a in axes)
        x = self if self.dtype.kind in "fc" else self.astype(DEFAULT_DTYPE)
        return ops.Sum(axes, keepdims, 1.0 / count if count else math.nan)(x)

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, *,
            dim: Any = None, keepdim: bool | None = None) -> Tensor:
        """The largest value over ``axis``. Values only, as in NumPy (``tinygrad_sm.max(x, dim)``
        gives values and indices, as ``torch.max`` does); ``argmax`` gives indices. The
        gradient is split evenly between tied maxima. ``x.max(other)`` with a tensor is
        ``x.maximum(other)``, as in PyTorch."""
        if isinstance(axis, Tensor) or isinstance(dim, Tensor):
            return self.maximum(axis if dim is None else dim)
        if dim is not None or keepdim is not None:
            axis, keepdims = _axis_args(axis, keepdims, dim, keepdim)
        self._check_not_empty("max")
        return ops.Max(_normalize_axis(axis, self.ndim), keepdims)(self)

    def min(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, *,
            dim: Any = None, keepdim: bool | None = None) -> Tensor:
        """The smallest value over ``axis``, as ``-max(-x)`` so that one op covers both.
        ``x.min(other)`` with a tensor is ``x.minimum(other)``, as in PyTorch."""
        if isinstance(axis, Tensor) or isinstance(dim, Tensor):
            return self.minimum(axis if dim is None else dim)
        if dim is not None or keepdim is not None:
            axis, keepdims = _axis_args(axis, keepdims, dim, keepdim)
        if self.dtype.kind not in "fc":
            # Negation wraps around for unsigned ints and fails for bools; these carry no
            # gradient anyway, so take the minimum directly.
            self._check_not_empty("min")
            return Tensor._wrap(self._array.min(axis=_normalize_axis(axis, self.ndim),
                                              keepdims=keepdims), self.device)
        return -(-self).max(axis, keepdims)

    def argmax(self, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None,
               keepdim: bool | None = None) -> Tensor:
        """The index of the largest value along ``axis`` (of the flattened tensor if None)."""
        return self._arg("argmax", *_axis_args(axis, keepdims, dim, keepdim))

    def argmin(self, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None,
               keepdim: bool | None = None) -> Tensor:
        """The index of the smallest value along ``axis`` (of the flattened tensor if None)."""
        return self._arg("argmin", *_axis_args(axis, keepdims, dim, keepdim))

    def _arg(self, which: str, axis: int | None, keepdims: bool) -> Tensor:
        """Indices from the array's own argmax or argmin: integers, which carry no gradient."""
        self._check_not_empty(which)
        if axis is not None and self.ndim == 0:  # its one element is at index 0 along 0 or -1
            _normalize_axis(axis, 0)
            axis = None
        elif axis is not None:
            axis = _single_axis(axis, self.ndim)
        return Tensor._wrap(getattr(self._array, which)(axis=axis, keepdims=keepdims), self.device)

    def _check_not_empty(self, what: str) -> None:
        if self.size == 0:
            raise ValueError(f"{what} of an empty tensor (shape {self.shape}) is undefined")

    def logsumexp(self, axis: int | tuple[int, ...] = -1, keepdims: bool = False, *,
                  dim: Any = None, keepdim: bool | None = None) -> Tensor:
        """log(sum(exp(x))) over ``axis``, exact and overflow-free (the max is shifted out)."""
        if dim is not None or keepdim is not None:
            axis, keepdims = _axis_args(None if dim is not None else axis, keepdims, dim, keepdim)
        return ops.LogSumExp(_normalize_axis(axis, self.ndim), keepdims)(self)

    def softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        """exp(x) / sum(exp(x)) along ``axis`` (or ``dim``), computed without overflow."""
        return ops.Softmax(self._one_axis(axis if dim is None else dim))(self)

    def log_softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        """x - logsumexp(x) along ``axis`` (or ``dim``): the log of the softmax, without taking
        log of 0."""
        return ops.LogSoftmax(self._one_axis(axis if dim is None else dim))(self)

    def _one_axis(self, axis: int) -> int | tuple[()]:
        """The axis of softmax and log_softmax: an int, or () for a 0-d tensor (no axis)."""
        return _single_axis(axis, self.ndim) if self.ndim else _normalize_axis(axis, 0)

    def prod(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, *,
             dim: Any = None, keepdim: bool | None = None, dtype: Any = None) -> Tensor:
        """The product over ``axis`` (an int, a tuple, or None for all). Its gradient is the
        product of the other elements, computed without dividing, so zeros are fine: at a
        single 0 it is the product of the rest, with two or more zeros it is 0."""
        if dim is not None or keepdim is not None:
            axis, keepdims = _axis_args(axis, keepdims, dim, keepdim)
        x = self if dtype is None else self.astype(dtype)
        return ops.Prod(_normalize_axis(axis, x.ndim), keepdims)(x)

    def var(self, axis: int | tuple[int, ...] | None = None, *, correction: float | None = None,
            keepdims: bool = False, ddof: float | None = None, unbiased: bool | None = None,
            dim: Any = None, keepdim: bool | None = None) -> Tensor:
        """The variance over ``axis``: sum((x - mean)**2) / (n - correction).

        ``correction`` defaults to 1 (the unbiased estimate), as in ``torch.var``; NumPy's
        ``ddof`` is the same number under its own name, and NumPy's default is 0, so
        ``x.var()`` here is ``np.var(x, ddof=1)``. ``unbiased=False`` is ``correction=0``
        (PyTorch's older spelling). Computed in two passes (the mean, then the squared
        differences from it), which loses no digits where mean**2 dwarfs the variance. Where
        n <= correction the result is inf or NaN, as in PyTorch, with a warning.
        """
        axis, keepdims = _axis_args(axis, keepdims, dim, keepdim)
        correction = Tensor._correction(correction, ddof, unbiased)
        axes = _normalize_axis(axis, self.ndim)
        x = self._floating()
        count = x.size if axes is None else math.prod(x.shape[a] for a in axes)
        dof = count - correction
        if dof <= 0:
            import warnings
            warnings.warn(f"var: {count} elements per result with correction={correction} "
                          "leave no degrees of freedom; the result is inf or NaN",
                          RuntimeWarning, stacklevel=2)
        d = x - x.mean(axes, keepdims=True)
        if dof > 0:
            return ops.Sum(axes, keepdims, 1.0 / dof)(d * d)
        with np.errstate(divide="ignore", invalid="ignore"):  # warned above
            return ops.Sum(axes, keepdims, math.inf)(d * d)

    @staticmethod
    def _correction(correction: float | None, ddof: float | None, unbiased: bool | None) -> float:
        """var's and std's correction from whichever of its three spellings was given."""
        given = [name for name, v in (("correction", correction), ("ddof", ddof),
                                      ("unbiased", unbiased)) if v is not None]
        if len(given) > 1:
            raise TypeError(f"var/std: got {' and '.join(given)}; they are spellings of one "
                            "argument (ddof is NumPy's name for correction): pass one")
        if unbiased is not None:
            return 1 if unbiased else 0
        value = correction if correction is not None else ddof if ddof is not None else 1
        return value

    def std(self, axis: int | tuple[int, ...] | None = None, *, correction: float | None = None,
            keepdims: bool = False, ddof: float | None = None, unbiased: bool | None = None,
            dim: Any = None, keepdim: bool | None = None) -> Tensor:
        """sqrt(var(...)), with ``var``'s arguments (``correction`` defaults to 1, as in PyTorch;
        ``ddof`` is NumPy's name for it). Where the std is 0 its gradient is 0, as in
        PyTorch, not 0 * inf = NaN."""
        return ops.SqrtFlatAtZero()(self.var(axis, correction=correction, keepdims=keepdims,
                                             ddof=ddof, unbiased=unbiased, dim=dim,
                                             keepdim=keepdim))

    def cumsum(self, dim: int | None = None, *, dtype: Any = None,
               axis: int | None = None) -> Tensor:
        """Running sums along ``dim`` (``axis``): y_i = x_0 + ... + x_i. With no axis, of the
        flattened tensor, as NumPy does (PyTorch requires one)."""
        x, axis, shape = self._scan_input(dim, axis, dtype, "cumsum")
        return ops.Cumsum(axis)(x).reshape(shape)

    def cumprod(self, dim: int | None = None, *, dtype: Any = None,
                axis: int | None = None) -> Tensor:
        """Running products along ``dim`` (``axis``): y_i = x_0 * ... * x_i; flattened with no
        axis, as in NumPy. Its gradient is exact with zeros in x (no division by them)."""
        x, axis, shape = self._scan_input(dim, axis, dtype, "cumprod")
        return ops.Cumprod(axis)(x).reshape(shape)

    def _scan_input(self, dim: Any, axis: Any, dtype: Any, what: str) -> tuple[Tensor, int, Any]:
        """A scan's input (flattened when no axis is given, 1-D for a 0-d tensor), its axis,
        and the shape of its result."""
        axis = _axis_args(axis, False, dim, None)[0]
        x = self if dtype is None else self.astype(dtype)
        if axis is None:
            return x.reshape(-1), 0, (x.size,)
        if x.ndim == 0:
            _normalize_axis(axis, 0)
            return x.reshape(1), 0, ()
        return x, _single_axis(axis, x.ndim), x.shape

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False, *, axis: Any = None,
             keepdims: bool | None = None) -> Tensor:
        """The vector p-norm over ``dim`` (all elements by default), as ``torch.norm``:
        (sum |x|**p)**(1/p). ``p`` is 2 or "fro" (the default: the square root of the sum of
        squares, over any axes), 1, inf (max |x|), -inf (min |x|), 0 (how many are not 0),
        or any other number. Over two axes it is still this elementwise norm: ``ord`` of
        ``numpy.linalg.norm`` (whose 2 over a matrix is its largest singular value) is not
        taken. The gradient of the 2-norm at x = 0 is 0, as in PyTorch."""
        axis, keepdims = _axis_args(axis, keepdim, dim, keepdims)  # PyTorch's or NumPy's names
        axes = _normalize_axis(axis, self.ndim)
        x = self._floating()
        if p in ("fro", 2):
            return ops.SqrtFlatAtZero()(ops.Sum(axes, keepdims)(x * x))
        if isinstance(p, str) or not isinstance(p, (int, float, np.integer, np.floating)):
            raise ValueError(f"norm: p={p!r} is not supported; use a number, inf, -inf or 'fro'")
        if p == 1:
            return x.abs().sum(axes, keepdims)
        if p == math.inf:
            return x.abs().max(axes, keepdims)
        if p == -math.inf:
            return x.abs().min(axes, keepdims)
        if p == 0:  # sign has gradient 0, so the count carries a gradient of 0 as in PyTorch
            return x.sign().abs().sum(axes, keepdims)
        s = (x.abs() ** p).sum(axes, keepdims)
        if p < 0:
            return s ** (1.0 / p)
        # s ** (1/p) has an infinite slope at s = 0; there the norm is 0 with gradient 0.
        zero = s._array == 0
        return (s.where(~zero, 1.0) ** (1.0 / p)).where(~zero, 0.0)

    def all(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, *,
            dim: Any = None, keepdim: bool | None = None) -> Tensor:
        """True where every element over ``axis`` is nonzero (True): a bool tensor, with no
        gradient."""
        axis, keepdims = _axis_args(axis, keepdims, dim, keepdim)
        return Tensor._wrap(self._xp.all(self._array, axis=_normalize_axis(axis, self.ndim),
                                         keepdims=keepdims), self.device)

    def any(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, *,
            dim: Any = None, keepdim: bool | None = None) -> Tensor:
        """True where some element over ``axis`` is nonzero (True): a bool tensor, with no
        gradient."""
        axis, keepdims = _axis_args(axis, keepdims, dim, keepdim)
        return Tensor._wrap(self._xp.any(self._array, axis=_normalize_axis(axis, self.ndim),
                                         keepdims=keepdims), self.device)

    # ------------------------------------------------------------------ linear algebra

    def matmul(self, other: Any) -> Tensor:
        """``self @ other``."""
        return self @ other

    def tensordot(self, other: Any, dims: Any = 2) -> Tensor:
        """Sums of products over pairs of axes, as ``torch.tensordot`` and ``numpy.tensordot``
        (whose ``axes`` is this ``dims``): an int n pairs the last n axes of self with the
        first n of other; a pair of lists ``([1, 0], [0, 2])`` names the axes. The result has
        self's other axes, then other's. Computed by ``einsum``."""
        a, b = self._operands(other)
        if isinstance(dims, (int, np.integer)):
            if not 0 <= dims <= min(a.ndim, b.ndim):
                raise ValueError(f"tensordot: dims={dims} does not fit shapes {a.shape} and "
                                 f"{b.shape}: it must be between 0 and the smaller rank")
            pairs = (list(range(a.ndim - dims, a.ndim)), list(range(dims)))
        else:
            try:
                left, right = dims
            except (TypeError, ValueError):
                raise TypeError(f"tensordot: dims={dims!r}: give an int or a pair of axis "
                                "lists, ([axes of self], [axes of other])") from None
            left = [left] if isinstance(left, (int, np.integer)) else list(left)
            right = [right] if isinstance(right, (int, np.integer)) else list(right)
            if len(left) != len(right):
                raise ValueError(f"tensordot: dims={dims!r} pairs {len(left)} axes with "
                                 f"{len(right)}; give as many of each")
            pairs = ([_single_axis(i, a.ndim) for i in left],
                     [_single_axis(j, b.ndim) for j in right])
            for axes, shape in zip(pairs, (a.shape, b.shape)):
                if len(set(axes)) != len(axes):
                    raise ValueError(f"tensordot: dims={dims!r} names an axis of shape {shape} "
                                     "twice")
        for i, j in zip(*pairs):
            if a.shape[i] != b.shape[j]:
                raise ValueError(f"tensordot: axis {i} of shape {a.shape} has length "
                                 f"{a.shape[i]} but axis {j} of shape {b.shape} has length "
                                 f"{b.shape[j]}; paired axes must have the same length")
        letters = iter(ops.linalg.LETTERS)
        a_labels = [next(letters) for _ in range(a.ndim)]
        b_labels = [next(letters) for _ in range(b.ndim)]
        for i, j in zip(*pairs):
            b_labels[j] = a_labels[i]
        out = ([c for i, c in enumerate(a_labels) if i not in pairs[0]]
               + [c for j, c in enumerate(b_labels) if j not in pairs[1]])
        subscripts = f"{''.join(a_labels)},{''.join(b_labels)}->{''.join(out)}"
        return ops.linalg.einsum_tensors(subscripts, [a, b])

    def inner(self, other: Any) -> Tensor:
        """Sums of products over the last axis of each, as ``numpy.inner`` and ``torch.inner``:
        of shape self.shape[:-1] + other.shape[:-1] (a number for two vectors); a 0-d operand
        multiplies."""
        a, b = self._operands(other)
        if a.ndim == 0 or b.ndim == 0:
            return a * b
        return a.tensordot(b, ([-1], [-1]))

    def outer(self, other: Any) -> Tensor:
        """The outer product of two vectors: out[i, j] = self[i] * other[j]."""
        a, b = self._operands(other)
        if a.ndim != 1 or b.ndim != 1:
            raise ValueError(f"outer takes two 1-D tensors, got shapes {a.shape} and {b.shape}; "
                             "flatten them first (x.flatten()) for NumPy's outer of any shape")
        return a.reshape(-1, 1) * b.reshape(1, -1)

    def dot(self, other: Any) -> Tensor:
        """The product by NumPy's ``dot`` rules: a 0-d operand multiplies; two vectors give their
        inner product; a matrix and a matrix or vector give the matrix product; in general
        the sum over the last axis of self and the second-to-last of other (the last, for a
        vector). (``torch.dot`` takes only vectors; this takes what ``numpy.dot`` takes.)"""
        a, b = self._operands(other)
        if a.ndim == 0 or b.ndim == 0:
            return a * b
        if a.shape[-1] != b.shape[-1 if b.ndim == 1 else -2]:
            raise ValueError(f"dot: shapes {a.shape} and {b.shape} do not align: the last axis "
                             f"of the first ({a.shape[-1]}) must match the "
                             f"{'only' if b.ndim == 1 else 'second-to-last'} axis of the second "
                             f"({b.shape[-1 if b.ndim == 1 else -2]})")
        if a.ndim <= 2 and b.ndim <= 2:
            return a @ b
        return a.tensordot(b, ([-1], [-1 if b.ndim == 1 else -2]))

    # ------------------------------------------------------------------ shape

    def reshape(self, *shape: int | tuple[int, ...]) -> Tensor:
        """The same values in a new shape, given as a tuple or as arguments; one -1 is inferred."""
        shape = _varargs(shape)
        if shape == self.shape:
            return self
        try:
            return ops.Reshape(shape)(self)
        except ValueError:
            raise ValueError(f"cannot reshape a tensor of shape {self.shape} ({self.size} "
                             f"elements) into shape {shape}") from None

    def transpose(self, *axes: int) -> Tensor:
        """With two axes, those two swapped, as ``torch.transpose(x, dim0, dim1)``: for a matrix,
        ``x.transpose(0, 1)`` is its transpose. Otherwise the axes permuted as NumPy does:
        reversed with no arguments, else in the given order.

        (NumPy reads ``x.transpose(0, 1)`` of a matrix as "keep the order", which code written
        for PyTorch would take for a transpose, silently; PyTorch's reading wins here.)"""
        axes = _varargs(axes)
        if not axes:
            axes = tuple(range(self.ndim))[::-1]
        elif len(axes) == 2 and self.ndim >= 2:
            first, second = (_single_axis(a, self.ndim) for a in axes)
            order = list(range(self.ndim))
            order[first], order[second] = second, first
            axes = tuple(order)
        # Negative axes count from the end; one out of range fails the permutation test.
        if sorted(a if a >= 0 else a + self.ndim for a in axes) != list(range(self.ndim)):
            raise ValueError(f"transpose axes {axes} are not a permutation of the "
                             f"{self.ndim} axes of a tensor of shape {self.shape}")
        return ops.Transpose(tuple(a % self.ndim for a in axes))(self)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge the axes from ``start_dim`` to ``end_dim`` into one (all of them by default)."""
        if self.ndim == 0:
            return self.reshape(1)
        start = _single_axis(start_dim, self.ndim)
        end = _single_axis(end_dim, self.ndim)
        if start > end:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for "
                             f"a tensor of shape {self.shape}; pass start_dim <= end_dim")
        return self.reshape(self.shape[:start] + (-1,) + self.shape[end + 1:])

    def squeeze(self, axis: int | tuple[int, ...] | None = None, *,
                dim: int | tuple[int, ...] | None = None) -> Tensor:
        """Drop axes of length 1: all of them, or those in ``axis`` (``dim``), which must have
        length 1 (NumPy's rule; PyTorch leaves a longer axis alone instead)."""
        axis = _axis_args(axis, False, dim, None)[0]
        axes = _normalize_axis(axis, self.ndim)
        if axes is None:
            axes = tuple(i for i, n in enumerate(self.shape) if n == 1)
        for a in axes:
            if self.shape[a] != 1:
                raise ValueError(f"squeeze: axis {a} of a tensor of shape {self.shape} has "
                                 f"length {self.shape[a]}, not 1")
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if i not in axes))

    def unsqueeze(self, dim: int) -> Tensor:
        """A new axis of length 1 at position ``dim`` (counted in the result, so -1 is last)."""
        axis = _single_axis(dim, self.ndim + 1)
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def expand_dims(self, axis: int | tuple[int, ...]) -> Tensor:
        """New axes of length 1 at the positions ``axis`` (an int or a tuple, counted in the
        result), as ``numpy.expand_dims``; ``unsqueeze`` is PyTorch's, one axis at a time."""
        axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
        ndim = self.ndim + len(axes)
        new = _normalize_axis(axes, ndim) if ndim else ()
        shape = iter(self.shape)
        return self.reshape(tuple(1 if a in new else next(shape) for a in range(ndim)))

    def broadcast_to(self, shape: tuple[int, ...]) -> Tensor:
        """The tensor repeated along new or size-1 axes to ``shape``, as ``numpy.broadcast_to``."""
        shape = tuple(shape)
        return self if shape == self.shape else ops.BroadcastTo(shape)(self)

    def sum_to(self, shape: tuple[int, ...]) -> Tensor:
        """Sum down to ``shape``: the adjoint of ``broadcast_to``, and the one place where
        broadcasting is undone in backward. Leading axes that broadcasting added are summed
        away, and axes where ``shape`` has 1 are summed with keepdims."""
        shape = tuple(shape)
        lead = self.ndim - len(shape)
        ones = tuple(lead + i for i, n in enumerate(shape) if n == 1 and self.shape[lead + i] != 1)
        if not ones:  # only added leading axes: one sum without keepdims gives the shape
            return ops.Sum(tuple(range(lead)), False)(self) if lead else self
        return ops.Sum(tuple(range(lead)) + ones, True)(self).reshape(shape)

    def permute(self, *dims: int) -> Tensor:
        """The axes in the order ``dims`` (each axis once; negative ones count from the end), as
        ``torch.permute``: ``x.permute(2, 0, 1)`` makes an (H, W, C) image (C, H, W). A view."""
        dims = _varargs(dims)
        if len(dims) != self.ndim or _normalize_axis(dims, self.ndim) != tuple(range(self.ndim)):
            raise ValueError(f"permute({', '.join(map(str, dims))}): a tensor of shape "
                             f"{self.shape} needs a permutation of its {self.ndim} axes, "
                             "each named once")
        return ops.Transpose(tuple(int(d) % self.ndim for d in dims) if self.ndim else ())(self)

    def moveaxis(self, source: int | tuple[int, ...], destination: int | tuple[int, ...]
                 ) -> Tensor:
        """Axes ``source`` moved to positions ``destination``, the others kept in their order,
        as ``numpy.moveaxis`` (``torch.movedim``): ``x.moveaxis(-1, 0)`` brings the last axis
        first. A view."""
        src = (source,) if isinstance(source, (int, np.integer)) else tuple(source)
        dst = (destination,) if isinstance(destination, (int, np.integer)) else tuple(destination)
        if len(src) != len(dst):
            raise ValueError(f"moveaxis: {len(src)} source axes {src} but {len(dst)} destinations "
                             f"{dst}; give one destination per source axis")
        if self.ndim == 0:  # its only axes are 0 and -1, and there is nothing to move
            _normalize_axis(src, 0), _normalize_axis(dst, 0)
            return ops.Transpose(())(self)
        for axes in (src, dst):
            _normalize_axis(axes, self.ndim)  # in range, and each named once
        src = tuple(_single_axis(a, self.ndim) for a in src)
        dst = tuple(_single_axis(a, self.ndim) for a in dst)
        order = [a for a in range(self.ndim) if a not in src]
        for d, s in sorted(zip(dst, src)):
            order.insert(d, s)
        return ops.Transpose(tuple(order))(self)

    movedim = moveaxis

    def swapaxes(self, axis0: int, axis1: int) -> Tensor:
        """Axes ``axis0`` and ``axis1`` exchanged (``torch.swapaxes``, ``transpose(dim0, dim1)``,
        ``numpy.swapaxes``), at any rank. A view."""
        if self.ndim == 0:
            _normalize_axis((axis0, axis1), 0)
            return ops.Transpose(())(self)
        first, second = _single_axis(axis0, self.ndim), _single_axis(axis1, self.ndim)
        order = list(range(self.ndim))
        order[first], order[second] = second, first
        return ops.Transpose(tuple(order))(self)

    swapdims = swapaxes

    # Splitting: every piece is a slice of the input, x[..., a:b], a view; its gradient goes
    # back into its own place of the input's gradient.

    def split(self, split_size_or_sections: int | list[int], dim: int = 0, *,
              axis: int | None = None) -> tuple[Tensor, ...]:
        """Pieces along ``dim``, as ``torch.split``: an int gives pieces of that length (the last
        may be shorter), a list gives the length of each piece (they must add up to the axis).

        ``numpy.split`` differs: its int is the number of pieces and its list holds the indices
        where cuts go; see ``array_split`` (NumPy's) and ``chunk`` (a number of pieces).
        """
        axis = self._split_axis(dim if axis is None else axis, "split")
        n = self.shape[axis]
        if isinstance(split_size_or_sections, (int, np.integer)):
            size = int(split_size_or_sections)
            if size <= 0 and n > 0:
                raise ValueError(f"split: a piece length must be positive, got {size}")
            sizes = [size] * (n // size) + ([n % size] if n % size else []) if n else [0]
        else:
            sizes = [int(s) for s in split_size_or_sections]
            if any(s < 0 for s in sizes) or sum(sizes) != n:
                raise ValueError(f"split: the lengths {sizes} must be non-negative and add up "
                                 f"to {n}, the length of axis {axis} of shape {self.shape}")
        starts = np.cumsum([0] + sizes[:-1])
        return self._pieces(axis, [(int(a), int(a) + s) for a, s in zip(starts, sizes)])

    def chunk(self, chunks: int, dim: int = 0, *, axis: int | None = None) -> tuple[Tensor, ...]:
        """At most ``chunks`` pieces along ``dim``, as ``torch.chunk``: pieces of length
        ceil(n / chunks), the last shorter, and fewer pieces when they run out (an axis of 6 in
        4 chunks gives 3 pieces of 2). ``array_split`` always gives exactly that many."""
        axis = self._split_axis(dim if axis is None else axis, "chunk")
        if isinstance(chunks, bool) or not isinstance(chunks, (int, np.integer)) or chunks <= 0:
            raise ValueError(f"chunk: the number of chunks must be a positive int, got {chunks!r}")
        n = self.shape[axis]
        if n == 0:
            return self._pieces(axis, [(0, 0)] * int(chunks))
        return self.split(-(-n // int(chunks)), axis)

    def array_split(self, indices_or_sections: int | list[int], axis: int = 0, *,
                    dim: int | None = None) -> tuple[Tensor, ...]:
        """Pieces along ``axis``, as ``numpy.array_split`` (``torch.tensor_split``): an int k gives
        exactly k pieces, the first n % k of them one longer; a list gives the indices where
        the axis is cut (``[2, 5]`` gives ``x[:2], x[2:5], x[5:]``)."""
        axis = self._split_axis(axis if dim is None else dim, "array_split")
        n = self.shape[axis]
        if isinstance(indices_or_sections, (int, np.integer)):
            k = int(indices_or_sections)
            if k <= 0:
                raise ValueError(f"array_split: the number of sections must be positive, got {k}")
            sizes = [n // k + 1] * (n % k) + [n // k] * (k - n % k)
            starts = np.cumsum([0] + sizes[:-1])
            return self._pieces(axis, [(int(a), int(a) + s) for a, s in zip(starts, sizes)])
        cuts = [int(c) for c in indices_or_sections]
        # Python's slice rules, as NumPy: x[5:2] is empty, x[-2:] counts from the end.
        return self._pieces(axis, list(zip([0] + cuts, cuts + [None])))

    tensor_split = array_split

    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        """The slices along ``dim``, with that axis removed, as ``torch.unbind``: the inverse of
        ``stack``. Each is a view."""
        axis = self._split_axis(dim, "unbind")
        return tuple(self[(slice(None),) * axis + (i,)] for i in range(self.shape[axis]))

    def _split_axis(self, dim: Any, what: str) -> int:
        if self.ndim == 0:
            raise ValueError(f"{what} needs a tensor of at least 1 dimension, got a 0-d tensor; "
                             "reshape it first (x.reshape(1))")
        return _single_axis(dim, self.ndim)

    def _pieces(self, axis: int, bounds: list[tuple[int, int | None]]) -> tuple[Tensor, ...]:
        lead = (slice(None),) * axis
        return tuple(self[lead + (slice(a, b),)] for a, b in bounds)

    # Repeating. PyTorch and NumPy use the name "repeat" for different things:
    #   PyTorch x.repeat(2, 3) = NumPy np.tile(x, (2, 3)): the whole tensor, tiled;
    #   NumPy np.repeat(x, 2, axis) = PyTorch x.repeat_interleave(2, dim): each element twice.
    # Tensor.repeat is PyTorch's; there is no tinygrad_sm.repeat, since code written for NumPy
    # would expect the other meaning from it.

    def tile(self, *reps: int) -> Tensor:
        """The tensor tiled ``reps[i]`` times along axis i, as ``numpy.tile`` and ``torch.tile``:
        missing reps count as 1 (leading ones), and extra reps add leading axes."""
        reps = _varargs(reps)
        for r in reps:
            if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or r < 0:
                raise ValueError(f"tile: reps {reps} must be non-negative ints")
        ndim = max(len(reps), self.ndim)
        reps = (1,) * (ndim - len(reps)) + tuple(int(r) for r in reps)
        shape = (1,) * (ndim - self.ndim) + self.shape
        # A new axis of length r before each axis, broadcast, then merged into it: the same
        # copy that numpy.tile makes, and BroadcastTo's gradient (a sum) is the tile's.
        spaced = self.reshape(tuple(x for n in shape for x in (1, n)))
        tiled = ops.BroadcastTo(tuple(x for r, n in zip(reps, shape) for x in (r, n)))(spaced)
        return tiled.reshape(tuple(r * n for r, n in zip(reps, shape)))

    def repeat(self, *sizes: int) -> Tensor:
        """The tensor tiled ``sizes[i]`` times along axis i, as ``torch.Tensor.repeat`` (which is
        ``tile``, except that it needs a size for every axis). For NumPy's ``repeat``, each
        element repeated in place, see ``repeat_interleave``."""
        sizes = _varargs(sizes)
        if len(sizes) < self.ndim:
            raise ValueError(f"repeat: {len(sizes)} sizes {tuple(sizes)} for a tensor of "
                             f"{self.ndim} dimensions; give one per axis (1 to leave an axis "
                             "as it is), or use tile, which fills in leading ones")
        return self.tile(sizes)

    def repeat_interleave(self, repeats: int | Any, dim: int | None = None, *,
                          axis: int | None = None) -> Tensor:
        """Each element repeated ``repeats`` times in place along ``dim``, as
        ``torch.repeat_interleave`` and ``numpy.repeat``: [1, 2] twice is [1, 1, 2, 2].
        ``repeats`` is an int, or one count per element along ``dim``; with ``dim=None`` the
        tensor is flattened first. The gradient of each element sums over its copies."""
        dim = dim if axis is None else axis
        x = self.reshape(-1) if dim is None or self.ndim == 0 else self
        a = 0 if dim is None or self.ndim == 0 else _single_axis(dim, self.ndim)
        counts = repeats.numpy() if isinstance(repeats, Tensor) else np.asarray(repeats)
        if counts.dtype.kind not in "iu" or counts.ndim > 1:
            raise TypeError(f"repeat_interleave: repeats must be an int or a 1-D sequence of "
                            f"ints, got {repeats!r}")
        if (counts < 0).any():
            raise ValueError(f"repeat_interleave: repeats must be non-negative, got {repeats!r}")
        n = x.shape[a]
        if counts.size == 1:  # one count for all: broadcast along a new axis, then merge
            r = int(counts.reshape(-1)[0])
            before, after = x.shape[:a + 1], x.shape[a + 1:]
            spread = ops.BroadcastTo(before + (r,) + after)(x.reshape(before + (1,) + after))
            return spread.reshape(x.shape[:a] + (n * r,) + after)
        if counts.size != n:
            raise ValueError(f"repeat_interleave: {counts.size} repeats for an axis of length "
                             f"{n}; give one count per element, or one int for all")
        return x[(slice(None),) * a + (np.repeat(np.arange(n), counts),)]

    # Reordering and padding.

    def flip(self, *axes: int, dims: Any = None, axis: Any = None) -> Tensor:
        """The elements in reverse order along the given axes (``x.flip(0)``, ``x.flip((0, 1))``,
        ``dims=``/``axis=``), along all of them when none are given, as ``numpy.flip``. A view
        (``torch.flip`` copies)."""
        if len([a for a in (axes or None, dims, axis) if a is not None]) > 1:
            raise TypeError(f"flip: axes given twice ({axes!r}, dims={dims!r}, axis={axis!r}); "
                            "pass them once")
        chosen = _varargs(axes) if axes else dims if dims is not None else axis
        flipped = _normalize_axis(chosen, self.ndim)
        return ops.Flip(tuple(range(self.ndim)) if flipped is None else flipped)(self)

    def roll(self, shifts: int | tuple[int, ...], dims: int | tuple[int, ...] | None = None, *,
             axis: int | tuple[int, ...] | None = None) -> Tensor:
        """Elements shifted by ``shifts`` along ``dims``, those that fall off the end coming back
        at the start, as ``torch.roll`` and ``numpy.roll``: [1, 2, 3] rolled by 1 is [3, 1, 2].
        With ``dims=None`` the tensor is rolled as if flattened."""
        if dims is not None and axis is not None:
            raise TypeError(f"roll: got both dims={dims!r} and axis={axis!r}; pass one")
        dims = dims if axis is None else axis
        many = not isinstance(shifts, (int, np.integer))
        shifts = tuple(int(s) for s in shifts) if many else (int(shifts),)
        if dims is None:
            if len(shifts) != 1:
                raise ValueError(f"roll: {len(shifts)} shifts {shifts} without dims; give one "
                                 "dim per shift, or one shift to roll the flattened tensor")
            return ops.Roll(shifts[0], None)(self)
        dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
        if len(dims) != len(shifts):
            raise ValueError(f"roll: {len(shifts)} shifts {shifts} but {len(dims)} dims {dims}; "
                             "give one shift per dim")
        if self.ndim == 0:
            _normalize_axis(dims, 0)
            return ops.Roll(0, None)(self)
        return ops.Roll(shifts, tuple(_single_axis(d, self.ndim) for d in dims))(self)

    def pad(self, pad_width: int | Any, value: Any = 0, *, mode: str = "constant") -> Tensor:
        """The tensor with elements added around it, as ``numpy.pad``: ``pad_width`` is an int
        (that many on both sides of every axis), a pair ``(before, after)`` for every axis, or
        one pair per axis, first axis first: ``x.pad(((0, 0), (1, 2)))``.

        ``mode="constant"`` fills with ``value``; ``"edge"``, ``"reflect"``, ``"symmetric"``
        and ``"wrap"`` copy elements of the tensor, as NumPy's modes of those names do.
        (PyTorch's ``F.pad`` lists its pairs the other way round, last axis first.)
        """
        widths = self._pad_widths(pad_width)
        if mode == "constant":
            if isinstance(value, Tensor) or not isinstance(value, (bool, int, float, np.number,
                                                                   np.bool_)):
                raise TypeError(f"pad: value must be a number, got {type(value).__name__}")
            return ops.Pad(widths, value)(self)
        if mode not in ("edge", "reflect", "symmetric", "wrap"):
            raise ValueError(f"pad: unknown mode {mode!r}; use 'constant', 'edge', 'reflect', "
                             "'symmetric' or 'wrap'")
        if value != 0:
            raise ValueError(f"pad: value={value!r} is used only by mode='constant', not "
                             f"mode={mode!r}")
        out = self
        for a, (before, after) in enumerate(widths):
            if before or after:
                if self.shape[a] == 0:
                    raise ValueError(f"pad: mode={mode!r} copies elements of the tensor, but axis "
                                     f"{a} of shape {self.shape} has none")
                index = ops.shape.pad_index(self.shape[a], before, after, mode)
                out = out[(slice(None),) * a + (index,)]
        return self.clone() if out is self else out

    def _pad_widths(self, pad_width: Any) -> tuple[tuple[int, int], ...]:
        """NumPy's ``pad_width`` as one (before, after) pair per axis."""
        widths = np.asarray(pad_width)
        if widths.size == 0 and self.ndim == 0:  # (): no pairs for no axes
            return ()
        if widths.dtype.kind not in "iu":
            raise TypeError(f"pad: pad_width must hold ints, got {pad_width!r}")
        try:
            widths = np.broadcast_to(widths, (self.ndim, 2))
        except ValueError:
            raise ValueError(f"pad: pad_width {pad_width!r} does not fit a tensor of shape "
                             f"{self.shape}: give an int, one (before, after) pair, or "
                             f"{self.ndim} pairs, first axis first") from None
        if (widths < 0).any():
            raise ValueError(f"pad: pad_width {pad_width!r} must be non-negative; crop with "
                             "slicing (x[1:-1]) instead")
        return tuple((int(b), int(a)) for b, a in widths)

    # Matrix views: the diagonal and the triangles.

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1, *, axis1: int | None = None,
                 axis2: int | None = None) -> Tensor:
        """The elements x[i, i + offset] of the matrices over axes (dim1, dim2), as a new last
        axis, as ``torch.diagonal`` and ``numpy.diagonal`` (``axis1``/``axis2``). A view,
        read-only on the CPU (NumPy's): write into a ``clone()`` of it instead."""
        if self.ndim < 2:
            raise ValueError(f"diagonal needs a tensor of at least 2 dimensions, got shape "
                             f"{self.shape}; for a 1-D tensor, diag() makes a matrix of it")
        first = _single_axis(dim1 if axis1 is None else axis1, self.ndim)
        second = _single_axis(dim2 if axis2 is None else axis2, self.ndim)
        if first == second:
            raise ValueError(f"diagonal: dim1 and dim2 are both axis {first}; name two axes")
        return ops.Diagonal(int(offset), first, second)(self)

    def trace(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
        """The sum of the diagonal, as ``torch.trace`` (a matrix) and ``numpy.trace`` (any rank,
        ``offset`` and the axes too)."""
        return self.diagonal(offset, axis1, axis2).sum(-1)

    def diag(self, diagonal: int = 0) -> Tensor:
        """As ``torch.diag`` and ``numpy.diag``: a 1-D tensor becomes a square matrix with it on
        diagonal ``diagonal`` (0 elsewhere); a matrix gives its diagonal ``diagonal``."""
        if self.ndim == 1:
            n = self.shape[0] + abs(int(diagonal))
            return ops.DiagEmbed((n, n), int(diagonal), 0, 1)(self)
        if self.ndim == 2:
            return self.diagonal(diagonal)
        raise ValueError(f"diag needs a 1-D or 2-D tensor, got shape {self.shape}; use "
                         "diagonal() or diag_embed() for batches")

    def diag_embed(self, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
        """Matrices (over the new axes dim1, dim2) with the last axis on diagonal ``offset``, 0
        elsewhere, as ``torch.diag_embed``: a (B, n) tensor gives B diagonal matrices."""
        if self.ndim == 0:
            raise ValueError("diag_embed needs a tensor of at least 1 dimension, got a 0-d "
                             "tensor; reshape it first (x.reshape(1))")
        first, second = _single_axis(dim1, self.ndim + 1), _single_axis(dim2, self.ndim + 1)
        if first == second:
            raise ValueError(f"diag_embed: dim1 and dim2 are both axis {first}; name two axes")
        n = self.shape[-1] + abs(int(offset))
        shape = list(self.shape[:-1])
        for a in sorted((first, second)):
            shape.insert(a, n)
        return ops.DiagEmbed(tuple(shape), int(offset), first, second)(self)

    def triu(self, diagonal: int = 0, *, k: int | None = None) -> Tensor:
        """The upper triangle of the matrices over the last two axes: x[..., i, j] where
        j - i >= ``diagonal`` (NumPy's ``k``), 0 below, as ``torch.triu`` and ``numpy.triu``."""
        return ops.Tri(self._tri_diagonal("triu", diagonal, k), True)(self)

    def tril(self, diagonal: int = 0, *, k: int | None = None) -> Tensor:
        """The lower triangle of the matrices over the last two axes: x[..., i, j] where
        j - i <= ``diagonal`` (NumPy's ``k``), 0 above, as ``torch.tril`` and ``numpy.tril``."""
        return ops.Tri(self._tri_diagonal("tril", diagonal, k), False)(self)

    def _tri_diagonal(self, what: str, diagonal: int, k: int | None) -> int:
        if self.ndim < 2:
            raise ValueError(f"{what} needs a tensor of at least 2 dimensions (matrices over "
                             f"the last two), got shape {self.shape}")
        return int(diagonal if k is None else k)

    # ------------------------------------------------------------------ indexing

    def __getitem__(self, index: Any) -> Tensor:
        """NumPy indexing: ints, slices, None, Ellipsis, boolean masks and integer arrays (or
        tensors). The gradient adds up over repeated indices."""
        return ops.GetItem(self._index(index))(self)

    def _index(self, index: Any) -> Any:
        """Index tensors and lists as arrays on this tensor's device."""
        def convert(part: Any) -> Any:
            if isinstance(part, Tensor):
                part = part._array
            elif isinstance(part, list):
                part = np.asarray(part)
                if part.size == 0:  # x[[]] selects nothing; NumPy reads [] as float64
                    part = part.astype(np.intp)
            if self.device != "cpu" and isinstance(part, np.ndarray):
                part = backend.to_device(part, self.device)
            return part
        index = tuple(convert(part) for part in index) if isinstance(index, tuple) else \
            convert(index)
        if self.device != "cpu":  # NumPy checks integer indices; CuPy would wrap them around
            ops.index.check_integer_parts(index, self.shape)
        return index

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        """The slices along the first axis (``for row in X``), each differentiable."""
        # Without this, Python would iterate by calling t[0], t[1], ... until an IndexError,
        # which a 0-d tensor raises at once: it would look empty instead of failing.
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    # gather, scatter_add, index_add and index_select are x[index] and its adjoint with an
    # integer-array index built from theirs (ops/index.py): GetItem and IndexAdd do the work,
    # and a repeated index adds up its gradients.

    def gather(self, dim: int, index: Any) -> Tensor:
        """``out[i][j] = x[i][index[i][j]]`` for ``dim=1`` (likewise at any rank), as
        ``torch.gather``: ``index`` has x's rank, and along the other axes it may be shorter
        than x (its first rows are used). Negative indices count from the end."""
        idx, axis = self._index_along(index, dim, "gather")
        for d, (n, m) in enumerate(zip(idx.shape, self.shape)):
            if d != axis and n > m:
                raise ValueError(f"gather: index of shape {idx.shape} is longer than the tensor "
                                 f"of shape {self.shape} along axis {d}")
        return ops.GetItem(ops.index.along_axis_index(idx, axis, idx.shape))(self)

    def take_along_dim(self, indices: Any, dim: int | None = None) -> Tensor:
        """Elements picked along ``dim`` by ``indices``, as ``torch.take_along_dim`` and
        ``numpy.take_along_axis``: like ``gather``, but the other axes broadcast (an axis of
        length 1 in either stands for all). With ``dim=None``, both are flattened first. The
        usual use: ``x.take_along_dim(x.argmax(1, keepdims=True), 1)``."""
        if dim is None:
            flat = indices.reshape(-1) if isinstance(indices, Tensor) else np.reshape(indices, -1)
            return self.reshape(-1).take_along_dim(flat, 0)
        idx, axis = self._index_along(indices, dim, "take_along_dim")
        for d, (n, m) in enumerate(zip(idx.shape, self.shape)):
            if d != axis and n != m and 1 not in (n, m):
                raise ValueError(f"take_along_dim: indices of shape {idx.shape} and a tensor of "
                                 f"shape {self.shape} do not broadcast along axis {d}")
        return ops.GetItem(ops.index.along_axis_index(idx, axis, self.shape))(self)

    def scatter_add(self, dim: int, index: Any, src: Tensor) -> Tensor:
        """A copy of x with ``src`` added at ``index`` along ``dim``: for ``dim=1``,
        ``out[i][index[i][j]] += src[i][j]``, as ``torch.scatter_add`` (the adjoint of
        ``gather``). A repeated index adds every contribution. ``index`` has x's rank and is no
        longer than ``src`` (nor than x, off ``dim``); the rest of ``src`` is unused."""
        idx, axis = self._index_along(index, dim, "scatter_add")
        src = self._same_device(src, "scatter_add")
        if src.ndim != self.ndim:
            raise ValueError(f"scatter_add: src of shape {src.shape} and the tensor of shape "
                             f"{self.shape} must have the same number of dimensions")
        for d, (n, s, m) in enumerate(zip(idx.shape, src.shape, self.shape)):
            if n > s or (d != axis and n > m):
                raise ValueError(f"scatter_add: index of shape {idx.shape} is longer along axis "
                                 f"{d} than src {src.shape} or the tensor {self.shape}")
        if src.shape != idx.shape:
            src = src[tuple(slice(0, n) for n in idx.shape)]
        added = ops.IndexAdd(self.shape, ops.index.along_axis_index(idx, axis, idx.shape))(src)
        return self + added

    def index_add(self, dim: int, index: Any, source: Tensor, *, alpha: float = 1) -> Tensor:
        """A copy of x with ``alpha * source[..., i, ...]`` added to ``x[..., index[i], ...]``
        along ``dim``, as ``torch.index_add``; a repeated index adds every contribution."""
        idx, axis = self._index_along(index, dim, "index_add", one_d=True)
        source = self._same_device(source, "index_add")
        expected = self.shape[:axis] + (idx.shape[0],) + self.shape[axis + 1:]
        if source.shape != expected:
            raise ValueError(f"index_add: source has shape {source.shape}, but {idx.shape[0]} "
                             f"indices along axis {axis} of shape {self.shape} need {expected}")
        if alpha != 1:
            source = source * alpha
        return self + ops.IndexAdd(self.shape, (slice(None),) * axis + (idx,))(source)

    def index_select(self, dim: int, index: Any) -> Tensor:
        """The slices ``index`` (a 1-D sequence of ints) along ``dim``, in that order, as
        ``torch.index_select`` (NumPy's ``take`` with an axis)."""
        idx, axis = self._index_along(index, dim, "index_select", one_d=True)
        return ops.GetItem((slice(None),) * axis + (idx,))(self)

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """A copy of x with ``value`` (a number, or a 0-d tensor, whose gradient is the sum of
        the filled places') wherever the bool ``mask`` is True, as ``torch.masked_fill``; the
        mask broadcasts. Filled by assignment, so an inf or nan elsewhere stays where it is
        (a mask multiply would turn inf * 0 into nan)."""
        m = self._index_array(mask)
        if m.dtype != np.bool_:
            raise TypeError(f"masked_fill: the mask must be bool, got {m.dtype}; compare to "
                            "make one (mask = x > 0) or convert it with .astype(bool)")
        try:
            shape = np.broadcast_shapes(self.shape, m.shape)
        except ValueError:
            raise ValueError(f"masked_fill: a mask of shape {m.shape} does not broadcast with "
                             f"the tensor's shape {self.shape}") from None
        x = self.broadcast_to(shape)
        if m.shape != shape:
            m = self._xp.broadcast_to(m, shape)
        if isinstance(value, Tensor):
            if value.ndim != 0:
                raise ValueError(f"masked_fill: a tensor value must be 0-d, got shape "
                                 f"{value.shape}; use where() to fill from a tensor")
            value = self._same_device(value, "masked_fill")
        elif isinstance(value, (bool, int, float, np.number, np.bool_)):
            value = self._constant(self.dtype.type(value))
        else:
            raise TypeError(f"masked_fill: value must be a number or a 0-d tensor, got "
                            f"{type(value).__name__}")
        return ops.SetItem(m)(x, value)

    # The in-place forms: the result is written back (copy_), with copy_'s rules.

    def masked_fill_(self, mask: Any, value: Any) -> Tensor:
        return self._write_back(self.masked_fill(mask, value), "masked_fill_")

    def index_add_(self, dim: int, index: Any, source: Tensor, *, alpha: float = 1) -> Tensor:
        return self._write_back(self.index_add(dim, index, source, alpha=alpha), "index_add_")

    def scatter_add_(self, dim: int, index: Any, src: Tensor) -> Tensor:
        return self._write_back(self.scatter_add(dim, index, src), "scatter_add_")

    def _write_back(self, result: Tensor, what: str) -> Tensor:
        if result.shape != self.shape:
            raise ValueError(f"{what}: the result has shape {result.shape}, which does not fit "
                             f"in place into shape {self.shape}; use the out-of-place form")
        return self.copy_(result)

    def _index_along(self, index: Any, dim: int, what: str, one_d: bool = False
                     ) -> tuple[Any, int]:
        """An index argument as an integer array on this tensor's device, checked to lie within
        axis ``dim``, and the axis as an int."""
        if self.ndim == 0:
            raise ValueError(f"{what} needs a tensor of at least 1 dimension, got a 0-d tensor; "
                             "reshape it first (x.reshape(1))")
        axis = _single_axis(dim, self.ndim)
        idx = self._index_array(index)
        if one_d:
            if idx.ndim > 1:
                raise ValueError(f"{what}: the index must be 1-D, got shape {idx.shape}")
            idx = idx.reshape(-1)
        elif idx.ndim != self.ndim:
            raise ValueError(f"{what}: an index of shape {idx.shape} for a tensor of shape "
                             f"{self.shape}: both must have the same number of dimensions")
        ops.index.check_index_array(idx, self.shape[axis], what)
        return idx, axis

    def _index_array(self, index: Any) -> Any:
        """An index or a mask (a tensor, an array or a list) as an array on this tensor's device,
        moved there if need be, as ``x[index]`` moves it."""
        if isinstance(index, Tensor):
            index = index._array
        elif backend.device_of(index) == "cpu":  # numbers, lists and NumPy arrays
            index = np.asarray(index)
            if index.size == 0 and index.dtype.kind == "f":  # [] is read as float64
                index = index.astype(np.int64)
        return backend.to_device(index, self.device)

    def _same_device(self, other: Any, what: str) -> Tensor:
        """A value to combine with this tensor, as a tensor on its device: a tensor elsewhere
        is an error, as in a binary op."""
        if isinstance(other, Tensor):
            if other.device != self.device:
                raise RuntimeError(f"{what}: a {other.device!r} tensor used with a "
                                   f"{self.device!r} tensor; move it with .to({self.device!r})")
            return other
        return Tensor(other, dtype=self.dtype, device=self.device)

    # ------------------------------------------------------------------ conversions

    def detach(self) -> Tensor:
        """The same memory, cut from the graph: no ``grad_fn``, no gradient. A write to either
        shows in both, and counts as a write to both (see "In-place ops")."""
        out = Tensor._wrap(self._mutable_array(), self.device)
        out._version = _autograd.shared_version(self)
        return out

    @property
    def data(self) -> Tensor:
        """``detach()``, as in PyTorch: ``w.data.normal_(0, 0.01)`` and ``w.data -= lr * w.grad``
        change ``w`` itself without recording a graph. ``numpy()`` gives the array."""
        return self.detach()

    @data.setter
    def data(self, value: Tensor) -> None:
        # ``w.data -= u`` ends by assigning w.data's own result back: the memory is already w's.
        if isinstance(value, Tensor) and value._array is self._array:
            return
        if not isinstance(value, Tensor):
            raise TypeError(f"Tensor.data must be set to a Tensor, got {type(value).__name__}; "
                            "wrap it with tinygrad_sm.tensor(...)")
        self._array, self.device = value._array, value.device
        self._version = _autograd.shared_version(value)
        _autograd.mark_written(self)

    def clone(self) -> Tensor:
        """A copy in new memory that stays in the graph (its gradient flows back to self)."""
        return ops.Clone()(self)

    # PyTorch's spellings of astype and reshape
    def float(self) -> Tensor:
        """``astype(float32)``, as ``torch.Tensor.float``."""
        return self.astype(np.float32)

    def double(self) -> Tensor:
        return self.astype(np.float64)

    def half(self) -> Tensor:
        return self.astype(np.float16)

    def long(self) -> Tensor:
        """``astype(int64)``, as ``torch.Tensor.long``."""
        return self.astype(np.int64)

    def int(self) -> Tensor:
        return self.astype(np.int32)

    def bool(self) -> Tensor:
        return self.astype(np.bool_)

    def view(self, *shape: int | tuple[int, ...]) -> Tensor:
        """``reshape``, as ``torch.Tensor.view`` (a view where NumPy can make one, else a copy:
        PyTorch would refuse the copy; here the result is right either way)."""
        return self.reshape(*shape)

    def t(self) -> Tensor:
        """The transpose of a matrix (a vector stays as it is), as ``torch.Tensor.t``."""
        if self.ndim > 2:
            raise ValueError(f"t() transposes tensors of at most 2 dimensions, got shape "
                             f"{self.shape}; use transpose(dim0, dim1) or mT")
        return self if self.ndim < 2 else self.T

    def type(self, dtype: Any = None) -> Any:
        """``astype(dtype)``, as ``torch.Tensor.type``; with no argument, the dtype's name."""
        return str(self.dtype) if dtype is None else self.astype(dtype)

    def astype(self, dtype: Any) -> Tensor:
        """A copy in another dtype. Differentiable between floating-point dtypes."""
        dtype = to_dtype(dtype)
        if dtype == self.dtype:
            return self
        if dtype.kind not in "fc":  # an integer or bool result cannot carry a gradient
            return Tensor._wrap(self._array.astype(dtype), self.device)
        if dtype.kind == "c" and self.requires_grad and _autograd.is_grad_enabled():
            raise TypeError(_COMPLEX_AUTOGRAD)
        return ops.Cast(dtype)(self)

    def to(self, device: str) -> Tensor:
        """A copy on ``device`` (``"cpu"`` or ``"cuda"``), or self if it is there already.

        The copy is a new leaf: to train on a device, create the parameters there.
        """
        device = backend.check_device(device)
        if device == self.device:
            return self
        out = Tensor._wrap(backend.to_device(self._array, device), device)
        out.requires_grad = self.requires_grad
        return out

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array: shared with the tensor on CPU, copied from a GPU."""
        return np.asarray(backend.to_device(self._array, "cpu"))

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self._array.item()

    def tolist(self) -> Any:
        return backend.to_device(self._array, "cpu").tolist()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if self.device != "cpu":
            raise TypeError(f"a {self.device!r} tensor cannot become a NumPy array implicitly; "
                            "call .numpy() or .cpu() to copy it to the host")
        # NumPy 2 passes copy=True for np.array(t): the result must not share t's memory.
        return np.array(self._array, dtype=dtype, copy=copy)

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"`` formats a one-element tensor's value; ``f"{x}"`` is ``str(x)``."""
        if not spec:
            return str(self)
        if self.size != 1:
            raise TypeError(f"format spec {spec!r} needs a one-element tensor, got shape "
                            f"{self.shape}; format x.tolist() or one element x[i] instead")
        return format(self.item(), spec)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                             "use .any() or .all() on the data, or compare elementwise")
        return bool(self.item())

    def __repr__(self) -> str:
        array = np.asarray(backend.to_device(self._array, "cpu"))
        body = np.array2string(array, separator=", ", prefix="tensor(", threshold=200)
        extras = []
        if self.dtype not in (DEFAULT_DTYPE, np.dtype(np.int64), np.dtype(bool)):
            extras.append(f"dtype={self.dtype}")
        if self.device != "cpu":
            extras.append(f"device={self.device!r}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    # ------------------------------------------------------------------ autograd

    def backward(self, gradient: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
        """Add d(self)/d(leaf) into the ``.grad`` of every leaf that requires grad.

        ``gradient`` is d(loss)/d(self); it may be left out when self is a scalar. The graph's
        saved values are freed afterwards unless ``retain_graph=True``. With
        ``create_graph=True`` the gradients are themselves differentiable (and the graph is
        kept, unless ``retain_graph=False``).
        """
        seeds = _autograd._root_gradients([self], None if gradient is None else [gradient],
                                          "backward")
        retain = create_graph if retain_graph is None else retain_graph
        _autograd.run_backward([self], seeds, retain, create_graph)


# ---------------------------------------------------------------------- factories

def _shape_arg(shape: tuple[Any, ...]) -> tuple[int, ...]:
    """A shape given as ``f(2, 3)`` or ``f((2, 3))``, checked."""
    shape = _varargs(shape)
    for n in shape:
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"shape {shape} must be non-negative integers")
    return tuple(int(n) for n in shape)


def _factory(array: np.ndarray, dtype: Any, device: str | None, requires_grad: bool) -> Tensor:
    return Tensor(array, requires_grad=requires_grad,
                  dtype=DEFAULT_DTYPE if dtype is None else dtype, device=device)


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None,
           device: str | None = None) -> Tensor:
    """A new leaf tensor with a copy of ``data``, as ``torch.tensor``: changing one later does
    not change the other. ``from_numpy`` and ``as_tensor`` share an array's memory instead."""
    out = Tensor(data, dtype=dtype, device=device)
    source = data._array if isinstance(data, Tensor) else data
    if out._array is source:  # nothing (dtype, device) made a copy on the way
        out._array = out._array.copy()
    return out.requires_grad_(requires_grad) if requires_grad else out


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor that shares ``array``'s memory, as ``torch.from_numpy``: a change to either, an
    in-place op or an optimizer's update included, shows in the other. The dtype is kept."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a NumPy array, got {type(array).__name__}; use "
                        "tinygrad_sm.tensor(...) for other data")
    return Tensor._wrap(_to_array(array, None, backend.CPU), backend.CPU)


def as_tensor(data: Any, dtype: Any = None, device: str | None = None) -> Tensor:
    """``data`` as a tensor, sharing its memory when no conversion is needed, as
    ``torch.as_tensor``: an array of the right dtype and device is used as it is, and a Tensor
    of the right dtype and device is returned itself. Anything else is converted (a copy)."""
    if isinstance(data, Tensor):
        return data.to(device or data.device).astype(data.dtype if dtype is None else dtype)
    if device is None and backend.device_of(data) == "cuda":
        device = "cuda"
    device = backend.check_device(device)
    return Tensor._wrap(_to_array(data, None if dtype is None else to_dtype(dtype), device),
                        device)


def zeros(*shape: int, dtype: Any = None, device: str | None = None,
          requires_grad: bool = False) -> Tensor:
    return _filled("zeros", shape, dtype, device, requires_grad)


def ones(*shape: int, dtype: Any = None, device: str | None = None,
         requires_grad: bool = False) -> Tensor:
    return _filled("ones", shape, dtype, device, requires_grad)


def full(size: Any, fill_value: Any, dtype: Any = None, device: str | None = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value``, as ``torch.full``: without a dtype,
    bool for a bool, int64 for an int, the default float type for a float."""
    if not isinstance(fill_value, (bool, int, float, np.bool_, np.integer, np.floating)):
        raise TypeError(f"full: fill_value must be a Python or NumPy number, got "
                        f"{type(fill_value).__name__}; for a tensor of values use tensor(...)")
    if dtype is None:
        dtype = (np.bool_ if isinstance(fill_value, (bool, np.bool_)) else
                 np.int64 if isinstance(fill_value, (int, np.integer)) else DEFAULT_DTYPE)
    out = _filled("empty", (size,), dtype, device, False)
    out._array.fill(fill_value)
    return out.requires_grad_(requires_grad) if requires_grad else out


def full_like(t: Tensor, fill_value: Any, dtype: Any = None,
              requires_grad: bool = False) -> Tensor:
    return full(t.shape, fill_value, dtype=t.dtype if dtype is None else dtype, device=t.device,
                requires_grad=requires_grad)


def _filled(how: str, shape: tuple[Any, ...], dtype: Any, device: str | None,
            requires_grad: bool) -> Tensor:
    """A new leaf from the array module's ``zeros``, ``ones`` or ``empty``, made on its device."""
    device = backend.check_device(device)
    dtype = DEFAULT_DTYPE if dtype is None else to_dtype(dtype)
    array = getattr(backend.array_module(device), how)(_shape_arg(shape), dtype=dtype)
    out = Tensor._wrap(array, device)
    return out.requires_grad_(requires_grad) if requires_grad else out


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return zeros(t.shape, dtype=t.dtype if dtype is None else dtype, device=t.device,
                 requires_grad=requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return ones(t.shape, dtype=t.dtype if dtype is None else dtype, device=t.device,
                requires_grad=requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None,
           device: str | None = None) -> Tensor:
    """Evenly spaced values in [start, end); int64 when all arguments are ints, else float32."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if ints else DEFAULT_DTYPE
    device = backend.check_device(device)  # made on the device itself: no copy to a GPU
    return Tensor._wrap(backend.array_module(device).arange(start, end, step, dtype=to_dtype(dtype)),
                        device)


def rand(*shape: int, dtype: Any = None, device: str | None = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1), from the generator that ``manual_seed`` seeds."""
    return _factory(generator().random(_shape_arg(shape)), dtype, device, requires_grad)


def randn(*shape: int, dtype: Any = None, device: str | None = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal samples, from the generator that ``manual_seed`` seeds."""
    return _factory(generator().standard_normal(_shape_arg(shape)), dtype, device, requires_grad)


def normal(mean: float = 0.0, std: float = 1.0, size: tuple[int, ...] | None = None, *,
           dtype: Any = None, device: str | None = None, requires_grad: bool = False) -> Tensor:
    """Samples of N(mean, std**2) of shape ``size``, as the book's ``torch.normal(0, 0.01, size=...)``."""
    if size is None:
        raise TypeError("normal() needs a shape: normal(mean, std, (rows, cols))")
    if std < 0:
        raise ValueError(f"normal() needs std >= 0, got {std}")
    return _factory(generator().normal(mean, std, _shape_arg((size,))), dtype, device,
                    requires_grad)
