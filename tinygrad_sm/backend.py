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
                "pip install 'tinygrad_sm[cuda]' (CuPy for CUDA 12), or use device='cpu'"
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
    """The array module an array belongs to: NumPy for NumPy arrays and scalars, else CuPy."""
    return np if isinstance(array, (np.ndarray, np.generic)) else _import_cupy()


def device_of(array: Any) -> device:
    """The device an array lives on: the CPU for NumPy arrays, ``"cuda"`` for CuPy arrays."""
    if isinstance(array, (np.ndarray, np.generic)):
        return CPU
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return CUDA
    return CPU


def to_device(array: Any, device: str) -> Any:
    """Copy ``array`` to ``device`` if it is not there already."""
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
    if isinstance(target, np.ndarray):
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
    if type(x) is not np.ndarray or x.ndim < 2 or x.shape[-1] > _SHORT_AXIS or x.size < 256:
        return False
    last = x.ndim - 1
    return axis in (last, -1) or axis in ((last,), (-1,))


def _last_axis_first(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.T if x.ndim == 2 else np.moveaxis(x, -1, 0))


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
