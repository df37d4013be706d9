"""One random number generator for the whole library, so ``manual_seed`` makes runs repeatable.

Random numbers are drawn with NumPy on the host, even for ``"cuda"`` tensors, so the same
seed gives the same initial weights and the same batch order on every device.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import tracing

_generator = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed the library's generator (initial weights, ``rand``/``randn``, DataLoader shuffles)."""
    global _generator
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed expects a non-negative integer, got {seed!r}")
    _generator = np.random.default_rng(int(seed))


def generator() -> np.random.Generator:
    """The generator that ``manual_seed`` last seeded."""
    if tracing.capture.active is not None:
        return _Draws(tracing.capture.active.tape)  # type: ignore[return-value]
    return _generator


class _Draws:
    """The generator as a step that tinygrad_sm.jit captures sees it: each draw is recorded,
    so that every replay draws anew, from the generator of that moment, as the eager step
    would (dropout gets a new mask each step)."""

    def __init__(self, tape: Any) -> None:
        self._tape = tape

    def __getattr__(self, method: str) -> Any:
        def draw(*args: Any, **kwargs: Any) -> Any:
            return tracing.record_call(self._tape, _Draw(method), args, kwargs)
        return draw


class _Draw:
    """One kind of draw (``random``, ``normal``, ...) from whichever generator is current."""

    def __init__(self, method: str) -> None:
        self.method = method

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return getattr(_generator, self.method)(*args, **kwargs)  # the current one, as seeded

    def __repr__(self) -> str:
        return f"draw.{self.method}"
