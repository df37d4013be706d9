"""The autograd engine: grad mode, the ``Function`` every op is built from, and the one backward loop.

How reverse mode works here, in three steps:

1. **Recording.** Each op is a :class:`Function`. Calling it on tensors runs its ``forward`` on
   their arrays and, when grad mode is on and some input requires grad, keeps the inputs on the
   function and hangs the function on the output as ``output.grad_fn``. The tensors and their
   ``grad_fn`` links form a directed acyclic graph from the output back to the leaves.
2. **Ordering.** :func:`_topological_order` walks that graph once, iteratively (no Python
   recursion, so a chain of 100,000 ops is fine), and lists every tensor after all the tensors
   that were computed from it.
3. **The backward loop.** :func:`run_backward` goes down that list. For each tensor it takes the
   sum of the gradients its consumers sent it, calls ``grad_fn.backward`` to get the gradients
   of the inputs, undoes broadcasting, and sends them on. Leaves keep what reaches them in
   ``.grad``.

Backward rules are written with Tensor ops. With ``create_graph=False`` they run under
``no_grad`` and record nothing; with ``create_graph=True`` they are recorded like any other
computation, so the gradient can itself be differentiated (second and third derivatives,
Hessian-vector products).
"""
from __future__ import annotations

import contextlib
import weakref
from typing import Any, Sequence

# tensor.py imports this module at its end, once the Tensor class exists.
from .tensor import Tensor


# ---------------------------------------------------------------------------------------------
# Grad mode: one flag, switched by no_grad() and enable_grad().
# ---------------------------------------------------------------------------------------------

class _GradMode:
    enabled = True


def is_grad_enabled() -> bool:
    """True unless inside ``no_grad()``."""
    return _GradMode.enabled


class _SetGradMode(contextlib.ContextDecorator):
    """Sets the grad-mode flag for a ``with`` block or a decorated function, then restores it."""

    mode: bool

    def __init__(self) -> None:
        # A stack, not one slot: a decorator is a single instance that is entered again when
        # the decorated function calls itself, and each exit must restore its own entry's value.
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        self._previous.append(_GradMode.enabled)
        _GradMode.enabled = self.mode

    def __exit__(self, *exc: Any) -> None:
        _GradMode.enabled = self._previous.pop()


class no_grad(_SetGradMode):
    """Record no graph: ``with no_grad(): ...`` or ``@no_grad()``. Use it for evaluation and updates."""

    mode = False


class enable_grad(_SetGradMode):
    """Record the graph again inside a ``no_grad()`` block: ``with enable_grad(): ...``."""

    mode = True


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

    Call an instance to apply it: ``Mul()(a, b)``.
    """

    # Class-level defaults: an unrecorded or released function has no inputs.
    inputs: tuple[Tensor, ...] | None = None
    needs_input_grad: tuple[bool, ...] = ()

    def forward(self, *arrays: Any) -> Any:
        raise NotImplementedError

    def backward(self, grad_output: Tensor) -> tuple[Tensor | None, ...]:
        raise NotImplementedError

    def __call__(self, *inputs: Tensor) -> Tensor:
        out = Tensor._wrap(self.forward(*[t.data for t in inputs]), inputs[0].device)
        if _GradMode.enabled:
            needs = tuple([t.requires_grad for t in inputs])
            if True in needs:
                self.inputs = inputs
                self.needs_input_grad = needs
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

def _topological_order(roots: Sequence[Tensor]) -> list[Tensor]:
    """Every tensor reachable from ``roots`` that requires grad, each listed before its inputs.

    An iterative depth-first search: a tensor is appended when all its inputs are done, and the
    list is reversed at the end. Each tensor is visited once, whatever the number of paths to it.
    """
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False) for root in reversed(roots)]
    while stack:
        tensor, inputs_done = stack.pop()
        if inputs_done:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        fn = tensor.grad_fn
        if fn is None:
            continue
        if fn.inputs is None:
            raise RuntimeError(
                f"backward through the graph a second time: the values that {fn.name} saved for "
                "backward were released after the first backward; pass retain_graph=True to the "
                "first backward() if you need to call it twice, or recompute the forward pass")
        for inp in fn.inputs:
            if inp.requires_grad and id(inp) not in visited:
                stack.append((inp, False))
    order.reverse()
    return order


def run_backward(roots: Sequence[Tensor], root_grads: Sequence[Tensor],
                 retain_graph: bool, create_graph: bool,
                 inputs: Sequence[Tensor] | None = None) -> list[Tensor | None] | None:
    """The one backward loop, behind ``Tensor.backward`` and ``grad``.

    With ``inputs=None`` the gradients that reach leaves are added into their ``.grad``.
    Otherwise nothing's ``.grad`` is touched and the gradients of ``inputs`` are returned.
    """
    order = _topological_order(roots)
    grads: dict[int, Tensor] = {}
    for root, g in zip(roots, root_grads):
        grads[id(root)] = g if id(root) not in grads else grads[id(root)] + g
    wanted = None if inputs is None else {id(t): None for t in inputs}

    previous_mode = _GradMode.enabled
    _GradMode.enabled = create_graph
    try:
        for tensor in order:
            g = grads.pop(id(tensor), None)
            if g is None:
                continue
            if wanted is not None and id(tensor) in wanted:
                wanted[id(tensor)] = g
            fn = tensor.grad_fn
            if fn is None:
                if wanted is None:  # a leaf: accumulate, as PyTorch does
                    if tensor.grad is not None:
                        tensor.grad = tensor.grad + g
                    elif create_graph:
                        tensor.grad = g
                    else:
                        # A leaf's .grad owns its array: g may be a read-only broadcast view
                        # (from sum's backward) or the very tensor another leaf gets too (add
                        # hands g to both inputs), and optimizers may update .grad in place.
                        tensor.grad = Tensor._wrap(tensor._xp.array(g.data), tensor.device)
                continue
            for inp, need, ig in zip(fn.inputs, fn.needs_input_grad, fn.backward(g)):
                if not need or ig is None:
                    continue
                if ig.data.shape != inp.data.shape:
                    ig = ig.sum_to(inp.data.shape)
                if ig.data.dtype != inp.data.dtype:  # a float32 parameter gets a float32 gradient
                    ig = ig.astype(inp.data.dtype)
                key = id(inp)
                previous = grads.get(key)
                grads[key] = ig if previous is None else previous + ig
            if not retain_graph:
                fn.release()
    finally:
        _GradMode.enabled = previous_mode
    # One entry per input, in order, even when an input is listed twice.
    return None if wanted is None else [wanted[id(t)] for t in inputs]


def _root_gradients(outputs: Sequence[Tensor], grad_outputs: Sequence[Any] | None,
                    caller: str) -> list[Tensor]:
    """The seed gradients: ones for scalar outputs, else the ones the caller gave."""
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
            g = Tensor._wrap(out._xp.ones_like(out.data), out.device)
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
