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


def check_device(device: str | None) -> str:
    """Return a valid device name: ``device``, else ``$TINYGRAD_SM_DEVICE``, else ``"cpu"``."""
    if device is None:
        device = os.environ.get(DEVICE_ENV) or "cpu"
        where = f" (from ${DEVICE_ENV})"
    else:
        where = ""
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}{where}: expected one of {DEVICES}")
    return device


def array_module(device: str) -> ModuleType:
    """NumPy for ``"cpu"``, CuPy for ``"cuda"``."""
    return np if device == "cpu" else _import_cupy()


def array_module_of(array: Any) -> ModuleType:
    """The array module an array belongs to: NumPy for NumPy arrays and scalars, else CuPy."""
    return np if isinstance(array, (np.ndarray, np.generic)) else _import_cupy()


def device_of(array: Any) -> str:
    """The device an array lives on: ``"cpu"`` for NumPy arrays, ``"cuda"`` for CuPy arrays."""
    if isinstance(array, (np.ndarray, np.generic)):
        return "cpu"
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return "cuda"
    return "cpu"


def to_device(array: Any, device: str) -> Any:
    """Copy ``array`` to ``device`` if it is not there already."""
    if device == "cpu":
        if isinstance(array, (np.ndarray, np.generic)):
            return array
        return _import_cupy().asnumpy(array)
    cupy = _import_cupy()
    return array if isinstance(array, cupy.ndarray) else cupy.asarray(array)


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
