"""Pictures of the graph that built a tensor: ``to_dot`` writes Graphviz DOT text, and ``render``
draws it with Graphviz's ``dot`` program (Debian/Ubuntu package ``graphviz``).

    import tinygrad_sm as tg
    from tinygrad_sm import nn, viz
    net = nn.Linear(784, 10)
    loss = nn.functional.cross_entropy(net(X), y)
    loss.backward(retain_graph=True)   # keep the graph, to draw it with the gradients
    viz.render(loss, "graph.svg", params=dict(net.named_parameters()))

Each op is an oval with its name and the shape and dtype of what it made; each leaf is a box
(parameters in blue, with their names, other inputs in grey), with the norm of its gradient
once backward has run. Arrows go the way the data flows, from the leaves to the output.
Backward frees the graph unless ``retain_graph=True``: draw before it, or retain it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from typing import Any, Mapping

import numpy as np

from .tensor import Tensor

INSTALL_HINT = ("install Graphviz, which provides it: sudo apt-get install graphviz "
                "(Debian/Ubuntu), brew install graphviz (macOS), or see https://graphviz.org")


def to_dot(tensor: Tensor, params: Mapping[str, Tensor] | None = None,
           title: str | None = None, trace: Any = None) -> str:
    """Graphviz DOT text for the graph that built ``tensor``.

    ``params`` names the leaves, as ``dict(model.named_parameters())`` does; a ``Parameter``
    that it does not name is still marked as one. Leaves show the norm of their ``.grad``; give
    the ``trace()`` of a backward pass through the graph (``retain_graph=True``) as ``trace``
    to show the norm of the gradient that reached every op too.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dot expects a Tensor, got {type(tensor).__name__}")
    names = {id(t): name for name, t in (params or {}).items()}
    op_grads = {} if trace is None else {r.node_id: r.grad_norm for r in trace.records}
    header = ["digraph autograd {", '  rankdir="BT";',
              '  node [fontname="Helvetica", fontsize=11];',
              '  edge [fontname="Helvetica", fontsize=9, color="#555555"];']
    if title:
        header.append(f'  label="{_escape(title)}"; labelloc="t";')
    lines: list[str] = []  # the edges
    seen: dict[str, str] = {}  # node id -> its line
    stack = [tensor]
    while stack:  # iterative, like the backward loop: deep graphs are fine
        t = stack.pop()
        node = _node_id(t)
        if node in seen:
            continue
        fn = t.grad_fn
        if fn is None:
            seen[node] = _leaf_line(t, names, is_output=t is tensor)
            continue
        if fn.inputs is None:
            raise RuntimeError(f"the graph under this tensor was released by backward ({fn.name} "
                               "has no inputs any more); draw it before backward, or call "
                               "backward(retain_graph=True)")
        seen[node] = _op_line(t, fn, op_grads.get(id(fn)), is_output=t is tensor)
        for i, inp in enumerate(fn.inputs):
            if not (inp.requires_grad or inp.grad_fn is not None) and inp.size == 1:
                continue  # a constant number (x * 2): shown in no box of its own
            label = f' [label="{i}"]' if len(fn.inputs) > 1 else ""
            lines.append(f"  {_node_id(inp)} -> {node}{label};")
            stack.append(inp)
    nodes = [f"  {line}" for line in seen.values()]
    return "\n".join(header + nodes + lines + ["}"]) + "\n"


def render(tensor: Tensor, path: str | os.PathLike, params: Mapping[str, Tensor] | None = None,
           title: str | None = None, trace: Any = None) -> str:
    """Draw the graph that built ``tensor`` into ``path`` (``.svg``, ``.png`` or ``.pdf``) with
    Graphviz's ``dot``; return the path."""
    path = os.fspath(path)
    fmt = os.path.splitext(path)[1].lstrip(".").lower()
    if fmt not in ("svg", "png", "pdf"):
        raise ValueError(f"render: cannot tell the format from {path!r}; end the file name in "
                         ".svg, .png or .pdf")
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(f"render needs Graphviz's 'dot' program, which is not on the PATH; "
                           f"{INSTALL_HINT}. viz.to_dot(tensor) gives the DOT text without it")
    text = to_dot(tensor, params, title, trace)
    directory = os.path.dirname(os.path.abspath(path))
    with tempfile.NamedTemporaryFile("w", suffix=".dot", dir=directory, delete=False) as f:
        f.write(text)
        source = f.name
    try:
        result = subprocess.run([dot, f"-T{fmt}", source, "-o", path], capture_output=True,
                                text=True, timeout=120)
    finally:
        os.unlink(source)
    if result.returncode != 0:
        raise RuntimeError(f"dot failed on the graph ({result.returncode}): {result.stderr.strip()}")
    return path


def _node_id(t: Tensor) -> str:
    return f"t{id(t)}"


def _describe(t: Tensor) -> str:
    return f"{tuple(t.shape)} {t.dtype}"


def _grad_line(t: Tensor) -> str:
    if t.grad is None:
        return ""
    array = np.asarray(t.grad.numpy(), dtype=np.float64)
    return f"\\n|grad| = {np.sqrt(np.sum(array * array)):.4g}"


def _leaf_line(t: Tensor, names: Mapping[int, str], is_output: bool) -> str:
    from .nn import Parameter  # nn imports tensor too; only here is it needed

    name = names.get(id(t))
    is_param = isinstance(t, Parameter) or name is not None
    kind = name or ("parameter" if is_param else ("leaf" if t.requires_grad else "input"))
    color = "#cfe2f3" if is_param else ("#fff2cc" if t.requires_grad else "#eeeeee")
    border = ', penwidth=2' if is_output else ""
    return (f'{_node_id(t)} [shape=box, style="filled,rounded", fillcolor="{color}"{border}, '
            f'label="{_escape(kind)}\\n{_describe(t)}{_grad_line(t)}"];')


def _op_line(t: Tensor, fn: Any, grad_norm: float | None, is_output: bool) -> str:
    border = ', penwidth=2, color="#cc0000"' if is_output else ""
    where = getattr(fn, "where", None)
    place = f"\\n{_escape(where)}" if where else ""
    grad = "" if grad_norm is None else f"\\n|grad| = {grad_norm:.4g}"
    return (f'{_node_id(t)} [shape=ellipse, style=filled, fillcolor="#d9ead3"{border}, '
            f'label="{fn.name}\\n{_describe(t)}{grad}{place}"];')


def _escape(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace('"', '\\"')
