"""Recording the graph: grad mode, versions, and ``Function``, the base of every op.

Each op is a :class:`Function`. Calling it on tensors runs its ``forward`` on their arrays
and, when grad mode is on and some input requires grad, *records* it: it keeps the inputs on
the function, numbers it (``seq``, one more than the function recorded before it), and hangs it
on the output as ``output.grad_fn``. The tensors and their ``grad_fn`` links form a directed
acyclic graph from the output back to the leaves, which ``autograd.py`` walks backwards.

Grad mode (``no_grad``) says whether to record, per thread. Versions count in-place writes, so
that backward notices a saved value that was changed since it was saved.

This module imports nothing from ``tensor.py``: the ops subclass ``Function`` while
``tensor.py`` is still being imported, so it must not depend on it.
"""
from __future__ import annotations

import contextlib
import contextvars
import itertools
import operator
import threading
import weakref
from typing import TYPE_CHECKING, Any

from . import debug, tracing

if TYPE_CHECKING:
    from .tensor import Tensor


# ---------------------------------------------------------------------------------------------
# Grad mode: one flag per thread, switched by no_grad() and enable_grad().
# ---------------------------------------------------------------------------------------------

# A context variable, so each thread (and each asyncio task) has its own value, as in PyTorch:
# a no_grad() block or a backward pass in one thread never turns recording off in another.
# Reading it is cheap (every op does), cheaper than an attribute of a threading.local.
_grad_enabled = contextvars.ContextVar("tinygrad_sm_grad_enabled", default=True)
grad_enabled = _grad_enabled.get  # the flag's reader, for the hot paths


def is_grad_enabled() -> bool:
    """True unless inside ``no_grad()`` (in this thread)."""
    return _grad_enabled.get()


def set_grad_enabled(mode: bool) -> contextvars.Token:
    """Set the flag for this thread; ``restore_grad_enabled(token)`` undoes it."""
    return _grad_enabled.set(bool(mode))


restore_grad_enabled = _grad_enabled.reset


class _SetGradMode(contextlib.ContextDecorator):
    """Sets the grad-mode flag for a ``with`` block or a decorated function, then restores it.

    Used as ``with no_grad():``, ``@no_grad()`` or, as in PyTorch, ``@no_grad``.
    """

    mode: bool

    def __new__(cls, func: Any = None) -> Any:
        self = super().__new__(cls)
        if func is None:
            return self
        self.__init__()  # type: ignore[misc]  # @no_grad without parentheses: decorate at once
        return self(func)

    def __init__(self, func: Any = None) -> None:
        # One stack of tokens per thread: a decorated function is a single instance that may
        # be entered again, by a recursive call or by another thread, and each exit must
        # restore the value that its own entry saw, in its own thread.
        self._tokens = threading.local()

    def __enter__(self) -> None:
        self._tokens.__dict__.setdefault("stack", []).append(_grad_enabled.set(self.mode))

    def __exit__(self, *exc: Any) -> None:
        _grad_enabled.reset(self._tokens.stack.pop())


class no_grad(_SetGradMode):
    """Record no graph: ``with no_grad(): ...`` or ``@no_grad()``. Use it for evaluation and updates."""

    mode = False


class enable_grad(_SetGradMode):
    """Record the graph again inside a ``no_grad()`` block: ``with enable_grad(): ...``."""

    mode = True


# ---------------------------------------------------------------------------------------------
# Versions: noticing that a value saved for backward was changed in place.
# ---------------------------------------------------------------------------------------------

class Version:
    """How many times one array has been written in place: its *version*.

    Every tensor that shows the same memory (a view made by ``reshape``, ``transpose`` or basic
    indexing, ``detach()``, ``.data``) holds the same ``Version``, so a write through any of them
    counts for all. A tensor gets its own on first need, when it is written or viewed; until
    then it holds ``UNWRITTEN``, at version 0. ``aliased`` says that another tensor shares the
    memory.
    """

    __slots__ = ("count", "aliased")

    def __init__(self, count: int = 0) -> None:
        self.count = count
        self.aliased = False


# Held by every tensor that was never written in place nor viewed, so that reading a version is
# one attribute lookup. It is never changed: shared_version and mark_written replace it first.
UNWRITTEN = Version()


def version_of(t: Tensor) -> int:
    """The number of in-place writes to ``t``'s memory so far."""
    return t._version.count


_version_count = operator.attrgetter("_version.count")  # version_of, for map() in C


