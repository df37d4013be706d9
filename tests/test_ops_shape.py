"""The table of joining, splitting, reordering, padding and matrix-view ops: each against NumPy
(forward, float64 and float32) and float64 central differences (backward), through the checks
in ``optable.py``. Tuple-valued ops (``split``, ``chunk``, ...) are checked through one tensor:
their pieces, each scaled by its position and flattened, joined end to end, so that a piece
of the wrong length or in the wrong place changes the result.

Below the table: second-order checks for a representative subset, focused tests of views,
edge cases and errors, and a cross-check of values and gradients against PyTorch.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import strategies as st

import tinygrad_sm as tg
from optable import Op, arrays, axes, check_against_torch, shapes, table_tests

# ------------------------------------------------------------------------- strategies


@st.composite
def cat_inputs(draw: Any) -> tuple:
    """1 to 3 arrays that agree except along one axis, where each has its own length (0 too)."""
    shape = draw(shapes(min_dims=1))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    lengths = draw(st.lists(st.integers(0, 3), min_size=1, max_size=3))
    xs = []
    for n in lengths:
        s = list(shape)
        s[axis] = n
        xs.append(draw(arrays(tuple(s))))
    return tuple(xs), {"dim": axis}


@st.composite
def stack_inputs(draw: Any) -> tuple:
    """1 to 3 arrays of one shape (0-d too) and a new axis, from -(rank + 1) to rank."""
    shape = draw(shapes())
    k = draw(st.integers(1, 3))
    return (tuple(draw(arrays(shape)) for _ in range(k)),
            {"dim": draw(st.integers(-len(shape) - 1, len(shape))), })


@st.composite
def along_one_axis(draw: Any, min_side: int = 1) -> tuple[np.ndarray, int]:
    shape = draw(shapes(min_dims=1))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    s = list(shape)
    s[axis] = draw(st.integers(min_side, 5))
    return draw(arrays(tuple(s))), axis


@st.composite
def split_inputs(draw: Any) -> tuple:
    """PyTorch's split: a piece length (the last piece shorter), or a list of lengths."""
    x, axis = draw(along_one_axis())
    n = x.shape[axis]
    if draw(st.booleans()):
        how: Any = draw(st.integers(1, n + 1))
    else:
        cuts = sorted(draw(st.lists(st.integers(0, n), max_size=3)))
        how = list(np.diff([0] + cuts + [n]))
    return (x,), {"how": how, "dim": axis}


@st.composite
def chunk_inputs(draw: Any) -> tuple:
    x, axis = draw(along_one_axis())
    return (x,), {"chunks": draw(st.integers(1, 6)), "dim": axis}


@st.composite
def array_split_inputs(draw: Any) -> tuple:
    """NumPy's array_split: a number of sections (more than the axis has, too), or cut indices
    (unsorted and negative ones included, which give empty pieces or count from the end)."""
    x, axis = draw(along_one_axis())
    n = x.shape[axis]
    if draw(st.booleans()):
        how: Any = draw(st.integers(1, n + 2))
    else:
        how = draw(st.lists(st.integers(-n, n + 1), max_size=3))
    return (x,), {"how": how, "axis": axis}


@st.composite
def one_axis(draw: Any) -> tuple:
    shape = draw(shapes(min_dims=1))
    return (draw(arrays(shape)),), {"dim": draw(st.integers(-len(shape), len(shape) - 1))}


@st.composite
def squeeze_inputs(draw: Any) -> tuple:
    """Shapes with some axes of length 1; squeeze all of them, one, or a tuple of them."""
    shape = tuple(1 if draw(st.booleans()) else n for n in draw(shapes()))
    ones = [i for i, n in enumerate(shape) if n == 1]
    choice = draw(st.sampled_from(["none", "int", "tuple"])) if ones else "none"
    if choice == "none":
        axis: Any = None
    elif choice == "int":
        axis = draw(st.sampled_from(ones)) - (len(shape) if draw(st.booleans()) else 0)
    else:
        axis = tuple(draw(st.lists(st.sampled_from(ones), min_size=1, unique=True)))
    return (draw(arrays(shape)),), {"axis": axis}


@st.composite
def unsqueeze_inputs(draw: Any) -> tuple:
    shape = draw(shapes())
    return (draw(arrays(shape)),), {"dim": draw(st.integers(-len(shape) - 1, len(shape)))}


