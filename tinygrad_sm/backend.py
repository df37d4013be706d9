"""The one place that decides where a tensor's data lives.

Device ``"cpu"`` is NumPy and device ``"cuda"`` is CuPy. Every op asks this module
for its array module, so a tensor's data never silently leaves its device, and
the rest of the library never imports CuPy itself.
"""
from __future__ import annotations

import os
from types import ModuleType
from typing import Any

import numpy as np

from .tracing import Module, Traced

DEVICES = ("cpu", "cuda")
DEVICE_ENV = "TINYGRAD_SM_DEVICE"


class device(str):
    """A device, as ``torch.device``: ``device("cpu")``, ``device("cuda")`` or ``device("cuda:0")``.

    It *is* the string ``"cpu"`` or ``"cuda"``, so it goes wherever a device name does and
    compares equal to one; ``type`` and ``index`` are PyTorch's attributes. Every tensor's
    ``.device`` is one of the two instances below. Only one GPU is used: index 0.
    """

    def __new__(cls, name: str, index: int | None = None) -> device:
        if isinstance(name, device):
            return name
        name, _, number = str(name).partition(":")
        if number:
            if index is not None or not number.isdigit():
                raise ValueError(f"invalid device {name}:{number}: expected 'cpu', 'cuda' or "
                                 "'cuda:0'")
            index = int(number)
        if name not in DEVICES:
            raise ValueError(f"unknown device {name!r}: expected one of {DEVICES}")
        if index not in (None, 0) or (index is not None and name == "cpu"):
            raise ValueError(f"device {name!r} has no index {index}: tinygrad_sm uses one GPU, "
                             "'cuda' (the same as 'cuda:0'), and the CPU, 'cpu'")
        return _CANONICAL[name] if name in _CANONICAL else super().__new__(cls, name)

    @property
    def type(self) -> str:
        return str(self)

    @property
    def index(self) -> int | None:
        return 0 if self == "cuda" else None


_CANONICAL: dict[str, device] = {}
CPU = _CANONICAL["cpu"] = device("cpu")
CUDA = _CANONICAL["cuda"] = device("cuda")

_cupy: ModuleType | None = None


def _import_cupy() -> ModuleType:
    """Import CuPy once, and check that it can see a GPU, with errors that name the fix."""
    global _cupy
    if _cupy is None:
        try:
            import cupy
        except ImportError as e:
            raise RuntimeError(
                "device 'cuda' needs CuPy, which is not installed: "
                "pip install 'tinygrad_sm[cuda13]' (CuPy for CUDA 13) or 'tinygrad_sm[cuda]' "
                "(CUDA 12; nvidia-smi shows which your driver has), or use device='cpu'"
            ) from e
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as e:  # CuPy raises its own CUDARuntimeError when no driver is present
            raise RuntimeError(
                f"device 'cuda' needs an NVIDIA GPU, but CuPy found none ({e}); "
                "check the driver with nvidia-smi, or use device='cpu'"
            ) from e
        if count == 0:
            raise RuntimeError("device 'cuda' needs an NVIDIA GPU, but CuPy found none; "
                               "check the driver with nvidia-smi, or use device='cpu'")
        _cupy = cupy
    return _cupy


def cuda_available() -> bool:
    """True when CuPy is installed and sees at least one GPU."""
    try:
        _import_cupy()
    except RuntimeError:
        return False
    return True


def check_device(name: str | None) -> device:
    """The device named by ``name`` (``"cpu"``, ``"cuda"``, ``"cuda:0"`` or a ``device``), else by
    ``$TINYGRAD_SM_DEVICE``, else the CPU."""
    if name is None:
        name = os.environ.get(DEVICE_ENV) or "cpu"
        where = f" (from ${DEVICE_ENV})"
    else:
        where = ""
    found = _CANONICAL.get(name)
    if found is not None:
        return found
    if not isinstance(name, str) or name.partition(":")[0] not in DEVICES:
        raise ValueError(f"unknown device {name!r}{where}: expected one of {DEVICES}")
    return device(name)


def usable_device(device: str | None) -> str:
    """``check_device``, and for ``"cuda"`` also a check that CuPy and a GPU are there: the
    error, with its fix, comes now rather than at the first tensor."""
    device = check_device(device)
    array_module(device)
    return device


def array_module(device: str) -> ModuleType:
    """NumPy for ``"cpu"``, CuPy for ``"cuda"``."""
    return np if device == "cpu" else _import_cupy()


def array_module_of(array: Any) -> ModuleType:
    """The array module an array belongs to: NumPy for NumPy arrays and scalars, else CuPy
    (and, for an array that tinygrad_sm.jit is recording, a module that records its calls)."""
    if isinstance(array, (np.ndarray, np.generic)):
        return np
    if type(array) is Traced:
        return Module(array_module_of(array.array), array.tape)
    return _import_cupy()


def on_host(array: Any) -> bool:
    """True for NumPy arrays and scalars (and for a recording of one): the CPU's arrays."""
    if isinstance(array, (np.ndarray, np.generic)):
        return True
    return type(array) is Traced and isinstance(array.array, (np.ndarray, np.generic))


def device_of(array: Any) -> device:
    """The device an array lives on: the CPU for NumPy arrays, ``"cuda"`` for CuPy arrays."""
    if isinstance(array, (np.ndarray, np.generic)):
        return CPU
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return CUDA
    if type(array) is Traced:
        return device_of(array.array)
    return CPU


def to_device(array: Any, device: str) -> Any:
    """Copy ``array`` to ``device`` if it is not there already."""
    if type(array) is Traced and device_of(array) == device:
        return array  # being recorded by tinygrad_sm.jit, and already there
    if device == "cpu":
        if isinstance(array, (np.ndarray, np.generic)):
            return array
        return _import_cupy().asnumpy(array)
    cupy = _import_cupy()
    return array if isinstance(array, cupy.ndarray) else cupy.asarray(array)


def copy_array(array: Any) -> Any:
    """A fresh, writable copy of an array; a NumPy scalar becomes a 0-d array."""
    return np.array(array) if isinstance(array, (np.ndarray, np.generic)) else array.copy()


def scatter_add(target: Any, index: Any, values: Any) -> None:
    """``target[index] += values``, adding once per occurrence of a repeated index.

    Plain ``target[index] += values`` adds only once for a repeated index; gradients of
    ``x[[0, 0]]`` need both contributions.
    """
    if on_host(target):
        np.add.at(target, index, values)
    else:
        import cupyx
        cupyx.scatter_add(target, index, values)


# NumPy reduces a short innermost axis one row at a time: the row maxima of (256, 10) float32
# logits take about 15 us, the same numbers laid out as (10, 256) about 2.5 us, copy included.
# Softmax, log-softmax and cross-entropy reduce exactly such an axis on every training step,
# so reductions over a short last axis go through a transposed copy.
_SHORT_AXIS = 32


def _short_last_axis(x: Any, axis: Any) -> bool:
    if type(x) is not np.ndarray and not (type(x) is Traced and type(x.array) is np.ndarray):
        return False
    if x.ndim < 2 or x.shape[-1] > _SHORT_AXIS or x.size < 256:
        return False
    last = x.ndim - 1
    return axis in (last, -1) or axis in ((last,), (-1,))


def _last_axis_first(x: np.ndarray) -> np.ndarray:
    xp = array_module_of(x)  # NumPy, or the recording module while a step is jitted
    return xp.ascontiguousarray(x.T if x.ndim == 2 else xp.moveaxis(x, -1, 0))


def reduce_max(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """``x.max(axis=axis, keepdims=keepdims)``, quicker for a short last axis of a NumPy array."""
    if _short_last_axis(x, axis):
        out = _last_axis_first(x).max(axis=0)
        return out[..., None] if keepdims else out
    return x.max(axis=axis, keepdims=keepdims)


_FLOAT16 = np.dtype(np.float16)


def reduce_sum(x: Any, axis: Any = None, keepdims: bool = False, scale: float = 1.0) -> Any:
    """``x.sum(axis=axis, keepdims=keepdims) * scale`` in x's dtype, quicker for a short last
    axis of a NumPy array (``scale`` is 1/n for a mean).

    float16 is added up in float32 and scaled before it is rounded back, as PyTorch and
    ``numpy.mean`` do: float16 counts exactly only up to 2048 (a running sum of ones stalls
    there) and overflows past 65,504, so a mean of 70,000 ones would otherwise be inf.
    """
    wide = np.float32 if x.dtype is _FLOAT16 else None
    if _short_last_axis(x, axis):
        out = _last_axis_first(x).sum(axis=0, dtype=wide)
        out = out[..., None] if keepdims else out
    else:
        out = x.sum(axis=axis, keepdims=keepdims, dtype=wide)
    if scale != 1.0:
        out = out * scale
    return out if wide is None else out.astype(x.dtype)


# ---------------------------------------------------------------------------------------------
# Special functions and contractions that NumPy and CuPy offer differently.
# ---------------------------------------------------------------------------------------------

import math  # noqa: E402  (used only by the helpers below)


def _chebyshev_coefficients(f: Any, lo: float, hi: float, degree: int) -> np.ndarray:
    """The Chebyshev series of degree ``degree`` that interpolates ``f`` on [lo, hi] at the
    Chebyshev points of the first kind (where interpolation is within a small factor of the
    best polynomial approximation).

    It is computed in long double (80-bit on x86, where float64 sums would add several ulps
    of rounding to the coefficients), and the angles k (2j + 1) pi / (2 (degree + 1)) are
    reduced modulo 2 pi in integers first, since cos of a large angle loses digits.
    """
    wide = np.longdouble
    pi = np.arccos(wide(-1))  # pi in long double (np.pi is only float64's)
    n = degree + 1
    k = np.arange(n)
    nodes = np.cos(pi * (2 * k + 1) / (2 * n))
    values = np.array([f(float(lo + (hi - lo) * (t + 1) / 2)) for t in nodes], dtype=wide)
    angles = (np.outer(k, 2 * k + 1) % (4 * n)).astype(wide)
    coefficients = wide(2) / n * np.cos(pi * angles / (2 * n)) @ values
    coefficients[0] /= 2
    return coefficients


def _erf_over_x(a: float) -> np.longdouble:
    """erf(a) / a: even and smooth, so that erf(x) = x * h(|x|) keeps erf's relative accuracy
    near 0, where erf(x) is about 1.128 x."""
    return np.longdouble(math.erf(a)) / np.longdouble(a)


# erf on [0, 6), in 12 pieces of width 1/2: on each, h(a) = erf(a) / a is a polynomial in
# s = the position in the piece scaled to [-1, 1], fitted once, at import, to Python's math.erf
# (the C library's, correct to an ulp) at Chebyshev points, and turned into powers of s for
# Horner's rule (on so short a piece the powers' coefficients shrink fast, so Horner is as
# stable as the Chebyshev form, and cheaper). Degree 13 gives float64 to within 1e-15
# (relative), degree 7 float32 to within its rounding, at half the cost. Beyond 6, erf is +-1
# in float64 (erfc(6) = 2e-17). Each table is stored by power, highest first, one column per
# piece, so that one ``take`` per step looks up every element's coefficient.
_ERF_TOP = 6.0
_ERF_WIDTH = 0.5


def _erf_table(degree: int) -> np.ndarray:
    edges = np.arange(0.0, _ERF_TOP + _ERF_WIDTH / 2, _ERF_WIDTH)
    powers = [np.polynomial.chebyshev.cheb2poly(
        _chebyshev_coefficients(_erf_over_x, lo, hi, degree))
        for lo, hi in zip(edges[:-1], edges[1:])]
    return np.ascontiguousarray(np.array(powers)[:, ::-1].T, dtype=np.float64)


_ERF_TABLES = {np.dtype(np.float64): _erf_table(14),
               np.dtype(np.float32): _erf_table(8).astype(np.float32)}


def _erf_numpy(x: np.ndarray) -> np.ndarray:
    """erf of a float32 or float64 array (see ``erf``)."""
    table = _ERF_TABLES[x.dtype]
    a = np.abs(x)
    v = np.fmin(a, _ERF_TOP) * (1 / _ERF_WIDTH)  # pieces from 0; fmin: NaN gives 6, NaN at the end
    start = np.floor(v)
    piece = start.astype(np.intp)  # 12 at 6 and beyond: take(mode="clip") reads piece 11 there
    s = (v - start) * 2 - 1  # the position in the piece, in [-1, 1)
    h = table[0].take(piece, mode="clip")
    for row in table[1:]:
        h *= s
        h += row.take(piece, mode="clip")
    return np.where(a < _ERF_TOP, x * h, np.sign(x))


def erf(x: Any) -> Any:
    """The error function erf(x) = 2/sqrt(pi) * integral of exp(-t**2) from 0 to x, elementwise.

    NumPy has none, so on the CPU it is the piecewise polynomial above, within 1e-15 of the
    true value (relative) in float64; on a GPU it is CuPy's ``cupyx.scipy.special.erf``.
    float16 is computed in float32 and rounded back; integers and bools give float32.
    """
    if on_host(x):
        if isinstance(x, np.generic):
            x = np.asarray(x)
        special_erf = _erf_numpy
    else:
        _import_cupy()
        from cupyx.scipy import special
        special_erf = special.erf
    if x.dtype == _FLOAT16:
        return special_erf(x.astype(np.float32)).astype(_FLOAT16)
    if x.dtype.kind != "f":
        x = x.astype(np.float32)
    return special_erf(x)


def einsum(subscripts: str, *arrays: Any) -> Any:
    """``einsum`` of NumPy or CuPy. Three or more operands, or two large ones, are contracted
    pairwise along an optimized path (which reaches BLAS); small ones directly, since finding
    a path costs more than the sum itself (25 us against 5 us for two 8x8 matrices)."""
    # A number among GPU operands arrives as a NumPy scalar: the first array decides.
    xp = next((array_module_of(a) for a in arrays if not isinstance(a, np.generic)), np)
    optimize = len(arrays) > 2 or (len(arrays) == 2 and max(a.size for a in arrays) >= 4096)
    return xp.einsum(subscripts, *arrays, optimize="greedy" if optimize else False)


# ---------------------------------------------------------------------------------------------
# Reading results back to the host.
# ---------------------------------------------------------------------------------------------

def to_host(array: Any) -> np.ndarray:
    """``array`` as a NumPy array on the host: itself on the CPU, a copy from a GPU.

    On a GPU this is a synchronisation: CuPy queues kernels and returns at once, and the copy
    back has to wait until every kernel queued before it has run. A training loop that calls
    it (or ``Tensor.item()``, which does the same) on every batch makes the host wait for the
    GPU on every batch, and the GPU wait for the host's next launches in turn; the ``Trainer``
    therefore gathers what it wants to know into one array and calls this a few times an epoch.
    """
    if isinstance(array, (np.ndarray, np.generic)):
        return np.asarray(array)
    return _import_cupy().asnumpy(array)


def stack_scalars(values: list[Any], dtype: Any = np.float64) -> Any:
    """One 1-d array of ``dtype`` on the values' device from a non-empty list of 0-d arrays of
    one dtype (NumPy scalars on the CPU, 0-d CuPy arrays on a GPU), without reading any of
    them: on a GPU the stacking is a queued kernel or two."""
    return array_module_of(values[0]).stack(values).astype(dtype, copy=False)
