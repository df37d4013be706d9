"""Linear algebra: matrix products, and ``einsum``, behind ``tensordot``, ``inner`` and ``dot``."""
from __future__ import annotations

import string
from typing import Any

from ..function import Function
from ..backend import array_module_of as _xp
from ..backend import einsum


class MatMul(Function):
    """Z = A @ B over the last two axes (earlier axes broadcast);  dA = G @ B^T, dB = A^T @ G."""

    saves_output = False

    def forward(self, a, b):
        return a @ b

    def backward(self, g):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (g @ b.mT if need_a else None), (a.mT @ g if need_b else None)


# ---------------------------------------------------------------------------------------------
# einsum: every contraction of named axes, and the one op behind tensordot, inner and dot.
# ---------------------------------------------------------------------------------------------

# The letters einsum takes as axis labels, as NumPy does, in the order that orders an implicit
# output (ASCII: capitals first).
LETTERS = string.ascii_uppercase + string.ascii_lowercase


def parse_einsum(subscripts: str, shapes: list[tuple[int, ...]]) -> tuple[list[str], str,
                                                                          dict[str, int]]:
    """NumPy's einsum subscripts made explicit, for operands of ``shapes``: the labels of each
    operand's axes, the output's labels, and the length of each label (the longest, where an
    axis of length 1 broadcasts against it).

    ``...`` becomes one fresh letter per broadcast axis, aligned from the right as in
    broadcasting. Without ``->`` the output is the ``...`` axes, then the labels that appear
    exactly once, in alphabetical order (capitals first): NumPy's implicit mode. Raises
    ValueError, naming the problem, for anything NumPy would reject.
    """
    text = subscripts.replace(" ", "")
    for ch in text:
        if ch not in LETTERS and ch not in ".,->":
            raise ValueError(f"einsum {subscripts!r}: invalid subscript {ch!r}; axis labels "
                             "must be letters (a-z, A-Z)")
    if "-" in text or ">" in text:
        if text.count("->") != 1 or text.count("-") != 1 or text.count(">") != 1:
            raise ValueError(f"einsum {subscripts!r}: the output must follow one '->'")
        left, output = text.split("->")
    else:
        left, output = text, None
    operands = left.split(",")
    if len(operands) != len(shapes):
        raise ValueError(f"einsum {subscripts!r} names {len(operands)} operand"
                         f"{'s' * (len(operands) != 1)} but got {len(shapes)}")
    # '...' stands for the axes that no letter names; one fresh letter for each of them.
    widths = []
    for i, (sub, shape) in enumerate(zip(operands, shapes)):
        letters = _check_ellipsis(sub, subscripts, f"operand {i}")
        if "..." in sub:
            width = len(shape) - len(letters)
            if width < 0:
                raise ValueError(f"einsum {subscripts!r}: operand {i} has shape {shape} but "
                                 f"{sub!r} names {len(letters)} axes besides '...'")
        elif len(letters) != len(shape):
            raise ValueError(f"einsum {subscripts!r}: operand {i} has {len(shape)} axes (shape "
                             f"{shape}) but {sub!r} names {len(letters)}; use '...' for axes "
                             "that are not named")
        else:
            width = 0
        widths.append(width)
    used = set(left)
    free = [c for c in LETTERS if c not in used]
    if max(widths, default=0) > len(free):
        raise ValueError(f"einsum {subscripts!r}: too many axes for the 52 letters")
    broadcast = "".join(free[:max(widths, default=0)])
    inputs = [sub.replace("...", broadcast[len(broadcast) - w:])
              for sub, w in zip(operands, widths)]
    if output is None:
        once = [c for c in sorted(set("".join(operands)) - set(".")) if left.count(c) == 1]
        output = broadcast + "".join(once)
    else:
        _check_ellipsis(output, subscripts, "the output")
        if "..." in output:
            output = output.replace("...", broadcast)
        elif broadcast:
            raise ValueError(f"einsum {subscripts!r}: the operands have axes under '...' but "
                             "the output does not say where they go; add '...' to it")
        for c in output:
            if output.count(c) > 1:
                raise ValueError(f"einsum {subscripts!r}: the output names {c!r} twice")
            if c not in used and c not in broadcast:
                raise ValueError(f"einsum {subscripts!r}: the output's {c!r} is not an axis of "
                                 "any operand")
    sizes: dict[str, int] = {}
    for i, (labels, shape) in enumerate(zip(inputs, shapes)):
        own: dict[str, int] = {}
        for c, n in zip(labels, shape):
            if own.setdefault(c, n) != n:
                raise ValueError(f"einsum {subscripts!r}: operand {i} (shape {shape}) repeats "
                                 f"{c!r} on axes of lengths {own[c]} and {n}; a repeated label "
                                 "takes a diagonal, which needs equal lengths")
            known = sizes.setdefault(c, n)
            if known != n and 1 not in (known, n):
                raise ValueError(f"einsum {subscripts!r}: axis {c!r} has length {known} in one "
                                 f"operand and {n} in operand {i} (shape {shape}); they must "
                                 "match, or one must be 1 to broadcast")
            sizes[c] = max(known, n)
    return inputs, output, sizes