@st.composite
def expand_dims_inputs(draw: Any) -> tuple:
    shape = draw(shapes(max_dims=2))
    ndim = len(shape) + draw(st.integers(1, 2))
    new = draw(st.lists(st.integers(0, ndim - 1), min_size=ndim - len(shape),
                        max_size=ndim - len(shape), unique=True))
    return (draw(arrays(shape)),), {"axis": tuple(a - ndim if draw(st.booleans()) else a
                                                  for a in new)}


@st.composite
def tile_inputs(draw: Any) -> tuple:
    """reps shorter than the rank (leading ones), as long, or longer (new axes); 0 too."""
    shape = draw(shapes(max_dims=2))
    reps = tuple(draw(st.lists(st.integers(0, 3), max_size=3)))
    return (draw(arrays(shape)),), {"reps": reps}


@st.composite
def repeat_inputs(draw: Any) -> tuple:
    """PyTorch's repeat: a size for every axis, and maybe leading new ones."""
    shape = draw(shapes(max_dims=2))
    sizes = tuple(draw(st.lists(st.integers(1, 3), min_size=len(shape),
                                max_size=len(shape) + 1)))
    return (draw(arrays(shape)),), {"sizes": sizes}


@st.composite
def repeat_interleave_inputs(draw: Any) -> tuple:
    """One count for all, or one per element (0 too); along an axis, or flattened (None)."""
    shape = draw(shapes())
    dim = None if not shape or draw(st.booleans()) else \
        draw(st.integers(-len(shape), len(shape) - 1))
    n = math.prod(shape) if dim is None else shape[dim]
    if draw(st.booleans()):
        repeats: Any = draw(st.integers(0, 3))
    else:
        repeats = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    return (draw(arrays(shape)),), {"repeats": repeats, "dim": dim}


@st.composite
def flip_inputs(draw: Any) -> tuple:
    shape = draw(shapes())
    return (draw(arrays(shape)),), {"axis": draw(axes(len(shape)))}


@st.composite
def roll_inputs(draw: Any) -> tuple:
    """Flattened (one shift), or one shift per named axis; shifts past the length and
    negative ones included."""
    shape = draw(shapes())
    if not shape or draw(st.booleans()):
        return (draw(arrays(shape)),), {"shifts": draw(st.integers(-7, 7)), "dims": None}
    dims = draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1, max_size=2))
    shifts = draw(st.lists(st.integers(-7, 7), min_size=len(dims), max_size=len(dims)))
    if len(dims) == 1 and draw(st.booleans()):
        return (draw(arrays(shape)),), {"shifts": shifts[0], "dims": dims[0]}
    return (draw(arrays(shape)),), {"shifts": tuple(shifts), "dims": tuple(dims)}


@st.composite
def pad_widths(draw: Any, ndim: int) -> Any:
    """Every form of NumPy's pad_width: an int, one pair for all axes, or a pair per axis."""
    width = st.integers(0, 3)
    kind = draw(st.sampled_from(["int", "pair", "pairs"] if ndim else ["int", "pair"]))
    if kind == "int":
        return draw(width)
    if kind == "pair":
        return (draw(width), draw(width))
    return tuple((draw(width), draw(width)) for _ in range(ndim))


@st.composite
def pad_inputs(draw: Any) -> tuple:
    shape = draw(shapes())
    return (draw(arrays(shape)),), {"pad_width": draw(pad_widths(len(shape))),
                                    "value": draw(st.sampled_from([0, 1.5, -2]))}


@st.composite
def pad_mode_inputs(draw: Any) -> tuple:
    """The copying modes, with widths past the length of an axis (reflections repeat)."""
    shape = draw(shapes())
    return (draw(arrays(shape)),), {
        "pad_width": draw(pad_widths(len(shape))),
        "mode": draw(st.sampled_from(["edge", "reflect", "symmetric", "wrap"]))}


@st.composite
def moveaxis_inputs(draw: Any) -> tuple:
    shape = draw(shapes(min_dims=1))
    n = len(shape)
    k = draw(st.integers(1, n))
    source = draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k, unique=True))
    destination = draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k, unique=True))
    if k == 1 and draw(st.booleans()):
        return (draw(arrays(shape)),), {"source": source[0] - n, "destination": destination[0]}
    return (draw(arrays(shape)),), {"source": tuple(source),
                                    "destination": tuple(d - n for d in destination)}


