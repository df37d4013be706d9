"""``tinygrad_sm.jit``: capture one call of a training step, then replay it as plain array code.

    step = tg.jit(step)      # step(X, y): forward, zero_grad, backward, optimizer.step()
    for X, y in loader:
        loss = step(X, y)
    print(step.source)       # the program the jit wrote

How a tracing JIT works, in three parts:

1. **Capture.** The first call with given argument shapes and dtypes runs the step eagerly,
   with every array wrapped in a recording stand-in (``tracing.Traced``). Every array
   operation of the forward pass, of the backward rules, of the engine's own bookkeeping and
   of the optimizer's update is computed as usual and written down, in order, on a tape, with
   where each of its arrays came from: an argument of the step, a parameter or an optimizer
   buffer (arrays that outlive the step), a constant, or an earlier operation.
2. **Compile.** The tape becomes a Python function that makes the same array calls: operations
   whose results nothing reads are dropped, each intermediate result gets a buffer made once
   and reused (``out=``), and views of fixed arrays are made once. ``step.source`` shows it.
3. **Replay.** Later calls with the same signature run that function on the new arguments:
   no Tensor objects, no graph, no engine, no Python bookkeeping, only the arithmetic. It
   gives the same numbers, bit for bit, as running the step eagerly again.

A replay repeats what the capture did, so it is valid only while the step would do the same
things again. New shapes or dtypes capture again (a few captures are kept, one per
signature, as the smaller last batch of an epoch needs). What cannot be captured is refused
with ``JitError`` rather than replayed wrong: reading a value into Python inside the step
(``loss.item()``, ``float(x)``, ``if x.sum() > 0:``), which would fix the branch taken, and
writing into an array that the capture cannot follow. Python state that the step reads is
fixed at capture: a learning rate changed afterwards, a different ``model.train()`` mode, or
a tensor from outside the step that is rebound to a new one (a parameter whose array is
replaced, as ``.to()`` does, is noticed and captured again). Random numbers are drawn anew in
each replay, from the library's generator, as the eager step would draw them.
"""
from __future__ import annotations

import functools
import operator
import weakref
from collections import OrderedDict
from typing import Any, Callable

import numpy as np

from . import tracing
from .backend import array_module_of
from .function import mark_written
from .tensor import Tensor
from .tracing import JitError, Record, Tape, Traced, holds_traced, unwrap

__all__ = ["jit", "JitError"]


class jit:
    """Capture ``fn`` once per signature of its arguments and replay it after (module
    docstring). Use it as ``step = jit(step)`` or ``@jit``. ``fn`` takes tensors (and hashable
    Python values, which are part of the signature) and returns a tensor, a tuple of them, or
    None."""

    def __init__(self, fn: Callable[..., Any], max_programs: int = 8) -> None:
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.max_programs = max_programs
        self.programs: OrderedDict[Any, Program] = OrderedDict()
        self._last: Program | None = None  # the program of the latest call
        self.captures = 0  # how many times a call was captured (for tests and curiosity)

    def __call__(self, *args: Any) -> Any:
        key = _signature(args)
        program = self.programs.get(key)
        if program is not None and program.still_valid():
            if program is not self._last:  # the least recently used program is evicted
                self.programs.move_to_end(key)
                self._last = program
            return program.run(args)
        result, program = _capture(self.fn, args)
        self.captures += 1
        self.programs[key] = program
        self.programs.move_to_end(key)
        self._last = program
        while len(self.programs) > self.max_programs:
            self.programs.popitem(last=False)
        return result

    @property
    def source(self) -> str:
        """The Python source of the most recently used replay program."""
        if not self.programs:
            return "# nothing captured yet: call the step once"
        return next(reversed(self.programs.values())).source


def _hyperparameters(optimizer: Any) -> tuple[Any, ...]:
    return _hyperparameter_getter(optimizer)(optimizer)


def _hyperparameter_getter(optimizer: Any) -> Callable[[Any], tuple[Any, ...]]:
    """A function that reads an optimizer's hyperparameters as a tuple, in C."""
    getter = operator.attrgetter(*optimizer.hyperparameters)
    if len(optimizer.hyperparameters) == 1:
        return lambda opt: (getter(opt),)
    return getter


