"""Recording array work: the tape behind ``tinygrad_sm.jit``.

While a step is captured, the arrays that flow through it are wrapped in ``Traced``: a stand-in
that behaves like the NumPy (or CuPy) array it holds, computes every operation on it at once,
and writes the operation down on a ``Tape``. Forward passes, backward rules, the engine's
bookkeeping and the optimizers' updates all do their arithmetic on arrays, so all of it is
recorded, whichever file it sits in, and nothing of the Python around it is.

What cannot be recorded is refused loudly, never baked in silently: reading a value into
Python (``float(x)``, ``x.item()``, ``if x > 0:``) raises ``JitError``, since the replay could
not follow a Python branch taken on a value.

This module needs NumPy alone: ``backend.py`` recognises ``Traced`` arrays, and ``jit.py``
compiles the tape.
"""
from __future__ import annotations

import operator
import types
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


class JitError(RuntimeError):
    """The step does something a captured replay could not repeat faithfully."""


class capture:
    """The capture in progress (a ``jit._Capture``), or None. The engine's hooks test
    ``active``: one attribute read per op when nothing is being captured."""

    active: Any = None


def require(condition: Any, error: Callable[..., Exception], *arrays: Any) -> None:
    """Raise ``error(*arrays)`` unless ``condition`` (a 0-d boolean array, or a bool) holds.

    The library's checks of values (a label outside its range) go through here, so that a
    captured step keeps making them: recorded, the check runs in every replay. (Reading the
    condition is a synchronisation on a GPU.)
    """
    if type(condition) is Traced:
        condition.tape.records.append(Record("require", error, (condition, *arrays), {}, None,
                                             condition.tape.label))
        condition = condition.array
    if not condition:
        raise error(*(unwrap(a) for a in arrays))


@dataclass
class Record:
    """One array operation: ``fn(*args, **kwargs)``, or for ``kind == "method"`` the method
    ``fn`` (a name) of ``args[0]``; ``"getitem"``/``"setitem"`` are ``args[0][args[1]]`` (``=
    args[2]``). ``result`` is a Traced, a tuple of them, or None (setitem)."""

    kind: str
    fn: Any
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    result: Any
    label: str = ""  # what made it, for the generated source: "Mul.forward", "SGD.step", ...