@st.composite
def permute_inputs(draw: Any) -> tuple:
    shape = draw(shapes())
    dims = draw(st.permutations(range(len(shape))))
    return (draw(arrays(shape)),), {"dims": tuple(d - len(shape) if draw(st.booleans()) else d
                                                  for d in dims)}


@st.composite
def two_axes(draw: Any, min_dims: int = 1, distinct: bool = False) -> tuple:
    shape = draw(shapes(min_dims=min_dims))
    n = len(shape)
    first = draw(st.integers(-n, n - 1))
    choices = [a for a in range(-n, n) if not distinct or a % n != first % n]
    return draw(arrays(shape)), first, draw(st.sampled_from(choices))


@st.composite
def swapaxes_inputs(draw: Any) -> tuple:
    x, a, b = draw(two_axes())
    return (x,), {"axis0": a, "axis1": b}


@st.composite
def diagonal_inputs(draw: Any) -> tuple:
    """Matrices and batches of them, over any two axes in either order; offsets that leave
    the diagonal empty too."""
    x, a, b = draw(two_axes(min_dims=2, distinct=True))
    return (x,), {"offset": draw(st.integers(-4, 4)), "axis1": a, "axis2": b}


@st.composite
def diag_inputs(draw: Any) -> tuple:
    shape = draw(shapes(min_dims=1, max_dims=2))
    return (draw(arrays(shape)),), {"k": draw(st.integers(-3, 3))}


@st.composite
def diag_embed_inputs(draw: Any) -> tuple:
    shape = draw(shapes(min_dims=1, max_dims=2))
    n = len(shape) + 1
    first = draw(st.integers(-n, n - 1))
    second = draw(st.sampled_from([a for a in range(-n, n) if a % n != first % n]))
    return (draw(arrays(shape)),), {"offset": draw(st.integers(-2, 2)), "dim1": first,
                                    "dim2": second}


@st.composite
def tri_inputs(draw: Any) -> tuple:
    shape = draw(shapes(min_dims=2))
    return (draw(arrays(shape)),), {"k": draw(st.integers(-4, 4))}


# ------------------------------------------------------------------------- references

def _pieces_joined(pieces: Any) -> Any:
    """Tuple-valued ops in the table: each piece scaled by its position, flattened, and all
    joined, so that the row compares one array. Works on Tensors and on NumPy arrays."""
    if isinstance(pieces[0], np.ndarray):
        return np.concatenate([p.reshape(-1) * (i + 1) for i, p in enumerate(pieces)])
    return tg.cat([p.reshape(-1) * (i + 1) for i, p in enumerate(pieces)])


