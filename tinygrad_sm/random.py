"""One random number generator for the whole library, so ``manual_seed`` makes runs repeatable.

Random numbers are drawn with NumPy on the host, even for ``"cuda"`` tensors, so the same
seed gives the same initial weights and the same batch order on every device.
"""
from __future__ import annotations

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed the library's generator (initial weights, ``rand``/``randn``, DataLoader shuffles)."""
    global _generator
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed expects a non-negative integer, got {seed!r}")
    _generator = np.random.default_rng(int(seed))


def generator() -> np.random.Generator:
    """The generator that ``manual_seed`` last seeded."""
    return _generator
