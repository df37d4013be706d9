"""The backend's array helpers: the quick path for reductions over a short last axis must give
NumPy's own results."""
import numpy as np
import pytest

from tinygrad_sm import backend


@pytest.mark.parametrize("shape", [(256, 10), (3, 40, 7), (600, 1), (16, 10), (256, 784)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_short_axis_reductions_match_numpy(shape, keepdims):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    for axis in (-1, x.ndim - 1, (x.ndim - 1,), 0, None):
        np.testing.assert_array_equal(backend.reduce_max(x, axis, keepdims),
                                      x.max(axis=axis, keepdims=keepdims), err_msg=f"max {shape} {axis}")
        np.testing.assert_allclose(backend.reduce_sum(x, axis, keepdims),
                                   x.sum(axis=axis, keepdims=keepdims), rtol=1e-6, atol=1e-5,
                                   err_msg=f"sum {shape} {axis}")


def test_short_axis_max_propagates_nan_like_numpy():
    x = np.zeros((300, 10), np.float32)
    x[7, 3] = np.nan
    out = backend.reduce_max(x, 1)
    assert np.isnan(out[7]) and not np.isnan(np.delete(out, 7)).any()