def _torch_split_ref(x: np.ndarray, how: Any, dim: int) -> list[np.ndarray]:
    """PyTorch's split, from NumPy's: piece lengths turned into cut indices."""
    n = x.shape[dim]
    lengths = [how] * (n // how) + ([n % how] if n % how else []) if isinstance(how, int) else how
    return np.split(x, np.cumsum(lengths)[:-1], axis=dim)


def _chunk_ref(x: np.ndarray, chunks: int, dim: int) -> list[np.ndarray]:
    size = -(-x.shape[dim] // chunks)
    return np.split(x, list(range(size, x.shape[dim], size)), axis=dim)


def _unbind_ref(x: np.ndarray, dim: int) -> list[np.ndarray]:
    return [np.take(x, i, axis=dim) for i in range(x.shape[dim])]


def _diag_embed_ref(x: np.ndarray, offset: int, dim1: int, dim2: int) -> np.ndarray:
    """torch.diag_embed from its definition: zeros, the last axis on the diagonal offset of a
    new (row, column) pair of axes, which then move to dim1 and dim2."""
    n = x.shape[-1] + abs(offset)
    out = np.zeros(x.shape[:-1] + (n, n))
    for i in range(x.shape[-1]):
        out[..., i + max(-offset, 0), i + max(offset, 0)] = x[..., i]
    return np.moveaxis(out, (-2, -1), (dim1, dim2))


def _as_list(how: Any) -> Any:
    return how if isinstance(how, int) else list(how)


OPS = [
    # joining
    Op("cat", lambda *xs, dim: tg.cat(list(xs), dim),
       lambda *xs, dim: np.concatenate(xs, axis=dim), cat_inputs()),
    Op("concatenate (axis=)", lambda *xs, dim: tg.concatenate(xs, axis=dim),
       lambda *xs, dim: np.concatenate(xs, axis=dim), cat_inputs()),
    Op("stack", lambda *xs, dim: tg.stack(list(xs), dim),
       lambda *xs, dim: np.stack(xs, axis=dim), stack_inputs()),
    # splitting: the pieces, joined (see _pieces_joined)
    Op("split", lambda x, how, dim: _pieces_joined(x.split(how, dim)),
       lambda x, how, dim: _pieces_joined(_torch_split_ref(x, how, dim)), split_inputs()),
    Op("chunk", lambda x, chunks, dim: _pieces_joined(tg.chunk(x, chunks, dim)),
       lambda x, chunks, dim: _pieces_joined(_chunk_ref(x, chunks, dim)), chunk_inputs()),
    Op("array_split", lambda x, how, axis: _pieces_joined(tg.array_split(x, how, axis)),
       lambda x, how, axis: _pieces_joined(np.array_split(x, _as_list(how), axis)),
       array_split_inputs()),
    Op("unbind", lambda x, dim: _pieces_joined(x.unbind(dim)),
       lambda x, dim: _pieces_joined(_unbind_ref(x, dim)), one_axis()),
    # axes of length 1
    Op("squeeze", lambda x, axis: x.squeeze(axis), lambda x, axis: np.squeeze(x, axis),
       squeeze_inputs()),
    Op("unsqueeze", lambda x, dim: tg.unsqueeze(x, dim),
       lambda x, dim: np.expand_dims(x, dim), unsqueeze_inputs()),
    Op("expand_dims", lambda x, axis: tg.expand_dims(x, axis), np.expand_dims,
       expand_dims_inputs()),
    # repeating
    Op("tile", lambda x, reps: tg.tile(x, reps), np.tile, tile_inputs()),
    Op("repeat (PyTorch's: tile)", lambda x, sizes: x.repeat(*sizes),
       lambda x, sizes: np.tile(x, sizes), repeat_inputs()),
    Op("repeat_interleave", lambda x, repeats, dim: x.repeat_interleave(repeats, dim),
       lambda x, repeats, dim: np.repeat(x, repeats, dim), repeat_interleave_inputs()),
    # reordering and padding
    Op("flip", lambda x, axis: tg.flip(x, axis), lambda x, axis: np.flip(x, axis),
       flip_inputs()),
    Op("roll", lambda x, shifts, dims: tg.roll(x, shifts, dims),
       lambda x, shifts, dims: np.roll(x, shifts, dims), roll_inputs()),
    Op("pad constant", lambda x, pad_width, value: tg.pad(x, pad_width, value),
       lambda x, pad_width, value: np.pad(x, pad_width, constant_values=value), pad_inputs()),
    Op("pad modes", lambda x, pad_width, mode: x.pad(pad_width, mode=mode),
       lambda x, pad_width, mode: np.pad(x, pad_width, mode=mode), pad_mode_inputs()),
    Op("moveaxis", lambda x, source, destination: tg.moveaxis(x, source, destination),
       np.moveaxis, moveaxis_inputs()),
    Op("permute", lambda x, dims: x.permute(*dims), lambda x, dims: np.transpose(x, dims),
       permute_inputs()),
    Op("swapaxes", lambda x, axis0, axis1: tg.swapaxes(x, axis0, axis1),
       lambda x, axis0, axis1: np.swapaxes(x, axis0, axis1), swapaxes_inputs()),
    # matrix views
    Op("trace", lambda x, offset, axis1, axis2: x.trace(offset, axis1, axis2),
       lambda x, offset, axis1, axis2: np.trace(x, offset, axis1, axis2), diagonal_inputs()),
    Op("diagonal", lambda x, offset, axis1, axis2: x.diagonal(offset, axis1, axis2),
       lambda x, offset, axis1, axis2: np.diagonal(x, offset, axis1, axis2), diagonal_inputs()),
    Op("diag", lambda x, k: tg.diag(x, k), lambda x, k: np.diag(x, k), diag_inputs()),
    Op("diag_embed", lambda x, offset, dim1, dim2: x.diag_embed(offset, dim1, dim2),
       _diag_embed_ref, diag_embed_inputs()),
    Op("triu", lambda x, k: tg.triu(x, k), lambda x, k: np.triu(x, k), tri_inputs()),
    Op("tril", lambda x, k: x.tril(k=k), lambda x, k: np.tril(x, k), tri_inputs()),
]
SECOND_ORDER = ["cat", "stack", "split", "flip", "pad constant", "pad modes", "diagonal",
                "tile", "triu"]


test_op, test_op_second_order = table_tests(OPS, SECOND_ORDER)


# ------------------------------------------------------------------------- views

def _matrix(device: str) -> tg.Tensor:
    return tg.tensor(np.arange(24.0).reshape(2, 3, 4), device=device)


VIEWS: dict[str, Callable[[tg.Tensor], tg.Tensor]] = {
    "flip": lambda x: x.flip(1),
    "diagonal": lambda x: x.diagonal(0, 1, 2),
    "moveaxis": lambda x: x.moveaxis(0, -1),
    "permute": lambda x: x.permute(2, 0, 1),
    "swapaxes": lambda x: x.swapaxes(0, 2),
    "split piece": lambda x: x.split(2, 1)[1],
    "chunk piece": lambda x: x.chunk(2, 2)[0],
    "array_split piece": lambda x: x.array_split(2, 1)[0],
    "unbind piece": lambda x: x.unbind(1)[2],
    "squeeze": lambda x: x[:1].squeeze(0),
    "unsqueeze": lambda x: x.unsqueeze(1),
    "expand_dims": lambda x: x.expand_dims((0, 2)),
}
COPIES: dict[str, Callable[[tg.Tensor], tg.Tensor]] = {
    "cat": lambda x: tg.cat([x, x], 1),
    "stack": lambda x: tg.stack([x]),
    "roll": lambda x: x.roll(1, 2),
    "pad": lambda x: x.pad(1),
    "pad edge": lambda x: x.pad(1, mode="edge"),
    "tile": lambda x: x.tile(1, 1, 1),
    "repeat_interleave": lambda x: x.repeat_interleave(1, 0),
    "triu": lambda x: x.triu(),
    "diag_embed": lambda x: x.diag_embed(),
    "trace": lambda x: x.trace(),
    "gather": lambda x: x.gather(0, np.zeros((1, 3, 4), dtype=np.int64)),
    "masked_fill": lambda x: x.masked_fill(x > 5, 0.0),
    "index_select": lambda x: x.index_select(1, [0, 2]),
}


@pytest.mark.parametrize("name", VIEWS)
def test_views_see_writes_and_count_them(name: str, device: str) -> None:
    """A view shows a write into its base, and counts it as a write to itself: a value saved
    for backward from the view cannot then be used silently."""
    x = _matrix(device)
    view = VIEWS[name](x)
    before = view.numpy().copy()
    x += 1  # no grad needed: an ordinary in-place write
    np.testing.assert_array_equal(view.numpy(), before + 1)
    assert tg.autograd.version_of(view) == tg.autograd.version_of(x) == 1


@pytest.mark.parametrize("name", VIEWS)
def test_a_value_saved_through_a_view_is_checked(name: str, device: str) -> None:
    w = tg.tensor(np.arange(24.0).reshape(2, 3, 4), device=device, requires_grad=True)
    base = w * 1.0  # not a leaf, so it may be written in place
    y = (VIEWS[name](base) ** 2).sum()  # Pow saves the view's value
    with tg.no_grad():
        base += 1
    with pytest.raises(RuntimeError, match="changed by an in-place operation"):
        y.backward()


@pytest.mark.parametrize("name", COPIES)
def test_copies_do_not_see_writes(name: str, device: str) -> None:
    x = _matrix(device)
    out = COPIES[name](x)
    before = out.numpy().copy()
    x += 1
    np.testing.assert_array_equal(out.numpy(), before)
    assert tg.autograd.version_of(out) == 0


def test_diagonal_is_read_only_on_the_cpu() -> None:
    """NumPy's diagonal is a read-only view: a write into it fails loudly, never silently
    into a copy. (CuPy's is writable, and the write reaches the matrix.)"""
    x = tg.tensor(np.eye(3))
    d = x.diagonal()
    with pytest.raises(ValueError, match="read-only"):
        d += 1
    with pytest.raises(ValueError, match="read-only"):
        d[0] = 5.0
    np.testing.assert_array_equal(x.numpy(), np.eye(3))
    e = d.clone()  # the fix: write into a copy
    e += 1
    np.testing.assert_array_equal(e.numpy(), [2.0, 2.0, 2.0])


# ------------------------------------------------------------------------- semantics

def test_split_chunk_and_array_split_differ_as_in_pytorch_and_numpy(device: str) -> None:
    """split(2): pieces of length 2; array_split(2): two pieces; chunk(4) of 6: 3 pieces."""
    x = tg.arange(5.0, device=device)
    assert [p.tolist() for p in x.split(2)] == [[0, 1], [2, 3], [4]]
    assert [p.tolist() for p in x.split([1, 4])] == [[0], [1, 2, 3, 4]]
    assert [p.tolist() for p in x.array_split(2)] == [[0, 1, 2], [3, 4]]
    assert [p.tolist() for p in tg.array_split(x, [1, 3])] == [[0], [1, 2], [3, 4]]
    assert [p.shape for p in tg.arange(6.0).chunk(4)] == [(2,), (2,), (2,)]
    assert [p.shape for p in tg.zeros(0).chunk(3)] == [(0,), (0,), (0,)]
    assert [p.shape for p in tg.zeros(0).split(2)] == [(0,)]


def test_repeat_is_tile_and_repeat_interleave_is_numpy_repeat(device: str) -> None:
    x = tg.tensor([1.0, 2.0], device=device)
    assert x.repeat(2).tolist() == [1, 2, 1, 2]  # PyTorch's repeat: the whole, twice
    assert x.repeat_interleave(2).tolist() == [1, 1, 2, 2]  # NumPy's repeat: each, twice
    assert tg.tile(x, (2, 1)).shape == (2, 2)
    assert not hasattr(tg, "repeat")  # it would mean the other thing to NumPy code


def test_joined_tensors_get_the_gradients_of_their_own_slices() -> None:
    """Reuse: x appears twice in the cat, so its gradient is the sum of both slices'."""
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = tg.tensor([3.0], requires_grad=True)
    out = tg.cat([x, y, x * 2])
    (out * tg.tensor([1.0, 10.0, 100.0, 1000.0, 10000.0])).sum().backward()
    assert x.grad.tolist() == [1 + 2 * 1000, 10 + 2 * 10000]
    assert y.grad.tolist() == [100]


def test_cat_promotes_dtypes_as_binary_ops_do(device: str) -> None:
    f32 = tg.ones(2, device=device, requires_grad=True)
    f64 = tg.ones(1, dtype="float64", device=device, requires_grad=True)
    ints = tg.tensor([3], device=device)
    assert tg.cat([f32, ints]).dtype == np.float32  # int with float32: float32
    assert tg.cat([ints, ints]).dtype == np.int64
    mixed = tg.cat([f32, f64])
    assert mixed.dtype == np.float64
    mixed.sum().backward()
    assert f32.grad.dtype == np.float32 and f64.grad.dtype == np.float64


def test_masked_constant_modes_and_infinities_stay_exact() -> None:
    """triu and tril select with where, so an inf in the kept triangle stays inf and one in
    the dropped triangle does not become nan (inf * 0)."""
    x = tg.tensor([[np.inf, 1.0], [-np.inf, 2.0]], requires_grad=True)
    assert x.triu().tolist() == [[np.inf, 1.0], [0.0, 2.0]]
    assert x.tril().tolist() == [[np.inf, 0.0], [-np.inf, 2.0]]
    x.triu().sum().backward()
    assert x.grad.tolist() == [[1.0, 1.0], [0.0, 1.0]]


def test_zero_d_and_empty_inputs(device: str) -> None:
    s = tg.tensor(3.0, device=device, requires_grad=True)
    assert tg.stack([s, s * 2]).tolist() == [3.0, 6.0]
    assert s.flip().item() == 3.0 and s.roll(2).item() == 3.0
    assert s.pad(()).item() == 3.0 and s.permute().item() == 3.0
    assert s.moveaxis(0, -1).item() == 3.0 and s.swapaxes(0, -1).item() == 3.0
    assert s.tile(2).tolist() == [3.0, 3.0] and s.repeat_interleave(2).tolist() == [3.0, 3.0]
    empty = tg.zeros(0, 3, device=device, requires_grad=True)
    tg.cat([empty, empty]).sum().backward()
    assert empty.grad.shape == (0, 3)
    assert tg.zeros(2, 0).trace().item() == 0.0


# ------------------------------------------------------------------------- errors

ERRORS = [
    (lambda: tg.cat(tg.ones(2)), TypeError, "list or tuple of tensors"),
    (lambda: tg.cat([]), ValueError, "at least one tensor"),
    (lambda: tg.cat([tg.ones(2, 3), tg.ones(3, 2)]), ValueError, r"tensor 1 has shape \(3, 2\)"),
    (lambda: tg.cat([tg.ones(2), tg.ones(2, 1)], 0), ValueError, "must agree"),
    (lambda: tg.cat([tg.tensor(1.0)]), ValueError, "use stack"),
    (lambda: tg.cat([tg.ones(2)], 1), np.exceptions.AxisError, "out of range"),
    (lambda: tg.stack([tg.ones(2), tg.ones(3)]), ValueError, "same shape"),
    (lambda: tg.ones(5).split([2, 2]), ValueError, "add up to 5"),
    (lambda: tg.ones(5).split(0), ValueError, "must be positive"),
    (lambda: tg.ones(5).chunk(0), ValueError, "positive int"),
    (lambda: tg.tensor(1.0).split(1), ValueError, "at least 1 dimension"),
    (lambda: tg.ones(2, 3).repeat(2), ValueError, "one per axis"),
    (lambda: tg.ones(2).tile(-1), ValueError, "non-negative"),
    (lambda: tg.ones(3).repeat_interleave([1, 2]), ValueError, "one count per element"),
    (lambda: tg.ones(3).repeat_interleave(-1), ValueError, "non-negative"),
    (lambda: tg.ones(3).repeat_interleave(1.5), TypeError, "ints"),
    (lambda: tg.ones(2, 3).pad(-1), ValueError, "non-negative"),
    (lambda: tg.ones(2, 3).pad((1, 2, 3)), ValueError, "does not fit"),
    (lambda: tg.ones(2, 3).pad(1.5), TypeError, "ints"),
    (lambda: tg.ones(2, 3).pad(1, mode="mean"), ValueError, "unknown mode"),
    (lambda: tg.ones(2, 3).pad(1, 5, mode="edge"), ValueError, "only by mode='constant'"),
    (lambda: tg.zeros(0).pad(1, mode="wrap"), ValueError, "has none"),
    (lambda: tg.ones(2, 3).pad(1, "a"), TypeError, "number"),
    (lambda: tg.ones(2, 3).permute(0, 0), ValueError, "more than once"),
    (lambda: tg.ones(2, 3).permute(0), ValueError, "permutation"),
    (lambda: tg.ones(2, 3).moveaxis((0, 1), 0), ValueError, "one destination per source"),
    (lambda: tg.ones(2, 3).moveaxis((0, 0), (0, 1)), ValueError, "more than once"),
    (lambda: tg.ones(2, 3).roll((1, 2)), ValueError, "without dims"),
    (lambda: tg.ones(2, 3).roll((1, 2), 0), ValueError, "one shift per dim"),
    (lambda: tg.ones(3).diagonal(), ValueError, "at least 2 dimensions"),
    (lambda: tg.ones(2, 3).diagonal(0, 1, -1), ValueError, "both axis 1"),
    (lambda: tg.ones(2, 2, 2).diag(), ValueError, "1-D or 2-D"),
    (lambda: tg.ones(3).triu(), ValueError, "at least 2 dimensions"),
    (lambda: tg.ones(3).flip(1), np.exceptions.AxisError, "out of range"),
    (lambda: tg.ones(3).flip(0, dims=0), TypeError, None),
    (lambda: tg.ones(3).squeeze(0), ValueError, "not 1"),
]


@pytest.mark.parametrize("case", range(len(ERRORS)))
def test_errors_name_the_problem(case: int) -> None:
    make, kind, message = ERRORS[case]
    with pytest.raises(kind, match=message):
        make()


# ------------------------------------------------------------------------- against PyTorch

def _pad_pair(lib: Any, x: Any, mode: str) -> Any:
    """The same padding in each library's spelling: NumPy's widths for ours, PyTorch's
    (last axis first) for torch.nn.functional.pad; NumPy's mode names map to PyTorch's."""
    if lib is tg:
        return x.pad(((0, 0), (0, 0), (2, 1)), mode=mode) if mode != "constant" else \
            tg.pad(x, ((0, 0), (1, 0), (2, 1)), 1.5)
    import torch.nn.functional as F
    if mode == "constant":
        return F.pad(x, (2, 1, 1, 0), value=1.5)
    return F.pad(x, (2, 1), mode={"edge": "replicate", "reflect": "reflect",
                                  "wrap": "circular"}[mode])


TORCH_CASES: dict[str, tuple[Callable[..., Any], list[tuple[int, ...]]]] = {
    "cat": (lambda lib, a, b: lib.cat([a, b * 2, a], 1), [(2, 3), (2, 1)]),
    "cat dim -1": (lambda lib, a, b: lib.cat((a, b), -1), [(2, 2, 1), (2, 2, 3)]),
    "stack": (lambda lib, a, b: lib.stack([a, b], 1), [(2, 3), (2, 3)]),
    "stack dim -1": (lambda lib, a, b: lib.stack([a, b, a], -1), [(3,), (3,)]),
    "split int": (lambda lib, a: lib.split(a, 2, 1), [(3, 5)]),
    "split list": (lambda lib, a: a.split([1, 3, 1], 1), [(2, 5)]),
    "chunk": (lambda lib, a: lib.chunk(a, 4, 0), [(6, 2)]),
    "chunk uneven": (lambda lib, a: a.chunk(3, 1), [(2, 5)]),
    "tensor_split sections": (lambda lib, a: lib.tensor_split(a, 3, 1), [(2, 5)]),
    "tensor_split indices": (lambda lib, a: lib.tensor_split(a, [1, 4], 0), [(5, 2)]),
    "unbind": (lambda lib, a: lib.unbind(a, 1), [(2, 3)]),
    "squeeze": (lambda lib, a: a.squeeze(1) * 2, [(2, 1, 3)]),
    "unsqueeze": (lambda lib, a: lib.unsqueeze(a, -1) * 2, [(2, 3)]),
    "tile": (lambda lib, a: lib.tile(a, (2, 1, 3)), [(2, 3)]),
    "repeat": (lambda lib, a: a.repeat(2, 1, 3), [(2, 3)]),
    "repeat_interleave int": (lambda lib, a: lib.repeat_interleave(a, 2, 1), [(2, 3)]),
    "repeat_interleave flat": (lambda lib, a: a.repeat_interleave(3), [(2, 2)]),
    "repeat_interleave counts": (
        lambda lib, a: a.repeat_interleave(lib.tensor([1, 0, 3]), 0), [(3, 2)]),
    "flip": (lambda lib, a: lib.flip(a, (0, 2)), [(2, 3, 4)]),
    "roll": (lambda lib, a: lib.roll(a, (1, -2), (0, 1)), [(3, 4)]),
    "roll flat": (lambda lib, a: a.roll(3), [(2, 3)]),
    "pad constant": (lambda lib, a: _pad_pair(lib, a, "constant"), [(2, 3, 4)]),
    "pad edge": (lambda lib, a: _pad_pair(lib, a, "edge"), [(1, 2, 4)]),
    "pad reflect": (lambda lib, a: _pad_pair(lib, a, "reflect"), [(1, 2, 4)]),
    "pad wrap": (lambda lib, a: _pad_pair(lib, a, "wrap"), [(1, 2, 4)]),
    "movedim": (lambda lib, a: lib.movedim(a, 0, -1), [(2, 3, 4)]),
    "moveaxis many": (lambda lib, a: lib.moveaxis(a, (0, 1), (2, 0)), [(2, 3, 4)]),
    "permute": (lambda lib, a: a.permute(2, 0, 1), [(2, 3, 4)]),
    "swapaxes": (lambda lib, a: lib.swapaxes(a, 0, 2), [(2, 3, 4)]),
    "trace": (lambda lib, a: a.trace(), [(3, 4)]),
    "diagonal": (lambda lib, a: lib.diagonal(a, 1, 0, 2), [(3, 2, 4)]),
    "diagonal negative": (lambda lib, a: a.diagonal(-1, 2, 0), [(3, 2, 4)]),
    "diag of a vector": (lambda lib, a: lib.diag(a, 1), [(3,)]),
    "diag of a matrix": (lambda lib, a: lib.diag(a, -1), [(3, 4)]),
    "diag_embed": (lambda lib, a: lib.diag_embed(a, 1, 0, 2), [(2, 3)]),
    "triu": (lambda lib, a: lib.triu(a, 1), [(2, 3, 4)]),
    "tril": (lambda lib, a: a.tril(-1), [(4, 3)]),
}


@pytest.mark.parametrize("name", TORCH_CASES)
def test_matches_pytorch(name: str) -> None:
    fn, input_shapes = TORCH_CASES[name]
    rng = np.random.default_rng(len(name))
    check_against_torch(fn, [rng.standard_normal(s) for s in input_shapes])