def shared_version(t: Tensor) -> Version:
    """``t``'s Version, for a new tensor that shares its memory (made on first need)."""
    v = t._version
    if v is UNWRITTEN:
        v = t._version = Version()
    v.aliased = True
    return v


class _Writes:
    """The recording number of the latest in-place write, in any thread. A function recorded
    after it cannot have seen a write since, so the backward loop checks nothing for it."""

    last = -1


def mark_written(t: Tensor) -> int:
    """Count an in-place write into ``t``'s memory, and return the write's recording number.
    Every in-place write in the library, the optimizers' updates included, ends here."""
    v = t._version
    if v is UNWRITTEN:
        v = t._version = Version()
    v.count += 1
    _Writes.last = stamp = next(_sequence)
    return stamp


# Numbers the recorded functions in the order they were made (see run_backward).
_sequence = itertools.count()


# ---------------------------------------------------------------------------------------------
# Function: one differentiable op.
# ---------------------------------------------------------------------------------------------

_requires_grad = operator.attrgetter("requires_grad")


class Function:
    """One op: ``forward`` maps arrays to an array, ``backward`` maps the output's gradient to
    the inputs' gradients.

    Subclasses write the two side by side. ``forward`` receives the inputs' raw arrays (NumPy or
    CuPy) and returns the output's array; anything it stores on ``self`` is saved for backward.
    ``backward`` receives the gradient of the output as a Tensor and returns one Tensor (or
    ``None``) per input, written with Tensor ops so that it is itself differentiable. It may use
    ``self.inputs`` (the input Tensors) and ``self.output()`` (the output Tensor), and should
    skip the inputs whose ``self.needs_input_grad`` is False. Broadcasting is undone by the
    engine, not by each op.

    Three class attributes say what the op keeps, so that the engine can check it:
    ``saves_inputs`` and ``saves_output`` are True when ``backward`` reads the *values* of the
    inputs or of the output (not only their shapes): if one of them is changed in place before
    backward, backward raises instead of using the new values. ``is_view`` is True when the
    output shares the first input's memory, so that a write to one counts for both.

    Call an instance to apply it: ``Mul()(a, b)``.
    """

    # Class-level defaults: an unrecorded or released function has no inputs.
    inputs: tuple[Tensor, ...] | None = None
    needs_input_grad: tuple[bool, ...] = ()
    seq = -1  # the recording order; set when the function is recorded
    # What backward reads; a Function that does not say is assumed to read everything.
    saves_inputs = True
    saves_output = True
    is_view = False

    def forward(self, *arrays: Any) -> Any:
        raise NotImplementedError

    def backward(self, grad_output: Tensor) -> tuple[Tensor | None, ...]:
        raise NotImplementedError

    def __call__(self, *inputs: Tensor) -> Tensor:
        # Every op runs through here, so it is written for speed: one and two inputs are spelled
        # out, and loops stand in for list comprehensions, which cost a frame each in CPython.
        if tracing.capture.active is not None:  # tinygrad_sm.jit is recording this step
            tracing.capture.active.before_op(self, inputs)
        first = inputs[0]
        n = len(inputs)
        if n == 2:
            array = self.forward(first._array, inputs[1]._array)
        elif n == 1:
            array = self.forward(first._array)
        else:
            array = self.forward(*[t._array for t in inputs])
        out = first._wrap(array, first.device)  # _wrap makes a plain Tensor
        if self.is_view:
            out._version = shared_version(first)
        if grad_enabled():
            needs = tuple(map(_requires_grad, inputs))
            if True in needs:  # record: keep what backward needs, number the function
                if self.inputs is not None:
                    raise RuntimeError(f"this {self.name} was already applied once: a Function "
                                       f"records one call; make a new one, "
                                       f"{self.name}(...)(...)")
                self.inputs = inputs
                self.needs_input_grad = needs
                if self.saves_inputs:  # the versions that backward expects to find
                    self.versions = tuple(map(_version_count, inputs))
                if self.saves_output:  # weak: the output owns this function; strong is a cycle
                    self.output = weakref.ref(out)
                self.seq = next(_sequence)
                out.requires_grad = True
                out.grad_fn = self
        if debug.state.active:  # trace() or detect_anomaly(): see debug.py
            debug.after_forward(self, out)
        return out

    def release(self) -> None:
        """Drop the inputs and everything saved for backward, so their memory can be freed."""
        self.__dict__.clear()

    @property
    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name}>"
