"""The autograd engine: grad mode, the ``Function`` every op is built from, and the one backward loop.

How reverse mode works here, in two steps:

1. **Recording.** Each op is a :class:`Function`. Calling it on tensors runs its ``forward`` on
   their arrays and, when grad mode is on and some input requires grad, keeps the inputs on the
   function, numbers it (``seq``, one more than the function recorded before it), and hangs it
   on the output as ``output.grad_fn``. The tensors and their ``grad_fn`` links form a directed
   acyclic graph from the output back to the leaves.
2. **The backward loop.** :func:`run_backward` starts from the output and keeps the tensors whose
   gradient has started to arrive in a heap, ordered by their ``grad_fn.seq``, latest first. A
   tensor's consumers were all made after it, so they all have larger numbers: by the time it
   comes out of the heap, every contribution to its gradient has been added up. It calls
   ``grad_fn.backward`` with that sum, undoes broadcasting, and sends the results on to its
   inputs. Leaves keep what reaches them in ``.grad``. The loop is iterative (a chain of 100,000
   ops needs no recursion) and handles each tensor once, however many paths lead to it.

Backward rules are written with Tensor ops. With ``create_graph=False`` they run under
``no_grad`` and record nothing; with ``create_graph=True`` they are recorded like any other
computation, so the gradient can itself be differentiated (second and third derivatives,
Hessian-vector products).
"""
from __future__ import annotations

import contextlib
import heapq
import itertools
import threading
import weakref
from typing import Any, Sequence

# tensor.py imports this module at its end, once the Tensor class exists.
import numpy as np

from .backend import copy_array
from .tensor import Tensor


# ---------------------------------------------------------------------------------------------
# Grad mode: one flag per thread, switched by no_grad() and enable_grad().
# ---------------------------------------------------------------------------------------------

class _GradMode(threading.local):
    """The grad-mode flag. Each thread sees its own copy, as in PyTorch: a ``no_grad()`` block
    or a backward pass in one thread never turns recording off in another."""

    enabled = True


_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """True unless inside ``no_grad()`` (in this thread)."""
    return _grad_mode.enabled


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
        # One stack per thread: a decorated function is a single instance that may be entered
        # again, by a recursive call or by another thread, and each exit must restore the value
        # that its own entry saw, in its own thread.
        self._previous = threading.local()

    def __enter__(self) -> None:
        stack = self._previous.__dict__.setdefault("stack", [])
        stack.append(_grad_mode.enabled)
        _grad_mode.enabled = self.mode

    def __exit__(self, *exc: Any) -> None:
        _grad_mode.enabled = self._previous.stack.pop()


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
    counts for all. A tensor gets one on first need, when it is written or viewed; until then its
    version is 0. ``aliased`` says that some other tensor shares the memory.
    """

    __slots__ = ("count", "aliased")

    def __init__(self, count: int = 0) -> None:
        self.count = count
        self.aliased = False


def version_of(t: Tensor) -> int:
    """The number of in-place writes to ``t``'s memory so far."""
    return 0 if t._version is None else t._version.count


def shared_version(t: Tensor) -> Version:
    """``t``'s Version, for a new tensor that shares its memory (made on first need)."""
    v = t._version
    if v is None:
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
    if v is None:
        v = t._version = Version()
    v.count += 1
    _Writes.last = stamp = next(_sequence)
    return stamp


# Numbers the recorded functions in the order they were made (see run_backward).
_sequence = itertools.count()


# ---------------------------------------------------------------------------------------------
# Function: one differentiable op.
# ---------------------------------------------------------------------------------------------

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
        out = Tensor._wrap(self.forward(*[t._array for t in inputs]), inputs[0].device)
        if self.is_view:
            out._version = shared_version(inputs[0])
        if _grad_mode.enabled:
            needs = tuple([t.requires_grad for t in inputs])
            if True in needs:
                if self.inputs is not None:
                    raise RuntimeError(f"this {self.name} was already applied once: a Function "
                                       f"records one call; make a new one, {self.name}(...)(...)")
                self.inputs = inputs
                self.needs_input_grad = needs
                if self.saves_inputs:  # the versions that backward expects to find
                    self.versions = tuple([0 if t._version is None else t._version.count
                                           for t in inputs])
                self.seq = next(_sequence)
                # A weak reference: the output owns this function, so a strong one is a cycle.
                self.output = weakref.ref(out)
                out.requires_grad = True
                out.grad_fn = self
        return out

    def release(self) -> None:
        """Drop the inputs and everything saved for backward, so their memory can be freed."""
        self.__dict__.clear()

    @property
    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name}>"


# ---------------------------------------------------------------------------------------------
# The backward pass.
# ---------------------------------------------------------------------------------------------

def _released_error(fn: Function) -> RuntimeError:
    return RuntimeError(
        f"backward through the graph a second time: the values that {fn.name} saved for "
        "backward were released after the first backward; pass retain_graph=True to the first "
        "backward() if you need to call it twice, or recompute the forward pass")


# An in-place op under grad mode moves a tensor's earlier value, and the op that made it, to a
# new tensor (``Tensor._write``): id(tensor) -> (that earlier tensor, the write's recording
# number). Keyed by id, since tensors compare elementwise; an entry goes when its tensor does.
_replaced: dict[int, tuple[Tensor, int]] = {}


def record_replacement(t: Tensor, earlier: Tensor, stamp: int) -> None:
    """Note that ``earlier`` holds what ``t`` was before the in-place write numbered ``stamp``."""
    previous = _replaced.get(id(t))
    if previous is None:
        weakref.finalize(t, _replaced.pop, id(t), None)
    else:  # t was replaced before: that history now belongs to earlier
        _replaced[id(earlier)] = previous
        weakref.finalize(earlier, _replaced.pop, id(earlier), None)
    _replaced[id(t)] = (earlier, stamp)


def _as_seen_by(t: Tensor, seq: int) -> Tensor:
    """The tensor that held ``t``'s value when the function numbered ``seq`` was recorded: the
    functions recorded before an in-place write must see the value from before it."""
    entry = _replaced.get(id(t))
    while entry is not None and entry[1] > seq:
        t = entry[0]
        entry = _replaced.get(id(t))
    return t


def _check_saved(fn: Function) -> None:
    """Before ``fn.backward``, when something has been written in place since ``fn`` was recorded:
    point ``fn`` at the values it saw, and raise if one it reads has been changed since."""
    fn.inputs = tuple([_as_seen_by(t, fn.seq) for t in fn.inputs])
    if fn.saves_inputs:
        for i, (t, then) in enumerate(zip(fn.inputs, fn.versions)):
            if version_of(t) != then:
                raise _modified_error(fn, f"input {i}", t, then)
    if fn.saves_output:
        out = fn.output()
        if out is not None and version_of(out) != 0:  # an output starts at version 0
            raise _modified_error(fn, "output", out, 0)


def _modified_error(fn: Function, which: str, t: Tensor, then: int) -> RuntimeError:
    return RuntimeError(
        f"a tensor that {fn.name} saved for backward has been changed by an in-place operation: "
        f"its {which}, of shape {t.shape}, was at version {then} when {fn.name} ran and is at "
        f"version {version_of(t)} now, so its gradient would use the wrong values. Change a "
        "copy instead (x = x.clone() before the in-place op), or make the change after "
        "backward")


def _bad_gradients(fn: Function, returned: Any) -> Exception:
    """The error for a backward that did not return one gradient per input, as a tuple."""
    n = len(fn.inputs)
    if isinstance(returned, (list, tuple)):
        return ValueError(f"{fn.name}.backward returned {len(returned)} gradient"
                          f"{'s' * (len(returned) != 1)} for {n} inputs; return a tuple with one "
                          "Tensor (or None) per input, in the order of the inputs")
    return TypeError(f"{fn.name}.backward returned a {type(returned).__name__}, not a tuple; "
                     f"return a tuple with one Tensor (or None) per input, e.g. (g,) for one "
                     f"input (it has {n})")


def _summed_to_input(fn: Function, i: int, ig: Any, inp: Tensor) -> Tensor:
    """Gradient ``ig`` for input ``i``, summed down to the input's shape where the forward
    broadcast it (``sum_to``), after checking that it is a Tensor of a shape that can be."""
    if not isinstance(ig, Tensor):
        raise TypeError(f"{fn.name}.backward returned a {type(ig).__name__} for input {i}; "
                        "gradients must be Tensors (or None), made with Tensor ops")
    shape, got = inp._array.shape, ig._array.shape
    if got == shape:
        return ig
    try:
        fits = np.broadcast_shapes(shape, got) == got
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{fn.name}.backward returned a gradient of shape {got} for input {i} "
                         f"of shape {shape}; a gradient has its input's shape, or a shape that "
                         "the input broadcasts to")
    return ig.sum_to(shape)


def run_backward(roots: Sequence[Tensor], root_grads: Sequence[Tensor],
                 retain_graph: bool, create_graph: bool,
                 inputs: Sequence[Tensor] | None = None) -> list[Tensor | None] | None:
    """The one backward loop, behind ``Tensor.backward`` and ``grad``.

    With ``inputs=None`` the gradients that reach leaves are added into their ``.grad``.
    Otherwise nothing's ``.grad`` is touched and the gradients of ``inputs`` are returned.
    """
    grads: dict[int, Tensor] = {}  # id(tensor) -> the sum of the gradients that reached it
    ready: list[tuple[int, Tensor]] = []  # a heap of (-seq, tensor): the latest-made comes first
    leaves: list[Tensor] = []  # in the order reached; their gradients are final at the end

    def receive(tensor: Tensor, g: Tensor) -> None:
        """The first gradient to reach ``tensor``: note it, and queue the tensor."""
        grads[id(tensor)] = g
        fn = tensor.grad_fn
        if fn is None:
            leaves.append(tensor)
        elif fn.inputs is None:
            raise _released_error(fn)
        else:  # recording numbers are unique, so the heap never has to compare tensors
            heapq.heappush(ready, (-fn.seq, tensor))

    wanted = None if inputs is None else {id(t): None for t in inputs}
    # grad() for inputs that are all made by ops needs nothing below them: stop once each has
    # come out of the heap (with its gradient complete), leaving the graph beneath untouched.
    if inputs is not None and all(t.grad_fn is not None for t in inputs):
        pending = len(wanted)
    else:
        pending = -1
    previous_mode = _grad_mode.enabled
    _grad_mode.enabled = create_graph
    try:
        for root, g in zip(roots, root_grads):
            if id(root) in grads:  # the same output given twice
                grads[id(root)] = grads[id(root)] + g
            else:
                receive(root, g)
        while ready:
            tensor = heapq.heappop(ready)[1]
            g = grads.pop(id(tensor))
            if wanted is not None and id(tensor) in wanted:
                wanted[id(tensor)] = g
                pending -= 1
                if pending == 0:
                    break
            fn = tensor.grad_fn
            if fn.seq < _Writes.last:  # something was written in place since fn was recorded
                _check_saved(fn)
            input_grads = fn.backward(g)
            if type(input_grads) is not tuple or len(input_grads) != len(fn.inputs):
                raise _bad_gradients(fn, input_grads)
            for i, (inp, need, ig) in enumerate(zip(fn.inputs, fn.needs_input_grad, input_grads)):
                if not need or ig is None:
                    continue
                if type(ig) is not Tensor or ig._array.shape != inp._array.shape:
                    ig = _summed_to_input(fn, i, ig, inp)
                if ig._array.dtype != inp._array.dtype:  # a float32 input gets a float32 gradient
                    ig = ig.astype(inp._array.dtype)
                previous = grads.get(id(inp))
                if previous is None:
                    receive(inp, ig)
                else:  # another consumer got here first: add the two up
                    grads[id(inp)] = previous + ig
            if not retain_graph:
                fn.release()
        # Only now, with the whole walk done, do leaves take their gradients: an error part
        # way (a released graph) leaves every .grad as it was.
        for leaf in leaves:
            g = grads[id(leaf)]
            if wanted is not None:
                if id(leaf) in wanted:
                    wanted[id(leaf)] = g
            elif leaf.grad is not None:  # accumulate, as PyTorch does
                leaf.grad = leaf.grad + g
            elif create_graph:  # a copy in the graph: g may be another leaf's gradient too
                leaf.grad = g.clone()
            else:
                # A leaf's .grad owns its array: g may be the very tensor another leaf gets
                # too (add hands g to both inputs) or a view into another gradient (reshape,
                # transpose), and users may update .grad in place (clipping, scaling).
                leaf.grad = Tensor._wrap(copy_array(g._array), leaf.device)
    finally:
        _grad_mode.enabled = previous_mode
    # One entry per input, in order, even when an input is listed twice.
    return None if wanted is None else [wanted[id(t)] for t in inputs]


