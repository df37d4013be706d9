"""``tinygrad_sm.cuda``, as ``torch.cuda``: is a GPU there, and how many.

    >>> import tinygrad_sm as torch
    >>> device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
"""
from __future__ import annotations

from . import backend

__all__ = ["is_available", "device_count", "synchronize", "get_device_name"]


def is_available() -> bool:
    """True when CuPy is installed and sees a GPU."""
    return backend.cuda_available()


def device_count() -> int:
    """The number of GPUs that tinygrad_sm uses: 1 where a GPU is available (it uses one), else 0."""
    return 1 if is_available() else 0


def synchronize() -> None:
    """Wait until the GPU has finished all the work queued so far (for timing)."""
    if is_available():
        backend.array_module("cuda").cuda.Device().synchronize()


def get_device_name(device: int | str | None = None) -> str:
    """The GPU's name (``"NVIDIA H200"``, say), as ``torch.cuda.get_device_name``. Without CuPy
    or a GPU, the one-line error of ``device("cuda")`` says what is missing."""
    if device not in (None, 0, "cuda", "cuda:0"):
        raise ValueError(f"get_device_name: tinygrad_sm uses one GPU, 'cuda' (index 0), got {device!r}")
    cupy = backend.array_module("cuda")
    name = cupy.cuda.runtime.getDeviceProperties(0)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)