def _signature(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """What a program is kept under: each tensor's shape, dtype and device, each other
    argument's type and value. (Called on every step: kept short.)"""
    key = []
    for a in args:
        if isinstance(a, Tensor):
            array = a._array
            key.append((array.shape, array.dtype, a.device))
        else:
            try:
                hash(a)
            except TypeError:
                raise JitError(f"a jitted step takes tensors and hashable Python values; got "
                               f"a {type(a).__name__}: pass its tensors as arguments") from None
            key.append(("value", type(a), a))
    return tuple(key)


# ---------------------------------------------------------------------------------------------
# Capture
# ---------------------------------------------------------------------------------------------

class _Capture:
    """What one capture changed, so that it can be undone: tensors whose array was replaced by
    its Traced (lifted), and optimizer state values."""

    def __init__(self, tape: Tape) -> None:
        self.tape = tape
        self.lifted: list[tuple[Tensor, Any]] = []  # (tensor, its real array)
        self.lifted_ids: set[int] = set()
        self.state: list[tuple[dict, str, Any]] = []  # (state dict, key, real value)
        # Python state that the capture fixed: (optimizer, its hyperparameters) and (module,
        # its training flag). A replay checks that each is unchanged.
        self.guards: list[tuple[Any, Any]] = []
        self.grad_inputs: list[tuple[Tensor, Tensor, Any]] = []  # (leaf, its .grad, the array)
        self.context = ""  # "Exp.backward" while a backward rule runs: labels for the source

    # The engine's hooks (function.py, autograd.py, tensor.py, optim.py) call these.

    def before_op(self, fn: Any, inputs: tuple[Tensor, ...]) -> None:
        self.tape.label = f"{self.context}: {fn.name}" if self.context else fn.name
        for t in inputs:
            self.lift(t)

    def before_gradient(self, leaf: Tensor) -> None:
        """Backward is about to add into ``leaf.grad``. A gradient that was there before the
        step (the book's sgd zeroes it in place instead of dropping it) becomes an input of
        the replay, read from ``leaf.grad`` at every call, so that the replay adds into
        whatever is there then, as the eager step would."""
        g = leaf.grad
        if g is not None and type(g._array) is not Traced:
            self.grad_inputs.append((leaf, g, g._array))
            g._array = self.tape.input(g._array)

    def lift_optimizer(self, optimizer: Any, p: Tensor, state: dict) -> None:
        """An optimizer is about to update ``p``: its state becomes recorded too. A step count
        (an int) becomes a 0-d array that the update increments in place, so that each replay
        counts; it stays an array afterwards."""
        self.lift(p)
        traced = p._array
        p._array = traced.array if type(traced) is Traced else traced
        try:  # the zero start is made once, outside the recording: replays must not remake it
            optimizer._prepare(p, state)
        finally:
            p._array = traced
        self.tape.label = f"{type(optimizer).__name__}.step"
        self.guards.append((optimizer, _hyperparameters(optimizer)))
        for key, value in list(state.items()):
            if isinstance(value, (int, np.integer)):
                state[key] = array_module_of(p._array.array).asarray(value, dtype=np.int64)
            self.lift_value(state, key)

    def saw_module(self, module: Any) -> None:
        self.guards.append((module, module.training))

    def lift(self, t: Tensor) -> None:
        """From now on ``t`` holds the Traced of its array: reads and writes are recorded."""
        if type(t._array) is Traced or id(t) in self.lifted_ids:
            return
        if isinstance(t._array, np.generic):
            return  # a number, which no one can write into: a constant
        self.lifted.append((t, t._array))
        self.lifted_ids.add(id(t))
        t._array = self.tape.external(t._array)

    def lift_value(self, state: dict, key: str) -> None:
        """An optimizer's per-parameter state entry (a buffer, a step count)."""
        value = state[key]
        if type(value) is Traced:
            return
        if not tracing._is_array(value):
            raise JitError(f"optimizer state {key!r} is a {type(value).__name__}; a replay "
                           "needs it as an array")
        self.state.append((state, key, value))
        state[key] = self.tape.external(value)

    def restore(self) -> None:
        for _, grad, real in self.grad_inputs:
            grad._array = real
        for t, real in self.lifted:
            t._array = real
        for state, key, real in self.state:
            state[key] = real


def _capture(fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[Any, Program]:
    tape = Tape()
    capture = _Capture(tape)
    inputs = [a for a in args if isinstance(a, Tensor)]
    originals = [t._array for t in inputs]
    if tracing.capture.active is not None:
        raise JitError("a jitted step was called while another was being captured; jit the "
                       "outer step only")
    tracing.capture.active = capture
    try:
        for t in inputs:
            t._array = tape.input(t._array)
        result = fn(*args)
        grads = _bound_gradients(capture, inputs)
        outputs, structure = _flatten(result)
    finally:
        tracing.capture.active = None
        for t, real in zip(inputs, originals):
            t._array = real
        capture.restore()
    program = Program(tape, capture, outputs, structure, grads, inputs)
    return _rebuild(structure, [o.array for o in outputs], outputs_device(inputs, outputs)), program


def outputs_device(inputs: list[Tensor], outputs: list[Traced]) -> Any:
    from .backend import device_of
    return device_of(outputs[0].array) if outputs else None


def _bound_gradients(capture: _Capture, inputs: list[Tensor]) -> list[tuple[Tensor, Traced]]:
    """The gradients the step left in the ``.grad`` of its arguments and of the tensors it read
    from outside: the replay makes them anew and puts them there. Each gets its real array
    back now."""
    grads = []
    for t in inputs + [t for t, _ in capture.lifted]:
        g = t.grad
        if g is not None and type(g._array) is Traced:
            grads.append((t, g._array))
            g._array = g._array.array
    return grads


def _flatten(result: Any) -> tuple[list[Traced], Any]:
    """The step's outputs as Traced arrays, and the structure to rebuild them in."""
    if result is None:
        return [], None
    if isinstance(result, Tensor):
        if type(result._array) is not Traced:
            return [], ("constant", result)
        traced = result._array
        result._array = traced.array
        return [traced], "tensor"
    if isinstance(result, (tuple, list)):
        outputs, parts = [], []
        for r in result:
            o, s = _flatten(r)
            outputs += o
            parts.append(s)
        return outputs, (type(result), parts)
    raise JitError(f"a jitted step returns tensors, tuples of them, or None; got a "
                   f"{type(result).__name__}")


def _rebuild(structure: Any, arrays: list[Any], device: Any) -> Any:
    if structure is None:  # the usual training step, which returns nothing
        return None
    arrays = list(arrays)

    def build(s: Any) -> Any:
        if s is None:
            return None
        if s == "tensor":
            return Tensor._wrap(arrays.pop(0), device)
        if isinstance(s, tuple) and s[0] == "constant":
            return s[1]
        kind, parts = s
        return kind(build(p) for p in parts)
    return build(structure)


# ---------------------------------------------------------------------------------------------
# Compile and replay
# ---------------------------------------------------------------------------------------------

VIEWS = {"reshape", "transpose", "swapaxes", "squeeze", "view"}


class Program:
    """A captured step, compiled into a Python function over arrays (``source``)."""

    def __init__(self, tape: Tape, capture: _Capture, outputs: list[Traced], structure: Any,
                 grads: list[tuple[Tensor, Traced]], inputs: list[Tensor]) -> None:
        self.structure = structure
        self.device = outputs_device(inputs, outputs)
        # Gradients that were in .grad before the capture: the replay reads them from there.
        self.grad_inputs = [(weakref.ref(leaf), grad.shape, grad.dtype)
                            for leaf, grad, _ in capture.grad_inputs]
        written = _written_externals(tape)
        self.written = [weakref.ref(t) for t, real in capture.lifted if id(real) in written]
        self.grad_targets = [weakref.ref(t) for t, _ in grads]
        self.source, self.replay = _compile(tape, outputs, [g for _, g in grads])
        # The tensors, from outside the step, whose arrays the program reads or writes by
        # reference: it stays valid while each still holds the same array. Tensors made during
        # the capture are gone once the capture lets go of them; their arrays are bound as
        # constants, and need no watching.
        refs = [(weakref.ref(t), real) for t, real in capture.lifted]
        capture.lifted.clear()
        self.bound = [(ref, real) for ref, real in refs if ref() is not None]
        self.state = list(capture.state)  # (state dict, key, the array it must still hold)
        guards = {id(obj): (obj, value) for obj, value in capture.guards}.values()
        self.optimizers = [(weakref.ref(opt), _hyperparameter_getter(opt), value)
                           for opt, value in guards if isinstance(value, tuple)]
        self.modules = [(weakref.ref(m), value) for m, value in guards
                        if not isinstance(value, tuple)]

    def still_valid(self) -> bool:
        """Whether replaying would still do what the step does: the same arrays bound to
        the same tensors and optimizer states, the same hyperparameters and modes."""
        for ref, real in self.bound:
            t = ref()
            if t is None or t._array is not real:
                return False
        for state, key, real in self.state:
            if state.get(key) is not real:
                return False
        for ref, getter, value in self.optimizers:
            optimizer = ref()
            if optimizer is None or getter(optimizer) != value:
                return False
        for ref, training in self.modules:
            module = ref()
            if module is None or module.training != training:
                return False
        for ref, shape, dtype in self.grad_inputs:
            leaf = ref()
            if leaf is None or leaf.grad is None or leaf.grad.shape != shape \
                    or leaf.grad.dtype != dtype:
                return False
        return True

    def run(self, args: tuple[Any, ...]) -> Any:
        arrays = [a._array for a in args if isinstance(a, Tensor)]
        arrays += [ref().grad._array for ref, _, _ in self.grad_inputs]
        results = self.replay(*arrays)
        n = len(results) - len(self.grad_targets)
        for ref, g in zip(self.grad_targets, results[n:]):
            t = ref()
            if t is not None:
                t.grad = Tensor._wrap(g, t.device)
        for ref in self.written:  # in-place writes count, as they do in eager mode
            t = ref()
            if t is not None:
                mark_written(t)
        return _rebuild(self.structure, results[:n], self.device)


def _written_externals(tape: Tape) -> set[int]:
    """id() of the external arrays that some operation writes into."""
    written = set()
    for r in tape.records:
        for target in _targets(r):
            if target.origin[0] == "external":
                written.add(id(target.array))
    return written


def _targets(r: Record) -> list[Traced]:
    """The arrays an operation writes into in place."""
    if r.kind == "setitem":
        return [r.args[0]]
    if getattr(r.fn, "__name__", "") == "at":
        return [r.args[0]]
    out = r.kwargs.get("out")
    if out is None:
        return []
    return [o for o in (out if isinstance(out, tuple) else (out,)) if type(o) is Traced]


def _reads(r: Record) -> list[Traced]:
    found: list[Traced] = []

    def walk(v: Any) -> None:
        if type(v) is Traced:
            found.append(v)
        elif isinstance(v, (tuple, list)):
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, slice):
            walk((v.start, v.stop, v.step))
    walk(r.args)
    walk({k: v for k, v in r.kwargs.items() if k != "out"})
    return found


def _results(r: Record) -> list[Traced]:
    res = r.result
    if type(res) is Traced:
        return [res]
    if isinstance(res, (tuple, list)):
        return [x for x in res if type(x) is Traced]
    return []


def _live_records(tape: Tape, needed: list[Traced]) -> list[Record]:
    """The operations whose results something reads: a write into a parameter or an
    optimizer buffer, an output of the step, or another such operation. Walked backwards.

    A write counts when it reaches memory that something later reads, through whichever view:
    ``out[:, rows] += part`` writes ``out`` for a reader of ``out``. Memory, not objects, is
    followed (``may_share_memory``: when in doubt, the write is kept).
    """
    live_ids = {id(t) for t in needed}
    live_arrays = [t.array for t in needed]
    kept = []
    for r in reversed(tape.records):
        targets = _targets(r)
        writes_kept = any(t.origin[0] == "external" or id(t) in live_ids or
                          _overlaps(t.array, live_arrays) for t in targets)
        if (r.kind == "require" or writes_kept or
                any(id(t) in live_ids for t in _results(r))):
            kept.append(r)
            for t in _reads(r) + targets:
                if id(t) not in live_ids:
                    live_ids.add(id(t))
                    live_arrays.append(t.array)
    kept.reverse()
    return kept


def _overlaps(array: Any, others: list[Any]) -> bool:
    if not hasattr(array, "base"):  # a NumPy scalar: no memory to share
        return False
    xp = np if isinstance(array, np.ndarray) else array_module_of(array)
    return any(hasattr(o, "base") and xp.may_share_memory(array, o) for o in others)


class _Names:
    """Names for the generated source: x0.. the arguments, p0.. arrays that outlive the step
    (parameters, optimizer state), c0.. constants, v0.. results of operations."""

    def __init__(self, tape: Tape) -> None:
        self.namespace: dict[str, Any] = {"np": np}
        self.names: dict[int, str] = {}
        for i, t in enumerate(tape.inputs):
            self.names[id(t)] = f"x{i}"
        for i, t in enumerate(tape.externals.values()):
            self.bind(t, f"p{i}", t.array)
        self.counter = 0

    def bind(self, traced: Traced, name: str, value: Any) -> str:
        self.names[id(traced)] = name
        self.namespace[name] = value
        return name

    def result(self, traced: Traced) -> str:
        name = self.names.get(id(traced))
        if name is None:
            name = self.names[id(traced)] = f"v{self.counter}"
            self.counter += 1
        return name

    def constant(self, value: Any) -> str:
        name = f"c{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def render(self, v: Any) -> str:
        if type(v) is Traced:
            return self.names[id(v)]
        if isinstance(v, tuple):
            inner = ", ".join(self.render(x) for x in v)
            return f"({inner},)" if len(v) == 1 else f"({inner})"
        if isinstance(v, list):
            return "[" + ", ".join(self.render(x) for x in v) + "]"
        if isinstance(v, slice):
            return f"slice({self.render(v.start)}, {self.render(v.stop)}, {self.render(v.step)})"
        if v is None or v is Ellipsis or isinstance(v, (bool, int, float, str)):
            return repr(v)
        return self.constant(v)  # arrays, NumPy scalars, dtypes: bound by reference

    def function(self, fn: Any) -> str:
        if isinstance(fn, np.ufunc):
            return f"np.{fn.__name__}"
        owner = getattr(fn, "__self__", None)
        if isinstance(owner, np.ufunc):  # np.add.reduce, np.add.at
            return f"np.{owner.__name__}.{fn.__name__}"
        name = getattr(fn, "__name__", None)
        if name is not None and getattr(np, name, None) is fn:
            return f"np.{name}"
        return self.constant(fn)


def _compile(tape: Tape, outputs: list[Traced], grads: list[Traced]) -> tuple[str, Callable]:
    escaping = outputs + grads  # handed to the caller: each must be a fresh array per call
    records = _live_records(tape, escaping)
    names = _Names(tape)
    escaping_ids = {id(t) for t in escaping}
    stable: set[int] = {id(t) for t in tape.externals.values()}  # same array every replay
    renamed = _elided_copies(records, escaping_ids)
    lines = []
    for r in records:
        label = f"  # {r.label}" if r.label else ""
        if id(r) in renamed:  # the copy is its source, which is made fresh for it
            source, copy = renamed[id(r)]
            names.names[id(copy)] = names.result(source)
            continue
        results = _results(r)
        if (r.kind in ("method", "getitem") and len(results) == 1 and
                _is_view_of_stable(r, stable) and id(results[0]) not in escaping_ids):
            # A view of an array that is the same in every replay: made once, here, of that
            # very array (a buffer below is a new array, not the one the capture made).
            view = eval(_render_call(r, names, dict(r.kwargs)), dict(names.namespace))
            names.bind(results[0], f"h{len(names.namespace)}", view)
            stable.add(id(results[0]))
            continue
        target = ", ".join(names.result(t) for t in results) if r.result is not None else ""
        kwargs = dict(r.kwargs)
        if (r.kind == "call" and isinstance(r.fn, np.ufunc) and len(results) == 1 and
                "out" not in kwargs and id(results[0]) not in escaping_ids and
                isinstance(results[0].array, np.ndarray)):
            buffer = names.bind(results[0], f"b{len(names.namespace)}",
                                np.empty_like(results[0].array))
            stable.add(id(results[0]))
            args = ", ".join([names.render(a) for a in r.args] +
                             [f"{k}={names.render(v)}" for k, v in kwargs.items()] +
                             [f"out={buffer}"])
            lines.append(f"{names.function(r.fn)}({args}){label}")
            continue
        if r.kind == "method" and r.fn == "sum" and isinstance(r.args[0].array, np.ndarray):
            # what ndarray.sum runs, without its Python wrapper
            r = Record("call", np.add.reduce, r.args, r.kwargs, r.result, r.label)
        call = _render_call(r, names, kwargs)
        lines.append(f"{target} = {call}{label}" if target else f"{call}{label}")
    returned = [f"{names.render(t)}.copy()" if id(t) in stable else names.render(t)
                for t in escaping]
    arguments = ", ".join(f"x{i}" for i in range(len(tape.inputs)))
    body = "\n".join(f"    {line}" for line in lines) or "    pass"
    source = (f"def replay({arguments}):\n{body}\n"
              f"    return ({', '.join(returned)}{',' if len(returned) == 1 else ''})\n")
    namespace = dict(names.namespace)
    exec(compile(source, "<jit replay>", "exec"), namespace)
    return source, namespace["replay"]


def _elided_copies(records: list[Record], escaping_ids: set[int]) -> dict[int, tuple]:
    """The ``copy()`` records that can be left out, each as id(record) -> (source, copy).

    A copy of a temporary that nothing else touches, such as the copy that makes a new
    ``.grad`` its leaf's own, is left out: the copy's value is the temporary itself, made
    fresh in every replay (it then counts as escaping, so it gets no reused buffer).
    """
    uses: dict[int, int] = {}
    for r in records:
        for t in _reads(r) + _targets(r):
            uses[id(t)] = uses.get(id(t), 0) + 1
    elided = {}
    for r in records:
        if r.kind != "method" or r.fn != "copy" or len(r.args) != 1 or r.kwargs:
            continue
        source = r.args[0]
        if (type(source) is Traced and source.origin[0] == "op" and uses[id(source)] == 1
                and id(source) not in escaping_ids and isinstance(source.array, np.ndarray)
                and source.array.base is None):
            elided[id(r)] = (source, r.result)
            escaping_ids.add(id(source))
    return elided


def _is_view_of_stable(r: Record, stable: set[int]) -> bool:
    source = r.args[0]
    if type(source) is not Traced or id(source) not in stable or holds_traced(r.args[1:]):
        return False
    if r.kind == "method" and r.fn not in VIEWS:
        return False
    result = r.result.array
    return getattr(result, "base", None) is not None  # a view, not a copy


def _render_call(r: Record, names: _Names, kwargs: dict[str, Any]) -> str:
    if r.kind == "require":  # a check of values (tracing.require), made in every replay
        condition, *arrays = (names.render(a) for a in r.args)
        return f"if not {condition}: raise {names.constant(r.fn)}({', '.join(arrays)})"
    if r.kind == "getitem":
        return f"{names.render(r.args[0])}[{names.render(r.args[1])}]"
    if r.kind == "setitem":
        return f"{names.render(r.args[0])}[{names.render(r.args[1])}] = {names.render(r.args[2])}"
    rendered = [names.render(a) for a in (r.args[1:] if r.kind == "method" else r.args)]
    rendered += [f"{k}={names.render(v)}" for k, v in kwargs.items()]
    if r.kind == "method":
        return f"{names.render(r.args[0])}.{r.fn}({', '.join(rendered)})"
    return f"{names.function(r.fn)}({', '.join(rendered)})"


_ = unwrap  # re-exported through tracing for readers of this module
