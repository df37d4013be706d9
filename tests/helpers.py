"""What several test files share: the real data set (or a skip that says how to install it),
the message of a script's one-line error, and the peak memory of a call."""
from __future__ import annotations

import os
import tracemalloc
from typing import Any, Callable

import pytest

from tinygrad_sm.data import fashion_mnist as fm


def real_data_or_skip(load: bool = True) -> Any:
    """The real Fashion-MNIST (``load=False``: only the folder it is in), or a skip where it is
    not installed. With ``TINYGRAD_SM_REQUIRE_DATA`` set, as CI sets it, a missing data set
    fails the test instead."""
    try:
        if load:
            return fm.load_fashion_mnist(download=False)
        return fm.locate_fashion_mnist(None, download=False)
    except fm.FashionMNISTNotFoundError as e:
        if os.environ.get("TINYGRAD_SM_REQUIRE_DATA"):
            pytest.fail(f"Fashion-MNIST is not installed, and TINYGRAD_SM_REQUIRE_DATA is set ({e})")
        pytest.skip(f"Fashion-MNIST is not installed here ({e}); apt-get install dataset-fashion-mnist")


def one_line_error(err: str) -> str:
    """The message of a one-line ``error: ...`` on stderr (and nothing else there)."""
    assert err.startswith("error: ") and err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err[len("error: "):-1]


def peak_memory(fn: Callable[[], Any]) -> int:
    """The peak of Python allocations while ``fn()`` raises or returns (bytearrays included)."""
    tracemalloc.start()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak
