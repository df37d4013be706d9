"""Watching autograd work: ``trace()`` records each backward step, ``detect_anomaly()`` stops at the
first op whose forward or backward pass makes a NaN or an inf.

    import tinygrad_sm as tg
    with tg.trace() as t:
        x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = ((x + x) * x).sum()
        y.backward()
    print(t)        # one row per backward step: the op, where it was made, shapes, |gradient|

Both hook into the two places where autograd happens: ``Function.__call__`` (every op's forward)
and the backward loop (``autograd.run_backward``). Those test one flag, ``state.active``, and
call in here only while a ``trace()`` or ``detect_anomaly()`` block is open; otherwise they cost
one attribute read.

Where each op was made (``file:line`` in your code, not in the library's) is noted when its
forward runs inside one of the blocks: put the forward pass inside the ``with`` too, as above.
"""
from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

_PACKAGE = os.path.dirname(os.path.abspath(__file__))
UNKNOWN_SITE = "?"


class state:
    """``active`` is True while any trace or anomaly block is open, in any thread: the hot
    paths test only that. What is open in this thread is in ``_local``."""

    active = False
    open_blocks = 0


_local = threading.local()


def _traces() -> list[trace]:
    return _local.__dict__.setdefault("traces", [])


def _anomaly_depth() -> int:
    return _local.__dict__.get("anomaly", 0)


class _Block:
    """Counts open blocks so that ``state.active`` is True exactly while one is open."""

    def _open(self) -> None:
        state.open_blocks += 1
        state.active = True

    def _close(self) -> None:
        state.open_blocks -= 1
        state.active = state.open_blocks > 0


# ---------------------------------------------------------------------------------------------
# trace()
# ---------------------------------------------------------------------------------------------

@dataclass
class TraceRecord:
    """One step of the backward pass: op ``op`` (made at ``where``) received a gradient of norm
    ``grad_norm`` for its output and sent one to each input (``sent``: the norms, None for an
    input that needs none). A leaf's record (``op == "leaf"``) sums what reached it."""

    step: int
    op: str
    where: str
    input_shapes: list[tuple[int, ...]]
    output_shape: tuple[int, ...]
    grad_norm: float
    sent: list[float | None] = field(default_factory=list)
    node_id: int = 0  # id() of the Function (or the leaf), to find it in a graph picture


class trace(_Block):
    """``with trace() as t:`` records every backward step in ``t.records``, in the order the
    engine runs them; ``print(t)`` shows them as a table."""

    def __init__(self) -> None:
        self.records: list[TraceRecord] = []
        self._arrivals: dict[int, int] = {}  # id(leaf) -> how many gradients reached it

    def __enter__(self) -> trace:
        _traces().append(self)
        self._open()
        return self

    def __exit__(self, *exc: Any) -> None:
        _traces().remove(self)
        self._close()

    def _step(self, fn: Any, g: Any, grads: tuple[Any, ...]) -> None:
        inputs = fn.inputs
        for inp, need, ig in zip(inputs, fn.needs_input_grad, grads):
            if need and ig is not None and inp.grad_fn is None:
                self._arrivals[id(inp)] = self._arrivals.get(id(inp), 0) + 1
        self.records.append(TraceRecord(
            step=len(self.records) + 1, op=fn.name, where=getattr(fn, "where", UNKNOWN_SITE),
            input_shapes=[t.shape for t in inputs], output_shape=g.shape,
            grad_norm=_norm(g), sent=[None if ig is None else _norm(ig) for ig in grads],
            node_id=id(fn)))

    def _leaf(self, leaf: Any, g: Any) -> None:
        arrivals = self._arrivals.pop(id(leaf), 1)  # 1: the leaf was itself an output
        self.records.append(TraceRecord(
            step=len(self.records) + 1, op="leaf", where=f"{arrivals} gradient"
            f"{'s' * (arrivals != 1)} arrived, added up", input_shapes=[],
            output_shape=leaf.shape, grad_norm=_norm(g), node_id=id(leaf)))

    def __str__(self) -> str:
        rows = [("step", "op", "made at", "input shapes", "output", "|grad in|", "|grads out|")]
        for r in self.records:
            rows.append((str(r.step), r.op, r.where,
                         ", ".join(str(s) for s in r.input_shapes) or "-", str(r.output_shape),
                         f"{r.grad_norm:.4g}",
                         ", ".join("-" if s is None else f"{s:.4g}" for s in r.sent) or "-"))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
                         for row in rows)

    def __repr__(self) -> str:
        return f"<trace of {len(self.records)} backward steps>"


def _norm(t: Any) -> float:
    """The Euclidean norm of a tensor's values, on the host."""
    array = t._array
    if not isinstance(array, (np.ndarray, np.generic)):
        array = array.get()  # a CuPy array: traces are for learning, a copy is fine
    return float(np.sqrt(np.sum(np.square(np.asarray(array, dtype=np.float64)))))


# ---------------------------------------------------------------------------------------------
# detect_anomaly()
# ---------------------------------------------------------------------------------------------

class detect_anomaly(_Block):
    """``with detect_anomaly():`` raises a ``RuntimeError`` at the first op whose forward or
    backward pass gives a NaN or an inf, naming the op, the pass, and where in your code the op
    was made. Outside the block nothing is checked and nothing is slowed."""

    def __enter__(self) -> detect_anomaly:
        _local.anomaly = _anomaly_depth() + 1
        self._open()
        return self

    def __exit__(self, *exc: Any) -> None:
        _local.anomaly = _anomaly_depth() - 1
        self._close()


def _bad_values(array: Any) -> str | None:
    """"NaN" or "inf" if the array holds one (floating-point arrays only), else None."""
    if getattr(array, "dtype", None) is None or array.dtype.kind not in "fc":
        return None
    xp = np if isinstance(array, (np.ndarray, np.generic)) else sys.modules["cupy"]
    if bool(xp.isnan(array).any()):
        return "NaN"
    if bool(xp.isinf(array).any()):
        return "inf"
    return None


# ---------------------------------------------------------------------------------------------
# The hooks, called from Function.__call__ and run_backward while state.active
# ---------------------------------------------------------------------------------------------

def enter_backward() -> bool:
    """The backward loop starts: the ops its rules run are checked as the node's backward
    pass (``after_backward``), not one by one as forward passes."""
    _local.backward_depth = _local.__dict__.get("backward_depth", 0) + 1
    return True


def leave_backward() -> None:
    _local.backward_depth -= 1


def after_forward(fn: Any, out: Any) -> None:
    """An op's forward has run: note where it was made, and check its output for anomalies."""
    if not (_traces() or _anomaly_depth()) or _local.__dict__.get("backward_depth"):
        return  # the open blocks are in other threads, or this op is part of a backward rule
    where = user_site()
    if out.grad_fn is fn:
        fn.where = where
    if _anomaly_depth():
        bad = _bad_values(out._array)
        if bad is not None:
            raise RuntimeError(f"detect_anomaly: the forward pass of {fn.name} at {where} gave "
                               f"{bad} (output of shape {out.shape}); look at its inputs there")


def after_backward(fn: Any, g: Any, grads: tuple[Any, ...]) -> None:
    """A node's backward has run: record the step, and check the gradients it made."""
    for t in _traces():
        t._step(fn, g, grads)
    if _anomaly_depth():
        for i, ig in enumerate(grads):
            bad = None if ig is None else _bad_values(ig._array)
            if bad is not None:
                where = getattr(fn, "where", None) or (
                    f"{UNKNOWN_SITE} (run the forward pass inside detect_anomaly() to see it)")
                raise RuntimeError(
                    f"detect_anomaly: the backward pass of {fn.name}, made at {where}, gave {bad} "
                    f"in the gradient of its input {i} (shape {ig.shape}), from an output "
                    f"gradient of norm {_norm(g):.4g}")


def leaf_gradient(leaf: Any, g: Any) -> None:
    """The total gradient of a leaf is known: record it."""
    for t in _traces():
        t._leaf(leaf, g)


def user_site() -> str:
    """``file:line`` of the innermost caller outside this library: where the user made the op."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
    if frame is None:
        return UNKNOWN_SITE
    filename = frame.f_code.co_filename
    try:
        relative = os.path.relpath(filename)
        if not relative.startswith(".."):
            filename = relative
    except ValueError:  # another drive, on Windows
        pass
    return f"{filename}:{frame.f_lineno}"

