"""The backward pass: the one loop that turns an output's gradient into every leaf's.

It starts from the output and keeps the tensors whose gradient has started to arrive in a heap,
ordered by their ``grad_fn.seq`` (the recording number, see ``function.py``), latest first. A
tensor's consumers were all made after it, so they all have larger numbers: by the time it
comes out of the heap, every contribution to its gradient has been added up. The loop calls
``grad_fn.backward`` with that sum, sums each result down to its input's shape where
broadcasting stretched it, and sends it on. Leaves keep what reaches them in ``.grad``. The
loop is iterative (a chain of 100,000 ops needs no recursion) and handles each tensor once,
however many paths lead to it.

Backward rules are written with Tensor ops. With ``create_graph=False`` they run under
``no_grad`` and record nothing; with ``create_graph=True`` they are recorded like any other
computation, so the gradient can itself be differentiated (second and third derivatives,
Hessian-vector products).

Grad mode, versions and ``Function`` live in ``function.py`` and are re-exported here, where
PyTorch keeps them (``torch.autograd.Function``, ``torch.autograd.grad``).
"""
from __future__ import annotations

import heapq
import weakref
from typing import Any, Sequence

import numpy as np

from . import debug, tracing
from .backend import copy_array
from .function import (UNWRITTEN, Function, Version, _Writes, enable_grad, grad_enabled,
                       is_grad_enabled, mark_written, no_grad, restore_grad_enabled,
                       set_grad_enabled, shared_version, version_of)
from . import tensor as _tensor  # by module: tensor.py imports this one too  # isort: skip

Tensor = Any  # for annotations: the class is _tensor.Tensor

__all__ = ["Function", "grad", "no_grad", "enable_grad", "is_grad_enabled", "run_backward",
           "mark_written", "version_of", "shared_version", "Version"]


def run_backward(roots: Sequence[Tensor], root_grads: Sequence[Tensor],
                 retain_graph: bool, create_graph: bool,
                 inputs: Sequence[Tensor] | None = None) -> list[Tensor | None] | None:
    """The one backward loop, behind ``Tensor.backward`` and ``grad``.

    With ``inputs=None`` the gradients that reach leaves are added into their ``.grad``.
    Otherwise nothing's ``.grad`` is touched and the gradients of ``inputs`` are returned.
    """
    # tensor -> the sum of the gradients that reached it. Tensors hash by identity, and a dict
    # never compares two with ==, which would compare them elementwise.
    grads: dict[Tensor, Tensor] = {}
    ready: list[tuple[int, Tensor]] = []  # a heap of (-seq, tensor): the latest-made comes first
    leaves: list[Tensor] = []  # in the order reached; their gradients are final at the end
    wanted = None if inputs is None else _Wanted(inputs)
    tensor_type = _tensor.Tensor

    def send(tensor: Tensor, g: Tensor) -> None:
        """A gradient reaches ``tensor``: add it to the ones before, or note it and queue it."""
        previous = grads.get(tensor)
        if previous is not None:  # another consumer got here first: add the two up
            grads[tensor] = previous + g
            return
        grads[tensor] = g
        fn = tensor.grad_fn
        if fn is None:
            leaves.append(tensor)
        elif fn.inputs is None:
            raise _released_error(fn)
        else:  # recording numbers are unique, so the heap never has to compare tensors
            heapq.heappush(ready, (-fn.seq, tensor))

    mode = set_grad_enabled(create_graph)
    debugging = debug.state.active and debug.enter_backward()
    try:
        for root, g in zip(roots, root_grads):
            send(root, g)
        while ready:
            tensor = heapq.heappop(ready)[1]
            g = grads.pop(tensor)
            if wanted is not None and wanted.take(tensor, g):  # grad() has all it asked for
                break
            fn = tensor.grad_fn
            if fn.seq < _Writes.last:  # something was written in place since fn was recorded
                _check_saved(fn)
            if tracing.capture.active is not None:  # the jit labels what it records
                tracing.capture.active.context = f"{fn.name}.backward"
            input_grads = fn.backward(g)
            if type(input_grads) is not tuple or len(input_grads) != len(fn.inputs):
                raise _bad_gradients(fn, input_grads)
            if debug.state.active:  # trace() or detect_anomaly(): see debug.py
                debug.after_backward(fn, g, input_grads)
            for inp, need, ig in zip(fn.inputs, fn.needs_input_grad, input_grads):
                if need and ig is not None:
                    if type(ig) is not tensor_type or ig._array.shape != inp._array.shape \
                            or ig._array.dtype != inp._array.dtype:
                        ig = _fitted(fn, ig, inp)  # broadcast or cast: made to fit its input
                    send(inp, ig)
            if not retain_graph:  # Function.release, without the call: this loop is hot
                fn.__dict__.clear()
        # Only now, with the whole walk done, do leaves take their gradients: an error part
        # way (a released graph) leaves every .grad as it was.
        if inputs is None:
            _store_leaf_gradients(leaves, grads, create_graph)
    finally:
        restore_grad_enabled(mode)
        if debugging:
            debug.leave_backward()
        if tracing.capture.active is not None:
            tracing.capture.active.context = ""
    return None if wanted is None else wanted.results(leaves, grads)


def _fitted(fn: Function, ig: Tensor, inp: Tensor) -> Tensor:
    """Gradient ``ig`` of input ``inp``, in the input's shape and dtype: summed down where the
    forward broadcast the input (``sum_to``), and cast back where it changed its dtype (a
    float32 input gets a float32 gradient)."""
    if not isinstance(ig, _tensor.Tensor) or ig._array.shape != inp._array.shape:
        ig = _summed_to_input(fn, ig, inp)
    if ig._array.dtype != inp._array.dtype:
        ig = ig.astype(inp._array.dtype)
    return ig


def _store_leaf_gradients(leaves: list[Tensor], grads: dict[int, Tensor],
                          create_graph: bool) -> None:
    """Add each leaf's gradient into its ``.grad``, as PyTorch does; a new ``.grad`` is the
    leaf's own: a gradient may be the very tensor another leaf gets too (``Add`` hands g to
    both inputs) or a view into another gradient, and users change ``.grad`` in place
    (clipping, scaling)."""
    for leaf in leaves:
        g = grads[leaf]
        if debug.state.active:
            debug.leaf_gradient(leaf, g)
        if tracing.capture.active is not None:
            tracing.capture.active.before_gradient(leaf)
        if leaf.grad is not None:
            leaf.grad = leaf.grad + g
        elif create_graph:  # a copy that stays in the graph
            leaf.grad = g.clone()
        else:
            leaf.grad = leaf._wrap(copy_array(g._array), leaf.device)


class _Wanted:
    """The inputs of ``grad()``: their gradients are collected instead of stored in ``.grad``.

    When all of them are made by ops, the walk stops once each has come out of the heap (its
    gradient is then complete), leaving the graph beneath untouched.
    """

    def __init__(self, inputs: Sequence[Tensor] | None) -> None:
        self.inputs = inputs
        self.found: dict[int, Tensor | None] = {} if inputs is None else {id(t): None for t in inputs}
        all_made_by_ops = inputs is not None and all(t.grad_fn is not None for t in inputs)
        self.pending = len(self.found) if all_made_by_ops else -1

    def take(self, tensor: Tensor, g: Tensor) -> bool:
        """Keep ``g`` if ``tensor`` is wanted; True when nothing more is needed."""
        if id(tensor) not in self.found:
            return False
        self.found[id(tensor)] = g
        self.pending -= 1
        return self.pending == 0

    def results(self, leaves: list[Tensor], grads: dict[int, Tensor]) -> list[Tensor | None]:
        """One gradient (or None) per input, in order, even when an input is listed twice."""
        for leaf in leaves:
            if id(leaf) in self.found:
                self.found[id(leaf)] = grads[leaf]
        return [self.found[id(t)] for t in self.inputs]


# ---------------------------------------------------------------------------------------------
# Checks: what backward returns, and what it reads
# ---------------------------------------------------------------------------------------------

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


def _summed_to_input(fn: Function, ig: Any, inp: Tensor) -> Tensor:
    """Gradient ``ig`` of input ``inp``, summed down to the input's shape where the forward
    broadcast it (``sum_to``), after checking that it is a Tensor of a shape that can be."""
    i = next(k for k, t in enumerate(fn.inputs) if t is inp)
    if not isinstance(ig, _tensor.Tensor):
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


def _released_error(fn: Function) -> RuntimeError:
    return RuntimeError(
        f"backward through the graph a second time: the values that {fn.name} saved for "
        "backward were released after the first backward; pass retain_graph=True to the first "
        "backward() if you need to call it twice, or recompute the forward pass")



# ---------------------------------------------------------------------------------------------
# The seeds, and grad()
# ---------------------------------------------------------------------------------------------

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
                return [_tensor.Tensor._wrap(data.dtype.type(1), out.device)]
            return [_tensor.Tensor._wrap(out._xp.ones(data.shape, data.dtype), out.device)]
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
            g = _tensor.Tensor._wrap(out._xp.ones_like(out._array), out.device)
        elif not isinstance(g, _tensor.Tensor):
            g = _tensor.Tensor(g, dtype=out.dtype, device=out.device)
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
    outputs = [outputs] if isinstance(outputs, _tensor.Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, _tensor.Tensor) else list(inputs)
    if isinstance(grad_outputs, _tensor.Tensor):
        grad_outputs = [grad_outputs]
    for i, t in enumerate(inputs):
        if not isinstance(t, _tensor.Tensor) or not t.requires_grad:
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