def _check_ellipsis(sub: str, subscripts: str, where: str) -> str:
    """The letters of one operand's (or the output's) subscripts, after checking its dots."""
    letters = sub.replace("...", "", 1)
    if "." in letters:
        raise ValueError(f"einsum {subscripts!r}: {where} has a '.' that is not part of one "
                         "'...'")
    return letters


def einsum_tensors(subscripts: str, tensors: list) -> Any:
    """einsum of tensors on one device with one dtype: parsed, broadcast where an axis of
    length 1 meets a longer one, and computed by one ``Einsum``."""
    inputs, output, sizes = parse_einsum(subscripts, [t.shape for t in tensors])
    tensors = [t if t.shape == tuple(sizes[c] for c in labels)
               else t.broadcast_to(tuple(sizes[c] for c in labels))
               for t, labels in zip(tensors, inputs)]
    return Einsum(inputs, output)(*tensors)


class Einsum(Function):
    """Z = einsum of the operands, with explicit labels (``parse_einsum`` makes them so) whose
    lengths agree: Z[out] = the sum over every label not in ``out`` of the product of the
    operands' elements.

    Z is linear in each operand, so dL/dA_k is the same sum with A_k taken out and G put in:
    ``einsum(out, (the other operands' labels) -> (A_k's labels), G, the other operands)``.
    Two cases need more than that:

    * a label that appears only in A_k (summed out of it alone, as ``ij->i`` sums j): the
      gradient is constant along it, so a vector of ones of its length is added as an operand;
    * a label repeated in A_k (``ii``, a diagonal): an output cannot repeat a label, so each
      repeat gets a fresh label tied to the first by an identity matrix, which puts the
      gradient on the diagonal and 0 elsewhere.

    Each gradient is itself an ``Einsum``, so it can be differentiated again.
    """

    saves_output = False

    def __init__(self, inputs: list[str], output: str):
        self.labels, self.out = list(inputs), output

    def forward(self, *arrays):
        return einsum(",".join(self.labels) + "->" + self.out, *arrays)

    def backward(self, g):
        return tuple([self._gradient(k, g) if need else None
                      for k, need in enumerate(self.needs_input_grad)])

    def _gradient(self, k: int, g) -> Any:
        operand = self.inputs[k]
        xp = _xp(operand._array)
        others = [(labels, t) for j, (labels, t) in enumerate(zip(self.labels, self.inputs))
                  if j != k]
        available = set(self.out).union(*[labels for labels, _ in others])
        unused = iter(c for c in LETTERS
                      if c not in available and c not in "".join(self.labels))
        target, extra_labels, extra_arrays = "", [], []
        for c, n in zip(self.labels[k], operand.shape):
            if c in target:  # a repeat: a fresh label, tied to c by the identity
                fresh = next(unused, None)
                if fresh is None:
                    raise ValueError("einsum backward: too many repeated labels for 52 letters")
                target += fresh
                extra_labels.append(c + fresh)
                extra_arrays.append(xp.eye(n, dtype=operand.dtype))
                continue
            target += c
            if c not in available:  # summed out of this operand alone: constant along it
                available.add(c)
                extra_labels.append(c)
                extra_arrays.append(xp.ones(n, dtype=operand.dtype))
        labels = [self.out] + [labels for labels, _ in others] + extra_labels
        tensors = [g] + [t for _, t in others] + [operand._constant(a) for a in extra_arrays]
        return Einsum(labels, target)(*tensors)