@dataclass
class Tape:
    """Every operation of a captured step, in order, and where its arrays came from."""

    records: list[Record] = field(default_factory=list)
    inputs: list[Traced] = field(default_factory=list)  # the step's arguments, in order
    externals: dict[int, Traced] = field(default_factory=dict)  # id(real array) -> its Traced
    by_array: dict[int, Traced] = field(default_factory=dict)  # id(real array) -> its Traced
    label: str = ""  # the code that is running now (set by the hooks)

    def external(self, array: Any) -> Traced:
        """The Traced of an array that lives outside the step (a parameter, optimizer state):
        the replay reads and writes that very array."""
        found = self.externals.get(id(array))
        if found is None:
            found = self.externals[id(array)] = self._new(array, ("external",))
        return found

    def input(self, array: Any) -> Traced:
        traced = self._new(array, ("input", len(self.inputs)))
        self.inputs.append(traced)
        return traced

    def record(self, kind: str, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
               result: Any) -> Any:
        """Write one operation down; its real result comes back wrapped as Traced. A call that
        returns no array (a dtype, a shape) is not an operation, and is not written down."""
        wrapped = self._wrap(result)
        if holds_traced(wrapped):
            self.records.append(Record(kind, fn, args, kwargs, wrapped, self.label))
        return wrapped

    def write(self, kind: str, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Write down an operation that writes into an array it was given (``out=``, ``x[i] =
        v``, ``add.at``). That array must be one the replay knows: made in the step, or
        outside it and lifted (a parameter, optimizer state)."""
        targets = kwargs.get("out", ()) if kind != "setitem" else (args[0],)
        if fn is not None and getattr(fn, "__name__", "") == "at":
            targets = (args[0],)
        for target in (targets if isinstance(targets, tuple) else (targets,)):
            if type(target) is not Traced:
                raise JitError(
                    f"the step writes into an array that the capture does not know "
                    f"({type(target).__name__} of shape {getattr(target, 'shape', '?')}, made "
                    "outside the recorded operations): its replay would change a stale "
                    "copy. Make the array with the array module of a traced value, or pass it "
                    "in as an argument")
        self.records.append(Record(kind, fn, args, kwargs, None, self.label))

    def _new(self, array: Any, origin: tuple[Any, ...]) -> Traced:
        traced = Traced(array, self, origin)
        self.by_array[id(array)] = traced
        return traced

    def _wrap(self, result: Any) -> Any:
        if isinstance(result, (tuple, list)):
            return type(result)(self._wrap(r) for r in result)
        if _is_array(result):
            return self._new(result, ("op", len(self.records)))
        return result  # a Python value (a shape, an int): fixed for this signature


def _is_array(value: Any) -> bool:
    """NumPy arrays and scalars, and anything else with a dtype and a shape (a CuPy array)."""
    return isinstance(value, (np.ndarray, np.generic)) or (
        hasattr(value, "dtype") and hasattr(value, "shape") and not isinstance(value, Traced))


def unwrap(value: Any) -> Any:
    """``value`` with every Traced replaced by its real array, through tuples, lists, dicts
    and slices (the parts of an index)."""
    if type(value) is Traced:
        return value.array
    if isinstance(value, tuple):
        return tuple(unwrap(v) for v in value)
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, slice):
        return slice(unwrap(value.start), unwrap(value.stop), unwrap(value.step))
    return value


def holds_traced(value: Any) -> bool:
    if type(value) is Traced:
        return True
    if isinstance(value, (tuple, list)):
        return any(holds_traced(v) for v in value)
    if isinstance(value, dict):
        return any(holds_traced(v) for v in value.values())
    if isinstance(value, slice):
        return holds_traced((value.start, value.stop, value.step))
    return False


def _read_error(what: str) -> JitError:
    return JitError(
        f"the step reads a value into Python ({what}) while it is captured: a replay could "
        "not take another branch or use another number. Keep value reads (loss.item(), "
        "float(x), if x > 0:) out of the jitted step: return the tensor and read it outside")


def _ufunc_dunder(ufunc: np.ufunc, reflected: bool = False) -> Callable[..., Any]:
    if reflected:
        return lambda self, other: ufunc(other, self)
    return lambda self, other: ufunc(self, other)


def _inplace_dunder(ufunc: np.ufunc) -> Callable[..., Any]:
    def method(self: Traced, other: Any) -> Traced:
        ufunc(self, other, out=(self,))
        return self
    return method


class Traced:
    """A recording stand-in for an array: it holds the real one (``array``) and writes down
    every operation done with it on its tape. See the module docstring."""

    __slots__ = ("array", "tape", "origin")
    __array_priority__ = 1000  # NumPy hands mixed operations to us

    def __init__(self, array: Any, tape: Tape, origin: tuple[Any, ...]) -> None:
        self.array, self.tape, self.origin = array, tape, origin

    # ---------------------------------------------------------------- NumPy's two protocols

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        fn = ufunc if method == "__call__" else getattr(ufunc, method)
        result = fn(*unwrap(inputs), **unwrap(kwargs))
        if method == "at":
            self.tape.write("call", fn, inputs, kwargs)
            return None
        if kwargs.get("out") is not None:  # written in place: the result is what was given
            self.tape.write("call", fn, inputs, kwargs)
            out = kwargs["out"]
            return out[0] if isinstance(out, tuple) and len(out) == 1 else out
        return self.tape.record("call", fn, inputs, kwargs, result)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return record_call(self.tape, func, args, kwargs)

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        raise _read_error("an array conversion: numpy.asarray, .numpy(), or a traced value "
                          "written into an array made outside the recorded operations")

    # ---------------------------------------------------------------- what stays Python

    shape = property(lambda self: self.array.shape)
    dtype = property(lambda self: self.array.dtype)
    ndim = property(lambda self: self.array.ndim)
    size = property(lambda self: self.array.size)
    itemsize = property(lambda self: self.array.itemsize)
    nbytes = property(lambda self: self.array.nbytes)
    strides = property(lambda self: self.array.strides)
    flags = property(lambda self: self.array.flags)
    device = property(lambda self: self.array.device)

    @property
    def base(self) -> Any:
        """The Traced that this one is a view of, if it was recorded (as a NumPy view's base)."""
        base = self.array.base
        return None if base is None else self.tape.by_array.get(id(base), base)

    def __len__(self) -> int:
        return len(self.array)

    def __repr__(self) -> str:
        return f"Traced({self.array.dtype}{tuple(self.array.shape)}, {self.origin[0]})"

    # ---------------------------------------------------------------- value reads: refused

    def __bool__(self) -> bool:
        raise _read_error("bool(x), or an if or while on an array")

    def __float__(self) -> float:
        raise _read_error("float(x)")

    def __int__(self) -> int:
        raise _read_error("int(x)")

    def __index__(self) -> int:
        raise _read_error("an array used as a Python index")

    def __iter__(self) -> Any:
        raise _read_error("iterating over an array")

    def item(self, *args: Any) -> Any:
        raise _read_error("x.item()")

    def tolist(self) -> Any:
        raise _read_error("x.tolist()")

    def get(self, *args: Any, **kwargs: Any) -> Any:
        raise _read_error("a copy to the host, .get()")

    # ---------------------------------------------------------------- indexing

    def __getitem__(self, index: Any) -> Any:
        return self.tape.record("getitem", None, (self, index), {},
                                self.array[unwrap(index)])

    def __setitem__(self, index: Any, value: Any) -> None:
        self.array[unwrap(index)] = unwrap(value)
        self.tape.write("setitem", None, (self, index, value), {})

    @property
    def T(self) -> Traced:
        return self.tape.record("method", "transpose", (self,), {}, self.array.T)

    # ---------------------------------------------------------------- every other method

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            # Never hand out the real array's protocols (__array_interface__, the buffer...):
            # NumPy would read the memory directly, and nothing would be recorded.
            raise AttributeError(name)
        attribute = getattr(self.array, name)
        if not callable(attribute):
            return attribute

        def method(*args: Any, **kwargs: Any) -> Any:
            result = attribute(*unwrap(args), **unwrap(kwargs))
            if kwargs.get("out") is not None:
                self.tape.write("method", name, (self, *args), kwargs)
                return kwargs["out"]
            return self.tape.record("method", name, (self, *args), kwargs, result)
        return method

    # ---------------------------------------------------------------- operators, as ufuncs

    __add__, __radd__ = _ufunc_dunder(np.add), _ufunc_dunder(np.add, True)
    __sub__, __rsub__ = _ufunc_dunder(np.subtract), _ufunc_dunder(np.subtract, True)
    __mul__, __rmul__ = _ufunc_dunder(np.multiply), _ufunc_dunder(np.multiply, True)
    __truediv__, __rtruediv__ = _ufunc_dunder(np.true_divide), _ufunc_dunder(np.true_divide, True)
    __floordiv__ = _ufunc_dunder(np.floor_divide)
    __rfloordiv__ = _ufunc_dunder(np.floor_divide, True)
    __mod__, __rmod__ = _ufunc_dunder(np.remainder), _ufunc_dunder(np.remainder, True)
    __pow__, __rpow__ = _ufunc_dunder(np.power), _ufunc_dunder(np.power, True)
    __matmul__, __rmatmul__ = _ufunc_dunder(np.matmul), _ufunc_dunder(np.matmul, True)
    __and__, __rand__ = _ufunc_dunder(np.logical_and), _ufunc_dunder(np.logical_and, True)
    __or__, __ror__ = _ufunc_dunder(np.logical_or), _ufunc_dunder(np.logical_or, True)
    __xor__ = _ufunc_dunder(np.logical_xor)
    __lt__, __le__ = _ufunc_dunder(np.less), _ufunc_dunder(np.less_equal)
    __gt__, __ge__ = _ufunc_dunder(np.greater), _ufunc_dunder(np.greater_equal)
    __eq__ = _ufunc_dunder(np.equal)  # type: ignore[assignment]
    __ne__ = _ufunc_dunder(np.not_equal)  # type: ignore[assignment]
    __iadd__, __isub__ = _inplace_dunder(np.add), _inplace_dunder(np.subtract)
    __imul__, __itruediv__ = _inplace_dunder(np.multiply), _inplace_dunder(np.true_divide)
    __imod__, __ipow__ = _inplace_dunder(np.remainder), _inplace_dunder(np.power)
    __hash__ = object.__hash__

    def __neg__(self) -> Traced:
        return np.negative(self)

    def __pos__(self) -> Traced:
        return np.positive(self)

    def __abs__(self) -> Traced:
        return np.absolute(self)

    def __invert__(self) -> Traced:
        return np.invert(self)


def record_call(tape: Tape, fn: Any, args: Any, kwargs: Any) -> Any:
    result = fn(*unwrap(args), **unwrap(kwargs))
    if kwargs.get("out") is not None:
        tape.write("call", fn, tuple(args), dict(kwargs))
        return kwargs["out"]
    return tape.record("call", fn, tuple(args), dict(kwargs), result)


class Module:
    """The array module (NumPy or CuPy) as code being captured sees it: ``xp.exp(x)`` is
    recorded like ``np.exp(x)``. A call that makes an array from nothing recorded
    (``xp.zeros(shape)``) is recorded too, so that the replay makes a fresh one."""

    def __init__(self, module: Any, tape: Tape) -> None:
        self._module, self._tape = module, tape

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._module, name)
        if isinstance(attribute, types.ModuleType):
            return Module(attribute, self._tape)  # xp.linalg, ...
        if isinstance(attribute, type) or not callable(attribute):
            return attribute  # a dtype class, a constant such as xp.inf

        tape = self._tape

        def call(*args: Any, **kwargs: Any) -> Any:
            return record_call(tape, attribute, args, kwargs)
        call.__name__ = name
        return call


attrgetter = operator.attrgetter  # re-exported for jit.py's generated code