def _root_gradients(outputs: Sequence[Tensor], grad_outputs: Sequence[Any] | None,
                    caller: str) -> list[Tensor]:
    """The seed gradients: ones for scalar outputs, else the ones the caller gave."""
    if grad_outputs is None and len(outputs) == 1:  # the usual loss.backward(): checked first
        out = outputs[0]
        if out.requires_grad and out._array.size == 1:
            # dout/dout = 1. On the CPU a NumPy scalar does for a 0-d output, and costs less
            # to make than an array; on the GPU it must be a CuPy array like the rest.
            data = out._array
            if data.ndim == 0 and out.device == "cpu":
                return [Tensor._wrap(data.dtype.type(1), out.device)]
            return [Tensor._wrap(out._xp.ones(data.shape, data.dtype), out.device)]
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"{caller}: got {len(outputs)} outputs but {len(grad_outputs)} gradients")
    seeds = []
    for out, g in zip(outputs, grad_outputs):
        if not out.requires_grad:
            raise RuntimeError(
                f"{caller}: a tensor of shape {out.shape} does not require grad, so there is no "
                "graph to differentiate; create its inputs with requires_grad=True and do not "
                "compute it under no_grad()")
        if g is None:
            if out.size != 1:
                raise RuntimeError(
                    f"{caller}: the output has shape {out.shape}, and a gradient can only be "
                    "created implicitly for a scalar output; reduce it first (e.g. .sum()) or "
                    "pass gradient=ones_like(output)")
            g = Tensor._wrap(out._xp.ones_like(out._array), out.device)
        elif not isinstance(g, Tensor):
            g = Tensor(g, dtype=out.dtype, device=out.device)
        if g.shape != out.shape:
            raise ValueError(f"{caller}: gradient has shape {g.shape} but the output has shape "
                             f"{out.shape}; they must match")
        if g.device != out.device:
            raise RuntimeError(f"{caller}: gradient is on {g.device!r} but the output is on "
                               f"{out.device!r}; move it with .to({out.device!r})")
        if g.dtype != out.dtype:  # a seed has its output's dtype, as every gradient does
            g = g.astype(out.dtype)
        seeds.append(g)
    return seeds


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Tensor | Sequence[Tensor] | None = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple[Tensor | None, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, as a tuple, leaving ``.grad`` alone.

    ``grad(y, x, create_graph=True)`` returns a gradient that is itself part of a graph, so it can
    be differentiated again: ``grad(grad(y, x, create_graph=True)[0].sum(), x)``. An input that
    does not affect the outputs raises an error unless ``allow_unused=True``, which gives None.
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad; create it with "
                               "requires_grad=True")
    seeds = _root_gradients(outputs, grad_outputs, "grad")
    retain = create_graph if retain_graph is None else retain_graph
    result = run_backward(outputs, seeds, retain, create_graph, inputs=inputs)
    for i, g in enumerate(result):
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {inputs[i].shape}) was not used to "
                               "compute the outputs; pass allow_unused=True to get None for it")
    return tuple(result)
